"""Data-driven and hybrid consumption models, scikit-learn compatible.

The names below load on first use: the twin's physics model needs only
``twinloop.learn.features``, and a command line that imports it must not pay
for scikit-learn (about a second).
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'twinloop.learn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
