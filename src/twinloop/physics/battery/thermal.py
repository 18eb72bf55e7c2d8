"""Lumped thermal model of a cell or pack.

References
----------
.. [1] Bernardi, D., Pawlikowski, E. and Newman, J. (1985). A General Energy
   Balance for Battery Systems. J. Electrochem. Soc. 132(1), 5-12.
   doi:10.1149/1.2113792
"""

from __future__ import annotations

from twinloop._internal.typing import F

__all__ = ["heat_generation", "lumped_temperature_step"]


def heat_generation(current: F, open_circuit_voltage: F, terminal_voltage: F, temperature: F = 298.15, entropic_coefficient: F = 0.0) -> F:
    r"""Heat generated in the battery [W] (Bernardi et al. [1]_).

    Parameters
    ----------
    current : array_like
        [A], positive when discharging.
    open_circuit_voltage, terminal_voltage : array_like
        [V].
    temperature : array_like, default 298.15
        [K].
    entropic_coefficient : array_like, default 0
        :math:`\partial U / \partial T` [V K-1].

    Notes
    -----
    .. math:: \dot Q = I (U_{oc} - v) - I T \frac{\partial U}{\partial T}

    The first term (irreversible: ohmic and polarisation) is >= 0 in steady
    state; the second (reversible, entropic) changes sign with the current.
    With an RC pair, :math:`I (U_{oc} - v) = R_0 I^2 + I v_{rc}`, whose
    second part also carries the energy the pair stores and gives back, so
    a step's heat may be negative while the pair relaxes; over a
    drive it sums to the dissipated energy. Heat of mixing is neglected [1]_.

    Examples
    --------
    >>> round(float(heat_generation(100.0, 360.0, 350.0)), 6)
    1000.0
    """
    return current * (open_circuit_voltage - terminal_voltage) - current * temperature * entropic_coefficient


def lumped_temperature_step(temperature: F, heat: F, ambient_temperature: F, heat_capacity: F, heat_transfer_coefficient: F, time_step: F) -> F:
    r"""Temperature [K] after `time_step` [s] (forward Euler).

    Parameters
    ----------
    temperature, ambient_temperature : array_like
        [K].
    heat : array_like
        Heat generated over the step [W] (:func:`heat_generation`).
    heat_capacity : array_like
        C [J K-1], > 0.
    heat_transfer_coefficient : array_like
        Conductance to ambient hA [W K-1] (a coefficient times its area).
    time_step : array_like
        [s].

    Notes
    -----
    .. math:: C \dot T = \dot Q - hA (T - T_{amb})

    Stable, without overshoot of the balance temperature, while
    :math:`hA \Delta t / C \le 1`. Packs have time constants :math:`C/hA` of
    hours, where 1 s Euler steps differ from the exact exponential solution by
    less than 1e-7 of the distance to balance.

    Examples
    --------
    >>> float(lumped_temperature_step(300.0, 100.0, 290.0, 1000.0, 5.0, 1.0))
    300.05
    """
    return temperature + time_step * (heat - heat_transfer_coefficient * (temperature - ambient_temperature)) / heat_capacity
