"""Ingest one file into a telemetry store: read, check, convert, store idempotently."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from twinloop.errors import ValidationError, shorten
from twinloop.ingest.config import IngestConfig
from twinloop.ingest.mapping import ColumnMap, MappedSource
from twinloop.ingest.report import IngestReport
from twinloop.ingest.sources import CanLogSource, CsvSource, ParquetSource, Source
from twinloop.ingest.validate import validate_batch
from twinloop.signals.catalog import SignalCatalog, default_catalog
from twinloop.signals.dbc import DbcDecoder, load_dbc
from twinloop.signals.manifest import DecoderManifest
from twinloop.store.base import SqlTelemetryStore, TelemetryStore
from twinloop.store.trips import update_trips

__all__ = ["CAN_SUFFIXES", "FILE_SOURCES", "Ingester", "file_sha256", "ingest_identity"]

#: File suffix -> table source.
FILE_SOURCES: dict[str, type[Source]] = {
    ".csv": CsvSource,
    ".parquet": ParquetSource,
    ".pq": ParquetSource,
}
#: Suffixes read as CAN logs (need a DBC and a manifest).
CAN_SUFFIXES = (".log", ".candump", ".asc", ".blf")


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's content, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def ingest_identity(
    path: str | Path,
    dbc: str | Path | None = None,
    manifest: str | Path | None = None,
    catalog: SignalCatalog | None = None,
    column_map: ColumnMap | None = None,
) -> str:
    """The key under which a finished ingest is remembered (and a rerun skipped).

    The SHA-256 of the file alone when the file is read with the bundled
    catalog, no DBC and no column map; otherwise the SHA-256 of the file's,
    the DBC's and the manifest's digests, of the custom signal definitions
    and of the column map's content (its start included), so that the same
    file read another way is a new ingest (samples already stored are still
    skipped by their key).
    """
    digest = file_sha256(path)
    parts = []
    if dbc is not None:
        parts.append("dbc " + file_sha256(dbc))
    if manifest is not None:
        parts.append("manifest " + file_sha256(manifest))
    if column_map is not None:
        parts.append("columns " + hashlib.sha256(repr(column_map).encode()).hexdigest())
    if catalog is not None:
        bundled = default_catalog().signals
        custom = sorted(
            repr(sig) for p, sig in catalog.signals.items() if p not in bundled or bundled[p] != sig
        )
        if custom:
            parts.append("signals " + hashlib.sha256("\n".join(custom).encode()).hexdigest())
    if not parts:
        return digest
    text = "\n".join(["twinloop ingest identity 1", "file " + digest, *parts])
    return hashlib.sha256(text.encode()).hexdigest()


class Ingester:
    """Reads files into a :class:`~twinloop.store.TelemetryStore`.

    Each batch (see :class:`IngestConfig`) is committed atomically with its
    quarantine rows; a batch either lands whole or not at all. Re-running
    an ingest, finished or interrupted, stores nothing twice: samples are
    keyed on (vehicle, signal, time), and a completely ingested identical
    file is recognised by its SHA-256 and skipped.

    Parameters
    ----------
    store : TelemetryStore
        Where samples go.
    catalog : SignalCatalog, optional
        Signals (the store's catalog by default).
    config : IngestConfig, optional
        Limits and batch sizes.
    on_batch : callable, optional
        Called as ``on_batch(report, samples_in_batch)`` after each commit
        (progress bars).
    """

    def __init__(
        self,
        store: TelemetryStore,
        catalog: SignalCatalog | None = None,
        config: IngestConfig | None = None,
        on_batch: Callable[[IngestReport, int], None] | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog or store.catalog
        self.config = config or IngestConfig()
        self.on_batch = on_batch

    def source(
        self,
        path: Path,
        dbc: str | Path | None = None,
        manifest: str | Path | None = None,
        columns: ColumnMap | None = None,
    ) -> Source:
        """The reader for `path`, chosen by its suffix (a :class:`MappedSource` with `columns`).

        Raises
        ------
        ValidationError
            For an unknown suffix, for a CAN log without `dbc` and
            `manifest` (field ``"dbc/manifest"``), and for a column map with a
            file that is not CSV or Parquet (field ``"column_map"``).
        """
        suffix = path.suffix.lower()
        if columns is not None:
            if FILE_SOURCES.get(suffix) is None:
                raise ValidationError(
                    "column_map",
                    f"a wide CSV or Parquet file to map ({', '.join(FILE_SOURCES)})",
                    shorten(suffix or path.name),
                    str(path),
                    "A CAN log is mapped by its DBC and decoder manifest." if suffix in CAN_SUFFIXES else None,
                )
            return MappedSource(path, self.catalog, self.config, columns)
        if suffix in CAN_SUFFIXES:
            if dbc is None or manifest is None:
                raise ValidationError(
                    "dbc/manifest",
                    "a DBC file and a decoder manifest for a CAN log",
                    None,
                    str(path),
                    "Write a starter manifest with `twinloop can manifest --dbc FILE`.",
                )
            database = load_dbc(dbc)
            man = DecoderManifest.load(manifest)
            man.check(database, self.catalog)
            decoder = DbcDecoder(database, only=man.dbc_signals)
            lengths = {m.name: int(m.length) for m in database.messages}
            return CanLogSource(path, self.catalog, self.config, decoder, man, lengths)
        try:
            cls = FILE_SOURCES[suffix]
        except KeyError:
            raise ValidationError(
                "file type",
                f"one of {sorted([*FILE_SOURCES, *CAN_SUFFIXES])}",
                shorten(suffix or path.name),
                str(path),
            ) from None
        return cls(path, self.catalog, self.config)

    def ingest(
        self,
        path: str | Path,
        vehicle: str,
        dbc: str | Path | None = None,
        manifest: str | Path | None = None,
        columns: ColumnMap | None = None,
    ) -> IngestReport:
        """Ingest one file for `vehicle`; return the report.

        With `columns` (a :class:`~twinloop.ingest.mapping.ColumnMap`) a
        logger's own wide CSV or Parquet file is read through the map; its
        values then take the same path as any file's.

        Raises
        ------
        DataError, ValidationError, UnknownNameError
            When the file as a whole cannot be used (nothing is written for
            the batch at hand; batches before it stay committed and a rerun
            completes without duplicates).
        """
        p = Path(path)
        src = self.source(p, dbc, manifest, columns)
        src.check_file()
        is_can = isinstance(src, CanLogSource)
        report = IngestReport(source=str(p), vehicle=vehicle, can_log=is_can)
        if isinstance(src, MappedSource):
            report.ignored_columns = list(src.ignored)
            report.absent_columns = list(src.absent)
        digest = ingest_identity(
            p, dbc if is_can else None, manifest if is_can else None, self.catalog,
            columns,
        )
        previous = self.store.completed_ingest(vehicle, digest)
        if previous is not None:
            report.already_ingested = True
            report.rows_read = int(previous.get("rows_read", 0))
            report.samples_read = int(previous.get("samples_read", 0))
            report.reasons.update(previous.get("reasons") or {})
            report.rows_refused = int(previous.get("rows_refused", 0))
            report.duplicates_in_source = int(previous.get("duplicates_in_source", 0))
            report.duplicates = (
                report.samples_read
                - int(previous.get("quarantined", 0))
                + report.rows_refused
                - report.duplicates_in_source
            )
            return report
        ingest_id = self.store.begin_ingest(vehicle, str(p), digest)
        first: int | None = None  # earliest sample time read [µs], for the trips
        for batch_no, raw in enumerate(src.batches()):
            checked = validate_batch(
                raw, self.catalog, self.store.signal_ids, self.config.max_quarantine_rows
            )
            outcome = self.store.write_batch(ingest_id, batch_no, vehicle, checked.samples)
            if checked.samples.table.num_rows:
                span = pc.min_max(checked.samples.table.column("time").cast(pa.int64()))
                lo, hi = span["min"].as_py(), span["max"].as_py()
                first = lo if first is None else min(first, lo)
                report.first_time = first
                report.last_time = hi if report.last_time is None else max(report.last_time, hi)
            report.rows_read += raw.rows_read
            report.missing_cells += raw.missing_cells
            report.samples_read += checked.samples_read
            report.inserted += outcome.inserted
            report.duplicates += outcome.duplicates
            report.conflicts += outcome.conflicts
            report.duplicates_in_source += checked.duplicates_in_source
            report.out_of_order += checked.out_of_order
            report.reasons.update(checked.reasons)
            report.rows_refused += checked.rows_refused
            report.batches += 1
            if self.on_batch is not None:
                self.on_batch(report, checked.samples_read)
        report.delimiter = src.delimiter
        # trips before the ingest is marked finished: a kill in between leaves it
        # unfinished, so a rerun (or the next ingest) brings the trips up to date
        if isinstance(self.store, SqlTelemetryStore):
            update_trips(self.store, vehicle, first, ingest_id=ingest_id)
        else:
            self.store.detect_trips(vehicle)
        self.store.finish_ingest(ingest_id, report.to_dict())
        return report
