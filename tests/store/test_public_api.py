"""The store's public API, on DuckDB and on the real PostgreSQL: transactions, latest values, schema extensions.

Other layers reach the database only through these methods, so each test
names the misuse it defends against: a half-written transaction, a driver
error leaking out, a timestamp that shifts by a zone, a write to every row by
omission, a value one backend would coerce and the other refuse, an older or
newer version of an extension's tables. Where a test must see what the
database really holds, it looks behind the API with the store's own SQL hook
(``_fetchall``/``_execute``), as the store itself would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import duckdb
import numpy as np
import psycopg
import pyarrow as pa
import pytest

from twinloop.errors import (
    StoreConflictError,
    StoreError,
    TwinloopError,
    UnknownNameError,
    ValidationError,
)
from twinloop.store import (
    DuckDBStore,
    Event,
    SampleBatch,
    SqlTelemetryStore,
    TelemetryStore,
    open_store,
)
from twinloop.store.base import MAX_INSERT_ROWS, MAX_SELECT_ROWS
from twinloop.store.schema import CORE_TABLES, AddColumn, AddTable, Column, SchemaExtension, Table

T0 = 1_714_557_600_000_000  # 2024-05-01T10:00:00Z in µs
SPEED = "Vehicle.Speed"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
DRIVER_ERRORS = (duckdb.Error, psycopg.Error)

_NOTES_COLUMNS = (
    Column("vin", "text", nullable=False),
    Column("seq", "integer", nullable=False),
    Column("text", "text"),
    Column("count", "bigint"),
    Column("score", "double"),
    Column("pinned", "boolean"),
    Column("at", "timestamp"),
    Column("payload", "json"),
)
#: A layer's extension with one column of every type.
NOTES = SchemaExtension("notes", (Table("notes", _NOTES_COLUMNS, primary_key=("vin", "seq")),))

# The same extension through three versions: v2 adds `stars`, v3 adds `tags`.
_V1 = Table("reviews", (Column("vin", "text", nullable=False), Column("body", "text")), primary_key=("vin",))
_V3 = Table("reviews", (*_V1.columns, Column("stars", "integer"), Column("tags", "json")), primary_key=("vin",))
REVIEWS_V1 = SchemaExtension("reviews", (_V1,))
REVIEWS_V2 = SchemaExtension(
    "reviews",
    (Table("reviews", _V3.columns[:3], primary_key=("vin",)),),
    (AddColumn("reviews", Column("stars", "integer")),),
)
REVIEWS_V3 = SchemaExtension(
    "reviews",
    (_V3,),
    (AddColumn("reviews", Column("stars", "integer")), AddColumn("reviews", Column("tags", "json"))),
)


@pytest.fixture
def notes(store: SqlTelemetryStore) -> SqlTelemetryStore:
    store.extend(NOTES)
    return store


@pytest.fixture
def reopen(store: SqlTelemetryStore) -> Iterator[Callable[..., SqlTelemetryStore]]:
    """Open another connection to the same store (as another process would); closed after the test."""
    opened: list[SqlTelemetryStore] = []

    def open_again() -> SqlTelemetryStore:
        opened.append(open_store(store.url))
        return opened[-1]

    yield open_again
    for s in opened:
        s.close()


def ledger(store: SqlTelemetryStore) -> dict[str, int]:
    """The schema_extensions table, name -> version (behind the API)."""
    return {str(n): int(v) for n, v in store._fetchall("SELECT name, version FROM schema_extensions")}


def columns(store: SqlTelemetryStore, table: str) -> tuple[str, ...]:
    return store._table_columns().get(table, ())


def batch(store: SqlTelemetryStore, path: str, seconds: list[int], values: list[float]) -> SampleBatch:
    sid = store.signal_ids([path])[path]
    t = pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000 + T0, pa.int64()).cast(pa.timestamp("us"))
    return SampleBatch(
        pa.table({"signal_id": pa.array([sid] * len(t), pa.int32()), "time": t, "value": pa.array(values, pa.float64())})
    )


def write(store: SqlTelemetryStore, vin: str, path: str, seconds: list[int], values: list[float]) -> None:
    iid = store.begin_ingest(vin, "test", f"{vin}-{path}-{seconds}")
    store.write_batch(iid, 0, vin, batch(store, path, seconds, values))


def at(seconds: int) -> datetime:
    return datetime(2024, 5, 1, 10, tzinfo=UTC) + timedelta(seconds=seconds)


def one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text, text
    return text


class WriterCrashed(RuntimeError):
    """A failure of the caller's own code in the middle of a transaction."""


