"""Speed and acceleration histograms: hand-computed bins and percentiles, resampling of fast loggers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinloop.apps.profile_histograms import (
    PERCENTILES,
    add_histograms,
    histogram_percentile,
    moving_histograms,
    percentiles,
    resample,
)


def test_bins_hold_the_seconds_moving_by_mean_speed_and_acceleration():
    # 0 -> 2 m/s in 2 s (a = 1), 3 s at 2 m/s, 2 s stopped after braking 2 -> 0 in 1 s (a = -2)
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    v = np.array([0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 0.0, 0.0, 0.0])
    h = moving_histograms(t, v)
    # mean speeds 0.5, 1.5, 2, 2, 2, 1 (moving) and 0, 0 (stopped): bins of 0.5 m/s around k * 0.5
    assert h["speed"] == {"1": 1.0, "2": 1.0, "3": 1.0, "4": 3.0}
    assert h["acceleration"] == {"-20": 1.0, "0": 3.0, "10": 2.0}
    assert sum(h["speed"].values()) == sum(h["acceleration"].values()) == 6.0  # the time moving


def test_a_logger_faster_than_1_hz_is_binned_on_the_1_s_grid():
    # a 20 Hz trace at a steady 10 m/s with a quantisation flicker of 0.078 km/h every other sample
    t = np.arange(0.0, 60.0 + 1e-9, 0.05)
    v = 10.0 + (np.arange(t.size) % 2) * 0.078 / 3.6
    h = moving_histograms(t, v)
    assert set(h["acceleration"]) == {"0"}  # at 20 Hz the flicker would read as +-0.43 m/s2
    assert sum(h["speed"].values()) == pytest.approx(60.0)
    grid, = resample(t)
    assert grid[0] == 0.0 and grid[-1] == pytest.approx(60.0) and np.allclose(np.diff(grid), 1.0)


def test_a_1_hz_or_sparser_trace_is_not_resampled():
    t = np.array([0.0, 2.0, 7.0, 8.0])
    out_t, out_v = resample(t, np.array([1.0, 2.0, 3.0, 4.0]))
    assert out_t is t and out_v.tolist() == [1.0, 2.0, 3.0, 4.0]


def test_percentiles_interpolate_within_a_bin():
    # 40 s in the bin 9.75-10.25 m/s and 10 s in 19.75-20.25 m/s; time spread evenly in each
    h = {"20": 40.0, "40": 10.0}
    assert histogram_percentile(h, 0.5, 50.0) == pytest.approx(9.75 + 0.5 * 25 / 40)
    assert histogram_percentile(h, 0.5, 80.0) == pytest.approx(10.25)
    assert histogram_percentile(h, 0.5, 90.0) == pytest.approx(19.75 + 0.5 * 5 / 10)
    assert histogram_percentile(h, 0.5, 100.0) == pytest.approx(20.25)
    assert math.isnan(histogram_percentile({}, 0.5, 50.0))
    # negative bins (braking) sort numerically, not as text
    assert histogram_percentile({"-12": 1.0, "-3": 1.0, "5": 2.0}, 0.1, 25.0) == pytest.approx(-1.15)


def test_histograms_add_bin_by_bin_and_a_pooled_percentile_is_not_a_mean_of_percentiles():
    a, b = {"20": 30.0}, {"40": 10.0}
    total = add_histograms([a, b])
    assert total == {"20": 30.0, "40": 10.0}
    median = histogram_percentile(total, 0.5, 50.0)
    assert median == pytest.approx(9.75 + 0.5 * 20 / 30)
    assert median != pytest.approx((histogram_percentile(a, 0.5, 50) + histogram_percentile(b, 0.5, 50)) / 2)


def test_percentiles_names_every_column():
    p = percentiles({"speed": {"20": 1.0}, "acceleration": {}})
    assert list(p) == list(PERCENTILES)
    assert p["speed_p50_mps"] == pytest.approx(10.0)
    assert math.isnan(p["acceleration_p95_mps2"])
