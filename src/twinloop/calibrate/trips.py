r"""Calibrate a vehicle's road load, drivetrain efficiency and auxiliary load from trips.

Method
------
The battery terminal power :math:`P_b = V I` measured on the vehicle is
compared sample by sample with the traction physics (see
:func:`twinloop.calibrate._model.battery_power`):

.. math:: P_b = \frac{P_w^+}{\eta_d} - \min\!\left(\eta_r f(v) P_w^-, P_{regen,max}(v)\right)
          + P_{spin}(v) + P_{aux}

.. math:: P_w = \left[A + Bv + C \frac{\rho(T)}{\rho_0} v^2 + m g \sin(\arctan\gamma)
          + m (1 + f_{rot}) a\right] v

with :math:`A = m g C_{rr}`, :math:`B = 0`, :math:`C = \tfrac12\rho_0 C_dA` in
the physical form. Speed is smoothed and differentiated with a
Savitzky-Golay filter [3]_ (2 s window by default); speed and acceleration
are then averaged over the part of the sampling interval before each sample
that battery power is averaged over (the twinloop simulator reports the mean
over the whole step; estimated from the data unless given, see
:func:`twinloop.calibrate._data.averaged_over`). The parameters are the maximum a-posteriori
estimate under Gaussian priors centred on the prior spec, found with bounded,
robust (soft-L1) nonlinear least squares (:func:`scipy.optimize.least_squares`);
the robust loss is applied to the data residuals only.

What the data identify
----------------------
Battery power measures mechanical power only through the efficiencies, so
scaling mass and every road-load force by :math:`s`, :math:`\eta_d` by
:math:`s` and :math:`\eta_r` by :math:`1/s` leaves the prediction unchanged:
the data fix :math:`m/\eta_d`, the road load per unit mass (:math:`C_{rr}`,
:math:`C_dA/m`) and the round-trip efficiency :math:`\eta_d\eta_r`, but not
that common scale, which therefore comes from the priors (by default the
drive efficiency's, :math:`\pm 0.02`, the tightest). The result reports such
prior-dominated directions. Without road grade, mass is seen only through
acceleration. The rotating-mass factor, the regeneration fade speeds and
limits and the motor's no-load (spin) loss are taken from the prior spec.

Uncertainty
-----------
A sandwich covariance for M-estimators with the prior as pseudo-observations,

.. math:: \Sigma = H^{-1}\,(S + \Lambda)\,H^{-1},\quad
          H = \sum_i \psi'(r_i) J_i^\top J_i + \Lambda

where :math:`S` is the Newey-West (Bartlett) estimate [1]_ of the covariance
of the summed scores :math:`\psi(r_i) J_i` within each trip (trips are
independent), with a bandwidth of three times the lag where the residual
autocorrelation dies out (at least 10 s), and :math:`\Lambda` the prior
precision, plus :math:`\delta\delta^\top`, :math:`\delta` the change of the
estimate when the speed-smoothing window is doubled (a gauge of the
smoothing bias of acceleration), plus the Monte Carlo covariance of the
SIMEX refits below.

Noisy speed biases the estimate (errors in variables: the model is
evaluated at the noisy speed and at the acceleration differentiated from
it, and it is nonlinear). The estimate is therefore corrected by SIMEX [5]_:
refitted with speed noise of the level estimated from the trace (see
:func:`twinloop.calibrate._data.speed_noise`) added once more, and
extrapolated linearly to no noise, :math:`\hat\theta = 2\hat\theta(\sigma_v^2)
- \hat\theta(2\sigma_v^2)`. On the benchmark's 1 Hz telemetry this removed a
+1.8 % bias of the round-trip efficiency (about 2.5 standard errors).
Data residuals are weighted by :math:`1/\sqrt{\tau}`, :math:`\tau`
the integrated autocorrelation time [2]_, so that the prior is balanced
against the effective, not the nominal, number of samples.

References
----------
.. [1] Newey, W. K. and West, K. D. (1987). A simple, positive semi-definite,
   heteroskedasticity and autocorrelation consistent covariance matrix.
   Econometrica 55(3), 703-708. doi:10.2307/1913610
.. [2] Sokal, A. (1997). Monte Carlo methods in statistical mechanics.
   In Functional Integration, Springer, 131-192. doi:10.1007/978-1-4899-0319-8_6
.. [3] Savitzky, A. and Golay, M. J. E. (1964). Smoothing and differentiation
   of data by simplified least squares procedures. Analytical Chemistry
   36(8), 1627-1639. doi:10.1021/ac60214a047
.. [4] Huber, P. J. and Ronchetti, E. M. (2009). Robust Statistics, 2nd ed.,
   Wiley, ch. 6-7. doi:10.1002/9780470434697
.. [5] Cook, J. R. and Stefanski, L. A. (1994). Simulation-extrapolation
   estimation in parametric measurement error models. Journal of the
   American Statistical Association 89(428), 1314-1328.
   doi:10.1080/01621459.1994.10476871
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from twinloop.calibrate import _model
from twinloop.calibrate._data import (
    MOVING,
    Prepared,
    TelemetryChecks,
    averaged_over,
    prepare,
    with_speed_noise,
)
from twinloop.calibrate._uncertainty import autocorrelation_time, hac_meat, sandwich
from twinloop.conventions import MAD_TO_SIGMA
from twinloop.errors import CalibrationError, UnknownNameError, ValidationError
from twinloop.parameters.spec import VehicleSpec

__all__ = ["CalibrationOptions", "CalibrationResult", "calibrate_from_trips", "model_battery_power", "predict_battery_power"]

FloatArray = npt.NDArray[np.float64]

Z95 = 1.959963984540054
_HIGH_SPEED = 20.0  # [m s-1]; below this, drag is a small share of road load


@dataclass(frozen=True)
class CalibrationOptions:
    """How to calibrate (configuration only; checks happen in the calibration).

    Attributes
    ----------
    min_driving_time : float
        Least time at speed above 1 m/s over all trips [s], default 900.
    min_braking_time : float
        Least time of regenerative braking above the fade speed [s], default 30;
        needed while ``regen_efficiency`` is free.
    min_acceleration_time : float
        Least time accelerating harder than 0.2 m s-2 [s], default 30;
        needed while ``test_mass`` is free.
    robust_threshold : float
        Residual, in robust standard deviations, where the soft-L1 loss turns
        from quadratic to linear, default 3.
    hac_bandwidth : float, optional
        Newey-West bandwidth [s]; default from the residual autocorrelation.
    smoothing_sensitivity : bool
        Refit with twice the smoothing window and add the outer product of
        the shift of the (SIMEX-corrected) estimate to the covariance (a
        systematic term for the acceleration estimate), default True.
    simex_replicates : int
        Refits with speed noise added at the level estimated from the data
        (SIMEX, see the module notes) to remove the errors-in-variables bias
        of noisy speed; 0 turns the correction off, default 2.
    simex_seed : int
        Seed of the added noise (the result is reproducible), default 0.
    speed_noise : float, optional
        Standard deviation of the speed sensor's random error [m s-1] for the
        SIMEX correction (0: exact speed, no correction). Default None:
        estimated from the speed traces (:func:`~twinloop.calibrate._data.speed_noise`),
        which also reads genuine roughness of coarse, quantised traces as
        noise; state it where it is known.
    power_averaging : float, optional
        Share of the sampling interval, ending at a sample's time stamp, over
        which its battery power is averaged: 0 for instantaneous readings, 1
        for means over the step (the twinloop simulator's output, loggers
        that average). Default None: estimated from the data (the value in
        [0, 1] with the smallest fitted residual).
    checks : TelemetryChecks
        Limits of the input checks (gaps, stuck and saturated signals, smoothing).
    """

    min_driving_time: float = 900.0
    min_braking_time: float = 30.0
    min_acceleration_time: float = 30.0
    robust_threshold: float = 3.0
    hac_bandwidth: float | None = None
    smoothing_sensitivity: bool = True
    simex_replicates: int = 2
    simex_seed: int = 0
    speed_noise: float | None = None
    power_averaging: float | None = None
    checks: TelemetryChecks = field(default_factory=TelemetryChecks)

    def __post_init__(self) -> None:
        if isinstance(self.simex_replicates, bool) or not isinstance(self.simex_replicates, int) or self.simex_replicates < 0:
            raise ValidationError("simex_replicates", "an integer >= 0 (0 turns SIMEX off)", self.simex_replicates,
                                  "CalibrationOptions")
        if self.speed_noise is not None and not (math.isfinite(self.speed_noise) and self.speed_noise >= 0):
            raise ValidationError("speed_noise", "a standard deviation >= 0 m s-1, or None to estimate it",
                                  self.speed_noise, "CalibrationOptions")


@dataclass(frozen=True)
class CalibrationResult:
    """Calibrated parameters with their uncertainty.

    Arrays follow ``names``; fixed parameters have a standard error of 0.

    Attributes
    ----------
    form : str
        Road-load form (``"physical"`` or ``"coastdown"``).
    names, units : tuple of str
    estimate, standard_error : ndarray, shape (p,)
    interval_95 : ndarray, shape (p, 2)
        Normal-approximation 95 % intervals, truncated to the parameter's
        physical range (a power or an efficiency is never negative).
    covariance, correlation : ndarray, shape (p, p)
    prior_mean, prior_std : ndarray, shape (p,)
    data_share : ndarray, shape (p,)
        :math:`1 - \\sigma^2_{post}/\\sigma^2_{prior}`, clipped to [0, 1]: 1 when
        the data alone fix a parameter, 0 when only the prior does (0 for
        fixed ones, and where the posterior comes out wider than the prior).
    fixed : tuple of str
    rmse : float
        Root-mean-square battery-power residual [W].
    residual_std : float
        Robust (MAD) residual standard deviation [W].
    n_samples : int
        Samples fitted (all but the first of each trip, which only opens
        the averaging window of the second).
    effective_sample_size : float
        Samples divided by the residuals' integrated autocorrelation time.
    driving_time : float
        Time at speed above 1 m/s [s].
    notes : tuple of str
        What the data could not identify, and what was fixed.
    spec : VehicleSpec
        The prior spec updated with the estimates.
    power_averaging : float
        Share of the sampling interval over which battery power was taken as
        averaged (estimated unless given in the options).
    """

    form: str
    names: tuple[str, ...]
    units: tuple[str, ...]
    estimate: FloatArray
    standard_error: FloatArray
    interval_95: FloatArray
    covariance: FloatArray
    correlation: FloatArray
    prior_mean: FloatArray
    prior_std: FloatArray
    data_share: FloatArray
    fixed: tuple[str, ...]
    rmse: float
    residual_std: float
    n_samples: int
    effective_sample_size: float
    driving_time: float
    notes: tuple[str, ...]
    spec: VehicleSpec
    power_averaging: float = 0.0

    def __getitem__(self, name: str) -> float:
        """The estimate of one parameter by name."""
        return float(self.estimate[self._index(name)])

    def _index(self, name: str) -> int:
        if name not in self.names:
            raise UnknownNameError("calibrated parameter", name, self.names)
        return self.names.index(name)

    @property
    def unidentified(self) -> tuple[str, ...]:
        """Free parameters the data inform less than the prior (data share below 0.5)."""
        return tuple(n for n, s in zip(self.names, self.data_share, strict=True)
                     if n not in self.fixed and s < 0.5)

    def combination(self, name: str) -> tuple[float, float]:
        """Estimate and standard error of a data-identified combination.

        ``"round_trip_efficiency"`` (:math:`\\eta_d\\eta_r`) or
        ``"mass_per_drive_efficiency"`` (:math:`m/\\eta_d` [kg]), by the
        delta method on the log scale.
        """
        exponents = {
            "round_trip_efficiency": {"drive_efficiency": 1.0, "regen_efficiency": 1.0},
            "mass_per_drive_efficiency": {"test_mass": 1.0, "drive_efficiency": -1.0},
        }
        if name not in exponents:
            raise UnknownNameError("combination", name, exponents)
        grad = np.zeros(len(self.names))
        value = 1.0
        for pname, power in exponents[name].items():
            i = self._index(pname)
            value *= self.estimate[i] ** power
            grad[i] = power / self.estimate[i]
        rel = float(np.sqrt(max(float(grad @ self.covariance @ grad), 0.0)))
        return float(value), float(value) * rel

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error, interval, prior, data share."""
        return pd.DataFrame({
            "unit": self.units,
            "estimate": self.estimate,
            "standard_error": self.standard_error,
            "lower_95": self.interval_95[:, 0],
            "upper_95": self.interval_95[:, 1],
            "prior_mean": self.prior_mean,
            "prior_std": self.prior_std,
            "data_share": self.data_share,
            "fixed": [n in self.fixed for n in self.names],
        }, index=pd.Index(self.names, name="parameter"))

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "form": self.form,
            "parameters": {
                n: {"estimate": float(e), "standard_error": float(s), "interval_95": [float(lo), float(hi)],
                    "unit": u, "data_share": float(d), "fixed": n in self.fixed}
                for n, u, e, s, (lo, hi), d in zip(self.names, self.units, self.estimate, self.standard_error,
                                                    self.interval_95, self.data_share, strict=True)
            },
            "rmse_w": self.rmse,
            "n_samples": self.n_samples,
            "effective_sample_size": self.effective_sample_size,
            "driving_time_s": self.driving_time,
            "power_averaging": self.power_averaging,
            "notes": list(self.notes),
        }


