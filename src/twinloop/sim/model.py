"""The vehicle model: physics composed in time, for one vehicle or a fleet."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.cycles import Cycle
from twinloop.errors import ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.physics.charging import wall_energy
from twinloop.quantities import check
from twinloop.sim._kernel import run_kernel
from twinloop.sim._layout import BREAKDOWN_KEYS, P, S, T
from twinloop.sim._stack import stack_vehicles
from twinloop.sim.submodels import DEFAULT_SUBMODELS, apply_submodels

__all__ = ["EMPTY_SOC", "HVAC_MODES", "TRACE_MISSED_REASONS", "Scenario", "SimulationResult", "VehicleModel", "simulate"]

FloatArray = npt.NDArray[np.float64]
HVAC_MODES = ("auto", "on", "off")
_COMFORT_BAND = (288.15, 298.15)  # "auto" climate runs outside 15-25 °C ambient
EMPTY_SOC = 0.01
"""State of charge [1] at or below which the battery counts as empty: near it the
pack's voltage limit already cuts its power, and at 0 it gives none."""
TRACE_MISSED_REASONS = ("battery_empty", "power_limit")
"""Why a vehicle fell behind its trace: its battery was empty (at or below
:data:`EMPTY_SOC`) when it first did, or its motor or battery power was too low."""
_MISS_TOLERANCE = 0.05  # [m s-1] below the target counts as missing the trace, as in the kernel
_MIN_DISTANCE = 1.0  # [m]; per-km figures of a vehicle that hardly moved are undefined
_RERUN_CHUNK = 256  # vehicles per recorded re-run (bounds the time-series memory)


@dataclass(frozen=True)
class Scenario:
    """What the vehicles are asked to do, and in which conditions.

    Scalars apply to every vehicle; arrays of shape (n,) give one value per
    vehicle.

    Attributes
    ----------
    cycle : Cycle
        Speed trace to follow (resampled to `time_step` if not uniform).
    ambient_temperature : float or ndarray
        [K], default 293.15.
    soc_start : float or ndarray
        [1], default 0.9.
    payload : float or ndarray
        Mass added to the test mass [kg], default 0.
    hvac : {"auto", "on", "off"}
        Climate control; ``auto`` runs it when ambient is outside 15-25 °C.
    solar_load : float
        Solar and occupant heat into the cabin [W].
    battery_temperature_start : float or ndarray, optional
        [K]; default: ambient (a soaked vehicle).
    time_step : float
        [s], default 1.
    """

    cycle: Cycle
    ambient_temperature: float | FloatArray = 293.15
    soc_start: float | FloatArray = 0.9
    payload: float | FloatArray = 0.0
    hvac: str = "auto"
    solar_load: float = 0.0
    battery_temperature_start: float | FloatArray | None = None
    time_step: float = 1.0

    def __post_init__(self) -> None:
        check("ambient_temperature", self.ambient_temperature, "ambient_temperature")
        check("state_of_charge", self.soc_start, "soc_start")
        check("payload", self.payload, "payload")
        if self.hvac not in HVAC_MODES:
            raise ValidationError("hvac", f"one of {', '.join(HVAC_MODES)}", self.hvac)
        if self.battery_temperature_start is not None:
            check("battery_temperature", self.battery_temperature_start, "battery_temperature_start")


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation returns: totals always, time series on request.

    Energies are in joules, the leading axis is the vehicle. ``breakdown``
    holds the causes that sum to ``battery_energy`` (chemical energy drawn:
    the integral of open-circuit voltage times current).
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

    def summary(self, i: int = 0) -> dict[str, Any]:
        """One vehicle's result as a JSON-ready dict (energies in Wh).

        ``wh_per_km`` is ``None`` when the vehicle hardly moved (less than
        1 m); ``trace_missed_reason`` is ``None`` when it followed the trace,
        else one of :data:`TRACE_MISSED_REASONS`; ``battery_empty_s`` is the
        time the battery became empty, or ``None``.
        """
        wh = 1 / 3600.0
        per_km = float(self.wh_per_km[i])
        assert self.battery_empty_time is not None and self.trace_missed_reason is not None
        empty = float(self.battery_empty_time[i])
        return {
            "vehicle": self.vehicle_names[i],
            "cycle": self.cycle_name,
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
            "battery_temperature_end_c": round(float(self.battery_temperature_end[i]) - 273.15, 3),
            "trace_missed_s": float(self.trace_missed_time[i]),
            "trace_missed_m": round(float(self.trace_missed_distance[i]), 2),
            "trace_missed_reason": self.trace_missed_reason[i],
            "battery_empty_s": empty if math.isfinite(empty) else None,
        }

    def to_frame(self) -> pd.DataFrame:
        """Totals of every vehicle as a table (energies in Wh)."""
        return pd.DataFrame([self.summary(i) for i in range(len(self))]).drop(columns="breakdown").join(
            pd.DataFrame({f"{k}_wh": v / 3600.0 for k, v in self.breakdown.items()})
        )

    def series_frame(self, i: int = 0) -> pd.DataFrame:
        """One vehicle's time series (SI units; temperatures in K)."""
        if self.series is None or self.time is None:
            raise ValidationError("record", "True when simulating, to keep time series", False)
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
        self.submodels = {**DEFAULT_SUBMODELS, **(submodels or {})}
        apply_submodels(np.zeros((0, len(P))), self.submodels)  # validate names now

    def simulate(
        self,
        vehicles: Sequence[VehicleSpec],
        scenario: Scenario,
        record: bool = False,
    ) -> SimulationResult:
        """Run every vehicle through the scenario (one code path for 1 or n)."""
        params, tables = stack_vehicles(vehicles)
        charger = np.array([v.charger_efficiency for v in vehicles])
        return self.simulate_parameters(params, tables, scenario, [v.name for v in vehicles], charger, record)

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
        """
        n = params.shape[0]
        params = _apply_scenario(params, scenario)
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
            charger_efficiency=np.broadcast_to(np.asarray(charger_efficiency, dtype=float), (n,)).copy(),
            time=cycle.time if record else None,
            series={s.name: series[:, s.value, :] for s in S} if record else None,
            battery_empty_time=empty_time,
            trace_missed_reason=reasons,
        )


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
        behind = (cycle.vehicle_speed - part[:, S.vehicle_speed, :]) > _MISS_TOLERANCE
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
    start = scenario.battery_temperature_start
    params[:, P.battery_temperature_start] = ambient if start is None else start
    params[:, P.solar_load] = scenario.solar_load
    if scenario.hvac == "auto":
        params[:, P.hvac_on] = ((ambient < _COMFORT_BAND[0]) | (ambient > _COMFORT_BAND[1])).astype(float)
    else:
        params[:, P.hvac_on] = 1.0 if scenario.hvac == "on" else 0.0
    return params


def simulate(
    vehicles: VehicleSpec | Sequence[VehicleSpec],
    scenario: Scenario,
    record: bool = False,
    submodels: dict[str, str] | None = None,
) -> SimulationResult:
    """Simulate one vehicle or many with the default model.

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
    specs = [vehicles] if isinstance(vehicles, VehicleSpec) else list(vehicles)
    return VehicleModel(submodels).simulate(specs, scenario, record)
