"""Figures for simulation results (matplotlib, written to files)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from twinloop.cycles import Cycle
from twinloop.sim import BREAKDOWN_KEYS, SimulationResult

__all__ = ["plot_breakdown_table", "plot_result"]

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
