"""``twinloop range``: trip energy, end state of charge and range of a drive; a thin adapter over twinloop.apps.range_forecast."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import click

from twinloop.cli._types import STORE_OPTION as _STORE

if TYPE_CHECKING:
    from twinloop.apps.range_forecast import RangeForecast

__all__ = ["register"]


def _soc(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is None or (math.isfinite(value) and 0.0 <= value <= 1.0):
        return value
    hint = f": for {value:g} % give {value / 100:.2f}" if 2.0 <= value <= 100.0 else ""
    raise click.BadParameter(f"expected a state of charge in [0, 1] (0.8 = 80 %), received {value:g}{hint}")


def _celsius(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is None or (math.isfinite(value) and -50.0 <= value <= 60.0):
        return value
    hint = f", which looks like kelvin: give {value - 273.15:.1f}" if 223.15 <= value <= 333.15 else ""
    raise click.BadParameter(f"expected degrees Celsius in [-50, 60], received {value:g}{hint}")


@click.command("range")
@click.argument("vin")
@click.option("--trip", "trip", metavar="FILE|CYCLE",
              help="The drive as a speed trace: a CSV as `twinloop simulate -c` reads (time, speed, "
                   "elevation or grade) or a bundled cycle's name.")
@click.option("--route", "route", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="The drive before it is driven: a CSV of segments with distance_m, speed_mps "
                   "(mean over the segment) and elevation_m (at its end).")
@click.option("--soc-start", type=float, callback=_soc, metavar="X",
              help="State of charge at the start, 0-1 [default: the latest stored, else 1].")
@click.option("--ambient-c", type=float, callback=_celsius, metavar="T",
              help="Ambient temperature [degC; default: the latest stored, else 20].")
@_STORE
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def range_command(vin: str, trip: str | None, route: str | None, soc_start: float | None, ambient_c: float | None,
                  store_url: str | None, fmt: str) -> None:
    """Forecast the battery energy a drive takes, where the state of charge ends, and the range.

    \b
    Examples:
      twinloop range 5YJ3E1EA7KF000001 --trip commute.csv
      twinloop range 5YJ3E1EA7KF000001 --trip udds --soc-start 0.8 --ambient-c=-5
      twinloop range 5YJ3E1EA7KF000001 --route route.csv --format json

    \b
    The twin's champion model (its calibration from its own trips) gives
    the energy; the climate control at the given ambient comes from its
    physics; the state of health tracked from its trips scales the battery.
    The 80 % interval (p10-p90) is calibrated on the twin's own stored trips:
    each is forecast by the model refitted without it, and the spread of
    those errors is the interval (split conformal, not a Gaussian guess). A
    --route is driven in the style learned from the driver's trips, and its
    interval comes from forecasting the stored trips as routes, too.
    A twin never calibrated uses its spec's generic model and says so.
    Details: docs/range.md.
    """
    from twinloop.apps.range_forecast import forecast_range
    from twinloop.apps.route import load_route
    from twinloop.cycles import load_cycle
    from twinloop.store import open_store
    from twinloop.twin.lifecycle import open_twin

    if (trip is None) == (route is None):
        raise click.UsageError("give the drive as --trip FILE (a speed trace) or --route FILE (segments), one of them")
    drive = {"trace": load_cycle(trip)} if trip is not None else {"route": load_route(route)}  # type: ignore[arg-type]
    ambient = None if ambient_c is None else ambient_c + 273.15
    with open_store(store_url, create=False) as store:
        twin = open_twin(store, vin)
        forecast = forecast_range(twin, soc_start=soc_start, ambient_temperature=ambient, **drive)
    for warning in forecast.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if fmt == "json":
        click.echo(json.dumps(forecast.to_dict()))
    else:
        click.echo(_table(forecast))


def _table(f: RangeForecast) -> str:
    d = f.to_dict()
    e, s, r = d["battery_energy_kwh"], d["soc_end"], d["range_km"]
    how = (f"interval from {f.history_trips} of the twin's own trips (split conformal)" if f.interval == "conformal"
           else "interval: a prior spread (too little history)")
    return "\n".join([
        f"{f.vin}: {d['distance_km']:.1f} km in {d['duration_min']:.0f} min by {f.mode}, ambient {d['ambient_c']:.0f} degC",
        f"model v{f.model_version} ({'calibrated on its trips' if f.calibrated else 'NOT calibrated: generic'}), "
        f"state of health {f.state_of_health:.1%}; {how}",
        "                         median      80 % interval",
        f"  battery energy [kWh]  {e['median']:8.2f}    {e['p10']:.2f} - {e['p90']:.2f}",
        (f"  state of charge end   {s['median']:8.1%}    {s['p10']:.1%} - {s['p90']:.1%}   (start {f.soc_start:.1%})"
         if s["p10"] >= 0 else
         f"  state of charge end   empty before the end: after about {r['median']:.3g} km"
         f" ({r['p10']:.3g} - {r['p90']:.3g} km) from {f.soc_start:.1%}"),
        f"  range at this pace    {r['median']:6.0f} km    {r['p10']:.0f} - {r['p90']:.0f} km   "
        f"(from {f.soc_start:.0%} to empty, driving like this)",
    ])


def register(group: click.Group) -> None:
    """Add ``range`` to the command group."""
    group.add_command(range_command)
