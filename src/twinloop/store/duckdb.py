"""The embedded DuckDB backend (the default store).

Idempotent insertion without a primary key: see ``docs/adr/0002-idempotent-ingestion.md``.
A batch first asks whether anything is stored for the vehicle inside the
batch's time range (cheap: DuckDB's per-row-group min/max skips the rest);
if not, the batch is appended as it is (Arrow, zero copy). Otherwise only
the rows that the range holds are anti-joined against the batch.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from twinloop.errors import StoreError
from twinloop.signals.catalog import SignalCatalog
from twinloop.store.base import BatchOutcome, SqlTelemetryStore

__all__ = ["DuckDBStore"]

# A DuckDB database file holds these bytes at offset 8.
_MAGIC = b"DUCK"
_NO_PATH = (
    "store URL path: expected a DuckDB file path or duckdb:///path/file.duckdb"
    " (duckdb://:memory: for a store that is lost on exit), received {received},"
    " which DuckDB would keep in memory only"
)


def _check_duckdb_file(path: Path) -> None:
    """Refuse an existing, non-empty file that is not a DuckDB database (a CSV, a Parquet file ...).

    DuckDB would open some of them as an in-memory database and keep nothing.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        head = fh.read(12)
    if head[8:12] != _MAGIC:
        raise StoreError(
            f"{path} is not a DuckDB database: expected a DuckDB file or a new path,"
            f" received a file that starts with {head[:8]!r}. Give the store its own file,"
            " e.g. fleet.duckdb"
        )


