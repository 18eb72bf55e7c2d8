"""Turn vehicle specifications and a scenario into the kernel's parameter matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError
from twinloop.parameters.chemistry import pack_minimum_voltage, pack_ocv_table
from twinloop.parameters.spec import VehicleSpec
from twinloop.sim._layout import P

__all__ = ["PARAMETER_NAMES", "stack_vehicles"]

FloatArray = npt.NDArray[np.float64]

PARAMETER_NAMES: tuple[str, ...] = tuple(p.name for p in P)
"""Names of the columns of the parameter matrix, in column order.

The matrix :func:`stack_vehicles` returns and
:meth:`~twinloop.sim.VehicleModel.simulate_parameters` runs has one row per
vehicle and these columns, in SI units; most are :class:`VehicleSpec`
fields, or their ``effective_`` values, of the same name (``mass`` is the
test mass, the coast-down columns hold the effective A, B, C). When
simulating, the scenario overwrites ``ambient_temperature``, ``soc_start``,
``battery_temperature_start``, ``cabin_temperature_start``, ``solar_load`` and
``hvac_on``, and adds its payload to ``mass`` (and ``coastdown_a``). A fit loop can vary a fleet by
column name:

>>> column = {name: i for i, name in enumerate(PARAMETER_NAMES)}
>>> params, tables = stack_vehicles(VehicleSpec("demo", test_mass=1800, motor_peak_power=150e3,
...                                             battery_energy=2.7e8))
>>> params[:, column["copper_loss"]] *= 1.2
>>> params.shape[1] == len(PARAMETER_NAMES), PARAMETER_NAMES[0]
(True, 'mass')
"""

# Payload raises rolling resistance; coast-down A is mostly tyre loss, so it
# scales with mass (SAE J2263 corrects A for test-mass changes the same way).


def stack_vehicles(specs: VehicleSpec | Sequence[VehicleSpec]) -> tuple[FloatArray, FloatArray]:
    """Parameter matrix (n, len(PARAMETER_NAMES)) and pack OCV tables (n, 11) for `specs`.

    Parameters
    ----------
    specs : VehicleSpec or sequence of VehicleSpec
        One vehicle or a fleet.

    Returns
    -------
    params : ndarray, shape (n, len(PARAMETER_NAMES))
        One row per vehicle, SI units, columns named by :data:`PARAMETER_NAMES`
        (column 0, ``mass``, in kg ...). The scenario columns (ambient,
        payload, state of charge ...) are filled when simulating
        (:meth:`twinloop.sim.VehicleModel.simulate_parameters`).
    ocv_tables : ndarray, shape (n, 11)
        Pack open-circuit voltage [V] at states of charge 0, 0.1 ... 1.

    Raises
    ------
    ValidationError
        For anything that is not a VehicleSpec (naming its position).
    """
    specs = _as_specs(specs)
    n = len(specs)
    params = np.zeros((n, len(P)))
    tables = np.zeros((n, 11))
    for i, s in enumerate(specs):
        a, b, c = s.effective_coastdown
        row = params[i]
        row[P.mass] = s.test_mass
        row[P.rotating_mass_factor] = s.rotating_mass_factor
        row[P.coastdown_a] = a
        row[P.coastdown_b] = b
        row[P.coastdown_c] = c
        row[P.motor_peak_power] = s.motor_peak_power
        row[P.motor_peak_torque] = s.effective_motor_peak_torque
        row[P.motor_rated_power] = s.effective_motor_rated_power
        row[P.gear_ratio] = s.gear_ratio
        row[P.wheel_radius] = s.wheel_radius
        row[P.gearbox_efficiency] = s.gearbox_efficiency
        row[P.copper_loss] = s.copper_loss
        row[P.iron_loss] = s.iron_loss
        row[P.windage_loss] = s.windage_loss
        row[P.constant_loss] = s.constant_loss
        row[P.regen_max_power] = s.effective_regen_max_power
        row[P.regen_axle_share] = s.effective_regen_axle_share
        row[P.regen_fade_speed_low] = s.regen_fade_speed_low
        row[P.regen_fade_speed_high] = s.regen_fade_speed_high
        row[P.battery_capacity] = s.battery_capacity
        row[P.battery_ohmic_resistance] = s.effective_battery_ohmic_resistance
        row[P.battery_rc_resistance] = s.effective_battery_rc_resistance
        rc_r = s.effective_battery_rc_resistance
        row[P.battery_rc_capacitance] = s.battery_rc_time_constant / rc_r if rc_r > 0 else 0.0
        row[P.battery_max_discharge_power] = s.effective_battery_max_discharge_power
        row[P.battery_max_charge_power] = s.effective_battery_max_charge_power
        row[P.battery_minimum_voltage] = pack_minimum_voltage(s.battery_chemistry, s.battery_nominal_voltage)
        row[P.battery_heat_capacity] = s.effective_battery_heat_capacity
        row[P.battery_heat_transfer] = s.battery_heat_transfer
        row[P.battery_activation_temperature] = s.battery_activation_temperature
        heat_pump = s.hvac_heating == "heat_pump"
        row[P.hvac_cop_at_280k] = s.hvac_cop_at_280k if heat_pump else 1.0
        row[P.hvac_cop_slope] = 0.05 if heat_pump else 0.0
        row[P.hvac_cop_cooling] = s.hvac_cop_cooling
        row[P.hvac_waste_heat_share] = s.hvac_waste_heat_share
        row[P.hvac_max_heating] = s.hvac_max_heating
        row[P.hvac_max_cooling] = s.hvac_max_cooling
        row[P.cabin_conductance] = s.cabin_conductance
        row[P.cabin_heat_capacity] = s.cabin_heat_capacity
        row[P.cabin_setpoint] = s.cabin_setpoint
        row[P.auxiliary_power] = s.auxiliary_power
        row[P.battery_thermal_on] = 1.0
        tables[i] = pack_ocv_table(s.battery_chemistry, s.battery_nominal_voltage)
    return params, tables


def _describe(value: object) -> str:
    """What a value is, for a message: its type, and its shape if it is an array."""
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {shape}" if shape is not None else type(value).__name__


def _as_specs(vehicles: object) -> list[VehicleSpec]:
    """One spec or an iterable of specs as a list; anything else is refused, naming what it is."""
    if isinstance(vehicles, VehicleSpec):
        return [vehicles]
    hint = "resolve_vehicle(name) loads a library vehicle or a TOML file"
    if isinstance(vehicles, str | bytes) or not hasattr(vehicles, "__iter__") or isinstance(vehicles, Mapping):
        raise ValidationError("vehicles", "a VehicleSpec or a sequence of them", _describe(vehicles)
                              if not isinstance(vehicles, str) else vehicles, hint=hint)
    specs = list(vehicles)
    for i, spec in enumerate(specs):
        if not isinstance(spec, VehicleSpec):
            raise ValidationError(f"vehicles[{i}]", "a VehicleSpec", spec if isinstance(spec, str) else _describe(spec),
                                  hint=hint)
    return specs
