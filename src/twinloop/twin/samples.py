"""A stored trip's samples as arrays: what the twin's trip table, state and health, and the apps share.

The store reads samples as a frame indexed by time (UTC without zone); these
turn a column of it into seconds since a trip's start and values, list the
stored trips with aware UTC times, and integrate speed into distance.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.conventions import utc
from twinloop.store.base import TelemetryStore

__all__ = ["US", "Skip", "distance", "seconds_since", "signal_samples", "stored_trips"]

#: One microsecond: the store's resolution, so that ``end + US`` closes a half-open read on ``end``.
US = timedelta(microseconds=1)


class Skip(Exception):
    """Why one trip cannot be used; `kind` groups trips in the summary."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def seconds_since(index: pd.Index, start: datetime) -> npt.NDArray[np.float64]:
    """Seconds from `start` of the store's times (naive UTC)."""
    times = pd.DatetimeIndex(index)
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    origin = pd.Timestamp(utc(start).replace(tzinfo=None))
    return np.asarray((times - origin) / pd.Timedelta(seconds=1), dtype=float)


def signal_samples(frame: pd.DataFrame, path: str, start: datetime) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Times [s since `start`] and values (SI) of the samples of signal `path` in `frame`, gaps left out."""
    column = frame[path].dropna()
    return seconds_since(column.index, start), column.to_numpy(dtype=float)


def stored_trips(store: TelemetryStore, vin: str) -> list[dict[str, Any]]:
    """The stored trips of `vin` as rows (:meth:`~twinloop.store.TelemetryStore.trips`), times aware UTC."""
    rows = store.trips(vin).to_pylist()
    for r in rows:
        r["start_time"], r["end_time"] = utc(r["start_time"]), utc(r["end_time"])
    return rows


def distance(speed: pd.Series, max_gap: float) -> float:
    """Distance of the speed samples [m], not bridging gaps over `max_gap` s."""
    speed = speed.dropna()
    if len(speed) < 2:
        return 0.0
    t = seconds_since(speed.index, datetime(1970, 1, 1))
    v = speed.to_numpy(dtype=float)
    dt = np.diff(t)
    step = 0.5 * (v[1:] + v[:-1]) * dt
    return float(step[dt <= max_gap].sum())
