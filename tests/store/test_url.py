from pathlib import Path

import pytest

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.store import BACKENDS, DuckDBStore, PostgresStore, default_store_url, open_store


def test_default_store_is_a_duckdb_file_in_the_user_data_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("TWINLOOP_STORE", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_url() == f"duckdb:///{tmp_path}/twinloop/telemetry.duckdb"
    s = open_store()
    assert isinstance(s, DuckDBStore)
    s.close()
    assert (tmp_path / "twinloop" / "telemetry.duckdb").exists()


def test_env_var_overrides_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "x.duckdb"))
    assert default_store_url() == str(tmp_path / "x.duckdb")


def test_every_registered_backend_opens(tmp_path, fresh_pg_url):
    for scheme, factory in BACKENDS.items():
        url = (
            f"duckdb:///{tmp_path}/{scheme}.duckdb"
            if scheme == "duckdb"
            else fresh_pg_url.replace("postgresql", scheme, 1)
        )
        s = factory(url, None)
        assert s.sample_count() == 0
        if isinstance(s, PostgresStore):
            s.drop_schema()
        s.close()


def test_unknown_scheme_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="postgresql"):
        open_store("postgresq://x")
    with pytest.raises(UnknownNameError, match=r"Known schemes: duckdb://, postgresql://"):
        open_store("sqlite:///x.db")  # nothing close: the valid ones are listed


def test_opening_a_missing_duckdb_store_to_read_creates_nothing(tmp_path):
    from twinloop.errors import StoreError

    missing = tmp_path / "sub" / "fleet.duckdb"
    for url in (str(missing), f"duckdb:///{missing}"):
        with pytest.raises(StoreError, match=r"does not exist.*--store PATH or \$TWINLOOP_STORE.*twinloop ingest") as err:
            open_store(url, create=False)
        assert str(missing) in str(err.value)
    assert not missing.parent.exists()
    open_store(str(missing)).close()  # the default creates it
    open_store(str(missing), create=False).close()  # and then it opens to read


def test_opening_a_postgres_schema_without_a_store_to_read_is_refused(fresh_pg_url):
    from twinloop.errors import StoreError

    with pytest.raises(StoreError, match=r"no twinloop store in PostgreSQL database 'test'"):
        open_store(fresh_pg_url, create=False)
    s = open_store(fresh_pg_url)
    try:
        open_store(fresh_pg_url, create=False).close()
    finally:
        s.drop_schema()
        s.close()


def test_unreachable_postgres_database_is_named_with_the_default_port():
    from twinloop.errors import StoreError

    with pytest.raises(StoreError) as err:
        PostgresStore("postgresql://postgres@127.0.0.1/twinloop_no_such_db")
    text = str(err.value)
    assert "database 'twinloop_no_such_db' at 127.0.0.1:5432 as user 'postgres'" in text
    assert "does not exist" in text and "\n" not in text


def test_malformed_postgres_port_is_a_store_error():
    from twinloop.errors import StoreError

    with pytest.raises(
        StoreError, match=r"port in .*: expected a number such as 5432, received 'x'"
    ):
        PostgresStore("postgresql://postgres@127.0.0.1:x/test")


@pytest.mark.parametrize("url", ["duckdb://", "duckdb:///", "duckdb:"])
def test_duckdb_url_without_a_path_is_refused_not_an_in_memory_store(url):
    from twinloop.errors import StoreError

    with pytest.raises(StoreError, match=r"path.*duckdb://:memory:"):
        open_store(url)


@pytest.mark.parametrize("content", [b"time,Vehicle.Speed\n1,2\n", b"PAR1\x00\x00", b"\x00" * 100])
def test_an_existing_file_that_is_not_duckdb_is_refused_and_left_alone(tmp_path, content):
    from twinloop.errors import StoreError

    f = tmp_path / "fleet.csv"
    f.write_bytes(content)
    for create in (True, False):
        with pytest.raises(StoreError, match=r"fleet\.csv is not a DuckDB database"):
            open_store(str(f), create=create)
    assert f.read_bytes() == content and sorted(p.name for p in tmp_path.iterdir()) == ["fleet.csv"]


def test_malformed_postgres_url_is_a_store_error():
    from twinloop.errors import StoreError

    with pytest.raises(StoreError, match=r"postgresql://\[::1/test"):
        open_store("postgresql://[::1/test")


def test_a_store_opened_by_a_relative_path_reopens_from_its_url(tmp_path, monkeypatch):
    # The url used to read duckdb:///rel/x.duckdb, which opens /rel/x.duckdb.
    monkeypatch.chdir(tmp_path)
    store = DuckDBStore("rel/x.duckdb")
    store.close()
    monkeypatch.chdir("/")
    again = open_store(store.url)
    assert again.url == store.url and again.url.endswith(str(tmp_path / "rel" / "x.duckdb"))
    again.close()
    assert not Path("/rel").exists()


def test_an_empty_url_is_refused_not_read_as_the_default_store(monkeypatch, tmp_path):
    # `--store "$UNSET"` must not write into the user's default store
    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "default.duckdb"))
    for url in ("", "  "):
        with pytest.raises(ValidationError, match="store: expected a DuckDB file path or a store URL"):
            open_store(url)
    assert not (tmp_path / "default.duckdb").exists()


def test_reading_a_duckdb_file_of_other_tables_leaves_it_untouched(tmp_path):
    # `twinloop twin list --store analytics.duckdb` must not add twinloop's tables to a user's database
    import duckdb

    from twinloop.errors import StoreError

    path = tmp_path / "analytics.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE sales (x INTEGER)")
    with pytest.raises(StoreError, match=r"no twinloop store in DuckDB file .*analytics.duckdb.*twinloop ingest"):
        open_store(str(path), create=False)
    with duckdb.connect(str(path)) as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {"sales"}


def test_a_store_another_process_writes_is_named_as_in_use(tmp_path):
    # DuckDB lets one process write a file at a time: say so, not "IO Error: Could not set lock"
    import subprocess
    import sys

    from twinloop.errors import StoreError

    path = tmp_path / "fleet.duckdb"
    open_store(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True);"
         " sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match=rf"is in use by another process \(PID {holder.pid}\).*run this one again"):
            open_store(str(path))
    finally:
        holder.communicate("")
