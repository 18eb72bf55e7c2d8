"""Training sets for consumption models, made by the twinloop simulator."""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import ValidationError
from twinloop.learn.features import FEATURES, TARGET, trip_features
from twinloop.parameters.spec import VehicleSpec
from twinloop.quantities import check
from twinloop.sim.model import Scenario, simulate

__all__ = ["simulated_trips", "split_trace"]

INDEX = ("trace", "segment", "ambient_temperature", "road_grade")
"""Levels of the index of :func:`simulated_trips` tables."""


def split_trace(cycle: Cycle, segment_duration: float, min_fraction: float = 0.5) -> list[Cycle]:
    """Cut a trace into consecutive segments of about `segment_duration`.

    Parameters
    ----------
    cycle : Cycle
        The trace.
    segment_duration : float
        [s], > 0.
    min_fraction : float
        A last segment shorter than this share of `segment_duration` is
        merged into the one before [1].

    Returns
    -------
    list of Cycle
        Segments named ``"<name>[i]"``, each starting at its own time.

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> [len(s.time) for s in split_trace(load_cycle("hwfet"), 350.0)]
    [351, 416]
    """
    if not isinstance(cycle, Cycle):
        raise ValidationError(
            "cycle", "a Cycle", cycle if isinstance(cycle, str) else type(cycle).__name__,
            hint="twinloop.cycles.load_cycle(name) loads one.",
        )
    if isinstance(segment_duration, bool) or not isinstance(segment_duration, int | float | np.number) or not segment_duration > 0:
        raise ValidationError("segment_duration", "a number > 0 s", segment_duration)
    t = cycle.time
    edges = [*np.arange(t[0], t[-1], segment_duration), t[-1]]
    if len(edges) > 2 and edges[-1] - edges[-2] < min_fraction * segment_duration:
        del edges[-2]
    pieces = []
    for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
        keep = (t >= lo) & (t <= hi)
        pieces.append(
            Cycle(f"{cycle.name}[{i}]", t[keep], cycle.vehicle_speed[keep], cycle.road_grade[keep], cycle.source)
        )
    return [p for p in pieces if p.time.size >= 2 and p.distance > 0]


