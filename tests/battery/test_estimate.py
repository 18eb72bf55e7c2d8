"""SoC estimation: convergence from a wrong start, invariants under random inputs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinloop.battery import TimeSeries, simulate
from twinloop.battery.estimate import SocFilter, estimate_soc
from twinloop.errors import DataError, ValidationError


def test_converges_from_20_points_off(true_cell):
    t = np.arange(0.0, 3000.0, 1.0)
    amps = 10.0 * (np.sin(t / 50.0) > 0) - 3.0 * (np.sin(t / 50.0) < -0.8)
    r = simulate(true_cell, t, amps, 0.9)
    noisy = r.voltage[0] + np.random.default_rng(0).normal(0, 0.002, t.size)
    est = estimate_soc(true_cell, TimeSeries(t, amps, noisy), 0.7, 0.2, voltage_noise=0.005)
    late = t > 300
    err = est.state_of_charge[late] - r.state_of_charge[0, late]
    assert np.max(np.abs(err)) < 0.02
    assert np.mean(np.abs(err) < 3 * est.state_of_charge_std[late]) > 0.9


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0.0, 1.0),
    st.lists(st.tuples(st.floats(-200.0, 200.0), st.floats(0.0, 6.0), st.floats(0.1, 100.0)), min_size=1, max_size=30),
)
def test_soc_stays_in_unit_interval_and_covariance_positive(start, steps):
    true_cell = _cell()
    f = SocFilter(true_cell, start, 0.3)
    for current, voltage, dt in steps:
        f.predict(current, dt)
        f.update(current, voltage)
        assert 0.0 <= f.state_of_charge <= 1.0
        assert np.all(np.linalg.eigvalsh(f.p) > 0)
        assert np.allclose(f.p, f.p.T)


def _cell():
    from twinloop.battery import CellModel, CellTable

    z = np.linspace(0, 1, 21)
    table = CellTable(298.15, 3.0 + 0.9 * z + 0.25 * np.tanh(12 * (z - 0.05)), np.full(11, 0.002), np.full((1, 11), 0.001), [20.0], 36000.0)
    return CellModel(36000.0, (table,), 2.9, 4.2)


def _drive(true_cell, soc=0.9):
    t = np.arange(0.0, 3000.0, 1.0)
    amps = 10.0 * (np.sin(t / 50.0) > 0) - 3.0 * (np.sin(t / 50.0) < -0.8)
    r = simulate(true_cell, t, amps, soc)
    return t, amps, r


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 25.0}, r"temperature.*25 degC is 298.15 K"),
        ({"temperature": float("nan")}, r"temperature.*\[173.15, 373.15\] K"),
        ({"voltage_noise": 5.0}, r"voltage_noise.*\(0, 1\] V.*5 mV is 0.005 V"),
        ({"state_of_charge": 80.0}, r"state_of_charge.*80 % is 0.8"),
        ({"state_of_charge_std": 5.0}, r"state_of_charge_std.*\(0, 1\]"),
    ],
)
def test_estimate_soc_arguments_in_the_wrong_unit_are_refused(true_cell, kwargs, message):
    t, amps, r = _drive(true_cell)
    args = {"state_of_charge": 0.5} | kwargs
    with pytest.raises(ValidationError, match=message):
        estimate_soc(true_cell, TimeSeries(t, amps, r.voltage[0]), **args)


def test_estimate_soc_refuses_a_current_in_ma_or_flipped(true_cell):
    t, amps, r = _drive(true_cell)
    with pytest.raises(DataError, match=r"current_a must be in amperes"):
        estimate_soc(true_cell, TimeSeries(t, amps * 100, r.voltage[0]), 0.5)
    with pytest.raises(DataError, match=r"discharge negative; pass `flip_current`"):
        estimate_soc(true_cell, TimeSeries(t, -amps, r.voltage[0]), 0.5)


def test_estimate_soc_refuses_a_saturated_voltage_sensor(true_cell):
    t, amps, r = _drive(true_cell)
    with pytest.raises(DataError, match=r"saturated"):
        estimate_soc(true_cell, TimeSeries(t, amps, np.minimum(r.voltage[0], np.quantile(r.voltage[0], 0.4))), 0.5)
    with pytest.raises(DataError, match=r"stuck at 3.8 V"):
        estimate_soc(true_cell, TimeSeries(t, amps, np.full(t.size, 3.8)), 0.5)


def test_estimate_soc_refuses_a_logging_gap_of_hours_with_the_current_held(true_cell):
    t, amps, _ = _drive(true_cell)
    t = np.where(t >= 1000, t + 5 * 3600, t)  # the logger stops for 5 h after 10 A
    amps[999] = 10.0
    v = simulate(true_cell, t, np.where(np.arange(t.size) == 999, 0.0, amps), 0.9).voltage[0]
    with pytest.raises(DataError, match=r"gap of 18001 s in time_s after 999 s.*10 A held.*add a sample"):
        estimate_soc(true_cell, TimeSeries(t, amps, v), 0.9)
    # a gap at rest is a parked car: accepted, and the estimate stays on the truth
    amps[999] = 0.0
    r = simulate(true_cell, t, amps, 0.9)
    est = estimate_soc(true_cell, TimeSeries(t, amps, r.voltage[0]), 0.9)
    assert np.max(np.abs(est.state_of_charge - r.state_of_charge[0])) < 0.01


def test_soc_filter_refuses_nan_and_negative_steps():
    f = SocFilter(_cell(), 0.5)
    with pytest.raises(ValidationError, match="time_step"):
        f.predict(1.0, -10.0)
    with pytest.raises(ValidationError, match="current"):
        f.predict(float("nan"), 1.0)
    with pytest.raises(ValidationError, match="voltage"):
        f.update(1.0, float("nan"))
    with pytest.raises(ValidationError, match="current_noise"):
        SocFilter(_cell(), 0.5, current_noise=-1.0)
    assert f.state_of_charge == 0.5


# ---- defects of the hostile review: a sign without current steps, a time in ms
def _constant_current_discharge(true_cell):
    """60 s rest, then 5 A (C/2) from SoC 0.9 to 0.2: no current steps to tell the sign by."""
    t = np.arange(0.0, 5100.0, 1.0)
    amps = np.where(t < 60, 0.0, 5.0)
    r = simulate(true_cell, t, amps, 0.9)
    return t, amps, r


def test_estimate_soc_refuses_a_constant_current_discharge_recorded_with_discharge_negative(true_cell):
    t, amps, r = _constant_current_discharge(true_cell)
    assert r.state_of_charge[0, -1] == pytest.approx(0.2, abs=1e-3)
    with pytest.raises(DataError, match=r"voltage_v falls by 0.6\d\d V while current_a, counted over time_s, charges the "
                       r"cell by 7 Ah .*recorded with discharge negative; pass `flip_current`"):
        estimate_soc(true_cell, TimeSeries(t, -amps, r.voltage[0]), 0.9)


def test_estimate_soc_on_a_constant_current_discharge_with_the_right_sign_follows_the_truth(true_cell):
    t, amps, r = _constant_current_discharge(true_cell)
    est = estimate_soc(true_cell, TimeSeries(t, amps, r.voltage[0]), 0.9)
    assert est.state_of_charge[-1] == pytest.approx(0.2, abs=0.01)


def test_estimate_soc_names_a_time_in_milliseconds(true_cell):
    t, amps, r = _drive(true_cell)
    with pytest.raises(DataError, match=r"time_s looks like milliseconds: .* times the capacity of this 10 Ah cell.*"
                       r"in steps of 1000 as 1 Hz data reads in ms; time_s must be in seconds"):
        estimate_soc(true_cell, TimeSeries(t * 1000, amps, r.voltage[0]), 0.9)


def test_estimate_result_carries_its_output_table_and_document(true_cell):
    t, amps, r = _drive(true_cell)
    est = estimate_soc(true_cell, TimeSeries(t, amps, r.voltage[0]), 0.9)
    columns = est.columns()
    assert list(columns) == ["time_s", "soc", "soc_std", "voltage_pred_v", "innovation_v"]
    assert columns["soc"] is est.state_of_charge
    assert est.metadata() == {"cell": "synthetic", "soc_start": 0.9}
