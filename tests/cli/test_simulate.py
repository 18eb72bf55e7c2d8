"""``twinloop simulate``, ``demo`` and ``cycle``: results, help and one-line user errors.

Each user error must exit with status 2 and print one line naming the option
(or file key), the valid range and what was received, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_checks import user_error
from click.testing import CliRunner

from twinloop.cli import main

TESLA = "tesla_model_3_long_range_2022"
LEAF = "nissan_leaf_40kwh_2018"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()




def _leaf_toml(runner: CliRunner, tmp_path: Path, key: str, value: str) -> Path:
    text = runner.invoke(main, ["vehicle", "show", LEAF]).stdout
    lines = [f"{key} = {value}" if line.startswith(f"{key} = ") else line for line in text.splitlines()]
    assert f"{key} = {value}" in lines
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- defect 1 and 2: a battery that cannot work is refused at validation ---------------

@pytest.mark.parametrize(("key", "value", "expected"), [
    ("energy_kwh", "0", "battery.energy_kwh in {path}: expected a number in [1, 1000] kWh, received 0"),
    ("energy_kwh", "0.01", "expected a number in [1, 1000] kWh, received 0.01"),
    ("nominal_voltage_v", "0", "battery.nominal_voltage_v in {path}: expected a number in [48, 1500] V, received 0"),
])
def test_an_unusable_battery_fails_validate_and_simulate_alike(runner: CliRunner, tmp_path: Path,
                                                                key: str, value: str, expected: str) -> None:
    path = _leaf_toml(runner, tmp_path, key, value)
    message = expected.format(path=path)
    user_error(runner.invoke(main, ["vehicle", "validate", str(path)]), message)
    user_error(runner.invoke(main, ["simulate", "-v", str(path), "-c", "udds"]), message)


# -- defect 3: an empty battery is named as the cause ---------------------------------

def test_an_empty_battery_is_reported_as_the_cause(runner: CliRunner) -> None:
    result = runner.invoke(main, ["simulate", "-v", TESLA, "-c", "udds", "--soc-start", "0"])
    assert result.exit_code == 0, result.output
    assert "too weak" not in result.output
    assert "the battery was empty at the start" in result.output
    assert "n/a Wh/km" in result.output


def test_json_keeps_its_keys_and_says_why_the_trace_was_missed(runner: CliRunner) -> None:
    result = runner.invoke(main, ["simulate", "-v", TESLA, "-c", "udds", "--soc-start", "0", "--format", "json"])
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    for key in ("distance_m", "duration_s", "battery_energy_wh", "wall_energy_wh", "wh_per_km", "breakdown",
                "soc_start", "soc_end", "trace_missed_s"):
        assert key in s
    assert s["wh_per_km"] is None and s["distance_m"] == 0.0
    assert s["trace_missed_reason"] == "battery_empty" and s["battery_empty_s"] == 0.0


def test_a_battery_that_runs_empty_on_the_way_names_the_time(runner: CliRunner) -> None:
    result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", "us06", "--soc-start", "0.05", "--format", "json"])
    s = json.loads(result.stdout)
    assert s["trace_missed_reason"] == "battery_empty"
    assert 0 < s["battery_empty_s"] < s["duration_s"] and s["wh_per_km"] > 0
    table = runner.invoke(main, ["simulate", "-v", LEAF, "-c", "us06", "--soc-start", "0.05"])
    assert f"the battery was empty at t = {s['battery_empty_s']:.0f} s" in table.output


def test_a_weak_vehicle_is_still_called_weak(runner: CliRunner) -> None:
    s = json.loads(runner.invoke(main, ["simulate", "-v", LEAF, "-c", "accel", "--format", "json"]).stdout)
    assert s["trace_missed_s"] > 0 and s["trace_missed_reason"] == "power_limit" and s["battery_empty_s"] is None
    s = json.loads(runner.invoke(main, ["simulate", "-v", LEAF, "-c", "udds", "--format", "json"]).stdout)
    assert s["trace_missed_s"] == 0 and s["trace_missed_reason"] is None


# -- defect 4: options are named as typed, ranges without a stray unit ------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--soc-start", "1.5"], "error: --soc-start: expected a number in [0, 1], received 1.5"),
    (["--soc-start", "nan"], "--soc-start: expected a number in [0, 1], received nan"),
    (["--payload-kg", "-5"], "error: --payload-kg: expected a number in [0, 20000] kg, received -5.0"),
    (["--ambient-c", "99"], "error: --ambient-c: expected a temperature in [-50, 60] °C, received 99.0"),
])
def test_bad_options_name_the_option(runner: CliRunner, args: list[str], message: str) -> None:
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", "udds", *args]), message)


def test_demo_ambient_is_named_as_the_option(runner: CliRunner, tmp_path: Path) -> None:
    user_error(runner.invoke(main, ["demo", "--ambient-c", "-80", "--plot", str(tmp_path / "d.png")]),
                "--ambient-c: expected a temperature in [-50, 60] °C, received -80.0")


@pytest.mark.parametrize(("cell", "shown"), [("nan", "(nan)"), ("", "(empty)"), ("fast", "(fast)")])
def test_a_cell_that_is_not_a_number_is_shown_as_written(runner: CliRunner, tmp_path: Path,
                                                         cell: str, shown: str) -> None:
    trace = tmp_path / "nan.csv"
    trace.write_text(f"time_s,speed_mps\n0,0\n1,{cell}\n2,1\n")
    result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)])
    user_error(result, f"column 'speed_mps' row 3 is not a number {shown}")
    assert "np.float64" not in result.output


def test_unknown_vehicle_and_cycle_read_as_sentences(runner: CliRunner) -> None:
    result = runner.invoke(main, ["simulate", "-v", "nope", "-c", "udds"])
    user_error(result, "unknown vehicle 'nope'. `twinloop vehicle list` shows the library.")
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", "udd"]),
                "unknown cycle 'udd'; did you mean 'udds'? Or pass the path of a CSV file.")


# -- defect 5: delimiters and road grade -------------------------------------------------

@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_read(runner: CliRunner, tmp_path: Path, delimiter: str) -> None:
    udds = runner.invoke(main, ["simulate", "-v", LEAF, "-c", "udds", "--format", "json"])
    trace = tmp_path / "semi.csv"
    rows = [f"time_s{delimiter}speed_mps"] + [f"{t}{delimiter}{min(t, 10) * 1.0}" for t in range(60)]
    trace.write_text("\n".join(rows) + "\n")
    result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["distance_m"] > 400
    assert udds.exit_code == 0


def test_a_grade_in_percent_is_explained(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "grade.csv"
    trace.write_text("time_s,speed_mps,grade\n0,0,0\n1,1,5\n2,2,5\n")
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)]),
                "road grade must be in [-0.35, 0.35] as a fraction", "(0.05 = 5 %)", "row 3 has 5",
                "grade_pct")


def test_an_unrecognised_header_lists_the_separators(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "space.csv"
    trace.write_text("time_s speed_mps\n0 0\n1 1\n")
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)]),
                "no time column", "found time_s speed_mps", "separated by ',', ';', tab or '|'")


# -- defect 6: help teaches ---------------------------------------------------------------

@pytest.mark.parametrize("command", [["demo"], ["cycle"], ["cycle", "list"], ["simulate"]])
def test_help_has_examples(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output
    assert "\n    twinloop " in result.output  # examples keep their own lines


def test_demo_says_which_energy_table_and_plot_show(runner: CliRunner) -> None:
    text = runner.invoke(main, ["demo", "--help"]).output
    assert "wall energy" in text.lower() and "battery energy" in text.lower()


# -- defect 7: no negative zero -------------------------------------------------------------

def test_the_table_prints_no_negative_zero(runner: CliRunner) -> None:
    for cycle in ("udds", "hwfet", "us06"):
        result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", cycle])
        assert result.exit_code == 0 and "-0.0" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulat"], "error: No such command 'simulat'. Did you mean 'simulate'? (see `main --help`)"),  # CliRunner names the program main
        (["simulate", "--vehicel", "x"], "'--vehicle'?) (see `main simulate --help`)"),
        (["battery", "rul", "x.csv", "--threshold-ah", "abc"], "error: Invalid value for '--threshold-ah': 'abc' is not a valid float."),
    ],
)
def test_click_usage_errors_are_one_line_like_every_otheruser_error(args, message):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and message in r.output
    assert r.output.count("\n") == 1 and "Usage:" not in r.output


def test_a_bare_group_still_shows_its_help():
    r = CliRunner().invoke(main, ["battery"])
    assert "Usage: main battery" in r.output and "Commands:" in r.output
    assert r.exit_code in (0, 2)  # 2 from click 8.2 on, 0 before


# -- new-user review: gaps, folders, plot paths --------------------------------------------

def _trace_with_an_hour_gap(tmp_path: Path, stopped: bool) -> Path:
    """The review's 300 s trace (2.35 km while moving at 10 m/s) with one hour missing after row 151."""
    rows = []
    for t in range(300):
        v = 10.0 if 10 < t < 290 and not (stopped and 140 <= t < 160) else 0.0
        rows.append(f"{t + (3600 if t >= 150 else 0)},{v:g}")
    path = tmp_path / "gap.csv"
    path.write_text("time_s,speed_mps\n" + "\n".join(rows) + "\n")
    return path


