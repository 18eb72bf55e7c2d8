"""Cabin climate."""

import pytest

from twinloop.physics import cabin


def test_steady_heating_load_matches_conductance_times_difference():
    # at set point, -7 °C outside, UA 100 W/K: 100 * 28 = 2800 W
    assert cabin.hvac_heat_demand(294.15, 266.15, 294.15, 100.0, 5e4, 6000.0, 5000.0) == pytest.approx(2800.0)


def test_heating_is_capped_when_cold_soaked():
    q = cabin.hvac_heat_demand(253.15, 253.15, 294.15, 100.0, 5e4, 6000.0, 5000.0)
    assert q == 6000.0


def test_cooling_is_negative_and_costs_less_with_higher_cop():
    q = cabin.hvac_heat_demand(308.15, 308.15, 294.15, 100.0, 5e4, 6000.0, 5000.0, solar_load=500.0)
    # 100*(294.15-308.15) - 500 + 5e4*(294.15-308.15)/300 = -1400 - 500 - 2333.3
    assert q == pytest.approx(-4233.333, rel=1e-6)
    hot = cabin.hvac_heat_demand(318.15, 318.15, 294.15, 100.0, 5e4, 6000.0, 5000.0, solar_load=500.0)
    assert hot == -5000.0
    assert cabin.hvac_electric_power(q, 2.0, 3.0) < cabin.hvac_electric_power(q, 2.0, 2.0)


def test_heat_pump_cop_falls_with_cold_and_is_floored_at_resistive():
    assert cabin.heat_pump_cop(280.0, 2.5) == 2.5
    assert cabin.heat_pump_cop(250.0, 2.5) == 1.0


def test_cabin_warms_towards_balance():
    t = 266.15
    for _ in range(3600):
        t = cabin.cabin_temperature_step(t, 2800.0, 266.15, 100.0, 5e4, 1.0)
    # approaches 266.15 + 2800/100 = 294.15 K with time constant 500 s
    assert t == pytest.approx(294.15, abs=0.1)


def test_waste_heat_covers_heating_only_up_to_its_share():
    # 3 kW needed, 800 W of drivetrain losses, half of them reach the cabin: 400 W
    assert cabin.recovered_waste_heat(3000.0, 800.0, 0.5) == pytest.approx(400.0)
    # never more than the cabin needs, nothing while cooling, nothing from a negative loss
    assert cabin.recovered_waste_heat(300.0, 800.0, 1.0) == pytest.approx(300.0)
    assert cabin.recovered_waste_heat(-2000.0, 800.0, 1.0) == 0.0
    assert cabin.recovered_waste_heat(3000.0, -50.0, 1.0) == 0.0


def test_heat_pump_cop_hand_computed_at_minus_7_c():
    # 2.5 + 0.05 * (266.15 - 280) = 1.8075
    assert cabin.heat_pump_cop(266.15, 2.5) == pytest.approx(1.8075)


def test_no_load_at_set_point_with_ambient_at_set_point():
    assert cabin.hvac_heat_demand(294.15, 294.15, 294.15, 100.0, 5e4, 6000.0, 5000.0) == 0.0
    assert cabin.hvac_electric_power(0.0, 2.0, 2.5) == 0.0
    assert cabin.cabin_temperature_step(294.15, 0.0, 294.15, 100.0, 5e4, 1.0) == 294.15


def test_feed_forward_demand_holds_the_set_point():
    # the demand at the set point balances the cabin step exactly, sun included
    q = cabin.hvac_heat_demand(294.15, 266.15, 294.15, 90.0, 6e4, 6000.0, 5000.0, solar_load=300.0)
    assert cabin.cabin_temperature_step(294.15, q, 266.15, 90.0, 6e4, 1.0, solar_load=300.0) == pytest.approx(294.15, abs=1e-12)
