"""Shared synthetic cells and records for the battery twin tests."""

from pathlib import Path

import numpy as np
import pytest

from twinloop.battery import CellModel, CellTable, TimeSeries, simulate

DATA = Path(__file__).resolve().parents[1] / "data" / "battery"


def true_ocv(k: int = 21) -> np.ndarray:
    z = np.linspace(0, 1, k)
    return 3.0 + 0.9 * z + 0.25 * np.tanh(12 * (z - 0.05)) - 0.25 * np.tanh(-0.6)


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
    table = CellTable(
        298.15,
        true_ocv(),
        np.full(11, 0.002),
        np.vstack([np.full(11, 0.001), np.full(11, 0.0015)]),
        np.array([20.0, 400.0]),
        36000.0,
    )
    return CellModel(36000.0, (table,), 2.9, 4.2, name="synthetic")


def hppc_profile() -> tuple[np.ndarray, np.ndarray]:
    """Rest, then per 10 % SoC: 10 A 30 s pulse, rest 40 s, -7.5 A 10 s, 1C discharge 6 min, rest 20 min."""
    t, amps = [0.0], [0.0]

    def add(current: float, duration: float, step: float) -> None:
        for _ in range(round(duration / step)):
            amps.append(current)
            t.append(t[-1] + step)

    add(0.0, 600, 10)
    for _ in range(10):
        add(10.0, 30, 1)
        add(0.0, 40, 1)
        add(-7.5, 10, 1)
        add(0.0, 30, 1)
        add(10.0, 354, 2)
        add(0.0, 1200, 10)
    return np.array(t), np.array(amps)


@pytest.fixture
def synthetic_hppc(true_cell: CellModel) -> TimeSeries:
    t, amps = hppc_profile()
    r = simulate(true_cell, t, amps, 1.0, max_step=1000.0)
    rng = np.random.default_rng(1)
    # discharge the last bit to below the cut-off so the capacity is observable
    volts = r.voltage[0] + rng.normal(0, 0.001, t.size)
    return TimeSeries(t, amps, volts, source="synthetic_hppc")
