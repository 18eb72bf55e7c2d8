"""Digital twins: one vehicle's record, its versioned models, drift, calibration and battery state.

``soh`` tracks a vehicle's battery capacity, state of health and resistance
from its trips (``health_from_store`` reads them from the telemetry store).

See ``docs/twins.md`` (record, registry, drift), ``docs/calibration.md`` and
``docs/battery.md``.

The names below load on first use: importing a sub-package such as
``twinloop.twin.battery`` (the battery command line) must not pay for the
store drivers and scikit-learn that the twin registry needs.
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
    "Twin": "twinloop.twin.service",
    "calibrate": "twinloop.twin.service",
    "check_drift_and_recalibrate": "twinloop.twin.service",
    "create_twin": "twinloop.twin.service",
    "open_twin": "twinloop.twin.service",
    "CapacityEstimate": "twinloop.twin.soh",
    "HealthTrack": "twinloop.twin.soh",
    "ResistanceEstimate": "twinloop.twin.soh",
    "SensorNoise": "twinloop.twin.soh",
    "health_track": "twinloop.twin.soh",
    "pack_capacity": "twinloop.twin.soh",
    "pack_resistance": "twinloop.twin.soh",
    "StoreCalibration": "twinloop.twin.telemetry",
    "StoreSync": "twinloop.twin.telemetry",
    "StoreUpdate": "twinloop.twin.telemetry",
    "calibrate_from_store": "twinloop.twin.telemetry",
    "health_from_store": "twinloop.twin.telemetry",
    "sync_state": "twinloop.twin.telemetry",
    "trip_table": "twinloop.twin.telemetry",
    "update_from_store": "twinloop.twin.telemetry",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
