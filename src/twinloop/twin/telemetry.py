"""From stored telemetry to the twin: trip tables, the current state, calibration and drift.

The twin's consumption models learn from whole trips (one row of
:data:`twinloop.learn.features.FEATURES` and the measured battery energy per
distance each). This module builds that table from the samples in the
telemetry store (:func:`trip_table`), keeps the twin's state current
(:func:`sync_state`, with the battery's state of health tracked from the
trips by :func:`health_from_store` when the vehicle does not report it) and
closes the loop through the twin service (:func:`calibrate_from_store`,
:func:`update_from_store`).

Signals read (VSS paths, SI in the store):

=========================================================  ==========================  ========
``Vehicle.Speed``                                          vehicle speed [m s-1]        required
``Vehicle.Powertrain.TractionBattery.CurrentCurrent``      battery current [A]          required
``Vehicle.Powertrain.TractionBattery.CurrentVoltage``      battery voltage [V]          required
``Vehicle.Exterior.AirTemperature``                        ambient temperature [K]      required
``Vehicle.Private.Twinloop.RoadGrade``                     road grade [1]               if stored
=========================================================  ==========================  ========

:func:`health_from_store` reads current, voltage and
``Vehicle.Powertrain.TractionBattery.StateOfCharge.Current`` (state of charge [1]).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.errors import CalibrationError, DataError, ValidationError
from twinloop.learn.features import TARGET, feature_frame, trip_features
from twinloop.quantities import check
from twinloop.store.base import SqlTelemetryStore, TelemetryStore
from twinloop.twin import service
from twinloop.twin.calibrate._data import MOVING, TelemetryChecks, _longest_run, saturation
from twinloop.twin.plausibility import odometer_regression, odometer_speed_mismatch
from twinloop.twin.record import TwinState, utc
from twinloop.twin.registry import MIN_RECALIBRATION_TRIPS, ModelVersion
from twinloop.twin.service import DriftOutcome, Twin
from twinloop.twin.soh import HealthTrack, SensorNoise, health_track, pack_capacity, pack_resistance

__all__ = [
    "REQUIRED_SIGNALS",
    "STATE_SIGNALS",
    "StoreCalibration",
    "StoreSync",
    "StoreUpdate",
    "TripTableOptions",
    "calibrate_from_store",
    "health_from_store",
    "sync_state",
    "trip_table",
    "update_from_store",
]

SPEED = "Vehicle.Speed"
CURRENT = "Vehicle.Powertrain.TractionBattery.CurrentCurrent"
VOLTAGE = "Vehicle.Powertrain.TractionBattery.CurrentVoltage"
AMBIENT = "Vehicle.Exterior.AirTemperature"
GRADE = "Vehicle.Private.Twinloop.RoadGrade"
ODOMETER = "Vehicle.TraveledDistance"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
SOH = "Vehicle.Powertrain.TractionBattery.StateOfHealth"

#: Signals every usable trip needs (ambient can be replaced by a default, see TripTableOptions).
REQUIRED_SIGNALS = (SPEED, CURRENT, VOLTAGE, AMBIENT)

#: Twin state field -> the signal whose latest sample sets it.
STATE_SIGNALS: dict[str, str] = {
    "state_of_charge": SOC,
    "state_of_health": SOH,
    "battery_temperature": "Vehicle.Powertrain.TractionBattery.Temperature.Average",
    "cabin_temperature": "Vehicle.Cabin.HVAC.AmbientAirTemperature",
    "odometer": ODOMETER,
}

_META_COLUMNS = ["trip_no", "end", "duration", "samples", "quarantined", "used", "reason"]
_US = timedelta(microseconds=1)


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


class _Skip(Exception):
    """Why one trip cannot be used; `kind` groups trips in the summary."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _seconds(index: pd.Index, start: datetime) -> npt.NDArray[np.float64]:
    """Seconds from `start` of the store's times (naive UTC)."""
    times = pd.DatetimeIndex(index)
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    origin = pd.Timestamp(utc(start).replace(tzinfo=None))
    return np.asarray((times - origin) / pd.Timedelta(seconds=1), dtype=float)


def _samples(frame: pd.DataFrame, path: str, start: datetime) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    column = frame[path].dropna()
    return _seconds(column.index, start), column.to_numpy(dtype=float)


