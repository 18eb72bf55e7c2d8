"""Benchmark: a twin calibrated on its CLTC dynamometer tests predicts its other dynamometer cycles.

The vehicle is the Tesla Model 3 (RWD) of Jilin University's MOTIVES Lab
(GECR data set, Yuan et al., Patterns 5(4) 100950, 2024,
doi:10.1016/j.patter.2024.100950): 46 chassis-dynamometer tests at 20 Hz in
``ev_real/tesla_model3_jlu/lab_data_m1`` under ``--data`` (default
../shared/data), three test procedures each of drive cycles and
constant-speed segments (CLTC_CSS, UDDS_HWY_US06_NYCC_CSS, WLTC_CADC_JC08_CSS).
The twin is ``examples/vehicles/tesla_model3_jlu.toml``: the data set's own
coast-down (A = 179.4 N, B = 0.28 N/(km/h), C = 0.0235 N/(km/h)^2) and test
mass (1919 kg), the rest public specifications or estimates.

What it does:

1. Reads every test: time (``PhaseTime``, trailing rows where the logger
   stopped the clock dropped), roller speed (``DAActualSpeed``), and battery
   terminal power ``P = -(REESSVoltage * REESSCurrent + REESSVoltage2 *
   REESSCurrent2)`` [W, + = discharge]. The second channel (about 0.87 A at
   pack voltage, 320-430 W, drawn at standstill too) is a second HV branch
   on the same pack, as upstream adds it; ``--second-branch exclude`` leaves
   it out, and the JSON's ``sensitivity`` gives that variant's figures from
   the same run. Measured energy per distance = integral of P dt / integral
   of speed dt (trapezoidal) [Wh/km].
2. Excludes tests whose speed column is identical to another test's: upstream
   01_UDDS_01 and 02_UDDS_02 share their Time and speed columns while their
   battery data differ, so one of them carries the other's speed (a copy
   error upstream) and neither distance can be trusted.
3. Calibrates the twin with ``twinloop.calibrate.calibrate_from_trips`` on
   the four CLTC cycle tests (``--calibrate-on cltc``; ``procedure`` uses
   upstream's training set instead, the CLTC_CSS procedure without its first
   three high-SoC files): coast-down form with mass and A, B, C fixed at the
   measured values (a dynamometer applies exactly that road load), drive
   efficiency, regeneration efficiency and auxiliary power free. Ambient is
   given as 20 degC so the calibration's air-density factor is 1: the
   dynamometer applies its set road load whatever the air.
4. Predicts every test not calibrated on by simulating the calibrated spec
   over that test's own measured speed trace at its native 0.05 s step,
   ``Scenario(cycle, condition="dynamometer", time_step=0.05)`` (all braking
   through the driven axle, climate off, 75 degF soak: the data set has no
   temperature column and upstream calls it standard dyno conditions), and
   compares battery *terminal* energy per distance with the measured one.
   The calibrated spec also takes the regenerative power cap the CLTC tests
   show (``twinloop.calibrate.regen_power_limit``: the car returns at most
   33 kW to its battery, on a plateau of several seconds, where the spec's
   default would let its motor take 113 kW), converted to the shaft by the
   calibrated drive efficiency.
   The dynamometer condition sets the regenerating axle's braking share to 1;
   the calibration's own share (regeneration / drive efficiency) is reported
   and is 1.00 here, so nothing calibrated is overridden.
5. Does the same with the spec as shipped (uncalibrated baseline).

Run:  python benchmarks/dyno_transfer.py [--json] [--data PATH]
      [--second-branch include|exclude] [--calibrate-on cltc|procedure]
Runtime: about 20 s (three calibrations; each test simulated up to six times).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import DEFAULT_DATA, REPO_ROOT, dump_json, machine, print_table, require_data
from twinloop.calibrate import CalibrationResult, calibrate_from_trips, regen_power_limit
from twinloop.cycles import Cycle
from twinloop.parameters import VehicleSpec, resolve_vehicle
from twinloop.sim import Scenario, simulate

LAB = Path("ev_real") / "tesla_model3_jlu" / "lab_data_m1"
PROCEDURES = ("CLTC_CSS", "UDDS_HWY_US06_NYCC_CSS", "WLTC_CADC_JC08_CSS")
VEHICLE = REPO_ROOT / "examples" / "vehicles" / "tesla_model3_jlu.toml"
SIM_STEP = 0.05  # [s], the logger's 20 Hz
CALIBRATION_AMBIENT = 293.15  # [K]; the calibration's air-density reference, so its density factor is 1
ROAD_LOAD = ("test_mass", "coastdown_a", "coastdown_b", "coastdown_c")
GOAL_MEDIAN_PCT = 3.0
WH_PER_KM = 1 / 3.6  # J/m -> Wh/km
# upstream CharacterizeGECI_lab.m trains on CLTC_CSS files 4:11, leaving out the first, high-SoC ones
UPSTREAM_TRAINING = tuple(f"CLTC_CSS/{n}" for n in (
    "04_CS_110_1", "05_CS_65_1", "06_CS_20_1", "07_CLTC_1", "08_CLTC_2", "09_CS_20_2", "10_CS_65_2",
    "11_CS_110_2"))
CALIBRATION_SETS = ("cltc", "procedure")
SECOND_BRANCH = ("include", "exclude")
# file-name stem -> cycle, first match wins
_CYCLES = (
    (r"CLTC", "CLTC"), (r"UDDS", "UDDS"), (r"HWYFET|HWFET", "HWFET"), (r"US06", "US06"),
    (r"NYCC", "NYCC"), (r"WLTC", "WLTC"), (r"JC08", "JC08"), (r"Artemis_urban", "Artemis urban"),
    (r"Artemis_rural", "Artemis rural"), (r"Artemis_motorway", "Artemis motorway 130"),
    (r"(?:CS|SPEED)_(\d+)", "constant {} km/h"),
)


@dataclass(frozen=True)
class LabTest:
    """One dynamometer test: its trace and battery terminal power, SI units.

    Attributes
    ----------
    name : str
        ``procedure/stem``, e.g. ``CLTC_CSS/07_CLTC_1``.
    cycle : str
        Drive cycle, e.g. ``CLTC`` or ``constant 110 km/h``.
    time : ndarray, shape (T,)
        Time since the first sample [s], strictly increasing.
    vehicle_speed : ndarray, shape (T,)
        Roller speed [m s-1].
    battery_voltage : ndarray, shape (T,)
        Pack terminal voltage [V].
    battery_power : ndarray, shape (T,)
        Battery terminal power [W], positive discharging.
    dropped_rows : int
        Trailing rows dropped because the logger's clock stopped.
    """

    name: str
    cycle: str
    time: np.ndarray
    vehicle_speed: np.ndarray
    battery_voltage: np.ndarray
    battery_power: np.ndarray
    dropped_rows: int = 0

    @property
    def distance(self) -> float:
        """Distance from the roller speed [m] (trapezoidal)."""
        return float(np.trapezoid(self.vehicle_speed, self.time))

    @property
    def energy(self) -> float:
        """Battery terminal energy drawn [J] (trapezoidal)."""
        return float(np.trapezoid(self.battery_power, self.time))

    @property
    def wh_per_km(self) -> float:
        """Measured battery terminal energy per distance [Wh/km]."""
        return self.energy / self.distance * WH_PER_KM

    def to_frame(self, ambient_temperature: float = CALIBRATION_AMBIENT) -> pd.DataFrame:
        """The trip frame ``calibrate_from_trips`` reads (current = power / voltage, so both branches count)."""
        return pd.DataFrame({
            "time": self.time, "vehicle_speed": self.vehicle_speed, "battery_voltage": self.battery_voltage,
            "battery_current": self.battery_power / self.battery_voltage, "ambient_temperature": ambient_temperature,
        })

    def to_cycle(self) -> Cycle:
        return Cycle(self.name, self.time, self.vehicle_speed, np.zeros_like(self.time), source="measured roller speed")


def cycle_of(stem: str) -> str:
    """The drive cycle a file name holds: ``07_CLTC_1`` -> ``CLTC``, ``04_SPEED_65`` -> ``constant 65 km/h``."""
    for pattern, cycle in _CYCLES:
        m = re.search(pattern, stem)
        if m:
            return cycle.format(*m.groups())
    raise ValueError(f"{stem}: no known drive cycle in the name")


def read_lab_test(path: str | Path, name: str | None = None, second_branch: bool = True) -> LabTest:
    """Read one test in the data set's layout (CSV, or ``.csv.xz`` which pandas decompresses).

    Rows after the first non-increasing ``PhaseTime`` are dropped: the logger
    holds the clock at the test's end for a few samples (at most 10 in this
    data set, all at standstill). More than 1 % of the rows, or a clock
    that stops before the end, is refused.
    """
    path = Path(path)
    stem = path.name.split(".")[0]
    frame = pd.read_csv(path)
    t = frame["PhaseTime"].to_numpy(float)
    stops = np.flatnonzero(np.diff(t) <= 0)
    end = int(stops[0]) + 1 if stops.size else t.size
    if t.size - end > max(10, 0.01 * t.size):
        raise ValueError(f"{path}: PhaseTime stops increasing at row {end} of {t.size}")
    frame = frame.iloc[:end]
    voltage = frame["REESSVoltage"].to_numpy(float)
    power = -voltage * frame["REESSCurrent"].to_numpy(float)
    if second_branch:
        power = power - frame["REESSVoltage2"].to_numpy(float) * frame["REESSCurrent2"].to_numpy(float)
    return LabTest(
        name=name or stem, cycle=cycle_of(stem), time=t[:end] - t[0],
        vehicle_speed=frame["DAActualSpeed"].to_numpy(float) / 3.6, battery_voltage=voltage,
        battery_power=power, dropped_rows=t.size - end,
    )


def read_lab_data(folder: Path, second_branch: bool = True) -> tuple[list[LabTest], list[str]]:
    """Every test under `folder`, and the names of those excluded for sharing a speed column with another."""
    tests = [read_lab_test(p, f"{proc}/{p.name.split('.')[0]}", second_branch)
             for proc in PROCEDURES for p in sorted((folder / proc).glob("*.csv*"))]
    seen: dict[bytes, list[str]] = {}
    for t in tests:
        seen.setdefault(t.vehicle_speed.tobytes(), []).append(t.name)
    shared = {n for names in seen.values() if len(names) > 1 for n in names}
    return [t for t in tests if t.name not in shared], sorted(shared)


def calibrate(prior: VehicleSpec, tests: Sequence[LabTest]) -> CalibrationResult:
    """Drive efficiency, regeneration efficiency and auxiliary power, with the road load held at the prior's."""
    return calibrate_from_trips([t.to_frame() for t in tests], prior, form="coastdown", fixed=ROAD_LOAD)


