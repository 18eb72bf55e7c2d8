"""Figures for simulation results and battery forecasts (matplotlib, written to files).

Every figure says what it shows in its title, labels each axis with its
quantity and unit, keeps its legends off the data, and draws signed
energies honestly: a cause that returned energy (a descent, a vehicle that
ended slower than it started) is a bar below zero, never clipped, so the
drawn segments add up to the battery energy that is marked on each bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from twinloop.cycles import Cycle
from twinloop.sim import BREAKDOWN_KEYS, SimulationResult

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from twinloop.apps.health import HealthReport
    from twinloop.battery.health import RulForecast

__all__ = ["plot_breakdown_table", "plot_design_front", "plot_health", "plot_result", "plot_rul_forecast"]

_COLOURS = {key: f"C{i}" for i, key in enumerate(BREAKDOWN_KEYS)}
_MISS_TOLERANCE = 0.05  # [m s-1] below the trace counts as missing it, as in the simulation
_MISSED_COLOUR = "tab:red"
_REGEN_COLOUR = "tab:green"
_NEGLIGIBLE = 0.01  # [Wh/km] a signed cause smaller than this is rounding, not energy returned


def _label(key: str) -> str:
    """A breakdown key as words (``friction_braking`` -> ``friction braking``)."""
    return key.replace("_", " ")


def _fmt(x: float) -> str:
    """An energy for a label: whole numbers from 10 up, two significant digits below."""
    if abs(x) < 0.005:
        return "0"
    return f"{x:.0f}" if abs(x) >= 10 else f"{x:.2g}"


def _save(fig: Figure, path: str | Path, dpi: int) -> Path:
    """Write `fig` to `path` (creating missing folders) and close it, also when writing fails.

    Without a suffix the file is written as PNG under the name given.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format=None if path.suffix else "png")
    finally:
        plt.close(fig)
    return path


def _legend_above(ax: Axes, handles: list | None = None, ncols: int = 3) -> None:
    """A legend in one row above the right end of `ax`, where it cannot cover data."""
    handles = handles if handles is not None else ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=ncols, fontsize=8,
              frameon=False, borderaxespad=0.2)


def _min_span(ax: Axes, values: np.ndarray, span: float) -> None:
    """Widen the y range of `ax` to at least `span` around `values`, and write ticks without an offset.

    A nearly flat line (a few seconds of driving) otherwise gets ticks such
    as ``0.004`` with ``+8.999e1`` above the axis.
    """
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if hi - lo < span:
        mid = 0.5 * (lo + hi)
        ax.set_ylim(mid - span / 2, mid + span / 2)
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")


