"""``twinloop profile metrics``: the figures of a bundled cycle and of a user's trace, help, user errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from twinloop.apps import METRIC_NAMES, cycle_metrics
from twinloop.cli import main
from twinloop.conventions import STANDARD_GRAVITY
from twinloop.cycles import load_cycle


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _user_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


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
    _user_error(runner.invoke(main, ["profile", "metrics", "--cycle", "udd"]), "unknown cycle 'udd'", "'udds'")


def test_a_malformed_trace_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "back.csv"
    trace.write_text("time_s,speed_mps\n0,0\n2,1\n1,2\n")
    _user_error(runner.invoke(main, ["profile", "metrics", "--cycle", str(trace)]), "back.csv")


def test_a_missing_option_or_format_is_a_usage_error(runner: CliRunner) -> None:
    _user_error(runner.invoke(main, ["profile", "metrics"]), "--cycle")
    _user_error(runner.invoke(main, ["profile", "metrics", "-c", "udds", "--format", "csv"]), "--format")


def test_help_gives_examples(runner: CliRunner) -> None:
    result = runner.invoke(main, ["profile", "metrics", "--help"])
    assert result.exit_code == 0
    assert "twinloop profile metrics --cycle udds" in result.stdout
    assert "profile" in runner.invoke(main, ["--help"]).stdout
