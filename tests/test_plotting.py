"""The figures say what they show: labels with units, complete legends, bars that add up.

Each test captures the figure as the plotting function closes it and checks
its content (labels, legend entries, drawn bar widths), not its pixels.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from twinloop.battery.health import RulForecast
from twinloop.cycles import Cycle
from twinloop.parameters.spec import VehicleSpec
from twinloop.plotting import plot_breakdown_table, plot_result, plot_rul_forecast
from twinloop.sim import BREAKDOWN_KEYS, Scenario, simulate

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the code under test closes, in order (closed for real afterwards)."""
    closed: list[Figure] = []
    real_close = plt.close
    monkeypatch.setattr(matplotlib.pyplot, "close", closed.append)
    yield closed
    for fig in closed:
        real_close(fig)


def _car(name: str = "car", power_kw: float = 150.0) -> VehicleSpec:
    return VehicleSpec(name, test_mass=1800.0, motor_peak_power=power_kw * 1e3, battery_energy=75 * 3.6e6,
                       drag_coefficient=0.25, frontal_area=2.3, rolling_resistance_coefficient=0.008)


def _cycle(name: str, seconds: int, peak_kmh: float, grade: float = 0.0, accel: float = 0.5) -> Cycle:
    """A trapezoid: accelerate at `accel` [m s-2] to `peak_kmh`, cruise, brake to a stop."""
    t = np.arange(seconds + 1, dtype=float)
    v = np.minimum(np.minimum(t, seconds - t) * accel, peak_kmh / 3.6)
    return Cycle(name, t, v, np.full(t.size, grade))


def _axis_texts(fig: Figure) -> list[str]:
    return [label for ax in fig.axes for label in (ax.get_xlabel(), ax.get_ylabel()) if label]


def _legend_texts(fig: Figure) -> list[str]:
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return [t.get_text() for leg in legends if leg is not None for t in leg.get_texts()]


def _bar_widths_by_row(ax: plt.Axes) -> dict[float, float]:
    """Sum of the signed widths of the horizontal bars of `ax`, per bar row (its y centre)."""
    rows: dict[float, float] = defaultdict(float)
    for patch in ax.patches:
        if isinstance(patch, Rectangle):
            rows[round(patch.get_y() + patch.get_height() / 2, 6)] += patch.get_width()
    return dict(rows)


def _assert_units(fig: Figure) -> None:
    texts = _axis_texts(fig)
    assert texts
    for text in texts:
        assert "[" in text and "]" in text, f"axis label without a unit: {text!r}"


# -- plot_result ----------------------------------------------------------------------------


def test_result_figure_labels_units_and_legends(figures: list[Figure], tmp_path: Path) -> None:
    cycle = _cycle("trapezoid", 300, 90)
    result = simulate(_car(), Scenario(cycle), record=True)
    path = plot_result(result, cycle, tmp_path / "r.png")
    assert path.read_bytes().startswith(PNG_MAGIC)
    (fig,) = figures
    _assert_units(fig)
    legend = _legend_texts(fig)
    for entry in ("trace", "achieved", "state of charge", "battery temperature", "cabin temperature"):
        assert entry in legend
    assert any(t.startswith("into the battery (regeneration recovered") for t in legend)
    assert "car on trapezoid" in fig.get_suptitle()
    assert "trace missed" not in fig.get_suptitle()


def test_result_breakdown_bars_add_up_to_the_battery_energy(figures: list[Figure], tmp_path: Path) -> None:
    cycle = _cycle("downhill", 400, 80, grade=-0.04)
    result = simulate(_car(), Scenario(cycle), record=True)
    assert result.breakdown["grade"][0] < 0  # a descent returns energy: drawn, not clipped
    plot_result(result, cycle, tmp_path / "r.png")
    breakdown = next(ax for ax in figures[0].axes if "went" in ax.get_title())
    widths = [p.get_width() for p in breakdown.patches]
    expected = [result.breakdown[k][0] / 3600 for k in BREAKDOWN_KEYS]
    np.testing.assert_allclose(widths, expected, atol=0.005)
    assert sum(widths) == pytest.approx(result.battery_energy[0] / 3600, abs=0.05)
    assert [t.get_text() for t in breakdown.get_yticklabels()] == [k.replace("_", " ") for k in BREAKDOWN_KEYS]
    assert f"regeneration recovered {result.regeneration_recovered[0] / 3600:.0f} Wh" in breakdown.get_title()


