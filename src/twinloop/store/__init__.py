"""The telemetry store: vehicles, signals, samples, trips, events and quarantine.

Two backends behind one protocol, chosen by URL: DuckDB (embedded default)
and PostgreSQL. See ``docs/data.md``.
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
from twinloop.store.trips import Trip, detect_trips
from twinloop.store.url import BACKENDS, default_store_url, open_store

__all__ = [
    "AGGREGATES",
    "BACKENDS",
    "BatchOutcome",
    "DuckDBStore",
    "Event",
    "PostgresStore",
    "QuarantineRecord",
    "SampleBatch",
    "SqlTelemetryStore",
    "TelemetryStore",
    "Trip",
    "default_store_url",
    "detect_trips",
    "open_store",
]
