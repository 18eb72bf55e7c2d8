"""Readers that turn files into batches of per-signal columns.

Wide tables (``time`` plus one column per VSS path), long tables (``time``,
``signal``, ``value``) in CSV or Parquet, and CAN logs (candump, Vector ASC
and BLF) decoded through a DBC and a decoder manifest. A reader only reads
and parses; validation and unit conversion happen in :mod:`twinloop.ingest.validate`.
"""

from __future__ import annotations

import abc
import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import can
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from twinloop.errors import DataError, UnknownNameError, ValidationError, shorten
from twinloop.ingest._echo import NAME_LIMIT, Verbatim, clip
from twinloop.ingest.columns import split_unit
from twinloop.ingest.config import IngestConfig
from twinloop.signals.catalog import SignalCatalog
from twinloop.signals.dbc import DbcDecoder
from twinloop.signals.frames import FrameBatch
from twinloop.signals.manifest import DecoderManifest

__all__ = [
    "TIME_RANGE_REASON",
    "CanLogSource",
    "Column",
    "CsvSource",
    "ParquetSource",
    "Source",
    "SourceBatch",
    "time_to_us",
]

TIME_COLUMNS = ("time", "timestamp")
_LAYOUT_HINT = (
    "twinloop ingest reads telemetry: a 'time' column (ISO 8601 or seconds since 1970)"
    " and one column per VSS signal path, in VSS units (time,Vehicle.Speed with km/h)"
    " or in SI with the unit in brackets as `twinloop query` writes them"
    " (time,Vehicle.Speed[m s-1]), or the long form time,signal,value"
)
# column names of a drive-cycle trace (twinloop.cycles.read_trace)
_TRACE_COLUMNS = {
    "time_s",
    "seconds",
    "speed_mps",
    "speed_kph",
    "speed_mph",
    "vehicle_speed",
    "road_grade",
    "grade",
    "grade_pct",
}


def _names(names: list[str], n: int = 8) -> str:
    """The first `n` column names, each shortened, and how many there are in all."""
    shown = ", ".join(repr(shorten(x, NAME_LIMIT)) for x in names[:n])
    return f"[{shown}]" if len(names) <= n else f"[{shown}, ...] ({len(names)} columns)"


def _trace_hint(names: list[str]) -> str:
    """A pointer to ``twinloop simulate -c`` when `names` look like a drive-cycle trace."""
    if not any(n.strip().lower() in _TRACE_COLUMNS for n in names):
        return ""
    return (
        ". These columns look like a drive-cycle trace (time_s, speed_mps ...):"
        " simulate over it with `twinloop simulate -v VEHICLE -c FILE`"
    )


LONG_COLUMNS = {"signal", "value"}
_NO_TIME = np.iinfo(np.int64).min
# a finite time too far from 1970 to count in int64 µs (epoch ms or ns read as seconds)
_FAR_TIME = np.iinfo(np.int64).max
#: Times the store keeps and reads back [µs since epoch]: 1970-01-01 to 9999-12-30, end exclusive.
TIME_RANGE_US = (0, 253_402_214_400_000_000)
#: Quarantine reason of a time outside :data:`TIME_RANGE_US`.
TIME_RANGE_REASON = (
    "time outside 1970-01-01 to 9999-12-30, the range the store keeps"
    " (a number is read as seconds since 1970, not milliseconds or microseconds)"
)
# µs per unit of an Arrow timestamp
_US_PER = {"s": 1_000_000, "ms": 1_000, "us": 1}


@dataclass
class Column:
    """Raw values of one signal from one batch of a source.

    Attributes
    ----------
    path : str
        Signal path as written in the source.
    time : ndarray of int64
        Times [µs since epoch]; ``int64 min`` where the time is invalid.
    value : ndarray of float64
        Values in the VSS unit; NaN where `bad` says why or where NaN was read.
    bad : dict
        ``{reason: mask}`` of values that could not be parsed.
    row : ndarray of int64
        Source row (or frame) number of each value, for the quarantine.
    text : ndarray of object, optional
        The original text, where values were parsed from text.
    si : bool
        The values are already in SI, as the store keeps them (a column
        named with its SI unit, ``Vehicle.Speed[m s-1]``); otherwise they
        are in the VSS unit.
    """

    path: str
    time: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    row: npt.NDArray[np.int64]
    bad: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)
    text: npt.NDArray[np.object_] | None = None
    si: bool = False


