"""Road grade from the elevation samples of a trace (a GPS log, a route planner's profile)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

__all__ = ["GRADE_WINDOW", "grade_from_elevation"]

GRADE_WINDOW = 100.0
"""Road length [m] over which one grade is fitted to the elevation samples.

GPS elevation scatters by metres from fix to fix; differentiated sample by
sample it would read as grades of tens of percent. Over 100 m a 2-m error
still moves the fitted grade by about 2 %, and few roads change grade
faster than that.
"""

_STEP = 5.0  # distance grid [m]


def grade_from_elevation(
    time: FloatArray, speed: FloatArray, elevation: FloatArray, window: float = GRADE_WINDOW
) -> FloatArray:
    r"""Road grade [1] (rise over run) at each sample of a trace, from its elevation [m].

    Parameters
    ----------
    time : ndarray, shape (T,)
        Strictly increasing sample times [s].
    speed : ndarray, shape (T,)
        Vehicle speed [m s-1].
    elevation : ndarray, shape (T,)
        Elevation above any datum [m].
    window : float
        Road length [m] of each local fit, :data:`GRADE_WINDOW` by default.

    Returns
    -------
    ndarray, shape (T,)
        Road grade :math:`\tan\theta` at each sample's position.

    Notes
    -----
    The distance along the road is :math:`s(t) = \int v\,dt` (trapezoids).
    Elevation is averaged where the vehicle stands, interpolated onto a 5-m
    grid of :math:`s`, and differentiated by a straight line fitted over
    `window` metres around each point (a first-order Savitzky-Golay filter
    [1]_), which gives :math:`\sin\theta = dh/ds`; the grade is
    :math:`\tan\theta = \sin\theta / \sqrt{1 - \sin^2\theta}`. A trace
    shorter than `window` gets one grade, its end-to-end slope.

    References
    ----------
    .. [1] Savitzky, A. and Golay, M. J. E. (1964). Smoothing and
       differentiation of data by simplified least squares procedures.
       Analytical Chemistry 36(8), 1627-1639. doi:10.1021/ac60214a047

    Examples
    --------
    A 5 % climb at 10 m/s, as rise over run:

    >>> t = np.arange(0.0, 60.0)
    >>> v = np.full(t.size, 10.0)
    >>> h = 100.0 + 10.0 * t * np.sin(np.arctan(0.05))
    >>> np.round(grade_from_elevation(t, v, h)[[0, 30, -1]], 4)
    array([0.05, 0.05, 0.05])
    """
    s = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]) * np.diff(time))])
    # one elevation per distinct position: the mean of the samples taken standing there
    position, at = np.unique(s, return_inverse=True)
    height = np.bincount(at, weights=elevation) / np.bincount(at)
    if position[-1] <= 0.0:
        return np.zeros_like(time)
    if position[-1] < window:
        sine = np.full(position.size, (height[-1] - height[0]) / position[-1])
    else:
        from scipy.signal import savgol_filter  # 0.7 s to import: only for traces with elevation

        grid = np.arange(0.0, position[-1] + _STEP, _STEP)
        points = int(window / _STEP) // 2 * 2 + 1  # odd
        slope = savgol_filter(np.interp(grid, position, height), points, 1, deriv=1, delta=_STEP, mode="interp")
        sine = np.interp(position, grid, slope)
    sine = np.clip(sine, -0.99, 0.99)  # a cliff is refused by the caller's grade limit, not here
    return np.asarray((sine / np.sqrt(1.0 - sine * sine))[at], dtype=float)
