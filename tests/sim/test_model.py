"""The simulator: energy books, invariants, fleet = single, trace following."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import UnknownNameError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.sim import BREAKDOWN_KEYS, Scenario, VehicleModel, simulate

UDDS = load_cycle("udds")


def _flat_cycle(speed: float, seconds: int = 200) -> Cycle:
    t = np.arange(seconds + 1, dtype=float)
    return Cycle("constant", t, np.full_like(t, speed), np.zeros_like(t))


def test_breakdown_sums_to_battery_energy(compact_car):
    r = simulate(compact_car, Scenario(UDDS, ambient_temperature=268.15, hvac="on"))
    total = sum(r.breakdown[k][0] for k in BREAKDOWN_KEYS)
    assert total == pytest.approx(r.battery_energy[0], rel=1e-9)
    assert set(r.breakdown) == set(BREAKDOWN_KEYS)
    assert r.breakdown["hvac"][0] > 0


def test_constant_speed_road_load_energy_hand_computed(compact_car):
    # 20 m/s for 200 s on the level: aero 0.5*1.2041*0.25*2.3*400*4000 m, rolling 1800*9.80665*0.008*4000 m
    r = simulate(compact_car, Scenario(_flat_cycle(20.0), hvac="off"))
    assert r.breakdown["aerodynamic"][0] == pytest.approx(0.5 * 1.2041 * 0.25 * 2.3 * 400 * 4000, rel=1e-9)
    assert r.breakdown["rolling"][0] == pytest.approx(1800 * 9.80665 * 0.008 * 4000, rel=1e-9)
    assert r.distance[0] == pytest.approx(4000.0)
    assert r.breakdown["friction_braking"][0] == 0.0
    # auxiliary: 300 W for 200 s
    assert r.breakdown["auxiliary"][0] == pytest.approx(300 * 200)


def test_grade_energy_is_potential_energy(compact_car):
    t = np.arange(101, dtype=float)
    climb = Cycle("climb", t, np.full_like(t, 10.0), np.full_like(t, 0.05))
    r = simulate(compact_car, Scenario(climb, hvac="off"))
    height = 1000.0 * np.sin(np.arctan(0.05))
    assert r.breakdown["grade"][0] == pytest.approx(1800 * 9.80665 * height, rel=1e-9)


def test_fleet_and_single_vehicle_results_are_identical(compact_car):
    heavy = compact_car.with_changes(name="heavy", test_mass=2400.0)
    scenario = Scenario(UDDS, ambient_temperature=278.15)
    fleet = simulate([compact_car, heavy, compact_car], scenario)
    for i, spec in enumerate([compact_car, heavy, compact_car]):
        alone = simulate(spec, scenario)
        assert fleet.battery_energy[i] == alone.battery_energy[0]
        assert fleet.soc_end[i] == alone.soc_end[0]
        for key in BREAKDOWN_KEYS:
            assert fleet.breakdown[key][i] == alone.breakdown[key][0]


@settings(max_examples=25, deadline=None)
@given(st.floats(900, 2800), st.floats(0, 800))
def test_more_mass_never_uses_less_energy_on_a_flat_cycle(mass, extra):
    base = VehicleSpec("m", test_mass=mass, motor_peak_power=150e3, battery_energy=2.7e8,
                       drag_coefficient=0.28, frontal_area=2.3, rolling_resistance_coefficient=0.009)
    r = simulate([base, base.with_changes(test_mass=mass + extra)], Scenario(UDDS, hvac="off"))
    assert r.battery_energy[1] >= r.battery_energy[0] - 1e-6


@settings(max_examples=20, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(253.15, 313.15), st.sampled_from(["udds", "us06", "hwfet"]))
def test_state_of_charge_stays_in_bounds_and_books_close(soc, ambient, cycle):
    small = VehicleSpec("tiny", test_mass=1500, motor_peak_power=60e3, battery_energy=1.0 * 3.6e6,
                        drag_coefficient=0.3, frontal_area=2.2, rolling_resistance_coefficient=0.009)
    r = simulate(small, Scenario(load_cycle(cycle), soc_start=soc, ambient_temperature=ambient), record=True)
    socs = r.series["state_of_charge"][0]
    assert np.all((socs >= 0) & (socs <= 1))
    assert 0.0 <= r.soc_end[0] <= 1.0
    total = sum(r.breakdown[k][0] for k in BREAKDOWN_KEYS)
    assert total == pytest.approx(r.battery_energy[0], rel=1e-6, abs=1.0)


def test_a_weak_vehicle_reports_the_trace_missed(compact_car):
    weak = compact_car.with_changes(name="weak", motor_peak_power=20e3, motor_peak_torque=120.0)
    r = simulate([compact_car, weak], Scenario(load_cycle("us06"), hvac="off"))
    assert r.trace_missed_time[0] == 0
    assert r.trace_missed_time[1] > 30
    assert r.trace_missed_distance[1] > 100
    assert r.summary(1)["trace_missed_s"] == r.trace_missed_time[1]


def test_an_empty_battery_stops_the_vehicle(compact_car):
    r = simulate(compact_car, Scenario(UDDS, soc_start=0.0, hvac="off"))
    assert r.distance[0] < 0.05 * UDDS.distance
    assert r.trace_missed_time[0] > 1000


def test_cold_needs_more_energy_than_mild(compact_car):
    r = simulate([compact_car], Scenario(UDDS, ambient_temperature=266.45))  # 20 °F
    mild = simulate([compact_car], Scenario(UDDS, ambient_temperature=295.15))
    assert r.battery_energy[0] > 1.2 * mild.battery_energy[0]
    assert r.breakdown["hvac"][0] > 0 and mild.breakdown["hvac"][0] == 0


def test_drivetrain_waste_heat_lowers_heating_energy_in_the_cold_only(compact_car):
    pump = compact_car.with_changes(hvac_heating="heat_pump")
    specs = [pump, pump.with_changes(hvac_waste_heat_share=0.5), pump.with_changes(hvac_waste_heat_share=1.0)]
    cold = simulate(specs, Scenario(UDDS, ambient_temperature=266.15, hvac="on"))
    hvac = cold.breakdown["hvac"]
    assert hvac[0] > hvac[1] > hvac[2] > 0
    # what the heater is spared is at most the drivetrain's losses divided by the COP (>= 1)
    assert hvac[0] - hvac[2] <= cold.breakdown["drivetrain_losses"][2]
    total = sum(cold.breakdown[k] for k in BREAKDOWN_KEYS)
    np.testing.assert_allclose(total, cold.battery_energy, rtol=1e-9)
    # cooling does not use waste heat: identical results in the heat
    hot = simulate(specs, Scenario(UDDS, ambient_temperature=308.15, hvac="on"))
    np.testing.assert_array_equal(hot.battery_energy, hot.battery_energy[0])


def test_regeneration_recovers_energy_and_switching_it_off_costs(compact_car):
    on = simulate(compact_car, Scenario(UDDS, hvac="off"))
    off = VehicleModel({"regenerative_braking": "off"}).simulate([compact_car], Scenario(UDDS, hvac="off"))
    assert on.regeneration_recovered[0] > 0
    assert off.regeneration_recovered[0] == 0
    assert off.battery_energy[0] > 1.15 * on.battery_energy[0]


def test_every_registered_submodel_runs(compact_car):
    from twinloop.sim import SUBMODELS

    for role, options in SUBMODELS.items():
        for option in options:
            r = VehicleModel({role: option}).simulate([compact_car], Scenario(UDDS))
            assert np.isfinite(r.battery_energy[0])


def test_unknown_submodel_names_suggest_close_matches():
    with pytest.raises(UnknownNameError, match="isothermal"):
        VehicleModel({"battery_thermal": "isotermal"})


def test_scenario_rejects_out_of_range_inputs():
    with pytest.raises(ValidationError, match="soc_start"):
        Scenario(UDDS, soc_start=1.5)
    with pytest.raises(ValidationError, match="ambient_temperature"):
        Scenario(UDDS, ambient_temperature=20.0)  # Celsius given where kelvin is expected
    with pytest.raises(ValidationError, match="hvac"):
        Scenario(UDDS, hvac="maybe")


def test_time_series_on_request_only(compact_car):
    r = simulate(compact_car, Scenario(UDDS))
    assert r.series is None
    rec = simulate(compact_car, Scenario(UDDS), record=True)
    frame = rec.series_frame(0)
    assert len(frame) == len(UDDS.time)
    np.testing.assert_allclose(frame["vehicle_speed"], UDDS.vehicle_speed)
    assert rec.battery_energy[0] == r.battery_energy[0]


def test_motor_loss_follows_the_rated_power_not_the_peak(compact_car):
    # The same machine with a doubled peak rating keeps its losses when its rated
    # (continuous) power is pinned; without the pin, losses scale with the peak.
    scenario = Scenario(_flat_cycle(20.0), hvac="off")
    rated = compact_car.with_changes(motor_rated_power=compact_car.motor_peak_power)
    boosted = rated.with_changes(motor_peak_power=2 * compact_car.motor_peak_power,
                                 motor_peak_torque=2 * compact_car.effective_motor_peak_torque)
    base = simulate(rated, scenario).breakdown["drivetrain_losses"][0]
    assert simulate(boosted, scenario).breakdown["drivetrain_losses"][0] == pytest.approx(base, rel=1e-9)
    unpinned = boosted.with_changes(motor_rated_power=None)
    assert simulate(unpinned, scenario).breakdown["drivetrain_losses"][0] > 1.2 * base


def test_books_close_when_the_battery_cannot_feed_the_motors_losses():
    # A machine whose losses exceed anything the pack can give (1 kW rating, direct drive):
    # the inverter shuts down and the car coasts; nothing is drawn that the battery did not give.
    from twinloop.parameters import load_bundled

    spec = load_bundled("nissan_leaf_40kwh_2018").with_changes(motor_rated_power=1000.0, gear_ratio=1.0)
    r = simulate(spec, Scenario(UDDS, hvac="on", ambient_temperature=254.0, soc_start=1.0))
    total = sum(r.breakdown[k][0] for k in BREAKDOWN_KEYS)
    assert total == pytest.approx(r.battery_energy[0], rel=1e-9)
    assert r.trace_missed_time[0] > 0


# -- misuse from a notebook: every user error is a twinloop error naming field, range and value --

def test_per_vehicle_scenario_array_of_the_wrong_length_names_field_and_fleet_size(compact_car):
    fleet = [compact_car, compact_car.with_changes(name="b")]
    for field, value in (("ambient_temperature", np.array([270.0, 280.0, 290.0])), ("soc_start", [0.5, 0.6, 0.7]),
                         ("payload", pd.Series([0.0, 100.0, 200.0])), ("battery_temperature_start", [280.0] * 3),
                         ("solar_load", [0.0] * 3)):
        with pytest.raises(ValidationError, match=rf"{field}: expected one number, or 2 .* received '3 values'"):
            simulate(fleet, Scenario(UDDS, **{field: value}))


def test_per_vehicle_scenario_values_as_list_ndarray_series_or_length_one_give_the_same_result(compact_car):
    fleet = [compact_car, compact_car.with_changes(name="b", test_mass=2000.0)]
    expected = simulate(fleet, Scenario(UDDS, ambient_temperature=np.array([270.0, 280.0]), payload=[0.0, 100.0]))
    for ambient in ([270.0, 280.0], pd.Series([270.0, 280.0], index=[7, 3]), (270.0, 280.0)):
        r = simulate(fleet, Scenario(UDDS, ambient_temperature=ambient, payload=np.array([0.0, 100.0])))
        np.testing.assert_array_equal(r.battery_energy, expected.battery_energy)
    one = simulate(fleet, Scenario(UDDS, soc_start=[0.8]))
    np.testing.assert_array_equal(one.soc_start, [0.8, 0.8])


def test_scenario_text_booleans_none_or_2d_arrays_are_refused_on_construction():
    for field, value, received in (("payload", "100", "'100'"), ("payload", "abc", "'abc'"),
                                   ("soc_start", True, "True"), ("payload", None, "None"),
                                   ("payload", np.zeros((2, 1)), "shape \\(2, 1\\)"),
                                   ("soc_start", ["0.5", "0.6"], "<U3")):
        with pytest.raises(ValidationError, match=rf"{field}: expected a number, or a 1-D array .*{received}"):
            Scenario(UDDS, **{field: value})


def test_scenario_time_step_nan_zero_or_too_large_is_refused_on_construction():
    # NaN used to run silently, every result NaN
    for step in (float("nan"), 0.0, -1.0, 100.0, "1"):
        with pytest.raises(ValidationError, match=r"time_step: expected a number in \[0.01, 10\] s"):
            Scenario(UDDS, time_step=step)


def test_scenario_solar_load_nan_or_negative_is_refused():
    for value in (float("nan"), -100.0, float("inf"), [0.0, -1.0]):
        with pytest.raises(ValidationError, match=r"solar_load: expected a number in \[0, 20000\] W"):
            Scenario(UDDS, solar_load=value)


def test_scenario_with_a_cycle_name_instead_of_a_cycle_says_how_to_load_it():
    with pytest.raises(ValidationError, match=r"cycle: expected a twinloop.cycles.Cycle, received 'str'.*load_cycle"):
        Scenario("udds")


def test_scenario_hvac_in_capitals_suggests_the_mode():
    with pytest.raises(ValidationError, match=r"hvac: .* received 'ON'. did you mean 'on'"):
        Scenario(UDDS, hvac="ON")


def test_simulating_names_instead_of_specs_is_refused_with_how_to_resolve_them(compact_car):
    with pytest.raises(ValidationError, match=r"vehicles: expected a VehicleSpec .*resolve_vehicle"):
        simulate("nissan_leaf_40kwh_2018", Scenario(UDDS))
    with pytest.raises(ValidationError, match=r"vehicles\[1\]: expected a VehicleSpec, received 'nissan"):
        simulate([compact_car, "nissan_leaf_40kwh_2018"], Scenario(UDDS))
    with pytest.raises(ValidationError, match="vehicles: expected"):
        simulate(None, Scenario(UDDS))
    with pytest.raises(ValidationError, match=r"scenario: expected a twinloop.sim.Scenario, received 'Cycle'"):
        simulate(compact_car, UDDS)


def test_vehicle_model_simulate_takes_a_single_spec_like_simulate(compact_car):
    r = VehicleModel().simulate(compact_car, Scenario(UDDS))
    assert r.vehicle_names == ["compact"]


def test_record_must_be_a_bool(compact_car):
    with pytest.raises(ValidationError, match="record: expected True or False, received 'no'"):
        simulate(compact_car, Scenario(UDDS), record="no")


def test_an_empty_fleet_gives_an_empty_result_and_table(compact_car):
    r = simulate([], Scenario(UDDS))
    assert len(r) == 0 and r.battery_energy.shape == (0,)
    frame = r.to_frame()
    assert len(frame) == 0
    assert list(frame.columns) == list(simulate(compact_car, Scenario(UDDS)).to_frame().columns)


def test_summary_keys_are_the_frame_columns(compact_car):
    from twinloop.sim.model import _SUMMARY_KEYS

    assert tuple(simulate(compact_car, Scenario(UDDS)).summary()) == _SUMMARY_KEYS


def test_a_vehicle_index_out_of_range_names_the_valid_range(compact_car):
    r = simulate([compact_car, compact_car], Scenario(UDDS), record=True)
    for call in (lambda: r.summary(5), lambda: r.series_frame(2), lambda: r.summary("compact")):
        with pytest.raises(IndexError, match=r"vehicle index: expected an integer in \[-2, 1\] for 2 vehicles"):
            call()
    assert r.summary(-1)["vehicle"] == "compact"


def test_fleet_mixing_coastdown_and_physical_forms_matches_each_alone(compact_car):
    a, b, c = compact_car.effective_coastdown
    coast = VehicleSpec("coast", test_mass=1800.0, motor_peak_power=150e3, battery_energy=75 * 3.6e6,
                        coastdown_a=a, coastdown_b=b, coastdown_c=c)
    fleet = simulate([compact_car, coast], Scenario(UDDS, ambient_temperature=[268.15, 298.15]))
    for i, spec, ambient in ((0, compact_car, 268.15), (1, coast, 298.15)):
        alone = simulate(spec, Scenario(UDDS, ambient_temperature=ambient))
        assert fleet.battery_energy[i] == alone.battery_energy[0]


def test_recorded_series_have_shape_vehicles_by_steps(compact_car):
    r = simulate([compact_car] * 3, Scenario(UDDS), record=True)
    assert r.time.shape == (len(UDDS.time),)
    assert all(v.shape == (3, len(UDDS.time)) for v in r.series.values())
    assert "battery_current" in r.series and "state_of_charge" in r.series


def test_a_tiny_battery_runs_empty_mid_cycle_and_says_when(compact_car):
    tiny = compact_car.with_changes(battery_energy=3.6e6)  # 1 kWh
    r = simulate(tiny, Scenario(UDDS, hvac="off"))
    s = r.summary()
    assert s["battery_empty_s"] is not None and 0 < s["battery_empty_s"] < UDDS.duration
    assert s["trace_missed_reason"] in ("battery_empty", "power_limit") and s["trace_missed_s"] > 0
    assert r.soc_end[0] <= 0.01


def test_result_pickles_copies_and_reads_short_for_a_large_fleet(compact_car):
    import copy
    import pickle

    fleet = [compact_car.with_changes(name=f"car {i}") for i in range(50)]
    r = simulate(fleet, Scenario(UDDS))
    text = repr(r)
    assert len(text) < 300 and "50 vehicles" in text and "'udds'" in text, text
    back = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(back.battery_energy, r.battery_energy)
    np.testing.assert_array_equal(copy.deepcopy(r).soc_end, r.soc_end)


def test_simulate_parameters_with_ocv_tables_for_fewer_vehicles_is_refused(compact_car):
    # the kernel does not check bounds: a missing table row would be read from beyond the array
    from twinloop.sim import stack_vehicles

    params, tables = stack_vehicles([compact_car, compact_car])
    model = VehicleModel()
    with pytest.raises(ValidationError, match=r"ocv_tables: expected an array of shape \(2, k\)"):
        model.simulate_parameters(params, tables[:1], Scenario(UDDS))
    with pytest.raises(ValidationError, match=r"params: expected an array of shape \(n, \d+\)"):
        model.simulate_parameters(params[0], tables, Scenario(UDDS))
    with pytest.raises(ValidationError, match="names: expected 2 vehicle names"):
        model.simulate_parameters(params, tables, Scenario(UDDS), names=["one"])
    with pytest.raises(ValidationError, match="charger_efficiency: expected one number, or 2"):
        model.simulate_parameters(params, tables, Scenario(UDDS), charger_efficiency=[0.9, 0.9, 0.9])
    with pytest.raises(ValidationError, match=r"charger_efficiency: expected a number in \[0.5, 1\], received nan"):
        model.simulate_parameters(params, tables, Scenario(UDDS), charger_efficiency=float("nan"))


def test_simulate_parameters_with_nan_in_params_names_row_and_column(compact_car):
    from twinloop.sim import stack_vehicles
    from twinloop.sim._layout import P

    params, tables = stack_vehicles([compact_car, compact_car])
    params[1, P.gear_ratio] = np.nan
    with pytest.raises(ValidationError, match=r"params\[1, P.gear_ratio\]: expected a finite number, received nan"):
        VehicleModel().simulate_parameters(params, tables, Scenario(UDDS))


def test_stack_vehicles_of_a_single_spec_or_a_name(compact_car):
    from twinloop.sim import stack_vehicles

    params, tables = stack_vehicles(compact_car)
    assert params.shape[0] == 1 and tables.shape == (1, 11)
    with pytest.raises(ValidationError, match=r"vehicles\[0\]: expected a VehicleSpec"):
        stack_vehicles(["compact"])


def test_submodels_given_as_a_name_or_with_a_non_text_option_are_refused():
    with pytest.raises(ValidationError, match="submodels: expected a dict"):
        VehicleModel("isothermal")
    with pytest.raises(ValidationError, match=r"submodels\['battery'\]: expected a role name and an option name"):
        VehicleModel({"battery": None})