def _form(prior: VehicleSpec, form: str | None) -> tuple[str, _model.Form]:
    key = form or prior.road_load_form
    if key not in _model.FORMS:
        raise UnknownNameError("road-load form", key, _model.FORMS)
    return key, _model.FORMS[key]


def _inputs(data: Prepared) -> _model.Inputs:
    return _model.Inputs(
        data.vehicle_speed, data.acceleration, data.road_grade,
        _model.REFERENCE_TEMPERATURE / data.ambient_temperature,
    )


def model_battery_power(
    spec: VehicleSpec,
    vehicle_speed: npt.ArrayLike,
    acceleration: npt.ArrayLike,
    road_grade: npt.ArrayLike,
    theta: Mapping[str, float] | npt.ArrayLike | None = None,
    form: str | None = None,
    air_density_ratio: npt.ArrayLike = 1.0,
) -> FloatArray:
    """Battery power [W] of the calibration's forward model on exact inputs.

    Where :func:`predict_battery_power` takes trips as they are logged (and
    smooths speed to differentiate it, as the calibration does), this takes
    the model's own inputs per sample, unsmoothed: for generating data with
    exactly the model that is fitted, or for finding the parameters a
    simulator's effective values correspond to.

    Parameters
    ----------
    spec : VehicleSpec
        Supplies the fixed parts (motor and battery limits) and the parameters not in `theta`.
    vehicle_speed, acceleration, road_grade : array_like, shape (n,)
        [m s-1], [m s-2], [1] per sample.
    theta : mapping or array_like, optional
        Parameter values by name (see ``FORMS[form].names``), or a full
        vector in that order; default the values derived from `spec`.
    form : str, optional
        Road-load form (``FORMS``); default the spec's.
    air_density_ratio : array_like
        rho(T) / rho(293.15 K) per sample [1]; 1 at the reference temperature.

    Returns
    -------
    ndarray, shape (n,)
    """
    _, f = _form(spec, form)
    values = f.prior_mean(spec)
    if isinstance(theta, Mapping):
        for name, value in theta.items():
            if name not in f.names:
                raise UnknownNameError("calibrated parameter", name, f.names)
            values[f.names.index(name)] = value
    elif theta is not None:
        vector = np.asarray(theta, dtype=float)
        if vector.shape != values.shape:
            raise ValidationError("theta", f"a vector of the {len(f.names)} parameters {list(f.names)}",
                                  f"shape {vector.shape}")
        values = vector
    v = np.asarray(vehicle_speed, dtype=float)
    x = _model.Inputs(v, np.asarray(acceleration, dtype=float), np.asarray(road_grade, dtype=float),
                      np.broadcast_to(np.asarray(air_density_ratio, dtype=float), v.shape).astype(float))
    return _model.battery_power(values, f, x, _model.limits_from_spec(spec))