class DuckDBStore(SqlTelemetryStore):
    """Telemetry in one DuckDB file (or in memory with ``path=":memory:"``).

    Parameters
    ----------
    path : str or Path
        Database file; its folder is created if needed.
    catalog : SignalCatalog, optional
        Signal catalog (the bundled one by default).
    read_only : bool
        Open without write access (several readers may share a file).
    create : bool
        Create the file (and its folder) when it does not exist; when
        false, a missing file is a :class:`StoreError` (commands that only
        read must not leave an empty store behind).
    """

    double_type = "DOUBLE"
    _driver_errors = (duckdb.Error,)

    def __init__(
        self,
        path: str | Path,
        catalog: SignalCatalog | None = None,
        read_only: bool = False,
        create: bool = True,
    ) -> None:
        in_memory = str(path) == ":memory:"
        self.read_only = read_only
        # an absolute path, so that open_store(store.url) opens this file from any working directory
        super().__init__(f"duckdb:///{path if in_memory else Path(path).absolute()}", catalog)
        if not in_memory:
            if not str(path).strip():
                raise StoreError(_NO_PATH.format(received=repr(str(path))))
            if not Path(path).exists() and (read_only or not create):
                raise StoreError(
                    f"store {path} does not exist: expected an existing DuckDB file,"
                    f" received a path with no file. If your data is in another store, name it with"
                    f" --store PATH or $TWINLOOP_STORE; to start this one, ingest data:"
                    f" `twinloop ingest FILE --vehicle NAME --store {path}`"
                )
            _check_duckdb_file(Path(path))
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(path), read_only=read_only)
        except (duckdb.IOException, duckdb.Error) as exc:
            held = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", str(exc))
            if held:  # DuckDB lets one process write a file at a time
                raise StoreError(
                    f"store {path} is in use by another process (PID {held.group(1)}): expected a store no"
                    " other command is writing, received a locked file. Wait for that command to finish"
                    " and run this one again"
                ) from None
            raise StoreError(f"cannot open DuckDB store {path}: {exc}") from None
        if not in_memory:
            self._check_on_disk(str(path))
            if read_only or not create:
                self._check_has_tables(str(path))
        self._in_tx = False
        if not read_only:
            try:
                self._create_schema()
            except duckdb.Error as exc:
                self._con.close()
                raise StoreError(f"cannot create the store's tables in {path}: {' '.join(str(exc).split())}") from None
            except BaseException:  # a refused foreign schema: let go of the file at once
                self._con.close()
                raise

    def _check_on_disk(self, path: str) -> None:
        """Refuse a connection that DuckDB made in memory for `path` (writes would be lost)."""
        rows = self._con.execute("SELECT file FROM pragma_database_list").fetchall()
        if not rows or not rows[0][0]:
            self._con.close()
            raise StoreError(_NO_PATH.format(received=repr(path)))

    def _check_has_tables(self, path: str) -> None:
        """Refuse to read a DuckDB file that holds no twinloop store (and so to add tables to it)."""
        row = self._con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'vehicles'"
        ).fetchone()
        if not row or not row[0]:
            self._con.close()
            raise StoreError(
                f"no twinloop store in DuckDB file {path}: expected its tables (vehicles, samples ...),"
                " received a database without them. Create the store by ingesting data:"
                f" `twinloop ingest FILE --vehicle NAME --store {path}`"
            )

    @classmethod
    def from_url(
        cls, url: str, catalog: SignalCatalog | None = None, *, create: bool = True
    ) -> DuckDBStore:
        """Open ``duckdb:///path/file.duckdb`` (or ``duckdb://:memory:``)."""
        rest = url.split("://", 1)[1] if "://" in url else url.split(":", 1)[1]
        if rest.startswith("/") and rest[1:].startswith("/"):
            rest = rest[1:]
        if rest in ("", "/"):
            raise StoreError(_NO_PATH.format(received=repr(url)))
        return cls(rest, catalog, create=create)

    def _is_conflict(self, exc: BaseException) -> bool:
        # DuckDB raises ConstraintException for NOT NULL and CHECK too: those are the table's rules,
        # and running again would not help. A conflict is a key taken, or a write-write conflict.
        text = str(exc).lower()
        if isinstance(exc, duckdb.TransactionException):
            return "conflict" in text or "duplicate key" in text
        return isinstance(exc, duckdb.ConstraintException) and "duplicate key" in text

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._con.execute(sql, list(params))

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, list(params)).fetchall()

    def _fetch_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        return self._con.sql(sql, params=list(params) or None).to_arrow_table()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._in_tx:  # nested: the outer transaction decides
            yield
            return
        self._con.execute("BEGIN TRANSACTION")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        else:
            self._con.execute("COMMIT")
        finally:
            self._in_tx = False

    def _insert_arrow(self, name: str, table: pa.Table) -> None:
        self._con.register("_twinloop_staged", table)
        try:
            self._con.execute(f"INSERT INTO {name} SELECT * FROM _twinloop_staged")
        finally:
            self._con.unregister("_twinloop_staged")

    def _insert_samples(self, vehicle_id: int, table: pa.Table) -> BatchOutcome:
        bounds = pc.min_max(table.column("time"))
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        con = self._con
        con.register("_twinloop_batch", table)
        try:
            overlap = con.execute(
                "SELECT count(*) FROM (SELECT 1 FROM samples WHERE vehicle_id = ? AND time BETWEEN ? AND ? LIMIT 1)",
                [vehicle_id, lo, hi],
            ).fetchone()
            if not overlap or not overlap[0]:
                con.execute(
                    "INSERT INTO samples SELECT ?, signal_id, time, value FROM _twinloop_batch",
                    [vehicle_id],
                )
                return BatchOutcome(table.num_rows, 0, 0)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _twinloop_existing AS SELECT signal_id, time, value FROM samples"
                " WHERE vehicle_id = ? AND time BETWEEN ? AND ?",
                [vehicle_id, lo, hi],
            )
            row = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE e.value <> b.value) FROM _twinloop_batch b"
                " JOIN _twinloop_existing e USING (signal_id, time)"
            ).fetchone()
            duplicates, conflicts = (int(row[0]), int(row[1])) if row else (0, 0)
            con.execute(
                "INSERT INTO samples SELECT ?, b.signal_id, b.time, b.value FROM _twinloop_batch b"
                " ANTI JOIN _twinloop_existing e USING (signal_id, time)",
                [vehicle_id],
            )
            con.execute("DROP TABLE _twinloop_existing")
            return BatchOutcome(table.num_rows - duplicates, duplicates, conflicts)
        finally:
            con.unregister("_twinloop_batch")

    def _bucket(self, every_us: int) -> str:
        return f"time_bucket(INTERVAL '{int(every_us)} microseconds', time, TIMESTAMP '2000-01-01')"

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with contextlib.suppress(duckdb.Error):
            self._con.close()
