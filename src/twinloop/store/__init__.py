"""The telemetry store: vehicles, signals, samples, trips, events and quarantine.

Two backends behind one protocol, chosen by URL: DuckDB (embedded default)
and PostgreSQL. Other layers keep tables of their own in it as schema
extensions (:mod:`twinloop.store.schema`) and use only the public API:
nothing outside this package runs SQL or imports a database driver. See
``docs/data.md``.
"""

from twinloop.store.base import (
    AGGREGATES,
    BatchOutcome,
    Event,
    QuarantineRecord,
    SampleBatch,
    SqlTelemetryStore,
    TelemetryStore,
)
from twinloop.store.duckdb import DuckDBStore
from twinloop.store.postgres import PostgresStore
from twinloop.store.schema import (
    COLUMN_TYPES,
    AddColumn,
    AddTable,
    Column,
    Migration,
    SchemaExtension,
    Table,
)
from twinloop.store.trips import Trip, detect_trips
from twinloop.store.url import BACKENDS, default_store_url, open_store

__all__ = [
    "AGGREGATES",
    "BACKENDS",
    "COLUMN_TYPES",
    "AddColumn",
    "AddTable",
    "BatchOutcome",
    "Column",
    "DuckDBStore",
    "Event",
    "Migration",
    "PostgresStore",
    "QuarantineRecord",
    "SampleBatch",
    "SchemaExtension",
    "SqlTelemetryStore",
    "Table",
    "TelemetryStore",
    "Trip",
    "default_store_url",
    "detect_trips",
    "open_store",
]
