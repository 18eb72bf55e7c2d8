"""The vehicle model: physics composed in time, for one vehicle or a fleet."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.conventions import TRACE_MISS_TOLERANCE, celsius_to_kelvin, kelvin_to_celsius
from twinloop.cycles import Cycle
from twinloop.errors import UnknownNameError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.physics.charging import wall_energy
from twinloop.quantities import check
from twinloop.sim._kernel import run_kernel
from twinloop.sim._layout import BREAKDOWN_KEYS, P, S, T
from twinloop.sim._stack import _as_specs, _describe, stack_vehicles
from twinloop.sim.submodels import DEFAULT_SUBMODELS, apply_submodels

__all__ = ["CONDITIONS", "EMPTY_SOC", "HVAC_MODES", "TRACE_MISSED_REASONS", "DriveCondition", "Scenario",
           "SimulationResult", "VehicleModel", "simulate"]

FloatArray = npt.NDArray[np.float64]
HVAC_MODES = ("auto", "on", "off")
_COMFORT_BAND = (288.15, 298.15)  # "auto" climate runs outside 15-25 °C ambient
EMPTY_SOC = 0.01
"""State of charge [1] at or below which the battery counts as empty: near it the
pack's voltage limit already cuts its power, and at 0 it gives none."""
TRACE_MISSED_REASONS = ("battery_empty", "power_limit")
"""Why a vehicle fell behind its trace: its battery was empty (at or below
:data:`EMPTY_SOC`) when it first did, or its motor or battery power was too low."""
_MIN_DISTANCE = 1.0  # [m]; per-km figures of a vehicle that hardly moved are undefined
_RERUN_CHUNK = 256  # vehicles per recorded re-run (bounds the time-series memory)
# keys of SimulationResult.summary, in order (to_frame's columns, also of an empty fleet)
_SUMMARY_KEYS = ("vehicle", "cycle", "condition", "distance_m", "duration_s", "battery_energy_wh", "battery_terminal_energy_wh",
                 "wall_energy_wh", "wh_per_km", "breakdown", "regeneration_recovered_wh", "soc_start", "soc_end",
                 "battery_temperature_end_c", "trace_missed_s", "trace_missed_m", "trace_missed_reason",
                 "battery_empty_s")
_SOLAR_LOAD_RANGE = (0.0, 2e4)  # [W]: sun and occupants; a bus full of people stays well below
_TIME_STEP_RANGE = (0.01, 10.0)  # [s], as Cycle.resample accepts
# Scenario fields given as a scalar or one value per vehicle -> glossary quantity of their range
_PER_VEHICLE = {
    "ambient_temperature": "ambient_temperature",
    "soc_start": "state_of_charge",
    "payload": "payload",
    "battery_temperature_start": "battery_temperature",
    "cabin_temperature_start": "cabin_temperature",
    "solar_load": None,
}
_DEFAULT_AMBIENT = ("battery_temperature_start", "cabin_temperature_start")  # None: soaked at ambient


def _fahrenheit(value: float) -> float:
    """`value` [°F] in kelvin (the EPA states its test temperatures in °F)."""
    return celsius_to_kelvin((value - 32.0) / 1.8)


@dataclass(frozen=True)
class DriveCondition:
    """Where the vehicles are driven: on the road, or on a chassis dynamometer as in a laboratory test.

    A condition fixes what the place decides rather than the vehicle: how
    braking is shared between the axles, and which ambient temperatures and
    climate-control modes a test there allows. Conditions are chosen by name
    from :data:`CONDITIONS` (``Scenario(cycle, condition="dynamometer")``).

    Attributes
    ----------
    name : str
        Key in :data:`CONDITIONS`.
    description : str
        What it models and why, one sentence (shown by ``twinloop simulate --help``).
    regen_axle_share : float or None
        Share of braking force on the regenerating axle(s) [1] that replaces
        every vehicle's own (the ``regen_axle_share`` column of the parameter
        matrix); None keeps each vehicle's, which by default follows its drive
        (:attr:`VehicleSpec.effective_regen_axle_share`).
    ambient_range : tuple of float
        Ambient temperatures the condition allows [K], both ends included; an
        explicit battery start temperature must lie in it too, since the
        condition's vehicle is soaked.
    ambient_temperature : float
        Default ambient temperature [K].
    hvac_modes : tuple of str
        Climate-control modes the condition allows, the default first.

    Examples
    --------
    >>> dyno = CONDITIONS["dynamometer"]
    >>> dyno.regen_axle_share, round(dyno.ambient_temperature - 273.15, 1), dyno.hvac_modes
    (1.0, 23.9, ('off',))
    >>> CONDITIONS["road"].regen_axle_share is None
    True
    """

    name: str
    description: str
    regen_axle_share: float | None = None
    ambient_range: tuple[float, float] = (223.15, 333.15)
    ambient_temperature: float = 293.15
    hvac_modes: tuple[str, ...] = HVAC_MODES

    def apply(self, params: FloatArray) -> None:
        """Write the condition's columns into the parameter matrix `params` (in place)."""
        if self.regen_axle_share is not None:
            params[:, P.regen_axle_share] = self.regen_axle_share