def simulated_trips(
    spec: VehicleSpec,
    traces: Sequence[Cycle | str],
    ambient_temperatures: Sequence[float] = (293.15,),
    road_grades: Sequence[float] = (0.0,),
    segment_duration: float | None = None,
    hvac: str = "auto",
    soc_start: float = 0.9,
) -> tuple[pd.DataFrame, pd.Series]:
    """Simulate trips and tabulate their features and battery energy per distance.

    Every trace (or every segment of it) is driven at every ambient
    temperature and every constant road grade added to the trace's own.

    Parameters
    ----------
    spec : VehicleSpec
        The vehicle.
    traces : sequence of Cycle or str
        Speed traces, or names of bundled cycles (see
        :func:`twinloop.cycles.bundled_cycles`).
    ambient_temperatures : sequence of float
        [K], each in 223.15 to 333.15 K.
    road_grades : sequence of float
        Grades added to each trace's own [1], rise over run, each in
        -0.35 to 0.35 (0.05 for 5 %).
    segment_duration : float, optional
        Cut each trace into trips of about this long [s], > 0 (see
        :func:`split_trace`); default: one trip per trace.
    hvac : {"auto", "on", "off"}
        Climate control, see :class:`~twinloop.sim.Scenario`.
    soc_start : float
        [1].

    Returns
    -------
    X : DataFrame
        One row per trip, the columns of
        :data:`~twinloop.learn.features.FEATURES` (features of the speed the
        vehicle achieved), indexed by :data:`INDEX`.
    y : Series
        Battery (chemical) energy per achieved distance [J m-1], named
        :data:`~twinloop.learn.features.TARGET`.

    Raises
    ------
    ValidationError
        `spec` is not a VehicleSpec, `traces` is not a sequence of traces
        (a lone name is refused), a temperature or grade is out of range, or
        `segment_duration` is not > 0.
    UnknownNameError
        A trace name is not a bundled cycle.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> X, y = simulated_trips(resolve_vehicle("nissan_leaf_40kwh_2018"), ["udds", "hwfet"],
    ...                        ambient_temperatures=[268.15, 293.15])
    >>> X.shape, bool(y.loc["udds"].iloc[0] > y.loc["udds"].iloc[1])
    ((4, 15), True)
    """
    if not isinstance(spec, VehicleSpec):
        raise ValidationError(
            "spec", "a VehicleSpec", spec if isinstance(spec, str) else type(spec).__name__,
            hint="twinloop.parameters.resolve_vehicle(name) loads one; `twinloop vehicle list` names them.",
        )
    cycles = _cycles(traces)
    temperatures = _sequence("ambient_temperatures", ambient_temperatures, "ambient_temperature")
    grades = _sequence("road_grades", road_grades, "road_grade")
    trips = [s for c in cycles for s in (split_trace(c, segment_duration) if segment_duration is not None else [c])]
    # One simulation per trip and grade; the temperatures ride the fleet axis.
    fleet = [spec] * temperatures.size
    rows: list[dict[str, float]] = []
    targets: list[float] = []
    index: list[tuple[str, int, float, float]] = []
    for trip in trips:
        trace_name, _, rest = trip.name.partition("[")
        segment = int(rest.rstrip("]")) if rest else 0
        for grade in grades:
            cycle = Cycle(trip.name, trip.time, trip.vehicle_speed, trip.road_grade + grade, trip.source)
            result = simulate(fleet, Scenario(cycle, ambient_temperature=temperatures, hvac=hvac, soc_start=soc_start), record=True)
            assert result.time is not None and result.series is not None
            for i, temperature in enumerate(temperatures):
                speed = result.series["vehicle_speed"][i]
                grade_at = np.interp(result.time, cycle.time, cycle.road_grade)
                rows.append(trip_features(result.time, speed, grade_at, float(temperature)))
                targets.append(float(result.battery_energy[i] / result.distance[i]))
                index.append((trace_name, segment, float(temperature), float(grade)))
    idx = pd.MultiIndex.from_tuples(index, names=list(INDEX))
    X = pd.DataFrame(rows, columns=list(FEATURES), index=idx)
    return X, pd.Series(targets, index=idx, name=TARGET)


def _cycles(traces: Sequence[Cycle | str]) -> list[Cycle]:
    """The traces as cycles; a lone name or Cycle is refused (a name would be read letter by letter)."""
    if isinstance(traces, str | Cycle) or not isinstance(traces, Sequence):
        raise ValidationError(
            "traces", "a sequence of bundled cycle names or Cycle objects",
            traces if isinstance(traces, str) else type(traces).__name__, hint=f"Pass [{traces!r}] for one trace."
            if isinstance(traces, str) else None,
        )
    if not traces:
        raise ValidationError("traces", "at least one trace", "none")
    for i, trace in enumerate(traces):
        if not isinstance(trace, str | os.PathLike | Cycle):
            raise ValidationError(f"traces[{i}]", "a bundled cycle name, CSV path or Cycle", type(trace).__name__)
    return [t if isinstance(t, Cycle) else load_cycle(t) for t in traces]


def _sequence(field: str, values: Sequence[float], quantity: str) -> npt.NDArray[np.float64]:
    """A non-empty 1-D sequence of numbers in the glossary range of `quantity`."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(field, "a non-empty 1-D sequence of numbers", values) from None
    if array.ndim != 1 or array.size == 0:
        raise ValidationError(field, "a non-empty 1-D sequence of numbers", values, hint=f"Pass [{values!r}] for one value." if array.ndim == 0 else None)
    try:
        return check(quantity, array, field)
    except ValidationError as exc:
        if quantity != "road_grade":
            raise
        raise ValidationError(field, exc.expected, exc.received, hint="Grades are rise over run: 0.05 for 5 %.") from None
