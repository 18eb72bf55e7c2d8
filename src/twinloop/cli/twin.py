"""``twinloop twin``: create, list and inspect vehicle twins; keep them current from telemetry."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from twinloop.cli._errors import field_flags
from twinloop.cli._types import STORE_OPTION as _STORE
from twinloop.cli._types import FiniteFloatRange

if TYPE_CHECKING:
    from twinloop.twin.trips import TripTableOptions

__all__ = ["register"]

_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


def _store(url: str | None, create: bool = False) -> Any:
    """The store at `url`; only `twin create` may create a new one (a typo in a path must not)."""
    from twinloop.store import open_store

    return open_store(url, create=create)


def _num(value: float | None, fmt: str = "{:.4g}") -> str:
    return "unknown" if value is None else fmt.format(value)


def _versions_table(versions: list[Any]) -> str:
    import pandas as pd

    if not versions:
        return "(none)"
    rows = [
        {
            "version": v.version,
            "status": v.status,
            "kind": v.kind,
            "type": v.model_type,
            "reason": v.provenance.reason,
            "parent": "" if v.provenance.parent_version is None else v.provenance.parent_version,
            "created_by": v.provenance.created_by,
            "rmse_wh_per_km": "" if v.validation_error is None else f"{v.validation_error / 3.6:.2f}",
            "data_from": "" if v.training_start is None else v.training_start.strftime("%Y-%m-%d %H:%M"),
            "data_to": "" if v.training_end is None else v.training_end.strftime("%Y-%m-%d %H:%M"),
            "created": v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        }
        for v in versions
    ]
    return pd.DataFrame(rows).to_string(index=False)


@click.group("twin")
def twin_group() -> None:
    """Vehicle twins: one per VIN, with a versioned consumption model.

    \b
    A twin starts from a vehicle specification (library name or TOML file);
    its version 1 is the physics model of that vehicle. Calibration and
    drift recalibration add versions; nothing is ever overwritten.

    \b
    Examples:
      twinloop twin create 5YJ3E1EA7KF000001 --vehicle tesla_model_3_long_range_2022 --name "fleet car 7"
      twinloop twin list
      twinloop twin show 5YJ3E1EA7KF000001 --format json
      twinloop twin models 5YJ3E1EA7KF000001
      twinloop twin restore 5YJ3E1EA7KF000001 1

    \b
    From the vehicle's telemetry (after `twinloop ingest ... --vehicle VIN`):
      twinloop twin sync 5YJ3E1EA7KF000001        state of charge, temperatures, odometer
      twinloop twin calibrate 5YJ3E1EA7KF000001   fit the model to the stored trips
      twinloop twin update 5YJ3E1EA7KF000001      score new trips, recalibrate on drift
    """


@twin_group.command("create")
@click.argument("vin")
@click.option("--vehicle", "-v", required=True, help="Vehicle library name or TOML file.")
@click.option("--name", help="Human name of the twin (default: the vehicle's name).")
@_STORE
@field_flags(name="--name")
def create_cmd(vin: str, vehicle: str, name: str | None, store_url: str | None) -> None:
    """Create the twin of VIN from a vehicle specification.

    \b
    Examples:
      twinloop twin create 5YJ3E1EA7KF000001 --vehicle tesla_model_3_long_range_2022
      twinloop twin create car7 --vehicle my_car.toml --name "fleet car 7" --store fleet.duckdb
    """
    from twinloop.parameters import resolve_vehicle
    from twinloop.twin.lifecycle import create_twin
    from twinloop.twin.record import TwinRecord

    spec = resolve_vehicle(vehicle)
    TwinRecord.from_spec(vin, spec, name=name)  # a bad VIN or name must not leave a new, empty store behind
    with _store(store_url, create=True) as store:
        twin = create_twin(store, vin, spec, name=name, created_by="twinloop twin create")
    click.echo(f"created twin {twin.vin} ({twin.record.name}): model v1, physics, champion")


@twin_group.command("list")
@_STORE
def list_cmd(store_url: str | None) -> None:
    """List the twins in the store with their champion model.

    \b
    Example:
      twinloop twin list --store fleet.duckdb
    """
    import pandas as pd

    from twinloop.twin.repository import TwinRepository

    with _store(store_url) as store:
        repo = TwinRepository(store)
        rows = []
        for rec in repo.list():
            champ = repo.registry(rec.vin).champion()
            rows.append(
                {
                    "vin": rec.vin,
                    "name": rec.name,
                    "vehicle": rec.spec.name,
                    "champion": "" if champ is None else f"v{champ.version} {champ.kind}",
                    "soc": _num(rec.state.state_of_charge, "{:.3f}"),
                }
            )
    click.echo(pd.DataFrame(rows).to_string(index=False) if rows else "(none)")


def _health_lines(health: Any) -> list[str]:
    r = health.resistance
    fade, fade_se = health.fade_per_1000_km, health.fade_per_1000_km_standard_error
    return [
        f"health      from {health.stretches} discharge stretch(es) of the latest trips",
        f"  capacity             {health.capacity / 3600:.1f} +- {health.capacity_standard_error / 3600:.1f} Ah"
        f" (rated {health.rated_capacity / 3600:.1f} Ah)",
        f"  state_of_health      {health.state_of_health:.3f} +- {health.state_of_health_standard_error:.3f}",
        "  fade                 unknown" if fade is None
        else f"  fade                 {100 * fade:.2f} +- {100 * fade_se:.2f} % per 1000 km",
        f"  resistance           unknown: {health.resistance_note}" if r is None
        else f"  resistance           {1e3 * r.resistance:.1f} +- {1e3 * r.standard_error:.1f} mohm ({r.steps} steps)",
        *([f"  not counted          {health.skipped}"] if health.skipped else []),
    ]


@twin_group.command("show")
@click.argument("vin")
@click.option("--health", is_flag=True, help="Also track battery capacity, state of health, fade and resistance from the stored trips.")
@_FORMAT
@_STORE
def show_cmd(vin: str, health: bool, fmt: str, store_url: str | None) -> None:
    """Show a twin: record, state, champion model and version history.

    \b
    Examples:
      twinloop twin show 5YJ3E1EA7KF000001
      twinloop twin show 5YJ3E1EA7KF000001 --format json | jq .champion.parameters
      twinloop twin show 5YJ3E1EA7KF000001 --health
    """
    from twinloop.twin.lifecycle import open_twin, twin_report

    with _store(store_url) as store:
        report = twin_report(open_twin(store, vin), health=health)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    rec, champ, versions = report.record, report.champion, list(report.versions)
    s = rec.state
    kelvin = "{:.1f} K"
    lines = [
        f"twin        {rec.vin}",
        f"name        {rec.name}",
        f"vehicle     {rec.spec.name}",
        f"created     {rec.created_at.isoformat()}",
        "state",
        f"  state_of_charge      {_num(s.state_of_charge, '{:.3f}')}",
        f"  state_of_health      {_num(s.state_of_health, '{:.3f}')}",
        f"  battery_temperature  {_num(s.battery_temperature, kelvin)}",
        f"  cabin_temperature    {_num(s.cabin_temperature, kelvin)}",
        f"  odometer             {_num(None if s.odometer is None else s.odometer / 1000, '{:.1f} km')}",
        f"  updated_at           {s.updated_at.isoformat() if s.updated_at else 'unknown'}",
    ]
    if report.health_unknown is not None:
        lines.append(f"health      unknown: {report.health_unknown}")
    elif report.health is not None:
        lines += _health_lines(report.health)
    if champ is not None:
        lines.append(f"champion    v{champ.version} ({champ.kind}, {champ.model_type})")
        lines += [f"  {k:<22} {v:.6g}" if isinstance(v, float) else f"  {k:<22} {v}" for k, v in champ.parameters.items()]
    lines += ["models", _versions_table(versions)]
    click.echo("\n".join(lines))


@twin_group.command("models")
@click.argument("vin")
@_FORMAT
@_STORE
def models_cmd(vin: str, fmt: str, store_url: str | None) -> None:
    """List the model versions of a twin, oldest first.

    \b
    Example:
      twinloop twin models 5YJ3E1EA7KF000001
    """
    from twinloop.twin.lifecycle import open_twin

    with _store(store_url) as store:
        versions = open_twin(store, vin).registry.history()
    if fmt == "json":
        click.echo(json.dumps([v.to_dict() for v in versions], indent=2))
    else:
        click.echo(_versions_table(versions))


class _VersionCommand(click.Command):
    """A command whose VERSION argument, given as -1, is a bad version, not an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            if not exc.option_name.lstrip("-").isdigit():
                raise
            raise click.BadParameter(
                f"expected a model version number >= 1 (`twinloop twin models VIN` lists them),"
                f" received {exc.option_name}",
                ctx=ctx, param_hint="'VERSION'",
            ) from None


