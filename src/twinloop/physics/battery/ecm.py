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

    Notes
    -----
    With :math:`E = U_{oc} - v_{rc}`, the terminal power
    :math:`P = (E - R_0 I) I` gives the smaller root

    .. math:: I = \frac{E - \sqrt{E^2 - 4 R_0 P}}{2 R_0}

    Beyond the maximum power :math:`E^2/(4R_0)` the current is that of the
    maximum power point; callers limit power well below it. Zero power gives
    zero current even when polarisation exceeds the OCV (:math:`E \le 0`).

    Examples
    --------
    >>> round(float(current_for_power(36000.0, 360.0, 0.0, 0.1)), 3)
    102.944
    """
    e = open_circuit_voltage - rc_voltage
    disc = np.maximum(e * e - 4.0 * ohmic_resistance * battery_power, 0.0)
    # the floor keeps zero power at zero current when polarisation has used up the OCV (e <= 0)
    return 2.0 * battery_power / np.maximum(e + np.sqrt(disc), 1e-12)


def terminal_voltage(open_circuit_voltage: F, rc_voltage: F, current: F, ohmic_resistance: F) -> F:
    r"""Terminal voltage [V].

    .. math:: v = U_{oc} - v_{rc} - R_0 I

    Examples
    --------
    >>> round(float(terminal_voltage(3.7, 0.01, 10.0, 0.002)), 6)
    3.67
    """
    return open_circuit_voltage - rc_voltage - ohmic_resistance * current


def rc_voltage_step(rc_voltage: F, current: F, resistance: F, capacitance: F, time_step: F) -> F:
    r"""Voltage [V] across an RC pair after `time_step` [s] at constant current.

    Notes
    -----
    Exact for a current held over the step (zero-order hold):

    .. math:: v_{k+1} = v_k e^{-\Delta t/RC} + R (1 - e^{-\Delta t/RC}) I_k

    Examples
    --------
    >>> round(float(rc_voltage_step(0.0, 10.0, 0.001, 10000.0, 10.0)), 6)
    0.006321
    """
    decay = np.exp(-time_step / (resistance * capacitance))
    return rc_voltage * decay + resistance * (1.0 - decay) * current


def state_of_charge_step(state_of_charge: F, current: F, battery_capacity: F, time_step: F, coulombic_efficiency: F = 1.0) -> F:
    r"""State of charge [1] after `time_step` [s] (coulomb counting).

    .. math:: z_{k+1} = z_k - \eta\, I_k \Delta t / Q

    Examples
    --------
    >>> float(state_of_charge_step(0.5, 36.0, 360000.0, 100.0))
    0.49
    """
    return state_of_charge - coulombic_efficiency * current * time_step / battery_capacity


def max_discharge_power(open_circuit_voltage: F, rc_voltage: F, ohmic_resistance: F, minimum_voltage: F) -> F:
    r"""Largest terminal power [W] before the voltage falls to `minimum_voltage`.

    .. math:: P_{max} = v_{min} \frac{U_{oc} - v_{rc} - v_{min}}{R_0}

    Examples
    --------
    >>> float(max_discharge_power(400.0, 0.0, 0.1, 300.0))
    300000.0
    """
    return minimum_voltage * np.maximum(open_circuit_voltage - rc_voltage - minimum_voltage, 0.0) / ohmic_resistance