def _missed_spans(time: np.ndarray, missed: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) times of the runs of True in `missed` (each sample covers up to the next)."""
    edges = np.diff(np.concatenate([[0], missed.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    step = float(np.median(np.diff(time))) if time.size > 1 else 1.0
    stop = np.append(time[1:], time[-1] + step)
    return [(float(time[s]), float(stop[e - 1])) for s, e in zip(starts, ends, strict=True)]


def _speed_panel(ax: Axes, result: SimulationResult, cycle: Cycle, i: int) -> None:
    """Trace and achieved speed [km/h]; the times the vehicle fell behind the trace are shaded."""
    t = np.asarray(result.time)
    achieved = np.asarray(result.series["vehicle_speed"][i]) if result.series else np.zeros_like(t)
    ax.plot(cycle.time, cycle.vehicle_speed * 3.6, color="0.6", lw=2.5, label="trace")
    ax.plot(t, achieved * 3.6, color="C0", lw=1, label="achieved")
    target = np.interp(t, cycle.time, cycle.vehicle_speed)
    spans = _missed_spans(t, target - achieved > _MISS_TOLERANCE)
    for k, (a, b) in enumerate(spans):
        ax.axvspan(a, b, color=_MISSED_COLOUR, alpha=0.2, lw=0,
                   label=f"trace missed ({result.trace_missed_time[i]:.0f} s)" if k == 0 else None)
    ax.set(xlabel="time [s]", ylabel="speed [km/h]")
    _legend_above(ax)


def _power_panel(ax: Axes, result: SimulationResult, i: int) -> None:
    """Battery power [kW]; what flowed back into the battery (regeneration) is filled below zero."""
    t = np.asarray(result.time)
    kw = np.asarray(result.series["battery_power"][i]) / 1e3 if result.series else np.zeros_like(t)
    ax.plot(t, kw, lw=0.8, color="C0", label="battery power")
    ax.fill_between(t, kw, 0, where=kw < 0, color=_REGEN_COLOUR, alpha=0.5, lw=0, interpolate=True,
                    label=f"into the battery (regeneration recovered {_fmt(result.regeneration_recovered[i] / 3600)} Wh)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="time [s]", ylabel="battery power [kW]")
    _legend_above(ax, ncols=1)


def _state_panel(ax: Axes, result: SimulationResult, i: int) -> None:
    """State of charge [%] and, on a second axis, battery and cabin temperatures [°C]."""
    if result.series is None:
        raise ValueError("simulate with record=True to plot time series")
    t = np.asarray(result.time)
    soc = np.asarray(result.series["state_of_charge"][i]) * 100
    battery = np.asarray(result.series["battery_temperature"][i]) - 273.15
    cabin = np.asarray(result.series["cabin_temperature"][i]) - 273.15
    ax.plot(t, soc, color="C0", label="state of charge")
    ax.set(xlabel="time [s]", ylabel="state of charge [%]")
    _min_span(ax, soc, 1.0)
    ax2 = ax.twinx()
    ax2.plot(t, battery, color="C3", label="battery temperature")
    ax2.plot(t, cabin, color="C2", label="cabin temperature")
    ax2.set_ylabel("temperature [°C]")
    _min_span(ax2, np.concatenate([battery, cabin]), 2.0)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    _legend_above(ax2, handles=handles)


def _breakdown_panel(ax: Axes, result: SimulationResult, i: int) -> None:
    """Battery energy by cause [Wh] as signed bars, each labelled with its value."""
    wh = {k: float(result.breakdown[k][i]) / 3600 for k in BREAKDOWN_KEYS}
    wh = {k: 0.0 if abs(v) < 0.005 else v for k, v in wh.items()}  # no "-0" bar labelled over the names
    bars = ax.barh([_label(k) for k in wh], list(wh.values()), color=[_COLOURS[k] for k in wh])
    ax.bar_label(bars, labels=[_fmt(v) for v in wh.values()], padding=3, fontsize=8)
    ax.axvline(0, color="k", lw=0.5)
    ax.margins(x=0.15)
    ax.invert_yaxis()  # the causes read top to bottom, in the order of the printed breakdown
    ax.set(xlabel="battery energy [Wh] (negative: returned to the battery)")
    ax.set_title(f"where the {_fmt(result.battery_energy[i] / 3600)} Wh of battery energy went\n"
                 f"(regeneration recovered {_fmt(result.regeneration_recovered[i] / 3600)} Wh is already netted in)",
                 fontsize=10)


def plot_result(result: SimulationResult, cycle: Cycle, path: str | Path, i: int = 0) -> Path:
    """Speed, battery power, state of charge and temperatures over time, and the energy breakdown.

    Parameters
    ----------
    result : SimulationResult
        Simulated with ``record=True``.
    cycle : Cycle
        The cycle simulated (its trace is drawn under the achieved speed).
    path : str or Path
        File to write; its suffix picks the format (PNG without one). Missing
        folders are created.
    i : int
        Which vehicle of `result`.

    Returns
    -------
    Path
        `path`.
    """
    if result.series is None or result.time is None:
        raise ValueError("simulate with record=True to plot time series")
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), constrained_layout=True)
    _speed_panel(axes[0, 0], result, cycle, i)
    _power_panel(axes[0, 1], result, i)
    _state_panel(axes[1, 0], result, i)
    _breakdown_panel(axes[1, 1], result, i)
    km = result.distance[i] / 1000
    title = f"{result.vehicle_names[i]} on {result.cycle_name}: {km:.2f} km in {result.duration:.0f} s"
    if result.trace_missed_time[i] > 0:
        title += f", trace missed for {result.trace_missed_time[i]:.0f} s"
    fig.suptitle(title, color=_MISSED_COLOUR if result.trace_missed_time[i] > 0 else "k")
    return _save(fig, path, dpi=110)


def _signed_stack(ax: Axes, y: np.ndarray, per_km: dict[str, np.ndarray]) -> tuple[float, float]:
    """Horizontal stacked bars: positive causes rightwards from zero, negative ones leftwards (hatched).

    Returns the leftmost and rightmost ends of the bars.
    """
    right = np.zeros(len(y))
    left = np.zeros(len(y))
    for key, values in per_km.items():
        pos, neg = np.clip(values, 0, None), np.clip(values, None, 0)
        ax.barh(y, pos, left=right, color=_COLOURS[key], label=_label(key), height=0.75)
        ax.barh(y, neg, left=left, color=_COLOURS[key], height=0.75, hatch="//", edgecolor="w", lw=0)
        right += pos
        left += neg
    return float(left.min()), float(right.max())


def _fleet_legend(fig: Figure, axes: np.ndarray, negative: bool, ncols: int) -> None:
    """One legend below all panels: each label once, and the hatching explained when it is drawn."""
    labels: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            labels.setdefault(label, handle)
    if negative:
        labels["hatched: energy returned (descent, slowing)"] = Patch(facecolor="0.6", hatch="//", edgecolor="w")
    fig.legend(list(labels.values()), list(labels), fontsize=8, loc="outside lower center", ncols=ncols)


def plot_breakdown_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Stacked battery energy by cause [Wh/km] for every (vehicle, cycle) row of `table`.

    One panel per cycle, one horizontal bar per vehicle (the names stay
    readable however many vehicles there are). A cause that returned energy
    is drawn below zero, hatched; a black tick marks the net battery energy,
    which the segments add up to.

    Parameters
    ----------
    table : DataFrame
        Columns ``vehicle``, ``cycle``, ``distance_m`` and ``<cause>_wh``
        for every cause in the breakdown (``SimulationResult.to_frame``);
        with ``trace_missed_s``, vehicles that missed the trace are marked.
    path : str or Path
        File to write; its suffix picks the format (PNG without one).

    Returns
    -------
    Path
        `path`.
    """
    if table.empty:
        raise ValueError("the table has no rows to plot")
    cycles = list(dict.fromkeys(table["cycle"]))
    vehicles = list(dict.fromkeys(table["vehicle"]))
    height = max(3.5, 1.8 + 0.32 * len(vehicles))
    width = max(9.0, 2.0 + 0.07 * max(map(len, vehicles)) + 3.3 * len(cycles))
    fig, axes = plt.subplots(1, len(cycles), figsize=(width, height), sharex=True, sharey=True,
                             constrained_layout=True, squeeze=False)
    lo, hi = 0.0, 0.0
    for ax, cyc in zip(axes[0], cycles, strict=True):
        sub = table[table["cycle"] == cyc]
        y = np.array([vehicles.index(v) for v in sub["vehicle"]])
        km = np.maximum(sub["distance_m"].to_numpy(dtype=float), 1.0) / 1000
        per_km = {k: sub[f"{k}_wh"].to_numpy(dtype=float) / km for k in BREAKDOWN_KEYS}
        left, right = _signed_stack(ax, y, per_km)
        lo, hi = min(lo, left), max(hi, right)
        net = np.sum(list(per_km.values()), axis=0)
        ax.scatter(net, y, marker="|", s=250, color="k", lw=2, zorder=3, label="net battery energy")
        if "trace_missed_s" in sub:
            missed = sub["trace_missed_s"].to_numpy(dtype=float) > 0
            if missed.any():
                ax.scatter(net[missed], y[missed], marker="x", s=60, color=_MISSED_COLOUR, zorder=4,
                           label="missed the trace (per km of a shorter drive)")
        ax.axvline(0, color="k", lw=0.6)
        ax.set_title(cyc)
        ax.set_xlabel("battery energy [Wh/km]")
        ax.grid(axis="x", lw=0.4, alpha=0.5)
    axes[0, 0].set_yticks(range(len(vehicles)), vehicles)
    axes[0, 0].set_ylim(len(vehicles) - 0.5, -0.5)  # first vehicle on top, no empty rows
    fig.suptitle("Battery energy by cause per km (before charger losses; regeneration already netted)")
    pad = 0.06 * (hi - lo)
    axes[0, 0].set_xlim(lo - pad if lo < -_NEGLIGIBLE else 0.0, hi + pad)  # shared: one scale for every cycle
    _fleet_legend(fig, axes[0], lo < -_NEGLIGIBLE, ncols=max(2, min(6, len(cycles) + 2)))
    return _save(fig, path, dpi=110)


