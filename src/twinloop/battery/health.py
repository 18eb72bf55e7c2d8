"""State of health (capacity and resistance tracking) and remaining useful life.

* :func:`capacity_from_charge`: capacity from a full CC-CV charge that starts
  from rest (the rested voltage gives the starting SoC through the OCV).
* :func:`resistance_from_steps`: ohmic resistance from current steps.
* :func:`forecast_end_of_life`: an ageing curve from
  :mod:`twinloop.physics.battery.aging` fitted to the capacity history, and
  the cycle at which capacity first falls below a threshold, with a
  prediction interval from a residual block bootstrap (parameter
  uncertainty, observation noise and the capacity-regeneration jumps seen
  after rests are all resampled).
* :func:`forecast_end_of_life_state_space`: the same question answered by
  state-space models whose fade *rate* may drift (:data:`TREND_MODELS`: a
  local linear trend, and one with a decaying capacity-regeneration state),
  variances by maximum likelihood on the history, averaged with Akaike
  weights; the interval holds the drift of the fade rate and the choice of
  model as well as the noise around one curve.

The report ``twinloop battery rul`` prints (reading the history, checking the
threshold and horizon against it) is :mod:`twinloop.battery.rul`.

References
----------
.. [1] Saha, B. and Goebel, K. (2009). Modeling Li-ion battery capacity
   depletion in a particle filtering framework. Annual Conference of the PHM
   Society 1. doi:10.36001/phmconf.2009.v1i1.1633
.. [2] Kuensch, H. R. (1989). The jackknife and the bootstrap for general
   stationary observations. Ann. Statist. 17(3), 1217-1241.
   doi:10.1214/aos/1176347265
.. [3] Durbin, J. and Koopman, S. J. (2012). Time Series Analysis by State
   Space Methods, 2nd ed. Oxford University Press.
   doi:10.1093/acprof:oso/9780199641178.001.0001
.. [4] Burnham, K. P. and Anderson, D. R. (2004). Multimodel inference:
   understanding AIC and BIC in model selection. Sociological Methods &
   Research 33(2), 261-304. doi:10.1177/0049124104268644
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import optimize

from twinloop._internal.numbers import is_real
from twinloop.battery import _tables
from twinloop.battery.model import CellModel
from twinloop.battery.timeseries import DEFAULT_TEMPERATURE, TimeSeries
from twinloop.errors import (
    CalibrationError,
    DataError,
    UnknownNameError,
    ValidationError,
)
from twinloop.physics.battery import aging

__all__ = [
    "FADE_MODELS",
    "MAX_HORIZON_CYCLES",
    "THRESHOLD_SHARE",
    "TREND_MODELS",
    "FadeModel",
    "RulForecast",
    "TrendModel",
    "capacity_from_charge",
    "check_horizon",
    "check_threshold",
    "fit_fade",
    "forecast_end_of_life",
    "forecast_end_of_life_state_space",
    "resistance_from_steps",
    "state_of_health",
]

Array = npt.NDArray[np.float64]


def state_of_health(capacity: npt.ArrayLike, rated_capacity: float) -> Array:
    """Capacity relative to rated [1].

    Examples
    --------
    >>> float(state_of_health(1.6, 2.0))
    0.8
    """
    if not is_real(rated_capacity) or not rated_capacity > 0:
        raise ValidationError("rated_capacity", "a number > 0 (in the unit of capacity)", rated_capacity)
    return np.asarray(capacity, dtype=float) / rated_capacity


def _count(name: str, value: object) -> int:
    """`value` as an integer >= 1, or a ValidationError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValidationError(name, "an integer >= 1", value)
    return int(value)


