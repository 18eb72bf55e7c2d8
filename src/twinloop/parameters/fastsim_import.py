"""Import a FASTSim 3 battery-electric vehicle file as a :class:`VehicleSpec`.

NREL's FASTSim 3 (Apache-2.0) stores a vehicle as YAML, as written by
``fastsim.Vehicle.to_yaml()``. This module reads that YAML with PyYAML alone;
FASTSim itself is not needed. The field mapping, and what does not map, is
tabulated in ``docs/vehicle-spec.md``; every imported value's FASTSim path is
recorded in the spec's ``sources``.

Examples
--------
>>> text = '''
... name: Demo BEV
... pt_type:
...   BEV:
...     res: {energy_capacity_joules: 2.16e8, min_soc: 0.05, max_soc: 0.95, pwr_out_max_watts: 1.5e5}
...     em: {pwr_out_max_watts: 1.2e5}
...     transmission: {eff_interp: 0.97}
... chassis: {drag_coef: 0.3, frontal_area_square_meters: 2.3, wheel_rr_coef: 0.008,
...           wheel_radius_meters: 0.33, drive_type: FWD}
... mass_kilograms: 1700.0
... pwr_aux_base_watts: 250.0
... '''
>>> spec = fastsim_vehicle_spec(text)
>>> spec.name, round(spec.battery_energy / 3.6e6, 1), spec.motor_peak_power
('demo_bev', 54.0, 120000.0)
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from twinloop.errors import SpecificationError, close_matches
from twinloop.parameters.spec import VehicleSpec, field_range
from twinloop.parameters.toml_io import _decode

__all__ = ["fastsim_vehicle_spec"]

_DRIVES = {"FWD": "FWD", "RWD": "RWD", "AWD": "AWD", "4WD": "AWD"}
_HEAT_SOURCES = {"HeatPump": "heat_pump", "ResistanceHeater": "resistive"}
# Reference temperatures [K] at which FASTSim's fraction-of-ideal COP is evaluated.
_HEATING_AMBIENT = 280.15  # 7 °C, the rating point of cop_at_7c
_COOLING_AMBIENT = 308.15  # 35 °C
_COP_RANGE = (0.5, 8.0)


def fastsim_vehicle_spec(path_or_text: str | Path, name: str | None = None) -> VehicleSpec:
    """Convert a FASTSim 3 BEV vehicle (YAML) into a :class:`VehicleSpec`.

    Parameters
    ----------
    path_or_text : str or pathlib.Path
        A YAML file written by ``fastsim.Vehicle.to_yaml()``, or its text
        (a ``str`` with a newline is text).
    name : str, optional
        Name of the spec; default: FASTSim's ``name`` in snake_case.

    Returns
    -------
    VehicleSpec
        Physical road-load form. Fields FASTSim does not describe keep their
        defaults; ``sources`` names the FASTSim path of every mapped value.

    Raises
    ------
    SpecificationError
        If the file is not YAML, not a vehicle, not a BEV, lacks a required
        value (mass, road load, motor power, battery energy) or holds a value
        outside twinloop's valid range (the message names the FASTSim path).

    Notes
    -----
    Conversions that are more than a copy:

    - usable battery energy = ``energy_capacity_joules × (max_soc − min_soc)``;
    - rotating mass factor = ``num_wheels × wheel_inertia / wheel_radius² / mass``
      (FASTSim models wheel inertia only);
    - cabin conductance = ``length × width / (1/h_stop + 1/h_shell)``, FASTSim's
      cabin-to-ambient conductance at standstill [W K-1];
    - heat-pump COP at 7 °C = ``frac_of_ideal_cop × T_set / (T_set − 280.15 K)``,
      cooling COP = ``frac_of_ideal_cop × T_set / (308.15 K − T_set)``
      (Carnot at 7 °C and 35 °C ambient), clipped to [0.5, 8];
    - motor loss: ``copper_loss`` and ``constant_loss`` fitted by least squares to
      ``em.eff_interp_achieved`` (efficiency over output-power fraction, motor and
      power electronics lumped, as twinloop's loss model) at its nodes above zero,
      read at the motor's base speed, where torque fraction equals power fraction;
      ``iron_loss`` and ``windage_loss`` are set to 0, since a curve without a
      speed axis cannot separate them from the constant. ``sources`` records the
      fit's RMS efficiency error;
    - ``regen_axle_share = 1``: FASTSim 3 offers all braking to the motor.
    """
    text, where = _read(path_or_text)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecificationError("yaml", "a FASTSim 3 vehicle YAML file", "malformed YAML", where,
                                 hint=str(exc).replace("\n", " ")) from None
    if not isinstance(doc, dict) or "pt_type" not in doc or "chassis" not in doc:
        received = sorted(doc) if isinstance(doc, dict) else "an empty file" if doc is None else _describe(doc)
        raise SpecificationError("pt_type", "a FASTSim 3 vehicle (keys pt_type and chassis)", received, where)
    pt = doc["pt_type"]
    if not isinstance(pt, dict) or "BEV" not in pt:
        kind = next(iter(pt)) if isinstance(pt, dict) and pt else _describe(pt)
        raise SpecificationError("pt_type", "BEV (battery-electric)", kind, where,
                                 hint="only battery-electric vehicles can be imported")
    reader = _Reader(doc, where)
    values, sources = _map(reader, doc)
    values["name"] = name or _slug(str(doc.get("name") or Path(where).stem))
    values["description"] = f"Imported from FASTSim 3 vehicle {doc.get('name')!r}."
    sources["vehicle"] = f"NREL FASTSim 3 vehicle file {Path(where).name} (Apache-2.0)"
    try:
        return VehicleSpec(**values, sources=sources)
    except SpecificationError as exc:
        origin = reader.origin.get(exc.field)
        if origin is None:
            raise SpecificationError(exc.field, exc.expected, exc.received, where, exc.hint) from None
        raise SpecificationError(origin, exc.expected + f" (as twinloop's {exc.field})", exc.received,
                                 where, exc.hint or _celsius_hint(exc.field, exc.received)) from None


def _celsius_hint(field: str, value: Any) -> str | None:
    """A FASTSim temperature (kelvin) that is in range as °C is named as such."""
    if field != "cabin_setpoint" or not _is_number(value):
        return None
    kelvin = float(value) + 273.15
    return f"{value:g} looks like °C: give {kelvin:g} (kelvin)" if _in_range(field, kelvin) else None


def _read(path_or_text: str | Path) -> tuple[str, str]:
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return path_or_text, "<text>"
    path = Path(path_or_text)
    return _decode(path.read_bytes(), str(path), "UTF-8 YAML text"), str(path)


def _slug(text: str) -> str:
    """snake_case in ASCII: accents dropped from their letters (Zoé -> zoe), other symbols as _."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_") or "fastsim_vehicle"