def predict_battery_power(
    trips: pd.DataFrame | Sequence[pd.DataFrame],
    spec: VehicleSpec,
    theta: Mapping[str, float] | None = None,
    form: str | None = None,
    trip_column: str = "trip_id",
    checks: TelemetryChecks | None = None,
    power_averaging: float = 0.0,
) -> FloatArray:
    """Battery power [W] the calibration model predicts for `trips`.

    Parameters
    ----------
    trips : DataFrame or sequence of DataFrames
        As for :func:`calibrate_from_trips`; battery columns are not needed.
    spec : VehicleSpec
        Supplies the parameters not in `theta` and the fixed parts.
    theta : mapping, optional
        Parameter values by name (see ``CalibrationResult.names``),
        overriding those derived from `spec`.
    form : str, optional
        Road-load form; default the spec's.
    power_averaging : float
        Share of the sampling interval over which the predicted power is
        averaged, ending at each sample (0: instantaneous, 1: over the whole
        step, as the simulator reports it); see ``CalibrationResult.power_averaging``.

    Returns
    -------
    ndarray, shape (n,)
        Samples of all trips, in order.
    """
    _, f = _form(spec, form)
    values = f.prior_mean(spec)
    for name, value in (theta or {}).items():
        if name not in f.names:
            raise UnknownNameError("calibrated parameter", name, f.names)
        values[f.names.index(name)] = value
    data = prepare(trips, trip_column, checks, battery=False, power_averaging=power_averaging)
    return _model.battery_power(values, f, _inputs(data), _model.limits_from_spec(spec))


