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

from twinloop.cycles._elevation import grade_from_elevation
from twinloop.errors import TraceError, UnknownNameError, ValidationError, close_matches

__all__ = ["MAX_DURATION", "MAX_GAP", "Cycle", "bundled_cycles", "load_cycle", "read_trace"]

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

MAX_DURATION = 30 * 86400.0
"""Longest trace [s] (30 days) a user file or a resampled cycle may span.

A trace is simulated at a fixed time step (1 s), so its span, stops
included, sets the memory and time a simulation takes: 30 days are 2.6
million steps. A longer span is nearly always a unit error (milliseconds
in a seconds column) or a stray timestamp, and would exhaust memory.
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
_TIME_COLUMNS = {"time": 1.0, "time_s": 1.0, "seconds": 1.0, "cycsecs": 1.0, "t": 1.0, "time_ms": 0.001}
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
# Elevation (a GPS log, a route profile): the grade is derived from it when no grade column is given.
_ELEVATION_COLUMNS = {"elevation_m": 1.0, "altitude_m": 1.0, "elevation_ft": 0.3048, "altitude_ft": 0.3048}
_ELEVATION_WORDS = ("elevation", "altitude", "alt", "height")
# The unit a value of a column is written in, for messages (default: SI, m/s or a fraction).
_COLUMN_UNITS = {"speed_kph": "km/h", "speed_kmh": "km/h", "speed_mph": "mph", "grade_pct": "%"}
# Words of a column name that say "road grade": such a column must be read, not ignored.
_GRADE_WORDS = ("grade", "slope", "gradient", "incline")
MAX_GRADE = 0.35
"""Largest road grade [1] (rise over run) a trace may hold: 35 %, steeper than any public road."""


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
        steepest = int(np.argmax(np.abs(arrays["road_grade"])))
        if abs(arrays["road_grade"][steepest]) > MAX_GRADE:
            raise ValidationError(
                "Cycle.road_grade", f"within ±{MAX_GRADE:g} (rise over run)",
                f"{arrays['road_grade'][steepest]:g} at sample {steepest}",
                hint="A grade in percent is 100 times too large: divide it by 100.",
            )
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
        if self.duration < time_step:
            raise ValidationError(f"cycle {self.name!r}", f"a cycle of at least one {time_step:g} s time step",
                                  f"a {self.duration:g} s trace")
        if self.duration > MAX_DURATION:
            raise ValidationError(f"cycle {self.name!r}", f"a cycle of at most {MAX_DURATION:g} s (30 days)",
                                  f"{self.duration:g} s", hint="Split it, or check the unit of its time")
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
        For a malformed trace, a folder given as the trace, or a path (a
        name with a suffix or a folder) that does not exist.
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
    looks_like_a_path = bool(path.suffix) or "/" in key or "\\" in key
    if looks_like_a_path or path.exists():
        if not path.exists():
            raise TraceError(f"cycle file {str(path)!r} does not exist")
        return read_trace(path, name=path.stem, source=str(path), max_gap=max_gap)
    raise UnknownNameError("cycle", str(name_or_path), _BUNDLED, hint="Or pass the path of a CSV file.")


_DELIMITERS = (",", ";", "\t", "|")


def _read_text(file: str | Path | Any, where: str) -> str:
    """The whole file as text: UTF-8 (with or without a byte-order mark) or UTF-16 with one.

    Excel's "Unicode text" export is UTF-16 with a byte-order mark; a file
    holding NUL bytes otherwise is binary (a workbook, an image) and refused.
    """
    try:
        data: str | bytes = Path(file).read_bytes() if isinstance(file, str | Path) else file.read()
    except IsADirectoryError:
        raise TraceError(f"{where}: is a folder, not a CSV trace; give a file") from None
    except PermissionError as exc:
        raise TraceError(f"{where}: cannot read the file ({exc.strerror}); check its permissions") from None
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data:
        text = "\x00"  # no text but UTF-16 holds NUL bytes: binary, refused below
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TraceError(f"{where}: cannot read as CSV: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        workbook = isinstance(data, bytes) and data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))
        hint = " (an Excel workbook? save it as CSV)" if workbook else ""
        raise TraceError(f"{where}: cannot read as CSV: a binary file, not text{hint}")
    return text


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
        accepted; UTF-8, or UTF-16 with a byte-order mark as Excel writes
        it) with a time column (``time_s``, ``seconds``, ``time``, or
        ``time_ms`` in milliseconds), a speed column (``speed_mps``,
        ``speed_kph``, ``speed_mph``, ``vehicle_speed``) and optionally a
        grade column (``road_grade`` or ``grade`` as rise/run, ``grade_pct``
        in percent) or, without one, an elevation column (``elevation_m``,
        ``elevation_ft``, or ``altitude_*``) from which the grade is derived
        (:func:`~twinloop.cycles.grade_from_elevation`). Other columns are
        ignored, except one whose name says grade, slope or elevation (it
        would be driven as a flat road): it is refused, as are two columns
        for one quantity (``speed_kph`` and ``speed_mph``).
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
        Missing, repeated or unread grade columns, a binary file, non-numeric
        or NaN values, time not strictly increasing, a span longer than
        :data:`MAX_DURATION`, a gap longer than `max_gap` while moving,
        negative or implausible speed, impossible acceleration, a grade
        beyond 35 % (given or derived). Values are reported in the column's own unit.
    ValidationError
        If `max_gap` is not a number > 0.
    """
    if isinstance(max_gap, bool) or not isinstance(max_gap, int | float) or not max_gap > 0:
        raise ValidationError("max_gap", "a time step in seconds > 0 (math.inf accepts every gap)", max_gap)
    where = source or name
    text = _read_text(file, where)
    delimiter = _delimiter(text)
    try:
        # Every cell as text, so that a bad cell is reported as it was written; the header
        # is read as a row, so that a repeated column name stays visible.
        rows = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, header=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TraceError(f"{where}: cannot read as CSV ({reason}); the first row names the columns, "
                         "e.g. time_s,speed_kph, and every row has as many cells") from None
    header = [str(c).strip() for c in rows.iloc[0]]
    frame = rows.iloc[1:].reset_index(drop=True)
    time_at, speed_at, grade_at, elevation_at = _pick_columns(header, where)
    time = _numbers(frame, time_at, header, delimiter, where)
    speed = _numbers(frame, speed_at, header, delimiter, where)
    if time.size < 2:
        raise TraceError(f"{where}: a trace needs at least 2 samples, found {time.size}")
    time_name, speed_name = header[time_at], header[speed_at]
    time = time * _TIME_COLUMNS[time_name.lower()]
    _check_time(time, speed * _SPEED_COLUMNS[speed_name.lower()], time_name, max_gap, where)
    speed = _check_speed(speed, speed_name, where)
    if check_acceleration:
        _check_acceleration(time, speed, where)
    if grade_at is not None:
        grade = _check_grade(_numbers(frame, grade_at, header, delimiter, where), header[grade_at], where)
    elif elevation_at is not None:
        column = header[elevation_at]
        elevation = _numbers(frame, elevation_at, header, delimiter, where) * _ELEVATION_COLUMNS[column.lower()]
        grade = _check_derived_grade(grade_from_elevation(time, speed, elevation), column, where)
    else:
        grade = np.zeros_like(speed)
    return Cycle(name, time - time[0], speed, grade, source)


