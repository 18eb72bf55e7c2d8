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
    assert csv[0] == '"time","Vehicle.Speed[m s-1]"' and len(csv) == 7
    assert float(csv[1].split(",")[1]) == pytest.approx(4.5)
    lines = cli(
        "query", "-v", "CAR1", "-s", "Vehicle.Speed", "--format", "json"
    ).output.splitlines()
    assert len(lines) == 60 and json.loads(lines[1])["Vehicle.Speed[m s-1]"] == pytest.approx(1.0)
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


@pytest.fixture
def ev_log(tmp_path):
    """A CAN log of 20 frames of the bundled example EV, written through its DBC."""
    from twinloop.ingest import write_can_log

    log = tmp_path / "d.log"
    write_can_log(log, _ev_frames())
    return log


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
    out = twinloop("ingest", mixed, "-v", "CAR1", code=1)  # nothing usable: a warning
    assert "quarantined         2  malformed row: 1 fields, the header has 2" in out
    assert "warning: no samples were read from the 2 rows" in out
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
    assert "quarantined         1  BMS_Pack: payload of 3 bytes, the DBC says 8" in out
    assert "stored 0 new" not in out


@pytest.mark.parametrize(
    "content",
    [b"garbage\n", b"", bytes(range(256)) * 2],
    ids=["text", "empty", "binary"],
)
def test_cli_dbc_that_does_not_parse_is_one_line_error(twinloop, tmp_path, content, ev_log):
    dbc = tmp_path / "bad.dbc"
    dbc.write_bytes(content)
    out = twinloop("ingest", ev_log, "-v", "CAR1", "--dbc", dbc, "--manifest", EV_MANIFEST, code=2)
    assert "not a valid DBC file" in out
    assert len(out.strip().splitlines()) == 1


def test_cli_truncated_dbc_names_the_messages_it_lacks(twinloop, tmp_path, ev_log):
    # cantools reads a DBC cut between definitions as the messages before the cut
    dbc = tmp_path / "cut.dbc"
    text = EV_DBC.read_text()
    dbc.write_text(text[: text.index("BO_ ", text.index("BO_ ") + 1)])
    out = twinloop("ingest", ev_log, "-v", "CAR1", "--dbc", dbc, "--manifest", EV_MANIFEST, code=2)
    assert out.startswith("error: unknown DBC message") and len(out.strip().splitlines()) == 1


