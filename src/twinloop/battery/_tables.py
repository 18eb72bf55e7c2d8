"""Tables on a uniform state-of-charge grid and interpolation between temperatures."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def grid(k: int) -> Array:
    """The uniform SoC grid ``0, 1/(k-1), ..., 1`` of a table with `k` entries."""
    return np.linspace(0.0, 1.0, k)


def lookup(state_of_charge: Array, table: Array) -> Array:
    """Linear interpolation of `table` (shape (n, k) or (k,)) at SoC (n,), clipped to [0, 1]."""
    tab = np.atleast_2d(table)
    k = tab.shape[-1]
    x = np.clip(state_of_charge, 0.0, 1.0) * (k - 1)
    i = np.minimum(np.floor(x).astype(np.int64), k - 2)
    frac = x - i
    if tab.shape[0] == 1:
        return tab[0, i] + frac * (tab[0, i + 1] - tab[0, i])
    rows = np.arange(tab.shape[0])
    return tab[rows, i] + frac * (tab[rows, i + 1] - tab[rows, i])


def weights(state_of_charge: Array, k: int) -> Array:
    """Interpolation weights (N, k): ``lookup(z, t) == weights(z, k) @ t``."""
    x = np.clip(state_of_charge, 0.0, 1.0) * (k - 1)
    i = np.minimum(np.floor(x).astype(np.int64), k - 2)
    frac = x - i
    w = np.zeros((x.size, k))
    rows = np.arange(x.size)
    w[rows, i] = 1.0 - frac
    w[rows, i + 1] += frac
    return w


def slope(state_of_charge: Array, table: Array, half_width: float = 0.02) -> Array:
    """Central-difference slope d(table)/dSoC over +-`half_width` (smooths the kinks)."""
    lo = np.clip(state_of_charge - half_width, 0.0, 1.0)
    hi = np.clip(state_of_charge + half_width, 0.0, 1.0)
    hi = np.where(hi - lo < 1e-9, lo + 1e-9, hi)
    return (lookup(hi, table) - lookup(lo, table)) / (hi - lo)


def temperature_weights(temperature: Array, table_temperatures: Array) -> tuple[npt.NDArray[np.int64], Array]:
    """Index and fraction for linear interpolation in 1/T between sorted table temperatures.

    Outside the tabulated range the nearest table is used (no extrapolation).
    """
    p = table_temperatures.size
    if p == 1:
        return np.zeros(np.shape(temperature), dtype=np.int64), np.zeros(np.shape(temperature))
    inv = 1.0 / np.asarray(table_temperatures)  # decreasing with temperature
    pos = np.interp(-1.0 / np.asarray(temperature, dtype=float), -inv, np.arange(p, dtype=float))
    i = np.minimum(np.floor(pos).astype(np.int64), p - 2)
    return i, pos - i
