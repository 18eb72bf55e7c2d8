"""VehicleSpec as a Python value: equality, hashing, pickling, repr, and misuse of its fields."""

from __future__ import annotations

import copy
import pickle

import pytest

from twinloop.errors import SpecificationError
from twinloop.parameters import dump_vehicle, load_bundled, load_vehicle
from twinloop.parameters.spec import VehicleSpec

LEAF = load_bundled("nissan_leaf_40kwh_2018")


def test_specs_are_hashable_and_equal_specs_hash_equal() -> None:
    twin = copy.deepcopy(LEAF)
    assert twin == LEAF and hash(twin) == hash(LEAF)
    assert len({LEAF, twin, LEAF.with_changes(test_mass=1800.0)}) == 2
    assert {LEAF: "leaf"}[twin] == "leaf"


def test_specs_pickle_and_copy_to_equal_specs() -> None:
    assert pickle.loads(pickle.dumps(LEAF)) == LEAF
    assert copy.copy(LEAF) == LEAF


def test_repr_shows_only_what_differs_from_the_defaults_and_counts_the_sources() -> None:
    text = repr(LEAF)
    assert text.startswith("VehicleSpec(name='nissan_leaf_40kwh_2018', test_mass=1727.0, ")
    assert f"sources=<{len(LEAF.sources)} entries>" in text
    assert "coastdown_a" not in text and "iron_loss" not in text  # unset / default
    assert len(text) < 800


def test_repr_of_a_spec_without_sources_evaluates_to_an_equal_spec() -> None:
    spec = VehicleSpec("demo", test_mass=1500.0, motor_peak_power=1e5, battery_energy=1.8e8,
                       coastdown_a=120.0, coastdown_b=0.5, coastdown_c=0.4, regen_max_power=0.0)
    assert "regen_max_power=0.0" in repr(spec)
    assert eval(repr(spec)) == spec  # our own repr


def test_with_changes_of_an_unknown_field_suggests_the_close_match() -> None:
    with pytest.raises(SpecificationError, match=r"test_mas in vehicle .* did you mean 'test_mass'"):
        LEAF.with_changes(test_mas=1800.0)


def test_with_changes_of_several_unknown_fields_names_each_with_its_close_match() -> None:
    with pytest.raises(SpecificationError) as info:
        LEAF.with_changes(test_mas=1800.0, gear_ration=8.0, zzz=1)
    message = str(info.value)
    assert message.startswith("test_mas, gear_ration and zzz in vehicle 'nissan_leaf_40kwh_2018'")
    assert "test_mas: did you mean 'test_mass'" in message and "gear_ration: did you mean 'gear_ratio'" in message


def test_constructor_with_a_misspelt_keyword_suggests_the_field() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'drag_coeficient'; did you mean 'drag_coefficient'"):
        VehicleSpec("x", test_mass=1000.0, motor_peak_power=1e5, battery_energy=1e8,  # type: ignore[call-arg]
                    drag_coeficient=0.3, frontal_area=2.2, rolling_resistance_coefficient=0.009)


def test_with_changes_of_a_wrong_type_names_field_range_and_value() -> None:
    with pytest.raises(SpecificationError,
                       match=r"test_mass in vehicle .*: expected a number in \[300, 40000\] kg, received '1800'"):
        LEAF.with_changes(test_mass="1800")


def test_sources_with_a_key_no_vehicle_file_can_hold_is_refused_with_close_matches() -> None:
    with pytest.raises(SpecificationError, match=r"sources in vehicle .*received 'mass.test_mass'. did you mean "
                                                 "'mass.test_mass_kg'"):
        LEAF.with_changes(sources={"mass.test_mass": "scale"})


def test_a_calibration_source_round_trips_through_toml() -> None:
    # calibrate_from_trips records sources["calibration"]; such a spec must dump to a file that loads
    calibrated = LEAF.with_changes(sources={**LEAF.sources, "calibration": "calibrate_from_trips: 3 trip(s)"})
    assert load_vehicle(dump_vehicle(calibrated)) == calibrated