def test_cli_csv_that_is_not_utf8_is_one_line_error(twinloop, tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes("time,Vehicle.Speed\n1714557600,36 km/h \xb0\n".encode("latin-1"))
    out = twinloop("ingest", f, "-v", "CAR1", code=2)
    assert "UTF-8" in out


# ---- defects found by a new user's review: each one a test through `twinloop` -------------
def _one_line_error(out):
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out
    return lines[0]


@pytest.mark.parametrize("name", ["zero.csv", "zero.parquet", "zero.log"])
def test_cli_empty_file_is_refused_in_one_line(twinloop, tmp_path, name):
    f = tmp_path / name
    f.write_bytes(b"")
    out = twinloop("ingest", f, "-v", "car2", "--dbc", EV_DBC, "--manifest", EV_MANIFEST, code=2)
    assert f"{f} is empty" in _one_line_error(out) and "received 0 bytes" in out


def test_cli_csv_without_data_rows_warns_and_exits_1(twinloop, tmp_path):
    header = tmp_path / "header.csv"
    header.write_text("time,Vehicle.Speed\n")
    out = twinloop("ingest", header, "-v", "car2", code=1)
    assert "warning:" in out and "has no data rows" in out
    blank = tmp_path / "blank.csv"
    blank.write_text("\n\n")
    assert "the first line is empty" in _one_line_error(
        twinloop("ingest", blank, "-v", "c", code=2)
    )


def _tesla_manifest(tmp_path):
    from twinloop.signals import default_catalog, load_dbc, starter_manifest

    dbc = Path(__file__).parent.parent / "data" / "opendbc" / "tesla_model3_party.dbc"
    f = tmp_path / "tesla.toml"
    f.write_text(starter_manifest(load_dbc(dbc), default_catalog(), dbc.name))
    return dbc, f


def test_cli_vehicle_spec_passed_as_manifest_is_refused_naming_the_key(twinloop, tmp_path, ev_log):
    spec = tmp_path / "leaf.toml"
    spec.write_text('name = "leaf"\ntest_mass = 1700.0\n')
    out = twinloop("ingest", ev_log, "-v", "car11", "--dbc", EV_DBC, "--manifest", spec, code=2)
    line = _one_line_error(out)
    assert "key" in line and "'name'" in line and "dbc, map" in line
    assert "Is this a decoder manifest?" in line


def test_cli_manifest_without_map_entries_is_refused(twinloop, tmp_path, ev_log):
    only_dbc = tmp_path / "m.toml"
    only_dbc.write_text('dbc = "x.dbc"\n')
    out = twinloop("ingest", ev_log, "-v", "car11", "--dbc", EV_DBC, "--manifest", only_dbc, code=2)
    line = _one_line_error(out)
    assert "[[map]]" in line and "no [[map]] entries" in line and str(only_dbc) in line


def test_cli_misspelt_manifest_key_suggests_the_right_one(twinloop, tmp_path, ev_log):
    man = tmp_path / "m.toml"
    man.write_text(EV_MANIFEST.read_text().replace("scale =", "scael =", 1))
    out = twinloop("ingest", ev_log, "-v", "car11", "--dbc", EV_DBC, "--manifest", man, code=2)
    assert "'scael'" in _one_line_error(out) and "Did you mean 'scale'" in out


def test_cli_log_decoded_with_the_wrong_dbc_warns_and_a_rerun_with_the_right_one_ingests(
    twinloop, tmp_path, ev_log
):
    tesla_dbc, tesla_manifest = _tesla_manifest(tmp_path)
    out = twinloop(
        "ingest", ev_log, "-v", "car11", "--dbc", tesla_dbc, "--manifest", tesla_manifest, code=1
    )
    assert "warning: no samples were decoded from the 20 frames" in out and "--dbc" in out
    # the same log with the right DBC and manifest is a new ingest, not "already ingested"
    r = _report(
        twinloop("ingest", ev_log, "-v", "car11", "--dbc", EV_DBC, "--manifest", EV_MANIFEST, "--json")
    )
    assert not r["already_ingested"] and r["inserted"] > 0 and r["problem"] is None
    stored = r["inserted"]
    # and then it is recognised; another manifest text decodes again, storing nothing twice
    again = twinloop("ingest", ev_log, "-v", "car11", "--dbc", EV_DBC, "--manifest", EV_MANIFEST)
    assert "already ingested" in again
    other = tmp_path / "other.toml"
    other.write_text(EV_MANIFEST.read_text() + "\n# reviewed\n")
    r = _report(
        twinloop("ingest", ev_log, "-v", "car11", "--dbc", EV_DBC, "--manifest", other, "--json")
    )
    assert not r["already_ingested"] and (r["inserted"], r["duplicates"]) == (0, stored)


def test_cli_all_samples_quarantined_warns_and_exits_1_also_on_rerun(twinloop, tmp_path):
    f = tmp_path / "fast.csv"
    f.write_text("time,Vehicle.Speed\n1714557600,900\n1714557601,950\n")
    out = twinloop("ingest", f, "-v", "CAR1", code=1)
    assert "warning: all 2 samples read from" in out and "were quarantined" in out
    out = twinloop("ingest", f, "-v", "CAR1", code=1)
    assert "already ingested" in out and "warning:" in out


def test_cli_one_bad_epoch_time_quarantines_only_its_row(twinloop, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("time,Vehicle.Speed\n1700000100,10\nabc,11\n1700000102,12\n")
    r = _report(twinloop("ingest", f, "-v", "CAR1", "--json"))
    assert (r["inserted"], r["quarantined"]) == (2, 1)
    assert r["reasons"] == {"missing or invalid time": 1}


@pytest.mark.parametrize("gap", ["-5", "0", "1e-9", "nan", "inf"])
def test_cli_trips_gap_must_be_positive(twinloop, data, gap):
    twinloop("ingest", data, "-v", "car1")
    out = twinloop("trips", "-v", "car1", "--gap", gap, code=2)
    line = _one_line_error(out)
    assert "--gap" in line and ">= 1" in line and "received" in line


def test_cli_trips_help_says_gap_recomputes_and_stores(twinloop):
    out = " ".join(twinloop("trips", "--help").split())
    assert "--gap" in out and "Recompute" in out and "store them" in out


def test_cli_unreachable_postgres_database_names_port_database_and_reason(twinloop, tmp_path):
    from tests.conftest import PG_URL  # noqa: F401  (the server the suite uses)

    f = tmp_path / "w.csv"
    f.write_text("time,Vehicle.Speed\n1714557600,36\n")
    url = "postgresql://postgres@127.0.0.1/twinloop_no_such_db"
    out = twinloop("ingest", f, "-v", "car1", "--store", url, code=2)
    line = _one_line_error(out)
    assert "'twinloop_no_such_db'" in line and "127.0.0.1:5432" in line
    assert "does not exist" in line and "None" not in line


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\x89PNG\x00\x01garbage\n\x00\x01\x02", "PNG image"),
        (b"time,Vehicle.Speed\n\x00\x00\x00\x01\n", "NUL byte at offset 19"),
        (b"PAR1\x15\x04", "name it .parquet"),
        ("time,Vehicle.Speed\n1714557600,36 \xb0\n".encode("latin-1"), "byte 0xb0"),
    ],
    ids=["png", "nul", "parquet", "latin1"],
)
def test_cli_binary_or_non_utf8_csv_is_not_a_utf8_text_csv(twinloop, tmp_path, content, says):
    f = tmp_path / "bin.csv"
    f.write_bytes(content)
    line = _one_line_error(twinloop("ingest", f, "-v", "car1", code=2))
    assert "not a UTF-8 text CSV" in line and says in line and "\ufffd" not in line


