"""Data commands: ingest, query, vehicles, trips, can manifest."""

from __future__ import annotations

import io
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from twinloop.cli._errors import cli_message, current_field_flags, field_flags
from twinloop.cli._outputs import check_output, store_file
from twinloop.cli._paths import output_file
from twinloop.cli._types import STORE_OPTION
from twinloop.errors import DataError, ValidationError, shorten

__all__ = ["register"]


def _store(url: str | None, create: bool = True) -> Any:
    """Open the store; commands that only read pass ``create=False`` (no empty file left behind)."""
    from twinloop.store import open_store

    return open_store(url, create=create)


def _case_twins(store: Any, vehicle: str) -> list[str]:
    """Vehicles of the store that differ from a new `vehicle` only in case ([] when it is known)."""
    from twinloop.errors import UnknownNameError

    try:
        store.vehicle_id(vehicle)
    except UnknownNameError:  # new: once per vehicle, so listing them all is cheap enough
        return [v for v in store.vehicles().column("vin").to_pylist() if v.casefold() == vehicle.casefold()]
    return []


def _when(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            name, "an ISO 8601 time such as 2024-05-01T10:00:00Z", shorten(text)
        ) from None


def _utc(when: datetime) -> datetime:
    """`when` as a naive UTC time (naive input is UTC already), for comparisons."""
    if when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


def _seconds(text: str | None) -> float | None:
    """'1s', '500ms', '5min', '1h' or a bare number of seconds."""
    if text is None:
        return None
    units = {"ms": 1e-3, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}
    t = text.strip().lower()
    for suffix in sorted(units, key=len, reverse=True):
        if t.endswith(suffix):
            t, factor = t[: -len(suffix)], units[suffix]
            break
    else:
        factor = 1.0
    try:
        value = float(t) * factor
    except ValueError:
        raise ValidationError(
            "--every", "a number and a unit of ms, s, min or h, such as 1s, 500ms, 5min, 1h", shorten(text)
        ) from None
    from twinloop.store.base import MAX_EVERY  # the store's own bounds, here in the user's units

    # The store keeps microseconds; nan and inf parse as floats and fail here too.
    if not (math.isfinite(value) and 1e-6 <= value <= MAX_EVERY):
        raise ValidationError(
            "--every", "a duration from 0.001ms (the store's resolution) to 87600h (10 years), "
            "such as 1s, 500ms, 5min, 1h", shorten(text),
        )
    return value


