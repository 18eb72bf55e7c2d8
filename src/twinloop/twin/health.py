"""The battery's health from the twin's stored trips: capacity, state of health, fade and resistance.

:func:`stretch_capacities` joins a vehicle's trips into discharge stretches
and counts charge against the state-of-charge swing over each
(:mod:`twinloop.battery.soh` does the estimation); :func:`health_from_store`
tracks the capacity, its fade and the resistance from them, and the health
app (:mod:`twinloop.apps.health`) builds its trend on the same stretches.

Signals read (VSS paths, SI in the store; :mod:`twinloop.signals.vss`):
battery current and voltage, ``Vehicle.Powertrain.TractionBattery.StateOfCharge.Current``
(state of charge [1]), speed and, when stored, the odometer.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.battery.soh import (
    HealthTrack,
    SensorNoise,
    health_track,
    pack_capacity,
    pack_resistance,
)
from twinloop.errors import CalibrationError, DataError, ValidationError
from twinloop.signals.vss import CURRENT, ODOMETER, SOC, SPEED, VOLTAGE
from twinloop.twin.samples import US, Skip, seconds_since, signal_samples, stored_trips

if TYPE_CHECKING:
    from twinloop.twin.lifecycle import Twin

__all__ = [
    "CHARGE_RISE",
    "StretchCapacities",
    "StretchCapacity",
    "TripFrame",
    "health_from_store",
    "stretch_capacities",
]

#: Rise of the state of charge between two trips [1] above which the pack was charged in between.
CHARGE_RISE = 0.005

#: Float slack on comparisons with CHARGE_RISE, so that one 0.5 % step is never "more than" it.
_RISE_SLACK = 1e-9

#: The signals every trip is read with; a caller of :func:`stretch_capacities` may ask for more.
_SIGNALS = (CURRENT, VOLTAGE, SOC, SPEED, ODOMETER)


@dataclass(frozen=True)
class StretchCapacity:
    """The capacity counted over one discharge stretch.

    Attributes
    ----------
    start, end : datetime
        The first and last time counted through (aware UTC).
    distance : float
        Where the stretch ended [m]: the odometer, carried over trips
        without one by the distance driven (see :func:`stretch_capacities`).
    capacity, standard_error : float
        [A s].
    """

    start: datetime
    end: datetime
    distance: float
    capacity: float
    standard_error: float


@dataclass(frozen=True)
class TripFrame:
    """One trip as :func:`stretch_capacities` read it, for its `each_trip` callback.

    Attributes
    ----------
    start, end : datetime
        The trip (aware UTC).
    frame : pandas.DataFrame
        Its samples (SI), one column per signal read, indexed by time.
    distance : float
        Distance driven on the trip [m], from the speed samples (gaps over
        `max_gap` left out); 0 with fewer than two.
    """

    start: datetime
    end: datetime
    frame: pd.DataFrame
    distance: float


@dataclass(frozen=True)
class StretchCapacities:
    """The capacities of a run of trips' discharge stretches, and what was left out.

    Attributes
    ----------
    points : tuple of StretchCapacity
        One per stretch that gives a capacity, oldest first.
    skipped : dict of str to int
        How many trips or stretches were left out, by reason: ``"no soc"``,
        ``"no current"``, ``"gap"`` (trips); ``"swing"``, ``"stuck"``,
        ``"invalid soc"`` (stretches). Reasons that never occurred are absent.
    largest_swing : float
        Largest state-of-charge swing [1] among the stretches left out for too small a swing.
    rejected : tuple of str
        The messages of the stretches whose state of charge could not be
        used (``"stuck"`` and ``"invalid soc"``), in order.
    """

    points: tuple[StretchCapacity, ...]
    skipped: dict[str, int]
    largest_swing: float
    rejected: tuple[str, ...]


@dataclass(frozen=True)
class _TripCharge:
    """One usable trip: its state of charge, time window and its position among the trips read."""

    soc: npt.NDArray[np.float64]
    start: datetime
    end: datetime
    index: int


def _trip_charge(frame: pd.DataFrame, start: datetime, end: datetime, max_gap: float, index: int) -> _TripCharge:
    """The trip if its current covers its SoC samples without gaps; Skip when unusable."""
    ts, soc = signal_samples(frame, SOC, start)
    if ts.size < 2:
        raise Skip("no soc", f"{ts.size} samples of {SOC}")
    ti, _current = signal_samples(frame, CURRENT, start)
    inside = (ti >= ts[0]) & (ti <= ts[-1])
    if inside.sum() < 2:
        raise Skip("no current", f"{int(inside.sum())} samples of {CURRENT} between the first and last {SOC}")
    edges = np.concatenate([[ts[0]], ti[inside], [ts[-1]]])
    if np.diff(edges).max() > max_gap:
        raise Skip("gap", f"gap of {np.diff(edges).max():.0f} s in {CURRENT} (limit {max_gap:g} s)")
    return _TripCharge(soc, start, end, index)


def _positions(odometer: npt.NDArray[np.float64], driven: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Where each trip ended on one axis [m]: the odometer, carried over trips without one by the distance driven.

    A trip without an odometer reading takes the last reading before it plus
    the distance driven since (or the first reading after it minus the
    distance driven until then); with no reading at all, the distance driven.

    Examples
    --------
    >>> _positions(np.array([1000.0, np.nan, 1500.0]), np.array([10.0, 110.0, 510.0])).tolist()
    [1000.0, 1100.0, 1500.0]
    >>> _positions(np.array([np.nan, 2000.0]), np.array([5.0, 25.0])).tolist()
    [1980.0, 2000.0]
    """
    known = np.flatnonzero(np.isfinite(odometer))
    if known.size == 0:
        return driven.copy()
    idx = np.arange(odometer.size)
    before = np.searchsorted(known, idx, side="right") - 1  # last reading at or before each trip
    anchor = known[np.where(before >= 0, before, 0)]
    return odometer[anchor] + driven - driven[anchor]


