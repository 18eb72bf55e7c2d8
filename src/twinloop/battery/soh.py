r"""A vehicle's battery state of health from its own telemetry: capacity, resistance, fade.

Where :mod:`twinloop.battery.health` reads a cell's lab test files, this
module works on what a car reports while it is driven or charged: pack
current, terminal voltage and the battery management system's (BMS) state of
charge. Three pure steps:

- :func:`pack_capacity` counts the charge drawn over a stretch (a trip or a
  charging session) against the BMS state-of-charge swing:
  :math:`Q = \int I\,dt / (z_0 - z_1)`;
- :func:`pack_resistance` takes the terminal-voltage response to fast current
  steps: :math:`R = -\Delta V / \Delta I`, the robust median over many steps;
- :func:`health_track` combines the per-stretch capacities over distance:
  the capacity now, state of health :math:`Q / Q_{rated}` and the capacity
  fade per 1,000 km (a Theil-Sen slope).

Conventions are the store's: SI units, current positive discharging (the
catalog flips VSS's positive-charging ``CurrentCurrent``), state of charge a
fraction in [0, 1]. :func:`twinloop.twin.health.health_from_store` reads
these signals from a telemetry store and calls the functions here.

See ``docs/twins.md`` (State of health) for the method and its limits.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from twinloop.conventions import MAD_TO_SIGMA
from twinloop.errors import CalibrationError, DataError, ValidationError

__all__ = [
    "CapacityEstimate",
    "HealthTrack",
    "ResistanceEstimate",
    "SensorNoise",
    "health_track",
    "pack_capacity",
    "pack_resistance",
]

FloatArray = npt.NDArray[np.float64]

_MEDIAN_EFFICIENCY = math.sqrt(math.pi / 2)  # SE of a normal sample's median / SE of its mean
_ONE_SIGMA = math.erf(1 / math.sqrt(2))  # 0.6827: a 1-sigma confidence level


@dataclass(frozen=True)
class SensorNoise:
    """How exact the current and state-of-charge signals are, for the capacity's uncertainty.

    The defaults suit a production BMS on CAN (Ford's ``BattTrac_I_Actl``
    is 0.05 A per bit, ``BattTracSoc2_Pc_Actl`` 0.01 % per bit); set them
    from the vehicle's DBC and the sensor's data sheet.

    Attributes
    ----------
    soc_resolution : float
        Step of the reported state of charge [1] (0.001 = 0.1 %).
    soc_noise : float
        Standard deviation of the reported state of charge around the truth [1].
    current_resolution : float
        Step of the reported current [A].
    current_noise : float
        Standard deviation of each current sample, independent between samples [A].
    current_offset : float
        Standard uncertainty of a constant offset of the current sensor [A];
        it adds :math:`\\sigma_b\\,T` to the charge counted over :math:`T` seconds.
    """

    soc_resolution: float = 1e-3
    soc_noise: float = 0.0
    current_resolution: float = 0.1
    current_noise: float = 0.5
    current_offset: float = 0.0

    def __post_init__(self) -> None:
        for name in ("soc_resolution", "soc_noise", "current_resolution", "current_noise", "current_offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
                raise ValidationError(name, "a finite number >= 0", value, "SensorNoise")


@dataclass(frozen=True)
class CapacityEstimate:
    """Pack capacity counted over one stretch (see :func:`pack_capacity`).

    Attributes
    ----------
    capacity : float
        [A s] (3600 A s = 1 Ah).
    standard_error : float
        Standard uncertainty of `capacity` from the sensor noise [A s].
    charge : float
        Charge drawn over the stretch, positive discharging [A s].
    soc_swing : float
        State of charge at the start less at the end [1] (negative while charging).
    duration : float
        [s].
    """

    capacity: float
    standard_error: float
    charge: float
    soc_swing: float
    duration: float


@dataclass(frozen=True)
class ResistanceEstimate:
    """Pack resistance from current steps (see :func:`pack_resistance`).

    Attributes
    ----------
    resistance : float
        Median of the steps' :math:`-\\Delta V/\\Delta I` [ohm].
    standard_error : float
        Standard error of the median [ohm].
    spread : float
        Robust standard deviation of the single steps (1.4826 MAD) [ohm].
    steps : int
        Number of current steps used.
    """

    resistance: float
    standard_error: float
    spread: float
    steps: int


@dataclass(frozen=True)
class HealthTrack:
    """A battery's tracked health: capacity now, its fade over distance and its resistance.

    Attributes
    ----------
    rated_capacity : float
        Capacity when new [A s].
    capacity : float
        Capacity now [A s]: on the fade line at the latest distance, or the
        weighted mean of the stretches when there is no line.
    capacity_standard_error : float
        [A s].
    fade_rate : float or None
        Slope of capacity over distance [A s m-1] (negative while fading);
        None with fewer than :data:`MIN_TREND_POINTS` stretches at distinct distances.
    fade_rate_standard_error : float or None
        [A s m-1].
    stretches : int
        Number of capacity estimates combined.
    distance : float
        Distance [m] of the latest stretch (odometer or distance driven).
    resistance : ResistanceEstimate or None
        None when not estimated.
    resistance_note : str or None
        Why the resistance was not estimated, when it was not.
    skipped : str or None
        What of the latest trips gave no capacity, and why (a stuck state
        of charge, too small a swing, gaps), when something did not.
    """

    rated_capacity: float
    capacity: float
    capacity_standard_error: float
    fade_rate: float | None
    fade_rate_standard_error: float | None
    stretches: int
    distance: float
    resistance: ResistanceEstimate | None = None
    resistance_note: str | None = None
    skipped: str | None = None

    @property
    def state_of_health(self) -> float:
        """Capacity relative to rated [1]."""
        return self.capacity / self.rated_capacity

    @property
    def state_of_health_standard_error(self) -> float:
        """[1]."""
        return self.capacity_standard_error / self.rated_capacity

    @property
    def fade_per_1000_km(self) -> float | None:
        """Share of the rated capacity lost per 1,000 km driven [1] (positive while fading)."""
        return None if self.fade_rate is None else -self.fade_rate * 1e6 / self.rated_capacity + 0.0  # no -0.0

    @property
    def fade_per_1000_km_standard_error(self) -> float | None:
        """[1]."""
        if self.fade_rate_standard_error is None:
            return None
        return self.fade_rate_standard_error * 1e6 / self.rated_capacity

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, SI units, with the derived figures."""
        r = self.resistance
        return {
            "rated_capacity": self.rated_capacity,
            "capacity": self.capacity,
            "capacity_standard_error": self.capacity_standard_error,
            "state_of_health": self.state_of_health,
            "state_of_health_standard_error": self.state_of_health_standard_error,
            "fade_rate": self.fade_rate,
            "fade_rate_standard_error": self.fade_rate_standard_error,
            "fade_per_1000_km": self.fade_per_1000_km,
            "fade_per_1000_km_standard_error": self.fade_per_1000_km_standard_error,
            "stretches": self.stretches,
            "distance": self.distance,
            "resistance": None if r is None else {
                "resistance": r.resistance, "standard_error": r.standard_error,
                "spread": r.spread, "steps": r.steps,
            },
            "resistance_note": self.resistance_note,
            "skipped": self.skipped,
        }


