"""``twinloop profile``: driving profiles, a thin adapter over twinloop.apps.profiles."""

from __future__ import annotations

import json

import click

from twinloop.apps.profiles import TripMetrics, cycle_metrics
from twinloop.cycles import load_cycle

__all__ = ["register"]


@click.group("profile")
def profile_group() -> None:
    """How a trip or a drive cycle is driven: accelerations, speeds, hills, stops.

    \b
    Examples:
      twinloop profile metrics --cycle udds
      twinloop profile metrics --cycle my_trip.csv --format json

    The metrics and their equations are in docs/profiles.md (O'Keefe et al.,
    SAE 2007-01-0302).
    """


@profile_group.command("metrics")
@click.option("-c", "--cycle", required=True, help="Bundled cycle name (see `twinloop cycle list`) or a CSV trace.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: readable summary; json: every metric by name, speeds in m/s (null where undefined).")
def metrics_command(cycle: str, fmt: str) -> None:
    """Print the driving metrics of a drive cycle or a recorded trip.

    \b
    Examples:
      twinloop profile metrics --cycle udds
      twinloop profile metrics --cycle us06 --format json
      twinloop profile metrics --cycle my_trip.csv

    The trace is read as `twinloop simulate -c` reads it (see `twinloop cycle
    --help`). Hills count through the road grade, integrated over the
    distance into an elevation; a trace with an elevation column gets the
    grade fitted to it over 100 m of road, so GPS scatter does not count as
    climbing. The bundled cycles are flat.

    \b
    Kinetic intensity is the characteristic acceleration over the
    aerodynamic speed squared: high in town, low on a motorway. A step
    is stopped at a mean speed of 0.1 m/s or less. Metrics that divide
    by the distance are n/a (JSON null) for a trace that never moves.
    """
    trace = load_cycle(cycle)
    metrics = cycle_metrics(trace)
    if fmt == "json":
        click.echo(json.dumps(metrics.to_dict(), indent=2))
    else:
        _print_table(trace.name, metrics)


def _number(value: float, scale: float, digits: int) -> str:
    return "n/a" if value != value else f"{value * scale + 0.0:.{digits}f}"  # NaN: never moved


def _print_table(name: str, m: TripMetrics) -> None:
    click.echo(f"{name}: {m.distance_m / 1000:.2f} km in {m.duration_s:.0f} s")
    rows = [
        ("average speed", _number(m.average_speed_mps, 3.6, 1), "km/h"),
        ("average driving speed", _number(m.average_driving_speed_mps, 3.6, 1), "km/h"),
        ("characteristic accel.", _number(m.characteristic_acceleration_mps2, 1, 3), "m/s2"),
        ("characteristic decel.", _number(m.characteristic_deceleration_mps2, 1, 3), "m/s2"),
        ("aerodynamic speed", _number(m.aerodynamic_speed_mps, 3.6, 1), "km/h"),
        ("kinetic intensity", _number(m.kinetic_intensity_per_km, 1, 3), "1/km"),
        ("stops", _number(m.stops_per_km, 1, 2), "per km"),
        ("idle", _number(m.idle_fraction, 100, 1), "% of the time"),
    ]
    for label, value, unit in rows:
        click.echo(f"  {label:24s}{value:>8s} {unit}")
    for title, shares in (("speed", m.speed_distribution), ("acceleration", m.acceleration_distribution)):
        click.echo(f"  time share by {title} [%]:")
        for key, share in shares.items():
            click.echo(f"    {key.replace('_', ' '):22s}{_number(share, 100, 1):>8s}")


def register(group: click.Group) -> None:
    """Add the profile commands to the main group."""
    group.add_command(profile_group)
