"""Benchmark: the twin's physics consumption model on trips of a cycle type it was not fitted on.

For each of the seven bundled reference vehicles, the twinloop simulator drives 24 trips
(the UDDS, HWFET, US06, WLTC 3b, NREL13 and WLTC 3a cycles, four times each
with the speed scaled by a factor drawn from 0.7-1.05, 20 degC, climate
off; once on flat roads and once over hills, a rolling 3 % grade with a
1.5-km wavelength). ``PhysicsConsumptionModel`` (the champion model of a new twin) is
fitted on the trips of five cycle types and predicts those of the sixth;
the figure is the mean absolute error over the six held-out types.

Beside it, the same fit on the features as the model read them before
(``as_before``): kinetic and potential energy split by sign (all gains to
traction, all losses to regeneration) and no road load taken as paid by
falling energy. The fitted regeneration coefficient is printed for both;
a fold whose fit ends on a physical limit is refused, as a twin would.

Run:  python benchmarks/consumption_transfer.py [--json]
Data: the bundled cycles and vehicles only.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import dump_json, machine, print_table
from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import CalibrationError
from twinloop.learn.features import feature_frame, trip_features
from twinloop.parameters import bundled_vehicles, resolve_vehicle
from twinloop.parameters.epa import EPA_LIBRARY_PREFIX
from twinloop.sim import Scenario, simulate
from twinloop.twin.consumption import PhysicsConsumptionModel

CYCLES = ("udds", "hwfet", "us06", "wltc_3b", "nrel13", "wltc_3a")
DECEL = ["decel_share", "decel_speed", "decel_squared_speed"]


def rolling_grade(cycle: Cycle, rng: np.random.Generator) -> np.ndarray:
    """Hills: grade 3 % * sin(2 pi s / 1.5 km + phase) along the cycle's distance s."""
    v = cycle.vehicle_speed
    s = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(cycle.time))])
    return 0.03 * np.sin(2 * np.pi * s / 1500.0 + rng.uniform(0, 2 * np.pi))


def trips(name: str, seed: int = 0, hills: bool = False):
    """24 simulated trips of vehicle `name`: features, measured energy per metre, cycle of each."""
    spec = resolve_vehicle(name)
    rng = np.random.default_rng(seed)
    rows, energy, cycle = [], [], []
    for k in range(4 * len(CYCLES)):
        c = load_cycle(CYCLES[k % len(CYCLES)])
        scaled = Cycle(c.name, c.time, c.vehicle_speed * rng.uniform(0.7, 1.05), c.road_grade)
        if hills:
            scaled = Cycle(c.name, scaled.time, scaled.vehicle_speed, rolling_grade(scaled, rng))
        r = simulate(spec, Scenario(scaled, soc_start=rng.uniform(0.5, 0.95)), record=True)
        s = {key: v[0] for key, v in r.series.items()}
        f = trip_features(r.time, s["vehicle_speed"], scaled.road_grade, 293.15)
        rows.append(f)
        energy.append(np.trapezoid(s["battery_current"] * s["battery_voltage"], r.time) / f["distance"])
        cycle.append(c.name)
    return spec, feature_frame(rows), np.array(energy), np.array(cycle)


def transfer_error(spec, X, y, cycle) -> tuple[float, float]:
    """Mean absolute relative error on held-out cycle types, and the regeneration fitted on all trips."""
    errors = []
    for held in CYCLES:
        train = cycle != held
        model = PhysicsConsumptionModel.from_spec(spec).fit(X[train], y[train])
        errors.append(np.mean(np.abs(model.predict(X[~train]) / y[~train] - 1)))
    return float(np.mean(errors)), PhysicsConsumptionModel.from_spec(spec).fit(X, y).regen_efficiency


def as_before(X):
    """The features as the model read them before 2026-11-27 (second session): energy split by sign, not by phase.

    Kinetic and potential energy gained went to traction and all lost to
    regeneration, and no road load was taken as paid by falling energy.
    """
    before = X.copy()
    before["traction_energy"] = X["positive_kinetic"] + X["climb"]
    before["braking_energy"] = X["negative_kinetic"] + X["descent"]
    before[DECEL] = 0.0
    return before


def _guarded(spec, X, y, cycle) -> tuple[float, float | str]:
    """transfer_error, or NaN and the reason when a fold's fit is refused (a physical limit reached)."""
    try:
        return transfer_error(spec, X, y, cycle)
    except CalibrationError as exc:
        return float("nan"), "refused: " + str(exc).split("(", 1)[1].split(")", 1)[0]


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    result: dict = {}
    # the reference vehicles (the EPA library's generic loss model has almost no load-dependent loss)
    names = [n for n in bundled_vehicles() if not n.startswith(EPA_LIBRARY_PREFIX)]
    for road in ("flat", "hills"):
        result[road] = _road(names, hills=road == "hills")
        print(f"\n{road}:")
        print_table(result[road].pop("rows"), ["vehicle", "held-out err %", "regen", "before: err %", "regen"])
        r = result[road]
        print(f"mean error on a held-out cycle type: {r['mean_held_out_err_pct']:.2f}% ({r['vehicles_fitted']} vehicles"
              f" fitted), before {r['mean_held_out_err_pct_before']:.2f}%"
              f" ({r['vehicles_fitted_before']}); on the vehicles both fit:"
              f" {r['mean_on_common_vehicles_pct']:.2f}% against {r['mean_on_common_vehicles_pct_before']:.2f}%")
    result["machine"] = machine()
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(dump_json(result))
    return result


def _road(names: list[str], hills: bool) -> dict:
    """Held-out errors with and without the deceleration features, on flat roads or over hills."""
    result: dict = {"vehicles": {}}
    rows = []
    for i, name in enumerate(names):
        print(f"\r  {'hills' if hills else 'flat'}: vehicle {i + 1}/{len(names)} ({name})".ljust(70), end="",
              file=sys.stderr, flush=True)
        spec, X, y, cycle = trips(name, hills=hills)
        without = as_before(X)
        with_decel, regen = _guarded(spec, X, y, cycle)
        without_decel, regen_without = _guarded(spec, without, y, cycle)
        result["vehicles"][name] = {
            "held_out_mean_abs_err_pct": 100 * with_decel, "regen_efficiency": regen,
            "before_held_out_mean_abs_err_pct": 100 * without_decel,
            "before_regen_efficiency": regen_without,
        }
        rows.append([name, 100 * with_decel, regen, 100 * without_decel, regen_without])
    print(file=sys.stderr)
    errs = [v["held_out_mean_abs_err_pct"] for v in result["vehicles"].values()]
    old = [v["before_held_out_mean_abs_err_pct"] for v in result["vehicles"].values()]
    both = np.isfinite(errs) & np.isfinite(old)  # the vehicles both versions could fit
    result["mean_held_out_err_pct"] = float(np.nanmean(errs))
    result["mean_held_out_err_pct_before"] = float(np.nanmean(old))
    result["vehicles_fitted"] = int(np.isfinite(errs).sum())
    result["vehicles_fitted_before"] = int(np.isfinite(old).sum())
    result["mean_on_common_vehicles_pct"] = float(np.mean(np.array(errs)[both]))
    result["mean_on_common_vehicles_pct_before"] = float(np.mean(np.array(old)[both]))
    result["rows"] = rows
    return result


if __name__ == "__main__":
    main()
