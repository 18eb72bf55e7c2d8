"""``twinloop energy``: where a trip's energy went and what would save some, a thin adapter over twinloop.apps.energy."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING

import click

from twinloop.cli._errors import field_flags
from twinloop.cli._types import STORE_OPTION as _STORE
from twinloop.conventions import celsius_to_kelvin

if TYPE_CHECKING:
    from twinloop.apps.energy import EnergyDrive, EnergyReport

__all__ = ["register"]

_AMBIENT_C = (-50.0, 60.0)  # the glossary's ambient_temperature range, in °C

_LINE_LABELS = {
    "rolling": "rolling resistance",
    "aerodynamic": "air drag",
    "climbing": "climbing (net of descents)",
    "acceleration": "acceleration, not regenerated",
    "drivetrain_losses": "motor, inverter, gearbox",
    "auxiliaries": "auxiliaries (12 V)",
    "hvac": "climate control",
    "unexplained": "unexplained (measured - model)",
}


def _trace_drive(trip: str, ambient_c: float | None) -> EnergyDrive:
    """A trace file or a bundled cycle as a drive, at --ambient-c (default 20 °C)."""
    from twinloop.apps.energy import EnergyDrive
    from twinloop.cycles import load_cycle

    if ambient_c is None:
        ambient = 293.15
    else:
        low, high = _AMBIENT_C
        if not (math.isfinite(ambient_c) and low <= ambient_c <= high):
            raise click.BadParameter(f"expected a temperature in [{low:g}, {high:g}] °C, received {ambient_c:g}",
                                     param_hint="--ambient-c")
        ambient = min(max(celsius_to_kelvin(ambient_c), 223.15), 333.15)  # -50 °C rounds just below 223.15 K
    cycle = load_cycle(trip)
    return EnergyDrive(cycle, ambient_temperature=ambient, description=f"{cycle.name} ({cycle.source or trip})")


@click.command("energy")
@click.argument("vin", required=False)
@click.option("-t", "--trip", required=True, metavar="ID|FILE",
              help="A stored trip of VIN by its number (the store numbers trips 1, 2 ... in time order; `twinloop "
                   "profile trips VIN` shows them once profiled), or a trace: a CSV file as `twinloop simulate -c` "
                   "reads it, or a bundled cycle name.")
@click.option("-v", "--vehicle", help="A library vehicle (`twinloop vehicle list`) or a TOML file instead of a twin: "
                                      "no store needed; --trip must then be a trace.")
@click.option("--price", type=float, default=None, metavar="PER_KWH",
              help="Electricity price per kWh at the socket, to put the savings in money (e.g. 0.30).")
@click.option("--currency", default="EUR", show_default=True, help="ISO 4217 code of --price.")
@click.option("--ambient-c", type=float, default=None,
              help="Ambient temperature [°C] of a trace file (default 20); a stored trip has its own.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: readable; json: every figure by name, energies in kWh.")
@_STORE
@field_flags(price="--price", currency="--currency", ambient_temperature="--ambient-c", trip="--trip")
def energy_command(vin: str | None, trip: str, vehicle: str | None, price: float | None, currency: str,
                   ambient_c: float | None, fmt: str, store_url: str | None) -> None:
    """Where every kWh of a trip went, and what driving differently would have saved.

    \b
    Examples:
      twinloop energy 5YJ3E1EA7KF000001 --trip 4 --price 0.30
      twinloop energy 5YJ3E1EA7KF000001 --trip my_drive.csv --format json
      twinloop energy --vehicle nissan_leaf_40kwh_2018 --trip us06 --ambient-c -5 --price 0.30

    The twin re-simulates the trip with its specification, updated with
    what its champion model learned from measured trips (auxiliary load,
    road-load scale, drivetrain efficiency) when it was calibrated. The
    energy at the battery terminals is split by cause: rolling resistance,
    air drag, climbing, acceleration not regenerated, drivetrain losses,
    auxiliaries, climate control. A stored trip with battery current and
    voltage is balanced to its measured energy: what the model does not
    explain is a line of its own, compared with the model's stated error
    (twice its validation RMSE times the distance).

    \b
    Then the same trip is re-simulated changed one way at a time, and the
    savings ranked: cruising 10 % slower where the trip cruised at 60 km/h
    or more; accelerating and braking at most 1 m/s2 (lifting off earlier);
    cabin and battery pre-conditioned while plugged in; the climate set
    point 2 K closer to ambient; tyres inflated from 20 % below the placard
    pressure; 50 kg less load. What does not apply is listed with the
    reason. docs/energy.md gives each definition and its source.
    """
    from twinloop.apps.energy import energy_report, twin_energy_report

    number = re.fullmatch(r"\s*(\d+)\s*", trip)
    if vin is not None and vehicle is not None:
        raise click.UsageError("give VIN (a twin in the store) or --vehicle NAME (a library vehicle), not both")
    if vin is None and vehicle is None:
        raise click.UsageError("give VIN (a twin in the store), or --vehicle NAME for a library vehicle")
    if number and ambient_c is not None:
        raise click.UsageError("--ambient-c applies to a trace file: a stored trip has its own ambient temperature")
    if vehicle is not None:
        if number:
            raise click.UsageError(f"--trip {number.group(1)} is a stored trip number, which needs VIN (a twin in the "
                                   "store); with --vehicle give a trace file or a bundled cycle")
        from twinloop.parameters.library import resolve_vehicle

        report = energy_report(resolve_vehicle(vehicle), _trace_drive(trip, ambient_c), price=price, currency=currency)
    else:
        from twinloop.store import open_store
        from twinloop.twin.lifecycle import open_twin

        assert vin is not None
        drive: EnergyDrive | int = int(number.group(1)) if number else _trace_drive(trip, ambient_c)
        with open_store(store_url, create=False) as store:
            report = twin_energy_report(open_twin(store, vin), drive, price=price, currency=currency)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_table(report)
    for warning in report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def _kwh(joules: float) -> str:
    value = joules / 3.6e6
    return f"{value + 0.0:8.3f}" if round(value, 3) != 0 else f"{0.0:8.3f}"


def _print_table(r: EnergyReport) -> None:
    d, b, c = r.drive, r.breakdown, r.calibration
    who = f"{r.vin} ({r.vehicle})" if r.vin and r.vin not in d.description else r.vehicle
    click.echo(f"{d.description}: {who}, {b.distance / 1000:.2f} km in {b.duration / 60:.1f} min, "
               f"ambient {d.ambient_temperature - 273.15:.1f} °C")
    if c.version is None:
        click.echo("model: the library specification, not calibrated")
    elif c.calibrated:
        applied = ", ".join(c.applied) or "nothing"
        error = f"; its error {c.model_error:.1f} J/m ({c.error_source})" if c.model_error is not None else ""
        click.echo(f"model: champion v{c.version} ({c.kind}), calibrated on measured trips{error}; applied: {applied}")
    else:
        click.echo(f"model: champion v{c.version} ({c.kind}), NOT calibrated: the specification as it is")
    basis = "measured" if b.measured is not None else "modelled"
    click.echo(f"where the energy went ({basis}, at the battery terminals) [kWh]:")
    for key, value in b.lines.items():
        if key == "unexplained" and b.measured is None:
            continue
        share = f"{100 * value / b.total:6.1f} %" if b.total > 0 else ""
        click.echo(f"  {_LINE_LABELS[key]:32s}{_kwh(value)}  {share}")
    click.echo(f"  {'= total':32s}{_kwh(b.total)}")
    if b.measured is not None:
        check = ""
        if b.model_error is not None:
            verdict = "within" if b.within_model_error else "BEYOND"
            check = f", stated error ±{b.model_error / 3.6e6:.3f}: {verdict}"
        click.echo(f"  (measured {b.measured / 3.6e6:.3f}, model {b.modelled / 3.6e6:.3f}, "
                   f"residual {b.residual / 3.6e6 if b.residual is not None else 0.0:+.3f}{check})")
    click.echo(f"  {'+ battery internal losses':32s}{_kwh(b.battery_losses)}  (heat in the pack, modelled; "
               "not in the V·I at the terminals)")
    click.echo(f"  (regeneration returned {b.regeneration_recovered / 3.6e6:.3f} kWh, already netted above)")
    if r.what_ifs.ranked:
        click.echo("what would have saved energy, largest first:")
        for i, w in enumerate(r.what_ifs.ranked, 1):
            extra = f" (takes {w.extra_time:.0f} s longer)" if w.extra_time >= 1 else ""
            click.echo(f"  {i}. {w.suggestion}{extra}")
    if r.what_ifs.skipped:
        click.echo("not applicable to this trip:")
        for s in r.what_ifs.skipped:
            click.echo(f"  - {s.name.replace('_', ' ')}: {s.reason}")
    for note in d.notes:
        click.echo(f"note: {note}")


def register(group: click.Group) -> None:
    """Add the energy command to the main group."""
    group.add_command(energy_command)
