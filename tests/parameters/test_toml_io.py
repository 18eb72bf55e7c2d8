"""TOML vehicle format: unit conversion at the boundary, exact round trip, precise errors."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinloop.errors import SpecificationError
from twinloop.parameters.library import resolve_vehicle
from twinloop.parameters.spec import DRIVES, HEATING, VehicleSpec
from twinloop.parameters.toml_io import TOML_KEYS, _si_range, dump_vehicle, load_vehicle

MINIMAL = """
name = "minimal"
[mass]
test_mass_kg = 1500
[road_load]
drag_coefficient = 0.3
frontal_area_m2 = 2.2
rolling_resistance_coefficient = 0.009
[drivetrain]
motor_peak_power_kw = 100
[battery]
energy_kwh = 50
"""


def _with(section_text: str) -> str:
    return MINIMAL + "\n" + section_text


# -- conversions, hand-checked ------------------------------------------------

def test_minimal_file_converts_units_to_si() -> None:
    spec = load_vehicle(MINIMAL)
    assert spec.test_mass == 1500.0
    assert spec.motor_peak_power == 100_000.0
    assert spec.battery_energy == 50 * 3.6e6
    assert spec.road_load_form == "physical"


def test_epa_unit_coastdown_is_converted_to_si() -> None:
    # 1 lbf = 4.4482216152605 N; 1 mph = 0.44704 m/s.
    spec = load_vehicle(MINIMAL.replace("""drag_coefficient = 0.3