def test_the_store_offers_the_whole_public_api_on_both_backends(store):
    assert isinstance(store, TelemetryStore)
    for method in ("transaction", "latest", "extend", "select", "insert", "update", "delete"):
        assert callable(getattr(store, method))


# ---- transactions ------------------------------------------------------------------------------
def test_a_failed_transaction_leaves_nothing(notes):
    notes.insert("notes", [{"vin": "CAR1", "seq": 1, "text": "kept"}])
    with pytest.raises(WriterCrashed), notes.transaction():
        notes.insert("notes", [{"vin": "CAR1", "seq": 2, "text": "lost"}])
        notes.update("notes", {"text": "changed"}, {"vin": "CAR1", "seq": 1})
        notes.add_events("CAR1", [Event(at(0), "note.added", {"seq": 2})])  # a telemetry write joins it too
        assert len(notes.select("notes")) == 2  # visible inside the transaction
        raise WriterCrashed
    assert notes.select("notes", ["seq", "text"]) == [{"seq": 1, "text": "kept"}]
    assert notes.events("CAR1").num_rows == 0


def test_a_caller_error_inside_a_transaction_passes_through_unchanged(notes):
    # the store maps driver errors only: the caller's own exception keeps its type and message
    with pytest.raises(WriterCrashed, match="disk full"), notes.transaction():
        raise WriterCrashed("disk full")
    with pytest.raises(ValidationError, match=r"notes\.text: expected text"), notes.transaction():
        notes.insert("notes", [{"vin": "CAR1", "seq": 1}])
        notes.insert("notes", [{"vin": "CAR1", "seq": 2, "text": 42}])
    assert notes.select("notes") == []


def test_nested_transactions_join_the_outer_one(notes, reopen):
    other = reopen()
    other.extend(NOTES)
    with pytest.raises(WriterCrashed), notes.transaction():
        with notes.transaction():
            notes.insert("notes", [{"vin": "CAR1", "seq": 1}])
        # the inner block is over but nothing is committed: another connection sees nothing yet
        assert other.select("notes") == []
        raise WriterCrashed
    assert notes.select("notes") == [] and other.select("notes") == []
    with notes.transaction():
        with notes.transaction():
            notes.insert("notes", [{"vin": "CAR1", "seq": 1}])
        notes.insert("notes", [{"vin": "CAR1", "seq": 2}])
    assert [r["seq"] for r in other.select("notes", order_by=["seq"])] == [1, 2]


def test_a_duplicate_key_is_a_store_conflict_not_a_driver_error(notes):
    with pytest.raises(StoreConflictError) as exc, notes.transaction():
        notes.insert("notes", [{"vin": "CAR1", "seq": 1, "text": "first"}])
        notes.insert("notes", [{"vin": "CAR1", "seq": 1, "text": "again"}])
    assert isinstance(exc.value, StoreError) and not isinstance(exc.value, DRIVER_ERRORS)
    assert exc.value.__cause__ is None and exc.value.__suppress_context__  # no driver traceback chained
    assert "nothing was written" in one_line(exc)
    assert notes.select("notes") == []  # the first row went with the second


def test_a_write_the_database_refuses_is_a_store_error_not_a_conflict(store):
    # a table adopted from before the ledger may carry constraints of its own; the database enforces them
    store._execute("CREATE TABLE reviews (vin VARCHAR PRIMARY KEY, body VARCHAR CHECK (length(body) < 10))")
    store.extend(REVIEWS_V1)
    with pytest.raises(StoreError) as exc:
        store.insert("reviews", [{"vin": "CAR1", "body": "a review far too long"}])
    assert type(exc.value) is StoreError  # a rule of the table, not a concurrent writer: running again won't help
    assert one_line(exc).startswith("the store refused a write: ")
    assert store.select("reviews") == []


