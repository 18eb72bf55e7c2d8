"""Driver profiles: trips pooled by hand-computed cases, and pooled metrics equal to one joined trip's."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from twinloop.apps.profile_drivers import UNCLASSIFIED, pool_trips
from twinloop.apps.profile_histograms import moving_histograms
from twinloop.apps.profiles import trip_metrics


def _row(t, v, start, style=None):
    m = trip_metrics(t, v).to_dict()
    return {**{k: m[k] for k in m if not k.endswith("_distribution")},
            "distributions": {k: m[k] for k in ("speed_distribution", "acceleration_distribution")},
            "histograms": moving_histograms(np.asarray(t, float), np.asarray(v, float)),
            "start_time": start, "style": style}


def test_two_trips_pooled_by_hand():
    # trip A: 0 -> 10 m/s in 10 s, 10 s at 10, 10 -> 0 in 10 s: 200 m in 30 s, 50 J/kg up
    a = _row([0, 10, 20, 30], [0, 10, 10, 0], datetime(2024, 5, 1, 7, tzinfo=UTC), "calm")
    # trip B: 0 -> 20 m/s in 10 s, 20 s at 20, 20 -> 0 in 10 s, then 20 s stopped: 600 m in 60 s, 200 J/kg up
    b = _row([0, 10, 30, 40, 60], [0, 20, 20, 0, 0], datetime(2024, 5, 1, 17, tzinfo=UTC), "dynamic")
    p = pool_trips([a, b])
    assert (p["trips"], p["distance_m"], p["duration_s"]) == (2, 800.0, 90.0)
    assert p["average_speed_mps"] == pytest.approx(800 / 90)
    assert p["average_driving_speed_mps"] == pytest.approx(800 / 70)  # B stands still 20 s
    assert p["characteristic_acceleration_mps2"] == pytest.approx((50 + 200) / 800)
    assert p["characteristic_deceleration_mps2"] == pytest.approx(-(50 + 200) / 800)
    assert p["idle_fraction"] == pytest.approx(20 / 90)
    assert p["stops_per_km"] == pytest.approx(1000 * 1 / 800)  # B stops (a moving step, then a stopped one); A ends moving
    # aerodynamic speed: the sum of the cubed-speed integrals over the distance
    cube_a = 2 * 10 * 10**3 / 4 + 10 * 10**3
    cube_b = 2 * 10 * 20**3 / 4 + 20 * 20**3
    assert p["aerodynamic_speed_mps"] == pytest.approx(math.sqrt((cube_a + cube_b) / 800))
    assert p["kinetic_intensity_per_km"] == pytest.approx(1000 * (250 / 800) / ((cube_a + cube_b) / 800))
    assert p["distributions"]["speed_distribution"]["stopped"] == pytest.approx(20 / 90)
    assert sum(p["distributions"]["acceleration_distribution"].values()) == pytest.approx(1.0)
    # of the 70 s moving, 30 s are ramp steps with mean speeds below 9.75 m/s (A: 0.5 ... 9.5, B: 1, 3 ... 9),
    # then A's 10 s at 10 m/s fill the bin 9.75-10.25: the median is half way through it
    assert p["speed_p50_mps"] == pytest.approx(10.0)
    assert p["days"] == 1 and p["day_distance_median_m"] == 800.0
    assert p["style_shares"] == {"calm": pytest.approx(30 / 90), "dynamic": pytest.approx(60 / 90)}


def test_pooled_per_metre_metrics_are_those_of_the_trips_driven_as_one():
    # trips that start and end at rest, joined end to start, drive as one trip of both distances
    ta, va = np.arange(0.0, 61.0), np.clip(np.sin(np.arange(0.0, 61.0) / 60 * np.pi) * 15, 0, None)
    tb, vb = np.arange(0.0, 41.0), np.concatenate([np.linspace(0, 25, 11), np.full(19, 25.0), np.linspace(25, 0, 11)])
    joined = trip_metrics(np.concatenate([ta, ta[-1] + tb[1:]]), np.concatenate([va, vb[1:]]))
    start = datetime(2024, 5, 1, tzinfo=UTC)
    p = pool_trips([_row(ta, va, start), _row(tb, vb, start)])
    for name in ("distance_m", "duration_s", "average_speed_mps", "average_driving_speed_mps",
                 "characteristic_acceleration_mps2", "characteristic_deceleration_mps2",
                 "aerodynamic_speed_mps", "kinetic_intensity_per_km", "idle_fraction"):
        assert p[name] == pytest.approx(getattr(joined, name), rel=1e-12), name
    for kind in ("speed_distribution", "acceleration_distribution"):
        for b, share in getattr(joined, kind).items():
            assert p["distributions"][kind][b] == pytest.approx(share, abs=1e-12), (kind, b)


def test_typical_day_distance_is_the_median_over_days_driven():
    day = [datetime(2024, 5, d, 8, tzinfo=UTC) for d in (1, 1, 2, 5)]
    rows = [{"distance_m": x, "duration_s": 60.0, "start_time": s, "style": None}
            for x, s in zip([1000.0, 3000.0, 10000.0, 500.0], day, strict=True)]
    p = pool_trips(rows)
    assert p["days"] == 3
    assert p["day_distance_median_m"] == 4000.0  # days of 4000, 10000 and 500 m
    assert p["style_shares"] == {UNCLASSIFIED: 1.0}
    assert math.isnan(p["speed_p50_mps"])  # no histograms: no percentiles


def test_trips_that_never_move_do_not_make_nan_of_the_driver():
    still = {"distance_m": 0.0, "duration_s": 100.0, "characteristic_acceleration_mps2": None,
             "aerodynamic_speed_mps": None, "idle_fraction": 1.0, "start_time": datetime(2024, 5, 1, tzinfo=UTC)}
    moving = {"distance_m": 1000.0, "duration_s": 100.0, "characteristic_acceleration_mps2": 0.2,
              "aerodynamic_speed_mps": 10.0, "idle_fraction": 0.0, "start_time": datetime(2024, 5, 1, tzinfo=UTC)}
    p = pool_trips([still, moving])
    assert p["characteristic_acceleration_mps2"] == pytest.approx(0.2)
    assert p["aerodynamic_speed_mps"] == pytest.approx(10.0)
    assert p["idle_fraction"] == pytest.approx(0.5) and p["average_driving_speed_mps"] == pytest.approx(10.0)
    assert math.isnan(pool_trips([still])["kinetic_intensity_per_km"])
