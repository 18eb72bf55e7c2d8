"""The synthetic cell of the battery tests and its pulse test, shared by their modules.

On pytest's ``pythonpath`` (``tests/_support``).
"""

from __future__ import annotations

import numpy as np

from twinloop.battery import CellModel, CellTable

CAPACITY = 36000.0  # [A s], 10 Ah


def true_ocv(k: int = 21) -> np.ndarray:
    """The cell's OCV [V] on k points: a knee below SoC 0.1."""
    z = np.linspace(0, 1, k)
    return 3.0 + 0.9 * z + 0.25 * np.tanh(12 * (z - 0.05)) - 0.25 * np.tanh(-0.6)


def true_cell_model() -> CellModel:
    """A cell with known parameters: R0 2 mOhm, RC 1 mOhm / 20 s, 1.5 mOhm / 400 s, 10 Ah."""
    table = CellTable(
        298.15,
        true_ocv(),
        np.full(11, 0.002),
        np.vstack([np.full(11, 0.001), np.full(11, 0.0015)]),
        np.array([20.0, 400.0]),
        CAPACITY,
    )
    return CellModel(CAPACITY, (table,), 2.9, 4.2, name="synthetic")


def hppc_profile(levels: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Rest, then per 10 % SoC (`levels` times): 10 A 30 s pulse, rest 40 s, -7.5 A 10 s, 1C for 6 min, rest 20 min."""
    t, amps = [0.0], [0.0]

    def add(current: float, duration: float, step: float) -> None:
        for _ in range(round(duration / step)):
            amps.append(current)
            t.append(t[-1] + step)

    add(0.0, 600, 10)
    for _ in range(levels):
        add(10.0, 30, 1)
        add(0.0, 40, 1)
        add(-7.5, 10, 1)
        add(0.0, 30, 1)
        add(10.0, 354, 2)
        add(0.0, 1200, 10)
    return np.array(t), np.array(amps)
