"""Shared synthetic cells and records for the battery twin tests."""

from pathlib import Path

import numpy as np
import pytest
from synthetic_cell import hppc_profile, true_cell_model, true_ocv

from twinloop.battery import CellModel, TimeSeries, simulate

DATA = Path(__file__).resolve().parents[1] / "data" / "battery"


@pytest.fixture
def data_dir() -> Path:
    """tests/data/battery."""
    return DATA


@pytest.fixture
def reference_ocv() -> np.ndarray:
    """The synthetic cell's OCV table."""
    return true_ocv()


@pytest.fixture
def true_cell() -> CellModel:
    """A cell with known parameters: R0 2 mOhm, RC 1 mOhm / 20 s, 1.5 mOhm / 400 s, 10 Ah."""
    return true_cell_model()


@pytest.fixture
def synthetic_hppc(true_cell: CellModel) -> TimeSeries:
    t, amps = hppc_profile()
    r = simulate(true_cell, t, amps, 1.0, max_step=1000.0)
    rng = np.random.default_rng(1)
    # discharge the last bit to below the cut-off so the capacity is observable
    volts = r.voltage[0] + rng.normal(0, 0.001, t.size)
    return TimeSeries(t, amps, volts, source="synthetic_hppc")
