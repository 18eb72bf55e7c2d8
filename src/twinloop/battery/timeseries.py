"""Laboratory and vehicle time series of one cell: current, voltage, temperature.

The file format at the boundary is CSV with columns ``time_s``, ``current_a``
(positive = discharge), ``voltage_v`` and optionally ``temperature_c``.
Inside, units are SI and temperatures in kelvin.

Each current is held until the next sample (zero-order hold), so charge is
the sum of current times interval. Two consequences are checked here:

* Cyclers and simulation experiments write two rows with one time at a
  current step (the end of one step, the start of the next).
  :func:`read_timeseries` keeps the row *after* the step: from that time the
  new current flows, and the row before it would hold its current over no
  time at all. It counts them in :attr:`TimeSeries.repeated_times` and says
  so in :attr:`TimeSeries.notes`. A repeated time without a current step is
  refused (a duplicated row, or times rounded too coarsely), as is a time
  that goes back.
* A logging gap with current flowing counts charge that nobody measured
  (:meth:`TimeSeries.check_logging_gaps`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.conventions import celsius_to_kelvin, kelvin_to_celsius
from twinloop.errors import DataError, ValidationError, close_matches

__all__ = [
    "DEFAULT_TEMPERATURE",
    "GAP_FACTOR",
    "MIN_GAP",
    "REST_SHARE",
    "STEP_SHARE",
    "TimeSeries",
    "check_temperature",
    "read_timeseries",
]

Array = npt.NDArray[np.float64]

_COLUMNS = ("time_s", "current_a", "voltage_v", "temperature_c")

#: Cell temperature taken when a record has none and none is given [K] (25 degC).
DEFAULT_TEMPERATURE = celsius_to_kelvin(25.0)

#: A sampling interval is a logging gap when it is longer than this many median intervals ...
GAP_FACTOR = 10.0
#: ... and than this [s] (a cycler that logs a slow constant-current step every few minutes has no gap) ...
MIN_GAP = 600.0
#: ... and the current held across it is not a rest: at least this share of the record's largest |current|.
REST_SHARE = 0.02

#: Two rows with one time are a current step when current_a changes between them by at least this share
#: of the record's largest |current| (the end of a CV charge at C/50 against 3 C pulses is 0.7 %; sensor
#: noise between two readings of one step is far less).
STEP_SHARE = 0.005

#: The ranges a record's columns must lie in: (column, low, high, unit).
_RANGES = (
    ("voltage_v", 0.0, 10.0, "V per cell"),
    ("temperature_c", -60.0, 120.0, "degC"),
    ("current_a", -5000.0, 5000.0, "A"),
)


@dataclass(frozen=True)
class TimeSeries:
    """A cell's measured (or commanded) time series.

    Attributes
    ----------
    time : ndarray, shape (t,)
        Time [s], strictly increasing.
    current : ndarray, shape (t,)
        Current [A], positive when discharging; held until the next sample.
    voltage : ndarray, shape (t,) or None
        Terminal voltage [V].
    temperature : ndarray, shape (t,) or None
        Cell (surface) temperature [K].
    source : str
        Where the data came from (file name), for messages and provenance.
    repeated_times : int
        Rows :func:`read_timeseries` left out because their time repeated at a
        current step (the row after each step is kept); 0 for a record built
        in memory.
    notes : tuple of str
        What the reader changed in the record, one sentence each, for the
        caller to show (the command line prints them on stderr).
    """

    time: Array
    current: Array
    voltage: Array | None = None
    temperature: Array | None = None
    source: str = field(default="")
    repeated_times: int = field(default=0, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        where = self.source or None

        def numbers(name: str, values: object) -> Array:
            try:
                return np.asarray(values, dtype=float)
            except (TypeError, ValueError) as exc:
                raise DataError(f"{name}{' in ' + where if where else ''}: not numbers ({exc})") from None

        time = numbers("time_s", self.time)
        n = time.size
        if time.ndim != 1 or n < 2:
            raise DataError(
                f"{self.source or 'time series'}: need at least 2 samples in a 1-D time_s, received shape {time.shape}"
            )
        columns = {"time_s": time, "current_a": numbers("current_a", self.current)}
        if self.voltage is not None:
            columns["voltage_v"] = numbers("voltage_v", self.voltage)
        if self.temperature is not None:
            kelvin = numbers("temperature", self.temperature)
            if kelvin.size and np.all((kelvin > -60.0) & (kelvin < 120.0)) and np.any(kelvin < 173.15):
                raise ValidationError(
                    "temperature", "a cell temperature in K", float(kelvin.flat[0]), where,
                    hint=f"TimeSeries.temperature is in kelvin (read_timeseries converts temperature_c): "
                    f"{float(kelvin.flat[0]):g} degC is {celsius_to_kelvin(float(kelvin.flat[0])):g} K",
                )
            columns["temperature_c"] = kelvin_to_celsius(kelvin)
        for name, values in columns.items():
            if values.shape != (n,):
                raise ValidationError(name, f"{n} samples like time_s", f"{values.size} samples", where)
            missing = ~np.isfinite(values)
            if missing.any():
                first = int(np.flatnonzero(missing)[0])
                raise DataError(
                    f"{name}{' in ' + where if where else ''}: {int(missing.sum())} missing or non-numeric "
                    f"value(s), the first at row {first + 1} (time_s={time[first] if np.isfinite(time[first]) else 'n/a'}); "
                    "fill or cut the sensor gap before using the record"
                )
        steps = np.diff(time)
        if np.any(steps <= 0):
            k = int(np.flatnonzero(steps <= 0)[0])
            raise ValidationError(
                "time_s", "strictly increasing values", f"{time[k + 1]} after {time[k]} at row {k + 2}", where
            )
        object.__setattr__(self, "time", time)
        object.__setattr__(self, "current", columns["current_a"])
        if self.voltage is not None:
            object.__setattr__(self, "voltage", columns["voltage_v"])
        if self.temperature is not None:
            object.__setattr__(self, "temperature", np.asarray(self.temperature, dtype=float))
        _check_ranges(columns, where)

    @property
    def duration(self) -> float:
        """Duration [s]."""
        return float(self.time[-1] - self.time[0])

    def window(self, start: float, stop: float) -> TimeSeries:
        """The samples with ``start <= time <= stop`` (time kept as is)."""
        sel = (self.time >= start) & (self.time <= stop)
        return TimeSeries(
            self.time[sel],
            self.current[sel],
            None if self.voltage is None else self.voltage[sel],
            None if self.temperature is None else self.temperature[sel],
            self.source,
        )

    def require_voltage(self, purpose: str) -> Array:
        """The voltage, or a DataError naming the missing column."""
        if self.voltage is None:
            raise DataError(f"{self.source or 'time series'}: column voltage_v is needed {purpose}")
        return self.voltage

    def check_gaps(self, max_gap: float) -> None:
        """Raise DataError if two samples are more than `max_gap` [s] apart."""
        steps = np.diff(self.time)
        if np.any(steps > max_gap):
            k = int(np.argmax(steps))
            raise DataError(
                f"{self.source or 'time series'}: gap of {steps[k]:g} s in time_s after {self.time[k]:g} s "
                f"(longest allowed {max_gap:g} s); the record has a sensor or logging gap there"
            )

    @property
    def logging_gap_limit(self) -> float:
        """Longest sampling interval [s] with current flowing: :data:`GAP_FACTOR` median intervals, at least :data:`MIN_GAP`."""
        return max(GAP_FACTOR * float(np.median(np.diff(self.time))), MIN_GAP)

    def check_logging_gaps(self, min_charge: float = 0.0, strict: bool = False) -> None:
        """Raise DataError for a logging gap with current flowing: the charge counted across it is a guess.

        Each current is held until the next sample, so across an interval
        longer than :attr:`logging_gap_limit` the held current counts charge
        nobody measured. Refused when that current is not a rest (at least
        :data:`REST_SHARE` of the record's largest |current|) and moves more
        than `min_charge` [A s]. With `strict` (a laboratory record, where
        the cycler logs throughout) a gap is refused too when the current is
        at rest before it but not after it: the step may have come anywhere
        in the gap. A rest on both sides (a parked car, a cell on the shelf)
        counts nothing and passes; without `strict`, so does a gap at rest
        before it (a car that parked; a profile's rest, held to its next
        sample). Current steps play no part.

        Examples
        --------
        >>> TimeSeries([0.0, 1.0, 2.0, 3000.0], [0.0, 1.0, 0.0, 1.0]).check_logging_gaps()
        >>> TimeSeries([0.0, 1.0, 2.0, 3000.0], [0.0, 1.0, 1.0, 0.0]).check_logging_gaps()
        Traceback (most recent call last):
        ...
        twinloop.errors.DataError: time series: gap of 2998 s in time_s after 2 s with current_a 1 A held across it ...
        >>> TimeSeries([0.0, 1.0, 2.0, 3000.0], [0.0, 1.0, 0.0, 1.0]).check_logging_gaps(strict=True)
        Traceback (most recent call last):
        ...
        twinloop.errors.DataError: time series: gap of 2998 s in time_s after 2 s with current_a 0 A before it and 1 A after it ...
        """
        dt = np.diff(self.time)
        limit = self.logging_gap_limit
        amps = self.current
        flowing = (np.abs(amps) >= REST_SHARE * float(np.max(np.abs(amps)))) & (amps != 0)
        held = flowing[:-1] & (np.abs(amps[:-1]) * dt > min_charge)
        gap = (dt > limit) & (held | (flowing[1:] if strict else False))
        if not gap.any():
            return
        k = int(np.flatnonzero(gap)[0])
        what = (
            f"with current_a {amps[k]:g} A held across it ({abs(amps[k]) * dt[k] / 3600:.3g} Ah counted that nobody "
            "measured"
            if held[k]
            else f"with current_a {amps[k]:g} A before it and {amps[k + 1]:g} A after it (the current may have "
            "started anywhere in it"
        )
        raise DataError(
            f"{self.source or 'time series'}: gap of {dt[k]:g} s in time_s after {self.time[k]:g} s {what}; the "
            f"longest interval allowed with current flowing is {limit:g} s: {GAP_FACTOR:g} median intervals of "
            f"{float(np.median(dt)):g} s, at least {MIN_GAP:g} s). The record has a logging gap there: split it at "
            "the gap, or add a sample with the current during the gap (0 A if the cell rested)"
        )

    def check_signals(self) -> None:
        """Raise DataError if voltage is stuck or saturated while the current changes."""
        if self.voltage is None:
            return
        v = self.voltage
        where = self.source or "time series"
        span = float(np.ptp(self.current))
        if np.ptp(v) < 1e-6:
            raise DataError(f"{where}: voltage_v is stuck at {v[0]:g} V over the whole record")
        for name, level in (("maximum", v.max()), ("minimum", v.min())):
            share = float(np.mean(np.abs(v - level) < 5e-4))
            if share > 0.5:
                raise DataError(
                    f"{where}: voltage_v sits at its {name} {level:g} V in {share:.0%} of samples; "
                    "the sensor is saturated or the range is clipped"
                )
        # longest run of identical voltage samples while the current moves
        change = np.r_[True, np.diff(v) != 0.0]
        starts = np.flatnonzero(change)
        ends = np.r_[starts[1:], v.size]
        lengths = ends - starts
        k = int(np.argmax(lengths))
        run = slice(starts[k], ends[k])
        if lengths[k] > max(20, 0.1 * v.size) and span > 0 and np.ptp(self.current[run]) > 0.5 * span:
            raise DataError(
                f"{where}: voltage_v is stuck at {v[starts[k]]:g} V for {lengths[k]} samples "
                f"(time_s {self.time[starts[k]]:g} to {self.time[ends[k] - 1]:g}) while current_a changes"
            )


def _check_ranges(columns: dict[str, Array], where: str | None) -> None:
    """Raise ValidationError naming the first row of a column outside its range (:data:`_RANGES`)."""
    for name, lo, hi, unit in _RANGES:
        if name in columns:
            check_range(name, columns[name], lo, hi, where, unit)


def check_range(name: str, values: Array, lo: float, hi: float, where: str | None, unit: str) -> None:
    """Raise ValidationError naming the first value outside [lo, hi]."""
    bad = (values < lo) | (values > hi)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"{name} (row {k + 1})", f"a number in [{lo:g}, {hi:g}] {unit}", float(values[k]), where)


def check_temperature(name: str, value: object, where: str | None = None) -> float:
    """`value` as a cell temperature [K], or a ValidationError that names a value in degC."""
    try:
        kelvin = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(name, "a temperature in K (a number)", value, where) from None
    if not 173.15 <= kelvin <= 373.15:
        hint = (
            f"Temperatures are in kelvin: {kelvin:g} degC is {celsius_to_kelvin(kelvin):g} K"
            if -100.0 <= kelvin <= 100.0
            else None
        )
        raise ValidationError(name, "a temperature in [173.15, 373.15] K (-100 to 100 degC)", value, where, hint)
    return kelvin


def read_timeseries(path: str | Path, flip_current: bool = False, require_voltage: bool = True) -> TimeSeries:
    """Read a CSV time series with columns ``time_s, current_a, voltage_v[, temperature_c]``.

    Parameters
    ----------
    path : str or Path
        CSV file with a header row.
    flip_current : bool, default False
        Negate the current, for data recorded with discharge negative.
    require_voltage : bool, default True
        Whether ``voltage_v`` must be present.

    Returns
    -------
    TimeSeries
        With temperature converted to kelvin. Where time_s repeats at a
        current step (a cycler's step boundary), the row after the step is
        kept and the one before it left out; ``repeated_times`` counts them
        and ``notes`` says so.

    Raises
    ------
    DataError
        Unreadable file, missing column (with the closest names), gaps (NaN).
    ValidationError
        A time that goes back, or repeats without a current step (rows are
        counted from the first after the header).

    Examples
    --------
    >>> import io, tempfile, os
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> _ = f.write("time_s,current_a,voltage_v\\n0,1,3.7\\n1,1,3.69\\n"); f.close()
    >>> read_timeseries(f.name).current.tolist()
    [1.0, 1.0]
    >>> os.unlink(f.name)

    A step from 1 A to rest written twice at 2 s keeps the row at rest:

    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> _ = f.write("time_s,current_a,voltage_v\\n0,1,3.7\\n1,1,3.69\\n2,1,3.68\\n2,0,3.72\\n3,0,3.73\\n"); f.close()
    >>> s = read_timeseries(f.name)
    >>> s.current.tolist(), s.repeated_times
    ([1.0, 1.0, 0.0, 0.0], 1)
    >>> os.unlink(f.name)
    """
    p = Path(path)
    try:
        frame = pd.read_csv(p)
    except FileNotFoundError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a readable CSV file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    needed = ["time_s", "current_a"] + (["voltage_v"] if require_voltage else [])
    for name in needed:
        if name not in frame.columns:
            matches = close_matches(name, frame.columns)
            hint = f"; did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""
            raise DataError(
                f"{p}: column {name!r} is missing (found {', '.join(map(str, frame.columns))}){hint}; "
                f"expected columns: {', '.join(needed)}, optionally "
                f"{', '.join(c for c in _COLUMNS if c not in needed)} (current in A, voltage in V, temperature in degC)"
            )

    def column(name: str) -> Array | None:
        if name not in frame.columns:
            return None
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        return values

    time = column("time_s")
    current = column("current_a")
    assert time is not None and current is not None
    voltage = column("voltage_v")
    temperature_c = column("temperature_c")
    kept, notes = _at_current_steps(
        {"time_s": time, "current_a": current, "voltage_v": voltage, "temperature_c": temperature_c}, str(p)
    )
    return TimeSeries(
        time=time[kept],
        current=(-current if flip_current else current)[kept],
        voltage=None if voltage is None else voltage[kept],
        temperature=None if temperature_c is None else celsius_to_kelvin(temperature_c[kept]),
        source=str(p),
        repeated_times=int(time.size - np.count_nonzero(kept)),
        notes=notes,
    )


def _at_current_steps(columns: dict[str, Array | None], where: str) -> tuple[npt.NDArray[np.bool_], tuple[str, ...]]:
    """The rows to keep where time_s repeats at a current step (the row after it), and a note saying so.

    Rows are numbered as in the file, from the first after the header, so
    every error about them is checked here on all rows, before any is left
    out. A record with a missing value keeps every row: :class:`TimeSeries`
    names the value and its row.
    """
    time, current = columns["time_s"], columns["current_a"]
    assert time is not None and current is not None
    kept = np.ones(time.size, dtype=bool)
    present = {name: values for name, values in columns.items() if values is not None}
    if time.size < 2 or not all(np.all(np.isfinite(v)) for v in present.values()):
        return kept, ()
    steps = np.diff(time)
    if np.any(steps < 0):
        k = int(np.flatnonzero(steps < 0)[0])
        raise ValidationError(
            "time_s", "strictly increasing values", f"{time[k + 1]} after {time[k]} at row {k + 2}", where
        )
    repeats = np.flatnonzero(steps == 0)
    if repeats.size == 0:
        return kept, ()
    change = np.abs(np.diff(current))[repeats]
    still = repeats[(change < STEP_SHARE * float(np.max(np.abs(current)))) | (change == 0)]
    if still.size:
        k = int(still[0])
        raise ValidationError(
            "time_s",
            "strictly increasing values, or a time repeated at a current step (where the row after the step is "
            f"kept): current_a changing by at least {STEP_SHARE:.1%} of its largest value",
            f"{time[k]:g} at rows {k + 1} and {k + 2} with current_a {current[k]:g} A, then {current[k + 1]:g} A",
            where,
            hint="Remove the duplicated row, or write time_s with more decimals if it was rounded",
        )
    _check_ranges({name: values for name, values in present.items() if name != "time_s"}, where)
    kept[repeats] = False
    first = int(repeats[0])
    note = (
        f"{where}: time_s repeats at {repeats.size} current step(s), the first at time_s={time[first]:g} (rows "
        f"{first + 1} and {first + 2}); the row after each step is kept and the {repeats.size} row(s) before "
        "left out"
    )
    return kept, (note,)