def _check_sufficient(data: Prepared, options: CalibrationOptions, free: set[str],
                      prior_power: FloatArray, lim: _model.Limits) -> float:
    dt = data.time_step
    v = data.vehicle_speed
    driving = float(np.sum(dt[v > MOVING]))
    if driving < options.min_driving_time:
        raise CalibrationError(
            f"not enough driving: {driving / 60:.1f} min at speed above {MOVING:g} m/s in "
            f"{len(data.trip_names)} trip(s); need at least {options.min_driving_time / 60:g} min "
            "to calibrate road load and efficiencies"
        )
    if "regen_efficiency" in free:
        braking = float(np.sum(dt[(prior_power < 0) & (v > lim.regen_fade_speed_high)]))
        if braking < options.min_braking_time:
            raise CalibrationError(
                f"no braking events to speak of: {braking:g} s of braking above "
                f"{lim.regen_fade_speed_high:g} m/s (need {options.min_braking_time:g} s), so "
                "regen_efficiency cannot be identified; add trips with braking or fix it "
                "(fixed=('regen_efficiency',))"
            )
    if "test_mass" in free:
        accelerating = float(np.sum(dt[(data.acceleration > 0.2) & (v > MOVING)]))
        if accelerating < options.min_acceleration_time:
            raise CalibrationError(
                f"no acceleration events to speak of: {accelerating:g} s above 0.2 m/s2 "
                f"(need {options.min_acceleration_time:g} s), so test_mass cannot be identified; "
                "add trips with acceleration or fix it (fixed=('test_mass',))"
            )
    return driving


