"""``twinloop design``: the front as a table, JSON and CSV, the plot, the default fleet, one-line user errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_checks import user_error
from click.testing import CliRunner

from twinloop.apps.design import DESIGN_COLUMNS
from twinloop.cli import main
from twinloop.cycles import load_cycle

FAST = ["--population", "6", "--generations", "2"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two days in the `twinloop simulate -c` format: the UDDS and the HWFET in km/h."""
    folder = tmp_path_factory.mktemp("days")
    for name in ("udds", "hwfet"):
        cycle = load_cycle(name)
        rows = "".join(f"{t:g},{v * 3.6:.4f}\n" for t, v in zip(cycle.time, cycle.vehicle_speed, strict=True))
        (folder / f"{name}.csv").write_text("time_s,speed_kph\n" + rows)
    return folder




def test_json_gives_designs_that_meet_the_constraints(runner: CliRunner, days: Path) -> None:
    result = runner.invoke(main, ["design", "--days", str(days), "--max-0-100", "8", *FAST, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    designs = data["designs"]
    assert designs and all(list(d) == list(DESIGN_COLUMNS) for d in designs)
    assert all(d["coverage"] >= 0.95 and d["acceleration_0_100_s"] <= 8.0 and d["top_speed_kph"] >= 140.0
               for d in designs)
    assert data["inputs"]["vehicle"] == "vw_id3_pro_2020" and data["inputs"]["max_acceleration_time_s"] == 8.0
    assert data["run"] == {**data["run"], "seed": 0, "population": 6, "generations": 2}
    assert sorted(data["day_names"]) == [f"{days.name}/hwfet", f"{days.name}/udds"]


def test_csv_has_the_columns_and_the_same_seed_the_same_designs(runner: CliRunner, days: Path) -> None:
    args = ["design", "--days", str(days), *FAST, "--seed", "4", "--format", "csv"]
    first, second = runner.invoke(main, args), runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0].split(",") == list(DESIGN_COLUMNS) and len(lines) >= 2
    assert first.stdout == second.stdout


def test_prices_and_bounds_reach_the_designs(runner: CliRunner, days: Path) -> None:
    result = runner.invoke(main, ["design", "--days", str(days), *FAST, "--format", "json", "--battery-kwh", "30", "30",
                                  "--gear-ratio", "10", "10", "--cost-per-kwh", "100", "--cost-per-kw", "10"])
    assert result.exit_code == 0, result.output
    designs = json.loads(result.stdout)["designs"]
    assert {d["battery_kwh"] for d in designs} == {30.0} and {d["gear_ratio"] for d in designs} == {10.0}
    np.testing.assert_allclose([d["cost_usd"] for d in designs], [3000 + 10 * d["motor_kw"] for d in designs])


def test_the_table_and_the_plot(runner: CliRunner, days: Path, tmp_path: Path) -> None:
    plot = tmp_path / "front.png"
    result = runner.invoke(main, ["design", "--days", str(days), *FAST, "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Pareto-optimal designs from vw_id3_pro_2020 over 2 days" in lines[0]
    assert lines[1].split() == list(DESIGN_COLUMNS)
    assert plot.stat().st_size > 10_000 and f"plot written to {plot}" in result.stderr


def test_the_bundled_example_fleet_is_the_default(runner: CliRunner) -> None:
    result = runner.invoke(main, ["design", "--population", "4", "--generations", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["day_names"]) == 5 and list(data["skipped_days"]) == ["4033363_1/2007-08-25"]
    assert "note: day 4033363_1/2007-08-25 skipped: drove 0.08 km" in result.stderr


@pytest.mark.parametrize(("args", "fragments"), [
    (["--battery-kwh", "120", "20"], ("--battery-kwh: expected a low end <= the high end", "(120, 20) kWh",
                                      "reversed")),
    (["--motor-kw", "0", "100"], ("--motor-kw: expected bounds within", "received (0, 100) kW")),
    (["--share", "1.5"], ("--share: expected a number in (0, 1]", "received 1.5")),
    (["--share", "0"], ("--share:", "received 0.0")),
    (["--cost-per-kwh", "-1"], ("--cost-per-kwh: expected a number in [0, inf) USD/kWh", "received -1.0")),
    (["--cost-per-kw", "-5"], ("--cost-per-kw:", "received -5.0")),
    (["--reserve", "1"], ("--reserve: expected a number in [0, 0.9]",)),
    (["--objective", "cost"], ("--objective: expected two or more different names",)),
    (["--objective", "price"], ("--objective", "'price'")),
    (["-v", "vw_id3_pro_202"], ("unknown vehicle 'vw_id3_pro_202'", "vw_id3_pro_2020")),
    (["--population", "2"], ("--population",)),
    (["--plot", "front.txt"], ("--plot", "'.txt'")),
])
def test_bad_input_is_one_line(runner: CliRunner, days: Path, args: list[str], fragments: tuple[str, ...]) -> None:
    user_error(runner.invoke(main, ["design", "--days", str(days), *FAST, *args]), *fragments)


def test_an_unreachable_floor_names_the_option_and_the_best_reached(runner: CliRunner, days: Path) -> None:
    user_error(runner.invoke(main, ["design", "--days", str(days), *FAST, "--max-0-100", "3"]),
                "--max-0-100: expected a 0-100 km/h time the designs within the bounds can reach",
                "received 3.0", "The fastest design took", "raise the upper --motor-kw")


def test_a_days_folder_without_usable_days_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    user_error(runner.invoke(main, ["design", "--days", str(tmp_path), *FAST]), "holds no day traces")
    (tmp_path / "bad.csv").write_text("when,speed\n0,0\n")
    user_error(runner.invoke(main, ["design", "--days", str(tmp_path), *FAST]), "no usable day trace", "bad")
    user_error(runner.invoke(main, ["design", "--days", str(tmp_path / "nowhere"), *FAST]), "does not exist")


def test_help_gives_examples(runner: CliRunner) -> None:
    result = runner.invoke(main, ["design", "--help"])
    assert result.exit_code == 0
    assert "twinloop design --share 0.9 --max-0-100 8 --plot front.png" in result.stdout
    assert "design" in runner.invoke(main, ["--help"]).stdout
