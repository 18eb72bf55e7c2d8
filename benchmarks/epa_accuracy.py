"""EPA accuracy of the generic model: predict every BEV's lab energy from its test data alone.

For every charge-depleting UDDS and highway test of an electric vehicle in the
EPA 2022 test car list (bundled with twinloop), predict the wall energy per mile
(33,705 Wh per MPGe gallon) from the test weight, target coast-down
coefficients and drive system alone (drive axle, number of gears, N/V ratio
for motor speed): each test vehicle's ``epa2022:*`` spec from the library.
Motor losses are normalised by a rating sized by mass (60 W/kg), not by the
rated peak power, which says little about a machine's losses.

Every test is simulated as ``twinloop simulate --condition dynamometer``
does (``Scenario(cycle, condition="dynamometer")``): the chassis dynamometer
turns only the driven axle, so all braking goes through it (the road car's
axle split does not apply), climate control is off and the car is soaked at
75 °F. The 20 °F cold FTP tests use the ``dynamometer_cold`` condition
(heater on).

The generic constants (motor-loss coefficients, auxiliary load, charger
efficiency and the constant drag of a two-speed transmission) are fitted
honestly: by cross-validation that
leaves whole manufacturers out, so no prediction uses a constant fitted on its
own manufacturer's tests. A constant-efficiency baseline (one drivetrain
efficiency, one regeneration share, a fixed charger efficiency of 0.90),
fitted the same way, is reported beside it. The cold tests are
predicted with the constants fitted on all 2-cycle tests (none of the cold
tests is used in any fit); every cold-tested vehicle is a 2022 Tesla, which
has a heat pump.

Run:  python benchmarks/epa_accuracy.py [--json] [--plot out/epa.png] [--sample N]
Data: the bundled copy of the EPA 2022 list; no external data needed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import output_path
from twinloop.cycles import Cycle, load_cycle
from twinloop.files import PLOT_FORMATS
from twinloop.parameters.epa import read_epa_tests, spec_from_epa_row
from twinloop.parameters.spec import VehicleSpec
from twinloop.physics.road_load import coastdown_force
from twinloop.sim import PARAMETER_NAMES, Scenario, VehicleModel, stack_vehicles

MILE = 1609.344
CYCLES = {"udds": "udds", "hwfet": "hwfet"}
# name, initial value, lower, upper
THETA = [
    ("copper_loss", 0.04, 0.0, 0.3),
    ("iron_loss", 0.003, 0.0, 0.05),
    ("constant_loss", 0.0012, 0.0, 0.02),
    ("auxiliary_power", 300.0, 0.0, 1500.0),
    ("charger_efficiency", 0.88, 0.7, 0.99),
    ("multi_speed_drag", 200.0, 0.0, 3000.0),
]
MODEL = VehicleModel()  # the model `twinloop simulate` runs, so that it reproduces these predictions
COLUMN = {name: i for i, name in enumerate(PARAMETER_NAMES)}  # parameter-matrix column of each name


def ftp_cycle() -> Cycle:
    """FTP-75: the UDDS followed by its first 505 s again (bag 3, hot start; the soak is skipped)."""
    udds = load_cycle("udds")
    bag3 = udds.time <= 505
    t = np.concatenate([udds.time, udds.time[-1] + 1 + udds.time[bag3]])
    return Cycle("ftp", t, np.concatenate([udds.vehicle_speed, udds.vehicle_speed[bag3]]),
                 np.zeros_like(t), "UDDS + bag 3")


# Cabin heating by make, where it is a known property of every 2022 model tested
# cold: Tesla fitted heat pumps to the Model Y from 2020 and to the Model 3, S
# and X from model year 2021 (all 8 cold tests are 2022 Teslas), on one coolant
# loop with the drive units, whose losses it uses as a heat source (all of
# them: the share is the physical bound, not fitted). Others default to a
# resistive heater with no waste heat.
HEATING: dict[str, dict[str, object]] = {"Tesla": {"hvac_heating": "heat_pump", "hvac_waste_heat_share": 1.0}}
NO_WASTE_HEAT = {make: {**c, "hvac_waste_heat_share": 0.0} for make, c in HEATING.items()}


def spec_of(row: pd.Series) -> VehicleSpec:
    """The library's generic twin of the tested vehicle (``epa2022:*``), battery size barely matters here.

    Structure from the file (test weight, target coast-down, drive, gears, N/V
    ratio) and a rated power of 60 W/kg; see
    :func:`twinloop.parameters.epa.epa_vehicle_spec`. The generic constants
    are overwritten by each fold's fit.
    """
    return spec_from_epa_row(row).with_changes(coastdown_c=max(row.coastdown_c, 0.0))


class Predictor:
    """Simulates a set of EPA tests for a vector of generic constants."""

    def __init__(self, tests: pd.DataFrame, cycles: dict[str, Cycle],
                 heating: dict[str, dict[str, object]] | None = None) -> None:
        self.tests = tests
        self.cycles = cycles
        specs = [spec_of(r) for r in tests.itertuples()]
        if heating is not None:  # cabin heating by make (default resistive)
            specs = [s.with_changes(**heating.get(r.make, {"hvac_heating": "resistive"}))
                     for s, r in zip(specs, tests.itertuples(), strict=True)]
        self.params, self.tables = stack_vehicles(specs)
        # Two-speed transmissions (Porsche Taycan, Audi e-tron GT) carry clutch and
        # actuation drag that one-speed reductions do not: a constant power [W].
        self.multi_speed = (tests.gears.to_numpy() > 1).astype(float)

    def with_constants(self, theta: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Parameter rows of the tests `rows` (default all) with the generic constants `theta` written in."""
        rows = np.arange(len(self.tests)) if rows is None else rows
        params = self.params[rows].copy()
        copper, iron, constant, aux, _charger, drag = theta
        params[:, COLUMN["copper_loss"]] = copper
        params[:, COLUMN["iron_loss"]] = iron
        params[:, COLUMN["constant_loss"]] = constant
        params[:, COLUMN["auxiliary_power"]] = aux + drag * self.multi_speed[rows]
        return params

    def wh_per_mile(self, theta: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        rows = np.arange(len(self.tests)) if rows is None else rows
        params = self.with_constants(theta, rows)
        charger = theta[4]
        out = np.empty(len(rows))
        procedures = self.tests.test_procedure.to_numpy()[rows]
        for proc, cycle in self.cycles.items():
            sel = procedures == proc
            if not sel.any():
                continue
            r = MODEL.simulate_parameters(params[sel], self.tables[rows][sel],
                                          Scenario(cycle, condition="dynamometer"), charger_efficiency=charger)
            out[sel] = r.wall_energy / 3600 / (r.distance / MILE)
        return out


def fit(predict, rows: np.ndarray, measured: np.ndarray, x0, lower, upper) -> np.ndarray:
    def residuals(theta):
        return np.log(predict(theta, rows) / measured[rows])

    return least_squares(residuals, x0, bounds=(lower, upper), loss="soft_l1", f_scale=0.05,
                         x_scale="jac", max_nfev=60).x


class Baseline:
    """Constant-efficiency model: wall = (E+/eta - s * E- * eta) / 0.90."""

    def __init__(self, tests: pd.DataFrame, cycles: dict[str, Cycle]) -> None:
        self.pos = np.empty(len(tests))
        self.neg = np.empty(len(tests))
        self.miles = np.empty(len(tests))
        for i, r in enumerate(tests.itertuples()):
            c = cycles[r.test_procedure]
            v0, v1 = c.vehicle_speed[:-1], c.vehicle_speed[1:]
            v = 0.5 * (v0 + v1)
            force = coastdown_force(v, r.coastdown_a, r.coastdown_b, r.coastdown_c) + r.test_mass * (v1 - v0)
            p = force * v
            self.pos[i] = np.sum(np.maximum(p, 0)) / 3600
            self.neg[i] = np.sum(np.maximum(-p, 0)) / 3600
            self.miles[i] = c.distance / MILE

    def wh_per_mile(self, theta, rows=None):
        rows = np.arange(len(self.pos)) if rows is None else rows
        eta, share = theta
        return (self.pos[rows] / eta - share * self.neg[rows] * eta) / 0.90 / self.miles[rows]


def cross_validate(model, groups: np.ndarray, measured: np.ndarray, x0, lower, upper, progress=True):
    predicted = np.full(len(measured), np.nan)
    makes = sorted(set(groups))
    for k, make in enumerate(makes):
        train = np.flatnonzero(groups != make)
        test = np.flatnonzero(groups == make)
        theta = fit(model.wh_per_mile, train, measured, x0, lower, upper)
        predicted[test] = model.wh_per_mile(theta, test)
        if progress:
            print(f"\r  fold {k + 1}/{len(makes)} ({make})".ljust(60), end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return predicted


def stats(err: np.ndarray) -> tuple[float, float]:
    a = np.abs(err)
    return float(np.median(a)), float(np.percentile(a, 90))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    ap.add_argument("--plot", type=output_path(PLOT_FORMATS), help="write a predicted-vs-measured PNG here")
    ap.add_argument("--table", type=output_path(("csv",)), help="write the per-test table as CSV here")
    ap.add_argument("--sample", type=int, help="use only N manufacturers, spread evenly through the sorted list (for CI)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    tests = read_epa_tests()
    fixed_count = int(tests.attrs["unit_fixed_count"])
    two = tests[tests.test_procedure.isin(list(CYCLES)) & tests.wh_per_mile.notna()].reset_index(drop=True)
    if args.sample:
        makes = sorted(set(two.make))  # spread through the alphabet, so the sample is not one corner of it
        keep = [makes[i] for i in np.unique(np.linspace(0, len(makes) - 1, args.sample).round().astype(int))]
        two = two[two.make.isin(keep)].reset_index(drop=True)
    cycles = {p: load_cycle(c) for p, c in CYCLES.items()}
    measured = two.wh_per_mile.to_numpy()
    groups = two.make.to_numpy()

    model = Predictor(two, cycles)
    names, x0, lo, hi = zip(*THETA, strict=True)
    ours = cross_validate(model, groups, measured, np.array(x0), np.array(lo), np.array(hi))
    base_model = Baseline(two, cycles)
    base = cross_validate(base_model, groups, measured, np.array([0.85, 0.6]), np.array([0.5, 0.0]),
                          np.array([1.0, 1.0]), progress=False)
    two["predicted_wh_per_mile"] = ours
    two["baseline_wh_per_mile"] = base
    two["error"] = ours / measured - 1
    two["baseline_error"] = base / measured - 1

    theta_all = fit(model.wh_per_mile, np.arange(len(two)), measured, np.array(x0), np.array(lo), np.array(hi))
    result: dict = {"n_tests": len(two), "n_manufacturers": len(set(groups)), "unit_fixed_count": fixed_count,
                    "generic_constants_all_data": dict(zip(names, map(float, theta_all), strict=True))}
    for proc in CYCLES:
        sel = two.test_procedure == proc
        m, p90 = stats(two.error[sel])
        bm, bp90 = stats(two.baseline_error[sel])
        result[proc] = {"n": int(sel.sum()), "median_abs_err_pct": 100 * m, "p90_abs_err_pct": 100 * p90,
                        "baseline_median_abs_err_pct": 100 * bm, "baseline_p90_abs_err_pct": 100 * bp90}
        ok = ~two.suspect[sel]
        m2, p902 = stats(two.error[sel][ok])
        result[proc].update({"n_not_suspect": int(ok.sum()), "median_abs_err_pct_not_suspect": 100 * m2,
                             "p90_abs_err_pct_not_suspect": 100 * p902})

    # cold FTP at 20 °F with heater on, constants from all 2-cycle tests
    cold = tests[(tests.test_procedure == "ftp_cold") & tests.wh_per_mile.notna()].reset_index(drop=True)
    if len(cold) and not args.sample:
        cold_scenario = Scenario(ftp_cycle(), condition="dynamometer_cold")  # 20 °F, heater on

        def cold_wh_per_mile(heating: dict[str, dict[str, object]]) -> np.ndarray:
            m = Predictor(cold.assign(test_procedure="ftp_cold"), {}, heating=heating)
            r = MODEL.simulate_parameters(m.with_constants(theta_all), m.tables, cold_scenario,
                                          charger_efficiency=theta_all[4])
            return r.wall_energy / 3600 / (r.distance / MILE)

        cold["predicted_wh_per_mile"] = cold_wh_per_mile(HEATING)
        cold["error"] = cold.predicted_wh_per_mile / cold.wh_per_mile - 1
        no_waste = stats(cold_wh_per_mile(NO_WASTE_HEAT) / cold.wh_per_mile - 1)
        m, p90 = stats(cold.error)
        result["ftp_cold_20f"] = {"n": len(cold), "median_abs_err_pct": 100 * m, "p90_abs_err_pct": 100 * p90,
                                  "no_waste_heat_median_abs_err_pct": 100 * no_waste[0],
                                  "no_waste_heat_p90_abs_err_pct": 100 * no_waste[1],
                                  "per_test": [{"vehicle": f"{a} {b}", "measured": round(c, 1), "predicted": round(d, 1)}
                                               for a, b, c, d in cold[["make", "model", "wh_per_mile", "predicted_wh_per_mile"]].itertuples(index=False)]}

    pd.set_option("display.width", 200)
    cols = ["make", "model", "test_procedure", "unit_fixed", "suspect", "wh_per_mile", "predicted_wh_per_mile",
            "error", "baseline_wh_per_mile", "baseline_error"]
    print(two[cols].round(3).to_string(max_colwidth=38))
    if args.table:
        two[cols].to_csv(args.table, index=False)
    if args.plot:
        _plot(two, cold if "ftp_cold_20f" in result else None, args.plot)
    print(f"\nkWh/100mi entered as MPGe, converted: {fixed_count} rows")
    for proc in CYCLES:
        s = result[proc]
        print(f"{proc:6s} n={s['n']:3d}  twinloop median {s['median_abs_err_pct']:.1f}% p90 {s['p90_abs_err_pct']:.1f}%"
              f"   baseline median {s['baseline_median_abs_err_pct']:.1f}% p90 {s['baseline_p90_abs_err_pct']:.1f}%"
              f"   (without {s['n'] - s['n_not_suspect']} suspect rows: {s['median_abs_err_pct_not_suspect']:.1f}% /"
              f" {s['p90_abs_err_pct_not_suspect']:.1f}%)")
    if "ftp_cold_20f" in result:
        s = result["ftp_cold_20f"]
        print(f"cold FTP 20 °F n={s['n']}  median {s['median_abs_err_pct']:.1f}% p90 {s['p90_abs_err_pct']:.1f}%"
              f"   (heat pump without the drivetrain's waste heat: {s['no_waste_heat_median_abs_err_pct']:.1f}% /"
              f" {s['no_waste_heat_p90_abs_err_pct']:.1f}%)")
    result["elapsed_s"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(result))
    return result


def _plot(two: pd.DataFrame, cold: pd.DataFrame | None, path: str) -> None:
    """Predicted against measured wall energy: parity line, ±10% band, and each series' median |error|.

    Missing folders of `path` are created; without a suffix it is written as PNG.
    """
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from _common import parity_lines  # benchmarks/ is on sys.path when the script runs

    def median_pct(predicted: pd.Series, measured: pd.Series) -> str:
        return f"median |error| {100 * float(np.median(np.abs(predicted / measured - 1))):.1f}%"

    fig, ax = plt.subplots(figsize=(7, 7), constrained_layout=True)
    values = [two.wh_per_mile, two.predicted_wh_per_mile, two.baseline_wh_per_mile]
    for proc, marker, colour in (("udds", "o", "C0"), ("hwfet", "s", "C1")):
        s = two[two.test_procedure == proc]
        ax.scatter(s.wh_per_mile, s.baseline_wh_per_mile, marker=marker, s=14, facecolors="none",
                   edgecolors=colour, alpha=0.45, lw=0.8,
                   label=f"{proc}, constant efficiency (n={len(s)}, {median_pct(s.baseline_wh_per_mile, s.wh_per_mile)})")
        ax.scatter(s.wh_per_mile, s.predicted_wh_per_mile, marker=marker, s=18, color=colour,
                   label=f"{proc}, twinloop (n={len(s)}, {median_pct(s.predicted_wh_per_mile, s.wh_per_mile)})")
    if cold is not None and len(cold):
        values += [cold.wh_per_mile, cold.predicted_wh_per_mile]
        ax.scatter(cold.wh_per_mile, cold.predicted_wh_per_mile, marker="^", s=36, color="C3", edgecolors="k",
                   lw=0.5, label=f"cold FTP 20 °F, twinloop (n={len(cold)}, "
                                 f"{median_pct(cold.predicted_wh_per_mile, cold.wh_per_mile)})")
    every = pd.concat(values).dropna()
    lim = [float(every.min()) * 0.92, float(every.max()) * 1.05]  # every point inside, the band too
    parity_lines(ax, lim, 0.10)
    ax.plot([], [], "k-", lw=0.8, label="predicted = measured")
    ax.plot([], [], "k:", lw=0.6, label="±10%")
    ax.set(xlabel="EPA measured wall energy [Wh/mi]", ylabel="predicted wall energy [Wh/mi]",
           title="EPA 2022 BEVs: predicted vs measured\n(each manufacturer left out of the fit)")
    ax.set_aspect("equal")
    ax.legend(fontsize=7.5, loc="upper left")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, format=None if Path(path).suffix else "png")
    plt.close(fig)

if __name__ == "__main__":
    main()
