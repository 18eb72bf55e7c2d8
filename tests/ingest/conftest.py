"""Store fixtures: every store test runs on DuckDB and on the real PostgreSQL.

PostgreSQL is the server on this machine (127.0.0.1:5432, trust auth,
database ``test``); each test gets its own schema, dropped afterwards. An
unreachable server fails the tests loudly: they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from twinloop.store import DuckDBStore, PostgresStore, SqlTelemetryStore

PG_URL = os.environ.get("TWINLOOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_url() -> str:
    return f"{PG_URL}?schema=tl_{os.getpid()}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTelemetryStore]:
    if request.param == "duckdb":
        s: SqlTelemetryStore = DuckDBStore(tmp_path / "store.duckdb")
        yield s
        s.close()
    else:
        pg = PostgresStore(pg_url())
        yield pg
        pg.drop_schema()
        pg.close()
