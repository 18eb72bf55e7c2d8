r"""Speed and acceleration histograms of a trip, which add up over trips, drivers and roads.

Percentiles do not add up: the median speed of two trips is not a function
of their medians. Time spent per narrow bin does, so the profile database
keeps, per trip and per road stretch, the seconds spent moving in each bin
of speed (:data:`SPEED_STEP` wide) and of acceleration
(:data:`ACCELERATION_STEP` wide), and reads percentiles off the sums
(:func:`histogram_percentile`).

The histograms are taken on the trace at :data:`RESAMPLE_STEP` (1 s): a
logger that samples faster (10 to 20 Hz) reports speed in quantised steps
(0.078 km/h for the Tesla Model 3 data), and differencing those every 50 ms
gives accelerations of several m/s² that no one drove.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from twinloop.apps.profiles import MOVING_SPEED

__all__ = [
    "ACCELERATION_STEP",
    "PERCENTILES",
    "RESAMPLE_STEP",
    "SPEED_STEP",
    "Histogram",
    "add_histograms",
    "histogram_percentile",
    "moving_histograms",
    "percentiles",
    "resample",
]

FloatArray = npt.NDArray[np.float64]
#: Bin index (as text, for JSON) -> seconds spent in the bin.
Histogram = dict[str, float]

SPEED_STEP = 0.5
"""Width [m s-1] of a speed bin (1.8 km/h); bin k holds speeds in [(k - 1/2) step, (k + 1/2) step)."""

ACCELERATION_STEP = 0.1
"""Width [m s-2] of an acceleration bin; bin k holds [(k - 1/2) step, (k + 1/2) step), k of either sign."""

RESAMPLE_STEP = 1.0
"""Time step [s] onto which a trace recorded faster is interpolated before it is binned."""

PERCENTILES: dict[str, tuple[str, float]] = {
    "speed_p50_mps": ("speed", 50.0),
    "speed_p85_mps": ("speed", 85.0),
    "speed_p95_mps": ("speed", 95.0),
    "acceleration_p05_mps2": ("acceleration", 5.0),
    "acceleration_p50_mps2": ("acceleration", 50.0),
    "acceleration_p95_mps2": ("acceleration", 95.0),
}
"""Percentile columns of the profile tables: name -> (histogram, percentile [%]), both over the time moving.

