"""The report of one ingest: what was read, stored, skipped and refused, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["IngestReport"]

# samples before 1980 are more likely relative times than 1970s telemetry [µs since epoch]
_RELATIVE_BEFORE = 315_532_800_000_000


def _iso(us: int | None) -> str | None:
    """µs since epoch as ISO 8601 UTC text (None stays None)."""
    if us is None:
        return None
    return (datetime(1970, 1, 1) + timedelta(microseconds=us)).isoformat() + "Z"


@dataclass
class IngestReport:
    """Counts of one ingest. Every sample read ends in exactly one bucket.

    ``samples_read = inserted + duplicates + duplicates_in_source + quarantined - rows_refused``
    where `quarantined` is the sum of :attr:`reasons`: refused samples plus
    whole rows or frames refused before they became samples (`rows_refused`:
    malformed CSV rows, CAN frames of unknown ids ...).

    Attributes
    ----------
    source : str
        The file.
    vehicle : str
        The vehicle.
    rows_read : int
        Rows (files) or frames (CAN logs) read.
    samples_read : int
        Signal values found (missing cells of wide tables are not samples).
    inserted : int
        New samples stored.
    duplicates : int
        Samples already in the store (same vehicle, signal, time).
    conflicts : int
        Of `duplicates`, those whose stored value differs (the stored one is kept).
    duplicates_in_source : int
        Exact repeats inside the source (same signal, time and value).
    out_of_order : int
        Samples that came earlier than the one before them (they are sorted, not refused).
    missing_cells : int
        Empty cells of wide tables (not samples).
    reasons : Counter
        Quarantined samples (or frames) by reason.
    batches : int
        Committed batches.
    already_ingested : bool
        The same content was ingested completely before; nothing was done.
    can_log : bool
        The source is a CAN log (rows are frames).
    delimiter : str or None
        The CSV delimiter detected.
    first_time, last_time : int or None
        Earliest and latest time of the samples that passed the checks
        [µs since epoch]; shown in the summary so that times read in the
        wrong unit or relative to the log's start stand out.
    ignored_columns : list of str
        Columns of a file read through a column map that the map does not
        name (not read).
    absent_columns : list of str
        Optional columns of the column map that the file lacks.
    """

    source: str
    vehicle: str
    rows_read: int = 0
    samples_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    conflicts: int = 0
    duplicates_in_source: int = 0
    out_of_order: int = 0
    missing_cells: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rows_refused: int = 0
    batches: int = 0
    already_ingested: bool = False
    delimiter: str | None = None
    can_log: bool = False
    first_time: int | None = None
    last_time: int | None = None
    ignored_columns: list[str] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        """Samples (or frames) refused, over all reasons."""
        return sum(self.reasons.values())

    @property
    def accepted(self) -> int:
        """Samples that passed the checks: stored now, stored before, or repeated in the file."""
        return self.inserted + self.duplicates + self.duplicates_in_source

    @property
    def problem(self) -> str | None:
        """Why this ingest stored nothing usable, or None when it did.

        An ingest that read no sample, or whose every sample or frame was
        quarantined, almost always means a wrong file, DBC or manifest; the
        command line prints this as a warning and exits with status 1.
        Arguments are named as fields in backquotes (`dbc`, `manifest`),
        which the command line writes as the options that set them.
        """
        if self.accepted > 0:
            return None
        again = " (when it was ingested before)" if self.already_ingested else ""
        if self.rows_read == 0:
            return f"{self.source} has no data rows or frames{again}; nothing was stored"
        if self.samples_read == 0:
            if self.can_log:
                return (
                    f"no samples were decoded from the {self.rows_read} frames of {self.source}"
                    f"{again} ({self.quarantined} quarantined); nothing was stored: check that"
                    " `dbc` describes this vehicle's bus and that `manifest` maps signals of"
                    " the messages in the log"
                )
            return (
                f"no samples were read from the {self.rows_read} rows of {self.source}{again}"
                f" ({self.quarantined} quarantined, {self.missing_cells} empty cells);"
                " nothing was stored"
            )
        return (
            f"all {self.samples_read} samples read from {self.source} were quarantined{again}"
            f" ({self.quarantined} in all); nothing was stored: see the reasons"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready)."""
        return {
            "source": self.source,
            "vehicle": self.vehicle,
            "rows_read": self.rows_read,
            "samples_read": self.samples_read,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "duplicates_in_source": self.duplicates_in_source,
            "out_of_order": self.out_of_order,
            "missing_cells": self.missing_cells,
            "quarantined": self.quarantined,
            "rows_refused": self.rows_refused,
            "reasons": dict(self.reasons.most_common()),
            "batches": self.batches,
            "already_ingested": self.already_ingested,
            "delimiter": self.delimiter,
            "first_time": _iso(self.first_time),
            "last_time": _iso(self.last_time),
            "problem": self.problem,
            "ignored_columns": list(self.ignored_columns),
            "absent_columns": list(self.absent_columns),
        }

    def summary(self) -> str:
        """A few human lines."""
        if self.already_ingested:
            return f"{self.source}: already ingested for {self.vehicle}; nothing to do"
        lines = [
            f"{self.source} -> {self.vehicle}: {self.samples_read} samples read from {self.rows_read} rows",
            f"  stored {self.inserted} new, {self.duplicates} already stored"
            + (
                f" ({self.conflicts} with a different value, kept the stored one)"
                if self.conflicts
                else ""
            )
            + f", {self.duplicates_in_source} repeated in the file, {self.quarantined} quarantined",
        ]
        if self.first_time is not None and self.last_time is not None:
            lines.append(f"  sample times {_iso(self.first_time)} to {_iso(self.last_time)}")
            if self.first_time < _RELATIVE_BEFORE:
                lines.append(
                    "  note: times in the 1970s: are they seconds since the start of the log"
                    " rather than since 1970?"
                )
        if self.ignored_columns:
            names = ", ".join(repr(n) for n in self.ignored_columns[:8])
            more = f" and {len(self.ignored_columns) - 8} more" if len(self.ignored_columns) > 8 else ""
            lines.append(
                f"  ignored {len(self.ignored_columns)} columns the column map does not name: {names}{more}"
            )
        if self.absent_columns:
            names = ", ".join(repr(n) for n in self.absent_columns)
            lines.append(f"  optional columns of the map not in the file: {names}")
        if self.out_of_order:
            lines.append(f"  {self.out_of_order} samples were out of time order (sorted)")
        for reason, n in self.reasons.most_common(10):
            lines.append(f"  quarantined {n:>9}  {reason}")
        if len(self.reasons) > 10:
            lines.append(f"  ... {len(self.reasons) - 10} more reasons (see the quarantine table)")
        return "\n".join(lines)
