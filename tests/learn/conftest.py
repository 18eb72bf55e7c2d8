"""Trips simulated once per session for the learn tests."""

from __future__ import annotations

import pandas as pd
import pytest

from twinloop.learn import simulated_trips
from twinloop.parameters import VehicleSpec, resolve_vehicle

# Inside 15-25 °C the climate control is off ("auto"), so what the road-load
# form leaves out is drivetrain and battery losses only.
MILD = (288.15, 293.15, 298.15)


@pytest.fixture(scope="session")
def leaf() -> VehicleSpec:
    return resolve_vehicle("nissan_leaf_40kwh_2018")


@pytest.fixture(scope="session")
def urban_trips(leaf: VehicleSpec) -> tuple[pd.DataFrame, pd.Series]:
    return simulated_trips(leaf, ["udds", "nrel13"], MILD, segment_duration=300)


@pytest.fixture(scope="session")
def highway_trips(leaf: VehicleSpec) -> tuple[pd.DataFrame, pd.Series]:
    return simulated_trips(leaf, ["hwfet", "us06"], MILD, segment_duration=300)


@pytest.fixture(scope="session")
def mixed_trips(leaf: VehicleSpec) -> tuple[pd.DataFrame, pd.Series]:
    return simulated_trips(leaf, ["udds", "hwfet", "us06", "wltc_3b"], (268.15, *MILD, 308.15), segment_duration=300)
