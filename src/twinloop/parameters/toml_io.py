"""Read and write vehicle specifications as TOML.

A vehicle file carries the unit in each key (``test_mass_kg``,
``motor_peak_power_kw``, ``coastdown_a_lbf`` ...); values are converted to the
SI fields of :class:`~twinloop.parameters.spec.VehicleSpec` here, at the
boundary. The format is described field by field in ``docs/vehicle-spec.md``.

Conversions are exact in both directions: numbers are parsed as decimals,
scaled in decimal arithmetic and rounded once to the nearest float, and
:func:`dump_vehicle` writes the shortest decimal that loads back to the very
same float. ``load_vehicle(dump_vehicle(spec)) == spec`` for every spec.

Examples
--------
>>> spec = load_vehicle('''
... name = "tiny"
... [mass]
... test_mass_kg = 1200
... [road_load]
... coastdown_a_lbf = 30.0
... coastdown_b_lbf_per_mph = 0.2
... coastdown_c_lbf_per_mph2 = 0.02
... [drivetrain]
... motor_peak_power_kw = 80
... [battery]
... energy_kwh = 40
... ''')
>>> round(spec.coastdown_a, 2), spec.motor_peak_power, spec.battery_energy
(133.45, 80000.0, 144000000.0)
>>> load_vehicle(dump_vehicle(spec)) == spec
True
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import tomli_w

from twinloop.errors import SpecificationError, close_matches
from twinloop.parameters.spec import (
    _BOUNDS,
    _RANGES,
    DRIVES,
    HEATING,
    ROAD_LOAD_FORMS,
    VehicleSpec,
    _and,
    _missing_from,
    field_range,
)

__all__ = ["TOML_KEYS", "TomlKey", "dump_vehicle", "load_vehicle"]

_PRECISION = 60
_LBF = Decimal("4.4482216152605")  # N, exact by definition
_MPH = Decimal("0.44704")  # m s-1, exact by definition
_KELVIN_OFFSET = Decimal("273.15")


@dataclass(frozen=True)
class TomlKey:
    """One key of the TOML format and the :class:`VehicleSpec` field it fills.

    Attributes
    ----------
    section : tuple of str
        Table path, ``()`` for top-level keys, e.g. ``("drivetrain", "motor_loss")``.
    key : str
        Key inside the table, unit suffix included (``"energy_kwh"``).
    field : str
        The VehicleSpec field (SI).
    unit : str
        Unit of the TOML value, ``"1"`` for dimensionless, ``""`` for text.
    scale, offset : Decimal
        ``si = toml * scale + offset``.
    kind : str
        ``"number"`` or ``"text"``.
    alias : bool
        Accepted when loading but never written (e.g. EPA units).
    """

    section: tuple[str, ...]
    key: str
    field: str
    unit: str = "1"
    scale: Decimal = Decimal(1)
    offset: Decimal = Decimal(0)
    kind: str = "number"
    alias: bool = False

    @property
    def dotted(self) -> str:
        """The full key, e.g. ``"mass.test_mass_kg"``."""
        return ".".join((*self.section, self.key))

    def to_si(self, value: Decimal | int) -> float:
        """Convert a TOML number to the SI float, rounding once."""
        with localcontext(Context(prec=_PRECISION)):
            return float(Decimal(value) * self.scale + self.offset)

    def from_si(self, value: float, significant_digits: int | None = None) -> Decimal:
        """The shortest decimal that :meth:`to_si` maps back to `value` exactly.

        With `significant_digits`, at most that many digits: the value then
        loads back within half a unit in that last digit instead of exactly.
        """
        with localcontext(Context(prec=_PRECISION)):
            exact = (Decimal(value) - self.offset) / self.scale
        longest = 40 if significant_digits is None else significant_digits
        for digits in range(1, longest + 1):
            with localcontext(Context(prec=digits)):
                candidate = +exact
            if self.to_si(candidate) == value or digits == longest:
                return _plain(candidate.normalize(Context(prec=_PRECISION)))
        return _plain(exact)  # pragma: no cover - 40 digits always suffice


def _plain(d: Decimal) -> Decimal:
    """`d` in positional notation with a decimal point where that stays short."""
    if d == d.to_integral_value() and abs(d) < Decimal("1e15"):
        return d.quantize(Decimal("1.0"))
    if Decimal("1e-5") <= abs(d) < Decimal("1e15"):
        return Decimal(format(d, "f"))
    return d


def _k(section: str, key: str, field: str, unit: str = "1", scale: str | int = 1, **kw: Any) -> TomlKey:
    path = tuple(section.split(".")) if section else ()
    return TomlKey(path, key, field, unit, Decimal(scale), **kw)


TOML_KEYS: tuple[TomlKey, ...] = (
    _k("", "name", "name", "", kind="text"),
    _k("", "description", "description", "", kind="text"),
    _k("mass", "test_mass_kg", "test_mass", "kg"),
    _k("mass", "rotating_mass_factor", "rotating_mass_factor"),
    _k("road_load", "drag_coefficient", "drag_coefficient"),
    _k("road_load", "frontal_area_m2", "frontal_area", "m2"),
    _k("road_load", "rolling_resistance_coefficient", "rolling_resistance_coefficient"),
    _k("road_load", "coastdown_a_n", "coastdown_a", "N"),
    _k("road_load", "coastdown_b_n_per_mps", "coastdown_b", "N s m-1"),
    _k("road_load", "coastdown_c_n_per_mps2", "coastdown_c", "N s2 m-2"),
    TomlKey(("road_load",), "coastdown_a_lbf", "coastdown_a", "lbf", _LBF, alias=True),
    TomlKey(("road_load",), "coastdown_b_lbf_per_mph", "coastdown_b", "lbf mph-1",
            _LBF / _MPH, alias=True),
    TomlKey(("road_load",), "coastdown_c_lbf_per_mph2", "coastdown_c", "lbf mph-2",
            _LBF / (_MPH * _MPH), alias=True),
    _k("road_load", "air_density_kg_per_m3", "air_density", "kg m-3"),
    _k("drivetrain", "drive", "drive", "", kind="text"),
    _k("drivetrain", "motor_peak_power_kw", "motor_peak_power", "kW", 1000),
    _k("drivetrain", "motor_peak_torque_nm", "motor_peak_torque", "N m"),
    _k("drivetrain", "motor_rated_power_kw", "motor_rated_power", "kW", 1000),
    _k("drivetrain", "gear_ratio", "gear_ratio"),
    _k("drivetrain", "wheel_radius_m", "wheel_radius", "m"),
    _k("drivetrain", "gearbox_efficiency", "gearbox_efficiency"),
    _k("drivetrain", "regen_max_power_kw", "regen_max_power", "kW", 1000),
    _k("drivetrain", "regen_axle_share", "regen_axle_share"),
    _k("drivetrain", "regen_fade_speed_low_mps", "regen_fade_speed_low", "m s-1"),
    _k("drivetrain", "regen_fade_speed_high_mps", "regen_fade_speed_high", "m s-1"),
    _k("drivetrain.motor_loss", "copper", "copper_loss"),
    _k("drivetrain.motor_loss", "iron", "iron_loss"),
    _k("drivetrain.motor_loss", "windage", "windage_loss"),
    _k("drivetrain.motor_loss", "constant", "constant_loss"),
    _k("battery", "chemistry", "battery_chemistry", "", kind="text"),
    _k("battery", "energy_kwh", "battery_energy", "kWh", 3600000),
    _k("battery", "nominal_voltage_v", "battery_nominal_voltage", "V"),
    _k("battery", "ohmic_resistance_ohm", "battery_ohmic_resistance", "ohm"),
    _k("battery", "rc_resistance_ohm", "battery_rc_resistance", "ohm"),
    _k("battery", "rc_time_constant_s", "battery_rc_time_constant", "s"),
    _k("battery", "max_discharge_power_kw", "battery_max_discharge_power", "kW", 1000),
    _k("battery", "max_charge_power_kw", "battery_max_charge_power", "kW", 1000),
    _k("battery", "heat_capacity_j_per_k", "battery_heat_capacity", "J K-1"),
    _k("battery", "heat_transfer_w_per_k", "battery_heat_transfer", "W K-1"),
    _k("battery", "activation_temperature_k", "battery_activation_temperature", "K"),
    _k("cabin", "heating", "hvac_heating", "", kind="text"),
    _k("cabin", "cop_at_7c", "hvac_cop_at_280k"),
    _k("cabin", "cop_cooling", "hvac_cop_cooling"),
    _k("cabin", "waste_heat_share", "hvac_waste_heat_share"),
    _k("cabin", "max_heating_kw", "hvac_max_heating", "kW", 1000),
    _k("cabin", "max_cooling_kw", "hvac_max_cooling", "kW", 1000),
    _k("cabin", "conductance_w_per_k", "cabin_conductance", "W K-1"),
    _k("cabin", "heat_capacity_j_per_k", "cabin_heat_capacity", "J K-1"),
    TomlKey(("cabin",), "setpoint_c", "cabin_setpoint", "degC", Decimal(1), _KELVIN_OFFSET),
    _k("auxiliary", "power_w", "auxiliary_power", "W"),
    _k("charger", "efficiency", "charger_efficiency"),
)
"""Every key of the vehicle TOML format, in the order :func:`dump_vehicle` writes them."""

_SECTIONS = ("mass", "road_load", "drivetrain", "drivetrain.motor_loss", "battery", "cabin",
             "auxiliary", "charger", "sources")
_BY_SECTION: dict[tuple[str, ...], dict[str, TomlKey]] = {}
for _key in TOML_KEYS:
    _BY_SECTION.setdefault(_key.section, {})[_key.key] = _key
# key -> the sections holding it, to point a key written in the wrong section to its own.
_SECTIONS_OF: dict[str, list[tuple[str, ...]]] = {}
for _key in TOML_KEYS:
    _SECTIONS_OF.setdefault(_key.key, []).append(_key.section)
# The key each field is reported under (its SI-suffixed key, never an alias).
_PRIMARY: dict[str, TomlKey] = {k.field: k for k in reversed(TOML_KEYS) if not k.alias}
# [sources] may name a key, a section (a whole table), a field, "vehicle" (the car as a whole) or
# "calibration" (the calibration that set its numbers, as calibrate_from_trips records it).
_SOURCE_KEYS = sorted({k.dotted for k in TOML_KEYS} | set(_PRIMARY) | set(_SECTIONS) - {"sources"}
                      | {"vehicle", "calibration"})
_SOURCE_KEY_SET = frozenset(_SOURCE_KEYS)
_CHOICES = {"drive": DRIVES, "hvac_heating": HEATING}

assert set(_PRIMARY) == {f.name for f in fields(VehicleSpec)} - {"sources"}


def load_vehicle(path_or_text: str | Path) -> VehicleSpec:
    """Load a vehicle specification from a TOML file or TOML text.

    Parameters
    ----------
    path_or_text : str or pathlib.Path
        A path, or TOML text (a ``str`` containing a newline or ``=`` is text).
        A file without a top-level ``name`` takes the file's stem as name.

    Returns
    -------
    VehicleSpec
        The specification in SI units.

    Raises
    ------
    SpecificationError
        For malformed TOML (with its line), an unknown section or key (with
        close matches), a value of the wrong type, NaN, or out of range. The
        message names the TOML key (``mass.test_mass_kg``), the file, the
        valid range in the key's unit and the value received.
    FileNotFoundError
        If a path is given and does not exist.

    Examples
    --------
    >>> load_vehicle('''
    ... name = "x"
    ... [mass]
    ... test_mass_kg = -5
    ... ''')
    Traceback (most recent call last):
    ...
    twinloop.errors.SpecificationError: mass.test_mass_kg in <text>: expected a number in [300, 40000] kg, received -5
    """
    text, where, stem = _read(path_or_text)
    try:
        data = tomllib.loads(text.removeprefix("\ufeff"), parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 0
        lines = text.splitlines()
        received = lines[line - 1].strip() if 0 < line <= len(lines) else text[:40]
        raise SpecificationError(
            f"line {line}" if line else "TOML", "valid TOML", received, where,
            hint=f"TOML syntax error: {exc}",
        ) from None
    if not data:
        raise SpecificationError("file", "a vehicle TOML file", "an empty file", where,
                                 hint="Start from one of the library: "
                                      "twinloop vehicle show nissan_leaf_40kwh_2018 > my_car.toml")
    return _from_mapping(data, where, stem)


def _read(path_or_text: str | Path) -> tuple[str, str, str | None]:
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "=" in path_or_text):
        return path_or_text, "<text>", None
    path = Path(path_or_text)
    try:
        return _decode(path.read_bytes(), str(path)), str(path), path.stem
    except IsADirectoryError:
        raise SpecificationError("file", "a vehicle TOML file", "a folder", str(path),
                                 hint="Give the path of a file inside it") from None
    except PermissionError as exc:
        raise SpecificationError("file", "a readable TOML file", exc.strerror, str(path),
                                 hint="Check the file's permissions") from None


def _decode(data: bytes, where: str, expected: str = "UTF-8 TOML text") -> str:
    """UTF-8 text (a byte-order mark is dropped); UTF-16, other encodings and binary data are named."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecificationError("file", expected, "UTF-16 text", where, hint="Save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        what = "binary data" if b"\x00" in data else "text that is not UTF-8"
        received = f"{what} (byte {exc.start} is 0x{data[exc.start]:02x})"
        raise SpecificationError("file", expected, received, where,
                                 hint=None if what == "binary data" else "Save it as UTF-8") from None