_QUANTITIES = {"time": _TIME_COLUMNS, "speed": _SPEED_COLUMNS, "grade": _GRADE_COLUMNS,
               "elevation": _ELEVATION_COLUMNS}


def _pick_columns(header: list[str], where: str) -> tuple[int, int, int | None, int | None]:
    """The index of the time, speed and (optional, None) grade and elevation columns in `header`.

    Refuses a quantity given twice (``speed_kph`` and ``speed_mph``: which
    one?), a missing time or speed column (with close matches among the
    columns found), and a column that looks like road grade or elevation
    under a name that is not read (it would silently give a flat road).
    """
    names = [h.lower() for h in header]
    picked: dict[str, int | None] = {}
    for what, options in _QUANTITIES.items():
        hits = [i for i, n in enumerate(names) if n in options]
        if len(hits) > 1:
            listed = ", ".join(repr(header[i]) for i in hits[:-1]) + f" and {header[hits[-1]]!r}"
            raise TraceError(f"{where}: {len(hits)} {what} columns, {listed}; keep one")
        picked[what] = hits[0] if hits else None
    time_at, speed_at, grade_at, elevation_at = picked["time"], picked["speed"], picked["grade"], picked["elevation"]
    if time_at is None:
        raise TraceError(_missing_column("time", header, where))
    if speed_at is None:
        raise TraceError(_missing_column("speed", header, where))
    read = {*_TIME_COLUMNS, *_SPEED_COLUMNS, *_GRADE_COLUMNS, *_ELEVATION_COLUMNS}
    for h, n in zip(header, names, strict=True):
        if n in read:
            continue
        if grade_at is None and any(w in n for w in _GRADE_WORDS):
            raise TraceError(
                f"{where}: column {h!r} looks like road grade but is not read; name it road_grade "
                "(a fraction, 0.05 = 5 %) or grade_pct (percent)"
            )
        if grade_at is None and elevation_at is None and any(w in n.replace("_", " ").split() for w in _ELEVATION_WORDS):
            raise TraceError(
                f"{where}: column {h!r} looks like elevation but is not read; name it elevation_m or"
                " elevation_ft and the road grade is derived from it"
            )
    return time_at, speed_at, grade_at, elevation_at