def _run_split(tmp_path, *args):
    """(exit code, stdout, stderr) of `twinloop ...`."""
    from twinloop.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_cli_query_start_after_end_is_an_error(twinloop, data):
    twinloop("ingest", data, "-v", "car1")
    out = twinloop(
        "query",
        "-v",
        "car1",
        "-s",
        "Vehicle.Speed",
        "--start",
        "2023-11-15",
        "--end",
        "2023-11-14",
        code=2,
    )
    line = _one_line_error(out)
    assert "--end" in line and "after --start (2023-11-15)" in line and "2023-11-14" in line
    out = twinloop(
        "query",
        "-v",
        "car1",
        "-s",
        "Vehicle.Speed",
        "--start",
        "2023-11-15T00:00:00Z",
        "--end",
        "2023-11-15T01:00:00+01:00",
        code=2,
    )  # the same instant
    assert "--end" in _one_line_error(out)


def test_cli_query_without_data_in_range_notes_it_on_stderr(twinloop, data, tmp_path):
    twinloop("ingest", data, "-v", "car1")
    code, stdout, stderr = _run_split(
        tmp_path,
        "query",
        "-v",
        "car1",
        "-s",
        "Vehicle.Speed",
        "-s",
        "Vehicle.Exterior.AirTemperature",
        "--start",
        "2023-11-14",
        "--end",
        "2023-11-15",
    )
    assert (
        code == 0 and stdout.strip() == '"time","Vehicle.Speed[m s-1]","Vehicle.Exterior.AirTemperature[K]"'
    )
    assert "note: no Vehicle.Speed data for car1 from 2023-11-14 to 2023-11-15" in stderr
    assert "note: no Vehicle.Exterior.AirTemperature data" in stderr
    code, stdout, stderr = _run_split(
        tmp_path,
        "query",
        "-v",
        "car1",
        "-s",
        "Vehicle.Speed",
        "-s",
        "Vehicle.Exterior.AirTemperature",
    )
    assert code == 0 and len(stdout.splitlines()) == 61
    assert "Vehicle.Exterior.AirTemperature" in stderr and "Vehicle.Speed" not in stderr


@pytest.mark.parametrize(
    "args",
    [["vehicles"], ["query", "-v", "car1", "-s", "Vehicle.Speed"], ["trips", "-v", "car1"]],
    ids=["vehicles", "query", "trips"],
)
def test_cli_read_only_commands_do_not_create_a_missing_store(twinloop, tmp_path, args):
    missing = tmp_path / "nowhere" / "fleet.duckdb"
    out = twinloop(*args, "--store", missing, code=2)
    line = _one_line_error(out)
    assert str(missing) in line and "does not exist" in line and "twinloop ingest" in line
    assert not missing.exists() and not missing.parent.exists()


