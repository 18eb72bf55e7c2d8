"""Calibrate a twin on one laboratory test and predict another, with uncertainty.

One test result (a wall energy per distance over a known cycle) fixes one
combination of parameters, not two. The twin therefore carries a population
prior over its two least-known parameters (a scale on every drivetrain loss and
the auxiliary load, and the share of braking the motor regenerates), learned
from other vehicles' paired tests, and updates it with its own result by Bayes'
rule on a grid. The posterior then predicts any other cycle with a standard
deviation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from twinloop.cycles import Cycle
from twinloop.errors import CalibrationError, ValidationError
from twinloop.parameters.epa import MILE
from twinloop.parameters.spec import VehicleSpec
from twinloop.sim import Scenario, VehicleModel, stack_vehicles
from twinloop.sim._layout import P

__all__ = ["DYNAMOMETER", "MODEL_TRANSFER_ERROR", "LabCalibration", "LabPrior", "calibrate_on_lab_test", "lab_grid", "posterior_mean_sd", "posterior_weights", "refine"]

FloatArray = npt.NDArray[np.float64]

#: Relative error of predicting one cycle from a calibration on another, beyond
#: the parameters' spread: the spread (1.4826 MAD) of ln(measured / predicted)
#: highway results of EPA 2022 vehicles calibrated on their UDDS results, 3.4%
#: (``benchmarks/myev_epa.py``, ``transfer_sd_median_pct``).
MODEL_TRANSFER_ERROR = 0.034

#: Wall energy per distance a lab result may give [J m-1]: 90 to 2240 Wh/mi, every EV and then some.
LAB_ENERGY_RANGE = (200.0, 5000.0)
#: Measurement standard deviations the calibration accepts [1]: 0.1 % to 50 %.
MEASUREMENT_SD_RANGE = (0.001, 0.5)

#: The model of a dynamometer test: climate control off, battery held at the soak temperature.
DYNAMOMETER = VehicleModel({"cabin_climate": "off", "battery_thermal": "isothermal"})

_LOSS_COLUMNS = [P.copper_loss, P.iron_loss, P.windage_loss, P.constant_loss, P.auxiliary_power]
#: Grid of log loss scale and regeneration share the model is simulated on ...
LOG_SCALE_GRID = np.linspace(np.log(0.25), np.log(6.0), 21)
SHARE_GRID = np.linspace(0.1, 1.0, 10)
#: ... and the finer grid, linearly interpolated, that the posterior is evaluated on.
_REFINE = 4
FINE_LOG_SCALE = np.linspace(LOG_SCALE_GRID[0], LOG_SCALE_GRID[-1], _REFINE * (len(LOG_SCALE_GRID) - 1) + 1)
FINE_SHARE = np.linspace(SHARE_GRID[0], SHARE_GRID[-1], _REFINE * (len(SHARE_GRID) - 1) + 1)


def refine(coarse: FloatArray) -> FloatArray:
    """Bilinear interpolation of a (ln k, s) grid of positive values onto the fine grid, in log space."""
    log_e = np.log(coarse)
    rows = np.array([np.interp(FINE_SHARE, SHARE_GRID, r) for r in log_e])
    fine = np.array([np.interp(FINE_LOG_SCALE, LOG_SCALE_GRID, c) for c in rows.T]).T
    return np.exp(fine)


@dataclass(frozen=True)
class LabPrior:
    """Gaussian prior on (log loss scale [1], regeneration share [1]).

    Attributes
    ----------
    mean : tuple of float
        Prior mean of (ln k, s).
    cov : tuple of tuple of float
        2 x 2 prior covariance.
    source : str
        Where the prior comes from.
    """

    mean: tuple[float, float] = (0.0, 0.9)
    cov: tuple[tuple[float, float], tuple[float, float]] = ((0.09, 0.0), (0.0, 0.04))
    source: str = "default: loss scale 1 (sd 30%), regeneration share 0.9 (sd 0.2)"

    def __post_init__(self) -> None:
        c = np.asarray(self.cov, dtype=float)
        if c.shape != (2, 2) or not np.allclose(c, c.T) or np.any(np.linalg.eigvalsh(c) <= 0):
            raise ValidationError("cov", "a symmetric positive-definite 2 x 2 matrix", self.cov)

    @classmethod
    def from_points(cls, points: npt.ArrayLike, source: str, minimum_sd: tuple[float, float] = (0.05, 0.03)) -> LabPrior:
        """Prior from other vehicles' calibrated (ln k, s), robust to outliers.

        The centre is the median; the covariance is the sample covariance of
        the points within the central 90% by Mahalanobis distance, floored at
        `minimum_sd` on the diagonal.
        """
        x = np.asarray(points, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2 or len(x) < 5:
            raise CalibrationError(f"a lab prior needs at least 5 calibrated vehicles (ln k, s); got shape {x.shape}")
        centre = np.median(x, axis=0)
        cov = np.cov(x, rowvar=False)
        d = np.einsum("ij,jk,ik->i", x - centre, np.linalg.pinv(cov), x - centre)
        core = x[d <= np.quantile(d, 0.9)]
        cov = np.cov(core, rowvar=False)
        cov[np.diag_indices(2)] = np.maximum(np.diag(cov), np.square(minimum_sd))
        return cls((float(centre[0]), float(centre[1])),
                   ((float(cov[0, 0]), float(cov[0, 1])), (float(cov[1, 0]), float(cov[1, 1]))), source)

    def log_density(self, log_scale: FloatArray, share: FloatArray) -> FloatArray:
        """Log prior density (up to a constant) on arrays of (ln k, s)."""
        inv = np.linalg.inv(np.asarray(self.cov))
        d0 = log_scale - self.mean[0]
        d1 = share - self.mean[1]
        return -0.5 * (inv[0, 0] * d0 * d0 + 2 * inv[0, 1] * d0 * d1 + inv[1, 1] * d1 * d1)


def lab_grid(
    params: FloatArray,
    ocv_tables: FloatArray,
    cycle: Cycle,
    charger_efficiency: float | FloatArray,
    model: VehicleModel = DYNAMOMETER,
) -> FloatArray:
    """Wall energy per distance [J m-1] of vehicles over the (ln k, s) grid, in one fleet run.

    Parameters
    ----------
    params : ndarray, shape (n, len(P)) or (len(P),)
        Parameter rows (see :func:`twinloop.sim.stack_vehicles`).
    ocv_tables : ndarray, shape (n, m) or (m,)
        Their pack OCV tables.
    cycle : Cycle
    charger_efficiency : float or ndarray of shape (n,)
        Wall to battery [1].

    Returns
    -------
    ndarray, shape (n, len(LOG_SCALE_GRID), len(SHARE_GRID)), or without the
    leading axis for a single parameter row.
    """
    single = params.ndim == 1
    params = np.atleast_2d(params)
    tables = np.atleast_2d(ocv_tables)
    n = params.shape[0]
    k, s = np.meshgrid(np.exp(LOG_SCALE_GRID), SHARE_GRID, indexing="ij")
    g = k.size
    grid = np.repeat(params, g, axis=0)
    grid[:, _LOSS_COLUMNS] *= np.tile(k.ravel(), n)[:, None]
    grid[:, P.regen_axle_share] = np.tile(s.ravel(), n)
    charger = np.repeat(np.broadcast_to(np.asarray(charger_efficiency, dtype=float), (n,)), g)
    r = model.simulate_parameters(grid, np.repeat(tables, g, axis=0), Scenario(cycle, hvac="off"),
                                  charger_efficiency=charger)
    e = (r.wall_energy / r.distance).reshape(n, *k.shape)
    return e[0] if single else e


def posterior_weights(energy: FloatArray, measured: float, prior: LabPrior, measurement_sd: float) -> FloatArray:
    """Normalised posterior on the fine grid given the fine-grid model `energy` and one `measured` value."""
    k, s = np.meshgrid(FINE_LOG_SCALE, FINE_SHARE, indexing="ij")
    log_post = -0.5 * (np.log(measured / energy) / measurement_sd) ** 2 + prior.log_density(k, s)
    w = np.exp(log_post - log_post.max())
    return w / w.sum()


def posterior_mean_sd(weights: FloatArray, values: FloatArray) -> tuple[float, float]:
    """Posterior mean and standard deviation of a quantity given on the fine grid."""
    mean = float(np.sum(weights * values))
    return mean, float(np.sqrt(max(float(np.sum(weights * (values - mean) ** 2)), 0.0)))


@dataclass(frozen=True)
class LabCalibration:
    """A twin calibrated on one lab test: the posterior over (ln k, s) on the grid."""

    spec: VehicleSpec
    weights: FloatArray = field(repr=False)
    prior: LabPrior
    charger_efficiency: float
    params: FloatArray = field(repr=False)
    ocv_table: FloatArray = field(repr=False)

    @property
    def loss_scale(self) -> float:
        """Posterior mean of the loss scale k [1]."""
        return posterior_mean_sd(self.weights, np.exp(FINE_LOG_SCALE)[:, None])[0]

    @property
    def regen_share(self) -> float:
        """Posterior mean of the regeneration share s [1]."""
        return posterior_mean_sd(self.weights, FINE_SHARE[None, :])[0]

    def predict(self, cycle: Cycle, model: VehicleModel = DYNAMOMETER,
                model_error: float = MODEL_TRANSFER_ERROR) -> tuple[float, float]:
        """Mean and standard deviation of wall energy per distance [J m-1] over `cycle`.

        The standard deviation combines the posterior spread of the parameters
        with `model_error` [1], the relative error of carrying a calibration
        from one cycle to another that the parameters cannot explain (pass 0
        for the parameter spread alone).
        """
        e = refine(lab_grid(self.params, self.ocv_table, cycle, self.charger_efficiency, model))
        mean, spread = posterior_mean_sd(self.weights, e)
        return mean, float(np.hypot(spread, model_error * mean))


def calibrate_on_lab_test(
    spec: VehicleSpec,
    cycle: Cycle,
    wall_energy_per_distance: float,
    prior: LabPrior | None = None,
    measurement_sd: float = 0.03,
    charger_efficiency: float | None = None,
    model: VehicleModel = DYNAMOMETER,
) -> LabCalibration:
    """Calibrate `spec`'s loss scale and regeneration share on one lab result.

    Parameters
    ----------
    spec : VehicleSpec
        The starting twin (e.g. the generic model of the vehicle).
    cycle : Cycle
        The test's drive cycle.
    wall_energy_per_distance : float
        Measured wall energy per distance [J m-1] (1 Wh/mi = 2.237 J/m).
    prior : LabPrior, optional
        Population prior over (ln k, s); default :class:`LabPrior`.
    measurement_sd : float
        Standard deviation of ln(measured / model) [1]: test repeatability and
        model error; 3% by default, the median of the values the MyEV
        benchmark chooses on its training vehicles (1-6%).
    charger_efficiency : float, optional
        Default: the spec's.

    Returns
    -------
    LabCalibration
        ``spec`` carries the posterior-mean loss scale and regeneration share.

    Raises
    ------
    CalibrationError
        If no loss scale and regeneration share on the grid comes within 3
        measurement standard deviations of the measured value: a unit slip
        (kWh/100 mi for Wh/mi) or the wrong vehicle, which a calibration at
        the grid's edge would hide.

    Notes
    -----
    The model is simulated on :data:`LOG_SCALE_GRID` x :data:`SHARE_GRID`
    (one fleet run of 210 variants), interpolated onto a 4x finer grid, and the
    posterior there is

    .. math:: p(\\ln k, s \\mid y) \\propto \\exp\\left(-\\frac{(\\ln y - \\ln E(k, s))^2}
              {2\\sigma^2}\\right) p(\\ln k, s)

    with :math:`E` the simulated wall energy per distance.
    """
    low, high = LAB_ENERGY_RANGE
    if not np.isfinite(wall_energy_per_distance) or not low <= wall_energy_per_distance <= high:
        raise ValidationError("wall_energy_per_distance", f"[{low:g}, {high:g}] J/m (90-2240 Wh/mi)",
                              wall_energy_per_distance)
    low, high = MEASUREMENT_SD_RANGE
    if not low <= measurement_sd <= high:  # also refuses NaN
        raise ValidationError("measurement_sd", f"[{low:g}, {high:g}]", measurement_sd)
    prior = prior or LabPrior()
    charger = spec.charger_efficiency if charger_efficiency is None else charger_efficiency
    params, tables = stack_vehicles([spec])
    e = refine(lab_grid(params[0], tables[0], cycle, charger, model))
    _check_reachable(e, wall_energy_per_distance, measurement_sd, spec.name, cycle.name)
    w = posterior_weights(e, wall_energy_per_distance, prior, measurement_sd)
    scale = posterior_mean_sd(w, np.exp(FINE_LOG_SCALE)[:, None])[0]
    calibrated = spec.with_changes(
        copper_loss=spec.copper_loss * scale, iron_loss=spec.iron_loss * scale,
        windage_loss=spec.windage_loss * scale, constant_loss=spec.constant_loss * scale,
        auxiliary_power=spec.auxiliary_power * scale, regen_axle_share=posterior_mean_sd(w, FINE_SHARE[None, :])[0],
        charger_efficiency=charger,
    )
    return LabCalibration(calibrated, w, prior, charger, params[0], tables[0])



def _check_reachable(energy: FloatArray, measured: float, measurement_sd: float, vehicle: str, cycle: str) -> None:
    """Refuse a measurement the twin cannot reproduce with any grid parameters (3 sd margin)."""
    low, high = float(energy.min()), float(energy.max())
    margin = float(np.exp(3.0 * measurement_sd))
    if low / margin <= measured <= high * margin:
        return
    per_mile = MILE / 3600.0  # J/m -> Wh/mi
    raise CalibrationError(
        f"measured {measured * per_mile:.0f} Wh/mi on {cycle} is out of reach of {vehicle}: with any loss scale in"
        f" [{np.exp(LOG_SCALE_GRID[0]):g}, {np.exp(LOG_SCALE_GRID[-1]):g}] and regeneration share in"
        f" [{SHARE_GRID[0]:g}, {SHARE_GRID[-1]:g}] it uses {low * per_mile:.0f}-{high * per_mile:.0f} Wh/mi;"
        " check the unit"
        " (Wh per mile at the wall, not kWh/100 mi or MPGe), the cycle and the vehicle"
    )
