"""Calibration on one laboratory test: Bayes on a grid, prediction with uncertainty."""

import numpy as np
import pytest

from twinloop.calibrate import LabPrior, calibrate_on_lab_test
from twinloop.calibrate.lab import FINE_LOG_SCALE, lab_grid, refine
from twinloop.cycles import load_cycle
from twinloop.errors import CalibrationError, ValidationError
from twinloop.parameters.epa import epa_vehicle_spec
from twinloop.sim import stack_vehicles

UDDS, HWFET = load_cycle("udds"), load_cycle("hwfet")


@pytest.fixture(scope="module")
def leaf():
    return epa_vehicle_spec("nissan", "leaf")


def _truth(spec, k, share):
    """Wall energy per metre of `spec` with its losses scaled by k and regeneration share `share`."""
    true = spec.with_changes(
        copper_loss=spec.copper_loss * k, iron_loss=spec.iron_loss * k, windage_loss=spec.windage_loss * k,
        constant_loss=spec.constant_loss * k, auxiliary_power=spec.auxiliary_power * k, regen_axle_share=share)
    params, tables = stack_vehicles([true])
    from twinloop.calibrate.lab import DYNAMOMETER
    from twinloop.sim import Scenario

    out = {}
    for cycle in (UDDS, HWFET):
        r = DYNAMOMETER.simulate_parameters(params, tables, Scenario(cycle, hvac="off"),
                                            charger_efficiency=spec.charger_efficiency)
        out[cycle.name] = float(r.wall_energy[0] / r.distance[0])
    return out


def test_grid_is_one_fleet_run_and_rises_with_the_loss_scale(leaf):
    params, tables = stack_vehicles([leaf, leaf.with_changes(test_mass=leaf.test_mass * 1.2)])
    e = lab_grid(params, tables, UDDS, 0.9)
    assert e.shape == (2, 21, 10)
    assert np.all(np.diff(e[0], axis=0) > 0)  # more loss, more energy
    assert np.all(np.diff(e[0], axis=1) < 0)  # more regeneration, less energy
    assert np.all(e[1] > e[0])  # heavier, more energy
    assert lab_grid(params[0], tables[0], UDDS, 0.9).shape == (21, 10)


def test_refine_keeps_the_coarse_values():
    coarse = np.exp(np.add.outer(np.linspace(0, 1, 21), np.linspace(0, 0.5, 10)))
    fine = refine(coarse)
    np.testing.assert_allclose(fine[::4, ::4], coarse)


def test_recovers_the_other_cycle_of_a_vehicle_generated_by_the_model(leaf):
    # A tight prior around the true regeneration share: the UDDS result then pins k,
    # and the highway prediction must match the model's own highway energy.
    truth = _truth(leaf, 1.6, 0.8)
    prior = LabPrior(mean=(0.0, 0.8), cov=((0.25, 0.0), (0.0, 1e-4)), source="test")
    cal = calibrate_on_lab_test(leaf, UDDS, truth["udds"], prior=prior, measurement_sd=0.005)
    assert cal.loss_scale == pytest.approx(1.6, rel=0.05)
    mean, sd = cal.predict(HWFET, model_error=0.0)
    assert mean == pytest.approx(truth["hwfet"], rel=0.01)
    assert 0 < sd < 0.02 * mean
    assert cal.predict(HWFET)[1] > 0.033 * mean  # the cycle-to-cycle model error is added by default
    assert cal.spec.constant_loss == pytest.approx(leaf.constant_loss * cal.loss_scale)
    assert cal.spec.regen_axle_share == pytest.approx(cal.regen_share)


def test_the_measurement_moves_the_posterior_from_the_prior(leaf):
    base = _truth(leaf, 1.0, 0.9)["udds"]
    low = calibrate_on_lab_test(leaf, UDDS, 0.9 * base)
    high = calibrate_on_lab_test(leaf, UDDS, 1.1 * base)
    assert low.loss_scale < 1.0 < high.loss_scale
    assert low.predict(HWFET)[0] < high.predict(HWFET)[0]
    assert np.isclose(low.weights.sum(), 1.0) and low.weights.shape == (len(FINE_LOG_SCALE), 37)


def test_prior_from_points_is_robust_to_an_outlier():
    rng = np.random.default_rng(0)
    points = np.c_[rng.normal(0.1, 0.2, 60), rng.normal(0.8, 0.05, 60)]
    clean = LabPrior.from_points(points, "clean")
    dirty = LabPrior.from_points(np.vstack([points, [[3.0, 0.1]]]), "with outlier")
    assert dirty.mean == pytest.approx(clean.mean, abs=0.03)
    assert dirty.cov[0][0] < 2 * clean.cov[0][0]


def test_bad_input_is_named(leaf):
    with pytest.raises(ValidationError, match="wall_energy_per_distance"):
        calibrate_on_lab_test(leaf, UDDS, float("nan"))
    with pytest.raises(ValidationError, match="measurement_sd"):
        calibrate_on_lab_test(leaf, UDDS, 600.0, measurement_sd=0.0)
    with pytest.raises(ValidationError, match="cov"):
        LabPrior(cov=((1.0, 2.0), (2.0, 1.0)))
    with pytest.raises(CalibrationError, match="at least 5"):
        LabPrior.from_points([[0.0, 0.9]], "too few")


def test_a_measurement_out_of_the_twins_reach_is_refused_not_pinned_to_the_grid_edge(leaf):
    # kWh/100 mi typed as Wh/mi x 10 (1920 for 192): no loss scale up to 6 gets there
    with pytest.raises(CalibrationError, match=r"measured 1920 Wh/mi on udds is out of reach of .*: .* it uses "
                                               r"\d+-\d+ Wh/mi; check the unit"):
        calibrate_on_lab_test(leaf, UDDS, 1920.0 * 3600 / 1609.344)
    with pytest.raises(CalibrationError, match=r"measured 100 Wh/mi on udds is out of reach"):
        calibrate_on_lab_test(leaf, UDDS, 100.0 * 3600 / 1609.344)
