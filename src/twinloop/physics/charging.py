"""Charging: energy from the wall to the battery.

References
----------
.. [1] SAE J1634 (2021). Battery Electric Vehicle Energy Consumption and
   Range Test Procedure. doi:10.4271/J1634_202104
"""

from __future__ import annotations

from twinloop._internal.typing import F

__all__ = ["WH_PER_GALLON_EQUIVALENT", "wall_energy"]

WH_PER_GALLON_EQUIVALENT = 33705.0
"""Energy of one gallon of gasoline equivalent for MPGe [Wh] (US EPA)."""


def wall_energy(battery_energy: F, charger_efficiency: F) -> F:
    r"""Energy drawn from the wall [J] to put back `battery_energy` [J].

    The charger efficiency lumps on-board charger, cable and battery charging
    losses, as a J1634 recharge measures them together [1]_.

    .. math:: E_{wall} = E_{batt} / \eta_{chg}

    Examples
    --------
    >>> float(wall_energy(9000.0, 0.9))
    10000.0
    """
    return battery_energy / charger_efficiency