def test_cli_vehicles_shows_a_dash_for_a_vehicle_without_samples(twinloop, data, tmp_path):
    twinloop("ingest", data, "-v", "car1")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,Vehicle.Speed\n1714557600,900\n")
    twinloop("ingest", bad, "-v", "car2", code=1)
    out = twinloop("vehicles")
    assert "NaT" not in out
    row = next(line for line in out.splitlines() if line.strip().startswith("car2"))
    assert row.split() == ["car2", "0", "-", "-"]


def test_cli_drive_cycle_trace_gets_a_hint_to_simulate(twinloop, tmp_path):
    f = tmp_path / "my_trip.csv"
    f.write_text("time_s,speed_mps\n0,0\n1,1.5\n")
    line = _one_line_error(twinloop("ingest", f, "-v", "car1", code=2))
    assert "'time' column" in line and "VSS signal path" in line
    assert "twinloop simulate -v VEHICLE -c FILE" in line
    g = tmp_path / "trace2.csv"
    g.write_text("time,speed_kph\n0,0\n")
    line = _one_line_error(twinloop("ingest", g, "-v", "car1", code=2))
    assert "'speed_kph'" in line and "twinloop simulate" in line


def test_cli_can_group_help_has_examples(twinloop):
    out = twinloop("can", "--help")
    assert "Examples:" in out and "twinloop can manifest --dbc" in out
    assert "twinloop ingest drive.log" in out


# ---- new-user review: outputs checked before any work, --every and --batch-samples ranges ----


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "parquet"], "error: --format parquet writes a binary file and needs -o FILE.parquet "
         "(received no -o); use --format csv or json for standard output"),
        (["--format", "parquet", "-o", "-"], "error: --format parquet writes a binary file and needs -o "
         "FILE.parquet (received -o -)"),
        (["--format", "parquet", "-o", "/proc/x.parquet"], "error: Invalid value for '--output' / '-o': "
         "cannot write /proc/x.parquet: /proc does not accept new files"),
        (["-o", "/proc/x.csv"], "error: Invalid value for '--output' / '-o': cannot write /proc/x.csv"),
    ],
    ids=["parquet-without-o", "parquet-to-stdout", "parquet-to-proc", "csv-to-proc"],
)
def test_cli_query_output_is_checked_before_the_store_is_read(twinloop, tmp_path, args, says):
    # The store does not exist: the output is refused first, in one line.
    out = twinloop("query", "-v", "VEH", "-s", "Vehicle.Speed", *args, code=2)
    assert _one_line_error(out).startswith(says)


def test_cli_query_output_dash_is_stdout(twinloop, data, tmp_path):
    twinloop("ingest", data, "-v", "car1")
    code, stdout, _ = _run_split(tmp_path, "query", "-v", "car1", "-s", "Vehicle.Speed", "-o", "-")
    assert code == 0 and len(stdout.splitlines()) == 61
    assert not (Path.cwd() / "-").exists()


@pytest.mark.parametrize("every", ["nan", "inf", "-inf", "1e300s", "0.0001ms", "0", "87601h"])
def test_cli_query_every_must_be_a_finite_duration_in_range(twinloop, data, every):
    twinloop("ingest", data, "-v", "car1")
    out = twinloop("query", "-v", "car1", "-s", "Vehicle.Speed", "--every", every, code=2)
    assert _one_line_error(out) == (
        "error: --every: expected a duration from 0.001ms (the store's resolution) to 87600h (10 years), "
        f"such as 1s, 500ms, 5min, 1h, received '{every}'"
    )


def test_cli_can_manifest_output_that_cannot_be_written_fails_at_once(twinloop):
    out = twinloop("can", "manifest", "--dbc", EV_DBC, "-o", "/proc/m.toml", code=2)
    assert _one_line_error(out).startswith(
        "error: Invalid value for '--output' / '-o': cannot write /proc/m.toml: /proc does not accept new files"
    )