def test_the_store_stays_usable_after_a_refused_transaction(notes):
    # PostgreSQL aborts a transaction at its first error: the store must have rolled it back
    for _ in range(2):
        with pytest.raises(StoreConflictError), notes.transaction():
            notes.insert("notes", [{"vin": "CAR1", "seq": 1}, {"vin": "CAR1", "seq": 1}])
    notes.insert("notes", [{"vin": "CAR1", "seq": 1}])
    write(notes, "CAR1", SPEED, [0], [1.0])
    assert len(notes.select("notes")) == 1 and notes.sample_count("CAR1") == 1


# ---- latest values -----------------------------------------------------------------------------
def test_latest_gives_each_signals_last_sample_in_si_at_an_aware_utc_time(store):
    write(store, "CAR1", SPEED, [30, 10, 20], [3.0, 1.0, 2.0])  # stored out of time order
    write(store, "CAR1", SOC, [5], [0.5])
    latest = store.latest("CAR1", [SPEED, SOC])
    assert latest == {SPEED: (at(30), 3.0), SOC: (at(5), 0.5)}
    for time, value in latest.values():
        assert time.tzinfo is UTC and isinstance(value, float)


def test_latest_leaves_out_signals_without_samples_of_this_vehicle(store):
    write(store, "CAR1", SPEED, [0], [1.0])
    write(store, "CAR2", SOC, [99], [0.9])  # SOC is a stored signal, but not of CAR1
    assert store.latest("CAR1", [SPEED, SOC, "Vehicle.TraveledDistance"]) == {SPEED: (at(0), 1.0)}
    assert store.latest("CAR2", [SPEED, SOC]) == {SOC: (at(99), 0.9)}
    assert store.latest("CAR1", []) == {}


def test_latest_of_an_unknown_vehicle_or_signal_names_the_close_matches(store):
    write(store, "CAR1", SPEED, [0], [1.0])
    with pytest.raises(UnknownNameError, match=r"unknown vehicle 'CAR11'; did you mean 'CAR1'"):
        store.latest("CAR11", [SPEED])
    with pytest.raises(UnknownNameError, match=r"unknown signal 'Vehicle\.Sped'; did you mean 'Vehicle\.Speed'"):
        store.latest("CAR1", ["Vehicle.Sped"])
    with pytest.raises(ValidationError, match="without surrounding spaces"):
        store.latest(" CAR1", [SPEED])


# ---- schema extensions: creating, migrating, refusing --------------------------------------------
def test_extend_creates_the_tables_and_records_name_and_version(store):
    store.extend(REVIEWS_V3)
    assert columns(store, "reviews") == ("vin", "body", "stars", "tags")
    assert ledger(store) == {"reviews": 3}


def test_extending_again_from_another_connection_keeps_the_rows(store, reopen):
    store.extend(REVIEWS_V1)
    store.insert("reviews", [{"vin": "CAR1", "body": "fine"}])
    store.extend(REVIEWS_V1)  # cheap and harmless
    other = reopen()
    other.extend(REVIEWS_V1)
    assert other.select("reviews") == [{"vin": "CAR1", "body": "fine"}]
    assert ledger(other) == {"reviews": 1}


def test_an_older_extension_version_is_migrated_in_place_keeping_its_rows(store, reopen):
    store.extend(REVIEWS_V1)
    store.insert("reviews", [{"vin": "CAR1", "body": "fine"}, {"vin": "CAR2", "body": None}])
    newer = reopen()
    newer.extend(REVIEWS_V3)  # two steps at once
    assert ledger(newer) == {"reviews": 3}
    assert newer.select("reviews", order_by=["vin"]) == [
        {"vin": "CAR1", "body": "fine", "stars": None, "tags": None},
        {"vin": "CAR2", "body": None, "stars": None, "tags": None},
    ]
    newer.update("reviews", {"stars": 4, "tags": ["quiet", "fast"]}, {"vin": "CAR1"})
    assert newer.select("reviews", ["stars", "tags"], {"vin": "CAR1"}) == [{"stars": 4, "tags": ["quiet", "fast"]}]


def test_a_store_written_by_a_newer_extension_version_is_refused(store, reopen):
    store.extend(REVIEWS_V2)
    store.insert("reviews", [{"vin": "CAR1", "stars": 5}])
    older = reopen()
    with pytest.raises(StoreError, match=r"holds extension 'reviews' at version 2, newer than this twinloop's 1"):
        older.extend(REVIEWS_V1)
    with pytest.raises(UnknownNameError):  # and nothing of it can be read through the older declaration
        older.select("reviews")
    assert ledger(store) == {"reviews": 2} and columns(store, "reviews") == ("vin", "body", "stars")
    assert store.select("reviews", ["stars"]) == [{"stars": 5}]


