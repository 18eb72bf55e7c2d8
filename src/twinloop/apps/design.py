r"""Design optimisation: the battery, motor and gear that a fleet's real days ask for, at least cost.

A fleet's days, recorded as speed traces, say what its vehicles must do:
how far they go in a day, and how. This app varies three design choices of
a base vehicle (usable battery energy, motor peak power, final-drive ratio)
and asks, for each candidate, what it costs and what it can do:

- **cost** of the pack and the drive unit, at a price per kWh and per kW;
- **range need**: each day is driven by the candidate in the fleet
  simulator (:func:`twinloop.sim.simulate`, every candidate at once on the
  leading vehicle axis), from a full battery; a day is *covered* when its
  battery energy, with a winter margin, fits in the usable energy left
  after a reserve and end-of-life capacity fade. The candidate must cover
  a chosen share of the days;
- **performance floor**: a full-throttle run from standstill in the same
  simulator (torque, power and battery limits), asked to follow the
  traction-limited acceleration of the tyres, gives the 0-100 km/h time;
  the top speed is the lower of the motor's speed limit through the gear
  and the speed where the peak power balances the road load.

The candidate's mass follows its battery (pack specific energy) and motor
(drive-unit specific power), so a bigger pack costs energy on every day as
well as money. NSGA-II [1]_ (pymoo [2]_) searches the bounds for the
designs where no objective can improve without another getting worse;
every such Pareto-optimal design is then simulated again over all days and
the result reports those figures, not the optimiser's.

This module is the app's face and its search (:func:`optimise_design`); the
parts live beside it: :mod:`~twinloop.apps.design_days` (the days),
:mod:`~twinloop.apps.design_candidate` (the candidate vehicle, the default
prices and specific figures), :mod:`~twinloop.apps.design_problem` (the
problem and the objectives) and :mod:`~twinloop.apps.design_evaluate` (the
figures from the simulator).

References
----------
.. [1] Deb, K., Pratap, A., Agarwal, S. and Meyarivan, T. (2002). A fast and
   elitist multiobjective genetic algorithm: NSGA-II. IEEE Transactions on
   Evolutionary Computation 6(2), 182-197. doi:10.1109/4235.996017
.. [2] Blank, J. and Deb, K. (2020). pymoo: Multi-Objective Optimization in
   Python. IEEE Access 8, 89497-89509. doi:10.1109/ACCESS.2020.2990567
.. [3] BloombergNEF (2024). Lithium-ion battery pack prices: volume-weighted
   average USD 115/kWh (battery price survey, December 2024).
.. [4] U.S. DRIVE (2013). Electrical and Electronics Technical Team Roadmap:
   2020 targets for the electric traction drive system, USD 8/kW;
   motor 1.6 kW/kg, power electronics 14.1 kW/kg.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.apps.design_candidate import BATTERY_COST_PER_KWH as BATTERY_COST_PER_KWH
from twinloop.apps.design_candidate import KW, KWH, design_vehicle
from twinloop.apps.design_candidate import MOTOR_COST_PER_KW as MOTOR_COST_PER_KW
from twinloop.apps.design_candidate import MOTOR_SPECIFIC_POWER as MOTOR_SPECIFIC_POWER
from twinloop.apps.design_candidate import PACK_SPECIFIC_ENERGY as PACK_SPECIFIC_ENERGY
from twinloop.apps.design_candidate import RPM as RPM
from twinloop.apps.design_days import (
    MIN_DAY_DISTANCE,
    PARKED_AFTER,
    FleetDays,
    driven_day,
    read_days,
)
from twinloop.apps.design_evaluate import DESIGN_COLUMNS, DesignResult, evaluate_designs
from twinloop.apps.design_problem import ACCELERATION_TARGET, OBJECTIVES, DesignProblem, Objective
from twinloop.errors import ValidationError, Verbatim

__all__ = [
    "ACCELERATION_TARGET",
    "DESIGN_COLUMNS",
    "MIN_DAY_DISTANCE",
    "OBJECTIVES",
    "PARKED_AFTER",
    "DesignProblem",
    "DesignResult",
    "FleetDays",
    "Objective",
    "design_vehicle",
    "driven_day",
    "evaluate_designs",
    "optimise_design",
    "read_days",
]

FloatArray = npt.NDArray[np.float64]


def _objective_values(result: DesignResult, names: Sequence[str]) -> FloatArray:
    columns = {"cost": result.cost, "acceleration_time": np.minimum(result.acceleration_time, 1e3),
               "consumption": result.consumption}
    return np.column_stack([columns[n] for n in names])


def _constraint_values(result: DesignResult) -> FloatArray:
    """pymoo's inequality constraints (<= 0 is met), each relative to its limit."""
    p = result.problem
    usable = result.battery_energy * (1 - p.reserve) * (1 - p.capacity_fade)
    return np.column_stack([
        (result.range_need - usable) / usable,
        (np.minimum(result.acceleration_time, 1e3) - p.max_acceleration_time) / p.max_acceleration_time,
        (p.min_top_speed - result.top_speed) / max(p.min_top_speed, 1.0),
    ])


