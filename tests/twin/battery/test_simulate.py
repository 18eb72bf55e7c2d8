"""Simulation: hand-computed cases and physical invariants."""

import numpy as np
import pytest

from twinloop.twin.battery import CellModel, CellTable, ThermalParameters, simulate


def _cell(thermal=None):
    t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    return CellModel(3600.0, (t,), 2.5, 4.2, thermal=thermal)


def test_constant_current_hand_computed():
    # U = 3 + z; after 60 s at 1 A: z = 1 - 60/3600, v_rc = 0.005 (1 - e^{-2}), R0 I = 0.01
    r = simulate(_cell(), [0.0, 60.0], [1.0, 1.0], 1.0)
    z = 1 - 60 / 3600
    assert r.state_of_charge[0, 1] == pytest.approx(z)
    assert r.voltage[0, 1] == pytest.approx(3 + z - 0.005 * (1 - np.exp(-2)) - 0.01)


def test_charge_balance_and_rest_recovery():
    t = np.arange(0.0, 2000.0, 5.0)
    amps = np.where(t < 1000, 2.0, 0.0)
    r = simulate(_cell(), t, amps, 0.9)
    assert r.state_of_charge[0, -1] == pytest.approx(0.9 - 2 * 1000 / 3600)
    # after ~30 time constants of rest, terminal voltage equals OCV
    assert r.voltage[0, -1] == pytest.approx(r.open_circuit_voltage[0, -1], abs=1e-9)


def test_thermal_steady_state_matches_energy_balance():
    th = ThermalParameters(heat_capacity=100.0, heat_transfer_coefficient=1.0)
    t = np.arange(0.0, 3000.0, 10.0)
    r = simulate(_cell(th), t, np.full(t.size, 1.0), 0.99, ambient_temperature=298.15)
    # steady heat I^2 (R0 + R1) = 0.015 W over hA = 1 W/K
    assert r.temperature[0, -1] - 298.15 == pytest.approx(0.015, rel=0.02)


def test_fleet_axis_matches_single_runs():
    t = np.arange(0.0, 100.0)
    amps = np.vstack([np.ones(100), -np.ones(100)])
    both = simulate(_cell(), t, amps, [0.5, 0.6])
    one = simulate(_cell(), t, amps[1], 0.6)
    np.testing.assert_allclose(both.voltage[1], one.voltage[0])