def test_tables_altered_outside_twinloop_are_refused_before_migrating(store, reopen):
    store.extend(REVIEWS_V1)
    store._execute("ALTER TABLE reviews ADD COLUMN stars INTEGER")  # by hand: the v2 step would now fail
    newer = reopen()
    with pytest.raises(StoreError, match=r"records extension 'reviews' at version 1, but its table 'reviews' does"
                       r" not match it: expected columns vin, body, received columns vin, body, stars"):
        newer.extend(REVIEWS_V2)
    assert ledger(store) == {"reviews": 1}


def test_tables_from_before_the_ledger_are_adopted_by_their_columns_and_recorded(store):
    store._execute("CREATE TABLE reviews (vin VARCHAR PRIMARY KEY, body VARCHAR)")  # v1's shape, no ledger row
    store._execute("INSERT INTO reviews VALUES ('CAR1', 'old')")
    store.extend(REVIEWS_V3)
    assert ledger(store) == {"reviews": 3} and columns(store, "reviews") == ("vin", "body", "stars", "tags")
    assert store.select("reviews") == [{"vin": "CAR1", "body": "old", "stars": None, "tags": None}]


def test_a_read_only_duckdb_store_is_not_migrated(tmp_path):
    path = tmp_path / "store.duckdb"
    with DuckDBStore(path) as writer:
        writer.extend(REVIEWS_V1)
        writer.insert("reviews", [{"vin": "CAR1", "body": "fine"}])
    with DuckDBStore(path, read_only=True) as reader:
        with pytest.raises(StoreError, match=r"holds extension 'reviews' at version 1, expected 2: open the store"
                           " for writing once to migrate it"):
            reader.extend(REVIEWS_V2)
        reader.extend(REVIEWS_V1)  # at its own version it reads
        assert reader.select("reviews") == [{"vin": "CAR1", "body": "fine"}]
        with pytest.raises(StoreError, match="read-only"):
            reader.insert("reviews", [{"vin": "CAR2"}])
    with DuckDBStore(path) as writer:
        assert ledger(writer) == {"reviews": 1} and columns(writer, "reviews") == ("vin", "body")


def test_two_extensions_cannot_declare_one_table_differently(store):
    store.extend(REVIEWS_V1)
    with pytest.raises(ValidationError, match="starts with the extension's name 'rival'"):  # refused when declared
        SchemaExtension("rival", (Table("reviews", (Column("vin", "text"), Column("rating", "double"))),))
    # a rival whose name the table happens to start with is refused by the store
    rival = SchemaExtension("rev", (Table("reviews", (Column("vin", "text"), Column("rating", "double"))),))
    with pytest.raises(StoreError, match=r"table 'reviews' of extension 'rev' is already declared otherwise"):
        store.extend(rival)
    assert ledger(store) == {"reviews": 1}


def test_a_plugin_cannot_take_the_name_of_a_table_the_twin_layer_needs(store):
    """A plug-in that created `twins` first broke every twin command on that store."""
    with pytest.raises(ValidationError, match="starts with the extension's name 'myplugin'"):
        SchemaExtension("myplugin", (Table("twins", (Column("a", "text"),)),))


def test_a_migration_declaring_another_column_type_than_the_table_is_refused():
    """A store migrated in place got a VARCHAR column where a new store got an INTEGER one."""
    base = (Column("vin", "text", nullable=False), Column("n", "integer"))
    with pytest.raises(ValidationError, match=r"the column as table notes declares it \(integer"):
        SchemaExtension("notes", (Table("notes", (*base, Column("note2", "integer"))),),
                        migrations=(AddColumn("notes", Column("note2", "text")),))
    with pytest.raises(ValidationError, match="each column added once"):
        SchemaExtension("notes", (Table("notes", (*base, Column("note2", "integer"))),),
                        migrations=(AddColumn("notes", Column("note2", "integer")),) * 2)


