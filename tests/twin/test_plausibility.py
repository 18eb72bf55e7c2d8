"""Odometer plausibility: each case is a way a fleet's odometer or speed data goes wrong."""

from __future__ import annotations

import pytest

from twinloop.twin.plausibility import (
    MIN_COMPARED_DISTANCE,
    ODOMETER_TOLERANCE,
    odometer_regression,
    odometer_speed_mismatch,
)


def test_an_odometer_reset_is_caught():
    assert "below the twin's 150000.0 km" in odometer_regression(150_000e3, 10e3)


def test_an_unknown_previous_odometer_or_rounding_is_not_a_regression():
    assert odometer_regression(None, 0.0) is None
    assert odometer_regression(1e6, 1e6 - ODOMETER_TOLERANCE) is None


@pytest.mark.parametrize(("ratio", "hint"), [
    (3.6, "speed in m/s stored as km/h"),
    (1 / 3.6, "speed in km/h stored as m/s"),
    (1.609344, "an odometer in miles read as kilometres"),
    (1 / 1.609344, "speed in mph read as km/h"),
    (1000.0, "an odometer in metres read as kilometres"),
    (2.0, "speed not logged while driving"),
    (0.5, "a speed signal in another unit"),
])
def test_a_unit_slip_is_named_by_its_ratio(ratio, hint):
    note = odometer_speed_mismatch(10_000.0 * ratio, 10_000.0)
    assert note is not None and hint in note and f"ratio {ratio:.2f}" in note


def test_agreement_and_too_little_driving_say_nothing():
    assert odometer_speed_mismatch(10_000.0, 9_000.0) is None  # logging gaps: within the band
    assert odometer_speed_mismatch(MIN_COMPARED_DISTANCE / 2, MIN_COMPARED_DISTANCE / 8) is None


def test_an_odometer_going_back_while_driving_or_driving_without_speed_is_noted():
    assert "went back by 5.0 km" in odometer_speed_mismatch(-5_000.0, 3_000.0)
    assert "shows no driving" in odometer_speed_mismatch(5_000.0, 0.0)
