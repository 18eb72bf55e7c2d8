"""``twinloop battery``: cell model from pulse tests, simulation, SoC estimation and end of life.

Time series are CSV with columns ``time_s``, ``current_a`` (positive =
discharge), ``voltage_v`` and optionally ``temperature_c``; ``--flip-current``
reads data recorded with discharge negative.

A thin adapter: options are parsed (degC become kelvin here, Ah become A s),
:mod:`twinloop.battery` checks, decides the defaults and builds the output
documents, and the commands print them. Library errors name fields; each
command maps them to its options with :func:`~twinloop.cli._errors.field_flags`.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from twinloop.cli._errors import field_flags
from twinloop.cli._outputs import check_output
from twinloop.cli._paths import output_file, plot_file
from twinloop.cli._types import FiniteFloatRange
from twinloop.conventions import celsius_to_kelvin, kelvin_to_celsius
from twinloop.errors import ValidationError

if TYPE_CHECKING:
    from twinloop.battery.timeseries import TimeSeries

__all__ = ["battery", "register"]


#: Cell and ambient temperatures the tools accept [degC]: beyond them no cell test is run.
TEMPERATURE_RANGE_C = (-60.0, 100.0)
CELL_TEMPERATURE_C = FiniteFloatRange(*TEMPERATURE_RANGE_C)

#: Voltage noise the SoC filter accepts [mV]: above a volt it no longer follows the voltage at all.
VOLTAGE_NOISE_RANGE_MV = (0.0, 1000.0)


def _temperatures(values: tuple[str, ...]) -> list[float]:
    out: list[float] = []
    for v in values:
        for part in v.replace(";", ",").split(","):
            if part.strip():
                try:
                    value = float(part)
                except ValueError:
                    raise ValidationError("--temperature-c", "numbers in degC, e.g. 10,25,40", part) from None
                lo, hi = TEMPERATURE_RANGE_C
                if not lo <= value <= hi:
                    raise ValidationError("--temperature-c", f"temperatures in [{lo:g}, {hi:g}] degC", value)
                out.append(value)
    return out


def _read(path: str, flip_current: bool, require_voltage: bool = True) -> TimeSeries:
    """The time series in `path`, with what the reader changed in it said on stderr."""
    from twinloop.battery import read_timeseries

    series = read_timeseries(path, flip_current, require_voltage=require_voltage)
    for note in series.notes:
        click.echo(f"note: {note}", err=True)
    return series


def _emit(columns: dict[str, Any], fmt: str, meta: dict[str, Any]) -> None:
    if fmt == "json":
        doc = {**meta, **{k: [round(float(x), 6) for x in v] for k, v in columns.items()}}
        click.echo(json.dumps(doc))
        return
    buf = io.StringIO()
    names = list(columns)
    buf.write(",".join(names) + "\n")
    rows = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    np.savetxt(buf, rows, delimiter=",", fmt="%.6g")
    click.echo(buf.getvalue(), nl=False)


@click.group("battery")
def battery() -> None:
    """Battery cell models from laboratory tests.

    \b
    Examples:
      twinloop battery identify hppc10.csv hppc25.csv hppc40.csv --temperature-c 10,25,40 > cell.toml
      twinloop battery simulate --cell cell.toml --profile discharge.csv --soc-start 1 --format csv
      twinloop battery estimate --cell cell.toml --measurements drive.csv --soc-start 0.8
      twinloop battery rul capacity.csv --threshold-ah 1.4 --plot rul.png
    """


@battery.command("identify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--temperature-c", "temperature_c", multiple=True, help="Test temperature per file [degC] (repeat, or 10,25,40). Default: the file's temperature_c mean, else 25.")
@click.option("--capacity-ah", type=FiniteFloatRange(0, None, min_open=True), default=None, help="Cell capacity [Ah]; default: from the discharge to the cut-off in each test.")
@click.option("--rc-pairs", type=click.IntRange(1, 2), default=2, show_default=True, help="Number of RC pairs.")
@click.option("--thermal", "thermal_file", type=click.Path(dir_okay=False), default=None, help="A discharge from full with temperature_c (cell surface) to fit the lumped thermal model.")
@click.option("--ambient-c", type=CELL_TEMPERATURE_C, default=None, help="Ambient temperature of the --thermal test [degC]; default: its first temperature.")
@click.option("--flip-current", is_flag=True, help="Data recorded with discharge negative.")
@click.option("--name", default="cell", show_default=True, help="Model name written to the file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, callback=output_file, help="Write the TOML here instead of standard output.")
@field_flags(capacity="--capacity-ah", flip_current="--flip-current")
def identify_command(
    files: tuple[str, ...],
    temperature_c: tuple[str, ...],
    capacity_ah: float | None,
    rc_pairs: int,
    thermal_file: str | None,
    ambient_c: float | None,
    flip_current: bool,
    name: str,
    output: Path | None,
) -> None:
    """Identify an equivalent-circuit cell model (TOML, with fit quality) from pulse tests.

    Each FILE is one pulse test (HPPC) at one temperature that starts at, or
    passes through, full charge and discharges to the cut-off (or give
    --capacity-ah).

    \b
    Example:
      twinloop battery identify hppc_10c.csv hppc_25c.csv hppc_40c.csv \\
          --temperature-c 10,25,40 --thermal discharge_1c.csv > cell.toml
    """
    from twinloop.battery.identify import identify_from_tests

    check_output(output, [*files, thermal_file])  # before any read: -o lab.csv must not replace lab.csv
    series = [_read(f, flip_current) for f in files]
    temps = _temperatures(temperature_c)
    if temps and len(temps) != len(files):
        raise ValidationError("--temperature-c", f"one temperature per file ({len(files)})", temps)
    cell = identify_from_tests(
        series,
        [celsius_to_kelvin(t) for t in temps] if temps else None,
        None if capacity_ah is None else capacity_ah * 3600.0,
        name=name,
        n_rc=rc_pairs,
        thermal_test=None if thermal_file is None else _read(thermal_file, flip_current, require_voltage=False),
        ambient_temperature=None if ambient_c is None else celsius_to_kelvin(ambient_c),
        capacity_unit="Ah",
    )
    text = cell.to_toml()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        fits = ", ".join(
            f"{kelvin_to_celsius(t.temperature):g} degC {t.fit.rmse * 1e3:.1f} mV" for t in cell.tables if t.fit
        )
        click.echo(f"wrote {output}: {cell.name}, {cell.capacity / 3600:.3g} Ah, fit RMSE {fits}", err=True)
    else:
        click.echo(text, nl=False)


@battery.command("simulate")
@click.option("--cell", "cell_file", required=True, type=click.Path(dir_okay=False), help="Cell model TOML from 'battery identify'.")
@click.option("--profile", required=True, type=click.Path(dir_okay=False), help="CSV with time_s and current_a (voltage_v not needed).")
@click.option("--soc-start", type=FiniteFloatRange(0, 1), default=1.0, show_default=True, help="Initial state of charge [0-1].")
@click.option("--ambient-c", type=CELL_TEMPERATURE_C, default=None, help="Ambient temperature [degC]; default: the profile's first temperature_c, else 25.")
@click.option("--flip-current", is_flag=True, help="Profile recorded with discharge negative.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@field_flags(flip_current="--flip-current", state_of_charge="--soc-start")
def simulate_command(cell_file: str, profile: str, soc_start: float, ambient_c: float | None, flip_current: bool, fmt: str) -> None:
    """Voltage, SoC and temperature of the cell for a current profile.

    \b
    Example:
      twinloop battery simulate --cell cell.toml --profile us06_current.csv --soc-start 0.9 --format json
    """
    from twinloop.battery import CellModel
    from twinloop.battery.simulate import simulate_profile

    cell = CellModel.load(cell_file)
    s = _read(profile, flip_current, require_voltage=False)
    run = simulate_profile(cell, s, soc_start, None if ambient_c is None else celsius_to_kelvin(ambient_c))
    note = run.stop_note()
    if note is not None:
        fix = (
            "start lower with --soc-start; if current_a is recorded with discharge negative, pass --flip-current"
            if run.stop is not None and run.stop.reason == "full" else "start higher with --soc-start, or give a shorter profile"
        )
        click.echo(f"note: {note}. For the whole profile, {fix}", err=True)
    _emit(run.columns(), fmt, run.metadata())


@battery.command("estimate")
@click.option("--cell", "cell_file", required=True, type=click.Path(dir_okay=False), help="Cell model TOML from 'battery identify'.")
@click.option("--measurements", required=True, type=click.Path(dir_okay=False), help="CSV with time_s, current_a, voltage_v[, temperature_c].")
@click.option("--soc-start", type=FiniteFloatRange(0, 1), required=True, help="Initial SoC guess [0-1].")
@click.option("--soc-std", type=FiniteFloatRange(0.001, 1), default=0.2, show_default=True, help="Standard deviation of the initial guess.")
@click.option("--temperature-c", type=CELL_TEMPERATURE_C, default=25.0, show_default=True, help="Cell temperature when the file has no temperature_c [degC].")
@click.option("--voltage-noise-mv", type=FiniteFloatRange(*VOLTAGE_NOISE_RANGE_MV, min_open=True), default=None, help="Voltage noise for the filter [mV], at most 1000; default 3x the identification RMSE.")
@click.option("--flip-current", is_flag=True, help="Data recorded with discharge negative.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@field_flags(flip_current="--flip-current", state_of_charge="--soc-start", state_of_charge_std="--soc-std")
def estimate_command(
    cell_file: str,
    measurements: str,
    soc_start: float,
    soc_std: float,
    temperature_c: float,
    voltage_noise_mv: float | None,
    flip_current: bool,
    fmt: str,
) -> None:
    """SoC with its standard deviation from measured current and voltage (extended Kalman filter).

    \b
    Example:
      twinloop battery estimate --cell cell.toml --measurements drive.csv --soc-start 0.8 --flip-current
    """
    from twinloop.battery import CellModel
    from twinloop.battery.estimate import estimate_soc

    cell = CellModel.load(cell_file)
    s = _read(measurements, flip_current)
    r = estimate_soc(
        cell, s, soc_start, soc_std, celsius_to_kelvin(temperature_c),
        None if voltage_noise_mv is None else voltage_noise_mv / 1000,
    )
    _emit(r.columns(), fmt, r.metadata())


@battery.command("rul")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--threshold-ah", type=float, required=True, help="End-of-life capacity, in the unit of the capacity column (e.g. 1.4, or 0.8 x rated).")
@click.option("--cycle-column", default="cycle", show_default=True, help="Column of cycle numbers (integers, increasing).")
@click.option("--capacity-column", default="capacity_ah", show_default=True, help="Column of measured capacity per cycle.")
@click.option("--level", type=FiniteFloatRange(0.5, 0.99), default=0.9, show_default=True, help="Probability of the interval.")
@click.option("--horizon", type=float, default=None, help="Last cycle to forecast; default four times the last cycle of the history.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), callback=plot_file, default=None, help="Write a PNG of the history, the threshold and the forecast.")
@field_flags(
    threshold="--threshold-ah", cycle_column="--cycle-column", capacity_column="--capacity-column",
    horizon="--horizon", level="--level",
)
def rul_command(
    history: str,
    threshold_ah: float,
    cycle_column: str,
    capacity_column: str,
    level: float,
    horizon: float | None,
    fmt: str,
    plot: Path | None,
) -> None:
    """When capacity first falls below a threshold: remaining useful life with its interval.

    HISTORY is a CSV with one row per cycle: a cycle number and the measured
    capacity. Fade rate and capacity regeneration after rests are modelled
    as drifting states (local linear trend models, mixed by Akaike weight),
    so the interval widens as far as the history's own changes of rate warrant.

    \b
    Example (NASA cell B0005, bundled with the tests):
      twinloop battery rul tests/data/battery/nasa_b0005_capacity.csv --capacity-column y1 \\
          --threshold-ah 1.2 --plot rul.png
    """
    from twinloop.battery.rul import remaining_useful_life

    report = remaining_useful_life(history, threshold_ah, cycle_column, capacity_column, level=level, horizon=horizon)
    click.echo(json.dumps(report.to_dict()) if fmt == "json" else report.to_table())
    if plot:
        from twinloop.plotting import plot_rul_forecast

        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_rul_forecast(report.cycles, report.capacity, report.forecast, report.threshold, plot)
        click.echo(f"plot written to {plot}", err=True)


def register(group: click.Group) -> None:
    """Add the ``battery`` group to the ``twinloop`` command."""
    group.add_command(battery)
