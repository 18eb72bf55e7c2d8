"""Digital twins: one vehicle's record, its versioned models, its lifecycle, trips, state and health.

Modules: :mod:`~twinloop.twin.record` (identity and state),
:mod:`~twinloop.twin.registry` and :mod:`~twinloop.twin.repository` (model
versions, champion and challengers, kept in the store),
:mod:`~twinloop.twin.lifecycle` (create, calibrate, update),
:mod:`~twinloop.twin.trips` (trip tables), :mod:`~twinloop.twin.state`
(sync with the latest telemetry), :mod:`~twinloop.twin.health` (battery
health from stored trips) and :mod:`~twinloop.twin.drift`.

See ``docs/twins.md``. The names below load on first use: a command that
imports one module must not pay for the store drivers and scikit-learn.
"""

from __future__ import annotations

from twinloop._internal.lazy import lazy_exports

# public name -> the module that defines it
_EXPORTS = {
    "PhysicsConsumptionModel": "twinloop.twin.consumption",
    "CusumResult": "twinloop.twin.drift",
    "ResidualBand": "twinloop.twin.drift",
    "cusum": "twinloop.twin.drift",
    "TwinRecord": "twinloop.twin.record",
    "TwinState": "twinloop.twin.record",
    "MODEL_TYPES": "twinloop.twin.registry",
    "ConsumptionModel": "twinloop.twin.registry",
    "ModelRegistry": "twinloop.twin.registry",
    "ModelVersion": "twinloop.twin.registry",
    "Provenance": "twinloop.twin.registry",
    "TwinRepository": "twinloop.twin.repository",
    "Twin": "twinloop.twin.lifecycle",
    "calibrate": "twinloop.twin.lifecycle",
    "check_drift_and_recalibrate": "twinloop.twin.lifecycle",
    "create_twin": "twinloop.twin.lifecycle",
    "open_twin": "twinloop.twin.lifecycle",
    "StoreCalibration": "twinloop.twin.lifecycle",
    "StoreUpdate": "twinloop.twin.lifecycle",
    "calibrate_from_store": "twinloop.twin.lifecycle",
    "update_from_store": "twinloop.twin.lifecycle",
    "health_from_store": "twinloop.twin.health",
    "StretchCapacities": "twinloop.twin.health",
    "stretch_capacities": "twinloop.twin.health",
    "trace_features": "twinloop.twin.trips",
    "StoreSync": "twinloop.twin.state",
    "sync_state": "twinloop.twin.state",
    "TripTableOptions": "twinloop.twin.trips",
    "trip_table": "twinloop.twin.trips",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