def test_a_later_version_may_add_a_table_and_an_older_store_gets_it(store):
    """Version 2 adds a table: a version-1 store gets it created, rows of the old table kept."""
    v1 = SchemaExtension("notes", (Table("notes", (Column("vin", "text", nullable=False),)),))
    store.extend(v1)
    store.insert("notes", [{"vin": "CAR1"}])
    v2 = SchemaExtension(
        "notes",
        (Table("notes", (Column("vin", "text", nullable=False), Column("n", "integer"))),
         Table("notes_extra", (Column("vin", "text", nullable=False), Column("at", "timestamp")))),
        migrations=(AddColumn("notes", Column("n", "integer")), AddTable("notes_extra")),
    )
    store.extend(v2)
    assert store.select("notes") == [{"vin": "CAR1", "n": None}]
    store.insert("notes_extra", [{"vin": "CAR1", "at": datetime(2024, 5, 1, tzinfo=UTC)}])
    assert store.select("notes_extra")[0]["at"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert ledger(store)["notes"] == 3


# ---- typed reads and writes: only extension tables, only declared columns --------------------------
@pytest.mark.parametrize("table", sorted(CORE_TABLES))
def test_select_of_a_store_table_is_refused(notes, table):
    hint = "the store's own tables are read through its telemetry methods"
    with pytest.raises(UnknownNameError, match=hint):
        notes.select(table)
    with pytest.raises(UnknownNameError, match=hint):
        notes.insert(table, [{"vin": "CAR1"}])
    with pytest.raises(UnknownNameError, match=hint):
        notes.update(table, {"vin": "CAR2"}, {"vin": "CAR1"})
    with pytest.raises(UnknownNameError, match=hint):
        notes.delete(table, {"vin": "CAR1"})


def test_a_table_of_an_extension_this_store_never_registered_is_refused(store, reopen):
    reopen().extend(REVIEWS_V1)  # the table exists in the database, registered by another connection
    with pytest.raises(UnknownNameError, match=r"unknown extension table 'reviews'.*store\.extend"):
        store.select("reviews")


def test_unknown_columns_name_the_close_matches(notes):
    did_you_mean = r"unknown column of table notes 'txet'; did you mean 'text'"
    with pytest.raises(UnknownNameError, match=did_you_mean):
        notes.select("notes", ["vin", "txet"])
    with pytest.raises(UnknownNameError, match=did_you_mean):
        notes.select("notes", where={"txet": "x"})
    with pytest.raises(UnknownNameError, match=did_you_mean):
        notes.select("notes", where={"txet": None})
    with pytest.raises(UnknownNameError, match=did_you_mean):
        notes.select("notes", order_by=["-txet"])
    with pytest.raises(UnknownNameError, match=did_you_mean):
        notes.insert("notes", [{"vin": "CAR1", "seq": 1, "txet": "x"}])
    with pytest.raises(UnknownNameError, match=did_you_mean):
        notes.update("notes", {"txet": "x"}, {"vin": "CAR1"})
    assert notes.select("notes") == []


def test_identifiers_are_checked_so_sql_cannot_ride_in_on_a_name(notes):
    notes.insert("notes", [{"vin": "CAR1", "seq": 1}])
    for hostile in ("vin = vin OR 1=1 --", "vin; DROP TABLE samples", "seq) VALUES (1); --"):
        with pytest.raises(UnknownNameError):
            notes.select("notes", [hostile])
        with pytest.raises(UnknownNameError):
            notes.delete("notes", {hostile: 1})
        with pytest.raises(UnknownNameError):
            notes.select("notes", order_by=[hostile])
    assert len(notes.select("notes")) == 1 and "samples" in notes._table_columns()


def test_values_are_parameters_never_sql(notes):
    hostile = "'); DROP TABLE samples; --"
    notes.insert("notes", [{"vin": hostile, "seq": 1, "text": hostile}])
    assert notes.select("notes", ["vin", "text"], {"vin": hostile}) == [{"vin": hostile, "text": hostile}]
    assert notes.sample_count() == 0  # samples is still there


def test_update_without_where_is_refused(notes):
    notes.insert("notes", [{"vin": "CAR1", "seq": 1, "text": "a"}, {"vin": "CAR2", "seq": 1, "text": "b"}])
    for where in ({}, None):
        with pytest.raises(ValidationError, match=r"where: expected at least one column to match \(an update of"
                           r" every row is refused\)"):
            notes.update("notes", {"text": "all"}, where)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="values: expected at least one column to set"):
        notes.update("notes", {}, {"vin": "CAR1"})
    assert [r["text"] for r in notes.select("notes", order_by=["vin"])] == ["a", "b"]