@dataclass
class SourceBatch:
    """One batch of a source: columns plus what was refused while reading."""

    columns: list[Column]
    rows_read: int
    missing_cells: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    examples: dict[str, tuple[int | None, str]] = field(default_factory=dict)

    def refuse(self, reason: str, count: int = 1, row: int | None = None, text: str = "") -> None:
        """Count `count` refused rows or frames under `reason` (the first kept as example)."""
        self.refused[reason] += count
        self.examples.setdefault(reason, (row, clip(text)))


def time_to_us(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """Times as int64 µs since the epoch; ``int64 min`` where missing or unparsable.

    Accepts Arrow timestamps (any unit; zoned ones are converted to UTC),
    numbers (seconds since the epoch) and ISO 8601 text.

    Examples
    --------
    >>> time_to_us(pa.array(["1970-01-01T00:00:01.5Z", "bad"])).tolist()
    [1500000, -9223372036854775808]
    >>> time_to_us(pa.array([2.0])).tolist()
    [2000000]
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    t = array.type
    if pa.types.is_timestamp(t):
        return _timestamps_to_us(array)
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        sec = np.asarray(array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(sec)
            ok = finite & (np.abs(sec) < 9.2e12)
        out = np.full(sec.shape, _NO_TIME, dtype=np.int64)
        out[finite & ~ok] = _FAR_TIME
        out[ok] = np.round(sec[ok] * 1e6).astype(np.int64)
        return out
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = pd.Series(array.to_numpy(zero_copy_only=False), dtype=object)
        numeric = pd.to_numeric(text, errors="coerce")
        # The column is read as seconds when at least half of its times are
        # numbers; a value that is not a number is then invalid on its own row.
        n_numeric = int(numeric.notna().sum())
        if n_numeric and 2 * n_numeric >= int(text.notna().sum()):
            return time_to_us(pa.array(numeric.to_numpy(dtype=float)))
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        us = parsed.to_numpy(dtype="datetime64[us]").astype(np.int64)
        us[parsed.isna().to_numpy()] = _NO_TIME
        return us
    raise DataError(f"time column has type {t}; expected timestamps, seconds or ISO 8601 text")


def _is_time_type(t: pa.DataType) -> bool:
    """Whether :func:`time_to_us` reads a column of type `t`."""
    return (
        pa.types.is_timestamp(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
    )


def _timestamps_to_us(array: pa.Array) -> npt.NDArray[np.int64]:
    """An Arrow timestamp array (UTC inside, any unit) as int64 µs; out-of-range marked.

    Nanoseconds are floored to the microsecond (the store's resolution);
    seconds or milliseconds beyond int64 µs become ``_FAR_TIME``, never a
    wrapped-around number.
    """
    raw = np.asarray(
        array.cast(pa.int64()).fill_null(_NO_TIME).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    missing = raw == _NO_TIME
    unit = array.type.unit
    if unit == "ns":
        out = raw // 1000
    else:
        factor = _US_PER[unit]
        limit = np.iinfo(np.int64).max // factor
        far = np.abs(raw) > limit
        out = np.where(far, _FAR_TIME, raw * np.where(far, 1, factor))
    out[missing] = _NO_TIME
    return out


def _values(
    array: pa.Array | pa.ChunkedArray,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[np.object_] | None]:
    """(values, missing mask, original text or None) of a value column."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    else:
        missing = np.zeros(len(array), dtype=bool)
    t = array.type
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        as_float = array.cast(pa.float64())
        if array.null_count:
            as_float = as_float.fill_null(np.nan)
        return np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64), missing, None
    text = np.asarray(array.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)
    try:
        v = np.asarray(
            array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False),
            dtype=np.float64,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        v = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype=np.float64)
    return v, missing, text