def _from_mapping(data: Mapping[str, Any], where: str, stem: str | None) -> VehicleSpec:
    values: dict[str, Any] = {}
    raw: dict[str, tuple[TomlKey, Any]] = {}
    _walk(data, (), where, values, raw)
    sources = _sources(data.get("sources", {}), where)
    if "name" not in values:
        if stem is None:
            raise SpecificationError("name", "a vehicle name (top-level name = \"...\")", None, where)
        values["name"] = stem
    for required in ("test_mass", "motor_peak_power", "battery_energy"):
        if required not in values:
            key = _PRIMARY[required]
            raise SpecificationError(key.dotted, f"a number in {_range_text(key)}", None, where,
                                     hint=f"[{'.'.join(key.section)}] {key.key} is required")
    try:
        return VehicleSpec(**values, sources=sources)
    except SpecificationError as exc:
        raise _relocate(exc, raw, where) from None


def _walk(table: Mapping[str, Any], path: tuple[str, ...], where: str,
          values: dict[str, Any], raw: dict[str, tuple[TomlKey, Any]]) -> None:
    known = _BY_SECTION.get(path, {})
    subsections = {s[len(path)] for s in _BY_SECTION if len(s) == len(path) + 1 and s[: len(path)] == path}
    if path == ():
        subsections.add("sources")
    for name, value in table.items():
        dotted = ".".join((*path, name))
        if path == () and name == "sources":
            continue
        if name in subsections:
            if not isinstance(value, dict):
                raise SpecificationError(dotted, "a table", value, where, hint=f"write [{dotted}] as a section")
            _walk(value, (*path, name), where, values, raw)
            continue
        if name not in known:
            options = sorted(known) + sorted(subsections)
            kind = f"a key of [{'.'.join(path)}]" if path else "a top-level key or section"
            raise SpecificationError(dotted, f"{kind}: {', '.join(options)}", name, where,
                                     hint=_unknown_key_hint(name, options))
        key = known[name]
        if key.field in values:
            other = raw[key.field][0]
            raise SpecificationError(dotted, f"only one of {other.dotted} and {dotted}", value, where)
        values[key.field] = _convert(key, value, where)
        raw[key.field] = (key, value)


