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

    .. math:: \dot Q = I (U_{oc} - v) - I T \frac{\partial U}{\partial T}

    Examples
    --------
    >>> round(float(heat_generation(100.0, 360.0, 350.0)), 6)
    1000.0
    """
    return current * (open_circuit_voltage - terminal_voltage) - current * temperature * entropic_coefficient


def lumped_temperature_step(temperature: F, heat: F, ambient_temperature: F, heat_capacity: F, heat_transfer_coefficient: F, time_step: F) -> F:
    r"""Temperature [K] after `time_step` [s] (forward Euler).

    .. math:: C \dot T = \dot Q - hA (T - T_{amb})

    Stable while :math:`hA \Delta t / C < 1`.

    Examples
    --------
    >>> float(lumped_temperature_step(300.0, 100.0, 290.0, 1000.0, 5.0, 1.0))
    300.05
    """
    return temperature + time_step * (heat - heat_transfer_coefficient * (temperature - ambient_temperature)) / heat_capacity