frontal_area_m2 = 2.2
rolling_resistance_coefficient = 0.009""", """coastdown_a_lbf = 33.9
coastdown_b_lbf_per_mph = 0.034
coastdown_c_lbf_per_mph2 = 0.01668"""))
    assert spec.coastdown_a == pytest.approx(33.9 * 4.4482216152605, rel=1e-15)  # 150.7947 N
    assert spec.coastdown_b == pytest.approx(0.034 * 4.4482216152605 / 0.44704, rel=1e-15)  # 0.33832
    assert spec.coastdown_c == pytest.approx(0.01668 * 4.4482216152605 / 0.44704**2, rel=1e-15)  # 0.37127
    assert round(spec.coastdown_a, 3) == 150.795


def test_celsius_setpoint_and_kilowatts() -> None:
    spec = load_vehicle(_with("[cabin]\nsetpoint_c = 21.5\nmax_heating_kw = 7.5\n"))
    assert spec.cabin_setpoint == 294.65
    assert spec.hvac_max_heating == 7500.0


def test_motor_loss_subtable_and_sources() -> None:
    spec = load_vehicle(_with(
        '[drivetrain.motor_loss]\ncopper = 0.05\n[sources]\n"road_load.drag_coefficient" = "maker"\n'
        'battery.energy_kwh = "dotted key becomes nested table, flattened back"\n'))
    assert spec.copper_loss == 0.05
    assert spec.sources == {"road_load.drag_coefficient": "maker",
                            "battery.energy_kwh": "dotted key becomes nested table, flattened back"}


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "my_car.toml"
    path.write_text(MINIMAL.replace('name = "minimal"', ""))
    assert load_vehicle(path).name == "my_car"


def test_every_spec_field_has_a_toml_key() -> None:
    mapped = {k.field for k in TOML_KEYS}
    assert mapped == {f.name for f in fields(VehicleSpec)} - {"sources"}


# -- round trip -----------------------------------------------------------------

def _number(key_field: str) -> st.SearchStrategy[float]:
    key = next(k for k in TOML_KEYS if k.field == key_field and not k.alias)
    low, high = _si_range(key)
    low = max(low, -1e9)
    high = min(high, 1e10)
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


_OPTIONAL = [k.field for k in TOML_KEYS
             if k.kind == "number" and not k.alias and k.field not in
             {"test_mass", "motor_peak_power", "battery_energy", "regen_fade_speed_low", "regen_fade_speed_high",
              "drag_coefficient", "frontal_area", "rolling_resistance_coefficient",
              "coastdown_a", "coastdown_b", "coastdown_c"}]
_SOURCE_KEYS = ["vehicle", "mass.test_mass_kg", "road_load", "battery.energy_kwh", "drivetrain.motor_loss"]


@st.composite
def specs(draw: st.DrawFn) -> VehicleSpec:
    kw: dict[str, object] = {
        "name": draw(st.text(min_size=1, max_size=20).filter(str.strip)),  # a blank name is refused
        "description": draw(st.text(max_size=40)),
        "test_mass": draw(_number("test_mass")),
        "motor_peak_power": draw(_number("motor_peak_power")),
        "battery_energy": draw(_number("battery_energy")),
        "drive": draw(st.sampled_from(DRIVES)),
        "hvac_heating": draw(st.sampled_from(HEATING)),
        "battery_chemistry": draw(st.sampled_from(["nmc", "lfp", "lmo"])),
    }
    forms = draw(st.sampled_from(["physical", "coastdown", "both"]))
    if forms in ("physical", "both"):
        for f in ("drag_coefficient", "frontal_area", "rolling_resistance_coefficient"):
            kw[f] = draw(_number(f))
    if forms in ("coastdown", "both"):
        for f in ("coastdown_a", "coastdown_b", "coastdown_c"):
            kw[f] = draw(_number(f))
    for f in _OPTIONAL:
        if draw(st.booleans()):
            kw[f] = draw(_number(f))
    # A thermal time constant (heat capacity / heat transfer) of at least 10 s.
    battery_c = kw.get("battery_heat_capacity", 6500.0 * float(kw["battery_energy"]) / 3.6e6)
    kw["battery_heat_transfer"] = min(kw.get("battery_heat_transfer", 40.0), battery_c / 10.0)
    kw["cabin_conductance"] = min(kw.get("cabin_conductance", 90.0), kw.get("cabin_heat_capacity", 6e4) / 10.0)
    low = draw(st.floats(0.0, 19.0))
    kw["regen_fade_speed_low"] = low
    kw["regen_fade_speed_high"] = draw(st.floats(low + 0.5, 30.0))
    kw["sources"] = draw(st.dictionaries(st.sampled_from(_SOURCE_KEYS), st.text(max_size=30), max_size=3))
    return VehicleSpec(**kw)


@settings(max_examples=300, deadline=None)
@given(specs())
def test_dump_then_load_gives_an_equal_spec(spec: VehicleSpec) -> None:
    assert load_vehicle(dump_vehicle(spec)) == spec


@settings(max_examples=200, deadline=None)
@given(specs())
def test_ten_significant_digits_load_back_within_their_rounding(spec: VehicleSpec) -> None:
    back = load_vehicle(dump_vehicle(spec, significant_digits=10))
    for f in fields(VehicleSpec):
        before, after = getattr(spec, f.name), getattr(back, f.name)
        if isinstance(before, float):
            # half a unit in the 10th digit, in the key's unit (setpoint: in Celsius)
            scale = abs(before - 273.15) if f.name == "cabin_setpoint" else abs(before)
            assert after == pytest.approx(before, rel=0, abs=5e-10 * scale + 1e-300), f.name
        else:
            assert after == before, f.name


def test_ten_significant_digits_remove_conversion_noise() -> None:
    # 4250 lb x 0.45359237 kg/lb in floating point
    spec = load_vehicle(MINIMAL).with_changes(test_mass=4250 * 0.45359237, battery_energy=3960000.0000000005)
    assert repr(spec.test_mass) == "1927.7675725000001"
    text = dump_vehicle(spec, significant_digits=10)
    assert "test_mass_kg = 1927.767573\n" in text and "energy_kwh = 1.1\n" in text
    assert "test_mass_kg = 1927.7675725000001\n" in dump_vehicle(spec)  # the default stays exact


def test_round_trip_of_awkward_floats() -> None:
    # 1.1 kWh in J and a setpoint that is not a short decimal in Celsius.
    spec = load_vehicle(MINIMAL).with_changes(battery_energy=3960000.0000000005, cabin_setpoint=294.15000000000003,
                                              motor_peak_power=123456.789)
    assert load_vehicle(dump_vehicle(spec)) == spec


def test_dump_writes_short_numbers() -> None:
    text = dump_vehicle(load_vehicle(MINIMAL))
    assert "energy_kwh = 50.0\n" in text
    assert "setpoint_c = 21.0\n" in text
    assert "motor_peak_power_kw = 100.0\n" in text


# -- bad input ------------------------------------------------------------------

def _error(text: str) -> SpecificationError:
    with pytest.raises(SpecificationError) as info:
        load_vehicle(text)
    return info.value


def test_unknown_key_names_key_file_and_close_match(tmp_path: Path) -> None:
    path = tmp_path / "car.toml"
    path.write_text(MINIMAL.replace("test_mass_kg", "test_mas_kg"))
    with pytest.raises(SpecificationError) as info:
        load_vehicle(path)
    message = str(info.value)
    assert "mass.test_mas_kg" in message and str(path) in message and "did you mean 'test_mass_kg'" in message


def test_unknown_section_suggests_close_match() -> None:
    err = _error(_with("[batery]\nenergy_kwh = 3\n"))
    assert err.field == "batery" and "did you mean 'battery'" in str(err)


def test_negative_mass_names_toml_key_range_and_value() -> None:
    err = _error(MINIMAL.replace("test_mass_kg = 1500", "test_mass_kg = -1500"))
    assert err.field == "mass.test_mass_kg"
    assert "[300, 40000] kg" in err.expected
    assert err.received == -1500


def test_efficiency_above_one_is_refused() -> None:
    err = _error(_with("[charger]\nefficiency = 1.05\n"))
    assert err.field == "charger.efficiency" and err.received == 1.05 and "[0.5, 1]" in err.expected


@pytest.mark.parametrize(("line", "expected"), [
    ("energy_kwh = 0", "[1, 1000] kWh"),
    ("energy_kwh = 0.01", "[1, 1000] kWh"),
    ("energy_kwh = 50\nnominal_voltage_v = 0", "[48, 1500] V"),
    ("energy_kwh = 50\nmax_discharge_power_kw = 0", "[1, 2000] kW"),
])
def test_a_battery_that_cannot_work_is_refused_in_the_files_unit(line: str, expected: str) -> None:
    err = _error(MINIMAL.replace("energy_kwh = 50", line))
    assert err.field.startswith("battery.") and expected in err.expected


def test_a_thermal_time_constant_below_ten_seconds_is_refused() -> None:
    err = _error(_with("[cabin]\nheat_capacity_j_per_k = 5000\nconductance_w_per_k = 900\n"))
    assert err.field == "cabin.conductance_w_per_k" and "at most 500 W K-1" in err.expected


def test_an_explicit_zero_is_not_taken_for_unset() -> None:
    # regen_max_power_kw = 0 switches regeneration off; it used to fall back to the 60 kW default.
    spec = load_vehicle(MINIMAL.replace("motor_peak_power_kw = 100", "motor_peak_power_kw = 100\nregen_max_power_kw = 0"))
    assert spec.effective_regen_max_power == 0.0
    assert load_vehicle(MINIMAL).effective_regen_max_power == 60e3


def test_range_is_reported_in_the_keys_unit() -> None:
    err = _error(MINIMAL.replace("motor_peak_power_kw = 100", "motor_peak_power_kw = 5000"))
    assert err.field == "drivetrain.motor_peak_power_kw" and "[1, 1000] kW" in err.expected


@pytest.mark.parametrize("value", ["nan", "inf", '"heavy"', "true", "[1500]"])
def test_nan_and_wrong_types_are_refused(value: str) -> None:
    err = _error(MINIMAL.replace("test_mass_kg = 1500", f"test_mass_kg = {value}"))
    assert err.field == "mass.test_mass_kg"


def test_nan_is_reported_as_nan() -> None:
    err = _error(MINIMAL.replace("test_mass_kg = 1500", "test_mass_kg = nan"))
    assert isinstance(err.received, float) and math.isnan(err.received)


def test_wrong_choice_lists_the_choices() -> None:
    err = _error(_with("[cabin]\nheating = \"heatpump\"\n"))
    assert err.field == "cabin.heating" and "heat_pump" in err.expected


def test_unknown_chemistry_is_named_by_its_toml_key() -> None:
    err = _error(MINIMAL.replace("energy_kwh = 50", "energy_kwh = 50\nchemistry = \"nca\""))
    assert err.field == "battery.chemistry"


def test_incomplete_road_load_names_both_forms() -> None:
    err = _error(MINIMAL.replace("frontal_area_m2 = 2.2\n", ""))
    assert err.field == "road_load" and "frontal_area_m2" in err.expected and "coastdown_a_n" in err.expected


def test_si_and_epa_coastdown_for_the_same_coefficient_is_refused() -> None:
    err = _error(MINIMAL.replace(
        "drag_coefficient = 0.3", "drag_coefficient = 0.3\ncoastdown_a_n = 100\ncoastdown_a_lbf = 20"))
    assert "coastdown_a" in err.field and "only one of" in err.expected


def test_missing_required_key_is_named() -> None:
    err = _error(MINIMAL.replace("energy_kwh = 50", ""))
    assert err.field == "battery.energy_kwh" and err.received is None


def test_regen_fade_order_is_checked() -> None:
    err = _error(MINIMAL.replace(
        "motor_peak_power_kw = 100", "motor_peak_power_kw = 100\nregen_fade_speed_low_mps = 5\nregen_fade_speed_high_mps = 3"))
    assert err.field == "drivetrain.regen_fade_speed_high_mps"


def test_malformed_toml_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n[mass\ntest_mass_kg = 1\n')
    with pytest.raises(SpecificationError) as info:
        load_vehicle(path)
    assert info.value.field == "line 2" and info.value.received == "[mass" and str(path) in str(info.value)


def test_unknown_sources_key_suggests_close_match() -> None:
    err = _error(_with('[sources]\n"road_load.drag_coeficient" = "x"\n'))
    assert "did you mean 'road_load.drag_coefficient'" in str(err)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_vehicle(tmp_path / "absent.toml")


# -- the documentation ------------------------------------------------------------

DOC = Path(__file__).parents[2] / "docs" / "vehicle-spec.md"


def test_documented_example_loads() -> None:
    text = DOC.read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    spec = load_vehicle(example)
    assert spec.name == "nissan_leaf_40kwh_2018" and spec.copper_loss == 0.04


def test_every_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [k.dotted for k in TOML_KEYS if f"`{k.key}`" not in text]
    assert not missing


def test_documented_ranges_are_the_validated_ones() -> None:
    from twinloop.parameters.toml_io import _range_text

    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 7 and cells[2].startswith("`"):
            rows[(cells[1], cells[2].strip("`"))] = cells[6]
    for key in TOML_KEYS:
        if key.kind != "number":
            continue
        section = f"[{'.'.join(key.section)}]" if key.section else "(top level)"
        validated = _range_text(key).split("]")[0] + "]"  # the table gives the unit in its own column
        assert rows[(section, key.key)] == validated, key.dotted


def test_a_folder_is_a_specification_error(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError, match=r"file in .*: expected a vehicle TOML file, received 'a folder'"):
        load_vehicle(tmp_path)


# -- hostile-user review -----------------------------------------------------------------

def test_a_byte_order_mark_as_windows_notepad_writes_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text(MINIMAL, encoding="utf-8-sig")
    assert load_vehicle(path) == load_vehicle(MINIMAL).with_changes(name="minimal")
    assert load_vehicle("\ufeff" + MINIMAL).test_mass == 1500.0


@pytest.mark.parametrize(("data", "received", "hint"), [
    (MINIMAL.encode("utf-16"), "UTF-16 text", "Save it as UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff", "binary data (byte 0 is 0x89)", None),
    ('name = "Citro\xebn"\n'.encode("latin-1"), "text that is not UTF-8 (byte 13 is 0xeb)", "Save it as UTF-8"),
])
def test_a_file_that_is_not_utf8_says_what_it_is(tmp_path: Path, data: bytes, received: str, hint: str | None) -> None:
    path = tmp_path / "odd.toml"
    path.write_bytes(data)
    with pytest.raises(SpecificationError) as info:
        load_vehicle(path)
    assert info.value.field == "file" and info.value.received == received and info.value.hint == hint


@pytest.mark.parametrize("text", ["", "  \n\n# nothing yet\n"])
def test_an_empty_file_is_called_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.toml"
    path.write_text(text)
    with pytest.raises(SpecificationError) as info:
        load_vehicle(path)
    assert str(info.value) == (
        f"file in {path}: expected a vehicle TOML file, received 'an empty file'. "
        "Start from one of the library: twinloop vehicle show nissan_leaf_40kwh_2018 > my_car.toml"
    )


def test_a_key_in_the_wrong_section_names_its_section() -> None:
    err = _error(MINIMAL.replace("test_mass_kg = 1500", "test_mass_kg = 1500\nenergy_kwh = 40"))
    assert err.field == "mass.energy_kwh" and err.hint == "energy_kwh is a key of [battery]"
    err = _error(MINIMAL.replace("[battery]\n", "[battery]\ntest_mas_kg = 1\n"))
    assert err.hint == "did you mean 'test_mass_kg' of [mass]?"


@pytest.mark.parametrize(("line", "field", "suggestion"), [
    ('[drivetrain]\ndrive = "fwd"', "drivetrain.drive", "did you mean 'FWD'?"),
    ('[drivetrain]\ndrive = "RWDD"', "drivetrain.drive", "did you mean 'RWD'?"),
    ('[drivetrain]\ndrive = "4WD"', "drivetrain.drive", "did you mean 'AWD'?"),
    ('[cabin]\nheating = "heat pump"', "cabin.heating", "did you mean 'heat_pump'?"),
])
def test_a_wrong_choice_suggests_the_close_one(line: str, field: str, suggestion: str) -> None:
    section, key_value = line.split("\n")
    text = MINIMAL.replace(f"{section}\n", f"{section}\n{key_value}\n") if section in MINIMAL else _with(line)
    err = _error(text)
    assert err.field == field and err.hint == suggestion


@pytest.mark.parametrize(("drop", "add", "received", "hint"), [
    ("frontal_area_m2 = 2.2\n", "", "drag_coefficient and rolling_resistance_coefficient",
     "frontal_area_m2 is missing from the physical form"),
    ("drag_coefficient = 0.3\nfrontal_area_m2 = 2.2\nrolling_resistance_coefficient = 0.009\n",
     "coastdown_a_n = 100\ncoastdown_b_n_per_mps = 1\n", "coastdown_a_n and coastdown_b_n_per_mps",
     "coastdown_c_n_per_mps2 is missing from the coast-down form"),
    ("drag_coefficient = 0.3\nfrontal_area_m2 = 2.2\nrolling_resistance_coefficient = 0.009\n",
     "", "no road-load key", None),
    # a stray coast-down key next to a complete physical form used to win, with B = C = 0: no air drag
    ("rolling_resistance_coefficient = 0.009\n", "rolling_resistance_coefficient = 0.009\ncoastdown_a_n = 150\n",
     "drag_coefficient, frontal_area_m2, rolling_resistance_coefficient and coastdown_a_n",
     "coastdown_b_n_per_mps and coastdown_c_n_per_mps2 are missing from the coast-down form"),
])
def test_an_incomplete_road_load_names_what_is_missing(drop: str, add: str, received: str, hint: str | None) -> None:
    err = _error(MINIMAL.replace(drop, add))
    assert err.field == "road_load" and err.received == received and err.hint == hint


def test_a_setpoint_in_kelvin_is_recognised() -> None:
    err = _error(_with("[cabin]\nsetpoint_c = 294.15\n"))
    assert err.field == "cabin.setpoint_c" and err.hint == "294.15 looks like kelvin: give 21 (°C)"


@pytest.mark.parametrize("name", ['""', '"   "'])
def test_a_blank_name_is_refused(name: str) -> None:
    err = _error(MINIMAL.replace('name = "minimal"', f"name = {name}"))
    assert err.field == "name" and err.expected == "a vehicle name (not blank)"


def test_a_vehicle_spec_with_a_form_in_part_is_refused() -> None:
    base = load_vehicle(MINIMAL)
    with pytest.raises(SpecificationError) as info:
        base.with_changes(coastdown_a=150.0)
    assert info.value.field == "road_load" and info.value.received == (
        "drag_coefficient, frontal_area, rolling_resistance_coefficient and coastdown_a")
    assert info.value.hint == "coastdown_b and coastdown_c are missing from the coast-down form"
    both = base.with_changes(coastdown_a=150.0, coastdown_b=1.0, coastdown_c=0.4)  # both complete: coast-down used
    assert both.effective_coastdown == (150.0, 1.0, 0.4)


def test_dump_of_something_that_is_not_a_spec_is_refused() -> None:
    with pytest.raises(SpecificationError, match=r"spec: expected a VehicleSpec, received 'nissan'. resolve_vehicle"):
        dump_vehicle("nissan")  # type: ignore[arg-type]


def test_dump_with_significant_digits_as_text_is_refused() -> None:
    spec = resolve_vehicle("nissan_leaf_40kwh_2018")
    with pytest.raises(SpecificationError, match=r"significant_digits: expected an integer in \[1, 17\], received '10'"):
        dump_vehicle(spec, significant_digits="10")  # type: ignore[arg-type]
