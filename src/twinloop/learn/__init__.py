"""Data-driven and hybrid consumption models, scikit-learn compatible.

The names below load on first use: the twin's physics model needs only
``twinloop.learn.features``, and a command line that imports it must not pay
for scikit-learn (about a second).
"""

from __future__ import annotations

from twinloop._internal.lazy import lazy_exports

# public name -> the module that defines it
_EXPORTS = {
    "LEARNERS": "twinloop.learn._learners",
    "simulated_trips": "twinloop.learn.datasets",
    "split_trace": "twinloop.learn.datasets",
    "ConsumptionRegressor": "twinloop.learn.estimators",
    "HybridConsumptionRegressor": "twinloop.learn.estimators",
    "FEATURES": "twinloop.learn.features",
    "TARGET": "twinloop.learn.features",
    "feature_frame": "twinloop.learn.features",
    "trip_features": "twinloop.learn.features",
    "road_load_consumption": "twinloop.learn.road_load",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
