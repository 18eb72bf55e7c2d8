"""``twinloop energy``: a stored trip of a twin, a trace of a library vehicle, JSON and table, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_checks import user_error
from click.testing import CliRunner, Result
from telemetry_drives import LEAF, VIN, drive, write

from twinloop.apps.energy import WHAT_IF_NAMES
from twinloop.cli import main
from twinloop.store import DuckDBStore
from twinloop.twin import calibrate_from_store, create_twin, open_twin

UNCALIBRATED = "5YJ3E1EA7KF000002"
LEAF_NAME = "nissan_leaf_40kwh_2018"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    """A DuckDB file: 12 simulated trips for each of two twins, the first calibrated on them."""
    path = tmp_path_factory.mktemp("energy_cli") / "fleet.duckdb"
    store = DuckDBStore(path)
    drives = drive(LEAF, 12, seed=0)
    write(store, drives)
    write(store, drives, vin=UNCALIBRATED)
    create_twin(store, VIN, LEAF)
    create_twin(store, UNCALIBRATED, LEAF)
    calibrate_from_store(open_twin(store, VIN))
    store.close()
    return path


def _state(path: Path) -> tuple[int, int, int]:
    store = DuckDBStore(path)
    try:
        return (store.sample_count(), len(open_twin(store, VIN).registry.history()),
                store.events(VIN).num_rows)
    finally:
        store.close()


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["energy", *args])


def _json(result: Result) -> dict:
    assert result.exit_code == 0, result.output
    doc: dict = json.loads(result.stdout)
    return doc




def test_a_stored_trip_of_a_calibrated_twin_balances_to_the_measurement(store_path):
    doc = _json(_run(VIN, "--trip", "3", "--store", str(store_path), "--price", "0.30", "--format", "json"))
    b = doc["breakdown"]
    assert doc["calibrated"] is True and doc["trip_no"] == 3 and doc["model"]["version"] == 2
    assert b["basis"] == "measured" and b["measured_kwh"] == b["total_kwh"]
    assert sum(b["lines_kwh"].values()) == pytest.approx(b["total_kwh"], abs=1e-9)
    assert b["within_model_error"] is True and abs(b["residual_kwh"]) <= b["model_error_kwh"]
    savings = [s["saving_kwh"] for s in doc["suggestions"]]
    assert savings == sorted(savings, reverse=True) and savings[0] > 0
    assert sorted([s["name"] for s in doc["suggestions"]] + [s["name"] for s in doc["skipped"]]) == sorted(WHAT_IF_NAMES)
    assert all(s["reason"] for s in doc["skipped"])
    assert doc["warnings"] == []


def test_the_table_says_where_the_energy_went_and_what_to_change(store_path):
    result = _run(VIN, "--trip", "3", "--store", str(store_path), "--price", "0.30")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"trip 3 of {VIN}: {LEAF_NAME}, ")
    assert "calibrated on measured trips" in out
    assert "  unexplained (measured - model)" in out and "within)" in out
    assert "what would have saved energy, largest first:\n  1. " in out
    assert "€" in out and "not applicable to this trip:" in out


def test_an_uncalibrated_twin_works_and_warns(store_path):
    result = _run(UNCALIBRATED, "--trip", "1", "--store", str(store_path), "--format", "json")
    doc = _json(result)
    assert doc["calibrated"] is False and doc["breakdown"]["model_error_kwh"] is None
    assert result.stderr.startswith(f"warning: the twin of {UNCALIBRATED} is not calibrated")
    assert f"twinloop twin calibrate {UNCALIBRATED}" in result.stderr


def test_a_library_vehicle_on_a_bundled_cycle_needs_no_store(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "never.duckdb"))
    doc = _json(_run("--vehicle", LEAF_NAME, "--trip", "us06", "--ambient-c", "-5", "--price", "0.3", "--format",
                     "json"))
    assert doc["vin"] is None and doc["calibrated"] is False and doc["breakdown"]["basis"] == "modelled"
    assert doc["suggestions"][0]["name"] == "preconditioning"
    assert doc["ambient_temperature_c"] == -5.0
    assert not (tmp_path / "never.duckdb").exists()


def test_a_trace_file_for_a_twin(store_path, tmp_path):
    trace = tmp_path / "commute.csv"
    t = np.arange(0, 301)
    speed = np.minimum(np.minimum(t, 300 - t) * 3.6, 110.0)  # km/h: up at 1 m/s2, 110 km/h, down
    trace.write_text("time_s,speed_kph\n" + "".join(f"{a},{b:g}\n" for a, b in zip(t, speed, strict=True)))
    doc = _json(_run(VIN, "--trip", str(trace), "--store", str(store_path), "--format", "json"))
    assert doc["trip"].startswith("commute") and doc["breakdown"]["basis"] == "modelled"
    assert doc["calibrated"] is True


def test_user_errors_are_one_line_and_change_nothing(store_path, tmp_path):
    before = _state(store_path)
    store = ["--store", str(store_path)]
    user_error(_run("5YJ3E1EA7KF00001", "--trip", "1", *store), "unknown twin '5YJ3E1EA7KF00001'",
                "did you mean '5YJ3E1EA7KF000001'")
    user_error(_run(VIN, "--trip", "13", *store), "unknown trip of 5YJ3E1EA7KF000001 '13'",
                "Its trips are numbered 1-12.")
    user_error(_run(VIN, "--trip", "3", "--price", "-0.3", *store), "--price: expected a price per kWh in [0, 100]",
                "received -0.3")
    user_error(_run(VIN, "--trip", "3", "--currency", "euro", *store), "--currency: expected an ISO 4217 code")
    user_error(_run(VIN, "--trip", "3", "--vehicle", LEAF_NAME, *store), "not both")
    user_error(_run("--trip", "3"), "give VIN")
    user_error(_run("--vehicle", LEAF_NAME, "--trip", "3"), "--trip 3 is a stored trip number")
    user_error(_run(VIN, "--trip", "3", "--ambient-c", "5", *store), "--ambient-c applies to a trace file")
    user_error(_run("--vehicle", LEAF_NAME, "--trip", "udds", "--ambient-c", "300"), "--ambient-c",
                "[-50, 60] °C")
    fast = tmp_path / "fast.csv"
    fast.write_text("time_s,speed_kph\n0,0\n1,5\n2,900\n")
    user_error(_run(VIN, "--trip", str(fast), *store), "fast.csv", "speed must be in [0, 360] km/h")
    gappy = tmp_path / "gappy.csv"
    gappy.write_text("time_s,speed_mps\n0,10\n1,10\n40,10\n41,10\n")
    user_error(_run(VIN, "--trip", str(gappy), *store), "a 39 s gap")
    user_error(_run(VIN, "--trip", "1", "--store", str(tmp_path / "missing.duckdb")), "missing.duckdb")
    assert not (tmp_path / "missing.duckdb").exists()
    assert _state(store_path) == before


def test_help_gives_examples():
    result = _run("--help")
    assert result.exit_code == 0
    assert "twinloop energy 5YJ3E1EA7KF000001 --trip 4 --price 0.30" in result.stdout
    assert "energy" in CliRunner().invoke(main, ["--help"]).stdout
