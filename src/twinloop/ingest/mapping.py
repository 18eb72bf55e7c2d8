"""Column maps: a logger's own CSV or Parquet columns read as VSS signals.

Loggers name their columns as they like (``Battery Current [A]``,
``REESSCurrent``) and write in their own units, separators and encodings. A
*column map* (TOML, see ``docs/data.md``) says, for one logger's files, which
column holds the time and in which unit, and which columns become which VSS
signal, in which unit and with which scale::

    [file]
    separator = ";"
    encoding = "latin-1"

    [time]
    column = "Time [s]"
    unit = "s"                       # s, ms (relative to `start`) or datetime

    [columns."Velocity [km/h]"]
    vss = "Vehicle.Speed"
    unit = "km/h"

:class:`MappedSource` reads a file through a map and yields the same
:class:`~twinloop.ingest.sources.SourceBatch` as any other source, in the
signals' VSS units, so the mapped values go through the one ingestion path:
validation, SI conversion (and VSS's sign: battery current positive into the
battery, stored positive discharging), quarantine and idempotent storage.
Columns the map does not name are not read.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from twinloop.errors import (
    DataError,
    SpecificationError,
    UnknownNameError,
    ValidationError,
    close_matches,
)
from twinloop.ingest._echo import NAME_LIMIT, Verbatim, shown
from twinloop.ingest.config import IngestConfig
from twinloop.ingest.sources import (
    _FAR_TIME,
    _MAGIC,
    _NO_TIME,
    CsvSource,
    Source,
    SourceBatch,
    _column,
    _csv_problem,
    time_to_us,
)
from twinloop.signals.catalog import SignalCatalog
from twinloop.signals.units import UNITS, unit_conversion

__all__ = [
    "MAX_MAP_BYTES",
    "MAX_MAP_COLUMNS",
    "TIME_UNITS",
    "ColumnMap",
    "MappedColumn",
    "MappedSource",
    "load_column_map",
]

#: A column map file larger than this [bytes] is refused before it is parsed.
MAX_MAP_BYTES = 256 * 1024
#: Most source columns one map may name.
MAX_MAP_COLUMNS = 1000
#: Units of the time column: seconds or milliseconds (since `start`, else since 1970), or
#: date-times (ISO 8601 text such as ``2023-04-19 09:19:44.83``, or Parquet timestamps).
TIME_UNITS = ("s", "ms", "datetime")
_SECONDS_PER = {"s": 1.0, "ms": 1e-3}
_DOC_KEYS = ("file", "time", "columns")
_FILE_KEYS = ("separator", "encoding")
_TIME_KEYS = ("column", "unit", "start", "start_column", "zone")
_COLUMN_KEYS = ("vss", "unit", "scale", "optional")
_SEPARATORS = (",", ";", "\t", "|", " ")
# a date-time written with its offset (Z, +02:00, -0500): naive ones are in the map's zone
_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"


@dataclass(frozen=True)
class MappedColumn:
    """One source column read as one VSS signal.

    Attributes
    ----------
    name : str
        The column's name in the file's header (surrounding spaces ignored).
    vss : str
        The VSS path in the signal catalog.
    unit : str or None
        The unit the column is written in (a key of
        :data:`twinloop.signals.units.UNITS`, of the signal's quantity);
        None for enumerated and boolean signals (labels).
    scale : float
        Multiplies each value before the unit is applied; -1 turns a value
        recorded in the opposite direction to VSS's (battery current
        positive *discharging*) into VSS's (positive into the battery).
    optional : bool
        A file without this column is read without it (else it is refused).
    """

    name: str
    vss: str
    unit: str | None = None
    scale: float = 1.0
    optional: bool = False


@dataclass(frozen=True)
class ColumnMap:
    """How to read one logger's wide CSV or Parquet files as VSS signals.

    Attributes
    ----------
    time_column : str
        The column of sample times.
    time_unit : str
        One of :data:`TIME_UNITS`.
    columns : tuple of MappedColumn
        The columns read; any other column is ignored.
    separator : str or None
        CSV field separator; None: detected from the header (``, ; TAB |``).
    encoding : str
        CSV text encoding (a Python codec name: ``utf-8``, ``latin-1`` ...).
    start : datetime or None
        Aware time that relative ``s``/``ms`` times count from.
    start_column : str or None
        A column of date-times whose first value is `start` (a logger's
        coarse wall clock beside its relative time).
    zone : str
        IANA time zone of date-times written without an offset.
    source : str
        The file the map came from (for messages; not part of its identity).
    """

    time_column: str
    time_unit: str
    columns: tuple[MappedColumn, ...]
    separator: str | None = None
    encoding: str = "utf-8"
    start: datetime | None = None
    start_column: str | None = None
    zone: str = "UTC"
    source: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        where = self.source or None
        if self.time_unit not in TIME_UNITS:
            raise SpecificationError(
                "time.unit", f"one of {', '.join(TIME_UNITS)}", shown(self.time_unit), where,
                _did_you_mean(self.time_unit, TIME_UNITS),
            )
        if self.start is not None and self.start_column is not None:
            raise SpecificationError(
                "time.start", "either start or start_column, not both", shown(self.start_column), where
            )
        if self.time_unit == "datetime" and (self.start is not None or self.start_column is not None):
            raise SpecificationError(
                "time.start", "no start for date-times (only for relative s or ms times)",
                shown(self.start_column or str(self.start)), where,
            )
        if self.start is not None and self.start.tzinfo is None:
            raise SpecificationError("time.start", "an aware datetime", str(self.start), where)
        if self.separator is not None and self.separator not in _SEPARATORS:
            raise SpecificationError(
                "file.separator", "one of ',', ';', '\\t', '|', ' '", shown(self.separator), where
            )
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise SpecificationError(
                "file.encoding", "a text encoding such as utf-8, latin-1, cp1252",
                shown(self.encoding), where,
            ) from None
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SpecificationError(
                "time.zone", "an IANA time zone such as UTC, Europe/Berlin, Asia/Shanghai",
                shown(self.zone), where,
            ) from None
        if not self.columns:
            raise SpecificationError(
                "columns", "at least one [columns.\"NAME\"] table", "none", where
            )
        if len(self.columns) > MAX_MAP_COLUMNS:
            raise SpecificationError(
                "columns", f"at most {MAX_MAP_COLUMNS} columns", len(self.columns), where
            )
        seen: dict[str, str] = {}
        for col in self.columns:
            key = _key(col.name)
            if not (math.isfinite(col.scale) and col.scale != 0.0):
                raise SpecificationError(f"{key}.scale", "a finite, non-zero number", col.scale, where)
            if col.unit is not None and col.unit not in UNITS:
                raise UnknownNameError(
                    "unit", str(shown(col.unit, NAME_LIMIT)), UNITS,
                    hint=f"({key}.unit in {self.source or 'the column map'})",
                )
            if col.vss in seen:
                raise SpecificationError(
                    f"{key}.vss", f"a signal no other column is mapped to ({_key(seen[col.vss])} is)",
                    shown(col.vss, NAME_LIMIT), where,
                )
            seen[col.vss] = col.name
            if col.name.strip() in (self.time_column.strip(), (self.start_column or "").strip()):
                raise SpecificationError(
                    key, "a column other than the time columns", shown(col.name, NAME_LIMIT), where
                )

    def check(self, catalog: SignalCatalog) -> None:
        """Refuse a VSS path the catalog lacks, or a unit of another quantity than the signal's.

        Raises
        ------
        UnknownNameError
            For an unknown VSS path (with close matches).
        SpecificationError
            For a unit that does not convert to the signal's SI unit, and for
            a unit or a scale on an enumerated or boolean signal (labels).
        """
        where = self.source or None
        for col in self.columns:
            key = _key(col.name)
            if col.vss not in catalog:
                raise UnknownNameError(
                    "VSS path", str(shown(col.vss, NAME_LIMIT)), catalog,
                    hint=f"({key}.vss in {self.source or 'the column map'}); add custom signals"
                    " with a signal file",
                )
            sig = catalog[col.vss]
            if sig.unit is None:
                if col.unit is not None or col.scale != 1.0:
                    raise SpecificationError(
                        f"{key}.unit", f"no unit or scale: {col.vss} is read as labels", col.unit, where
                    )
                continue
            if col.unit is None:
                raise SpecificationError(
                    f"{key}.unit", f"the unit of the column, one of {_units_of(sig.si_unit)}", None, where
                )
            if UNITS[col.unit].target != sig.si_unit:
                raise SpecificationError(
                    f"{key}.unit",
                    f"a unit of {sig.quantity} [{sig.si_unit}] for {col.vss}: one of {_units_of(sig.si_unit)}",
                    col.unit, where,
                )

    def with_start(self, start: datetime) -> ColumnMap:
        """This map with relative times counted from `start` (naive: in the map's zone).

        Raises
        ------
        ValidationError
            Field ``start``, when the map's times are date-times already.
        """
        if self.time_unit == "datetime":
            raise ValidationError(
                "start", "a map whose time unit is s or ms (times relative to a start)",
                start.isoformat(), self.source or None, "Its time column holds date-times already.",
            )
        if start.tzinfo is None:
            start = start.replace(tzinfo=ZoneInfo(self.zone))
        return replace(self, start=start, start_column=None)


def _key(name: str) -> str:
    """A column's table as the map writes it: ``columns."Battery Current [A]"``."""
    return f'columns."{shown(name.strip(), NAME_LIMIT)}"'


def _units_of(si_unit: str) -> str:
    return ", ".join(u for u, c in UNITS.items() if c.target == si_unit)


def _did_you_mean(name: object, known: tuple[str, ...]) -> str | None:
    matches = close_matches(str(name), known) if isinstance(name, str) else []
    return f"Did you mean {', '.join(map(repr, matches))}?" if matches else None


def _refuse_unknown(table: dict[str, Any], known: tuple[str, ...], where: str, prefix: str) -> None:
    for key in table:
        if key not in known:
            raise SpecificationError(
                f"{prefix}{key}" if prefix else "key", f"one of {', '.join(known)}",
                shown(key, NAME_LIMIT), where, _did_you_mean(key, known),
            )


def _table(doc: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise SpecificationError(name, f"a [{name}] table", type(value).__name__, where)
    return value


def _text(table: dict[str, Any], key: str, name: str, where: str, default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SpecificationError(name, "a non-empty string", shown(value, NAME_LIMIT), where)
    return value


def _parse_start(value: object, zone: str, where: str) -> datetime | None:
    """The map's `start`: TOML date-time or ISO 8601 text; naive means in `zone`."""
    if value is None:
        return None
    when = value
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            when = None
    if not isinstance(when, datetime):
        raise SpecificationError(
            "time.start", "a date-time such as 2019-06-25T13:21:14+02:00", shown(value), where
        )
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):  # the zone is refused by ColumnMap
            when = when.replace(tzinfo=UTC)
    return when


def load_column_map(path: str | Path, catalog: SignalCatalog | None = None) -> ColumnMap:
    """Read a column map (TOML) and check it against `catalog` (the bundled one by default).

    Raises
    ------
    SpecificationError
        For a file over :data:`MAX_MAP_BYTES`, invalid TOML, an unknown key
        (with close matches), a missing time column, a bad separator,
        encoding, time unit or zone, a scale of 0 or NaN, a unit of the
        wrong quantity for its VSS path.
    UnknownNameError
        For an unknown VSS path or unit (with close matches).

    Examples
    --------
    >>> import tempfile, os
    >>> text = '[time]\\ncolumn = "t"\\nunit = "s"\\n[columns.v]\\nvss = "Vehicle.Speed"\\nunit = "km/h"\\n'
    >>> with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
    ...     _ = f.write(text)
    >>> load_column_map(f.name).columns[0].vss
    'Vehicle.Speed'
    >>> os.unlink(f.name)
    """
    from twinloop.signals.catalog import default_catalog

    p = Path(path)
    where = str(p)
    size = p.stat().st_size
    if size > MAX_MAP_BYTES:
        raise SpecificationError("column_map", f"a file of at most {MAX_MAP_BYTES} bytes", size, where)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecificationError(
            "column_map", "a TOML column map", Verbatim("unreadable TOML"), where, str(exc)[:200]
        ) from None
    _refuse_unknown(doc, _DOC_KEYS, where, "")
    file_ = _table(doc, "file", where)
    time = _table(doc, "time", where)
    columns = _table(doc, "columns", where)
    _refuse_unknown(file_, _FILE_KEYS, where, "file.")
    _refuse_unknown(time, _TIME_KEYS, where, "time.")
    column = _text(time, "column", "time.column", where)
    if column is None:
        raise SpecificationError(
            "time.column", "the name of the column of sample times", None, where,
            'Add [time] column = "NAME" and unit = "s", "ms" or "datetime".',
        )
    unit = time.get("unit")
    if unit is None:
        raise SpecificationError("time.unit", f"one of {', '.join(TIME_UNITS)}", None, where)
    zone = _text(time, "zone", "time.zone", where, "UTC") or "UTC"
    separator = file_.get("separator")
    if separator is not None and not isinstance(separator, str):
        raise SpecificationError(
            "file.separator", "one of ',', ';', '\\t', '|', ' '", shown(separator), where
        )
    mapped = []
    for name, entry in columns.items():
        key = _key(name)
        if not isinstance(entry, dict):
            raise SpecificationError(key, "a table with vss and unit", type(entry).__name__, where)
        _refuse_unknown(entry, _COLUMN_KEYS, where, f"{key}.")
        vss = _text(entry, "vss", f"{key}.vss", where)
        if vss is None:
            raise SpecificationError(f"{key}.vss", "a VSS path such as Vehicle.Speed", None, where)
        scale = entry.get("scale", 1.0)
        if isinstance(scale, bool) or not isinstance(scale, int | float):
            raise SpecificationError(f"{key}.scale", "a finite, non-zero number", shown(scale), where)
        optional = entry.get("optional", False)
        if not isinstance(optional, bool):
            raise SpecificationError(f"{key}.optional", "true or false", shown(optional), where)
        mapped.append(
            MappedColumn(name, vss, _text(entry, "unit", f"{key}.unit", where), float(scale), optional)
        )
    result = ColumnMap(
        time_column=column,
        time_unit=unit if isinstance(unit, str) else str(unit),
        columns=tuple(mapped),
        separator=separator,
        encoding=_text(file_, "encoding", "file.encoding", where, "utf-8") or "utf-8",
        start=_parse_start(time.get("start"), zone, where),
        start_column=_text(time, "start_column", "time.start_column", where),
        zone=zone,
        source=where,
    )
    result.check(catalog if catalog is not None else default_catalog())
    return result


# ---- reading -------------------------------------------------------------------------


class MappedSource(Source):
    """A wide CSV or Parquet file read through a :class:`ColumnMap`.

    :meth:`check_file` reads the header and refuses, before anything is
    stored, a map naming a column the file lacks (with close matches from
    the header), a separator that does not split the header, and text that
    is not in the map's encoding. Values leave this source in the signal's
    VSS unit; validation converts them to SI as for any other file.
    """

    expected = "a header row naming the map's columns, and data rows"

    def __init__(
        self, path: str | Path, catalog: SignalCatalog, config: IngestConfig, column_map: ColumnMap
    ) -> None:
        super().__init__(path, catalog, config)
        column_map.check(catalog)
        self.column_map = column_map
        self.parquet = self.path.suffix.lower() in (".parquet", ".pq")
        self._header: list[str] | None = None
        self._index: dict[str, int] = {}
        self._start_us: int | None = None
        #: Header names the map does not read, and optional mapped columns the file lacks.
        self.ignored: list[str] = []
        self.absent: list[str] = []

    # -- the header --------------------------------------------------------------------
    def check_file(self) -> None:
        """Refuse an empty or oversized file, and a header the map does not fit."""
        super().check_file()
        if self._header is None:
            header = self._parquet_header() if self.parquet else self._csv_header()
            self._index = self._locate(header)
            self._header = header

    def _parquet_header(self) -> list[str]:
        try:
            return list(pq.ParquetFile(self.path).schema_arrow.names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{self.path}: not a readable Parquet file (truncated?): {exc}") from None

    def _csv_header(self) -> list[str]:
        cmap = self.column_map
        with self.path.open("rb") as fh:
            head = fh.read(CsvSource.SNIFF_BYTES)
        what = next((w for magic, w in _MAGIC.items() if head.startswith(magic)), None)
        nul = head.find(b"\x00")
        if what is not None or nul >= 0:
            received = what if what else f"binary data (a NUL byte at offset {nul})"
            raise DataError(f"{self.path} is not a text CSV: expected text, received {received}")
        try:
            codecs.getincrementaldecoder(cmap.encoding)().decode(head, len(head) < CsvSource.SNIFF_BYTES)
        except UnicodeDecodeError as exc:
            line = head.count(b"\n", 0, exc.start) + 1
            raise ValidationError(
                "file.encoding", f"the encoding of {self.path.name}", cmap.encoding, cmap.source or None,
                f"Byte 0x{head[exc.start]:02x} at offset {exc.start} (line {line}) is not {cmap.encoding};"
                " loggers on Windows often write latin-1 or cp1252",
            ) from None
        limit = self.config.max_header_bytes
        with self.path.open("rb") as fh:
            raw = fh.readline(limit + 1)
        if len(raw.rstrip(b"\r\n")) > limit:
            raise DataError(
                f"{self.path}: the header row is longer than {limit} bytes (IngestConfig.max_header_bytes)"
            )
        text = raw.decode(cmap.encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")
        if not text.strip():
            raise DataError(f"{self.path}: the first line is empty: expected {self.expected}")

        def split(sep: str) -> list[str]:
            return next(csv.reader(io.StringIO(text), delimiter=sep), [])

        counts = {d: len(split(d)) for d in CsvSource.DELIMITERS}
        sep = cmap.separator or max(counts, key=lambda d: counts[d])
        names = [n.strip() for n in split(sep)]
        best = max(counts, key=lambda d: counts[d])
        if cmap.separator is not None and len(names) == 1 and counts[best] > 1:
            raise ValidationError(
                "file.separator", f"the separator of {self.path.name}", cmap.separator, cmap.source or None,
                f"The header is one column with it, {counts[best]} columns with {best!r}",
            )
        self.delimiter = sep
        return names

    def _locate(self, header: list[str]) -> dict[str, int]:
        """Header position of each column the map reads; the rest are noted as ignored."""
        cmap = self.column_map
        wanted = [(cmap.time_column, False, "time.column")]
        if cmap.start_column is not None:
            wanted.append((cmap.start_column, False, "time.start_column"))
        wanted += [(c.name, c.optional, _key(c.name)) for c in cmap.columns]
        stripped = [h.strip() for h in header]
        index: dict[str, int] = {}
        for name, optional, key in wanted:
            at = [i for i, h in enumerate(stripped) if h == name.strip()]
            if not at:
                if optional:
                    continue
                raise UnknownNameError(
                    "column", str(shown(name.strip(), NAME_LIMIT)), stripped,
                    hint=f"in {self.path.name}, named by {key} of {cmap.source or 'the column map'}",
                )
            if len(at) > 1:
                raise ValidationError(
                    key, "a column named once in the header",
                    Verbatim(f"{len(at)} columns named {name.strip()!r}"), str(self.path),
                )
            index[name] = at[0]
        used = set(index.values())
        self.ignored = [h for i, h in enumerate(stripped) if i not in used]
        self.absent = [c.name for c in cmap.columns if c.optional and c.name not in index]
        return index

    # -- the data ----------------------------------------------------------------------
    def _estimated_samples(self) -> int | None:
        if self.parquet:
            return int(pq.ParquetFile(self.path).metadata.num_rows) * max(1, len(self._index) - 1)
        with self.path.open("rb") as fh:
            head = fh.read(1 << 20)
        per_line = max(1, len(head) / max(1, head.count(b"\n")))
        return int(self.path.stat().st_size / per_line) * max(1, len(self._index) - 1)

    def _batches(self) -> Iterator[SourceBatch]:
        self.check_file()
        per_row = max(1, len(self._index) - 1)
        rows = max(1, min(self.config.max_batch_rows, self.config.batch_samples // per_row))
        self._start_us = _aware_us(self.column_map.start)
        if self.parquet:
            yield from self._parquet_batches(rows)
        else:
            yield from self._csv_batches(rows)

    def _parquet_batches(self, rows: int) -> Iterator[SourceBatch]:
        assert self._header is not None
        names = {k: self._header[i] for k, i in self._index.items()}
        first = 0
        try:
            for rb in pq.ParquetFile(self.path).iter_batches(batch_size=rows, columns=list(names.values())):
                table = pa.Table.from_batches([rb])
                yield self._from_arrays({k: table.column(v) for k, v in names.items()}, first)
                first += rb.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(
                f"{self.path}: Parquet data unreadable after row {first} (truncated?): {exc}"
            ) from None

    def _csv_batches(self, rows: int) -> Iterator[SourceBatch]:
        assert self._header is not None
        positional = [f"c{i}" for i in range(len(self._header))]
        include = sorted({positional[i] for i in self._index.values()})
        invalid: list[tuple[int | None, str, int]] = []

        def on_invalid(row: Any) -> str:
            invalid.append((row.number, row.text or "", row.actual_columns))
            return "skip"

        try:
            reader = pacsv.open_csv(
                self.path,
                read_options=pacsv.ReadOptions(
                    block_size=self.config.csv_block_bytes, column_names=positional, skip_rows=1,
                    encoding=self.column_map.encoding,
                ),
                parse_options=pacsv.ParseOptions(delimiter=self.delimiter, invalid_row_handler=on_invalid),
                convert_options=pacsv.ConvertOptions(
                    include_columns=include,
                    column_types=dict.fromkeys(include, pa.string()),
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise DataError(f"{self.path}: CSV unreadable: {_csv_problem(exc, self.config.csv_block_bytes)}") from None
        first = 1
        pending: list[pa.RecordBatch] = []

        def flush() -> SourceBatch:
            if pending:
                table = pa.Table.from_batches(pending)
                batch = self._from_arrays({k: table.column(f"c{i}") for k, i in self._index.items()}, first)
            else:
                batch = SourceBatch([], rows_read=0)
            for number, text, actual in invalid:
                batch.refuse(f"malformed row: {actual} fields, the header has {len(positional)}", 1, number, text)
                batch.rows_read += 1
            invalid.clear()
            return batch

        try:
            for rb in reader:
                pending.append(rb)
                if sum(b.num_rows for b in pending) >= rows:
                    n = sum(b.num_rows for b in pending)
                    yield flush()
                    first += n
                    pending = []
        except pa.ArrowInvalid as exc:
            raise DataError(
                f"{self.path}: CSV unreadable after row {first}:"
                f" {_csv_problem(exc, self.config.csv_block_bytes)}"
            ) from None
        yield flush()

    def _from_arrays(self, arrays: dict[str, pa.ChunkedArray], first: int) -> SourceBatch:
        cmap = self.column_map
        time_array = arrays[cmap.time_column]
        n = len(time_array)
        rows = np.arange(first, first + n, dtype=np.int64)
        if cmap.start_column is not None and self._start_us is None:
            self._start_us = self._first_time(arrays[cmap.start_column])
        time = self._times(time_array)
        batch = SourceBatch([], rows_read=n)
        for mc in cmap.columns:
            if mc.name not in arrays:
                continue
            col, missing = _column(mc.vss, time, arrays[mc.name], rows, self.catalog)
            batch.missing_cells += missing
            sig = self.catalog[mc.vss]
            if mc.unit is not None and sig.unit is not None:
                col.value = _to_vss_unit(col.value * mc.scale if mc.scale != 1.0 else col.value, mc.unit, sig.unit)
            batch.columns.append(col)
        return batch

    def _first_time(self, array: pa.ChunkedArray) -> int:
        us = self._datetimes(array)
        ok = us[(us != _NO_TIME) & (us != _FAR_TIME)]
        if ok.size == 0:
            raise DataError(
                f"{self.path}: time.start_column {self.column_map.start_column!r} holds no date-time"
                " in the first rows: expected a date-time such as 2023-04-19 09:19:44"
            )
        return int(ok[0])

    def _times(self, array: pa.ChunkedArray) -> npt.NDArray[np.int64]:
        cmap = self.column_map
        if cmap.time_unit == "datetime":
            return self._datetimes(array)
        arr = array.combine_chunks()
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            seconds = pd.to_numeric(pd.Series(arr.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)
        elif pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            seconds = np.asarray(arr.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
        else:
            raise DataError(
                f"{self.path}: time column {cmap.time_column!r} has type {arr.type}; the map's unit"
                f" {cmap.time_unit!r} expects numbers (use unit = \"datetime\" for date-times)"
            )
        us = time_to_us(pa.array(seconds * _SECONDS_PER[cmap.time_unit]))
        if self._start_us is not None:
            ok = (us != _NO_TIME) & (us != _FAR_TIME)
            us[ok] += self._start_us
        return us

    def _datetimes(self, array: pa.ChunkedArray) -> npt.NDArray[np.int64]:
        """Date-times as µs since the epoch; naive ones are in the map's zone."""
        arr = array.combine_chunks()
        zone = self.column_map.zone
        if pa.types.is_timestamp(arr.type):
            if arr.type.tz is None and zone != "UTC":
                series = pd.Series(arr.to_pandas()).dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
                return _series_us(series)
            return time_to_us(arr)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return time_to_us(arr)  # numbers: seconds since 1970
        text = pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object).str.strip()
        zoned = text.str.contains(_OFFSET, na=False).to_numpy()
        us = np.full(len(text), _NO_TIME, dtype=np.int64)
        if zoned.any():
            us[zoned] = _series_us(pd.to_datetime(text[zoned], errors="coerce", format="ISO8601", utc=True))
        if not zoned.all():
            naive = pd.to_datetime(text[~zoned], errors="coerce", format="ISO8601")
            us[~zoned] = _series_us(naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT"))
        return us


def _series_us(series: pd.Series) -> npt.NDArray[np.int64]:
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
    us = utc.to_numpy(dtype="datetime64[us]").astype(np.int64)
    us[series.isna().to_numpy()] = _NO_TIME
    return us


def _aware_us(when: datetime | None) -> int | None:
    if when is None:
        return None
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _to_vss_unit(value: npt.NDArray[np.float64], unit: str, vss_unit: str) -> npt.NDArray[np.float64]:
    """Values in `unit` as values in the signal's VSS unit (same quantity; checked by the map)."""
    source, target = UNITS[unit], unit_conversion(vss_unit)
    if (source.scale, source.offset) == (target.scale, target.offset):
        return value
    return target.invert(source.apply(value))
