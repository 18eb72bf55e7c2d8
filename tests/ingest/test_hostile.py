"""Input a hostile user would try: times out of range, repeated columns, odd column types."""

import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.ingest import IngestConfig, Ingester, write_can_log
from twinloop.signals import DecoderManifest, default_catalog, encode_series, load_dbc

SPEED = "Vehicle.Speed"
OUT_OF_RANGE = "time outside 1970-01-01 to 9999-12-30"


@pytest.mark.parametrize(
    "times",
    [
        ["1714557600000", "1714557601000"],  # epoch milliseconds
        ["1714557600000000", "1714557601000000"],  # epoch microseconds
        ["1714557600000000000", "1714557601000000000"],  # epoch nanoseconds
        ["1960-01-01T00:00:00Z", "1969-12-31T23:59:59Z"],  # before the store's range
        ["9999-12-31T12:00:00Z", "9999-12-31T23:59:59Z"],  # after it (never read back)
    ],
)
def test_times_the_store_cannot_keep_are_quarantined_naming_the_range(store, tmp_path, times):
    f = tmp_path / "t.csv"
    f.write_text("time,Vehicle.Speed\n" + "".join(f"{t},36\n" for t in times))
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 0 and r.quarantined == 2
    (reason,) = r.reasons
    assert OUT_OF_RANGE in reason and "milliseconds" in reason
    assert r.problem is not None
    assert store.sample_count() == 0


def test_epoch_milliseconds_in_parquet_are_quarantined_not_a_crash(store, tmp_path):
    f = tmp_path / "ms.parquet"
    pq.write_table(pa.table({"time": pa.array([1714557600000], pa.int64()), SPEED: [1.0]}), f)
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 0 and any(OUT_OF_RANGE in k for k in r.reasons)


def test_a_time_before_1970_next_to_good_ones_is_quarantined_alone(store, tmp_path):
    f = tmp_path / "t.parquet"
    t = pa.array([-10**15, 1_714_557_600 * 10**6], pa.timestamp("us"))
    pq.write_table(pa.table({"time": t, SPEED: [1.0, 2.0]}), f)
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 1 and r.quarantined == 1
    # every stored sample can be read back
    assert store.read("CAR1", [SPEED]).num_rows == store.sample_count("CAR1") == 1


def test_can_frame_times_beyond_the_store_range_are_quarantined_without_warnings(store, tmp_path):
    data = Path(__file__).parent.parent.parent / "src" / "twinloop" / "signals" / "data"
    dbc, manifest = data / "twinloop_ev.dbc", data / "twinloop_ev.toml"
    frames = encode_series(
        load_dbc(dbc), DecoderManifest.load(manifest), default_catalog(),
        np.array([1e14, 1e15]), {SPEED: np.array([1.0, 2.0])},
    )
    log = tmp_path / "far.log"
    write_can_log(log, frames)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = Ingester(store).ingest(log, "CAR1", dbc=dbc, manifest=manifest)
    assert r.inserted == 0 and any(OUT_OF_RANGE in k for k in r.reasons)


@pytest.mark.parametrize(
    "header", ["time,Vehicle.Speed,Vehicle.Speed", "time,time,Vehicle.Speed", "Time,time,Vehicle.Speed"]
)
def test_a_column_named_twice_is_refused_naming_it(store, tmp_path, header):
    f = tmp_path / "d.csv"
    f.write_text(header + "\n2024-05-01T10:00:00Z,2024-05-01T10:00:00Z,10\n")
    with pytest.raises(ValidationError, match=r"columns in .*d\.csv: expected each column once"):
        Ingester(store).ingest(f, "CAR1")
    assert store.sample_count() == 0


def test_a_column_named_twice_in_parquet_is_refused(store, tmp_path):
    f = tmp_path / "d.parquet"
    table = pa.Table.from_arrays(
        [pa.array([1_714_557_600.0]), pa.array([1.0]), pa.array([2.0])], ["time", SPEED, SPEED]
    )
    pq.write_table(table, f)
    with pytest.raises(ValidationError, match=r"'Vehicle\.Speed' 2 times"):
        Ingester(store).ingest(f, "CAR1")


