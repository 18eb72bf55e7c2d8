"""Physical plausibility checks on a cell's data, against the two usual slips: sign and unit.

A battery's terminal voltage falls when its discharge current rises
(:math:`\\Delta v = -R\\,\\Delta i` with :math:`R > 0`), so the sign of the
voltage response to current steps tells a file recorded with discharge
negative from one recorded the other way; and a current in mA rather than A
shows as a rate of hundreds of C. Each check raises :class:`DataError` that
says which option fixes it.
"""

from __future__ import annotations

import numpy as np

from twinloop.errors import DataError
from twinloop.twin.battery.model import CellModel
from twinloop.twin.battery.simulate import SimulationResult
from twinloop.twin.battery.timeseries import TimeSeries

__all__ = ["MAX_C_RATE", "check_current_scale", "check_current_sign", "check_state_of_charge"]

#: Highest plausible charge or discharge rate [1/h]; above it the current's unit is wrong.
MAX_C_RATE = 50.0

#: Current steps of at least this share of the record's largest |current| count for the sign check.
_STEP_SHARE = 0.2

#: Fewest such steps before the sign check says anything.
_MIN_STEPS = 3


def check_current_sign(series: TimeSeries, flip_option: str = "--flip-current") -> None:
    """Raise DataError when the voltage rises with the discharge current (the sign is flipped).

    Over consecutive samples whose current changes by at least a fifth of the
    record's largest current, the median of :math:`\\Delta v / \\Delta i` is
    the cell's resistance and must be negative in this convention (positive
    current discharges). Records without voltage, or with fewer than three
    such steps, pass unchecked.

    Examples
    --------
    >>> t = np.arange(6.0)
    >>> check_current_sign(TimeSeries(t, [0, 10, 0, 10, 0, 10], [3.7, 3.6, 3.7, 3.6, 3.7, 3.6]))
    >>> check_current_sign(TimeSeries(t, [0, -10, 0, -10, 0, -10], [3.7, 3.6, 3.7, 3.6, 3.7, 3.6]))
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: the record: voltage_v rises when current_a rises (median dV/dI +10 mohm over 5 steps), ...
    """
    if series.voltage is None:
        return
    di = np.diff(series.current)
    dv = np.diff(series.voltage)
    big = np.abs(di) >= _STEP_SHARE * max(float(np.max(np.abs(series.current))), 1e-12)
    if big.sum() < _MIN_STEPS:
        return
    slope = float(np.median(dv[big] / di[big]))
    if slope > 0:
        raise DataError(
            f"{series.source or 'the record'}: voltage_v rises when current_a rises (median dV/dI "
            f"{slope * 1e3:+.3g} mohm over {int(big.sum())} steps), so current_a is recorded with discharge "
            f"negative; pass {flip_option} (current_a must be positive when discharging)"
        )


def check_current_scale(cell: CellModel, series: TimeSeries) -> None:
    """Raise DataError when the current reaches more than :data:`MAX_C_RATE` times the cell's capacity."""
    peak = float(np.max(np.abs(series.current)))
    rate = peak / (cell.capacity / 3600.0)
    if rate > MAX_C_RATE:
        raise DataError(
            f"{series.source or 'the record'}: current_a reaches {peak:g} A, {rate:.0f} C for this "
            f"{cell.capacity / 3600:.3g} Ah cell; current_a must be in amperes (a file in mA reads 1000 times too high)"
        )


def check_state_of_charge(result: SimulationResult, flip_option: str = "--flip-current") -> None:
    """Raise DataError when a simulated state of charge goes above full (the cell was charged past 1).

    Discharging below 0 is a result (the profile asks for more than the
    cell holds) and is left to the caller; charging past full means the
    profile charges a full cell, which is almost always a flipped sign.

    Examples
    --------
    >>> two = np.zeros((1, 2))
    >>> r = SimulationResult(np.array([0.0, 1.0]), two, two + 3.7, np.array([[1.0, 1.2]]), two, two, two)
    >>> check_state_of_charge(r)
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: the state of charge passes 1 (full) at time_s=1 and reaches 1.2: ...
    """
    soc = result.state_of_charge[0]
    over = np.flatnonzero(soc > 1.0 + 1e-6)
    if over.size:
        raise DataError(
            f"the state of charge passes 1 (full) at time_s={float(result.time[over[0]]):g} and reaches "
            f"{float(soc.max()):.3g}: the profile charges a full cell. If current_a is recorded with discharge "
            f"negative, pass {flip_option}; otherwise start lower with --soc-start"
        )
