"""The Cycle type, the bundled cycle registry and the trace file reader."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.errors import TraceError, UnknownNameError, ValidationError

__all__ = ["MAX_GAP", "Cycle", "bundled_cycles", "load_cycle", "read_trace"]

FloatArray = npt.NDArray[np.float64]

MAX_ACCELERATION = 12.0
"""Largest plausible road-vehicle acceleration or deceleration [m s-2] (above tyre grip)."""
MAX_SPEED = 100.0
"""Largest plausible speed [m s-1]."""
MAX_GAP = 10.0
"""Default longest time step [s] a user trace may have while the vehicle moves at either end.

Between samples the speed is interpolated linearly, so a long step with
speed on either side would be driven as invented distance. A step of any
length with speed 0 at both ends is a stop (the vehicle stands still, its
auxiliaries and climate still draw power) and is kept.
"""

# name -> (file, description, is a wide-open-throttle target that no car follows)
_BUNDLED: dict[str, tuple[str, str, bool]] = {
    "udds": ("udds.csv", "EPA urban (FTP-72), 1369 s", False),
    "hwfet": ("hwfet.csv", "EPA highway fuel economy test, 765 s", False),
    "us06": ("us06.csv", "EPA US06 aggressive driving, 600 s", False),
    "wltc_3a": ("wltc_3a.csv", "WLTC class 3a, 1800 s", False),
    "wltc_3b": ("wltc_3b.csv", "WLTC class 3b (UN GTR-15), 1800 s", False),
    "nrel13": ("NREL13.csv", "NREL 13-mode composite", False),
    "accel": ("accel.csv", "full-throttle acceleration to 44.7 m/s (100 mph) target", True),
}

# Accepted column names at the file boundary: name -> factor to SI.
_TIME_COLUMNS = {"time": 1.0, "time_s": 1.0, "seconds": 1.0, "cycsecs": 1.0, "t": 1.0}
_SPEED_COLUMNS = {
    "vehicle_speed": 1.0,
    "speed_mps": 1.0,
    "speed_m_s": 1.0,
    "cycmps": 1.0,
    "speed_kph": 1 / 3.6,
    "speed_kmh": 1 / 3.6,
    "speed_mph": 0.44704,
}
_GRADE_COLUMNS = {"road_grade": 1.0, "grade": 1.0, "cycgrade": 1.0, "grade_pct": 0.01}


@dataclass(frozen=True)
class Cycle:
    """A speed trace to follow.

    Attributes
    ----------
    name : str
        Cycle name.
    time : ndarray, shape (T,)
        Time since start [s], strictly increasing.
    vehicle_speed : ndarray, shape (T,)
        Target speed [m s-1].
    road_grade : ndarray, shape (T,)
        Road grade [1].
    source : str
        Where the trace came from.
    """

    name: str
    time: FloatArray
    vehicle_speed: FloatArray
    road_grade: FloatArray
    source: str = ""
    unreachable_by_design: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        # checked on construction, so that a Cycle built in code fails as clearly as a trace file
        arrays = {}
        for name in ("time", "vehicle_speed", "road_grade"):
            value = getattr(self, name)
            if value is None:
                raise ValidationError(f"Cycle.{name}", "a 1-D array of numbers", None,
                                      hint="Pass np.zeros_like(time) for a flat road.")
            try:
                a = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise ValidationError(f"Cycle.{name}", "a 1-D array of numbers", type(value).__name__) from None
            if a.ndim != 1:
                raise ValidationError(f"Cycle.{name}", "a 1-D array of numbers", f"shape {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ValidationError(f"Cycle.{name}", "finite numbers", f"{int(np.sum(~np.isfinite(a)))} NaN or inf")
            arrays[name] = a
        n = arrays["time"].size
        if n < 2 or any(a.size != n for a in arrays.values()):
            raise ValidationError(
                "Cycle", "time, vehicle_speed and road_grade of one length >= 2",
                {k: a.size for k, a in arrays.items()}, hint="Pass np.zeros_like(time) for a flat road.",
            )
        if np.any(np.diff(arrays["time"]) <= 0):
            raise ValidationError("Cycle.time", "strictly increasing", "a step <= 0")
        for name, a in arrays.items():
            if a is not getattr(self, name):
                object.__setattr__(self, name, a)

    @property
    def duration(self) -> float:
        """Duration [s]."""
        return float(self.time[-1] - self.time[0])

    @property
    def distance(self) -> float:
        """Distance of the trace [m] (trapezoidal)."""
        return float(np.trapezoid(self.vehicle_speed, self.time))

    def resample(self, time_step: float = 1.0) -> Cycle:
        """Return the cycle linearly resampled on a uniform grid of `time_step` [s]."""
        if not (0.01 <= time_step <= 10.0):
            raise ValidationError("time_step", "a number in [0.01, 10] s", time_step)
        t = np.arange(self.time[0], self.time[-1] + 1e-9, time_step)
        return Cycle(
            self.name,
            t,
            np.interp(t, self.time, self.vehicle_speed),
            np.interp(t, self.time, self.road_grade),
            self.source,
            self.unreachable_by_design,
        )

    def is_uniform(self) -> bool:
        """Whether samples are equally spaced."""
        dt = np.diff(self.time)
        return bool(np.allclose(dt, dt[0], rtol=1e-6))


def bundled_cycles() -> dict[str, str]:
    """Names and descriptions of the bundled standard cycles.

    Examples
    --------
    >>> sorted(bundled_cycles())[:3]
    ['accel', 'hwfet', 'nrel13']
    """
    return {name: desc for name, (_, desc, _) in _BUNDLED.items()}


def load_cycle(name_or_path: str | Path, *, max_gap: float = MAX_GAP) -> Cycle:
    """Load a bundled cycle by name, or a user's trace from a CSV file.

    Parameters
    ----------
    name_or_path : str or path
        A bundled name (see :func:`bundled_cycles`) or a CSV path, see
        :func:`read_trace`.
    max_gap : float, default :data:`MAX_GAP` (10 s)
        Longest time step [s] of a user trace with the vehicle moving at
        either end, see :func:`read_trace`. Bundled cycles are sampled at
        1 Hz or faster and are not affected.

    Raises
    ------
    UnknownNameError
        For a name that is neither bundled nor an existing file.
    TraceError
        For a malformed trace, or a folder given as the trace.
    """
    key = str(name_or_path).lower()
    if key in _BUNDLED:
        filename, desc, unreachable = _BUNDLED[key]
        with resources.files("twinloop.cycles").joinpath("data", filename).open("rb") as fh:
            cycle = read_trace(fh, name=key, source=f"bundled: {desc}", check_acceleration=not unreachable)
        return Cycle(cycle.name, cycle.time, cycle.vehicle_speed, cycle.road_grade, cycle.source, unreachable)
    path = Path(name_or_path)
    if not key.strip():  # Path("") would be the current folder
        raise UnknownNameError("cycle", str(name_or_path), _BUNDLED, hint="Or pass the path of a CSV file.")
    if path.is_dir():
        raise TraceError(
            f"cycle {str(path)!r} is a folder, not a trace: give a bundled cycle name "
            "(`twinloop cycle list`) or a CSV file with time_s and speed columns"
        )
    if path.suffix.lower() in {".csv", ".txt"} or path.exists():
        if not path.exists():
            raise TraceError(f"cycle file {str(path)!r} does not exist")
        return read_trace(path, name=path.stem, source=str(path), max_gap=max_gap)
    raise UnknownNameError("cycle", str(name_or_path), _BUNDLED, hint="Or pass the path of a CSV file.")


_DELIMITERS = (",", ";", "\t", "|")


def _read_text(file: str | Path | Any, where: str) -> str:
    """The whole file as text (UTF-8, with or without a byte-order mark)."""
    try:
        if isinstance(file, str | Path):
            data: str | bytes = Path(file).read_bytes()
        else:
            data = file.read()
        return data.decode("utf-8-sig") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise TraceError(f"{where}: cannot read as CSV: not UTF-8 text (byte {exc.start})") from None
    except IsADirectoryError:
        raise TraceError(f"{where}: is a folder, not a CSV trace; give a file") from None
    except PermissionError as exc:
        raise TraceError(f"{where}: cannot read the file ({exc.strerror}); check its permissions") from None


def _delimiter(text: str) -> str:
    r"""The column separator: the candidate the header row holds most often (default ',').

    Examples
    --------
    >>> _delimiter("time_s;speed_mps\n0;1,5\n"), _delimiter("time_s,speed_mps\n"), _delimiter("t\tv\n")
    (';', ',', '\t')
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier, i.e. ','
    return best if counts[best] else ","


