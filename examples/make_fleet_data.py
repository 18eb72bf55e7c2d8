"""Example fleet data: the bundled vehicles driven over real trips, written as CAN logs and Parquet.

    python examples/make_fleet_data.py [--out examples/fleet_data] [--trips N] [--data PATH]

For each bundled vehicle and each of the first N real 1 Hz day traces of the
Chicago 2007 GPS travel survey (six are bundled in ``examples/data/cmap_2007``,
see its PROVENANCE.md; ``--data PATH`` reads all 48 from
``PATH/trips/cmap_2007``, e.g. ``../shared/data``), the twin
core simulates speed, battery current, voltage, state of charge and
temperature; this script writes them

- as a candump log (``.log``) and a Vector ASC log (``.asc``) encoded
  through a production vehicle's DBC: Ford's powertrain CAN
  (``ford_lincoln_base_pt.dbc`` from opendbc, the DBC openpilot uses for
  the Mustang Mach-E and F-150 Lightning; the five messages used are
  copied verbatim into ``examples/data/opendbc/``, see its PROVENANCE.md),
  mapped to VSS by ``ford_lincoln_base_pt_manifest.toml``, and
- as a wide Parquet file in VSS units, with every signal,

then ingests the ``.log`` files into a DuckDB store (``<out>/fleet.duckdb``)
through the same DBC and manifest to show the round trip.

A signal whose simulated values do not fit its DBC signal's range is not
put into that trip's CAN log (the Ford pack voltage, 0 to 510.5 V, cannot
carry the 800-V Ioniq 5's); it stays in the Parquet file, the log is
ingested with a manifest that leaves it out (``<log stem>.manifest.toml``)
and the script says so.

The battery series are the twin core's output (:func:`twinloop.sim.simulate`
with the bundled vehicle's parameters), not measurements; the speed traces
and their timestamps are real.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cantools.database
import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.ingest import Ingester, write_can_log
from twinloop.signals import (
    DecoderManifest,
    SignalCatalog,
    default_catalog,
    encode_series,
    load_dbc,
)
from twinloop.store import open_store

DATA = Path(__file__).resolve().parent / "data"
BUNDLED_TRIPS = DATA / "cmap_2007"
DBC = DATA / "opendbc" / "ford_lincoln_base_pt_excerpt.dbc"
MANIFEST = DATA / "opendbc" / "ford_lincoln_base_pt_manifest.toml"
VEHICLES = resources.files("twinloop.parameters") / "vehicles"


@dataclass(frozen=True)
class SimulatedTrip:
    """SI time series of one simulated trip (the twin core's output)."""

    time: npt.NDArray[np.float64]  # [s since epoch]
    vehicle_speed: npt.NDArray[np.float64]  # [m s-1]
    battery_current: npt.NDArray[np.float64]  # [A], positive discharging
    battery_voltage: npt.NDArray[np.float64]  # [V]
    state_of_charge: npt.NDArray[np.float64]  # [1]
    battery_temperature: npt.NDArray[np.float64]  # [K]
    ambient_temperature: float = 293.15  # [K]


def _day(trip_csv: Path) -> str:
    """The survey day of a trace file: ``2007-08-20`` for ``2007-08-20.csv`` or ``.csv.gz``."""
    return trip_csv.name.split(".")[0]


def simulate_trip(vehicle_name: str, trip_csv: Path) -> SimulatedTrip:
    """Drive `vehicle_name` over the real speed trace `trip_csv` with the twin core.

    The trace is resampled to 1 Hz and simulated by :func:`twinloop.sim.simulate`
    (road load, drivetrain, battery ECM and thermal model of the bundled vehicle).
    """
    from twinloop.cycles import Cycle
    from twinloop.parameters import resolve_vehicle
    from twinloop.sim import Scenario, simulate

    trace = pd.read_csv(trip_csv)
    t = pd.to_datetime(trace["timestamp"]).dt.tz_localize("America/Chicago").dt.tz_convert("UTC")
    epoch = ((t - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(
        dtype=np.float64
    )
    keep = np.concatenate([[True], np.diff(epoch) > 0])  # drop repeated timestamps
    epoch = epoch[keep]
    v = np.clip(trace["speed_mph"].to_numpy(dtype=np.float64)[keep] * 0.44704, 0.0, None)
    cycle = Cycle(_day(trip_csv), epoch - epoch[0], v, np.zeros_like(v), str(trip_csv)).resample(
        1.0
    )
    result = simulate(
        resolve_vehicle(vehicle_name), Scenario(cycle, ambient_temperature=293.15), record=True
    )
    assert result.series is not None
    s = {k: v[0] for k, v in result.series.items()}
    return SimulatedTrip(
        epoch[0] + cycle.time,
        s["vehicle_speed"],
        s["battery_current"],
        s["battery_voltage"],
        s["state_of_charge"],
        s["battery_temperature"],
    )


PARKED_AFTER = 300.0  # [s] standing still this long counts as parked (key off)


def _parked(speed: npt.NDArray[np.float64], dt: float = 1.0) -> npt.NDArray[np.bool_]:
    """Samples inside a standstill longer than PARKED_AFTER (the travel survey logs whole days)."""
    still = np.concatenate([[False], speed < 0.1, [False]])
    edges = np.flatnonzero(np.diff(still.astype(int)))
    parked = np.zeros(speed.size, dtype=bool)
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if (stop - start) * dt > PARKED_AFTER:
            parked[start:stop] = True
    return parked


def series(trip: SimulatedTrip) -> dict[str, npt.NDArray[np.float64]]:
    """SI series keyed by VSS path, with key-on for the trip and key-off at its end."""
    key = np.full(trip.time.size, 4.0)  # ON
    key[_parked(trip.vehicle_speed)] = 2.0  # OFF while parked, so each drive is its own trip
    key[-1] = 2.0
    return {
        "Vehicle.Speed": trip.vehicle_speed,
        "Vehicle.Powertrain.TractionBattery.CurrentCurrent": trip.battery_current,
        "Vehicle.Powertrain.TractionBattery.CurrentVoltage": trip.battery_voltage,
        "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": trip.state_of_charge,
        "Vehicle.Powertrain.TractionBattery.Temperature.Average": trip.battery_temperature,
        "Vehicle.Exterior.AirTemperature": np.full(trip.time.size, trip.ambient_temperature),
        "Vehicle.LowVoltageSystemState": key,
    }


def misfits(
    database: cantools.database.can.Database,
    manifest: DecoderManifest,
    catalog: SignalCatalog,
    series: Mapping[str, npt.NDArray[np.float64]],
) -> dict[str, str]:
    """VSS paths whose simulated values their DBC signal cannot carry, with the reason.

    A numeric value must lie in the DBC signal's [min, max] once turned into
    the DBC unit; an enumerated one must have a code in the manifest's values map.
    """
    out: dict[str, str] = {}
    for e in manifest.entries:
        if e.vss not in series:
            continue
        sig = catalog[e.vss]
        if e.values:
            labels = {sig.allowed[int(c)] for c in np.unique(series[e.vss])}
            missing = sorted(labels - set(e.values.values()))
            if missing:
                out[e.vss] = f"{', '.join(missing)} not in the manifest's values map"
            continue
        dbc_signal = database.get_message_by_name(e.message).get_signal_by_name(e.signal)
        vss = sig.from_si(series[e.vss])
        dbc = (vss - e.offset) / e.scale
        lo, hi = dbc_signal.minimum, dbc_signal.maximum
        if (lo is not None and dbc.min() < lo) or (hi is not None and dbc.max() > hi):
            out[e.vss] = (
                f"{vss.min():.1f} to {vss.max():.1f} {sig.unit} outside {e.message}.{e.signal}"
                f" [{lo}, {hi}] {dbc_signal.unit}"
            )
    return out


def write_manifest(path: Path, manifest: DecoderManifest) -> None:
    """Write `manifest` as a decoder manifest TOML file."""
    lines = [
        f"# Written by examples/make_fleet_data.py: {MANIFEST.name} less the signals this log lacks."
    ]
    lines.append(f"dbc = {json.dumps(manifest.dbc or DBC.name)}")
    for e in manifest.entries:
        lines += [
            "",
            "[[map]]",
            f"message = {json.dumps(e.message)}",
            f"signal = {json.dumps(e.signal)}",
            f"vss = {json.dumps(e.vss)}",
            f"scale = {e.scale!r}",
            f"offset = {e.offset!r}",
        ]
        if e.values:
            pairs = ", ".join(f'"{k}" = {json.dumps(v)}' for k, v in e.values.items())
            lines.append(f"values = {{ {pairs} }}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "fleet_data")
    ap.add_argument(
        "--trips",
        type=int,
        default=6,
        help="survey days per vehicle (default: %(default)s, all bundled)",
    )
    ap.add_argument(
        "--data",
        type=Path,
        default=None,
        help="a data folder holding trips/cmap_2007 with all 48 survey days (e.g. ../shared/data); "
        "default: the six days bundled in examples/data/cmap_2007",
    )
    args = ap.parse_args()
    trip_dir = BUNDLED_TRIPS if args.data is None else args.data / "trips" / "cmap_2007"
    if not any(trip_dir.glob("*/*.csv*")):
        ap.exit(
            2,
            f"error: no survey days (*/*.csv) under {trip_dir}; --data takes the folder that holds "
            "trips/cmap_2007 (the FASTSim CMAP 2007 subset); leave it out to use the bundled six days\n",
        )
    args.out.mkdir(parents=True, exist_ok=True)
    db, manifest, catalog = load_dbc(DBC), DecoderManifest.load(MANIFEST), default_catalog()
    manifest.check(db, catalog)
    print(
        f"CAN logs encoded and ingested through {DBC.name} ({DBC.parent.name}/PROVENANCE.md:"
        f" Ford powertrain CAN, opendbc ford_lincoln_base_pt.dbc) and {MANIFEST.name}"
    )
    trips = sorted(trip_dir.glob("*/*.csv*"))[: args.trips]
    vehicles = sorted(
        p.name.removesuffix(".toml") for p in VEHICLES.iterdir() if p.name.endswith(".toml")
    )
    store = open_store(f"duckdb:///{(args.out / 'fleet.duckdb').absolute()}")  # a relative --out too
    for vehicle in vehicles:
        for trip_csv in trips:
            sim = simulate_trip(vehicle, trip_csv)
            s = series(sim)
            stem = args.out / f"{vehicle}__{trip_csv.parent.name}_{_day(trip_csv)}"
            unfit = misfits(db, manifest, catalog, s)
            log_manifest = MANIFEST
            stem.with_suffix(".manifest.toml").unlink(missing_ok=True)  # from an earlier run
            if unfit:
                log_manifest = stem.with_suffix(".manifest.toml")
                write_manifest(
                    log_manifest,
                    DecoderManifest(
                        tuple(e for e in manifest.entries if e.vss not in unfit), manifest.dbc
                    ),
                )
                for path, why in unfit.items():
                    print(
                        f"{stem.name}: {path} not in the CAN log ({why}); Parquet only,"
                        f" the log's manifest is {log_manifest.name}"
                    )
            frames = encode_series(
                db, manifest, catalog, sim.time, {k: v for k, v in s.items() if k not in unfit}
            )
            write_can_log(stem.with_suffix(".log"), frames)
            write_can_log(stem.with_suffix(".asc"), frames)
            wide = {"time": pd.to_datetime(sim.time, unit="s", utc=True)}
            wide.update(
                {
                    path: catalog[path].from_si(v)
                    if path != "Vehicle.LowVoltageSystemState"
                    else np.array(catalog[path].allowed)[v.astype(int)]
                    for path, v in s.items()
                }
            )
            pd.DataFrame(wide).to_parquet(stem.with_suffix(".parquet"))
            report = Ingester(store).ingest(stem.with_suffix(".log"), vehicle, DBC, log_manifest)
            print(report.summary())
    print(store.vehicles().to_pandas().to_string(index=False))
    print(f"CAN logs: DBC {DBC}, manifest {MANIFEST}")
    store.close()


if __name__ == "__main__":
    main()
