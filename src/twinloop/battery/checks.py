"""Physical plausibility checks on a cell's data, against the usual slips: sign and units.

A battery's terminal voltage falls when its discharge current rises
(:math:`\\Delta v = -R\\,\\Delta i` with :math:`R > 0`), so the sign of the
voltage response to current steps tells a file recorded with discharge
negative from one recorded the other way; where there are no steps (a
constant-current discharge), the voltage must still fall as the counted
charge says the cell discharges. A current in mA rather than A shows as a
rate of hundreds of C, or, where the capacity itself comes from the record,
as a cell of a thousand ampere-hours; a time in ms rather than s as a net
charge of many capacities at a plausible rate. Each check raises
:class:`DataError` (or :class:`ValidationError` for an argument) that names
the field that fixes it in backticks (```flip_current```, ```capacity```), so
that the command line can write its own option there.
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
    "MAX_CHARGE_SWING",
    "MAX_C_RATE",
    "check_charge_direction",
    "check_current_scale",
    "check_current_sign",
    "check_state_of_charge",
    "check_test_capacity",
    "check_time_scale",
]

#: Highest plausible charge or discharge rate [1/h]; above it the current's unit is wrong.
MAX_C_RATE = 50.0

#: Largest capacity [Ah] taken for one cell without being told (EV and storage cells hold a few
#: hundred Ah); a record in mA makes a 1 Ah cell look like 1000 Ah.
MAX_CELL_CAPACITY_AH = 700.0

#: Largest net charge a measured record may move [capacities]: a cell holds one, a measured capacity
#: may exceed the rated one by a quarter, and counting drifts a little. A time in ms moves a thousand times
#: the charge the record moved.
MAX_CHARGE_SWING = 2.0

#: A pulse test whose peak current is below this rate [1/h] of the charge it draws has its time in ms
#: (the charge reads 1000 times too high and the rate 1000 times too low; a current in mA leaves the rate
#: right). HPPC pulses run at 1 C and more, the slowest pseudo-OCV tests at C/100.
_MIN_PEAK_RATE = 0.005

#: A pulse test must draw at least this share of the cell's capacity from full (the OCV needs half
#: the SoC range, as :func:`~twinloop.battery.identify.identify_table` asks) ...
_MIN_DRAWN_SHARE = 0.5

#: ... and at most this multiple of it (a measured capacity above the rated one by up to a quarter).
_MAX_DRAWN_SHARE = 1.25

#: Current steps of at least this share of the record's largest |current| count for the sign check.
_STEP_SHARE = 0.2

#: Fewest such steps before the sign check says anything.
_MIN_STEPS = 3

#: The charge-direction check compares samples whose current lies within this share of the record's
#: largest |current| of the most common one (there the resistive drop is the same) ...
_LEVEL_SHARE = 0.02
#: ... needs this many of them ...
_MIN_LEVEL_SAMPLES = 20
#: ... spanning at least this share of the capacity, when it is known ...
_MIN_SWING_SHARE = 0.02
#: ... and refuses a voltage that moves the wrong way by more than this [V] (OCV relaxation and sensor
#: noise stay well below; a flipped constant-current discharge moves it by tenths of a volt).
_MAX_WRONG_WAY = 0.02

_FLIP = "pass `flip_current` (current_a must be positive when discharging)"


def _charge_out(series: TimeSeries) -> np.ndarray:
    """Cumulative discharged charge [A s] at each sample (current held between samples)."""
    return np.r_[0.0, np.cumsum(series.current[:-1] * np.diff(series.time))]


def check_current_sign(series: TimeSeries) -> None:
    """Raise DataError when the voltage rises with the discharge current (the sign is flipped).

    Over consecutive samples whose current changes by at least a fifth of the
    record's largest current, the median of :math:`\\Delta v / \\Delta i` is
    the cell's resistance and must be negative in this convention (positive
    current discharges). Records without voltage, or with fewer than three
    such steps, pass unchecked (see :func:`check_charge_direction`).

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
            f"negative; {_FLIP}"
        )


