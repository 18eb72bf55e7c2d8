"""Remaining useful life of a cell from its capacity history: the forecast and the report on it.

:func:`remaining_useful_life` reads a capacity history (one row per cycle),
checks the threshold and horizon against it, forecasts the first cycle below
the threshold with
:func:`~twinloop.battery.health.forecast_end_of_life_state_space` and returns
a :class:`RulReport`, whose :meth:`~RulReport.to_dict` and
:meth:`~RulReport.to_table` are the documents ``twinloop battery rul`` prints.
Errors name the fields ``threshold``, ``horizon``, ``cycle_column`` and
``capacity_column``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop._internal.numbers import is_real
from twinloop.battery.health import (
    RulForecast,
    check_horizon,
    check_threshold,
    forecast_end_of_life_state_space,
)
from twinloop.errors import DataError, ValidationError, close_matches

__all__ = ["RulReport", "check_columns", "read_capacity_history", "remaining_useful_life"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RulReport:
    """A remaining-useful-life forecast with the history it was made from.

    Attributes
    ----------
    history : str
        The history's file.
    cycles, capacity : ndarray, shape (n,)
        The history: cycle numbers and measured capacity (rows with both).
    rows_skipped : int
        Rows of the file left out because a value was missing.
    threshold : float
        End-of-life capacity, in the unit of `capacity`.
    forecast : RulForecast
        The first crossing of `threshold`, its interval, horizon and model weights.
    """

    history: str
    cycles: Array
    capacity: Array
    rows_skipped: int
    threshold: float
    forecast: RulForecast

    @property
    def last_cycle(self) -> float:
        """The history's last cycle."""
        return float(self.cycles[-1])

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready document; cycles beyond the horizon are None (null)."""
        f = self.forecast

        def cycle(x: float) -> float | None:
            return round(x, 1) if np.isfinite(x) else None

        return {
            "history": self.history,
            "cycles_in_history": int(self.cycles.size),
            "rows_skipped": self.rows_skipped,
            "last_cycle": self.last_cycle,
            "threshold": self.threshold,
            "predicted_cycle": cycle(f.predicted_cycle),
            "remaining_cycles": cycle(f.predicted_cycle - self.last_cycle),
            "interval": [cycle(f.interval[0]), cycle(f.interval[1])],
            "level": f.level,
            "horizon": f.horizon,
            "probability_beyond_horizon": round(f.probability_beyond_horizon, 3),
            "model_weights": {k: round(v, 3) for k, v in f.weights.items()},
        }

    def to_table(self) -> str:
        """The report as a two-column text table, one line per item."""
        f = self.forecast
        last = self.last_cycle
        hi = f"{f.interval[1]:g}" if np.isfinite(f.interval[1]) else f"beyond {f.horizon:g}"
        skipped = f" ({self.rows_skipped} row(s) without a value skipped)" if self.rows_skipped else ""
        rows = [
            ("history", f"{self.cycles.size} cycles, last {last:g}, capacity {self.capacity[-1]:g}{skipped}"),
            ("threshold", f"{self.threshold:g}"),
            ("median crossing", f"cycle {f.predicted_cycle:g} ({f.predicted_cycle - last:g} to go)"
             if np.isfinite(f.predicted_cycle) else f"beyond cycle {f.horizon:g}"),
            (f"{f.level:.0%} interval", f"{f.interval[0]:g} to {hi}"),
            ("beyond the horizon", f"{f.probability_beyond_horizon:.1%} of forecasts"),
            ("model weights", ", ".join(f"{k} {v:.2f}" for k, v in f.weights.items())),
        ]
        return "\n".join(f"{k:20s} {v}" for k, v in rows)


def remaining_useful_life(
    path: str | Path,
    threshold: float,
    cycle_column: str = "cycle",
    capacity_column: str = "capacity_ah",
    level: float = 0.9,
    horizon: float | None = None,
) -> RulReport:
    """When capacity first falls below `threshold`, forecast from the capacity history in `path`.

    Parameters
    ----------
    path : str or Path
        CSV capacity history (see :func:`read_capacity_history`).
    threshold : float
        End-of-life capacity, in the unit of the capacity column; it must lie
        below every measured capacity (a history that already reaches it has
        nothing to forecast).
    cycle_column, capacity_column : str
        Column names.
    level : float, default 0.9
        Probability of the interval.
    horizon : float, optional
        Last cycle to forecast; default four times the history's last cycle
        (:func:`~twinloop.battery.health.check_horizon`).

    Returns
    -------
    RulReport

    Raises
    ------
    ValidationError
        The same column twice (``capacity_column``); a threshold not finite
        and > 0, in another unit than the history, or at or above a measured
        capacity (``threshold``); a horizon outside the history's last cycle
        and :data:`~twinloop.battery.health.MAX_HORIZON_CYCLES` after it.
    DataError, CalibrationError
        As :func:`read_capacity_history` and
        :func:`~twinloop.battery.health.forecast_end_of_life_state_space`.

    Examples
    --------
    >>> import tempfile
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> rows = [f"{k},{2.0 - 0.005 * k + 0.002 * (-1) ** k:.4f}" for k in range(1, 41)]
    >>> _ = f.write("cycle,capacity_ah\\n" + "\\n".join(rows) + "\\n"); f.close()
    >>> report = remaining_useful_life(f.name, 1.7)
    >>> report.to_dict()["cycles_in_history"], 40 < report.to_dict()["predicted_cycle"] < 80
    (40, True)
    >>> import os; os.unlink(f.name)
    """
    check_columns(cycle_column, capacity_column)
    if not (is_real(threshold) and math.isfinite(threshold) and threshold > 0):
        raise ValidationError("threshold", "a finite capacity > 0", threshold)
    cycles, capacity, skipped = read_capacity_history(path, cycle_column, capacity_column)
    check_threshold(capacity, threshold, "threshold")
    if threshold >= capacity.min():
        first = int(np.argmax(capacity <= threshold))
        hint = (
            f"The history already reaches it at cycle {cycles[first]:g}; choose a lower threshold, "
            f"or forecast from a copy of the file cut before that cycle"
            if first > 0
            else "The first measured capacity is already at or below it; choose a lower threshold"
        )
        raise ValidationError(
            "threshold", f"below every measured capacity (lowest {capacity.min():g})", threshold, hint=hint
        )
    if horizon is not None:
        check_horizon(float(cycles[-1]), horizon)
    forecast = forecast_end_of_life_state_space(cycles, capacity, threshold, horizon=horizon, level=level)
    return RulReport(str(path), cycles, capacity, skipped, threshold, forecast)


def check_columns(cycle_column: str, capacity_column: str) -> None:
    """Raise ValidationError when the cycle and capacity columns are one column.

    Examples
    --------
    >>> check_columns("cycle", "cycle")
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: capacity_column: expected a column other than `cycle_column` 'cycle', received 'cycle'
    """
    if cycle_column == capacity_column:
        raise ValidationError("capacity_column", f"a column other than `cycle_column` {cycle_column!r}", capacity_column)


def read_capacity_history(
    path: str | Path, cycle_column: str = "cycle", capacity_column: str = "capacity_ah"
) -> tuple[Array, Array, int]:
    """Read a capacity history: one row per cycle, a cycle number and a measured capacity.

    Parameters
    ----------
    path : str or Path
        CSV file with a header row (a UTF-8 byte-order mark is accepted).
    cycle_column, capacity_column : str
        Column names; default ``cycle`` and ``capacity_ah``.

    Returns
    -------
    cycles, capacity : ndarray
        Rows with both values, in file order (the forecast checks the order).
    skipped : int
        Rows left out because either value was missing.

    Raises
    ------
    DataError
        Unreadable file, a missing column (with the closest names and the
        field to pass them in, ```capacity_column```), a value that is not
        a number, or no row with both values.
    ValidationError
        The same column for both, or a capacity <= 0.

    Examples
    --------
    >>> import tempfile
    >>> f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False)
    >>> _ = f.write("cycle,capacity_ah\\n1,2.0\\n2,1.99\\n3,\\n"); f.close()
    >>> read_capacity_history(f.name)[1].tolist()
    [2.0, 1.99]
    >>> import os; os.unlink(f.name)
    """
    import pandas as pd

    check_columns(cycle_column, capacity_column)
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: file not found")
    try:
        frame = pd.read_csv(p, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a readable CSV file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for name, field_name in ((cycle_column, "cycle_column"), (capacity_column, "capacity_column")):
        if name not in frame.columns:
            matches = close_matches(name, frame.columns)
            hint = f" (did you mean {matches[0]!r}? pass `{field_name}` {matches[0]})" if matches else ""
            raise DataError(
                f"{p}: column {name!r} is missing{hint}; found {', '.join(map(str, frame.columns))}"
            )
    values = frame[[cycle_column, capacity_column]].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & frame[[cycle_column, capacity_column]].notna()
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise DataError(
            f"{p}: {[cycle_column, capacity_column][col]} in row {row + 1} is not a number: "
            f"{frame[[cycle_column, capacity_column]].iat[row, col]!r}"
        )
    rows = len(values)
    values = values.dropna()
    if values.empty:
        raise DataError(f"{p}: no row has both {cycle_column!r} and {capacity_column!r}")
    capacity = values[capacity_column].to_numpy(float)
    if np.any(capacity <= 0):
        row = int(values.index[np.flatnonzero(capacity <= 0)[0]]) + 1
        raise ValidationError(f"{capacity_column} (row {row})", "a capacity > 0", float(capacity[capacity <= 0][0]), str(p))
    return values[cycle_column].to_numpy(float), capacity, rows - len(values)