CONDITIONS: dict[str, DriveCondition] = {c.name: c for c in (
    DriveCondition(
        "road", "braking shared between the axles as each vehicle's regen_axle_share says (by default "
                "from its drive)"),
    DriveCondition(
        "dynamometer", "an EPA UDDS or highway lab test: all braking through the driven axle "
                       "(regen_axle_share = 1), climate off, a 23-25 °C soak (default 75 °F, 23.9 °C)",
        # as a command line converts 23 °C, so that the ends of the range are kept
        regen_axle_share=1.0, ambient_range=(celsius_to_kelvin(23.0), celsius_to_kelvin(25.0)), ambient_temperature=_fahrenheit(75.0),
        hvac_modes=("off",)),
    DriveCondition(
        "dynamometer_cold", "the EPA 20 °F cold FTP: all braking through the driven axle(s), heater on, "
                            "a 15-25 °F soak (-9.4 to -3.9 °C)",
        regen_axle_share=1.0, ambient_range=(_fahrenheit(15.0), _fahrenheit(25.0)),
        ambient_temperature=_fahrenheit(20.0), hvac_modes=("on",)),
)}
"""Drive conditions by name: ``road`` (the default), ``dynamometer`` and ``dynamometer_cold``.

Why the dynamometer is a condition of its own: a chassis dynamometer turns
only the driven wheels (both axles of an all-wheel-drive car), so every
braking force passes through the motored axle(s) and can be regenerated. On
the road a car brakes partly with its undriven wheels, whose friction brakes
waste that energy; the road default shares braking by drive (0.80 of it on
the motored axle of a front-wheel drive, 0.65 rear-wheel drive, 0.95
all-wheel drive). Over the UDDS the road condition therefore uses about
11 % more energy than the lab for a front-wheel-drive car (9-13 % over the
EPA 2022 vehicles), 21 % for a rear-wheel drive, 3 % for an all-wheel drive.
"""


