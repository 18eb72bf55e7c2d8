"""Input a hostile user would try: times out of range, repeated columns, odd column types."""

import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twinloop.errors import DataError, ValidationError
from twinloop.ingest import Ingester, write_can_log
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
