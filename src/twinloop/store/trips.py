"""Trip detection from telemetry: key-on/key-off runs, or gaps in the data.

:func:`detect_trips` splits sample times into trips; :func:`update_trips`
keeps a store's ``trips`` table current after an ingest by redetecting only
from the last stored trip that starts at or before the new data.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from twinloop.errors import ValidationError
from twinloop.signals.vss import IGNITION, SPEED

if TYPE_CHECKING:  # base imports this module
    from twinloop.store.base import SqlTelemetryStore

__all__ = ["KEY_ON_CODES", "MIN_GAP", "Trip", "check_gap", "detect_trips", "update_trips"]

#: Codes of Vehicle.LowVoltageSystemState that mean the drive is enabled (ON, START).
KEY_ON_CODES = (4.0, 5.0)


@dataclass(frozen=True)
class Trip:
    """One trip: first and last sample time [µs since epoch] and how it was found."""

    start: int
    end: int
    samples: int
    method: str


#: Shortest pause [s] that may end a trip: below it every sample of 1 Hz data would be its own trip.
MIN_GAP = 1.0


def check_gap(gap: float, field: str = "gap") -> None:
    """Raise ValidationError unless `gap` is a finite pause of at least :data:`MIN_GAP` seconds."""
    if isinstance(gap, bool) or not isinstance(gap, numbers.Real) or not (math.isfinite(gap) and gap >= MIN_GAP):
        raise ValidationError(field, f"a pause in seconds >= {MIN_GAP:g}, e.g. 300 (the default)", gap)


def detect_trips(
    time: npt.NDArray[np.int64],
    key_state: npt.NDArray[np.float64] | None = None,
    gap: float = 300.0,
) -> list[Trip]:
    """Split a vehicle's sample times into trips.

    Parameters
    ----------
    time : ndarray of int64, shape (n,)
        Sample times [µs since epoch], sorted ascending.
    key_state : ndarray of float64, shape (n,), optional
        Vehicle.LowVoltageSystemState codes at `time`. When given, a trip is
        a run of samples in ON or START; otherwise every sample belongs to a
        trip.
    gap : float
        A pause longer than this [s] between samples ends a trip.

    Returns
    -------
    list of Trip
        In time order.

    Examples
    --------
    >>> t = np.array([0, 1, 2, 1000, 1001], dtype=np.int64) * 1_000_000
    >>> [(x.start // 1_000_000, x.end // 1_000_000) for x in detect_trips(t)]
    [(0, 2), (1000, 1001)]
    >>> on = np.array([4, 4, 2, 4, 4], dtype=float)
    >>> [(x.start // 1_000_000, x.end // 1_000_000) for x in detect_trips(np.arange(5) * 1_000_000, on)]
    [(0, 2), (3, 4)]
    """
    check_gap(gap)
    t = np.asarray(time, dtype=np.int64)
    if t.size == 0:
        return []
    active = np.ones(t.size, dtype=bool) if key_state is None else np.isin(key_state, KEY_ON_CODES)
    method = "gap" if key_state is None else "key"
    new = np.empty(t.size, dtype=bool)
    new[0] = True
    new[1:] = (np.diff(t) > gap * 1e6) | ~active[:-1]
    run = np.cumsum(new)
    run = np.where(active, run, 0)
    trips = []
    ids, first = np.unique(run[active], return_index=True)
    idx = np.flatnonzero(active)
    counts = np.bincount(run[active])[ids]
    for f, c in zip(first.tolist(), counts.tolist(), strict=True):
        start_row, end_row = int(idx[f]), int(idx[f + c - 1])
        end = int(t[end_row])
        # a key-off sample right after the run closes the trip at its own time
        nxt = end_row + 1
        if nxt < t.size and not active[nxt] and t[nxt] - end <= gap * 1e6:
            end = int(t[nxt])
        trips.append(Trip(int(t[start_row]), end, int(c), method))
    return trips


def _dt(us: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=int(us))


def _us(value: Any) -> int:
    return int(pa.scalar(value, pa.timestamp("us")).cast(pa.int64()).as_py())


def update_trips(
    store: SqlTelemetryStore,
    vin: str,
    since: int | None,
    gap: float = 300.0,
    ingest_id: int | None = None,
) -> int:
    """Bring the trips of `vin` up to date after samples from time `since` on were added.

    Gives the same trips as a full recomputation (``store.detect_trips``)
    but reads only the samples from the *anchor* on: the start of the last
    stored trip that begins at or before `since`. A trip start is a
    boundary that samples at or after `since` cannot move (the sample before
    it and its own state are older), and the trips before it end before it,
    so they stay as stored.

    A full recomputation is done instead when the incremental one cannot be
    trusted: no `since`; no stored trip starts at or before `since`; the
    basis of detection (key state, speed, or all sample times) has no
    sample before `since`, or the anchor trip was found by another method
    (the basis changed with this ingest); or another ingest of the vehicle
    was interrupted after the last finished one (its committed samples may
    have no trips yet), unless it is an earlier run of the same content
    (`ingest_id`'s, which this update covers).

    Parameters
    ----------
    store : SqlTelemetryStore
        The store (its SQL hooks are used).
    vin : str
        Vehicle.
    since : int or None
        Earliest time [µs since epoch] of the samples the ingest read.
    gap : float
        A pause longer than this [s] ends a trip (the value the stored trips used).
    ingest_id : int, optional
        The ingest being completed (not itself an interrupted one).

    Returns
    -------
    int
        Number of trips of the vehicle.
    """
    check_gap(gap)  # before anything stored is touched
    vid = store.vehicle_id(vin)
    ids = dict(store._fetchall("SELECT path, signal_id FROM signals"))
    # the basis is chosen from this vehicle's samples, never from what other vehicles have
    basis_sql, method = "FROM samples WHERE vehicle_id = ?", "gap"
    for path, how in ((IGNITION, "key"), (SPEED, "gap")):  # the basis of detection, in order of preference
        sql = _signal_basis(store, vid, ids.get(path))
        if sql is not None:
            basis_sql, method = sql, how
            break
    anchor = None if since is None else _anchor(store, vid, since, basis_sql, method, ingest_id)
    cond, params = ("", [vid]) if anchor is None else (" AND time >= ?", [vid, _dt(anchor)])
    if method == "key":
        rows = store._fetch_arrow(f"SELECT time, value {basis_sql}{cond} ORDER BY time", params)
        key = rows.column("value").to_numpy()
    else:
        rows = store._fetch_arrow(f"SELECT DISTINCT time {basis_sql}{cond} ORDER BY time", params)
        key = None
    trips = detect_trips(rows.column("time").cast(pa.int64()).to_numpy(), key, gap)
    with store._transaction():
        if anchor is None:
            kept = 0
            store._execute("DELETE FROM trips WHERE vehicle_id = ?", [vid])
        else:
            kept = int(
                store._fetchall(
                    "SELECT count(*) FROM trips WHERE vehicle_id = ? AND start_time < ?",
                    [vid, _dt(anchor)],
                )[0][0]
            )
            store._execute(
                "DELETE FROM trips WHERE vehicle_id = ? AND start_time >= ?", [vid, _dt(anchor)]
            )
        if trips:
            store._insert_arrow(
                "trips",
                pa.table(
                    {
                        "vehicle_id": pa.array([vid] * len(trips), pa.int32()),
                        "trip_no": pa.array(range(kept + 1, kept + len(trips) + 1), pa.int32()),
                        "start_time": pa.array([x.start for x in trips], pa.int64()).cast(
                            pa.timestamp("us")
                        ),
                        "end_time": pa.array([x.end for x in trips], pa.int64()).cast(
                            pa.timestamp("us")
                        ),
                        "samples": pa.array([x.samples for x in trips], pa.int64()),
                        "method": pa.array([x.method for x in trips], pa.string()),
                    }
                ),
            )
    return kept + len(trips)


def _signal_basis(store: SqlTelemetryStore, vid: int, signal_id: int | None) -> str | None:
    """SQL ``FROM ...`` of the samples of `signal_id` of vehicle `vid`; None when it has none."""
    if signal_id is None:
        return None
    sql = f"FROM samples WHERE vehicle_id = ? AND signal_id = {int(signal_id)}"
    if store._fetchall(f"SELECT count(*) FROM (SELECT time {sql} LIMIT 1) b", [vid])[0][0]:
        return sql
    return None


def _anchor(
    store: SqlTelemetryStore,
    vid: int,
    since: int,
    basis_sql: str,
    method: str,
    ingest_id: int | None,
) -> int | None:
    """Start [µs] of the trip to redetect from; None: recompute everything."""
    interrupted = store._fetchall(
        "SELECT count(*) FROM ingests i WHERE i.vehicle_id = ? AND i.finished IS NULL"
        " AND i.ingest_id <> ?"
        " AND i.ingest_id > (SELECT coalesce(max(f.ingest_id), 0) FROM ingests f"
        "                    WHERE f.vehicle_id = ? AND f.finished IS NOT NULL)"
        " AND i.sha256 IS DISTINCT FROM (SELECT c.sha256 FROM ingests c WHERE c.ingest_id = ?)",
        [vid, ingest_id or -1, vid, ingest_id or -1],
    )[0][0]
    if interrupted:
        return None
    rows = store._fetchall(
        "SELECT start_time, method FROM trips WHERE vehicle_id = ? AND start_time <= ?"
        " ORDER BY start_time DESC LIMIT 1",
        [vid, _dt(since)],
    )
    if not rows or rows[0][1] != method:
        return None
    older = store._fetchall(
        f"SELECT count(*) FROM (SELECT time {basis_sql} AND time < ? LIMIT 1) b",
        [vid, _dt(since)],
    )[0][0]
    return _us(rows[0][0]) if older else None
