"""Identify an equivalent-circuit cell model from pulse tests, and its thermal lump.

Method (per test temperature)
-----------------------------
1. SoC by coulomb counting, anchored at the fullest point of the record
   (the end of the charge to the upper voltage limit) and scaled by the
   charge delivered from there to the lower cut-off (or a given capacity).
2. The terminal voltage is *linear* in the OCV table, the R0 table and the
   RC-resistance tables once the RC time constants are fixed:

   .. math:: v_k = \\sum_j w_j(z_k) U_j - I_k \\sum_j w_j(z_k) R_{0,j}
             - \\sum_i \\sum_j R_{i,j}\\, x^{(\\tau_i)}_{j,k}

   where :math:`w_j` are the linear-interpolation weights of the uniform SoC
   grid and :math:`x^{(\\tau)}_j` is the response of a unit RC pair with time
   constant :math:`\\tau` to the current :math:`w_j(z) I`. The time constants
   are chosen on a logarithmic grid (variable projection, [2]_); for each
   candidate the linear parameters follow from a regularised least-squares
   fit of the *whole* voltage record (pulses, relaxations and the slow
   discharges between them), and a final bounded fit
   (:func:`scipy.optimize.lsq_linear`) keeps resistances positive.
3. Temperature dependence: one table per test temperature; the model
   interpolates log-resistances in 1/T (Arrhenius between tables).

The thermal lump (heat capacity, h A) is fitted with
:func:`scipy.optimize.least_squares` on a discharge with a thermocouple,
simulating the coupled electro-thermal model.

References
----------
.. [1] Plett, G. L. (2015). Battery Management Systems, Vol. I. Artech House, ch. 2.
.. [2] Golub, G. and Pereyra, V. (2003). Separable nonlinear least squares: the
   variable projection method and its applications. Inverse Problems 19(2),
   R1-R26. doi:10.1088/0266-5611/19/2/201
.. [3] Hu, X., Li, S. and Peng, H. (2012). A comparative study of equivalent
   circuit models for Li-ion batteries. J. Power Sources 198, 359-367.
   doi:10.1016/j.jpowsour.2011.10.013
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import optimize

from twinloop import __version__
from twinloop._internal.numbers import is_real
from twinloop.battery import _tables
from twinloop.battery.model import CellModel, CellTable, FitQuality, ThermalParameters
from twinloop.battery.simulate import simulate
from twinloop.battery.timeseries import DEFAULT_TEMPERATURE, TimeSeries, check_temperature
from twinloop.errors import CalibrationError, UnknownNameError, ValidationError
from twinloop.physics.battery import ecm

__all__ = [
    "DischargeTest",
    "coulomb_state_of_charge",
    "fit_thermal",
    "identify_cell",
    "identify_from_tests",
    "identify_table",
]

Array = npt.NDArray[np.float64]

DEFAULT_TIME_CONSTANTS = tuple(float(x) for x in np.geomspace(2.0, 2000.0, 16))


@dataclass(frozen=True)
class DischargeTest:
    """A constant-current discharge from a known state, fitted beside the pulse tests.

    Pulses at one low current leave some parameters poorly identified: the
    OCV near the ends of the SoC range (the pulse test passes the last tenth
    in one step), the resistance at low SoC under a sustained current, and
    the slow RC time constant, which a one-hour rest sees but a full
    discharge drives. A full discharge at 1C or 2C shows them.

    Attributes
    ----------
    series : TimeSeries
        The discharge, with voltage; with ``temperature`` (the cell's
        surface, [K]) when measured.
    capacity : float
        Capacity of the cell that was discharged [A s], measured apart from
        the discharge voltages (for instance
        :func:`twinloop.battery.health.capacity_from_charge` on its CC-CV
        charge): the state of charge is counted against it.
    state_of_charge : float, default 1
        At the first sample [1] (1: the discharge starts from full charge).
    temperature : float, optional
        Test temperature [K] for a series without one; with neither, 25 degC.

    Examples
    --------
    >>> t = np.arange(0.0, 3601.0, 60.0)
    >>> d = DischargeTest(TimeSeries(t, np.full(t.size, 1.0), 4.0 - t / 3600), capacity=3600.0)
    >>> d.state_of_charge, d.mean_temperature
    (1.0, 298.15)
    """

    series: TimeSeries
    capacity: float
    state_of_charge: float = 1.0
    temperature: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.series, TimeSeries):
            raise ValidationError("series", "a TimeSeries", type(self.series).__name__, "DischargeTest")
        where = self.series.source or "discharge test"
        self.series.require_voltage("to identify the cell on a discharge")
        if not (_finite(self.capacity) and self.capacity > 0):
            raise ValidationError("capacity", "a finite number > 0 A s (1 Ah = 3600 A s)", self.capacity, where)
        if not (_finite(self.state_of_charge) and 0 < self.state_of_charge <= 1):
            raise ValidationError("state_of_charge", "a fraction in (0, 1]", self.state_of_charge, where)
        if self.temperature is not None:
            object.__setattr__(self, "temperature", check_temperature("temperature", self.temperature, where))

    @property
    def mean_temperature(self) -> float:
        """The series' mean temperature, else `temperature`, else 25 degC [K]."""
        if self.series.temperature is not None:
            return float(np.mean(self.series.temperature))
        return DEFAULT_TEMPERATURE if self.temperature is None else float(self.temperature)

    def temperatures(self) -> Array:
        """Temperature at each sample [K] (constant without a measured one)."""
        if self.series.temperature is not None:
            return np.asarray(self.series.temperature, dtype=float)
        return np.full(self.series.time.size, self.mean_temperature)


