"""Physical plausibility checks on a cell's data, against the two usual slips: sign and unit.

A battery's terminal voltage falls when its discharge current rises
(:math:`\\Delta v = -R\\,\\Delta i` with :math:`R > 0`), so the sign of the
voltage response to current steps tells a file recorded with discharge
negative from one recorded the other way; and a current in mA rather than A
shows as a rate of hundreds of C, or, where the capacity itself comes from
the record, as a cell of a thousand ampere-hours. Each check raises
:class:`DataError` (or :class:`ValidationError` for an option) that says
which option fixes it.
"""

from __future__ import annotations

import numpy as np

from twinloop.battery.identify import coulomb_state_of_charge
from twinloop.battery.model import CellModel
from twinloop.battery.simulate import SimulationResult
from twinloop.battery.timeseries import TimeSeries
from twinloop.errors import DataError, ValidationError

__all__ = [
    "MAX_CELL_CAPACITY_AH",
    "MAX_C_RATE",
    "check_current_scale",
    "check_current_sign",
    "check_state_of_charge",
    "check_test_capacity",
]

#: Highest plausible charge or discharge rate [1/h]; above it the current's unit is wrong.
MAX_C_RATE = 50.0

#: Largest capacity [Ah] taken for one cell without being told (EV and storage cells hold a few
#: hundred Ah); a record in mA makes a 1 Ah cell look like 1000 Ah.
MAX_CELL_CAPACITY_AH = 700.0

#: A pulse test must draw at least this share of the cell's capacity from full (the OCV needs half
#: the SoC range, as :func:`~twinloop.battery.identify.identify_table` asks) ...
_MIN_DRAWN_SHARE = 0.5

#: ... and at most this multiple of it (a measured capacity above the rated one by up to a quarter).
_MAX_DRAWN_SHARE = 1.25

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


def check_current_scale(cell: CellModel | float, series: TimeSeries, capacity_option: str | None = None) -> None:
    """Raise DataError when the current reaches more than :data:`MAX_C_RATE` times the cell's capacity.

    `cell` is a cell model or its capacity [A s]; `capacity_option`, when the
    capacity was given on the command line, is named as the other suspect.

    Examples
    --------
    >>> t = np.arange(3.0)
    >>> check_current_scale(3600.0, TimeSeries(t, [0.0, 2.0, 0.0], [3.7, 3.6, 3.7]))
    >>> check_current_scale(3600.0, TimeSeries(t, [0.0, 2000.0, 0.0], [3.7, 3.6, 3.7]))
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: the record: current_a reaches 2000 A, 2000 C for this 1 Ah cell; ...
    """
    capacity = cell.capacity if isinstance(cell, CellModel) else float(cell)
    peak = float(np.max(np.abs(series.current)))
    rate = peak / (capacity / 3600.0)
    if rate > MAX_C_RATE:
        also = f", or {capacity_option} is too small" if capacity_option else ""
        raise DataError(
            f"{series.source or 'the record'}: current_a reaches {peak:g} A, {rate:.0f} C for this "
            f"{capacity / 3600:.3g} Ah cell; current_a must be in amperes (a file in mA reads 1000 times too high){also}"
        )


def check_test_capacity(
    series: TimeSeries,
    capacity: float | None = None,
    option: str = "--capacity-ah",
    state_of_charge: float | None = None,
    unit: str = "Ah",
) -> None:
    """Before identifying a cell from a pulse test: its capacity, given or found, against the current's unit.

    Without `capacity` the test's discharge from full to the cut-off is the
    capacity, and a cell above :data:`MAX_CELL_CAPACITY_AH` means a current in
    mA. With `capacity` [A s] the current must stay within
    :data:`MAX_C_RATE` of it, and the charge the test draws from its full
    state must lie between half the capacity (less leaves the OCV
    unobservable) and a quarter more than it. Errors of
    :func:`~twinloop.battery.identify.coulomb_state_of_charge` (no full
    state, no cut-off) pass through as identification would raise them.
    `state_of_charge` [1] is the SoC at the first sample when the record has
    no full state; `unit` (``"Ah"`` or ``"A s"``) is the unit in which the
    user gave `option`, for the message (`capacity` itself is always [A s]).

    Examples
    --------
    >>> t = np.arange(0.0, 3601.0, 60.0)
    >>> s = TimeSeries(t, np.r_[np.ones(60), 0.0], np.linspace(4.2, 3.0, t.size))
    >>> check_test_capacity(s)
    >>> check_test_capacity(s, 3600.0)
    >>> check_test_capacity(s, 3.6e6)
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: --capacity-ah: expected a capacity between 0.8 and 2 Ah ...
    """
    where = series.source or "the record"
    per_unit = 3600.0 if unit == "Ah" else 1.0
    if capacity is None:
        _, found = coulomb_state_of_charge(series, None, state_of_charge)
        if found / 3600.0 > MAX_CELL_CAPACITY_AH:
            raise DataError(
                f"{where}: the discharge from full to the cut-off draws {found / 3600:.4g} Ah (current_a up to "
                f"{float(np.max(np.abs(series.current))):g} A), more than one cell holds (at most "
                f"{MAX_CELL_CAPACITY_AH:g} Ah taken as plausible); current_a must be in amperes (a file in mA reads "
                f"1000 times too high). If this really is one cell that large, give its capacity with {option}"
            )
        return
    check_current_scale(capacity, series, option)
    soc, _ = coulomb_state_of_charge(series, capacity, state_of_charge)
    drawn = (float(np.max(soc)) - float(np.min(soc[int(np.argmax(soc)):]))) * capacity / per_unit
    given = capacity / per_unit
    lo, hi = drawn / _MAX_DRAWN_SHARE, drawn / _MIN_DRAWN_SHARE
    if lo <= given <= hi:
        return
    in_unit = (
        "which is in Ah (a value in mAh reads 1000 times too high)"
        if unit == "Ah"
        else "which is in A s (1 Ah = 3600 A s; a value in Ah reads 3600 times too low)"
    )
    if given > hi:
        hint = (
            f"The capacity given is far above the charge the test draws ({given:g} {unit} against {drawn:.3g} "
            f"{unit}): check {option}, {in_unit}, or give a test that discharges further"
        )
    else:
        hint = (
            f"The test draws more than the capacity given ({drawn:.3g} {unit} against {given:g} {unit}): check "
            f"{option}{', ' + in_unit if unit != 'Ah' else ''}, or leave it out to take the capacity from the "
            "test's discharge to the cut-off"
        )
    raise ValidationError(
        option,
        f"a capacity between {lo:.3g} and {hi:.3g} {unit} (the test draws {drawn:.3g} {unit} from its full state, "
        "which must be at least half the capacity)",
        given,
        where=series.source or None,
        hint=hint,
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