def _describe(value: Any) -> Any:
    """`value` for a message: short scalars as they are, containers by their kind (never printed whole)."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and len(value) > 60:
        return value[:60] + "..."
    return value


def _as_number(value: Any) -> Any:
    """A YAML scalar as a float where it is one (YAML 1.1 reads 1.2e5, no sign in the exponent, as text)."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


class _Reader:
    """Reads dotted FASTSim paths and remembers where each field came from."""

    def __init__(self, doc: Mapping[str, Any], where: str) -> None:
        self.doc = doc
        self.where = where
        self.origin: dict[str, str] = {}

    def get(self, path: str) -> Any:
        node: Any = self.doc
        for part in path.split("."):
            if not isinstance(node, dict) or node.get(part) in (None, "None"):
                return None
            node = node[part]
        return node

    def number(self, path: str, required: bool = False) -> float | None:
        value = self.get(path)
        if value is None:
            if required:
                raise SpecificationError(path, "a number", None, self.where,
                                         hint="FASTSim file lacks a value twinloop requires")
            return None
        value = _as_number(value)
        if not _is_number(value):
            raise SpecificationError(path, "a number", _describe(value), self.where)
        return float(value)

    def table(self, path: str) -> dict[str, Any] | None:
        """The mapping at `path`, None where FASTSim has none (``~`` or ``None``); anything else is refused."""
        value = self.get(path)
        if value is None or isinstance(value, dict):
            return value
        raise SpecificationError(path, "a table (a FASTSim model)", _describe(value), self.where)


