"""Telemetry files a user would ingest, made by the twin core: shared by the CLI and docs tests.

On the pytest path (``pythonpath`` in pyproject.toml): test modules are imported
in importlib mode and cannot import one another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twinloop.cycles import Cycle, load_cycle
from twinloop.parameters import resolve_vehicle
from twinloop.signals import default_catalog
from twinloop.sim import Scenario, simulate

CYCLES = ("udds", "hwfet", "us06", "wltc_3b", "nrel13", "wltc_3a")
AMBIENT = "Vehicle.Exterior.AirTemperature"


def telemetry_parquet(
    path: Path, vehicle: str, n: int, seed: int, start: str, payload: float = 0.0, ambient: bool = True
) -> Path:
    """A wide Parquet file in VSS units: `n` simulated trips of `vehicle` over the bundled cycles, 3 h apart.

    Speed scaled by U[0.8, 1.05] and the start SoC drawn from U[0.5, 0.95]
    per trip; key ON for each trip and OFF at its last sample; 20 °C
    ambient (``ambient=False`` leaves that column out).
    """
    rng = np.random.default_rng(seed)
    catalog, spec, parts = default_catalog(), resolve_vehicle(vehicle), []
    for i in range(n):
        c = load_cycle(CYCLES[i % len(CYCLES)])
        cycle = Cycle(c.name, c.time, c.vehicle_speed * rng.uniform(0.8, 1.05), c.road_grade)
        r = simulate(spec, Scenario(cycle, payload=payload, soc_start=rng.uniform(0.5, 0.95)), record=True)
        assert r.series is not None and r.time is not None
        s = {k: v[0] for k, v in r.series.items()}
        si = {
            "Vehicle.Speed": s["vehicle_speed"],
            "Vehicle.Powertrain.TractionBattery.CurrentCurrent": s["battery_current"],
            "Vehicle.Powertrain.TractionBattery.CurrentVoltage": s["battery_voltage"],
            "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": s["state_of_charge"],
            "Vehicle.Powertrain.TractionBattery.Temperature.Average": s["battery_temperature"],
            AMBIENT: np.full(r.time.size, 293.15),
        }
        key = np.full(r.time.size, "ON", dtype=object)
        key[-1] = "OFF"
        times = pd.Timestamp(start) + pd.Timedelta(hours=3 * i) + pd.to_timedelta(r.time, unit="s")
        parts.append(pd.DataFrame({"time": times, **{p: catalog[p].from_si(v) for p, v in si.items()},
                                   "Vehicle.LowVoltageSystemState": key}))
    frame = pd.concat(parts, ignore_index=True)
    if not ambient:
        frame = frame.drop(columns=[AMBIENT])
    frame.to_parquet(path, index=False)
    return path
