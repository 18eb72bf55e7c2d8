"""The twin's trip table: one row of features and the measured battery energy per distance for each stored trip.

The twin's consumption models learn from whole trips (one row of
:data:`twinloop.learn.features.FEATURES` and the measured battery energy per
distance each). :func:`trip_table` builds that table from the samples in the
telemetry store.

Signals read (VSS paths, SI in the store; :mod:`twinloop.signals.vss`):

=========================================================  ==========================  ========
``Vehicle.Speed``                                          vehicle speed [m s-1]        required
``Vehicle.Powertrain.TractionBattery.CurrentCurrent``      battery current [A]          required
``Vehicle.Powertrain.TractionBattery.CurrentVoltage``      battery voltage [V]          required
``Vehicle.Exterior.AirTemperature``                        ambient temperature [K]      required
``Vehicle.Private.Twinloop.RoadGrade``                     road grade [1]               if stored
``Vehicle.CurrentLocation.Altitude``                       elevation [m]                if no grade
=========================================================  ==========================  ========

Features are computed on speed averaged over 1-s blocks (:func:`trace_features`),
and the grade, where only the elevation is stored, is fitted to it over 100 m
of road (:func:`twinloop.cycles.grade_from_elevation`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.calibrate._data import MOVING, TelemetryChecks, _longest_run, saturation
from twinloop.conventions import utc
from twinloop.cycles import grade_from_elevation
from twinloop.errors import DataError, ValidationError
from twinloop.learn.features import TARGET, feature_frame, trip_features
from twinloop.quantities import check
from twinloop.signals.vss import ALTITUDE, AMBIENT, CURRENT, GRADE, SPEED, VOLTAGE
from twinloop.store.base import TelemetryStore
from twinloop.twin.samples import US, Skip, signal_samples, stored_trips

__all__ = ["FEATURE_STEP", "META_COLUMNS", "REQUIRED_SIGNALS", "TripTableOptions", "block_means", "trace_features",
           "trip_table"]

#: Signals every usable trip needs (ambient can be replaced by a default, see TripTableOptions).
REQUIRED_SIGNALS = (SPEED, CURRENT, VOLTAGE, AMBIENT)

#: Columns of the `meta` table of :func:`trip_table`.
META_COLUMNS = ["trip_no", "end", "duration", "samples", "quarantined", "used", "reason"]


#: Averaging interval of speed before trip features are computed [s] (see :func:`trace_features`).
FEATURE_STEP = 1.0


def block_means(
    time: npt.NDArray[np.float64], *series: npt.NDArray[np.float64], step: float = FEATURE_STEP
) -> tuple[npt.NDArray[np.float64], ...]:
    """`time` and each of `series` averaged over consecutive blocks of `step` seconds from the first sample.

    A trace sampled at `step` or slower (median interval) comes back as it is.

    Examples
    --------
    >>> block_means(np.array([0.0, 0.5, 1.0, 1.5]), np.array([9.0, 11.0, 9.0, 11.0]))
    (array([0.25, 1.25]), array([10., 10.]))
    """
    if time.size < 2 or np.median(np.diff(time)) >= step:
        return (time, *series)
    block = np.floor((time - time[0]) / step).astype(np.int64)
    count = np.bincount(block)
    used = count > 0
    return tuple(np.bincount(block, weights=x)[used] / count[used] for x in (time, *series))


def trace_features(
    time: npt.ArrayLike,
    speed: npt.ArrayLike,
    *,
    grade: npt.ArrayLike | None = None,
    elevation: npt.ArrayLike | None = None,
    ambient_temperature: float = 293.15,
    step: float = FEATURE_STEP,
) -> dict[str, float]:
    """Trip features (:func:`twinloop.learn.trip_features`) of a trace as logged, at any rate.

    Speed, grade and elevation are first averaged over consecutive blocks of
    `step` seconds (a trace sampled at `step` or slower is used as it is).
    The kinetic features sum the positive and negative changes of
    :math:`v^2/2`, so the sensor noise of a fast logger adds to both with
    every sample: the Tesla's 20 Hz road trips read 16 % more positive
    kinetic energy per metre at 20 Hz than as 1-s means (median over its
    later trips, ``benchmarks/range_real.py``), which no vehicle spends. The standard drive cycles and the twin's training data are 1 Hz.

    Parameters
    ----------
    time, speed : array_like, shape (T,)
        [s], strictly increasing; [m s-1].
    grade : array_like, shape (T,), optional
        Road grade [1].
    elevation : array_like, shape (T,), optional
        Elevation [m], used for the grade when `grade` is not given
        (:func:`twinloop.cycles.grade_from_elevation`, after averaging).
    ambient_temperature : float
        [K].
    step : float
        Averaging interval [s], > 0.

    Returns
    -------
    dict
        One value per name of :data:`twinloop.learn.FEATURES`.

    Examples
    --------
    Alternating 9 and 11 m/s at 20 Hz is 10 m/s once averaged:

    >>> t = np.arange(0, 60, 0.05)
    >>> v = np.where(np.arange(t.size) % 2, 11.0, 9.0)
    >>> round(trace_features(t, v)["positive_kinetic"], 6)
    0.0
    """
    t = np.asarray(time, dtype=float)
    v = np.asarray(speed, dtype=float)
    if not (isinstance(step, int | float) and math.isfinite(step) and step > 0):
        raise ValidationError("step", "a number of seconds > 0", step)
    if t.ndim == 1 and t.size >= 2 and np.all(np.isfinite(t)):
        extra = [np.asarray(x, dtype=float) for x in (grade, elevation) if x is not None]
        t, v, *averaged = block_means(t, v, *extra, step=step)
        grade = averaged.pop(0) if grade is not None else None
        elevation = averaged.pop(0) if elevation is not None else None
    if grade is None and elevation is not None and t.size >= 2:
        grade = grade_from_elevation(t, v, np.asarray(elevation, dtype=float))
    return trip_features(t, v, grade, ambient_temperature)


@dataclass(frozen=True)
class TripTableOptions:
    """Which stored trips :func:`trip_table` accepts.

    Attributes
    ----------
    min_distance : float
        Shortest trip used [m]; shorter trips say little about road load.
    min_duration : float
        Shortest trip used [s].
    max_gap : float
        Longest pause allowed between two samples of a required signal,
        or between the trip's start or end and its first or last sample [s].
        Integrating power or speed across a longer gap would guess.
    ambient_temperature : float or None
        Ambient temperature [K] for trips without ``Vehicle.Exterior.AirTemperature``
        samples; None (default) skips such trips.
    """

    min_distance: float = 1000.0
    min_duration: float = 120.0
    max_gap: float = 10.0
    ambient_temperature: float | None = None

    def __post_init__(self) -> None:
        for name in ("min_distance", "min_duration", "max_gap"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValidationError(name, "a finite number >= 0", value, "TripTableOptions")
        if self.max_gap <= 0:
            raise ValidationError("max_gap", "a number > 0 s", self.max_gap, "TripTableOptions")
        if self.ambient_temperature is not None:
            check("ambient_temperature", self.ambient_temperature, "ambient_temperature", "TripTableOptions")



def _check_gaps(path: str, t: npt.NDArray[np.float64], duration: float, max_gap: float, start: datetime) -> None:
    edges = np.concatenate([[0.0], t, [duration]])
    steps = np.diff(edges)
    worst = int(np.argmax(steps))
    if steps[worst] > max_gap:
        at = start + timedelta(seconds=float(edges[worst]))
        raise Skip(
            "gap",
            f"gap of {steps[worst]:.0f} s in {path} after {at.isoformat(timespec='seconds')} (limit {max_gap:g} s)",
        )


def _check_stuck_or_clipped(samples: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]) -> None:
    """Skip a trip whose speed, current or voltage is stuck, or whose current is clipped.

    `samples` maps each of those signals to its (times, values). The checks
    and limits of :func:`twinloop.calibrate.calibrate_from_trips`
    (:class:`~twinloop.calibrate.TelemetryChecks`), on each signal's own samples.
    """
    checks = TelemetryChecks()
    ts, speed = samples[SPEED]
    for path, (t, x) in samples.items():
        if np.ptp(x) == 0:
            raise Skip("stuck", f"{path} stuck at {x[0]:g} over the whole trip")
        run, first = _longest_run(x, np.interp(t, ts, speed) > MOVING)
        if run and t[first + run - 1] - t[first] > checks.stuck_time:
            raise Skip(
                "stuck",
                f"{path} stuck at {x[first]:g} for {t[first + run - 1] - t[first]:.0f} s while driving"
                f" (limit {checks.stuck_time:g} s)",
            )
    clipped = saturation(samples[CURRENT][1], checks)
    if clipped is not None:
        raise Skip(
            "clipped",
            f"{CURRENT} clipped at {clipped[0]:g} A ({clipped[1]} samples pinned there, in runs): the sensor's"
            " range cuts the battery power",
        )


def _trip_row(
    frame: pd.DataFrame, start: datetime, end: datetime, options: TripTableOptions
) -> tuple[dict[str, float], float]:
    """Features and measured energy per distance [J m-1] of one trip."""
    duration = (end - start).total_seconds()
    required = [p for p in REQUIRED_SIGNALS if not (p == AMBIENT and options.ambient_temperature is not None)]
    missing = [p for p in required if frame[p].notna().sum() < (1 if p == AMBIENT else 2)]
    if missing:
        raise Skip(f"no {missing[0]}", f"no samples of {', '.join(missing)}")
    samples = {path: signal_samples(frame, path, start) for path in (SPEED, CURRENT, VOLTAGE)}
    for path, (t, _) in samples.items():
        _check_gaps(path, t, duration, options.max_gap, start)
    _check_stuck_or_clipped(samples)
    t, v = samples[SPEED]
    grade = elevation = None
    if frame[GRADE].notna().any():
        tg, g = signal_samples(frame, GRADE, start)
        grade = np.interp(t, tg, g)
    elif frame[ALTITUDE].notna().sum() >= 2:
        th, h = signal_samples(frame, ALTITUDE, start)
        elevation = np.interp(t, th, h)
    ambient = frame[AMBIENT].dropna()
    temperature = float(ambient.mean()) if len(ambient) else float(options.ambient_temperature or 0.0)
    try:
        features = trace_features(t, v, grade=grade, elevation=elevation, ambient_temperature=temperature)
    except ValidationError as exc:
        raise Skip("invalid", f"unusable samples: {exc}") from None
    if features["distance"] < options.min_distance or features["duration"] < options.min_duration:
        raise Skip(
            "short",
            f"too short: {features['distance']:.0f} m in {features['duration']:.0f} s"
            f" (needs {options.min_distance:g} m and {options.min_duration:g} s)",
        )
    # Battery power on the union of current and voltage sample times: they may come in
    # different CAN frames.
    (ti, current), (tv, voltage) = samples[CURRENT], samples[VOLTAGE]
    tu = np.union1d(ti, tv)
    power = np.interp(tu, ti, current) * np.interp(tu, tv, voltage)
    energy = float(np.trapezoid(power, tu))
    return features, energy / features["distance"]



@dataclass(frozen=True)
class _Quarantine:
    """The vehicle's samples refused at ingest (of the signals a trip reads), by time."""

    times: npt.NDArray[np.datetime64]
    counts: npt.NDArray[np.int64]
    reasons: npt.NDArray[np.object_]
    #: every sample of the vehicle refused at ingest, those without a time (no trip to place them in) included
    total: int = 0

    @classmethod
    def of(cls, store: TelemetryStore, vin: str, signals: Sequence[str]) -> _Quarantine:
        everything = store.quarantine(vin).to_pandas()
        table = everything[everything["signal"].isin(signals) & everything["time"].notna()]
        return cls(
            table["time"].to_numpy(dtype="datetime64[us]"),
            table["count"].to_numpy(dtype=np.int64),
            table["reason"].to_numpy(dtype=object),
            int(everything["count"].sum()),
        )

    def within(self, start: datetime, end: datetime) -> tuple[int, str]:
        """Samples quarantined in ``[start, end]`` and a clause naming the commonest reason ('' if none)."""
        if not self.times.size:
            return 0, ""
        lo, hi = (np.datetime64(utc(t).replace(tzinfo=None), "us") for t in (start, end))
        inside = (self.times >= lo) & (self.times <= hi)
        n = int(self.counts[inside].sum())
        if not n:
            return 0, ""
        by_reason = Counter[str]()
        for reason, count in zip(self.reasons[inside], self.counts[inside], strict=True):
            by_reason[str(reason)] += int(count)
        reason, count = by_reason.most_common(1)[0]
        return n, f"; {n} samples of this trip were quarantined at ingest ({count} {reason})"



