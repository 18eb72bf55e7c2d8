"""The EPA accuracy benchmark in CI, so that an accuracy regression fails the build.

Two checks: the library's generic model (``epa2022:*`` specs with
``GENERIC_CONSTANTS``) on every UDDS and highway test, and the benchmark's own
leave-manufacturer-out procedure on a sample of manufacturers.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from twinloop.cycles import load_cycle
from twinloop.parameters.epa import read_epa_tests, spec_from_epa_row
from twinloop.sim import Scenario, simulate

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "epa_accuracy.py"
MILE = 1609.344


@pytest.fixture(scope="module")
def sample_result():
    spec = importlib.util.spec_from_file_location("epa_accuracy", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(["--sample", "6"])


@pytest.mark.parametrize(("cycle", "median", "p90"), [("udds", 0.05, 0.16), ("hwfet", 0.035, 0.13)])
def test_library_generic_model_on_every_epa_test(cycle, median, p90):
    # In-sample for the generic constants (they were fitted on these tests), so this
    # guards the physics and the EPA mapping, not the cross-validated figure.
    # Measured when written: UDDS 4.1 % / 14.0 %, highway 2.5 % / 11.6 % (median / p90).
    tests = read_epa_tests()
    rows = tests[(tests.test_procedure == cycle) & tests.wh_per_mile.notna()]
    # the lab condition: all braking through the driven axle, climate off, 75 °F
    specs = [spec_from_epa_row(r) for _, r in rows.iterrows()]
    r = simulate(specs, Scenario(load_cycle(cycle), condition="dynamometer"))
    error = np.abs(r.wall_energy / 3600 / (r.distance / MILE) / rows.wh_per_mile.to_numpy() - 1)
    assert np.median(error) < median
    assert np.percentile(error, 90) < p90


def test_epa_sample_accuracy_does_not_regress(sample_result):
    # 6 manufacturers spread through the alphabet, each left out of its own fit.
    # Measured when written: UDDS median 6.4 %, highway 6.8 %; fits on 5 makes are noisy.
    assert sample_result["udds"]["median_abs_err_pct"] < 9.0
    assert sample_result["hwfet"]["median_abs_err_pct"] < 9.0


def test_epa_unit_quirk_is_detected(sample_result):
    assert sample_result["unit_fixed_count"] == 43