def _section_text(section: tuple[str, ...]) -> str:
    return f"[{'.'.join(section)}]" if section else "the top level"


def _unknown_key_hint(name: str, options: list[str]) -> str | None:
    """Where an unknown key belongs: its own section, a close match here, or one elsewhere."""
    if name in _SECTIONS_OF:
        return f"{name} is a key of {' and '.join(_section_text(s) for s in _SECTIONS_OF[name])}"
    matches = close_matches(name, options)
    if matches:
        return f"did you mean {', '.join(repr(m) for m in matches)}?"
    elsewhere = close_matches(name, list(_SECTIONS_OF), n=1)
    if elsewhere:
        return f"did you mean {elsewhere[0]!r} of {_section_text(_SECTIONS_OF[elsewhere[0]][0])}?"
    return None


def _convert(key: TomlKey, value: Any, where: str) -> Any:
    if key.kind == "text":
        if not isinstance(value, str):
            raise SpecificationError(key.dotted, _expected_text(key), value, where)
        return value
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise SpecificationError(key.dotted, f"a number in {_range_text(key)}", value, where)
    if isinstance(value, Decimal) and not value.is_finite():
        raise SpecificationError(key.dotted, f"a finite number in {_range_text(key)}", float(value), where)
    si = key.to_si(value)
    low, high = _si_range(key)
    if not low <= si <= high:
        raise SpecificationError(key.dotted, f"a number in {_range_text(key)}", _received(value), where,
                                 hint=_kelvin_hint(key, value))
    return si