def _crossing_bins(crossed: np.ndarray) -> np.ndarray | int:
    """Histogram bins of the first crossings: whole cycles per bin, at most about 40 bins."""
    lo, hi = np.floor(crossed.min()), np.ceil(crossed.max())
    if not np.allclose(crossed, np.round(crossed)):
        return 40
    width = max(1.0, np.ceil((hi - lo + 1) / 40))
    return np.arange(lo - 0.5, hi + width + 0.5, width)


def plot_rul_forecast(
    cycles: np.ndarray, capacity: np.ndarray, forecast: RulForecast, threshold: float, path: str | Path,
    unit: str = "Ah",
) -> Path:
    """Capacity history, end-of-life threshold and the forecast crossing with its interval.

    The lower panel is the forecast distribution of the first crossing (the
    share of forecasts beyond the horizon is written above it).

    Parameters
    ----------
    cycles, capacity : ndarray
        The measured history, one value per cycle.
    forecast : RulForecast
        The forecast from that history.
    threshold : float
        End-of-life capacity, in `unit`.
    path : str or Path
        File to write; its suffix picks the format (PNG without one).
    unit : str
        Unit of `capacity` and `threshold` (``Ah``; ``1`` for a capacity
        relative to the rated one).

    Returns
    -------
    Path
        `path`.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, height_ratios=[3, 1],
                                      constrained_layout=True)
    top.plot(cycles, capacity, ".", ms=4, color="0.25", label="measured capacity")
    top.axhline(threshold, color="tab:red", lw=1, label=f"end of life ({threshold:g} {unit})")
    lo, hi = forecast.interval
    finite_hi = hi if np.isfinite(hi) else forecast.horizon
    finite = np.isfinite(forecast.predicted_cycle)
    for ax in (top, bottom):
        ax.axvspan(lo, finite_hi, color="tab:blue", alpha=0.15, lw=0)
        ax.axvline(forecast.horizon, color="0.4", lw=1, ls="--")
        if finite:
            ax.axvline(forecast.predicted_cycle, color="tab:blue", lw=1.5)
    label = f"{forecast.level:.0%} interval {lo:g} to " + (f"{hi:g}" if np.isfinite(hi) else "beyond the horizon")
    top.plot([], [], color="tab:blue", lw=6, alpha=0.3, label=label)
    if finite:
        top.plot([], [], color="tab:blue", lw=1.5, label=f"median first crossing (cycle {forecast.predicted_cycle:g})")
    top.plot([], [], color="0.4", lw=1, ls="--", label=f"forecast horizon (cycle {forecast.horizon:g})")
    top.set_ylabel(f"capacity [{unit}]")
    top.legend(loc="best", fontsize=8)
    last = float(cycles[-1])
    top.set_title(
        f"Capacity fade: first below {threshold:g} {unit} at cycle {forecast.predicted_cycle:g} "
        f"({forecast.predicted_cycle - last:g} after the last measured)" if finite
        else f"Capacity fade: first below {threshold:g} {unit} beyond the horizon (cycle {forecast.horizon:g})"
    )
    crossed = forecast.crossings[np.isfinite(forecast.crossings)]
    if crossed.size:
        bottom.hist(crossed, bins=_crossing_bins(crossed), color="tab:blue", alpha=0.6)
    bottom.set_title(f"first crossings of the forecasts; {forecast.probability_beyond_horizon:.0%} are still above "
                     f"{threshold:g} {unit} at the horizon (cycle {forecast.horizon:g})", loc="right", fontsize=8)
    bottom.set_xlabel("cycle [number]")
    bottom.set_ylabel("forecasts [count]")
    return _save(fig, path, dpi=120)


def plot_health(report: HealthReport, path: str | Path) -> Path:
    """State-of-health trend of a twin's battery with its fade line and the remaining-life interval.

    Each stretch's state of health is a point with its 1-sigma bar over the
    odometer; the fade line runs on to the end-of-life level, and the band
    marks the interval of the distance at which it is reached.

    Parameters
    ----------
    report : HealthReport
        From :func:`twinloop.apps.health.monitor_health`.
    path : str or Path
        File to write; its suffix picks the format (PNG without one).

    Returns
    -------
    Path
        `path`.
    """
    fig, ax = plt.subplots(figsize=(8, 4.8), constrained_layout=True)
    track, rul = report.trend, report.rul
    if track is None or not report.points:
        ax.text(0.5, 0.5, f"no state-of-health trend:\n{report.unknown.get('trend', '')}", ha="center", va="center",
                wrap=True, transform=ax.transAxes, fontsize=9)
        ax.set_axis_off()
        ax.set_title(f"Battery health of {report.vin}")
        return _save(fig, path, dpi=120)
    km = np.array([p.distance for p in report.points]) / 1000
    soh = np.array([p.state_of_health for p in report.points]) * 100
    err = np.array([p.capacity_standard_error for p in report.points]) / track.rated_capacity * 100
    ax.errorbar(km, soh, yerr=err, fmt="o", ms=4, color="0.25", capsize=2, label="stretch capacity (1 sigma)")
    last = track.distance / 1000
    eol = (rul.end_of_life if rul is not None else 0.7) * 100
    ax.axhline(eol, color="tab:red", lw=1, label=f"end of life ({eol:.0f} %)")
    title = f"Battery health of {report.vin}: {track.state_of_health:.1%} now"
    if track.fade_rate is not None:
        slope = track.fade_rate * 1000 / track.rated_capacity * 100  # [% per km]
        ahead = rul.distance / 1000 if rul is not None and np.isfinite(rul.distance) else 3 * max(last - km.min(), 1.0)
        end = last + ahead
        xs = np.array([km.min(), end])
        ax.plot(xs, track.state_of_health * 100 + slope * (xs - last), color="tab:blue", lw=1.5, label="fade line")
    if rul is not None:
        lo, hi = rul.interval
        span = max(last - float(km.min()), 1.0)
        # beyond the horizon (a million km) the axis would hide the data: stop at a readable distance
        right = last + (hi / 1000 * 1.05 if np.isfinite(hi) else lo / 1000 * 1.5 if np.isfinite(lo) else 3 * span)
        if np.isfinite(lo):
            ax.axvspan(last + lo / 1000, last + hi / 1000 if np.isfinite(hi) else right, color="tab:blue",
                       alpha=0.15, lw=0, label=f"{rul.level:.0%} interval of the end of life"
                       + ("" if np.isfinite(hi) else " (open: beyond the horizon)"))
        if np.isfinite(rul.distance):
            ax.axvline(last + rul.distance / 1000, color="tab:blue", lw=1, ls="--",
                       label=f"median end of life (+{rul.distance / 1000:,.0f} km)")
            title += f", {eol:.0f} % in {rul.distance / 1000:,.0f} km"
        else:
            title += f", {eol:.0f} % not reached within {rul.horizon / 1000:,.0f} km"
        ax.set_xlim(left=float(km.min()) - 0.05 * span, right=right)
    for alert in report.alerts:
        if alert.kind == "health.capacity_fade":
            ax.plot([], [], " ", label="alert: capacity fading faster than expected")
    ax.set_xlabel("odometer [km]")
    ax.set_ylabel("state of health [%]")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path, dpi=120)


if TYPE_CHECKING:
    from twinloop.apps.design import DesignResult


def plot_design_front(result: DesignResult, path: str | Path, title: str | None = None) -> Path:
    """The Pareto front of a design optimisation, and the design choices along it.

    Left: the first two objectives of every Pareto-optimal design, as the
    fleet simulator found them on re-simulation, coloured by battery
    energy, with the constraint's limit where it is an objective. Right:
    battery energy, motor power and final-drive ratio along the front, by
    cost. The title gives the days, the share covered and the run times
    (the search, and the re-simulation of the front).

    Parameters
    ----------
    result : DesignResult
        From :func:`twinloop.apps.design.optimise_design`.
    path : str or Path
        File to write; its suffix picks the format (PNG without one).
    title : str, optional
        First line of the title; default names the base vehicle.

    Returns
    -------
    Path
        `path`.
    """
    from twinloop.apps.design import ACCELERATION_TARGET, OBJECTIVES

    problem = result.problem
    frame = result.to_frame()
    x_name, y_name = problem.objectives[0], problem.objectives[1]
    x_col, y_col = OBJECTIVES[x_name].column, OBJECTIVES[y_name].column
    fig, (front, choices) = plt.subplots(1, 2, figsize=(12, 5), constrained_layout=True)
    order = np.argsort(frame[x_col].to_numpy())
    front.plot(frame[x_col].to_numpy()[order], frame[y_col].to_numpy()[order], "-", color="0.7", lw=1, zorder=1)
    points = front.scatter(frame[x_col], frame[y_col], c=frame["battery_kwh"], cmap="viridis", s=30, zorder=2)
    fig.colorbar(points, ax=front, label="usable battery energy [kWh]")
    grip = ACCELERATION_TARGET / problem.traction_acceleration
    for name, axis_line in ((y_name, front.axhline), (x_name, front.axvline)):
        if name == "acceleration_time":
            axis_line(problem.max_acceleration_time, color="tab:red", lw=1, ls="--",
                      label=f"0-100 km/h limit ({problem.max_acceleration_time:g} s)")
            axis_line(grip, color="0.4", lw=1, ls=":", label=f"tyre grip alone ({grip:.2f} s)")
    if front.get_legend_handles_labels()[0]:
        front.legend(loc="upper right", fontsize=8)
    front.set(xlabel=OBJECTIVES[x_name].description, ylabel=OBJECTIVES[y_name].description)
    front.set_title(f"Pareto front: {len(frame)} designs, each re-simulated", fontsize=10)
    cost = frame["cost_usd"].to_numpy()
    order = np.argsort(cost)
    choices.plot(cost[order], frame["battery_kwh"].to_numpy()[order], "o-", ms=4, color="tab:blue",
                 label="battery [kWh]")
    choices.plot(cost[order], frame["motor_kw"].to_numpy()[order], "s-", ms=4, color="tab:orange",
                 label="motor [kW]")
    choices.set(xlabel="battery and drive-unit cost [USD]", ylabel="battery [kWh], motor peak power [kW]")
    ratio = choices.twinx()
    ratio.plot(cost[order], frame["gear_ratio"].to_numpy()[order], "^:", ms=4, color="tab:green",
               label="final-drive ratio")
    ratio.set_ylabel("final-drive ratio [1]")
    choices.legend(handles=choices.get_legend_handles_labels()[0] + ratio.get_legend_handles_labels()[0],
                   loc="upper left", fontsize=8)
    choices.set_title("design choices along the front", fontsize=10)
    head = title or f"Design from {problem.vehicle.name}"
    fig.suptitle(
        f"{head}\n{len(problem.days)} days, {problem.days_needed} of them covered "
        f"(share {problem.share:g}), 0-100 km/h in at most {problem.max_acceleration_time:g} s\n"
        f"NSGA-II {result.population} x {result.generations} generations, {result.evaluations} designs simulated "
        f"in {result.optimisation_time:.1f} s; the front re-simulated in {result.simulation_time:.2f} s",
        fontsize=11,
    )
    return _save(fig, path, dpi=120)
