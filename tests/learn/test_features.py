"""Trip features and the feature table: misuse is named."""

import numpy as np
import pytest

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.learn import FEATURES, feature_frame, trip_features

T = [0.0, 1.0, 2.0, 3.0]
V = [0.0, 10.0, 10.0, 0.0]


def test_road_grade_of_another_length_is_refused():
    with pytest.raises(ValidationError, match=r"road_grade: expected a number or an array of the shape of speed \(4,\), received 'shape \(2,\)'"):
        trip_features(T, V, road_grade=[0.0, 0.1])


def test_nan_speed_is_named_by_index():
    with pytest.raises(ValidationError, match="speed: expected finite and >= 0 m/s, received 'nan at index 1"):
        trip_features(T, [0.0, np.nan, 10.0, 0.0])


def test_nan_grade_is_refused_not_spread_into_the_features():
    with pytest.raises(ValidationError, match=r"road_grade: expected finite numbers.*nan at index 2"):
        trip_features(T, V, road_grade=[0.0, 0.0, np.nan, 0.0])


def test_celsius_temperature_is_refused():
    with pytest.raises(ValidationError, match=r"ambient_temperature: expected a number in \[223.15, 333.15\] K, received 20.0"):
        trip_features(T, V, ambient_temperature=20.0)


def test_text_speed_is_refused():
    with pytest.raises(ValidationError, match="speed: expected numbers"):
        trip_features(T, ["a", "b", "c", "d"])


def test_feature_frame_misspelt_key_suggests_the_close_match():
    row = trip_features(T, V)
    row["clmb"] = row.pop("climb")
    with pytest.raises(UnknownNameError, match="did you mean 'climb'"):
        feature_frame([row])


def test_feature_frame_missing_key_is_named():
    row = trip_features(T, V)
    del row["descent"]
    with pytest.raises(ValidationError, match=r"rows\[0\]: expected a value for every FEATURES name, received 'missing descent'"):
        feature_frame([row])


def test_feature_frame_of_one_dict_is_refused_with_a_hint():
    with pytest.raises(ValidationError, match=r"Pass \[trip_features\(...\)\]"):
        feature_frame(trip_features(T, V))


def test_feature_frame_columns_and_empty_table():
    assert list(feature_frame([trip_features(T, V)] * 2).columns) == list(FEATURES)
    assert feature_frame([]).shape == (0, len(FEATURES))
