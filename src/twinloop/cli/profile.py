"""``twinloop profile``: driving profiles, a thin adapter over twinloop.apps.profiles."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import click

from twinloop.apps.profiles import TripMetrics, cycle_metrics
from twinloop.cli._types import STORE_OPTION as _STORE
from twinloop.cycles import load_cycle

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register"]


@click.group("profile")
def profile_group() -> None:
    """How a trip or a drive cycle is driven: accelerations, speeds, hills, stops.

    \b
    Examples:
      twinloop profile metrics --cycle udds
      twinloop profile metrics --cycle my_trip.csv --format json
      twinloop profile build 5YJ3E1EA7KF000001
      twinloop profile trips 5YJ3E1EA7KF000001 --format csv

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


@profile_group.command("build")
@click.argument("vin")
@click.option("--replace", is_flag=True, help="Profile every trip again, not only the new or changed ones.")
@_STORE
def build_command(vin: str, replace: bool, store_url: str | None) -> None:
    """Profile every stored trip of VIN and keep the metrics in the store.

    \b
    Examples:
      twinloop profile build 5YJ3E1EA7KF000001
      twinloop profile build 5YJ3E1EA7KF000001 --replace --store fleet.duckdb

    Each trip (key-on to key-off, as ingestion found it) is profiled from
    its Vehicle.Speed samples, with Vehicle.CurrentLocation.Altitude when
    stored. A trip already profiled is left as it is, so running this again
    writes nothing new; --replace profiles every trip again. Trips with
    fewer than 2 speed samples are skipped, with the reason.
    """
    from twinloop.apps.profile_store import build_trip_profiles
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        result = build_trip_profiles(store, vin, replace=replace)
    kept = f"; {len(result.unchanged)} already profiled, unchanged" if result.unchanged else ""
    click.echo(f"profiled {len(result.profiled)} trips of {vin}, skipped {len(result.skipped)}{kept}")
    for no, reason in result.skipped.items():
        click.echo(f"  skipped trip {no}: {reason}")
    if result.removed:
        click.echo(f"  removed the profiles of trips {', '.join(map(str, result.removed))}, no longer in the store")


@profile_group.command("trips")
@click.argument("vin", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="table: a readable summary; json: every metric by name (SI, null where undefined);"
                   " csv: every column, the distributions spread over columns.")
@_STORE
def trips_command(vin: str | None, fmt: str, store_url: str | None) -> None:
    """Print the stored trip profiles of VIN (of every vehicle without it).

    \b
    Examples:
      twinloop profile trips 5YJ3E1EA7KF000001
      twinloop profile trips --format csv > profiles.csv

    Build them first with `twinloop profile build VIN`. The metrics are those
    of `twinloop profile metrics`, in SI (m, s, m/s) in json and csv.
    """
    from twinloop.apps.profile_store import trip_profiles
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        frame = trip_profiles(store, vin)
    if fmt == "json":
        click.echo(json.dumps([_nested(r) for r in frame.to_dict("records")], indent=2))
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif frame.empty:
        click.echo(f"no trip profiles{'' if vin is None else ' of ' + vin}; run `twinloop profile build VIN` first")
    else:
        click.echo(_summary(frame).to_string(index=False))


def _nested(record: dict[Any, Any]) -> dict[str, Any]:
    """A row of trip_profiles as JSON: times in ISO 8601, NaN as null, the distributions nested."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, float) and math.isnan(value):
            value = None
        elif hasattr(value, "item"):  # numpy scalars
            value = value.item()
        name, _, part = str(key).partition(".")
        if part:
            out.setdefault(name, {})[part] = value
        else:
            out[name] = value
    return out


def _summary(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "vin": frame["vin"],
        "trip": frame["trip_no"],
        "start": frame["start_time"].dt.strftime("%Y-%m-%d %H:%M"),
        "km": frame["distance_m"].map(lambda x: _number(x, 1e-3, 2)),
        "min": frame["duration_s"].map(lambda x: _number(x, 1 / 60, 1)),
        "avg_kmh": frame["average_speed_mps"].map(lambda x: _number(x, 3.6, 1)),
        "ki_per_km": frame["kinetic_intensity_per_km"].map(lambda x: _number(x, 1, 3)),
        "stops_per_km": frame["stops_per_km"].map(lambda x: _number(x, 1, 2)),
        "idle_pct": frame["idle_fraction"].map(lambda x: _number(x, 100, 1)),
        "altitude": frame["with_altitude"].map({True: "yes", False: "no"}),
    })


def register(group: click.Group) -> None:
    """Add the profile commands to the main group."""
    group.add_command(profile_group)