The 85th speed percentile is traffic engineering's *operating speed*; the
5th and 95th acceleration percentiles describe the firmest braking and
accelerating a driver does regularly.
"""

_STEPS = {"speed": SPEED_STEP, "acceleration": ACCELERATION_STEP}


def resample(time: FloatArray, *series: FloatArray, step: float = RESAMPLE_STEP) -> tuple[FloatArray, ...]:
    """`time` and `series` on a grid of `step` [s] from the first sample, linearly interpolated.

    A trace whose median time step is already `step` or longer is returned
    as it is (a 1 Hz trace is not touched; a sparse one is not invented).

    Examples
    --------
    >>> t, v = resample(np.array([0.0, 0.5, 1.0, 1.5, 2.0]), np.array([0.0, 1.0, 2.0, 3.0, 4.0]))
    >>> t.tolist(), v.tolist()
    ([0.0, 1.0, 2.0], [0.0, 2.0, 4.0])
    """
    if time.size < 2 or float(np.median(np.diff(time))) >= step:
        return (time, *series)
    grid = time[0] + np.arange(0.0, time[-1] - time[0] + 1e-9, step)
    if grid[-1] < time[-1] - 1e-9:  # keep the last sample: the trip's duration is unchanged
        grid = np.append(grid, time[-1])
    return (grid, *(np.interp(grid, time, s) for s in series))


def _bins(values: FloatArray, weights: FloatArray, step: float) -> Histogram:
    index = np.floor(values / step + 0.5).astype(np.int64)
    keys, inverse = np.unique(index, return_inverse=True)
    sums = np.bincount(inverse, weights=weights, minlength=keys.size)
    return {str(int(k)): float(s) for k, s in zip(keys, sums, strict=True) if s > 0}


def moving_histograms(time: FloatArray, vehicle_speed: FloatArray) -> dict[str, Histogram]:
    r"""Seconds moving per speed bin and per acceleration bin of one trip.

    Parameters
    ----------
    time : ndarray, shape (T,)
        Sample times [s], strictly increasing.
    vehicle_speed : ndarray, shape (T,)
        Speed [m s-1].

    Returns
    -------
    dict
        ``{"speed": Histogram, "acceleration": Histogram}``; each maps the
        bin index :math:`k` (text) to the seconds :math:`\sum \Delta t_i` of
        the moving steps whose mean speed :math:`\tfrac12 (v_i + v_{i+1})`
        (resp. acceleration :math:`(v_{i+1} - v_i)/\Delta t_i`) rounds to
        :math:`k` times :data:`SPEED_STEP` (resp. :data:`ACCELERATION_STEP`).
        A step moves when its mean speed exceeds
        :data:`~twinloop.apps.profiles.MOVING_SPEED`, as in
        :func:`~twinloop.apps.profiles.trip_metrics`. The trace is first put
        on a 1 s grid (:func:`resample`).

    Examples
    --------
    10 s at 10 m/s, then 5 s slowing to 5 m/s (-1 m/s² for 5 s, mean speeds 9.5 to 5.5 m/s):

    >>> t = np.arange(16.0)
    >>> v = np.concatenate([np.full(11, 10.0), 10.0 - np.arange(1.0, 6.0)])
    >>> h = moving_histograms(t, v)
    >>> h["acceleration"]
    {'-10': 5.0, '0': 10.0}
    >>> h["speed"]["20"], h["speed"]["19"], h["speed"]["11"]
    (10.0, 1.0, 1.0)
    """
    t, v = resample(time, vehicle_speed)
    dt = np.diff(t)
    mean_speed = 0.5 * (v[:-1] + v[1:])
    moving = mean_speed > MOVING_SPEED
    a = np.diff(v) / dt
    return {"speed": _bins(mean_speed[moving], dt[moving], SPEED_STEP),
            "acceleration": _bins(a[moving], dt[moving], ACCELERATION_STEP)}


def add_histograms(histograms: Iterable[Mapping[str, float]]) -> Histogram:
    """The bin-by-bin sum of `histograms`.

    Examples
    --------
    >>> add_histograms([{"1": 2.0}, {"1": 1.0, "3": 4.0}])
    {'1': 3.0, '3': 4.0}
    """
    total: dict[str, float] = {}
    for h in histograms:
        for k, s in h.items():
            total[k] = total.get(k, 0.0) + float(s)
    return dict(sorted(total.items(), key=lambda kv: int(kv[0])))


def histogram_percentile(histogram: Mapping[str, float], step: float, q: float) -> float:
    r"""The `q` th percentile of the time spent, from a :data:`Histogram` of bin width `step`.

    Time is taken as spread evenly across each bin, so the result is within
    half a bin width of the percentile of the binned values; NaN for an
    empty histogram.

    Notes
    -----
    With the bins in ascending order, :math:`S_j` the seconds up to and
    including bin :math:`j` and :math:`S` the total, the percentile lies in
    the first bin with :math:`S_j \ge q S / 100`, at

    .. math:: x = (k_j - \tfrac12)\,\mathrm{step} + \mathrm{step}\,
              \frac{q S / 100 - S_{j-1}}{S_j - S_{j-1}}

    Examples
    --------
    20 s in the bin of 9.75 to 10.25 m/s, 20 s in that of 19.75 to 20.25 m/s:
    the median is the top of the first bin, the 75th percentile the middle of
    the second.

    >>> h = {"20": 20.0, "40": 20.0}
    >>> histogram_percentile(h, 0.5, 50.0), histogram_percentile(h, 0.5, 75.0)
    (10.25, 20.0)
    """
    items = sorted(((int(k), float(s)) for k, s in histogram.items() if s > 0), key=lambda kv: kv[0])
    total = sum(s for _, s in items)
    if total <= 0:
        return math.nan
    target = q / 100.0 * total
    below = 0.0
    for k, s in items:
        if below + s >= target:
            return round((k - 0.5) * step + step * (target - below) / s, 12)
        below += s
    k = items[-1][0]
    return (k + 0.5) * step


def percentiles(histograms: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The :data:`PERCENTILES` of a ``{"speed": ..., "acceleration": ...}`` pair of histograms.

    Examples
    --------
    >>> p = percentiles({"speed": {"20": 10.0}, "acceleration": {"0": 10.0}})
    >>> p["speed_p50_mps"], p["acceleration_p95_mps2"]
    (10.0, 0.045)
    """
    return {name: histogram_percentile(histograms.get(which, {}), _STEPS[which], q)
            for name, (which, q) in PERCENTILES.items()}