@pytest.mark.parametrize("value", ["0", "-5"])
def test_cli_ingest_batch_samples_must_be_positive(twinloop, data, value):
    out = twinloop("ingest", data, "-v", "car1", "--batch-samples", value, code=2)
    assert _one_line_error(out).startswith(
        f"error: Invalid value for '--batch-samples': {value} is not in the range x>=1."
    )


def test_cli_trips_gap_nan_and_inf_are_refused(twinloop, data):
    twinloop("ingest", data, "-v", "car1")
    for gap in ("nan", "inf"):
        out = twinloop("trips", "-v", "car1", "--gap", gap, code=2)
        assert _one_line_error(out) == f"error: --gap: expected a pause in seconds >= 1, e.g. 300 (the default), received {gap}"


# ---- a hostile user: every bad input ends in a one-line twinloop error, not a traceback ----
def test_epoch_milliseconds_are_quarantined_with_a_hint_not_a_crash(cli, tmp_path):
    f = tmp_path / "ms.csv"
    f.write_text("time,Vehicle.Speed\n1714557600000,10\n1714557601000,20\n")
    r = cli("ingest", str(f), "-v", "CAR1", ok=False)
    assert r.exit_code == 1
    assert "milliseconds" in r.output and "warning:" in r.output


def test_a_repeated_column_or_signal_is_a_twinloop_error(cli, data, tmp_path):
    f = tmp_path / "dup.csv"
    f.write_text("time,Vehicle.Speed,Vehicle.Speed\n2024-05-01T10:00:00Z,10,50\n")
    bad = cli("ingest", str(f), "-v", "CAR1", ok=False)
    assert isinstance(bad.exception, TwinloopError) and "'Vehicle.Speed' 2 times" in str(bad.exception)
    cli("ingest", str(data), "-v", "CAR1")
    bad = cli("query", "-v", "CAR1", "-s", "Vehicle.Speed", "-s", "Vehicle.Speed", ok=False)
    assert isinstance(bad.exception, TwinloopError) and "each path once" in str(bad.exception)


@pytest.mark.parametrize("url", ["duckdb://", "postgresql://[::1/test"])
def test_a_store_url_that_would_lose_the_data_or_does_not_parse_is_refused(cli, data, url):
    bad = cli("ingest", str(data), "-v", "CAR1", "--store", url, ok=False)
    assert isinstance(bad.exception, TwinloopError) and url in str(bad.exception)


def test_a_csv_file_given_as_the_store_is_refused_and_kept(cli, data):
    before = data.read_bytes()
    bad = cli("ingest", str(data), "-v", "CAR1", "--store", str(data), ok=False)
    assert isinstance(bad.exception, TwinloopError) and "not a DuckDB database" in str(bad.exception)
    assert data.read_bytes() == before


def test_a_vehicle_name_with_a_stray_space_is_refused(cli, data):
    bad = cli("ingest", str(data), "-v", " CAR1", ok=False)
    assert isinstance(bad.exception, TwinloopError) and "without surrounding spaces" in str(bad.exception)


def test_starter_manifest_of_a_dbc_without_signals_is_an_error(cli, tmp_path):
    f = tmp_path / "none.dbc"
    f.write_text('VERSION ""\n\nNS_ :\n\nBS_:\n\nBU_: A\n\nBO_ 100 Msg: 8 A\n')
    bad = cli("can", "manifest", "--dbc", str(f), ok=False)
    assert isinstance(bad.exception, TwinloopError) and "has no signals" in str(bad.exception)


@pytest.mark.parametrize("every", ["1 fortnight", "1d", "1us"])
def test_cli_query_every_with_an_unknown_unit_names_the_units(cli, data, every):
    cli("ingest", str(data), "-v", "CAR1")
    bad = cli("query", "-v", "CAR1", "-s", "Vehicle.Speed", "--every", every, ok=False)
    assert isinstance(bad.exception, TwinloopError)
    assert "a unit of ms, s, min or h" in str(bad.exception) and repr(every) in str(bad.exception)


def test_ingest_into_a_vehicle_that_differs_only_in_case_notes_the_namesake(cli, data):
    cli("ingest", str(data), "-v", "CAR1")
    other = cli("ingest", str(data), "-v", "car1")
    assert "note: car1 is a new vehicle, apart from 'CAR1' (identifiers are case-sensitive)" in other.stderr
    again = cli("ingest", str(data), "-v", "car1")  # known now: no note
    assert "note:" not in again.stderr
    assert "note:" not in cli("ingest", str(data), "-v", "CAR2").stderr  # a new, different name is no slip


