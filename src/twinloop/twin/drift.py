"""Drift detection: a two-sided CUSUM on standardised model residuals.

A twin's champion model learns, at calibration, the band of its residuals
(mean and standard deviation of measured minus predicted energy per metre).
On new trips the residuals are standardised with that band and fed to a
two-sided cumulative-sum chart; an alarm means the vehicle no longer
behaves as the model says (a soft tyre, a roof box, battery ageing ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError

__all__ = ["CusumResult", "ResidualBand", "cusum", "standardise"]


@dataclass(frozen=True)
class ResidualBand:
    """Mean and standard deviation of a model's residuals at calibration [J m-1].

    Examples
    --------
    >>> ResidualBand.of([1.0, -1.0, 1.0, -1.0])
    ResidualBand(mean=0.0, std=1.0)
    """

    mean: float
    std: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.mean):
            raise ValidationError("residual_band.mean", "a finite number [J m-1]", self.mean)
        if not (np.isfinite(self.std) and self.std > 0):
            raise ValidationError("residual_band.std", "a finite number > 0 [J m-1]", self.std)

    @classmethod
    def of(cls, residuals: npt.ArrayLike, floor: float = 1e-6) -> ResidualBand:
        """The band of `residuals` (population std, at least `floor`)."""
        r = np.asarray(residuals, dtype=float)
        if r.size < 2 or not np.all(np.isfinite(r)):
            raise ValidationError("residuals", "at least 2 finite values", r.size)
        return cls(float(r.mean()), max(float(r.std()), floor))


def standardise(residuals: npt.ArrayLike, band: ResidualBand) -> npt.NDArray[np.float64]:
    """``(residuals - band.mean) / band.std`` [1]."""
    return (np.asarray(residuals, dtype=float) - band.mean) / band.std


@dataclass(frozen=True)
class CusumResult:
    """Outcome of :func:`cusum`.

    Attributes
    ----------
    alarm : int or None
        Index of the first sample where either statistic exceeds `h`; None
        if none does.
    direction : int
        +1 for an upward shift (more energy than modelled), -1 for downward,
        0 without alarm.
    change_start : int or None
        Estimated first sample of the shift: one after the last time the
        alarming statistic was zero before the alarm.
    upper, lower : ndarray
        The statistic paths :math:`S^+` and :math:`S^-` (both >= 0), shape ``(n,)``.
    """

    alarm: int | None
    direction: int
    change_start: int | None
    upper: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]


def _lindley(x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    # S_t = max(0, S_{t-1} + x_t), S_0 = 0, has the closed form C_t - min(0, min_{j<=t} C_j)
    # with C the cumulative sum: no Python loop.
    c = np.cumsum(x)
    floor = np.minimum(np.minimum.accumulate(c), 0.0)
    return c - floor, floor


def cusum(z: npt.ArrayLike, k: float = 0.5, h: float = 5.0) -> CusumResult:
    """Two-sided tabular CUSUM of standardised residuals.

    Parameters
    ----------
    z : array_like
        Standardised residuals [1], shape ``(n,)``, in time order.
    k : float
        Reference value (allowance) [1], >= 0; half the shift to detect
        quickly, in standard deviations.
    h : float
        Decision interval [1], > 0.

    Returns
    -------
    CusumResult

    Notes
    -----
    .. math::

        S^+_t = \\max(0, S^+_{t-1} + z_t - k), \\qquad
        S^-_t = \\max(0, S^-_{t-1} - z_t - k)

    with :math:`S^\\pm_0 = 0`; an alarm is raised at the first :math:`t`
    with :math:`S^+_t > h` or :math:`S^-_t > h` [1]_. The recursion is
    evaluated in closed form, :math:`S_t = C_t - \\min(0, \\min_{j \\le t} C_j)`
    with :math:`C` the cumulative sum of the increments. With ``k=0.5,
    h=5`` the in-control average run length is about 465 samples (two
    sides) and a 1-sigma shift is found after about 10.

    References
    ----------
    .. [1] E. S. Page, "Continuous inspection schemes", Biometrika 41(1/2),
       100-115 (1954). https://doi.org/10.1093/biomet/41.1-2.100

    Examples
    --------
    >>> r = cusum([0, 0, 0, 2, 2, 2, 2], k=0.5, h=3)
    >>> r.alarm, r.direction, r.change_start
    (5, 1, 3)
    >>> r.upper.tolist()
    [0.0, 0.0, 0.0, 1.5, 3.0, 4.5, 6.0]
    """
    x = np.asarray(z, dtype=float)
    if x.ndim != 1:
        raise ValidationError("z", "a 1-D array of standardised residuals", f"shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValidationError("z", "finite numbers", f"non-finite at index {int(np.argmin(np.isfinite(x)))}")
    if not (np.isfinite(k) and k >= 0):
        raise ValidationError("k", ">= 0", k)
    if not (np.isfinite(h) and h > 0):
        raise ValidationError("h", "> 0", h)
    upper, _ = _lindley(x - k)
    lower, _ = _lindley(-x - k)
    hits_up = np.flatnonzero(upper > h)
    hits_down = np.flatnonzero(lower > h)
    first_up = int(hits_up[0]) if hits_up.size else None
    first_down = int(hits_down[0]) if hits_down.size else None
    if first_up is None and first_down is None:
        return CusumResult(None, 0, None, upper, lower)
    if first_down is None or (first_up is not None and first_up <= first_down):
        alarm, direction, path = first_up, 1, upper
    else:
        alarm, direction, path = first_down, -1, lower
    assert alarm is not None
    zeros = np.flatnonzero(path[: alarm + 1] == 0.0)
    change_start = int(zeros[-1]) + 1 if zeros.size else 0
    return CusumResult(alarm, direction, change_start, upper, lower)
