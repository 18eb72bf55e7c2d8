"""Figures for simulation results and battery forecasts (matplotlib, written to files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from twinloop.cycles import Cycle
from twinloop.sim import BREAKDOWN_KEYS, SimulationResult

if TYPE_CHECKING:
    from twinloop.twin.battery.health import RulForecast

__all__ = ["plot_breakdown_table", "plot_result", "plot_rul_forecast"]

_COLOURS = {key: f"C{i}" for i, key in enumerate(BREAKDOWN_KEYS)}


def plot_result(result: SimulationResult, cycle: Cycle, path: str | Path, i: int = 0) -> Path:
    """Speed, state of charge and battery power over time, and the energy breakdown."""
    if result.series is None or result.time is None:
        raise ValueError("simulate with record=True to plot time series")
    fig, axes = plt.subplots(2, 2, figsize=(12, 7), constrained_layout=True)
    t = result.time
    ax = axes[0, 0]
    ax.plot(cycle.time, cycle.vehicle_speed * 3.6, color="0.6", lw=2, label="trace")
    ax.plot(t, result.series["vehicle_speed"][i] * 3.6, color="C0", lw=1, label="achieved")
    ax.set(xlabel="time [s]", ylabel="speed [km/h]", title=f"{result.vehicle_names[i]} on {result.cycle_name}")
    ax.legend()
    ax = axes[0, 1]
    ax.plot(t, result.series["battery_power"][i] / 1e3, lw=0.8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="time [s]", ylabel="battery power [kW]", title="battery power (negative = regeneration)")
    ax = axes[1, 0]
    ax.plot(t, result.series["state_of_charge"][i] * 100, label="state of charge [%]")
    ax2 = ax.twinx()
    ax2.plot(t, result.series["battery_temperature"][i] - 273.15, color="C3", label="battery [°C]")
    ax2.plot(t, result.series["cabin_temperature"][i] - 273.15, color="C2", label="cabin [°C]")
    ax.set(xlabel="time [s]", ylabel="state of charge [%]")
    ax2.set_ylabel("temperature [°C]")
    ax2.legend(loc="lower right")
    ax = axes[1, 1]
    wh = {k: result.breakdown[k][i] / 3600 for k in BREAKDOWN_KEYS}
    ax.barh(list(wh), list(wh.values()), color=[_COLOURS[k] for k in wh])
    ax.set(xlabel="energy [Wh]", title=f"where the {result.battery_energy[i] / 3600:.0f} Wh went")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_breakdown_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Stacked energy breakdown [Wh/km] for every (vehicle, cycle) row of `table`.

    `table` has columns ``vehicle``, ``cycle``, ``distance_m`` and
    ``<cause>_wh`` for every cause in the breakdown.
    """
    cycles = list(dict.fromkeys(table["cycle"]))
    fig, axes = plt.subplots(1, len(cycles), figsize=(4.2 * len(cycles), 5.5), sharey=True, constrained_layout=True)
    axes = np.atleast_1d(axes)
    for ax, cyc in zip(axes, cycles, strict=True):
        sub = table[table["cycle"] == cyc]
        bottom = np.zeros(len(sub))
        km = sub["distance_m"].to_numpy() / 1000
        for key in BREAKDOWN_KEYS:
            values = np.clip(sub[f"{key}_wh"].to_numpy() / km, 0, None)
            ax.bar(sub["vehicle"], values, bottom=bottom, color=_COLOURS[key], label=key.replace("_", " "))
            bottom += values
        ax.set_title(cyc)
        ax.tick_params(axis="x", rotation=75)
    axes[0].set_ylabel("battery energy by cause [Wh/km]")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="outside right upper")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_rul_forecast(
    cycles: np.ndarray, capacity: np.ndarray, forecast: RulForecast, threshold: float, path: str | Path
) -> Path:
    """Capacity history, end-of-life threshold and the forecast crossing with its interval.

    The lower panel is the forecast distribution of the first crossing (the
    share of forecasts beyond the horizon is written on it).
    """
    path = Path(path)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, height_ratios=[3, 1], constrained_layout=True)
    top.plot(cycles, capacity, ".", ms=4, color="0.25", label="history")
    top.axhline(threshold, color="tab:red", lw=1, label=f"end of life ({threshold:g})")
    lo, hi = forecast.interval
    finite_hi = hi if np.isfinite(hi) else forecast.horizon
    for ax in (top, bottom):
        ax.axvspan(lo, finite_hi, color="tab:blue", alpha=0.15, lw=0)
        if np.isfinite(forecast.predicted_cycle):
            ax.axvline(forecast.predicted_cycle, color="tab:blue", lw=1.5)
    label = f"{forecast.level:.0%} interval {lo:g} to " + (f"{hi:g}" if np.isfinite(hi) else "beyond the horizon")
    top.plot([], [], color="tab:blue", lw=6, alpha=0.3, label=label)
    top.set_ylabel("capacity")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(f"first crossing: cycle {forecast.predicted_cycle:g}" if np.isfinite(forecast.predicted_cycle)
                  else "first crossing: beyond the horizon")
    crossed = forecast.crossings[np.isfinite(forecast.crossings)]
    if crossed.size:
        bottom.hist(crossed, bins=40, color="tab:blue", alpha=0.6)
    bottom.text(0.99, 0.9, f"beyond cycle {forecast.horizon:g}: {forecast.probability_beyond_horizon:.0%}",
                transform=bottom.transAxes, ha="right", va="top", fontsize=8)
    bottom.set_xlabel("cycle")
    bottom.set_ylabel("forecasts")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
