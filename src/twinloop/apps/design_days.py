"""The fleet's days for the design app: a folder of day traces read, each cut to the time the car is on.

:func:`read_days` reads every ``*.csv`` and ``*.csv.gz`` below a folder, as
traces of ``twinloop simulate -c`` or as days of the Chicago 2007 GPS survey
(as FASTSim ships it); :func:`driven_day` cuts the parked standstills.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from twinloop.cycles import Cycle, read_trace
from twinloop.errors import DataError, TraceError, TwinloopError

__all__ = ["MIN_DAY_DISTANCE", "PARKED_AFTER", "FleetDays", "driven_day", "read_days"]

PARKED_AFTER = 300.0
"""A standstill longer than this [s] counts as parked, key off: it is cut from the day.

The survey's loggers ran while the car was parked, or stopped and left a
gap; either way a parked car draws no auxiliary or climate power. Shorter
stops (traffic, a drop-off) stay, with the auxiliaries running.
"""
MIN_DAY_DISTANCE = 1000.0
"""Days shorter than this [m] are not used: they say nothing about range."""
_STOPPED = 0.1  # [m s-1], as twinloop.apps.profiles.MOVING_SPEED
_SURVEY_COLUMNS = ("timestamp", "speed_mph")
_MPH = 0.44704


@dataclass(frozen=True)
class FleetDays:
    """The usable days of a folder of day traces, and why the others were left out.

    Attributes
    ----------
    days : tuple of Cycle
        One trace per day, parked standstills cut (:func:`driven_day`), 1 Hz.
    skipped : dict of str to str
        Day name -> why it was not used.
    source : str
        Where the days came from.
    """

    days: tuple[Cycle, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    source: str = ""


def driven_day(cycle: Cycle) -> Cycle:
    """A day's trace as the car is switched on: standstills longer than :data:`PARKED_AFTER` cut to 1 s.

    The trace is then resampled to 1 Hz, linearly across any gap the
    logger left while moving.

    Examples
    --------
    Two drives an hour apart: the hour parked becomes one second.

    >>> day = Cycle("d", np.array([0.0, 60.0, 120.0, 3720.0, 3780.0]), np.array([0.0, 10.0, 0.0, 0.0, 10.0]),
    ...             np.zeros(5))
    >>> cut = driven_day(day)
    >>> cut.duration, round(cut.distance / day.distance, 6)
    (181.0, 1.0)
    """
    t, v, g = cycle.time, cycle.vehicle_speed, cycle.road_grade
    still = v < _STOPPED
    # runs of standstill samples: [start, stop] inclusive
    edges = np.flatnonzero(np.diff(np.concatenate([[0], still.astype(np.int8), [0]])))
    dt = np.diff(t)
    for start, stop in zip(edges[::2], edges[1::2] - 1, strict=True):
        if t[stop] - t[start] > PARKED_AFTER:
            dt[start:stop] = 0.0
            dt[start] = 1.0
    keep = np.concatenate([[True], dt > 0])
    time = np.concatenate([[0.0], np.cumsum(dt)])[keep]
    cut = Cycle(cycle.name, time, v[keep], g[keep], cycle.source)
    return cut.resample(1.0) if cut.duration >= 1.0 else cut


def _read_survey(path: Path, text: str) -> Cycle:
    """A day of the CMAP 2007 GPS survey (columns timestamp, speed_mph), as FASTSim ships it."""
    import pandas as pd

    frame = pd.read_csv(io.StringIO(text))
    stamps = pd.to_datetime(frame["timestamp"], errors="coerce")
    speed = pd.to_numeric(frame["speed_mph"], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(stamps.isna().to_numpy() | ~np.isfinite(speed))
    if bad.size:
        raise TraceError(f"{path}: row {int(bad[0]) + 2} has no valid timestamp or speed_mph")
    seconds = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy(float)
    keep = np.concatenate([[True], seconds[1:] > np.maximum.accumulate(seconds)[:-1]])  # repeated stamps
    if keep.sum() < 2:
        raise TraceError(f"{path}: a trace needs at least 2 samples, found {int(keep.sum())}")
    t = seconds[keep]
    v = np.clip(speed[keep] * _MPH, 0.0, None)
    return Cycle(f"{path.parent.name}/{path.name.split('.')[0]}", t - t[0], v, np.zeros_like(v), str(path))


def _read_day(path: Path) -> Cycle:
    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise TraceError(f"{path}: not a gzip file ({exc})") from None
    head = data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()
    columns = {c.strip().lower() for c in (head[0] if head else "").split(",")}
    if all(c in columns for c in _SURVEY_COLUMNS):
        return _read_survey(path, data.decode("utf-8", errors="replace"))
    name = f"{path.parent.name}/{path.name.split('.')[0]}"
    return read_trace(io.BytesIO(data), name=name, source=str(path))


def read_days(folder: str | Path) -> FleetDays:
    """Read a folder of day traces: every ``*.csv`` and ``*.csv.gz`` below it, one day each.

    A file is either a trace in the format of ``twinloop simulate -c``
    (:func:`twinloop.cycles.read_trace`: a time column, a speed column, an
    optional grade or elevation) or a day of the Chicago 2007 GPS survey
    as FASTSim ships it (``timestamp``, ``speed_mph``; the bundled example
    fleet in ``examples/data/cmap_2007``). Each is cut to the time the car
    is switched on (:func:`driven_day`). A file that cannot be read, and a
    day shorter than :data:`MIN_DAY_DISTANCE`, is skipped with the reason.

    Parameters
    ----------
    folder : str or Path
        The folder (searched recursively).

    Returns
    -------
    FleetDays
        The usable days, sorted by name, and the skipped ones.

    Raises
    ------
    DataError
        If `folder` is not a folder, holds no trace files, or no usable day
        (the message gives the first file's reason).
    """
    root = Path(folder)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is a file, not a folder"
        raise DataError(f"days folder {str(root)!r} {what}: give a folder of day-trace CSV files (one day each)")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith((".csv", ".csv.gz")))
    if not files:
        raise DataError(f"days folder {str(root)!r} holds no day traces (*.csv or *.csv.gz files)")
    days: list[Cycle] = []
    skipped: dict[str, str] = {}
    for path in files:
        name = f"{path.parent.name}/{path.name.split('.')[0]}"
        try:
            day = driven_day(_read_day(path))
        except (TwinloopError, ValueError, OSError) as exc:
            skipped[name] = str(exc)
            continue
        if day.distance < MIN_DAY_DISTANCE:
            skipped[name] = f"drove {day.distance / 1000:.2f} km, less than {MIN_DAY_DISTANCE / 1000:g} km"
            continue
        days.append(day)
    if not days:
        first, why = next(iter(skipped.items()))
        raise DataError(f"days folder {str(root)!r} has no usable day trace among {len(files)} files; "
                        f"{first}: {why}")
    return FleetDays(tuple(days), skipped, str(root))