def check_charge_direction(series: TimeSeries, capacity: float | None = None) -> None:
    """Raise DataError when the voltage falls while the counted charge says the cell charges, or the reverse.

    The check that needs no current steps: over the samples at the record's
    most common current (within :data:`_LEVEL_SHARE` of its largest
    |current|, so that the resistive drop is the same on all of them) the
    voltage must fall as the charge counted out of the cell grows, as the
    OCV does. A constant-current discharge recorded with discharge negative
    counts as a charge while its voltage falls. The samples must span
    :data:`_MIN_SWING_SHARE` of `capacity` [A s] when it is given; records
    without voltage or with fewer than :data:`_MIN_LEVEL_SAMPLES` such samples
    pass unchecked.

    Examples
    --------
    >>> t = np.arange(0.0, 3600.0, 60.0)
    >>> check_charge_direction(TimeSeries(t, np.ones(t.size), 4.1 - t / 7200), 3600.0)
    >>> check_charge_direction(TimeSeries(t, -np.ones(t.size), 4.1 - t / 7200), 3600.0)
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: the record: voltage_v falls by 0.492 V while current_a, counted over time_s, charges ...
    """
    if series.voltage is None or series.time.size < _MIN_LEVEL_SAMPLES:
        return
    amps = series.current
    peak = float(np.max(np.abs(amps)))
    if peak <= 0:
        return
    level = np.round(amps / (_LEVEL_SHARE * peak))
    values, counts = np.unique(level, return_counts=True)
    same = level == values[int(np.argmax(counts))]
    q = _charge_out(series)[same]
    v = series.voltage[same]
    swing = float(np.ptp(q))
    if same.sum() < _MIN_LEVEL_SAMPLES or swing <= 0 or (capacity is not None and swing < _MIN_SWING_SHARE * capacity):
        return
    wrong_way = float(np.polyfit(q, v, 1)[0]) * swing  # the voltage's rise as the counted discharge grows [V]
    if wrong_way <= _MAX_WRONG_WAY:
        return
    charges = q[-1] < q[0]
    moves = "falls" if charges else "rises"
    raise DataError(
        f"{series.source or 'the record'}: voltage_v {moves} by {wrong_way:.3g} V while current_a, counted over "
        f"time_s, {'charges' if charges else 'discharges'} the cell by {abs(q[-1] - q[0]) / 3600:.3g} Ah (the "
        f"{int(same.sum())} samples at its most common current_a, {float(np.median(amps[same])):.3g} A), so "
        f"current_a is recorded with discharge negative; {_FLIP}"
    )


def check_current_scale(cell: CellModel | float, series: TimeSeries, capacity_field: str | None = None) -> None:
    """Raise DataError when the current reaches more than :data:`MAX_C_RATE` times the cell's capacity.

    `cell` is a cell model or its capacity [A s]; `capacity_field`, when the
    caller gave the capacity, is named as the other suspect.

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
        also = f", or `{capacity_field}` is too small" if capacity_field else ""
        raise DataError(
            f"{series.source or 'the record'}: current_a reaches {peak:g} A, {rate:.0f} C for this "
            f"{capacity / 3600:.3g} Ah cell; current_a must be in amperes (a file in mA reads 1000 times too high){also}"
        )


def check_test_capacity(
    series: TimeSeries,
    capacity: float | None = None,
    state_of_charge: float | None = None,
    unit: str = "A s",
) -> None:
    """Before identifying a cell from a pulse test: its capacity, given or found, against the units of the record.

    The test's peak current must be at least C/200 of the charge it draws
    from full (a time in ms draws 1000 times the charge at a thousandth of
    the rate). Without `capacity` the test's discharge from full to the
    cut-off is the capacity, and a cell above :data:`MAX_CELL_CAPACITY_AH`
    means a current in mA. With `capacity` [A s] the current must stay
    within :data:`MAX_C_RATE` of it, and the charge the test draws from its
    full state must lie between half the capacity (less leaves the OCV
    unobservable) and a quarter more than it. Errors of
    :func:`~twinloop.battery.identify.coulomb_state_of_charge` (no full
    state, no cut-off) pass through as identification would raise them.
    `state_of_charge` [1] is the SoC at the first sample when the record has
    no full state; `unit` (``"A s"`` or ``"Ah"``) is the unit in which the
    caller's user gave the capacity, for the message (`capacity` itself is
    always [A s]). Errors name the field ```capacity```.

    Examples
    --------
    >>> t = np.arange(0.0, 3601.0, 60.0)
    >>> s = TimeSeries(t, np.r_[np.ones(60), 0.0], np.linspace(4.2, 3.0, t.size))
    >>> check_test_capacity(s)
    >>> check_test_capacity(s, 3600.0)
    >>> check_test_capacity(s, 3.6e6, unit="Ah")
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: capacity: expected a capacity between 0.8 and 2 Ah ...
    """
    where = series.source or "the record"
    per_unit = 3600.0 if unit == "Ah" else 1.0
    if capacity is None:
        _, found = coulomb_state_of_charge(series, None, state_of_charge)
        _check_pulse_time_scale(series, found)
        if found / 3600.0 > MAX_CELL_CAPACITY_AH:
            raise DataError(
                f"{where}: the discharge from full to the cut-off draws {found / 3600:.4g} Ah (current_a up to "
                f"{float(np.max(np.abs(series.current))):g} A), more than one cell holds (at most "
                f"{MAX_CELL_CAPACITY_AH:g} Ah taken as plausible); current_a must be in amperes (a file in mA reads "
                f"1000 times too high). If this really is one cell that large, give its capacity with `capacity`"
            )
        return
    check_current_scale(capacity, series, "capacity")
    soc, _ = coulomb_state_of_charge(series, capacity, state_of_charge)
    drawn_charge = (float(np.max(soc)) - float(np.min(soc[int(np.argmax(soc)):]))) * capacity
    _check_pulse_time_scale(series, drawn_charge)
    drawn = drawn_charge / per_unit
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
            f"{unit}): check `capacity`, {in_unit}, or give a test that discharges further"
        )
    else:
        hint = (
            f"The test draws more than the capacity given ({drawn:.3g} {unit} against {given:g} {unit}): check "
            f"`capacity`{', ' + in_unit if unit != 'Ah' else ''}, or leave it out to take the capacity from the "
            "test's discharge to the cut-off"
        )
    raise ValidationError(
        "capacity",
        f"a capacity between {lo:.3g} and {hi:.3g} {unit} (the test draws {drawn:.3g} {unit} from its full state, "
        "which must be at least half the capacity)",
        given,
        where=series.source or None,
        hint=hint,
    )


def _check_pulse_time_scale(series: TimeSeries, drawn: float) -> None:
    """Raise DataError when a pulse test's peak rate, against the charge `drawn` [A s] from full, is below C/200 (ms)."""
    peak = float(np.max(np.abs(series.current)))
    if drawn <= 0 or peak / (drawn / 3600.0) >= _MIN_PEAK_RATE:
        return
    raise DataError(
        f"{series.source or 'the record'}: time_s looks like milliseconds: the test draws {drawn / 3600:.4g} Ah from "
        f"its full state at a peak current_a of {peak:g} A, a peak rate of {peak / (drawn / 3600):.2g} C, over "
        f"{series.duration / 3600:.4g} h; a time in ms reads so (1000 times the charge at a thousandth of the rate). "
        "time_s must be in seconds (divide a time in ms by 1000)"
    )


