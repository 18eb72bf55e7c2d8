"""Databases and schemas the store must not take over, and definitions it must not let drift, on both backends.

A store opened on a database that already holds someone else's ``samples``
table, or on PostgreSQL's own schemas, must refuse before creating anything;
an extension's tables must not shadow the store's or adopt a stranger's; a
signal stored in kelvin must not later be written in m/s. The databases are
prepared with the real drivers, as another program would leave them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import numpy as np
import pandas as pd
import psycopg
import pytest

from twinloop.errors import StoreError, UnknownNameError, ValidationError
from twinloop.signals import default_catalog
from twinloop.store import open_store
from twinloop.store.base import _CORE_COLUMNS, _CORE_SEQUENCES
from twinloop.store.schema import CORE_TABLES, AddColumn, Column, SchemaExtension, Table
from twinloop.twin.consumption import PhysicsConsumptionModel
from twinloop.twin.record import TwinRecord
from twinloop.twin.registry import ModelRegistry, ModelVersion, Provenance
from twinloop.twin.repository import TwinRepository

PG_URL = os.environ.get("TWINLOOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nowhere"  # nothing listens on port 1
SPEED = "Vehicle.Speed"


class Place:
    """A DuckDB file or a PostgreSQL schema that other programs write too, inspected with the raw drivers."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        if kind == "duckdb":
            self.path = tmp_path / "shared.duckdb"
            self.url = str(self.path)
        else:
            self.schema = f"tl_{os.getpid()}_{uuid.uuid4().hex[:10]}"
            self.url = f"{PG_URL}?schema={self.schema}"
            self.run(f"CREATE SCHEMA {self.schema}", in_schema=False)

    def run(self, *statements: str, in_schema: bool = True) -> None:
        if self.kind == "duckdb":
            with duckdb.connect(str(self.path)) as con:
                for sql in statements:
                    con.execute(sql)
            return
        with psycopg.connect(PG_URL, autocommit=True) as con:
            if in_schema:
                con.execute(f"SET search_path TO {self.schema}")
            for sql in statements:
                con.execute(sql)

    def query(self, sql: str) -> list[tuple[object, ...]]:
        if self.kind == "duckdb":
            with duckdb.connect(str(self.path)) as con:
                return con.execute(sql).fetchall()
        with psycopg.connect(PG_URL, autocommit=True) as con:
            con.execute(f"SET search_path TO {self.schema}")
            return con.execute(sql).fetchall()

    def tables(self) -> dict[str, tuple[str, ...]]:
        """Every table (and view) of the place with its columns in order."""
        where = "table_schema = 'main'" if self.kind == "duckdb" else f"table_schema = '{self.schema}'"
        out: dict[str, list[str]] = {}
        for table, column in self.query(
            f"SELECT table_name, column_name FROM information_schema.columns WHERE {where}"
            " ORDER BY table_name, ordinal_position"
        ):
            out.setdefault(str(table), []).append(str(column))
        return {t: tuple(c) for t, c in out.items()}

    def sequences(self) -> set[str]:
        if self.kind == "duckdb":
            return {str(r[0]) for r in self.query("SELECT sequence_name FROM duckdb_sequences()")}
        return {str(r[0]) for r in self.query(
            f"SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = '{self.schema}'")}

    def drop(self) -> None:
        if self.kind == "postgresql":
            self.run(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE", in_schema=False)


@pytest.fixture(params=["duckdb", "postgresql"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    p = Place(request.param, tmp_path)
    yield p
    p.drop()


def twinloop_cli(*args: object) -> subprocess.CompletedProcess[str]:
    """Run the real `twinloop` console script in a process of its own."""
    script = Path(sys.executable).with_name("twinloop")
    return subprocess.run([str(script), *map(str, args)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TWINLOOP_STORE": "/nonexistent/never-used.duckdb"})


def assert_one_error_line(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert "Traceback" not in text
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    for fragment in fragments:
        assert fragment in lines[0], text


# ---- a database that is not the store's ---------------------------------------------------------
def test_a_foreign_samples_table_is_refused_and_nothing_is_created(place):
    place.run("CREATE TABLE samples (id INTEGER, payload VARCHAR)", "INSERT INTO samples VALUES (1, 'theirs')")
    with pytest.raises(StoreError, match=r"already holds a table 'samples' that is not a twinloop store's: expected"
                       r" columns vehicle_id, signal_id, time, value, received id, payload\. Nothing was created"):
        open_store(place.url)
    assert place.tables() == {"samples": ("id", "payload")}
    assert place.sequences() == set()
    assert place.query("SELECT * FROM samples") == [(1, "theirs")]


@pytest.mark.parametrize("name", sorted({*_CORE_COLUMNS, *_CORE_SEQUENCES}))
def test_a_foreign_table_with_any_of_the_stores_names_is_refused(place, name):
    place.run(f"CREATE TABLE {name} (their_column INTEGER)")
    with pytest.raises(StoreError, match=rf"already holds a table '{name}' .*Nothing was created"):
        open_store(place.url)
    assert place.tables() == {name: ("their_column",)} and place.sequences() == set()


def test_a_half_made_store_table_is_refused_too(place):
    # the right name and the first columns are not enough: a table missing one is not the store's
    place.run("CREATE TABLE vehicles (vehicle_id INTEGER, vin VARCHAR)")
    with pytest.raises(StoreError, match=r"'vehicles' .*expected columns vehicle_id, vin, created, received"
                       r" vehicle_id, vin\."):
        open_store(place.url)


def test_tables_of_other_names_are_left_beside_the_store(place):
    place.run("CREATE TABLE sales (region VARCHAR, amount DOUBLE PRECISION)", "INSERT INTO sales VALUES ('north', 2.5)")
    with open_store(place.url) as store:
        store.vehicle_id("CAR1", create=True)
        assert [r["vin"] for r in store.vehicles().to_pylist()] == ["CAR1"]
    assert place.tables()["sales"] == ("region", "amount")
    assert place.query("SELECT * FROM sales") == [("north", 2.5)]
    with open_store(place.url) as again:  # and the store reopens beside them
        assert again.vehicle_id("CAR1") >= 1


def test_a_foreign_samples_table_in_another_schema_does_not_matter(fresh_pg_url):
    other = Place("postgresql", Path("."))
    try:
        other.run("CREATE TABLE samples (id INTEGER)")
        with open_store(fresh_pg_url) as store:
            assert store.sample_count() == 0
            store.drop_schema()  # type: ignore[attr-defined]
        assert other.tables() == {"samples": ("id",)}
    finally:
        other.drop()


# ---- PostgreSQL's own schemas -------------------------------------------------------------------
def test_pg_catalog_schema_is_refused_by_rule():
    # refused from the URL alone: the server (here: none at all) is never asked
    with pytest.raises(StoreError, match=r"schema in .*: expected a schema of your own, received 'pg_catalog',"
                       " which PostgreSQL keeps for itself"):
        open_store(f"{UNREACHABLE}?schema=pg_catalog")


def test_information_schema_is_refused_by_rule():
    with pytest.raises(StoreError, match=r"received 'information_schema', which PostgreSQL keeps for itself"):
        open_store(f"{UNREACHABLE}?schema=information_schema")


@pytest.mark.parametrize("schema", ["pg_toast", "pg_temp_1", "pg_temp", "pg_mine"])
def test_every_schema_named_pg_something_is_refused_by_rule(schema):
    with pytest.raises(StoreError, match=rf"received '{schema}', which PostgreSQL keeps for itself.*\?schema=twinloop"):
        open_store(f"{UNREACHABLE}?schema={schema}")


@pytest.mark.parametrize("schema", ["PG_CATALOG", "Information_Schema", "a;drop schema public", "x y"])
def test_a_schema_name_outside_the_rule_is_refused_before_connecting(schema):
    with pytest.raises(StoreError, match=r"schema in .*: expected a name matching"):
        open_store(f"{UNREACHABLE}?schema={schema}")


def test_an_empty_schema_in_the_url_is_refused_not_read_as_the_default_schema():
    # `?schema=$UNSET` must not put the store's tables into public
    with pytest.raises(StoreError, match=r"schema in .*: expected a name matching .*, received ''"):
        open_store(f"{UNREACHABLE}?schema=")


@pytest.mark.parametrize("system", ["pg_catalog", "information_schema"])
def test_a_system_schema_reached_through_the_search_path_is_refused(system):
    # ?options=-csearch_path=... (or the role's settings) reach the same schemas without ?schema=
    with pytest.raises(StoreError, match=rf"expected a schema of your own, received '{system}' \(from the"
                       r" search_path\)") as exc:
        open_store(f"{PG_URL}?options=-csearch_path%3D{system}")
    assert "\n" not in str(exc.value)
    with psycopg.connect(PG_URL) as con:
        made = con.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                           " WHERE n.nspname = %s AND c.relname IN ('vehicles', 'samples', 'vehicle_seq')",
                           [system]).fetchone()
    assert made == (0,)


def test_a_search_path_without_an_existing_schema_is_a_store_error_not_a_driver_error():
    with pytest.raises(StoreError, match=r"no schema to create the store's tables in .*\?schema=NAME"):
        open_store(f"{PG_URL}?options=-csearch_path%3Dno_such_schema_{uuid.uuid4().hex[:8]}")


def test_the_local_socket_url_connects(monkeypatch):
    # postgresql:///db: no host, so libpq uses the local socket (and the user from PGUSER or the login)
    parts = urlsplit(PG_URL)
    for var in ("PGHOST", "PGHOSTADDR", "PGPORT"):
        monkeypatch.delenv(var, raising=False)
    if parts.username:
        monkeypatch.setenv("PGUSER", parts.username)
    schema = f"tl_socket_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    store = open_store(f"postgresql://{parts.path}?schema={schema}")
    try:
        assert store.url.startswith("postgresql:///")
        store.vehicle_id("CAR1", create=True)
        assert store.vehicles().column("vin").to_pylist() == ["CAR1"]
        with open_store(f"postgres://{parts.username or ''}@{parts.path}?schema={schema}") as same:
            assert same.vehicle_id("CAR1") == store.vehicle_id("CAR1")
    finally:
        store.drop_schema()  # type: ignore[attr-defined]
        store.close()


# ---- extension tables: no shadowing, no adopting a stranger's -------------------------------------
@pytest.mark.parametrize("name", sorted(CORE_TABLES))
def test_an_extension_table_cannot_shadow_a_store_table(name):
    with pytest.raises(ValidationError, match=rf"table name: expected a name the store itself does not use,"
                       rf" received '{name}'"):
        Table(name, (Column("vin", "text"),))


@pytest.mark.parametrize(
    "make",
    [
        lambda: Table("notes; DROP TABLE samples", (Column("vin", "text"),)),
        lambda: Table("Notes", (Column("vin", "text"),)),
        lambda: Table("n" * 64, (Column("vin", "text"),)),
        lambda: Table("notes", (Column('vin" text, "x', "text"),)),
        lambda: Table("notes", (Column("vin", "text"), Column("vin", "integer"))),
        lambda: Table("notes", ()),
        lambda: SchemaExtension("twin--", (Table("notes", (Column("vin", "text"),)),)),
    ],
)
def test_hostile_or_broken_declarations_are_refused_before_any_sql(make):
    with pytest.raises(ValidationError):
        make()


def test_unknown_column_types_and_keys_are_refused_with_suggestions():
    with pytest.raises(UnknownNameError, match=r"unknown column type 'txt'; did you mean 'text'"):
        Column("vin", "txt")  # type: ignore[arg-type]
    with pytest.raises(UnknownNameError, match=r"unknown primary-key column of notes 'vim'; did you mean 'vin'"):
        Table("notes", (Column("vin", "text"),), primary_key=("vim",))


def test_a_migration_that_old_rows_could_not_satisfy_is_refused_at_declaration():
    table = Table("notes", (Column("vin", "text"), Column("stars", "integer", nullable=False)))
    with pytest.raises(ValidationError, match=r"an added column that may be NULL \(old rows have none\)"):
        SchemaExtension("notes", (table,), (AddColumn("notes", Column("stars", "integer", nullable=False)),))
    with pytest.raises(ValidationError, match=r"columns that the current notes table has"):
        SchemaExtension("notes", (table,), (AddColumn("notes", Column("rating", "integer")),))


NOTES = SchemaExtension("notes", (Table("notes", (Column("vin", "text", nullable=False), Column("body", "text"))),))


def test_an_extension_does_not_adopt_a_foreign_table_of_its_name(place):
    place.run("CREATE TABLE notes (id INTEGER, body VARCHAR)", "INSERT INTO notes VALUES (7, 'theirs')")
    with open_store(place.url) as store:
        with pytest.raises(StoreError, match=r"already holds a table 'notes' that is not extension 'notes''s: expected"
                           r" columns vin, body, received id, body\. Nothing was changed"):
            store.extend(NOTES)
        with pytest.raises(UnknownNameError):
            store.select("notes")
    assert place.tables()["notes"] == ("id", "body")
    assert place.query("SELECT * FROM notes") == [(7, "theirs")]
    assert place.query("SELECT name FROM schema_extensions") == []


# ---- the twin's tables written before the ledger existed -------------------------------------------
def _old_twin_tables(place: Place, double: str, json_type: str) -> None:
    """The twins and twin_models tables as `TwinRepository` created them before schema extensions (its DDL then)."""
    states = ", ".join(f"{c} {double}" for c in
                       ("state_of_charge", "state_of_health", "battery_temperature", "cabin_temperature", "odometer"))
    place.run(
        "CREATE TABLE IF NOT EXISTS twins (vin VARCHAR PRIMARY KEY, name VARCHAR NOT NULL,"
        f" vehicle_toml VARCHAR NOT NULL, {states}, state_updated_at TIMESTAMP,"
        " created_at TIMESTAMP NOT NULL)",
        "CREATE TABLE IF NOT EXISTS twin_models (vin VARCHAR NOT NULL, version INTEGER NOT NULL,"
        f" model_type VARCHAR NOT NULL, kind VARCHAR NOT NULL, parameters {json_type} NOT NULL,"
        " status VARCHAR NOT NULL, created_by VARCHAR NOT NULL, reason VARCHAR NOT NULL,"
        " parent_version INTEGER, training_start TIMESTAMP, training_end TIMESTAMP,"
        f" validation_error {double}, residual_mean {double}, residual_std {double},"
        " created_at TIMESTAMP NOT NULL, PRIMARY KEY (vin, version))",
    )


def _pre_ledger_store(place: Place) -> tuple[str, str]:
    """A store as twinloop wrote it before the ledger: its tables, no schema_extensions; (double, json) types."""
    with open_store(place.url) as store:
        types = (store.double_type, store.json_type)
    place.run("DROP TABLE schema_extensions")
    return types


def _sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def test_a_pre_ledger_twin_store_is_adopted(place, compact_car):
    double, json_type = _pre_ledger_store(place)
    _old_twin_tables(place, double, json_type)
    record = TwinRecord.from_spec("VIN1", compact_car, name="old fleet car")
    model = PhysicsConsumptionModel.from_spec(compact_car)
    made = ModelVersion("VIN1", 1, "PhysicsConsumptionModel", "physics", model.to_dict(), "champion",
                        Provenance("twinloop 0.x", "initial"))
    # the rows as the old repository wrote them: JSON text, naive UTC times
    place.run(
        "INSERT INTO twins (vin, name, vehicle_toml, created_at) VALUES"
        f" ('VIN1', 'old fleet car', {_sql_literal(record.vehicle)},"
        f" TIMESTAMP '{record.created_at.replace(tzinfo=None).isoformat(sep=' ')}')",
        "INSERT INTO twin_models (vin, version, model_type, kind, parameters, status, created_by, reason,"
        " created_at) VALUES ('VIN1', 1, 'PhysicsConsumptionModel', 'physics',"
        f" {_sql_literal(json.dumps(made.parameters, sort_keys=True))}, 'champion', 'twinloop 0.x', 'initial',"
        f" TIMESTAMP '{made.created_at.replace(tzinfo=None).isoformat(sep=' ')}')",
    )
    with open_store(place.url) as store:
        repo = TwinRepository(store)
        assert repo.get("VIN1") == record
        assert repo.load_versions("VIN1") == [made]
        assert place.query("SELECT name, version FROM schema_extensions") == [("twin", 1)]
        # and it goes on where the old code left off
        new = ModelRegistry("VIN1", repo).register(model, reason="calibration", created_by="t", status="champion")
        assert new.version == 2
        assert [(v.version, v.status) for v in repo.load_versions("VIN1")] == [(1, "retired"), (2, "champion")]
    assert place.tables()["twins"][0] == "vin" and len(place.tables()["twin_models"]) == 15


def test_a_foreign_twins_table_is_refused_and_nothing_is_changed(place):
    _pre_ledger_store(place)
    place.run("CREATE TABLE twins (id INTEGER, label VARCHAR)")
    with open_store(place.url) as store, pytest.raises(
        StoreError, match=r"already holds a table 'twins' that is not extension 'twin''s: expected columns vin,"
        r" name, vehicle_toml, .* received id, label\. Nothing was changed"):
        TwinRepository(store)
    assert "twin_models" not in place.tables() and place.tables()["twins"] == ("id", "label")
    assert place.query("SELECT * FROM schema_extensions") == []


def test_a_store_with_only_some_of_an_extensions_tables_is_named_accurately(place, compact_car):
    double, json_type = _pre_ledger_store(place)
    _old_twin_tables(place, double, json_type)
    place.run("DROP TABLE twin_models")
    with open_store(place.url) as store, pytest.raises(
        StoreError, match=r"holds table twins of extension 'twin' but not twin_models, and no record of the"
        r" extension: expected all of its tables in one version's shape, or none\. Nothing was changed"):
        TwinRepository(store)
    assert "twin_models" not in place.tables()


# ---- a signal redefined -------------------------------------------------------------------------
COOLANT = "Vehicle.Private.Acme.PackCoolantTemp"


def _catalog(tmp_path: Path, unit: str, quantity: str):
    f = tmp_path / f"{quantity}-{unit.replace('/', '_')}.toml"
    f.write_text(f'[[signal]]\npath = "{COOLANT}"\ndatatype = "float"\nunit = "{unit}"\nquantity = "{quantity}"\n')
    return f, default_catalog().with_file(f)


def test_a_signal_redefined_with_another_unit_is_refused(place, tmp_path):
    _, kelvin = _catalog(tmp_path, "Celsius", "battery_temperature")
    _, speed = _catalog(tmp_path, "km/h", "vehicle_speed")
    with open_store(place.url, kelvin) as store:
        sid = store.signal_ids([COOLANT])[COOLANT]
    with open_store(place.url, speed) as store:
        with pytest.raises(ValidationError, match=rf"signal {COOLANT}: expected the definition the store holds:"
                           r" quantity 'battery_temperature' in 'K', received \"quantity 'vehicle_speed' in"
                           r" 'm s-1'\"\. Give the signal another path, or use a store of its own"):
            store.signal_ids([COOLANT])
    assert place.query(f"SELECT signal_id, quantity, unit FROM signals WHERE path = '{COOLANT}'") == [
        (sid, "battery_temperature", "K")]


def test_a_signal_redefined_with_another_input_unit_of_the_same_quantity_is_accepted(place, tmp_path):
    # the store keeps SI: °C in one file and K in the next both land in kelvin
    _, celsius = _catalog(tmp_path, "Celsius", "battery_temperature")
    _, kelvin = _catalog(tmp_path, "K", "battery_temperature")
    with open_store(place.url, celsius) as store:
        sid = store.signal_ids([COOLANT])[COOLANT]
    with open_store(place.url, kelvin) as store:
        assert store.signal_ids([COOLANT]) == {COOLANT: sid}


# ---- the same, through the command line: one line, exit 2, the file untouched -----------------------
def _telemetry_csv(path: Path, column: str, values: np.ndarray) -> Path:
    t = pd.Timestamp("2024-05-01T10:00:00Z") + pd.to_timedelta(np.arange(len(values)), unit="s")
    pd.DataFrame({"time": t, column: values}).to_csv(path, index=False)
    return path


def test_the_cli_refuses_a_duckdb_file_with_a_foreign_samples_table_in_one_line(tmp_path):
    path = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE samples (id INTEGER, payload VARCHAR)")
        con.execute("INSERT INTO samples VALUES (1, 'theirs')")
    data = _telemetry_csv(tmp_path / "w.csv", SPEED, np.arange(10.0))
    assert_one_error_line(twinloop_cli("ingest", data, "--vehicle", "CAR1", "--store", path),
                          "already holds a table 'samples' that is not a twinloop store's")
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        assert tables == [("samples",)]
        assert con.execute("SELECT * FROM samples").fetchall() == [(1, "theirs")]
        assert con.execute("SELECT count(*) FROM duckdb_sequences()").fetchone() == (0,)


def test_the_cli_refuses_a_duckdb_file_with_a_foreign_vehicles_table_in_one_line(tmp_path):
    path = tmp_path / "fleet.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE vehicles (plate VARCHAR, owner VARCHAR)")
    for command in (["vehicles"], ["twin", "list"]):
        assert_one_error_line(twinloop_cli(*command, "--store", path),
                              "already holds a table 'vehicles' that is not a twinloop store's")
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT table_name FROM information_schema.tables").fetchall() == [("vehicles",)]


def test_the_cli_refuses_a_foreign_twins_table_in_one_line(tmp_path):
    path = tmp_path / "fleet.duckdb"
    with open_store(str(path)) as store:
        store.vehicle_id("CAR1", create=True)
        store._execute("CREATE TABLE twins (id INTEGER, label VARCHAR)")
    assert_one_error_line(twinloop_cli("twin", "list", "--store", path),
                          "already holds a table 'twins' that is not extension 'twin''s")
    with duckdb.connect(str(path), read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "twins" in names and "twin_models" not in names


def test_a_signal_redefined_with_another_unit_is_refused_through_the_cli(tmp_path):
    store = tmp_path / "fleet.duckdb"
    celsius, _ = _catalog(tmp_path, "Celsius", "battery_temperature")
    speed, _ = _catalog(tmp_path, "km/h", "vehicle_speed")
    first = _telemetry_csv(tmp_path / "a.csv", COOLANT, np.linspace(20.0, 25.0, 10))
    ok = twinloop_cli("ingest", first, "--vehicle", "CAR1", "--signals", celsius, "--store", store, "--json")
    assert ok.returncode == 0, ok.stderr
    second = _telemetry_csv(tmp_path / "b.csv", COOLANT, np.linspace(50.0, 60.0, 10))
    assert_one_error_line(
        twinloop_cli("ingest", second, "--vehicle", "CAR1", "--signals", speed, "--store", store),
        f"signal {COOLANT}: expected the definition the store holds: quantity 'battery_temperature' in 'K'",
    )
    with open_store(str(store)) as s:
        values = s.read("CAR1", [COOLANT]).column(COOLANT).to_numpy()
    np.testing.assert_allclose(values, np.linspace(20.0, 25.0, 10) + 273.15)  # only the first file, in kelvin