@dataclass(frozen=True)
class Scenario:
    """What the vehicles are asked to do, and in which conditions.

    Scalars apply to every vehicle; a sequence (list, ndarray, pandas Series)
    of n numbers gives one value per vehicle of an n-vehicle fleet. Values
    are checked on construction (type, shape, range, NaN) and the lengths
    when simulating.

    Attributes
    ----------
    cycle : Cycle
        Speed trace to follow (resampled to `time_step` if not uniform or of
        another step), e.g. ``load_cycle("udds")``.
    ambient_temperature : float or array_like, shape (n,), optional
        [K] in [223.15, 333.15], and in the condition's range; default the
        condition's: 293.15 (20 °C) on the road, 297.04 (75 °F) on the
        dynamometer.
    soc_start : float or array_like, shape (n,)
        [1] in [0, 1], default 0.9.
    payload : float or array_like, shape (n,)
        Mass added to the test mass [kg] in [0, 20000], default 0.
    hvac : {"auto", "on", "off"}, optional
        Climate control; ``auto`` runs it when ambient is outside 15-25 °C.
        Default the condition's: ``auto`` on the road, ``off`` on the
        dynamometer (the only mode it allows).
    solar_load : float or array_like, shape (n,)
        Solar and occupant heat into the cabin [W] in [0, 20000], default 0.
    battery_temperature_start : float or array_like, shape (n,), optional
        [K] in [223.15, 353.15] (and in the condition's ambient range);
        default: ambient (a soaked vehicle).
    cabin_temperature_start : float or array_like, shape (n,), optional
        Cabin air temperature at the start [K] in [223.15, 353.15] (and in
        the condition's ambient range); default: ambient (a soaked vehicle).
        The cabin's set point for a cabin pre-conditioned while plugged in:
        the climate control then only holds it, with no warm-up.
    time_step : float
        [s] in [0.01, 10], default 1.
    condition : {"road", "dynamometer", "dynamometer_cold"}
        Where the vehicles drive (:data:`CONDITIONS`), default ``road``.
        Use ``dynamometer`` to reproduce a laboratory result such as an EPA
        UDDS or highway test: a chassis dynamometer turns only the driven
        axle, so all braking goes through it (``regen_axle_share`` = 1 for
        every vehicle, whatever its spec says), where on the road an undriven
        axle's friction brakes take a share and waste it (on the UDDS about
        11 % more energy for a front-wheel-drive car). The test is run with
        climate control off on a vehicle soaked at 23-25 °C (default 75 °F,
        23.9 °C): another ambient or ``hvac`` is refused. ``dynamometer_cold``
        is the 20 °F cold FTP (heater on, 15-25 °F).

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> Scenario(load_cycle("udds"), ambient_temperature=-7.0)
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: ambient_temperature: expected a number in [223.15, 333.15] K, received -7.0

    The EPA's lab condition, at its default 75 °F with climate control off:

    >>> lab = Scenario(load_cycle("udds"), condition="dynamometer")
    >>> round(lab.ambient_temperature, 2), lab.hvac
    (297.04, 'off')
    >>> Scenario(load_cycle("udds"), condition="dynamometer", ambient_temperature=293.15)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: ambient_temperature: expected a number in [296.15, 298.15] K (23 to 25 °C) ...
    """

    cycle: Cycle
    ambient_temperature: float | FloatArray | None = None
    soc_start: float | FloatArray = 0.9
    payload: float | FloatArray = 0.0
    hvac: str | None = None
    solar_load: float = 0.0
    battery_temperature_start: float | FloatArray | None = None
    time_step: float = 1.0
    condition: str = "road"
    cabin_temperature_start: float | FloatArray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.cycle, Cycle):
            raise ValidationError("cycle", "a twinloop.cycles.Cycle", _describe(self.cycle),
                                  hint="load_cycle('udds') gives a bundled cycle, read_trace(path) your own trace")
        if not isinstance(self.condition, str):
            raise ValidationError("condition", f"one of {', '.join(CONDITIONS)}",
                                  None if self.condition is None else _describe(self.condition))
        if self.condition not in CONDITIONS:
            raise UnknownNameError("condition", self.condition, CONDITIONS,
                                   hint=f"the conditions are {', '.join(CONDITIONS)}")
        condition = CONDITIONS[self.condition]
        if self.ambient_temperature is None:  # the condition's default; frozen, hence object.__setattr__
            object.__setattr__(self, "ambient_temperature", condition.ambient_temperature)
        if self.hvac is None:
            object.__setattr__(self, "hvac", condition.hvac_modes[0])
        for name, quantity in _PER_VEHICLE.items():
            value = getattr(self, name)
            if value is None and name in _DEFAULT_AMBIENT:
                continue
            arr = _numbers(name, value)
            if quantity is not None:
                check(quantity, arr, name)
            else:
                low, high = _SOLAR_LOAD_RANGE
                bad = ~((arr >= low) & (arr <= high))  # NaN is bad too
                if bad.any():
                    raise ValidationError(name, f"a number in [{low:g}, {high:g}] W", float(arr.flat[np.flatnonzero(bad)[0]]))
        if not isinstance(self.hvac, str) or self.hvac not in HVAC_MODES:
            m = [self.hvac.lower()] if isinstance(self.hvac, str) and self.hvac.lower() in HVAC_MODES else []
            raise ValidationError("hvac", f"one of {', '.join(HVAC_MODES)}", self.hvac,
                                  hint=f"did you mean {m[0]!r}?" if m else None)
        _check_condition(self, condition)
        step = self.time_step
        if (not isinstance(step, numbers.Real) or isinstance(step, bool)
                or not _TIME_STEP_RANGE[0] <= float(step) <= _TIME_STEP_RANGE[1]):  # NaN fails too
            raise ValidationError("time_step", f"a number in [{_TIME_STEP_RANGE[0]:g}, {_TIME_STEP_RANGE[1]:g}] s",
                                  step)


def _degc(kelvin: float) -> str:
    """`kelvin` in °C for a message, to 0.1 °C, without a trailing ".0"."""
    return f"{kelvin_to_celsius(kelvin):.1f}".removesuffix(".0")


def _check_condition(scenario: Scenario, condition: DriveCondition) -> None:
    """Refuse an ambient, battery or cabin start temperature or climate mode the scenario's condition does not allow."""
    low, high = condition.ambient_range
    default = condition.ambient_temperature
    for name, leave_out in (("ambient_temperature", f"{kelvin_to_celsius(default) * 1.8 + 32:.0f} °F ({_degc(default)} °C)"),
                            *((name, "the ambient") for name in _DEFAULT_AMBIENT)):
        value = getattr(scenario, name)
        arr = np.atleast_1d(np.asarray(value if value is not None else low, dtype=float))
        bad = np.flatnonzero(~((arr >= low) & (arr <= high)))
        if bad.size:
            raise ValidationError(
                name, f"a number in [{low:.2f}, {high:.2f}] K ({_degc(low)} to {_degc(high)} °C) for the "
                      f"{condition.name} condition", float(arr[bad[0]]),
                hint=f"The {condition.name} condition models a vehicle soaked at {_degc(low)} to {_degc(high)} °C: "
                     f"leave {name} out for {leave_out}, or use condition='road'")
    if scenario.hvac not in condition.hvac_modes:
        raise ValidationError("hvac", f"{' or '.join(map(repr, condition.hvac_modes))} for the {condition.name} "
                              "condition", scenario.hvac, hint=f"The {condition.name} condition is "
                                                               f"{condition.description}")