def _stretches(trips: list[_TripCharge | None]) -> list[list[_TripCharge]]:
    """Runs of consecutive usable trips with no charging between them (the SoC does not rise).

    A trip that itself charges (a logged charging session) is a stretch of
    its own: coulomb counting works on charges too, and merging it with the
    drives around it would leave only their net swing.
    """
    runs: list[list[_TripCharge]] = []
    for trip in trips:
        if trip is None:
            runs.append([])
            continue
        charging = trip.soc[-1] > trip.soc[0] + CHARGE_RISE + _RISE_SLACK
        if charging:  # a logged charge: a stretch of its own, and the next trip starts afresh
            runs += [[trip], []]
        elif runs and runs[-1] and trip.soc[0] <= runs[-1][-1].soc[-1] + CHARGE_RISE + _RISE_SLACK:
            runs[-1].append(trip)
        else:
            runs.append([trip])
    return [r for r in runs if r]


def _stretch_series(
    frame: pd.DataFrame, origin: datetime, max_gap: float
) -> list[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    """Time, current and SoC over a stretch, split where it cannot be counted through.

    Every stored sample is used. Across a logging gap (no current sample for
    longer than `max_gap`: the vehicle was off) no current flows, so the
    series is cut there when the state of charge moved by more than
    :data:`CHARGE_RISE` across it (charged, or corrected by the BMS, off the record).
    """
    ts, soc = signal_samples(frame, SOC, origin)
    ti, current = signal_samples(frame, CURRENT, origin)
    inside = (ti >= ts[0]) & (ti <= ts[-1])
    ti, current = ti[inside], current[inside]
    edges = np.concatenate([[ts[0]], ti, [ts[-1]]])
    gaps = np.flatnonzero(np.diff(edges) > max_gap)
    eps = 1e-3
    t = np.union1d(np.union1d(ts, ti), np.concatenate([edges[gaps] + eps, edges[gaps + 1] - eps]))
    i = np.interp(t, ti, current) if ti.size else np.zeros_like(t)
    z = np.interp(t, ts, soc)
    cuts = [0]
    for g in gaps:
        quiet = (t > edges[g]) & (t < edges[g + 1])
        i[quiet] = 0.0
        before, after = np.interp([edges[g], edges[g + 1]], ts, soc)
        if abs(after - before) > CHARGE_RISE + _RISE_SLACK:
            cuts += [int(np.searchsorted(t, edges[g], side="right")), int(np.searchsorted(t, edges[g + 1]))]
    cuts.append(t.size)
    return [(t[lo:hi], i[lo:hi], z[lo:hi]) for lo, hi in zip(cuts[::2], cuts[1::2], strict=True) if hi - lo >= 2]


def stretch_capacities(
    twin: Twin,
    trips: Sequence[Mapping[str, Any]],
    *,
    min_soc_swing: float = 0.1,
    noise: SensorNoise | None = None,
    max_gap: float = 10.0,
    signals: Sequence[str] = (),
    each_trip: Callable[[TripFrame], None] | None = None,
) -> StretchCapacities:
    """The capacity of each discharge stretch of `trips`, reading each trip once.

    The trips are joined into discharge stretches: runs of consecutive trips
    with no charging between them (the state of charge at a trip's start not
    above the previous trip's end by more than :data:`CHARGE_RISE`; no
    current is assumed to flow with the key off); a trip that charges is a
    stretch of its own. Over each stretch the charge drawn is counted
    against the state-of-charge swing (:func:`twinloop.battery.soh.pack_capacity`;
    current interpolated onto the union of both signals' times). Trips with a
    gap over `max_gap` [s] in the current, and stretches whose swing is
    below `min_soc_swing` or whose state of charge is stuck, are left out and
    counted by reason. A stretch's distance is the stored odometer at its
    end, else the distance of the speed samples summed from the first trip.

    Parameters
    ----------
    twin : Twin
    trips : sequence of dict
        Stored trip rows (:func:`twinloop.twin.samples.stored_trips`), oldest
        first, at least one; times aware UTC.
    min_soc_swing, noise, max_gap
        As :func:`health_from_store`.
    signals : sequence of str
        VSS paths to read with each trip besides current, voltage, state of
        charge, speed and odometer.
    each_trip : callable, optional
        Called with each trip's :class:`TripFrame`, in order, as it is read:
        a caller that needs more of each trip reads nothing twice.

    Returns
    -------
    StretchCapacities
    """
    noise = SensorNoise() if noise is None else noise
    store, vin = twin.store, twin.vin
    rated = twin.record.spec.battery_capacity
    columns = list(dict.fromkeys([*_SIGNALS, *signals]))
    distance = 0.0
    driven: list[float] = []  # distance driven from the first trip read to each trip's end [m]
    odometer: list[float] = []  # the odometer at each trip's end [m], NaN when not reported
    charges: list[_TripCharge | None] = []
    skipped: Counter[str] = Counter()
    for trip in trips:
        start, end = trip["start_time"], trip["end_time"]
        frame = store.read_frame(vin, columns, start, end + US)
        driven_here = 0.0
        if frame[SPEED].notna().sum() >= 2:
            t, v = signal_samples(frame, SPEED, start)
            dt = np.diff(t)
            driven_here = float((0.5 * (v[1:] + v[:-1]) * dt)[dt <= max_gap].sum())
            distance += driven_here
        driven.append(distance)
        odometer.append(float(frame[ODOMETER].dropna().iloc[-1]) if frame[ODOMETER].notna().any() else math.nan)
        if each_trip is not None:
            each_trip(TripFrame(start, end, frame, driven_here))
        try:
            charges.append(_trip_charge(frame, start, end, max_gap, len(charges)))
        except Skip as skip:
            skipped[skip.kind] += 1
            charges.append(None)
    position = _positions(np.array(odometer), np.array(driven))
    points: list[StretchCapacity] = []
    rejected: list[str] = []
    largest_swing = 0.0
    origin = trips[0]["start_time"]
    for run in _stretches(charges):
        frame = store.read_frame(vin, [CURRENT, SOC], run[0].start, run[-1].end + US)
        for t, current, soc in _stretch_series(frame, origin, max_gap):
            try:
                est = pack_capacity(t, current, soc, min_soc_swing=min_soc_swing, noise=noise, rated_capacity=rated)
            except CalibrationError:
                skipped["swing"] += 1
                largest_swing = max(largest_swing, float(abs(soc[0] - soc[-1])))
                continue
            except DataError as exc:
                skipped["stuck" if "stuck" in str(exc) else "invalid soc"] += 1
                rejected.append(str(exc))
                continue
            points.append(StretchCapacity(
                origin + timedelta(seconds=float(t[0])), origin + timedelta(seconds=float(t[-1])),
                float(position[run[-1].index]), est.capacity, est.standard_error,
            ))
    return StretchCapacities(tuple(points), dict(skipped), largest_swing, tuple(rejected))


def health_from_store(
    twin: Twin,
    *,
    last_trips: int = 50,
    min_soc_swing: float = 0.1,
    noise: SensorNoise | None = None,
    max_gap: float = 10.0,
    min_current_step: float = 20.0,
) -> HealthTrack:
    """Track the battery's capacity, state of health, fade and resistance from stored trips.

    The capacity of each discharge stretch of the vehicle's `last_trips`
    latest trips (:func:`stretch_capacities`; short trips add up to a usable
    swing) over distance gives the capacity now and its fade
    (:func:`twinloop.battery.soh.health_track`) against the twin's rated
    capacity (``spec.battery_capacity``: rated energy / nominal voltage).
    Trips with a gap over `max_gap` [s] in the current, and stretches whose
    swing is below `min_soc_swing` or whose state of charge is stuck, are
    left out. The resistance comes from the current steps of all those trips
    at the times where current and voltage were both sampled
    (:func:`twinloop.battery.soh.pack_resistance`); None when there are too few.

    Returns
    -------
    HealthTrack

    Raises
    ------
    DataError
        No trips, or no trip with state-of-charge samples.
    CalibrationError
        No trip gives a capacity: the message counts the trips per reason
        (swings too small, with the largest found; stuck; gaps).
    UnknownNameError
        If the store has no vehicle `vin`.
    """
    if isinstance(last_trips, bool) or not isinstance(last_trips, int) or last_trips < 1:
        raise ValidationError("last_trips", "an integer >= 1", last_trips)
    vin = twin.vin
    rated = twin.record.spec.battery_capacity
    trips = stored_trips(twin.store, vin)[-last_trips:]
    if not trips:
        raise DataError(f"{vin} has no trips in the store; ingest telemetry with {SOC} and {CURRENT} first")
    origin = trips[0]["start_time"]
    steps: list[npt.NDArray[np.float64]] = []

    def current_steps(trip: TripFrame) -> None:
        both = trip.frame[[CURRENT, VOLTAGE]].dropna()
        if len(both):
            steps.append(np.column_stack([seconds_since(both.index, origin), both.to_numpy(dtype=float)]))

    found = stretch_capacities(twin, trips, min_soc_swing=min_soc_swing, noise=noise or SensorNoise(),
                               max_gap=max_gap, each_trip=current_steps)
    kinds = found.skipped
    if kinds.get("no soc", 0) == len(trips):
        raise DataError(f"none of the {len(trips)} latest trips of {vin} has samples of {SOC}; the state of health needs it")
    texts = {
            "swing": f"discharge stretch(es) with a state-of-charge swing below {min_soc_swing:g} (largest {found.largest_swing:.3g})",
            "no soc": f"trip(s) without {SOC}", "no current": f"trip(s) without {CURRENT}",
            "stuck": f"stretch(es) with {SOC} stuck",
            "gap": f"trip(s) with gaps over {max_gap:g} s in {CURRENT}",
            "invalid soc": f"stretch(es) with {SOC} against the current",
    }
    summary = ", ".join(f"{n} {texts[k]}" for k, n in sorted(kinds.items()) if n)
    if not found.points:
        raise CalibrationError(f"none of the {len(trips)} latest trips of {vin} gives the battery capacity ({summary})")
    resistance, note = None, f"no trip has {VOLTAGE} sampled with {CURRENT}"
    if steps:
        pooled = np.concatenate(steps)
        try:
            resistance = pack_resistance(pooled[:, 0], pooled[:, 1], pooled[:, 2], min_current_step=min_current_step)
        except (CalibrationError, ValidationError) as exc:  # too few steps, or samples out of order across trips
            note = str(exc)
    xs = [p.distance for p in found.points]
    qs = [p.capacity for p in found.points]
    ses = [p.standard_error for p in found.points]
    return dataclasses.replace(
        health_track(xs, qs, ses, rated, resistance),
        skipped=summary or None, resistance_note=None if resistance is not None else note,
    )
