import pytest

from twinloop.errors import UnknownNameError
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