@twin_group.command("restore", cls=_VersionCommand)
@click.argument("vin")
@click.argument("version", type=int)
@_STORE
def restore_cmd(vin: str, version: int, store_url: str | None) -> None:
    """Make a copy of an earlier model VERSION the champion (as a new version).

    \b
    VERSION is a number from `twinloop twin models VIN` (1 is the model
    built from the specification). History is never rewritten: the copy
    gets the next number, with reason "restore of vN". Restoring the
    version the champion already serves changes nothing.

    \b
    Example:
      twinloop twin restore 5YJ3E1EA7KF000001 1
    """
    from twinloop.twin.lifecycle import open_twin

    with _store(store_url) as store:
        registry = open_twin(store, vin).registry
        latest = registry.history()[-1].version
        new = registry.restore(version, created_by="twinloop twin restore")
    if new.version == version:
        click.echo(f"v{version} is already the champion of {vin}; nothing changed")
    elif new.version <= latest:
        click.echo(f"v{new.version}, the champion of {vin}, already serves v{version}'s model; nothing changed")
    else:
        click.echo(f"restored v{version} of {vin} as v{new.version} (champion)")


def _when(value: str | None, option: str) -> datetime | None:
    from twinloop.conventions import utc
    from twinloop.errors import ValidationError

    if value is None:
        return None
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise ValidationError(option, "an ISO 8601 time such as 2024-05-01 or 2024-05-01T06:00Z", value) from None