def _map(r: _Reader, doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    v: dict[str, Any] = {}
    src: dict[str, str] = {}

    def put(field: str, toml_key: str, value: Any, path: str, note: str = "") -> None:
        if value is None:
            return
        v[field] = value
        r.origin[field] = path
        src[toml_key] = f"FASTSim {path}" + (f" ({note})" if note else "")

    bev = "pt_type.BEV"
    mass = r.number("mass_kilograms")
    if mass is None:
        parts = [r.number(p) for p in ("chassis.glider_mass_kilograms", "chassis.cargo_mass_kilograms",
                                       f"{bev}.res.mass_kilograms", f"{bev}.em.mass_kilograms")]
        if any(p is None for p in parts):
            raise SpecificationError("mass_kilograms", "a vehicle mass [kg]", None, r.where,
                                     hint="the file gives neither mass_kilograms nor all component masses")
        mass = sum(p for p in parts if p is not None)
        put("test_mass", "mass.test_mass_kg", mass, "chassis.glider_mass_kilograms",
            "sum of glider, cargo, battery and motor masses")
    else:
        put("test_mass", "mass.test_mass_kg", mass, "mass_kilograms")

    put("drag_coefficient", "road_load.drag_coefficient", r.number("chassis.drag_coef", True),
        "chassis.drag_coef")
    put("frontal_area", "road_load.frontal_area_m2", r.number("chassis.frontal_area_square_meters", True),
        "chassis.frontal_area_square_meters")
    put("rolling_resistance_coefficient", "road_load.rolling_resistance_coefficient",
        r.number("chassis.wheel_rr_coef", True), "chassis.wheel_rr_coef")
    radius = r.number("chassis.wheel_radius_meters")
    put("wheel_radius", "drivetrain.wheel_radius_m", radius, "chassis.wheel_radius_meters")
    inertia, wheels = r.number("chassis.wheel_inertia_kilogram_square_meters"), r.number("chassis.num_wheels")
    # Only from a mass and radius in range: otherwise VehicleSpec names them (no division by 0 or overflow).
    if inertia is not None and wheels is not None and radius and _in_range("test_mass", mass) \
            and _in_range("wheel_radius", radius):
        put("rotating_mass_factor", "mass.rotating_mass_factor", wheels * inertia / radius**2 / mass,
            "chassis.wheel_inertia_kilogram_square_meters",
            "num_wheels × wheel inertia / wheel radius² / mass; wheels only")
    drive = r.get("chassis.drive_type")
    if drive is not None:
        if not isinstance(drive, str) or drive not in _DRIVES:
            matches = close_matches(drive, _DRIVES) if isinstance(drive, str) else []
            raise SpecificationError("chassis.drive_type", "one of " + ", ".join(_DRIVES), _describe(drive), r.where,
                                     hint=f"did you mean {matches[0]!r}?" if matches else None)
        put("drive", "drivetrain.drive", _DRIVES[drive], "chassis.drive_type")

    put("motor_peak_power", "drivetrain.motor_peak_power_kw", r.number(f"{bev}.em.pwr_out_max_watts", True),
        f"{bev}.em.pwr_out_max_watts")
    _map_motor_loss(r, v, src, f"{bev}.em.eff_interp_achieved")
    # FASTSim 3 has no friction-brake share: every braking watt goes to the motor, and
    # the friction brake takes only what the motor or battery limits refuse.
    v["regen_axle_share"] = 1.0
    src["drivetrain.regen_axle_share"] = ("FASTSim 3 convention: all braking offered to the motor "
                                          "(no friction-brake share; friction only beyond motor and battery limits)")
    _map_gearbox(r, put, src, f"{bev}.transmission.eff_interp")

    capacity = r.number(f"{bev}.res.energy_capacity_joules", True)
    assert capacity is not None
    low, high = _soc_window(r, f"{bev}.res")
    put("battery_energy", "battery.energy_kwh", capacity * (high - low), f"{bev}.res.energy_capacity_joules",
        f"usable: × (max_soc {high:g} − min_soc {low:g})")
    put("battery_max_discharge_power", "battery.max_discharge_power_kw",
        r.number(f"{bev}.res.pwr_out_max_watts"), f"{bev}.res.pwr_out_max_watts")
    thermal = f"{bev}.res.thrml.RESLumpedThermal"
    put("battery_heat_capacity", "battery.heat_capacity_j_per_k",
        r.number(f"{thermal}.heat_capacitance_joules_per_kelvin"), f"{thermal}.heat_capacitance_joules_per_kelvin")
    put("battery_heat_transfer", "battery.heat_transfer_w_per_k",
        r.number(f"{thermal}.conductance_to_amb_watts_per_kelvin"), f"{thermal}.conductance_to_amb_watts_per_kelvin")

    cabin = "cabin.LumpedCabin"
    if r.table("cabin") is not None:
        r.table(cabin)
    put("cabin_heat_capacity", "cabin.heat_capacity_j_per_k",
        r.number(f"{cabin}.heat_capacitance_joules_per_kelvin"), f"{cabin}.heat_capacitance_joules_per_kelvin")
    shell = r.number(f"{cabin}.cab_shell_htc_to_amb_watts_per_square_meter_kelvin")
    stop = r.number(f"{cabin}.cab_htc_to_amb_stop_watts_per_square_meter_kelvin")
    length, width = r.number(f"{cabin}.length_meters"), r.number(f"{cabin}.width_meters")
    if shell and stop and length and width:
        put("cabin_conductance", "cabin.conductance_w_per_k", length * width / (1 / stop + 1 / shell),
            f"{cabin}.cab_shell_htc_to_amb_watts_per_square_meter_kelvin",
            "length × width / (1/h_stop + 1/h_shell): conductance at standstill")
    _map_hvac(r, put)

    put("auxiliary_power", "auxiliary.power_w", r.number("pwr_aux_base_watts"), "pwr_aux_base_watts")
    src["charger.efficiency"] = "not in FASTSim 3: twinloop default"
    src["battery.chemistry"] = "not in FASTSim 3: twinloop default"
    return v, src


def _in_range(field: str, value: float | None) -> bool:
    """Whether `value` lies in the valid range of a VehicleSpec field."""
    low, high = field_range(field)
    return value is not None and low <= value <= high


def _soc_window(r: _Reader, res: str) -> tuple[float, float]:
    """The battery's usable state-of-charge window (min_soc, max_soc); 0 and 1 where not given."""
    low, high = r.number(f"{res}.min_soc"), r.number(f"{res}.max_soc")
    low = 0.0 if low is None else low
    high = 1.0 if high is None else high
    for key, value in (("min_soc", low), ("max_soc", high)):
        if not 0.0 <= value <= 1.0:
            raise SpecificationError(f"{res}.{key}", "a state of charge in [0, 1]", value, r.where)
    if high <= low:
        raise SpecificationError(f"{res}.max_soc", f"a state of charge in [0, 1] above min_soc ({low:g})",
                                 high, r.where)
    return low, high


def _map_gearbox(r: _Reader, put: Any, src: dict[str, str], path: str) -> None:
    """FASTSim's transmission efficiency, a constant (a number or ``Constant: number``)."""
    gear = r.get(path)
    if isinstance(gear, dict) and "Constant" in gear:
        gear = gear["Constant"]
    if gear is None:
        return
    if isinstance(gear, dict):  # an interpolator over speed or power: no constant to copy
        src["drivetrain.gearbox_efficiency"] = (f"not mapped: FASTSim {path} is not a constant; "
                                                "twinloop's default is used")
        return
    gear = _as_number(gear)
    if not _is_number(gear):
        raise SpecificationError(path, "a constant efficiency (a number, or Constant: number)", _describe(gear),
                                 r.where)
    put("gearbox_efficiency", "drivetrain.gearbox_efficiency", float(gear), path)


def _map_hvac(r: _Reader, put: Any) -> None:
    hvac = r.table("hvac")
    if not hvac:
        return
    variant = next(iter(hvac))
    base = f"hvac.{variant}"
    h = r.table(base)
    if not h:
        return
    # LumpedCabin names keys without "_cab"; LumpedCabinAndRES with it.
    setpoint_key = "te_set_kelvin" if "te_set_kelvin" in h else "te_set_cab_kelvin"
    source_key = "heat_source" if "heat_source" in h else "cabin_heat_source"
    power_key = "pwr_aux_for_hvac_max_watts" if "pwr_aux_for_hvac_max_watts" in h else "pwr_aux_for_hvac_cab_max_watts"
    setpoint = r.number(f"{base}.{setpoint_key}")
    put("cabin_setpoint", "cabin.setpoint_c", setpoint, f"{base}.{setpoint_key}")
    source = r.get(f"{base}.{source_key}")
    if source is not None and (not isinstance(source, str) or source not in _HEAT_SOURCES):
        raise SpecificationError(f"{base}.{source_key}", "one of " + ", ".join(sorted(_HEAT_SOURCES)),
                                 _describe(source), r.where, hint="a battery-electric vehicle heats electrically")
    heating = _HEAT_SOURCES.get(source) if source is not None else None
    put("hvac_heating", "cabin.heating", heating, f"{base}.{source_key}")
    power = r.number(f"{base}.{power_key}")
    put("hvac_max_heating", "cabin.max_heating_kw", power, f"{base}.{power_key}")
    put("hvac_max_cooling", "cabin.max_cooling_kw", power, f"{base}.{power_key}")
    frac = r.number(f"{base}.frac_of_ideal_cop")
    if frac is not None and not 0.0 < frac <= 1.0:
        raise SpecificationError(f"{base}.frac_of_ideal_cop", "a fraction of the ideal (Carnot) COP in (0, 1]",
                                 frac, r.where)
    t_set = 295.15 if setpoint is None else setpoint
    # Out of its range the set point is refused by VehicleSpec, naming its path; no COP from it.
    if frac is not None and _in_range("cabin_setpoint", t_set):
        cooling = min(max(frac * t_set / (_COOLING_AMBIENT - t_set), _COP_RANGE[0]), _COP_RANGE[1])
        put("hvac_cop_cooling", "cabin.cop_cooling", cooling, f"{base}.frac_of_ideal_cop",
            "× Carnot COP from the set point to 35 °C ambient")
        if heating == "heat_pump":
            heat = min(max(frac * t_set / (t_set - _HEATING_AMBIENT), _COP_RANGE[0]), _COP_RANGE[1])
            put("hvac_cop_at_280k", "cabin.cop_at_7c", heat, f"{base}.frac_of_ideal_cop",
                "× Carnot COP from 7 °C ambient to the set point")


def _map_motor_loss(r: _Reader, v: dict[str, Any], src: dict[str, str], path: str) -> None:
    """Fit copper and constant loss to FASTSim's efficiency over output-power fraction."""
    curve = _efficiency_curve(r, path)
    if curve is None:
        return
    fraction, efficiency = curve
    if fraction.size < 2:
        src["drivetrain.motor_loss"] = (f"not mapped: FASTSim {path} has fewer than two nodes above zero "
                                        "power; twinloop's default loss model is used")
        return
    copper, constant = (float(f"{k:.6g}") for k in _fit_motor_loss(fraction, efficiency))
    error = _motor_efficiency(fraction, copper, constant) - efficiency
    rms = float(np.sqrt(np.mean(error**2)))
    worst = int(np.argmax(np.abs(error)))
    v.update(copper_loss=copper, iron_loss=0.0, windage_loss=0.0, constant_loss=constant)
    for field in ("copper_loss", "iron_loss", "windage_loss", "constant_loss"):
        r.origin[field] = path
    src["drivetrain.motor_loss"] = (
        f"FASTSim {path}: copper and constant loss fitted by least squares to its efficiency over "
        f"output-power fraction ({fraction.size} nodes above zero), read at the motor's base speed; "
        f"iron and windage loss 0 (the curve has no speed axis); RMS efficiency error {rms:.4f}, "
        f"largest {error[worst]:+.4f} at {fraction[worst]:g} of peak power"
    )


def _efficiency_curve(r: _Reader, path: str) -> tuple[np.ndarray, np.ndarray] | None:
    """FASTSim's 1-D efficiency interpolator as (fraction, efficiency) nodes with fraction > 0."""
    interp = r.get(path)
    if interp is None:
        return None
    data = interp.get("data") if isinstance(interp, dict) else None
    grid = data.get("grid") if isinstance(data, dict) else None
    if isinstance(grid, list) and len(grid) == 1:  # one axis
        grid = grid[0]
    fraction, efficiency = _numbers(grid), _numbers(data.get("values") if isinstance(data, dict) else None)
    if fraction is None or efficiency is None or fraction.size != efficiency.size or fraction.size < 2:
        sizes = [None if a is None else a.size for a in (fraction, efficiency)]
        raise SpecificationError(path, "a 1-D interpolator: data.grid (one axis) and data.values, "
                                 "at least 2 numbers each, of equal length",
                                 f"{sizes[0]} grid nodes and {sizes[1]} values", r.where)
    if np.any(np.diff(fraction) <= 0) or fraction[0] < -1.0 or fraction[-1] > 1.0:
        raise SpecificationError(f"{path}.data.grid", "increasing power fractions in [-1, 1]",
                                 fraction.tolist(), r.where)
    if np.any(efficiency <= 0.0) or np.any(efficiency > 1.0):
        raise SpecificationError(f"{path}.data.values", "efficiencies in (0, 1]", efficiency.tolist(), r.where)
    # Zero output has no efficiency to fit (FASTSim reads that node below the first positive
    # node and, clamping negative fractions to 0, for all regeneration); negative nodes,
    # where a file has them, describe generating, which twinloop's symmetric model cannot take.
    keep = fraction > 0.0
    return fraction[keep], efficiency[keep]


def _numbers(node: Any) -> np.ndarray | None:
    if isinstance(node, dict) and "data" in node:  # ndarray as serde writes it: {v, dim, data}
        node = node["data"]
    if not isinstance(node, list) or not node:
        return None
    try:
        values = np.array([float(x) for x in node])
    except (TypeError, ValueError):
        return None
    return None if np.any(np.isnan(values)) else values


def _motor_efficiency(power_fraction: Any, copper_loss: float, constant_loss: float) -> Any:
    r"""Efficiency [1] of twinloop's motor loss model at its base speed, motoring.

    Parameters
    ----------
    power_fraction : array_like
        Shaft power as a fraction of peak power [1], > 0.
    copper_loss, constant_loss : float
        Loss coefficients [1]; iron and windage loss taken as zero.

    Notes
    -----
    At the base speed :math:`\omega_{base} = P_{peak}/T_{peak}` the torque fraction
    equals the power fraction :math:`x`, so :func:`twinloop.physics.drivetrain.motor_loss`
    with zero iron and windage loss reads

    .. math:: \eta(x) = \frac{x}{x + k_c x^2 + k_0}

    Examples
    --------
    >>> round(float(_motor_efficiency(0.5, 0.04, 0.002)), 4)
    0.9766
    """
    x = np.asarray(power_fraction, dtype=float)
    return x / (x + copper_loss * x * x + constant_loss)


def _fit_motor_loss(power_fraction: Any, efficiency: Any) -> tuple[float, float]:
    r"""Copper and constant loss coefficients that best reproduce an efficiency curve.

    Parameters
    ----------
    power_fraction : array_like
        Output (shaft) power as a fraction of peak power [1], > 0.
    efficiency : array_like
        Efficiency [1] at each fraction, in the FASTSim sense: electric input
        power = shaft power / efficiency when motoring.

    Returns
    -------
    (float, float)
        ``copper_loss`` and ``constant_loss`` [1], each in [0, 0.5], minimising the
        squared efficiency error of :func:`_motor_efficiency` over the nodes.

    Notes
    -----
    FASTSim's loss at output power :math:`P` is :math:`P\,(1/\eta(P/P_{max}) - 1)`, a
    function of power alone. twinloop's loss depends on torque and speed; read at
    the base speed (torque fraction = power fraction) it is
    :math:`P_{peak}(k_c x^2 + k_i + k_w + k_0)`, so only the copper term and the sum
    of the speed-dependent terms are identifiable from a power-only curve. The
    sum is given to ``constant_loss``.

    Examples
    --------
    >>> x = [0.1, 0.2, 0.5, 1.0]
    >>> kc, k0 = _fit_motor_loss(x, _motor_efficiency(x, 0.05, 0.003))
    >>> round(kc, 6), round(k0, 6)
    (0.05, 0.003)
    """
    from scipy.optimize import least_squares

    x = np.asarray(power_fraction, dtype=float)
    eta = np.asarray(efficiency, dtype=float)
    fit = least_squares(lambda k: _motor_efficiency(x, k[0], k[1]) - eta, x0=[0.04, 0.002],
                        bounds=([0.0, 0.0], [0.5, 0.5]), xtol=1e-14, ftol=1e-14, gtol=1e-14)
    return float(fit.x[0]), float(fit.x[1])
