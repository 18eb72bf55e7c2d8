"""The twin apps: what a twin is for (range, energy, profiles, health, design).

Each app composes a twin, the simulator and the store into one typed result
(numbers with units and intervals, the inputs it used, the model version);
no printing and no file I/O inside. The command line and the service are
thin adapters over them.

Modules: :mod:`~twinloop.apps.profiles` (driving metrics of a trip or cycle).
"""

from twinloop.apps.profiles import (
    METRIC_NAMES,
    TripMetrics,
    cycle_metrics,
    metrics_frame,
    trip_metrics,
)

__all__ = ["METRIC_NAMES", "TripMetrics", "cycle_metrics", "metrics_frame", "trip_metrics"]
