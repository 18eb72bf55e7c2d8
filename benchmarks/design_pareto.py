"""Design optimisation over a fleet's real days: the Pareto front, and how long it takes.

What it does:

1. Reads the fleet's days: by default the bundled example fleet
   (``examples/data/cmap_2007``: six real 1 Hz days of the Chicago 2007 GPS
   travel survey, one under 1 km and skipped); with ``--data PATH`` every
   day in ``PATH/trips/cmap_2007`` (e.g. ``../shared/data``). Parked
   standstills (over 5 min) are cut from each day.
2. Searches battery capacity, motor power and final-drive ratio of the
   base vehicle (default the VW ID.3 Pro, 58 kWh, 150 kW, 11.53:1) with
   NSGA-II (pymoo): cost (USD 115/kWh, USD 8/kW) against 0-100 km/h time,
   covering 95 % of the days with a 10 % reserve and 20 % end-of-life fade,
   0-100 km/h within 9 s, 140 km/h top speed.
3. Simulates every Pareto-optimal design again over every day (one call
   per day, all designs on the leading vehicle axis) and prints that table.

Times: the search (every design it evaluates is simulated over every day
and the full-throttle run) and the re-simulation of the front, separately.

Usage::

    python benchmarks/design_pareto.py [--json] [--data PATH] [--plot FILE.png]
        [--vehicle NAME] [--population N] [--generations N] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import REPO_ROOT, dump_json, machine, output_path, print_table, require_data
from twinloop.apps.design import DesignProblem, optimise_design, read_days
from twinloop.parameters import resolve_vehicle

BUNDLED_FLEET = REPO_ROOT / "examples" / "data" / "cmap_2007"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    ap.add_argument("--data", type=Path, default=None,
                    help="the shared data folder: use every day of its trips/cmap_2007 (default: the bundled fleet)")
    ap.add_argument("--vehicle", default="vw_id3_pro_2020", help="base vehicle (library name or TOML)")
    ap.add_argument("--population", type=int, default=40)
    ap.add_argument("--generations", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", type=output_path(("png", "svg", "pdf")), default=None,
                    help="write the Pareto front figure here")
    args = ap.parse_args(argv)

    folder = BUNDLED_FLEET if args.data is None else require_data(
        args.data / "trips" / "cmap_2007", "the Chicago 2007 survey day traces")
    t0 = time.perf_counter()
    fleet = read_days(folder)
    read_s = time.perf_counter() - t0
    problem = DesignProblem(resolve_vehicle(args.vehicle), fleet.days)
    t0 = time.perf_counter()
    result = optimise_design(problem, population=args.population, generations=args.generations, seed=args.seed,
                             skipped_days=fleet.skipped)
    total_s = time.perf_counter() - t0
    steps = sum(d.time.size for d in problem.days)

    print(f"fleet: {folder} -> {len(problem.days)} days, {sum(d.distance for d in problem.days) / 1000:.0f} km, "
          f"{steps} s switched on; skipped {len(fleet.skipped)} ({'; '.join(f'{k}: {v}' for k, v in fleet.skipped.items())})")
    print(f"base vehicle {problem.vehicle.name}; share {problem.share:g} ({problem.days_needed} days), "
          f"0-100 km/h <= {problem.max_acceleration_time:g} s (traction limit "
          f"{problem.traction_acceleration:.2f} m/s2), top speed >= {problem.min_top_speed * 3.6:g} km/h")
    print()
    frame = result.to_frame()
    print_table([[float(x) for x in row] for row in frame.itertuples(index=False)], list(frame.columns))
    print()
    per_design = result.optimisation_time / max(result.evaluations, 1)
    print(f"read the days:        {read_s:8.2f} s")
    print(f"optimisation:         {result.optimisation_time:8.2f} s  (NSGA-II {args.population} x {args.generations}, "
          f"{result.evaluations} designs simulated, {per_design * 1000:.1f} ms a design over all days)")
    print(f"re-simulation:        {result.simulation_time:8.2f} s  ({len(result)} Pareto designs x {len(problem.days)} days)")
    print(f"total (optimise_design): {total_s:5.2f} s")
    if args.plot:
        from twinloop.plotting import plot_design_front

        fleet_name = "the bundled example fleet" if args.data is None else f"the survey fleet ({folder})"
        plot_design_front(result, args.plot, title=f"Design: the Pareto front for {fleet_name}, "
                                                   f"from the {problem.vehicle.name}")
        print(f"plot written to {args.plot}", file=sys.stderr)
    out = {
        "days": len(problem.days),
        "skipped_days": len(fleet.skipped),
        "pareto_designs": len(result),
        "evaluations": result.evaluations,
        "optimisation_s": result.optimisation_time,
        "resimulation_s": result.simulation_time,
        "read_s": read_s,
        "cheapest": {k: float(v) for k, v in frame.iloc[0].items()},
        "fastest": {k: float(v) for k, v in frame.iloc[-1].items()},
        "front": result.to_dict()["designs"],
        "machine": machine(),
    }
    if args.json:
        print(dump_json(out))
    return out


if __name__ == "__main__":
    main()
