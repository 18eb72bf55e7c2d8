"""The design app's figures: designs simulated over every day of the problem, and a full-throttle run.

:func:`evaluate_designs` simulates any designs within the problem's bounds
(all at once, on the simulator's leading vehicle axis) and fills a
:class:`DesignResult`; the optimiser (:func:`twinloop.apps.design.optimise_design`)
calls it for every generation and for its answer.
"""

from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from twinloop.apps.design_candidate import KW, KWH, RPM, design_vehicle
from twinloop.apps.design_problem import (
    ACCELERATION_SOC,
    ACCELERATION_STEP,
    ACCELERATION_TARGET,
    DesignProblem,
)
from twinloop.errors import ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.physics.performance import gear_limited_speed, power_limited_speed, time_to_speed
from twinloop.sim import Scenario, simulate

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DESIGN_COLUMNS", "DesignResult", "evaluate_designs"]

FloatArray = npt.NDArray[np.float64]

DESIGN_COLUMNS = ("battery_kwh", "motor_kw", "gear_ratio", "test_mass_kg", "cost_usd", "acceleration_0_100_s",
                  "top_speed_kph", "wh_per_km", "coverage", "range_need_kwh", "trace_missed_s")
"""The columns of :meth:`DesignResult.to_frame`, in order."""


