"""Trip detection from telemetry: key-on/key-off runs, or gaps in the data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["KEY_ON_CODES", "Trip", "detect_trips"]

#: Codes of Vehicle.LowVoltageSystemState that mean the drive is enabled (ON, START).
KEY_ON_CODES = (4.0, 5.0)


@dataclass(frozen=True)
class Trip:
    """One trip: first and last sample time [µs since epoch] and how it was found."""

    start: int
    end: int
    samples: int
    method: str


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
