"""``twinloop design``: battery, motor and final drive for a fleet's days; a thin adapter over twinloop.apps.design."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click

from twinloop.cli._errors import field_flags
from twinloop.cli._paths import plot_file
from twinloop.errors import DataError

__all__ = ["EXAMPLE_FLEET", "register"]

EXAMPLE_FLEET = Path(__file__).resolve().parents[3] / "examples" / "data" / "cmap_2007"
"""The bundled example fleet: six real days of the Chicago 2007 GPS survey (a source checkout only)."""

_OBJECTIVE_NAMES = ("cost", "acceleration_time", "consumption")


def _days(folder: Path | None) -> Any:
    from twinloop.apps.design import read_days

    if folder is None:
        if not EXAMPLE_FLEET.is_dir():
            raise DataError(f"the bundled example fleet ({EXAMPLE_FLEET}) is not here: it ships with the source "
                            "checkout, not with an installed twinloop; give --days FOLDER")
        folder = EXAMPLE_FLEET
    return read_days(folder)


def _table(frame: Any) -> str:
    shown = frame.copy()
    for column, digits in (("battery_kwh", 1), ("motor_kw", 0), ("gear_ratio", 2), ("test_mass_kg", 0),
                           ("cost_usd", 0), ("acceleration_0_100_s", 2), ("top_speed_kph", 0), ("wh_per_km", 1),
                           ("coverage", 3), ("range_need_kwh", 2), ("trace_missed_s", 0)):
        shown[column] = shown[column].map(lambda x, d=digits: "n/a" if not math.isfinite(x) else f"{x:.{d}f}")
    return str(shown.to_string(index=False))


@click.command("design")
@click.option("-v", "--vehicle", default="vw_id3_pro_2020", show_default=True,
              help="Base vehicle: a bundled name (see `twinloop vehicle list`) or a TOML file.")
@click.option("--days", "days_folder", type=click.Path(path_type=Path), default=None,
              help="Folder of day-trace CSVs (the `twinloop simulate -c` format, or the Chicago survey's "
                   "timestamp,speed_mph; .csv or .csv.gz), one day each. Default: the bundled example fleet.")
@click.option("--share", type=float, default=0.95, show_default=True,
              help="Share of the days (0-1] whose energy the usable battery must cover.")
@click.option("--cost-per-kwh", type=float, default=115.0, show_default=True,
              help="Pack price [USD/kWh] (BloombergNEF 2024 average).")
@click.option("--cost-per-kw", type=float, default=8.0, show_default=True,
              help="Drive-unit price [USD/kW] (U.S. DRIVE 2020 target).")
@click.option("--max-0-100", "max_0_100", type=float, default=9.0, show_default=True,
              help="Slowest 0-100 km/h time allowed [s].")
@click.option("--min-top-speed-kph", type=float, default=140.0, show_default=True,
              help="Lowest top speed allowed [km/h].")
@click.option("--motor-max-rpm", type=float, default=12000.0, show_default=True,
              help="The motor's largest speed [rpm]; with the ratio it caps the top speed.")
@click.option("--battery-kwh", type=(float, float), default=(10.0, 120.0), show_default=True,
              metavar="MIN MAX", help="Bounds of the usable battery energy [kWh].")
@click.option("--motor-kw", type=(float, float), default=(50.0, 300.0), show_default=True,
              metavar="MIN MAX", help="Bounds of the motor peak power [kW].")
@click.option("--gear-ratio", type=(float, float), default=(5.0, 14.0), show_default=True,
              metavar="MIN MAX", help="Bounds of the final-drive ratio; MIN = MAX fixes it.")
@click.option("--reserve", type=float, default=0.1, show_default=True,
              help="Share of the usable energy kept in reserve.")
@click.option("--capacity-fade", type=float, default=0.2, show_default=True,
              help="Capacity lost by the battery's end of life (0.2: end of life at 80 %).")
@click.option("--winter-margin", type=float, default=0.0, show_default=True,
              help="Extra energy a day may need in winter (0.67 for the 40 % range loss at -7 °C, AAA 2019).")
@click.option("--objective", "objectives", type=click.Choice(_OBJECTIVE_NAMES), multiple=True,
              help="Objectives to minimise, two or more (repeat the option); default cost and acceleration_time.")
@click.option("--population", type=click.IntRange(min=4), default=40, show_default=True,
              help="NSGA-II population.")
@click.option("--generations", type=click.IntRange(min=1), default=60, show_default=True,
              help="NSGA-II generations.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Random seed: the same seed gives the same designs.")
@click.option("--designs", "max_designs", type=click.IntRange(min=2), default=15, show_default=True,
              help="Most designs shown: a longer front is thinned to designs evenly spaced along it.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table: the front, readable; json: designs, inputs and run times; csv: the front's columns.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), callback=plot_file, default=None,
              help="Write the Pareto front as a figure (.png, .svg, .pdf ...).")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar on standard error (default: when it is a terminal).")
@field_flags(share="--share", battery_cost_per_kwh="--cost-per-kwh", motor_cost_per_kw="--cost-per-kw",
             max_acceleration_time="--max-0-100", min_top_speed="--min-top-speed-kph",
             motor_max_speed="--motor-max-rpm", battery_energy_bounds="--battery-kwh",
             motor_power_bounds="--motor-kw", gear_ratio_bounds="--gear-ratio", reserve="--reserve",
             capacity_fade="--capacity-fade", winter_margin="--winter-margin", objectives="--objective",
             objective="--objective")
def design_command(vehicle: str, days_folder: Path | None, share: float, cost_per_kwh: float, cost_per_kw: float,
                   max_0_100: float, min_top_speed_kph: float, motor_max_rpm: float,
                   battery_kwh: tuple[float, float], motor_kw: tuple[float, float], gear_ratio: tuple[float, float],
                   reserve: float, capacity_fade: float, winter_margin: float, objectives: tuple[str, ...],
                   population: int, generations: int, seed: int, max_designs: int, fmt: str, plot: Path | None,
                   progress: bool | None) -> None:
    """Choose battery, motor and final drive for a fleet's days, at least cost.

    \b
    Examples:
      twinloop design
      twinloop design --share 0.9 --max-0-100 8 --plot front.png
      twinloop design -v nissan_leaf_40kwh_2018 --days my_days/ --format json
      twinloop design --objective cost --objective consumption --gear-ratio 9 9

    Every design (usable battery energy, motor peak power, final-drive
    ratio) is driven over every day by the fleet simulator from a full
    battery; its mass follows the pack (160 Wh/kg) and the motor (1.4
    kW/kg). A day is covered when its battery energy, with the winter
    margin, fits in the usable energy less the reserve and the capacity
    fade. The 0-100 km/h time is a full-throttle run in the simulator
    held to the tyres' grip; the top speed is the lower of the motor's
    top speed through the gear and the power-limited speed. NSGA-II
    (pymoo) searches the bounds; the Pareto-optimal designs are simulated
    again and shown with those figures. Parked standstills (over 5 min)
    are cut from each day; days under 1 km are skipped. docs/design.md
    gives the equations and the sources of the defaults.
    """
    from twinloop.apps.design import KW, KWH, RPM, DesignProblem, optimise_design
    from twinloop.parameters.library import resolve_vehicle

    spec = resolve_vehicle(vehicle)
    fleet = _days(days_folder)
    problem = DesignProblem(
        spec, fleet.days, share=share, battery_cost_per_kwh=cost_per_kwh, motor_cost_per_kw=cost_per_kw,
        battery_energy_bounds=(battery_kwh[0] * KWH, battery_kwh[1] * KWH),
        motor_power_bounds=(motor_kw[0] * KW, motor_kw[1] * KW), gear_ratio_bounds=gear_ratio,
        max_acceleration_time=max_0_100, min_top_speed=min_top_speed_kph / 3.6, motor_max_speed=motor_max_rpm * RPM,
        reserve=reserve, capacity_fade=capacity_fade, winter_margin=winter_margin,
        objectives=objectives or ("cost", "acceleration_time"),
    )
    from tqdm import tqdm

    with tqdm(total=generations, unit="generation", desc="design", disable=None if progress is None else not progress,
              file=sys.stderr, mininterval=0.2) as bar:

        def advance(done: int, total: int) -> None:
            bar.update(done - bar.n)

        result = optimise_design(problem, population=population, generations=generations, seed=seed,
                                 max_designs=max_designs, progress=advance, skipped_days=fleet.skipped)
    for name, why in fleet.skipped.items():
        click.echo(f"note: day {name} skipped: {why}", err=True)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2))
    elif fmt == "csv":
        click.echo(result.to_frame().to_csv(index=False), nl=False)
    else:
        click.echo(f"{len(result)} Pareto-optimal designs from {spec.name} over {len(problem.days)} days "
                   f"({problem.days_needed} covered, share {problem.share:g}); {result.evaluations} designs "
                   f"simulated in {result.optimisation_time:.1f} s, the front again in {result.simulation_time:.2f} s")
        click.echo(_table(result.to_frame()))
    if plot:
        from twinloop.plotting import plot_design_front

        plot_design_front(result, plot)
        click.echo(f"plot written to {plot}", err=True)


def register(group: click.Group) -> None:
    """Add the design command to the main group."""
    group.add_command(design_command)
