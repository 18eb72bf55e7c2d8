"""The range-app-on-EPA benchmark's helpers: held-out specs, the wall conversion and the interval scores.

The full run (MyEV's 17 folds) takes minutes and is not repeated here; these
check the parts it is made of, with values computed by hand or by MyEV's own
predictor.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from twinloop.cycles import load_cycle
from twinloop.sim import Scenario, simulate

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "range_epa.py"
MILE = 1609.344


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("range_epa", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wall_energy_per_mile_divides_by_the_charger_and_draws_nothing_for_a_gain(bench):
    # 1 kWh at the battery through a 0.9 charger over 2 miles: 1000 / 0.9 / 2 Wh/mi
    out = bench.wall_wh_per_mile([3.6e6, -1.0e6], 0.9, 2 * MILE)
    assert out == pytest.approx([1000 / 0.9 / 2, 0.0])


def test_interval_scores_count_inside_below_and_above(bench):
    s = bench.interval_scores([100, 100, 100, 100, 100], [90, 100, 110, 130, 80],
                              [85, 95, 100, 120, 70], [95, 105, 120, 140, 90])
    # errors -10, 0, +10, +30, -20 %: median |error| 10 %, signed median 0 %
    assert s["n"] == 5
    assert s["median_abs_err_pct"] == pytest.approx(10.0)
    assert s["median_err_pct"] == pytest.approx(0.0)
    # 100 lies inside rows 2 and 3 (boundaries count), above p90 in rows 1 and 5, below p10 in row 4
    assert (s["inside_80_pct"], s["above_p90_pct"], s["below_p10_pct"]) == (40.0, 40.0, 20.0)
    assert "inside_80_pct" not in bench.interval_scores([100], [90])


def test_the_spread_for_coverage_puts_that_share_inside_the_prior_interval(bench):
    rng = np.random.default_rng(3)
    measured = 200 * np.exp(rng.normal(0.05, 0.1, 500))
    median = np.full(500, 200.0)
    spread = bench.spread_for_coverage(measured, median)
    half = spread * bench.Z_UPPER  # the prior interval of forecast_range: median * exp(±spread * z90)
    s = bench.interval_scores(measured, median, median * np.exp(-half), median * np.exp(half))
    assert s["inside_80_pct"] == pytest.approx(80.0, abs=0.3)


def test_fold_constants_are_keyed_by_the_manufacturer_left_out_and_other_fits_are_refused(bench):
    makes = np.array(["A", "B", "A", "C"])
    theta = np.arange(6.0)
    got = bench.constants_by_left_out_make([(np.array([1, 3]), theta)], makes)
    assert list(got) == ["A"] and got["A"] is theta
    with pytest.raises(ValueError, match="not a leave-one-manufacturer-out fold"):
        bench.constants_by_left_out_make([(np.array([1]), theta)], makes)  # leaves out A and C


def test_the_fit_recorder_keeps_generic_fits_only_and_restores_myev(bench):
    original = bench.myev_epa.fit
    with bench.recorded_generic_fits() as fits:
        assert bench.myev_epa.fit is not original
        # a two-constant (baseline) fit is not recorded
        bench.myev_epa.fit(lambda t, rows: np.full(len(rows), t[0]), np.array([0, 1]), np.array([0.8, 0.8]),
                           np.array([0.85, 0.6]), np.array([0.5, 0.0]), np.array([1.0, 1.0]))
    assert fits == [] and bench.myev_epa.fit is original


def test_held_out_spec_simulates_as_myev_predicts_its_tests(bench):
    # The twin's spec carries the fold's constants exactly as MyEV's predictor writes them in:
    # simulated in the lab condition, it gives the predictor's wall energy per mile. A two-speed
    # Porsche is included so that the transmission drag term is checked too.
    two = bench.held_out_tests()
    rows = np.r_[np.flatnonzero(two.gears.to_numpy() > 1)[:1], np.flatnonzero(two.gears.to_numpy() == 1)[:1]]
    assert len(rows) == 2
    theta = np.array([0.02, 0.001, 0.009, 150.0, 0.91, 500.0])
    sub = two.iloc[rows].reset_index(drop=True)
    predictor = bench.Predictor(sub, {p: load_cycle(c) for p, c in bench.CYCLES.items()})
    expected = predictor.wh_per_mile(theta)
    for i, r in sub.iterrows():
        spec = bench.held_out_spec(r, theta)
        res = simulate([spec], Scenario(load_cycle(r.test_procedure), condition="dynamometer"))
        assert res.wall_energy[0] / 3600 / (res.distance[0] / MILE) == pytest.approx(expected[i], rel=1e-9)
