"""Digital twins: one vehicle's record, its versioned models, drift, calibration and battery state.

See ``docs/twins.md`` (record, registry, drift), ``docs/calibration.md`` and
``docs/battery.md``.
"""

from twinloop.twin.consumption import PhysicsConsumptionModel
from twinloop.twin.drift import CusumResult, ResidualBand, cusum
from twinloop.twin.record import TwinRecord, TwinState
from twinloop.twin.registry import (
    MODEL_TYPES,
    ConsumptionModel,
    ModelRegistry,
    ModelVersion,
    Provenance,
)
from twinloop.twin.repository import TwinRepository
from twinloop.twin.service import (
    Twin,
    calibrate,
    check_drift_and_recalibrate,
    create_twin,
    open_twin,
)
from twinloop.twin.telemetry import calibrate_from_store, sync_state, trip_table, update_from_store

__all__ = [
    "MODEL_TYPES",
    "ConsumptionModel",
    "CusumResult",
    "ModelRegistry",
    "ModelVersion",
    "PhysicsConsumptionModel",
    "Provenance",
    "ResidualBand",
    "Twin",
    "TwinRecord",
    "TwinRepository",
    "TwinState",
    "calibrate",
    "calibrate_from_store",
    "check_drift_and_recalibrate",
    "create_twin",
    "cusum",
    "open_twin",
    "sync_state",
    "trip_table",
    "update_from_store",
]
