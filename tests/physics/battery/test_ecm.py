"""Equivalent-circuit battery model."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.physics.battery import ecm, ocv, thermal


@given(st.floats(-50e3, 80e3), st.floats(300, 420), st.floats(-2, 2), st.floats(0.01, 0.2))
def test_current_delivers_the_requested_power(power, u, vrc, r0):
    i = ecm.current_for_power(power, u, vrc, r0)
    if (u - vrc) ** 2 >= 4 * r0 * power:
        assert ecm.terminal_voltage(u, vrc, i, r0) * i == pytest.approx(power, rel=1e-9, abs=1e-6)


def test_rc_step_converges_to_ir():
    v = 0.0
    for _ in range(2000):
        v = ecm.rc_voltage_step(v, 10.0, 0.002, 5000.0, 1.0)
    assert v == pytest.approx(0.02)


def test_soc_coulomb_counting():
    # 36 A for 100 s from a 100 Ah cell: 1 % of charge
    assert ecm.state_of_charge_step(0.5, 36.0, 100 * 3600, 100.0) == pytest.approx(0.49)


def test_ocv_interpolates_per_vehicle_tables():
    tables = np.array([[3.0, 3.6, 4.2], [2.0, 3.0, 4.0]])
    np.testing.assert_allclose(ocv.open_circuit_voltage(np.array([0.25, 0.75]), tables), [3.3, 3.5])
    assert ocv.open_circuit_voltage(1.5, [3.0, 4.0]) == pytest.approx(4.0)


def test_resistance_rises_in_the_cold():
    assert ocv.arrhenius_factor(263.15, 3500.0) > 1.0 > ocv.arrhenius_factor(313.15, 3500.0)


def test_lumped_thermal_balance():
    assert thermal.lumped_temperature_step(300.0, 0.0, 300.0, 1000.0, 5.0, 1.0) == 300.0
    assert thermal.heat_generation(10.0, 3.7, 3.6) == pytest.approx(1.0)
