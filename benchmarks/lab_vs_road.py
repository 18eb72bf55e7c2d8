"""How much more energy the road takes than the chassis dynamometer, by drive axle.

For every EPA 2022 charge-depleting UDDS and highway test (bundled with
twinloop), the test vehicle's ``epa2022:*`` twin is simulated over the cycle
twice at the same 75 °F with climate control off: once in the
``dynamometer`` condition (all braking through the driven axle, as on the
rolls) and once in the ``road`` condition (the spec's own axle split, so the
undriven axle's share of braking is lost in its friction brakes). The figure
is the ratio of wall energy, road over lab, summarised per drive axle; it is
the size of the mistake a user made comparing a road simulation with an EPA
figure before the condition existed (docs/vehicle-spec.md quotes it).

Run:  python benchmarks/lab_vs_road.py [--json]
Data: the bundled copy of the EPA 2022 list; no external data needed.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from twinloop.cycles import load_cycle
from twinloop.parameters.epa import read_epa_tests, spec_from_epa_row
from twinloop.sim import CONDITIONS, Scenario, simulate


def road_over_lab() -> dict[str, dict[str, dict[str, float]]]:
    """Per cycle and drive axle: n, median, min and max of road / lab wall energy."""
    tests = read_epa_tests()
    lab_ambient = CONDITIONS["dynamometer"].ambient_temperature
    out: dict[str, dict[str, dict[str, float]]] = {}
    for cycle_name in ("udds", "hwfet"):
        rows = tests[tests.test_procedure == cycle_name].drop_duplicates(["test_vehicle_id", "configuration"])
        specs = [spec_from_epa_row(r) for _, r in rows.iterrows()]
        cycle = load_cycle(cycle_name)
        lab = simulate(specs, Scenario(cycle, condition="dynamometer"))
        road = simulate(specs, Scenario(cycle, condition="road", ambient_temperature=lab_ambient, hvac="off"))
        ratio = road.wall_energy / lab.wall_energy - 1.0
        drive = rows["drive"].to_numpy()
        out[cycle_name] = {
            d: {
                "n": int((drive == d).sum()),
                "median_pct": round(100 * float(np.median(ratio[drive == d])), 1),
                "min_pct": round(100 * float(ratio[drive == d].min()), 1),
                "max_pct": round(100 * float(ratio[drive == d].max()), 1),
            }
            for d in sorted(set(drive))
        }
    return out


def main(argv: list[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line at the end")
    args = ap.parse_args(argv)
    result = road_over_lab()
    for cycle_name, by_drive in result.items():
        for drive, f in by_drive.items():
            print(f"{cycle_name:6s} {drive}: road takes {f['median_pct']:+.1f} % (range {f['min_pct']:+.1f} to"
                  f" {f['max_pct']:+.1f} %) over the lab, {f['n']} vehicles", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
