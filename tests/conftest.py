"""Shared fixtures for the whole suite.

Store fixtures: every store and ingest test runs on DuckDB and on the real
PostgreSQL (127.0.0.1:5432, trust auth, database ``test``); each test gets its
own schema, dropped afterwards. An unreachable server fails the tests loudly:
they are never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from twinloop.parameters.spec import VehicleSpec
from twinloop.store import DuckDBStore, PostgresStore, SqlTelemetryStore


@pytest.fixture
def compact_car() -> VehicleSpec:
    """A mid-size BEV in physical road-load form (numbers chosen for hand checks)."""
    return VehicleSpec(
        "compact",
        test_mass=1800.0,
        motor_peak_power=150e3,
        battery_energy=75 * 3.6e6,
        drag_coefficient=0.25,
        frontal_area=2.3,
        rolling_resistance_coefficient=0.008,
    )
PG_URL = os.environ.get("TWINLOOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_url() -> str:
    return f"{PG_URL}?schema=tl_{os.getpid()}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def fresh_pg_url() -> str:
    """A PostgreSQL URL with a schema of its own (the caller drops it)."""
    return _pg_url()


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTelemetryStore]:
    if request.param == "duckdb":
        s: SqlTelemetryStore = DuckDBStore(tmp_path / "store.duckdb")
        yield s
        s.close()
    else:
        pg = PostgresStore(_pg_url())
        yield pg
        pg.drop_schema()
        pg.close()