def _column(
    path: str,
    time: npt.NDArray[np.int64],
    array: pa.Array | pa.ChunkedArray,
    rows: npt.NDArray[np.int64],
    catalog: SignalCatalog,
    si: bool = False,
) -> tuple[Column, int]:
    """A Column from a value array; returns it and the number of missing cells.

    With `si` the values are the store's own (labels as their stored codes).
    """
    v, missing, text = _values(array)
    n_missing = int(missing.sum())
    if n_missing:
        keep = ~missing
        v, time, rows = v[keep], time[keep], rows[keep]
        text = text[keep] if text is not None else None
    col = Column(path, time, v, rows, text=text, si=si)
    sig = catalog.signals.get(path)
    labels = sig is not None and (bool(sig.allowed) or sig.datatype == "boolean")
    if text is not None and sig is not None and labels and not si:
        col.value = sig.encode_labels(text)
        col.bad[
            "unknown label"
            + (f" (allowed: {', '.join(sig.allowed)})" if sig.allowed else " (true/false)")
        ] = np.isnan(col.value)
    elif text is not None:
        unparsed = np.isnan(v) & ~np.isin(np.char.lower(text.astype(str)), ["nan", "-nan", "+nan"])
        if unparsed.any():
            col.bad["not a number"] = unparsed
    return col, n_missing


