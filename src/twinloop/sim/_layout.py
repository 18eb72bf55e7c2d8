"""Layouts of the arrays the kernel reads and writes.

Integer enums rather than dicts, because numba treats enum members as
compile-time constants.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["BREAKDOWN_KEYS", "P", "S", "T"]


class P(IntEnum):
    """Columns of the parameter matrix (one row per vehicle); SI units, see VehicleSpec."""

    mass = 0
    rotating_mass_factor = 1
    coastdown_a = 2
    coastdown_b = 3
    coastdown_c = 4
    motor_peak_power = 5
    motor_peak_torque = 6
    gear_ratio = 7
    wheel_radius = 8
    gearbox_efficiency = 9
    copper_loss = 10
    iron_loss = 11
    windage_loss = 12
    constant_loss = 13
    regen_max_power = 14
    regen_axle_share = 15
    regen_fade_speed_low = 16
    regen_fade_speed_high = 17
    battery_capacity = 18
    battery_ohmic_resistance = 19
    battery_rc_resistance = 20
    battery_rc_capacitance = 21
    battery_max_discharge_power = 22
    battery_max_charge_power = 23
    battery_minimum_voltage = 24
    battery_heat_capacity = 25
    battery_heat_transfer = 26
    battery_activation_temperature = 27
    hvac_on = 28
    hvac_cop_at_280k = 29
    hvac_cop_slope = 30
    hvac_cop_cooling = 31
    hvac_max_heating = 32
    hvac_max_cooling = 33
    cabin_conductance = 34
    cabin_heat_capacity = 35
    cabin_setpoint = 36
    solar_load = 37
    auxiliary_power = 38
    ambient_temperature = 39
    soc_start = 40
    battery_temperature_start = 41
    battery_thermal_on = 42
    motor_rated_power = 43
    hvac_waste_heat_share = 44
    cabin_temperature_start = 45


class T(IntEnum):
    """Energy and distance accumulators [J], [m], [s]; the first nine sum to ``battery_chemical``."""

    aerodynamic = 0
    rolling = 1
    grade = 2
    kinetic_change = 3
    friction_braking = 4
    drivetrain_losses = 5
    battery_losses = 6
    auxiliary = 7
    hvac = 8
    battery_chemical = 9
    battery_terminal = 10
    regeneration_recovered = 11
    distance = 12
    target_distance = 13
    trace_missed_time = 14


class S(IntEnum):
    """Recorded time series."""

    vehicle_speed = 0
    battery_power = 1
    battery_current = 2
    battery_voltage = 3
    state_of_charge = 4
    battery_temperature = 5
    cabin_temperature = 6
    hvac_power = 7
    motor_power = 8
    friction_brake_power = 9


BREAKDOWN_KEYS: tuple[str, ...] = tuple(t.name for t in T)[:9]
"""Causes that together make up the chemical battery energy."""