def _check_gaps(path: str, t: npt.NDArray[np.float64], duration: float, max_gap: float, start: datetime) -> None:
    edges = np.concatenate([[0.0], t, [duration]])
    steps = np.diff(edges)
    worst = int(np.argmax(steps))
    if steps[worst] > max_gap:
        at = start + timedelta(seconds=float(edges[worst]))
        raise _Skip(
            "gap",
            f"gap of {steps[worst]:.0f} s in {path} after {at.isoformat(timespec='seconds')} (limit {max_gap:g} s)",
        )


def _check_stuck_or_clipped(samples: dict[str, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]) -> None:
    """Skip a trip whose speed, current or voltage is stuck, or whose current is clipped.

    `samples` maps each of those signals to its (times, values). The checks
    and limits of :func:`twinloop.twin.calibrate.calibrate_from_trips`
    (:class:`~twinloop.twin.calibrate.TelemetryChecks`), on each signal's own samples.
    """
    checks = TelemetryChecks()
    ts, speed = samples[SPEED]
    for path, (t, x) in samples.items():
        if np.ptp(x) == 0:
            raise _Skip("stuck", f"{path} stuck at {x[0]:g} over the whole trip")
        run, first = _longest_run(x, np.interp(t, ts, speed) > MOVING)
        if run and t[first + run - 1] - t[first] > checks.stuck_time:
            raise _Skip(
                "stuck",
                f"{path} stuck at {x[first]:g} for {t[first + run - 1] - t[first]:.0f} s while driving"
                f" (limit {checks.stuck_time:g} s)",
            )
    clipped = saturation(samples[CURRENT][1], checks)
    if clipped is not None:
        raise _Skip(
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
        raise _Skip(f"no {missing[0]}", f"no samples of {', '.join(missing)}")
    samples = {path: _samples(frame, path, start) for path in (SPEED, CURRENT, VOLTAGE)}
    for path, (t, _) in samples.items():
        _check_gaps(path, t, duration, options.max_gap, start)
    _check_stuck_or_clipped(samples)
    t, v = samples[SPEED]
    grade = None
    if frame[GRADE].notna().any():
        tg, g = _samples(frame, GRADE, start)
        grade = np.interp(t, tg, g)
    ambient = frame[AMBIENT].dropna()
    temperature = float(ambient.mean()) if len(ambient) else float(options.ambient_temperature or 0.0)
    try:
        features = trip_features(t, v, grade, temperature)
    except ValidationError as exc:
        raise _Skip("invalid", f"unusable samples: {exc}") from None
    if features["distance"] < options.min_distance or features["duration"] < options.min_duration:
        raise _Skip(
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


def _stored_trips(store: TelemetryStore, vin: str) -> list[dict[str, Any]]:
    rows = store.trips(vin).to_pylist()
    for r in rows:
        r["start_time"], r["end_time"] = utc(r["start_time"]), utc(r["end_time"])
    return rows


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
    stored = _stored_trips(store, vin)
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
    signals = [*REQUIRED_SIGNALS, GRADE]
    quarantine = _Quarantine.of(store, vin, signals)
    rows: list[dict[str, float]] = []
    targets: list[float] = []
    meta: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    for trip in trips:
        start, end = trip["start_time"], trip["end_time"]
        frame = store.read_frame(vin, signals, start, end + _US)
        info: dict[str, Any] = {
            "start": start, "trip_no": int(trip["trip_no"]), "end": end,
            "duration": (end - start).total_seconds(), "samples": int(frame[SPEED].notna().sum()),
        }
        refused, why = quarantine.within(start, end)
        info["quarantined"] = refused
        try:
            features, target = _trip_row(frame, start, end, options)
        except _Skip as skip:
            kinds[skip.kind] += 1
            meta.append({**info, "used": False, "reason": skip.reason + why})
            continue
        rows.append(features)
        targets.append(target)
        meta.append({**info, "used": True, "reason": ""})
    meta_frame = pd.DataFrame(meta).set_index("start")[_META_COLUMNS]
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
            + (f"; for trips without {AMBIENT}, give TripTableOptions(ambient_temperature=...)"
               " (`--ambient-c` on the command line)" if kinds.get(f"no {AMBIENT}") else "")
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


# ---- state --------------------------------------------------------------------------------
def _latest(store: SqlTelemetryStore, vin: str, paths: Sequence[str]) -> dict[str, tuple[datetime, float]]:
    """The latest sample of each signal of `vin` that has one: path -> (time UTC, value SI)."""
    # The store has no "latest value" read; one indexed query per signal keeps this cheap.
    vid = store.vehicle_id(vin)
    ids = dict(store._fetchall("SELECT path, signal_id FROM signals"))
    out: dict[str, tuple[datetime, float]] = {}
    for path in paths:
        if path not in ids:
            continue
        rows = store._fetchall(
            "SELECT time, value FROM samples WHERE vehicle_id = ? AND signal_id = ? ORDER BY time DESC LIMIT 1",
            [vid, int(ids[path])],
        )
        if rows:
            out[path] = (utc(rows[0][0]), float(rows[0][1]))
    return out


def _distance(speed: pd.Series, max_gap: float) -> float:
    """Distance of the speed samples [m], not bridging gaps over `max_gap` s."""
    speed = speed.dropna()
    if len(speed) < 2:
        return 0.0
    t = _seconds(speed.index, datetime(1970, 1, 1))
    v = speed.to_numpy(dtype=float)
    dt = np.diff(t)
    step = 0.5 * (v[1:] + v[:-1]) * dt
    return float(step[dt <= max_gap].sum())


def _odometer_speed_note(frame: pd.DataFrame, max_gap: float) -> str | None:
    """A note when the odometer samples of `frame` advance unlike the speed samples between them integrate."""
    odometer = frame[ODOMETER].dropna()
    if len(odometer) < 2:
        return None
    covered = frame[SPEED].loc[odometer.index[0]:odometer.index[-1]]
    return odometer_speed_mismatch(float(odometer.iloc[-1] - odometer.iloc[0]), _distance(covered, max_gap))


#: Rise of the state of charge between two trips [1] above which the pack was charged in between.
CHARGE_RISE = 0.005

#: Float slack on comparisons with CHARGE_RISE, so that one 0.5 % step is never "more than" it.
_RISE_SLACK = 1e-9


@dataclass(frozen=True)
class _TripCharge:
    """One usable trip: its state of charge, time window and its position among the trips read."""

    soc: npt.NDArray[np.float64]
    start: datetime
    end: datetime
    index: int


def _trip_charge(frame: pd.DataFrame, start: datetime, end: datetime, max_gap: float, index: int) -> _TripCharge:
    """The trip if its current covers its SoC samples without gaps; _Skip when unusable."""
    ts, soc = _samples(frame, SOC, start)
    if ts.size < 2:
        raise _Skip("no soc", f"{ts.size} samples of {SOC}")
    ti, _current = _samples(frame, CURRENT, start)
    inside = (ti >= ts[0]) & (ti <= ts[-1])
    if inside.sum() < 2:
        raise _Skip("no current", f"{int(inside.sum())} samples of {CURRENT} between the first and last {SOC}")
    edges = np.concatenate([[ts[0]], ti[inside], [ts[-1]]])
    if np.diff(edges).max() > max_gap:
        raise _Skip("gap", f"gap of {np.diff(edges).max():.0f} s in {CURRENT} (limit {max_gap:g} s)")
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
    ts, soc = _samples(frame, SOC, origin)
    ti, current = _samples(frame, CURRENT, origin)
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

    The vehicle's `last_trips` latest trips are joined into discharge
    stretches: runs of consecutive trips with no charging between them (the
    state of charge at a trip's start not above the previous trip's end by
    more than :data:`CHARGE_RISE`; no current is assumed to flow with the
    key off). Over each stretch the charge drawn is counted against the
    state-of-charge swing (:func:`twinloop.twin.soh.pack_capacity`; current
    interpolated onto the union of both signals' times), so that short trips
    add up to a usable swing. Trips with a gap over `max_gap` [s] in the
    current, and stretches whose swing is below `min_soc_swing` or whose
    state of charge is stuck, are left out. The capacities over distance
    (the stored odometer at each stretch's end, else the distance of the
    speed samples summed over the trips read) give the capacity now
    and its fade (:func:`twinloop.twin.soh.health_track`) against the twin's
    rated capacity (``spec.battery_capacity``: rated energy / nominal
    voltage). The resistance comes from the current steps of all those trips
    at the times where current and voltage were both sampled
    (:func:`twinloop.twin.soh.pack_resistance`); None when there are too few.

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
    noise = noise or SensorNoise()
    store, vin = twin.store, twin.vin
    rated = twin.record.spec.battery_capacity
    trips = _stored_trips(store, vin)[-last_trips:]
    if not trips:
        raise DataError(f"{vin} has no trips in the store; ingest telemetry with {SOC} and {CURRENT} first")
    distance = 0.0
    driven: list[float] = []  # distance driven from the first trip read to each trip's end [m]
    odometer: list[float] = []  # the odometer at each trip's end [m], NaN when not reported
    charges: list[_TripCharge | None] = []
    steps: list[npt.NDArray[np.float64]] = []
    kinds: Counter[str] = Counter()
    origin = trips[0]["start_time"]
    for trip in trips:
        start, end = trip["start_time"], trip["end_time"]
        frame = store.read_frame(vin, [CURRENT, VOLTAGE, SOC, SPEED, ODOMETER], start, end + _US)
        if frame[SPEED].notna().sum() >= 2:
            t, v = _samples(frame, SPEED, start)
            dt = np.diff(t)
            distance += float((0.5 * (v[1:] + v[:-1]) * dt)[dt <= max_gap].sum())
        driven.append(distance)
        odometer.append(float(frame[ODOMETER].dropna().iloc[-1]) if frame[ODOMETER].notna().any() else math.nan)
        both = frame[[CURRENT, VOLTAGE]].dropna()
        if len(both):
            steps.append(np.column_stack([_seconds(both.index, origin), both.to_numpy(dtype=float)]))
        try:
            charges.append(_trip_charge(frame, start, end, max_gap, len(charges)))
        except _Skip as skip:
            kinds[skip.kind] += 1
            charges.append(None)
    position = _positions(np.array(odometer), np.array(driven))
    if kinds["no soc"] == len(trips):
        raise DataError(f"none of the {len(trips)} latest trips of {vin} has samples of {SOC}; the state of health needs it")
    xs: list[float] = []
    qs: list[float] = []
    ses: list[float] = []
    largest_swing = 0.0
    for run in _stretches(charges):
        frame = store.read_frame(vin, [CURRENT, SOC], run[0].start, run[-1].end + _US)
        for t, current, soc in _stretch_series(frame, origin, max_gap):
            try:
                est = pack_capacity(t, current, soc, min_soc_swing=min_soc_swing, noise=noise, rated_capacity=rated)
            except CalibrationError:
                kinds["swing"] += 1
                largest_swing = max(largest_swing, float(abs(soc[0] - soc[-1])))
                continue
            except DataError as exc:
                kinds["stuck" if "stuck" in str(exc) else "invalid soc"] += 1
                continue
            xs.append(float(position[run[-1].index]))
            qs.append(est.capacity)
            ses.append(est.standard_error)
    texts = {
            "swing": f"discharge stretch(es) with a state-of-charge swing below {min_soc_swing:g} (largest {largest_swing:.3g})",
            "no soc": f"trip(s) without {SOC}", "no current": f"trip(s) without {CURRENT}",
            "stuck": f"stretch(es) with {SOC} stuck",
            "gap": f"trip(s) with gaps over {max_gap:g} s in {CURRENT}",
            "invalid soc": f"stretch(es) with {SOC} against the current",
    }
    summary = ", ".join(f"{n} {texts[k]}" for k, n in sorted(kinds.items()) if n)
    if not qs:
        raise CalibrationError(f"none of the {len(trips)} latest trips of {vin} gives the battery capacity ({summary})")
    resistance, note = None, f"no trip has {VOLTAGE} sampled with {CURRENT}"
    if steps:
        pooled = np.concatenate(steps)
        try:
            resistance = pack_resistance(pooled[:, 0], pooled[:, 1], pooled[:, 2], min_current_step=min_current_step)
        except (CalibrationError, ValidationError) as exc:  # too few steps, or samples out of order across trips
            note = str(exc)
    return dataclasses.replace(
        health_track(xs, qs, ses, rated, resistance),
        skipped=summary or None, resistance_note=None if resistance is not None else note,
    )


@dataclass(frozen=True)
class StoreSync:
    """What :func:`sync_state` did.

    Attributes
    ----------
    twin : Twin
        The twin with its updated record.
    notes : tuple of str
        Readings it distrusted and what it kept instead (an odometer that
        went back, or that disagrees with the distance the speed signal
        integrates to); empty when all was plausible.
    """

    twin: Twin
    notes: tuple[str, ...] = ()


def sync_state(twin: Twin, *, max_gap: float = 60.0, track_health: bool = True) -> StoreSync:
    """Set the twin's state from the latest telemetry of its vehicle and store it.

    Each field of :data:`STATE_SIGNALS` takes the latest stored sample of its
    signal; fields whose signal has no sample keep their value. Without an
    odometer signal (``Vehicle.TraveledDistance``) the odometer advances by
    the distance of the speed samples since the last sync (steps longer than
    `max_gap` [s] are pauses, not driving), starting from 0 when unknown, so
    it then counts the distance driven in the stored telemetry.
    Without a reported state of health (``Vehicle.Powertrain.TractionBattery.StateOfHealth``)
    and with `track_health`, ``state_of_health`` is the capacity tracked
    from the trips by :func:`health_from_store` over the rated capacity;
    when no trip gives a capacity (no state of charge, swings too small)
    it keeps its value.
    ``updated_at`` becomes the time of the latest sample used.

    The odometer is checked (:mod:`twinloop.twin.plausibility`): a reading
    below the twin's odometer is not taken, and an advance since the last
    sync that disagrees with the distance the speed signal integrates to is
    noted, with the unit slip it suggests.

    Returns
    -------
    StoreSync
        The twin with its updated record (also written through its
        repository), and notes on readings it distrusted.

    Raises
    ------
    DataError
        If the store holds none of those signals, nor speed, for the vehicle.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.store import open_store
    >>> from twinloop.twin.service import create_twin
    >>> twin = create_twin(open_store("duckdb://:memory:"), "VIN1", resolve_vehicle("vw_id3_pro_2020"))
    >>> sync_state(twin)
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: no telemetry of VIN1 in the store gives its state (none of Vehicle.Powertrain.TractionBattery.StateOfCharge.Current, ..., Vehicle.Speed)
    """
    store = twin.store
    latest = _latest(store, twin.vin, [*STATE_SIGNALS.values(), SPEED])
    if not latest:
        names = [*STATE_SIGNALS.values(), SPEED]
        raise DataError(
            f"no telemetry of {twin.vin} in the store gives its state (none of {names[0]}, ..., {names[-1]})"
        )
    state = twin.record.state
    changes: dict[str, Any] = {
        field: latest[path][1] for field, path in STATE_SIGNALS.items() if path in latest
    }
    updated_at = max(t for t, _ in latest.values())
    notes: list[str] = []
    if ODOMETER in latest:
        regression = odometer_regression(state.odometer, latest[ODOMETER][1])
        if regression is not None:
            del changes["odometer"]
        since = None if state.updated_at is None else state.updated_at + _US  # what the last sync did not see
        frame = store.read_frame(twin.vin, [ODOMETER, SPEED], since, updated_at + _US)
        notes = [n for n in (regression, _odometer_speed_note(frame, max_gap)) if n is not None]
    elif SPEED in latest:
        speed = store.read_frame(twin.vin, [SPEED], state.updated_at, latest[SPEED][0] + _US)[SPEED]
        changes["odometer"] = (state.odometer or 0.0) + _distance(speed, max_gap)
    if SOH not in latest and track_health:
        try:
            soh = health_from_store(twin).state_of_health
        except (DataError, CalibrationError):
            soh = None  # nothing to track it from yet: keep what the twin knew
        if soh is not None and 0.0 < soh <= 1.2:  # outside: a broken SoC signal, not a battery
            changes["state_of_health"] = soh
    new_state: TwinState = replace(state, **changes, updated_at=updated_at)  # validated again
    record = twin.repository.update_state(twin.vin, new_state)
    return StoreSync(replace(twin, record=record), tuple(notes))


# ---- calibration and drift ------------------------------------------------------------------
@dataclass(frozen=True)
class StoreCalibration:
    """What :func:`calibrate_from_store` did.

    Attributes
    ----------
    version : ModelVersion
        The new champion.
    trips : pandas.DataFrame
        The `meta` table of :func:`trip_table`: the trips used and those skipped, with why.
    """

    version: ModelVersion
    trips: pd.DataFrame


@dataclass(frozen=True)
class StoreUpdate:
    """What :func:`update_from_store` found and did.

    Attributes
    ----------
    outcome : DriftOutcome or None
        The champion scored, its error on the new trips, the chart and the
        version fitted after an alarm; None when no trip started since.
    serving : ModelVersion
        The champion after the update.
    since : datetime or None
        Start of the window scored (UTC).
    trips : pandas.DataFrame
        The `meta` table of :func:`trip_table` for the new trips (empty when none).
    """

    outcome: DriftOutcome | None
    serving: ModelVersion
    since: datetime | None
    trips: pd.DataFrame

    @property
    def drift(self) -> bool:
        """Whether the chart raised an alarm."""
        return self.outcome is not None and self.outcome.drift


def calibrate_from_store(
    twin: Twin,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    options: TripTableOptions | None = None,
    min_trips: int = MIN_RECALIBRATION_TRIPS,
    created_by: str = "twinloop",
) -> StoreCalibration:
    """Calibrate the twin's champion on its stored trips and make the result the champion.

    Builds :func:`trip_table` for trips starting in ``[since, until)`` and
    calls :func:`twinloop.twin.service.calibrate`. The new version's
    training window runs from the first used trip's start to the last used
    trip's end.

    Raises
    ------
    DataError
        No usable trips (the message says what is missing).
    CalibrationError
        Too few usable trips, or trips that cannot separate the parameters;
        the champion is kept.
    """
    X, y, meta = trip_table(twin.store, twin.vin, since, until, options)
    used = meta[meta["used"]]
    end = utc(used["end"].max().to_pydatetime()) if len(used) else None
    try:
        version = service.calibrate(twin, X, y, created_by=created_by, min_trips=min_trips, training_end=end)
    except CalibrationError as exc:
        skipped = meta[~meta["used"].astype(bool)]
        if skipped.empty:
            raise
        raise CalibrationError(f"{exc}; {_skipped_text(skipped, len(meta))}") from None
    return StoreCalibration(version, meta)


def _skipped_text(skipped: pd.DataFrame, total: int, shown: int = 3) -> str:
    """Which trips were skipped and why, for an error that says too few were usable."""
    reasons = [f"trip {r.trip_no}: {r.reason}" for r in skipped.head(shown).itertuples()]
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} of the {total} trips were skipped ({'; '.join(reasons)}{more})"


def update_from_store(
    twin: Twin,
    since: datetime | None = None,
    *,
    options: TripTableOptions | None = None,
    k: float = 0.5,
    h: float = 5.0,
    margin: float = 0.0,
    min_trips: int = MIN_RECALIBRATION_TRIPS,
    created_by: str = "drift monitor",
) -> StoreUpdate:
    """Score the champion on the trips after its training window; recalibrate on drift.

    Builds :func:`trip_table` for the trips starting after the champion's
    training window (or at or after `since`, when given) and calls
    :func:`twinloop.twin.service.check_drift_and_recalibrate`: a CUSUM chart
    of the champion's standardised residuals, and on an alarm a refit on the
    trips since the shift, registered with reason ``"drift"`` (champion if it
    beats the old one on held-out trips, else challenger).

    No new trips, or new trips that cannot be used (too short, gaps), are
    not an error: the result's `outcome` is None and its `trips` say why
    each was skipped, so a daily run does not fail on idle days.

    A refit after an alarm that fails (too few trips since the shift) is
    not an error either: the outcome's `recalibration_error` says why, the
    drift event is written and the champion is kept.

    Raises
    ------
    CalibrationError
        If the champion was never calibrated on data (run
        :func:`calibrate_from_store` first).
    """
    champ = twin.registry.champion()
    if champ is None:
        raise CalibrationError(f"twin {twin.vin} has no champion model")
    if champ.residual_band is None:
        raise CalibrationError(
            f"champion v{champ.version} of {twin.vin} was never calibrated on data;"
            f" calibrate it first (`twinloop twin calibrate {twin.vin}`)"
        )
    if since is None and champ.training_end is not None:
        since = champ.training_end + _US
    since = None if since is None else utc(since)
    if not any(since is None or r["start_time"] >= since for r in _stored_trips(twin.store, twin.vin)):
        return StoreUpdate(None, champ, since, pd.DataFrame(columns=_META_COLUMNS))
    X, y, meta = trip_table(twin.store, twin.vin, since, None, options, allow_empty=True)
    if X.empty:
        return StoreUpdate(None, champ, since, meta)
    used = meta[meta["used"].astype(bool)]
    end = utc(used["end"].max().to_pydatetime())  # as calibrate_from_store: the last trip's end
    outcome = service.check_drift_and_recalibrate(
        twin, X, y, k=k, h=h, margin=margin, min_trips=min_trips, created_by=created_by, training_end=end
    )
    serving = twin.registry.champion()
    assert serving is not None
    return StoreUpdate(outcome, serving, since, meta)

