"""Fleet throughput: twinloop against FASTSim 3.1.0 over the same varied vehicles.

What is measured
----------------
A fleet of ``--vehicles`` battery-electric vehicles is drawn around a base BEV
(twinloop's twin of FASTSim's bundled 2020 Chevrolet Bolt EV): test mass, drag
coefficient (so CdA), rolling-resistance coefficient, motor peak power and
battery energy each scaled by an independent uniform factor in [0.8, 1.2], and
each vehicle given its own ambient temperature, uniform in [0, 35] °C. All run
the cycle (default UDDS) with climate control on and the lumped battery
thermal model on (cabin and battery soaked at ambient).

* twinloop: ``VehicleModel().simulate(specs, Scenario(cycle, hvac="on",
  ambient_temperature=array))``, the whole fleet in one call, timed end to end
  from the list of ``VehicleSpec`` (parameter stacking included), and again
  from a prepared parameter matrix (``simulate_parameters``). Numba's compile
  cache is warmed first; the compile time (fresh cache, fresh process) and the
  first call with a warm on-disk cache are reported on their own. Timed with
  numba's default thread count and again with ``numba.set_num_threads(1)``.
* FASTSim: the same vehicles built by editing the bundled Bolt's fields (mass,
  drag_coef, wheel_rr_coef, motor pwr_out_max, battery energy_capacity,
  cabin and battery start temperature) and the cycle's ambient temperature,
  history saving off. FASTSim has no batch API, so its rate is vehicles over
  the wall time of a Python loop of ``SimDrive(veh, cyc).walk()``; building
  the vehicles is not timed (``SimDrive(veh, cyc).run()``: construction and run). ``--fastsim-vehicles`` sets how many of the fleet
  it runs (the rate is per vehicle either way).
* Single vehicle: one call simulating the first vehicle, median of many; for
  FASTSim the median time of one run in the loop.
* Peak memory: in a fresh subprocess, 10,000 vehicles (``--memory-vehicles``)
  built as VehicleSpec and run over WLTC class 3b (``--memory-cycle``), totals
  only (no time series); the absolute peak RSS of that process (its VmHWM in
  /proc/self/status), next to that of a subprocess that only runs
  ``import twinloop.sim`` (the baseline) and one that simulates one vehicle.
  (ru_maxrss from getrusage/wait4 is reported too, but Linux folds the
  parent's RSS at fork into it.)

Timings are the median of ``--repeats`` runs (the best is printed too). The
data it needs is bundled (twinloop's cycles, FASTSim's vehicles and cycles).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    FASTSIM_BASE_BEV,
    FASTSIM_HELP,
    KELVIN,
    REPO_ROOT,
    WH,
    base_bev_spec,
    dump_json,
    fastsim_battery_energy,
    fastsim_cycle,
    fastsim_cycle_dict,
    fastsim_set_soak,
    import_fastsim,
    machine,
    median,
    print_table,
    timed,
)

BENCH_DIR = Path(__file__).resolve().parent
FACTORS = ("test_mass", "drag_coefficient", "rolling_resistance_coefficient", "motor_peak_power", "battery_energy")


@dataclass(frozen=True)
class Fleet:
    """Scale factors per varied field, shape (n,), and ambient temperatures [K]."""

    factors: dict[str, np.ndarray]
    ambient: np.ndarray

    def __len__(self) -> int:
        return len(self.ambient)


def draw_fleet(n: int, seed: int = 0, spread: float = 0.2) -> Fleet:
    """`n` vehicles: each field of FACTORS scaled by U[1-spread, 1+spread], ambient U[0, 35] °C."""
    rng = np.random.default_rng(seed)
    factors = {k: rng.uniform(1 - spread, 1 + spread, n) for k in FACTORS}
    return Fleet(factors, KELVIN + rng.uniform(0.0, 35.0, n))


def twinloop_specs(fleet: Fleet) -> list[Any]:
    base = base_bev_spec()
    return [
        base.with_changes(name=f"fleet-{i:05d}", **{k: getattr(base, k) * float(f[i]) for k, f in fleet.factors.items()})
        for i in range(len(fleet))
    ]


def fastsim_vehicles(fs: Any, fleet: Fleet, m: int) -> list[Any]:
    """The first `m` vehicles of `fleet` as FASTSim vehicles, edited from the bundled Bolt."""
    import copy

    base = dict(fs.Vehicle.from_resource(FASTSIM_BASE_BEV).to_dict())
    f = fleet.factors
    out = []
    for i in range(m):
        d = copy.deepcopy(base)
        bev = d["pt_type"]["BEV"]
        d["mass_kilograms"] = base["mass_kilograms"] * f["test_mass"][i]
        d["chassis"]["drag_coef"] = base["chassis"]["drag_coef"] * f["drag_coefficient"][i]
        d["chassis"]["wheel_rr_coef"] = base["chassis"]["wheel_rr_coef"] * f["rolling_resistance_coefficient"][i]
        bev["em"]["pwr_out_max_watts"] = base["pt_type"]["BEV"]["em"]["pwr_out_max_watts"] * f["motor_peak_power"][i]
        bev["res"]["energy_capacity_joules"] = base["pt_type"]["BEV"]["res"]["energy_capacity_joules"] * f["battery_energy"][i]
        fastsim_set_soak(d, float(fleet.ambient[i]))
        veh = fs.Vehicle.from_dict(d)
        veh.set_save_interval(None)
        out.append(veh)
    return out


# -- twinloop ------------------------------------------------------------------


def time_twinloop(fleet: Fleet, cycle_name: str, repeats: int, single_repeats: int) -> dict[str, Any]:
    import numba

    from twinloop.cycles import load_cycle
    from twinloop.sim import Scenario, VehicleModel, simulate, stack_vehicles

    cycle = load_cycle(cycle_name)
    specs = twinloop_specs(fleet)
    scenario = Scenario(cycle, hvac="on", ambient_temperature=fleet.ambient)
    one = Scenario(cycle, hvac="on", ambient_temperature=float(fleet.ambient[0]))
    model = VehicleModel()

    t0 = time.perf_counter()
    simulate(specs[0], one)  # in-process first call: loads (or compiles) the kernel
    first_call = time.perf_counter() - t0

    params, tables = stack_vehicles(specs)
    out: dict[str, Any] = {"first_call_in_process_s": first_call}
    threads_default = numba.get_num_threads()
    for label, threads in (("", threads_default), ("_1thread", 1)):
        numba.set_num_threads(threads)
        model.simulate(specs, scenario)  # warm at this thread count
        t_fleet, result = timed(lambda: model.simulate(specs, scenario), repeats)
        t_kernel, _ = timed(lambda: model.simulate_parameters(params, tables, scenario), repeats)
        t_single, _ = timed(lambda: simulate(specs[0], one), single_repeats)
        out[f"fleet_s{label}"] = t_fleet
        out[f"kernel_path_s{label}"] = t_kernel
        out[f"single_s{label}"] = t_single
        out[f"threads{label}"] = threads
    numba.set_num_threads(threads_default)
    out["battery_energy_j"] = result.battery_energy
    out["hvac_j"] = result.breakdown["hvac"]
    out["trace_missed_s"] = result.trace_missed_time
    return out


_CHILD_FIRST_CALL = """
import json, sys, time
t0 = time.perf_counter()
import twinloop.sim
from twinloop.cycles import load_cycle
sys.path.insert(0, {bench!r})
from _common import base_bev_spec
t1 = time.perf_counter()
twinloop.sim.simulate(base_bev_spec(), twinloop.sim.Scenario(load_cycle({cycle!r}), hvac="on"))
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "first_call_s": t2 - t1}}))
"""

_PEAK = """
def _peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
"""

_CHILD_IMPORT = _PEAK + """
import json
import twinloop.sim
print(json.dumps({"vmhwm_mb": _peak_mb()}))
"""

_CHILD_FLEET = _PEAK + """
import json, sys, time
sys.path.insert(0, {bench!r})
import twinloop.sim
from twinloop.cycles import load_cycle
from fleet_throughput import draw_fleet, twinloop_specs
fleet = draw_fleet({n}, seed={seed})
specs = twinloop_specs(fleet)
t0 = time.perf_counter()
r = twinloop.sim.simulate(specs, twinloop.sim.Scenario(load_cycle({cycle!r}), hvac="on", ambient_temperature=fleet.ambient))
t1 = time.perf_counter()
print(json.dumps({{"simulate_s": t1 - t0, "vehicles": len(r), "vmhwm_mb": _peak_mb()}}))
"""


def run_child(code: str, env: dict[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """Run `code` in a fresh interpreter; its last (JSON) line and ru_maxrss [MB] from wait4."""
    import json

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=REPO_ROOT, env={**os.environ, **(env or {})})
    assert proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout.read()
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed ({proc.returncode}):\n{stderr.decode()}")
    lines = stdout.decode().strip().splitlines()
    data = json.loads(lines[-1]) if lines else {}
    return data, usage.ru_maxrss / 1024.0  # Linux: kB


def measure_compile(cycle_name: str) -> dict[str, float]:
    """First call in fresh processes: with an empty numba cache (compile), then a warm one."""
    with tempfile.TemporaryDirectory(prefix="twinloop-numba-cache-") as cache:
        cold, _ = run_child(_CHILD_FIRST_CALL.format(bench=str(BENCH_DIR), cycle=cycle_name),
                            env={"NUMBA_CACHE_DIR": cache})
    warm, _ = run_child(_CHILD_FIRST_CALL.format(bench=str(BENCH_DIR), cycle=cycle_name))
    return {"compile_first_call_s": cold["first_call_s"], "cached_first_call_s": warm["first_call_s"],
            "import_twinloop_sim_s": warm["import_s"]}


def measure_memory(n: int, cycle_name: str, seed: int) -> dict[str, float]:
    """Peak RSS [MB] of fresh processes: bare import, one vehicle, `n` vehicles.

    The figure is the process's own VmHWM (/proc/self/status), the high-water
    mark of its address space since exec. getrusage's ru_maxrss (of the child
    or from wait4) is kept alongside, but Linux carries the parent's RSS at
    fork into it, so it reads high when this (large) benchmark process spawns.
    """
    base, base_ru = run_child(_CHILD_IMPORT)
    one, _ = run_child(_CHILD_FLEET.format(bench=str(BENCH_DIR), n=1, seed=seed, cycle=cycle_name))
    fleet, fleet_ru = run_child(_CHILD_FLEET.format(bench=str(BENCH_DIR), n=n, seed=seed, cycle=cycle_name))
    return {"peak_rss_mb": fleet["vmhwm_mb"], "import_only_rss_mb": base["vmhwm_mb"],
            "one_vehicle_rss_mb": one["vmhwm_mb"], "simulate_s": fleet["simulate_s"],
            "peak_rss_mb_rusage": fleet_ru, "import_only_rss_mb_rusage": base_ru}


# -- FASTSim ---------------------------------------------------------------------


def time_fastsim(fleet: Fleet, m: int, cycle_name: str) -> dict[str, Any]:
    fs = import_fastsim()
    t0 = time.perf_counter()
    vehicles = fastsim_vehicles(fs, fleet, m)
    base_cycle = fastsim_cycle_dict(fs, cycle_name)
    cycles = [fastsim_cycle(fs, base_cycle, float(fleet.ambient[i])) for i in range(m)]
    build_s = time.perf_counter() - t0
    # warm-up run (not timed)
    fs.SimDrive(vehicles[0], cycles[0]).run()
    per_run, energies, failures = [], [], 0
    loop_t0 = time.perf_counter()
    loop_excluded = 0.0
    for veh, cyc in zip(vehicles, cycles, strict=True):
        t = time.perf_counter()
        sd = fs.SimDrive(veh, cyc)
        try:
            sd.run()
            ok = True
        except Exception:  # FASTSim raises on a missed trace
            ok = False
        t_run = time.perf_counter()
        per_run.append(t_run - t)
        if ok:
            energies.append(fastsim_battery_energy(sd)["chemical"])
        else:
            failures += 1
            energies.append(float("nan"))
        loop_excluded += time.perf_counter() - t_run  # reading results back is not timed
    loop_s = time.perf_counter() - loop_t0 - loop_excluded
    return {"build_s": build_s, "loop_s": loop_s, "per_run_s": per_run, "vehicles": m,
            "battery_energy_j": np.array(energies), "failures": failures}


# -- report ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=FASTSIM_HELP + " Without it, --skip-fastsim still gives twinloop's figures.",
    )
    parser.add_argument("--vehicles", type=int, default=1000, help="fleet size for the throughput run (default 1000)")
    parser.add_argument("--cycle", default="udds", help="drive cycle of the throughput run (default udds)")
    parser.add_argument("--fastsim-vehicles", type=int, default=None,
                        help="how many of the fleet FASTSim runs (default: all, at most 1000; ~40 ms each)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of the twinloop fleet run (median reported)")
    parser.add_argument("--memory-vehicles", type=int, default=10_000, help="fleet size of the peak-memory run (default 10000)")
    parser.add_argument("--memory-cycle", default="wltc_3b", help="cycle of the peak-memory run (default wltc_3b)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the peak-memory and compile-time subprocesses")
    parser.add_argument("--skip-fastsim", action="store_true", help="twinloop figures only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fleet's random variation")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="wait up to S seconds for the 1-minute load average to fall below 0.5 before timing")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object on the last line")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.wait_quiet
    while os.getloadavg()[0] >= 0.5 and time.monotonic() < deadline:
        time.sleep(5)
    load_before = os.getloadavg()
    if load_before[0] >= 0.5:
        print(f"warning: load average {load_before[0]:.2f} on {os.cpu_count()} CPUs: other processes share "
              "the cores, timings (parallel ones most) will be slow and noisy", file=sys.stderr)

    fleet = draw_fleet(args.vehicles, seed=args.seed)
    m = min(args.vehicles, 1000) if args.fastsim_vehicles is None else min(args.fastsim_vehicles, args.vehicles)
    if not args.skip_fastsim:
        import_fastsim()  # fail early, with the install command

    tl = time_twinloop(fleet, args.cycle, args.repeats, single_repeats=101)
    n = len(fleet)
    tl_rate = n / median(tl["fleet_s"])
    tl_rate_1 = n / median(tl["fleet_s_1thread"])
    single_ms = 1e3 * median(tl["single_s"])
    single_ms_1 = 1e3 * median(tl["single_s_1thread"])

    fsr: dict[str, Any] | None = None
    if not args.skip_fastsim:
        fsr = time_fastsim(fleet, m, args.cycle)
    comp = mem = None
    if not args.skip_memory:
        comp = measure_compile(args.cycle)
        mem = measure_memory(args.memory_vehicles, args.memory_cycle, args.seed)

    fs_rate = fsr["vehicles"] / fsr["loop_s"] if fsr else None
    fs_single_ms = 1e3 * median(fsr["per_run_s"]) if fsr else None
    threads = tl["threads"]

    print(f"fleet of {n} vehicles, {args.cycle}, HVAC on, battery thermal on, ambient 0-35 °C, "
          f"mass/CdA/Crr/motor power/battery energy ±20%; median of {args.repeats} (best in brackets)")
    rows = [
        [f"twinloop, {threads} threads, from VehicleSpec list", f"{tl_rate:,.0f}",
         f"{1e3 * median(tl['fleet_s']):.1f} [{1e3 * min(tl['fleet_s']):.1f}]", f"{single_ms:.3f}"],
        [f"twinloop, {threads} threads, prepared matrix", f"{n / median(tl['kernel_path_s']):,.0f}",
         f"{1e3 * median(tl['kernel_path_s']):.1f} [{1e3 * min(tl['kernel_path_s']):.1f}]", ""],
        ["twinloop, 1 thread, from VehicleSpec list", f"{tl_rate_1:,.0f}",
         f"{1e3 * median(tl['fleet_s_1thread']):.1f} [{1e3 * min(tl['fleet_s_1thread']):.1f}]", f"{single_ms_1:.3f}"],
        ["twinloop, 1 thread, prepared matrix", f"{n / median(tl['kernel_path_s_1thread']):,.0f}",
         f"{1e3 * median(tl['kernel_path_s_1thread']):.1f} [{1e3 * min(tl['kernel_path_s_1thread']):.1f}]", ""],
    ]
    if fsr:
        rows.append([f"FASTSim {args.cycle}, Python loop over {fsr['vehicles']} vehicles", f"{fs_rate:,.1f}",
                     f"{1e3 * fsr['loop_s']:.0f} for {fsr['vehicles']}", f"{fs_single_ms:.2f}"])
    print_table(rows, ["simulator", "vehicle-cycles/s", "fleet wall ms", "single vehicle ms (median)"])

    result: dict[str, Any] = {
        "twinloop_vehicle_cycles_per_s": tl_rate,
        "fastsim_vehicle_cycles_per_s": fs_rate,
        "ratio": tl_rate / fs_rate if fs_rate else None,
        "single_vehicle_ms": single_ms,
        "fastsim_single_ms": fs_single_ms,
        "peak_rss_mb_10000_wltc": mem["peak_rss_mb"] if mem else None,
    }
    extra: dict[str, Any] = {
        "twinloop_vehicle_cycles_per_s_1thread": tl_rate_1,
        "ratio_1thread": tl_rate_1 / fs_rate if fs_rate else None,
        "single_vehicle_ms_1thread": single_ms_1,
        "twinloop_prepared_matrix_vehicle_cycles_per_s": n / median(tl["kernel_path_s"]),
        "twinloop_threads": threads,
        "first_call_in_process_s": tl["first_call_in_process_s"],
        "vehicles": n,
        "cycle": args.cycle,
        "fastsim_vehicles_timed": fsr["vehicles"] if fsr else 0,
        "timing": f"median of {args.repeats} fleet runs, 101 single runs; FASTSim: one loop, per-run median",
    }
    print()
    if fsr:
        print(f"ratio twinloop/FASTSim: {result['ratio']:.0f}x ({threads} threads), {extra['ratio_1thread']:.0f}x (1 thread); "
              f"single vehicle {single_ms:.3f} ms vs FASTSim {fs_single_ms:.1f} ms")
        if fsr["vehicles"] < n:
            print(f"FASTSim ran the first {fsr['vehicles']} of the {n} vehicles (rate per vehicle)")
        tl_e = tl["battery_energy_j"][: fsr["vehicles"]]
        ratio_e = tl_e / fsr["battery_energy_j"]
        ok = np.isfinite(ratio_e)
        agreement = {
            "median_twinloop_over_fastsim": float(np.median(ratio_e[ok])),
            "p10": float(np.percentile(ratio_e[ok], 10)),
            "p90": float(np.percentile(ratio_e[ok], 90)),
            "correlation": float(np.corrcoef(tl_e[ok], fsr["battery_energy_j"][ok])[0, 1]),
            "fastsim_failures": fsr["failures"],
            "twinloop_mean_wh": float(np.mean(tl_e) * WH),
            "fastsim_mean_wh": float(np.nanmean(fsr["battery_energy_j"]) * WH),
        }
        extra["energy_agreement"] = agreement
        extra["fastsim_build_s"] = fsr["build_s"]
        print(f"same work? battery chemical energy twinloop/FASTSim per vehicle: median {agreement['median_twinloop_over_fastsim']:.3f} "
              f"(p10 {agreement['p10']:.3f}, p90 {agreement['p90']:.3f}), correlation {agreement['correlation']:.3f}; "
              f"means {agreement['twinloop_mean_wh']:.0f} vs {agreement['fastsim_mean_wh']:.0f} Wh; "
              f"FASTSim failures {fsr['failures']}")
    if comp:
        extra.update(comp)
        print(f"numba compile + first call (fresh process, empty cache): {comp['compile_first_call_s']:.2f} s; "
              f"first call with warm on-disk cache: {comp['cached_first_call_s']:.3f} s; "
              f"import twinloop.sim: {comp['import_twinloop_sim_s']:.2f} s")
    if mem:
        extra["peak_rss_mb_import_twinloop_sim"] = mem["import_only_rss_mb"]
        extra["peak_rss_mb_one_vehicle_wltc"] = mem["one_vehicle_rss_mb"]
        extra["peak_rss_mb_10000_wltc_rusage"] = mem["peak_rss_mb_rusage"]
        extra["memory_run_vehicles"] = args.memory_vehicles
        extra["memory_run_cycle"] = args.memory_cycle
        extra["memory_run_simulate_s"] = mem["simulate_s"]
        print(f"peak RSS, {args.memory_vehicles} vehicles over {args.memory_cycle} (fresh process, totals only): "
              f"{mem['peak_rss_mb']:.0f} MB; one vehicle: {mem['one_vehicle_rss_mb']:.0f} MB; "
              f"bare `import twinloop.sim`: {mem['import_only_rss_mb']:.0f} MB (VmHWM); "
              f"that simulate call took {mem['simulate_s']:.2f} s")
    goal_ok = fs_rate is not None and result["ratio"] >= 100 and fs_single_ms is not None and single_ms <= fs_single_ms
    verdict = "not checked (no FASTSim run)" if fs_rate is None else ("met" if goal_ok else "NOT met")
    print(f"goal (>=100x FASTSim's rate, single vehicle no slower than one FASTSim run): {verdict}")
    result.update(extra)
    result["load_average_1min_before_after"] = [load_before[0], os.getloadavg()[0]]
    result["machine"] = machine()
    if args.json:
        print(dump_json(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