def _finite(value: object) -> bool:
    """Whether `value` is a real, finite number."""
    return is_real(value) and bool(np.isfinite(value))




def _charge_out(series: TimeSeries) -> Array:
    """Cumulative discharged charge [A s] at each sample (current held between samples)."""
    return np.r_[0.0, np.cumsum(series.current[:-1] * np.diff(series.time))]


def coulomb_state_of_charge(
    series: TimeSeries, capacity: float | None = None, state_of_charge: float | None = None
) -> tuple[Array, float]:
    """SoC by coulomb counting, anchored at full charge, and the capacity it implies.

    Parameters
    ----------
    series : TimeSeries
        Needs ``voltage`` unless both `capacity` and `state_of_charge` are given.
    capacity : float, optional
        [A s]. Without it, the charge from the anchor to the lowest voltage,
        which must be the cut-off (the record must end discharged).
    state_of_charge : float, optional
        SoC [1] at the first sample. Without it the fullest point of the
        record (least cumulative discharge) is taken as SoC = 1 and its
        voltage must be near the record's maximum.

    Returns
    -------
    soc : ndarray, shape (t,)
        [1], not clipped.
    capacity : float
        [A s].

    Raises
    ------
    CalibrationError
        When the record has no full charge or no discharge to the cut-off
        and the missing value was not given.

    Examples
    --------
    >>> s = TimeSeries([0.0, 1800.0, 3600.0], [1.0, 1.0, 0.0], [4.2, 3.7, 3.0])
    >>> soc, q = coulomb_state_of_charge(s)
    >>> soc.tolist(), q
    ([1.0, 0.5, 0.0], 3600.0)
    """
    q = _charge_out(series)
    where = series.source or "the record"
    if state_of_charge is not None and not 0.0 <= state_of_charge <= 1.0:
        raise ValidationError("state_of_charge", "a number in [0, 1] (a fraction, not %)", state_of_charge, series.source or None)
    if state_of_charge is not None and capacity is None and not state_of_charge > 0.0:
        raise ValidationError(
            "state_of_charge", "> 0 when the capacity comes from the record (the charge drawn from it to empty)",
            state_of_charge, series.source or None, "Give the capacity too",
        )
    if state_of_charge is None:
        anchor = int(np.argmin(q))
        v = series.require_voltage("to find the full state")
        near = q - q[anchor] <= 0.005 * max(float(np.ptp(q)), 1e-9)
        if v[near].max() < v.max() - 0.05:
            raise CalibrationError(
                f"{where}: the record has no full charge (the least-discharged point, time_s={series.time[anchor]:g}, "
                f"is at {v[anchor]:.3f} V, below the record maximum {v.max():.3f} V); charge to the upper limit "
                "before the pulses, or check the current's sign (positive discharging; `flip_current`)"
            )
        soc_anchor, q_anchor = 1.0, float(q[anchor])
    else:
        anchor, soc_anchor, q_anchor = 0, float(state_of_charge), 0.0
    if capacity is None:
        v = series.require_voltage("to find the capacity")
        after = anchor + int(np.argmax(q[anchor:]))
        near = q[after] - q <= 0.005 * max(float(np.ptp(q)), 1e-9)
        if v[near].min() > v.min() + 0.05 or q[after] - q_anchor <= 0:
            raise CalibrationError(
                f"{where}: the record does not discharge to a cut-off after the full state (the most discharged point, "
                f"time_s={series.time[after]:g}, is at {v[after]:.3f} V, the lowest voltage is {v.min():.3f} V); "
                "give the capacity (`capacity`)"
            )
        capacity = float(q[after] - q_anchor) / soc_anchor
    if not capacity > 0:
        raise ValidationError("capacity", "> 0 A s", capacity, series.source or None)
    return soc_anchor - (q - q_anchor) / capacity, float(capacity)