def _soft_l1(thresholds: FloatArray) -> Any:
    """Soft-L1 loss with a threshold per residual (inf: plain least squares)."""
    c2 = thresholds**2
    quadratic = ~np.isfinite(c2)
    c2 = np.where(quadratic, 1.0, c2)

    def loss(z: FloatArray) -> FloatArray:
        out = np.empty((3, z.size))
        s = np.sqrt(1.0 + z / c2)
        out[0] = np.where(quadratic, z, 2.0 * c2 * (s - 1.0))
        out[1] = np.where(quadratic, 1.0, 1.0 / s)
        out[2] = np.where(quadratic, 0.0, -0.5 / (c2 * s**3))
        return out

    return loss


def _jacobian(fun: Any, u: FloatArray, lo: FloatArray, hi: FloatArray, step: float = 1e-4) -> FloatArray:
    cols = []
    for j in range(u.size):
        up, dn = u.copy(), u.copy()
        up[j] = min(u[j] + step, hi[j])
        dn[j] = max(u[j] - step, lo[j])
        cols.append((fun(up) - fun(dn)) / (up[j] - dn[j]))
    return np.column_stack(cols)


def _weak_directions(info: FloatArray, free_names: list[str], scale: FloatArray) -> list[str]:
    """Directions in which the data carry less information than the prior."""
    values, vectors = np.linalg.eigh(info)
    notes = []
    for lam, vec in zip(values, vectors.T, strict=True):
        if lam >= 1.0:
            continue
        rel = vec * scale
        rel = rel / np.max(np.abs(rel))
        if rel[np.argmax(np.abs(rel))] < 0:
            rel = -rel
        parts = [f"{n} {r:+.2f}" for n, r in zip(free_names, rel, strict=True) if abs(r) > 0.2]
        notes.append(
            "not identifiable from the data (set by the prior, data information "
            f"{lam:.2g} of the prior's): the relative change {', '.join(parts)}"
        )
    return notes


def _estimate_averaging(residual_at: Any) -> float:
    """Share of the sampling interval over which power is averaged: least RMS residual on [0, 1].

    A coarse grid first (the RMS need not be unimodal over the whole range),
    then a bounded scalar search around the best grid point.
    """
    def rms(s: float) -> float:
        return float(np.sqrt(np.mean(residual_at(s) ** 2)))

    grid = np.linspace(0.0, 1.0, 5)
    costs = [rms(s) for s in grid]
    best = int(np.argmin(costs))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    sol = optimize.minimize_scalar(rms, bounds=(lo, hi), method="bounded", options={"xatol": 0.02})
    return float(sol.x) if sol.fun < costs[best] else float(grid[best])


