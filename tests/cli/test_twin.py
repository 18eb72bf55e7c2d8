"""The twin commands, through click's test runner on the real ``twinloop`` group."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from simulated_telemetry import telemetry_parquet

from twinloop.cli import main
from twinloop.cycles import load_cycle
from twinloop.parameters import resolve_vehicle
from twinloop.store import PostgresStore

LEAF = "nissan_leaf_40kwh_2018"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "cli.duckdb"))
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, ["twin", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_create_list_show_models_restore(cli):
    out = cli("create", "5YJ3E1EA7KF000001", "--vehicle", LEAF, "--name", "fleet car 7").output
    assert "created twin 5YJ3E1EA7KF000001 (fleet car 7): model v1, physics, champion" in out
    listing = cli("list").output
    assert "5YJ3E1EA7KF000001" in listing and "fleet car 7" in listing and "v1 physics" in listing
    show = cli("show", "5YJ3E1EA7KF000001").output
    assert "champion    v1 (physics, PhysicsConsumptionModel)" in show
    assert "state_of_charge      unknown" in show and "initial" in show
    # no telemetry yet: the health is unknown, with the reason, and the rest of the twin still shows
    show = cli("show", "5YJ3E1EA7KF000001", "--health").output
    assert "health      unknown: 5YJ3E1EA7KF000001 has no trips in the store" in show and "champion    v1" in show
    # restoring the serving champion adds no redundant version
    assert cli("restore", "5YJ3E1EA7KF000001", "1").output == "v1 is already the champion of 5YJ3E1EA7KF000001; nothing changed\n"
    doc = json.loads(cli("show", "5YJ3E1EA7KF000001", "--format", "json").output)
    assert doc["vin"] == "5YJ3E1EA7KF000001" and doc["vehicle"]["name"] == LEAF
    assert doc["champion"]["version"] == 1 and doc["champion"]["reason"] == "initial"
    assert [m["status"] for m in doc["models"]] == ["champion"]
    models = cli("models", "5YJ3E1EA7KF000001").output.splitlines()
    assert len(models) == 2 and "initial" in models[1]
    as_json = json.loads(cli("models", "5YJ3E1EA7KF000001", "--format", "json").output)
    assert [m["version"] for m in as_json] == [1]


def test_create_from_a_toml_file_keeps_the_vehicle(cli, tmp_path):
    from twinloop.parameters import dump_vehicle

    spec = resolve_vehicle(LEAF).with_changes(name="my leaf", test_mass=1800.0)
    path = tmp_path / "my_leaf.toml"
    path.write_text(dump_vehicle(spec))
    cli("create", "CAR7", "--vehicle", str(path))
    doc = json.loads(cli("show", "CAR7", "--format", "json").output)
    assert doc["name"] == "my leaf" and doc["vehicle"]["test_mass"] == 1800.0


def test_user_errors_are_one_line_with_suggestions(cli):
    cli("create", "5YJ3E1EA7KF000001", "--vehicle", LEAF)
    dup = cli("create", "5YJ3E1EA7KF000001", "--vehicle", LEAF, code=2)
    assert "error: vin" in dup.output and "A twin of 5YJ3E1EA7KF000001 exists" in dup.output
    assert "Traceback" not in dup.output
    unknown = cli("show", "5YJ3E1EA7KF000002", code=2)
    assert "unknown twin '5YJ3E1EA7KF000002'; did you mean '5YJ3E1EA7KF000001'?" in unknown.output
    assert "Known versions: 1" in cli("restore", "5YJ3E1EA7KF000001", "4", code=2).output
    bad_vehicle = cli("create", "X", "--vehicle", "nissan_leaf", code=2)
    assert "did you mean" in bad_vehicle.output
    assert cli("list").output.count("5YJ3E1EA7KF") == 1


def test_empty_store_lists_none(cli, tmp_path):
    from twinloop.store import open_store

    open_store(str(tmp_path / "cli.duckdb")).close()  # a store that exists but holds no twins
    assert cli("list").output.strip() == "(none)"


def test_read_only_commands_never_create_a_store(cli, tmp_path):
    # a mistyped --store path must not leave an empty store behind
    result = cli("list", code=2)
    assert "does not exist" in result.output and not (tmp_path / "cli.duckdb").exists()


def test_the_store_option_reaches_postgresql(cli, fresh_pg_url):
    try:
        cli("create", "PGCAR", "--vehicle", LEAF, "--store", fresh_pg_url)
        assert "PGCAR" in cli("list", "--store", fresh_pg_url).output
        cli("create", "DUCKCAR", "--vehicle", LEAF)  # the default store is another database
        assert "PGCAR" not in cli("list").output
    finally:
        pg = PostgresStore(fresh_pg_url)
        pg.drop_schema()
        pg.close()


@pytest.mark.parametrize(("version", "says"), [
    ("-1", "Invalid value for 'VERSION': expected a model version number >= 1 (`twinloop twin models VIN` lists them),"
           " received -1"),
    ("0", "version: expected a model version number >= 1 (those of CAR7: 1), received 0"),
    ("abc", "Invalid value for 'VERSION': 'abc' is not a valid integer"),
])
def test_restore_of_version_zero_negative_or_not_a_number_names_the_rule(cli, version, says):
    cli("create", "CAR7", "--vehicle", LEAF)
    out = cli("restore", "CAR7", version, code=2).output
    assert says in out and "Traceback" not in out and "No such option" not in out
    assert [m["version"] for m in json.loads(cli("models", "CAR7", "--format", "json").output)] == [1]


def test_create_with_a_bad_vin_or_name_leaves_no_new_store_behind(cli, tmp_path):
    store = tmp_path / "new.duckdb"
    for args in (["", "--vehicle", LEAF], [" CAR7", "--vehicle", LEAF], ["CAR7", "--vehicle", LEAF, "--name", ""],
                 ["CAR7", "--vehicle", LEAF, "--name", "n" * 201]):
        out = cli("create", *args, "--store", str(store), code=2).output
        assert out.startswith("error: ") and out.count("\n") == 1
        assert not store.exists()
    assert "without surrounding spaces, received ' CAR7'" in cli("create", " CAR7", "--vehicle", LEAF, code=2).output


def test_empty_store_option_is_refused_not_read_as_the_default_store(cli, tmp_path):
    out = cli("create", "CAR7", "--vehicle", LEAF, "--store", "", code=2).output
    assert out.startswith("error: store: expected a DuckDB file path or a store URL")
    assert not (tmp_path / "cli.duckdb").exists()  # $TWINLOOP_STORE, the default, is untouched
    for cmd in (["list"], ["show", "CAR7"], ["models", "CAR7"], ["restore", "CAR7", "1"], ["sync", "CAR7"],
                ["calibrate", "CAR7"], ["update", "CAR7"]):
        assert "error: store: expected" in cli(*cmd, "--store", "", code=2).output


def test_non_ascii_and_longest_vin_and_name_round_trip_through_the_store(cli):
    vin, name = "Wägen-ß-車" + "V" * 55, "Flottenwagen Nº7 – 車" + "n" * 180
    assert len(vin) == 64 and len(name) == 200
    cli("create", vin, "--vehicle", LEAF, "--name", name)
    doc = json.loads(cli("show", vin, "--format", "json").output)
    assert doc["vin"] == vin and doc["name"] == name
    assert f"did you mean '{vin}'?" in cli("show", vin.replace("ä", "a"), code=2).output


def test_help_names_the_postgresql_schema_and_what_restore_takes(cli):
    assert "?schema=name" in cli("list", "--help").output
    assert "twinloop twin models VIN" in cli("restore", "--help").output


def test_help_teaches_with_examples(cli):
    for cmd in (["create"], ["show"], ["list"], ["models"], ["restore"], ["sync"], ["calibrate"], ["update"], []):
        assert "Example" in cli(*cmd, "--help").output


# ---- from telemetry to twin ---------------------------------------------------------------
def telemetry_file(path, n, seed, start, payload=0.0, ambient=True):
    """A wide Parquet file in VSS units: `n` simulated Leaf trips over the bundled cycles, 3 h apart."""
    return telemetry_parquet(path, LEAF, n, seed, start, payload, ambient)


def test_ingest_calibrate_sync_and_update_end_to_end(cli, tmp_path):
    runner = CliRunner()

    def ingest(path):
        result = runner.invoke(main, ["ingest", str(path), "--vehicle", "CAR7"], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    cli("create", "CAR7", "--vehicle", LEAF)
    ingest(telemetry_file(tmp_path / "may.parquet", 12, seed=0, start="2024-05-01T06:00Z"))
    out = cli("calibrate", "CAR7").output
    assert out.startswith("calibrated CAR7 on 12 trips (2024-05-01T06:00:00+00:00 to 2024-05-02T15:30:00+00:00): v2 physics, champion, validation RMSE ")
    assert "skipped" not in out

    synced = cli("sync", "CAR7").output
    assert synced.startswith("synced CAR7 to 2024-05-02T") and "state_of_charge 0." in synced
    assert "state_of_health 1.0" in synced or "state_of_health 0.9" in synced  # tracked from the trips
    state = json.loads(cli("show", "CAR7", "--format", "json").output)["state"]
    assert 0 < state["state_of_charge"] < 1 and state["odometer"] > 100e3
    # one cycle per trip swings the state of charge < 0.1, but consecutive trips without a
    # charge between them add up: the pack's rated capacity comes back within 3 standard errors
    health = json.loads(cli("show", "CAR7", "--health", "--format", "json").output)["health"]
    assert health["stretches"] >= 1
    assert abs(health["capacity"] - health["rated_capacity"]) < 3 * health["capacity_standard_error"]
    assert state["state_of_health"] == pytest.approx(health["state_of_health"])

    # scoring trips the champion was fitted to is allowed, and said
    overlap = cli("update", "CAR7", "--since", "2024-05-01").output.splitlines()
    assert overlap[0].startswith("scored v2 on 12 trips: RMSE ")
    assert overlap[1].startswith("note: 12 of them lie in v2's training window (to 2024-05-02T15:30:00+00:00)")

    outside = cli("calibrate", "CAR7", "--since", "2030-01-01", code=2).output
    assert "CAR7 has no trips starting from 2030-01-01T00:00:00+00:00; its 12 stored trips start from 2024-05-01" in outside

    # a month later the car carries 300 kg more
    ingest(telemetry_file(tmp_path / "june.parquet", 12, seed=1, start="2024-06-01T06:00Z", payload=300.0))
    lines = cli("update", "CAR7").output.splitlines()
    assert lines[0].startswith("scored v2 on 12 new trips: RMSE ")
    assert lines[1].startswith("drift: detected at trip ") and "consumption above the model" in lines[1]
    assert lines[2].startswith("recalibrated: v3 (champion), validation RMSE ")
    assert lines[3] == "serving: v3 (physics)"
    models = json.loads(cli("models", "CAR7", "--format", "json").output)
    assert [(m["version"], m["status"], m["reason"]) for m in models] == [
        (1, "retired", "initial"), (2, "retired", "calibration"), (3, "champion", "drift"),
    ]
    assert cli("update", "CAR7").output.splitlines() == [
        "no new trips of CAR7 starting from 2024-06-02T15:30:00+00:00", "serving: v3 (physics)",
    ]

    # the drift turns out to be a one-off load: go back to the calibration of May
    assert cli("restore", "CAR7", "2").output == "restored v2 of CAR7 as v4 (champion)\n"
    models = json.loads(cli("models", "CAR7", "--format", "json").output)
    assert [(m["version"], m["status"], m["reason"]) for m in models][2:] == [
        (3, "retired", "drift"), (4, "champion", "restore of v2"),
    ]
    assert models[3]["parameters"] == models[1]["parameters"]
    # restoring it again (or the copy's source) adds nothing: the champion already serves that model
    assert cli("restore", "CAR7", "2").output == "v4, the champion of CAR7, already serves v2's model; nothing changed\n"
    assert len(json.loads(cli("models", "CAR7", "--format", "json").output)) == 4


def test_update_since_before_the_training_window_counts_only_the_trips_inside_it(cli, tmp_path):
    runner = CliRunner()
    cli("create", "CAR4", "--vehicle", LEAF)
    for name, seed, start in (("may.parquet", 0, "2024-05-01T06:00Z"), ("june.parquet", 1, "2024-06-01T06:00Z")):
        file = telemetry_file(tmp_path / name, 12, seed=seed, start=start)
        assert runner.invoke(main, ["ingest", str(file), "--vehicle", "CAR4"]).exit_code == 0
    cli("calibrate", "CAR4", "--since", "2024-06-01")  # v2 knows June only
    lines = cli("update", "CAR4", "--since", "2024-05-01").output.splitlines()
    assert lines[0].startswith("scored v2 on 24 trips: RMSE ")
    assert lines[1].startswith("note: 12 of them lie in v2's training window")


def test_update_reports_a_drift_it_cannot_act_on_yet(cli, tmp_path):
    runner = CliRunner()
    cli("create", "CAR6", "--vehicle", LEAF)
    for path, n, seed, start, payload in (("may.parquet", 12, 0, "2024-05-01T06:00Z", 0.0),
                                          ("june.parquet", 6, 1, "2024-06-01T06:00Z", 300.0)):
        if path == "june.parquet":
            cli("calibrate", "CAR6")
        file = telemetry_file(tmp_path / path, n, seed=seed, start=start, payload=payload)
        result = runner.invoke(main, ["ingest", str(file), "--vehicle", "CAR6"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    lines = cli("update", "CAR6").output.splitlines()
    assert lines[0].startswith("scored v2 on 6 new trips: RMSE ")
    assert lines[1].startswith("drift: detected at trip ")
    assert lines[2] == ("not recalibrated: recalibrating v2 of CAR6 needs at least 10 trips of new data, got 6;"
                        " the champion is kept")
    assert lines[3] == "serving: v2 (physics)"


def test_trips_without_ambient_temperature_calibrate_with_ambient_c(cli, tmp_path):
    cli("create", "CAR5", "--vehicle", LEAF)
    file = telemetry_file(tmp_path / "no_ambient.parquet", 12, seed=0, start="2024-05-01T06:00Z", ambient=False)
    result = CliRunner().invoke(main, ["ingest", str(file), "--vehicle", "CAR5"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    refused = cli("calibrate", "CAR5", code=2).output
    assert "(12 without Vehicle.Exterior.AirTemperature)" in refused and "--ambient-c" in refused
    assert cli("calibrate", "CAR5", "--ambient-c", "20").output.startswith("calibrated CAR5 on 12 trips")
    assert "Invalid value for '--ambient-c': nan is not a finite number" in cli(
        "calibrate", "CAR5", "--ambient-c", "nan", code=2).output


def test_calibrate_lists_the_trips_it_skipped(cli, tmp_path):
    path = telemetry_file(tmp_path / "t.parquet", 11, seed=2, start="2024-05-01T06:00Z")
    short = pd.read_parquet(path)
    short = short[short["time"] < pd.Timestamp("2024-05-01T06:01Z")]  # the first trip cut to 60 s
    rest = pd.read_parquet(path)
    rest = rest[rest["time"] >= pd.Timestamp("2024-05-01T08:00Z")]
    pd.concat([short, rest], ignore_index=True).to_parquet(path, index=False)
    cli("create", "CAR8", "--vehicle", LEAF)
    CliRunner().invoke(main, ["ingest", str(path), "--vehicle", "CAR8"], catch_exceptions=False)
    lines = cli("calibrate", "CAR8").output.splitlines()
    assert lines[0].startswith("calibrated CAR8 on 10 trips (2024-05-01T09:00:00+00:00 to ")
    assert lines[1].startswith("  skipped trip 1 (2024-05-01T06:00:00+00:00): too short: ")


def test_telemetry_errors_are_one_line(cli):
    cli("create", "CAR9", "--vehicle", LEAF)
    for cmd in ("sync", "calibrate", "update"):
        unknown = cli(cmd, "CAR8", code=2).output
        assert unknown.strip() == "error: unknown twin 'CAR8'; did you mean 'CAR9'? `twinloop twin list` shows them."
    no_trips = cli("calibrate", "CAR9", code=2).output
    assert no_trips.startswith("error: CAR9 has no trips in the store; ingest telemetry with Vehicle.Speed")
    assert no_trips.count("\n") == 1
    assert "was never calibrated on data" in cli("update", "CAR9", code=2).output
    assert "no telemetry of CAR9 in the store" in cli("sync", "CAR9", code=2).output
    bad = cli("calibrate", "CAR9", "--since", "last week", code=2).output
    assert "--since: expected an ISO 8601 time" in bad and "Traceback" not in bad
    inverted = cli("calibrate", "CAR9", "--since", "2007-09-01", "--until", "2007-08-01", code=2).output
    assert "--until: expected a time after --since 2007-09-01, received '2007-08-01'. The window is empty" in inverted


def test_sync_notes_a_speed_logged_in_m_per_s_against_the_odometer(cli, tmp_path):
    # The logger wrote m/s into the km/h column: the odometer (true km) betrays it.
    c = load_cycle("hwfet")
    frame = pd.DataFrame({
        "time": pd.Timestamp("2024-05-01T06:00Z") + pd.to_timedelta(c.time, unit="s"),
        "Vehicle.Speed": c.vehicle_speed,  # m/s numbers in a km/h signal
        "Vehicle.TraveledDistance": 42e6 + np.concatenate([[0.0], np.cumsum(np.diff(c.time) * c.vehicle_speed[1:])]),  # m
    })
    frame.to_parquet(tmp_path / "trip.parquet", index=False)
    ingested = CliRunner().invoke(main, ["ingest", str(tmp_path / "trip.parquet"), "--vehicle", "CAR8"])
    assert ingested.exit_code == 0, ingested.output
    cli("create", "CAR8", "--vehicle", LEAF)
    out = cli("sync", "CAR8").output
    assert "odometer 42016." in out  # the odometer is kept
    assert "note: the odometer advanced 16.5 km while the speed signal integrates to 4.6 km" in out
    assert "ratio 3.60: speed in m/s stored as km/h" in out


def test_an_in_memory_store_is_refused_rather_than_losing_the_twin(cli):
    # each command is its own process: a twin created in memory would be reported and gone
    for url in (":memory:", "duckdb://:memory:"):
        out = cli("create", "CAR7", "--vehicle", LEAF, "--store", url, code=2).output
        assert "an in-memory store is gone when the command ends" in out and "--store fleet.duckdb" in out