def _missing_column(what: str, header: list[str], where: str) -> str:
    """The message for a trace without a `what` column, with the closest column name found."""
    options = _QUANTITIES[what]
    message = (
        f"{where}: no {what} column; expected one of {', '.join(options)}, "
        f"found {', '.join(header)} (columns separated by ',', ';', tab or '|', names in the first row)"
    )
    known = {n for table in _QUANTITIES.values() for n in table}
    if len(header) > 1:  # one column: the separator, not the name, is wrong
        for h in header:
            if h.lower() in known:
                continue
            if what == "speed" and h.strip().lower() in ("speed", "velocity", "v"):
                return message + f"; name the unit of {h!r}: speed_mps, speed_kph or speed_mph"
            matches = close_matches(h, options, n=1)
            if matches:
                return message + f"; did you mean {matches[0]!r} for {h!r}?"
    return message


def _numbers(frame: pd.DataFrame, index: int, header: list[str], delimiter: str, where: str) -> FloatArray:
    """Column `index` as numbers as written (no unit conversion); a cell that is not one is refused."""
    cells = frame[index].str.strip()
    if delimiter != ",":  # then a comma in a number is a decimal comma (1,5)
        cells = cells.str.replace(",", ".", regex=False)
    values = pd.to_numeric(cells, errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        cell = str(frame[index].iloc[bad[0]]).strip()
        raise TraceError(f"{where}: column {header[index]!r} row {int(bad[0]) + 2} is not a number ({cell or 'empty'})")
    return values


def _check_time(time: FloatArray, speed: FloatArray, column: str, max_gap: float, where: str) -> None:
    """Time [s] must increase strictly, span at most MAX_DURATION, and have no long gap while moving."""
    dt = np.diff(time)
    if np.any(dt <= 0):
        k = int(np.flatnonzero(dt <= 0)[0])
        raise TraceError(
            f"{where}: time must increase strictly; row {k + 3} has {time[k + 1]:g} s after {time[k]:g} s"
        )
    span = time - time[0]
    if span[-1] > MAX_DURATION:
        k = int(np.argmax(span > MAX_DURATION))
        raise TraceError(
            f"{where}: the trace spans {span[-1]:g} s ({span[-1] / 86400:.0f} days, to row {k + 2}), more than "
            f"{MAX_DURATION:g} s (30 days); is the time column in seconds? (name it time_ms for milliseconds)"
        )
    moving = speed > 0
    moving_gap = (dt > max_gap) & (moving[:-1] | moving[1:])
    if np.any(moving_gap):
        k = int(np.flatnonzero(moving_gap)[0])
        ms = column.lower() != "time_ms" and float(np.median(dt)) > max_gap
        raise TraceError(
            f"{where}: a {dt[k]:g} s gap in {column!r} between row {k + 2} ({time[k]:g} s, "
            f"{speed[k]:g} m/s) and row {k + 3} ({time[k + 1]:g} s, {speed[k + 1]:g} m/s) "
            f"while moving; at most {max_gap:g} s is allowed unless the speed is 0 at both ends, because the "
            "speed would be interpolated across the gap; split the trace into two files at this gap"
            + (" (is the time column in milliseconds? name it time_ms)" if ms else "")
        )


def _check_speed(written: FloatArray, column: str, where: str) -> FloatArray:
    """Speed in m/s from the column's unit, within [0, MAX_SPEED]; refused values are shown as written."""
    factor = _SPEED_COLUMNS[column.lower()]
    speed = written * factor
    bad = (speed < 0) | (speed > MAX_SPEED)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        unit = _COLUMN_UNITS.get(column.lower(), "m/s")
        si = f" ({speed[k]:g} m/s)" if unit != "m/s" else ""
        raise TraceError(
            f"{where}: speed must be in [0, {MAX_SPEED / factor:g}] {unit} in column {column!r}; row {k + 2} has "
            f"{written[k]:g} {unit}{si}; check the unit of the speed column: _mps, _kph or _mph"
        )
    return speed


def _check_acceleration(time: FloatArray, speed: FloatArray, where: str) -> None:
    accel = np.diff(speed) / np.diff(time)
    if np.any(np.abs(accel) > MAX_ACCELERATION):
        k = int(np.flatnonzero(np.abs(accel) > MAX_ACCELERATION)[0])
        raise TraceError(
            f"{where}: acceleration of {accel[k]:.1f} m/s2 at t={time[k + 1]:g} s (row {k + 3}) is beyond "
            f"{MAX_ACCELERATION:g} m/s2 (is the speed unit right?)"
        )


def _check_derived_grade(grade: FloatArray, column: str, where: str) -> FloatArray:
    """The grade derived from elevation column `column`, within +-MAX_GRADE."""
    bad = np.flatnonzero(np.abs(grade) > MAX_GRADE)
    if bad.size:
        k = int(bad[0])
        raise TraceError(
            f"{where}: the elevation in column {column!r} gives a road grade of {100 * grade[k]:.0f} % at row"
            f" {k + 2}, beyond {100 * MAX_GRADE:g} %; is the unit right (elevation_m or elevation_ft)?"
        )
    return grade


def _check_grade(written: FloatArray, column: str, where: str) -> FloatArray:
    """Road grade [1] from the column's unit, within +-MAX_GRADE; refused values are shown as written."""
    factor = _GRADE_COLUMNS[column.lower()]
    grade = written * factor
    bad = np.abs(grade) > MAX_GRADE
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        if column.lower() == "grade_pct":
            limit = MAX_GRADE / factor
            raise TraceError(f"{where}: road grade must be in [-{limit:g}, {limit:g}] % in column {column!r}; "
                             f"row {k + 2} has {written[k]:g} %")
        raise TraceError(
            f"{where}: road grade must be in [-{MAX_GRADE:g}, {MAX_GRADE:g}] as a fraction, rise over run "
            f"(0.05 = 5 %); row {k + 2} has {grade[k]:g} (give percent in a grade_pct column)"
        )
    return grade
