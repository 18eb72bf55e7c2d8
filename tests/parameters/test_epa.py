"""The EPA 2022 test car list: SI columns, the kWh/100 mi quirk, specs and the fleet.

Hand-checked values come from rows of the bundled CSV
(src/twinloop/parameters/data/22-tstcar-electric.csv).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from twinloop.errors import DataError, UnknownNameError
from twinloop.parameters.epa import (
    GENERIC_CONSTANTS,
    epa_fleet,
    epa_vehicle_spec,
    library_name,
    read_epa_tests,
    spec_from_epa_row,
    unit_fix_count,
)

LBF = 4.4482216152605
MPH = 0.44704


@pytest.fixture(scope="module")
def tests() -> pd.DataFrame:
    return read_epa_tests()


def test_every_row_is_read(tests: pd.DataFrame) -> None:
    assert len(tests) == 238
    assert set(tests.test_procedure) == {"udds", "hwfet", "ftp_cold", "ftp", "hwfe", "sc03"}
    assert (tests.test_procedure == "udds").sum() == 103
    assert set(tests.drive) == {"FWD", "RWD", "AWD"}


def test_bmw_i4_row_is_converted_by_hand(tests: pd.DataFrame) -> None:
    # Row 1: BMW i4 eDrive 40 (18" wheels), Charge Depleting UDDS, ETW 5000 lb,
    # target A 33.900 lbf, B 0.0340 lbf/mph, C 0.01668 lbf/mph², 335 hp, 156.3 MPGe.
    row = tests.iloc[1]
    assert row.make == "BMW" and row.test_vehicle_id == "FK96502" and row.configuration == 0
    assert row.test_procedure == "udds" and row.drive == "RWD"
    assert row.test_mass == pytest.approx(5000 * 0.45359237)  # 2267.96 kg
    assert row.coastdown_a == pytest.approx(33.9 * LBF)  # 150.79 N
    assert row.coastdown_b == pytest.approx(0.034 * LBF / MPH)  # 0.3383 N s/m
    assert row.coastdown_c == pytest.approx(0.01668 * LBF / MPH**2)  # 0.3713 N s²/m²
    assert row.rated_power == pytest.approx(335 * 745.7)  # 249.8 kW
    assert row.wh_per_mile == pytest.approx(33705 / 156.3)  # 215.64 Wh/mi
    assert not row.unit_fixed


def test_kwh_per_100mi_quirk_rows_are_counted_and_converted(tests: pd.DataFrame) -> None:
    assert unit_fix_count(tests) == 43
    assert tests.attrs["unit_fixed_count"] == 43
    # Hyundai Ioniq 5 (row 54): "18.3" MPG is 18.3 kWh/100 mi = 183 Wh/mi.
    row = tests.iloc[54]
    assert row.make == "Hyundai" and row.fe_reported == 18.3 and row.unit_fixed
    assert row.wh_per_mile == pytest.approx(183.0)
    # Every Tesla cold FTP is such a row; no genuine MPGe is below 60.
    cold = tests[tests.test_procedure == "ftp_cold"]
    assert cold.unit_fixed.all()
    assert tests.loc[~tests.unit_fixed, "fe_reported"].min() == 82.3


def test_plausible_energy_after_repair(tests: pd.DataFrame) -> None:
    measured = tests.wh_per_mile.dropna()
    assert measured.between(150, 500).all()


def test_makes_are_cleaned(tests: pd.DataFrame) -> None:
    lucid = tests[tests.model.str.startswith("Lucid")]
    assert set(lucid.make) == {"Lucid"} and set(lucid.make_reported) == {"2022"}
    assert set(tests[tests.make_reported == "Polestar2 Dual Motor"].make) == {"Polestar"}
    assert "AUDI" not in set(tests.make) and "Audi" in set(tests.make)


def test_suspects_are_flagged(tests: pd.DataFrame) -> None:
    eqs = tests[(tests.model == "EQS 450+") & (tests.test_procedure == "hwfet")].iloc[0]
    assert eqs.suspect and "typo" in eqs.note
    kona = tests[tests.model == "Kona Electric"]
    assert kona.suspect.all()
    bolt = tests[tests.test_vehicle_id == "1NFV5831"]
    assert bolt.suspect.all() and "label" in bolt.note.iloc[0]


def test_fleet_has_one_row_per_configuration_with_both_cycles() -> None:
    fleet = epa_fleet()
    assert len(fleet) == 97
    both = (fleet.n_udds > 0) & (fleet.n_hwfet > 0)
    assert both.sum() == 97
    assert (fleet.n_ftp_cold > 0).sum() == 8
    assert fleet.name.is_unique and fleet.name.str.startswith("epa2022:").all()


def test_fleet_averages_repeated_tests() -> None:
    fleet = epa_fleet()
    euv = fleet[fleet.name == "epa2022:chevrolet_bolt_euv_1ny71250_c1"].iloc[0]
    # Two UDDS tests of configuration 1: 175.4 and 172.9 MPGe.
    assert euv.n_udds == 2
    assert euv.udds_wh_per_mile == pytest.approx((33705 / 175.4 + 33705 / 172.9) / 2)


def test_library_name_is_a_slug() -> None:
    assert library_name("Tesla", "Model 3 RWD", "3R022-043763", 0) == "epa2022:tesla_model_3_rwd_3r022_043763_c0"


def test_spec_from_epa_uses_test_weight_target_coefficients_and_rated_power() -> None:
    spec = epa_vehicle_spec("tesla", "model 3 rwd")
    # Tesla Model 3 RWD: ETW 4250 lb, A 37.17 lbf, B 0.047 lbf/mph, C 0.0144 lbf/mph², 257 hp.
    assert spec.test_mass == pytest.approx(4250 * 0.45359237)
    assert spec.coastdown_a == pytest.approx(37.17 * LBF)
    assert spec.coastdown_b == pytest.approx(0.047 * LBF / MPH)
    assert spec.coastdown_c == pytest.approx(0.0144 * LBF / MPH**2)
    assert spec.motor_peak_power == pytest.approx(257 * 745.7)
    assert spec.drive == "RWD" and spec.rotating_mass_factor > 0
    assert spec.road_load_form == "coastdown"
    assert "Equivalent Test Weight 4250 lb" in spec.sources["mass.test_mass_kg"]
    assert spec.sources["battery.energy_kwh"].startswith("estimate")


def test_four_wheel_drive_codes_map_to_awd() -> None:
    assert epa_vehicle_spec("tesla", "model s long range").drive == "AWD"  # code "4"
    assert epa_vehicle_spec("rivian", "r1t").drive == "AWD"  # "Part-time 4-Wheel Drive"


def test_implausible_rated_power_is_floored_and_said_so() -> None:
    spec = epa_vehicle_spec("hyundai", "kona")
    assert spec.motor_peak_power == pytest.approx(60.0 * spec.test_mass)
    assert "implausible" in spec.sources["drivetrain.motor_peak_power_kw"]


def test_gear_and_radius_taken_only_when_plausible() -> None:
    leaf = epa_vehicle_spec("nissan", "leaf", test_vehicle_id="KWB115", configuration=0)
    assert leaf.gear_ratio == 8.19 and leaf.wheel_radius == pytest.approx(8.19 * MPH * 60 / (2 * 3.141592653589793 * 112.5))
    tesla = epa_vehicle_spec("tesla", "model 3 long range")  # axle ratio placeholder 1.00, N/V 115 rpm/mph
    assert tesla.wheel_radius == 0.34 and "drivetrain.wheel_radius_m" not in tesla.sources
    # motor speed per road speed still follows N/V: omega / v = gear / r = 2 pi N/V / (60 * 0.44704)
    assert tesla.gear_ratio / tesla.wheel_radius == pytest.approx(2 * 3.141592653589793 * 115 / (60 * MPH), rel=1e-9)
    assert "N/V Ratio" in tesla.sources["drivetrain.gear_ratio"]
    row = read_epa_tests().iloc[0].copy()
    row["axle_ratio"], row["nv_ratio"] = 1.0, 999.9  # both placeholders
    spec = spec_from_epa_row(row)
    assert spec.gear_ratio == 9.0 and "drivetrain.gear_ratio" not in spec.sources


def test_generic_constants_and_two_speed_drag() -> None:
    taycan = epa_vehicle_spec("porsche", "taycan 4s")  # two-speed transmission
    leaf = epa_vehicle_spec("nissan", "leaf")
    assert leaf.constant_loss == GENERIC_CONSTANTS["constant_loss"]
    assert leaf.motor_rated_power == pytest.approx(60.0 * leaf.test_mass)
    assert taycan.auxiliary_power == pytest.approx(leaf.auxiliary_power + GENERIC_CONSTANTS["multi_speed_drag"])


def test_match_is_case_insensitive_and_deterministic() -> None:
    a = epa_vehicle_spec("NISSAN", "LEAF")
    b = epa_vehicle_spec("nissan", "leaf")
    assert a == b and a.name == "epa2022:nissan_leaf_kwb115_c0"
    assert "Chosen among 6" in a.description


def test_test_vehicle_id_and_configuration_select() -> None:
    spec = epa_vehicle_spec("bmw", "i4", test_vehicle_id="fk96502", configuration=2)
    assert spec.name == "epa2022:bmw_i4_edrive_40_gran_coupe_19_wheels_fk96502_c2"
    assert spec.coastdown_a == pytest.approx(42.2 * LBF)


def test_no_match_lists_close_matches() -> None:
    with pytest.raises(UnknownNameError) as info:
        epa_vehicle_spec("tesla", "modle 3")
    assert "Tesla Model 3" in str(info.value)


def test_custom_csv_path(tmp_path: Path) -> None:
    tests = read_epa_tests()
    source = Path(tests.attrs["source"])
    subset = pd.read_csv(source).iloc[96:100]
    path = tmp_path / "leaf.csv"
    subset.to_csv(path, index=False)
    mine = read_epa_tests(path)
    assert len(mine) == 4 and set(mine.model) == {"LEAF"}
    assert len(epa_fleet(mine)) == 2


def test_not_an_epa_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="missing columns"):
        read_epa_tests(path)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty, not an EPA test car list"),
    (b"\x00\xff\xfe\x89", r"cannot read as CSV \(not UTF-8 text\)"),
])
def test_an_empty_or_binary_file_is_a_data_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_epa_tests(path)


# -- hostile-user review -------------------------------------------------------------------

@pytest.mark.parametrize(("make", "model", "field"), [("", "model 3", "make"), ("tesla", "  ", "model")])
def test_a_blank_make_or_model_is_refused_not_matched_to_everything(make: str, model: str, field: str) -> None:
    from twinloop.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        epa_vehicle_spec(make, model)
    assert info.value.field == field and info.value.received == (make if field == "make" else model)


@pytest.mark.parametrize(("make", "says"), [
    ("toyota", "unknown EPA 2022 make 'toyota'. The EPA 2022 list holds battery-electric test vehicles only; "
               "its makes: Audi, BMW, Chevrolet,"),
    ("mercedes benz", "unknown EPA 2022 make 'mercedes benz'; did you mean 'Mercedes-Benz'?"),
])
def test_a_make_without_an_ev_in_the_list_is_named_as_the_make(make: str, says: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        epa_vehicle_spec(make, "camry")
    assert str(info.value).startswith(says)


def test_a_bad_value_in_a_users_csv_names_the_column_and_the_test_vehicle(tmp_path: Path) -> None:
    source = Path(read_epa_tests().attrs["source"])
    rows = pd.read_csv(source, dtype=str).iloc[96:100]
    rows["Equivalent Test Weight (lbs.)"] = "-4000"
    path = tmp_path / "leaf.csv"
    rows.to_csv(path, index=False)
    from twinloop.errors import SpecificationError

    with pytest.raises(SpecificationError) as info:
        epa_vehicle_spec("nissan", "leaf", read_epa_tests(path))
    assert str(info.value).startswith(
        f"Equivalent Test Weight (lbs.) in {path}, test vehicle KWB115, configuration 0: expected a number in "
        "[300, 40000] kg (as twinloop's test_mass), received '-4000 lb'")
