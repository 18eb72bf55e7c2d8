"""Capacity fade: calendar and cycle ageing laws, and empirical fade curves.

Pure, vectorised functions (scalar or ndarray in, same out). Capacity losses
are fractions of the initial capacity [1]; temperatures in kelvin.

References
----------
.. [1] Wang, J. et al. (2011). Cycle-life model for graphite-LiFePO4 cells.
   J. Power Sources 196(8), 3942-3948. doi:10.1016/j.jpowsour.2010.11.134
.. [2] Schmalstieg, J., Kaebitz, S., Ecker, M. and Sauer, D. U. (2014). A
   holistic aging model for Li(NiMnCo)O2 based 18650 lithium-ion batteries.
   J. Power Sources 257, 325-334. doi:10.1016/j.jpowsour.2014.02.012
.. [3] He, W., Williard, N., Osterman, M. and Pecht, M. (2011). Prognostics of
   lithium-ion batteries based on Dempster-Shafer theory and the Bayesian
   Monte Carlo method. J. Power Sources 196(23), 10314-10321.
   doi:10.1016/j.jpowsour.2011.08.040
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F

__all__ = [
    "calendar_capacity_loss",
    "cycle_capacity_loss",
    "double_exponential_capacity",
    "power_law_capacity",
]

GAS_CONSTANT = 8.314462618  # [J mol-1 K-1]


def calendar_capacity_loss(
    time: F, temperature: F, pre_exponential: F, activation_temperature: F, time_exponent: F = 0.5
) -> F:
    r"""Calendar capacity loss [1] after storage `time` [s] at `temperature` [K] [2]_.

    Parameters
    ----------
    time : array_like
        Storage time [s], >= 0.
    temperature : array_like
        Storage temperature [K].
    pre_exponential : array_like
        :math:`A` [s^-z].
    activation_temperature : array_like
        :math:`T_a = E_a / R` [K].
    time_exponent : array_like, default 0.5
        :math:`z` [1], > 0; 0.5 for SEI growth limited by diffusion. [2]_
        fitted 0.75 (with :math:`t` in days) to its NMC cells.

    Notes
    -----
    .. math:: \Delta Q / Q_0 = A\, e^{-T_a / T}\, t^{z}

    Valid for losses below about 30 %; state-of-charge dependence is in
    :math:`A`. A coefficient fitted with time in days converts to seconds
    as :math:`A_s = A_d\,(86400)^{-z}`.

    Examples
    --------
    >>> round(float(calendar_capacity_loss(3.15e7, 298.15, 1.0, 3000.0)), 4)
    0.2395
    """
    return pre_exponential * np.exp(-activation_temperature / temperature) * np.power(time, time_exponent)


def cycle_capacity_loss(
    charge_throughput: F,
    temperature: F,
    c_rate: F,
    pre_exponential: F,
    activation_energy: F = 31700.0,
    rate_coefficient: F = 370.3,
    throughput_exponent: F = 0.55,
) -> F:
    r"""Cycle capacity loss [1] after `charge_throughput` [A h] (Wang et al. [1]_).

    Parameters
    ----------
    charge_throughput : array_like
        Charge discharged so far [A h], >= 0 (the paper's unit), per cell of
        the 26650 size tested in [1]_: a pack's throughput must first be
        scaled to such a cell (divided by the pack's capacity over the cell's).
    temperature : array_like
        [K].
    c_rate : array_like
        Discharge rate [h-1].
    pre_exponential : array_like
        :math:`B` [% (A h)^-z] (the law gives percent; the result is divided
        by 100), rate dependent in [1]_ (30330 at C/2).
    activation_energy : array_like, default 31700
        :math:`E_a` [J mol-1].
    rate_coefficient : array_like, default 370.3
        [J mol-1 h] (per unit C-rate).
    throughput_exponent : array_like, default 0.55
        :math:`z` [1].

    Notes
    -----
    .. math:: \Delta Q / Q_0 = \frac{B}{100} \exp\left(\frac{-E_a + 370.3\, C}{R T}\right) A_h^{z}

    Fitted in [1]_ for graphite-LiFePO4 cells between 15 and 60 degC and
    C/2 to 10C.

    Examples
    --------
    >>> round(float(cycle_capacity_loss(1000.0, 298.15, 0.5, 30330.0)), 4)
    0.0408
    """
    arrhenius = np.exp((-activation_energy + rate_coefficient * c_rate) / (GAS_CONSTANT * temperature))
    return pre_exponential / 100.0 * arrhenius * np.power(charge_throughput, throughput_exponent)


def double_exponential_capacity(cycle: F, a: F, b: F, c: F, d: F) -> F:
    r"""Capacity [A h or A s, as `a` and `c`] after `cycle` cycles, double-exponential fade [3]_.

    Parameters
    ----------
    cycle : array_like
        Cycle count k [1], >= 0.
    a, c : array_like
        Amplitudes [A h or A s]; :math:`Q(0) = a + c`.
    b, d : array_like
        Rates [1 per cycle].

    Notes
    -----
    .. math:: Q(k) = a e^{b k} + c e^{d k}

    Usually :math:`b` is small and negative (slow fade) and :math:`d` small
    and positive with :math:`c < 0` (accelerating fade).

    Examples
    --------
    >>> float(double_exponential_capacity(0.0, 1.9, -0.001, -0.05, 0.02))
    1.8499999999999999
    """
    return a * np.exp(b * cycle) + c * np.exp(d * cycle)


def power_law_capacity(cycle: F, initial_capacity: F, rate: F, exponent: F) -> F:
    r"""Capacity after `cycle` cycles with a power-law fade [1]_.

    Parameters
    ----------
    cycle : array_like
        Cycle count k [1], >= 0.
    initial_capacity : array_like
        :math:`Q_0` [A h or A s]; the result has its unit.
    rate : array_like
        r [1].
    exponent : array_like
        z [1], > 0.

    Notes
    -----
    .. math:: Q(k) = Q_0 (1 - r k^{z})

    The throughput law of [1]_ at constant depth of discharge and rate.
    Valid while :math:`r k^z < 1` (the capacity stays positive).

    Examples
    --------
    >>> float(power_law_capacity(100.0, 2.0, 0.01, 0.5))
    1.8
    """
    return initial_capacity * (1.0 - rate * np.power(cycle, exponent))
