"""Parameter covariance that allows for correlated residuals in time.

References
----------
.. [1] Newey, W. K. and West, K. D. (1987). A simple, positive semi-definite,
   heteroskedasticity and autocorrelation consistent covariance matrix.
   Econometrica 55(3), 703-708. doi:10.2307/1913610
.. [2] Sokal, A. (1997). Monte Carlo methods in statistical mechanics:
   foundations and new algorithms. In Functional Integration, Springer,
   131-192. doi:10.1007/978-1-4899-0319-8_6
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["autocorrelation_time", "hac_meat", "sandwich"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _acf(residual: FloatArray, trip: IntArray, max_lag: int) -> FloatArray:
    """Autocorrelation of `residual` pooled over trips (lags never cross trips)."""
    r = residual - residual.mean()
    var = float(np.dot(r, r))
    acf = np.ones(max_lag + 1)
    if var == 0.0:
        return acf
    acf[1:] = 0.0
    for k in np.unique(trip):
        seg = r[trip == k]
        for lag in range(1, min(max_lag, seg.size - 1) + 1):
            acf[lag] += float(np.dot(seg[lag:], seg[:-lag]))
    acf[1:] /= var
    return acf


def autocorrelation_time(residual: FloatArray, trip: IntArray, max_lag: int) -> tuple[float, int]:
    r"""Integrated autocorrelation time [samples] and the lag where the ACF dies out.

    Notes
    -----
    .. math:: \tau = 1 + 2 \sum_{l=1}^{K} \rho_l

    with :math:`K` the first lag where :math:`\rho_l < 0.05` (a self-consistent
    window in the spirit of [2]_). The effective sample size is
    :math:`n / \tau`.
    """
    acf = _acf(residual, trip, max_lag)
    below = np.flatnonzero(acf[1:] < 0.05)
    cutoff = int(below[0]) + 1 if below.size else max_lag
    tau = 1.0 + 2.0 * float(np.sum(acf[1:cutoff]))
    return max(tau, 1.0), cutoff


def hac_meat(scores: FloatArray, trip: IntArray, bandwidth: int) -> FloatArray:
    r"""Newey-West estimate of the covariance of the summed scores [1]_.

    Parameters
    ----------
    scores : ndarray, shape (n, p)
        Per-sample score contributions :math:`\psi(r_i) J_i`.
    trip : ndarray, shape (n,)
        Trip index; samples of different trips are independent.
    bandwidth : int
        Largest lag [samples]; Bartlett weights :math:`1 - l/(L+1)`.

    Returns
    -------
    ndarray, shape (p, p)
    """
    p = scores.shape[1]
    meat = np.zeros((p, p))
    for k in np.unique(trip):
        g = scores[trip == k]
        meat += g.T @ g
        for lag in range(1, min(bandwidth, g.shape[0] - 1) + 1):
            w = 1.0 - lag / (bandwidth + 1.0)
            gamma = g[lag:].T @ g[:-lag]
            meat += w * (gamma + gamma.T)
    return meat


def sandwich(bread: FloatArray, meat: FloatArray) -> FloatArray:
    """``inv(bread) @ meat @ inv(bread)``, symmetrised."""
    inv = np.linalg.pinv(bread)
    cov = inv @ meat @ inv
    return 0.5 * (cov + cov.T)
