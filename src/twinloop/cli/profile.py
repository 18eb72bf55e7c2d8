"""``twinloop profile``: driving profiles, a thin adapter over twinloop.apps.profiles."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
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
      twinloop profile drivers
      twinloop profile roads --top 10
      twinloop profile clusters

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
@click.argument("vins", metavar="[VIN]...", nargs=-1)
@click.option("--replace", is_flag=True, help="Profile every trip again (and fit the styles again).")
@click.option("--refit-styles", is_flag=True, help="Fit the driving styles again to every profiled trip.")
@_STORE
def build_command(vins: tuple[str, ...], replace: bool, refit_styles: bool, store_url: str | None) -> None:
    """Build the profile database: every stored trip of VIN (of every vehicle without one), styles, drivers.

    \b
    Examples:
      twinloop profile build 5YJ3E1EA7KF000001
      twinloop profile build                      # every vehicle in the store
      twinloop profile build --replace --store fleet.duckdb

    \b
    1. Each trip (key-on to key-off, as ingestion found it) is profiled from
       its Vehicle.Speed samples, with Vehicle.CurrentLocation.Altitude when
       stored; a trip with Latitude/Longitude samples is also snapped to
       200 m road stretches (with the battery energy when voltage and
       current are stored). A trip already profiled is left as it is, so
       running this again writes nothing new; --replace profiles every trip
       again. Trips with fewer than 2 speed samples are skipped, with the
       reason.
    2. Driving styles (calm, moderate, dynamic) are fitted once 10 trips of
       at least 1 km are profiled; later trips get the nearest stored style
       until --refit-styles (or --replace) fits them again.
    3. The driver profiles are pooled from the trips (a driver is the VIN
       unless trips were assigned with `twinloop profile assign`).
    """
    from twinloop.apps.profile_database import build_profiles
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        result = build_profiles(store, list(vins) or None, replace=replace, refit_styles=refit_styles)
    for vin, done in result.vehicles.items():
        kept = f"; {len(done.unchanged)} already profiled, unchanged" if done.unchanged else ""
        click.echo(f"profiled {len(done.profiled)} trips of {vin}, skipped {len(done.skipped)}{kept}")
        for no, reason in done.skipped.items():
            click.echo(f"  skipped trip {no}: {reason}")
        if done.removed:
            click.echo(f"  removed the profiles of trips {', '.join(map(str, done.removed))}, no longer in the store")
    if result.without_trips:
        click.echo(f"no trips (nothing to profile): {', '.join(result.without_trips)}")
    if result.styles_fitted:
        click.echo(f"styles fitted: {result.styles_labelled} trips labelled")
    elif result.style_note:
        click.echo(result.style_note)
    elif result.styles_labelled:
        click.echo(f"styles: {result.styles_labelled} new trips labelled with the stored styles")
    click.echo(f"driver profiles: {result.drivers}")


@profile_group.command("assign")
@click.argument("vin")
@click.argument("driver")
@click.option("--trip", "trips", type=click.IntRange(min=1), multiple=True,
              help="A trip number (repeat the option); every profiled trip of VIN without it.")
@_STORE
def assign_command(vin: str, driver: str, trips: tuple[int, ...], store_url: str | None) -> None:
    """Say that DRIVER drove trips of VIN, and pool the driver profiles again.

    \b
    Examples:
      twinloop profile assign 5YJ3E1EA7KF000001 alice --trip 3 --trip 4
      twinloop profile assign 5YJ3E1EA7KF000001 5YJ3E1EA7KF000001   # back to the default

    A trip's driver is its VIN until assigned (the store has no driver
    signal). The assignment survives `profile build`.
    """
    from twinloop.apps.profile_drivers import build_driver_profiles
    from twinloop.apps.profile_store import assign_driver
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        n = assign_driver(store, vin, None if driver == vin else driver, trips or None)
        build_driver_profiles(store)
    click.echo(f"assigned {n} trip{'s' if n != 1 else ''} of {vin} to {driver}")


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
    _emit(frame, fmt, _summary,
          f"no trip profiles{'' if vin is None else ' of ' + vin}; run `twinloop profile build VIN` first")


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
        "style": frame["style"].map(lambda x: x or "-"),
    })


_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
    help="table: a readable summary; json: every column by name (SI, null where undefined); csv: every column.")


def _emit(frame: pd.DataFrame, fmt: str, summary: Callable[[pd.DataFrame], pd.DataFrame], empty: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([_nested(r) for r in frame.to_dict("records")], indent=2))
    elif fmt == "csv":
        flat = frame.copy()
        for c in flat.columns:
            if flat[c].map(lambda x: isinstance(x, dict | list)).any():
                flat[c] = flat[c].map(lambda x: json.dumps(x, sort_keys=True))
        click.echo(flat.to_csv(index=False), nl=False)
    elif frame.empty:
        click.echo(empty)
    else:
        click.echo(summary(frame).to_string(index=False))


@profile_group.command("drivers")
@click.argument("vin", required=False)
@_FORMAT
@_STORE
def drivers_command(vin: str | None, fmt: str, store_url: str | None) -> None:
    """Print the driver profiles (those who drove VIN, or every driver).

    \b
    Examples:
      twinloop profile drivers
      twinloop profile drivers 5YJ3E1EA7KF000001 --format json

    A driver's metrics are those of all their trips taken together
    (distance- or time-weighted means; docs/profiles.md); speeds are
    percentiles of the time moving, on the 1 s trace. Build them with
    `twinloop profile build`.
    """
    from twinloop.apps.profile_drivers import driver_profiles
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        frame = driver_profiles(store, vin)
    _emit(frame, fmt, _driver_summary,
          f"no driver profiles{'' if vin is None else ' of ' + vin}; run `twinloop profile build` first")


def _styles(shares: dict[str, float]) -> str:
    return " ".join(f"{k}:{100 * v:.0f}%" for k, v in shares.items()) or "-"


def _driver_summary(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "driver": frame["driver"],
        "trips": frame["trips"],
        "days": frame["days"],
        "km": frame["distance_m"].map(lambda x: _number(x, 1e-3, 1)),
        "km_per_day": frame["day_distance_median_m"].map(lambda x: _number(x, 1e-3, 1)),
        "avg_kmh": frame["average_driving_speed_mps"].map(lambda x: _number(x, 3.6, 1)),
        "v85_kmh": frame["speed_p85_mps"].map(lambda x: _number(x, 3.6, 1)),
        "a95": frame["acceleration_p95_mps2"].map(lambda x: _number(x, 1, 2)),
        "a05": frame["acceleration_p05_mps2"].map(lambda x: _number(x, 1, 2)),
        "ki_per_km": frame["kinetic_intensity_per_km"].map(lambda x: _number(x, 1, 3)),
        "styles": frame["style_shares"].map(_styles),
    })


@profile_group.command("roads")
@click.argument("vin", required=False)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="The N stretches driven most often.")
@_FORMAT
@_STORE
def roads_command(vin: str | None, top: int, fmt: str, store_url: str | None) -> None:
    """Print the road stretches driven most often (by VIN, or by every vehicle).

    \b
    Examples:
      twinloop profile roads
      twinloop profile roads 5YJ3E1EA7KF000001 --top 5 --format csv

    A stretch is a 200 m grid cell driven in one of 8 compass headings,
    from Vehicle.CurrentLocation.Latitude/Longitude; a trip without them has
    none. mean_kmh counts stops; v50/v85 are speed percentiles while
    moving; wh_per_km needs the battery voltage and current.
    """
    from twinloop.apps.profile_roads import road_profiles
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        frame = road_profiles(store, vin, top)
    which = "" if vin is None else f" of {vin}"
    _emit(frame, fmt, _road_summary,
          f"no road stretches{which}: no profiled trip has Vehicle.CurrentLocation.Latitude/Longitude samples"
          " (ingest positions, then `twinloop profile build --replace`)")


def _road_summary(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "stretch": frame["stretch"],
        "lat": frame["latitude"].map(lambda x: f"{x:.5f}"),
        "lon": frame["longitude"].map(lambda x: f"{x:.5f}"),
        "heading": frame["heading"],
        "passes": frame["passes"],
        "trips": frame["trips"],
        "mean_kmh": frame["mean_speed_mps"].map(lambda x: _number(x, 3.6, 1)),
        "v50_kmh": frame["speed_p50_mps"].map(lambda x: _number(x, 3.6, 1)),
        "v85_kmh": frame["speed_p85_mps"].map(lambda x: _number(x, 3.6, 1)),
        "accel": frame["mean_acceleration_mps2"].map(lambda x: _number(x, 1, 3)),
        "wh_per_km": frame["energy_per_distance"].map(lambda x: _number(x, 1 / 3.6, 0)),
    })


@profile_group.command("clusters")
@_FORMAT
@_STORE
def clusters_command(fmt: str, store_url: str | None) -> None:
    """Print the driving styles: each cluster's centre and its trips.

    \b
    Examples:
      twinloop profile clusters
      twinloop profile clusters --format json

    k-means (seed 0) on the standardised characteristic acceleration and
    deceleration and the 95th and 5th acceleration percentiles of trips of
    at least 1 km, ordered by characteristic acceleration: calm, moderate,
    dynamic. `twinloop profile build` fits them.
    """
    from twinloop.apps.profile_styles import style_profiles
    from twinloop.store import open_store

    with open_store(store_url, create=False) as store:
        frame = style_profiles(store)
    _emit(frame, fmt, _style_summary,
          "no driving styles yet; `twinloop profile build` fits them once 10 trips of at least 1 km are profiled")


def _style_summary(frame: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({
        "style": frame["style"],
        "trips": frame["trips"],
        "km": frame["distance_m"].map(lambda x: _number(x, 1e-3, 1)),
        "time_pct": frame["time_share"].map(lambda x: _number(x, 100, 1)),
        "char_accel": frame["characteristic_acceleration_mps2"].map(lambda x: _number(x, 1, 3)),
        "char_decel": frame["characteristic_deceleration_mps2"].map(lambda x: _number(x, 1, 3)),
        "a95": frame["acceleration_p95_mps2"].map(lambda x: _number(x, 1, 2)),
        "a05": frame["acceleration_p05_mps2"].map(lambda x: _number(x, 1, 2)),
    })


def register(group: click.Group) -> None:
    """Add the profile commands to the main group."""
    group.add_command(profile_group)
