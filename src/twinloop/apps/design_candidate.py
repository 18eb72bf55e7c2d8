"""The candidate vehicle of the design app: a base vehicle with another battery, motor and final drive.

The candidate's mass follows its battery (pack specific energy) and motor
(drive-unit specific power); the default figures and prices are here, with
their sources.

References
----------
.. [1] BloombergNEF (2024). Lithium-ion battery pack prices: volume-weighted
   average USD 115/kWh (battery price survey, December 2024).
.. [2] U.S. DRIVE (2013). Electrical and Electronics Technical Team Roadmap:
   2020 targets for the electric traction drive system, USD 8/kW;
   motor 1.6 kW/kg, power electronics 14.1 kW/kg.
"""

from __future__ import annotations

import math
from typing import Any

from twinloop.parameters.spec import VehicleSpec

__all__ = [
    "BATTERY_COST_PER_KWH",
    "KW",
    "KWH",
    "MOTOR_COST_PER_KW",
    "MOTOR_SPECIFIC_POWER",
    "PACK_SPECIFIC_ENERGY",
    "RPM",
    "design_vehicle",
]

KWH = 3.6e6  # [J]
KW = 1e3  # [W]
RPM = math.pi / 30.0  # [rad s-1]

PACK_SPECIFIC_ENERGY = 160.0 * 3600.0
"""Default pack-level specific energy [J kg-1] (160 Wh/kg).

Usable energy over pack mass of 2020s NMC packs: Tesla Model 3 Long Range
about 75 kWh in 480 kg (155 Wh/kg), VW MEB 77 kWh in 493 kg (156 Wh/kg).
"""
MOTOR_SPECIFIC_POWER = 1.4e3
"""Default drive-unit specific power [W kg-1] (1.4 kW/kg, 0.7 kg per kW).

The U.S. DRIVE 2020 targets, motor 1.6 kW/kg with power electronics
14.1 kW/kg [2]_, combine to 1.44 kW/kg.
"""
BATTERY_COST_PER_KWH = 115.0
"""Default pack price [USD kWh-1]: BloombergNEF's 2024 volume-weighted average [1]_."""
MOTOR_COST_PER_KW = 8.0
"""Default drive-unit price [USD kW-1]: the U.S. DRIVE 2020 traction-drive target [2]_."""


def design_vehicle(
    base: VehicleSpec,
    battery_energy: float,
    motor_peak_power: float,
    gear_ratio: float,
    *,
    specific_energy: float = PACK_SPECIFIC_ENERGY,
    motor_specific_power: float = MOTOR_SPECIFIC_POWER,
) -> VehicleSpec:
    r"""The base vehicle with another battery, motor and final drive, its mass following them.

    Parameters
    ----------
    base : VehicleSpec
        The vehicle the design starts from.
    battery_energy : float
        Usable battery energy [J].
    motor_peak_power : float
        Motor peak power [W].
    gear_ratio : float
        Overall reduction, motor to wheel [1].
    specific_energy : float
        Pack specific energy [J kg-1], default :data:`PACK_SPECIFIC_ENERGY`.
    motor_specific_power : float
        Drive-unit specific power [W kg-1], default :data:`MOTOR_SPECIFIC_POWER`.

    Returns
    -------
    VehicleSpec
        Named ``"<base> <kWh> kWh <kW> kW <ratio>"``.

    Raises
    ------
    SpecificationError
        If a value, or the mass that follows, is outside the spec's range.

    Notes
    -----
    .. math:: m = m_0 + \frac{E - E_0}{e_{pack}} + \frac{P - P_0}{p_{motor}}

    A bigger pack is more cells in parallel: its resistances scale by
    :math:`E_0/E`, its power limits and heat capacity by :math:`E/E_0`
    (where the base spec states them; unset values follow from the new
    energy by the spec's own defaults). A bigger motor of the same corner
    speed scales its peak torque, rated power and regenerative limit by
    :math:`P/P_0`. A coast-down A term, mostly tyre loss, scales with the
    mass (as SAE J2263 corrects it).

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> id3 = resolve_vehicle("vw_id3_pro_2020")
    >>> bigger = design_vehicle(id3, 77 * 3.6e6, 150e3, 11.53)
    >>> round(bigger.test_mass - id3.test_mass, 1)
    118.8
    """
    kb = battery_energy / base.battery_energy
    km = motor_peak_power / base.motor_peak_power
    mass = (base.test_mass + (battery_energy - base.battery_energy) / specific_energy
            + (motor_peak_power - base.motor_peak_power) / motor_specific_power)
    changes: dict[str, Any] = {
        "name": f"{base.name} {battery_energy / KWH:.1f} kWh {motor_peak_power / KW:.0f} kW {gear_ratio:.2f}",
        "test_mass": mass,
        "battery_energy": battery_energy,
        "motor_peak_power": motor_peak_power,
        "gear_ratio": gear_ratio,
    }
    scaled = {"battery_ohmic_resistance": 1 / kb, "battery_rc_resistance": 1 / kb,
              "battery_max_discharge_power": kb, "battery_max_charge_power": kb, "battery_heat_capacity": kb,
              "motor_peak_torque": km, "motor_rated_power": km, "regen_max_power": km}
    for name, factor in scaled.items():
        value = getattr(base, name)
        if value is not None:
            changes[name] = value * factor
    if base.coastdown_a is not None:
        changes["coastdown_a"] = base.coastdown_a * mass / base.test_mass
    return base.with_changes(**changes)
