"""Simulation: physics composed into a time-stepping vehicle model, batched over a fleet."""

from twinloop.sim._layout import BREAKDOWN_KEYS
from twinloop.sim._stack import PARAMETER_NAMES, stack_vehicles
from twinloop.sim.model import (
    CONDITIONS,
    HVAC_MODES,
    DriveCondition,
    Scenario,
    SimulationResult,
    VehicleModel,
    simulate,
)
from twinloop.sim.submodels import DEFAULT_SUBMODELS, SUBMODELS

__all__ = [
    "BREAKDOWN_KEYS",
    "CONDITIONS",
    "DEFAULT_SUBMODELS",
    "HVAC_MODES",
    "PARAMETER_NAMES",
    "SUBMODELS",
    "DriveCondition",
    "Scenario",
    "SimulationResult",
    "VehicleModel",
    "simulate",
    "stack_vehicles",
]
