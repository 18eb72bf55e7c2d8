"""Laboratory and vehicle time series of one cell: current, voltage, temperature.

The file format at the boundary is CSV with columns ``time_s``, ``current_a``
(positive = discharge), ``voltage_v`` and optionally ``temperature_c``.
Inside, units are SI and temperatures in kelvin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.errors import DataError, ValidationError, close_matches

__all__ = ["TimeSeries", "check_temperature", "read_timeseries"]

Array = npt.NDArray[np.float64]

_COLUMNS = ("time_s", "current_a", "voltage_v", "temperature_c")


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
    """

    time: Array
    current: Array
    voltage: Array | None = None
    temperature: Array | None = None
    source: str = field(default="")

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
                    f"{float(kelvin.flat[0]):g} degC is {float(kelvin.flat[0]) + 273.15:g} K",
                )
            columns["temperature_c"] = kelvin - 273.15
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
            check_range("voltage_v", columns["voltage_v"], 0.0, 10.0, where, "V per cell")
        if self.temperature is not None:
            object.__setattr__(self, "temperature", np.asarray(self.temperature, dtype=float))
            check_range("temperature_c", columns["temperature_c"], -60.0, 120.0, where, "degC")
        check_range("current_a", columns["current_a"], -5000.0, 5000.0, where, "A")

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
            f"Temperatures are in kelvin: {kelvin:g} degC is {kelvin + 273.15:g} K"
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
        With temperature converted to kelvin.

    Raises
    ------
    DataError
        Unreadable file, missing column (with the closest names), gaps (NaN).

    Examples
    --------
    >>> import io, tempfile, os
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> _ = f.write("time_s,current_a,voltage_v\\n0,1,3.7\\n1,1,3.69\\n"); f.close()
    >>> read_timeseries(f.name).current.tolist()
    [1.0, 1.0]
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
    temperature_c = column("temperature_c")
    return TimeSeries(
        time=time,
        current=-current if flip_current else current,
        voltage=column("voltage_v"),
        temperature=None if temperature_c is None else temperature_c + 273.15,
        source=str(p),
    )