@click.command("ingest")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--vehicle", "-v", required=True, help="Vehicle identifier (VIN or your fleet's name)."
)
@click.option(
    "--dbc",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="DBC file (CAN logs only).",
)
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Decoder manifest TOML (CAN logs only).",
)
@click.option(
    "--signals",
    "signal_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of custom signals to accept besides the VSS catalog.",
)
@click.option(
    "--columns",
    "column_map",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Column map TOML: read a logger's own CSV/Parquet columns as VSS signals (docs/data.md).",
)
@click.option(
    "--start",
    help="With --columns: the time relative times count from, ISO 8601 (naive: in the map's zone).",
)
@STORE_OPTION
@click.option(
    "--batch-samples",
    type=click.IntRange(min=1),
    default=None,
    help="Samples per committed batch (default 4,000,000).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar (default: when stderr is a terminal).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@field_flags(
    dbc="--dbc", manifest="--manifest", column_map="--columns", start="--start",
    **{"dbc/manifest": "--dbc/--manifest"},
)
def ingest_cmd(
    path: Path,
    vehicle: str,
    dbc: Path | None,
    manifest: Path | None,
    signal_file: Path | None,
    column_map: Path | None,
    start: str | None,
    store_url: str | None,
    batch_samples: int | None,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Ingest a telemetry file for one vehicle into the store.

    \b
    Accepted files (chosen by suffix):
      .csv .parquet   wide: a 'time' column and one column per VSS path
                      long: columns time, signal, value
      .log .asc .blf  CAN logs (candump -l, Vector ASC/BLF); need --dbc and --manifest

    Values are read in VSS units (Vehicle.Speed in km/h ...) and stored in
    SI; a column named with its SI unit in brackets, as `twinloop query`
    writes them (Vehicle.Speed[m s-1]), is read as SI, so a query's output
    ingests back unchanged. Time is ISO 8601 (UTC unless zoned) or seconds
    since 1970.
    Bad rows are quarantined with their reason and counted; nothing is
    dropped silently. Ingesting the same data again stores nothing twice,
    and an interrupted ingest completes when run again. A CAN log decoded
    with another DBC or manifest is a new ingest.

    Exit status: 0 when samples were stored (or were stored before), 1
    with a warning when the file gave no usable sample (none read, or all
    quarantined), 2 for an error.

    A logger's own CSV or Parquet file (its column names, units,
    separator and encoding) is read through a column map, --columns MAP.toml:
    the time column and its unit, and per column the VSS path, the unit and
    an optional scale; columns the map does not name are ignored (the report
    lists them). --start sets the start of times that count from the log's
    start. Examples of maps: examples/mappings/.

    A drive-cycle trace (time_s, speed_mps ...) is not telemetry: simulate
    over it with `twinloop simulate -c FILE`.

    \b
    Examples:
      twinloop ingest trip.parquet --vehicle 5YJ3E1EA7KF000001
      twinloop ingest drive.log --vehicle car1 --dbc tesla_model3_party.dbc --manifest car1.toml
      twinloop ingest data.csv -v car1 --store postgresql://postgres@127.0.0.1/test
      twinloop ingest TripA01.csv -v i3 --columns examples/mappings/bmw_i3_tum.toml \\
          --start 2019-06-25T13:21:14
    """
    from tqdm import tqdm

    from twinloop.ingest import IngestConfig, Ingester, load_column_map
    from twinloop.signals import default_catalog

    if start is not None and column_map is None:
        raise click.UsageError("--start needs --columns (a column map whose times are relative)")
    catalog = default_catalog()
    if signal_file is not None:
        catalog = catalog.with_file(signal_file)
    columns = None if column_map is None else load_column_map(column_map, catalog)
    if columns is not None and start is not None:
        when = _when(start, "--start")
        assert when is not None
        columns = columns.with_start(when)
    config = IngestConfig() if batch_samples is None else IngestConfig(batch_samples=batch_samples)
    with _store(store_url) as store:
        store.catalog = catalog
        namesakes = _case_twins(store, vehicle)
        ingester = Ingester(store, catalog, config)
        src = ingester.source(path, dbc, manifest, columns)
        total = src.estimated_samples()
        disable = None if progress is None else not progress
        with tqdm(
            total=total,
            unit="sample",
            unit_scale=True,
            desc=path.name,
            disable=disable,
            file=sys.stderr,
            mininterval=0.2,
        ) as bar:

            def advance(report: Any, n: int) -> None:
                bar.update(n)
                bar.set_postfix(batches=report.batches)

            ingester.on_batch = advance
            report = ingester.ingest(path, vehicle, dbc, manifest, columns)
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        click.echo(report.summary())
    if namesakes:
        click.secho(
            f"note: {vehicle} is a new vehicle, apart from {', '.join(map(repr, namesakes))} (identifiers are"
            " case-sensitive); a twin sees only its own vehicle's data", fg="yellow", err=True,
        )
    if report.problem is not None:
        ctx = click.get_current_context()
        problem = cli_message(DataError(report.problem), current_field_flags(ctx))
        click.secho(f"warning: {problem}", fg="yellow", err=True)
        ctx.exit(1)


@click.command("query")
@click.option("--vehicle", "-v", required=True, help="Vehicle identifier.")
@click.option(
    "--signal", "-s", "signals", multiple=True, required=True, help="VSS path; repeat for several."
)
@click.option("--start", help="First time, ISO 8601 (inclusive).")
@click.option("--end", help="Last time, ISO 8601 (exclusive).")
@click.option("--every", help="Resample in the database: 1s, 500ms, 5min, 1h ...")
@click.option(
    "--how",
    type=click.Choice(["mean", "min", "max", "count"]),
    default="mean",
    show_default=True,
    help="Aggregate per --every bucket.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=output_file,
    help="Write here instead of stdout (needed for parquet).",
)
@STORE_OPTION
def query_cmd(
    vehicle: str,
    signals: tuple[str, ...],
    start: str | None,
    end: str | None,
    every: str | None,
    how: str,
    fmt: str,
    output: Path | None,
    store_url: str | None,
) -> None:
    """Read signals of one vehicle, in SI units, as CSV, JSON lines or Parquet.

    Each column is named with its SI unit, Vehicle.Speed[m s-1] (with
    --how count: [count]); `twinloop ingest` reads such a CSV or Parquet
    file back as SI (JSON lines are for other programs: ingest takes CSV,
    Parquet and CAN logs).
    The output may not be the store itself.

    \b
    Examples:
      twinloop query -v car1 -s Vehicle.Speed
      twinloop query -v car1 -s Vehicle.Speed -s Vehicle.Powertrain.TractionBattery.StateOfCharge.Current \\
          --start 2024-05-01T08:00:00Z --end 2024-05-01T09:00:00Z --every 10s
      twinloop query -v car1 -s Vehicle.Speed --format parquet -o speed.parquet
    """
    to_stdout = output is None or str(output) == "-"
    if fmt == "parquet" and to_stdout:  # before the store is opened: fail at once
        raise click.UsageError(
            f"--format parquet writes a binary file and needs -o FILE.parquet (received "
            f"{'-o -' if output is not None else 'no -o'}); use --format csv or json for standard output"
        )
    check_output(output, store=store_file(store_url))
    first, last = _when(start, "--start"), _when(end, "--end")
    if first is not None and last is not None and _utc(first) >= _utc(last):
        raise ValidationError(
            "--end", f"a time after --start ({start})", end, hint="The range is [start, end)."
        )
    resample = _seconds(every)
    with _store(store_url, create=False) as store:
        table = store.read(vehicle, list(signals), first, last, resample, how)
        catalog = store.catalog
    span = f" from {start or 'the first sample'} to {end or 'the last'}"
    for name in signals:
        if table.num_rows == 0 or table.column(name).null_count == table.num_rows:
            click.echo(f"note: no {name} data for {vehicle}{span}", err=True)
    table = table.rename_columns(["time", *(_with_unit(catalog, n, resample, how) for n in signals)])
    if fmt == "parquet":
        assert output is not None
        pq.write_table(table, output)
        return
    if fmt == "csv":
        buf = io.BytesIO()
        pacsv.write_csv(table, buf)
        text = buf.getvalue().decode()
    else:
        frame = table.to_pandas()
        text = frame.to_json(orient="records", lines=True, date_format="iso", date_unit="us")
    if output is None or to_stdout:
        click.echo(text, nl=False)
    else:
        output.write_text(text)


def _with_unit(catalog: Any, path: str, every: float | None, how: str) -> str:
    """The output column of `path`: named with the unit of its values, so ingest reads them back as SI."""
    from twinloop.ingest.columns import COUNT_UNIT, unit_column

    if every is not None and how == "count":
        return unit_column(path, COUNT_UNIT)
    sig = catalog.signals.get(path)
    return path if sig is None else unit_column(path, sig.si_unit)


@click.command("vehicles")
@STORE_OPTION
def vehicles_cmd(store_url: str | None) -> None:
    """List the vehicles in the store with their sample counts and time span.

    \b
    Example:
      twinloop vehicles --store fleet.duckdb
    """
    with _store(store_url, create=False) as store:
        _print_table(store.vehicles())


@click.command("trips")
@click.option("--vehicle", "-v", required=True, help="Vehicle identifier.")
@click.option(
    "--gap",
    type=float,
    default=None,
    help="Recompute the trips, splitting where the data pauses longer than this [s, >= 1],"
    " and store them in place of the current ones (later ingests update with 300 s)."
    " With key state, key-off still ends a trip; the gap only splits key-on runs.",
)
@STORE_OPTION
def trips_cmd(vehicle: str, gap: float | None, store_url: str | None) -> None:
    """List the trips of a vehicle, detected from its data.

    A trip is a key-on to key-off run of Vehicle.LowVoltageSystemState
    (ON or START) when the vehicle reports it, otherwise a run of speed
    samples without a pause longer than 300 s. Trips are brought up to
    date after every ingest. With --gap the trips are recomputed with that
    gap and stored (this changes the store).

    \b
    Examples:
      twinloop trips --vehicle car1
      twinloop trips --vehicle car1 --gap 600     recompute and store with a 10 min gap
    """
    from twinloop.store.trips import check_gap

    if gap is not None:
        check_gap(gap, "--gap")
    with _store(store_url, create=False) as store:
        if gap is not None:
            store.detect_trips(vehicle, gap)
        trips = store.trips(vehicle)
        _print_table(trips)
    if gap is not None and trips.num_rows and "key" in set(trips.column("method").to_pylist()):
        click.echo(
            f"note: {vehicle} reports its key state, so key-off ends each trip; --gap {gap:g} only splits "
            "key-on runs where the data pauses longer than that",
            err=True,
        )


def _print_table(table: pa.Table) -> None:
    if table.num_rows == 0:
        click.echo("(none)")
        return
    # "-" where a value is missing (a vehicle without samples has no first time)
    click.echo(table.to_pandas().to_string(index=False, na_rep="-"))


@click.group("can")
def can_group() -> None:
    """CAN helpers: decoder manifests for DBC files.

    A CAN log is ingested through a DBC (the bus's message layout) and a
    decoder manifest (which DBC signal is which VSS signal, see
    docs/data.md). Write a starter manifest, review its guesses, then ingest.

    \b
    Examples:
      twinloop can manifest --dbc tesla_model3_party.dbc -o model3.toml
      twinloop ingest drive.log -v car1 --dbc tesla_model3_party.dbc --manifest model3.toml
    """


@can_group.command("manifest")
@click.option(
    "--dbc",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The DBC file.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=output_file,
    help="Write the manifest here (default stdout).",
)
def can_manifest_cmd(dbc: Path, output: Path | None) -> None:
    """Write a starter decoder manifest (DBC signal -> VSS path) for a DBC.

    Signals whose names and units look like a catalog signal are mapped
    (review each guess); all others are listed as comments to complete.
    Then ingest a log with it.

    \b
    Example:
      twinloop can manifest --dbc tesla_model3_party.dbc -o model3.toml
      twinloop ingest drive.log -v car1 --dbc tesla_model3_party.dbc --manifest model3.toml
    """
    from twinloop.signals import default_catalog, load_dbc, starter_manifest

    check_output(output, [dbc])
    text = starter_manifest(load_dbc(dbc), default_catalog(), dbc.name)
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"wrote {output}", err=True)


def register(group: click.Group) -> None:
    """Add the data commands to the ``twinloop`` group."""
    for cmd in (ingest_cmd, query_cmd, vehicles_cmd, trips_cmd, can_group):
        group.add_command(cmd)


def _standalone() -> None:
    """Run the data commands alone (``python -m twinloop.cli.data``), errors as one line."""
    from twinloop.errors import TwinloopError

    group = click.Group("twinloop-data", help="twinloop data commands.")
    register(group)
    try:
        group.main(standalone_mode=False)
    except TwinloopError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)


if __name__ == "__main__":
    _standalone()
