"""Design optimisation: days read and cut, candidate vehicles, figures from the simulator, the Pareto front.

The days are the bundled UDDS and HWFET (flat, 1 Hz, 26 km together) or
hand-made traces, so that a search of a few designs takes seconds. Every
figure of a front is checked against a fresh, independent simulation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from twinloop.apps.design import (
    ACCELERATION_TARGET,
    DESIGN_COLUMNS,
    KWH,
    MIN_DAY_DISTANCE,
    OBJECTIVES,
    DesignProblem,
    design_vehicle,
    driven_day,
    evaluate_designs,
    optimise_design,
    read_days,
)
from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.parameters import resolve_vehicle
from twinloop.physics.performance import time_to_speed
from twinloop.sim import Scenario, simulate

EXAMPLE_FLEET = Path(__file__).resolve().parents[2] / "examples" / "data" / "cmap_2007"
SMALL = {"population": 8, "generations": 3}


@pytest.fixture(scope="module")
def id3():
    return resolve_vehicle("vw_id3_pro_2020")


@pytest.fixture(scope="module")
def days():
    return (load_cycle("udds"), load_cycle("hwfet"))


@pytest.fixture(scope="module")
def problem(id3, days):
    return DesignProblem(id3, days, share=1.0, battery_energy_bounds=(10 * KWH, 60 * KWH))


@pytest.fixture(scope="module")
def front(problem):
    return optimise_design(problem, seed=3, **SMALL)


# -- days ------------------------------------------------------------------------------------------------


def test_a_parked_hour_is_cut_to_a_second_and_a_short_stop_kept():
    t = np.array([0.0, 30.0, 60.0, 120.0, 3720.0, 3780.0, 3800.0, 3900.0])
    v = np.array([0.0, 10.0, 0.0, 0.0, 0.0, 10.0, 0.0, 0.0])  # stopped 60-3720 s; the last 100 s stop stays
    cut = driven_day(Cycle("d", t, v, np.zeros_like(t)))
    assert cut.duration == pytest.approx(3900.0 - (3720.0 - 60.0) + 1.0)
    assert cut.distance == pytest.approx(np.trapezoid(v, t))
    assert np.allclose(np.diff(cut.time), 1.0)


def test_the_bundled_survey_days_are_read_and_a_short_day_skipped():
    fleet = read_days(EXAMPLE_FLEET)
    assert [d.name for d in fleet.days] == ["4033363_3/2007-08-20", "4033363_3/2007-08-21", "4033363_3/2007-08-22",
                                             "4033363_3/2007-08-23", "4105836_2/2007-05-31"]
    assert list(fleet.skipped) == ["4033363_1/2007-08-25"] and "less than 1 km" in fleet.skipped["4033363_1/2007-08-25"]
    longest = fleet.days[2]
    assert 100e3 < longest.distance < 106e3  # 102.8 km of GPS speed, summed at 1 Hz
    assert longest.duration < 2 * 3600  # the day's 12 h, parked time cut


def test_a_folder_of_simulate_traces_is_read_and_bad_files_skipped_with_the_reason(tmp_path):
    for name, cycle in (("a.csv", load_cycle("udds")), ("b.csv", load_cycle("hwfet"))):
        rows = "".join(f"{t:g},{v * 3.6:.4f}\n" for t, v in zip(cycle.time, cycle.vehicle_speed, strict=True))
        (tmp_path / name).write_text("time_s,speed_kph\n" + rows)
    (tmp_path / "broken.csv").write_text("time_s,speed_kph\n0,0\n2,10\n1,10\n")
    (tmp_path / "short.csv").write_text("time_s,speed_kph\n0,0\n10,36\n20,0\n")
    fleet = read_days(tmp_path)
    assert [d.name for d in fleet.days] == [f"{tmp_path.name}/a", f"{tmp_path.name}/b"]
    assert fleet.days[0].distance == pytest.approx(load_cycle("udds").distance, rel=1e-4)
    assert "time must increase" in fleet.skipped[f"{tmp_path.name}/broken"]
    assert f"less than {MIN_DAY_DISTANCE / 1000:g} km" in fleet.skipped[f"{tmp_path.name}/short"]


def test_a_folder_without_usable_days_is_refused(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_days(tmp_path / "nowhere")
    with pytest.raises(DataError, match="holds no day traces"):
        read_days(tmp_path)
    (tmp_path / "broken.csv").write_text("when,speed\n0,0\n")
    with pytest.raises(DataError, match=r"no usable day trace among 1 files; .*broken: .*no time column"):
        read_days(tmp_path)


# -- the candidate vehicle ---------------------------------------------------------------------------------


def test_the_candidate_mass_follows_pack_and_motor(id3):
    car = design_vehicle(id3, 77 * KWH, 220e3, 9.0)
    # +19 kWh at 160 Wh/kg is 118.75 kg, +70 kW at 1.4 kW/kg is 50 kg
    assert car.test_mass == pytest.approx(id3.test_mass + 118.75 + 50.0)
    assert car.battery_energy == 77 * KWH and car.motor_peak_power == 220e3 and car.gear_ratio == 9.0
    # the stated torque and charge power scale with the machine and the pack; unset values follow the spec
    assert car.motor_peak_torque == pytest.approx(310.0 * 220 / 150)
    assert car.battery_max_charge_power == pytest.approx(100e3 * 77 / 58)
    assert car.effective_battery_ohmic_resistance < id3.effective_battery_ohmic_resistance


def test_a_coastdown_vehicle_keeps_its_tyre_loss_per_kg():
    base = resolve_vehicle("vw_id3_pro_2020").with_changes(
        drag_coefficient=None, frontal_area=None, rolling_resistance_coefficient=None,
        coastdown_a=150.0, coastdown_b=1.0, coastdown_c=0.4)
    car = design_vehicle(base, 30 * KWH, 100e3, 9.0)
    assert car.coastdown_a / car.test_mass == pytest.approx(150.0 / base.test_mass)
    assert (car.coastdown_b, car.coastdown_c) == (1.0, 0.4)


def test_a_bigger_battery_costs_more_and_uses_more_energy(problem):
    result = evaluate_designs(problem, [20 * KWH, 40 * KWH, 60 * KWH], [150e3] * 3, [11.53] * 3)
    assert np.all(np.diff(result.cost) > 0)
    assert result.cost[1] - result.cost[0] == pytest.approx(20 * problem.battery_cost_per_kwh)
    assert np.all(np.diff(result.test_mass) > 0)
    assert np.all(np.diff(result.consumption) > 0)  # the heavier car takes more energy on the same days
    assert np.all(np.diff(result.day_energy, axis=0) > 0)


# -- the figures -------------------------------------------------------------------------------------------


def test_coverage_and_range_need_from_the_simulated_day_energy(id3, days):
    # a day is covered when E_day (1 + w) <= E (1 - r)(1 - f)
    problem = DesignProblem(id3, days, share=0.5, reserve=0.1, capacity_fade=0.2, winter_margin=0.5,
                            battery_energy_bounds=(1 * KWH, 60 * KWH))
    energy = np.array([2.0, 3.0, 4.0, 5.0]) * KWH
    result = evaluate_designs(problem, energy, [150e3] * 4, [11.53] * 4)
    usable = energy * 0.9 * 0.8
    covered = result.day_energy * 1.5 <= usable[:, None]
    np.testing.assert_array_equal(result.coverage, covered.mean(axis=1))
    assert problem.days_needed == 1  # half of two days
    np.testing.assert_allclose(result.range_need, 1.5 * result.day_energy.min(axis=1))
    assert result.coverage[0] == 0.0 and result.coverage[-1] == 1.0  # the chosen packs straddle the need


def test_full_throttle_reaches_the_traction_limit_with_power_to_spare_and_not_without(id3, days):
    problem = DesignProblem(id3, days)
    result = evaluate_designs(problem, [80 * KWH] * 3, [60e3, 150e3, 300e3], [9.0] * 3)
    grip_time = ACCELERATION_TARGET / problem.traction_acceleration  # the ramp's own 0-100 km/h
    assert result.acceleration_time[2] == pytest.approx(grip_time, abs=0.1)
    assert np.all(np.diff(result.acceleration_time) < 0)
    assert result.acceleration_time[0] > 1.5 * grip_time


def test_the_full_throttle_run_follows_newtons_law(id3, days):
    # no grip limit (mu 1.5, all-wheel drive): t = integral of m (1 + eps) dv / (F_motor(v) - F_road(v))
    car = id3.with_changes(drive="AWD")
    problem = DesignProblem(car, days, friction_coefficient=1.5)
    result = evaluate_designs(problem, [80 * KWH], [100e3], [9.0])
    spec = result.specs()[0]
    v = np.linspace(0.0, ACCELERATION_TARGET, 20001)
    omega = v * spec.gear_ratio / spec.wheel_radius
    torque = np.minimum(spec.effective_motor_peak_torque, spec.motor_peak_power / np.maximum(omega, 1e-9))
    a, b, c = spec.effective_coastdown
    force = torque * spec.gear_ratio * spec.gearbox_efficiency / spec.wheel_radius - (a + b * v + c * v * v)
    expected = np.trapezoid(spec.test_mass * (1 + spec.rotating_mass_factor) / force, v)
    assert result.acceleration_time[0] == pytest.approx(expected, abs=0.1)  # 0.1 s steps


def test_top_speed_is_the_lower_of_gear_and_power(problem):
    result = evaluate_designs(problem, [40 * KWH] * 2, [50e3, 300e3], [5.0, 14.0])
    spec = result.specs()[0]
    # 50 kW through a long 5:1 gear: the power runs out first, where (A + C v^2) v = 0.97 x 50 kW
    a, b, c = spec.effective_coastdown
    v = result.top_speed[0]
    assert (a + b * v + c * v * v) * v == pytest.approx(50e3 * spec.gearbox_efficiency, rel=1e-9)
    assert v < 12000 * math.pi / 30 * 0.347 / 5.0
    # 300 kW through 14:1: 12,000 rpm on the ID.3's 0.347 m tyre comes first, at 31.1 m/s
    assert result.top_speed[1] == pytest.approx(12000 * math.pi / 30 * 0.347 / 14.0)


# -- the optimiser -----------------------------------------------------------------------------------------


def test_every_point_of_the_front_meets_every_constraint(front, problem):
    assert len(front) >= 1 and front.evaluations >= SMALL["population"]
    assert np.all(front.coverage >= problem.share)
    assert np.all(front.acceleration_time <= problem.max_acceleration_time)
    assert np.all(front.top_speed >= problem.min_top_speed)
    assert front.feasible.all()


def test_no_point_of_the_front_dominates_another(front):
    objectives = np.column_stack([front.cost, front.acceleration_time])
    for i, row in enumerate(objectives):
        others = np.delete(objectives, i, axis=0)
        assert not np.any(np.all(others <= row, axis=1) & np.any(others < row, axis=1))
    assert np.all(np.diff(front.cost) >= 0)  # sorted by the first objective


def test_the_table_equals_a_fresh_simulation(front, problem):
    frame = front.to_frame()
    assert tuple(frame.columns) == DESIGN_COLUMNS
    specs = [design_vehicle(problem.vehicle, e, p, g) for e, p, g in
             zip(frame["battery_kwh"] * KWH, frame["motor_kw"] * 1e3, frame["gear_ratio"], strict=True)]
    energy, missed, wall, distance = [], [], np.zeros(len(specs)), np.zeros(len(specs))
    for day in problem.days:
        run = simulate(specs, Scenario(day, ambient_temperature=problem.ambient_temperature, soc_start=1.0))
        energy.append(run.battery_energy)
        missed.append(run.trace_missed_time)
        wall += run.wall_energy
        distance += run.distance
    np.testing.assert_allclose(front.day_energy, np.column_stack(energy), rtol=1e-12)
    covered = np.column_stack(energy) <= (front.battery_energy * 0.9 * 0.8)[:, None]  # reserve 0.1, fade 0.2
    np.testing.assert_array_equal(frame["coverage"], covered.mean(axis=1))
    np.testing.assert_array_equal(frame["trace_missed_s"], np.where(covered, np.column_stack(missed), 0).sum(axis=1))
    np.testing.assert_allclose(frame["wh_per_km"], wall / distance / 3.6, rtol=1e-12)
    np.testing.assert_allclose(frame["test_mass_kg"], [s.test_mass for s in specs])
    np.testing.assert_allclose(frame["cost_usd"], problem.battery_cost_per_kwh * frame["battery_kwh"]
                               + problem.motor_cost_per_kw * frame["motor_kw"])
    sprint = simulate(specs, Scenario(problem.acceleration_run(), ambient_temperature=problem.ambient_temperature,
                                      soc_start=0.9, hvac="off", time_step=0.1), record=True)
    np.testing.assert_allclose(frame["acceleration_0_100_s"],
                               time_to_speed(sprint.time, sprint.series["vehicle_speed"], ACCELERATION_TARGET))


def test_the_same_seed_gives_the_same_front(front, problem):
    again = optimise_design(problem, seed=3, **SMALL)
    assert again.to_frame().equals(front.to_frame())


def test_a_long_front_is_thinned_keeping_both_ends(front, problem):
    assert len(front) > 2
    ends = optimise_design(problem, seed=3, max_designs=2, **SMALL)
    pd_ends = ends.to_frame()
    full = front.to_frame()
    assert pd_ends.iloc[0].equals(full.iloc[0]) and pd_ends.iloc[1].equals(full.iloc[-1])


def test_a_tighter_acceleration_floor_raises_the_minimum_cost(id3, days):
    settings = {"population": 12, "generations": 4, "seed": 0}
    loose = optimise_design(DesignProblem(id3, days, share=1.0, max_acceleration_time=12.0), **settings)
    tight = optimise_design(DesignProblem(id3, days, share=1.0, max_acceleration_time=6.5), **settings)
    assert tight.cost.min() > loose.cost.min()
    assert tight.acceleration_time.max() <= 6.5


def test_to_dict_is_json_with_the_inputs_and_the_run(front):
    data = json.loads(json.dumps(front.to_dict(), allow_nan=False))
    assert [list(row) for row in data["designs"]] == [list(DESIGN_COLUMNS)] * len(front)
    assert data["inputs"]["objectives"] == ["cost", "acceleration_time"]
    assert data["run"]["seed"] == 3 and data["run"]["evaluations"] == front.evaluations
    assert data["day_names"] == ["udds", "hwfet"]


# -- infeasible problems and bad input ----------------------------------------------------------------------


def test_a_floor_no_design_reaches_names_it_and_the_best_reached(id3, days):
    with pytest.raises(ValidationError, match=r"^max_acceleration_time: .*received 3\.0.*fastest design took"):
        optimise_design(DesignProblem(id3, days, max_acceleration_time=3.0), population=4, generations=1)


def test_a_range_no_battery_within_the_bounds_covers_names_the_share(id3):
    motorway = Cycle("motorway", np.arange(0.0, 4001.0), np.full(4001, 33.0), np.zeros(4001))  # 132 km
    problem = DesignProblem(id3, [motorway], battery_energy_bounds=(10 * KWH, 15 * KWH))
    with pytest.raises(ValidationError, match=r"^share: .*received 0\.95.*the best covered 0%"):
        optimise_design(problem, population=4, generations=1)


def test_a_top_speed_no_ratio_reaches_names_it(id3, days):
    problem = DesignProblem(id3, days, gear_ratio_bounds=(13.0, 14.0), min_top_speed=200 / 3.6)
    with pytest.raises(ValidationError, match=r"^min_top_speed: .*received 200 km/h"):
        optimise_design(problem, population=4, generations=1)


@pytest.mark.parametrize(("change", "message"), [
    ({"battery_energy_bounds": (120 * KWH, 20 * KWH)},
     r"^battery_energy_bounds: expected a low end <= the high end, within \[1, 1000\] kWh, received \(120, 20\) kWh"
     r"\. The bounds are reversed"),
    ({"motor_power_bounds": (50e3, 5e6)}, r"^motor_power_bounds: expected bounds within .* kW, received \(50, 5000\) kW"),
    ({"gear_ratio_bounds": (9.0,)}, r"^gear_ratio_bounds: expected two numbers"),
    ({"share": 0.0}, r"^share: expected a number in \(0, 1\] .*received 0\.0"),
    ({"share": 1.5}, r"^share: expected a number in \(0, 1\] .*received 1\.5"),
    ({"battery_cost_per_kwh": -1.0}, r"^battery_cost_per_kwh: expected a number in \[0, inf\) USD/kWh, received -1\.0"),
    ({"motor_cost_per_kw": float("nan")}, r"^motor_cost_per_kw: .*received nan"),
    ({"max_acceleration_time": 0.0}, r"^max_acceleration_time: expected a number in \(0, 60\] s"),
    ({"reserve": 1.0}, r"^reserve: expected a number in \[0, 0\.9\]"),
    ({"objectives": ("cost",)}, r"^objectives: expected two or more"),
    ({"days": []}, r"^days: expected one or more day traces"),
    ({"vehicle": "vw_id3_pro_2020"}, r"^vehicle: expected a VehicleSpec"),
])
def test_bad_input_names_the_field_the_range_and_the_value(id3, days, change, message):
    with pytest.raises(ValidationError, match=message):
        DesignProblem(**{"vehicle": id3, "days": days, **change})


def test_an_unknown_objective_suggests_the_closest(id3, days):
    with pytest.raises(UnknownNameError, match="unknown objective 'costs'; did you mean 'cost'"):
        DesignProblem(id3, days, objectives=("costs", "consumption"))


def test_bad_optimiser_settings_are_refused(problem):
    for name, value in (("population", 2), ("generations", 0), ("seed", -1), ("max_designs", 1)):
        with pytest.raises(ValidationError, match=rf"^{name}: expected an integer >= "):
            optimise_design(problem, **{**SMALL, name: value})


@pytest.mark.parametrize("objectives", [("cost", "consumption"), ("acceleration_time", "consumption"),
                                        ("cost", "acceleration_time", "consumption")])
def test_every_objective_can_be_optimised(id3, days, objectives):
    problem = DesignProblem(id3, days, objectives=objectives)
    result = optimise_design(problem, population=4, generations=2)
    values = result.to_frame()[[OBJECTIVES[o].column for o in objectives]].to_numpy()
    for i, row in enumerate(values):
        others = np.delete(values, i, axis=0)
        assert not np.any(np.all(others <= row, axis=1) & np.any(others < row, axis=1))
    assert set(OBJECTIVES) == {"cost", "acceleration_time", "consumption"}
    assert {o.column for o in OBJECTIVES.values()} <= set(DESIGN_COLUMNS)


def test_an_ambient_temperature_in_celsius_is_refused(id3, days):
    with pytest.raises(ValidationError, match=r"^ambient_temperature: expected a number in \[223.15, 333.15\] K, received 20.0"):
        DesignProblem(id3, days, ambient_temperature=20.0)
