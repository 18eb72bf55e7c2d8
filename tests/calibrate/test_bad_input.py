"""Bad telemetry is refused with a message that says what is missing or wrong."""

from __future__ import annotations

import numpy as np
import pytest

from twinloop.calibrate import CalibrationOptions, calibrate_from_trips
from twinloop.errors import CalibrationError, DataError, UnknownNameError, ValidationError

from .conftest import own_model_trips


@pytest.fixture
def trips(truth):
    return own_model_trips(truth)


def test_missing_current_column_is_named(prior, trips):
    trips[0] = trips[0].drop(columns="battery_current")
    with pytest.raises(DataError, match=r"trip 0: missing column.*'battery_current'"):
        calibrate_from_trips(trips, prior)


def test_nan_is_refused_with_its_column_and_row(prior, trips):
    trips[1].loc[100, "battery_voltage"] = np.nan
    with pytest.raises(DataError, match=r"trip 1: column 'battery_voltage' has 1 missing.*row 100"):
        calibrate_from_trips(trips, prior)


def test_sensor_gap_is_refused(prior, trips):
    trips[2] = trips[2].drop(index=range(200, 230)).reset_index(drop=True)
    with pytest.raises(DataError, match="sensor gap of 31 s"):
        calibrate_from_trips(trips, prior)


def test_uneven_sampling_is_refused(prior, trips):
    trips[0].loc[10:, "time"] += 0.5
    with pytest.raises(DataError, match="uneven sampling"):
        calibrate_from_trips(trips, prior)


def test_stuck_current_is_refused(prior, trips):
    trips[3].loc[300:400, "battery_current"] = 42.0
    with pytest.raises(DataError, match="'battery_current' is stuck at 42 for"):
        calibrate_from_trips(trips, prior)


def test_constant_voltage_is_refused(prior, trips):
    trips[0]["battery_voltage"] = 360.0
    with pytest.raises(DataError, match="'battery_voltage' is stuck: constant at 360"):
        calibrate_from_trips(trips, prior)


def test_saturated_current_is_refused(prior, trips):
    trips[2]["battery_current"] = trips[2]["battery_current"].clip(upper=150.0)
    with pytest.raises(DataError, match="saturated at 150 A"):
        calibrate_from_trips(trips, prior)


def test_speed_in_km_per_h_is_refused(prior, trips):
    trips[1]["vehicle_speed"] *= 3.6 * 1.2
    with pytest.raises(DataError, match="'vehicle_speed' must be in"):
        calibrate_from_trips(trips, prior)


def test_speed_a_factor_3_6_too_low_is_refused_at_an_absurd_mass(prior, trips):
    # km/h values divided by 3.6 once too often: within every range check, but no vehicle of this
    # mass would use that energy at those speeds, and the mass runs away from its prior
    for trip in trips:
        trip["vehicle_speed"] /= 3.6
    with pytest.raises(CalibrationError, match=r"test_mass comes out at \d+, \d+ prior standard deviations from"
                                               r" the vehicle's .* check the units of speed"):
        calibrate_from_trips(trips, prior)


def test_too_little_driving_is_a_calibration_error(prior, trips):
    with pytest.raises(CalibrationError, match=r"not enough driving: \d+\.\d min.*need at least 15 min"):
        calibrate_from_trips([trips[0].iloc[:600]], prior)


def test_no_braking_makes_regen_unidentifiable(prior, truth):
    t = np.arange(0.0, 1800.0)
    trip = own_model_trips(truth)[1].iloc[:0]  # columns only
    trip = trip.reindex(range(t.size))
    trip["time"] = t
    trip["vehicle_speed"] = np.minimum(t / 20.0, 25.0) + 0.01 * np.sin(t)
    trip["road_grade"] = 0.0
    trip["ambient_temperature"] = 293.15
    trip["battery_voltage"] = 355.0 + np.sin(t / 50)
    trip["battery_current"] = 30.0 + np.sin(t / 7)
    with pytest.raises(CalibrationError, match=r"no braking events.*regen_efficiency"):
        calibrate_from_trips(trip, prior)


def test_unknown_names_suggest_the_closest(prior, trips):
    with pytest.raises(UnknownNameError, match="did you mean 'physical'"):
        calibrate_from_trips(trips, prior, form="physicl")
    with pytest.raises(UnknownNameError, match="did you mean 'test_mass'"):
        calibrate_from_trips(trips, prior, fixed=["test_mas"])
    with pytest.raises(ValidationError, match="prior_std"):
        calibrate_from_trips(trips, prior, prior_std={"test_mass": -1.0})


def test_options_relax_the_driving_limit(prior, trips):
    options = CalibrationOptions(min_driving_time=60.0)
    result = calibrate_from_trips([trips[0].iloc[:600]], prior, options=options)
    assert result.n_samples == 599  # the first sample only opens the averaging window


@pytest.mark.parametrize(
    ("options", "field"),
    [({"speed_noise": float("nan")}, "speed_noise"), ({"speed_noise": -0.1}, "speed_noise"), ({"simex_replicates": -1}, "simex_replicates")],
)
def test_options_that_would_silently_switch_the_noise_correction_off_are_refused(options, field):
    with pytest.raises(ValidationError, match=rf"^{field} in CalibrationOptions: expected"):
        CalibrationOptions(**options)
