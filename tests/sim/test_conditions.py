"""Drive conditions: the road, and the chassis dynamometer of a laboratory test.

On a dynamometer only the driven axle turns, so all braking passes through it
(``regen_axle_share`` = 1); the lab test runs with climate control off on a
soaked vehicle. These tests check the registry, the checks at the Scenario
constructor and that both simulation entry points apply the condition.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from twinloop.cycles import load_cycle
from twinloop.errors import UnknownNameError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.sim import (
    CONDITIONS,
    HVAC_MODES,
    PARAMETER_NAMES,
    DriveCondition,
    Scenario,
    VehicleModel,
    simulate,
    stack_vehicles,
)

UDDS = load_cycle("udds")
F75 = (75.0 - 32.0) / 1.8 + 273.15  # the EPA's 75 °F test temperature [K]
COLUMN = {name: i for i, name in enumerate(PARAMETER_NAMES)}


def _car(drive: str = "FWD", **changes: float) -> VehicleSpec:
    return VehicleSpec(f"demo {drive}", test_mass=1800, motor_peak_power=150e3, battery_energy=2.7e8,
                       drag_coefficient=0.28, frontal_area=2.3, rolling_resistance_coefficient=0.009,
                       drive=drive).with_changes(**changes)


# -- the registry ----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CONDITIONS))
def test_every_registered_condition_builds_a_scenario_and_simulates(name):
    condition = CONDITIONS[name]
    assert isinstance(condition, DriveCondition) and condition.name == name
    assert set(condition.hvac_modes) <= set(HVAC_MODES) and condition.hvac_modes
    low, high = condition.ambient_range
    assert low <= condition.ambient_temperature <= high
    scenario = Scenario(UDDS, condition=name)  # its defaults pass its own checks
    assert scenario.ambient_temperature == condition.ambient_temperature
    assert scenario.hvac == condition.hvac_modes[0]
    result = simulate(_car(), scenario)
    assert result.trace_missed_time[0] == 0 and result.battery_energy[0] > 0


def test_conditions_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CONDITIONS["dynamometer"].regen_axle_share = 0.5  # type: ignore[misc]


def test_the_road_is_the_default_and_keeps_the_former_defaults():
    scenario = Scenario(UDDS)
    assert (scenario.condition, scenario.ambient_temperature, scenario.hvac) == ("road", 293.15, "auto")


def test_the_dynamometer_defaults_are_the_epa_lab_test():
    scenario = Scenario(UDDS, condition="dynamometer")
    assert scenario.ambient_temperature == pytest.approx(F75)
    assert scenario.hvac == "off"
    assert CONDITIONS["dynamometer"].regen_axle_share == 1.0


# -- checks at the constructor ------------------------------------------------------------

@pytest.mark.parametrize("ambient", [293.15, 295.0, 299.0, 273.15, [297.0, 300.0]])
def test_an_ambient_outside_the_soak_range_is_refused_naming_field_range_and_value(ambient):
    bad = np.atleast_1d(ambient)[-1]
    with pytest.raises(ValidationError, match=(
            rf"^ambient_temperature: expected a number in \[296.15, 298.15\] K \(23 to 25 °C\) for the "
            rf"dynamometer condition, received {bad}")):
        Scenario(UDDS, condition="dynamometer", ambient_temperature=ambient)


def test_the_ends_of_the_soak_range_are_allowed():
    # 23 °C as a command line converts it, 23 + 273.15 K
    for celsius in (23.0, 25.0):
        assert Scenario(UDDS, condition="dynamometer", ambient_temperature=celsius + 273.15).hvac == "off"


def test_a_battery_start_temperature_other_than_the_soak_is_refused():
    with pytest.raises(ValidationError, match=r"^battery_temperature_start: expected a number in \[296.15, 298.15\]"):
        Scenario(UDDS, condition="dynamometer", battery_temperature_start=310.0)
    assert Scenario(UDDS, condition="dynamometer", battery_temperature_start=297.0).battery_temperature_start == 297.0


@pytest.mark.parametrize("hvac", ["auto", "on"])
def test_climate_control_other_than_off_is_refused_on_the_dynamometer(hvac):
    with pytest.raises(ValidationError, match=rf"^hvac: expected 'off' for the dynamometer condition, received '{hvac}'"):
        Scenario(UDDS, condition="dynamometer", hvac=hvac)


def test_the_cold_test_needs_the_heater_and_its_own_soak():
    with pytest.raises(ValidationError, match=r"^hvac: expected 'on' for the dynamometer_cold condition"):
        Scenario(UDDS, condition="dynamometer_cold", hvac="off")
    with pytest.raises(ValidationError, match=r"^ambient_temperature: .*\(-9.4 to -3.9 °C\)"):
        Scenario(UDDS, condition="dynamometer_cold", ambient_temperature=F75)


@pytest.mark.parametrize(("name", "suggestion"), [("dyno", "dynamometer"), ("Road", "road"),
                                                  ("dynamometer-cold", "dynamometer_cold")])
def test_an_unknown_condition_suggests_the_close_ones(name, suggestion):
    with pytest.raises(UnknownNameError, match=rf"unknown condition '{name}'; did you mean '{suggestion}'"):
        Scenario(UDDS, condition=name)


def test_a_condition_that_is_not_a_name_is_refused():
    with pytest.raises(ValidationError, match=r"^condition: expected one of road, dynamometer"):
        Scenario(UDDS, condition=CONDITIONS["dynamometer"])  # type: ignore[arg-type]


# -- the simulation honours it -----------------------------------------------------------

@pytest.mark.parametrize("drive", ["FWD", "RWD", "AWD"])
def test_the_dynamometer_brakes_through_the_driven_axle_whatever_the_spec_says(drive):
    lab = simulate(_car(drive), Scenario(UDDS, condition="dynamometer"))
    all_braking = simulate(_car(drive, regen_axle_share=1.0), Scenario(UDDS, ambient_temperature=F75, hvac="off"))
    np.testing.assert_array_equal(lab.battery_energy, all_braking.battery_energy)
    road = simulate(_car(drive), Scenario(UDDS, ambient_temperature=F75, hvac="off"))
    # the road wastes the undriven axle's share in the friction brakes; the lab only what the
    # motor cannot take (the fade at low speed)
    assert road.breakdown["friction_braking"][0] > 2 * lab.breakdown["friction_braking"][0]
    assert road.battery_energy[0] > lab.battery_energy[0]


def test_simulate_parameters_applies_the_condition_over_a_written_column():
    car = _car("FWD")
    params, tables = stack_vehicles([car, car])
    params[:, COLUMN["regen_axle_share"]] = [0.3, 0.9]  # a fit loop's values: the lab has no axle split
    lab = Scenario(UDDS, condition="dynamometer")
    from_matrix = VehicleModel().simulate_parameters(params, tables, lab, charger_efficiency=car.charger_efficiency)
    from_spec = simulate(car, lab)
    np.testing.assert_array_equal(from_matrix.battery_energy, np.repeat(from_spec.battery_energy, 2))
    np.testing.assert_array_equal(from_matrix.wall_energy, np.repeat(from_spec.wall_energy, 2))


def test_regeneration_switched_off_still_wins_on_the_dynamometer():
    # a submodel choice is the vehicle's model, applied after the place's condition
    lab = Scenario(UDDS, condition="dynamometer")
    friction_only = VehicleModel({"regenerative_braking": "off"}).simulate(_car(), lab)
    assert friction_only.regeneration_recovered[0] == 0.0


def test_a_fleet_with_per_vehicle_ambients_inside_the_range_is_accepted():
    r = simulate([_car(), _car("RWD")], Scenario(UDDS, condition="dynamometer", ambient_temperature=[296.5, 298.0]))
    assert len(r) == 2 and np.all(r.trace_missed_time == 0)


# -- the parameter matrix's column names ------------------------------------------------

def test_parameter_names_name_every_column_of_the_matrix_once():
    params, _ = stack_vehicles([_car()])
    assert params.shape[1] == len(PARAMETER_NAMES) == len(set(PARAMETER_NAMES))
    assert params[0, COLUMN["mass"]] == 1800.0
    assert params[0, COLUMN["regen_axle_share"]] == _car().effective_regen_axle_share


def test_a_column_written_by_name_is_the_spec_field_of_that_name():
    car = _car()
    params, tables = stack_vehicles([car])
    params[:, COLUMN["copper_loss"]] = 0.05
    params[:, COLUMN["auxiliary_power"]] = 700.0
    scenario = Scenario(UDDS, condition="dynamometer")
    by_name = VehicleModel().simulate_parameters(params, tables, scenario, charger_efficiency=car.charger_efficiency)
    by_spec = simulate(car.with_changes(copper_loss=0.05, auxiliary_power=700.0), scenario)
    np.testing.assert_array_equal(by_name.battery_energy, by_spec.battery_energy)
