"""Simulated drives written to a telemetry store as key-on/key-off trips, for the twin's tests.

Telemetry is the simulator's: a bundled vehicle driven over the bundled
cycles (speed scaled per trip, a rolling grade on some), its time series
written to the store as trips three hours apart. On pytest's ``pythonpath``
(``tests/_support``), so every test module of the twin can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from twinloop.cycles import Cycle, load_cycle
from twinloop.parameters import resolve_vehicle
from twinloop.parameters.spec import VehicleSpec
from twinloop.signals.vss import (
    AMBIENT,
    BATTERY_TEMPERATURE,
    CURRENT,
    GRADE,
    IGNITION,
    SOC,
    SPEED,
    VOLTAGE,
)
from twinloop.sim import Scenario, simulate
from twinloop.store import SampleBatch, TelemetryStore

VIN = "5YJ3E1EA7KF000001"
LEAF = resolve_vehicle("nissan_leaf_40kwh_2018")
CYCLES = ("udds", "hwfet", "us06", "wltc_3b", "nrel13", "wltc_3a")
T0 = datetime(2024, 5, 1, 6, tzinfo=UTC)
KEY = IGNITION


@dataclass
class Drive:
    """One simulated trip: SI series by VSS path and the simulator's own totals."""

    start: datetime
    time: npt.NDArray[np.float64]  # [s] since start
    series: dict[str, npt.NDArray[np.float64]]
    energy_per_distance: float  # terminal energy / distance [J m-1]
    distance: float  # [m]


def drive(
    spec: VehicleSpec,
    n: int,
    seed: int,
    first: datetime = T0,
    payload: float = 0.0,
    grade: bool = True,
) -> list[Drive]:
    """`n` trips of `spec` over the bundled cycles, 3 h apart from `first`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        c = load_cycle(CYCLES[i % len(CYCLES)])
        g = 0.02 * np.sin(2 * np.pi * c.time / rng.uniform(200, 600)) if grade else np.zeros_like(c.time)
        cycle = Cycle(c.name, c.time, c.vehicle_speed * rng.uniform(0.8, 1.05), g)
        ambient = rng.uniform(289.0, 297.0)  # inside the comfort band: no HVAC
        r = simulate(
            spec,
            Scenario(cycle, payload=payload, soc_start=rng.uniform(0.5, 0.95), ambient_temperature=ambient),
            record=True,
        )
        assert r.series is not None and r.time is not None
        s = {k: v[0] for k, v in r.series.items()}
        key = np.full(r.time.size, 4.0)  # ON, then OFF at the last sample
        key[-1] = 2.0
        series = {
            SPEED: s["vehicle_speed"],
            CURRENT: s["battery_current"],
            VOLTAGE: s["battery_voltage"],
            SOC: s["state_of_charge"],
            BATTERY_TEMPERATURE: s["battery_temperature"],
            AMBIENT: np.full(r.time.size, ambient),
            KEY: key,
        }
        if grade:
            series[GRADE] = np.interp(r.time, cycle.time, g)
        out.append(
            Drive(
                first + timedelta(hours=3 * i),
                r.time,
                series,
                float(r.battery_terminal_energy[0] / r.distance[0]),
                float(r.distance[0]),
            )
        )
    return out


def write(store: TelemetryStore, drives: list[Drive], vin: str = VIN) -> None:
    """Store the drives' samples (one batch each) and recompute the vehicle's trips."""
    iid = store.begin_ingest(vin, "simulation", f"{id(drives):x}")
    for no, d in enumerate(drives):
        ids = store.signal_ids(d.series)
        t0 = int(d.start.timestamp() * 1e6)
        us = t0 + np.round(d.time * 1e6).astype(np.int64)
        table = sample_table(ids, us, d.series)
        store.write_batch(iid, no, vin, SampleBatch(table))
    store.finish_ingest(iid, {})
    store.detect_trips(vin)


def sample_table(ids: dict[str, int], us: npt.NDArray[np.int64], series: dict[str, npt.NDArray[np.float64]]) -> pa.Table:
    """The store's long sample table of `series` (VSS path -> values) at times `us` [microseconds since the epoch]."""
    return pa.concat_tables([
        pa.table({
            "signal_id": pa.array(np.full(us.size, ids[p]), pa.int32()),
            "time": pa.array(us, pa.int64()).cast(pa.timestamp("us")),
            "value": pa.array(v, pa.float64()),
        })
        for p, v in series.items()
    ])


def without(d: Drive, *paths: str) -> Drive:
    return Drive(d.start, d.time, {p: v for p, v in d.series.items() if p not in paths}, d.energy_per_distance, d.distance)


def subset(d: Drive, keep: npt.NDArray[np.bool_], paths: tuple[str, ...] | None = None) -> Drive:
    """`d` with only the samples `keep` (of `paths` only, when given)."""
    series = {p: v[keep] for p, v in d.series.items() if paths is None or p in paths}
    return Drive(d.start, d.time[keep], series, d.energy_per_distance, d.distance)