#: Fewest capacity estimates, at distinct distances, that give a fade slope.
MIN_TREND_POINTS = 3


def _series(name: str, value: Any, n: int | None = None) -> FloatArray:
    a = np.asarray(value, dtype=float)
    if a.ndim != 1:
        raise ValidationError(name, "a 1-D array", f"shape {a.shape}")
    if n is not None and a.size != n:
        raise ValidationError(name, f"{n} values (one per time)", a.size)
    if not np.isfinite(a).all():
        raise DataError(f"{name} holds {int((~np.isfinite(a)).sum())} non-finite values; drop those samples first")
    return a


def _time(time: Any) -> FloatArray:
    t = _series("time", time)
    if t.size and np.any(np.diff(t) <= 0):
        raise ValidationError("time", "strictly increasing times [s]", f"a step of {float(np.diff(t).min()):g} s")
    return t


def pack_capacity(
    time: npt.ArrayLike,
    current: npt.ArrayLike,
    state_of_charge: npt.ArrayLike,
    *,
    min_soc_swing: float = 0.1,
    noise: SensorNoise | None = None,
    rated_capacity: float | None = None,
) -> CapacityEstimate:
    r"""Pack capacity by coulomb counting against the BMS state of charge over one stretch.

    Parameters
    ----------
    time : array_like, shape (T,)
        Strictly increasing sample times [s].
    current : array_like, shape (T,)
        Battery current, positive discharging [A].
    state_of_charge : array_like, shape (T,)
        The BMS's state of charge [1]; only its first and last values enter
        the estimate, the others are checked for a stuck signal.
    min_soc_swing : float
        Smallest :math:`|z_0 - z_1|` accepted [1]; default 0.1. Below it the
        state of charge's resolution and the BMS's own error dominate.
    noise : SensorNoise, optional
        For the standard error; default :class:`SensorNoise()`.
    rated_capacity : float, optional
        The pack's rated capacity [A s], only to tell a stuck state of charge
        (one that does not move while more than `min_soc_swing` of this
        charge flows) from a small swing.

    Returns
    -------
    CapacityEstimate

    Raises
    ------
    DataError
        Fewer than two samples, non-finite values, a state of charge that
        never changes while `min_soc_swing` of `rated_capacity` flows (stuck),
        or one that moves against the current.
    ValidationError
        A state of charge outside [0, 1] (a percentage, say), times not
        strictly increasing, arrays of different lengths, `noise` not a
        :class:`SensorNoise`, `rated_capacity` <= 0.
    CalibrationError
        A state-of-charge swing below `min_soc_swing` (the message says how large it was).

    Notes
    -----
    The charge is integrated by the trapezoidal rule with weights :math:`w_k`
    (:math:`w_0 = \Delta t_1/2`, :math:`w_k = (\Delta t_k + \Delta t_{k+1})/2`,
    :math:`w_T = \Delta t_T/2`):

    .. math::

        A = \sum_k w_k I_k, \qquad \Delta z = z_0 - z_T, \qquad Q = \frac{A}{\Delta z}

    The standard error propagates independent errors to first order:

    .. math::

        \sigma_A^2 = \Bigl(\sigma_I^2 + \frac{q_I^2}{12}\Bigr) \sum_k w_k^2 + (\sigma_b\, T)^2,
        \qquad
        \sigma_{\Delta z}^2 = 2\Bigl(\frac{q_z^2}{12} + \sigma_z^2\Bigr),
        \qquad
        \frac{\sigma_Q}{|Q|} = \sqrt{\Bigl(\frac{\sigma_A}{A}\Bigr)^2 + \Bigl(\frac{\sigma_{\Delta z}}{\Delta z}\Bigr)^2}

    with :math:`q_I, q_z` the current and state-of-charge resolutions
    (rounding error uniform over one step, variance :math:`q^2/12`),
    :math:`\sigma_I, \sigma_z` their noise, :math:`\sigma_b` the current
    offset's uncertainty and :math:`T` the duration (:class:`SensorNoise`).
    The BMS's own state-of-charge error is not in :math:`\sigma_z`: the
    result is the capacity the BMS's state of charge implies. Method as in
    Plett (2004).

    References
    ----------
    G. L. Plett, "Extended Kalman filtering for battery management systems of
    LiPB-based HEV battery packs: Part 3", J. Power Sources 134 (2004)
    277-292, doi:10.1016/j.jpowsour.2004.02.033.

    Examples
    --------
    >>> est = pack_capacity([0.0, 10.0, 20.0], [30.0, 30.0, 30.0], [0.75, 0.5, 0.25],
    ...                     noise=SensorNoise(current_noise=0.0, current_resolution=0.0))
    >>> est.capacity, est.charge, est.soc_swing
    (1200.0, 600.0, 0.5)
    """
    noise = SensorNoise() if noise is None else noise
    if not isinstance(noise, SensorNoise):
        raise ValidationError("noise", "a SensorNoise", type(noise).__name__, hint="e.g. SensorNoise(current_noise=0.2)")
    if isinstance(min_soc_swing, bool) or not isinstance(min_soc_swing, numbers.Real) or not 0 < min_soc_swing <= 1:
        raise ValidationError("min_soc_swing", "a number in (0, 1]", min_soc_swing)
    if rated_capacity is not None and (
        isinstance(rated_capacity, bool) or not isinstance(rated_capacity, numbers.Real)
        or not (math.isfinite(rated_capacity) and rated_capacity > 0)
    ):
        raise ValidationError("rated_capacity", "a finite number > 0 A s", rated_capacity)
    t = _time(time)
    i = _series("current", current, t.size)
    z = _series("state_of_charge", state_of_charge, t.size)
    if np.any((z < 0) | (z > 1)):
        k = int(np.flatnonzero((z < 0) | (z > 1))[0])
        hint = "The state of charge is a fraction: divide a percentage by 100" if np.all((z >= 0) & (z <= 100)) else None
        raise ValidationError(f"state_of_charge (sample {k + 1})", "a fraction in [0, 1]", float(z[k]), hint=hint)
    if t.size < 2:
        raise DataError(f"coulomb counting needs at least 2 samples of current and state of charge, got {t.size}")
    dt = np.diff(t)
    w = np.zeros(t.size)
    w[:-1] += 0.5 * dt
    w[1:] += 0.5 * dt
    charge = float(w @ i)
    swing = float(z[0] - z[-1])
    duration = float(t[-1] - t[0])
    if np.ptp(z) == 0 and rated_capacity is not None and abs(charge) >= min_soc_swing * rated_capacity:
        raise DataError(
            f"state of charge stuck at {z[0]:g} over {t.size} samples ({duration:g} s)"
            f" while {charge / 3600:.3g} Ah flowed; the SoC signal is not updating"
        )
    if abs(swing) < min_soc_swing:
        raise CalibrationError(
            f"state-of-charge swing of {abs(swing):.3g} over {duration:g} s is below min_soc_swing"
            f" {min_soc_swing:g}; coulomb counting needs a longer trip or charge"
        )
    if charge * swing <= 0:
        raise DataError(
            f"state of charge went {'down' if swing > 0 else 'up'} by {abs(swing):.3g}"
            f" while {charge / 3600:.3g} Ah was {'drawn' if charge > 0 else 'charged'} (current positive discharging);"
            " check the current's sign"
        )
    capacity = charge / swing
    var_charge = (noise.current_noise**2 + noise.current_resolution**2 / 12) * float(w @ w)
    var_charge += (noise.current_offset * duration) ** 2
    var_swing = 2 * (noise.soc_resolution**2 / 12 + noise.soc_noise**2)
    rel = math.sqrt(var_charge / charge**2 + var_swing / swing**2)
    return CapacityEstimate(capacity, abs(capacity) * rel, charge, swing, duration)