def capacity_from_charge(cell: CellModel, series: TimeSeries, temperature: float = DEFAULT_TEMPERATURE) -> float:
    """Capacity [A s] from the first full charge in `series` that starts from rest.

    The SoC before the charge is the inverse OCV of the last rested voltage;
    the charge ends full (at the upper voltage limit), so
    ``Q = charge_in / (1 - soc_before)``.

    Raises
    ------
    CalibrationError
        No charge from rest that reaches the upper limit.

    Examples
    --------
    >>> from twinloop.battery.model import CellTable
    >>> cell = CellModel(3600.0, (CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.0, 0.0]], [1.0], 3600.0),), 3.0, 4.0)
    >>> s = TimeSeries([0.0, 60.0, 1860.0], [0.0, -1.0, 0.0], [3.5, 3.6, 4.0])
    >>> capacity_from_charge(cell, s)
    3600.0
    """
    volts = series.require_voltage("to find the charge")
    amps = series.current
    scale = max(float(np.max(np.abs(amps))), 1e-12)
    charging = amps < -0.02 * scale
    starts = np.flatnonzero(charging & ~np.r_[False, charging[:-1]])
    table = cell.parameters_at(temperature).open_circuit_voltage[0]
    grid = _tables.grid(table.size)
    for s in starts:
        if s == 0 or abs(amps[s - 1]) > 0.02 * scale:
            continue
        e = s + int(np.argmin(charging[s:])) if not charging[s:].all() else amps.size
        if volts[s : e + 1].max() < cell.voltage_max - 0.02:
            continue
        charge_in = -float(np.sum(amps[s : e - 1] * np.diff(series.time[s:e]))) if e - s > 1 else 0.0
        charge_in -= float(amps[e - 1] * (series.time[min(e, amps.size - 1)] - series.time[e - 1]))
        soc_before = float(np.interp(volts[s - 1], np.maximum.accumulate(table), grid))
        if soc_before >= 0.95:
            continue
        return charge_in / (1.0 - soc_before)
    raise CalibrationError(
        f"{series.source or 'record'}: no charge from rest to the upper voltage limit "
        f"({cell.voltage_max:g} V); capacity needs one"
    )


def resistance_from_steps(series: TimeSeries, min_step: float | None = None, max_interval: float = 2.0) -> Array:
    """Ohmic resistance [ohm] at each current step: ``-dV/dI`` across the step.

    Parameters
    ----------
    series : TimeSeries
    min_step : float, optional
        Smallest current change [A] counted as a step (default 20 % of peak).
    max_interval : float, default 2
        Longest sample interval [s] across which a step is used (longer
        intervals mix in the RC response).

    Returns
    -------
    ndarray
        One estimate per step, in time order (empty if there are none).

    Examples
    --------
    >>> s = TimeSeries([0.0, 1.0, 2.0], [0.0, 10.0, 10.0], [4.0, 3.98, 3.97])
    >>> resistance_from_steps(s).round(4).tolist()
    [0.002]
    """
    volts = series.require_voltage("to track resistance")
    d_i = np.diff(series.current)
    d_v = np.diff(volts)
    threshold = 0.2 * float(np.max(np.abs(series.current))) if min_step is None else min_step
    use = (np.abs(d_i) >= max(threshold, 1e-9)) & (np.diff(series.time) <= max_interval)
    return -d_v[use] / d_i[use]


# ---------------------------------------------------------------- fade models
@dataclass(frozen=True)
class FadeModel:
    """A capacity-fade curve ``f(cycle, *params)`` with a starting guess and bounds."""

    name: str
    function: Callable[..., Array]
    guess: Callable[[Array, Array], list[float]]
    lower: tuple[float, ...]
    upper: tuple[float, ...]


