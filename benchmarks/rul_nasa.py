"""Benchmark: remaining useful life of NASA PCoE cells B0005, B0006, B0007, B0018.

Data: ``battery/nasa_pcoe_capacity`` (NASA Ames Prognostics Center of
Excellence battery data set, as tabulated in github jie776655/battery);
column ``y1`` is the discharge capacity [A h] per cycle.

For each cell, from the first half of the history only, the first cycle at
which the *observed* capacity falls below 1.4 A h is forecast with a 90 %
interval by :func:`~twinloop.battery.health.forecast_end_of_life_state_space`:
two state-space models whose fade rate drifts (a local linear trend, and one
with a decaying regeneration state), variances by maximum likelihood on the
half, mixed by Akaike weights; horizon four times the history. The earlier
method (a linear fade with a residual block bootstrap, blocks of 16 cycles) is
reported beside it under ``baseline``. B0007 never falls below 1.4 A h within
its record: its truth is "beyond the record", and the interval contains it
when its upper end lies beyond the last cycle.

Usage::

    python benchmarks/rul_nasa.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import require_data  # benchmarks/ is on sys.path when a script runs
from twinloop.battery.health import (
    RulForecast,
    forecast_end_of_life,
    forecast_end_of_life_state_space,
)

ROOT = Path(__file__).resolve().parents[1]
CELLS = ("B0005", "B0006", "B0007", "B0018")
THRESHOLD = 1.4


def _num(x: float) -> float | str:
    return x if math.isfinite(x) else "beyond"


def _inside(f: RulForecast, truth: float, last_cycle: float) -> bool:
    if math.isfinite(truth):
        return bool(f.interval[0] <= truth <= f.interval[1])
    return bool(f.interval[1] > last_cycle)


def _width(f: RulForecast) -> float | str:
    return _num(f.interval[1] - f.interval[0])


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="reference data folder")
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    cells: dict[str, dict[str, object]] = {}
    folder = require_data(Path(args.data) / "battery" / "nasa_pcoe_capacity", "the NASA PCoE capacity tables")
    for name in CELLS:
        frame = pd.read_csv(folder / f"{name}.csv", encoding="utf-8-sig")
        frame = frame.dropna(subset=["cycle", "y1"])
        k = frame["cycle"].to_numpy(float)
        q = frame["y1"].to_numpy(float)
        half = k.size // 2
        f = forecast_end_of_life_state_space(k[:half], q[:half], THRESHOLD)
        base = forecast_end_of_life(k[:half], q[:half], THRESHOLD, model="linear")
        below = np.flatnonzero(q < THRESHOLD)
        truth = float(k[below[0]]) if below.size else math.inf
        inside = _inside(f, truth, k[-1])
        if math.isfinite(truth):
            error: float | str = round(f.predicted_cycle - truth, 1) if math.isfinite(f.predicted_cycle) else "beyond"
        else:
            error = "n/a (truth beyond record)"
        cells[name] = {
            "predicted_cycle": _num(f.predicted_cycle),
            "true_cycle": _num(truth) if math.isfinite(truth) else f"beyond {int(k[-1])}",
            "interval": [_num(f.interval[0]), _num(f.interval[1])],
            "inside": bool(inside),
            "interval_width": _width(f),
            "error_cycles": error,
            "model_weights": {m: round(w, 3) for m, w in f.weights.items()},
            "fitted_cycles": int(half),
            "prediction_beyond_record": bool(f.predicted_cycle > k[-1]),
            # forecast probability of what B0007 shows (no crossing in the record)
            "probability_beyond_record": round(f.probability_after(k[-1]), 3),
            # capacity regenerations (rises after rests): the largest one-cycle rise in
            # the fitted half and in the unseen half; a rise larger than any in the
            # history delays the crossing beyond what the history can show
            "largest_regeneration_ah": {
                "history": round(float(np.max(np.diff(q[:half]))), 3),
                "rest": round(float(np.max(np.diff(q[half - 1 :]))), 3),
            },
            "baseline": {
                "method": "linear fade, residual block bootstrap",
                "predicted_cycle": _num(base.predicted_cycle),
                "interval": [_num(base.interval[0]), _num(base.interval[1])],
                "interval_width": _width(base),
                "inside": _inside(base, truth, k[-1]),
            },
        }
    result: dict[str, object] = {
        "benchmark": "rul_nasa",
        "cells": cells,
        "threshold_ah": THRESHOLD,
        "level": 0.9,
        "model": "state-space ensemble (local linear trend; with regeneration state), Akaike weights",
        "inside_count": sum(bool(c["inside"]) for c in cells.values()),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, c in cells.items():
            print(
                f"{name}: predicted {c['predicted_cycle']}, true {c['true_cycle']}, interval {c['interval']} "
                f"(width {c['interval_width']}), inside {c['inside']}"
            )
    return result


if __name__ == "__main__":
    main()
