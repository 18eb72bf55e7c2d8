"""The data commands, through click's test runner on a group of their own."""

import json

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from twinloop.cli.data import register
from twinloop.errors import TwinloopError


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "cli.duckdb"))
    group = click.Group("twinloop")
    register(group)
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(group, list(args), catch_exceptions=True)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def data(tmp_path):
    t = pd.Timestamp("2024-05-01T10:00:00Z") + pd.to_timedelta(np.arange(60), unit="s")
    f = tmp_path / "w.csv"
    pd.DataFrame({"time": t, "Vehicle.Speed": np.arange(60.0) * 3.6}).to_csv(f, index=False)
    return f


def test_ingest_then_query_vehicles_trips(cli, data, tmp_path):
    out = cli("ingest", str(data), "--vehicle", "CAR1", "--json")
    assert json.loads(out.output.strip().splitlines()[-1])["inserted"] == 60
    assert "CAR1" in cli("vehicles").output
    csv = cli("query", "-v", "CAR1", "-s", "Vehicle.Speed", "--every", "10s").output.splitlines()
    assert csv[0] == '"time","Vehicle.Speed"' and len(csv) == 7
    assert float(csv[1].split(",")[1]) == pytest.approx(4.5)
    lines = cli(
        "query", "-v", "CAR1", "-s", "Vehicle.Speed", "--format", "json"
    ).output.splitlines()
    assert len(lines) == 60 and json.loads(lines[1])["Vehicle.Speed"] == pytest.approx(1.0)
    pq_out = tmp_path / "q.parquet"
    cli("query", "-v", "CAR1", "-s", "Vehicle.Speed", "--format", "parquet", "-o", str(pq_out))
    assert pd.read_parquet(pq_out).shape == (60, 2)
    assert "gap" in cli("trips", "--vehicle", "CAR1").output
    second = cli("ingest", str(data), "--vehicle", "CAR1")
    assert "already ingested" in second.output


def test_user_errors_are_twinloop_errors_with_suggestions(cli, data):
    cli("ingest", str(data), "--vehicle", "CAR1")
    bad = cli("query", "-v", "CAR1", "-s", "Vehicle.Sped", ok=False)
    assert isinstance(bad.exception, TwinloopError) and "Vehicle.Speed" in str(bad.exception)
    bad = cli("query", "-v", "CAR1", "-s", "Vehicle.Speed", "--every", "soon", ok=False)
    assert isinstance(bad.exception, TwinloopError)


def test_can_manifest_writes_a_starter(cli, tmp_path):
    from pathlib import Path

    dbc = Path(__file__).parent.parent / "data" / "opendbc" / "tesla_model3_party.dbc"
    out = cli("can", "manifest", "--dbc", str(dbc)).output
    assert "[[map]]" in out and 'vss = "Vehicle.Speed"' in out
    bad = cli("can", "manifest", "--dbc", str(dbc.with_name("chrysler_cusw.dbc")), ok=False)
    assert isinstance(bad.exception, TwinloopError)


def test_help_teaches_with_examples(cli):
    for cmd in (["ingest"], ["query"], ["vehicles"], ["trips"], ["can", "manifest"]):
        assert "Example" in cli(*cmd, "--help").output