def _check_call(scenario: object, record: object, n: int) -> None:
    """The checks every simulation entry point makes: a Scenario whose per-vehicle values fit `n`, a bool `record`."""
    if not isinstance(scenario, Scenario):
        raise ValidationError("scenario", "a twinloop.sim.Scenario", _describe(scenario),
                              hint="Scenario(load_cycle('udds')) drives the UDDS at 20 °C")
    if not isinstance(record, bool | np.bool_):
        raise ValidationError("record", "True or False", record)
    _check_fleet_size(scenario, n)


def _check_fleet_size(scenario: Scenario, n: int) -> None:
    """Refuse per-vehicle values whose number is neither 1 nor `n` (the fleet's size)."""
    for name in _PER_VEHICLE:
        value = getattr(scenario, name)
        size = np.size(value) if value is not None else 1
        if np.ndim(value) == 1 and size not in (1, n):
            raise ValidationError(
                name, f"one number, or {n} (one per vehicle of the {n}-vehicle fleet)",
                f"{size} values", hint="Give as many values as vehicles, in the order of the vehicles",
            )


def _numbers(name: str, value: object) -> FloatArray:
    """`value` as floats, if it is a number or a 1-D sequence of numbers (not text, not booleans)."""
    expected = "a number, or a 1-D array of numbers (one per vehicle)"
    if isinstance(value, str | bytes | bool) or value is None:
        raise ValidationError(name, expected, value)
    kind = np.asarray(value).dtype.kind
    if kind in "USb":  # text or booleans in an array: never silently converted
        raise ValidationError(name, expected, f"an array of {np.asarray(value).dtype}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(name, expected, _describe(value)) from None
    if arr.ndim > 1:
        raise ValidationError(name, expected, f"an array of shape {arr.shape}", hint="Flatten it: np.ravel(...)")
    return arr


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation returns: totals always, time series on request.

    Energies are in joules, the leading axis is the vehicle. ``breakdown``
    holds the causes that sum to ``battery_energy`` (chemical energy drawn:
    the integral of open-circuit voltage times current).

    Attributes
    ----------
    vehicle_names : list of str
        One per vehicle, in the order given.
    cycle_name : str
        The cycle driven.
    duration : float
        Cycle duration [s].
    breakdown : dict of str to ndarray, shape (n,)
        Battery energy by cause [J], keys :data:`twinloop.sim.BREAKDOWN_KEYS`
        (aerodynamic, rolling, grade, kinetic_change, friction_braking,
        drivetrain_losses, battery_losses, auxiliary, hvac).
    battery_energy, battery_terminal_energy : ndarray, shape (n,)
        Chemical and terminal battery energy drawn [J].
    regeneration_recovered : ndarray, shape (n,)
        Braking energy returned to the battery [J].
    distance, target_distance : ndarray, shape (n,)
        Distance driven and asked for by the cycle [m].
    trace_missed_time : ndarray, shape (n,)
        Time spent below the trace [s].
    soc_start, soc_end : ndarray, shape (n,)
        State of charge [1].
    battery_temperature_end, cabin_temperature_end : ndarray, shape (n,)
        [K].
    charger_efficiency : ndarray, shape (n,)
        Wall-to-battery efficiency [1], for :attr:`wall_energy`.
    time : ndarray, shape (T,) or None
        Time of each sample [s] (with ``record=True``).
    series : dict of str to ndarray, shape (n, T), or None
        Time series (with ``record=True``): ``vehicle_speed`` [m s-1],
        ``battery_power``, ``motor_power``, ``hvac_power``,
        ``friction_brake_power`` [W], ``battery_current`` [A],
        ``battery_voltage`` [V], ``state_of_charge`` [1],
        ``battery_temperature``, ``cabin_temperature`` [K].
    battery_empty_time : ndarray, shape (n,)
        When the battery became empty [s]; NaN if it did not.
    trace_missed_reason : tuple of (str or None)
        Why each vehicle missed its trace (:data:`TRACE_MISSED_REASONS`), or None.
    condition : str
        The drive condition of the scenario (:data:`CONDITIONS`), so that a
        saved result of a lab test is not mistaken for a road run.
    """

    vehicle_names: list[str]
    cycle_name: str
    duration: float
    breakdown: dict[str, FloatArray]
    battery_energy: FloatArray
    battery_terminal_energy: FloatArray
    regeneration_recovered: FloatArray
    distance: FloatArray
    target_distance: FloatArray
    trace_missed_time: FloatArray
    soc_start: FloatArray
    soc_end: FloatArray
    battery_temperature_end: FloatArray
    cabin_temperature_end: FloatArray
    charger_efficiency: FloatArray
    time: FloatArray | None = None
    series: dict[str, FloatArray] | None = field(default=None, repr=False)
    battery_empty_time: FloatArray | None = None
    trace_missed_reason: tuple[str | None, ...] | None = None
    condition: str = "road"

    def __post_init__(self) -> None:
        n = len(self.vehicle_names)
        if self.battery_empty_time is None:
            object.__setattr__(self, "battery_empty_time", np.full(n, np.nan))
        if self.trace_missed_reason is None:
            reasons = ["power_limit" if missed > 0 else None for missed in self.trace_missed_time]
            object.__setattr__(self, "trace_missed_reason", tuple(reasons))

    @property
    def wall_energy(self) -> FloatArray:
        """Energy from the wall to recharge what was used [J]."""
        return np.asarray(wall_energy(np.maximum(self.battery_energy, 0.0), self.charger_efficiency))

    @property
    def wh_per_km(self) -> FloatArray:
        """Wall energy per achieved distance [Wh km-1]; NaN where the vehicle moved less than 1 m."""
        moved = self.distance >= _MIN_DISTANCE
        out = np.full(self.distance.shape, np.nan)
        np.divide(self.wall_energy / 3600.0, self.distance / 1000.0, out=out, where=moved)
        return out

    @property
    def trace_missed_distance(self) -> FloatArray:
        """Distance short of the trace [m]."""
        return np.maximum(self.target_distance - self.distance, 0.0)

    def __len__(self) -> int:
        return len(self.vehicle_names)

    def __repr__(self) -> str:
        n = len(self)
        shown = ", ".join(repr(v) for v in self.vehicle_names[:3]) + (", ..." if n > 3 else "")
        per_km = np.round(self.wh_per_km[:3], 1).tolist() + (["..."] if n > 3 else [])
        recorded = f", time series {sorted(self.series)} over {len(self.time)} steps" if (
            self.series is not None and self.time is not None) else ""
        return (f"SimulationResult({n} vehicle{'' if n == 1 else 's'} [{shown}] on {self.cycle_name!r} "
                f"({self.duration:g} s), wh_per_km={per_km}{recorded}; .to_frame() for every total)")

    def _index(self, i: int) -> int:
        """`i` as a vehicle index, refused with the valid range when out of it."""
        n = len(self)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not -n <= int(i) < n:
            raise IndexError(f"vehicle index: expected an integer in [{-n}, {n - 1}] for {n} vehicle"
                             f"{'' if n == 1 else 's'}, received {i!r}")
        return int(i)

    def summary(self, i: int = 0) -> dict[str, Any]:
        """One vehicle's result as a JSON-ready dict (energies in Wh).

        ``wh_per_km`` is ``None`` when the vehicle hardly moved (less than
        1 m); ``trace_missed_reason`` is ``None`` when it followed the trace,
        else one of :data:`TRACE_MISSED_REASONS`; ``battery_empty_s`` is the
        time the battery became empty, or ``None``.
        """
        wh = 1 / 3600.0
        i = self._index(i)
        per_km = float(self.wh_per_km[i])
        assert self.battery_empty_time is not None and self.trace_missed_reason is not None
        empty = float(self.battery_empty_time[i])
        return {
            "vehicle": self.vehicle_names[i],
            "cycle": self.cycle_name,
            "condition": self.condition,
            "distance_m": round(float(self.distance[i]), 2),
            "duration_s": self.duration,
            "battery_energy_wh": round(float(self.battery_energy[i]) * wh, 3),
            "battery_terminal_energy_wh": round(float(self.battery_terminal_energy[i]) * wh, 3),
            "wall_energy_wh": round(float(self.wall_energy[i]) * wh, 3),
            "wh_per_km": round(per_km, 3) if math.isfinite(per_km) else None,
            "breakdown": {k: round(float(v[i]) * wh, 3) for k, v in self.breakdown.items()},
            "regeneration_recovered_wh": round(float(self.regeneration_recovered[i]) * wh, 3),
            "soc_start": round(float(self.soc_start[i]), 6),
            "soc_end": round(float(self.soc_end[i]), 6),
            "battery_temperature_end_c": round(kelvin_to_celsius(float(self.battery_temperature_end[i])), 3),
            "trace_missed_s": float(self.trace_missed_time[i]),
            "trace_missed_m": round(float(self.trace_missed_distance[i]), 2),
            "trace_missed_reason": self.trace_missed_reason[i],
            "battery_empty_s": empty if math.isfinite(empty) else None,
        }

    def to_frame(self) -> pd.DataFrame:
        """Totals of every vehicle as a table, one row per vehicle (energies in Wh).

        The columns are the keys of :meth:`summary` (without ``breakdown``)
        followed by one ``<cause>_wh`` column per breakdown key.
        """
        causes = pd.DataFrame({f"{k}_wh": v / 3600.0 for k, v in self.breakdown.items()})
        if not len(self):  # no vehicle: no row, the same columns
            columns = [c for c in _SUMMARY_KEYS if c != "breakdown"] + list(causes.columns)
            return pd.DataFrame(columns=columns)
        return pd.DataFrame([self.summary(i) for i in range(len(self))]).drop(columns="breakdown").join(causes)

    def series_frame(self, i: int = 0) -> pd.DataFrame:
        """One vehicle's time series (SI units; temperatures in K)."""
        if self.series is None or self.time is None:
            raise ValidationError("record", "True when simulating, to keep time series", False)
        i = self._index(i)
        return pd.DataFrame({"time": self.time, **{k: v[i] for k, v in self.series.items()}})


class VehicleModel:
    """A battery-electric vehicle model assembled from submodels by role.

    Parameters
    ----------
    submodels : dict, optional
        ``{role: option}`` overriding :data:`DEFAULT_SUBMODELS`, e.g.
        ``{"battery_thermal": "isothermal"}``; see
        :data:`twinloop.sim.submodels.SUBMODELS`.

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> from twinloop.parameters.spec import VehicleSpec
    >>> car = VehicleSpec("demo", test_mass=1800, motor_peak_power=150e3, battery_energy=2.7e8,
    ...                   drag_coefficient=0.25, frontal_area=2.3, rolling_resistance_coefficient=0.008)
    >>> result = VehicleModel().simulate([car], Scenario(load_cycle("hwfet"), hvac="off"))
    >>> 100 < float(result.wh_per_km[0]) < 200
    True
    """

    def __init__(self, submodels: dict[str, str] | None = None) -> None:
        if submodels is not None and not isinstance(submodels, Mapping):
            raise ValidationError("submodels", "a dict {role: option}, e.g. {'battery_thermal': 'isothermal'}",
                                  submodels)
        self.submodels = {**DEFAULT_SUBMODELS, **(submodels or {})}
        apply_submodels(np.zeros((0, len(P))), self.submodels)  # validate names now

    def simulate(
        self,
        vehicles: VehicleSpec | Sequence[VehicleSpec],
        scenario: Scenario,
        record: bool = False,
    ) -> SimulationResult:
        """Run every vehicle through the scenario (one code path for 1 or n).

        Parameters
        ----------
        vehicles : VehicleSpec or sequence of VehicleSpec
            One vehicle or a fleet (an empty fleet gives an empty result);
            coast-down and physical road-load forms may be mixed.
        scenario : Scenario
            Cycle and conditions; per-vehicle values must number 1 or n.
        record : bool, default False
            Keep the time series (``result.series``, shape (n, T); memory
            grows as n T: 10 series of 8 bytes per vehicle and step).

        Returns
        -------
        SimulationResult
            Totals per vehicle (energies in J), and time series if recorded.

        Raises
        ------
        ValidationError
            For something other than VehicleSpecs, a per-vehicle value of
            the wrong length, or a `record` that is not a bool.
        """
        specs = _as_specs(vehicles)
        params, tables = stack_vehicles(specs)
        _check_call(scenario, record, len(specs))
        charger = np.array([v.charger_efficiency for v in specs], dtype=float)
        # validated specs stack to finite matrices of the right shapes: no second check
        return self._run(params, tables, scenario, [v.name for v in specs], charger, bool(record))

    def simulate_parameters(
        self,
        params: FloatArray,
        ocv_tables: FloatArray,
        scenario: Scenario,
        names: Sequence[str] | None = None,
        charger_efficiency: FloatArray | float = 0.88,
        record: bool = False,
    ) -> SimulationResult:
        """Run a prepared parameter matrix (see :func:`twinloop.sim.stack_vehicles`).

        Fleets built by varying parameters in bulk skip the per-spec stacking.

        Parameters
        ----------
        params : ndarray, shape (n, len(P))
            One row per vehicle in SI units, columns :class:`twinloop.sim._layout.P`,
            as :func:`~twinloop.sim.stack_vehicles` returns it; finite numbers.
        ocv_tables : ndarray, shape (n, k)
            Pack open-circuit voltage [V] at k equally spaced states of charge.
        scenario : Scenario
            Cycle and conditions (its scenario columns replace those of `params`).
        names : sequence of str, optional
            n vehicle names; default ``vehicle_0`` ...
        charger_efficiency : float or array_like, shape (n,)
            Wall-to-battery efficiency [1] in [0.5, 1], default 0.88.
        record : bool, default False
            Keep the time series.

        Returns
        -------
        SimulationResult

        Raises
        ------
        ValidationError
            For arrays of the wrong shape or not finite, names or charger
            efficiencies not one per vehicle.
        """
        params, ocv_tables, n = _checked_matrices(params, ocv_tables)
        _check_call(scenario, record, n)
        if names is not None:
            names = [names] if isinstance(names, str) else list(names)
            if len(names) != n:
                raise ValidationError("names", f"{n} vehicle names (one per row of params)", f"{len(names)} names")
        _numbers("charger_efficiency", charger_efficiency)
        charger = check("charger_efficiency", charger_efficiency)
        if charger.ndim == 1 and charger.size not in (1, n):
            raise ValidationError("charger_efficiency", f"one number, or {n} (one per vehicle)",
                                  f"{charger.size} values")
        return self._run(params, ocv_tables, scenario, names, charger, bool(record), check_finite=True)

    def _run(
        self,
        params: FloatArray,
        ocv_tables: FloatArray,
        scenario: Scenario,
        names: Sequence[str] | None,
        charger: FloatArray,
        record: bool,
        check_finite: bool = False,
    ) -> SimulationResult:
        """The simulation itself, on inputs already checked by the public entry points."""
        n = params.shape[0]
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero or NaN mass is reported just below
            params = _apply_scenario(params, scenario)
        if check_finite:
            _check_finite(params, ocv_tables)
        apply_submodels(params, self.submodels)
        cycle = scenario.cycle
        if not cycle.is_uniform() or abs(float(cycle.time[1] - cycle.time[0]) - scenario.time_step) > 1e-9:
            cycle = cycle.resample(scenario.time_step)
        # At most one thread per vehicle: idle worker threads spin, and a one-vehicle
        # call waited tens of milliseconds on a busy machine for threads with no work.
        threads = numba.get_num_threads()
        numba.set_num_threads(max(1, min(n, threads)))
        try:
            totals, final, series = run_kernel(
                np.ascontiguousarray(params), np.ascontiguousarray(ocv_tables),
                np.ascontiguousarray(cycle.vehicle_speed, dtype=float),
                np.ascontiguousarray(cycle.road_grade, dtype=float), float(scenario.time_step), record,
            )
        finally:
            numba.set_num_threads(threads)
        names = list(names) if names is not None else [f"vehicle_{i}" for i in range(n)]
        empty_time, reasons = _why_trace_missed(
            params, ocv_tables, cycle, scenario.time_step, totals[:, T.trace_missed_time], final[:, 0],
            series if record else None,
        )
        return SimulationResult(
            vehicle_names=names,
            cycle_name=cycle.name,
            duration=cycle.duration,
            breakdown={k: totals[:, T[k]] for k in BREAKDOWN_KEYS},
            battery_energy=totals[:, T.battery_chemical],
            battery_terminal_energy=totals[:, T.battery_terminal],
            regeneration_recovered=totals[:, T.regeneration_recovered],
            distance=totals[:, T.distance],
            target_distance=totals[:, T.target_distance],
            trace_missed_time=totals[:, T.trace_missed_time],
            soc_start=params[:, P.soc_start].copy(),
            soc_end=final[:, 0],
            battery_temperature_end=final[:, 1],
            cabin_temperature_end=final[:, 2],
            charger_efficiency=np.broadcast_to(charger, (n,)).copy(),
            time=cycle.time if record else None,
            series={s.name: series[:, s.value, :] for s in S} if record else None,
            battery_empty_time=empty_time,
            trace_missed_reason=reasons,
            condition=scenario.condition,
        )


def _checked_matrices(params: object, ocv_tables: object) -> tuple[FloatArray, FloatArray, int]:
    """The parameter matrix and OCV tables as float arrays of matching, valid shapes.

    The kernel does not check bounds: a table row missing for a vehicle would be read from
    memory beyond the array.
    """
    try:
        p = np.asarray(params, dtype=float)
        tables = np.asarray(ocv_tables, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError("params", "numeric arrays (params and ocv_tables)",
                              f"{_describe(params)} and {_describe(ocv_tables)}") from None
    if p.ndim != 2 or p.shape[1] != len(P):
        raise ValidationError("params", f"an array of shape (n, {len(P)}), as stack_vehicles returns",
                              f"an array of shape {p.shape}")
    n = p.shape[0]
    if tables.ndim != 2 or tables.shape[0] != n or tables.shape[1] < 2:
        raise ValidationError("ocv_tables", f"an array of shape ({n}, k), k >= 2: one table per row of params",
                              f"an array of shape {tables.shape}")
    return p, tables, n


def _check_finite(params: FloatArray, ocv_tables: FloatArray) -> None:
    """NaN or infinity anywhere would run silently to NaN results: refused, naming row and column."""
    for name, a in (("params", params), ("ocv_tables", ocv_tables)):
        bad = ~np.isfinite(a)
        if bad.any():
            row, col = (int(x[0]) for x in np.nonzero(bad))
            column = f"P.{P(col).name}" if name == "params" else str(col)
            raise ValidationError(f"{name}[{row}, {column}]", "a finite number", float(a[row, col]))


def _why_trace_missed(
    params: FloatArray,
    ocv_tables: FloatArray,
    cycle: Cycle,
    time_step: float,
    missed_time: FloatArray,
    soc_end: FloatArray,
    series: FloatArray | None,
) -> tuple[FloatArray, tuple[str | None, ...]]:
    """When each battery became empty [s] (NaN: never) and why each trace was missed.

    A vehicle whose battery is empty at the end is run again with its time
    series (unless they were recorded) to find when it emptied, and whether
    that came before it first fell behind the trace.
    """
    n = params.shape[0]
    empty_time = np.full(n, np.nan)
    reasons: list[str | None] = ["power_limit" if m > 0 else None for m in missed_time]
    drained = np.flatnonzero((missed_time > 0) & (soc_end <= EMPTY_SOC))
    for start in range(0, drained.size, _RERUN_CHUNK):
        rows = drained[start:start + _RERUN_CHUNK]
        if series is not None:
            part = series[rows]
        else:
            _, _, part = run_kernel(
                np.ascontiguousarray(params[rows]), np.ascontiguousarray(ocv_tables[rows]),
                np.ascontiguousarray(cycle.vehicle_speed, dtype=float),
                np.ascontiguousarray(cycle.road_grade, dtype=float), float(time_step), True,
            )
        soc = part[:, S.state_of_charge, :]
        behind = (cycle.vehicle_speed - part[:, S.vehicle_speed, :]) > TRACE_MISS_TOLERANCE
        for j, i in enumerate(rows):
            k_empty = int(np.argmax(soc[j] <= EMPTY_SOC))
            if soc[j, k_empty] > EMPTY_SOC:
                continue
            empty_time[i] = float(cycle.time[k_empty] - cycle.time[0])
            k_miss = int(np.argmax(behind[j])) if behind[j].any() else soc.shape[1]
            if k_empty <= k_miss:
                reasons[i] = "battery_empty"
    return empty_time, tuple(reasons)


def _apply_scenario(params: FloatArray, scenario: Scenario) -> FloatArray:
    params = params.copy()
    ambient = np.broadcast_to(np.asarray(scenario.ambient_temperature, float), params.shape[:1])
    payload = np.broadcast_to(np.asarray(scenario.payload, float), params.shape[:1])
    mass = params[:, P.mass]
    params[:, P.coastdown_a] *= (mass + payload) / mass
    params[:, P.mass] = mass + payload
    params[:, P.ambient_temperature] = ambient
    params[:, P.soc_start] = scenario.soc_start
    for name in _DEFAULT_AMBIENT:
        start = getattr(scenario, name)
        params[:, P[name]] = ambient if start is None else start
    params[:, P.solar_load] = scenario.solar_load
    if scenario.hvac == "auto":
        params[:, P.hvac_on] = ((ambient < _COMFORT_BAND[0]) | (ambient > _COMFORT_BAND[1])).astype(float)
    else:
        params[:, P.hvac_on] = 1.0 if scenario.hvac == "on" else 0.0
    CONDITIONS[scenario.condition].apply(params)
    return params


def simulate(
    vehicles: VehicleSpec | Sequence[VehicleSpec],
    scenario: Scenario,
    record: bool = False,
    submodels: dict[str, str] | None = None,
) -> SimulationResult:
    """Simulate one vehicle or many with the default model.

    Parameters
    ----------
    vehicles : VehicleSpec or sequence of VehicleSpec
        One vehicle or a fleet (coast-down and physical road-load forms mix).
    scenario : Scenario
        Cycle and conditions (ambient [K], start state of charge [1], payload [kg] ...).
    record : bool, default False
        Keep the time series (``result.series``, SI units, shape (n, T)).
    submodels : dict, optional
        ``{role: option}``, see :class:`VehicleModel`.

    Returns
    -------
    SimulationResult
        Energies in J per vehicle; ``to_frame()`` gives a table in Wh.

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> from twinloop.parameters.spec import VehicleSpec
    >>> car = VehicleSpec("demo", test_mass=1800, motor_peak_power=150e3, battery_energy=2.7e8,
    ...                   drag_coefficient=0.25, frontal_area=2.3, rolling_resistance_coefficient=0.008)
    >>> r = simulate(car, Scenario(load_cycle("udds")))
    >>> r.summary()["trace_missed_s"]
    0.0
    """
    return VehicleModel(submodels).simulate(vehicles, scenario, record)
