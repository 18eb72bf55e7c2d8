"""``twinloop profile metrics``: the figures of a bundled cycle and of a user's trace, help, user errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from cli_checks import user_error
from click.testing import CliRunner, Result

from twinloop.apps import METRIC_NAMES, cycle_metrics
from twinloop.cli import main
from twinloop.conventions import STANDARD_GRAVITY
from twinloop.cycles import load_cycle


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()




def _json(result: Result) -> dict:
    assert result.exit_code == 0, result.output
    data: dict = json.loads(result.stdout)
    return data


def test_udds_as_json_has_exactly_the_metric_names(runner: CliRunner) -> None:
    data = _json(runner.invoke(main, ["profile", "metrics", "--cycle", "udds", "--format", "json"]))
    assert tuple(data) == METRIC_NAMES
    assert data == cycle_metrics(load_cycle("udds")).to_dict()  # JSON keeps every digit of a float
    assert round(data["distance_m"] / 1000, 2) == 11.99  # EPA: 7.45 miles
    assert round(data["average_speed_mps"] * 3.6, 1) == 31.5  # EPA: 19.59 mph


def test_udds_as_a_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["profile", "metrics", "-c", "udds"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "udds: 11.99 km in 1369 s"
    assert any(line.split()[:3] == ["average", "speed", "31.5"] for line in lines)
    assert any(line.startswith("  kinetic intensity") and line.endswith("1/km") for line in lines)
    assert "  time share by speed [%]:" in lines and "  time share by acceleration [%]:" in lines


def test_a_trace_csv_with_a_hill(runner: CliRunner, tmp_path: Path) -> None:
    # 200 s at 36 km/h up a 5 % grade: 2000 m, a rise of 2000 sin(atan 0.05) m
    t = np.arange(0.0, 201.0)
    sine = math.sin(math.atan(0.05))
    graded = tmp_path / "graded.csv"
    graded.write_text("time_s,speed_kph,grade_pct\n" + "".join(f"{x:g},36,5\n" for x in t))
    data = _json(runner.invoke(main, ["profile", "metrics", "--cycle", str(graded), "--format", "json"]))
    assert data["distance_m"] == pytest.approx(2000.0)
    assert data["characteristic_acceleration_mps2"] == pytest.approx(STANDARD_GRAVITY * sine, rel=1e-9)
    assert data["aerodynamic_speed_mps"] == pytest.approx(10.0)
    # the same road as a GPS log: the grade is fitted to the elevation over 100 m, then integrated back
    logged = tmp_path / "logged.csv"
    logged.write_text("time_s,speed_mps,elevation_m\n" + "".join(f"{x:g},10,{300 + 10 * x * sine:.6f}\n" for x in t))
    data = _json(runner.invoke(main, ["profile", "metrics", "--cycle", str(logged), "--format", "json"]))
    assert data["characteristic_acceleration_mps2"] == pytest.approx(STANDARD_GRAVITY * sine, rel=1e-6)


def test_a_trace_that_never_moves_shows_n_a(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "parked.csv"
    trace.write_text("time_s,speed_mps\n0,0\n60,0\n")
    data = _json(runner.invoke(main, ["profile", "metrics", "--cycle", str(trace), "--format", "json"]))
    assert data["kinetic_intensity_per_km"] is None and data["idle_fraction"] == 1.0
    table = runner.invoke(main, ["profile", "metrics", "--cycle", str(trace)])
    assert table.exit_code == 0 and "n/a" in table.stdout


def test_an_unknown_cycle_is_one_line_with_the_closest_name(runner: CliRunner) -> None:
    user_error(runner.invoke(main, ["profile", "metrics", "--cycle", "udd"]), "unknown cycle 'udd'", "'udds'")


def test_a_malformed_trace_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "back.csv"
    trace.write_text("time_s,speed_mps\n0,0\n2,1\n1,2\n")
    user_error(runner.invoke(main, ["profile", "metrics", "--cycle", str(trace)]), "back.csv")


def test_a_missing_option_or_format_is_a_usage_error(runner: CliRunner) -> None:
    user_error(runner.invoke(main, ["profile", "metrics"]), "--cycle")
    user_error(runner.invoke(main, ["profile", "metrics", "-c", "udds", "--format", "csv"]), "--format")


def test_help_gives_examples(runner: CliRunner) -> None:
    result = runner.invoke(main, ["profile", "metrics", "--help"])
    assert result.exit_code == 0
    assert "twinloop profile metrics --cycle udds" in result.stdout
    assert "profile" in runner.invoke(main, ["--help"]).stdout


# -- the profile database: build, drivers, roads, clusters, assign ------------------------------------

@pytest.fixture(scope="module")
def fleet_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB store with 10 simulated trips: 6 of a vehicle with positions, 4 of one without."""
    from dataclasses import replace as with_fields

    from telemetry_drives import LEAF, VIN, drive, write

    from twinloop.signals.vss import SPEED
    from twinloop.store import DuckDBStore

    path = tmp_path_factory.mktemp("fleet") / "fleet.duckdb"
    drives = drive(LEAF, 10, seed=11, grade=False)
    placed = []
    for d in drives[:6]:
        v = d.series[SPEED]
        north = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(d.time))])
        placed.append(with_fields(d, series={**d.series, "Vehicle.CurrentLocation.Latitude": 48.1 + north / 111_195.08,
                                             "Vehicle.CurrentLocation.Longitude": np.full(d.time.size, 11.5)}))
    with DuckDBStore(path) as s:
        write(s, placed, vin=VIN)
        write(s, drives[6:], vin="WBA00000000000001")
    return path


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_database_commands_before_and_after_a_build(runner: CliRunner, fleet_store: Path, tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "copy.duckdb"
    shutil.copy(fleet_store, path)
    store = ["--store", str(path)]
    assert "no driver profiles" in _ok(runner.invoke(main, ["profile", "drivers", *store]))
    assert "no driving styles yet" in _ok(runner.invoke(main, ["profile", "clusters", *store]))
    assert "no road stretches" in _ok(runner.invoke(main, ["profile", "roads", *store]))

    out = _ok(runner.invoke(main, ["profile", "build", *store])).splitlines()
    assert out[0] == "profiled 6 trips of 5YJ3E1EA7KF000001, skipped 0"
    assert out[1] == "profiled 4 trips of WBA00000000000001, skipped 0"
    assert out[2] == "styles fitted: 10 trips labelled" and out[3] == "driver profiles: 2"

    table = _ok(runner.invoke(main, ["profile", "drivers", *store])).splitlines()
    assert table[0].split()[:4] == ["driver", "trips", "days", "km"] and len(table) == 3
    doc = json.loads(_ok(runner.invoke(main, ["profile", "drivers", "5YJ3E1EA7KF000001", "--format", "json", *store])))
    assert [d["driver"] for d in doc] == ["5YJ3E1EA7KF000001"]
    assert doc[0]["trips"] == 6 and doc[0]["vins"] == ["5YJ3E1EA7KF000001"]
    assert set(doc[0]["speed_distribution"]) >= {"stopped"} and sum(doc[0]["style_shares"].values()) == pytest.approx(1)
    csv = _ok(runner.invoke(main, ["profile", "drivers", "--format", "csv", *store])).splitlines()
    assert csv[0].startswith("driver,vins,trips,days,distance_m") and len(csv) == 3

    roads = json.loads(_ok(runner.invoke(main, ["profile", "roads", "--top", "3", "--format", "json", *store])))
    assert len(roads) == 3 and roads[0]["heading"] == "N" and roads[0]["passes"] >= roads[2]["passes"]
    assert roads[0]["energy_per_distance"] is not None
    table = _ok(runner.invoke(main, ["profile", "roads", "5YJ3E1EA7KF000001", "--top", "2", *store])).splitlines()
    assert "wh_per_km" in table[0] and len(table) == 3
    none = _ok(runner.invoke(main, ["profile", "roads", "WBA00000000000001", *store]))
    assert none.startswith("no road stretches of WBA00000000000001") and "Latitude/Longitude" in none

    clusters = _ok(runner.invoke(main, ["profile", "clusters", *store])).splitlines()
    assert [line.split()[0] for line in clusters[1:]] == ["calm", "moderate", "dynamic"]
    doc = json.loads(_ok(runner.invoke(main, ["profile", "clusters", "--format", "json", *store])))
    assert sum(c["trips"] for c in doc) == 10
    trips = json.loads(_ok(runner.invoke(main, ["profile", "trips", "--format", "json", *store])))
    assert {t["style"] for t in trips} <= {"calm", "moderate", "dynamic"}

    assert _ok(runner.invoke(main, ["profile", "assign", "5YJ3E1EA7KF000001", "alice", "--trip", "1", *store])) \
        == "assigned 1 trip of 5YJ3E1EA7KF000001 to alice\n"
    drivers = json.loads(_ok(runner.invoke(main, ["profile", "drivers", "--format", "json", *store])))
    assert {d["driver"]: d["trips"] for d in drivers} == {"5YJ3E1EA7KF000001": 5, "alice": 1, "WBA00000000000001": 4}
    again = _ok(runner.invoke(main, ["profile", "build", *store])).splitlines()
    assert again[0].endswith("6 already profiled, unchanged") and again[-1] == "driver profiles: 3"


def test_database_commands_refuse_unknown_vehicles_and_bad_options(runner: CliRunner, fleet_store: Path) -> None:
    store = ["--store", str(fleet_store)]
    user_error(runner.invoke(main, ["profile", "drivers", "5YJ3E1EA7KF000002", *store]), "did you mean",
                "5YJ3E1EA7KF000001")
    user_error(runner.invoke(main, ["profile", "roads", "5YJ3E1EA7KF000002", *store]), "did you mean")
    user_error(runner.invoke(main, ["profile", "build", "5YJ3E1EA7KF000002", *store]), "did you mean")
    user_error(runner.invoke(main, ["profile", "roads", "--top", "0", *store]), "--top")
    user_error(runner.invoke(main, ["profile", "clusters", "--format", "xml", *store]), "--format")
    user_error(runner.invoke(main, ["profile", "assign", "5YJ3E1EA7KF000001", "bob", "--trip", "99", *store]),
                "trips", "profiled trips")


def test_database_help_gives_examples(runner: CliRunner) -> None:
    for command, example in (("drivers", "twinloop profile drivers"), ("roads", "twinloop profile roads 5YJ3E1EA7KF000001 --top 5"),
                             ("clusters", "twinloop profile clusters"), ("build", "twinloop profile build"),
                             ("assign", "twinloop profile assign")):
        assert example in _ok(runner.invoke(main, ["profile", command, "--help"]))
