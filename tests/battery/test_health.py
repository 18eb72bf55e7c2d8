"""State of health and remaining useful life."""

import numpy as np
import pytest

from twinloop.battery import TimeSeries, simulate
from twinloop.battery.health import (
    capacity_from_charge,
    check_threshold,
    fit_fade,
    forecast_end_of_life,
    forecast_end_of_life_state_space,
    resistance_from_steps,
    state_of_health,
)
from twinloop.errors import CalibrationError, DataError, UnknownNameError, ValidationError


def test_resistance_from_steps_recovers_r0(true_cell):
    t = np.arange(0.0, 600.0)
    amps = np.where((t // 60) % 2 == 1, 20.0, 0.0)
    r = simulate(true_cell, t, amps, 0.8)
    est = resistance_from_steps(TimeSeries(t, amps, r.voltage[0]))
    # the step is R0 I; the RC pairs move by at most 1 s of relaxation (~2 %)
    assert est.size == 9 and np.allclose(est, 0.002, rtol=0.02)


def test_capacity_from_a_charge_from_rest(true_cell):
    t = np.r_[np.arange(0.0, 600.0, 10.0), 600 + np.arange(0.0, 36000.0, 10.0)]
    amps = np.where(t < 600, 0.0, -5.0)
    r = simulate(true_cell, t, amps, 0.3)
    stop = int(np.flatnonzero(r.state_of_charge[0] >= 1.0)[0]) + 1
    s = TimeSeries(t[:stop], np.r_[amps[: stop - 1], 0.0], r.voltage[0, :stop])
    # the rested voltage before the charge gives SoC 0.3 through the OCV
    assert capacity_from_charge(true_cell, s) == pytest.approx(36000.0, rel=0.01)


def test_state_of_health():
    assert float(state_of_health(1.5, 2.0)) == 0.75


def test_forecast_interval_covers_synthetic_truth():
    k = np.arange(1.0, 81.0)
    rng = np.random.default_rng(3)
    q = 2.0 - 0.004 * k + rng.normal(0, 0.01, k.size)
    f = forecast_end_of_life(k, q, 1.4, n_bootstrap=100)
    assert f.interval[0] <= 150 <= f.interval[1]
    assert abs(f.predicted_cycle - 150) < 15


def test_flat_history_is_unobservable():
    k = np.arange(1.0, 30.0)
    with pytest.raises(CalibrationError, match="does not fade"):
        forecast_end_of_life(k, np.full(k.size, 2.0), 1.4)


def test_gap_in_history_is_named():
    k = np.arange(1.0, 30.0)
    q = 2.0 - 0.01 * k
    q[5] = np.nan
    with pytest.raises(DataError, match="position 6"):
        forecast_end_of_life(k, q, 1.4)


def test_unknown_fade_model_suggests_close_names():
    with pytest.raises(UnknownNameError, match="power_law"):
        fit_fade(np.arange(5.0), np.ones(5), "power_low")


def test_forecast_carries_the_distribution_its_interval_is_read_from():
    k = np.arange(1.0, 81.0)
    rng = np.random.default_rng(3)
    q = 2.0 - 0.004 * k + rng.normal(0, 0.01, k.size)
    f = forecast_end_of_life(k, q, 1.4, n_bootstrap=200, level=0.8)
    assert f.crossings.size == 200 and np.all(np.diff(f.crossings) >= 0)
    # central 80 %: at most 10 % of the replicates beyond the upper end, at least 90 % at or after the lower
    assert f.probability_after(f.interval[1]) <= 0.1
    assert f.probability_after(f.interval[0] - 1) >= 0.9
    assert f.probability_after(f.predicted_cycle - 1) >= 0.5 >= f.probability_after(f.predicted_cycle)


def test_probability_beyond_the_horizon_matches_the_distribution():
    k = np.arange(1.0, 41.0)
    q = 2.0 - 0.001 * k + 0.002 * np.sin(k)
    # linear fade reaches 1.4 Ah near cycle 600; the horizon (160) is far short of it
    f = forecast_end_of_life(k, q, 1.4, n_bootstrap=50)
    assert f.probability_beyond_horizon == 1.0 == f.probability_after(f.horizon)
    assert np.isinf(f.predicted_cycle)


def _drifting_fade(seed: int, n: int = 200) -> np.ndarray:
    """Capacity whose fade rate is a random walk (0.0002 Ah/cycle per cycle), noise 0.005 Ah."""
    rng = np.random.default_rng(seed)
    rate = -0.006 + np.cumsum(rng.normal(0, 2e-4, n))
    return 2.0 + np.cumsum(rate) + rng.normal(0, 0.005, n)


def test_state_space_interval_covers_drifting_fade_at_about_its_level():
    k = np.arange(1.0, 201.0)
    hits, widths = [], []
    for seed in range(12):
        q = _drifting_fade(seed)
        below = np.flatnonzero(q < 1.6)
        truth = k[below[0]] if below.size else np.inf
        f = forecast_end_of_life_state_space(k[:40], q[:40], 1.6, models=("local_linear_trend",), n_paths=300, seed=seed)
        hits.append(f.interval[0] <= truth <= f.interval[1] or (np.isinf(truth) and f.interval[1] > k[-1]))
        widths.append(f.interval[1] - f.interval[0])
    # nominal 90 %: 9 or more of 12 has probability 0.97; the intervals stay finite
    assert sum(hits) >= 9
    assert np.median(widths) < 80


def test_state_space_widens_where_the_history_shows_a_changing_rate():
    k = np.arange(1.0, 61.0)
    rng = np.random.default_rng(1)
    steady = 2.0 - 0.005 * k + rng.normal(0, 0.003, k.size)
    # same net fade, but the rate swings between 0.002 and 0.008 Ah/cycle every 10 cycles
    swings = 2.0 - np.cumsum(np.where((k // 10) % 2 == 0, 0.002, 0.008)) + rng.normal(0, 0.003, k.size)
    a = forecast_end_of_life_state_space(k, steady, 1.4, n_paths=400)
    b = forecast_end_of_life_state_space(k, swings, 1.4, n_paths=400)
    assert a.interval[0] <= 120 <= a.interval[1]
    assert b.interval[1] - b.interval[0] > 1.5 * (a.interval[1] - a.interval[0])


def test_state_space_puts_a_slow_fade_beyond_the_record():
    # B0007-like: 84 cycles fading 0.0015 Ah/cycle from 1.89 Ah, 1.4 Ah reached near cycle 330
    k = np.arange(1.0, 85.0)
    rng = np.random.default_rng(7)
    q = 1.89 - 0.0015 * k + rng.normal(0, 0.004, k.size)
    f = forecast_end_of_life_state_space(k, q, 1.4, horizon=400, n_paths=400)
    assert f.predicted_cycle > 168 and f.interval[1] > 168
    assert f.probability_after(168) > 0.9


def test_state_space_mixture_carries_weights_and_a_plain_sample():
    k = np.arange(1.0, 61.0)
    q = 2.0 - 0.005 * k + 0.002 * np.sin(k)
    f = forecast_end_of_life_state_space(k, q, 1.4, n_paths=301)
    assert set(f.weights) == {"local_linear_trend", "local_linear_trend_regeneration"}
    assert sum(f.weights.values()) == pytest.approx(1.0)
    assert f.crossings.size == 301 and np.all(f.crossings[:-1] <= f.crossings[1:])
    assert f.probability_after(f.interval[1]) <= 0.05


def test_state_space_refuses_unknown_models_and_fractional_cycles():
    k = np.arange(1.0, 31.0)
    q = 2.0 - 0.01 * k
    with pytest.raises(UnknownNameError, match="local_linear_trend"):
        forecast_end_of_life_state_space(k, q, 1.4, models=("local_linear_trnd",))
    with pytest.raises(ValidationError, match="whole cycle numbers"):
        forecast_end_of_life_state_space(k + 0.5, q, 1.4)


@pytest.mark.parametrize("forecast", [forecast_end_of_life, forecast_end_of_life_state_space])
def test_forecasts_refuse_a_threshold_in_another_unit_than_the_history(forecast):
    k = np.arange(1.0, 61.0)
    q_mah = 1000 * (2.0 - 0.005 * k)
    with pytest.raises(ValidationError, match=r"first capacity 1995: \[399, 9975\], received 1.4. .*history in mAh"):
        forecast(k, q_mah, 1.4)
    with pytest.raises(ValidationError, match="is the threshold in mAh and the history in Ah"):
        forecast(k, q_mah / 1000, 1400.0)
    with pytest.raises(ValidationError, match="threshold: expected a finite capacity > 0, received nan"):
        forecast(k, q_mah / 1000, float("nan"))


_K = np.arange(1.0, 41.0)
_Q = 2.0 - 0.005 * _K + 0.002 * np.sin(_K)


@pytest.mark.parametrize("forecast", [forecast_end_of_life, forecast_end_of_life_state_space])
def test_forecasts_refuse_a_threshold_above_the_first_capacity(forecast):
    # the history starts below it: used to return cycle 1 with a zero-width interval
    with pytest.raises(ValidationError, match=r"threshold: expected below the first measured capacity \(1.99"):
        forecast(_K, _Q, 2.1)


def test_a_threshold_the_history_already_crossed_gives_the_observed_cycle():
    f = forecast_end_of_life_state_space(_K, _Q, 1.9, n_paths=50)
    first = float(_K[np.argmax(_Q < 1.9)])
    assert f.predicted_cycle == first and f.interval == (first, first) and f.probability_beyond_horizon == 0.0


@pytest.mark.parametrize(
    ("cycles", "capacity", "error", "message"),
    [
        (_K[:3], _Q[:3], CalibrationError, "has 3 cycles; a fade forecast needs at least 10"),
        (_K, np.full(_K.size, 2.0), CalibrationError, "does not fade"),
        (_K, 1.5 + 0.01 * _K, CalibrationError, r"does not fade \(trend \+0.01"),
        (np.r_[_K[:5], np.nan, _K[6:]], _Q, DataError, "1 missing value"),
        (np.r_[_K[:5], _K[6], _K[5], _K[7:]], _Q, ValidationError, r"cycles \(position 7\): expected strictly increasing"),
        (np.r_[_K[:6], _K[5], _K[7:]], _Q, ValidationError, r"cycles \(position 7\): expected strictly increasing, after 6"),
        (_K, np.r_[-_Q[:1], _Q[1:]], ValidationError, r"capacity \(position 1, cycle 1\): expected a capacity > 0"),
    ],
)
def test_rul_with_a_short_flat_rising_nan_or_disordered_history_is_refused(cycles, capacity, error, message):
    for forecast in (forecast_end_of_life, forecast_end_of_life_state_space):
        with pytest.raises(error, match=message):
            forecast(cycles, capacity, 1.4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_paths": 0}, r"n_paths: expected an integer >= 1"),
        ({"n_paths": 100.0}, r"n_paths: expected an integer >= 1"),
        ({"threshold": "1.4"}, r"threshold: expected a finite capacity > 0"),
    ],
)
def test_state_space_counts_and_threshold_of_the_wrong_type_are_named(kwargs, message):
    args = {"threshold": 1.4} | kwargs
    with pytest.raises(ValidationError, match=message):
        forecast_end_of_life_state_space(_K, _Q, **args)


def test_state_space_takes_one_model_name_as_one_model():
    f = forecast_end_of_life_state_space(_K, _Q, 1.8, models="local_linear_trend", n_paths=50)
    assert f.weights == {"local_linear_trend": 1.0}


def test_bootstrap_counts_of_zero_are_named():
    with pytest.raises(ValidationError, match=r"n_bootstrap: expected an integer >= 1"):
        forecast_end_of_life(_K, _Q, 1.4, n_bootstrap=0)
    with pytest.raises(ValidationError, match=r"block: expected an integer >= 1"):
        forecast_end_of_life(_K, _Q, 1.4, block=0)


def test_check_threshold_with_an_empty_history_and_state_of_health_with_text():
    with pytest.raises(ValidationError, match=r"capacity: expected a history of at least one capacity"):
        check_threshold([], 1.4)
    with pytest.raises(ValidationError, match=r"rated_capacity: expected a number > 0"):
        state_of_health([1.6], "2")


def test_a_cycle_number_typo_spanning_millions_of_cycles_is_refused_not_stepped_through():
    # cycle 80 typed as 10,000,000: the filter would step through every cycle of the gap for minutes
    k = np.arange(1.0, 81.0)
    q = 2.0 - 0.005 * k
    k[-1] = 1e7
    for forecast in (forecast_end_of_life, forecast_end_of_life_state_space):
        with pytest.raises(ValidationError, match=r"cycles: expected a history spanning at most 20000 cycles.*"
                                                  r"largest gap is 9\.99992e\+06 cycles, after cycle 79"):
            forecast(k, q, 1.4, horizon=1.001e7)
