"""File ingestion: CSV and Parquet (wide or long) and CAN logs into the telemetry store.

See ``docs/data.md`` for the accepted layouts and what happens to bad rows.
"""

from twinloop.ingest.canlog import write_can_log
from twinloop.ingest.columns import COUNT_UNIT, split_unit, unit_column
from twinloop.ingest.config import IngestConfig
from twinloop.ingest.mapping import ColumnMap, MappedColumn, MappedSource, load_column_map
from twinloop.ingest.pipeline import (
    CAN_SUFFIXES,
    FILE_SOURCES,
    Ingester,
    file_sha256,
    ingest_identity,
)
from twinloop.ingest.report import IngestReport
from twinloop.ingest.sources import (
    CanLogSource,
    Column,
    CsvSource,
    ParquetSource,
    Source,
    SourceBatch,
    time_to_us,
)
from twinloop.ingest.validate import ValidatedBatch, validate_batch

__all__ = [
    "CAN_SUFFIXES",
    "COUNT_UNIT",
    "FILE_SOURCES",
    "CanLogSource",
    "Column",
    "ColumnMap",
    "CsvSource",
    "IngestConfig",
    "IngestReport",
    "Ingester",
    "MappedColumn",
    "MappedSource",
    "ParquetSource",
    "Source",
    "SourceBatch",
    "ValidatedBatch",
    "file_sha256",
    "ingest_identity",
    "load_column_map",
    "split_unit",
    "time_to_us",
    "unit_column",
    "validate_batch",
    "write_can_log",
]
