"""The TelemetryStore protocol and the SQL logic both backends share.

Backends subclass :class:`SqlTelemetryStore` and fill a few hooks (how to
run SQL, how to bulk-insert a batch idempotently, how to bucket time); the
public methods keep the checks (names, ranges, limits) in one place.

Times are UTC (:mod:`twinloop.conventions`). Inside the store they are
``TIMESTAMP`` (microseconds, no zone); in Arrow tables ``timestamp[us]`` or
int64 microseconds since the Unix epoch; as Python datetimes they are aware
UTC going out, and naive (taken as UTC) or aware coming in.

Other layers use only the public API: the telemetry reads and writes,
:meth:`SqlTelemetryStore.transaction`, :meth:`SqlTelemetryStore.latest`, and
schema extensions (:mod:`twinloop.store.schema`) with their typed
``select``/``insert``/``update``/``delete``. Nothing outside ``store/``
runs SQL or imports a database driver.
"""

from __future__ import annotations

import abc
import contextlib
import json
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa

from twinloop.conventions import check_vin, naive_utc, utc
from twinloop.errors import (
    StoreConflictError,
    StoreError,
    UnknownNameError,
    ValidationError,
    shorten,
)
from twinloop.signals.catalog import SignalCatalog, default_catalog
from twinloop.store.schema import AddTable, Migration, SchemaExtension, Table

__all__ = [
    "AGGREGATES",
    "BatchOutcome",
    "Event",
    "QuarantineRecord",
    "SampleBatch",
    "SqlTelemetryStore",
    "TelemetryStore",
    "empty_sample_table",
]

#: Aggregates allowed when resampling (name -> SQL function).
AGGREGATES: dict[str, str] = {"mean": "avg", "min": "min", "max": "max", "count": "count"}
#: Most signals one read may ask for.
MAX_READ_SIGNALS = 200
#: Longest downsampling bucket [s]: ten years.
MAX_EVERY = 10 * 365 * 86400.0
#: Most rows a single read may return (use --every to downsample).
MAX_READ_ROWS = 50_000_000

#: Longest text in a primary-key column of an extension table [characters]: PostgreSQL indexes at most
#: about 2,700 bytes a row, and a character may take 4 bytes.
MAX_KEY_TEXT = 512
#: Most rows one insert of an extension table may carry.
MAX_INSERT_ROWS = 100_000
#: Most rows one select of an extension table may return.
MAX_SELECT_ROWS = 1_000_000

#: Columns of the store's own tables, in order: a table of that name with other columns is not ours.
_CORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "vehicles": ("vehicle_id", "vin", "created"),
    "signals": ("signal_id", "path", "quantity", "unit"),
    "samples": ("vehicle_id", "signal_id", "time", "value"),
    "ingests": ("ingest_id", "vehicle_id", "source", "sha256", "started", "finished", "report"),
    "ingest_batches": ("ingest_id", "batch_no", "inserted", "duplicates", "conflicts", "quarantined", "committed"),
    "quarantine": ("ingest_id", "vehicle_id", "source_row", "time", "signal", "value", "reason", "count"),
    "trips": ("vehicle_id", "trip_no", "start_time", "end_time", "samples", "method"),
    "events": ("vehicle_id", "time", "kind", "payload"),
    "schema_extensions": ("name", "version", "applied_at"),
}


#: Sequences of the store's own: a table of one of these names is not ours either.
_CORE_SEQUENCES = ("vehicle_seq", "signal_seq", "ingest_seq")


@dataclass(frozen=True)
class QuarantineRecord:
    """A sample (or a group of them) refused by ingestion, with the reason.

    `count` > 1 summarises rows that are not stored one by one.
    """

    reason: str
    signal: str | None = None
    time: int | None = None  # µs since epoch
    value: str | None = None
    count: int = 1
    row: int | None = None  # row or frame number in the source


@dataclass(frozen=True)
class SampleBatch:
    """Validated samples of one vehicle, in SI, ready to store.

    Attributes
    ----------
    table : pyarrow.Table
        Columns ``signal_id`` (int32), ``time`` (timestamp[us]), ``value``
        (float64); no NaN, no duplicate (signal_id, time).
    quarantine : list of QuarantineRecord
        Refused samples of the same source batch, stored in the same
        transaction.
    """

    table: pa.Table
    quarantine: Sequence[QuarantineRecord] = ()


@dataclass(frozen=True)
class BatchOutcome:
    """What writing one batch did."""

    inserted: int
    duplicates: int
    conflicts: int


