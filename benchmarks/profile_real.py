"""The profile database of every real trip: ingest, profile, cluster, pool, and a summary per data set.

Reads the real trip data sets of ``../shared/data`` (``--data PATH``):

* ``trips/cmap_2007/<vehicle>/<day>.csv``: 1 Hz GPS travel-survey day traces of private cars,
  Chicago 2007 (speed only); each day splits into trips at gaps over 300 s;
* ``trips/TSDC_tripno_42648_cycle.csv``: one NREL TSDC trip with road grade, turned into an
  elevation (no absolute time: it is put at 2010-01-01 00:00 UTC);
* ``ev_real/tesla_model3_jlu/real_world_data/*.csv.xz``: 70 Tesla Model 3 road trips, 20 Hz,
  with elevation, GPS and battery voltage and current;
* ``ev_real/bmw_i3_tum/raw/Trip*.csv.xz``: 47 BMW i3 trips, 10 Hz, elevation and battery
  (no GPS); each trip's start from ``overview.csv``.

Every file goes through twinloop's front door, :class:`twinloop.ingest.Ingester` with a column
map (``examples/mappings/`` for the two EVs, maps written here for the two survey sets), into a
store (a temporary DuckDB file unless ``--store URL``); then
:func:`twinloop.apps.profile_database.build_profiles` profiles every trip, fits the driving styles
and pools the drivers. The summary gives per data set the trips, distance and the median of each
metric over its trips, the time share of each style, then the drivers, the styles, the busiest road
stretches and the run times. ``--json`` adds one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import lzma
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from _common import DEFAULT_DATA, REPO_ROOT, require_data
from _ev_real import bmw_starts, tesla_starts
from twinloop.apps.profile_database import build_profiles
from twinloop.apps.profile_drivers import driver_profiles
from twinloop.apps.profile_roads import road_profiles
from twinloop.apps.profile_schema import STRETCH_TABLE
from twinloop.apps.profile_store import trip_profiles
from twinloop.apps.profile_styles import style_profiles
from twinloop.ingest import Ingester, load_column_map
from twinloop.store import open_store

CMAP_MAP = """
[file]
separator = ","
[time]
column = "timestamp"
unit = "datetime"
zone = "America/Chicago"
[columns.speed_mph]
vss = "Vehicle.Speed"
unit = "mph"
"""

TSDC_MAP = """
[file]
separator = ","
[time]
column = "time_s"
unit = "s"
start = "2010-01-01T00:00:00Z"
[columns.mps]
vss = "Vehicle.Speed"
unit = "m/s"
[columns.elevation_m]
vss = "Vehicle.CurrentLocation.Altitude"
unit = "m"
"""

NOTES: list[str] = []

DATASETS = ("cmap_2007", "tsdc", "tesla_model3_jlu", "bmw_i3_tum")

#: Summary columns: name -> (trip_profiles column, scale, digits).
MEDIANS = {
    "avg_kmh": ("average_speed_mps", 3.6, 1),
    "drive_kmh": ("average_driving_speed_mps", 3.6, 1),
    "char_acc": ("characteristic_acceleration_mps2", 1.0, 3),
    "char_dec": ("characteristic_deceleration_mps2", 1.0, 3),
    "aero_kmh": ("aerodynamic_speed_mps", 3.6, 1),
    "ki_km": ("kinetic_intensity_per_km", 1.0, 3),
    "stops_km": ("stops_per_km", 1.0, 2),
    "idle_pct": ("idle_fraction", 100.0, 1),
    "v85_kmh": ("speed_p85_mps", 3.6, 1),
    "a95": ("acceleration_p95_mps2", 1.0, 2),
    "a05": ("acceleration_p05_mps2", 1.0, 2),
}


def _tsdc_csv(source: Path, out: Path) -> Path:
    """The TSDC trip with its grade integrated into an elevation [m] (as twinloop.apps.profiles.cycle_elevation)."""
    d = pd.read_csv(source)
    t, v, g = d["time_s"].to_numpy(float), d["mps"].to_numpy(float), d["grade"].to_numpy(float)
    sine = g / np.sqrt(1.0 + g * g)
    rise = 0.25 * (sine[:-1] + sine[1:]) * (v[:-1] + v[1:]) * np.diff(t)
    d["elevation_m"] = np.concatenate([[0.0], np.cumsum(rise)])
    target = out / "TSDC_tripno_42648.csv"
    d[["time_s", "mps", "elevation_m"]].to_csv(target, index=False)
    return target


def _unxz(source: Path, out: Path) -> Path:
    target = out / source.name.removesuffix(".xz")
    with lzma.open(source) as fin, target.open("wb") as fout:
        shutil.copyfileobj(fin, fout)
    return target


def jobs(data: Path, work: Path, limit: int | None) -> Iterator[tuple[str, str, Path, Any]]:
    """(data set, vehicle, file to ingest, column map) for every real trip file."""
    (work / "cmap.toml").write_text(CMAP_MAP)
    (work / "tsdc.toml").write_text(TSDC_MAP)
    cmap_map, tsdc_map = load_column_map(work / "cmap.toml"), load_column_map(work / "tsdc.toml")
    files = sorted((data / "trips/cmap_2007").glob("*/*.csv"))[:limit]
    for f in files:
        yield "cmap_2007", f"cmap_{f.parent.name}", f, cmap_map
    yield "tsdc", "tsdc_42648", _tsdc_csv(data / "trips/TSDC_tripno_42648_cycle.csv", work), tsdc_map
    tesla = load_column_map(REPO_ROOT / "examples/mappings/tesla_model3_jlu.toml")
    starts_tesla, notes = tesla_starts(sorted((data / "ev_real/tesla_model3_jlu/real_world_data").glob("*.csv.xz"))[:limit])
    NOTES.extend(notes)
    for f, start in starts_tesla:
        yield "tesla_model3_jlu", "tesla_model3_jlu", f, replace(tesla, start_column=None, start=start)
    bmw = load_column_map(REPO_ROOT / "examples/mappings/bmw_i3_tum.toml")
    starts, moved = bmw_starts(data)
    NOTES.extend(f"BMW start moved (overview start within 10 min of the trip before's end): {m}" for m in moved)
    for f in sorted((data / "ev_real/bmw_i3_tum/raw").glob("Trip*.csv.xz"))[:limit]:
        trip = f.name.split(".")[0]
        yield "bmw_i3_tum", "bmw_i3_tum", f, replace(bmw, start=starts[trip].astimezone(UTC))


def _dataset(vin: str) -> str:
    if vin.startswith("cmap_"):
        return "cmap_2007"
    return "tsdc" if vin.startswith("tsdc") else vin


def _fmt(x: float, scale: float, digits: int) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x * scale + 0.0:.{digits}f}"


def summarise(trips: pd.DataFrame, styles: list[str], files: dict[str, int]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """One row per data set: counts, totals, medians over its trips, style time shares."""
    rows, records = [], []
    trips = trips.assign(dataset=trips["vin"].map(_dataset))
    for name in DATASETS:
        part = trips[trips["dataset"] == name]
        if part.empty:
            continue
        record: dict[str, Any] = {
            "dataset": name, "files": files.get(name, 0), "vehicles": int(part["vin"].nunique()), "trips": len(part),
            "km": float(part["distance_m"].sum() / 1000), "hours": float(part["duration_s"].sum() / 3600),
            "with_altitude": int(part["with_altitude"].sum()),
        }
        record.update({f"median_{col}": float(part[col].median()) for col, _, _ in MEDIANS.values()})
        total = part["duration_s"].sum()
        record["style_shares"] = {s: float(part.loc[part["style"] == s, "duration_s"].sum() / total)
                                  for s in styles} if total > 0 else {}
        record["style_shares"]["none"] = float(part.loc[part["style"].isna(), "duration_s"].sum() / total)
        records.append(record)
        row = {"data set": name, "files": record["files"], "veh": record["vehicles"], "trips": record["trips"],
               "km": f"{record['km']:.0f}", "h": f"{record['hours']:.1f}"}
        row.update({k: _fmt(record[f"median_{col}"], scale, digits) for k, (col, scale, digits) in MEDIANS.items()})
        row["styles %"] = " ".join(f"{k[:3]}{100 * v:.0f}" for k, v in record["style_shares"].items())
        rows.append(row)
    return pd.DataFrame(rows), records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the reference data (default %(default)s)")
    parser.add_argument("--store", help="store URL to build the database in (default: a temporary DuckDB file)")
    parser.add_argument("--limit", type=int, default=None, help="at most N files per data set (a quick run)")
    parser.add_argument("--top", type=int, default=8, help="road stretches to show (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print one JSON object on the last line")
    args = parser.parse_args(argv)
    data = require_data(args.data, "the real trips (trips/, ev_real/)")
    require_data(data / "trips/cmap_2007", "the CMAP 2007 day traces")
    require_data(data / "ev_real/tesla_model3_jlu/real_world_data", "the Tesla Model 3 road trips")
    require_data(data / "ev_real/bmw_i3_tum/raw", "the BMW i3 trips")

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="profile_real_") as tmp:
        work = Path(tmp)
        url = args.store or str(work / "profiles.duckdb")
        with open_store(url) as store:
            todo = list(jobs(data, work, args.limit))
            ingester = Ingester(store)
            samples = conflicts = 0
            t0 = time.perf_counter()
            for _, vehicle, path, columns in tqdm(todo, desc="ingest", unit="file", file=sys.stderr):
                local = _unxz(path, work) if path.suffix == ".xz" else path
                report = ingester.ingest(local, vehicle, columns=columns)
                samples += report.inserted
                conflicts += report.conflicts
                if local != path:
                    local.unlink()
            ingest_s = time.perf_counter() - t0

            t0 = time.perf_counter()
            vins = [str(v) for v in store.vehicles().column("vin").to_pylist()]
            total = sum(len(store.trips(v)) for v in vins)
            with tqdm(total=total, desc="profile", unit="trip", file=sys.stderr) as bar:
                build = build_profiles(store, vins, replace=True, progress=lambda vin, no: bar.update())
            build_s = time.perf_counter() - t0

            trips = trip_profiles(store)
            styles = style_profiles(store)
            drivers = driver_profiles(store)
            roads = road_profiles(store)
            with_gps = len({(r["vin"], r["trip_no"]) for r in store.select(STRETCH_TABLE, ["vin", "trip_no"])})
    elapsed = time.perf_counter() - started

    skipped = {vin: b.skipped for vin, b in build.vehicles.items() if b.skipped}
    files: dict[str, int] = {}
    for name, *_ in todo:
        files[name] = files.get(name, 0) + 1
    table, records = summarise(trips, styles["style"].tolist(), files)
    print(f"profile database of the real trips in {data} ({len(todo)} files, {samples:,} samples ingested,"
          f" {conflicts:,} conflicting)\n")
    print("Per data set: files, vehicles, trips (split at gaps over 300 s: a day trace holds several, files"
          " recorded back to back make one), km, hours,\nthen the median over its trips of each metric")
    print(table.to_string(index=False))
    print("  avg/drive: average (driving) speed; char_acc/dec: characteristic acceleration/deceleration [m/s2];"
          " aero: aerodynamic speed;\n  ki: kinetic intensity [1/km]; v85: 85th speed percentile moving; a95/a05:"
          " acceleration percentiles moving [m/s2];\n  styles: share of the time in calm/moderate/dynamic trips,"
          " none: trips under 1 km")
    if skipped:
        print(f"\nskipped trips: {sum(len(s) for s in skipped.values())} "
              + "; ".join(f"{vin} {no}: {why}" for vin, s in skipped.items() for no, why in list(s.items())[:2]))
    print(f"\nDriving styles (k-means, k=3, seed 0, on {int(styles['trips'].sum())} trips of >= 1 km):"
          if not styles.empty else f"\nDriving styles: {build.style_note}")
    if not styles.empty:
        show = styles.drop(columns=["fitted_at", "rank"]).copy()
        show["distance_m"] = (show["distance_m"] / 1000).round(0)
        print(show.rename(columns={"distance_m": "km"}).round(3).to_string(index=False))
    print(f"\nDrivers ({len(drivers)}; one per vehicle):")
    cols = {"driver": "driver", "trips": "trips", "days": "days"}
    view = drivers[list(cols)].copy()
    view["km"] = (drivers["distance_m"] / 1000).round(0)
    view["km_per_day"] = (drivers["day_distance_median_m"] / 1000).round(1)
    view["drive_kmh"] = (drivers["average_driving_speed_mps"] * 3.6).round(1)
    view["char_acc"] = drivers["characteristic_acceleration_mps2"].round(3)
    view["ki_km"] = drivers["kinetic_intensity_per_km"].round(3)
    view["v85_kmh"] = (drivers["speed_p85_mps"] * 3.6).round(1)
    view["a95"] = drivers["acceleration_p95_mps2"].round(2)
    view["styles"] = drivers["style_shares"].map(lambda s: " ".join(f"{k[:3]}{100 * v:.0f}" for k, v in s.items()))
    print(view.to_string(index=False))
    if roads.empty:
        print("\nRoad stretches: none (no trip with positions)")
    else:
        print(f"\nRoad stretches: {len(roads)} (200 m cells x 8 headings) from"
              f" {with_gps} trips with GPS;"
              f" {int((roads['passes'] >= 2).sum())} driven at least twice; the {args.top} busiest:")
        top = roads.head(args.top).copy()
        out = pd.DataFrame({
            "stretch": top["stretch"], "lat": top["latitude"].round(5), "lon": top["longitude"].round(5),
            "passes": top["passes"], "trips": top["trips"],
            "mean_kmh": (top["mean_speed_mps"] * 3.6).round(1), "v85_kmh": (top["speed_p85_mps"] * 3.6).round(1),
            "accel": top["mean_acceleration_mps2"].round(3), "wh_per_km": (top["energy_per_distance"] / 3.6).round(0),
        })
        print(out.to_string(index=False))
        energy = roads["energy_per_distance"].dropna() / 3.6
        if not energy.empty:
            weights = roads.loc[energy.index, "distance_m"]
            print(f"  battery energy per stretch [Wh/km]: median {energy.median():.0f},"
                  f" distance-weighted mean {np.average(energy, weights=weights):.0f}")
    for note in NOTES:
        print(note)
    print(f"\nrun time {elapsed:.0f} s: ingest {ingest_s:.0f} s, profile + styles + drivers {build_s:.0f} s")
    if args.json:
        print(json.dumps({"datasets": records, "trips": len(trips), "drivers": len(drivers),
                          "stretches": len(roads), "styles": styles.drop(columns="fitted_at").to_dict("records"),
                          "samples": samples, "ingest_s": ingest_s, "build_s": build_s, "elapsed_s": elapsed},
                         default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