def test_a_missed_trace_is_named_and_shaded(figures: list[Figure], tmp_path: Path) -> None:
    cycle = _cycle("sprint", 120, 130, accel=3.0)
    result = simulate(_car("weak", power_kw=20), Scenario(cycle), record=True)
    assert result.trace_missed_time[0] > 0
    plot_result(result, cycle, tmp_path / "r.png")
    fig = figures[0]
    assert f"trace missed for {result.trace_missed_time[0]:.0f} s" in fig.get_suptitle()
    assert f"trace missed ({result.trace_missed_time[0]:.0f} s)" in _legend_texts(fig)


def test_a_very_short_cycle_has_readable_ticks(figures: list[Figure], tmp_path: Path) -> None:
    cycle = Cycle("short", np.arange(5.0), np.array([0, 5, 10, 5, 0]) / 3.6, np.zeros(5))
    result = simulate(_car(), Scenario(cycle), record=True)
    plot_result(result, cycle, tmp_path / "r.png")
    fig = figures[0]
    fig.canvas.draw()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert axis.get_offset_text().get_text() == "", f"offset on {axis.get_label_text()!r}"
    soc = next(ax for ax in fig.axes if ax.get_ylabel() == "state of charge [%]")
    lo, hi = soc.get_ylim()
    assert hi - lo >= 1.0  # a flat line is not stretched over a thousandth of a percent
    assert "Wh of battery energy went" in next(ax.get_title() for ax in fig.axes if "went" in ax.get_title())


def test_result_without_series_is_refused(tmp_path: Path) -> None:
    cycle = _cycle("c", 60, 50)
    with pytest.raises(ValueError, match="record=True"):
        plot_result(simulate(_car(), Scenario(cycle)), cycle, tmp_path / "r.png")