def test_delete_without_where_is_refused(notes):
    notes.insert("notes", [{"vin": "CAR1", "seq": 1}, {"vin": "CAR2", "seq": 1}])
    for where in ({}, None):
        with pytest.raises(ValidationError, match=r"a delete of every row is refused"):
            notes.delete("notes", where)  # type: ignore[arg-type]
    assert len(notes.select("notes")) == 2


def test_update_and_delete_touch_only_matching_rows_and_count_them(notes):
    notes.insert("notes", [
        {"vin": "CAR1", "seq": 1, "text": None}, {"vin": "CAR1", "seq": 2, "text": "x"},
        {"vin": "CAR2", "seq": 1, "text": None},
    ])
    assert notes.update("notes", {"text": "was null"}, {"vin": "CAR1", "text": None}) == 1  # None matches NULL
    assert notes.select("notes", ["seq", "text"], {"vin": "CAR1"}, order_by=["seq"]) == [
        {"seq": 1, "text": "was null"}, {"seq": 2, "text": "x"}]
    assert notes.update("notes", {"text": "y"}, {"vin": "CAR9"}) == 0
    assert notes.delete("notes", {"vin": "CAR1"}) == 2
    assert notes.select("notes", ["vin", "text"]) == [{"vin": "CAR2", "text": None}]


def test_order_by_descending_and_limit(notes):
    notes.insert("notes", [{"vin": v, "seq": s, "score": float(s)} for v in ("B", "A") for s in (1, 2, 3)])
    rows = notes.select("notes", ["vin", "seq"], order_by=["vin", "-seq"], limit=4)
    assert rows == [{"vin": "A", "seq": 3}, {"vin": "A", "seq": 2}, {"vin": "A", "seq": 1}, {"vin": "B", "seq": 3}]
    assert notes.select("notes", limit=0) == []


@pytest.mark.parametrize("limit", [-1, True, 1.5, "10", MAX_SELECT_ROWS + 1])
def test_a_limit_outside_its_range_is_refused(notes, limit):
    with pytest.raises(ValidationError, match=rf"limit: expected an integer in \[0, {MAX_SELECT_ROWS}\]"):
        notes.select("notes", limit=limit)


def test_an_insert_of_too_many_rows_is_refused_before_writing(notes):
    rows = [{"vin": "CAR1", "seq": i} for i in range(MAX_INSERT_ROWS + 1)]
    with pytest.raises(ValidationError, match=rf"rows: expected at most {MAX_INSERT_ROWS} per insert"):
        notes.insert("notes", rows)
    assert notes.select("notes", limit=1) == []


def test_not_null_is_checked_before_writing_and_a_bad_row_writes_none_of_its_insert(notes):
    with pytest.raises(ValidationError, match=r"notes\.seq: expected a value \(the column is NOT NULL\), received"
                       " None"):
        notes.insert("notes", [{"vin": "CAR1", "seq": 1}, {"vin": "CAR1"}])
    with pytest.raises(ValidationError, match=r"notes\.vin: expected a value"):
        notes.insert("notes", [{"vin": None, "seq": 1}])
    assert notes.select("notes") == []
    notes.insert("notes", [{"vin": "CAR1", "seq": 1}])
    with pytest.raises(ValidationError, match=r"notes\.seq: expected a value"):
        notes.update("notes", {"seq": None}, {"vin": "CAR1"})
    assert notes.select("notes", ["seq"]) == [{"seq": 1}]


