"""Helpers shared by the benchmarks: paths, timing, FASTSim access, the base vehicle.

FASTSim (NREL's simulator) is a benchmark-only peer, never a twinloop
dependency: it is imported lazily, and a missing install says how to add it.
"""

from __future__ import annotations

import copy
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from twinloop.files import unwritable_reason

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
FASTSIM_VERSION = "3.1.0"
FASTSIM_INSTALL = f"pip install fastsim=={FASTSIM_VERSION}"
FASTSIM_HELP = (
    f"FASTSim {FASTSIM_VERSION} (NREL) is a benchmark-only peer, not a twinloop dependency; "
    f"install it into the same environment with `{FASTSIM_INSTALL}`."
)

# FASTSim's bundled battery-electric vehicle used as the base of the varied fleet.
FASTSIM_BASE_BEV = "2020 Chevrolet Bolt EV thrml.yaml"
WH = 1 / 3600.0
KELVIN = 273.15


def output_path(suffixes: Sequence[str] = ()) -> Callable[[str], str]:
    """An argparse ``type=`` that refuses, before a long run, a path that cannot be written or has the wrong suffix."""
    import argparse

    def check(text: str) -> str:
        path = Path(text)
        if suffixes and path.suffix.lower().lstrip(".") not in suffixes:
            got = f"'{path.suffix}'" if path.suffix else "no suffix"
            raise argparse.ArgumentTypeError(f"{text} has {got}; expected one of "
                                             + ", ".join(f".{s}" for s in suffixes[:6]))
        why = unwritable_reason(path)
        if why is not None:
            raise argparse.ArgumentTypeError(f"cannot write {text}: {why}")
        return text

    return check


def require_data(path: Path, what: str) -> Path:
    """`path` if it exists, else exit with status 2 and say which data set to pass with ``--data``."""
    if not Path(path).exists():
        print(f"error: {path} not found: {what}. This benchmark needs the reference data set; pass "
              f"--data PATH to the folder holding it (default ../{DEFAULT_DATA.relative_to(REPO_ROOT.parent)}, "
              "beside the repository; its README.md gives the provenance).", file=sys.stderr)
        raise SystemExit(2)
    return Path(path)


class FastsimMissing(SystemExit):
    """FASTSim is not installed (exit status 2, with the install command)."""


def import_fastsim() -> Any:
    """Import FASTSim, or exit with a message saying how to install it."""
    try:
        import fastsim
    except ImportError as exc:  # pragma: no cover - depends on the environment
        print(f"error: cannot import fastsim ({exc}).\n{FASTSIM_HELP}", file=sys.stderr)
        raise FastsimMissing(2) from exc
    version = getattr(fastsim, "__version__", "?")
    if version != FASTSIM_VERSION:
        print(f"warning: fastsim {version} found; these figures were made with "
              f"{FASTSIM_VERSION} ({FASTSIM_INSTALL})", file=sys.stderr)
    return fastsim


def fastsim_bevs(fastsim: Any) -> list[str]:
    """Names of FASTSim's bundled vehicle files that are battery-electric."""
    names = []
    for res in fastsim.Vehicle.list_resources():
        veh = fastsim.Vehicle.from_resource(str(res))
        if veh.veh_type() == "BEV":
            names.append(str(res))
    return names


def fastsim_set_soak(d: dict[str, Any], temperature: float) -> None:
    """Start the cabin and the battery of a FASTSim vehicle dict at `temperature` [K]."""
    cabin = d.get("cabin") or {}
    for kind in cabin.values() if isinstance(cabin, dict) else ():
        if isinstance(kind, dict) and "state" in kind:
            kind["state"]["temperature_kelvin"] = temperature
            kind["state"]["temp_prev_kelvin"] = temperature
    thrml = d["pt_type"]["BEV"]["res"].get("thrml") or {}
    for kind in thrml.values() if isinstance(thrml, dict) else ():
        if isinstance(kind, dict) and "state" in kind:
            kind["state"]["temperature_kelvin"] = temperature
            kind["state"]["temp_prev_kelvin"] = temperature