def read_trace(
    file: str | Path | Any,
    name: str = "trace",
    source: str = "",
    check_acceleration: bool = True,
    *,
    max_gap: float = MAX_GAP,
) -> Cycle:
    """Read a speed trace from a CSV file, converting units at the boundary.

    Parameters
    ----------
    file : path or file object
        CSV (columns separated by ``,``, ``;``, tab or ``|``, detected from
        the header row; with another separator than ``,`` a decimal comma is
        accepted) with a time column (``time_s``, ``seconds``, ``time``), a speed
        column (``speed_mps``, ``speed_kph``, ``speed_mph``,
        ``vehicle_speed``) and optionally a grade column (``road_grade`` or
        ``grade`` as rise/run, ``grade_pct`` in percent).
    name : str
        Name of the cycle.
    source : str
        Provenance to record.
    check_acceleration : bool, default True
        Reject accelerations beyond 12 m s-2.
    max_gap : float, default :data:`MAX_GAP` (10 s)
        Longest time step [s] allowed where the speed is above 0 at either
        end. Speed is interpolated linearly between samples, so a longer
        step while moving (a logger pause, a lost signal) would be driven
        as invented distance; it is refused, naming the rows. A step of any
        length with speed 0 at both ends is a stop and is kept (the vehicle
        stands, its auxiliaries and climate still draw power). Pass
        ``math.inf`` to accept every gap.

    Raises
    ------
    TraceError
        Missing columns, non-numeric or NaN values, time not strictly
        increasing, a gap longer than `max_gap` while moving, negative or
        implausible speed, impossible acceleration.
    ValidationError
        If `max_gap` is not a number > 0.
    """
    if isinstance(max_gap, bool) or not isinstance(max_gap, int | float) or not max_gap > 0:
        raise ValidationError("max_gap", "a time step in seconds > 0 (math.inf accepts every gap)", max_gap)
    where = source or name
    text = _read_text(file, where)
    delimiter = _delimiter(text)
    try:
        # Every cell as text, so that a bad cell is reported as it was written.
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TraceError(f"{where}: cannot read as CSV ({exc})") from None
    columns = {str(c).strip().lower(): c for c in frame.columns}

    def pick(options: dict[str, float], what: str, required: bool) -> FloatArray | None:
        for key, factor in options.items():
            if key in columns:
                cells = frame[columns[key]].str.strip()
                if delimiter != ",":  # then a comma in a number is a decimal comma (1,5)
                    cells = cells.str.replace(",", ".", regex=False)
                values = pd.to_numeric(cells, errors="coerce").to_numpy(float)
                bad = np.flatnonzero(~np.isfinite(values))
                if bad.size:
                    cell = str(frame[columns[key]].iloc[bad[0]]).strip()
                    raise TraceError(
                        f"{where}: column {columns[key]!r} row {int(bad[0]) + 2} is not a number "
                        f"({cell or 'empty'})"
                    )
                return values * factor
        if required:
            raise TraceError(
                f"{where}: no {what} column; expected one of {', '.join(options)}, "
                f"found {', '.join(map(str, frame.columns))} "
                "(columns separated by ',', ';', tab or '|', names in the first row)"
            )
        return None

    time = pick(_TIME_COLUMNS, "time", True)
    speed = pick(_SPEED_COLUMNS, "speed", True)
    grade = pick(_GRADE_COLUMNS, "grade", False)
    assert time is not None and speed is not None
    if time.size < 2:
        raise TraceError(f"{where}: a trace needs at least 2 samples, found {time.size}")
    dt = np.diff(time)
    if np.any(dt <= 0):
        k = int(np.flatnonzero(dt <= 0)[0])
        raise TraceError(
            f"{where}: time must increase strictly; row {k + 3} has {time[k + 1]:g} s after {time[k]:g} s"
        )
    moving_gap = (dt > max_gap) & ((speed[:-1] > 0) | (speed[1:] > 0))
    if np.any(moving_gap):
        k = int(np.flatnonzero(moving_gap)[0])
        column = next(columns[c] for c in _TIME_COLUMNS if c in columns)
        raise TraceError(
            f"{where}: a {dt[k]:g} s gap in {column!r} between row {k + 2} ({time[k]:g} s, "
            f"{speed[k]:g} m/s) and row {k + 3} ({time[k + 1]:g} s, {speed[k + 1]:g} m/s) while moving; "
            f"at most {max_gap:g} s is allowed unless the speed is 0 at both ends, because the speed "
            "would be interpolated across the gap; split the trace into two files at this gap"
        )
    if np.any(speed < 0) or np.any(speed > MAX_SPEED):
        k = int(np.flatnonzero((speed < 0) | (speed > MAX_SPEED))[0])
        raise TraceError(
            f"{where}: speed must be in [0, {MAX_SPEED:g}] m/s; row {k + 2} has {speed[k]:g} m/s "
            "(check the unit of the speed column: _mps, _kph or _mph)"
        )
    if check_acceleration:
        accel = np.diff(speed) / dt
        if np.any(np.abs(accel) > MAX_ACCELERATION):
            k = int(np.flatnonzero(np.abs(accel) > MAX_ACCELERATION)[0])
            raise TraceError(
                f"{where}: acceleration of {accel[k]:.1f} m/s2 at t={time[k + 1]:g} s is beyond "
                f"{MAX_ACCELERATION:g} m/s2 (is the speed unit right?)"
            )
    if grade is None:
        grade = np.zeros_like(speed)
    elif np.any(np.abs(grade) > 0.35):
        k = int(np.flatnonzero(np.abs(grade) > 0.35)[0])
        raise TraceError(
            f"{where}: road grade must be in [-0.35, 0.35] as a fraction, rise over run (0.05 = 5 %); "
            f"row {k + 2} has {grade[k]:g} (give percent in a grade_pct column)"
        )
    return Cycle(name, time - time[0], speed, grade, source)