def _skipped(trips: Any) -> list[str]:
    if trips.empty:
        return []
    skipped = trips[~trips["used"]]
    lines = [
        f"  skipped trip {row.trip_no} ({start.isoformat()}): {row.reason}"
        for start, row in skipped.iterrows()
    ]
    used = trips[trips["used"]]
    if used["quarantined"].sum():
        lines.append(f"  {int(used['quarantined'].sum())} samples inside the {int((used['quarantined'] > 0).sum())}"
                     " used trip(s) with quarantined samples were refused at ingest (see the ingest report)")
    return lines


def _wh_per_km(value: float | None) -> str:
    return "unknown" if value is None else f"{value / 3.6:.2f} Wh/km"


@twin_group.command("sync")
@click.argument("vin")
@_STORE
def sync_cmd(vin: str, store_url: str | None) -> None:
    """Set the twin's state from the latest telemetry of its vehicle.

    \b
    State of charge, state of health, battery and cabin temperature take the
    latest stored sample of their signal; the odometer takes the latest
    Vehicle.TraveledDistance or, without it, adds the distance driven since
    the last sync. A vehicle that does not report its state of health gets
    the one tracked from its trips (capacity counted against the state of
    charge; see `twinloop twin show VIN --health`). An odometer reading
    below the twin's is not taken, and one that disagrees with the distance
    the speed signal integrates to is reported with the unit slip it
    suggests (a note, the reading is kept).

    \b
    Example:
      twinloop twin sync 5YJ3E1EA7KF000001 --store fleet.duckdb
    """
    from twinloop.twin.lifecycle import open_twin
    from twinloop.twin.state import sync_state

    with _store(store_url) as store:
        synced = sync_state(open_twin(store, vin))
    s = synced.twin.record.state
    assert s.updated_at is not None
    kelvin = "{:.1f} K"
    click.echo(
        f"synced {vin} to {s.updated_at.isoformat()}:"
        f" state_of_charge {_num(s.state_of_charge, '{:.3f}')},"
        f" state_of_health {_num(s.state_of_health, '{:.3f}')},"
        f" battery_temperature {_num(s.battery_temperature, kelvin)},"
        f" odometer {_num(None if s.odometer is None else s.odometer / 1000, '{:.1f} km')}"
    )
    for note in synced.notes:
        click.echo(f"  note: {note}")


_AMBIENT = click.option(
    "--ambient-c", type=FiniteFloatRange(-60.0, 60.0), default=None, metavar="DEGC",
    help="Ambient temperature [°C] for trips that logged none (default: such trips are skipped).",
)


def _options(ambient_c: float | None) -> TripTableOptions | None:
    from twinloop.conventions import celsius_to_kelvin
    from twinloop.twin.trips import TripTableOptions

    return None if ambient_c is None else TripTableOptions(ambient_temperature=celsius_to_kelvin(ambient_c))


