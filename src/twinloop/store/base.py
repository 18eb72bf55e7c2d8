"""The TelemetryStore protocol and the SQL logic both backends share.

Backends subclass :class:`SqlTelemetryStore` and fill a few hooks (how to
run SQL, how to bulk-insert a batch idempotently, how to bucket time); the
public methods keep the checks (names, ranges, limits) in one place.

Times are UTC. Inside the store they are ``TIMESTAMP`` (microseconds, no
zone); across the API they are Arrow ``timestamp[us]`` or int64 microseconds
since the Unix epoch.
"""

from __future__ import annotations

import abc
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import pandas as pd
import pyarrow as pa

from twinloop.errors import StoreError, UnknownNameError, ValidationError, shorten
from twinloop.signals.catalog import SignalCatalog, default_catalog

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

IGNITION = "Vehicle.LowVoltageSystemState"
SPEED = "Vehicle.Speed"


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
    def close(self) -> None: ...


def _ts(value: datetime | None, default: datetime) -> datetime:
    if value is None:
        return default
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _from_us(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime(1970, 1, 1) + pd.Timedelta(microseconds=int(us)).to_pytimedelta()


def _check_vin(vin: str) -> None:
    """Refuse a vehicle identifier that is empty, too long or not printable."""
    if not vin or len(vin) > 64 or not vin.isprintable():
        raise ValidationError("vehicle", "a printable identifier of 1 to 64 characters", shorten(vin, 64))


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

    def __init__(self, url: str, catalog: SignalCatalog | None = None) -> None:
        self.url = url
        self.catalog = catalog or default_catalog()
        self._signal_cache: dict[str, int] = {}
        self._vehicle_cache: dict[str, int] = {}

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

    # ---- schema -------------------------------------------------------------------
    def _create_schema(self) -> None:
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
        _check_vin(vin)
        rows = self._fetchall("SELECT vehicle_id FROM vehicles WHERE vin = ?", [vin])
        if not rows:
            if create and vin != vin.strip():
                # ' CAR1' would be a second vehicle beside 'CAR1'
                raise ValidationError(
                    "vehicle", "an identifier without leading or trailing spaces", vin
                )
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
            rows = self._fetchall("SELECT signal_id FROM signals WHERE path = ?", [p])
            if not rows:
                with self._transaction():
                    self._execute(
                        "INSERT INTO signals (path, quantity, unit) VALUES (?, ?, ?) ON CONFLICT (path) DO NOTHING",
                        [p, sig.quantity, sig.si_unit],
                    )
                rows = self._fetchall("SELECT signal_id FROM signals WHERE path = ?", [p])
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