@pytest.mark.parametrize("command", [["ingest", "FILE", "-v", "CAR1"], ["vehicles"], ["trips", "-v", "CAR1"]])
def test_an_empty_store_option_is_refused_not_read_as_the_default_store(cli, data, tmp_path, command):
    args = [str(data) if a == "FILE" else a for a in command]
    bad = cli(*args, "--store", "", ok=False)
    assert isinstance(bad.exception, TwinloopError)
    assert "store: expected a DuckDB file path or a store URL" in str(bad.exception)
    assert not (tmp_path / "cli.duckdb").exists()


# ---- a hostile user: outputs that are inputs, limits, units, echoes, flags -----------------
SPEED = "Vehicle.Speed"


def _store_state(store_path):
    """What a store holds, read through a fresh connection: (vehicle, speeds) pairs."""
    from twinloop.store import open_store

    with open_store(str(store_path), create=False) as store:
        return store.read("car1", [SPEED]).column(SPEED).to_pylist()


@pytest.mark.parametrize(
    "form", ["same", "dotted", "symlink", "hardlink", "duckdb-url", "default-store", "wal"]
)
def test_query_output_naming_the_store_is_refused_and_the_store_kept(twinloop, data, tmp_path, monkeypatch, form):
    store = tmp_path / "fleet.duckdb"
    twinloop("ingest", data, "-v", "car1", "--store", store)
    before, speeds = store.read_bytes(), _store_state(store)
    output, store_args = store, ["--store", store]
    if form == "dotted":
        (tmp_path / "sub").mkdir()
        output = tmp_path / "sub" / ".." / "fleet.duckdb"
    elif form == "symlink":
        output = tmp_path / "out.csv"
        output.symlink_to(store)
    elif form == "hardlink":
        output = tmp_path / "out.csv"
        output.hardlink_to(store)
    elif form == "duckdb-url":
        store_args = ["--store", f"duckdb:///{store}"]
    elif form == "default-store":  # $TWINLOOP_STORE, no --store
        store_args = []
        monkeypatch.setenv("TWINLOOP_STORE", str(store))
    elif form == "wal":
        output = tmp_path / "fleet.duckdb.wal"
    for fmt in ("csv", "parquet"):
        out = twinloop("query", "-v", "car1", "-s", SPEED, "--format", fmt, "-o", output, *store_args, code=2)
        line = _one_line_error(out)
        assert line.startswith("error: --output: expected a file this command does not read")
        assert str(output) in line and "nothing was written" in line
    assert store.read_bytes() == before and _store_state(store) == speeds
    if form == "wal":
        assert not output.exists()


