"""The data commands, through click's test runner on a group of their own."""

import json
from pathlib import Path

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


# ---- bad input through the real `twinloop` command: counted, reported, no traceback ------
# Each case of the list ends in a one-line error (exit 2) or in a report
# whose quarantine lines name the reason and count it.
SIGNALS_DATA = Path(__file__).parents[2] / "src" / "twinloop" / "signals" / "data"
EV_DBC, EV_MANIFEST = SIGNALS_DATA / "twinloop_ev.dbc", SIGNALS_DATA / "twinloop_ev.toml"
T0 = 1_714_557_600.0


@pytest.fixture
def twinloop(tmp_path, monkeypatch):
    """Run `twinloop ...` (the console script's group); return (exit code, all output)."""
    from twinloop.cli import main

    monkeypatch.setenv("TWINLOOP_STORE", str(tmp_path / "bad.duckdb"))
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        text = result.output  # stdout and stderr, interleaved
        assert "Traceback" not in text
        assert result.exit_code == code, text
        return text

    return run


def _report(text):
    return json.loads(text.strip().splitlines()[-1])


def _ev_frames(n=20):
    from twinloop.signals import DecoderManifest, default_catalog, encode_series, load_dbc

    return encode_series(
        load_dbc(EV_DBC),
        DecoderManifest.load(EV_MANIFEST),
        default_catalog(),
        T0 + np.arange(float(n)),
        {"Vehicle.Speed": np.linspace(0, 20, n)},
    )


def test_cli_truncated_parquet_is_one_line_error(twinloop, tmp_path):
    f = tmp_path / "t.parquet"
    pd.DataFrame({"time": np.arange(1000.0) + T0, "Vehicle.Speed": 1.0}).to_parquet(f)
    f.write_bytes(f.read_bytes()[:-300])
    out = twinloop("ingest", f, "-v", "CAR1", code=2)
    assert "error:" in out and "truncated?" in out


