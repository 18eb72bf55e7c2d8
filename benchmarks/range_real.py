"""Benchmark: range and trip-energy forecasts of two real cars, trained on their earlier trips.

Data (under ``--data``, default ../shared/data; never copied into the repository):

- ``ev_real/tesla_model3_jlu/real_world_data/001-070.csv.xz``: a Tesla Model 3
  in Changchun, April-May 2023, 20 Hz (Yuan et al., Patterns 5(4) 100950, 2024);
- ``ev_real/bmw_i3_tum/raw/Trip*.csv.xz``: a BMW i3 (60 Ah) around Munich,
  summer 2019 (TripA*) and winter 2019-2020 (TripB*), 10 Hz (Steinstraeter et
  al., IEEE DataPort 2020), with trip starts from ``overview.csv``.

For each car, through the product's front door:

1. The trips, oldest first (starts as :mod:`_ev_real` places them: the
   Tesla's coarse clock and the BMW's overview, with files that would
   overlap moved apart), are split in two: the earlier half is ingested
   into a DuckDB store with the car's column map (``examples/mappings/``);
   a twin is created from ``examples/vehicles/`` and calibrated on them
   (``calibrate_from_store``); the jackknife residuals and the driver's
   style come from them (``twin_history``).
2. Each later trip is forecast by ``forecast_range``: (a) from its speed
   trace and elevation as recorded (``--trip``), and (b) from route
   segments of about 1 km cut from it (distance, mean speed, end elevation:
   ``--route``), both at the trip's mean ambient temperature. The truth is
   the trip's battery energy, V·I integrated over its samples.
3. The baseline is what a driver has today: the car's own average
   consumption over the earlier trips times the trip's distance.

Figures: median absolute error of trip battery energy and the share of
trips whose energy falls inside the forecast's 80 % interval, per car,
season and mode, and pooled over both cars (the last JSON line). Trips
shorter than 1 km are left out, as the twin's trip table does.

Run:  python benchmarks/range_real.py [--json] [--data PATH] [--car tesla|bmw]
Runtime: about 4 minutes (ingesting 117 trips, 2.6 M rows).
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import DEFAULT_DATA, REPO_ROOT, machine, print_table, require_data
from _ev_real import bmw_starts, tesla_starts
from twinloop.apps.range_forecast import forecast_range, twin_history
from twinloop.apps.route import route_from_trace
from twinloop.cycles import Cycle
from twinloop.ingest import Ingester, load_column_map
from twinloop.parameters import load_vehicle
from twinloop.store import open_store
from twinloop.twin.lifecycle import calibrate_from_store, create_twin
from twinloop.twin.trips import trace_features

GOALS = {"median_abs_err_trace": 4.0, "median_abs_err_route": 8.0, "coverage": (75.0, 85.0),
         "baseline_cut_trace": 40.0, "baseline_cut_route": 25.0}
MIN_DISTANCE = 1000.0  # [m], as the twin's trip table
MAX_GRADE = 0.3  # [1]; a Cycle refuses more


@dataclass(frozen=True)
class Car:
    key: str
    vin: str
    folder: str
    pattern: str
    mapping: str
    vehicle: str


CARS = {
    "tesla": Car("tesla", "TESLA-M3-JLU", "ev_real/tesla_model3_jlu/real_world_data", "*.csv.xz",
                 "tesla_model3_jlu.toml", "tesla_model3_jlu.toml"),
    "bmw": Car("bmw", "BMW-I3-TUM", "ev_real/bmw_i3_tum/raw", "Trip*.csv.xz", "bmw_i3_tum.toml", "bmw_i3_60ah.toml"),
}


@dataclass
class Trip:
    """One recorded trip read from its file: SI arrays and the truth."""

    name: str
    start: datetime
    time: np.ndarray
    speed: np.ndarray
    elevation: np.ndarray | None
    ambient: float  # [K]
    energy: float  # [J]
    distance: float  # [m]
    path: Path


def read_trip(car: Car, path: Path, start: datetime) -> Trip:
    """Time, speed, elevation, ambient and V·I energy of one file, as its column map reads them."""
    name = path.name.split(".")[0]
    if car.key == "tesla":
        df = pd.read_csv(path)
        t, v = df["PhaseTime"].to_numpy(float), df["DAActualSpeed"].to_numpy(float) / 3.6
        power = -(df["REESSVoltage"] * df["REESSCurrent"]).to_numpy(float)
        h, amb = df["elevation"].to_numpy(float), df["tempAmb"].to_numpy(float)
    else:
        df = pd.read_csv(path, sep=";", encoding="latin-1")
        df.columns = [c.strip() for c in df.columns]
        speed_column = next(c for c in df.columns if c.startswith("Velocity"))
        t, v = df["Time [s]"].to_numpy(float), df[speed_column].to_numpy(float) / 3.6
        power = -(df["Battery Voltage [V]"] * df["Battery Current [A]"]).to_numpy(float)
        h = df["Elevation [m]"].to_numpy(float)
        amb = df[next(c for c in df.columns if c.startswith("Ambient Temperature"))].to_numpy(float)
    ok = np.isfinite(t) & np.isfinite(v) & np.isfinite(power)
    t, v, power, h = t[ok], np.clip(v[ok], 0, None), power[ok], h[ok]
    keep = np.concatenate([[True], np.diff(t) > 0])
    t, v, power, h = t[keep], v[keep], power[keep], h[keep]
    distance = float(np.trapezoid(v, t))
    return Trip(name, start, t - t[0], v, h if np.isfinite(h).all() else None, float(np.nanmean(amb)) + 273.15,
                float(np.trapezoid(power, t)), distance, path)


def ingest(store: Any, car: Car, trips: list[Trip], tmp: Path) -> None:
    """The trips through the product's ingestion, with the car's column map."""
    column_map = load_column_map(REPO_ROOT / "examples" / "mappings" / car.mapping, store.catalog)
    ingester = Ingester(store)
    for trip in trips:
        plain = tmp / f"{trip.name}.csv"
        with lzma.open(trip.path) as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst)
        columns = column_map.with_start(trip.start)
        report = ingester.ingest(plain, car.vin, None, None, columns)
        if report.quarantined:
            print(f"note: {trip.name}: {report.quarantined} samples quarantined", file=sys.stderr)
        plain.unlink()


def season(trip: Trip) -> str:
    return "winter" if trip.start.month in (10, 11, 12, 1, 2, 3) else "summer"


def run_car(car: Car, data: Path, tmp: Path) -> tuple[list[dict[str, Any]], dict[str, float]]:
    folder = require_data(data / car.folder, f"the {car.key} trips")
    files = sorted(folder.glob(car.pattern))
    if car.key == "tesla":
        starts, notes = tesla_starts(files)
    else:
        by_name, notes = bmw_starts(data)
        starts = [(f, by_name[f.name.split(".")[0]]) for f in files]
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    trips = [read_trip(car, f, start) for f, start in starts]
    trips = sorted((t for t in trips if t.distance >= MIN_DISTANCE), key=lambda t: t.start)
    half = len(trips) // 2
    earlier, later = trips[:half], trips[half:]
    t0 = time.perf_counter()
    store = open_store(f"duckdb://{tmp / (car.key + '.duckdb')}")
    ingest(store, car, earlier, tmp)
    t_ingest = time.perf_counter() - t0
    twin = create_twin(store, car.vin, load_vehicle(REPO_ROOT / "examples" / "vehicles" / car.vehicle))
    calibration = calibrate_from_store(twin)
    t1 = time.perf_counter()
    history = twin_history(twin)
    t_history = time.perf_counter() - t1
    print(f"{car.key}: {len(earlier)} trips ingested in {t_ingest:.0f} s; champion v{calibration.version.version}"
          f" {calibration.version.parameters}; history in {t_history:.0f} s"
          f" ({history.residuals.size} trace and {history.route_residuals.size} route residuals)", file=sys.stderr)
    baseline_rate = float(history.energy.sum() / history.features["distance"].sum())  # [J m-1]
    rows = []
    for trip in later:
        grade = np.zeros_like(trip.time)
        if trip.elevation is not None:
            from twinloop.cycles import grade_from_elevation

            grade = grade_from_elevation(trip.time, trip.speed, trip.elevation)
            steep = np.abs(grade) > MAX_GRADE
            if steep.any():  # an altitude jump of the logger, not a road
                print(f"note: {trip.name}: {int(steep.sum())} samples' grade from elevation beyond "
                      f"{MAX_GRADE:.0%}, clipped", file=sys.stderr)
                grade = np.clip(grade, -MAX_GRADE, MAX_GRADE)
        trace = Cycle(trip.name, trip.time, trip.speed, grade)
        by_trace = forecast_range(twin, trace=trace, ambient_temperature=trip.ambient, soc_start=1.0, history=history)
        route = route_from_trace(trip.time, trip.speed, trip.elevation)
        by_route = forecast_range(twin, route=route, ambient_temperature=trip.ambient, soc_start=1.0, history=history)
        rows.append({
            "car": car.key, "trip": trip.name, "season": season(trip), "km": trip.distance / 1000,
            "ambient_c": trip.ambient - 273.15, "measured_kwh": trip.energy / 3.6e6,
            "trace_kwh": by_trace.battery_energy.median / 3.6e6,
            "trace_in": by_trace.battery_energy.contains(trip.energy),
            "route_kwh": by_route.battery_energy.median / 3.6e6,
            "route_in": by_route.battery_energy.contains(trip.energy),
            "baseline_kwh": baseline_rate * trip.distance / 3.6e6,
        })
    store.close()
    # what the forecasts face: later trips faster than any the twin learned from; a fast logger's noise
    later_features = [trace_features(t.time, t.speed) for t in later]
    raw = [trace_features(t.time, t.speed, step=1e-6) for t in later]  # no averaging
    diagnostics = {
        "earlier_max_cubic_mean_speed_kmh": round(float(np.sqrt(history.features["mean_cubed_speed"].max())) * 3.6, 1),
        "later_max_cubic_mean_speed_kmh": round(max(float(np.sqrt(f["mean_cubed_speed"])) * 3.6
                                                    for f in later_features), 1),
        "kinetic_at_logger_rate_over_1s_means_pct": round(100 * float(np.median(
            [r["positive_kinetic"] / f["positive_kinetic"] - 1 for r, f in zip(raw, later_features, strict=True)])), 1),
    }
    print(f"{car.key}: cubic-mean speed of the earlier trips up to {diagnostics['earlier_max_cubic_mean_speed_kmh']}"
          f" km/h, of the later up to {diagnostics['later_max_cubic_mean_speed_kmh']} km/h; at the logger's rate the"
          f" speed reads {diagnostics['kinetic_at_logger_rate_over_1s_means_pct']} % more kinetic energy per metre"
          " than as 1-s means (median)", file=sys.stderr)
    return rows, diagnostics


def figures(frame: pd.DataFrame) -> dict[str, Any]:
    def err(col: str) -> float:
        return float(100 * np.median(np.abs(frame[col] / frame["measured_kwh"] - 1)))

    return {
        "n_trips": len(frame),
        "median_abs_err_trace": round(err("trace_kwh"), 2),
        "coverage_80_trace": round(100 * float(frame["trace_in"].mean()), 1),
        "median_abs_err_route": round(err("route_kwh"), 2),
        "coverage_80_route": round(100 * float(frame["route_in"].mean()), 1),
        "baseline_median_abs_err": round(err("baseline_kwh"), 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding ev_real/ (default %(default)s)")
    ap.add_argument("--car", choices=sorted(CARS), action="append", help="one car only (default both)")
    ap.add_argument("--trips-csv", help="write the per-trip forecasts to this CSV")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    cars: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="range_real_") as tmp:
        for key in args.car or sorted(CARS, reverse=True):
            car_rows, cars[key] = run_car(CARS[key], args.data, Path(tmp))
            rows += car_rows
    frame = pd.DataFrame(rows)
    if args.trips_csv:
        frame.to_csv(args.trips_csv, index=False)
    groups = [("all", frame)] + [(f"{c}", g) for c, g in frame.groupby("car")] + [
        (f"{c} {s}", g) for (c, s), g in frame.groupby(["car", "season"])]
    table = []
    per_group = {}
    for name, g in groups:
        f = figures(g)
        per_group[name] = f
        table.append([name, f["n_trips"], f["median_abs_err_trace"], f["coverage_80_trace"], f["median_abs_err_route"],
                      f["coverage_80_route"], f["baseline_median_abs_err"]])
    out = sys.stderr if args.json else sys.stdout
    stdout, sys.stdout = sys.stdout, out
    try:
        print_table(table, ["trips", "n", "trace |err| %", "trace in 80 % [%]", "route |err| %", "route in 80 % [%]",
                            "baseline |err| %"])
        pooled = per_group["all"]
        cut_trace = 100 * (1 - pooled["median_abs_err_trace"] / pooled["baseline_median_abs_err"])
        cut_route = 100 * (1 - pooled["median_abs_err_route"] / pooled["baseline_median_abs_err"])
        print(f"pooled: trace {pooled['median_abs_err_trace']} % (goal <= {GOALS['median_abs_err_trace']}), "
              f"{cut_trace:.0f} % below the baseline (goal >= {GOALS['baseline_cut_trace']}); route "
              f"{pooled['median_abs_err_route']} % (goal <= {GOALS['median_abs_err_route']}), {cut_route:.0f} % below "
              f"(goal >= {GOALS['baseline_cut_route']}); coverage goal {GOALS['coverage'][0]}-{GOALS['coverage'][1]} %")
        print(f"run time {time.perf_counter() - start:.0f} s on {machine()['processor']}")
    finally:
        sys.stdout = stdout
    result = {**per_group["all"], "by_group": per_group, "cars": cars}
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