def fastsim_cycle(fastsim: Any, base: dict[str, Any], temperature: float | None = None) -> Any:
    """A FASTSim cycle from its dict, with a constant ambient temperature [K] if given."""
    d = copy.deepcopy(base)
    if temperature is not None:
        d["temp_amb_air_kelvin"] = [float(temperature)] * len(d["time_seconds"])
    return fastsim.Cycle.from_dict(d)


def fastsim_cycle_dict(fastsim: Any, name: str) -> dict[str, Any]:
    """A FASTSim cycle as a dict: bundled (udds, hwfet) or built from twinloop's trace."""
    bundled = {str(p) for p in fastsim.Cycle.list_resources()}
    if f"{name}.csv" in bundled:
        return dict(fastsim.Cycle.from_resource(f"{name}.csv").to_dict())
    from twinloop.cycles import load_cycle

    cyc = load_cycle(name)
    d = dict(fastsim.Cycle.from_resource("udds.csv").to_dict())
    n = len(cyc.time)
    d.update(
        time_seconds=[float(x) for x in cyc.time],
        speed_meters_per_second=[float(x) for x in cyc.vehicle_speed],
        grade=[float(x) for x in cyc.road_grade],
        dist_meters=[], elev_meters=[],
        pwr_max_chrg_watts=[0.0] * n,
        temp_amb_air_kelvin=[d["temp_amb_air_kelvin"][0]] * n,
        pwr_solar_load_watts=[0.0] * n,
    )
    return d


def fastsim_battery_energy(sd: Any) -> dict[str, float]:
    """Chemical and terminal battery energy [J], distance [m] after a FASTSim run."""
    veh = sd.to_dict()["veh"]
    state = veh["pt_type"]["BEV"]["res"]["state"]
    return {
        "chemical": float(state["energy_out_chemical_joules"]),
        "terminal": float(state["energy_out_electrical_joules"]),
        "distance": float(veh["state"]["dist_meters"]),
        "cycle_met": bool(veh["state"].get("cyc_met_overall", True)),
    }


def timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Wall times [s] of `repeats` calls of `fn`, and the last result."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def machine() -> dict[str, Any]:
    """What ran the benchmark."""
    import numba
    import numpy as np

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpus": os.cpu_count(),
        "numba": numba.__version__,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "numpy": np.__version__,
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def print_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    """A plain left-aligned text table."""
    cells = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "-"
        return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.0f}"
    return str(x)


def rounded(obj: Any, digits: int = 4) -> Any:
    """Floats rounded to `digits` significant digits, recursively (for JSON)."""
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, dict):
        return {k: rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v, digits) for v in obj]
    return obj


def parity_lines(ax: Any, lim: Sequence[float], band: float) -> None:
    """Predicted-vs-measured axes: the identity line and a ±`band` (fraction) band, square limits."""
    ax.plot(lim, lim, "k-", lw=0.8)
    for f in (1 - band, 1 + band):
        ax.plot(lim, [x * f for x in lim], "k:", lw=0.6)
    ax.set(xlim=lim, ylim=lim)


def dump_json(obj: Any) -> str:
    return json.dumps(rounded(obj), separators=(",", ":"))


def base_bev_spec() -> Any:
    """twinloop's twin of FASTSim's bundled 2020 Chevrolet Bolt EV (the fleet's base vehicle).

    Values copied from FASTSim 3.1.0's ``2020 Chevrolet Bolt EV thrml.yaml``:
    mass, drag, frontal area, rolling resistance, motor and battery power,
    battery energy, wheel radius and inertia, auxiliary load, cabin set point.
    """
    from twinloop.parameters.spec import VehicleSpec

    return VehicleSpec(
        "bolt-like base BEV",
        test_mass=1626.129,
        motor_peak_power=149139.974,
        battery_energy=237.6e6,
        drag_coefficient=0.309,
        frontal_area=2.396898,
        rolling_resistance_coefficient=0.007767205248456686,
        air_density=1.2,
        wheel_radius=0.3234,
        rotating_mass_factor=4 * 0.815 / 0.3234**2 / 1626.129,
        gear_ratio=7.05,
        battery_nominal_voltage=350.0,
        battery_max_discharge_power=165e3,
        auxiliary_power=250.0,
        cabin_setpoint=295.15,
    )
