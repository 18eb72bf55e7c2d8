"""Simulation: physics composed into a time-stepping vehicle model, batched over a fleet."""

from twinloop.sim._layout import BREAKDOWN_KEYS
from twinloop.sim._stack import stack_vehicles
from twinloop.sim.model import HVAC_MODES, Scenario, SimulationResult, VehicleModel, simulate
from twinloop.sim.submodels import DEFAULT_SUBMODELS, SUBMODELS

__all__ = [
    "BREAKDOWN_KEYS",
    "DEFAULT_SUBMODELS",
    "HVAC_MODES",
    "SUBMODELS",
    "Scenario",
    "SimulationResult",
    "VehicleModel",
    "simulate",
    "stack_vehicles",
]