def test_a_value_column_of_lists_is_a_data_error_naming_file_and_column(store, tmp_path):
    f = tmp_path / "l.parquet"
    pq.write_table(pa.table({"time": [1_714_557_600.0], SPEED: pa.array([[1.0]])}), f)
    with pytest.raises(DataError, match=r"l\.parquet: column 'Vehicle.Speed' has type list"):
        Ingester(store).ingest(f, "CAR1")
    assert store.sample_count() == 0


def test_a_time_column_of_dates_names_the_file(store, tmp_path):
    f = tmp_path / "d.parquet"
    pq.write_table(pa.table({"time": pa.array([19844], pa.date32()), SPEED: [1.0]}), f)
    with pytest.raises(DataError, match=r"d\.parquet: time column 'time' has type date32"):
        Ingester(store).ingest(f, "CAR1")


def test_nanosecond_timestamps_are_read_to_the_microsecond(store, tmp_path):
    f = tmp_path / "ns.parquet"
    t0 = 1_714_557_600 * 10**9
    t = pa.array([t0 + 1, t0 + 1_000_001_999], pa.timestamp("ns", "UTC"))
    pq.write_table(pa.table({"time": t, SPEED: [36.0, 72.0]}), f)
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 2
    got = store.read("CAR1", [SPEED]).column("time").cast(pa.int64()).to_pylist()
    assert got == [t0 // 1000, t0 // 1000 + 1_000_001]


def test_the_summary_shows_the_sample_times_and_flags_relative_ones(store, tmp_path):
    f = tmp_path / "rel.csv"
    f.write_text("time,Vehicle.Speed\n0,10\n1,20\n2.5,30\n")
    r = Ingester(store).ingest(f, "CAR1")
    assert "sample times 1970-01-01T00:00:00Z to 1970-01-01T00:00:02.500000Z" in r.summary()
    assert "seconds since the start of the log" in r.summary()
    assert r.to_dict()["last_time"] == "1970-01-01T00:00:02.500000Z"
    g = tmp_path / "abs.csv"
    g.write_text("time,Vehicle.Speed\n2024-05-01T10:00:00Z,10\n")
    s = Ingester(store).ingest(g, "CAR1").summary()
    assert "2024-05-01T10:00:00Z to 2024-05-01T10:00:00Z" in s and "start of the log" not in s


SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"


def test_a_state_of_charge_logged_as_a_fraction_is_quarantined_not_stored_as_one_percent(store, tmp_path):
    # 0.80 -> 0.62 over a drive is 80 % -> 62 % written as fractions; stored as percent it
    # would read 0.8 %, and the twin's state and health tracking would take it.
    f = tmp_path / "soc.csv"
    soc = np.linspace(0.80, 0.62, 20)
    f.write_text("time,Vehicle.Speed," + SOC + "\n"
                 + "".join(f"{1714557600 + k},36,{x:.4f}\n" for k, x in enumerate(soc)))
    r = Ingester(store).ingest(f, "CAR1")
    assert r.quarantined == 20 and r.inserted == 20  # the speed is stored
    (reason,) = r.reasons
    assert "lie in [0, 1] although" in reason and "multiply the column by 100" in reason
    assert store.read("CAR1", [SOC]).column(SOC).drop_null().to_pylist() == []


@pytest.mark.parametrize("soc", [np.linspace(80, 62, 20), np.full(20, 0.5), np.linspace(0.8, 0.6, 5)])
def test_percent_values_a_constant_near_empty_or_a_short_batch_are_stored(store, tmp_path, soc):
    # real percent; an empty pack standing at 0.5 %; too few samples to judge
    f = tmp_path / "soc.csv"
    f.write_text("time," + SOC + "\n" + "".join(f"{1714557600 + k},{x:.4f}\n" for k, x in enumerate(soc)))
    r = Ingester(store).ingest(f, "CAR1")
    assert r.quarantined == 0 and r.inserted == soc.size


# ---- limits that end in a clear error, not in _csv.Error or "increase block size" ----------
@pytest.mark.parametrize(
    "header",
    ["time," + "V" * 200_000, "time," + ",".join(f"Vehicle.Speed{i}" for i in range(10_000)), "9" * 300_000],
    ids=["one-huge-name", "many-names", "no-line-end"],
)
def test_a_csv_header_over_the_limit_is_refused_naming_the_limit(store, tmp_path, header):
    f = tmp_path / "h.csv"
    f.write_text(header + "\n1714557600,1\n")
    with pytest.raises(DataError) as caught:
        Ingester(store).ingest(f, "CAR1")
    message = str(caught.value)
    assert "header row is longer than 131072 bytes (IngestConfig.max_header_bytes)" in message
    assert len(message) < 400
    assert store.sample_count() == 0


def test_a_csv_row_over_the_block_size_is_refused_naming_the_limit_and_earlier_batches_kept(store, tmp_path):
    f = tmp_path / "r.csv"
    rows = "".join(f"{1714557600 + k},36\n" for k in range(600))
    f.write_text("time,Vehicle.Speed\n" + rows + "1714558300," + "9" * 20_000 + "\n")
    config = IngestConfig(csv_block_bytes=4096, batch_samples=100)
    with pytest.raises(DataError) as caught:
        Ingester(store, config=config).ingest(f, "CAR1")
    message = str(caught.value)
    assert "a row longer than 4096 bytes" in message and "IngestConfig.csv_block_bytes" in message
    assert "increase block size" not in message and "straddl" not in message
    kept = store.sample_count("CAR1")
    assert kept > 0  # the batches committed before the long row stay stored
    with pytest.raises(DataError):  # and a rerun loses none of them
        Ingester(store, config=config).ingest(f, "CAR1")
    assert store.sample_count("CAR1") == kept


def test_a_header_limit_past_what_the_csv_module_reads_is_refused():
    with pytest.raises(ValidationError, match="max_header_bytes: expected at most 131072"):
        IngestConfig(max_header_bytes=1 << 20)


# ---- received values echoed cut, with their size -----------------------------------------
def test_a_huge_cell_or_number_as_a_signal_name_is_echoed_cut_with_its_length(store, tmp_path):
    f = tmp_path / "l.csv"
    f.write_text(
        "time,signal,value\n"
        f"1714557600,{'X' * 1_000_000},1\n"
        f"1714557600,{'1' * 400},1\n"
        "1714557600,Vehicle.Speed,36\n"
    )
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 1 and r.quarantined == 2
    assert all(len(reason) < 200 for reason in r.reasons)
    assert any("(1000000 characters)" in reason for reason in r.reasons)
    assert any("(400 characters)" in reason for reason in r.reasons)
    assert len(r.summary()) < 1000 and len(json.dumps(r.to_dict())) < 2000
    # the quarantine keeps the start of each value and says how long it was, not a megabyte a row
    q = store.quarantine("CAR1")
    assert all(len(s) < 300 for s in q.column("signal").drop_null().to_pylist())
    assert any("(1000000 characters)" in s for s in q.column("signal").drop_null().to_pylist())


def test_a_huge_cell_in_a_malformed_row_is_kept_cut_with_its_length(store, tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("time,Vehicle.Speed\n1714557600,36\n1714557601,36,9," + "Z" * 100_000 + "\n")
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 1 and r.rows_refused == 1
    (value,) = store.quarantine("CAR1").column("value").drop_null().to_pylist()
    assert len(value) < 300 and value.endswith(f"({len('1714557601,36,9,') + 100_000} characters)")


def test_a_huge_column_name_is_echoed_cut_with_its_length(store, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("time,Vehicle.Speed," + "Q" * 100_000 + "\n1714557600,36,1\n")
    with pytest.raises(UnknownNameError) as caught:
        Ingester(store).ingest(f, "CAR1")
    assert len(str(caught.value)) < 400 and "(100000 characters)" in str(caught.value)


def test_many_columns_without_a_time_column_are_listed_cut_with_their_count(store, tmp_path):
    f = tmp_path / "n.csv"
    f.write_text(",".join(f"c{i}" for i in range(3000)) + "\n" + ",".join("1" * 3000) + "\n")
    with pytest.raises(ValidationError) as caught:
        Ingester(store).ingest(f, "CAR1")
    message = str(caught.value)
    assert "(3000 columns)" in message and "'c0'" in message and len(message) < 1000


def test_an_absurd_number_in_the_config_is_echoed_cut_with_its_digits():
    with pytest.raises(ValidationError) as caught:
        IngestConfig(batch_samples=-(10**399))
    message = str(caught.value)
    assert len(message) < 200 and "(400 digits)" in message


def _manifest(tmp_path, entry):
    f = tmp_path / "m.toml"
    f.write_text("[[map]]\n" + entry)
    return f


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (f"message = {'1' * 400}\nsignal = 'S'\nvss = 'Vehicle.Speed'\n", "(400 digits)"),
        (f"message = 'M'\nsignal = 'S'\nvss = 'Vehicle.Speed'\nscale = {'1' * 400}\n", "scale"),
        (f"message = 'M'\nsignal = 'S'\nvss = 'Vehicle.Speed'\nscale = {'1' * 5000}\n", "4300 digits"),
        (f"message = 'M'\nsignal = 'S'\nvss = 'Vehicle.Speed'\nvalues = {{ '{'7' * 1000}x' = 'ON' }}\n",
         "characters)"),
        (f"{'k' * 100_000} = 1\nmessage = 'M'\nsignal = 'S'\nvss = 'Vehicle.Speed'\n", "(100000 characters)"),
        (f"message = 'M'\nsignal = 'S'\nvss = [{', '.join(['1'] * 100_000)}]\n", "characters)"),
    ],
    ids=["400-digit-name", "400-digit-scale", "5000-digit-scale", "huge-values-key", "huge-key", "huge-list"],
)
def test_absurd_numbers_and_names_in_a_manifest_are_one_short_specification_error(tmp_path, entry, says):
    from twinloop.errors import SpecificationError

    with pytest.raises(SpecificationError) as caught:
        DecoderManifest.load(_manifest(tmp_path, entry))
    message = str(caught.value)
    assert says in message and len(message) < 600


@pytest.mark.parametrize("key", ["message", "signal", "vss"])
def test_a_huge_name_in_a_manifest_is_echoed_cut_when_checked(tmp_path, key):
    data = Path(__file__).parent.parent.parent / "src" / "twinloop" / "signals" / "data"
    good = DecoderManifest.load(data / "twinloop_ev.toml").entries[0]
    names = {"message": good.message, "signal": good.signal, "vss": good.vss, key: "N" * 1_000_000}
    entry = "".join(f"{k} = '{v}'\n" for k, v in names.items())
    manifest = DecoderManifest.load(_manifest(tmp_path, entry))
    with pytest.raises(UnknownNameError) as caught:
        manifest.check(load_dbc(data / "twinloop_ev.dbc"), default_catalog())
    assert len(str(caught.value)) < 400 and "(1000000 characters)" in str(caught.value)


# ---- library errors name fields, the command line names its flags -------------------------
def test_a_can_log_without_dbc_or_manifest_is_refused_naming_the_fields_not_flags(store, tmp_path):
    log = tmp_path / "d.log"
    log.write_text("(1714557600.000000) can0 123#00\n")
    with pytest.raises(ValidationError) as caught:
        Ingester(store).ingest(log, "CAR1")
    assert caught.value.field == "dbc/manifest"
    assert str(caught.value).startswith("dbc/manifest in ")


def test_the_report_of_a_log_that_decodes_to_nothing_names_the_fields_not_flags():
    from twinloop.ingest import IngestReport

    r = IngestReport(source="d.log", vehicle="CAR1", can_log=True, rows_read=20)
    assert r.problem is not None
    assert "`dbc` describes this vehicle's bus and that `manifest` maps" in r.problem
    assert "--" not in r.problem
