"""`twinloop simulate --condition dynamometer` reproduces the EPA benchmark's model of a test.

A user who wants to compare a vehicle of the EPA list with its EPA figure
runs ``twinloop simulate -v epa2022:... -c udds --condition dynamometer``. That
must be the benchmark's own prediction of the test, to its printed precision
(the table's 0.001 Wh/mi), so that the benchmark's accuracy is what the user
gets.

Which prediction: the benchmark's per-test figures are cross-validated, each
with generic constants refitted leaving the vehicle's manufacturer out (17
sets of constants), and no library vehicle carries those. The library's
``epa2022:*`` vehicles carry ``GENERIC_CONSTANTS``, the benchmark's fit on all
tests (rounded). So the benchmark's model is run here with those constants,
through its own ``Predictor``: same spec, same scenario, same simulator call.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from click.testing import CliRunner

from twinloop.cli import main
from twinloop.cycles import load_cycle
from twinloop.parameters.epa import GENERIC_CONSTANTS, epa_fleet, read_epa_tests

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
MILE = 1609.344


@pytest.fixture(scope="module")
def epa_accuracy() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))  # the script imports its sibling _common
    try:
        spec = importlib.util.spec_from_file_location("epa_accuracy", BENCHMARKS / "epa_accuracy.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


def _benchmark_wh_per_mile(module: ModuleType, name: str, cycle: str) -> float:
    """The benchmark's prediction of `name`'s first `cycle` test, with the library's generic constants."""
    vehicle = epa_fleet().set_index("name").loc[name]
    tests = read_epa_tests()
    rows = tests[(tests.make == vehicle.make) & (tests.model == vehicle.model)
                 & (tests.test_vehicle_id == vehicle.test_vehicle_id)
                 & (tests.configuration == vehicle.configuration) & (tests.test_procedure == cycle)]
    predictor = module.Predictor(rows.reset_index(drop=True), {cycle: load_cycle(cycle)})
    theta = np.array([GENERIC_CONSTANTS[name] for name, *_ in module.THETA])
    return float(predictor.wh_per_mile(theta)[0])


def _cli_wh_per_mile(name: str, cycle: str) -> tuple[float, str]:
    """Wall energy per mile from the command's JSON, and its table."""
    runner = CliRunner()
    args = ["simulate", "-v", name, "-c", cycle, "--condition", "dynamometer"]
    as_json = runner.invoke(main, [*args, "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    summary = json.loads(as_json.stdout)
    table = runner.invoke(main, args)
    assert table.exit_code == 0, table.output
    return summary["wall_energy_wh"] / (summary["distance_m"] / MILE), table.stdout


@pytest.mark.parametrize(("name", "cycle"), [
    ("epa2022:nissan_leaf_kwb115_c0", "udds"),  # front-wheel drive: the road condition is 11 % higher
    ("epa2022:nissan_leaf_kwb115_c0", "hwfet"),
    ("epa2022:tesla_model_3_rwd_3r022_043763_c0", "udds"),  # rear-wheel drive
    ("epa2022:audi_e_tron_gt_nazg_gt60_126_c0", "udds"),  # two gears: the generic transmission drag
])
def test_simulate_on_the_dynamometer_is_the_benchmarks_prediction(epa_accuracy, name, cycle):
    benchmark = _benchmark_wh_per_mile(epa_accuracy, name, cycle)
    cli, table = _cli_wh_per_mile(name, cycle)
    # The JSON rounds the wall energy to 1 mWh and the distance to 1 cm: 1e-4 Wh/mi at most,
    # well inside the benchmark's printed 0.001 Wh/mi. Both run the same model on the same
    # numbers, so anything beyond that rounding is a difference between the two.
    assert cli == pytest.approx(benchmark, abs=5e-4)
    # and the table a user reads shows the same figure, per km to 0.1 Wh
    assert f"({benchmark / MILE * 1000:.1f} Wh/km)" in table
    assert "condition        dynamometer, 23.9 °C, climate off" in table


def test_the_road_condition_is_not_the_lab_figure(epa_accuracy):
    # What the issue reported: without the condition a front-wheel-drive car brakes partly on its
    # rear wheels, 10-15 % above the lab figure on the UDDS.
    name = "epa2022:nissan_leaf_kwb115_c0"
    runner = CliRunner()
    road = json.loads(runner.invoke(main, ["simulate", "-v", name, "-c", "udds", "--ambient-c", "23.9", "--hvac",
                                           "off", "--format", "json"]).stdout)
    lab, _ = _cli_wh_per_mile(name, "udds")
    assert 1.09 < road["wall_energy_wh"] / (road["distance_m"] / MILE) / lab < 1.15
