"""The PostgreSQL backend (server deployments).

Samples carry a unique index on (vehicle_id, signal_id, time); a batch is
copied into a temporary table with ``COPY ... FROM STDIN`` (CSV written by
Arrow) and moved over with ``INSERT ... ON CONFLICT DO NOTHING``. A
transaction-scoped advisory lock per vehicle serialises concurrent ingests
of the same vehicle.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from twinloop.errors import StoreError
from twinloop.signals.catalog import SignalCatalog
from twinloop.store.base import BatchOutcome, SqlTelemetryStore

__all__ = ["PostgresStore"]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: Schemas PostgreSQL keeps for itself (and every name starting with pg_).
_SYSTEM_SCHEMAS = frozenset({"information_schema"})
# PostgreSQL type of each Arrow type read back
_ARROW_TYPES = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int32(),
    23: pa.int32(),
    25: pa.string(),
    1043: pa.string(),
    700: pa.float64(),
    701: pa.float64(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", "UTC"),
    1700: pa.float64(),
    3802: pa.string(),
    114: pa.string(),
}


def _describe(parts: SplitResult) -> str:
    """``database 'db' at host:port`` with libpq's defaults filled in, for messages."""
    try:
        port: object = parts.port
    except ValueError:
        raise StoreError(
            f"port in {urlunsplit(parts)}: expected a number such as 5432,"
            f" received {parts.netloc.rsplit(':', 1)[-1]!r}"
        ) from None
    port = port or os.environ.get("PGPORT") or 5432
    host = parts.hostname or os.environ.get("PGHOST") or "the local socket"
    user = parts.username or os.environ.get("PGUSER") or getpass.getuser()
    db = parts.path.lstrip("/") or os.environ.get("PGDATABASE") or user
    return f"database {db!r} at {host}:{port} as user {user!r}"


