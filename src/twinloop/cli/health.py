"""``twinloop health``: battery health monitoring, a thin adapter over twinloop.apps.health."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

from twinloop.cli._paths import plot_file
from twinloop.cli._types import STORE_OPTION as _STORE

if TYPE_CHECKING:
    from twinloop.apps.health import HealthAlert, HealthReport

__all__ = ["register"]


@click.command("health")
@click.argument("vin")
@_STORE
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: a readable summary; json: every figure in SI (A s, m, s, K, ohm), null where unknown.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), callback=plot_file, default=None,
              help="Write a figure of the state-of-health trend with the remaining-life interval.")
@click.option("--dry-run", is_flag=True, help="Report the alerts without writing them to the store.")
def health_command(vin: str, store_url: str | None, fmt: str, plot: Path | None, dry_run: bool) -> None:
    """Watch the battery of VIN: state-of-health trend, remaining life, alerts.

    \b
    Examples:
      twinloop health 1N4AZ1CP0JC000001
      twinloop health 1N4AZ1CP0JC000001 --format json --store fleet.duckdb
      twinloop health 1N4AZ1CP0JC000001 --plot soh.png --dry-run

    \b
    From the twin's latest 50 trips: the capacity of each discharge
    stretch (charge drawn against the BMS state of charge), the fade over
    distance, and the distance left until 70 % state of health, with a 90 %
    interval. Three watches raise alerts:
      capacity fade    faster than a healthy pack of the chemistry ages
      resistance rise  over 50 % above the first estimate, at 25 degC
      temperature      above 50 degC for 30 s, or 5 K above what the
                       thermal model explains from the current
    An alert is raised only when the data say so with 95 % confidence.
    Alerts are written to the store as events, once per kind and evidence
    window: running this again writes nothing new. Thresholds and sources
    are in docs/health.md.
    """
    from twinloop.apps.health import monitor_health, write_alerts
    from twinloop.store import open_store
    from twinloop.twin.lifecycle import open_twin

    with open_store(store_url, create=False) as store:
        twin = open_twin(store, vin)
        report = monitor_health(twin)
        written = () if dry_run else write_alerts(twin, report.alerts)
    if plot is not None:
        from twinloop.plotting import plot_health

        plot_health(report, plot)
        click.echo(f"plot written to {plot}", err=True)
    if fmt == "json":
        doc = report.to_dict()
        doc["alerts_written"] = [a.to_dict() for a in written]
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(_table(report, written, dry_run))


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _km(x: float) -> str:
    return "beyond the horizon" if not math.isfinite(x) else f"{x / 1000:,.0f} km"


def _days(seconds: float | None) -> str:
    return "?" if seconds is None else ("beyond" if not math.isfinite(seconds) else f"{seconds / 86400:,.0f}")


def _table(r: HealthReport, written: tuple[HealthAlert, ...], dry_run: bool) -> str:
    rows: list[tuple[str, str]] = []
    t = r.trend
    if t is None:
        rows.append(("state of health", f"unknown: {r.unknown['trend']}"))
    else:
        rows.append(("state of health", f"{_pct(t.state_of_health)} ± {_pct(t.state_of_health_standard_error)}"
                     f" (capacity {t.capacity / 3600:.1f} Ah of {t.rated_capacity / 3600:.1f} Ah rated,"
                     f" {t.stretches} stretches)"))
        fade = t.fade_per_1000_km
        if fade is not None and t.fade_per_1000_km_standard_error is not None:
            rows.append(("fade", f"{fade * 100:.2f} % ± {t.fade_per_1000_km_standard_error * 100:.2f} % of rated"
                         " per 1,000 km"))
    if r.observed_loss is not None and r.expected_loss is not None and r.full_cycles is not None:
        se = r.observed_loss_standard_error or 0.0
        days = (r.points[-1].end - r.points[0].start).total_seconds() / 86400
        rows.append(("  over the window", f"{_pct(r.observed_loss)} ± {_pct(se)} lost in {days:.0f} days and"
                     f" {r.full_cycles:.0f} full cycles; a healthy {r.chemistry} pack: at most {_pct(r.expected_loss)}"))
    if r.rul is not None:
        u = r.rul
        lo, hi = u.interval
        life = (f"{_km(u.distance)} to {u.end_of_life:.0%} ({u.level:.0%} interval"
                f" {_km(lo)} to {_km(hi)}); {_days(u.time(u.distance))} days at this pace"
                f" ({_days(u.time(lo))} to {_days(u.time(hi))})")
        fade, fade_se = (None, None) if t is None else (t.fade_per_1000_km, t.fade_per_1000_km_standard_error)
        if fade is not None and fade_se is not None and abs(fade) < 2 * fade_se:
            life = "not yet told: the fade is within twice its noise" + (
                f"; the line as it stands gives {life}" if math.isfinite(u.distance) else "")
        rows.append(("remaining life", life))
    else:
        rows.append(("remaining life", f"unknown: {r.unknown.get('rul', '')}"))
    if r.resistance is not None:
        s = r.resistance
        rows.append(("resistance", f"{s.first * 1000:.1f} -> {s.latest * 1000:.1f} mOhm at 25 degC"
                     f" ({s.rise:+.0%} ± {s.rise_standard_error:.0%}, {s.trips} trips each)"))
    else:
        rows.append(("resistance", f"unknown: {r.unknown['resistance']}"))
    if r.temperatures:
        hottest = max(c.maximum for c in r.temperatures)
        excesses = [c.excess for c in r.temperatures if c.excess is not None]
        model = f"; up to {max(excesses):+.1f} K over the thermal model" if excesses else ""
        rows.append(("temperature", f"highest {hottest - 273.15:.1f} degC over {len(r.temperatures)} trips{model}"))
    else:
        rows.append(("temperature", f"unknown: {r.unknown['temperature']}"))
    state = "not written (--dry-run)" if dry_run else f"{len(written)} new written to the store"
    rows.append(("alerts", f"{len(r.alerts)}, {state}" if r.alerts else "none"))
    lines = [f"{r.vin} ({r.chemistry}), {r.trips} trips read"] + [f"{k:18s} {v}" for k, v in rows]
    for a in r.alerts:
        lines += [
            f"  [{a.kind}] {a.message}",
            f"      how sure: {a.confidence:.1%}; evidence {a.since:%Y-%m-%d %H:%M} to {a.until:%Y-%m-%d %H:%M} UTC",
            f"      what to do: {a.action}",
        ]
    return "\n".join(lines)


def register(group: click.Group) -> None:
    """Add the health command to the main group."""
    group.add_command(health_command)