@pytest.mark.parametrize("form", ["same", "symlink"])
def test_can_manifest_output_naming_its_dbc_is_refused_and_the_dbc_kept(twinloop, tmp_path, form):
    dbc = tmp_path / "my.dbc"
    dbc.write_bytes(EV_DBC.read_bytes())
    output = dbc
    if form == "symlink":
        output = tmp_path / "my.toml"
        output.symlink_to(dbc)
    line = _one_line_error(twinloop("can", "manifest", "--dbc", dbc, "-o", output, code=2))
    assert line.startswith("error: --output: expected a file this command does not read")
    assert "input file" in line and "nothing was written" in line
    assert dbc.read_bytes() == EV_DBC.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_query_output_ingested_again_keeps_the_si_values_not_read_as_vss_units(twinloop, tmp_path, fmt):
    # SI under VSS names was read as VSS units: speeds 3.6 times too small, temperatures + 273.15
    soc = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
    current = "Vehicle.Powertrain.TractionBattery.CurrentCurrent"
    key = "Vehicle.LowVoltageSystemState"
    temp = "Vehicle.Exterior.AirTemperature"
    rng = np.random.default_rng(7)
    n = 40
    f = tmp_path / "drive.csv"
    pd.DataFrame({
        "time": pd.Timestamp("2024-05-01T10:00:00Z") + pd.to_timedelta(np.arange(n) * 0.1, unit="s"),
        SPEED: rng.uniform(0, 130, n), temp: rng.uniform(-20, 40, n), soc: np.linspace(80, 60, n),
        current: rng.uniform(-100, 100, n), key: ["ON"] * 30 + ["OFF"] * 10,
    }).to_csv(f, index=False)
    signals = [a for s in (SPEED, temp, soc, current, key) for a in ("-s", s)]
    twinloop("ingest", f, "-v", "car1")
    first = tmp_path / f"first.{fmt}"
    twinloop("query", "-v", "car1", *signals, "--format", fmt, "-o", first)
    report = _report(twinloop("ingest", first, "-v", "car2", "--json"))
    assert (report["inserted"], report["quarantined"]) == (5 * n, 0)
    second = tmp_path / f"second.{fmt}"
    twinloop("query", "-v", "car2", *signals, "--format", fmt, "-o", second)
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    a, b = read(first), read(second)
    assert list(a.columns) == ["time", f"{SPEED}[m s-1]", f"{temp}[K]", f"{soc}[1]", f"{current}[A]", f"{key}[1]"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a[f"{SPEED}[m s-1]"].max() <= 130 / 3.6


def test_query_with_how_count_names_its_columns_count_and_they_are_not_ingested_as_values(twinloop, data, tmp_path):
    twinloop("ingest", data, "-v", "car1")
    counts = tmp_path / "counts.csv"
    twinloop("query", "-v", "car1", "-s", SPEED, "--every", "10s", "--how", "count", "-o", counts)
    assert counts.read_text().splitlines()[0] == f'"time","{SPEED}[count]"'
    line = _one_line_error(twinloop("ingest", counts, "-v", "car2", code=2))
    assert f"unit of column {SPEED}" in line and "[m s-1]" in line and "'count'" in line


def test_cli_csv_header_over_the_limit_is_one_line_error_naming_it(twinloop, tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("time," + "V" * 200_000 + "\n1714557600,1\n")
    line = _one_line_error(twinloop("ingest", f, "-v", "car1", code=2))
    assert "header row is longer than 131072 bytes (IngestConfig.max_header_bytes)" in line
    assert len(line) < 400


def test_cli_csv_row_over_the_block_size_is_one_line_error_naming_it(twinloop, tmp_path):
    f = tmp_path / "r.csv"
    rows = "".join(f"{1714557600 + k},36\n" for k in range(10))
    # Arrow reads a row over one block boundary; over two (> 2 blocks long) it stops
    f.write_text("time,Vehicle.Speed\n" + rows + "1714557999," + "9" * (33 * 1024 * 1024) + "\n" + rows)
    line = _one_line_error(twinloop("ingest", f, "-v", "car1", code=2))
    assert "a row longer than 16777216 bytes (16 MiB; IngestConfig.csv_block_bytes)" in line
    assert "increase block size" not in line


@pytest.mark.parametrize(
    ("option", "value"), [("--every", "1" * 400 + "s"), ("--start", "2" * 100_000), ("--end", "X" * 100_000)]
)
def test_cli_query_echoes_a_huge_value_cut_with_its_length(twinloop, data, option, value):
    twinloop("ingest", data, "-v", "car1")
    line = _one_line_error(twinloop("query", "-v", "car1", "-s", SPEED, option, value, code=2))
    assert line.startswith(f"error: {option}: expected ") and f"({len(value)} characters)" in line
    assert len(line) < 300


def test_cli_manifest_with_a_400_digit_number_is_one_short_error(twinloop, tmp_path, ev_log):
    man = tmp_path / "m.toml"
    man.write_text(f"[[map]]\nmessage = 'M'\nsignal = 'S'\nvss = 'Vehicle.Speed'\nscale = {'1' * 400}\n")
    line = _one_line_error(
        twinloop("ingest", ev_log, "-v", "car1", "--dbc", EV_DBC, "--manifest", man, code=2)
    )
    assert "scale" in line and len(line) < 400


def test_cli_can_log_without_dbc_names_the_flags_as_before(twinloop, ev_log):
    line = _one_line_error(twinloop("ingest", ev_log, "-v", "car1", code=2))
    assert line == (
        f"error: --dbc/--manifest in {ev_log}: expected a DBC file and a decoder manifest for a CAN log,"
        " received None. Write a starter manifest with `twinloop can manifest --dbc FILE`."
    )


def test_cli_log_decoded_to_nothing_names_the_flags_in_the_warning(twinloop, tmp_path, ev_log):
    tesla_dbc, tesla_manifest = _tesla_manifest(tmp_path)
    out = twinloop("ingest", ev_log, "-v", "car1", "--dbc", tesla_dbc, "--manifest", tesla_manifest, code=1)
    assert "check that --dbc describes this vehicle's bus and that --manifest maps signals" in out
    out = twinloop("ingest", ev_log, "-v", "car1", "--dbc", tesla_dbc, "--manifest", tesla_manifest, "--json", code=1)
    r = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert "`dbc` describes" in r["problem"]  # JSON keeps the library's words


# ---- column maps (--columns, --start) ------------------------------------------------------
MAPPINGS = Path(__file__).parents[2] / "examples" / "mappings"


def _bmw_like(path):
    """Two rows in the layout of TU Munich's BMW i3 trips: ';', latin-1, spaces, -100 A discharging."""
    header = ("Time [s];Velocity [km/h];Battery Voltage [V];Battery Current [A];Battery Temperature [°C];"
              "SoC [%];Ambient Temperature [°C];Cabin Temperature Sensor [°C];Elevation [m];Throttle [%];"
              "Motor Torque [Nm];Longitudinal Acceleration [m/s^2];Regenerative Braking Signal ")
    rows = ["0;36;391.4;-100;21;86.9;25.5;24.5;574;10;50;0.1;0", "0.1;36;391.4;-100;21;86.9;25.5;24.5;574;10;50;0.1;0"]
    path.write_bytes("\n".join([header, *rows, ""]).encode("latin-1"))
    return path


def test_ingest_with_a_column_map_and_a_start(twinloop, tmp_path):
    f = _bmw_like(tmp_path / "TripA01.csv")
    args = ("ingest", f, "-v", "i3", "--columns", MAPPINGS / "bmw_i3_tum.toml", "--start", "2019-06-25T13:21:14")
    out = twinloop(*args)
    assert "stored 22 new" in out and "2019-06-25T11:21:14Z" in out
    assert "ignored 1 columns the column map does not name: 'Regenerative Braking Signal'" in out
    g = tmp_path / "copy.csv"
    g.write_bytes(f.read_bytes() + b"\n")
    assert "stored 0 new, 22 already stored" in twinloop(*args[:1], g, *args[2:])
    csv = twinloop("query", "-v", "i3", "-s", "Vehicle.Powertrain.TractionBattery.CurrentCurrent",
                   "-s", "Vehicle.Speed").splitlines()
    assert csv[1].endswith(",100.0,10.0") or csv[1].endswith(",100,10")


def test_column_map_errors_name_the_flags(twinloop, tmp_path):
    f = _bmw_like(tmp_path / "TripA01.csv")
    out = twinloop("ingest", f, "-v", "i3", "--start", "2019-06-25", code=2)
    assert "--start needs --columns" in out
    m = tmp_path / "dt.toml"
    m.write_text('[time]\ncolumn = "Time [s]"\nunit = "datetime"\n[columns."Velocity [km/h]"]\n'
                 'vss = "Vehicle.Speed"\nunit = "km/h"\n')
    out = twinloop("ingest", f, "-v", "i3", "--columns", m, "--start", "2019-06-25", code=2)
    assert out.startswith("error: --start in ") and "expected a map whose time unit is s or ms" in out
    log = tmp_path / "drive.log"
    log.write_text("(1.0) can0 123#00\n")
    out = twinloop("ingest", log, "-v", "i3", "--columns", MAPPINGS / "bmw_i3_tum.toml", code=2)
    assert out.startswith("error: --columns in ") and len(out.strip().splitlines()) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text((MAPPINGS / "bmw_i3_tum.toml").read_text(encoding="utf-8").replace('unit = "km/h"', 'unit = "degC"'))
    out = twinloop("ingest", f, "-v", "i3", "--columns", bad, code=2)
    assert 'error: columns."Velocity [km/h]".unit in' in out and "received 'degC'" in out
    assert twinloop("vehicles").strip() == "(none)"  # nothing stored by a refused ingest
