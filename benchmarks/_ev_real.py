"""Where each real trip of the two cars in ``ev_real/`` starts: shared by the benchmarks that ingest them.

The Tesla's wall clock is coarse and six of its files lost their date; the
BMW's overview gives two trips one start. Samples are keyed on (vehicle,
signal, time) and the store splits trips at gaps over 300 s, so a file that
would overlap the one before, or follow it within 10 minutes, is started 10
minutes after it ends instead; the notes say which were moved.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

__all__ = ["bmw_starts", "tesla_starts"]


def bmw_starts(data: Path) -> tuple[dict[str, datetime], list[str]]:
    """Each BMW trip's start (overview.csv, Munich time), and the starts moved to keep trips apart.

    The overview gives TripA30 and A31 one start, and A25 a start before A24's; samples are
    keyed on (vehicle, signal, time) and trips are split at gaps over 300 s, so a trip that
    would overlap the one before, or follow it within 10 minutes, starts 10 minutes after it
    ends instead (the dates stay; the note lists them).
    """
    overview = pd.read_csv(data / "ev_real/bmw_i3_tum/overview.csv").dropna(subset=["Trip", "Date"])
    berlin = ZoneInfo("Europe/Berlin")
    rows = []
    for r in overview.itertuples():
        text = str(r.Date)
        when = datetime.strptime(text[:10].replace("_", "-") + text[10:], "%Y-%m-%d_%H-%M-%S")
        rows.append((when.replace(tzinfo=berlin), str(r.Trip)))
    duration = dict(zip(overview["Trip"], overview["Duration [min]"], strict=True))
    starts: dict[str, datetime] = {}
    moved = []
    end = None
    for when, trip in sorted(rows):
        if end is not None and when < end + pd.Timedelta(minutes=10):
            moved.append(f"{trip} {when:%Y-%m-%d %H:%M} -> {end + pd.Timedelta(minutes=10):%H:%M}")
            when = end + pd.Timedelta(minutes=10)
        starts[trip] = when
        end = when + pd.Timedelta(minutes=float(duration[trip]) + 1)
    return starts, moved


def tesla_starts(files: list[Path]) -> tuple[list[tuple[Path, datetime]], list[str]]:
    """Each Tesla file's start, from the first value of its coarse wall clock ``Time`` (China time).

    Six files' ``Time`` lost its date in the export (mm:ss.f only): each is put 1 h after the
    end of the file numbered before it. The wall clock is coarse, and by it 14 files begin
    before the file before them ends (by up to 25 min) or within 10 min of its end; samples
    are keyed on (vehicle, signal, time) and trips split at gaps over 300 s, so such a file
    would interleave with, or join, the one before. It starts 10 min after that one ends
    instead (the note lists the moves).
    """
    notes: list[str] = []
    clocks = []
    end = None
    undated = []
    for f in files:
        clock = pd.read_csv(f, usecols=["Time", "PhaseTime"])
        first = pd.to_datetime(clock["Time"].iloc[0], errors="coerce", format="%Y-%m-%d %H:%M:%S.%f")
        duration = pd.Timedelta(seconds=float(clock["PhaseTime"].iloc[-1]))
        if pd.isna(first):  # the export kept mm:ss.f of the wall clock only: no date
            assert end is not None, f"{f.name}: no date, and no dated trip before it"
            start = end + pd.Timedelta(hours=1)
            undated.append(f"{f.name[:3]} at {start:%Y-%m-%d %H:%M} UTC")
        else:
            start = first.tz_localize("Asia/Shanghai").tz_convert("UTC")
        end = start + duration
        clocks.append((start, f, duration))
    if undated:
        notes.append(f"Tesla files whose Time has no date (mm:ss.f only), each put 1 h after the file numbered"
                     f" before: {', '.join(undated)}")
    out, moved, end = [], [], None
    for start, f, duration in sorted(clocks):
        if end is not None and start < end + pd.Timedelta(minutes=10):
            moved.append(f"{f.name[:3]} by {(end + pd.Timedelta(minutes=10) - start).total_seconds() / 60:.0f} min")
            start = end + pd.Timedelta(minutes=10)
        out.append((f, start.to_pydatetime()))
        end = start + duration
    if moved:
        notes.append(f"Tesla files starting before, or within 10 min of, the end of the one before by the coarse"
                     f" wall clock, moved later: {', '.join(moved)}")
    return sorted(out), notes
