"""The cell and pack toolkit: identified cell model, simulation, SoC estimation, health and RUL.

Modules: :mod:`~twinloop.battery.model` (cell model and its TOML file),
:mod:`~twinloop.battery.timeseries` (measured data),
:mod:`~twinloop.battery.identify`, :mod:`~twinloop.battery.simulate`,
:mod:`~twinloop.battery.estimate`, :mod:`~twinloop.battery.health` (a cell's
lab tests: capacity fade, resistance), :mod:`~twinloop.battery.rul` (the
remaining-useful-life report of a capacity history) and :mod:`~twinloop.battery.soh`
(a pack's capacity, state of health and resistance from driving data).

It knows nothing of twins or stores: :func:`twinloop.twin.health.health_from_store`
feeds it a twin's stored trips.
"""

from twinloop.battery.identify import (
    DischargeTest,
    coulomb_state_of_charge,
    fit_thermal,
    identify_cell,
    identify_table,
)
from twinloop.battery.model import (
    CellModel,
    CellParameters,
    CellTable,
    FitQuality,
    ThermalParameters,
)
from twinloop.battery.rul import RulReport, read_capacity_history, remaining_useful_life
from twinloop.battery.simulate import SimulationResult, simulate
from twinloop.battery.soh import (
    CapacityEstimate,
    HealthTrack,
    ResistanceEstimate,
    SensorNoise,
    health_track,
    pack_capacity,
    pack_resistance,
)
from twinloop.battery.timeseries import TimeSeries, read_timeseries

__all__ = [
    "CapacityEstimate",
    "CellModel",
    "CellParameters",
    "CellTable",
    "DischargeTest",
    "FitQuality",
    "HealthTrack",
    "ResistanceEstimate",
    "RulReport",
    "SensorNoise",
    "SimulationResult",
    "ThermalParameters",
    "TimeSeries",
    "coulomb_state_of_charge",
    "fit_thermal",
    "health_track",
    "identify_cell",
    "identify_table",
    "pack_capacity",
    "pack_resistance",
    "read_capacity_history",
    "read_timeseries",
    "remaining_useful_life",
    "simulate",
]