def test_cli_truncated_csv_and_candump_count_the_cut_line(twinloop, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("time,Vehicle.Speed,Vehicle.Exterior.AirTemperature\n1714557600,3,20\n17145576")
    out = twinloop("ingest", f, "-v", "CAR1")
    assert "quarantined         1  malformed row: 1 fields, the header has 3" in out
    from twinloop.ingest import write_can_log

    log = tmp_path / "t.log"
    write_can_log(log, _ev_frames())
    log.write_text(log.read_text()[:-8])  # the last frame's payload cut short
    out = twinloop("ingest", log, "-v", "CAR1", "--dbc", EV_DBC, "--manifest", EV_MANIFEST)
    assert "payload of" in out and "quarantined" in out


def test_cli_truncated_blf_ingests_the_readable_part_and_says_so(twinloop, tmp_path):
    from twinloop.ingest import write_can_log

    log = tmp_path / "t.blf"
    write_can_log(log, _ev_frames(2000))
    log.write_bytes(log.read_bytes()[: int(log.stat().st_size * 0.6)])
    args = ("-v", "CAR1", "--dbc", EV_DBC, "--manifest", EV_MANIFEST, "--json")
    r = _report(twinloop("ingest", log, *args))
    assert r["rows_read"] < 2000
    assert r["inserted"] > 0 or any("unreadable" in k for k in r["reasons"])


def test_cli_wrong_delimiters(twinloop, tmp_path):
    semi = tmp_path / "semi.csv"
    semi.write_text("time;Vehicle.Speed\n1714557600;36\n1714557601;36\n")
    assert _report(twinloop("ingest", semi, "-v", "CAR1", "--json"))["delimiter"] == ";"
    mixed = tmp_path / "mixed.csv"  # header with commas, rows with semicolons
    mixed.write_text("time,Vehicle.Speed\n1714557600;36\n1714557601;36\n")
    out = twinloop("ingest", mixed, "-v", "CAR1")
    assert "quarantined         2  malformed row: 1 fields, the header has 2" in out
    space = tmp_path / "space.csv"
    space.write_text("time Vehicle.Speed\n1714557600 36\n")
    out = twinloop("ingest", space, "-v", "CAR1", code=2)
    assert "is the delimiter right?" in out


def test_cli_unknown_signals_suggest_close_matches(twinloop, tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("time,Vehicle.Sped\n1714557600,36\n")
    out = twinloop("ingest", wide, "-v", "CAR1", code=2)
    assert "Vehicle.Sped" in out and "Vehicle.Speed" in out
    long = tmp_path / "long.csv"
    long.write_text("time,signal,value\n1714557600,Vehicle.Sped,36\n1714557600,Vehicle.Speed,36\n")
    out = twinloop("ingest", long, "-v", "CAR1")
    assert "quarantined         1" in out and "did you mean 'Vehicle.Speed'" in out


def test_cli_out_of_range_nan_duplicate_and_out_of_order_values(twinloop, tmp_path):
    f = tmp_path / "v.csv"
    f.write_text(
        "time,Vehicle.Speed\n"
        "1714557600,36\n"
        "1714557602,900\n"  # out of range (250 m/s)
        "1714557601,nan\n"  # NaN, and earlier than the row before
        "1714557603,40\n"
        "1714557603,40\n"  # exact repeat
        "1714557603,41\n"  # same time, other value
        "1714557601.5,20\n"  # earlier than the rows before it
    )
    out = twinloop("ingest", f, "-v", "CAR1")
    assert "quarantined         1  outside the valid range" in out
    assert "quarantined         1  value is NaN" in out
    assert "quarantined         1  a second, different value at the same time" in out
    assert "1 repeated in the file" in out
    assert "out of time order (sorted)" in out


def test_cli_unknown_frame_ids_and_wrong_payload_lengths_are_counted(twinloop, tmp_path):
    from twinloop.ingest import write_can_log
    from twinloop.signals import FrameBatch

    extra = FrameBatch.from_frames(
        [(T0 + 0.5, 0x7AB, bytes(8)), (T0 + 0.6, 0x7AB, bytes(8)), (T0 + 0.7, 0x200, bytes(3))]
    )
    log = tmp_path / "d.log"
    write_can_log(log, FrameBatch.concat([_ev_frames(), extra]))
    out = twinloop("ingest", log, "-v", "CAR1", "--dbc", EV_DBC, "--manifest", EV_MANIFEST)
    assert "quarantined         2  frame id 0x7ab not in the DBC" in out
    assert "quarantined         1  BMS_Pack: payload of 3 bytes, the DBC says otherwise" in out
    assert "stored 0 new" not in out


@pytest.mark.parametrize(
    "content",
    [b"garbage\n", b"", bytes(range(256)) * 2],
    ids=["text", "empty", "binary"],
)
def test_cli_dbc_that_does_not_parse_is_one_line_error(twinloop, tmp_path, content):
    from twinloop.ingest import write_can_log

    log = tmp_path / "d.log"
    write_can_log(log, _ev_frames())
    dbc = tmp_path / "bad.dbc"
    dbc.write_bytes(content)
    out = twinloop("ingest", log, "-v", "CAR1", "--dbc", dbc, "--manifest", EV_MANIFEST, code=2)
    assert "not a valid DBC file" in out
    assert len(out.strip().splitlines()) == 1


def test_cli_truncated_dbc_names_the_messages_it_lacks(twinloop, tmp_path):
    # cantools reads a DBC cut between definitions as the messages before the cut
    from twinloop.ingest import write_can_log

    log = tmp_path / "d.log"
    write_can_log(log, _ev_frames())
    dbc = tmp_path / "cut.dbc"
    text = EV_DBC.read_text()
    dbc.write_text(text[: text.index("BO_ ", text.index("BO_ ") + 1)])
    out = twinloop("ingest", log, "-v", "CAR1", "--dbc", dbc, "--manifest", EV_MANIFEST, code=2)
    assert out.startswith("error: unknown DBC message") and len(out.strip().splitlines()) == 1


def test_cli_csv_that_is_not_utf8_is_one_line_error(twinloop, tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes("time,Vehicle.Speed\n1714557600,36 km/h \xb0\n".encode("latin-1"))
    out = twinloop("ingest", f, "-v", "CAR1", code=2)
    assert "UTF-8" in out