def _check_observable(series: TimeSeries, where: str) -> None:
    amps = series.current
    scale = float(np.max(np.abs(amps)))
    if series.time.size < 50:
        raise CalibrationError(f"{where}: {series.time.size} samples are too few to calibrate; need at least 50")
    if scale <= 0:
        raise CalibrationError(f"{where}: current_a is zero throughout; R0 and the RC pairs are unobservable")
    steps = np.abs(np.diff(amps)) > 0.2 * scale
    rest = np.abs(amps) < 0.02 * scale
    if steps.sum() < 2:
        raise CalibrationError(
            f"{where}: no current pulses (found {int(steps.sum())} current step(s) larger than 20% of the peak "
            f"{scale:g} A); R0 and the RC pairs are unobservable without pulses and rests (HPPC)"
        )
    if rest.sum() < 10:
        raise CalibrationError(
            f"{where}: no rest periods (|current| < 2% of peak); the RC relaxation and the OCV are unobservable"
        )


def _rc_responses(time: Array, current: Array, w: Array, taus: Array) -> Array:
    """Unit-resistance RC responses x[g, k, j] to the current w_j(z) I (shape (G, N, m))."""
    n, m = w.shape
    drive = w * current[:, None]
    dt = np.diff(time)
    x = np.zeros((taus.size, m))
    out = np.empty((taus.size, n, m))
    tau_col = taus[:, None]
    for k in range(n):
        out[:, k, :] = x
        if k < n - 1:
            x = ecm.rc_voltage_step(x, drive[k][None, :], 1.0, tau_col, dt[k])
    return out


def surface_shift(time: Array, current: Array, shift_per_c: float, time_constant: float, capacity: float) -> Array:
    """Bulk minus surface SoC [1] at each sample: a first-order lag of the C-rate.

    ``shift_per_c`` is the steady shift at 1C [1]; the lag has the same exact
    zero-order-hold form as an RC pair (:func:`~twinloop.physics.battery.ecm.rc_voltage_step`).
    """
    out = np.zeros(time.size)
    if shift_per_c <= 0:
        return out
    gain = shift_per_c * 3600.0 / capacity
    dt = np.diff(time)
    x = 0.0
    for k in range(time.size - 1):
        x = float(ecm.rc_voltage_step(x, current[k], gain, time_constant / gain, dt[k]))
        out[k + 1] = x
    return out


def _second_difference(k: int) -> Array:
    d = np.zeros((max(k - 2, 0), k))
    for i in range(k - 2):
        d[i, i : i + 3] = (1.0, -2.0, 1.0)
    return d


def _discharge_rows(
    discharges: Sequence[DischargeTest], temperature: float, pulse_tables: Sequence[CellTable], ocv_points: int,
    resistance_points: int, taus: Array, rows_per_second: float,
) -> tuple[Array, Array]:
    """Design rows and voltages of the discharges, weighted by the time each sample holds.

    At a sample between the table being fitted and a neighbour, the model
    blends the two (OCV linear, resistances log-linear in 1/T): the rows carry
    the fitted table's share, the neighbour's OCV share moves to the voltage
    side, and its resistances enter as the factor :math:`(R_o / R_f)^{b}`
    relative to the pulse-only table (linearised around it).
    """
    ncols = ocv_points + resistance_points * (1 + taus.size)
    blocks, values = [np.zeros((0, ncols))], [np.zeros(0)]
    if not discharges:
        return blocks[0], values[0]
    # without the pulse-only tables the discharges are taken at `temperature`, all of them in this table
    order: list[CellTable | None] = [*sorted(pulse_tables, key=lambda t: t.temperature)] or [None]
    temps = np.array([temperature if t is None else t.temperature for t in order])
    fitted = int(np.argmin(np.abs(temps - temperature)))
    r_grid = _tables.grid(resistance_points)

    def on_grid(table: CellTable | None) -> tuple[Array, Array]:
        """R0 and the sum of the RC resistances on this fit's SoC grid."""
        if table is None:
            return np.ones(resistance_points), np.ones(resistance_points)
        return (_tables.lookup(r_grid, table.ohmic_resistance),
                _tables.lookup(r_grid, table.rc_resistance.sum(axis=0)))

    grids = [on_grid(t) for t in order]
    for d in discharges:
        if not isinstance(d, DischargeTest):
            raise ValidationError("discharges", "DischargeTest items", type(d).__name__)
        s = d.series
        volts = s.require_voltage("to identify the cell on a discharge")
        soc, _ = coulomb_state_of_charge(s, d.capacity, d.state_of_charge)
        z = np.clip(soc, 0.0, 1.0)
        k = s.time.size
        i, w = _tables.temperature_weights(d.temperatures(), temps)
        j = np.minimum(i + 1, temps.size - 1)
        share = np.where(i == fitted, 1.0 - w, 0.0) + np.where(j == fitted, w, 0.0)  # the fitted table's weight
        other = np.where(i == fitted, j, i)
        known_ocv = np.zeros(k)
        r0_factor = np.ones((k, resistance_points))
        rc_factor = np.ones((k, resistance_points))
        for o in np.unique(other):
            if o == fitted:
                continue
            sel = other == o
            b = (1.0 - share[sel])[:, None]
            table = order[o]
            assert table is not None  # with one table every sample is the fitted table's
            known_ocv[sel] = (1.0 - share[sel]) * _tables.lookup(z[sel], table.open_circuit_voltage)
            r0_factor[sel] = (grids[o][0] / grids[fitted][0]) ** b
            rc_factor[sel] = (grids[o][1] / grids[fitted][1]) ** b
        w_r = _tables.weights(z, resistance_points)
        resp = _rc_responses(s.time, s.current, w_r, taus) * rc_factor[None, :, :]
        block = np.hstack([
            _tables.weights(z, ocv_points) * share[:, None], -w_r * r0_factor * s.current[:, None],
            -resp.transpose(1, 0, 2).reshape(k, taus.size * resistance_points),
        ])
        held = np.zeros(k)
        held[:-1] += 0.5 * np.diff(s.time)
        held[1:] += 0.5 * np.diff(s.time)
        root = np.sqrt(held * rows_per_second) * (share > 0)  # a sample the fitted table has no share in is left out
        blocks.append(block * root[:, None])
        values.append((volts - known_ocv) * root)
    return np.vstack(blocks), np.concatenate(values)