def _kelvin_hint(key: TomlKey, value: Decimal | int) -> str | None:
    """For a key in °C, a value that is in range as kelvin is named as such."""
    if key.unit != "degC":
        return None
    low, high = _si_range(key)
    if low <= float(value) <= high:  # the SI value is kelvin
        return f"{_received(value):g} looks like kelvin: give {float(Decimal(value) - _KELVIN_OFFSET):g} (°C)"
    return None


def _received(value: Any) -> Any:
    """A TOML value as it is reported back: decimals as floats, ints as ints."""
    return float(value) if isinstance(value, Decimal) else value


def _si_range(key: TomlKey) -> tuple[float, float]:
    """The valid SI range of `key`'s field, from the same tables VehicleSpec validates with."""
    if key.field in _RANGES or key.field in _BOUNDS:
        return field_range(key.field)
    return -math.inf, math.inf


_SOURCE_KEYS_EXPECTED = ("a TOML key (e.g. \"road_load.drag_coefficient\"), a section, a field name, "
                         "\"vehicle\" or \"calibration\"")


def _sources(table: Any, where: str) -> dict[str, str]:
    if not isinstance(table, dict):
        raise SpecificationError("sources", "a table of key = \"source\"", table, where)
    flat: dict[str, str] = {}

    def visit(t: Mapping[str, Any], prefix: str) -> None:
        for k, v in t.items():
            name = f"{prefix}{k}"
            if isinstance(v, dict):
                visit(v, name + ".")
                continue
            if name not in _SOURCE_KEYS:
                matches = close_matches(name, _SOURCE_KEYS)
                raise SpecificationError(
                    f"sources.{name}", _SOURCE_KEYS_EXPECTED,
                    name, where, hint=f"did you mean {', '.join(repr(m) for m in matches)}?" if matches else None,
                )
            if not isinstance(v, str):
                raise SpecificationError(f"sources.{name}", "text", v, where)
            flat[name] = v

    visit(table, "")
    return flat


