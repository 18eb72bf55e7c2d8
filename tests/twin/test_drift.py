"""Drift detection: the CUSUM chart, and the twin's drift check with recalibration on a real store."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from twinloop.errors import CalibrationError, ValidationError
from twinloop.twin.consumption import PhysicsConsumptionModel
from twinloop.twin.drift import ResidualBand, cusum, standardise
from twinloop.twin.lifecycle import (
    DRIFT_EVENT,
    calibrate,
    check_drift_and_recalibrate,
    create_twin,
    open_twin,
)


def _loop(z, k, h):
    """The textbook recursion, one sample at a time (reference for the closed form)."""
    up = down = 0.0
    ups, downs = [], []
    for x in z:
        up, down = max(0.0, up + x - k), max(0.0, down - x - k)
        ups.append(up)
        downs.append(down)
    return np.array(ups), np.array(downs)


def test_hand_computed_upward_shift():
    r = cusum([0, 0, 0, 2, 2, 2, 2], k=0.5, h=3)
    assert (r.alarm, r.direction, r.change_start) == (5, 1, 3)
    assert r.upper.tolist() == [0.0, 0.0, 0.0, 1.5, 3.0, 4.5, 6.0]
    assert r.lower.tolist() == [0.0] * 7


def test_downward_shift_alarms_on_the_lower_side():
    r = cusum([0.1, -0.2, -2, -2, -2, -2], k=0.5, h=4)
    assert (r.alarm, r.direction, r.change_start) == (4, -1, 2)


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_equals_the_recursion(seed):
    z = np.random.default_rng(seed).standard_normal(500) + np.linspace(0, 1, 500)
    r = cusum(z, k=0.3, h=1e9)
    up, down = _loop(z, 0.3, 1e9)
    np.testing.assert_allclose(r.upper, up, atol=1e-9)
    np.testing.assert_allclose(r.lower, down, atol=1e-9)
    assert r.alarm is None and r.direction == 0


def test_one_sigma_shift_is_found_within_a_bounded_delay():
    # k=0.5, h=5: the average delay for a 1-sigma shift is about 10 samples
    # (Page 1954; Montgomery, Statistical Quality Control, table 9.3: 10.4).
    delays = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        z = np.r_[rng.standard_normal(50), rng.standard_normal(150) + 1.0]
        r = cusum(z, k=0.5, h=5.0)
        if r.alarm is not None and r.alarm < 50:
            continue  # a false alarm before the shift: counted by the next test's rate
        assert r.alarm is not None
        delays.append(r.alarm - 50)
    assert len(delays) >= 80
    assert np.median(delays) <= 15
    assert max(delays) <= 40


def test_stationary_noise_gives_no_alarm_in_most_seeds():
    # In-control average run length ~465 (two-sided): P(alarm in 100 samples) ~ 0.2.
    alarms = sum(cusum(np.random.default_rng(s).standard_normal(100)).alarm is not None for s in range(100))
    assert alarms < 30


def test_alarm_estimates_where_the_shift_began():
    rng = np.random.default_rng(7)
    z = np.r_[rng.standard_normal(80) * 0.3, rng.standard_normal(40) * 0.3 + 2.0]
    r = cusum(z)
    assert r.direction == 1 and 80 <= r.alarm <= 85
    assert 75 <= r.change_start <= 81


def test_bad_parameters_and_inputs_are_refused():
    with pytest.raises(ValidationError, match=r"k: expected >= 0"):
        cusum([0.0], k=-1)
    with pytest.raises(ValidationError, match=r"h: expected > 0"):
        cusum([0.0], h=0)
    with pytest.raises(ValidationError, match=r"z: expected finite"):
        cusum([0.0, np.nan])
    with pytest.raises(ValidationError, match=r"1-D"):
        cusum(np.zeros((2, 2)))


def test_residual_band_and_standardising():
    band = ResidualBand.of([2.0, 4.0, 2.0, 4.0])
    assert (band.mean, band.std) == (3.0, 1.0)
    assert standardise([3.0, 5.0], band).tolist() == [0.0, 2.0]
    with pytest.raises(ValidationError, match=r"residual_band.std"):
        ResidualBand(0.0, 0.0)


# ---- the drift check of a twin, on DuckDB and PostgreSQL -------------------------

def _truth(spec, **changes):
    params = {"drivetrain_efficiency": 0.8, "regen_efficiency": 0.5, "auxiliary_power": 400.0}
    return PhysicsConsumptionModel.from_spec(spec, **{**params, **changes})


def _measured(model, X, seed):
    # Meter and driver noise of 15 J/m (4 Wh/km) on every trip, whatever its length.
    return model.predict(X) + 15.0 * np.random.default_rng(seed).standard_normal(len(X))


@pytest.fixture
def calibrated(store, compact_car, trips):
    twin = create_twin(store, "VIN1", compact_car, created_by="test")
    X = trips(200, seed=10)
    calibrate(twin, X, _measured(_truth(compact_car), X, seed=11), created_by="test")
    return open_twin(store, "VIN1")


def test_champion_without_residual_band_must_be_calibrated_first(store, compact_car, trips):
    twin = create_twin(store, "VIN1", compact_car)
    X = trips(20)
    with pytest.raises(CalibrationError, match=r"no residual band.*calibrate it first"):
        check_drift_and_recalibrate(twin, X, _measured(_truth(compact_car), X, 0))


def test_calibration_makes_a_banded_champion(calibrated):
    champ = calibrated.registry.champion()
    assert champ.version == 2 and champ.provenance.reason == "calibration"
    assert champ.residual_band is not None and champ.validation_error is not None
    assert champ.model().drivetrain_efficiency == pytest.approx(0.8, rel=0.05)
    assert champ.training_start == pd.Timestamp("2024-01-01", tz="UTC")


def test_no_drift_on_the_same_vehicle_changes_nothing(calibrated, compact_car, trips):
    # One fixed draw on which the chart stays quiet; the false-alarm rate
    # itself is tested on the chart alone above.
    X = trips(40, seed=24, start="2024-03-01")
    out = check_drift_and_recalibrate(calibrated, X, _measured(_truth(compact_car), X, 25))
    assert not out.drift and out.new_version is None
    assert [v.version for v in calibrated.registry.history()] == [1, 2]
    assert calibrated.store.events("VIN1", DRIFT_EVENT).num_rows == 0


def test_drift_refits_on_the_recent_window_and_records_an_event(calibrated, compact_car, trips):
    # A heater left on from trip 10: +1500 W auxiliary load.
    X = trips(50, seed=30, start="2024-03-01")
    y = np.r_[
        _measured(_truth(compact_car), X.iloc[:10], 31),
        _measured(_truth(compact_car, auxiliary_power=1900.0), X.iloc[10:], 32),
    ]
    out = check_drift_and_recalibrate(calibrated, X, y)
    assert out.drift and out.cusum.direction == 1 and 10 <= out.cusum.alarm <= 12
    new = out.new_version
    assert new is not None and new.provenance.reason == "drift" and new.provenance.parent_version == 2
    assert new.status == "champion" and calibrated.registry.champion().version == new.version
    assert new.model().auxiliary_power == pytest.approx(1900.0, rel=0.15)
    assert new.training_start >= X.index[out.cusum.change_start]
    events = calibrated.store.events("VIN1", DRIFT_EVENT).to_pylist()
    assert len(events) == 1
    payload = json.loads(events[0]["payload"])
    assert payload["new_version"] == new.version and payload["promoted"] is True
    assert payload["champion"] == 2 and payload["alarm_index"] == out.cusum.alarm


def test_failed_recalibration_keeps_the_champion_and_records_why(calibrated, compact_car, trips):
    X = trips(34, seed=40, start="2024-03-01")
    y = np.r_[
        _measured(_truth(compact_car), X.iloc[:30], 41),
        _measured(_truth(compact_car, auxiliary_power=1900.0), X.iloc[30:], 42),
    ]
    out = check_drift_and_recalibrate(calibrated, X, y)
    assert out.drift and out.new_version is None
    assert re.search(r"needs at least 10 trips of new data, got \d; the champion is kept", out.recalibration_error)
    assert calibrated.registry.champion().version == 2
    assert [v.version for v in calibrated.registry.history()] == [1, 2]
    payload = json.loads(calibrated.store.events("VIN1", DRIFT_EVENT).to_pylist()[0]["payload"])
    assert payload["new_version"] is None and "at least 10 trips" in payload["recalibration_error"]
