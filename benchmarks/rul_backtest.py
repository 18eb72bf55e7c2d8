"""Backtest of the RUL forecasts inside the NASA cells' first halves: how often the 90% interval holds.

The method behind ``rul_nasa.py`` was chosen here, on the first halves
only (ADR 0007). For each cell (B0005, B0006, B0007, B0018) the first half
of its capacity record is cut at three origins (1/2, 5/8 and 3/4 of the
half); from the record up to the origin each method forecasts the first
cycle capacity falls 0.04, 0.08 or 0.12 Ah below its mean over the five
cycles before the origin, and the crossing inside the first half is the
truth. Cases whose level was already crossed, or is not crossed within the
half, are left out. Reported per method: coverage of the 90% interval, its
median width, the mean absolute error of the median, and the interval score
(width plus 20 cycles per cycle the truth lies outside; lower is better).
Intervals and medians are capped at the horizon (four times the history).

Usage::

    python benchmarks/rul_backtest.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from _common import require_data  # benchmarks/ is on sys.path when a script runs
from twinloop.battery.health import forecast_end_of_life, forecast_end_of_life_state_space

CELLS = ("B0005", "B0006", "B0007", "B0018")
ORIGINS = (4 / 8, 5 / 8, 6 / 8)
DROPS = (0.04, 0.08, 0.12)
ROOT = Path(__file__).resolve().parents[1]

def _old(k: np.ndarray, q: np.ndarray, level: float) -> tuple[float, tuple[float, float]]:
    f = forecast_end_of_life(k, q, level, model="linear", n_bootstrap=200)
    return f.predicted_cycle, f.interval


def _shipped(k: np.ndarray, q: np.ndarray, level: float) -> tuple[float, tuple[float, float]]:
    f = forecast_end_of_life_state_space(k, q, level)
    return f.predicted_cycle, f.interval


METHODS: dict[str, Callable[[np.ndarray, np.ndarray, float], tuple[float, tuple[float, float]]]] = {
    "linear fade, residual block bootstrap (old)": _old,
    "state-space ensemble (rul_nasa.py)": _shipped,
}


def cases(folder: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray, float, float]]:
    """(cell, cycles, capacity up to the origin, level, true first crossing) inside each first half."""
    for cell in CELLS:
        frame = pd.read_csv(folder / f"{cell}.csv", encoding="utf-8-sig").dropna(subset=["cycle", "y1"])
        k, q = frame["cycle"].to_numpy(float), frame["y1"].to_numpy(float)
        half = k.size // 2
        k, q = k[:half], q[:half]
        for share in ORIGINS:
            o = int(half * share)
            for drop in DROPS:
                level = float(q[o - 5 : o].mean()) - drop
                later = np.flatnonzero(q[o:] < level)
                if (q[:o] < level).any() or not later.size:
                    continue
                yield cell, k[:o], q[:o], level, float(k[o + later[0]])


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="reference data folder")
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = ap.parse_args(argv)
    folder = require_data(Path(args.data) / "battery" / "nasa_pcoe_capacity", "the NASA PCoE capacity records")
    all_cases = list(cases(folder))
    methods: dict[str, dict[str, float]] = {}
    for name, method in METHODS.items():
        rows = []
        for _, k, q, level, truth in all_cases:
            horizon = 4 * k[-1]
            median, (lo, hi) = method(k, q, level)
            lo, hi, median = min(lo, horizon), min(hi, horizon), min(median, horizon)
            miss = max(lo - truth, 0.0) + max(truth - hi, 0.0)
            rows.append((hi - lo + 20 * miss, lo <= truth <= hi, hi - lo, abs(median - truth)))
        r = np.array(rows, dtype=float)
        m = methods[name] = {
            "coverage": round(float(r[:, 1].mean()), 3),
            "interval_score": round(float(r[:, 0].mean()), 1),
            "median_width": round(float(np.median(r[:, 2])), 1),
            "mean_abs_error_cycles": round(float(r[:, 3].mean()), 1),
        }
        print(f"{name}: coverage {m['coverage']:.0%}, interval score {m['interval_score']}, "
              f"median width {m['median_width']}, mean |error| {m['mean_abs_error_cycles']} cycles")
    result = {"benchmark": "rul_backtest", "cases": len(all_cases), "level": 0.9, "methods": methods}
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