@dataclass(frozen=True)
class Event:
    """A generic event other parts of twinloop write (alerts, model versions ...)."""

    time: datetime
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class TelemetryStore(Protocol):
    """What every telemetry store offers. Open one with :func:`twinloop.store.open_store`."""

    url: str
    catalog: SignalCatalog

    def vehicle_id(self, vin: str, create: bool = False) -> int: ...
    def vehicles(self) -> pa.Table: ...
    def signal_ids(self, paths: Iterable[str]) -> dict[str, int]: ...
    def begin_ingest(self, vin: str, source: str, sha256: str) -> int: ...
    def finish_ingest(self, ingest_id: int, report: dict[str, Any]) -> None: ...
    def completed_ingest(self, vin: str, sha256: str) -> dict[str, Any] | None: ...
    def write_batch(
        self, ingest_id: int, batch_no: int, vin: str, batch: SampleBatch
    ) -> BatchOutcome: ...
    def read(
        self,
        vin: str,
        signals: Sequence[str],
        start: datetime | None = None,
        end: datetime | None = None,
        every: float | None = None,
        how: str = "mean",
    ) -> pa.Table: ...
    def read_frame(
        self,
        vin: str,
        signals: Sequence[str],
        start: datetime | None = None,
        end: datetime | None = None,
        every: float | None = None,
        how: str = "mean",
    ) -> pd.DataFrame: ...
    def sample_count(self, vin: str | None = None) -> int: ...
    def detect_trips(self, vin: str, gap: float = 300.0) -> int: ...
    def trips(self, vin: str) -> pa.Table: ...
    def add_events(self, vin: str, events: Iterable[Event]) -> int: ...
    def events(self, vin: str, kind: str | None = None) -> pa.Table: ...
    def quarantine(self, vin: str | None = None) -> pa.Table: ...
    def latest(self, vin: str, signals: Sequence[str]) -> dict[str, tuple[datetime, float]]: ...
    def transaction(self) -> contextlib.AbstractContextManager[None]: ...
    def extend(self, extension: SchemaExtension) -> None: ...
    def select(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[dict[str, Any]]: ...
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int: ...
    def update(self, table: str, values: Mapping[str, Any], where: Mapping[str, Any]) -> int: ...
    def delete(self, table: str, where: Mapping[str, Any]) -> int: ...
    def close(self) -> None: ...


#: Integer column type -> (lowest, highest) value it holds.
_INTEGER_BOUNDS = {"integer": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}


def _shown(value: object) -> object:
    """`value` as an error message shows it: numbers as they are, anything else by its repr, long ones cut."""
    if isinstance(value, bool | int | float):
        return value
    return shorten(value if isinstance(value, str) else repr(value), 60)


def _json_text(value: Any) -> str:
    """`value` as JSON text that reads back as equal Python values of the same types on every backend.

    Like ``json.dumps(value, sort_keys=True, allow_nan=False)``, except that a
    float is never written with an exponent: PostgreSQL's JSONB keeps numbers
    as ``numeric`` and gives ``1e+16`` back as the integer ``10000000000000000``
    (and ``1.7976931348623157e+308`` as a different integer), while
    ``10000000000000000.0`` comes back a float, digit for digit. Dict keys
    must be text (json.dumps would turn ``1`` into ``"1"``).
    """
    if value is None or isinstance(value, bool | str):
        return json.dumps(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
        text = float.__repr__(value)
        if "e" in text:
            text = format(Decimal(text), "f")
            text += "" if "." in text else ".0"
        return text
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"keys must be str, not {type(key).__name__} ({shorten(repr(key), 40)})")
        return "{" + ", ".join(f"{json.dumps(k)}: {_json_text(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _q(name: str) -> str:
    """An extension's table or column name, quoted: names are checked lower-case identifiers, but some are
    reserved words (``order``, ``user``, ``at`` ...) that SQL refuses unquoted."""
    return f'"{name}"'


def _sequence(field: str, value: object, what: str) -> None:
    """Refuse one string where a sequence of strings is meant: it would be read a character at a time."""
    if isinstance(value, str | bytes):
        raise ValidationError(field, f"a list of {what}", shorten(value, 60), hint=f"One is [{value!r}]"[:80])


def _ts(value: datetime | None, default: datetime) -> datetime:
    return default if value is None else naive_utc(value)


def _from_us(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime(1970, 1, 1) + pd.Timedelta(microseconds=int(us)).to_pytimedelta()


_MIN_TIME = datetime(1970, 1, 1)
_MAX_TIME = datetime(9999, 12, 31)


class SqlTelemetryStore(abc.ABC):
    """Shared SQL logic; subclasses fill the hooks.

    The SQL here is portable between DuckDB and PostgreSQL and written with
    ``?`` placeholders; a backend rewrites them if its driver needs to.
    """

    #: DDL type of JSON payloads.
    json_type = "VARCHAR"
    #: DDL type of doubles.
    double_type = "DOUBLE PRECISION"
    #: Whether the connection may only read.
    read_only = False
    #: What the driver raises for a statement the database refuses.
    _driver_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, url: str, catalog: SignalCatalog | None = None) -> None:
        self.url = url
        self.catalog = catalog or default_catalog()
        self._signal_cache: dict[str, int] = {}
        self._vehicle_cache: dict[str, int] = {}
        self._extension_tables: dict[str, Table] = {}
        self._extensions: dict[str, SchemaExtension] = {}

    # ---- hooks --------------------------------------------------------------------
    @abc.abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""

    @abc.abstractmethod
    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""

    @abc.abstractmethod
    def _fetch_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run a query and return an Arrow table."""

    @abc.abstractmethod
    def _transaction(self) -> Any:
        """A context manager: commit on success, roll back on error."""

    @abc.abstractmethod
    def _insert_samples(self, vehicle_id: int, table: pa.Table) -> BatchOutcome:
        """Insert `table` for `vehicle_id`, skipping (vehicle, signal, time) already stored.

        Runs inside the batch's transaction.
        """

    @abc.abstractmethod
    def _bucket(self, every_us: int) -> str:
        """SQL expression that floors ``time`` to a multiple of `every_us` µs."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def _is_conflict(self, exc: BaseException) -> bool:
        """Whether `exc` is a unique-key or serialisation conflict with a concurrent writer."""
        return False

    def _where(self) -> str:
        """Where the store lives, for messages."""
        return self.url

    # ---- schema -------------------------------------------------------------------
    def _table_columns(self) -> dict[str, tuple[str, ...]]:
        """Every table of the store's schema with its columns in order."""
        rows = self._fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_catalog = current_database() AND table_schema = current_schema()"
            " ORDER BY table_name, ordinal_position"
        )
        out: dict[str, list[str]] = {}
        for table, column in rows:
            out.setdefault(str(table), []).append(str(column))
        return {t: tuple(c) for t, c in out.items()}

    def _check_foreign_tables(self) -> None:
        """Refuse a database or schema whose tables of the store's names are someone else's.

        Checked before anything is created, so that a foreign schema is left as it was.
        """
        existing = self._table_columns()
        foreign = {t: existing[t] for t, cols in _CORE_COLUMNS.items() if t in existing and existing[t] != cols
                   and not (t == "schema_extensions" and not existing[t])}
        for name in _CORE_SEQUENCES:
            if name in existing:  # CREATE SEQUENCE IF NOT EXISTS would skip it, and nextval() then fail
                raise StoreError(
                    f"{self._where()} already holds a table {name!r} where a twinloop store keeps a sequence"
                    " of that name. Nothing was created; give the store its own database file or schema"
                    " (PostgreSQL: ?schema=NAME in the URL)"
                )
        if foreign:
            name, cols = next(iter(sorted(foreign.items())))
            raise StoreError(
                f"{self._where()} already holds a table {name!r} that is not a twinloop store's:"
                f" expected columns {', '.join(_CORE_COLUMNS[name])}, received {', '.join(cols)}."
                " Nothing was created; give the store its own database file or schema"
                " (PostgreSQL: ?schema=NAME in the URL)"
            )

    def _create_schema(self) -> None:
        self._check_foreign_tables()
        d, j = self.double_type, self.json_type
        for stmt in [
            "CREATE SEQUENCE IF NOT EXISTS vehicle_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS signal_seq START 1",
            "CREATE SEQUENCE IF NOT EXISTS ingest_seq START 1",
            "CREATE TABLE IF NOT EXISTS vehicles (vehicle_id INTEGER PRIMARY KEY DEFAULT nextval('vehicle_seq'),"
            " vin VARCHAR NOT NULL UNIQUE, created TIMESTAMP)",
            "CREATE TABLE IF NOT EXISTS signals (signal_id INTEGER PRIMARY KEY DEFAULT nextval('signal_seq'),"
            " path VARCHAR NOT NULL UNIQUE, quantity VARCHAR, unit VARCHAR)",
            f"CREATE TABLE IF NOT EXISTS samples (vehicle_id INTEGER NOT NULL, signal_id INTEGER NOT NULL,"
            f" time TIMESTAMP NOT NULL, value {d} NOT NULL)",
            "CREATE TABLE IF NOT EXISTS ingests (ingest_id INTEGER PRIMARY KEY DEFAULT nextval('ingest_seq'),"
            " vehicle_id INTEGER NOT NULL, source VARCHAR, sha256 VARCHAR, started TIMESTAMP,"
            f" finished TIMESTAMP, report {j})",
            "CREATE TABLE IF NOT EXISTS ingest_batches (ingest_id INTEGER NOT NULL, batch_no INTEGER NOT NULL,"
            " inserted BIGINT, duplicates BIGINT, conflicts BIGINT, quarantined BIGINT, committed TIMESTAMP)",
            "CREATE TABLE IF NOT EXISTS quarantine (ingest_id INTEGER, vehicle_id INTEGER, source_row BIGINT,"
            " time TIMESTAMP, signal VARCHAR, value VARCHAR, reason VARCHAR NOT NULL, count BIGINT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS trips (vehicle_id INTEGER NOT NULL, trip_no INTEGER NOT NULL,"
            " start_time TIMESTAMP NOT NULL, end_time TIMESTAMP NOT NULL, samples BIGINT, method VARCHAR)",
            f"CREATE TABLE IF NOT EXISTS events (vehicle_id INTEGER NOT NULL, time TIMESTAMP NOT NULL,"
            f" kind VARCHAR NOT NULL, payload {j})",
            "CREATE TABLE IF NOT EXISTS schema_extensions (name VARCHAR PRIMARY KEY, version INTEGER NOT NULL,"
            " applied_at TIMESTAMP)",
        ]:
            self._execute(stmt)

    # ---- vehicles and signals ---------------------------------------------------
    def vehicle_id(self, vin: str, create: bool = False) -> int:
        """The store's id of vehicle `vin`; with `create`, register it if new.

        Raises
        ------
        UnknownNameError
            If the vehicle is not known and `create` is false.
        """
        if vin in self._vehicle_cache:
            return self._vehicle_cache[vin]
        check_vin(vin, "vehicle")
        rows = self._fetchall("SELECT vehicle_id FROM vehicles WHERE vin = ?", [vin])
        if not rows:
            if not create:
                known = [r[0] for r in self._fetchall("SELECT vin FROM vehicles")]
                raise UnknownNameError(
                    "vehicle", vin, known, hint="List them with `twinloop vehicles`."
                )
            with self._transaction():
                self._execute(
                    "INSERT INTO vehicles (vin, created) VALUES (?, ?) ON CONFLICT (vin) DO NOTHING",
                    [vin, datetime.now(UTC).replace(tzinfo=None)],
                )
            rows = self._fetchall("SELECT vehicle_id FROM vehicles WHERE vin = ?", [vin])
        self._vehicle_cache[vin] = int(rows[0][0])
        return self._vehicle_cache[vin]

    def vehicles(self) -> pa.Table:
        """Every vehicle with its sample count and first and last sample time."""
        return self._fetch_arrow(
            "SELECT v.vin, count(s.time) AS samples, min(s.time) AS first_time, max(s.time) AS last_time"
            " FROM vehicles v LEFT JOIN samples s ON s.vehicle_id = v.vehicle_id"
            " GROUP BY v.vin ORDER BY v.vin"
        )

    def signal_ids(self, paths: Iterable[str]) -> dict[str, int]:
        """Ids of catalog signals `paths`, registering them in the store if new."""
        out: dict[str, int] = {}
        missing = []
        for p in paths:
            if p in self._signal_cache:
                out[p] = self._signal_cache[p]
            else:
                missing.append(p)
        for p in missing:
            sig = self.catalog[p]
            rows = self._fetchall("SELECT signal_id, quantity, unit FROM signals WHERE path = ?", [p])
            if not rows:
                with self._transaction():
                    self._execute(
                        "INSERT INTO signals (path, quantity, unit) VALUES (?, ?, ?) ON CONFLICT (path) DO NOTHING",
                        [p, sig.quantity, sig.si_unit],
                    )
                rows = self._fetchall("SELECT signal_id, quantity, unit FROM signals WHERE path = ?", [p])
            _, quantity, unit = rows[0]
            if (quantity, unit) != (sig.quantity, sig.si_unit):
                # one signal must not hold m/s and K side by side
                raise ValidationError(
                    f"signal {p}",
                    f"the definition the store holds: quantity {quantity!r} in {unit!r}",
                    f"quantity {sig.quantity!r} in {sig.si_unit!r}",
                    hint="Give the signal another path, or use a store of its own",
                )
            self._signal_cache[p] = out[p] = int(rows[0][0])
        return out

    def _stored_signal_ids(self, paths: Sequence[str]) -> dict[str, int]:
        rows = dict(self._fetchall("SELECT path, signal_id FROM signals"))
        for p in paths:
            if p not in rows:
                # unknown to the catalog: suggest names; known but never stored: empty column
                self.catalog[p]
        return {p: int(rows[p]) for p in paths if p in rows}

    # ---- ingestion ----------------------------------------------------------------
    def begin_ingest(self, vin: str, source: str, sha256: str) -> int:
        """Record the start of an ingest and return its id."""
        vid = self.vehicle_id(vin, create=True)
        with self._transaction():
            rows = self._fetchall(
                "INSERT INTO ingests (vehicle_id, source, sha256, started) VALUES (?, ?, ?, ?) RETURNING ingest_id",
                [vid, source, sha256, datetime.now(UTC).replace(tzinfo=None)],
            )
        return int(rows[0][0])

    def finish_ingest(self, ingest_id: int, report: dict[str, Any]) -> None:
        """Mark an ingest complete and keep its report."""
        with self._transaction():
            self._execute(
                "UPDATE ingests SET finished = ?, report = ? WHERE ingest_id = ?",
                [datetime.now(UTC).replace(tzinfo=None), json.dumps(report), ingest_id],
            )

    def completed_ingest(self, vin: str, sha256: str) -> dict[str, Any] | None:
        """The report of a finished ingest of the same content for `vin`, if any."""
        rows = self._fetchall(
            "SELECT i.report FROM ingests i JOIN vehicles v ON v.vehicle_id = i.vehicle_id"
            " WHERE v.vin = ? AND i.sha256 = ? AND i.finished IS NOT NULL ORDER BY i.ingest_id LIMIT 1",
            [vin, sha256],
        )
        if not rows:
            return None
        report = rows[0][0]
        return dict(json.loads(report) if isinstance(report, str) else report)

    def write_batch(
        self, ingest_id: int, batch_no: int, vin: str, batch: SampleBatch
    ) -> BatchOutcome:
        """Store one batch atomically: its samples, its quarantine and its ledger row.

        Samples whose (vehicle, signal, time) is already stored are skipped
        (counted as duplicates; as conflicts when the stored value differs).
        Either everything of the batch is committed or nothing is.
        """
        expected = {"signal_id", "time", "value"}
        if set(batch.table.column_names) != expected:
            raise StoreError(
                f"a sample batch needs columns {sorted(expected)}, got {batch.table.column_names}"
            )
        vid = self.vehicle_id(vin, create=True)
        q = list(batch.quarantine)
        with self._transaction():
            outcome = (
                self._insert_samples(vid, batch.table)
                if batch.table.num_rows
                else BatchOutcome(0, 0, 0)
            )
            if q:
                self._insert_quarantine(ingest_id, vid, q)
            self._execute(
                "INSERT INTO ingest_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    ingest_id,
                    batch_no,
                    outcome.inserted,
                    outcome.duplicates,
                    outcome.conflicts,
                    sum(r.count for r in q),
                    datetime.now(UTC).replace(tzinfo=None),
                ],
            )
        return outcome

    def _insert_quarantine(self, ingest_id: int, vid: int, records: list[QuarantineRecord]) -> None:
        table = pa.table(
            {
                "ingest_id": pa.array([ingest_id] * len(records), pa.int32()),
                "vehicle_id": pa.array([vid] * len(records), pa.int32()),
                "source_row": pa.array([r.row for r in records], pa.int64()),
                "time": pa.array([r.time for r in records], pa.int64()).cast(pa.timestamp("us")),
                "signal": pa.array([r.signal for r in records], pa.string()),
                "value": pa.array([r.value for r in records], pa.string()),
                "reason": pa.array([r.reason for r in records], pa.string()),
                "count": pa.array([r.count for r in records], pa.int64()),
            }
        )
        self._insert_arrow("quarantine", table)

    @abc.abstractmethod
    def _insert_arrow(self, name: str, table: pa.Table) -> None:
        """Append an Arrow table to table `name` (columns in table order)."""

    # ---- reads ----------------------------------------------------------------------
    def read(
        self,
        vin: str,
        signals: Sequence[str],
        start: datetime | None = None,
        end: datetime | None = None,
        every: float | None = None,
        how: str = "mean",
    ) -> pa.Table:
        """Samples of `vin` as a wide Arrow table: ``time`` and one column per signal.

        Parameters
        ----------
        vin : str
            Vehicle.
        signals : sequence of str
            VSS paths (catalog names); values are in SI.
        start, end : datetime, optional
            Half-open range ``[start, end)``, UTC (naive means UTC).
        every : float, optional
            Resample into buckets of this many seconds, aggregated by `how`
            in the database; without it each stored timestamp is a row.
        how : {"mean", "min", "max", "count"}
            Aggregate per bucket.

        Returns
        -------
        pyarrow.Table
            ``time`` (timestamp[us]) then one float64 column per signal, in
            the order asked; null where a signal has no sample at that time.
        """
        if not signals:
            raise ValidationError("signals", "at least one signal path", list(signals))
        if len(signals) > MAX_READ_SIGNALS:
            raise ValidationError("signals", f"at most {MAX_READ_SIGNALS} signals", len(signals))
        twice = sorted({p for p in signals if list(signals).count(p) > 1})
        if twice:
            raise ValidationError("signals", "each path once (one column each)", twice)
        if how not in AGGREGATES:
            raise UnknownNameError(
                "aggregate", how, AGGREGATES, hint=f"Choose one of: {', '.join(AGGREGATES)}."
            )
        if every is not None and not (math.isfinite(every) and 1e-6 <= every <= MAX_EVERY):
            raise ValidationError("every", f"a number of seconds in [1e-06, {MAX_EVERY:g}] (the store keeps µs)", every)
        vid = self.vehicle_id(vin)
        ids = self._stored_signal_ids(signals)
        lo, hi = _ts(start, _MIN_TIME), _ts(end, _MAX_TIME)
        if every is None:
            bucket, agg = "time", "max"
        else:
            bucket, agg = self._bucket(round(every * 1e6)), AGGREGATES[how]
        cols = []
        for i, p in enumerate(signals):
            sid = ids.get(p, -1)
            cols.append(
                f"CAST({agg}(value) FILTER (WHERE signal_id = {int(sid)}) AS {self.double_type}) AS c{i}"
            )
        id_list = ", ".join(str(int(ids.get(p, -1))) for p in signals)
        sql = (
            f"SELECT {bucket} AS time, {', '.join(cols)} FROM samples"
            f" WHERE vehicle_id = ? AND signal_id IN ({id_list}) AND time >= ? AND time < ?"
            f" GROUP BY 1 ORDER BY 1 LIMIT {MAX_READ_ROWS + 1}"
        )
        table = self._fetch_arrow(sql, [vid, lo, hi])
        if table.num_rows > MAX_READ_ROWS:
            raise ValidationError(
                "rows", f"at most {MAX_READ_ROWS} (downsample with every=)", "more"
            )
        table = table.rename_columns(["time", *signals])
        return table.set_column(0, "time", table.column(0).cast(pa.timestamp("us")))

    def read_frame(
        self,
        vin: str,
        signals: Sequence[str],
        start: datetime | None = None,
        end: datetime | None = None,
        every: float | None = None,
        how: str = "mean",
    ) -> pd.DataFrame:
        """:meth:`read` as a pandas DataFrame indexed by time."""
        return self.read(vin, signals, start, end, every, how).to_pandas().set_index("time")

    def sample_count(self, vin: str | None = None) -> int:
        """Number of stored samples (of one vehicle, or all)."""
        if vin is None:
            return int(self._fetchall("SELECT count(*) FROM samples")[0][0])
        vid = self.vehicle_id(vin)
        return int(self._fetchall("SELECT count(*) FROM samples WHERE vehicle_id = ?", [vid])[0][0])

    # ---- trips -----------------------------------------------------------------------
    def detect_trips(self, vin: str, gap: float = 300.0) -> int:
        """Recompute the trips of `vin` from its data; return how many.

        Uses key-on/key-off (``Vehicle.LowVoltageSystemState``) when the
        vehicle has that signal, else gaps longer than `gap` seconds in its
        speed samples (or in all samples when it has no speed). Ingestion
        updates trips incrementally with the same rules
        (:func:`twinloop.store.trips.update_trips`).
        """
        from twinloop.store.trips import update_trips  # trips.py builds on this module

        return update_trips(self, vin, None, gap)

    def trips(self, vin: str) -> pa.Table:
        """Trips of `vin`: trip_no, start_time, end_time, duration_s, samples, method."""
        vid = self.vehicle_id(vin)
        t = self._fetch_arrow(
            "SELECT trip_no, start_time, end_time, samples, method FROM trips WHERE vehicle_id = ? ORDER BY trip_no",
            [vid],
        )
        start = t.column("start_time").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
        end = t.column("end_time").cast(pa.timestamp("us")).cast(pa.int64()).to_numpy()
        return t.append_column("duration_s", pa.array((end - start) / 1e6, pa.float64()))

    # ---- events and quarantine --------------------------------------------------------
    def add_events(self, vin: str, events: Iterable[Event]) -> int:
        """Append events of `vin`; return how many."""
        vid = self.vehicle_id(vin, create=True)
        evs = list(events)
        for e in evs:
            if not e.kind or len(e.kind) > 100:
                raise ValidationError("event.kind", "a name of 1 to 100 characters", e.kind)
        if not evs:
            return 0
        table = pa.table(
            {
                "vehicle_id": pa.array([vid] * len(evs), pa.int32()),
                "time": pa.array([_ts(e.time, _MIN_TIME) for e in evs], pa.timestamp("us")),
                "kind": pa.array([e.kind for e in evs], pa.string()),
                "payload": pa.array(
                    [json.dumps(e.payload, sort_keys=True) for e in evs], pa.string()
                ),
            }
        )
        with self._transaction():
            self._insert_arrow("events", table)
        return len(evs)

    def events(self, vin: str, kind: str | None = None) -> pa.Table:
        """Events of `vin` (optionally one kind) in time order; payload as JSON text."""
        vid = self.vehicle_id(vin)
        cond, params = ("AND kind = ?", [vid, kind]) if kind else ("", [vid])
        return self._fetch_arrow(
            f"SELECT time, kind, CAST(payload AS VARCHAR) AS payload FROM events WHERE vehicle_id = ? {cond}"
            " ORDER BY time, kind",
            params,
        )

    def quarantine(self, vin: str | None = None) -> pa.Table:
        """Quarantined samples with their reasons (of one vehicle, or all)."""
        sql = (
            "SELECT v.vin, q.ingest_id, q.source_row, q.time, q.signal, q.value, q.reason, q.count"
            " FROM quarantine q JOIN vehicles v ON v.vehicle_id = q.vehicle_id"
        )
        if vin is None:
            return self._fetch_arrow(sql + " ORDER BY q.ingest_id, q.source_row")
        return self._fetch_arrow(sql + " WHERE v.vin = ? ORDER BY q.ingest_id, q.source_row", [vin])

    # ---- latest values ----------------------------------------------------------------
    def latest(self, vin: str, signals: Sequence[str]) -> dict[str, tuple[datetime, float]]:
        """The latest sample of each of `signals` of `vin` that has one.

        Returns
        -------
        dict
            VSS path -> (time, aware UTC; value, SI); signals without a
            sample are left out.

        Raises
        ------
        UnknownNameError
            For a vehicle the store does not know, or a path the catalog does not.
        """
        _sequence("signals", signals, "signal paths")
        vid = self.vehicle_id(vin)
        ids = self._stored_signal_ids(list(signals))
        out: dict[str, tuple[datetime, float]] = {}
        for path, sid in ids.items():  # one indexed query per signal: cheap on both backends
            rows = self._fetchall(
                "SELECT time, value FROM samples WHERE vehicle_id = ? AND signal_id = ? ORDER BY time DESC LIMIT 1",
                [vid, sid],
            )
            if rows:
                out[path] = (utc(rows[0][0]), float(rows[0][1]))
        return out

    # ---- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction: everything written inside commits together or not at all.

        Nested calls join the outer transaction. Reads inside see one
        snapshot of the store. A statement the database refuses surfaces as
        :class:`~twinloop.errors.StoreError`, and a conflict with a
        concurrent writer (a unique key taken meanwhile, or a row it changed
        since this transaction began) as
        :class:`~twinloop.errors.StoreConflictError`; nothing is written then.
        """
        with self._refusals("a write"), self._snapshot_transaction():
            yield

    def _snapshot_transaction(self) -> contextlib.AbstractContextManager[None]:
        """The public transaction: one snapshot, and no overwriting what a concurrent writer changed meanwhile.

        DuckDB's transactions are like that already. A backend whose
        default is weaker overrides this (PostgreSQL: REPEATABLE READ);
        ingestion keeps :meth:`_transaction`, whose idempotent inserts need
        to see rows other writers commit meanwhile.
        """
        return self._transaction()

    @contextlib.contextmanager
    def _refusals(self, what: str) -> Iterator[None]:
        """Driver errors raised inside as :class:`StoreError` (:class:`StoreConflictError` for a conflict)."""
        try:
            yield
        except self._driver_errors as exc:
            reason = " ".join(str(exc).split())
            if self._is_conflict(exc):
                raise StoreConflictError(
                    f"the rows are taken: a row with the same key exists, or a concurrent writer changed"
                    f" them first ({shorten(reason, 200)}); nothing was written. If another command is"
                    " writing the same data, run this one again"
                ) from None
            raise StoreError(f"the store refused {what}: {shorten(reason, 300)}") from None

    # ---- schema extensions ----------------------------------------------------------------
    def extend(self, extension: SchemaExtension) -> None:
        """Keep the tables of `extension` in this store, created or migrated to its version.

        A new store gets the tables in their current shape; a store written
        by an older version of the extension gets its migrations, in one
        transaction. Tables that exist with other columns are refused before
        anything is changed. Registering the same extension again is cheap.

        Raises
        ------
        StoreError
            A table of that name that is not the extension's, a store
            written by a newer version, or a read-only store that lacks the
            tables.
        """
        if self._extensions.get(extension.name) == extension:
            return
        own = self._extensions.get(extension.name)
        for table in extension.tables:
            declared = self._extension_tables.get(table.name)
            theirs = own is None or table.name not in {t.name for t in own.tables}
            if declared is not None and declared != table and theirs:
                raise StoreError(f"table {table.name!r} of extension {extension.name!r} is already declared"
                                 " otherwise by another extension of this store")
        with self.transaction():
            rows = self._fetchall("SELECT version FROM schema_extensions WHERE name = ?", [extension.name])
            existing = self._table_columns()
            stored = int(rows[0][0]) if rows else self._adopted_version(extension, existing)
            if rows and stored <= extension.version:
                self._check_recorded_shape(extension, stored, existing)
            if stored > extension.version:
                raise StoreError(
                    f"{self._where()} holds extension {extension.name!r} at version {stored}, newer than this"
                    f" twinloop's {extension.version}: upgrade twinloop to use this store"
                )
            if stored < extension.version:
                if self.read_only:
                    raise StoreError(
                        f"{self._where()} holds extension {extension.name!r} at version {stored or 'none'},"
                        f" expected {extension.version}: open the store for writing once to migrate it"
                    )
                self._migrate(extension, stored)
            elif not rows and not self.read_only:  # adopted as they are: record them, as the docstring says
                self._record_version(extension)
        for table in extension.tables:
            self._extension_tables[table.name] = table
        self._extensions[extension.name] = extension

    def _adopted_version(self, extension: SchemaExtension, existing: Mapping[str, tuple[str, ...]]) -> int:
        """The version of an extension whose tables exist without a ledger row (0: none exist).

        Stores written before the ledger existed hold the tables only; their
        columns tell the version. Tables of another shape are refused.
        """
        present = [t.name for t in extension.tables if t.name in existing]
        if not present:
            return 0
        shapes = {v: extension.columns_at(v) for v in range(extension.version, 0, -1)}
        for version, shape in shapes.items():
            if all(existing.get(t) == shape[t] for t in shape):
                return version
        odd = [t for t in present if all(existing[t] != shape[t] for shape in shapes.values())]
        if odd:
            name = odd[0]
            raise StoreError(
                f"{self._where()} already holds a table {name!r} that is not extension {extension.name!r}'s:"
                f" expected columns {', '.join(extension.table(name).column_names)},"
                f" received {', '.join(existing[name])}. Nothing was changed; give the store its own database"
                " file or schema"
            )
        missing = [t.name for t in extension.tables if t.name not in existing]
        found = (f"table {', '.join(present)} of extension {extension.name!r} but not {', '.join(missing)}"
                 if missing else f"the tables of extension {extension.name!r} in the shapes of different versions")
        raise StoreError(
            f"{self._where()} holds {found}, and no record of the extension: expected all of its tables in"
            " one version's shape, or none. Nothing was changed; give the store its own database file or schema"
        )

    def _check_recorded_shape(
        self, extension: SchemaExtension, stored: int, existing: Mapping[str, tuple[str, ...]]
    ) -> None:
        """Refuse tables that do not have the columns of the version the ledger records."""
        for name, columns in extension.columns_at(stored).items():
            if existing.get(name) != columns:
                received = f"columns {', '.join(existing[name])}" if name in existing else "no such table"
                raise StoreError(
                    f"{self._where()} records extension {extension.name!r} at version {stored}, but its table"
                    f" {name!r} does not match it: expected columns {', '.join(columns)}, received {received}."
                    " Nothing was changed; the tables were altered outside twinloop, or another program"
                    " registered an extension of that name"
                )

    def _migrate(self, extension: SchemaExtension, stored: int) -> None:
        if stored == 0:
            for table in extension.tables:
                self._execute(self._create_table_sql(table))
        else:
            for k, step in enumerate(extension.migrations[stored - 1:], start=stored):
                self._apply(extension, step, k + 1)
        self._record_version(extension)

    def _record_version(self, extension: SchemaExtension) -> None:
        now = naive_utc(datetime.now(UTC))
        self._execute("DELETE FROM schema_extensions WHERE name = ?", [extension.name])
        self._execute("INSERT INTO schema_extensions (name, version, applied_at) VALUES (?, ?, ?)",
                      [extension.name, extension.version, now])

    def _apply(self, extension: SchemaExtension, step: Migration, version: int) -> None:
        """Apply `step`, which takes the store to `version`."""
        if isinstance(step, AddTable):
            self._execute(self._create_table_sql(extension.table_at(step.table, version)))
            return
        self._execute(
            f"ALTER TABLE {_q(step.table)} ADD COLUMN {_q(step.column.name)} {self._column_type(step.column.type)}"
        )

    def _column_type(self, kind: str) -> str:
        return {
            "text": "VARCHAR", "integer": "INTEGER", "bigint": "BIGINT", "double": self.double_type,
            "boolean": "BOOLEAN", "timestamp": "TIMESTAMP", "json": self.json_type,
        }[kind]

    def _create_table_sql(self, table: Table) -> str:
        cols = [f"{_q(c.name)} {self._column_type(c.type)}{'' if c.nullable else ' NOT NULL'}" for c in table.columns]
        if table.primary_key:
            cols.append(f"PRIMARY KEY ({', '.join(map(_q, table.primary_key))})")
        return f"CREATE TABLE {_q(table.name)} ({', '.join(cols)})"

    def _extension_table(self, name: str) -> Table:
        try:
            return self._extension_tables[name]
        except KeyError:
            raise UnknownNameError(
                "extension table", name, self._extension_tables,
                hint="Register its extension with store.extend(...) first; the store's own tables are"
                " read through its telemetry methods.",
            ) from None

    def _bind(self, table: Table, column: str, value: Any) -> Any:
        """`value` of `column` as the driver takes it, checked against the column's type."""
        c = table.column(column)
        if value is None:
            if not c.nullable:
                raise ValidationError(f"{table.name}.{column}", "a value (the column is NOT NULL)", None)
            return None
        if c.type == "timestamp":
            if not isinstance(value, datetime) or value != value:  # pandas' NaT is a datetime unequal to itself
                raise ValidationError(f"{table.name}.{column}", "a datetime (None for no time)", shorten(repr(value), 60))
            return naive_utc(value)
        # Checked here, not left to the database: DuckDB and PostgreSQL coerce differently (1.5 into an
        # integer column was rounded to 2 by both; True into one was 1 on DuckDB and an error on PostgreSQL).
        if c.type == "text":
            if not isinstance(value, str):
                raise ValidationError(f"{table.name}.{column}", "text (a str)", _shown(value))
            if "\x00" in value:  # DuckDB stores it, PostgreSQL refuses it: refused on both
                raise ValidationError(f"{table.name}.{column}", "text without NUL characters", _shown(value))
            if column in table.primary_key and len(value) > MAX_KEY_TEXT:  # PostgreSQL's index rows are bounded
                raise ValidationError(f"{table.name}.{column}", f"key text of at most {MAX_KEY_TEXT} characters",
                                      f"{len(value)} characters")
            return value
        if c.type in _INTEGER_BOUNDS:
            lo, hi = _INTEGER_BOUNDS[c.type]
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral) or not lo <= int(value) <= hi:
                raise ValidationError(f"{table.name}.{column}", f"an integer in [{lo}, {hi}]", _shown(value))
            return int(value)
        if c.type == "double":
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
                raise ValidationError(f"{table.name}.{column}", "a real number (int or float)", _shown(value))
            return float(value)
        if c.type == "boolean":
            if not isinstance(value, bool | np.bool_):
                raise ValidationError(f"{table.name}.{column}", "True or False", _shown(value))
            return bool(value)
        if c.type == "json":
            try:
                return _json_text(value)
            except (TypeError, ValueError, RecursionError) as exc:
                raise ValidationError(f"{table.name}.{column}", "a JSON value of finite numbers, text, lists"
                                      " and dicts", f"{type(exc).__name__}: {shorten(str(exc), 120)}") from None
        return value

    @staticmethod
    def _read(kind: str, value: Any) -> Any:
        if value is None:
            return None
        if kind == "timestamp":
            return utc(value)
        if kind == "json":
            return json.loads(value) if isinstance(value, str | bytes) else value
        return value

    def _conditions(self, table: Table, where: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        if not where:
            return "", []
        parts, params = [], []
        for column, value in where.items():
            if value is None:
                table.column(column)
                parts.append(f"{_q(column)} IS NULL")
            else:
                parts.append(f"{_q(column)} = ?")
                params.append(self._bind(table, column, value))
        return " WHERE " + " AND ".join(parts), params

    def select(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of extension table `table` whose columns equal `where`, as dicts.

        Parameters
        ----------
        table : str
            A table of a registered extension (:meth:`extend`).
        columns : sequence of str, optional
            Columns to return (all by default).
        where : mapping, optional
            Column -> value; rows must match all (None matches NULL).
        order_by : sequence of str
            Columns to sort by, ascending; a leading ``-`` sorts descending.
        limit : int, optional
            Most rows to return (at most :data:`MAX_SELECT_ROWS`).

        Returns
        -------
        list of dict
            Timestamps as aware UTC datetimes, JSON columns as Python values.
        """
        t = self._extension_table(table)
        if columns is not None:
            _sequence("columns", columns, "column names")
            if not columns:
                raise ValidationError("columns", "at least one column name (None for all)", [])
        _sequence("order_by", order_by, "column names")
        names = list(columns) if columns is not None else list(t.column_names)
        kinds = [t.column(c).type for c in names]
        cond, params = self._conditions(t, where)
        order = []
        for key in order_by:
            column, desc = (key[1:], " DESC") if key.startswith("-") else (key, "")
            t.column(column)
            order.append(_q(column) + desc)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_SELECT_ROWS):
            raise ValidationError("limit", f"an integer in [0, {MAX_SELECT_ROWS}]", limit)
        cap = MAX_SELECT_ROWS if limit is None else limit
        exprs = [f"CAST({_q(c)} AS VARCHAR)" if k == "json" else _q(c) for c, k in zip(names, kinds, strict=True)]
        sql = (f"SELECT {', '.join(exprs)} FROM {_q(t.name)}{cond}"
               + (f" ORDER BY {', '.join(order)}" if order else "") + f" LIMIT {cap + (limit is None)}")
        with self._refusals("a read"):
            rows = self._fetchall(sql, params)
        if limit is None and len(rows) > MAX_SELECT_ROWS:
            raise ValidationError("rows", f"at most {MAX_SELECT_ROWS} (narrow where= or give limit=)", "more")
        return [{c: self._read(k, v) for c, k, v in zip(names, kinds, row, strict=True)} for row in rows]

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
        """Append `rows` (column -> value) to extension table `table`; return how many.

        Columns left out are NULL. Runs in one transaction (or the caller's).
        """
        t = self._extension_table(table)
        if isinstance(rows, Mapping) or isinstance(rows, str | bytes):
            raise ValidationError("rows", "a list of rows (dicts of column -> value)", type(rows).__name__,
                                  hint="One row is [row]")
        rows = list(rows)
        if len(rows) > MAX_INSERT_ROWS:
            raise ValidationError("rows", f"at most {MAX_INSERT_ROWS} per insert", len(rows))
        with self.transaction():
            for row in rows:
                unknown = [c for c in row if c not in t.column_names]
                if unknown:
                    t.column(unknown[0])
                cols = [c for c in t.column_names if c in row or not t.column(c).nullable]
                values = [self._bind(t, c, row.get(c)) for c in cols]
                self._execute(
                    f"INSERT INTO {_q(t.name)} ({', '.join(map(_q, cols))}) VALUES ({', '.join('?' * len(cols))})",
                    values,
                )
        return len(rows)

    def update(self, table: str, values: Mapping[str, Any], where: Mapping[str, Any]) -> int:
        """Set `values` (column -> value) in the rows of `table` that match `where`; return how many.

        `where` must not be empty: a write to every row is asked for by name, never by omission.
        """
        t = self._extension_table(table)
        if not values:
            raise ValidationError("values", "at least one column to set", dict(values))
        if not where:
            raise ValidationError("where", "at least one column to match (an update of every row is refused)", {})
        cond, params = self._conditions(t, where)
        sets = [f"{_q(c)} = ?" for c in values]
        bound = [self._bind(t, c, v) for c, v in values.items()]
        with self.transaction():
            count = self._fetchall(f"SELECT count(*) FROM {_q(t.name)}{cond}", params)[0][0]
            self._execute(f"UPDATE {_q(t.name)} SET {', '.join(sets)}{cond}", [*bound, *params])
        return int(count)

    def delete(self, table: str, where: Mapping[str, Any]) -> int:
        """Delete the rows of `table` that match `where` (not empty); return how many."""
        t = self._extension_table(table)
        if not where:
            raise ValidationError("where", "at least one column to match (a delete of every row is refused)", {})
        cond, params = self._conditions(t, where)
        with self.transaction():
            count = self._fetchall(f"SELECT count(*) FROM {_q(t.name)}{cond}", params)[0][0]
            self._execute(f"DELETE FROM {_q(t.name)}{cond}", params)
        return int(count)

    def __enter__(self) -> SqlTelemetryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def empty_sample_table() -> pa.Table:
    """An empty table with the sample batch schema."""
    return pa.table(
        {
            "signal_id": pa.array([], pa.int32()),
            "time": pa.array([], pa.timestamp("us")),
            "value": pa.array([], pa.float64()),
        }
    )