def predict(spec: VehicleSpec, tests: Sequence[LabTest]) -> tuple[np.ndarray, np.ndarray]:
    """Battery terminal energy per distance [Wh/km] and peak regenerated battery power [W] of `spec`
    over each test's own trace, in the dynamometer condition."""
    energy, peak = [], []
    for t in tests:
        r = simulate(spec, Scenario(t.to_cycle(), condition="dynamometer", time_step=SIM_STEP), record=True)
        if r.trace_missed_time[0] > 1.0:
            print(f"warning: {t.name}: {r.trace_missed_time[0]:.1f} s below the trace", file=sys.stderr)
        energy.append(r.battery_terminal_energy[0] / r.distance[0] * WH_PER_KM)
        peak.append(-np.min(r.series["battery_voltage"][0] * r.series["battery_current"][0]))
    return np.array(energy), np.maximum(np.array(peak), 0.0)


def summary(tests: Sequence[LabTest], spec: VehicleSpec) -> dict[str, Any]:
    """Errors of `spec`'s predictions against the tests' measurements: median and worst |error| [%], per test."""
    predicted, peak = predict(spec, tests)
    measured = np.array([t.wh_per_km for t in tests])
    err = 100 * (predicted / measured - 1)
    return {
        "median_abs_err_pct": float(np.median(np.abs(err))),
        "max_abs_err_pct": float(np.max(np.abs(err))),
        "mean_err_pct": float(np.mean(err)),
        "n_tests": len(tests),
        "per_cycle": {t.name: {"cycle": t.cycle, "measured_wh_per_km": m, "predicted_wh_per_km": p, "err_pct": e,
                               "measured_peak_regen_kw": max(-t.battery_power.min(), 0.0) / 1e3,
                               "predicted_peak_regen_kw": k / 1e3}
                      for t, m, p, e, k in zip(tests, measured.tolist(), predicted.tolist(), err.tolist(),
                                               peak.tolist(), strict=True)},
    }