def identify_table(
    series: TimeSeries,
    temperature: float,
    capacity: float | None = None,
    state_of_charge: float | None = None,
    n_rc: int = 2,
    ocv_points: int = 41,
    resistance_points: int = 11,
    time_constants: Sequence[float] = DEFAULT_TIME_CONSTANTS,
    smoothing: float = 1.0,
    diffusion: tuple[float, float] = (0.0, 1000.0),
    discharges: Sequence[DischargeTest] = (),
    pulse_tables: Sequence[CellTable] = (),
) -> CellTable:
    r"""Identify OCV, R0 and RC parameters at one temperature from a pulse test (and discharges).

    Parameters
    ----------
    series : TimeSeries
        A pulse test (HPPC or a dynamic profile with rests), with voltage,
        starting at or passing through full charge (see
        :func:`coulomb_state_of_charge`).
    temperature : float
        Test temperature [K].
    capacity : float, optional
        [A s]; by default from the discharge to the cut-off.
    state_of_charge : float, optional
        SoC [1] at the first sample, if the record has no full charge.
    n_rc : {1, 2}
        Number of RC pairs.
    ocv_points, resistance_points : int
        Sizes of the uniform SoC tables.
    time_constants : sequence of float
        Candidate RC time constants [s].
    smoothing : float, default 1
        Weight of the curvature penalty on the tables (>= 0).
    diffusion : tuple of float, default (0, 1000)
        Surface-SoC lag: steady shift at 1C [1] and time constant [s] (off at 0).
    discharges : sequence of DischargeTest, optional
        Constant-current discharges fitted together with the pulse test: the
        same tables, each discharge's SoC counted against its own capacity.
        Each of their samples weighs the time it holds, at the pulse test's
        rows per second, so that a second of discharge counts as much as a
        second of pulse test.
    pulse_tables : sequence of CellTable, optional
        The cell's tables identified from the pulses alone, this temperature's
        among them: at a discharge sample whose temperature lies between this
        table and another, the fit blends them as the model will (OCV linear,
        resistances log-linear in 1/T, linearised around the pulse-only
        table). Without them the discharges are taken at `temperature`.

    Returns
    -------
    CellTable
        With its fit quality on `series` (the pulse test alone).

    Raises
    ------
    CalibrationError
        Too little data, no pulses or rests, no full charge or cut-off.
    DataError
        The voltage rises with the discharge current (the sign is flipped),
        the current is in mA (a rate above 50 C, or a cell above 700 Ah), the
        time in ms (a peak current below C/200 of the charge the test draws),
        the voltage is stuck or saturated, or a logging gap with current
        flowing, or at rest before it only (``strict``
        :meth:`TimeSeries.check_logging_gaps`): the charge counted across it
        would be a guess.
    ValidationError
        An argument outside its range: `temperature` not in kelvin,
        `capacity` not between 0.8 and 2 times the charge the test draws from
        its full state (a value in Ah instead of A s, say), table sizes
        below 2.

    Examples
    --------
    >>> t = np.arange(0.0, 4000.0)
    >>> amps = np.where((t % 400) >= 300, 10.0, 0.0)
    >>> soc = 1 - np.r_[0, np.cumsum(amps[:-1])] / 16000.0
    >>> volts = 3.0 + soc - 0.01 * amps
    >>> tab = identify_table(TimeSeries(t, amps, volts), 298.15, capacity=16000.0, n_rc=1)
    >>> round(float(tab.ohmic_resistance.mean()), 3), bool(tab.fit.rmse < 1e-3)
    (0.01, True)
    """
    from twinloop.battery.checks import (  # checks imports this module
        check_current_sign,
        check_test_capacity,
    )

    where = series.source or "pulse test"
    volts = series.require_voltage("to identify the cell")
    temperature = check_temperature("temperature", temperature, series.source or None)
    series.check_logging_gaps(strict=True)
    series.check_signals()
    _check_observable(series, where)
    if n_rc not in (1, 2):
        raise ValidationError("n_rc", "1 or 2", n_rc, where)
    for name, value in (("ocv_points", ocv_points), ("resistance_points", resistance_points)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
            raise ValidationError(name, "an integer >= 2 (table entries on the SoC grid 0..1)", value, where)
    if not _finite(smoothing) or smoothing < 0:
        raise ValidationError("smoothing", "a finite number >= 0", smoothing, where)
    taus = np.sort(np.atleast_1d(np.asarray(time_constants, dtype=float)).ravel())
    if taus.size < n_rc or not np.all(np.isfinite(taus) & (taus > 0)):
        raise ValidationError("time_constants", f"at least {n_rc} finite values > 0 s", taus.tolist(), where)
    if capacity is not None and not (_finite(capacity) and capacity > 0):
        raise ValidationError("capacity", "a finite number > 0 A s (1 Ah = 3600 A s)", capacity, where)
    # the slips a notebook makes: discharge recorded negative, current in mA, time in ms, capacity in Ah
    check_current_sign(series)
    check_test_capacity(series, capacity, state_of_charge, unit="A s")
    soc, cap = coulomb_state_of_charge(series, capacity, state_of_charge)
    # fit from the full state on: what precedes it is preconditioning
    # (discharge and charge from empty) with a different hysteresis branch
    start = int(np.argmax(soc)) if state_of_charge is None else 0
    if start:
        keep = slice(start, None)
        series = TimeSeries(series.time[keep], series.current[keep], volts[keep], None, series.source)
        volts, soc = volts[keep], soc[keep]
        _check_observable(series, where)
    z = np.clip(soc, 0.0, 1.0)
    amps = series.current
    n = amps.size
    shift = surface_shift(series.time, amps, diffusion[0], diffusion[1], cap)
    w_ocv = _tables.weights(np.clip(soc - shift, 0.0, 1.0), ocv_points)
    w_r = _tables.weights(z, resistance_points)
    base = np.hstack([w_ocv, -w_r * amps[:, None]])
    resp = _rc_responses(series.time, amps, w_r, taus)  # (G, N, m)
    g, m = taus.size, resistance_points
    full = np.hstack([base, -resp.transpose(1, 0, 2).reshape(n, g * m)])
    rows, values = _discharge_rows(discharges, float(temperature), pulse_tables, ocv_points, m, taus,
                                   n / max(float(series.time[-1] - series.time[0]), 1e-9))
    stacked, target_v = np.vstack([full, rows]), np.r_[volts, values]
    gram = stacked.T @ stacked
    rhs = stacked.T @ target_v
    vv = float(target_v @ target_v)
    nb = base.shape[1]

    # curvature penalties scaled to the data (rows of the normal equations)
    scale = np.sqrt(n) * smoothing
    d_ocv = _second_difference(ocv_points) * (0.02 * scale)
    d_r = _second_difference(resistance_points) * (scale * float(np.mean(np.abs(amps))) * 0.5)
    ridge = 1e-9 * np.trace(gram) / gram.shape[0]

    def columns(pair: tuple[int, ...]) -> npt.NDArray[np.int64]:
        return np.r_[np.arange(nb), *[nb + p * m + np.arange(m) for p in pair]].astype(np.int64)

    def penalty(ncols: int) -> Array:
        blocks = [d_ocv, d_r] + [d_r] * n_rc
        pen = np.zeros((sum(b.shape[0] for b in blocks), ncols))
        r = c = 0
        for b in blocks:
            pen[r : r + b.shape[0], c : c + b.shape[1]] = b
            r, c = r + b.shape[0], c + b.shape[1]
        return pen

    pen = penalty(nb + n_rc * m)
    pen_gram = pen.T @ pen
    best: tuple[float, tuple[int, ...]] | None = None
    for pair in itertools.combinations(range(g), n_rc):
        idx = columns(pair)
        a = gram[np.ix_(idx, idx)] + pen_gram + ridge * np.eye(idx.size)
        theta = np.linalg.solve(a, rhs[idx])
        sse = vv - 2 * theta @ rhs[idx] + theta @ gram[np.ix_(idx, idx)] @ theta
        if best is None or sse < best[0]:
            best = (float(sse), pair)
    assert best is not None
    idx = columns(best[1])
    design = np.vstack([stacked[:, idx], pen])
    target = np.r_[target_v, np.zeros(pen.shape[0])]
    lower = np.r_[np.full(ocv_points, 0.0), np.full(idx.size - ocv_points, 1e-7)]
    upper = np.r_[np.full(ocv_points, 10.0), np.full(idx.size - ocv_points, 10.0)]
    sol = optimize.lsq_linear(design, target, bounds=(lower, upper), method="bvls", lsmr_tol="auto")
    theta = sol.x
    resid = full[:, idx] @ theta - volts
    ocv_tab = theta[:ocv_points]
    r0 = theta[ocv_points:nb]
    rrc = theta[nb:].reshape(n_rc, m)
    covered = (z.min(), z.max())
    if covered[1] - covered[0] < 0.5:
        raise CalibrationError(
            f"{where}: the test covers SoC {covered[0]:.2f} to {covered[1]:.2f} only; the OCV needs at least half "
            "the SoC range (discharge through the pulses to the cut-off)"
        )
    return CellTable(
        temperature=float(temperature),
        open_circuit_voltage=ocv_tab,
        ohmic_resistance=r0,
        rc_resistance=rrc,
        rc_time_constant=taus[list(best[1])],
        capacity=cap,
        fit=FitQuality(
            source=Path(series.source).name if series.source else "",
            rmse=float(np.sqrt(np.mean(resid**2))),
            max_error=float(np.max(np.abs(resid))),
            samples=n,
        ),
    )


def _check_tests(tests: object) -> None:
    """Raise unless `tests` is a non-empty list of TimeSeries."""
    if isinstance(tests, TimeSeries) or not isinstance(tests, Sequence):
        raise ValidationError("tests", "a list of TimeSeries, one per temperature", type(tests).__name__,
                              hint="For one test write identify_cell([series], [temperature])")
    if len(tests) == 0:
        raise CalibrationError("no pulse test given; identification needs at least one")


def identify_cell(
    tests: Sequence[TimeSeries],
    temperatures: Sequence[float],
    capacity: float | None = None,
    name: str = "cell",
    n_rc: int = 2,
    discharges: Sequence[DischargeTest] = (),
    **options: float,
) -> CellModel:
    """Identify a cell model from pulse tests at one or more temperatures, and optionally discharges.

    Parameters
    ----------
    tests : sequence of TimeSeries
        One pulse test per temperature.
    temperatures : sequence of float
        Test temperatures [K], one per test.
    capacity : float, optional
        Cell capacity [A s]; by default the median of the tests' capacities.
    name : str
    n_rc : {1, 2}
        Number of RC pairs.
    discharges : sequence of DischargeTest, optional
        Constant-current discharges to identify on beside the pulses. The
        tables are first identified from the pulses alone; each discharge
        then joins the fit of the table nearest its mean temperature; where
        its measured temperature lies between that table and another, the
        fit blends them as the model does (see :func:`identify_table`).
    **options
        Passed to :func:`identify_table` (``state_of_charge``, ``ocv_points``,
        ``resistance_points``, ``time_constants``, ``smoothing``, ``diffusion``);
        an unknown name is refused with the closest ones.

    Returns
    -------
    CellModel
        Without a thermal model (see :func:`fit_thermal`); voltage limits from
        the data; ``provenance["current_range_a"]`` is the range of currents
        it was identified on (the model is linear in current, so beyond it
        the model extrapolates).

    Examples
    --------
    >>> t = np.arange(0.0, 4000.0)
    >>> amps = np.where((t % 400) >= 300, 10.0, 0.0)
    >>> soc = 1 - np.r_[0, np.cumsum(amps[:-1])] / 16000.0
    >>> s = TimeSeries(t, amps, 3.0 + soc - 0.01 * amps)
    >>> identify_cell([s], [298.15], capacity=16000.0, n_rc=1).capacity
    16000.0
    """
    _check_tests(tests)
    if np.ndim(temperatures) != 1:
        raise ValidationError("temperatures", f"a list of temperatures [K], one per test ({len(tests)})", temperatures)
    temperatures = [check_temperature(f"temperatures[{i}]", t) for i, t in enumerate(temperatures)]
    if len(temperatures) != len(tests):
        raise ValidationError(
            "temperatures", f"one temperature [K] per test ({len(tests)})", temperatures
        )
    if len(set(temperatures)) != len(temperatures):
        raise ValidationError("temperatures", "distinct temperatures [K]", temperatures)
    known = [k for k in identify_table.__code__.co_varnames[3 : identify_table.__code__.co_argcount]
             if k not in ("n_rc", "discharges", "pulse_tables")]
    for key in options:
        if key not in known:
            raise UnknownNameError("identify_table option", key, known, hint=f"options are {', '.join(known)}")
    if isinstance(discharges, DischargeTest) or not isinstance(discharges, Sequence):
        raise ValidationError("discharges", "a list of DischargeTest", type(discharges).__name__)
    for d in discharges:
        if not isinstance(d, DischargeTest):
            raise ValidationError("discharges", "a list of DischargeTest", type(d).__name__)
    tables = tuple(
        identify_table(s, t, capacity=capacity, n_rc=n_rc, **options)  # type: ignore[arg-type]
        for s, t in zip(tests, temperatures, strict=True)
    )
    method = f"ECM with {n_rc} RC pair(s), whole-record regularised least squares (twinloop.battery.identify)"
    if discharges:
        nearest = [int(np.argmin([abs(d.mean_temperature - t) for t in temperatures])) for d in discharges]
        tables = tuple(
            identify_table(
                s, t, capacity=capacity, n_rc=n_rc, pulse_tables=tables,
                discharges=[d for d, k in zip(discharges, nearest, strict=True) if k == i],
                **options,  # type: ignore[arg-type]
            )
            if i in nearest else table
            for i, (s, t, table) in enumerate(zip(tests, temperatures, tables, strict=True))
        )
        method += (f"; with {len(discharges)} constant-current discharge(s) fitted into the table nearest each"
                   " one's mean temperature, blended with its neighbours as the model interpolates")
    volts = [s.voltage for s in tests if s.voltage is not None]
    cap = capacity if capacity is not None else float(np.median([t.capacity for t in tables]))
    sources = ", ".join(Path(s.source).name for s in [*tests, *(d.series for d in discharges)] if s.source)
    # the equivalent circuit is linear in current: outside the currents it was
    # identified on it is an extrapolation (see docs/battery.md, 3C discharge)
    every = [*tests, *(d.series for d in discharges)]
    low = min(float(s.current.min()) for s in every)
    high = max(float(s.current.max()) for s in every)
    return CellModel(
        capacity=cap,
        tables=tables,
        voltage_min=round(float(min(v.min() for v in volts)), 4),
        voltage_max=round(float(max(v.max() for v in volts)), 4),
        name=name,
        provenance={
            "software": f"twinloop {__version__}",
            "method": method,
            "data": sources,
            "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "current_range_a": f"{low:.6g} .. {high:.6g}",
        },
    )


def identify_from_tests(
    tests: Sequence[TimeSeries],
    temperatures: Sequence[float] | None = None,
    capacity: float | None = None,
    name: str = "cell",
    n_rc: int = 2,
    thermal_test: TimeSeries | None = None,
    ambient_temperature: float | None = None,
    capacity_unit: str = "A s",
) -> CellModel:
    """A cell model from pulse tests, and its thermal lump from a discharge: what ``twinloop battery identify`` does.

    Parameters
    ----------
    tests : sequence of TimeSeries
        One pulse test per temperature (see :func:`identify_table`).
    temperatures : sequence of float, optional
        Test temperatures [K], one per test. Default: each test's mean
        temperature, or :data:`~twinloop.battery.timeseries.DEFAULT_TEMPERATURE`
        (25 degC) for a test without one.
    capacity : float, optional
        Cell capacity [A s]; by default from each test's discharge to the cut-off.
    name : str
        Model name.
    n_rc : {1, 2}
        Number of RC pairs.
    thermal_test : TimeSeries, optional
        A discharge with the cell's (surface) temperature, to fit the lumped
        thermal model (:func:`fit_thermal`).
    ambient_temperature : float, optional
        Ambient temperature of `thermal_test` [K]; default its first temperature.
    capacity_unit : {"A s", "Ah"}
        The unit in which the caller's user gave `capacity`, for messages.

    Returns
    -------
    CellModel
        With a thermal model when `thermal_test` is given.

    Raises
    ------
    DataError, CalibrationError, ValidationError
        As :func:`identify_table`, checked on every test before any fit
        (errors name the fields ```capacity``` and ```flip_current```); for
        `thermal_test`, a logging gap, a current in mA or a time in ms.

    Examples
    --------
    >>> t = np.arange(0.0, 4000.0)
    >>> amps = np.where((t % 400) >= 300, 10.0, 0.0)
    >>> soc = 1 - np.r_[0, np.cumsum(amps[:-1])] / 16000.0
    >>> s = TimeSeries(t, amps, 3.0 + soc - 0.01 * amps)
    >>> cell = identify_from_tests([s], capacity=16000.0, n_rc=1)
    >>> cell.tables[0].temperature
    298.15
    """
    from twinloop.battery.checks import (  # checks imports this module
        check_current_scale,
        check_current_sign,
        check_test_capacity,
        check_time_scale,
    )

    _check_tests(tests)
    for s in tests:
        s.check_logging_gaps(strict=True)
        check_current_sign(s)
        check_test_capacity(s, capacity, unit=capacity_unit)
    if temperatures is None:
        temperatures = [DEFAULT_TEMPERATURE if s.temperature is None else float(np.mean(s.temperature)) for s in tests]
    cell = identify_cell(tests, temperatures, capacity, name=name, n_rc=n_rc)
    if thermal_test is None:
        return cell
    thermal_test.check_logging_gaps(strict=True)
    check_current_scale(cell, thermal_test)
    check_time_scale(thermal_test, cell.capacity)
    return cell.with_thermal(fit_thermal(cell, thermal_test, ambient_temperature))


def fit_thermal(
    cell: CellModel,
    series: TimeSeries,
    ambient_temperature: float | None = None,
    state_of_charge: float = 1.0,
    entropic_heat: bool = False,
) -> ThermalParameters:
    r"""Fit the lumped heat capacity and h A on a record with a cell thermocouple.

    Parameters
    ----------
    cell : CellModel
        Electrical model (any thermal part is ignored).
    series : TimeSeries
        Current and cell temperature (a discharge, say).
    ambient_temperature : float, optional
        [K]; by default the first temperature sample.
    state_of_charge : float, default 1
        SoC [1] at the first sample.
    entropic_heat : bool
        Include reversible heat in the fit.

    Returns
    -------
    ThermalParameters
        With the temperature RMSE on `series`.

    Notes
    -----
    Minimises :math:`\sum_k (T_k^{sim} - T_k)^2` over :math:`\log C` and
    :math:`\log hA`, with :math:`C \dot T = \dot Q - hA (T - T_{amb})` and the
    heat :math:`\dot Q = I (U_{oc} - v)` of the coupled simulation [1]_.

    References
    ----------
    .. [1] Bernardi, D., Pawlikowski, E. and Newman, J. (1985). A General Energy
       Balance for Battery Systems. J. Electrochem. Soc. 132(1), 5-12.
       doi:10.1149/1.2113792
    """
    where = series.source or "thermal record"
    if series.temperature is None:
        raise CalibrationError(f"{where}: column temperature_c is needed to fit the thermal model")
    measured = series.temperature
    if np.ptp(measured) < 0.5:
        raise CalibrationError(
            f"{where}: the cell temperature changes by {np.ptp(measured):.2f} K only; the heat capacity and "
            "h A are unobservable (use a discharge at 1C or more)"
        )
    ambient = float(measured[0]) if ambient_temperature is None else float(ambient_temperature)
    electrical = simulate(cell.with_thermal(None), series.time, series.current, state_of_charge, ambient, entropic_heat=entropic_heat)
    # linear energy balance for a starting point: C dT/dt + hA (T - Ta) = Q
    dtdt = np.gradient(measured, series.time)
    a = np.column_stack([dtdt, measured - ambient])
    guess, *_ = np.linalg.lstsq(a, electrical.heat[0], rcond=None)
    c0 = float(np.clip(guess[0], 10.0, 1e6))
    h0 = float(np.clip(guess[1], 1e-3, 1e3))

    def residual(x: Array) -> Array:
        thermal = ThermalParameters(float(np.exp(x[0])), float(np.exp(x[1])))
        r = simulate(cell.with_thermal(thermal), series.time, series.current, state_of_charge, ambient,
                     temperature=measured[0], entropic_heat=entropic_heat)
        return r.temperature[0] - measured

    sol = optimize.least_squares(residual, np.log([c0, h0]), x_scale=1.0, diff_step=1e-3, max_nfev=60)
    res = sol.fun
    return ThermalParameters(
        heat_capacity=float(np.exp(sol.x[0])),
        heat_transfer_coefficient=float(np.exp(sol.x[1])),
        fit=FitQuality(
            source=Path(series.source).name if series.source else "",
            rmse=float(np.sqrt(np.mean(res**2))),
            max_error=float(np.max(np.abs(res))),
            samples=int(res.size),
        ),
    )
