"""``twinloop range``: a forecast from the store as a table and as JSON, help, user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_checks import user_error
from click.testing import CliRunner
from telemetry_drives import LEAF, VIN, drive, write

from twinloop.cli import main
from twinloop.store import open_store
from twinloop.twin.lifecycle import calibrate_from_store, create_twin


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("range") / "fleet.duckdb"
    with open_store(str(path)) as store:
        twin = create_twin(store, VIN, LEAF)
        write(store, drive(LEAF, 12, seed=5))
        calibrate_from_store(twin)
    return str(path)




def test_json_has_the_issue_keys_with_median_and_percentiles(store_file: str) -> None:
    r = CliRunner().invoke(main, ["range", VIN, "--trip", "udds", "--soc-start", "0.8", "--ambient-c", "20",
                                  "--store", store_file, "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    for key in ("battery_energy_kwh", "soc_end"):
        assert set(doc[key]) == {"median", "p10", "p90"}
        assert doc[key]["p10"] <= doc[key]["median"] <= doc[key]["p90"]
    assert doc["distance_km"] == pytest.approx(11.99, abs=0.01)
    assert doc["model_version"] == 2 and doc["calibrated"] is True and doc["interval"] == "conformal"
    assert doc["soc_start"] == 0.8 and doc["history_trips"] == 12


def test_a_route_as_a_table(store_file: str, tmp_path: Path) -> None:
    route = tmp_path / "route.csv"
    route.write_text("distance_m,speed_mps,elevation_m\n2000,8,100\n5000,25,130\n1500,10,120\n")
    r = CliRunner().invoke(main, ["range", VIN, "--route", str(route), "--store", store_file])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{VIN}: 8.5 km in") and "by route" in lines[0]
    assert any(line.lstrip().startswith("battery energy [kWh]") for line in lines)
    assert "interval from 12 of the twin's own trips" in r.stdout


def test_an_uncalibrated_twin_warns_and_says_calibrated_false(tmp_path: Path) -> None:
    path = str(tmp_path / "new.duckdb")
    with open_store(path) as store:
        create_twin(store, VIN, LEAF)
    r = CliRunner().invoke(main, ["range", VIN, "--trip", "hwfet", "--store", path, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["calibrated"] is False
    assert "warning: the twin of" in r.stderr and "twinloop twin calibrate" in r.stderr


@pytest.mark.parametrize(("args", "fragments"), [
    (["--trip", "udds", "--soc-start", "1.5"], ["--soc-start", "1.5"]),
    (["--trip", "udds", "--ambient-c", "80"], ["--ambient-c", "80"]),
    ([], ["--trip FILE", "--route FILE"]),
    (["--trip", "udds", "--route", "x.csv"], ["--route"]),
    (["--trip", "ud"], ["unknown cycle 'ud'"]),
])
def test_user_errors_are_one_line(store_file: str, args: list[str], fragments: list[str]) -> None:
    user_error(CliRunner().invoke(main, ["range", VIN, *args, "--store", store_file]), *fragments)


def test_an_unknown_vin_suggests_the_close_match(store_file: str) -> None:
    user_error(CliRunner().invoke(main, ["range", VIN[:-1] + "2", "--trip", "udds", "--store", store_file]),
                    VIN)


def test_a_route_with_a_gap_names_the_segment(store_file: str, tmp_path: Path) -> None:
    route = tmp_path / "gap.csv"
    route.write_text("distance_m,speed_mps,elevation_m\n2000,8,100\n5000,,130\n")
    user_error(CliRunner().invoke(main, ["range", VIN, "--route", str(route), "--store", store_file]),
                    "speed_mps", "segment 2")


def test_help_teaches_with_examples() -> None:
    r = CliRunner().invoke(main, ["range", "--help"])
    assert r.exit_code == 0
    assert "twinloop range 5YJ3E1EA7KF000001 --trip commute.csv" in r.stdout and "--route" in r.stdout


@pytest.mark.parametrize(("args", "hint"), [
    (["--soc-start", "80"], "for 80 % give 0.80"),
    (["--ambient-c", "293"], "looks like kelvin: give 19.9"),
])
def test_a_percent_or_a_kelvin_is_named_with_the_value_to_give(store_file: str, args: list[str], hint: str) -> None:
    user_error(CliRunner().invoke(main, ["range", VIN, "--trip", "udds", *args, "--store", store_file]), hint)


def test_a_drive_beyond_the_battery_says_where_it_runs_empty(store_file: str, tmp_path: Path) -> None:
    route = tmp_path / "far.csv"
    route.write_text("distance_m,speed_mps,elevation_m\n" + "".join("10000,25,100\n" for _ in range(40)))
    r = CliRunner().invoke(main, ["range", VIN, "--route", str(route), "--soc-start", "0.3", "--store", store_file])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.stdout.splitlines() if x.lstrip().startswith("state of charge end"))
    assert "empty before the end: after about" in line and "-1" not in line
    assert "runs empty" in r.stderr
