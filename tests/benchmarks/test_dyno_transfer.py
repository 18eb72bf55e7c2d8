"""The dynamometer-transfer benchmark's reading, energy integration and transfer, without ../shared.

The file tests are tiny CSVs in the GECR data set's layout, with energies
computed by hand. The transfer test makes its "lab tests" with the
simulator itself, so calibrating on two of them and predicting two others
must be exact up to the calibration model's discretisation.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twinloop.cycles import load_cycle
from twinloop.sim import Scenario, simulate

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "dyno_transfer.py"
COLUMNS = ["Time", "PhaseTime", "DAScheduleSpeed", "DAActualSpeed", "REESSCurrent", "REESSCurrent2",
           "REESSVoltage", "REESSVoltage2"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("dyno_transfer", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while being defined
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def lab_file(path: Path, speed_kph: np.ndarray, held_rows: int = 3) -> Path:
    """A test in the data set's layout: 20 Hz, 400 V, 10 A main and 1 A second branch discharging.

    The logger's clock stops at the end: `held_rows` more rows repeat the last PhaseTime.
    """
    n = speed_kph.size
    t = 1200.0 + 0.05 * np.arange(1, n + 1)  # constant-speed files start mid-procedure
    t = np.concatenate([t, np.full(held_rows, t[-1])])
    v = np.concatenate([speed_kph, np.zeros(held_rows)])
    frame = pd.DataFrame({"Time": "2022-11-04 11:50:09.031", "PhaseTime": t, "DAScheduleSpeed": v,
                          "DAActualSpeed": v, "REESSCurrent": -10.0, "REESSCurrent2": -1.0,
                          "REESSVoltage": 400.0, "REESSVoltage2": 400.0}, columns=COLUMNS)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)  # .csv.xz: pandas compresses by the suffix, as the data set is stored
    return path


def test_energy_per_distance_counts_both_branches_or_only_the_main(bench, tmp_path):
    path = lab_file(tmp_path / "CLTC_CSS" / "06_CS_20_1.csv.xz", np.full(2001, 36.0), held_rows=3)
    both = bench.read_lab_test(path)
    main = bench.read_lab_test(path, second_branch=False)
    # 100 s at 10 m/s = 1 km; 4,400 W (4,000 W without the second branch) for 100 s
    assert both.dropped_rows == 3 and both.time[0] == 0.0
    assert both.distance == pytest.approx(1000.0)
    assert both.wh_per_km == pytest.approx(4400 * 100 / 3600)
    assert main.wh_per_km == pytest.approx(4000 * 100 / 3600)
    assert both.cycle == "constant 20 km/h"


def test_a_clock_that_stops_before_the_end_is_refused(bench, tmp_path):
    path = lab_file(tmp_path / "x" / "07_CLTC_1.csv", np.full(200, 36.0), held_rows=50)
    with pytest.raises(ValueError, match="PhaseTime stops increasing"):
        bench.read_lab_test(path)


def test_tests_sharing_a_speed_column_are_excluded(bench, tmp_path):
    speed = np.concatenate([np.linspace(0, 50, 400), np.linspace(50, 0, 400)])
    folder = tmp_path / "lab"
    lab_file(folder / "UDDS_HWY_US06_NYCC_CSS" / "01_UDDS_01.csv.xz", speed)
    lab_file(folder / "UDDS_HWY_US06_NYCC_CSS" / "02_UDDS_02.csv.xz", speed)
    lab_file(folder / "UDDS_HWY_US06_NYCC_CSS" / "08_UDDS_1.csv.xz", speed * 1.01)
    tests, excluded = bench.read_lab_data(folder)
    assert [t.name for t in tests] == ["UDDS_HWY_US06_NYCC_CSS/08_UDDS_1"]
    assert excluded == ["UDDS_HWY_US06_NYCC_CSS/01_UDDS_01", "UDDS_HWY_US06_NYCC_CSS/02_UDDS_02"]


@pytest.mark.parametrize(("stem", "cycle"), [
    ("07_CLTC_1", "CLTC"), ("07_HWYFET_1", "HWFET"), ("04_SPEED_65", "constant 65 km/h"),
    ("06_Artemis_motorway_130_1", "Artemis motorway 130"), ("11_CS_110_2", "constant 110 km/h"),
])
def test_cycle_is_read_from_the_file_name(bench, stem, cycle):
    assert bench.cycle_of(stem) == cycle


def simulated_lab_test(bench, spec, cycle_name):
    """A "lab test" of `spec` made by the simulator: 10 Hz, terminal V·I as the logger measures it."""
    r = simulate(spec, Scenario(load_cycle(cycle_name), condition="dynamometer", time_step=0.1), record=True)
    s = {k: v[0] for k, v in r.series.items()}
    return bench.LabTest(name=cycle_name, cycle=cycle_name, time=r.time - r.time[0], vehicle_speed=s["vehicle_speed"],
                         battery_voltage=s["battery_voltage"],
                         battery_power=s["battery_voltage"] * s["battery_current"])


def test_twin_calibrated_on_simulated_tests_predicts_other_simulated_cycles(bench):
    prior = bench.resolve_vehicle(bench.VEHICLE)
    # a car with more drivetrain loss and auxiliary load than the shipped spec says
    truth = prior.with_changes(gearbox_efficiency=0.93, auxiliary_power=450.0)
    calibration = [simulated_lab_test(bench, truth, c) for c in ("udds", "wltc_3b")]
    targets = [simulated_lab_test(bench, truth, c) for c in ("hwfet", "us06")]
    out = bench.transfer(prior, calibration, [*calibration, *targets])
    # Measured when written: errors -0.010 % (HWFET) and +0.001 % (US06); drive efficiency 0.9299,
    # auxiliary 448 W; the shipped spec 7.9 % (median). The bounds leave room for solver changes.
    assert out["n_tests"] == 2 and out["calibrated_on"] == ["udds", "wltc_3b"]
    assert out["max_abs_err_pct"] < 0.3
    assert out["calibration"]["drive_efficiency"] == pytest.approx(0.93, abs=0.005)
    assert out["calibration"]["auxiliary_power_w"] == pytest.approx(450.0, rel=0.05)
    # the shipped spec misses by several per cent: the calibration is what closes the gap
    assert out["baseline"]["median_abs_err_pct"] > 2.0
