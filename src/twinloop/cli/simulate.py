"""``twinloop simulate``, ``twinloop demo`` and ``twinloop cycle``: thin adapters over twinloop.sim."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import numpy as np

from twinloop.cli._errors import field_flags
from twinloop.cli._paths import plot_file
from twinloop.conventions import KELVIN_OFFSET, celsius_to_kelvin, kelvin_to_celsius
from twinloop.cycles import bundled_cycles, load_cycle
from twinloop.errors import UnknownNameError, ValidationError
from twinloop.quantities import GLOSSARY, check
from twinloop.sim import CONDITIONS, HVAC_MODES, DriveCondition, Scenario, simulate

__all__ = ["register"]

DEMO_CYCLES = ("udds", "hwfet", "us06", "wltc_3b")


def _resolve(name: str):
    from twinloop.parameters.library import resolve_vehicle

    return resolve_vehicle(name)


_AMBIENT_C = (-50.0, 60.0)  # the glossary's ambient_temperature range, in °C


def _celsius_to_kelvin(value: float, option: str = "--ambient-c") -> float:
    """The ambient temperature option [°C] in kelvin, checked in the user's unit.

    The ends of the range stay inside it in kelvin (-50 + 273.15 rounds to
    223.14999999999998 K, below the glossary's 223.15 K). A value that is a
    valid temperature in kelvin is named as such.
    """
    low, high = _AMBIENT_C
    if not low <= value <= high:
        in_celsius = kelvin_to_celsius(value)
        hint = (f"{value:g} looks like kelvin: give {in_celsius:.4g} (°C)"
                if low <= in_celsius <= high else None)
        raise ValidationError(option, f"a temperature in [{low:g}, {high:g}] °C", value, hint=hint)
    kelvin = GLOSSARY["ambient_temperature"]
    return min(max(celsius_to_kelvin(value), kelvin.minimum), kelvin.maximum)


def _condition(name: str) -> DriveCondition:
    """The drive condition named by --condition (close matches for a misspelt one)."""
    if name not in CONDITIONS:
        raise UnknownNameError("condition", name, CONDITIONS, hint="`twinloop simulate --help` describes them")
    return CONDITIONS[name]


def _ambient(ambient_c: float | None, condition: DriveCondition) -> float | None:
    """--ambient-c in kelvin, checked in °C against the condition's range too; None: the condition's default."""
    if ambient_c is None:
        return None
    kelvin = _celsius_to_kelvin(ambient_c)
    low, high = condition.ambient_range
    if not low <= kelvin <= high:  # the same sum (°C + 273.15) as the range: its ends are kept
        default = kelvin_to_celsius(condition.ambient_temperature)
        raise ValidationError("--ambient-c", f"a temperature in [{kelvin_to_celsius(low):.4g}, {kelvin_to_celsius(high):.4g}] °C "
                              f"for --condition {condition.name}", ambient_c,
                              hint=f"Leave --ambient-c out for {default:.1f} °C, or use --condition road")
    return kelvin


def _check_options(soc_start: float, payload_kg: float) -> None:
    """Check scenario options here, so that errors name the option the user typed."""
    check("state_of_charge", soc_start, "--soc-start")
    check("payload", payload_kg, "--payload-kg")


def _wh(value: float) -> str:
    """`value` [Wh] to one decimal, with no "-0.0" for a tiny negative."""
    return f"{value + 0.0:10.1f}" if round(value, 1) != 0 else f"{0.0:10.1f}"


@click.command("simulate")
@click.option("-v", "--vehicle", required=True, help="Bundled vehicle name (see `twinloop vehicle list`) or a TOML file.")
@click.option("-c", "--cycle", required=True, help="Bundled cycle name (see `twinloop cycle list`) or a CSV trace.")
@click.option("--condition", default="road", show_default=True, metavar="|".join(CONDITIONS),
              help="Where the vehicle drives; dynamometer to compare with an EPA (lab) result. A chassis "
                   "dynamometer turns only the driven axle, so all braking goes through it and can be "
                   "regenerated; on the road an undriven axle's friction brakes take a share and waste it (UDDS: "
                   "about 11 % more energy for front-wheel drive, 21 % rear-wheel, 3 % all-wheel drive). "
                   + " ".join(f"{c.name}: {c.description}." for c in CONDITIONS.values()))
@click.option("--ambient-c", type=float, default=None,
              help="Ambient temperature [°C]; default the condition's: 20 on the road, 23.9 (75 °F) on the "
                   "dynamometer (23-25 allowed), -6.7 (20 °F) on dynamometer_cold.")
@click.option("--soc-start", type=float, default=0.9, show_default=True, help="Initial state of charge [0-1].")
@click.option("--payload-kg", type=float, default=0.0, show_default=True, help="Mass added to the test mass [kg].")
@click.option("--hvac", type=click.Choice(HVAC_MODES), default=None,
              help="Cabin climate; auto runs it below 15 °C and above 25 °C. Default the condition's: auto on "
                   "the road; off on the dynamometer and on for dynamometer_cold, the only mode each of them allows.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table: readable summary; json: totals and breakdown; csv: the time series.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), callback=plot_file,
              help="Write a figure of speed, SoC, power and breakdown (.png, .pdf, .svg ...).")
@field_flags(hvac="--hvac", condition="--condition", ambient_temperature="--ambient-c")
def simulate_command(vehicle: str, cycle: str, condition: str, ambient_c: float | None, soc_start: float,
                     payload_kg: float, hvac: str | None, fmt: str, plot: Path | None) -> None:
    """Simulate one vehicle over a drive cycle and report its energy use.

    \b
    Examples:
      twinloop simulate -v tesla_model_3_long_range_2022 -c udds
      twinloop simulate -v my_car.toml -c my_trip.csv --ambient-c -7 --format json
      twinloop simulate -v nissan_leaf_40kwh_2018 -c wltc_3b --plot leaf.png
      twinloop simulate -v epa2022:nissan_leaf_kwb115_c0 -c udds --condition dynamometer

    Energies are in Wh; wh_per_km is on the wall (recharge) basis, like EPA
    figures, and n/a (JSON null) when the vehicle did not move. The breakdown
    lists where the battery energy went and sums to it. When the vehicle fell
    behind the trace, trace_missed_reason says why: battery_empty (its state
    of charge reached 1 %, at battery_empty_s) or power_limit (battery_empty_s
    is set too if the battery emptied later); with --format json or csv a
    warning on standard error says so as well.
    """
    ambient = _ambient(ambient_c, _condition(condition))
    _check_options(soc_start, payload_kg)
    spec = _resolve(vehicle)
    trace = load_cycle(cycle)
    scenario = Scenario(trace, ambient_temperature=ambient, soc_start=soc_start, payload=payload_kg, hvac=hvac,
                        condition=condition)
    result = simulate(spec, scenario, record=bool(plot) or fmt == "csv")
    summary = result.summary(0)
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
    elif fmt == "csv":
        frame = result.series_frame(0)
        frame.columns = [_csv_name(c) for c in frame.columns]
        for col in ("battery_temperature_k", "cabin_temperature_k"):
            frame[col.replace("_k", "_c")] = frame.pop(col) - KELVIN_OFFSET
        frame.to_csv(sys.stdout, index=False, float_format="%.6g")
    else:
        _print_summary(summary, scenario)
    if fmt != "table" and summary["trace_missed_s"]:  # the table says it; json and csv need a word too
        click.secho(f"warning: {summary['vehicle']} missed the {summary['cycle']} trace for "
                    f"{summary['trace_missed_s']:.0f} s, {summary['trace_missed_m']:.0f} m short "
                    f"({_missed_because(summary)})", fg="yellow", err=True)
    if plot:
        from twinloop.plotting import plot_result

        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_result(result, trace, plot)
        click.echo(f"plot written to {plot}", err=True)


_UNITS = {"time": "s", "vehicle_speed": "mps", "battery_power": "w", "battery_current": "a", "battery_voltage": "v",
          "battery_temperature": "k", "cabin_temperature": "k", "hvac_power": "w", "motor_power": "w",
          "friction_brake_power": "w"}


def _csv_name(column: str) -> str:
    return f"{column}_{_UNITS[column]}" if column in _UNITS else column


def _print_summary(s: dict, scenario: Scenario) -> None:
    per_km = "n/a Wh/km: the vehicle did not move" if s["wh_per_km"] is None else f"{s['wh_per_km']:.1f} Wh/km"
    click.echo(f"{s['vehicle']} on {s['cycle']}: {s['distance_m'] / 1000:.2f} km in {s['duration_s']:.0f} s")
    if scenario.condition != "road":  # the road's output stays as it was
        ambient = kelvin_to_celsius(float(np.asarray(scenario.ambient_temperature)))
        click.echo(f"  condition        {scenario.condition}, {ambient:.1f} °C, climate {scenario.hvac}")
    click.echo(f"  wall energy      {_wh(s['wall_energy_wh'])} Wh   ({per_km})")
    click.echo(f"  battery energy   {_wh(s['battery_energy_wh'])} Wh")
    click.echo(f"  state of charge  {s['soc_start']:.3f} -> {s['soc_end']:.3f}")
    if s["trace_missed_s"]:
        click.secho(f"  trace missed     {s['trace_missed_s']:.0f} s, {s['trace_missed_m']:.0f} m short "
                    f"({_missed_because(s)})", fg="yellow")
    click.echo("  where the battery energy went [Wh]:")
    for key, value in s["breakdown"].items():
        click.echo(f"    {key.replace('_', ' '):20s}{_wh(value)}")
    click.echo(f"  (regeneration recovered {s['regeneration_recovered_wh']:.1f} Wh, already netted above)")


def _missed_because(s: dict) -> str:
    """Why the trace was missed, in words; a battery that emptied later is named too."""
    if s["trace_missed_reason"] == "battery_empty":
        start = " at the start" if s["battery_empty_s"] == 0 else f" at t = {s['battery_empty_s']:.0f} s"
        return f"the battery was empty{start}: state of charge at or below 1 %; try a higher --soc-start"
    because = "the vehicle's motor or battery power is too low for this cycle"
    if s["battery_empty_s"] is not None:
        because += f"; then the battery was empty at t = {s['battery_empty_s']:.0f} s"
    return because


@click.command("demo")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=Path("out/demo.png"),
              show_default=True, callback=plot_file, help="Where to write the breakdown figure (.png, .pdf, .svg ...).")
@click.option("--ambient-c", type=float, default=20.0, show_default=True, help="Ambient temperature [°C].")
def demo_command(plot: Path, ambient_c: float) -> None:
    """Simulate every bundled reference vehicle over the standard cycles.

    Prints a table of wall energy per km (from the socket: what recharging
    takes, charger losses included, as EPA figures) and writes a stacked bar
    chart of where the battery energy goes, per km (before charger losses,
    so its bars are lower than the table). No server or data set is needed.

    \b
    Examples:
      twinloop demo
      twinloop demo --ambient-c -7 --plot out/cold.png
    """
    import pandas as pd

    from twinloop.parameters.library import bundled_vehicles, load_bundled
    from twinloop.plotting import plot_breakdown_table

    names = [n for n in bundled_vehicles() if ":" not in n]  # the reference BEVs, not the EPA list
    specs = [load_bundled(n) for n in names]
    rows = []
    for cycle in DEMO_CYCLES:
        scenario = Scenario(load_cycle(cycle), ambient_temperature=_celsius_to_kelvin(ambient_c))
        rows.append(simulate(specs, scenario).to_frame())  # the whole fleet in one call
    table = pd.concat(rows, ignore_index=True)
    pivot = table.pivot(index="vehicle", columns="cycle", values="wh_per_km")[list(DEMO_CYCLES)]
    click.echo(f"Wall energy [Wh/km] of {len(specs)} bundled vehicles at {ambient_c:g} °C "
               "(from the socket, charger losses included):\n")
    click.echo(pivot.round(1).to_string())
    missed = table[table["trace_missed_s"] > 0]
    for _, row in missed.iterrows():
        click.secho(f"{row['vehicle']} missed the {row['cycle']} trace for {row['trace_missed_s']:.0f} s", fg="yellow")
    plot.parent.mkdir(parents=True, exist_ok=True)
    plot_breakdown_table(table, plot)
    click.echo(f"\nBattery energy by cause [Wh/km] (before charger losses) plotted to {plot}")
    click.echo("Next: `twinloop simulate --help`, `twinloop vehicle list`, `twinloop cycle list`.")


@click.group("cycle")
def cycle_group() -> None:
    """Standard drive cycles.

    A command that takes a cycle (-c) accepts a bundled name or a CSV trace
    with a time column (time_s; time_ms in milliseconds), a speed column (speed_mps,
    speed_kph or speed_mph) and optionally road_grade (a fraction, 0.05 =
    5 %) or grade_pct, or else elevation_m or elevation_ft (a GPS log: the
    grade is fitted over 100 m of road); columns separated by ',', ';', tab
    or '|'. Other columns are ignored, but one named like a grade or an
    elevation (slope, grade_percent, altitude) is refused rather than driven
    as a flat road. A trace spans at most 30
    days (twinloop.cycles.MAX_DURATION).

    Speed is interpolated between rows, so a time step longer than
    10 s (twinloop.cycles.MAX_GAP) is refused where the speed is above 0 on either side
    (split such a trace at the gap); a longer step at standstill (speed 0
    on both sides) is a stop and is kept.

    \b
    Examples:
      twinloop cycle list
      twinloop simulate -v nissan_leaf_40kwh_2018 -c wltc_3b
      twinloop simulate -v nissan_leaf_40kwh_2018 -c my_trip.csv
    """


@cycle_group.command("list")
def cycle_list() -> None:
    """List the bundled drive cycles: name, distance, duration, description.

    \b
    Examples:
      twinloop cycle list
      twinloop cycle list | grep -i wltc
    """
    for name, description in bundled_cycles().items():
        c = load_cycle(name)
        click.echo(f"{name:10s} {c.distance / 1000:6.2f} km {c.duration:6.0f} s  {description}")


def register(group: click.Group) -> None:
    """Add the simulation commands to the main group."""
    group.add_command(simulate_command)
    group.add_command(demo_command)
    group.add_command(cycle_group)