def test_missing_folders_are_created_and_no_suffix_means_png(tmp_path: Path) -> None:
    cycle = _cycle("c", 60, 50)
    result = simulate(_car(), Scenario(cycle), record=True)
    path = plot_result(result, cycle, tmp_path / "a" / "b" / "plot")
    assert path == tmp_path / "a" / "b" / "plot"
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert plot_result(result, cycle, tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")


def test_a_failed_write_still_closes_the_figure(tmp_path: Path) -> None:
    cycle = _cycle("c", 60, 50)
    result = simulate(_car(), Scenario(cycle), record=True)
    before = set(plt.get_fignums())
    with pytest.raises(ValueError, match="not supported"):
        plot_result(result, cycle, tmp_path / "p.xyz")
    assert set(plt.get_fignums()) == before


# -- plot_breakdown_table -------------------------------------------------------------------


def _fleet_table(n_vehicles: int, cycles: list[Cycle]) -> pd.DataFrame:
    specs = [_car(f"vehicle_{i:02d}", power_kw=20 if i == 0 else 100 + 5 * i) for i in range(n_vehicles)]
    return pd.concat([simulate(specs, Scenario(c)).to_frame() for c in cycles], ignore_index=True)


def test_fleet_bars_add_up_to_the_battery_energy_per_km(figures: list[Figure], tmp_path: Path) -> None:
    cycles = [_cycle("flat", 300, 90), _cycle("downhill", 300, 90, grade=-0.05)]
    table = _fleet_table(3, cycles)
    plot_breakdown_table(table, tmp_path / "fleet.png")
    (fig,) = figures
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["flat", "downhill"]
    names = [t.get_text() for t in panels[0].get_yticklabels()]
    assert names == ["vehicle_00", "vehicle_01", "vehicle_02"]
    for ax, cyc in zip(panels, ["flat", "downhill"], strict=True):
        sub = table[table["cycle"] == cyc].set_index("vehicle")
        drawn = _bar_widths_by_row(ax)
        for row, name in enumerate(names):
            expected = sub.loc[name, "battery_energy_wh"] / (sub.loc[name, "distance_m"] / 1000)
            assert drawn[row] == pytest.approx(expected, rel=1e-3), (cyc, name)
    downhill = [p.get_width() for p in panels[1].patches]
    assert min(downhill) < 0  # energy returned by the descent is drawn below zero
    lo, hi = panels[1].get_xlim()
    assert lo <= min(downhill) and hi >= max(_bar_widths_by_row(panels[0]).values())
    assert panels[0].get_xlim() == panels[1].get_xlim()  # one scale for every cycle
    assert panels[0].get_xlabel() == "battery energy [Wh/km]"


def test_fleet_legend_names_every_cause_and_the_markers(figures: list[Figure], tmp_path: Path) -> None:
    table = _fleet_table(2, [_cycle("sprint", 120, 130, accel=3.0), _cycle("down", 300, 90, grade=-0.05)])
    assert table["trace_missed_s"].max() > 0
    plot_breakdown_table(table, tmp_path / "fleet.png")
    legend = _legend_texts(figures[0])
    for key in BREAKDOWN_KEYS:
        assert key.replace("_", " ") in legend
    assert "net battery energy" in legend
    assert any(t.startswith("missed the trace") for t in legend)
    assert any(t.startswith("hatched: energy returned") for t in legend)
    assert len(legend) == len(set(legend))  # each entry once, not once per panel
    assert "Wh/km" in figures[0].get_suptitle() or "per km" in figures[0].get_suptitle()


def test_fleet_without_misses_or_descents_has_no_such_legend_entries(figures: list[Figure], tmp_path: Path) -> None:
    table = _fleet_table(2, [_cycle("flat", 300, 60)])
    table = table[table["vehicle"] != "vehicle_00"]  # the weak one
    plot_breakdown_table(table, tmp_path / "fleet.png")
    legend = _legend_texts(figures[0])
    assert not any(t.startswith(("missed the trace", "hatched")) for t in legend)


def test_a_large_fleet_stays_legible(figures: list[Figure], tmp_path: Path) -> None:
    table = _fleet_table(40, [_cycle("flat", 120, 60)])
    plot_breakdown_table(table, tmp_path / "fleet.png")
    fig = figures[0]
    ax = next(ax for ax in fig.axes if ax.get_title() == "flat")
    labels = ax.get_yticklabels()
    assert len(labels) == 40
    assert all(label.get_rotation() == 0 and label.get_fontsize() >= 8 for label in labels)
    assert fig.get_size_inches()[1] / 40 >= 0.3  # inches per vehicle row


def test_an_empty_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no rows"):
        plot_breakdown_table(pd.DataFrame(columns=["vehicle", "cycle", "distance_m"]), tmp_path / "x.png")


# -- plot_rul_forecast ----------------------------------------------------------------------


def _forecast(predicted: float, interval: tuple[float, float], beyond: float, horizon: float) -> RulForecast:
    rng = np.random.default_rng(0)
    crossed = np.round(rng.uniform(interval[0], min(interval[1], horizon), size=int(1000 * (1 - beyond))))
    crossings = np.sort(np.concatenate([crossed, np.full(1000 - crossed.size, np.inf)]))
    return RulForecast(predicted, interval, 0.9, beyond, horizon, "ensemble", (), 0.01, crossings)


def test_rul_figure_labels_threshold_crossing_and_horizon(figures: list[Figure], tmp_path: Path) -> None:
    cycles = np.arange(1.0, 101.0)
    capacity = 2.0 - 0.004 * cycles
    plot_rul_forecast(cycles, capacity, _forecast(150, (130, 180), 0.02, 400), 1.4, tmp_path / "rul.png")
    fig = figures[0]
    top, bottom = fig.axes
    assert top.get_ylabel() == "capacity [Ah]"
    assert bottom.get_ylabel() == "forecasts [count]" and "cycle" in bottom.get_xlabel()
    legend = _legend_texts(fig)
    assert "end of life (1.4 Ah)" in legend
    assert "median first crossing (cycle 150)" in legend
    assert "forecast horizon (cycle 400)" in legend
    assert "90% interval 130 to 180" in legend
    assert "cycle 150" in top.get_title() and "50 after the last measured" in top.get_title()
    assert "2% are still above 1.4 Ah at the horizon (cycle 400)" in bottom.get_title(loc="right")


def test_rul_beyond_the_horizon(figures: list[Figure], tmp_path: Path) -> None:
    cycles = np.arange(1.0, 101.0)
    plot_rul_forecast(cycles, 2.0 - 0.002 * cycles, _forecast(np.inf, (170, np.inf), 0.8, 200), 1.6,
                      tmp_path / "rul.png", unit="1")
    top, bottom = figures[0].axes
    assert top.get_ylabel() == "capacity [1]"
    assert "beyond the horizon (cycle 200)" in top.get_title()
    assert "90% interval 170 to beyond the horizon" in _legend_texts(figures[0])
    widths = {round(p.get_width(), 6) for p in bottom.patches if p.get_height() > 0 and p.get_width() < 50}
    assert widths and all(w >= 1 for w in widths)  # whole cycles per bin: no comb of empty bins


# -- the benchmarks' parity plots -----------------------------------------------------------


def _load_benchmark(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def _inside(ax: plt.Axes) -> bool:
    """Whether every plotted point (scatter or marker) lies inside the axes' limits."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    points = [np.asarray(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)]
    points += [np.asarray(line.get_xydata()) for line in ax.lines if line.get_marker() not in ("None", "", None)]
    points = [p for p in points if len(p)]
    assert points
    return all(((x0 <= p[:, 0]) & (p[:, 0] <= x1) & (y0 <= p[:, 1]) & (p[:, 1] <= y1)).all() for p in points)


def test_epa_accuracy_parity_plot(figures: list[Figure], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bench = _load_benchmark("epa_accuracy", monkeypatch)
    measured = np.array([90.0, 200, 300, 450])
    two = pd.DataFrame({"test_procedure": ["udds", "udds", "hwfet", "hwfet"], "wh_per_mile": measured,
                        "predicted_wh_per_mile": measured * [1.1, 0.95, 1.0, 1.2],
                        "baseline_wh_per_mile": measured * [0.8, 1.05, 1.1, 0.9]})
    cold = pd.DataFrame({"wh_per_mile": [400.0, 500], "predicted_wh_per_mile": [420.0, 480]})
    path = tmp_path / "new" / "epa.png"
    bench._plot(two, cold, str(path))
    assert path.read_bytes().startswith(PNG_MAGIC)
    (ax,) = figures[0].axes
    assert ax.get_xlabel() == "EPA measured wall energy [Wh/mi]"
    assert ax.get_ylabel() == "predicted wall energy [Wh/mi]"
    legend = _legend_texts(figures[0])
    assert "predicted = measured" in legend and "±10%" in legend
    assert "udds, twinloop (n=2, median |error| 7.5%)" in legend
    assert any(t.startswith("cold FTP 20 °F") for t in legend)
    assert _inside(ax)  # no point outside the square axes (measured 90 and 500 Wh/mi included)


def test_myev_parity_plot(figures: list[Figure], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bench = _load_benchmark("myev_epa", monkeypatch)
    measured = np.array([140.0, 250, 320, 420])
    table = pd.DataFrame({"hwfet_measured": measured, "generic_hwfet": measured * [1.1, 0.9, 1.0, 0.7],
                          "myev_hwfet": measured * [1.02, 0.98, 1.0, 1.04], "myev_sd": [5.0, 8, 10, 12]})
    bench._plot(table, str(tmp_path / "myev"))
    assert (tmp_path / "myev").read_bytes().startswith(PNG_MAGIC)
    (ax,) = figures[0].axes
    assert "[Wh/mi]" in ax.get_xlabel() and "[Wh/mi]" in ax.get_ylabel()
    legend = _legend_texts(figures[0])
    assert "predicted = measured" in legend and "±5%" in legend
    assert any(t.startswith("MyEV twin calibrated on UDDS, ±2 sd") for t in legend)
    assert _inside(ax)
    y0, y1 = ax.get_ylim()
    assert y0 <= (table.myev_hwfet - 2 * table.myev_sd).min() and y1 >= (table.myev_hwfet + 2 * table.myev_sd).max()
