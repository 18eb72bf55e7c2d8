"""Derive the bundled signal catalog from a COVESA VSS source tree (developer tool).

Run once when the VSS release changes; the package never needs the VSS tree
at run time::

    python -m twinloop.signals._derive_vss /path/to/vehicle_signal_specification/spec \
        src/twinloop/signals/data/vss_catalog.json

The reader follows ``#include FILE PREFIX`` lines and flattens the YAML
nodes to dotted paths. It does not expand instances (``Row1.DriverSide``),
which is enough for the signals twinloop uses; the full tool is ``vss-tools``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

__all__: list[str] = []

VSS_COMMIT = "ce67f927"

# VSS path -> (glossary quantity, sign). The sign turns VSS's "positive into
# the battery" into the glossary's "positive discharging".
SELECTION: dict[str, tuple[str, float]] = {
    "Vehicle.Speed": ("vehicle_speed", 1.0),
    "Vehicle.Acceleration.Longitudinal": ("acceleration", 1.0),
    "Vehicle.TraveledDistance": ("distance", 1.0),
    "Vehicle.LowVoltageSystemState": ("low_voltage_system_state", 1.0),
    "Vehicle.CurrentLocation.Latitude": ("latitude", 1.0),
    "Vehicle.CurrentLocation.Longitude": ("longitude", 1.0),
    "Vehicle.CurrentLocation.Altitude": ("altitude", 1.0),
    "Vehicle.Exterior.AirTemperature": ("ambient_temperature", 1.0),
    "Vehicle.Cabin.HVAC.AmbientAirTemperature": ("cabin_temperature", 1.0),
    "Vehicle.Cabin.HVAC.IsAirConditioningActive": ("air_conditioning_active", 1.0),
    "Vehicle.Chassis.Accelerator.PedalPosition": ("accelerator_pedal_position", 1.0),
    "Vehicle.Chassis.Brake.PedalPosition": ("brake_pedal_position", 1.0),
    "Vehicle.Powertrain.ElectricMotor.Speed": ("motor_speed", 1.0),
    "Vehicle.Powertrain.ElectricMotor.Torque": ("motor_torque", 1.0),
    "Vehicle.Powertrain.ElectricMotor.Power": ("motor_power", 1.0),
    "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": ("state_of_charge", 1.0),
    "Vehicle.Powertrain.TractionBattery.StateOfCharge.CurrentEnergy": ("battery_energy", 1.0),
    "Vehicle.Powertrain.TractionBattery.StateOfHealth": ("state_of_health", 1.0),
    "Vehicle.Powertrain.TractionBattery.CurrentCurrent": ("battery_current", -1.0),
    "Vehicle.Powertrain.TractionBattery.CurrentVoltage": ("battery_voltage", 1.0),
    "Vehicle.Powertrain.TractionBattery.CurrentPower": ("battery_power", -1.0),
    "Vehicle.Powertrain.TractionBattery.Temperature.Average": ("battery_temperature", 1.0),
}

_INCLUDE = re.compile(r"^#include\s+(\S+)(?:\s+(\S+))?", re.MULTILINE)


def flatten(root: Path) -> dict[str, dict[str, Any]]:
    """Flatten the VSS tree under `root` to ``{path: node}``."""
    out: dict[str, dict[str, Any]] = {}

    def load(path: Path, prefix: str) -> None:
        text = path.read_text(encoding="utf-8")
        for key, node in (yaml.safe_load(text) or {}).items():
            out[f"{prefix}.{key}" if prefix else key] = node
        for match in _INCLUDE.finditer(text):
            name, sub = match.group(1), match.group(2)
            target = next(
                p
                for p in (path.parent / name, root / name, root / "include" / Path(name).name)
                if p.exists()
            )
            if sub is None:
                new = prefix
            elif sub.startswith("Vehicle") or not prefix:
                new = sub
            else:
                new = f"{prefix}.{sub}"
            load(target, new)

    load(root / "VehicleSignalSpecification.vspec", "")
    return out


def derive(root: Path) -> dict[str, Any]:
    """Return the catalog document for the selected signals."""
    tree = flatten(root)
    signals = []
    for path, (quantity, sign) in SELECTION.items():
        node = tree[path]
        signals.append(
            {
                "path": path,
                "datatype": node["datatype"],
                "type": node["type"],
                "unit": node.get("unit"),
                "min": node.get("min"),
                "max": node.get("max"),
                "allowed": node.get("allowed"),
                "description": " ".join(str(node.get("description", "")).split()),
                "quantity": quantity,
                "sign": sign,
                "source": "vss",
            }
        )
    return {
        "source": "COVESA Vehicle Signal Specification, main after v6.0, commit " + VSS_COMMIT,
        "license": "MPL-2.0",
        "signals": signals,
    }


if __name__ == "__main__":
    doc = derive(Path(sys.argv[1]))
    Path(sys.argv[2]).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