def test_a_gap_in_a_user_trace_while_moving_is_refused_not_driven(runner: CliRunner, tmp_path: Path) -> None:
    trace = _trace_with_an_hour_gap(tmp_path, stopped=False)
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)]),
                f"error: {trace}: a 3601 s gap in 'time_s' between row 151 (149 s, 10 m/s) and row 152 "
                "(3750 s, 10 m/s) while moving; at most 10 s is allowed unless the speed is 0 at both ends",
                "split the trace into two files at this gap")


def test_a_gap_at_standstill_is_a_stop(runner: CliRunner, tmp_path: Path) -> None:
    trace = _trace_with_an_hour_gap(tmp_path, stopped=True)
    result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)])
    assert result.exit_code == 0, result.output
    km = float(result.stdout.split(" on gap: ")[1].split(" km in 3899 s")[0])
    assert 2.5 < km < 2.6  # the trace's 2.59 km (not 38 km driven through the hour)


def test_help_of_cycle_states_the_gap_rule(runner: CliRunner) -> None:
    text = " ".join(runner.invoke(main, ["cycle", "--help"]).output.split())
    assert "a time step longer than 10 s (twinloop.cycles.MAX_GAP) is refused" in text


@pytest.mark.parametrize("command", [
    ["simulate", "-v", LEAF, "-c", "{folder}"],
    ["vehicle", "calibrate-lab", "-v", LEAF, "-c", "{folder}", "--measured-wh-per-mile", "250"],
])
def test_a_folder_given_as_cycle_is_named_a_folder(runner: CliRunner, tmp_path: Path, command: list[str]) -> None:
    args = [a.format(folder=tmp_path) for a in command]
    user_error(runner.invoke(main, args),
                f"error: cycle '{tmp_path}' is a folder, not a trace: give a bundled cycle name "
                "(`twinloop cycle list`) or a CSV file with time_s and speed columns")