def check_time_scale(series: TimeSeries, capacity: float, max_swing: float = MAX_CHARGE_SWING) -> None:
    """Raise DataError when time_s looks like milliseconds: the record moves more charge than a cell holds.

    The charge counted out of the cell (current held between samples) may
    swing by at most `max_swing` times `capacity` [A s] over the record
    (:data:`MAX_CHARGE_SWING` for a measured record; a commanded profile may
    ask for more, up to the cut-off). A time in ms multiplies that swing by
    1000 while the current, and so the rate, stays plausible. Steps of
    1000 (1 Hz data in ms, within 1 %) count as milliseconds already beyond
    :data:`MAX_CHARGE_SWING`. Run :func:`check_current_scale` first: a
    current in mA swings the charge as much.

    Examples
    --------
    >>> t = np.arange(0.0, 3600.0, 1.0)
    >>> check_time_scale(TimeSeries(t, np.ones(t.size)), 3600.0)
    >>> check_time_scale(TimeSeries(1000 * t, np.ones(t.size)), 3600.0)
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: the record: time_s looks like milliseconds: ...
    """
    swing = float(np.ptp(_charge_out(series)))
    thousand = abs(float(np.median(np.diff(series.time))) - 1000.0) <= 10.0  # 1 Hz with a logger's jitter
    if not (swing > max_swing * capacity or (thousand and swing > MAX_CHARGE_SWING * capacity)):
        return
    raise DataError(
        f"{series.source or 'the record'}: time_s looks like milliseconds: with the current held between samples "
        f"the record moves {swing / 3600:.4g} Ah, {swing / capacity:.0f} times the capacity of this "
        f"{capacity / 3600:.3g} Ah cell, at up to {float(np.max(np.abs(series.current))):g} A over "
        f"{series.duration:g} s ({series.duration / 86400:.3g} days)"
        + (", in steps of 1000 as 1 Hz data reads in ms" if thousand else "")
        + "; time_s must be in seconds (divide a time in ms by 1000)"
    )


def check_state_of_charge(result: SimulationResult) -> None:
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
            "negative, pass `flip_current`; otherwise start lower with `state_of_charge`"
        )
