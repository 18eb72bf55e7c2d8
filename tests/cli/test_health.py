"""``twinloop health``: the report of a fading pack on a real DuckDB store, idempotent alerts, user errors."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from aged_pack import LEAF, T0, VIN, aged, long_trip, measured
from cli_checks import user_error
from click.testing import CliRunner
from telemetry_drives import sample_table

from twinloop.cli import main
from twinloop.signals.vss import (
    BATTERY_TEMPERATURE,
    CURRENT,
    IGNITION,
    ODOMETER,
    SOC,
    SPEED,
    VOLTAGE,
)
from twinloop.store import SampleBatch, open_store
from twinloop.twin.lifecycle import create_twin

FAST = [0.95, 0.92, 0.89, 0.86, 0.83]  # 3 % of rated per 5,000 km and 30 days


def _write(path: Path, fractions: list[float]) -> Path:
    """A store with the twin of the Leaf and one long drive per capacity fraction, 30 days and 5,000 km apart."""
    with open_store(f"duckdb:///{path}") as store:
        iid = store.begin_ingest(VIN, "simulation", "fast")
        for no, fraction in enumerate(fractions):
            s = long_trip(aged(capacity=fraction))
            m: dict[str, npt.NDArray[np.float64]] = measured(s, seed=no)
            key = np.full(m["time"].size, 4.0)
            key[-1] = 2.0
            series = {
                SPEED: m["speed"], CURRENT: m["current"], VOLTAGE: m["voltage"], SOC: m["soc"], IGNITION: key,
                BATTERY_TEMPERATURE: s["battery_temperature"],
                ODOMETER: 20e6 + 5e6 * no + np.concatenate([[0.0], np.cumsum(m["speed"][1:])]),
            }
            ids = store.signal_ids(series)
            us = int((T0 + timedelta(days=30 * no)).timestamp() * 1e6) + np.round(m["time"] * 1e6).astype(np.int64)
            store.write_batch(iid, no, VIN, SampleBatch(sample_table(ids, us, series)))
        store.finish_ingest(iid, {})
        store.detect_trips(VIN)
        create_twin(store, VIN, LEAF)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return _write(tmp_path_factory.mktemp("health") / "fleet.duckdb", FAST)


@pytest.fixture
def fleet(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the built store: the command writes alerts into it."""
    return Path(shutil.copy(built, tmp_path / "fleet.duckdb"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()




def _events(path: Path) -> int:
    with open_store(f"duckdb:///{path}", create=False) as store:
        return len(store.events(VIN))


def test_json_report_writes_the_alert_once(runner, fleet):
    first = runner.invoke(main, ["health", VIN, "--store", str(fleet), "--format", "json"])
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert {"vin", "trend", "points", "rul", "fade", "resistance", "temperatures", "alerts", "alerts_written",
            "unknown", "thresholds"} <= set(doc)
    assert [a["kind"] for a in doc["alerts"]] == ["health.capacity_fade"]
    assert doc["alerts_written"] == doc["alerts"]
    assert doc["rul"]["interval"][0] < 0.13 / 0.03 * 5e6 < doc["rul"]["interval"][1]
    events = _events(fleet)
    second = json.loads(runner.invoke(main, ["health", VIN, "--store", str(fleet), "--format", "json"]).stdout)
    assert second["alerts"] == doc["alerts"] and second["alerts_written"] == []
    assert _events(fleet) == events


def test_table_says_what_how_sure_since_when_and_what_to_do(runner, fleet):
    result = runner.invoke(main, ["health", VIN, "--store", str(fleet), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.splitlines()[0] == f"{VIN} (nmc), 5 trips read"
    for fragment in ("state of health", "remaining life", "90% interval", "resistance", "temperature",
                     "[health.capacity_fade] capacity fell by", "how sure: ", "evidence 2024-05-01",
                     "what to do: ", "not written (--dry-run)"):
        assert fragment in out, fragment
    assert _events(fleet) == 0  # a dry run writes nothing


def test_plot_is_written(runner, fleet, tmp_path):
    plot = tmp_path / "soh.png"
    result = runner.invoke(main, ["health", VIN, "--store", str(fleet), "--plot", str(plot), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_vin_names_the_close_one(runner, fleet):
    user_error(runner.invoke(main, ["health", VIN[:-1] + "2", "--store", str(fleet)]), "unknown twin", VIN)
    assert _events(fleet) == 0


def test_a_store_that_cannot_be_opened_is_one_line(runner, tmp_path):
    user_error(runner.invoke(main, ["health", VIN, "--store", str(tmp_path / "none.duckdb")]), "does not exist")
    (tmp_path / "junk.duckdb").write_text("not a database")
    user_error(runner.invoke(main, ["health", VIN, "--store", str(tmp_path / "junk.duckdb")]))


def test_a_twin_without_trips_says_what_to_store(runner, tmp_path):
    path = tmp_path / "empty.duckdb"
    with open_store(f"duckdb:///{path}") as store:
        create_twin(store, VIN, LEAF)
    user_error(runner.invoke(main, ["health", VIN, "--store", str(path)]), "no trips", SOC, "twinloop ingest")
    assert _events(path) == 0


def test_a_plot_without_a_picture_suffix_is_a_usage_error(runner, fleet, tmp_path):
    user_error(runner.invoke(main, ["health", VIN, "--store", str(fleet), "--plot", str(tmp_path / "soh.txt")]),
                "--plot")


def test_help_gives_examples(runner):
    result = runner.invoke(main, ["health", "--help"])
    assert result.exit_code == 0
    assert "twinloop health 1N4AZ1CP0JC000001" in result.stdout and "docs/health.md" in result.stdout
    assert "health" in runner.invoke(main, ["--help"]).stdout


def test_a_fade_within_its_noise_tells_no_remaining_life_as_if_it_were_known(runner, tmp_path):
    # a pack that does not fade: capacities scattered by the estimate's noise only
    path = _write(tmp_path / "steady.duckdb", [0.95, 0.95, 0.95, 0.95, 0.95])
    r = runner.invoke(main, ["health", VIN, "--store", str(path), "--dry-run"])
    assert r.exit_code == 0, r.output
    line = next(x for x in r.stdout.splitlines() if x.lstrip().startswith("remaining life"))
    assert line.split(None, 2)[2] == "not yet told: the fade is within twice its noise", line