# ---- typed values: the same answer on both backends ----------------------------------------------
@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        # each of these was stored by one backend and refused or changed by the other, or rounded by both
        ("text", 42, "text"),
        ("seq", 1.5, "an integer"),
        ("seq", "42", "an integer"),
        ("seq", True, "an integer"),
        ("seq", 2**31, r"an integer in \[-2147483648, 2147483647\]"),
        ("count", 2**63, r"an integer in \[-9223372036854775808, 9223372036854775807\]"),
        ("score", "1e3", "a real number"),
        ("score", True, "a real number"),
        ("pinned", 1, "True or False"),
        ("pinned", "no", "True or False"),
        ("at", "2024-05-01T10:00:00Z", "a datetime"),
        ("at", 1_714_557_600, "a datetime"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_alike_on_both_backends(notes, column, value, expected):
    row = {"vin": "CAR1", "seq": 1, column: value}
    with pytest.raises(ValidationError, match=rf"notes\.{column}: expected {expected}"):
        notes.insert("notes", [row])
    with pytest.raises(ValidationError, match=rf"notes\.{column}: expected {expected}"):
        notes.select("notes", where={column: value})  # a read with it would be a driver error otherwise
    assert notes.select("notes") == []


def test_numbers_at_the_limits_of_their_columns_round_trip_exactly(notes):
    rows = [  # in the order of -seq
        {"vin": "CAR1", "seq": 2**31 - 1, "count": 2**63 - 1, "score": 0.1, "pinned": True},
        {"vin": "CAR1", "seq": 0, "count": np.int64(7), "score": np.float64(1.7976931348623157e308),
         "pinned": np.bool_(True)},
        {"vin": "CAR1", "seq": -(2**31), "count": -(2**63), "score": 5e-324, "pinned": False},
    ]
    notes.insert("notes", rows)
    back = notes.select("notes", ["seq", "count", "score", "pinned"], order_by=["-seq"])
    assert back == [{k: v for k, v in r.items() if k != "vin"} for r in rows]
    assert all(type(r["count"]) is int and type(r["score"]) is float and type(r["pinned"]) is bool for r in back)


def test_timestamps_round_trip_as_aware_utc(notes):
    plus_two = timezone(timedelta(hours=2))
    notes.insert("notes", [
        {"vin": "naive", "seq": 1, "at": datetime(2024, 5, 1, 10, 0, 0, 123456)},  # taken as UTC
        {"vin": "zoned", "seq": 1, "at": datetime(2024, 5, 1, 12, 0, 0, 123456, plus_two)},  # converted
        {"vin": "utc", "seq": 1, "at": datetime(2024, 5, 1, 10, 0, 0, 123456, UTC)},
    ])
    expected = datetime(2024, 5, 1, 10, 0, 0, 123456, UTC)
    rows = notes.select("notes", ["vin", "at"], order_by=["vin"])
    assert [r["at"] for r in rows] == [expected] * 3
    assert all(r["at"].tzinfo is UTC for r in rows)
    # a match in another zone finds the same instant
    assert len(notes.select("notes", where={"at": datetime(2024, 5, 1, 5, 0, 0, 123456, timezone(-timedelta(hours=5)))})) == 3
    notes.update("notes", {"at": datetime(2024, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1)))}, {"vin": "utc"})
    assert notes.select("notes", ["at"], {"vin": "utc"}) == [{"at": datetime(2025, 1, 1, 0, 30, tzinfo=UTC)}]


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, 2.5, None, True, False], "a": "ünïcødé ✓", "nested": {"empty": {}, "list": []}},
        # PostgreSQL's JSONB gave 1e16 back as an int, and 1.7976931348623157e308 as another number
        [0.1, 1e-300, 5e-324, 1e16, 1.7976931348623157e308, -1.5e200, 2**53 + 1, 2**70],
        {"model": {"mass": 1800.0, "energy": 2.7e8, "drag": 0.25, "tiny": 1e-12, "huge": 6.02214076e23}},
        "just text",
        12345,
        0.30000000000000004,
        False,
    ],
)
def test_json_round_trips_to_equal_python_values_of_the_same_types(notes, value):
    notes.insert("notes", [{"vin": "CAR1", "seq": 1, "payload": value}])
    back = notes.select("notes", ["payload"])[0]["payload"]
    assert back == value and _types(back) == _types(value)
    assert len(notes.select("notes", where={"payload": value})) == 1  # a match by JSON value


