"""Data-driven and hybrid consumption models, scikit-learn compatible."""

from twinloop.learn._learners import LEARNERS
from twinloop.learn.datasets import simulated_trips, split_trace
from twinloop.learn.estimators import ConsumptionRegressor, HybridConsumptionRegressor
from twinloop.learn.features import FEATURES, TARGET, feature_frame, trip_features
from twinloop.learn.road_load import road_load_consumption

__all__ = [
    "FEATURES",
    "LEARNERS",
    "TARGET",
    "ConsumptionRegressor",
    "HybridConsumptionRegressor",
    "feature_frame",
    "road_load_consumption",
    "simulated_trips",
    "split_trace",
    "trip_features",
]