def _range_text(key: TomlKey) -> str:
    """The valid range of `key` in its own unit."""
    low, high = _si_range(key)
    if math.isinf(low) and math.isinf(high):
        return "(any)"

    def conv(v: float) -> str:
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        with localcontext(Context(prec=_PRECISION)):
            return f"{float((Decimal(v) - key.offset) / key.scale):g}"

    unit = "" if key.unit == "1" else f" {key.unit}"
    return f"[{conv(low)}, {conv(high)}]{unit}"


def _expected_text(key: TomlKey) -> str:
    if key.field in _CHOICES:
        return "one of " + ", ".join(repr(c) for c in _CHOICES[key.field])
    if key.field == "battery_chemistry":
        from twinloop.parameters.chemistry import OCV_TABLES

        return "one of " + ", ".join(repr(c) for c in OCV_TABLES)
    return "text"


def _relocate(exc: SpecificationError, raw: Mapping[str, tuple[TomlKey, Any]], where: str) -> SpecificationError:
    """Re-address a VehicleSpec validation error to the TOML key the user wrote."""
    if exc.field in raw:
        key, value = raw[exc.field]
    elif exc.field in _PRIMARY:
        key, value = _PRIMARY[exc.field], exc.received
    elif exc.field == "road_load":
        return _road_load_error(raw, where)
    else:  # pragma: no cover - a cross-field rule added to VehicleSpec later
        return SpecificationError(exc.field, exc.expected, exc.received, where, exc.hint)
    # Ranges were checked key by key on reading; what remains are choices and cross-field rules.
    return SpecificationError(key.dotted, exc.expected, _received(value), where, exc.hint)