def _window_text(since: datetime | None, until: datetime | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"from {since.isoformat()}")
    if until is not None:
        parts.append(f"before {until.isoformat()}")
    return (" starting " + " and ".join(parts)) if parts else ""



def trip_table(
    store: TelemetryStore,
    vin: str,
    since: datetime | None = None,
    until: datetime | None = None,
    options: TripTableOptions | None = None,
    allow_empty: bool = False,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """One row of trip features and the measured energy per distance for each stored trip.

    For each trip of `vin` in the store (:meth:`~twinloop.store.TelemetryStore.trips`)
    that starts in ``[since, until)``, the signals of :data:`REQUIRED_SIGNALS`
    (and road grade when stored) are read over the trip, the features come
    from :func:`twinloop.learn.features.trip_features` on the speed samples,
    and the target is the battery energy per distance

    .. math:: y = \\frac{1}{d} \\int V(t)\\, I(t)\\, dt

    with :math:`I` positive when discharging (the store's sign), integrated
    by the trapezoidal rule over the current and voltage sample times, and
    :math:`d` the distance of the speed samples.

    Trips too short, with a gap in a required signal, or without one of
    those signals are skipped; `meta` says why.

    Parameters
    ----------
    store : TelemetryStore
    vin : str
        The vehicle.
    since, until : datetime, optional
        Only trips starting at or after `since` and before `until` (naive means UTC).
    options : TripTableOptions, optional
        Limits on distance, duration and gaps.
    allow_empty : bool
        Return empty `X` and `y` (with `meta` saying why) instead of raising
        when trips exist but none is usable.

    Returns
    -------
    X : pandas.DataFrame
        Used trips, oldest first: the columns of :data:`~twinloop.learn.features.FEATURES`,
        indexed by trip start (UTC ``DatetimeIndex`` named ``start``).
    y : pandas.Series
        Battery energy per distance of each used trip [J m-1], named
        :data:`~twinloop.learn.features.TARGET`, same index.
    meta : pandas.DataFrame
        Every trip considered, indexed by start: ``trip_no``, ``end`` (UTC),
        ``duration`` [s], ``samples`` (speed samples read), ``quarantined``
        (samples of the signals read that ingestion refused inside the trip,
        which often explains a gap), ``used`` (bool) and ``reason`` (why it
        was skipped, else empty). ``meta[meta.used]`` lines up with `X`.

    Raises
    ------
    DataError
        If no trip is usable: the message says how many trips lack which
        signal, have gaps or are too short.
    UnknownNameError
        If the store has no vehicle `vin`.
    """
    options = options or TripTableOptions()
    lo = None if since is None else utc(since)
    hi = None if until is None else utc(until)
    if lo is not None and hi is not None and hi <= lo:
        raise ValidationError("until", f"a time after since ({lo.isoformat()})", hi.isoformat(), hint="The window is empty")
    stored = stored_trips(store, vin)
    trips = [r for r in stored if (lo is None or r["start_time"] >= lo) and (hi is None or r["start_time"] < hi)]
    if not trips and stored:
        raise DataError(
            f"{vin} has no trips{_window_text(lo, hi)}; its {len(stored)} stored trips start from"
            f" {stored[0]['start_time'].isoformat()} to {stored[-1]['start_time'].isoformat()}"
        )
    if not trips:
        raise DataError(
            f"{vin} has no trips{_window_text(lo, hi)} in the store; ingest telemetry with"
            f" {', '.join(REQUIRED_SIGNALS)} (and Vehicle.LowVoltageSystemState for key-on/key-off) first"
        )
    signals = [*REQUIRED_SIGNALS, GRADE, ALTITUDE]
    quarantine = _Quarantine.of(store, vin, signals)
    rows: list[dict[str, float]] = []
    targets: list[float] = []
    meta: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    for trip in trips:
        start, end = trip["start_time"], trip["end_time"]
        frame = store.read_frame(vin, signals, start, end + US)
        info: dict[str, Any] = {
            "start": start, "trip_no": int(trip["trip_no"]), "end": end,
            "duration": (end - start).total_seconds(), "samples": int(frame[SPEED].notna().sum()),
        }
        refused, why = quarantine.within(start, end)
        info["quarantined"] = refused
        try:
            features, target = _trip_row(frame, start, end, options)
        except Skip as skip:
            kinds[skip.kind] += 1
            meta.append({**info, "used": False, "reason": skip.reason + why})
            continue
        rows.append(features)
        targets.append(target)
        meta.append({**info, "used": True, "reason": ""})
    meta_frame = pd.DataFrame(meta).set_index("start")[META_COLUMNS]
    meta_frame.index = pd.DatetimeIndex(meta_frame.index, name="start")
    if not rows and allow_empty:
        return feature_frame([]).set_axis(meta_frame.index[:0]), pd.Series([], name=TARGET, dtype=float), meta_frame
    if not rows:
        summary = ", ".join(f"{n} {_KIND_TEXT.get(k, k)}" for k, n in sorted(kinds.items()))
        refused = int(meta_frame["quarantined"].sum())
        if refused or quarantine.total:
            summary += (f"; {refused} of their samples were quarantined at ingest"
                        + (f" ({quarantine.total} of the vehicle's in all, some without a time or of other signals)"
                           if quarantine.total > refused else "")
                        + " (see the store's quarantine table)")
        raise DataError(
            f"none of the {len(trips)} trips of {vin}{_window_text(lo, hi)} can be used ({summary});"
            f" a trip needs {', '.join(REQUIRED_SIGNALS)} without gaps over {options.max_gap:g} s"
            f" and at least {options.min_distance:g} m and {options.min_duration:g} s of driving"
            + (f"; for trips without {AMBIENT}, give a default `ambient_temperature`"
               " (TripTableOptions)" if kinds.get(f"no {AMBIENT}") else "")
        )
    index = meta_frame.index[meta_frame["used"].to_numpy(dtype=bool)]
    X = feature_frame(rows)
    X.index = index
    y = pd.Series(targets, index=index, name=TARGET, dtype=float)
    return X, y, meta_frame


_KIND_TEXT = {
    "gap": "with gaps",
    "short": "too short",
    "invalid": "with unusable speed, grade or temperature samples",
    "stuck": "with a stuck speed, current or voltage",
    "clipped": "with the current clipped",
    **{f"no {p}": f"without {p}" for p in REQUIRED_SIGNALS},
}