@pytest.mark.parametrize("command", [
    ["simulate", "-v", "{folder}", "-c", "udds"],
    ["twin", "create", "X", "--vehicle", "{folder}", "--store", "{folder}/s.duckdb"],
])
def test_a_folder_given_as_vehicle_is_named_a_folder(runner: CliRunner, tmp_path: Path, command: list[str]) -> None:
    args = [a.format(folder=tmp_path) for a in command]
    user_error(runner.invoke(main, args),
                f"error: vehicle '{tmp_path}' is a folder, not a vehicle file: give a library name "
                "(`twinloop vehicle list`) or a vehicle TOML file")
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize("command", [["simulate", "-v", LEAF, "-c", "udds"], ["demo"]])
def test_a_plot_path_is_checked_before_any_work(runner: CliRunner, tmp_path: Path, command: list[str]) -> None:
    result = runner.invoke(main, [*command, "--plot", str(tmp_path / "x.xyz")])
    user_error(result, f"error: Invalid value for '--plot': {tmp_path / 'x.xyz'} has '.xyz'; "
                        "a plot is written as one of .png, .pdf, .svg")
    assert result.stdout == ""
    result = runner.invoke(main, [*command, "--plot", "/proc/x.png"])
    user_error(result, "error: Invalid value for '--plot': cannot write /proc/x.png: "
                        "/proc does not accept new files")
    assert result.stdout == ""  # nothing simulated
    user_error(runner.invoke(main, [*command, "--plot", str(tmp_path)]),
                f"error: Invalid value for '--plot': File '{tmp_path}' is a directory.")


def test_a_plot_may_be_a_pdf(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", "us06", "--plot", str(tmp_path / "a" / "p.pdf")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "p.pdf").read_bytes().startswith(b"%PDF")


# -- hostile-user review -------------------------------------------------------------------

def test_minus_50_c_is_inside_the_documented_range(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["simulate", "-v", LEAF, "-c", "hwfet", "--ambient-c", "-50", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["soc_end"] < 0.9
    result = runner.invoke(main, ["demo", "--ambient-c", "-50", "--plot", str(tmp_path / "d.png")])
    assert result.exit_code == 0, result.output


def test_an_ambient_in_kelvin_is_recognised(runner: CliRunner) -> None:
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", "udds", "--ambient-c", "293.15"]),
                "error: --ambient-c: expected a temperature in [-50, 60] °C, received 293.15. "
                "293.15 looks like kelvin: give 20 (°C)")


def _weak_leaf(runner: CliRunner, tmp_path: Path) -> Path:
    path = _leaf_toml(runner, tmp_path, "motor_peak_power_kw", "1.0")
    path.write_text(path.read_text().replace("motor_peak_torque_nm = 320.0", "motor_peak_torque_nm = 10.0"))
    return path


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_missed_trace_is_reported_on_stderr_in_every_format(runner: CliRunner, tmp_path: Path, fmt: str) -> None:
    result = runner.invoke(main, ["simulate", "-v", str(_weak_leaf(runner, tmp_path)), "-c", "us06", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: nissan_leaf_40kwh_2018 missed the us06 trace for 540 s, 10955 m short "
                                    "(the vehicle's motor or battery power is too low for this cycle)")
    assert "warning" not in result.stdout


def test_a_battery_that_empties_after_a_power_limit_is_still_named(runner: CliRunner, tmp_path: Path) -> None:
    path = _leaf_toml(runner, tmp_path, "energy_kwh", "1.0")
    s = json.loads(runner.invoke(main, ["simulate", "-v", str(path), "-c", "us06", "--format", "json"]).stdout)
    assert s["trace_missed_reason"] == "power_limit" and s["battery_empty_s"] is not None
    table = runner.invoke(main, ["simulate", "-v", str(path), "-c", "us06"]).stdout
    assert (f"(the vehicle's motor or battery power is too low for this cycle; then the battery was empty "
            f"at t = {s['battery_empty_s']:.0f} s)") in table


def test_a_grade_column_that_is_not_read_is_an_error_not_a_flat_road(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "hill.csv"
    trace.write_text("time_s,speed_kph,slope_percent\n0,0,5\n1,5,5\n2,10,5\n")
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)]),
                f"error: {trace}: column 'slope_percent' looks like road grade but is not read")


