"""Benchmark: SoC estimation on the CALCE A123 (LiFePO4) dynamic record at 20 degC.

Data: ``battery/calce_a123/A1-A123-Dynamics.csv`` (University of Maryland
CALCE battery group, as carried in github m0in92/ECM). Current there is
negative when discharging; it is flipped on reading.

The record holds three drive profiles, each from a full CC-CV charge to the
2.0 V cut-off: DST, US06 and FUDS (named from their repeat period, 360, 600
and 1372 s). What fits what:

* the cell model (OCV, R0, two RC pairs, capacity) is identified on the DST
  part only (from the rest after its full charge to the next charge);
* SoC is estimated on US06 and FUDS, starting 20 percentage points low
  (0.8 instead of 1.0, std 0.2);
* the reference SoC is coulomb counting from the known full state after each
  CC-CV charge, with the capacity identified on DST; coulomb counting from
  the same wrong start is reported beside it. Errors count after the first
  5 minutes.

Usage::

    python benchmarks/soc_calce.py [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _common import require_data  # benchmarks/ is on sys.path when a script runs
from twinloop.battery import TimeSeries, identify_cell
from twinloop.battery.estimate import estimate_soc

ROOT = Path(__file__).resolve().parents[1]
PERIODS = {"DST": 360.0, "US06": 600.0, "FUDS": 1372.0}
TEMPERATURE = 293.15
OFFSET = 0.20
SETTLE = 300.0


def profiles(frame: pd.DataFrame) -> dict[str, TimeSeries]:
    """Split the record at its charges: each piece runs from the rest after a full charge to the next charge."""
    t = frame["Test_Time(s)"].to_numpy(float)
    step_time = frame["Step_Time(s)"].to_numpy(float)
    amps = -frame["Current(A)"].to_numpy(float)
    volts = frame["Voltage(V)"].to_numpy(float)
    charging = amps < -0.01
    pieces: dict[str, TimeSeries] = {}
    # full CC-CV charges: charging runs longer than 30 minutes ending at the upper limit
    run_starts = np.flatnonzero(np.r_[charging[0], ~charging[:-1] & charging[1:]])
    run_ends = np.flatnonzero(np.r_[charging[:-1] & ~charging[1:], charging[-1]]) + 1
    long = [(a, b) for a, b in zip(run_starts, run_ends, strict=True) if t[b - 1] - t[a] > 1800 and volts[b - 1] > 3.55]
    starts = np.array([a for a, _ in long])
    for _, e in long:
        nxt = starts[starts > e]
        stop = int(nxt[0]) if nxt.size else t.size
        resets = np.flatnonzero(np.diff(step_time[e:stop]) < 0)
        period = float(np.median(np.diff(t[e:stop][resets + 1]))) if resets.size > 2 else np.nan
        name = min(PERIODS, key=lambda k: abs(PERIODS[k] - period))
        pieces[name] = TimeSeries(t[e:stop] - t[e], amps[e:stop], volts[e:stop], source=f"A1-A123-Dynamics.csv[{name}]")
    missing = set(PERIODS) - set(pieces)
    if missing:
        raise SystemExit(f"profiles not found in the record: {sorted(missing)}")
    return pieces


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="reference data folder")
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    frame = pd.read_csv(require_data(Path(args.data) / "battery" / "calce_a123" / "A1-A123-Dynamics.csv",
                                     "the CALCE A123 dynamic record"))
    parts = profiles(frame)
    cell = identify_cell([parts["DST"]], [TEMPERATURE], name="a123_calce_dst")
    out: dict[str, dict[str, float]] = {}
    for name in ("US06", "FUDS"):
        s = parts[name]
        q = np.r_[0.0, np.cumsum(s.current[:-1] * np.diff(s.time))]
        reference = 1.0 - q / cell.capacity
        coulomb = reference - OFFSET
        est = estimate_soc(cell, s, 1.0 - OFFSET, 0.2, TEMPERATURE)
        after = s.time >= SETTLE
        err = (est.state_of_charge - reference)[after] * 100
        inside = np.abs(err) <= 2 * est.state_of_charge_std[after] * 100
        out[name] = {
            "rmse_pct": round(float(np.sqrt(np.mean(err**2))), 3),
            "max_err_pct": round(float(np.max(np.abs(err))), 3),
            "coulomb_rmse_pct": round(float(np.sqrt(np.mean(((coulomb - reference)[after] * 100) ** 2))), 3),
            "final_err_pct": round(float(err[-1]), 3),
            "within_2std_share": round(float(np.mean(inside)), 3),
            "samples": int(after.sum()),
        }
    result: dict[str, object] = {
        "benchmark": "soc_calce",
        "profiles": out,
        "targets": {"rmse_pct_max": 1.0, "max_err_pct_max": 3.0},
        "met": bool(all(v["rmse_pct"] <= 1.0 and v["max_err_pct"] <= 3.0 for v in out.values())),
        "identified_on": "DST",
        "capacity_ah": round(cell.capacity / 3600, 4),
        "dst_fit_rmse_mv": round(cell.tables[0].fit.rmse * 1000, 2) if cell.tables[0].fit else None,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, v in out.items():
            print(f"{name}: RMSE {v['rmse_pct']:.2f} %, max {v['max_err_pct']:.2f} %, coulomb counting RMSE {v['coulomb_rmse_pct']:.2f} %")
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["met"] else 1)
