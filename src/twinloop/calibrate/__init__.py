"""Vehicle-level calibration from the vehicle's own trip telemetry.

:func:`~twinloop.calibrate.trips.calibrate_from_trips` fits road load
(mass with drag area and rolling resistance, or coast-down A, B, C),
drivetrain efficiency (driving and regenerating) and auxiliary power to
measured battery power, with parameter uncertainty; see ``docs/calibration.md``.

:func:`~twinloop.calibrate.lab.calibrate_on_lab_test` calibrates a twin on
one laboratory result (an EPA UDDS test) with a population prior, and predicts
other cycles with a standard deviation.

:func:`~twinloop.calibrate.regen.regen_power_limit` reads the
regenerative power cap a vehicle shows where its trips reach it.
"""

from twinloop.calibrate._data import TelemetryChecks
from twinloop.calibrate._model import FORMS
from twinloop.calibrate.lab import LabCalibration, LabPrior, calibrate_on_lab_test
from twinloop.calibrate.regen import regen_power_limit
from twinloop.calibrate.trips import (
    CalibrationOptions,
    CalibrationResult,
    calibrate_from_trips,
    model_battery_power,
    predict_battery_power,
)

__all__ = [
    "FORMS",
    "CalibrationOptions",
    "CalibrationResult",
    "LabCalibration",
    "LabPrior",
    "TelemetryChecks",
    "calibrate_from_trips",
    "calibrate_on_lab_test",
    "model_battery_power",
    "predict_battery_power",
    "regen_power_limit",
]