class Source(abc.ABC):
    """A file that yields :class:`SourceBatch` es.

    Subclasses implement :meth:`_batches` (and may implement
    :meth:`_estimated_samples`); the public methods check the file first
    (:meth:`check_file`: not empty, not over the size limit).
    """

    #: What the file should hold, for the message about an empty file.
    expected: ClassVar[str] = "data"

    def __init__(self, path: str | Path, catalog: SignalCatalog, config: IngestConfig) -> None:
        self.path = Path(path)
        self.catalog = catalog
        self.config = config
        self.delimiter: str | None = None

    def check_file(self) -> None:
        """Refuse an empty file, or one over ``IngestConfig.max_file_bytes``, before reading it."""
        size = self.path.stat().st_size
        if size > self.config.max_file_bytes:
            raise DataError(
                f"{self.path} is too large: expected at most {self.config.max_file_bytes} bytes"
                f" (IngestConfig.max_file_bytes), received {size} bytes"
            )
        if size == 0:
            raise DataError(f"{self.path} is empty: expected {self.expected}, received 0 bytes")

    def batches(self) -> Iterator[SourceBatch]:
        """Read the file batch by batch."""
        self.check_file()
        yield from self._batches()

    @abc.abstractmethod
    def _batches(self) -> Iterator[SourceBatch]:
        """Read the file."""

    def estimated_samples(self) -> int | None:
        """A guess of the number of samples, for progress bars (None: unknown)."""
        self.check_file()
        return self._estimated_samples()

    def _estimated_samples(self) -> int | None:
        return None

    # shared by CSV and Parquet
    def _check_columns(self, names: list[str]) -> tuple[str, bool]:
        """(time column, is long form); unknown signal columns raise UnknownNameError.

        A wide column is a catalog path, bare (values in the VSS unit) or
        with the signal's SI unit in brackets (values in SI, see
        :mod:`twinloop.ingest.columns`); any other unit is refused.
        """
        self._check_unique(names)
        lowered = {n.lower(): n for n in names}
        time_col = next((lowered[c] for c in TIME_COLUMNS if c in lowered), None)
        if time_col is None:
            if len(names) == 1 and any(d in names[0] for d in ";\t|, "):
                hint = (
                    "The header has one column only: is the delimiter right?"
                    " (accepted: comma, semicolon, tab, |)"
                )
            else:
                hint = _LAYOUT_HINT + _trace_hint(names)
            raise ValidationError("columns", "a 'time' column", Verbatim(_names(names)), str(self.path), hint)
        long = LONG_COLUMNS <= set(lowered)
        if not long:
            for n in names:
                if n != time_col:
                    self._check_signal_column(n, names)
        return time_col, long

    def _split(self, name: str) -> tuple[str, str | None]:
        """(path, unit) of a column; a catalog path is never split, brackets or not."""
        return (name, None) if name in self.catalog else split_unit(name)

    def _check_signal_column(self, name: str, names: list[str]) -> None:
        path, unit = self._split(name)
        if path not in self.catalog:
            raise UnknownNameError(
                "signal column",
                str(shorten(path, NAME_LIMIT)),
                self.catalog,
                hint=f"in {self.path}. Columns must be VSS paths; add custom signals"
                f" with a signal file.{_trace_hint(names)}",
            )
        sig = self.catalog[path]
        if unit is not None and unit != sig.si_unit:
            vss = f"in its VSS unit {sig.unit}" if sig.unit else "as labels"
            raise ValidationError(
                f"unit of column {path}",
                f"[{sig.si_unit}] (SI, as `twinloop query` writes it), or the bare path {path}"
                f" for values {vss}",
                shorten(unit, NAME_LIMIT),
                str(self.path),
            )

    def _check_unique(self, names: list[str]) -> None:
        """Refuse a signal in two columns (time columns: in any case), which has no single meaning.

        ``Vehicle.Speed`` and ``Vehicle.Speed[m s-1]`` are the same signal.
        """
        counts = Counter(n.lower() if n.lower() in TIME_COLUMNS else self._split(n)[0] for n in names)
        twice = {n: k for n, k in counts.items() if k > 1}
        if twice:
            name, k = next(iter(twice.items()))
            raise ValidationError(
                "columns", "each column once", f"{shorten(name, NAME_LIMIT)!r} {k} times", str(self.path),
                "Rename or remove the repeated column.",
            )

    def _check_types(self, table: pa.Table, time_col: str) -> None:
        """Refuse a time or value column of a type that holds no time or number (dates, lists ...)."""
        t = table.schema.field(time_col).type
        if not _is_time_type(t):
            raise DataError(
                f"{self.path}: time column {shorten(time_col, NAME_LIMIT)!r} has type {t}; expected timestamps,"
                " seconds since 1970 or ISO 8601 text"
            )
        for field_ in table.schema:
            ft = field_.type
            if pa.types.is_dictionary(ft):
                ft = ft.value_type
            if field_.name != time_col and (pa.types.is_nested(ft) or pa.types.is_binary(ft)):
                raise DataError(
                    f"{self.path}: column {shorten(field_.name, NAME_LIMIT)!r} has type {ft}; expected numbers,"
                    " true/false or text, one value per cell"
                )

    def _from_table(
        self, table: pa.Table, time_col: str, long: bool, first_row: int
    ) -> SourceBatch:
        self._check_types(table, time_col)
        n = table.num_rows
        rows = np.arange(first_row, first_row + n, dtype=np.int64)
        time = time_to_us(table.column(time_col))
        batch = SourceBatch([], rows_read=n)
        if not long:
            for name in table.column_names:
                if name == time_col:
                    continue
                path, unit = self._split(name)  # a unit here is the SI one (_check_columns)
                col, missing = _column(
                    path, time, table.column(name), rows, self.catalog, si=unit is not None
                )
                batch.missing_cells += missing
                batch.columns.append(col)
            return batch
        names = {c.lower(): c for c in table.column_names}
        sig = table.column(names["signal"]).cast(pa.string()).combine_chunks()
        null_sig = np.asarray(sig.is_null().to_numpy(zero_copy_only=False))
        if null_sig.any():
            batch.refuse("missing signal name", int(null_sig.sum()), int(rows[null_sig][0]))
        enc = pc.dictionary_encode(sig.fill_null(""))
        codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False))
        order = np.argsort(codes, kind="stable")
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        values = table.column(names["value"]).combine_chunks()
        for group in np.split(order, bounds):
            if group.size == 0:
                continue
            path = enc.dictionary[int(codes[group[0]])].as_py()
            if not path:
                continue
            col, missing = _column(
                path, time[group], values.take(pa.array(group)), rows[group], self.catalog
            )
            batch.missing_cells += missing
            batch.columns.append(col)
        return batch