class PostgresStore(SqlTelemetryStore):
    """Telemetry in a PostgreSQL database (one schema).

    Parameters
    ----------
    url : str
        ``postgresql://user@host:port/db``; an extra query parameter
        ``schema=name`` keeps the tables in that schema (created if missing).
    catalog : SignalCatalog, optional
        Signal catalog (the bundled one by default).
    connect_timeout : int
        Seconds to wait for the server.
    create : bool
        Create the schema and tables when missing; when false, a database
        (or schema) without the store's tables is a :class:`StoreError`.
    """

    json_type = "JSONB"
    _driver_errors = (psycopg.Error,)

    def __init__(
        self,
        url: str,
        catalog: SignalCatalog | None = None,
        connect_timeout: int = 10,
        create: bool = True,
    ) -> None:
        super().__init__(url, catalog)
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # an unclosed [ of an IPv6 host ...
            raise StoreError(
                f"store URL {url}: expected postgresql://user@host:port/db, received a URL"
                f" that does not parse ({exc})"
            ) from None
        query = dict(parse_qsl(parts.query))
        schema = query.pop("schema", None)
        if schema is None and "schema" in dict(parse_qsl(parts.query, keep_blank_values=True)):
            schema = ""  # ?schema= of an unset variable: refused below, not the default schema
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StoreError(
                f"schema in {url}: expected a name matching {_SCHEMA_NAME.pattern},"
                f" received {schema!r}"
            )
        if schema is not None and (schema in _SYSTEM_SCHEMAS or schema.startswith("pg_")):
            raise StoreError(
                f"schema in {url}: expected a schema of your own, received {schema!r}, which PostgreSQL"
                " keeps for itself (information_schema and every name starting with pg_);"
                " choose another name, e.g. ?schema=twinloop"
            )
        where = self._described = _describe(parts)
        rest = urlencode(query)
        # urlunsplit drops an empty host: postgresql:///db (the local socket) would become postgresql:/db
        dsn = f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{rest}" if rest else "")
        try:
            self._con = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
        except psycopg.Error as exc:
            # libpq's reason spans lines (one per address tried): keep it on one
            reason = " ".join(str(exc).split()) or type(exc).__name__
            hint = ""
            if "does not exist" in reason and "database" in reason:
                hint = " (create the database first, e.g. with createdb)"
            raise StoreError(
                f"cannot connect to PostgreSQL {where}: the server says: {reason}{hint}"
            ) from None
        self._in_tx = False
        self.schema = schema
        if not create:
            if schema:
                self._con.execute(f'SET search_path TO "{schema}"')
            row = self._con.execute("SELECT to_regclass('vehicles') IS NOT NULL").fetchone()
            if not row or not row[0]:
                self._con.close()
                raise StoreError(
                    f"no twinloop store in PostgreSQL {where}"
                    + (f", schema {schema!r}" if schema else "")
                    + ": expected its tables (vehicles, samples ...), received none. Create the"
                    " store by ingesting data: `twinloop ingest FILE --vehicle NAME --store URL`"
                )
        try:
            if schema:
                self._con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                self._con.execute(f'SET search_path TO "{schema}"')
            self._check_current_schema()
            self._create_schema()
            self._execute(
                "CREATE UNIQUE INDEX IF NOT EXISTS samples_key ON samples (vehicle_id, signal_id, time)"
            )
        except psycopg.Error as exc:  # no right to create, a schema that cannot be used ...
            self._con.close()
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StoreError(
                f"cannot create the store's tables in {self._where()}: the server says: {reason}"
            ) from None
        except BaseException:
            self._con.close()
            raise

    def _check_current_schema(self) -> None:
        """Refuse the schema the tables would go to when it is PostgreSQL's own or there is none.

        ``?schema=`` is checked by rule before connecting; this catches the
        same through a search_path set otherwise (``?options=-csearch_path=...``,
        the role's or the database's settings).
        """
        row = self._con.execute("SELECT current_schema()").fetchone()
        current = row[0] if row else None
        if current is None:
            raise StoreError(
                f"no schema to create the store's tables in at PostgreSQL {self._described}: expected a"
                " search_path that names an existing schema, received none that exists. Give one with"
                " ?schema=NAME in the URL (it is created if missing)"
            )
        if current in _SYSTEM_SCHEMAS or current.startswith("pg_"):
            raise StoreError(
                f"schema at PostgreSQL {self._described}: expected a schema of your own, received"
                f" {current!r} (from the search_path), which PostgreSQL keeps for itself; choose"
                " another with ?schema=NAME, e.g. ?schema=twinloop"
            )

    @classmethod
    def from_url(
        cls, url: str, catalog: SignalCatalog | None = None, *, create: bool = True
    ) -> PostgresStore:
        """Open a ``postgresql://`` URL."""
        return cls(url, catalog, create=create)

    def _is_conflict(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.errors.UniqueViolation | psycopg.errors.SerializationFailure)

    def _where(self) -> str:
        return f"PostgreSQL {self._described}" + (f", schema {self.schema!r}" if self.schema else "")

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._con.execute(self._sql(sql), list(params))

    def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._con.execute(self._sql(sql), list(params)).fetchall()

    def _fetch_arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        cur = self._con.execute(self._sql(sql), list(params))
        rows = cur.fetchall()
        desc = cur.description or []
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in desc]
        arrays = {
            d.name: pa.array(list(c), _ARROW_TYPES.get(d.type_code))
            for d, c in zip(desc, cols, strict=True)
        }
        return pa.table(arrays)

    @contextlib.contextmanager
    def _transaction(self, isolation: str | None = None) -> Iterator[None]:
        if self._in_tx:  # nested: the outer transaction decides
            yield
            return
        self._in_tx = True
        try:
            with self._con.transaction():
                if isolation is not None:  # before any other statement of the transaction
                    self._con.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
                yield
        finally:
            self._in_tx = False

    def _snapshot_transaction(self) -> contextlib.AbstractContextManager[None]:
        # READ COMMITTED lets a writer that waited on a row lock overwrite the row once the lock
        # holder commits: two racing promotions of a twin's models both retired the old champion
        # and left two champions. REPEATABLE READ refuses the second (a serialisation failure,
        # which the store reports as a conflict to run again). Ingestion keeps READ COMMITTED:
        # its ON CONFLICT DO NOTHING must skip rows a concurrent ingest committed meanwhile.
        return self._transaction("REPEATABLE READ")

    def _copy(self, name: str, columns: Sequence[str], table: pa.Table) -> None:
        buf = io.BytesIO()
        pacsv.write_csv(table.combine_chunks(), buf, pacsv.WriteOptions(include_header=False))
        cols = ", ".join(columns)
        with (
            self._con.cursor() as cur,
            cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(buf.getvalue())

    def _insert_arrow(self, name: str, table: pa.Table) -> None:
        self._copy(name, table.column_names, table)

    def _insert_samples(self, vehicle_id: int, table: pa.Table) -> BatchOutcome:
        con = self._con
        con.execute("SELECT pg_advisory_xact_lock(%s)", [vehicle_id])
        con.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _twinloop_batch (signal_id INTEGER, t BIGINT, value DOUBLE PRECISION)"
        )
        con.execute("TRUNCATE _twinloop_batch")
        staged = pa.table(
            {
                "signal_id": table.column("signal_id"),
                "t": table.column("time").cast(pa.int64()),
                "value": table.column("value"),
            }
        )
        self._copy("_twinloop_batch", ["signal_id", "t", "value"], staged)
        bounds = pc.min_max(table.column("time"))
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        overlap = con.execute(
            "SELECT EXISTS (SELECT 1 FROM samples WHERE vehicle_id = %s AND time BETWEEN %s AND %s)",
            [vehicle_id, lo, hi],
        ).fetchone()
        if not overlap or not overlap[0]:
            cur = con.execute(
                "INSERT INTO samples SELECT %s, signal_id, TIMESTAMP 'epoch' + t * INTERVAL '1 microsecond', value"
                " FROM _twinloop_batch ON CONFLICT DO NOTHING",
                [vehicle_id],
            )
            return BatchOutcome(cur.rowcount, table.num_rows - cur.rowcount, 0)
        row = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE e.value <> b.value) FROM _twinloop_batch b"
            " JOIN samples e ON e.vehicle_id = %s AND e.signal_id = b.signal_id"
            " AND e.time = TIMESTAMP 'epoch' + b.t * INTERVAL '1 microsecond'"
            " WHERE e.time BETWEEN %s AND %s",
            [vehicle_id, lo, hi],
        ).fetchone()
        duplicates, conflicts = (int(row[0]), int(row[1])) if row else (0, 0)
        cur = con.execute(
            "INSERT INTO samples SELECT %s, signal_id, TIMESTAMP 'epoch' + t * INTERVAL '1 microsecond', value"
            " FROM _twinloop_batch ON CONFLICT DO NOTHING",
            [vehicle_id],
        )
        inserted = cur.rowcount
        return BatchOutcome(inserted, table.num_rows - inserted, conflicts if duplicates else 0)

    def _bucket(self, every_us: int) -> str:
        return f"date_bin(INTERVAL '{int(every_us)} microseconds', time, TIMESTAMP '2000-01-01')"

    def drop_schema(self) -> None:
        """Drop this store's schema and everything in it (tests use it to clean up)."""
        if not self.schema:
            raise StoreError("refusing to drop the default schema")
        self._con.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with contextlib.suppress(psycopg.Error):
            self._con.close()