def by_cycle(per_cycle: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean error [%] and test count per drive cycle."""
    groups: dict[str, list[float]] = {}
    for row in per_cycle.values():
        groups.setdefault(row["cycle"], []).append(row["err_pct"])
    return {c: {"n": len(e), "mean_err_pct": statistics.fmean(e)} for c, e in groups.items()}


def transfer(prior: VehicleSpec, calibration: Sequence[LabTest], targets: Iterable[LabTest]) -> dict[str, Any]:
    """Calibrate `prior` on `calibration`, predict every target, and the uncalibrated prior as baseline.

    Targets that are also calibration tests are left out of the figures.
    """
    used = {t.name for t in calibration}
    targets = [t for t in targets if t.name not in used]
    result = calibrate(prior, calibration)
    fitted = dict(zip(result.names, result.estimate.tolist(), strict=True))
    limit = regen_power_limit([(t.time, t.battery_power) for t in calibration], fitted["drive_efficiency"])
    twin = result.spec if limit is None else result.spec.with_changes(regen_max_power=limit)
    out = summary(targets, twin)
    standstill = [t.battery_power[t.vehicle_speed == 0] for t in calibration]
    out.update({
        "calibrated_on": sorted(used),
        "calibration": {
            "drive_efficiency": fitted["drive_efficiency"],
            "regen_efficiency": fitted["regen_efficiency"],
            "auxiliary_power_w": fitted["auxiliary_power"],
            # the regenerative cap the calibration trips show (None: they never reach one)
            "regen_max_power_w": limit,
            # the dynamometer condition sets the share to 1; this says whether that overrides the fit
            "regen_axle_share_fitted": fitted["regen_efficiency"] / fitted["drive_efficiency"],
            "interval_95": {n: result.interval_95[i].tolist() for i, n in enumerate(result.names)
                            if n not in result.fixed},
            "rmse_w": result.rmse,
            "power_averaging": result.power_averaging,
            "measured_standstill_power_w": float(np.mean(np.concatenate(standstill))),
            "in_sample": summary(calibration, twin)["per_cycle"],
        },
        "baseline": summary(targets, prior),
    })
    return out


def calibration_tests(tests: Sequence[LabTest], which: str) -> list[LabTest]:
    if which == "cltc":
        return [t for t in tests if t.cycle == "CLTC"]
    return [t for t in tests if t.name in UPSTREAM_TRAINING]


def run(data: Path, second_branch: str = "include", calibrate_on: str = "cltc") -> dict[str, Any]:
    folder = require_data(data / LAB, "the JLU Tesla Model 3 dynamometer tests (GECR data set)")
    prior = resolve_vehicle(VEHICLE)
    start = time.perf_counter()
    loaded: dict[str, tuple[list[LabTest], list[str]]] = {}
    results: dict[tuple[str, str], dict[str, Any]] = {}
    # the headline setting first, then each other setting alone (same run, same code)
    settings = [(second_branch, calibrate_on)]
    settings += [(b, calibrate_on) for b in SECOND_BRANCH if b != second_branch]
    settings += [(second_branch, c) for c in CALIBRATION_SETS if c != calibrate_on]
    for branch, which in settings:
        if branch not in loaded:
            loaded[branch] = read_lab_data(folder, branch == "include")
        tests, _ = loaded[branch]
        print(f"calibrating on {which} ({branch} second branch) ...", file=sys.stderr, flush=True)
        results[branch, which] = transfer(prior, calibration_tests(tests, which), tests)
    tests, excluded = loaded[second_branch]
    out = results[second_branch, calibrate_on]
    out["by_cycle"] = by_cycle(out["per_cycle"])
    out["baseline"]["by_cycle"] = by_cycle(out["baseline"]["per_cycle"])
    out = {
        "median_abs_err_pct": out.pop("median_abs_err_pct"), "max_abs_err_pct": out.pop("max_abs_err_pct"),
        "n_tests": out.pop("n_tests"), "goal_median_abs_err_pct": GOAL_MEDIAN_PCT, **out,
        "vehicle": prior.name, "second_branch": second_branch, "calibrate_on_set": calibrate_on,
        "condition": "dynamometer", "time_step_s": SIM_STEP, "energy": "battery terminal, per distance",
        "excluded_tests": {n: "speed column identical to another test's (upstream copy error)" for n in excluded},
        "dropped_trailing_rows_max": max(t.dropped_rows for t in tests),
        "sensitivity": {
            f"second_branch={b},calibrate_on={c}": {
                k: r[k] for k in ("median_abs_err_pct", "max_abs_err_pct", "mean_err_pct", "n_tests")
            } | {"baseline_median_abs_err_pct": r["baseline"]["median_abs_err_pct"],
                 "auxiliary_power_w": r["calibration"]["auxiliary_power_w"],
                 "drive_efficiency": r["calibration"]["drive_efficiency"],
                 "regen_efficiency": r["calibration"]["regen_efficiency"]}
            for (b, c), r in results.items() if (b, c) != (second_branch, calibrate_on)
        },
        "data": str(folder), "wall_s": time.perf_counter() - start, "machine": machine(),
    }
    return out


def report(out: dict[str, Any]) -> None:
    cal = out["calibration"]
    print(f"{out['vehicle']}: calibrated on {', '.join(out['calibrated_on'])} "
          f"(second branch {out['second_branch']})")
    print(f"  drive efficiency {cal['drive_efficiency']:.4f}, regeneration {cal['regen_efficiency']:.4f} "
          f"(share {cal['regen_axle_share_fitted']:.3f}), auxiliary {cal['auxiliary_power_w']:.0f} W "
          f"(measured at standstill {cal['measured_standstill_power_w']:.0f} W); fit RMSE {cal['rmse_w']:.0f} W")
    print(f"  excluded: {', '.join(out['excluded_tests']) or 'none'}\n")
    base = out["baseline"]["per_cycle"]
    print("  in-sample: " + ", ".join(f"{n.split('/')[-1]} {r['err_pct']:+.1f} %" for n, r in cal["in_sample"].items()))
    rows = [(name, r["cycle"], r["measured_wh_per_km"], r["predicted_wh_per_km"], f"{r['err_pct']:+.1f}",
             base[name]["predicted_wh_per_km"], f"{base[name]['err_pct']:+.1f}",
             f"{r['measured_peak_regen_kw']:.0f} / {r['predicted_peak_regen_kw']:.0f}")
            for name, r in out["per_cycle"].items()]
    print_table(rows, ("test", "cycle", "measured Wh/km", "twin Wh/km", "err %", "as shipped Wh/km", "err %",
                       "peak regen kW measured / twin"))
    print()
    print_table([(c, r["n"], f"{r['mean_err_pct']:+.1f}", f"{out['baseline']['by_cycle'][c]['mean_err_pct']:+.1f}")
                 for c, r in out["by_cycle"].items()], ("cycle", "tests", "twin mean err %", "as shipped mean err %"))
    print(f"\ncalibrated twin: median |error| {out['median_abs_err_pct']:.2f} % (goal <= {GOAL_MEDIAN_PCT:g} %), "
          f"worst {out['max_abs_err_pct']:.2f} %, over {out['n_tests']} tests")
    print(f"as shipped:      median |error| {out['baseline']['median_abs_err_pct']:.2f} %, "
          f"worst {out['baseline']['max_abs_err_pct']:.2f} %")
    for k, r in out["sensitivity"].items():
        print(f"  {k}: median {r['median_abs_err_pct']:.2f} %, worst {r['max_abs_err_pct']:.2f} % "
              f"({r['n_tests']} tests; as shipped {r['baseline_median_abs_err_pct']:.2f} %)")
    print(f"{out['wall_s']:.0f} s")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="also print one JSON object on the last line")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder (default ../shared/data)")
    ap.add_argument("--second-branch", choices=SECOND_BRANCH, default="include",
                    help="count the REESSVoltage2/REESSCurrent2 branch in the battery energy (default include)")
    ap.add_argument("--calibrate-on", choices=CALIBRATION_SETS, default="cltc",
                    help="cltc: the four CLTC tests (default); procedure: upstream's training set")
    args = ap.parse_args(argv)
    out = run(args.data, args.second_branch, args.calibrate_on)
    report(out)
    if args.json:
        print(dump_json(out))
    return out


if __name__ == "__main__":
    main()