class ParquetSource(Source):
    """A Parquet file in wide or long form."""

    def _open(self) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(
                f"{self.path}: not a readable Parquet file (truncated?): {exc}"
            ) from None

    expected = "a Parquet file"

    def _estimated_samples(self) -> int | None:
        f = self._open()
        return int(f.metadata.num_rows) * max(1, len(f.schema_arrow.names) - 1)

    def _batches(self) -> Iterator[SourceBatch]:
        f = self._open()
        names = f.schema_arrow.names
        time_col, long = self._check_columns(names)
        per_row = 1 if long else max(1, len(names) - 1)
        rows = max(1, min(self.config.max_batch_rows, self.config.batch_samples // per_row))
        first = 0
        try:
            for rb in f.iter_batches(batch_size=rows):
                yield self._from_table(pa.Table.from_batches([rb]), time_col, long, first)
                first += rb.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(
                f"{self.path}: Parquet data unreadable after row {first} (truncated?): {exc}"
            ) from None


class CsvSource(Source):
    """A CSV file in wide or long form; the delimiter is detected from the header."""

    DELIMITERS = ",;\t|"
    #: Bytes checked for binary or non-UTF-8 content before reading.
    SNIFF_BYTES = 1 << 16
    expected = "a header row such as 'time,Vehicle.Speed' and data rows"

    def _sniff(self) -> tuple[str, list[str]]:
        with self.path.open("rb") as fh:
            head = fh.read(self.SNIFF_BYTES)
        _check_utf8_text(self.path, head, final=len(head) < self.SNIFF_BYTES)
        limit = self.config.max_header_bytes
        with self.path.open("rb") as fh:
            raw = fh.readline(limit + 1)  # never more: a file without line ends is not read whole
        if len(raw.rstrip(b"\r\n")) > limit:
            raise DataError(
                f"{self.path}: the header row is longer than {limit} bytes"
                f" (IngestConfig.max_header_bytes): expected {self.expected}, received a first line"
                f" of more than {limit} bytes. Is this a telemetry CSV with one line per row?"
            )
        header = raw.decode("utf-8-sig", errors="replace")
        if not header.strip():
            raise DataError(
                f"{self.path}: the first line is empty: expected {self.expected},"
                f" received {shorten(header)!r}"
            )
        try:
            counts = {
                d: len(next(csv.reader(io.StringIO(header), delimiter=d), []))
                for d in self.DELIMITERS
            }
            delimiter = max(counts, key=lambda d: counts[d])
            row = next(csv.reader(io.StringIO(header), delimiter=delimiter), [])
        except csv.Error as exc:  # a config past HEADER_LIMIT, a NUL byte beyond the sniffed start
            raise DataError(f"{self.path}: the header row is not readable as CSV: {exc}") from None
        return delimiter, [n.strip() for n in row]

    def _estimated_samples(self) -> int | None:
        _, names = self._sniff()
        with self.path.open("rb") as fh:
            head = fh.read(1 << 20)
        lines = max(1, head.count(b"\n"))
        per_line = max(1, len(head) / lines)
        return int(self.path.stat().st_size / per_line) * max(1, len(names) - 1)

    def _batches(self) -> Iterator[SourceBatch]:
        delimiter, names = self._sniff()
        self.delimiter = delimiter
        time_col, long = self._check_columns(names)
        invalid: list[tuple[int | None, str, int]] = []

        def on_invalid(row: Any) -> str:
            invalid.append((row.number, row.text or "", row.actual_columns))
            return "skip"

        try:  # the first block is read here
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(
                    block_size=self.config.csv_block_bytes, column_names=names, skip_rows=1
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{self.path}: CSV unreadable: {_csv_problem(exc, self.config.csv_block_bytes)}"
            ) from None
        first = 1  # data rows are numbered from 1, after the header
        pending: list[pa.RecordBatch] = []
        pending_rows = 0
        per_row = 1 if long else max(1, len(names) - 1)
        target = max(1, min(self.config.max_batch_rows, self.config.batch_samples // per_row))
        try:
            for rb in reader:
                pending.append(rb)
                pending_rows += rb.num_rows
                if pending_rows >= target:
                    yield self._flush(pending, time_col, long, first, invalid, len(names))
                    first += pending_rows
                    pending, pending_rows = [], 0
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{self.path}: CSV unreadable after row {first + pending_rows}:"
                f" {_csv_problem(exc, self.config.csv_block_bytes)}"
            ) from None
        yield self._flush(pending, time_col, long, first, invalid, len(names))

    def _flush(
        self,
        pending: list[pa.RecordBatch],
        time_col: str,
        long: bool,
        first: int,
        invalid: list[tuple[int | None, str, int]],
        expected: int,
    ) -> SourceBatch:
        if pending:
            batch = self._from_table(pa.Table.from_batches(pending), time_col, long, first)
        else:
            batch = SourceBatch([], rows_read=0)
        for number, text, actual in invalid:
            batch.refuse(
                f"malformed row: {actual} fields, the header has {expected}", 1, number, text
            )
            batch.rows_read += 1
        invalid.clear()
        return batch


# leading bytes of binary formats that end up named .csv
_MAGIC = {
    b"PAR1": "a Parquet file: name it .parquet",
    b"\x89PNG": "a PNG image",
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?): export the sheet as CSV",
    b"\xff\xfe": "UTF-16 text: re-save the file as UTF-8",
    b"\xfe\xff": "UTF-16 text: re-save the file as UTF-8",
}


def _check_utf8_text(path: Path, head: bytes, final: bool) -> None:
    """Refuse `head` (the start of a CSV file) when it is binary or not UTF-8."""
    what = next((w for magic, w in _MAGIC.items() if head.startswith(magic)), None)
    nul = head.find(b"\x00")
    if what is not None or nul >= 0:
        received = (
            f"what looks like {what}" if what else f"binary data (a NUL byte at offset {nul})"
        )
        raise DataError(f"{path} is not a UTF-8 text CSV: expected text, received {received}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final)
    except UnicodeDecodeError as exc:
        line = head.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path} is not a UTF-8 text CSV: expected UTF-8 text, received byte"
            f" 0x{head[exc.start]:02x} at offset {exc.start} (line {line});"
            " re-save the file as UTF-8"
        ) from None


def _csv_problem(exc: Exception, block_bytes: int) -> str:
    """Arrow's CSV error, with the fix for the common ones."""
    text = str(exc)
    if "UTF8" in text or "UTF-8" in text:
        return f"{clip(text)} (twinloop reads CSV as UTF-8 text; re-save the file as UTF-8)"
    if "straddl" in text or "block size" in text:
        # Arrow's own words ask to "increase block size", a setting the user does not have
        mib = f"{block_bytes / 2**20:g} MiB; " if block_bytes >= 2**20 else ""
        return (
            f"a row longer than {block_bytes} bytes ({mib}IngestConfig.csv_block_bytes),"
            " the longest row ingestion reads: expected telemetry"
            " rows of a few hundred bytes. Is a quote left open, or a line end missing?"
        )
    return clip(text)


# ---- CAN logs ------------------------------------------------------------------------
_CANDUMP = re.compile(
    r"^\s*\((\d+(?:\.\d+)?)\)\s+\S+\s+([0-9A-Fa-f]{1,8})#(#[0-9A-Fa-f])?([0-9A-Fa-f]*)(?:\s+[RT])?\s*$"
)


def _read_candump(
    path: Path, chunk: int
) -> Iterator[tuple[list[tuple[float, int, bytes]], Counter[str], int]]:
    """Frames of a candump ``-l`` log in chunks, with counts of refused lines."""
    frames: list[tuple[float, int, bytes]] = []
    refused: Counter[str] = Counter()
    lines = 0
    with path.open("r", encoding="ascii", errors="replace") as fh:
        for line in fh:
            lines += 1
            m = _CANDUMP.match(line)
            if m is None:
                if line.strip():
                    refused["malformed candump line"] += 1
                continue
            payload = m.group(4)
            if len(payload) % 2 or len(payload) > 128:
                refused["payload of odd or excessive hex length"] += 1
                continue
            frames.append((float(m.group(1)), int(m.group(2), 16), bytes.fromhex(payload)))
            if len(frames) >= chunk:
                yield frames, refused, lines
                frames, refused, lines = [], Counter(), 0
    yield frames, refused, lines


def _read_python_can(
    reader_cls: Any, path: Path, chunk: int
) -> Iterator[tuple[list[tuple[float, int, bytes]], Counter[str], int]]:
    """Frames of a Vector ASC or BLF log (via python-can) in chunks."""
    frames: list[tuple[float, int, bytes]] = []
    refused: Counter[str] = Counter()
    count = 0
    try:
        with reader_cls(str(path)) as reader:
            for msg in reader:
                count += 1
                if msg.is_error_frame or msg.is_remote_frame:
                    refused["error or remote frame"] += 1
                    continue
                frames.append((float(msg.timestamp), int(msg.arbitration_id), bytes(msg.data)))
                if len(frames) >= chunk:
                    yield frames, refused, count
                    frames, refused, count = [], Counter(), 0
    except Exception as exc:  # python-can raises many kinds on damaged files
        refused[
            "log unreadable after this point (truncated or damaged):"
            f" {type(exc).__name__}: {clip(str(exc))}"
        ] += 1
    yield frames, refused, count


class CanLogSource(Source):
    """A CAN log (candump ``.log``, Vector ``.asc`` or ``.blf``) decoded through a DBC.

    Parameters
    ----------
    decoder : DbcDecoder
        Compiled DBC (only the signals of the manifest).
    manifest : DecoderManifest
        DBC signal -> VSS path (checked against the DBC and the catalog).
    message_lengths : mapping, optional
        DBC message name -> payload length [bytes], to name the expected
        length when a frame has another one.
    """

    expected = "CAN frames"

    READERS: ClassVar[dict[str, Any]] = {
        ".asc": lambda path: can.ASCReader(path, relative_timestamp=False),
        ".blf": can.BLFReader,
    }

    def __init__(
        self,
        path: str | Path,
        catalog: SignalCatalog,
        config: IngestConfig,
        decoder: DbcDecoder,
        manifest: DecoderManifest,
        message_lengths: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(path, catalog, config)
        self.decoder = decoder
        self.manifest = manifest
        self.message_lengths = dict(message_lengths or {})

    def _batches(self) -> Iterator[SourceBatch]:
        suffix = self.path.suffix.lower()
        chunk = self.config.max_batch_rows
        if suffix in self.READERS:
            chunks = _read_python_can(self.READERS[suffix], self.path, chunk)
        else:
            chunks = _read_candump(self.path, chunk)
        first = 0
        for frames, refused, lines in chunks:
            fb = FrameBatch.from_frames(frames)
            batch = self.decode(fb, first)
            batch.rows_read = lines
            for reason, n in refused.items():
                batch.refuse(reason, n)
            first += len(frames)
            yield batch

    def decode(self, frames: FrameBatch, first: int = 0) -> SourceBatch:
        """Decode a frame batch into VSS-named columns."""
        result = self.decoder.decode(frames)
        batch = SourceBatch([], rows_read=len(frames))
        for fid, n in result.unknown_ids.items():
            batch.refuse(f"frame id 0x{fid:x} not in the DBC", n)
        for (msg, length), n in result.wrong_length.items():
            want = self.message_lengths.get(msg)
            says = f"the DBC says {want}" if want is not None else "the DBC says otherwise"
            batch.refuse(f"{msg}: payload of {length} bytes, {says}", n)
        for msg, n in result.bad_multiplexer.items():
            batch.refuse(f"{msg}: multiplexer value not in the DBC", n)
        for entry in self.manifest.entries:
            dec = result.signals.get((entry.message, entry.signal))
            if dec is None:
                continue
            time = time_to_us(pa.array(dec.time, pa.float64()))
            rows = np.zeros(time.shape, dtype=np.int64) + first
            vss = entry.to_vss(dec.value)
            if isinstance(vss, list):
                text = np.array([v if v is not None else "" for v in vss], dtype=object)
                sig = self.catalog[entry.vss]
                col = Column(entry.vss, time, sig.encode_labels(text), rows, text=text)
                col.bad[
                    f"{entry.message}.{entry.signal}: value not in the manifest's values map"
                ] = np.isnan(col.value)
                col.text = dec.value.astype(str).astype(object)
            else:
                col = Column(entry.vss, time, vss, rows)
            batch.columns.append(col)
        return batch