def _types(value: object) -> object:
    """The structure of `value` with each leaf replaced by its type (1 == 1.0, but an int is not a float)."""
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [(float("nan"), "ValueError"), ({"x": float("inf")}, "ValueError"), ({"when": datetime(2024, 1, 1)}, "TypeError"),
     ({1, 2}, "TypeError"), ({("a", "b"): 1}, "TypeError"),
     ({1: "a"}, "TypeError: keys must be str"),  # json.dumps would store it as "1" and give back another dict
     ],
)
def test_json_refuses_what_it_cannot_encode_faithfully(notes, value, why):
    with pytest.raises(ValidationError, match=rf"notes\.payload: expected a JSON value of finite numbers.*{why}"):
        notes.insert("notes", [{"vin": "CAR1", "seq": 1, "payload": value}])
    assert notes.select("notes") == []


def test_a_json_null_and_a_missing_value_both_read_as_none(notes):
    notes.insert("notes", [{"vin": "CAR1", "seq": 1, "payload": None}, {"vin": "CAR1", "seq": 2}])
    assert notes.select("notes", ["payload"]) == [{"payload": None}, {"payload": None}]


def test_reserved_words_are_names_like_any_other(store):
    # the names pass the identifier rule, so the SQL must quote them: unquoted, both databases refused these
    words = SchemaExtension("order", (Table("order", (
        Column("user", "text", nullable=False), Column("select", "integer"), Column("at", "timestamp"),
        Column("from", "json"), Column("table", "boolean")), primary_key=("user",)),))
    store.extend(words)
    row = {"user": "u", "select": 1, "at": at(0), "from": {"to": "x"}, "table": True}
    store.insert("order", [row])
    assert store.select("order", where={"select": 1}, order_by=["-at", "user"]) == [row]
    assert store.update("order", {"table": False}, {"user": "u"}) == 1
    assert store.delete("order", {"table": False}) == 1


def test_a_read_the_database_refuses_is_a_store_error_not_a_driver_error(notes):
    notes._execute("DROP TABLE notes")  # behind the API's back
    with pytest.raises(StoreError) as exc:
        notes.select("notes")
    assert not isinstance(exc.value, DRIVER_ERRORS) and one_line(exc).startswith("the store refused a read: ")


def test_every_refusal_of_the_api_is_a_twinloop_error(notes):
    # the command line prints a TwinloopError as one line; anything else would be a traceback
    attempts: list[Callable[[], object]] = [
        lambda: notes.select("samples"),
        lambda: notes.select("notes", ["nope"]),
        lambda: notes.insert("notes", [{"vin": "CAR1"}]),
        lambda: notes.insert("notes", [{"vin": "CAR1", "seq": 1, "at": "today"}]),
        lambda: notes.update("notes", {"text": "x"}, {}),
        lambda: notes.delete("notes", {}),
        lambda: notes.latest("NOPE", [SPEED]),
        lambda: notes.extend(SchemaExtension("rival", (Table("notes", (Column("x", "text"),)),))),
    ]
    for attempt in attempts:
        with pytest.raises(TwinloopError):
            attempt()


def test_one_string_where_a_list_is_meant_is_refused_not_read_a_character_at_a_time(notes):
    """`latest(vin, "Vehicle.Speed")` said "unknown signal 'V'"."""
    with pytest.raises(ValidationError, match="signals: expected a list of signal paths"):
        notes.latest("CAR1", "Vehicle.Speed")
    with pytest.raises(ValidationError, match="columns: expected a list of column names"):
        notes.select("notes", columns="vin")
    with pytest.raises(ValidationError, match="order_by: expected a list of column names"):
        notes.select("notes", order_by="vin")
    with pytest.raises(ValidationError, match="rows: expected a list of rows"):
        notes.insert("notes", {"vin": "C"})
    with pytest.raises(ValidationError, match="columns: expected at least one column name"):
        notes.select("notes", columns=[])


def test_values_one_backend_would_store_and_the_other_refuse_are_refused_on_both(notes):
    """NUL in text (DuckDB stored it, PostgreSQL refused), a 10 MB key (the same), pandas' NaT (stored as NULL)."""
    import pandas as pd

    with pytest.raises(ValidationError, match="without NUL"):
        notes.insert("notes", [{"vin": "N\x00UL", "seq": 1}])
    with pytest.raises(ValidationError, match="key text of at most 512 characters"):
        notes.insert("notes", [{"vin": "V" * 10_000_000, "seq": 1}])
    with pytest.raises(ValidationError, match="a datetime"):
        notes.insert("notes", [{"vin": "CAR1", "seq": 1, "at": pd.NaT}])
    assert notes.select("notes") == []