def pack_resistance(
    time: npt.ArrayLike,
    current: npt.ArrayLike,
    voltage: npt.ArrayLike,
    *,
    min_current_step: float = 20.0,
    max_step_time: float = 1.5,
    min_steps: int = 10,
) -> ResistanceEstimate:
    r"""Pack resistance from the voltage response to fast current steps.

    Parameters
    ----------
    time : array_like, shape (T,)
        Strictly increasing sample times [s]; current and voltage sampled together.
    current : array_like, shape (T,)
        Battery current, positive discharging [A].
    voltage : array_like, shape (T,)
        Terminal voltage [V].
    min_current_step : float
        Smallest :math:`|\Delta I|` between consecutive samples that counts as a step [A].
    max_step_time : float
        Longest time between the two samples of a step [s]; longer and the
        polarisation and open-circuit voltage move too.
    min_steps : int
        Fewest steps for an estimate.

    Returns
    -------
    ResistanceEstimate

    Raises
    ------
    CalibrationError
        Fewer than `min_steps` steps (the message says how many and the largest step found).

    Notes
    -----
    Over a step between consecutive samples :math:`k-1, k` the open-circuit
    and polarisation voltages barely move, so with :math:`V = U_{oc} - U_{rc} - R I`:

    .. math::

        R_k = -\frac{V_k - V_{k-1}}{I_k - I_{k-1}}, \qquad
        \hat R = \operatorname{median}_k R_k, \qquad
        s = 1.4826\,\operatorname{median}_k |R_k - \hat R|, \qquad
        \sigma_{\hat R} = \sqrt{\pi/2}\; s / \sqrt{n}

    The median ignores steps spoilt by a contactor event or a misaligned
    frame. The result is the pack's resistance over one sampling interval:
    the ohmic part plus whatever polarisation builds in that time, at the
    pack's temperature during the steps (in the simulator with a 30-s RC
    pair, 2 % below the ohmic part). Steps are chosen on the measured
    :math:`|\Delta I|`, so current noise lets in steps whose true size is just
    below the threshold with :math:`\Delta I` overstated: 1 A of noise at a
    20-A threshold biases the median about 1.7 % low; raise
    `min_current_step` for noisier sensors. Method: the hybrid pulse power
    characterisation's :math:`\Delta V/\Delta I` (DOE FreedomCAR manual,
    INEEL/EXT-03-01036, 2003) on driving data.

    Examples
    --------
    >>> t = [0.0, 1.0, 2.0, 3.0]
    >>> i = [0.0, 50.0, 0.0, 100.0]
    >>> v = [360.0, 355.0, 360.0, 350.0]
    >>> pack_resistance(t, i, v, min_steps=3).resistance
    0.1
    """
    if isinstance(min_steps, bool) or not isinstance(min_steps, numbers.Integral) or min_steps < 1:
        raise ValidationError("min_steps", "an integer >= 1", min_steps)
    for name, value in (("min_current_step", min_current_step), ("max_step_time", max_step_time)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ValidationError(name, "a number > 0", value)
    t = _time(time)
    i = _series("current", current, t.size)
    v = _series("voltage", voltage, t.size)
    di, dv, dt = np.diff(i), np.diff(v), np.diff(t)
    step = (np.abs(di) >= min_current_step) & (dt <= max_step_time)
    n = int(step.sum())
    if n < min_steps:
        near = np.abs(di[dt <= max_step_time])
        largest = float(near.max()) if near.size else 0.0
        raise CalibrationError(
            f"{n} current steps of at least {min_current_step:g} A within {max_step_time:g} s"
            f" (largest {largest:.3g} A over {t.size} samples); the resistance needs {min_steps}"
        )
    r = -dv[step] / di[step]
    median = float(np.median(r))
    spread = MAD_TO_SIGMA * float(np.median(np.abs(r - median)))
    return ResistanceEstimate(median, _MEDIAN_EFFICIENCY * spread / math.sqrt(n), spread, n)


def health_track(
    distance: npt.ArrayLike,
    capacity: npt.ArrayLike,
    capacity_standard_error: npt.ArrayLike,
    rated_capacity: float,
    resistance: ResistanceEstimate | None = None,
) -> HealthTrack:
    r"""The capacity now and its fade over distance from per-stretch capacity estimates.

    Parameters
    ----------
    distance : array_like, shape (n,)
        Where each stretch ended: odometer or distance driven [m].
    capacity, capacity_standard_error : array_like, shape (n,)
        Per-stretch capacities and their standard errors [A s] (:func:`pack_capacity`).
    rated_capacity : float
        Capacity when new [A s] (a :class:`~twinloop.parameters.VehicleSpec`'s
        ``battery_capacity``: rated energy / nominal voltage).
    resistance : ResistanceEstimate, optional
        Carried into the result.

    Returns
    -------
    HealthTrack

    Raises
    ------
    DataError
        No estimates, or non-finite values.
    ValidationError
        Arrays of different lengths, a capacity <= 0 or a standard error < 0,
        a `rated_capacity` that is not 0.2 to 5 times the estimates' median
        (one of them in Ah, the other in A s), `resistance` not a
        :class:`ResistanceEstimate`.

    Notes
    -----
    With at least :data:`MIN_TREND_POINTS` distinct distances the fade is the
    Theil-Sen slope :math:`b = \operatorname{median}_{i<j} (Q_j - Q_i)/(x_j - x_i)`
    (Sen 1968), robust to a minority of bad stretches. Its standard error is
    the larger of half its 68.27 % confidence interval (Kendall's-tau based,
    as in :func:`scipy.stats.theilslopes`; too narrow with few points) and
    the weighted least-squares error the stated errors imply,
    :math:`\sigma_b = B / \sqrt{\sum_i w_i (x_i - \bar x)^2}`. The capacity
    now lies on the line through the weighted mean :math:`\bar Q` at
    :math:`\bar x` (weights :math:`w_i = 1/\sigma_i^2`):

    .. math::

        Q_{now} = \bar Q + b\,(x_{last} - \bar x), \qquad
        \sigma_{Q_{now}}^2 = \sigma_{\bar Q}^2 + \sigma_b^2 (x_{last} - \bar x)^2

    where :math:`\sigma_{\bar Q}` is the weighted mean's standard error,
    scaled up by the Birge ratio :math:`B = \max(1, \sqrt{\chi^2/\nu})` of
    the residuals about the line (:math:`\nu = n - 2`; about the mean,
    :math:`n - 1`, without a line) when they scatter more than the stated
    errors (BMS state-of-charge errors, temperature). Without a line
    :math:`Q_{now} = \bar Q`.

    References
    ----------
    P. K. Sen, "Estimates of the regression coefficient based on Kendall's
    tau", J. Am. Stat. Assoc. 63 (1968) 1379-1389, doi:10.1080/01621459.1968.10480934.

    Examples
    --------
    >>> h = health_track([1e6, 2e6, 3e6], [190e3, 180e3, 170e3], [1e3, 1e3, 1e3], 200e3)
    >>> round(h.state_of_health, 3), round(h.fade_per_1000_km, 4)
    (0.85, 0.05)
    """
    if isinstance(rated_capacity, bool) or not isinstance(rated_capacity, numbers.Real) or not rated_capacity > 0:
        raise ValidationError("rated_capacity", "a number > 0 A s", rated_capacity)
    if resistance is not None and not isinstance(resistance, ResistanceEstimate):
        raise ValidationError("resistance", "a ResistanceEstimate (from pack_resistance) or None", type(resistance).__name__)
    x = _series("distance", distance)
    q = _series("capacity", capacity, x.size)
    s = _series("capacity_standard_error", capacity_standard_error, x.size)
    if x.size == 0:
        raise DataError("no capacity estimates to track")
    for name, values in (("capacity", q), ("capacity_standard_error", s)):
        bad = values <= 0 if name == "capacity" else values < 0
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"{name} (estimate {k + 1})", "> 0 A s" if name == "capacity" else ">= 0 A s", float(values[k]))
    ratio = float(np.median(q)) / float(rated_capacity)
    if not 0.2 <= ratio <= 5.0:
        raise ValidationError(
            "rated_capacity", f"a capacity in the unit of the estimates, 0.2 to 5 times their median {np.median(q):g} A s",
            rated_capacity,
            hint=f"The estimates are {ratio:.3g} times it: both are in A s (1 Ah = 3600 A s)",
        )
    w = 1.0 / np.maximum(s, 1e-9 * np.abs(q)) ** 2
    x_mean = float(w @ x / w.sum())
    q_mean = float(w @ q / w.sum())
    se_mean = float(1.0 / math.sqrt(w.sum()))
    slope: float | None = None
    slope_se: float | None = None
    residual = q - q_mean
    dof = x.size - 1
    if np.unique(x).size >= MIN_TREND_POINTS:
        fit = stats.theilslopes(q, x, alpha=_ONE_SIGMA)
        slope = float(fit.slope)
        residual = q - (q_mean + slope * (x - x_mean))
        dof = x.size - 2
    birge = max(1.0, math.sqrt(float(w @ residual**2) / dof)) if dof > 0 else 1.0
    se_mean *= birge
    if slope is not None:
        # The rank interval alone is too narrow with few points: take the larger of it and
        # the weighted least-squares error the stated errors imply.
        propagated = birge / math.sqrt(float(w @ (x - x_mean) ** 2))
        slope_se = max(0.5 * float(fit.high_slope - fit.low_slope), propagated)
    last = float(x[np.argmax(x)])
    now = q_mean if slope is None else q_mean + slope * (last - x_mean)
    se_now = se_mean if slope_se is None else math.hypot(se_mean, slope_se * (last - x_mean))
    return HealthTrack(float(rated_capacity), now, se_now, slope, slope_se, int(x.size), last, resistance)
