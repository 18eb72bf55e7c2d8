"""Equivalent-circuit model: OCV source, series resistance R0 and RC pairs.

Current is positive when discharging. All functions are vectorised over a
leading vehicle axis and used, unchanged, inside the simulation kernel.

References
----------
.. [1] Plett, G. L. (2015). Battery Management Systems, Vol. I. Artech House,
   ch. 2.
.. [2] Hu, X., Li, S. and Peng, H. (2012). A comparative study of equivalent
   circuit models for Li-ion batteries. J. Power Sources 198, 359-367.
   doi:10.1016/j.jpowsour.2011.10.013
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F

__all__ = [
    "current_for_power",
    "max_discharge_power",
    "rc_voltage_step",
    "state_of_charge_step",
    "terminal_voltage",
]


def current_for_power(battery_power: F, open_circuit_voltage: F, rc_voltage: F, ohmic_resistance: F) -> F:
    r"""Current [A] that delivers a terminal power [W] (positive = discharge).

    Parameters
    ----------
    battery_power : array_like
        Terminal power [W], positive when discharging.
    open_circuit_voltage : array_like
        [V].
    rc_voltage : array_like
        Voltage across the RC pair(s) [V].
    ohmic_resistance : array_like
        R0 [ohm], >= 0.

    Notes
    -----
    With :math:`E = U_{oc} - v_{rc}`, the terminal power
    :math:`P = (E - R_0 I) I` gives the smaller root

    .. math:: I = \frac{E - \sqrt{E^2 - 4 R_0 P}}{2 R_0}
        = \frac{2 P}{E + \sqrt{E^2 - 4 R_0 P}}

    (the second form, used here, is exact for :math:`R_0 = 0` and free of
    cancellation). Beyond the maximum power :math:`E^2/(4R_0)` the current is
    that of the maximum power point, :math:`E/(2R_0)`, which delivers less
    than was asked; callers limit power well below it. Zero power gives zero
    current, and a discharge power gives zero current when polarisation has
    used up the OCV (:math:`E \le 0`).

    Examples
    --------
    >>> round(float(current_for_power(36000.0, 360.0, 0.0, 0.1)), 3)
    102.944
    """
    e = open_circuit_voltage - rc_voltage
    disc = np.maximum(e * e - 4.0 * ohmic_resistance * battery_power, 0.0)
    # the floor keeps zero power at zero current when polarisation has used up the OCV (e <= 0)
    current = 2.0 * battery_power / np.maximum(e + np.sqrt(disc), 1e-12)
    # beyond the maximum power point (disc clipped) 2P/E would overshoot E/(2 R0); and no
    # discharge current exists when e <= 0. The floor keeps R0 = 0 free of a division by zero.
    mpp_current = np.maximum(e, 0.0) / np.maximum(2.0 * ohmic_resistance, 1e-300)
    return np.minimum(current, mpp_current)


def terminal_voltage(open_circuit_voltage: F, rc_voltage: F, current: F, ohmic_resistance: F) -> F:
    r"""Terminal voltage [V].

    Parameters
    ----------
    open_circuit_voltage, rc_voltage : array_like
        [V].
    current : array_like
        [A], positive when discharging.
    ohmic_resistance : array_like
        R0 [ohm].

    Notes
    -----
    .. math:: v = U_{oc} - v_{rc} - R_0 I

    Examples
    --------
    >>> round(float(terminal_voltage(3.7, 0.01, 10.0, 0.002)), 6)
    3.67
    """
    return open_circuit_voltage - rc_voltage - ohmic_resistance * current


def rc_voltage_step(rc_voltage: F, current: F, resistance: F, capacitance: F, time_step: F) -> F:
    r"""Voltage [V] across an RC pair after `time_step` [s] at constant current.

    Parameters
    ----------
    rc_voltage : array_like
        Voltage at the start of the step [V].
    current : array_like
        Current held over the step [A], positive when discharging.
    resistance : array_like
        R [ohm], >= 0.
    capacitance : array_like
        C [F], >= 0.
    time_step : array_like
        [s], >= 0.

    Notes
    -----
    Exact for a current held over the step (zero-order hold), at any step:

    .. math:: v_{k+1} = v_k e^{-\Delta t/RC} + R (1 - e^{-\Delta t/RC}) I_k

    A zero time constant (:math:`R = 0` or :math:`C = 0`) is the limit
    :math:`v_{k+1} = R I_k`, reached without a division by zero.

    Examples
    --------
    >>> round(float(rc_voltage_step(0.0, 10.0, 0.001, 10000.0, 10.0)), 6)
    0.006321
    """
    # the floor makes RC = 0 the limit exp(-inf) = 0 instead of a division by zero
    decay = np.exp(-time_step / np.maximum(resistance * capacitance, 1e-30))
    return rc_voltage * decay + resistance * (1.0 - decay) * current


def state_of_charge_step(state_of_charge: F, current: F, battery_capacity: F, time_step: F, coulombic_efficiency: F = 1.0) -> F:
    r"""State of charge [1] after `time_step` [s] (coulomb counting).

    Parameters
    ----------
    state_of_charge : array_like
        [1].
    current : array_like
        [A], positive when discharging.
    battery_capacity : array_like
        Q [A s] (3600 A s = 1 A h), > 0.
    time_step : array_like
        [s].
    coulombic_efficiency : array_like, default 1
        :math:`\eta` [1], in (0, 1]; applies to charge only.

    Notes
    -----
    .. math:: z_{k+1} = z_k - \eta_k\, I_k \Delta t / Q, \qquad
        \eta_k = 1 \text{ if } I_k > 0, \quad \eta_k = \eta \text{ if } I_k < 0

    Coulombic inefficiency loses charge on charging (side reactions); every
    ampere-second discharged leaves the cell [1]_. The result is not clipped.

    Examples
    --------
    >>> float(state_of_charge_step(0.5, 36.0, 360000.0, 100.0))
    0.49
    """
    counted = np.maximum(current, 0.0) + coulombic_efficiency * np.minimum(current, 0.0)
    return state_of_charge - counted * time_step / battery_capacity


def max_discharge_power(open_circuit_voltage: F, rc_voltage: F, ohmic_resistance: F, minimum_voltage: F) -> F:
    r"""Largest terminal power [W] with the voltage at or above `minimum_voltage`.

    Parameters
    ----------
    open_circuit_voltage, rc_voltage : array_like
        [V].
    ohmic_resistance : array_like
        R0 [ohm], > 0.
    minimum_voltage : array_like
        Lowest terminal voltage allowed [V].

    Notes
    -----
    With :math:`E = U_{oc} - v_{rc}`, the terminal power
    :math:`v (E - v) / R_0` peaks at :math:`v = E/2`, so

    .. math:: P_{max} = v^* \frac{\max(E - v^*, 0)}{R_0}, \qquad v^* = \max(v_{min}, E/2)

    which is :math:`v_{min} (E - v_{min}) / R_0` for every real pack
    (:math:`v_{min} > E/2`), and never more than :math:`E^2/(4R_0)`, the
    most :func:`current_for_power` can deliver.

    Examples
    --------
    >>> float(max_discharge_power(400.0, 0.0, 0.1, 300.0))
    300000.0
    """
    # below E/2 the voltage limit lies past the maximum power point: the power peaks at v = E/2
    voltage = np.maximum(minimum_voltage, 0.5 * (open_circuit_voltage - rc_voltage))
    return voltage * np.maximum(open_circuit_voltage - rc_voltage - voltage, 0.0) / ohmic_resistance