def _infeasible(problem: DesignProblem, archive: DesignResult) -> ValidationError:
    """Which constraint no design met, and the best any reached."""
    p = problem
    need = p.days_needed / len(p.days)
    best_cover = int(np.argmax(archive.coverage))
    fastest = int(np.argmin(archive.acceleration_time))
    top = int(np.argmax(archive.top_speed))
    kwh, kw = archive.battery_energy / KWH, archive.motor_peak_power / KW
    if archive.coverage[best_cover] < need - 1e-12:
        return ValidationError(
            "share", f"a share of days the designs within the bounds can cover (<= {archive.coverage[best_cover]:g})",
            p.share, hint=f"No design covered {p.days_needed} of the {len(p.days)} days; the best covered "
                          f"{archive.coverage[best_cover]:.0%} ({kwh[best_cover]:.0f} kWh). Raise the upper "
                          "`battery_energy_bounds`, or lower the share, the reserve or the margins")
    if archive.acceleration_time[fastest] > p.max_acceleration_time:
        reached = archive.acceleration_time[fastest]
        return ValidationError(
            "max_acceleration_time", "a 0-100 km/h time the designs within the bounds can reach "
            f"(>= {reached:.2f} s)", p.max_acceleration_time,
            hint=f"The fastest design took {reached:.2f} s ({kw[fastest]:.0f} kW, ratio "
                 f"{archive.gear_ratio[fastest]:.2f}) and the tyres' grip alone takes "
                 f"{ACCELERATION_TARGET / p.traction_acceleration:.2f} s; raise the upper `motor_power_bounds` "
                 "or allow a slower time")
    if archive.top_speed[top] < p.min_top_speed:
        return ValidationError(
            "min_top_speed", f"a top speed the designs within the bounds reach (<= {archive.top_speed[top] * 3.6:.1f} "
            "km/h)", Verbatim(f"{p.min_top_speed * 3.6:g} km/h"),
            hint="Lower the `gear_ratio_bounds` or raise `motor_max_speed`")
    return ValidationError(
        "share", "constraints that one design can meet together", p.share,
        hint=f"Each constraint alone was met, never all at once: the best coverage {archive.coverage[best_cover]:.0%}, "
             f"the fastest 0-100 km/h {archive.acceleration_time[fastest]:.2f} s, the top speed "
             f"{archive.top_speed[top] * 3.6:.0f} km/h; widen the bounds or relax `max_acceleration_time`")


def _concatenate(results: Sequence[DesignResult]) -> DesignResult:
    arrays: dict[str, Any] = {name: np.concatenate([getattr(r, name) for r in results]) for name in (
        "battery_energy", "motor_peak_power", "gear_ratio", "test_mass", "cost", "acceleration_time", "top_speed",
        "consumption", "coverage", "range_need", "day_energy", "day_distance", "trace_missed_time",
        "day_trace_missed_time")}
    return replace(results[0], **arrays)


