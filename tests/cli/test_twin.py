"""The twin commands, through click's test runner on the real ``twinloop`` group."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from twinloop.cli import main
from twinloop.parameters import resolve_vehicle
from twinloop.store import PostgresStore

LEAF = "nissan_leaf_40kwh_2018"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "cli.duckdb"))
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, ["twin", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return run


def test_create_list_show_models_restore(cli):
    out = cli("create", "5YJ3E1EA7KF000001", "--vehicle", LEAF, "--name", "fleet car 7").output
    assert "created twin 5YJ3E1EA7KF000001 (fleet car 7): model v1, physics, champion" in out
    listing = cli("list").output
    assert "5YJ3E1EA7KF000001" in listing and "fleet car 7" in listing and "v1 physics" in listing
    show = cli("show", "5YJ3E1EA7KF000001").output
    assert "champion    v1 (physics, PhysicsConsumptionModel)" in show
    assert "state_of_charge      unknown" in show and "initial" in show
    assert "restored v1 of 5YJ3E1EA7KF000001 as v2 (champion)" in cli("restore", "5YJ3E1EA7KF000001", "1").output
    doc = json.loads(cli("show", "5YJ3E1EA7KF000001", "--format", "json").output)
    assert doc["vin"] == "5YJ3E1EA7KF000001" and doc["vehicle"]["name"] == LEAF
    assert doc["champion"]["version"] == 2 and doc["champion"]["reason"] == "restore of v1"
    assert [m["status"] for m in doc["models"]] == ["retired", "champion"]
    assert doc["models"][0]["parameters"] == doc["champion"]["parameters"]
    models = cli("models", "5YJ3E1EA7KF000001").output.splitlines()
    assert len(models) == 3 and "restore of v1" in models[2]
    as_json = json.loads(cli("models", "5YJ3E1EA7KF000001", "--format", "json").output)
    assert [m["version"] for m in as_json] == [1, 2]


def test_create_from_a_toml_file_keeps_the_vehicle(cli, tmp_path):
    from twinloop.parameters import dump_vehicle

    spec = resolve_vehicle(LEAF).with_changes(name="my leaf", test_mass=1800.0)
    path = tmp_path / "my_leaf.toml"
    path.write_text(dump_vehicle(spec))
    cli("create", "CAR7", "--vehicle", str(path))
    doc = json.loads(cli("show", "CAR7", "--format", "json").output)
    assert doc["name"] == "my leaf" and doc["vehicle"]["test_mass"] == 1800.0


def test_user_errors_are_one_line_with_suggestions(cli):
    cli("create", "5YJ3E1EA7KF000001", "--vehicle", LEAF)
    dup = cli("create", "5YJ3E1EA7KF000001", "--vehicle", LEAF, code=2)
    assert "error: vin" in dup.output and "A twin of 5YJ3E1EA7KF000001 exists" in dup.output
    assert "Traceback" not in dup.output
    unknown = cli("show", "5YJ3E1EA7KF000002", code=2)
    assert "unknown twin '5YJ3E1EA7KF000002'; did you mean '5YJ3E1EA7KF000001'?" in unknown.output
    assert "Known versions: 1" in cli("restore", "5YJ3E1EA7KF000001", "4", code=2).output
    bad_vehicle = cli("create", "X", "--vehicle", "nissan_leaf", code=2)
    assert "did you mean" in bad_vehicle.output
    assert cli("list").output.count("5YJ3E1EA7KF") == 1


def test_empty_store_lists_none(cli):
    assert cli("list").output.strip() == "(none)"


def test_the_store_option_reaches_postgresql(cli, fresh_pg_url):
    try:
        cli("create", "PGCAR", "--vehicle", LEAF, "--store", fresh_pg_url)
        assert "PGCAR" in cli("list", "--store", fresh_pg_url).output
        assert "(none)" in cli("list").output  # the default store is another database
    finally:
        pg = PostgresStore(fresh_pg_url)
        pg.drop_schema()
        pg.close()


def test_help_teaches_with_examples(cli):
    for cmd in (["create"], ["show"], ["list"], ["models"], ["restore"], []):
        assert "Example" in cli(*cmd, "--help").output
