"""Training sets from the simulator."""

import itertools

import numpy as np
import pytest

from twinloop.cycles import load_cycle
from twinloop.errors import UnknownNameError, ValidationError
from twinloop.learn import FEATURES, TARGET, simulated_trips, split_trace, trip_features
from twinloop.learn.datasets import INDEX
from twinloop.sim import Scenario, simulate


def test_simulated_trip_is_the_simulators_energy_per_distance(leaf):
    X, y = simulated_trips(leaf, ["udds"], [268.15, 293.15])
    assert list(X.columns) == list(FEATURES) and y.name == TARGET
    assert list(X.index.names) == list(INDEX)
    udds = load_cycle("udds")
    r = simulate(leaf, Scenario(udds, ambient_temperature=268.15))
    assert y.iloc[0] == pytest.approx(r.battery_energy[0] / r.distance[0], rel=1e-12)
    # The trace is followed, so the features are those of the trace itself.
    expected = trip_features(udds.time, udds.vehicle_speed, udds.road_grade, 268.15)
    assert X.iloc[0].to_dict() == pytest.approx(expected, rel=1e-6)
    assert y.iloc[0] > y.iloc[1]  # heating at -5 °C


def test_every_combination_is_simulated(leaf):
    X, y = simulated_trips(leaf, ["hwfet", load_cycle("udds")], [280.0, 300.0], road_grades=[0.0, 0.03], segment_duration=400)
    trips = len(split_trace(load_cycle("hwfet"), 400)) + len(split_trace(load_cycle("udds"), 400))
    assert len(X) == len(y) == trips * 2 * 2
    climbing = X.xs(0.03, level="road_grade")
    assert (climbing["climb"] > 0.03 * 9.80665 * 0.99).all()
    assert (y.xs(0.03, level="road_grade") > y.xs(0.0, level="road_grade")).all()


def test_split_trace_covers_the_trace():
    hwfet = load_cycle("hwfet")
    pieces = split_trace(hwfet, 200.0)
    assert sum(p.distance for p in pieces) == pytest.approx(hwfet.distance)
    assert [p.name for p in pieces] == [f"hwfet[{i}]" for i in range(len(pieces))]
    assert all(np.array_equal(a.time[-1:], b.time[:1]) for a, b in itertools.pairwise(pieces))


def test_bad_arguments_are_refused(leaf):
    with pytest.raises(ValidationError, match="segment_duration"):
        split_trace(load_cycle("udds"), 0.0)
    with pytest.raises(ValidationError, match="traces"):
        simulated_trips(leaf, [])
    with pytest.raises(ValidationError, match="ambient_temperatures"):
        simulated_trips(leaf, ["udds"], [])
    with pytest.raises(UnknownNameError, match="udds"):
        simulated_trips(leaf, ["udd"])


def test_lone_trace_name_is_refused_not_read_letter_by_letter(leaf):
    with pytest.raises(ValidationError, match=r"traces: expected a sequence.*Pass \['udds'\]"):
        simulated_trips(leaf, "udds")
    with pytest.raises(ValidationError, match=r"traces\[1\]: expected a bundled cycle name"):
        simulated_trips(leaf, ["udds", 3])


def test_zero_segment_duration_is_refused_not_ignored(leaf):
    with pytest.raises(ValidationError, match="segment_duration: expected a number > 0 s, received 0"):
        simulated_trips(leaf, ["udds"], segment_duration=0)
    with pytest.raises(ValidationError, match="segment_duration"):
        split_trace(load_cycle("udds"), "300")


def test_vehicle_name_instead_of_spec_is_refused():
    with pytest.raises(ValidationError, match=r"spec: expected a VehicleSpec.*resolve_vehicle"):
        simulated_trips("nissan_leaf_40kwh_2018", ["udds"])


def test_split_trace_of_a_name_is_refused():
    with pytest.raises(ValidationError, match=r"cycle: expected a Cycle.*load_cycle"):
        split_trace("udds", 300.0)


def test_grade_in_percent_is_refused(leaf):
    with pytest.raises(ValidationError, match=r"road_grades: expected a number in \[-0.35, 0.35\], received 5.0.*0.05 for 5 %"):
        simulated_trips(leaf, ["udds"], road_grades=[5.0])


def test_celsius_or_scalar_temperature_is_refused(leaf):
    with pytest.raises(ValidationError, match=r"ambient_temperatures: expected a number in \[223.15, 333.15\] K, received 20.0"):
        simulated_trips(leaf, ["udds"], [20.0])
    with pytest.raises(ValidationError, match=r"ambient_temperatures: expected a non-empty 1-D sequence.*Pass \[293.15\]"):
        simulated_trips(leaf, ["udds"], 293.15)
