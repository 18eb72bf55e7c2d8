"""Battery twin: identified cell model, simulation, SoC estimation, health and RUL.

Modules: :mod:`~twinloop.twin.battery.model` (cell model and its TOML file),
:mod:`~twinloop.twin.battery.timeseries` (measured data),
:mod:`~twinloop.twin.battery.identify`, :mod:`~twinloop.twin.battery.simulate`,
:mod:`~twinloop.twin.battery.estimate` and :mod:`~twinloop.twin.battery.health`.
"""

from twinloop.twin.battery.identify import (
    coulomb_state_of_charge,
    fit_thermal,
    identify_cell,
    identify_table,
)
from twinloop.twin.battery.model import (
    CellModel,
    CellParameters,
    CellTable,
    FitQuality,
    ThermalParameters,
)
from twinloop.twin.battery.simulate import SimulationResult, simulate
from twinloop.twin.battery.timeseries import TimeSeries, read_timeseries

__all__ = [
    "CellModel",
    "CellParameters",
    "CellTable",
    "FitQuality",
    "SimulationResult",
    "ThermalParameters",
    "TimeSeries",
    "coulomb_state_of_charge",
    "fit_thermal",
    "identify_cell",
    "identify_table",
    "read_timeseries",
    "simulate",
]