def optimise_design(
    problem: DesignProblem,
    *,
    population: int = 40,
    generations: int = 60,
    seed: int = 0,
    max_designs: int = 15,
    progress: Callable[[int, int], None] | None = None,
    skipped_days: dict[str, str] | None = None,
) -> DesignResult:
    """The Pareto-optimal designs of `problem`, each simulated again over every day.

    Parameters
    ----------
    problem : DesignProblem
        What to design, for which days, at which prices, under which floors.
    population : int
        NSGA-II population, >= 4; default 40.
    generations : int
        NSGA-II generations, >= 1; default 60.
    seed : int
        Random seed, >= 0: the same seed gives the same designs.
    max_designs : int
        Most designs returned, >= 2, default 15: a front of more is thinned
        to designs evenly spaced along it (by rank in the first objective,
        both ends kept).
    progress : callable, optional
        Called as ``progress(done, total)`` after each generation.
    skipped_days : dict, optional
        Days left out of the problem and why (from :func:`read_days`), kept in the result.

    Returns
    -------
    DesignResult
        The feasible designs no other evaluated design beats in every
        objective, sorted by the first objective, with the figures of a
        fresh simulation (:func:`evaluate_designs`).

    Raises
    ------
    ValidationError
        For a population, generation count or seed out of range; and when
        no evaluated design meets every constraint, naming the constraint
        none met (``share``, ``max_acceleration_time``, ``min_top_speed``)
        and the best any design reached.

    Notes
    -----
    NSGA-II [1]_ from pymoo [2]_ minimises the problem's objectives under
    three constraints, each written relative to its limit: range need
    within the usable energy, 0-100 km/h time within the limit, top speed
    above the floor. Every design it evaluates is kept; the answer is the
    non-dominated set of the feasible ones among all of them (thinned to
    `max_designs`).
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.callback import Callback
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    for name, value, low in (("population", population, 4), ("generations", generations, 1), ("seed", seed, 0),
                             ("max_designs", max_designs, 2)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValidationError(name, f"an integer >= {low}", value)
    if not isinstance(problem, DesignProblem):
        raise ValidationError("problem", "a DesignProblem", type(problem).__name__)
    archive: list[DesignResult] = []
    bounds = np.array([problem.battery_energy_bounds, problem.motor_power_bounds, problem.gear_ratio_bounds])
    scale = np.array([KWH, KW, 1.0])  # the search runs in kWh, kW and ratio: variables of like size

    class _Search(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=3, n_obj=len(problem.objectives), n_ieq_constr=3,
                             xl=bounds[:, 0] / scale, xu=bounds[:, 1] / scale)

        def _evaluate(self, x: FloatArray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            x = np.clip(x * scale, bounds[:, 0], bounds[:, 1])
            result = evaluate_designs(problem, x[:, 0], x[:, 1], x[:, 2])
            archive.append(result)
            out["F"] = _objective_values(result, problem.objectives)
            out["G"] = _constraint_values(result)

    class _Progress(Callback):
        def notify(self, algorithm: Any) -> None:
            if progress is not None:
                progress(int(algorithm.n_gen), generations)

    start = _time.perf_counter()
    minimize(_Search(), NSGA2(pop_size=population, eliminate_duplicates=True), ("n_gen", generations),
             seed=int(seed), callback=_Progress(), verbose=False)
    searched = _time.perf_counter() - start
    everything = _concatenate(archive)
    ok = np.flatnonzero(everything.feasible)
    if not ok.size:
        raise _infeasible(problem, everything)
    x = np.column_stack([everything.battery_energy, everything.motor_peak_power, everything.gear_ratio])[ok]
    x, first = np.unique(x, axis=0, return_index=True)
    objectives = _objective_values(everything, problem.objectives)[ok][first]
    front = NonDominatedSorting().do(objectives, only_non_dominated_front=True)
    order = front[np.lexsort(objectives[front].T[::-1])]
    if order.size > max_designs:
        order = order[np.unique(np.round(np.linspace(0, order.size - 1, max_designs)).astype(int))]
    result = evaluate_designs(problem, x[order, 0], x[order, 1], x[order, 2])
    return replace(result, evaluations=len(everything), optimisation_time=searched, seed=int(seed),
                   population=int(population), generations=int(generations), skipped_days=dict(skipped_days or {}))

