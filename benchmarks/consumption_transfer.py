"""Benchmark: the twin's physics consumption model on trips of a cycle type it was not fitted on.

For each of the seven bundled reference vehicles, the twinloop simulator drives 24 trips
(the UDDS, HWFET, US06, WLTC 3b, NREL13 and WLTC 3a cycles, four times each
with the speed scaled by a factor drawn from 0.7-1.05, 20 degC, climate
off). ``PhysicsConsumptionModel`` (the champion model of a new twin) is
fitted on the trips of five cycle types and predicts those of the sixth;
the figure is the mean absolute error over the six held-out types.

Beside it, the same fit with the ``decel_*`` features set to zero: the
model as it was before the road load paid by falling kinetic and potential
energy was taken out of both traction and regeneration. The fitted
regeneration coefficient is printed for both: without the correction it
fits at or above 1 for the efficient vehicles.

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
from twinloop.learn.features import feature_frame, trip_features
from twinloop.parameters import bundled_vehicles, resolve_vehicle
from twinloop.parameters.epa import EPA_LIBRARY_PREFIX
from twinloop.sim import Scenario, simulate
from twinloop.twin.consumption import PhysicsConsumptionModel

CYCLES = ("udds", "hwfet", "us06", "wltc_3b", "nrel13", "wltc_3a")
DECEL = ["decel_share", "decel_speed", "decel_squared_speed"]


def trips(name: str, seed: int = 0):
    """24 simulated trips of vehicle `name`: features, measured energy per metre, cycle of each."""
    spec = resolve_vehicle(name)
    rng = np.random.default_rng(seed)
    rows, energy, cycle = [], [], []
    for k in range(4 * len(CYCLES)):
        c = load_cycle(CYCLES[k % len(CYCLES)])
        scaled = Cycle(c.name, c.time, c.vehicle_speed * rng.uniform(0.7, 1.05), c.road_grade)
        r = simulate(spec, Scenario(scaled, soc_start=rng.uniform(0.5, 0.95)), record=True)
        s = {key: v[0] for key, v in r.series.items()}
        f = trip_features(r.time, s["vehicle_speed"], None, 293.15)
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


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    result: dict = {"vehicles": {}}
    rows = []
    # the reference vehicles (the EPA library's generic loss model has almost no load-dependent loss)
    names = [n for n in bundled_vehicles() if not n.startswith(EPA_LIBRARY_PREFIX)]
    for i, name in enumerate(names):
        print(f"\r  vehicle {i + 1}/{len(names)} ({name})".ljust(70), end="", file=sys.stderr, flush=True)
        spec, X, y, cycle = trips(name)
        with_decel, regen = transfer_error(spec, X, y, cycle)
        without = X.copy()
        without[DECEL] = 0.0
        try:
            without_decel, regen_without = transfer_error(spec, without, y, cycle)
        except Exception as exc:  # the old model may end on its regeneration bound: that is the finding
            without_decel, regen_without = float("nan"), f"refused: {exc}"[:80]
        result["vehicles"][name] = {
            "held_out_mean_abs_err_pct": 100 * with_decel, "regen_efficiency": regen,
            "without_decel_held_out_mean_abs_err_pct": 100 * without_decel,
            "without_decel_regen_efficiency": regen_without,
        }
        rows.append([name, 100 * with_decel, regen, 100 * without_decel, regen_without])
    print(file=sys.stderr)
    errs = [v["held_out_mean_abs_err_pct"] for v in result["vehicles"].values()]
    old = [v["without_decel_held_out_mean_abs_err_pct"] for v in result["vehicles"].values()]
    result["mean_held_out_err_pct"] = float(np.mean(errs))
    result["mean_held_out_err_pct_without_decel"] = float(np.nanmean(old))
    print_table(rows, ["vehicle", "held-out err %", "regen", "without decel: err %", "regen"])
    print(f"\nmean error on a held-out cycle type: {result['mean_held_out_err_pct']:.2f}%"
          f" (without the deceleration correction {result['mean_held_out_err_pct_without_decel']:.2f}%)")
    result["machine"] = machine()
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(dump_json(result))
    return result


if __name__ == "__main__":
    main()