@twin_group.command("calibrate")
@click.argument("vin")
@click.option("--since", help="Use trips starting at or after this time (ISO 8601, UTC unless zoned).")
@click.option("--until", help="Use trips starting before this time (ISO 8601).")
@_AMBIENT
@_STORE
@field_flags(ambient_temperature="--ambient-c", until="--until", since="--since")
def calibrate_cmd(vin: str, since: str | None, until: str | None, ambient_c: float | None,
                  store_url: str | None) -> None:
    """Calibrate the twin's model on its vehicle's stored trips; the result becomes champion.

    \b
    Each trip needs speed, battery current and voltage and ambient
    temperature (or --ambient-c), without gaps over 10 s, and at least
    1 km and 2 min of driving; trips with a stuck speed, current or
    voltage, or a clipped current, are skipped too, and all skipped trips
    are listed. At least 10 usable trips are needed (the last quarter is
    held out for the validation error). A fit that ends on a physical
    limit (efficiency 1, 5 kW auxiliary load) is refused as signals in
    the wrong unit; the champion is kept.

    \b
    Examples:
      twinloop twin calibrate 5YJ3E1EA7KF000001
      twinloop twin calibrate 5YJ3E1EA7KF000001 --since 2024-05-01 --store fleet.duckdb
    """
    from twinloop.errors import ValidationError
    from twinloop.twin.lifecycle import calibrate_from_store, open_twin

    start, end = _when(since, "--since"), _when(until, "--until")
    if start is not None and end is not None and end <= start:
        raise ValidationError("--until", f"a time after --since {since}", until, hint="The window is empty")
    with _store(store_url) as store:
        result = calibrate_from_store(open_twin(store, vin), start, end, options=_options(ambient_c),
                                      created_by="twinloop twin calibrate")
    v, trips = result.version, result.trips
    assert v.training_start is not None and v.training_end is not None
    click.echo(
        f"calibrated {vin} on {int(trips['used'].sum())} trips"
        f" ({v.training_start.isoformat()} to {v.training_end.isoformat()}):"
        f" v{v.version} {v.kind}, {v.status}, validation RMSE {_wh_per_km(v.validation_error)}"
    )
    for line in _skipped(trips):
        click.echo(line)


@twin_group.command("update")
@click.argument("vin")
@click.option("--since", help="Score trips starting at or after this time (default: after the champion's training window).")
@_AMBIENT
@_STORE
@field_flags(ambient_temperature="--ambient-c", since="--since")
def update_cmd(vin: str, since: str | None, ambient_c: float | None, store_url: str | None) -> None:
    """Score the champion on new trips; on drift, recalibrate and register the result.

    \b
    A CUSUM chart of the champion's residuals on the trips after its
    training window raises the alarm; the model is then refitted on the
    trips since the estimated shift and becomes champion if it beats the
    old one on held-out trips. A failed refit keeps the champion.

    \b
    Example:
      twinloop twin update 5YJ3E1EA7KF000001 --store fleet.duckdb
    """
    import pandas as pd

    from twinloop.twin.lifecycle import open_twin, update_from_store

    with _store(store_url) as store:
        twin = open_twin(store, vin)
        scored = twin.registry.champion()
        result = update_from_store(twin, _when(since, "--since"), options=_options(ambient_c),
                                   created_by="twinloop twin update")
    out, trips = result.outcome, result.trips
    if out is None:
        after = "" if result.since is None else f" starting from {result.since.isoformat(timespec='seconds')}"
        what = "no new trips" if trips.empty else f"no usable new trips ({len(trips)} skipped)"
        click.echo(f"{what} of {vin}{after}\nserving: v{result.serving.version} ({result.serving.kind})")
        for line in _skipped(trips):
            click.echo(line)
        return
    used = trips[trips["used"]]
    seen = 0
    if scored is not None and scored.training_end is not None:
        start = pd.DatetimeIndex(used.index)
        inside = start <= pd.Timestamp(scored.training_end)
        if scored.training_start is not None:
            inside &= start >= pd.Timestamp(scored.training_start)
        seen = int(inside.sum())
    lines = [f"scored v{out.champion} on {len(used)} {'' if seen else 'new '}trips: RMSE {_wh_per_km(out.error)}"]
    if seen:
        assert scored is not None and scored.training_end is not None
        lines.append(
            f"note: {seen} of them lie in v{scored.version}'s training window (to"
            f" {scored.training_end.isoformat(timespec='seconds')}), so drift is judged partly on data it was fitted to"
        )
    if out.drift:
        chart = out.cusum
        assert chart.change_start is not None and chart.alarm is not None
        lines.append(
            f"drift: detected at trip {chart.alarm + 1} of {len(trips[trips['used']])}"
            f" (consumption {'above' if chart.direction > 0 else 'below'} the model"
            f" since trip {chart.change_start + 1})"
        )
        new = out.new_version
        if new is None:
            lines.append(f"not recalibrated: {out.recalibration_error}")
        else:
            lines.append(
                f"recalibrated: v{new.version} ({new.status}), validation RMSE {_wh_per_km(new.validation_error)}"
            )
    else:
        lines.append("drift: none")
    lines.append(f"serving: v{result.serving.version} ({result.serving.kind})")
    click.echo("\n".join(lines + _skipped(trips)))


def register(group: click.Group) -> None:
    """Add the ``twin`` commands to the ``twinloop`` group."""
    group.add_command(twin_group)