def test_a_trace_spanning_years_is_refused_at_once(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "stray.csv"
    trace.write_text("time_s,speed_kph\n0,0\n1,5\n2,0\n1700000000,0\n")
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)]),
                "the trace spans 1.7e+09 s (19676 days, to row 5), more than 2.592e+06 s (30 days)")


def test_a_trace_shorter_than_a_time_step_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    trace = tmp_path / "blip.csv"
    trace.write_text("time_s,speed_mps\n0,0\n0.5,0.5\n")
    user_error(runner.invoke(main, ["simulate", "-v", LEAF, "-c", str(trace)]),
                "error: cycle 'blip': expected a cycle of at least one 1 s time step, received 'a 0.5 s trace'")


# -- the lab condition (--condition dynamometer) -------------------------------------------

EPA_LEAF = "epa2022:nissan_leaf_kwb115_c0"


def test_the_dynamometer_condition_is_the_librarys(runner: CliRunner) -> None:
    from twinloop.cycles import load_cycle
    from twinloop.parameters.library import resolve_vehicle
    from twinloop.sim import Scenario, simulate

    out = runner.invoke(main, ["simulate", "-v", EPA_LEAF, "-c", "udds", "--condition", "dynamometer",
                               "--format", "json"])
    assert out.exit_code == 0, out.output
    expected = simulate(resolve_vehicle(EPA_LEAF), Scenario(load_cycle("udds"), condition="dynamometer")).summary()
    assert json.loads(out.stdout) == json.loads(json.dumps(expected))


def test_the_table_says_which_condition_ran_and_the_road_table_is_unchanged(runner: CliRunner) -> None:
    lab = runner.invoke(main, ["simulate", "-v", EPA_LEAF, "-c", "udds", "--condition", "dynamometer",
                               "--ambient-c", "24.5"]).stdout
    assert lab.splitlines()[1] == "  condition        dynamometer, 24.5 °C, climate off"
    road = runner.invoke(main, ["simulate", "-v", EPA_LEAF, "-c", "udds"]).stdout
    assert "condition" not in road and road.splitlines()[1].startswith("  wall energy")


def test_help_says_why_the_dynamometer_differs_from_the_road(runner: CliRunner) -> None:
    text = " ".join(runner.invoke(main, ["simulate", "--help"]).stdout.split())
    assert "--condition road|dynamometer|dynamometer_cold" in text
    assert "A chassis dynamometer turns only the driven axle, so all braking goes through it" in text
    assert "[default: road]" in text


@pytest.mark.parametrize(("args", "message"), [
    (["--condition", "dyno"], "error: unknown condition 'dyno'; did you mean 'dynamometer'?"),
    (["--condition", "dynamometer", "--ambient-c", "20"],
     "error: --ambient-c: expected a temperature in [23, 25] °C for --condition dynamometer, received 20.0"),
    (["--condition", "dynamometer", "--ambient-c", "297"], "297 looks like kelvin"),
    (["--condition", "dynamometer", "--hvac", "auto"],
     "error: --hvac: expected 'off' for the dynamometer condition, received 'auto'"),
    (["--condition", "dynamometer_cold", "--hvac", "off"],
     "error: --hvac: expected 'on' for the dynamometer_cold condition, received 'off'"),
])
def test_a_condition_that_does_not_fit_is_one_line_naming_the_option(runner: CliRunner, args: list[str],
                                                                     message: str) -> None:
    user_error(runner.invoke(main, ["simulate", "-v", EPA_LEAF, "-c", "udds", *args]), message)