@dataclass(frozen=True)
class DesignResult:
    """Designs and their figures from the fleet simulator, one entry per design (leading axis).

    Attributes
    ----------
    problem : DesignProblem
        The problem the designs answer.
    battery_energy, motor_peak_power, gear_ratio : ndarray, shape (n,)
        The design choices: usable energy [J], peak power [W], ratio [1].
    test_mass : ndarray, shape (n,)
        [kg].
    cost : ndarray, shape (n,)
        [USD].
    acceleration_time : ndarray, shape (n,)
        0-100 km/h [s]; inf if not reached within the full-throttle run.
    top_speed : ndarray, shape (n,)
        [m s-1].
    consumption : ndarray, shape (n,)
        Wall energy over distance, all days together [J m-1].
    coverage : ndarray, shape (n,)
        Share of the days covered [1].
    range_need : ndarray, shape (n,)
        Battery energy [J] of the day at the share (the
        :attr:`DesignProblem.days_needed`-th least), winter margin included.
    day_energy, day_distance : ndarray, shape (n, D)
        Battery (chemical) energy [J] and distance [m] of each design on each day.
    trace_missed_time : ndarray, shape (n,)
        Time behind the traces of the covered days, together [s]: where the
        motor or the battery could not keep up (a day not covered may end
        with an empty battery, far behind; it counts in `coverage` instead).
    day_trace_missed_time : ndarray, shape (n, D)
        Time behind each day's trace [s], covered or not.
    day_names : tuple of str
        The days, in the order of the columns of `day_energy`.
    evaluations : int
        Designs the optimiser simulated (0 for :func:`evaluate_designs`).
    optimisation_time, simulation_time : float
        Wall time [s] of the search, and of simulating these designs again.
    seed, population, generations : int or None
        The optimiser's settings (None for :func:`evaluate_designs`).
    skipped_days : dict of str to str
        Days of the input left out, and why.
    """

    problem: DesignProblem
    battery_energy: FloatArray
    motor_peak_power: FloatArray
    gear_ratio: FloatArray
    test_mass: FloatArray
    cost: FloatArray
    acceleration_time: FloatArray
    top_speed: FloatArray
    consumption: FloatArray
    coverage: FloatArray
    range_need: FloatArray
    day_energy: FloatArray
    day_distance: FloatArray
    trace_missed_time: FloatArray
    day_trace_missed_time: FloatArray
    day_names: tuple[str, ...]
    evaluations: int = 0
    optimisation_time: float = 0.0
    simulation_time: float = 0.0
    seed: int | None = None
    population: int | None = None
    generations: int | None = None
    skipped_days: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.cost.size)

    @property
    def feasible(self) -> npt.NDArray[np.bool_]:
        """Whether each design meets the range share, the acceleration time and the top speed."""
        p = self.problem
        return ((self.coverage >= p.days_needed / len(p.days) - 1e-12)
                & (self.acceleration_time <= p.max_acceleration_time) & (self.top_speed >= p.min_top_speed))

    def specs(self) -> list[VehicleSpec]:
        """The designs as vehicle specs, as simulated (:func:`design_vehicle`)."""
        return _specs(self.problem, self.battery_energy, self.motor_peak_power, self.gear_ratio)

    def to_frame(self) -> pd.DataFrame:
        """One row per design, columns :data:`DESIGN_COLUMNS` (kWh, kW, kg, USD, s, km/h, Wh/km).

        Examples
        --------
        >>> from twinloop.cycles import load_cycle
        >>> from twinloop.parameters import resolve_vehicle
        >>> problem = DesignProblem(resolve_vehicle("vw_id3_pro_2020"), [load_cycle("udds")])
        >>> frame = evaluate_designs(problem, [58 * 3.6e6], [150e3], [11.53]).to_frame()
        >>> frame[["battery_kwh", "motor_kw", "coverage"]].to_dict("records")
        [{'battery_kwh': 58.0, 'motor_kw': 150.0, 'coverage': 1.0}]
        """
        import pandas as pd

        return pd.DataFrame({
            "battery_kwh": self.battery_energy / KWH,
            "motor_kw": self.motor_peak_power / KW,
            "gear_ratio": self.gear_ratio,
            "test_mass_kg": self.test_mass,
            "cost_usd": self.cost,
            "acceleration_0_100_s": self.acceleration_time,
            "top_speed_kph": self.top_speed * 3.6,
            "wh_per_km": self.consumption / 3.6,
            "coverage": self.coverage,
            "range_need_kwh": self.range_need / KWH,
            "trace_missed_s": self.trace_missed_time,
        }, columns=list(DESIGN_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """The designs, the inputs and the run, ready for JSON (SI inputs; inf and NaN as None)."""
        from twinloop import __version__

        p = self.problem
        inputs = {
            "vehicle": p.vehicle.name,
            "days": len(p.days),
            "share": p.share,
            "days_needed": p.days_needed,
            "battery_cost_per_kwh": p.battery_cost_per_kwh,
            "motor_cost_per_kw": p.motor_cost_per_kw,
            "battery_energy_bounds_kwh": [x / KWH for x in p.battery_energy_bounds],
            "motor_power_bounds_kw": [x / KW for x in p.motor_power_bounds],
            "gear_ratio_bounds": list(p.gear_ratio_bounds),
            "max_acceleration_time_s": p.max_acceleration_time,
            "min_top_speed_kph": p.min_top_speed * 3.6,
            "motor_max_speed_rpm": p.motor_max_speed / RPM,
            "reserve": p.reserve,
            "capacity_fade": p.capacity_fade,
            "winter_margin": p.winter_margin,
            "ambient_temperature_k": p.ambient_temperature,
            "specific_energy_wh_per_kg": p.specific_energy / 3600.0,
            "motor_specific_power_kw_per_kg": p.motor_specific_power / KW,
            "friction_coefficient": p.friction_coefficient,
            "cg_height_ratio": p.cg_height_ratio,
            "traction_acceleration_mps2": p.traction_acceleration,
            "objectives": list(p.objectives),
        }
        rows = [{k: _json_number(v) for k, v in row.items()} for row in self.to_frame().to_dict("records")]
        return {
            "designs": rows,
            "inputs": inputs,
            "day_names": list(self.day_names),
            "skipped_days": dict(self.skipped_days),
            "run": {"seed": self.seed, "population": self.population, "generations": self.generations,
                    "evaluations": self.evaluations, "optimisation_s": self.optimisation_time,
                    "simulation_s": self.simulation_time},
            "twinloop_version": __version__,
        }


def _json_number(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _specs(problem: DesignProblem, energy: FloatArray, power: FloatArray, ratio: FloatArray) -> list[VehicleSpec]:
    return [design_vehicle(problem.vehicle, float(e), float(p), float(g), specific_energy=problem.specific_energy,
                           motor_specific_power=problem.motor_specific_power)
            for e, p, g in zip(energy, power, ratio, strict=True)]


def _design_arrays(problem: DesignProblem, battery_energy: Any, motor_peak_power: Any,
                   gear_ratio: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    arrays = [np.atleast_1d(np.asarray(x, dtype=float)) for x in (battery_energy, motor_peak_power, gear_ratio)]
    if any(a.ndim != 1 for a in arrays) or len({a.size for a in arrays}) != 1:
        raise ValidationError("designs", "battery_energy, motor_peak_power and gear_ratio of one length",
                              [a.shape for a in arrays])
    names = ("battery_energy_bounds", "motor_power_bounds", "gear_ratio_bounds")
    scales = (KWH, KW, 1.0)
    for name, a, scale in zip(names, arrays, scales, strict=True):
        low, high = getattr(problem, name)
        outside = np.flatnonzero(~((a >= low * (1 - 1e-12)) & (a <= high * (1 + 1e-12))))
        if outside.size:
            raise ValidationError(name.removesuffix("_bounds"), f"values within [{low / scale:g}, {high / scale:g}]",
                                  float(a[outside[0]] / scale))
    return arrays[0], arrays[1], arrays[2]


def evaluate_designs(problem: DesignProblem, battery_energy: Any, motor_peak_power: Any, gear_ratio: Any) -> DesignResult:
    r"""Simulate designs over every day of the problem, and the full-throttle run.

    Parameters
    ----------
    problem : DesignProblem
        The base vehicle, days, prices and floors.
    battery_energy, motor_peak_power, gear_ratio : array_like, shape (n,)
        Usable battery energy [J], motor peak power [W], final-drive ratio
        [1] of each design, within the problem's bounds.

    Returns
    -------
    DesignResult
        Every figure from the simulator, one entry per design.

    Notes
    -----
    Every design is simulated at once on each day (leading vehicle axis),
    from a full battery, at the problem's ambient temperature. With
    :math:`E_{d}` a day's battery (chemical) energy, :math:`E` the usable
    energy, :math:`r` the reserve, :math:`f` the capacity fade and
    :math:`w` the winter margin, a day is covered when

    .. math:: E_d (1 + w) \le E (1 - r)(1 - f)

    (a battery that empties on the way never is). The range need is the
    :math:`k`-th least :math:`E_d (1 + w)`, :math:`k = \lceil s D \rceil` of
    :math:`D` days at share :math:`s`: the design covers the share exactly
    when its range need fits. The 0-100 km/h time comes from a
    full-throttle run in the simulator (0.1 s steps, climate off, state of
    charge 0.9) asked to follow the tyres' traction limit
    (:func:`~twinloop.physics.performance.traction_limited_acceleration`);
    the top speed is the lower of
    :func:`~twinloop.physics.performance.gear_limited_speed` and
    :func:`~twinloop.physics.performance.power_limited_speed`. The
    consumption is the wall energy of all days over their distance; the
    time behind the trace is summed over the covered days (a day not
    covered may end with an empty battery).
    """
    energy, power, ratio = _design_arrays(problem, battery_energy, motor_peak_power, gear_ratio)
    start = _time.perf_counter()
    specs = _specs(problem, energy, power, ratio)
    n, days = len(specs), problem.days
    day_energy = np.zeros((n, len(days)))
    day_distance = np.zeros((n, len(days)))
    wall = np.zeros(n)
    missed = np.zeros((n, len(days)))
    for j, day in enumerate(days):
        run = simulate(specs, Scenario(day, ambient_temperature=problem.ambient_temperature, soc_start=1.0))
        day_energy[:, j] = run.battery_energy
        day_distance[:, j] = run.distance
        wall += run.wall_energy
        missed[:, j] = run.trace_missed_time
    sprint = simulate(specs, Scenario(problem.acceleration_run(), ambient_temperature=problem.ambient_temperature,
                                      soc_start=ACCELERATION_SOC, hvac="off", time_step=ACCELERATION_STEP),
                      record=True)
    assert sprint.series is not None and sprint.time is not None
    acceleration = np.asarray(time_to_speed(sprint.time, sprint.series["vehicle_speed"], ACCELERATION_TARGET))
    coast = np.array([s.effective_coastdown for s in specs]).reshape(n, 3)
    top = np.minimum(
        gear_limited_speed(problem.motor_max_speed, ratio, np.array([s.wheel_radius for s in specs])),
        power_limited_speed(power, coast[:, 0], coast[:, 1], coast[:, 2],
                            np.array([s.gearbox_efficiency for s in specs])),
    )
    needed = day_energy * (1 + problem.winter_margin)
    covered = needed <= energy[:, None] * (1 - problem.reserve) * (1 - problem.capacity_fade)
    k = problem.days_needed
    return DesignResult(
        problem=problem,
        battery_energy=energy,
        motor_peak_power=power,
        gear_ratio=ratio,
        test_mass=np.array([s.test_mass for s in specs]),
        cost=problem.cost(energy, power),
        acceleration_time=acceleration,
        top_speed=np.asarray(top, dtype=float),
        consumption=wall / np.maximum(day_distance.sum(axis=1), 1.0),
        coverage=covered.mean(axis=1) if n else np.zeros(0),
        range_need=np.sort(needed, axis=1)[:, k - 1] if n else np.zeros(0),
        day_energy=day_energy,
        day_distance=day_distance,
        trace_missed_time=np.where(covered, missed, 0.0).sum(axis=1),
        day_trace_missed_time=missed,
        day_names=tuple(d.name for d in days),
        simulation_time=_time.perf_counter() - start,
    )