def _road_load_error(raw: Mapping[str, tuple[TomlKey, Any]], where: str) -> SpecificationError:
    """The road-load error in TOML keys: the keys given, and those missing from a form given in part."""
    given = [raw[f][0].key for names in ROAD_LOAD_FORMS.values() for f in names if f in raw]
    missing = [_missing_from(form, [_PRIMARY[f].key for f in names if f not in raw])
               for form, names in ROAD_LOAD_FORMS.items()
               if any(f in raw for f in names) and not all(f in raw for f in names)]
    return SpecificationError(
        "road_load", "either drag_coefficient, frontal_area_m2 and rolling_resistance_coefficient, or "
        "coastdown_a_n, coastdown_b_n_per_mps and coastdown_c_n_per_mps2 (or their _lbf forms); "
        "a second form, if given, complete too",
        _and(given) if given else "no road-load key", where, hint="; ".join(missing) or None)


def dump_vehicle(spec: VehicleSpec, significant_digits: int | None = None) -> str:
    """Write `spec` as TOML text (SI-suffixed keys; unset optional values omitted).

    Parameters
    ----------
    spec : VehicleSpec
        The specification.
    significant_digits : int, optional
        Write at most this many significant digits (the command line writes
        10): float noise of unit conversions, ``1927.7675725000001``, becomes
        ``1927.767573``, and the file loads back within a relative 5e-10
        instead of exactly. Default: the shortest decimal that loads back to
        the very same float.

    Returns
    -------
    str
        TOML text that :func:`load_vehicle` reads back to an equal spec
        (within the rounding of `significant_digits`, if given).

    Examples
    --------
    >>> from twinloop.parameters.spec import VehicleSpec
    >>> spec = VehicleSpec("demo", test_mass=1500.0, motor_peak_power=1e5, battery_energy=1.8e8,
    ...                    drag_coefficient=0.3, frontal_area=2.2, rolling_resistance_coefficient=0.009)
    >>> text = dump_vehicle(spec)
    >>> print(text.split("[road_load]")[0])
    name = "demo"
    description = ""
    <BLANKLINE>
    [mass]
    test_mass_kg = 1500.0
    rotating_mass_factor = 0.015
    <BLANKLINE>
    <BLANKLINE>
    >>> "energy_kwh = 50.0" in text
    True
    >>> noisy = spec.with_changes(test_mass=1927.7675725000001)
    >>> [line for line in dump_vehicle(noisy, significant_digits=10).splitlines() if "test_mass" in line]
    ['test_mass_kg = 1927.767573']
    """
    if not isinstance(spec, VehicleSpec):
        raise SpecificationError("spec", "a VehicleSpec", spec if isinstance(spec, str) else type(spec).__name__,
                                 hint="resolve_vehicle(name) loads one" if isinstance(spec, str) else None)
    if significant_digits is not None and (
            not isinstance(significant_digits, int) or isinstance(significant_digits, bool)
            or not 1 <= significant_digits <= 17):
        raise SpecificationError("significant_digits", "an integer in [1, 17]", significant_digits)
    doc: dict[str, Any] = {}
    for key in TOML_KEYS:
        if key.alias:
            continue
        value = getattr(spec, key.field)
        if value is None:
            continue
        table = doc
        for part in key.section:
            table = table.setdefault(part, {})
        table[key.key] = value if key.kind == "text" else key.from_si(float(value), significant_digits)
    if spec.sources:
        doc["sources"] = dict(sorted(spec.sources.items()))
    return tomli_w.dumps(doc)
