"""``twinloop vehicle``: list, show, validate, from-epa, import-fastsim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from twinloop.cli import main
from twinloop.parameters.library import resolve_vehicle
from twinloop.parameters.toml_io import load_vehicle

FASTSIM = Path(__file__).parents[1] / "data" / "fastsim" / "2022_Renault_Zoe_ZE50_R135.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_teaches_with_examples(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "--help"])
    assert result.exit_code == 0 and "Examples:" in result.output and "from-epa" in result.output
    for command in ("list", "show", "validate", "from-epa", "import-fastsim", "calibrate-lab"):
        sub = runner.invoke(main, ["vehicle", command, "--help"])
        assert sub.exit_code == 0 and "twinloop vehicle" in sub.output


def test_list_shows_physical_specs_and_counts_epa(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "list"])
    assert result.exit_code == 0
    assert "tesla_model_3_long_range_2022" in result.stdout and "epa2022:" not in result.stdout
    assert "97 EPA 2022 test vehicles" in result.stderr


def test_list_epa(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "list", "--epa"])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 97


def test_show_prints_loadable_toml(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["vehicle", "show", "nissan_leaf_40kwh_2018"])
    assert result.exit_code == 0
    path = tmp_path / "leaf.toml"
    path.write_text(result.stdout)
    assert load_vehicle(path).motor_peak_power == 110e3


def test_show_unknown_name_is_one_line_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "show", "nissan_leef"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "nissan_leaf_40kwh_2018" in result.stderr


def test_validate_ok_and_bad(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(runner.invoke(main, ["vehicle", "show", "bmw_i3_120ah_2019"]).stdout)
    result = runner.invoke(main, ["vehicle", "validate", str(good)])
    assert result.exit_code == 0 and result.stdout.startswith("ok: bmw_i3_120ah_2019")
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("efficiency = 0.88", "efficiency = 1.2"))
    result = runner.invoke(main, ["vehicle", "validate", str(bad)])
    assert result.exit_code == 2 and "charger.efficiency" in result.stderr and str(bad) in result.stderr


def test_validate_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["vehicle", "validate", str(tmp_path / "absent.toml")])
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_from_epa_prints_a_spec(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["vehicle", "from-epa", "--make", "tesla", "--model", "model 3 rwd"])
    assert result.exit_code == 0
    path = tmp_path / "m3.toml"
    path.write_text(result.stdout)
    spec = load_vehicle(path)
    assert spec.name == "epa2022:tesla_model_3_rwd_3r022_043763_c0" and spec.drive == "RWD"


def test_from_epa_with_test_vehicle_id_and_output(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "i4.toml"
    result = runner.invoke(main, ["vehicle", "from-epa", "--make", "bmw", "--model", "i4",
                                  "--test-vehicle-id", "FK96493", "--configuration", "0", "-o", str(out)])
    assert result.exit_code == 0
    assert load_vehicle(out).name == "epa2022:bmw_i4_m50_gran_coupe_20_wheels_fk96493_c0"


def test_from_epa_no_match_lists_close_matches(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "from-epa", "--make", "tesla", "--model", "modle 3"])
    assert result.exit_code == 2 and "did you mean" in result.stderr and "Tesla Model 3" in result.stderr


def test_from_epa_missing_csv(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["vehicle", "from-epa", str(tmp_path / "x.csv"), "--make", "a", "--model", "b"])
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_import_fastsim(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "zoe.toml"
    result = runner.invoke(main, ["vehicle", "import-fastsim", str(FASTSIM), "-o", str(out), "--name", "zoe"])
    assert result.exit_code == 0
    spec = load_vehicle(out)
    assert spec.name == "zoe" and spec.drag_coefficient == 0.33 and spec.motor_peak_power == 100e3


def test_import_fastsim_not_a_vehicle(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: x\n")
    result = runner.invoke(main, ["vehicle", "import-fastsim", str(path)])
    assert result.exit_code == 2 and "pt_type" in result.stderr


def test_calibrate_lab_predicts_the_leaf_highway_from_its_udds(runner: CliRunner, tmp_path: Path) -> None:
    # EPA 2022 Leaf (KWB115): UDDS 192 Wh/mi measured, highway 238.7 Wh/mi measured.
    out = tmp_path / "leaf.toml"
    result = runner.invoke(main, ["vehicle", "calibrate-lab", "-v", "epa2022:nissan_leaf_kwb115_c0",
                                  "--measured-wh-per-mile", "192", "-o", str(out)])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("hwfet"))
    mean, sd = float(line.split()[1]), float(line.split()[3])
    assert abs(mean - 238.7) < 2 * sd and sd < 0.06 * mean
    assert load_vehicle(out).regen_axle_share is not None


def test_calibrate_lab_needs_exactly_one_measurement(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "calibrate-lab", "-v", "nissan_leaf_40kwh_2018"])
    assert result.exit_code == 2 and "exactly one" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["vehicle", "calibrate-lab", "-v", "nissan_leaf_40kwh_2018",
                                  "--measured-wh-per-km", "5"])
    assert result.exit_code == 2 and "wall_energy_per_distance" not in result.output
    assert "--measured-wh-per-km: expected a wall energy in [55.56, 1389] Wh/km, received 5.0" in result.stderr


def _one_line_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: {message}"]


@pytest.mark.parametrize(("args", "message"), [
    (["--measured-wh-per-mile", "-5"],
     "--measured-wh-per-mile: expected a wall energy in [89.41, 2235] Wh/mi, received -5.0"),
    (["--measured-wh-per-mile", "nan"],
     "--measured-wh-per-mile: expected a wall energy in [89.41, 2235] Wh/mi, received nan"),
    (["--measured-wh-per-mile", "192", "--measurement-sd", "2"],
     "--measurement-sd: expected a fraction in [0.001, 0.5], received 2.0"),
])
def test_calibrate_lab_checks_the_measurement_in_the_users_unit(runner: CliRunner, args: list[str],
                                                                message: str) -> None:
    _one_line_error(runner.invoke(main, ["vehicle", "calibrate-lab", "-v", "nissan_leaf_40kwh_2018", *args]),
                    message)


def test_calibrate_lab_refuses_a_measurement_out_of_the_twins_reach(runner: CliRunner) -> None:
    # 1920 typed for 192 Wh/mi: inside the accepted unit range, but no loss scale reaches it
    result = runner.invoke(main, ["vehicle", "calibrate-lab", "-v", "epa2022:nissan_leaf_kwb115_c0",
                                  "--measured-wh-per-mile", "1920", "-p", "hwfet"])
    _one_line_error(result, "measured 1920 Wh/mi on udds is out of reach of epa2022:nissan_leaf_kwb115_c0: with any"
                            " loss scale in [0.25, 6] and regeneration share in [0.1, 1] it uses 156-574 Wh/mi;"
                            " check the unit (Wh per mile at the wall, not kWh/100 mi or MPGe), the cycle and the"
                            " vehicle")


def test_calibrate_lab_resolves_every_cycle_before_printing(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "calibrate-lab", "-v", "epa2022:nissan_leaf_kwb115_c0",
                                  "--measured-wh-per-mile", "192", "-p", "hwfet", "-p", "usd06"])
    _one_line_error(result, "unknown cycle 'usd06'; did you mean 'us06'? Or pass the path of a CSV file.")


def test_calibrate_lab_help_says_what_o_does(runner: CliRunner) -> None:
    text = " ".join(runner.invoke(main, ["vehicle", "calibrate-lab", "--help"]).output.split())
    assert "instead of standard output" not in text
    assert "only with -o" in text and "without -o it is not written anywhere" in text


def test_unknown_vehicle_hint_is_a_sentence_of_its_own(runner: CliRunner) -> None:
    _one_line_error(runner.invoke(main, ["vehicle", "show", "nope"]),
                    "unknown vehicle 'nope'. `twinloop vehicle list` shows the library.")


def test_from_epa_writes_no_float_noise(runner: CliRunner, tmp_path: Path) -> None:
    # The EPA file is in pounds; lb -> kg in floating point gave test_mass_kg = 1927.7675725000001.
    result = runner.invoke(main, ["vehicle", "from-epa", "--make", "tesla", "--model", "model 3 long range"])
    assert result.exit_code == 0
    numbers = re.findall(r"^\w+ = (-?[0-9][0-9.e+-]*)$", result.stdout, flags=re.MULTILINE)
    assert numbers and all(len(n.lstrip("-").replace(".", "").lstrip("0")) <= 11 for n in numbers), numbers
    path = tmp_path / "m3.toml"
    path.write_text(result.stdout)
    spec = load_vehicle(path)
    assert spec.test_mass == pytest.approx(resolve_vehicle(spec.name).test_mass, rel=1e-9)


def test_an_unusable_battery_is_refused_by_validate(runner: CliRunner, tmp_path: Path) -> None:
    text = runner.invoke(main, ["vehicle", "show", "nissan_leaf_40kwh_2018"]).stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("energy_kwh = 39.0", "energy_kwh = 0"))
    _one_line_error(runner.invoke(main, ["vehicle", "validate", str(bad)]),
                    f"battery.energy_kwh in {bad}: expected a number in [1, 1000] kWh, received 0")


# -- new-user review: unreadable EPA files, outputs that cannot be written ------------------

def _error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


_GIVE_EPA = ("give the EPA's \"Data on Cars Used for Testing Fuel Economy\" CSV (e.g. 23-tstcar.csv) "
             "or leave out CSV for the bundled 2022 list")


@pytest.mark.parametrize(("content", "says"), [
    (b"", "{path}: the file is empty, not an EPA test car list; " + _GIVE_EPA),
    (b"   \n\n", "{path}: the file is empty, not an EPA test car list; " + _GIVE_EPA),
    (b"make,model\nkia,ev6\n", "{path}: not an EPA test car list; missing columns Represented Test Veh Make, "
                               "Represented Test Veh Model, Test Vehicle ID ...; found make, model; " + _GIVE_EPA),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00", "{path}: cannot read as CSV (not UTF-8 text), not an EPA test car list; "
                                               + _GIVE_EPA),
    (bytes(range(256)) * 4, "{path}: cannot read as CSV (Error tokenizing data."),
], ids=["empty", "blank", "wrong-columns", "binary", "binary-latin1"])
def test_from_epa_refuses_a_file_that_is_not_a_test_car_list(runner: CliRunner, tmp_path: Path,
                                                             content: bytes, says: str) -> None:
    path = tmp_path / "EMPTY.csv"
    path.write_bytes(content)
    line = _error_line(runner.invoke(main, ["vehicle", "from-epa", str(path), "--make", "kia", "--model", "ev6"]))
    assert line.startswith("error: " + says.format(path=path)), line


@pytest.mark.parametrize("command", [
    ["vehicle", "from-epa", "--make", "nissan", "--model", "leaf"],
    ["vehicle", "import-fastsim", str(FASTSIM)],
    ["vehicle", "calibrate-lab", "-v", "nissan_leaf_40kwh_2018", "--measured-wh-per-mile", "250"],
], ids=["from-epa", "import-fastsim", "calibrate-lab"])
def test_an_output_that_cannot_be_written_fails_at_once(runner: CliRunner, tmp_path: Path,
                                                        command: list[str]) -> None:
    line = _error_line(runner.invoke(main, [*command, "-o", "/proc/x.toml"]))
    assert line.startswith("error: Invalid value for '-o' / '--output': cannot write /proc/x.toml: "
                           "/proc does not accept new files"), line
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = _error_line(runner.invoke(main, [*command, "-o", str(blocker / "x.toml")]))
    assert f"cannot write {blocker / 'x.toml'}: {blocker} is a file, not a folder" in line


def test_output_dash_is_standard_output(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "from-epa", "--make", "nissan", "--model", "leaf", "-o", "-"])
    assert result.exit_code == 0 and result.stdout.startswith("name = ")


# -- hostile-user review -------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["--make", "", "--model", "model 3"],
     "--make: expected a make, e.g. tesla (case-insensitive, a part is enough), received ''"),
    (["--make", "tesla", "--model", " "],
     "--model: expected a model, e.g. model 3 (case-insensitive, a part is enough), received ' '"),
])
def test_from_epa_refuses_a_blank_make_or_model(runner: CliRunner, args: list[str], message: str) -> None:
    _one_line_error(runner.invoke(main, ["vehicle", "from-epa", *args]), message)


def test_from_epa_names_a_make_that_has_no_ev(runner: CliRunner) -> None:
    result = runner.invoke(main, ["vehicle", "from-epa", "--make", "toyota", "--model", "prius"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "unknown EPA 2022 make 'toyota'. The EPA 2022 list holds battery-electric test vehicles only" in result.stderr


@pytest.mark.parametrize(("data", "message"), [
    (bytes(range(256)), "file in {path}: expected UTF-8 YAML text, received 'binary data (byte 128 is 0x80)'"),
    ("mass_kilograms: 0\n", "mass_kilograms in {path}: expected a number in [300, 40000] kg (as twinloop's "
                            "test_mass), received 0.0"),
])
def test_import_fastsim_refuses_broken_files_in_one_line(runner: CliRunner, tmp_path: Path,
                                                         data: bytes | str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(FASTSIM.read_text().replace("mass_kilograms: 1600.0\n", data))
    _one_line_error(runner.invoke(main, ["vehicle", "import-fastsim", str(path)]), message.format(path=path))


def test_validate_reads_a_file_with_a_byte_order_mark(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text(runner.invoke(main, ["vehicle", "show", "nissan_leaf_40kwh_2018"]).stdout, encoding="utf-8-sig")
    result = runner.invoke(main, ["vehicle", "validate", str(path)])
    assert result.exit_code == 0 and result.stdout.startswith("ok: nissan_leaf_40kwh_2018")


def test_validate_refuses_a_stray_coastdown_key_that_would_remove_air_drag(runner: CliRunner, tmp_path: Path) -> None:
    text = runner.invoke(main, ["vehicle", "show", "nissan_leaf_40kwh_2018"]).stdout
    path = tmp_path / "stray.toml"
    path.write_text(text.replace("drag_coefficient = 0.28\n", "drag_coefficient = 0.28\ncoastdown_a_n = 150\n"))
    result = runner.invoke(main, ["vehicle", "validate", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip().endswith(
        "received 'drag_coefficient, frontal_area_m2, rolling_resistance_coefficient and coastdown_a_n'. "
        "coastdown_b_n_per_mps and coastdown_c_n_per_mps2 are missing from the coast-down form")


# -- hostile user: an output that names an input is refused, and the input kept -----------------

def _udds_trace(path: Path) -> Path:
    from twinloop.cycles import load_cycle

    cycle = load_cycle("udds")
    lines = [f"{t:g},{v:.6g}" for t, v in zip(cycle.time, cycle.vehicle_speed, strict=True)]
    path.write_text("time_s,speed_mps\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("case", ["from-epa", "import-fastsim", "calibrate-lab-vehicle", "calibrate-lab-cycle",
                                  "calibrate-lab-symlink"])
def test_output_naming_an_input_is_refused_and_the_input_kept(runner: CliRunner, tmp_path: Path, case: str) -> None:
    from importlib import resources

    calibrate = ["vehicle", "calibrate-lab", "--measured-wh-per-mile", "250"]
    if case == "from-epa":
        source = tmp_path / "tstcar.csv"
        with resources.as_file(resources.files("twinloop.parameters") / "data" / "22-tstcar-electric.csv") as p:
            source.write_bytes(p.read_bytes())
        args = ["vehicle", "from-epa", str(source), "--make", "nissan", "--model", "leaf", "-o", str(source)]
    elif case == "import-fastsim":
        source = tmp_path / "zoe.yaml"
        source.write_bytes(FASTSIM.read_bytes())
        args = ["vehicle", "import-fastsim", str(source), "-o", str(source)]
    elif case == "calibrate-lab-cycle":
        source = _udds_trace(tmp_path / "trip.csv")
        args = [*calibrate, "-v", "nissan_leaf_40kwh_2018", "-c", str(source), "-o", str(source)]
    else:
        source = tmp_path / "leaf.toml"
        source.write_text(runner.invoke(main, ["vehicle", "show", "nissan_leaf_40kwh_2018"]).stdout)
        output = source
        if case == "calibrate-lab-symlink":
            output = tmp_path / "leaf_calibrated.toml"
            output.symlink_to(source)
        args = [*calibrate, "-v", str(source), "-o", str(output)]
    before = source.read_bytes()
    line = _error_line(runner.invoke(main, args))
    assert line.startswith("error: --output: expected a file this command does not read, received "), line
    assert "It is an input file of this command" in line and "nothing was written" in line
    assert source.read_bytes() == before
