"""Checks and SI conversion of source batches: what passes becomes a SampleBatch.

Each value ends in exactly one place: stored, counted as an exact repeat, or
quarantined with its reason (invalid time, unparsable, NaN, out of range,
unknown signal, a second value at the same time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from twinloop.errors import UnknownNameError, shorten
from twinloop.ingest._echo import NAME_LIMIT, clip
from twinloop.ingest.sources import _NO_TIME, TIME_RANGE_REASON, TIME_RANGE_US, Column, SourceBatch
from twinloop.signals.catalog import SignalCatalog
from twinloop.store.base import QuarantineRecord, SampleBatch

__all__ = ["FRACTION_SLIP_MIN_SAMPLES", "PERCENT_STATES", "ValidatedBatch", "validate_batch"]

#: Percent signals a log may carry as a fraction (0.8 for 80 %); stored as 0.8 % they would
#: look valid and wreck the state of charge, health tracking and calibration downstream.
PERCENT_STATES = (
    "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current",
    "Vehicle.Powertrain.TractionBattery.StateOfHealth",
)

#: Fewest samples of a batch, all within [0, 1] % and not all equal, read as a fraction slip.
FRACTION_SLIP_MIN_SAMPLES = 10


def _fraction_slip(path: str, unit: str | None, written: npt.NDArray[np.float64]) -> str | None:
    """The quarantine reason when a percent state's values all lie in [0, 1] and vary, else None.

    A traction battery below 1 % over a whole logged batch, and still
    changing, is not a vehicle that drives: the log wrote fractions.
    """
    finite = written[np.isfinite(written)]
    if path not in PERCENT_STATES or unit != "percent" or finite.size < FRACTION_SLIP_MIN_SAMPLES:
        return None
    if finite.min() < 0.0 or finite.max() > 1.0 or np.ptp(finite) == 0.0:
        return None
    return (f"all {finite.size} values of this batch lie in [0, 1] although {path} is in percent:"
            " fractions (0.8 for 80 %)? multiply the column by 100")


@dataclass
class ValidatedBatch:
    """The result of :func:`validate_batch`."""

    samples: SampleBatch
    samples_read: int = 0
    duplicates_in_source: int = 0
    out_of_order: int = 0
    rows_refused: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


def _records(
    reason: str, col: Column, mask: npt.NDArray[np.bool_], cap: int
) -> list[QuarantineRecord]:
    idx = np.flatnonzero(mask)
    out = []
    for i in idx[:cap].tolist():
        t = int(col.time[i])
        value = clip(str(col.text[i])) if col.text is not None else repr(float(col.value[i]))
        # a time the store cannot keep is not written (the reason says why)
        keep = TIME_RANGE_US[0] <= t < TIME_RANGE_US[1]
        out.append(
            QuarantineRecord(reason, clip(col.path), t if keep else None, value, 1, int(col.row[i]))
        )
    if idx.size > cap:
        out.append(
            QuarantineRecord(
                reason + " (further rows not listed)", clip(col.path), count=int(idx.size - cap)
            )
        )
    return out


def validate_batch(
    batch: SourceBatch,
    catalog: SignalCatalog,
    signal_ids: Callable[[list[str]], dict[str, int]],
    max_quarantine_rows: int = 1000,
) -> ValidatedBatch:
    """Check, convert to SI and de-duplicate one source batch.

    Parameters
    ----------
    batch : SourceBatch
        Raw columns from a source.
    catalog : SignalCatalog
        Signal definitions (units, ranges).
    signal_ids : callable
        Maps catalog paths to store signal ids (registering new ones).
    max_quarantine_rows : int
        Per reason and column, refused values listed one by one; the rest
        are summarised in one record with their count.
    """
    out = ValidatedBatch(SampleBatch(pa.table({})))
    records: list[QuarantineRecord] = []
    for reason, n in batch.refused.items():
        row, text = batch.examples.get(reason, (None, ""))
        records.append(QuarantineRecord(reason, None, None, text or None, n, row))
        out.reasons[reason] += n
        out.rows_refused += n
    known = [c.path for c in batch.columns if c.path in catalog]
    ids = signal_ids(sorted(set(known))) if known else {}
    sid_parts, time_parts, value_parts = [], [], []
    increasing: dict[int, bool] = {}  # wide tables share one time array between columns
    for col in batch.columns:
        n = col.time.size
        out.samples_read += n
        sig = catalog.signals.get(col.path)
        if sig is None:
            reason = str(UnknownNameError("signal", str(shorten(col.path, NAME_LIMIT)), catalog))
            records += _records(reason, col, np.ones(n, dtype=bool), max_quarantine_rows)
            out.reasons[reason] += n
            continue
        refused = np.zeros(n, dtype=bool)

        def refuse(
            reason: str,
            mask: npt.NDArray[np.bool_],
            col: Column = col,
            refused: npt.NDArray[np.bool_] = refused,
            records: list[QuarantineRecord] = records,
        ) -> None:
            new = mask & ~refused
            k = int(new.sum())
            if k:
                records.extend(_records(reason, col, new, max_quarantine_rows))
                out.reasons[reason] += k
                refused |= new

        refuse("missing or invalid time", col.time == _NO_TIME)
        refuse(TIME_RANGE_REASON, (col.time < TIME_RANGE_US[0]) | (col.time >= TIME_RANGE_US[1]))
        for reason, mask in col.bad.items():
            refuse(reason, mask)
        refuse("value is NaN", np.isnan(col.value))
        if col.si:  # the store's own values (a `twinloop query` output): no conversion
            si = col.value
            if sig.allowed or sig.datatype == "boolean":
                with np.errstate(invalid="ignore"):
                    refuse(
                        f"not a stored code of {sig.path} (a whole number in {sig.valid_range})",
                        np.isfinite(si) & (si != np.round(si)),
                    )
            refuse(f"outside the valid range {sig.valid_range}", sig.invalid(si))
        else:
            slip = _fraction_slip(col.path, sig.unit, col.value)
            if slip is not None:
                refuse(slip, np.ones(n, dtype=bool))
            si = sig.to_si(col.value)
            refuse(
                f"outside the valid range {sig.valid_range} after conversion from {sig.unit or 'label'}",
                sig.invalid(si),
            )
        if refused.any():
            ok = ~refused
            t, v, rows = col.time[ok], si[ok], np.flatnonzero(ok)
        else:
            t, v, rows = col.time, si, None
        if t.size > 1:
            if id(t) not in increasing or rows is not None:
                increasing[id(t)] = bool((t[1:] > t[:-1]).all())
            if not increasing[id(t)]:
                step = np.diff(t)
                out.out_of_order += int((step < 0).sum())
                order = np.argsort(t, kind="stable")
                t, v = t[order], v[order]
                rows = order if rows is None else rows[order]
                same_time = np.diff(t) == 0
                if same_time.any():
                    same_value = same_time & (v[1:] == v[:-1])
                    out.duplicates_in_source += int(same_value.sum())
                    conflict = same_time & ~same_value
                    if conflict.any():
                        # report against the source rows, keep the first value
                        src = rows if rows is not None else np.arange(n)
                        mask = np.zeros(n, dtype=bool)
                        mask[src[1:][conflict]] = True
                        reason = "a second, different value at the same time (the first is kept)"
                        records.extend(_records(reason, col, mask, max_quarantine_rows))
                        out.reasons[reason] += int(conflict.sum())
                    keep = np.concatenate(([True], ~same_time))
                    t, v = t[keep], v[keep]
        if t.size == 0:  # empty chunks trip Arrow's CSV writer (PostgreSQL COPY)
            continue
        sid_parts.append(np.full(t.size, ids[col.path], dtype=np.int32))
        time_parts.append(t)
        value_parts.append(v)
    if not sid_parts:
        sid_parts, time_parts, value_parts = (
            [np.empty(0, np.int32)],
            [np.empty(0, np.int64)],
            [np.empty(0, np.float64)],
        )
    # chunked columns: no copy of the per-signal arrays
    table = pa.table(
        {
            "signal_id": pa.chunked_array([pa.array(a, pa.int32()) for a in sid_parts], pa.int32()),
            "time": pa.chunked_array(
                [pa.array(a, pa.int64()).view(pa.timestamp("us")) for a in time_parts],
                pa.timestamp("us"),
            ),
            "value": pa.chunked_array(
                [pa.array(a, pa.float64()) for a in value_parts], pa.float64()
            ),
        }
    )
    out.samples = SampleBatch(table, records)
    return out
