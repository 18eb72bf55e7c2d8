"""``twinloop battery``: cell model from pulse tests, simulation, SoC estimation and end of life.

Time series are CSV with columns ``time_s``, ``current_a`` (positive =
discharge), ``voltage_v`` and optionally ``temperature_c``; ``--flip-current``
reads data recorded with discharge negative.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from twinloop.cli._paths import plot_file
from twinloop.cli._types import FiniteFloatRange
from twinloop.errors import DataError, ValidationError

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
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write the TOML here instead of standard output.")
def identify_command(
    files: tuple[str, ...],
    temperature_c: tuple[str, ...],
    capacity_ah: float | None,
    rc_pairs: int,
    thermal_file: str | None,
    ambient_c: float | None,
    flip_current: bool,
    name: str,
    output: str | None,
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
    from twinloop.battery import fit_thermal, identify_cell, read_timeseries
    from twinloop.battery.checks import (
        check_current_scale,
        check_current_sign,
        check_test_capacity,
    )

    capacity = None if capacity_ah is None else capacity_ah * 3600.0
    series = [read_timeseries(f, flip_current) for f in files]
    for s in series:
        check_current_sign(s)
        check_test_capacity(s, capacity)
    temps = _temperatures(temperature_c)
    if temps and len(temps) != len(files):
        raise ValidationError("--temperature-c", f"one temperature per file ({len(files)})", temps)
    if not temps:
        temps = [float(np.mean(s.temperature)) - 273.15 if s.temperature is not None else 25.0 for s in series]
    cell = identify_cell(series, [t + 273.15 for t in temps], capacity, name=name, n_rc=rc_pairs)
    if thermal_file is not None:
        th = read_timeseries(thermal_file, flip_current, require_voltage=False)
        check_current_scale(cell, th)
        cell = cell.with_thermal(fit_thermal(cell, th, None if ambient_c is None else ambient_c + 273.15))
    text = cell.to_toml()
    if output:
        Path(output).write_text(text, encoding="utf-8")
        fits = ", ".join(f"{t.temperature - 273.15:g} degC {t.fit.rmse * 1e3:.1f} mV" for t in cell.tables if t.fit)
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
def simulate_command(cell_file: str, profile: str, soc_start: float, ambient_c: float | None, flip_current: bool, fmt: str) -> None:
    """Voltage, SoC and temperature of the cell for a current profile.

    \b
    Example:
      twinloop battery simulate --cell cell.toml --profile us06_current.csv --soc-start 0.9 --format json
    """
    from twinloop.battery import CellModel, read_timeseries, simulate
    from twinloop.battery.checks import (
        check_current_scale,
        check_current_sign,
        check_state_of_charge,
    )
    from twinloop.battery.simulate import find_stop

    cell = CellModel.load(cell_file)
    s = read_timeseries(profile, flip_current, require_voltage=False)
    check_current_sign(s)
    check_current_scale(cell, s)
    ambient = ambient_c if ambient_c is not None else (float(s.temperature[0]) - 273.15 if s.temperature is not None else 25.0)
    r = simulate(cell, s.time, s.current, soc_start, ambient + 273.15)
    stop = find_stop(r, cell)
    if stop is not None and stop.reason == "full" and soc_start >= 1.0:
        check_state_of_charge(r)  # a full cell charged further: almost always a flipped sign
    if stop is not None and stop.index == 0:
        raise DataError(
            f"the first sample already ends the run: current_a {float(s.current[0]):g} A from --soc-start "
            f"{soc_start:g} gives {stop.voltage:.3f} V, below the cell's cut-off {cell.voltage_min:g} V; start higher "
            "with --soc-start, or check the profile's current_a"
        )
    if stop is not None:
        r = r.head(stop.index)
        why = {
            "cut-off": f"the voltage falls to {stop.voltage:.3f} V, below the cut-off {cell.voltage_min:g} V, "
            f"at SoC {min(max(stop.state_of_charge, 0.0), 1.0):.3f}",
            "empty": "the cell is empty (SoC 0) and the profile goes on discharging",
            "full": "the cell is full (SoC 1) and the profile goes on charging",
        }[stop.reason]
        fix = (
            "start lower with --soc-start; if current_a is recorded with discharge negative, pass --flip-current"
            if stop.reason == "full" else "start higher with --soc-start, or give a shorter profile"
        )
        click.echo(
            f"note: the simulation stops at time_s={stop.time:g}: {why}; the output ends at "
            f"time_s={r.time[-1]:g} ({stop.index} of {s.time.size} samples). For the whole profile, {fix}",
            err=True,
        )
    _emit(
        {
            "time_s": r.time,
            "current_a": r.current[0],
            "voltage_v": r.voltage[0],
            "soc": r.state_of_charge[0],
            "temperature_c": r.temperature[0] - 273.15,
        },
        fmt,
        {
            "cell": cell.name, "soc_start": soc_start, "ambient_c": ambient,
            "stopped": None if stop is None else {"time_s": stop.time, "reason": stop.reason},
        },
    )


@battery.command("estimate")
@click.option("--cell", "cell_file", required=True, type=click.Path(dir_okay=False), help="Cell model TOML from 'battery identify'.")
@click.option("--measurements", required=True, type=click.Path(dir_okay=False), help="CSV with time_s, current_a, voltage_v[, temperature_c].")
@click.option("--soc-start", type=FiniteFloatRange(0, 1), required=True, help="Initial SoC guess [0-1].")
@click.option("--soc-std", type=FiniteFloatRange(0.001, 1), default=0.2, show_default=True, help="Standard deviation of the initial guess.")
@click.option("--temperature-c", type=CELL_TEMPERATURE_C, default=25.0, show_default=True, help="Cell temperature when the file has no temperature_c [degC].")
@click.option("--voltage-noise-mv", type=FiniteFloatRange(*VOLTAGE_NOISE_RANGE_MV, min_open=True), default=None, help="Voltage noise for the filter [mV], at most 1000; default 3x the identification RMSE.")
@click.option("--flip-current", is_flag=True, help="Data recorded with discharge negative.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
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
    from twinloop.battery import CellModel, read_timeseries
    from twinloop.battery.checks import check_current_scale, check_current_sign
    from twinloop.battery.estimate import estimate_soc

    cell = CellModel.load(cell_file)
    s = read_timeseries(measurements, flip_current)
    check_current_sign(s)
    check_current_scale(cell, s)
    r = estimate_soc(
        cell, s, soc_start, soc_std, temperature_c + 273.15, None if voltage_noise_mv is None else voltage_noise_mv / 1000
    )
    _emit(
        {
            "time_s": r.time,
            "soc": r.state_of_charge,
            "soc_std": r.state_of_charge_std,
            "voltage_pred_v": r.voltage,
            "innovation_v": r.innovation,
        },
        fmt,
        {"cell": cell.name, "soc_start": soc_start},
    )


@battery.command("rul")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--threshold-ah", type=float, required=True, help="End-of-life capacity, in the unit of the capacity column (e.g. 1.4, or 0.8 x rated).")
@click.option("--cycle-column", default="cycle", show_default=True, help="Column of cycle numbers (integers, increasing).")
@click.option("--capacity-column", default="capacity_ah", show_default=True, help="Column of measured capacity per cycle.")
@click.option("--level", type=FiniteFloatRange(0.5, 0.99), default=0.9, show_default=True, help="Probability of the interval.")
@click.option("--horizon", type=float, default=None, help="Last cycle to forecast; default four times the last cycle of the history.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), callback=plot_file, default=None, help="Write a PNG of the history, the threshold and the forecast.")
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
    from twinloop.battery.health import (
        MAX_HORIZON_CYCLES,
        check_threshold,
        forecast_end_of_life_state_space,
        read_capacity_history,
    )

    if capacity_column == cycle_column:
        raise ValidationError("--capacity-column", f"a column other than --cycle-column {cycle_column!r}", capacity_column)
    if not (np.isfinite(threshold_ah) and threshold_ah > 0):
        raise ValidationError("--threshold-ah", "a finite capacity > 0", threshold_ah)
    cycles, capacity, skipped = read_capacity_history(history, cycle_column, capacity_column)
    check_threshold(capacity, threshold_ah, "--threshold-ah")
    if threshold_ah >= capacity.min():
        first = int(np.argmax(capacity <= threshold_ah))
        hint = (
            f"The history already reaches it at cycle {cycles[first]:g}; choose a lower threshold, "
            f"or forecast from a copy of the file cut before that cycle"
            if first > 0
            else "The first measured capacity is already at or below it; choose a lower threshold"
        )
        raise ValidationError(
            "--threshold-ah", f"below every measured capacity (lowest {capacity.min():g})", threshold_ah, hint=hint
        )
    if horizon is not None and not (np.isfinite(horizon) and cycles[-1] < horizon <= cycles[-1] + MAX_HORIZON_CYCLES):
        raise ValidationError(
            "--horizon", f"a cycle after the history's last, at most {MAX_HORIZON_CYCLES} later: "
            f"({cycles[-1]:g}, {cycles[-1] + MAX_HORIZON_CYCLES:g}]", horizon,
        )
    f = forecast_end_of_life_state_space(cycles, capacity, threshold_ah, horizon=horizon, level=level)
    last = float(cycles[-1])

    def cycle(x: float) -> float | None:
        return round(x, 1) if np.isfinite(x) else None  # null: beyond the horizon

    doc = {
        "history": history,
        "cycles_in_history": int(cycles.size),
        "rows_skipped": skipped,
        "last_cycle": last,
        "threshold": threshold_ah,
        "predicted_cycle": cycle(f.predicted_cycle),
        "remaining_cycles": cycle(f.predicted_cycle - last),
        "interval": [cycle(f.interval[0]), cycle(f.interval[1])],
        "level": level,
        "horizon": f.horizon,
        "probability_beyond_horizon": round(f.probability_beyond_horizon, 3),
        "model_weights": {k: round(v, 3) for k, v in f.weights.items()},
    }
    if fmt == "json":
        click.echo(json.dumps(doc))
    else:
        hi = f"{f.interval[1]:g}" if np.isfinite(f.interval[1]) else f"beyond {f.horizon:g}"
        rows = [
            ("history", f"{cycles.size} cycles, last {last:g}, capacity {capacity[-1]:g}"
             + (f" ({skipped} row(s) without a value skipped)" if skipped else "")),
            ("threshold", f"{threshold_ah:g}"),
            ("median crossing", f"cycle {f.predicted_cycle:g} ({f.predicted_cycle - last:g} to go)"
             if np.isfinite(f.predicted_cycle) else f"beyond cycle {f.horizon:g}"),
            (f"{level:.0%} interval", f"{f.interval[0]:g} to {hi}"),
            ("beyond the horizon", f"{f.probability_beyond_horizon:.1%} of forecasts"),
            ("model weights", ", ".join(f"{k} {v:.2f}" for k, v in f.weights.items())),
        ]
        click.echo("\n".join(f"{k:20s} {v}" for k, v in rows))
    if plot:
        from twinloop.plotting import plot_rul_forecast

        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_rul_forecast(cycles, capacity, f, threshold_ah, plot)
        click.echo(f"plot written to {plot}", err=True)


def register(group: click.Group) -> None:
    """Add the ``battery`` group to the ``twinloop`` command."""
    group.add_command(battery)
