"""The twin apps: what a twin is for (range, energy, profiles, health, design).

Each app composes a twin, the simulator and the store into one typed result
(numbers with units and intervals, the inputs it used, the model version);
no printing and no file I/O inside. The command line and the service are
thin adapters over them.

Modules: :mod:`~twinloop.apps.profiles` (driving metrics of a trip or cycle),
:mod:`~twinloop.apps.profile_store` (those of every stored trip, kept in the store).

The database functions load on first use: `twinloop profile metrics` must
not pay for pandas and the store drivers.
"""

from __future__ import annotations

from twinloop._internal.lazy import lazy_exports

# public name -> the module that defines it
_EXPORTS = {
    "METRIC_NAMES": "twinloop.apps.profiles",
    "TripMetrics": "twinloop.apps.profiles",
    "cycle_metrics": "twinloop.apps.profiles",
    "metrics_frame": "twinloop.apps.profiles",
    "trip_metrics": "twinloop.apps.profiles",
    "PROFILE_SCHEMA": "twinloop.apps.profile_store",
    "ProfileBuild": "twinloop.apps.profile_store",
    "build_trip_profiles": "twinloop.apps.profile_store",
    "trip_profiles": "twinloop.apps.profile_store",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
