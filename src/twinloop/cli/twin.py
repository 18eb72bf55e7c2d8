"""``twinloop twin``: create, list and inspect vehicle twins and their model versions."""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["register"]

_STORE_HELP = (
    "Store URL: a DuckDB file path, duckdb:///path or postgresql://user@host/db."
    " Default: $TWINLOOP_STORE or ~/.local/share/twinloop/telemetry.duckdb."
)
_STORE = click.option("--store", "store_url", envvar="TWINLOOP_STORE", help=_STORE_HELP)
_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


def _store(url: str | None) -> Any:
    from twinloop.store import open_store

    return open_store(url)


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
    """


@twin_group.command("create")
@click.argument("vin")
@click.option("--vehicle", "-v", required=True, help="Vehicle library name or TOML file.")
@click.option("--name", help="Human name of the twin (default: the vehicle's name).")
@_STORE
def create_cmd(vin: str, vehicle: str, name: str | None, store_url: str | None) -> None:
    """Create the twin of VIN from a vehicle specification.

    \b
    Examples:
      twinloop twin create 5YJ3E1EA7KF000001 --vehicle tesla_model_3_long_range_2022
      twinloop twin create car7 --vehicle my_car.toml --name "fleet car 7" --store fleet.duckdb
    """
    from twinloop.parameters import resolve_vehicle
    from twinloop.twin.service import create_twin

    spec = resolve_vehicle(vehicle)
    with _store(store_url) as store:
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


@twin_group.command("show")
@click.argument("vin")
@_FORMAT
@_STORE
def show_cmd(vin: str, fmt: str, store_url: str | None) -> None:
    """Show a twin: record, state, champion model and version history.

    \b
    Examples:
      twinloop twin show 5YJ3E1EA7KF000001
      twinloop twin show 5YJ3E1EA7KF000001 --format json | jq .champion.parameters
    """
    from twinloop.twin.service import open_twin

    with _store(store_url) as store:
        twin = open_twin(store, vin)
        versions = twin.registry.history()
    champ = next((v for v in versions if v.status == "champion"), None)
    rec = twin.record
    if fmt == "json":
        doc = rec.to_dict()
        doc["champion"] = None if champ is None else champ.to_dict()
        doc["models"] = [v.to_dict() for v in versions]
        click.echo(json.dumps(doc, indent=2))
        return
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
    if champ is not None:
        lines.append(f"champion    v{champ.version} ({champ.kind}, {champ.model_type})")
        lines += [f"  {k:<22} {v}" for k, v in champ.parameters.items()]
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
    from twinloop.twin.service import open_twin

    with _store(store_url) as store:
        versions = open_twin(store, vin).registry.history()
    if fmt == "json":
        click.echo(json.dumps([v.to_dict() for v in versions], indent=2))
    else:
        click.echo(_versions_table(versions))


@twin_group.command("restore")
@click.argument("vin")
@click.argument("version", type=int)
@_STORE
def restore_cmd(vin: str, version: int, store_url: str | None) -> None:
    """Make a copy of an earlier model VERSION the champion (as a new version).

    \b
    Example:
      twinloop twin restore 5YJ3E1EA7KF000001 1
    """
    from twinloop.twin.service import open_twin

    with _store(store_url) as store:
        new = open_twin(store, vin).registry.restore(version, created_by="twinloop twin restore")
    click.echo(f"restored v{version} of {vin} as v{new.version} (champion)")


def register(group: click.Group) -> None:
    """Add the ``twin`` commands to the ``twinloop`` group."""
    group.add_command(twin_group)
