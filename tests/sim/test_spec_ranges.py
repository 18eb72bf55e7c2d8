"""Every VehicleSpec field simulates anywhere in its valid range.

A value that validation lets through must never reach the kernel as a zero
denominator (an empty battery of 0 kWh, a 0 V pack ...): each numeric field is
set to the lower and the upper end of its range, one at a time, on a real car,
and the result must be finite with the energy books closed.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import SpecificationError
from twinloop.parameters.library import load_bundled
from twinloop.parameters.spec import _BOUNDS, _RANGES, VehicleSpec, field_range
from twinloop.sim import BREAKDOWN_KEYS, Scenario, simulate

# 200 s of UDDS: accelerating, cruising and braking, enough to reach every term.
_UDDS = load_cycle("udds")
_SHORT = Cycle("udds_200", _UDDS.time[:201], _UDDS.vehicle_speed[:201], _UDDS.road_grade[:201])
_FIELDS = sorted((*_RANGES, *_BOUNDS))
# The coast-down form is used when both are given; test it on its own car.
_COASTDOWN = {"coastdown_a", "coastdown_b", "coastdown_c"}


def _car(name: str, value: float) -> VehicleSpec:
    base = load_bundled("nissan_leaf_40kwh_2018")
    changes: dict[str, float] = {name: value}
    if name in _COASTDOWN:
        changes = {"coastdown_a": 150.0, "coastdown_b": 1.0, "coastdown_c": 0.4, **changes}
    # regen_fade_speed_high must stay above regen_fade_speed_low (a cross-field rule).
    if name == "regen_fade_speed_low":
        changes["regen_fade_speed_high"] = max(value + 1.0, base.regen_fade_speed_high)
    if name == "regen_fade_speed_high":
        changes["regen_fade_speed_low"] = 0.0
    # Heat capacity over heat transfer (the thermal time constant) must stay >= 10 s.
    if name in ("battery_heat_capacity", "cabin_heat_capacity") and value < 1e4:
        changes["battery_heat_transfer" if name.startswith("battery") else "cabin_conductance"] = 0.0
    if name in ("battery_heat_transfer", "cabin_conductance") and value > 1e3:
        changes["battery_heat_capacity" if name.startswith("battery") else "cabin_heat_capacity"] = 1e8
    return base.with_changes(name=f"{name}={value:g}", **changes)


def _ends() -> list[tuple[str, float]]:
    cases = []
    for name in _FIELDS:
        low, high = field_range(name)
        if name == "regen_fade_speed_high":
            low = 0.5  # must exceed regen_fade_speed_low, whose least value is 0
        cases += [(name, float(low)), (name, float(high))]
    return cases


def _assert_sane(spec: VehicleSpec, soc_start: float = 0.9, ambient: float = 293.15) -> None:
    r = simulate(spec, Scenario(_SHORT, soc_start=soc_start, ambient_temperature=ambient, hvac="on"))
    summary = r.summary(0)
    numbers = [v for v in summary.values() if isinstance(v, float)] + list(summary["breakdown"].values())
    assert all(math.isfinite(v) for v in numbers), summary
    assert 0.0 <= r.soc_end[0] <= 1.0
    total = sum(r.breakdown[k][0] for k in BREAKDOWN_KEYS)
    assert total == pytest.approx(r.battery_energy[0], rel=1e-6, abs=1.0)


def test_every_numeric_field_has_a_positive_lower_bound_where_it_divides() -> None:
    # Denominators in the model: capacity = energy / voltage, torque = power / (ratio / radius),
    # heat flow / heat capacity, power / efficiency, cooling / COP.
    for name in ("battery_energy", "battery_nominal_voltage", "wheel_radius", "gear_ratio",
                 "gearbox_efficiency", "charger_efficiency", "hvac_cop_at_280k", "hvac_cop_cooling",
                 "battery_heat_capacity", "cabin_heat_capacity", "test_mass", "motor_peak_power",
                 "motor_rated_power", "motor_peak_torque", "battery_max_discharge_power"):
        assert field_range(name)[0] > 0, name


def test_battery_range_is_realistic() -> None:
    assert field_range("battery_energy") == (3.6e6, 3.6e9)  # 1 to 1000 kWh
    assert field_range("battery_nominal_voltage") == (48, 1500)


@pytest.mark.parametrize(("name", "value"), _ends(), ids=lambda v: str(v))
def test_each_field_at_either_end_of_its_range_simulates(name: str, value: float) -> None:
    _assert_sane(_car(name, value))


@pytest.mark.parametrize("soc_start", [0.0, 1.0])
def test_the_smallest_pack_simulates_empty_and_full(soc_start: float) -> None:
    small = _car("battery_energy", field_range("battery_energy")[0]).with_changes(
        battery_nominal_voltage=float(field_range("battery_nominal_voltage")[0]))
    _assert_sane(small, soc_start=soc_start, ambient=253.15)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_valid_combination_simulates(data: st.DataObject) -> None:
    changes: dict[str, float] = {}
    for name in data.draw(st.lists(st.sampled_from(_FIELDS), max_size=6, unique=True)):
        low, high = field_range(name)
        changes[name] = data.draw(st.floats(float(low), float(high)), label=name)
    if {"regen_fade_speed_low", "regen_fade_speed_high"} & set(changes):
        changes["regen_fade_speed_low"] = min(changes.get("regen_fade_speed_low", 1.0), 19.0)
        changes["regen_fade_speed_high"] = max(changes.get("regen_fade_speed_high", 4.0),
                                               changes["regen_fade_speed_low"] + 0.5)
    # Keep the thermal time constant (heat capacity / heat transfer) >= 10 s.
    for capacity, transfer in (("battery_heat_capacity", "battery_heat_transfer"),
                               ("cabin_heat_capacity", "cabin_conductance")):
        if capacity in changes:
            changes[transfer] = min(changes.get(transfer, 40.0), changes[capacity] / 10.0)
        elif transfer in changes:
            changes[capacity] = 10.0 * changes[transfer] + 1e5
    if _COASTDOWN & set(changes):
        changes = {"coastdown_a": 150.0, "coastdown_b": 1.0, "coastdown_c": 0.4, **changes}
    spec = load_bundled("nissan_leaf_40kwh_2018").with_changes(**changes)
    _assert_sane(spec, soc_start=data.draw(st.floats(0.0, 1.0)),
                 ambient=data.draw(st.floats(253.15, 313.15)))
    assert np.isfinite(spec.battery_capacity)


# -- misuse: every numeric field refuses NaN, infinities, out-of-range values, None and text --

_LEAF = load_bundled("nissan_leaf_40kwh_2018")
_OPTIONAL = {f.name for f in dataclasses.fields(VehicleSpec) if f.default is None}


@pytest.mark.parametrize("name", _FIELDS)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -1e12, "1", True])
def test_nan_inf_negative_or_text_on_any_numeric_field_names_field_range_and_value(name: str, bad: object) -> None:
    low, high = field_range(name)
    with pytest.raises(SpecificationError) as info:
        _LEAF.with_changes(**{name: bad})
    message = str(info.value)
    assert message.startswith(f"{name} in vehicle 'nissan_leaf_40kwh_2018': expected a number in [")
    assert f"{low:g}" in message and f"{high:g}" in message
    assert message.endswith(f"received {bad!r}")


@pytest.mark.parametrize("name", sorted(set(_FIELDS) - _OPTIONAL))
def test_none_on_a_field_that_has_no_derived_default_is_refused(name: str) -> None:
    with pytest.raises(SpecificationError, match=rf"^{name} in vehicle .*received None$"):
        _LEAF.with_changes(**{name: None})


def test_required_fields_none_are_refused_before_simulating() -> None:
    with pytest.raises(SpecificationError, match="test_mass in vehicle 'x': expected a number in"):
        VehicleSpec("x", test_mass=None, motor_peak_power=1e5, battery_energy=1.8e8,  # type: ignore[arg-type]
                    drag_coefficient=0.3, frontal_area=2.2, rolling_resistance_coefficient=0.009)


def test_numpy_scalars_from_a_dataframe_are_numbers_and_kept_as_float() -> None:
    spec = _LEAF.with_changes(test_mass=np.int64(1800), gear_ratio=np.float32(8.5))
    assert type(spec.test_mass) is float and spec.test_mass == 1800.0
    assert type(spec.gear_ratio) is float and spec.gear_ratio == 8.5
    with pytest.raises(SpecificationError, match="received nan"):
        _LEAF.with_changes(test_mass=np.float64("nan"))
    with pytest.raises(SpecificationError, match="test_mass"):
        _LEAF.with_changes(test_mass=np.bool_(True))


def test_text_fields_of_the_wrong_type_are_refused_not_crashing() -> None:
    for name, value, expected in (("battery_chemistry", 5, "one of nmc, lfp, lmo"),
                                  ("description", 5, "text"),
                                  ("sources", {"road_load": 5}, "a mapping of key to source text"),
                                  ("sources", "estimate", "a mapping of key to source text"),
                                  ("drive", ["FWD"], "one of FWD, RWD, AWD")):
        with pytest.raises(SpecificationError, match=rf"^{name} in vehicle .*expected {expected}"):
            _LEAF.with_changes(**{name: value})
