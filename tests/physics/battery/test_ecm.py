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


def test_rc_step_is_exact_for_constant_current():
    # seven 1 s steps equal the analytic R I (1 - exp(-t/RC)) at t = 7 s, RC = 10 s
    v = 0.0
    for _ in range(7):
        v = ecm.rc_voltage_step(v, 10.0, 0.002, 5000.0, 1.0)
    assert v == pytest.approx(0.002 * 10.0 * (1 - np.exp(-0.7)), rel=1e-12)
    assert ecm.rc_voltage_step(0.0, 10.0, 0.002, 5000.0, 7.0) == pytest.approx(v, rel=1e-12)


def test_rc_step_handles_zero_time_constant():
    # no RC pair (R = 0) relaxes to 0; no capacitance follows R I at once
    assert ecm.rc_voltage_step(0.01, 10.0, 0.0, 1000.0, 1.0) == 0.0
    assert ecm.rc_voltage_step(0.01, 10.0, 0.002, 0.0, 1.0) == pytest.approx(0.02)


def test_current_beyond_maximum_power_is_that_of_the_maximum_power_point():
    # E = 360 V, R0 = 0.1 ohm: P_max = E^2 / (4 R0) = 324 kW at I = E / (2 R0) = 1800 A
    assert ecm.current_for_power(400e3, 360.0, 0.0, 0.1) == pytest.approx(1800.0)
    assert ecm.current_for_power(324e3, 360.0, 0.0, 0.1) == pytest.approx(1800.0)


def test_current_is_finite_when_polarisation_exceeds_the_ocv():
    # E = 1 - 2 = -1 V: no discharge current exists; charge still flows
    assert ecm.current_for_power(100.0, 1.0, 2.0, 0.1) == 0.0
    assert ecm.current_for_power(0.0, 1.0, 2.0, 0.1) == 0.0
    i = ecm.current_for_power(-100.0, 1.0, 2.0, 0.1)
    assert i < 0 and ecm.terminal_voltage(1.0, 2.0, i, 0.1) * i == pytest.approx(-100.0)


def test_current_for_power_without_resistance_is_power_over_voltage():
    assert ecm.current_for_power(3600.0, 360.0, 0.0, 0.0) == pytest.approx(10.0)


def test_regeneration_current_hand_computed():
    # P = -36 kW, E = 360 V, R0 = 0.1: (360 - sqrt(360^2 + 4*0.1*36000)) / 0.2
    assert ecm.current_for_power(-36000.0, 360.0, 0.0, 0.1) == pytest.approx((360 - np.sqrt(360**2 + 14400)) / 0.2)


def test_coulombic_efficiency_applies_to_charge_only():
    # discharging 36 A for 100 s from 100 Ah removes 1 % whatever the efficiency; charging adds eta %
    assert ecm.state_of_charge_step(0.5, 36.0, 360000.0, 100.0, 0.95) == pytest.approx(0.49)
    assert ecm.state_of_charge_step(0.5, -36.0, 360000.0, 100.0, 0.95) == pytest.approx(0.5095)


def test_max_discharge_power_never_exceeds_maximum_power_point():
    # v_min = 300 V > E/2: v_min (E - v_min) / R0 = 300 kW
    assert ecm.max_discharge_power(400.0, 0.0, 0.1, 300.0) == pytest.approx(300e3)
    # v_min = 100 V < E/2: the power peaks at v = 200 V with E^2/(4 R0) = 400 kW, not 300 kW at 100 V
    assert ecm.max_discharge_power(400.0, 0.0, 0.1, 100.0) == pytest.approx(400e3)
    # and that power is deliverable: the current for it gives the terminal power asked for
    i = ecm.current_for_power(400e3, 400.0, 0.0, 0.1)
    assert ecm.terminal_voltage(400.0, 0.0, i, 0.1) * i == pytest.approx(400e3)
    assert ecm.max_discharge_power(250.0, 0.0, 0.1, 300.0) == 0.0