def _guess_power(k: Array, q: Array) -> list[float]:
    q0 = float(np.median(q[: max(3, q.size // 10)]))
    return [q0, max(1e-6, (1 - q[-1] / q0) / max(k[-1], 1.0)), 1.0]


def _guess_double(k: Array, q: Array) -> list[float]:
    q0 = float(np.median(q[: max(3, q.size // 10)]))
    return [q0, -1e-4, -0.01 * q0, 0.02]


FADE_MODELS: dict[str, FadeModel] = {
    m.name: m
    for m in (
        FadeModel(
            "power_law",
            lambda k, q0, r, z: aging.power_law_capacity(k, q0, r, z),
            _guess_power,
            (0.0, 0.0, 0.5),
            (np.inf, 1.0, 2.0),
        ),
        FadeModel(
            "linear",
            lambda k, q0, r: aging.power_law_capacity(k, q0, r, 1.0),
            lambda k, q: _guess_power(k, q)[:2],
            (0.0, 0.0),
            (np.inf, 1.0),
        ),
        FadeModel(
            "double_exponential",
            lambda k, a, b, c, d: aging.double_exponential_capacity(k, a, b, c, d),
            _guess_double,
            (0.0, -0.1, -np.inf, 0.0),
            (np.inf, 0.0, 0.0, 0.2),
        ),
    )
}


def fit_fade(cycles: Array, capacity: Array, model: str = "power_law", guess: list[float] | None = None) -> Array:
    """Least-squares fit of a fade model; returns its parameters.

    Examples
    --------
    >>> k = np.arange(1.0, 101.0)
    >>> fit_fade(k, aging.power_law_capacity(k, 2.0, 0.001, 1.2)).round(4).tolist()
    [2.0, 0.001, 1.2]
    """
    if model not in FADE_MODELS:
        raise UnknownNameError("fade model", model, FADE_MODELS)
    m = FADE_MODELS[model]
    p0 = np.clip(m.guess(cycles, capacity) if guess is None else guess, np.array(m.lower) + 1e-12, np.array(m.upper) - 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sol = optimize.least_squares(
            lambda p: m.function(cycles, *p) - capacity, p0, bounds=(m.lower, m.upper), x_scale="jac", max_nfev=2000
        )
    return np.asarray(sol.x, dtype=float)


@dataclass(frozen=True)
class RulForecast:
    """When capacity first falls below a threshold.

    Attributes
    ----------
    predicted_cycle : float
        Median first-crossing cycle; ``inf`` when most forecasts stay above
        the threshold within the horizon.
    interval : tuple of float
        Prediction interval (``inf`` as the upper end when the crossing may lie
        beyond the horizon).
    level : float
        Interval probability.
    probability_beyond_horizon : float
        Share of forecasts that do not cross within the horizon.
    horizon : float
        Last cycle forecast.
    model : str
        Fade model.
    parameters : tuple of float
        Fit on the history.
    noise : float
        Residual standard deviation on the history.
    crossings : ndarray
        The replicates' first crossings, sorted (``inf``: beyond the
        horizon); the forecast distribution the interval is read from.
    weights : dict of str to float
        Weight of each model in an ensemble forecast (empty for one model).
    """

    predicted_cycle: float
    interval: tuple[float, float]
    level: float
    probability_beyond_horizon: float
    horizon: float
    model: str
    parameters: tuple[float, ...]
    noise: float
    crossings: Array = field(default_factory=lambda: np.empty(0), repr=False, compare=False)
    weights: dict[str, float] = field(default_factory=dict, compare=False)

    def probability_after(self, cycle: float) -> float:
        """Forecast probability [1] that the first crossing comes after `cycle`.

        For a record that never crosses, ``probability_after(last_cycle)`` is
        the probability the forecast gives to what was observed.

        Examples
        --------
        >>> f = RulForecast(5.0, (4.0, 6.0), 0.9, 0.0, 10.0, "linear", (), 0.0, np.array([4.0, 5.0, 6.0, np.inf]))
        >>> f.probability_after(5.0)
        0.5
        """
        if self.crossings.size == 0:
            raise CalibrationError("this forecast carries no crossing distribution")
        return float(np.mean(self.crossings > cycle))


#: Longest forecast beyond the history [cycles]; paths are simulated cycle by cycle.
MAX_HORIZON_CYCLES = 20_000

#: An end-of-life threshold below this share of the first capacity, or above its inverse times it,
#: is taken for a unit mismatch (history in mAh, threshold in Ah, or the other way round).
THRESHOLD_SHARE = 0.2


def check_threshold(capacity: npt.ArrayLike, threshold: float, field: str = "threshold") -> None:
    """Raise ValidationError for a threshold that is not a capacity in the unit of the history.

    It must be finite and > 0, and within :data:`THRESHOLD_SHARE` to
    1 / :data:`THRESHOLD_SHARE` times the first capacity of the history;
    `field` names it in the message.

    Examples
    --------
    >>> check_threshold([1856.5, 1846.3], 1.4)
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: threshold: expected a capacity in the unit of the history, ... received 1.4. ...
    """
    if not (is_real(threshold) and math.isfinite(threshold) and threshold > 0):
        raise ValidationError(field, "a finite capacity > 0", threshold)
    history = np.asarray(capacity, dtype=float).ravel()
    if history.size == 0:
        raise ValidationError("capacity", "a history of at least one capacity", "an empty array")
    first = float(history[0])
    lo, hi = THRESHOLD_SHARE * first, first / THRESHOLD_SHARE
    if lo <= threshold <= hi or not (math.isfinite(first) and first > 0):
        return
    expected = (
        f"a capacity in the unit of the history, {THRESHOLD_SHARE:.0%} to {1 / THRESHOLD_SHARE:g} times its first "
        f"capacity {first:g}: [{lo:g}, {hi:g}]"
    )
    if threshold < lo:
        hint = (
            f"The threshold is {first / threshold:.0f} times below the first capacity: is the history in mAh and the "
            f"threshold in Ah? Give the threshold in the history's unit (e.g. {threshold * 1000:g} for mAh)"
        )
    else:
        hint = (
            f"The threshold is {threshold / first:.0f} times the first capacity: is the threshold in mAh and the "
            f"history in Ah? Give the threshold in the history's unit (e.g. {threshold / 1000:g} for Ah)"
        )
    raise ValidationError(field, expected, threshold, hint=hint)


def _checked_history(
    cycles: npt.ArrayLike, capacity: npt.ArrayLike, level: float, threshold: float, horizon: float | None
) -> tuple[Array, Array, float]:
    """The capacity history as float arrays and the horizon, after the checks every forecast needs."""
    k = np.asarray(cycles, dtype=float)
    q = np.asarray(capacity, dtype=float)
    if k.shape != q.shape or k.ndim != 1:
        raise ValidationError("capacity", f"one value per cycle ({k.size})", q.shape)
    good = np.isfinite(k) & np.isfinite(q)
    if (~good).any():
        raise DataError(
            f"capacity history: {int((~good).sum())} missing value(s), the first at position {int(np.flatnonzero(~good)[0]) + 1}; "
            "drop or fill them before forecasting"
        )
    if k.size < 10:
        raise CalibrationError(f"capacity history has {k.size} cycles; a fade forecast needs at least 10")
    if np.any(q <= 0):
        j = int(np.flatnonzero(q <= 0)[0])
        raise ValidationError(f"capacity (position {j + 1}, cycle {k[j]:g})", "a capacity > 0", float(q[j]))
    if np.any(np.diff(k) <= 0):
        j = int(np.flatnonzero(np.diff(k) <= 0)[0]) + 1
        raise ValidationError(f"cycles (position {j + 1})", f"strictly increasing, after {k[j - 1]:g}", float(k[j]))
    if k[-1] - k[0] > MAX_HORIZON_CYCLES:  # the state-space filter steps through every cycle
        gaps = np.diff(k)
        j = int(np.argmax(gaps))
        raise ValidationError(
            "cycles", f"a history spanning at most {MAX_HORIZON_CYCLES} cycles",
            f"cycles {k[0]:g} to {k[-1]:g}",
            hint=f"The largest gap is {gaps[j]:g} cycles, after cycle {k[j]:g} (the median gap is "
            f"{float(np.median(gaps)):g}): check the cycle numbers for a typo",
        )
    if not 0 < level < 1:
        raise ValidationError("level", "a number in (0, 1)", level)
    slope = np.polyfit(k, q, 1)[0]
    if slope >= -1e-12 * float(np.mean(q)):  # a flat history fits a slope of +-1e-17 by rounding alone
        raise CalibrationError(
            f"capacity history does not fade (trend {slope:+.3g} per cycle over {k.size} cycles); "
            "the end of life is unobservable from it"
        )
    check_threshold(q, threshold)
    if q[0] <= threshold:
        raise ValidationError(
            "threshold", f"below the first measured capacity ({q[0]:g} at cycle {k[0]:g})", threshold,
            hint="The history starts at or below it, so there is no crossing to forecast; choose a lower threshold "
            "(in the history's unit)",
        )
    return k, q, check_horizon(float(k[-1]), horizon)


def check_horizon(last_cycle: float, horizon: float | None) -> float:
    """The last cycle to forecast: `horizon`, or four times `last_cycle` when None; a ValidationError naming it otherwise.

    It must lie after `last_cycle` and at most :data:`MAX_HORIZON_CYCLES` later.

    Examples
    --------
    >>> check_horizon(84.0, None)
    336.0
    >>> check_horizon(84.0, 50.0)
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: horizon: expected a cycle after the history's last, at most 20000 later: (84, 20084], received 50.0
    """
    default = horizon is None
    value = float(4 * last_cycle) if horizon is None else float(horizon)
    if not (math.isfinite(value) and last_cycle < value <= last_cycle + MAX_HORIZON_CYCLES):
        raise ValidationError(
            "horizon", f"a cycle after the history's last, at most {MAX_HORIZON_CYCLES} later: "
            f"({last_cycle:g}, {last_cycle + MAX_HORIZON_CYCLES:g}]", value,
            hint=f"By default it is four times the last cycle ({last_cycle:g}); give a horizon, or check the cycle "
            "numbers" if default else None,
        )
    return value


def forecast_end_of_life(
    cycles: npt.ArrayLike,
    capacity: npt.ArrayLike,
    threshold: float,
    horizon: float | None = None,
    model: str = "linear",
    level: float = 0.9,
    n_bootstrap: int = 400,
    block: int = 16,
    seed: int = 0,
) -> RulForecast:
    r"""Forecast the first cycle at which capacity falls below `threshold`.

    Parameters
    ----------
    cycles : array_like, shape (n,)
        Cycle numbers of the history, increasing.
    capacity : array_like, shape (n,)
        Measured capacity per cycle (any unit, as `threshold`).
    threshold : float
        End-of-life capacity.
    horizon : float, optional
        Last cycle to forecast (default: four times the history).
    model : str
        A key of :data:`FADE_MODELS`.
    level : float, default 0.9
        Probability of the prediction interval.
    n_bootstrap : int
        Bootstrap replicates.
    block : int
        Block length [cycles] of the residual bootstrap, long enough to keep
        a regeneration jump and its decay together.
    seed : int
        Random seed (results are reproducible).

    Returns
    -------
    RulForecast

    Notes
    -----
    For each replicate :math:`b`, residual blocks are resampled onto the
    fitted curve, the model is refitted (:math:`\theta_b`), and a future
    observed path :math:`\hat Q_b(k) = f(k; \theta_b) + \epsilon_b(k)`, with
    :math:`\epsilon_b` again resampled blocks, gives the first crossing
    :math:`k_b`. The forecast is the median of :math:`k_b` and the interval
    its central quantiles ([2]_; the model follows [1]_).

    Raises
    ------
    CalibrationError
        Fewer than 10 cycles, or a history that does not fade.
    DataError
        A missing (NaN) cycle or capacity.
    ValidationError
        Cycles not strictly increasing (out of order or repeated), a
        capacity <= 0, a threshold in another unit than the history (see
        :func:`check_threshold`) or at or above its first capacity, a level
        outside (0, 1), a horizon not after the history, counts below 1.

    Notes on the result: when the history itself already falls below the
    threshold, the forecast is that observed cycle (`predicted_cycle` and
    both ends of `interval`), with ``probability_beyond_horizon`` 0.

    Examples
    --------
    >>> k = np.arange(1.0, 61.0)
    >>> q = 2.0 - 0.005 * k + 0.002 * np.sin(k)
    >>> f = forecast_end_of_life(k, q, 1.4, n_bootstrap=50)
    >>> 110 < f.predicted_cycle < 130, f.interval[0] <= f.predicted_cycle <= f.interval[1]
    (True, True)
    """
    k, q, horizon = _checked_history(cycles, capacity, level, threshold, horizon)
    n_bootstrap, block = _count("n_bootstrap", n_bootstrap), _count("block", block)
    if model not in FADE_MODELS:
        raise UnknownNameError("fade model", model, FADE_MODELS)
    theta = fit_fade(k, q, model)
    f = FADE_MODELS[model].function
    fitted = f(k, *theta)
    resid = q - fitted
    rng = np.random.default_rng(seed)
    future = np.arange(math.floor(k[-1]) + 1.0, horizon + 1.0)
    blk = max(1, min(block, k.size // 2))

    def blocks(n: int) -> Array:
        starts = rng.integers(0, resid.size - blk + 1, size=n // blk + 1)
        return np.concatenate([resid[s : s + blk] for s in starts])[:n]

    crossings = np.empty(n_bootstrap)
    # the observed history already crossed?
    for b in range(n_bootstrap):
        qb = fitted + blocks(k.size)
        tb = fit_fade(k, qb, model, guess=list(theta))
        path = f(future, *tb) + blocks(future.size)
        below = np.flatnonzero(path < threshold)
        crossings[b] = future[below[0]] if below.size else np.inf
    already = np.flatnonzero(q < threshold)
    if already.size:
        crossings[:] = k[already[0]]
    lo, mid, hi = np.quantile(crossings, [(1 - level) / 2, 0.5, (1 + level) / 2], method="inverted_cdf")
    return RulForecast(
        predicted_cycle=float(mid),
        interval=(float(lo), float(hi)),
        level=level,
        probability_beyond_horizon=float(np.mean(np.isinf(crossings))),
        horizon=horizon,
        model=model,
        parameters=tuple(float(x) for x in theta),
        noise=float(np.std(resid, ddof=len(theta))),
        crossings=np.sort(crossings),
    )


# ------------------------------------------------------- state-space forecasts
@dataclass(frozen=True)
class TrendModel:
    """A linear Gaussian state-space model of capacity, one step per cycle.

    State 0 is the underlying capacity, state 1 its change per cycle (the fade
    rate); further states are the model's own.

    Attributes
    ----------
    name : str
    matrices : callable
        Unconstrained parameters -> ``(F, q, h, r)``: transition matrix
        (m, m), process-noise variances (m,) (a diagonal covariance),
        observation vector (m,) and observation-noise variance.
    starts : tuple of tuple of float
        Starting points of the likelihood search (capacity scaled to 1 at
        the start of the history).
    reported : callable
        Unconstrained parameters -> the parameters as reported (standard
        deviations, in the capacity's unit after scaling back, and
        coefficients).
    """

    name: str
    matrices: Callable[[Array], tuple[Array, Array, Array, float]]
    starts: tuple[tuple[float, ...], ...]
    reported: Callable[[Array, float], tuple[float, ...]]


#: Bound on the unconstrained parameters (log variances, decay logit): the likelihood search may wander far.
_P_BOUND = 40.0


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-min(max(x, -_P_BOUND), _P_BOUND)))


def _llt_matrices(p: Array) -> tuple[Array, Array, Array, float]:
    v = np.exp(np.clip(p, -_P_BOUND, _P_BOUND))
    return np.array([[1.0, 1.0], [0.0, 1.0]]), np.array([v[1], v[2]]), np.array([1.0, 0.0]), float(v[0])


def _regeneration_matrices(p: Array) -> tuple[Array, Array, Array, float]:
    v = np.exp(np.clip(p[:4], -_P_BOUND, _P_BOUND))
    decay = _logistic(float(p[4]))
    f = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, decay]])
    return f, np.array([v[1], v[2], v[3]]), np.array([1.0, 0.0, 1.0]), float(v[0])


TREND_MODELS: dict[str, TrendModel] = {
    m.name: m
    for m in (
        # level and fade rate both random walks: a regeneration is a lasting step
        TrendModel(
            "local_linear_trend",
            _llt_matrices,
            ((-11.4, -13.4, -17.4), (-10.4, -10.4, -15.4), (-13.4, -10.4, -13.4)),
            lambda p, s: tuple(float(x) for x in s * np.sqrt(np.exp(np.clip(p, -_P_BOUND, _P_BOUND)))),
        ),
        # plus a regeneration state that decays geometrically (AR(1)) back to the trend
        TrendModel(
            "local_linear_trend_regeneration",
            _regeneration_matrices,
            ((-11.4, -15.4, -17.4, -9.4, 1.0), (-10.4, -11.4, -15.4, -8.4, 0.0), (-13.4, -13.4, -13.4, -10.4, 2.0)),
            lambda p, s: (*(float(x) for x in s * np.sqrt(np.exp(np.clip(p[:4], -_P_BOUND, _P_BOUND)))), _logistic(float(p[4]))),
        ),
    )
}


def _kalman(model: TrendModel, p: Array, y: Array) -> tuple[float, Array, Array]:
    """Log-likelihood of `y` (one value per cycle, NaN = not observed), final state mean and covariance."""
    f, qv, h, r = model.matrices(p)
    m = qv.size
    # the first two observations (cycles apart by `gap`) set level and rate at the second;
    # their spread is that of the noise
    i0, i1 = np.flatnonzero(~np.isnan(y))[:2]
    gap = float(i1 - i0)
    x = np.zeros(m)
    x[0], x[1] = y[i1], (y[i1] - y[i0]) / gap
    p0 = np.zeros(m)
    p0[0], p0[1] = r + 1e-6, 2 * r / gap**2 + 1e-4
    diag = np.diag(f)[2:]
    p0[2:] = qv[2:] / np.maximum(1.0 - diag**2, 1e-9) + 1e-12
    cov = np.diag(p0)
    q = np.diag(qv)
    loglik = 0.0
    for obs in y[i1 + 1 :]:
        x = f @ x
        cov = f @ cov @ f.T + q
        if math.isnan(obs):
            continue
        ph = cov @ h
        s = float(h @ ph) + r
        v = float(obs - h @ x)
        loglik -= 0.5 * (math.log(2 * math.pi * s) + v * v / s)
        gain = ph / s
        x = x + gain * v
        cov = cov - np.outer(gain, ph)
    return loglik, x, cov


def _fit_trend(model: TrendModel, y: Array) -> tuple[Array, float]:
    best: optimize.OptimizeResult | None = None
    for start in model.starts:
        sol = optimize.minimize(
            lambda p: -_kalman(model, p, y)[0],
            np.array(start, dtype=float),
            method="Nelder-Mead",
            options={"maxiter": 4000, "xatol": 1e-4, "fatol": 1e-7},
        )
        if best is None or sol.fun < best.fun:
            best = sol
    assert best is not None
    return np.asarray(best.x, dtype=float), -float(best.fun)


def _simulate_crossings(
    model: TrendModel, p: Array, x: Array, cov: Array, future: Array, threshold: float, n: int, rng: np.random.Generator
) -> Array:
    f, qv, h, r = model.matrices(p)
    w, vec = np.linalg.eigh((cov + cov.T) / 2)
    states = x + (rng.standard_normal((n, x.size)) * np.sqrt(np.clip(w, 0.0, None))) @ vec.T
    crossings = np.full(n, np.inf)
    alive = np.ones(n, dtype=bool)
    for cycle in future:
        states = states @ f.T + rng.standard_normal((n, x.size)) * np.sqrt(qv)
        below = alive & (states @ h + rng.standard_normal(n) * math.sqrt(r) < threshold)
        crossings[below] = cycle
        alive &= ~below
    return crossings


def forecast_end_of_life_state_space(
    cycles: npt.ArrayLike,
    capacity: npt.ArrayLike,
    threshold: float,
    horizon: float | None = None,
    models: tuple[str, ...] = ("local_linear_trend", "local_linear_trend_regeneration"),
    level: float = 0.9,
    n_paths: int = 2000,
    seed: int = 0,
) -> RulForecast:
    r"""Forecast the first cycle capacity falls below `threshold`, with a fade rate that may drift.

    Each model of :data:`TREND_MODELS` named in `models` is fitted to the
    history by maximum likelihood (Kalman filter [3]_); the models are
    weighted by their Akaike weights [4]_, and the forecast distribution is
    the mixture of their simulated observed paths.

    Parameters
    ----------
    cycles : array_like, shape (n,)
        Cycle numbers of the history: integers, increasing (gaps are
        unobserved cycles).
    capacity : array_like, shape (n,)
        Measured capacity per cycle (any unit, as `threshold`).
    threshold : float
        End-of-life capacity.
    horizon : float, optional
        Last cycle to forecast (default: four times the history).
    models : tuple of str, or str
        Keys of :data:`TREND_MODELS` (one name alone is taken as one model).
    level : float, default 0.9
        Probability of the prediction interval.
    n_paths : int
        Simulated future paths (shared among the models by their weights).
    seed : int
        Random seed (results are reproducible).

    Returns
    -------
    RulForecast
        `model` is ``"state_space_ensemble"``, `weights` the Akaike weights,
        `parameters` and `noise` those of the heaviest model.

    Notes
    -----
    The local linear trend is

    .. math:: y_k = \ell_k + g_k + \epsilon_k,\quad
              \ell_{k+1} = \ell_k + s_k + \eta_k,\quad
              s_{k+1} = s_k + \zeta_k,\quad
              g_{k+1} = \phi g_k + \xi_k

    with :math:`g \equiv 0` in ``local_linear_trend``; the rate :math:`s`
    drifts, so the interval widens with the horizon as far as the history's
    own changes of rate warrant, and a regeneration :math:`g` after a rest
    decays at the rate the history shows. With :math:`L_m` the maximised
    likelihood and :math:`p_m` the number of variances and coefficients,
    :math:`w_m \propto \exp(p_{\min} - p_m + \ln L_m - \ln L_{\max})`; the
    mixture carries the spread within each model and between them. The
    variances are plug-in estimates (their own uncertainty is not carried).

    Raises
    ------
    CalibrationError
        Fewer than 10 cycles, or a history that does not fade.
    DataError, ValidationError
        As :func:`forecast_end_of_life`; also cycles that are not whole numbers.

    When the history itself already falls below the threshold, the forecast
    is that observed cycle, as in :func:`forecast_end_of_life`.

    Examples
    --------
    >>> k = np.arange(1.0, 61.0)
    >>> q = 2.0 - 0.005 * k + np.random.default_rng(0).normal(0, 0.004, k.size)
    >>> f = forecast_end_of_life_state_space(k, q, 1.4, n_paths=200)
    >>> 110 < f.predicted_cycle < 130, f.interval[0] <= f.predicted_cycle <= f.interval[1]
    (True, True)
    """
    k, q, horizon = _checked_history(cycles, capacity, level, threshold, horizon)
    n_paths = _count("n_paths", n_paths)
    if isinstance(models, str):
        models = (models,)
    if np.any(k != np.round(k)):
        raise ValidationError("cycles", "whole cycle numbers", k[k != np.round(k)].tolist()[:10])
    for name in models:
        if name not in TREND_MODELS:
            raise UnknownNameError("trend model", name, TREND_MODELS)
    if not models:
        raise ValidationError("models", "at least one key of TREND_MODELS", models)
    # capacity scaled to about 1, so that the likelihood search starts fit any unit
    scale = float(abs(np.median(q[: max(3, q.size // 10)])))
    y = np.full(int(k[-1] - k[0]) + 1, np.nan)
    y[(k - k[0]).astype(int)] = q / scale
    fits = [(TREND_MODELS[name], *_fit_trend(TREND_MODELS[name], y)) for name in models]
    aic = np.array([2 * p.size - 2 * loglik for _, p, loglik in fits])
    weights = np.exp(-0.5 * (aic - aic.min()))
    weights /= weights.sum()
    # paths shared by largest remainder, so that `crossings` is a plain sample of the mixture
    counts = np.floor(weights * n_paths).astype(int)
    counts[np.argsort(counts - weights * n_paths)[: n_paths - counts.sum()]] += 1
    rng = np.random.default_rng(seed)
    future = np.arange(k[-1] + 1.0, math.floor(horizon) + 1.0)
    parts = []
    for (model, p, _), n in zip(fits, counts, strict=True):
        if n:
            _, x, cov = _kalman(model, p, y)
            parts.append(_simulate_crossings(model, p, x, cov, future, threshold / scale, int(n), rng))
    crossings = np.concatenate(parts)
    already = np.flatnonzero(q < threshold)
    if already.size:
        crossings[:] = k[already[0]]
    lo, mid, hi = np.quantile(crossings, [(1 - level) / 2, 0.5, (1 + level) / 2], method="inverted_cdf")
    heaviest, p_best, _ = fits[int(np.argmax(weights))]
    reported = heaviest.reported(p_best, scale)
    return RulForecast(
        predicted_cycle=float(mid),
        interval=(float(lo), float(hi)),
        level=level,
        probability_beyond_horizon=float(np.mean(np.isinf(crossings))),
        horizon=horizon,
        model="state_space_ensemble",
        parameters=reported,
        noise=reported[0],
        crossings=np.sort(crossings),
        weights={name: float(w) for name, w in zip(models, weights, strict=True)},
    )
