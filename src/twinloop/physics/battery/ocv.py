"""Open-circuit voltage as a function of state of charge and temperature.

OCV curves are tables on a uniform state-of-charge grid from 0 to 1, one row
per vehicle (or cell), so that a fleet with different chemistries shares one
vectorised lookup.

References
----------
.. [1] Plett, G. L. (2015). Battery Management Systems, Vol. I: Battery
   Modeling. Artech House, ch. 2.
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F

__all__ = ["arrhenius_factor", "open_circuit_voltage"]


def open_circuit_voltage(state_of_charge: F, ocv_table: F, entropic_coefficient: F = 0.0, temperature_offset: F = 0.0) -> F:
    r"""Open-circuit voltage [V] by linear interpolation in a uniform SoC table.

    Parameters
    ----------
    state_of_charge : array_like, shape (n,) or scalar
        [1], clipped to [0, 1].
    ocv_table : array_like, shape (n, k) or (k,)
        OCV [V] at SoC ``0, 1/(k-1), ..., 1``, k >= 2. One row per vehicle,
        or one table for all.
    entropic_coefficient : array_like, default 0
        dOCV/dT [V K-1].
    temperature_offset : array_like, default 0
        Temperature minus the table's reference temperature [K].

    Returns
    -------
    array_like
        OCV [V], of the broadcast shape of `state_of_charge`, the table's
        leading axes, `entropic_coefficient` and `temperature_offset`: a
        scalar for a scalar SoC and a 1-D table, shape (n,) for a scalar SoC
        and n tables.

    Notes
    -----
    .. math:: U(z, T) = U_{tab}(z) + \frac{\partial U}{\partial T}(T - T_{ref})

    Examples
    --------
    >>> float(open_circuit_voltage(0.25, [3.0, 3.6, 4.2]))
    3.3
    >>> open_circuit_voltage(0.25, [[3.0, 3.6, 4.2], [2.0, 3.0, 4.0]]).tolist()
    [3.3, 2.5]
    """
    table = np.asarray(ocv_table, dtype=float)
    soc = np.clip(np.asarray(state_of_charge, dtype=float), 0.0, 1.0)
    k = table.shape[-1]
    x = soc * (k - 1)
    i = np.minimum(np.floor(x).astype(np.int64), k - 2)
    frac = x - i
    if table.ndim == 1:
        lo = table[i]
        hi = table[i + 1]
    else:
        # one table per vehicle: broadcast the indices against the tables' leading axes
        shape = np.broadcast_shapes(i.shape, table.shape[:-1])
        i2 = np.broadcast_to(i, shape)[..., None]
        rows = np.broadcast_to(table, (*shape, k))
        lo = np.take_along_axis(rows, i2, axis=-1)[..., 0]
        hi = np.take_along_axis(rows, i2 + 1, axis=-1)[..., 0]
    return lo + frac * (hi - lo) + entropic_coefficient * temperature_offset


def arrhenius_factor(temperature: F, activation_temperature: F, reference_temperature: F = 298.15) -> F:
    r"""Factor by which a resistance grows at `temperature` [K] [1]_.

    Parameters
    ----------
    temperature : array_like
        [K], > 0.
    activation_temperature : array_like
        :math:`T_a` [K], >= 0.
    reference_temperature : array_like, default 298.15
        Temperature at which the factor is 1 [K], > 0.

    Notes
    -----
    .. math:: f = \exp\left(T_a \left(\frac1T - \frac1{T_{ref}}\right)\right)

    where :math:`T_a = E_a / R` is the activation temperature [K].

    Examples
    --------
    >>> round(float(arrhenius_factor(273.15, 3000.0)), 3)
    2.512
    """
    return np.exp(activation_temperature * (1.0 / temperature - 1.0 / reference_temperature))