#: Parameters whose estimate may not lie further from the prior than this many prior standard
#: deviations: a vehicle's mass is known to a few tens of percent. (Auxiliary load is left out: a
#: winter of heating may legitimately put it many prior standard deviations away.)
MAX_PRIOR_DISTANCE = {"test_mass": 6.0}


def _refuse_far_from_prior(names: Sequence[str], theta: FloatArray, mu: FloatArray, tau: FloatArray,
                           free: Sequence[str]) -> None:
    for name, value, mean, sd in zip(names, theta, mu, tau, strict=True):
        limit = MAX_PRIOR_DISTANCE.get(name)
        if limit is None or name not in free or not sd > 0:
            continue
        z = abs(value - mean) / sd
        if z > limit:
            raise CalibrationError(
                f"{name} comes out at {value:.4g}, {z:.0f} prior standard deviations from the vehicle's"
                f" {mean:.4g} +- {sd:.3g} (at most {limit:g}): the trips do not fit this vehicle's physics;"
                " check the units of speed (m/s vs km/h), battery current (A, positive discharging) and"
                " voltage, and that the trips are this vehicle's"
            )


def calibrate_from_trips(
    trips: pd.DataFrame | Sequence[pd.DataFrame],
    prior: VehicleSpec,
    *,
    form: str | None = None,
    fixed: Iterable[str] = (),
    prior_std: Mapping[str, float] | None = None,
    trip_column: str = "trip_id",
    options: CalibrationOptions | None = None,
) -> CalibrationResult:
    """Calibrate road load, drivetrain efficiency and auxiliary power from trip telemetry.

    Parameters
    ----------
    trips : DataFrame or sequence of DataFrames
        One frame per trip, or one frame with a `trip_column`. Columns (SI):
        ``time`` [s], ``vehicle_speed`` [m s-1], ``battery_current`` [A]
        (positive discharging), ``battery_voltage`` [V],
        ``ambient_temperature`` [K] and optionally ``road_grade`` [1]. Each
        trip sampled uniformly (1 Hz to 100 Hz), without gaps.
    prior : VehicleSpec
        Centre of the priors, and the source of everything not calibrated.
    form : {"physical", "coastdown"}, optional
        Road load as mass, drag area :math:`C_dA` [m2] and rolling-resistance
        coefficient, or as mass and coast-down A [N], B [N s m-1], C
        [N s2 m-2]; default the prior's form.
    fixed : iterable of str
        Parameters held at the prior mean.
    prior_std : mapping, optional
        Prior standard deviations by parameter name (units of the parameter),
        overriding the defaults: mass 10 %, drag area or C 15 %, rolling
        resistance or A 25 %, B max(50 %, 2 N s m-1), drive efficiency 0.02,
        regen efficiency 0.15, auxiliary power max(50 %, 200 W).
    trip_column : str
        Column that separates trips in a single frame.
    options : CalibrationOptions, optional

    Returns
    -------
    CalibrationResult

    Raises
    ------
    DataError
        Missing columns, NaN, out-of-range values, sensor gaps, uneven
        sampling, stuck or saturated signals.
    CalibrationError
        Too little driving, no braking or no acceleration for a free parameter
        that needs it; or a mass further than :data:`MAX_PRIOR_DISTANCE`
        prior standard deviations from the prior (a speed in the wrong unit).
    UnknownNameError
        Unknown form or parameter name.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from twinloop.parameters import load_bundled
    >>> from twinloop.calibrate import predict_battery_power
    >>> car = load_bundled("vw_id3_pro_2020")
    >>> t = np.arange(0.0, 1800.0)
    >>> v = 12 + 8 * np.sin(t / 40) + 4 * np.sin(t / 7)
    >>> trip = pd.DataFrame({"time": t, "vehicle_speed": v, "ambient_temperature": 293.15,
    ...                      "battery_voltage": 350 + 0.1 * np.sin(t)})
    >>> trip["battery_current"] = predict_battery_power(trip, car, {"test_mass": 2000}) / trip.battery_voltage
    >>> result = calibrate_from_trips(trip, car)
    >>> round(result["test_mass"] / result["drive_efficiency"])  # what the data fix
    2062
    """
    options = options or CalibrationOptions()
    key, f = _form(prior, form)
    fixed = tuple(fixed)
    for name in (*fixed, *(prior_std or {})):
        if name not in f.names:
            raise UnknownNameError("calibrated parameter", name, f.names)
    lim = _model.limits_from_spec(prior)
    mu = f.prior_mean(prior)
    tau = f.prior_std(mu)
    for name, value in (prior_std or {}).items():
        if not (np.isfinite(value) and value > 0):
            raise ValidationError(f"prior_std[{name!r}]", "a positive number", value)
        tau[f.names.index(name)] = value
    lower, upper = f.bounds(mu)
    mu = np.clip(mu, lower, upper)
    if options.power_averaging is not None and not 0.0 <= options.power_averaging <= 1.0:
        raise ValidationError("options.power_averaging", "a share in [0, 1], or None to estimate it",
                              options.power_averaging)

    data = prepare(trips, trip_column, options.checks)
    free_idx = np.array([i for i, n in enumerate(f.names) if n not in fixed], dtype=int)
    free_names = [f.names[i] for i in free_idx]
    prior_power = _model.wheel_power(mu, f, _inputs(data), lim)
    driving = _check_sufficient(data, options, set(free_names), prior_power, lim)
    # The first sample of a trip has no earlier sample to average over.
    used = ~data.trip_start
    n_used = int(np.sum(used))
    trip_used = data.trip[used]

    def theta_of(u: FloatArray) -> FloatArray:
        theta = mu.copy()
        theta[free_idx] = mu[free_idx] + tau[free_idx] * u
        return theta

    def residual_of(d: Prepared) -> Any:
        xd = _inputs(d)
        power = d.battery_power[used]
        return lambda u: _model.battery_power(theta_of(u), f, xd, lim)[used] - power

    ulo = (lower[free_idx] - mu[free_idx]) / tau[free_idx]
    uhi = (upper[free_idx] - mu[free_idx]) / tau[free_idx]
    k = free_idx.size

    def solve(res: Any, n: int, u0: FloatArray, sigma: float, weight: float) -> FloatArray:
        scale = sigma * np.sqrt(weight)
        thresholds = np.r_[np.full(n, options.robust_threshold / np.sqrt(weight)), np.full(k, np.inf)]
        sol = optimize.least_squares(
            lambda u: np.r_[res(u) / scale, u], u0, bounds=(ulo, uhi),
            loss=_soft_l1(thresholds), method="trf", x_scale=1.0,
        )
        return np.asarray(sol.x, dtype=float)

    def mad(r: FloatArray) -> float:
        return max(MAD_TO_SIGMA * float(np.median(np.abs(r - np.median(r)))), 1.0)

    def first_pass(d: Prepared, u0: FloatArray) -> tuple[FloatArray, FloatArray]:
        res = residual_of(d)
        u1 = solve(res, n_used, u0, mad(res(u0)), 1.0)
        return u1, res(u1)

    averaging = options.power_averaging
    if averaging is None:
        # warm starts: neighbouring windows have nearly the same parameters
        start = [first_pass(data, np.zeros(k))[0]]

        def residual_at(s: float) -> FloatArray:
            start[0], r_s = first_pass(averaged_over(data, s), start[0])
            return r_s

        averaging = _estimate_averaging(residual_at)
    data = averaged_over(data, averaging)
    residual = residual_of(data)

    # Stage 1 finds the noise scale and the residual autocorrelation; stage 2
    # weighs the prior against the effective number of samples.
    u, r = first_pass(data, np.zeros(k))
    sigma = mad(r)
    dt = float(np.median(data.time_step))
    tau_int, cutoff = autocorrelation_time(r, trip_used, max_lag=round(300.0 / dt))
    u = solve(residual, n_used, u, sigma, tau_int)
    r = residual(u)
    sigma = mad(r)

    def corrected(checks: TelemetryChecks, d: Prepared, u0: FloatArray) -> tuple[FloatArray, FloatArray]:
        """SIMEX: the estimate extrapolated to no speed noise, and its Monte Carlo covariance."""
        level = d.speed_noise if options.speed_noise is None else options.speed_noise
        if options.simex_replicates < 1 or level <= 0.0:
            return u0, np.zeros((k, k))
        rng = np.random.default_rng(options.simex_seed)
        reps = []
        for _ in range(options.simex_replicates):
            noisier = prepare(with_speed_noise(trips, trip_column, level, rng), trip_column, checks,
                              power_averaging=averaging)
            reps.append(solve(residual_of(noisier), n_used, u0, sigma, tau_int))
        rep = np.array(reps)
        mc = np.cov(rep.T).reshape(k, k) / rep.shape[0] if rep.shape[0] > 1 else np.zeros((k, k))
        return np.clip(2.0 * u0 - rep.mean(axis=0), ulo, uhi), mc

    # Errors in variables: noisy speed biases the estimate (through the
    # acceleration derived from it and the nonlinearity of the model); SIMEX
    # doubles the noise variance and extrapolates linearly back to none.
    u_fit = u
    u, mc_cov = corrected(options.checks, data, u_fit)

    # Systematic part: the smoothing bias of the acceleration estimate,
    # gauged by the shift of the (corrected) estimate when the window is
    # doubled. Scaling it to the default window by the leading-order bias
    # (Richardson) proved too small at 10 Hz, so the whole shift enters.
    shift = np.zeros(k)
    if options.smoothing_sensitivity:
        wide = replace(options.checks, smoothing_window=2.0 * options.checks.smoothing_window)
        data2 = prepare(trips, trip_column, wide, power_averaging=averaging)
        u2, _ = corrected(wide, data2, solve(residual_of(data2), n_used, u_fit, sigma, tau_int))
        shift = u2 - u

    # Sandwich covariance in the standardised coordinates u.
    scale = sigma * np.sqrt(tau_int)
    jac = _jacobian(lambda uu: residual(uu) / scale, u_fit, ulo, uhi)
    f_data = r / scale
    c = options.robust_threshold / np.sqrt(tau_int)
    psi = f_data / np.sqrt(1.0 + (f_data / c) ** 2)
    dpsi = (1.0 + (f_data / c) ** 2) ** -1.5
    info = (jac * dpsi[:, None]).T @ jac
    bandwidth = (round(options.hac_bandwidth / dt) if options.hac_bandwidth is not None
                 else max(3 * cutoff, round(10.0 / dt)))
    meat = hac_meat(jac * psi[:, None], trip_used, bandwidth)
    eye = np.eye(k)
    cov_u = sandwich(info + eye, meat + eye) + mc_cov + np.outer(shift, shift)

    p = len(f.names)
    theta = theta_of(u)
    cov = np.zeros((p, p))
    cov[np.ix_(free_idx, free_idx)] = cov_u * np.outer(tau[free_idx], tau[free_idx])
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    safe = np.where(se > 0, se, 1.0)
    corr = cov / np.outer(safe, safe)
    np.fill_diagonal(corr, 1.0)
    # the sandwich may come out wider than the prior when the residuals are far from the model's
    share = np.clip(np.where(se > 0, 1.0 - (se / tau) ** 2, 0.0), 0.0, 1.0)
    _refuse_far_from_prior(f.names, theta, mu, tau, free_names)

    notes = list(_weak_directions(info, free_names, tau[free_idx] / np.maximum(np.abs(mu[free_idx]), tau[free_idx])))
    notes += [f"{n} is set mostly by the prior (data share {s:.2f})"
              for n, s in zip(f.names, share, strict=True) if n in free_names and s < 0.5]
    if not data.has_grade:
        notes.append("no road_grade column: roads taken as flat, so the grade force is not observed "
                     "and mass is seen through acceleration only")
    elif np.ptp(data.road_grade) < 0.01:
        notes.append("road grade nearly constant: the grade force adds little information on mass")
    if float(np.sum(data.time_step[data.vehicle_speed > _HIGH_SPEED])) < 120.0:
        notes.append(f"under 2 min above {_HIGH_SPEED * 3.6:g} km/h: aerodynamic drag is poorly determined")
    notes.append(f"battery power read as the mean over {data.power_averaging:.2f} of the sampling interval "
                 "before each sample (0: instantaneous, 1: over the whole step"
                 + ("; estimated from the data)" if options.power_averaging is None else ")"))
    notes.append("fixed at the prior spec: rotating_mass_factor, regeneration fade speeds and limits, "
                 "motor no-load loss" + (f"; and {', '.join(fixed)}" if fixed else ""))

    spec = prior.with_changes(
        **f.update(prior, theta),
        sources={**prior.sources, "calibration": f"calibrate_from_trips: {len(data.trip_names)} trip(s), "
                 f"{driving / 60:.0f} min of driving"},
    )
    return CalibrationResult(
        form=key, names=f.names, units=f.units, estimate=theta, standard_error=se,
        interval_95=np.column_stack([np.maximum(theta - Z95 * se, lower), np.minimum(theta + Z95 * se, upper)]),
        covariance=cov, correlation=corr, prior_mean=mu, prior_std=tau, data_share=share,
        fixed=fixed, rmse=float(np.sqrt(np.mean(r**2))), residual_std=sigma, n_samples=n_used,
        effective_sample_size=n_used / tau_int, driving_time=driving, notes=tuple(notes), spec=spec,
        power_averaging=float(data.power_averaging),
    )
