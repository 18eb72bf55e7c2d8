"""File ingestion on both backends: layouts, bad input, idempotency."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.ingest import IngestConfig, Ingester

SPEED = "Vehicle.Speed"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
KEY = "Vehicle.LowVoltageSystemState"
T0 = pd.Timestamp("2024-05-01T10:00:00Z")


def wide(n=100, start=0):
    t = T0 + pd.to_timedelta(np.arange(start, start + n), unit="s")
    return pd.DataFrame({"time": t, SPEED: np.linspace(0, 90, n), SOC: np.linspace(80, 79, n)})


def accounted(report):
    d = report.to_dict()
    return (
        d["samples_read"]
        == d["inserted"]
        + d["duplicates"]
        + d["duplicates_in_source"]
        + d["quarantined"]
        - d["rows_refused"]
    )


def test_wide_parquet_is_converted_to_si(store, tmp_path):
    f = tmp_path / "w.parquet"
    wide().to_parquet(f)
    r = Ingester(store).ingest(f, "CAR1")
    assert (r.samples_read, r.inserted, r.quarantined) == (200, 200, 0)
    t = store.read("CAR1", [SPEED, SOC])
    assert t.column(SPEED).to_numpy()[-1] == pytest.approx(25.0)  # 90 km/h
    assert t.column(SOC).to_numpy()[0] == pytest.approx(0.80)
    assert t.column("time").to_pylist()[0] == T0.tz_localize(None).to_pydatetime()


def test_long_csv_with_numeric_epoch_seconds_and_labels(store, tmp_path):
    f = tmp_path / "l.csv"
    f.write_text(
        "time,signal,value\n1714557600,Vehicle.Speed,36\n1714557600,Vehicle.LowVoltageSystemState,ON\n"
        "1714557601,Vehicle.Speed,72\n1714557602,Vehicle.LowVoltageSystemState,OFF\n"
    )
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 4 and accounted(r)
    t = store.read("CAR1", [SPEED, KEY])
    assert t.column(SPEED).to_pylist() == [pytest.approx(10.0), pytest.approx(20.0), None]
    assert t.column(KEY).to_pylist() == [4.0, None, 2.0]
    assert store.trips("CAR1").num_rows == 1


def test_long_parquet(store, tmp_path):
    f = tmp_path / "l.parquet"
    pq.write_table(
        pa.table(
            {
                "time": pa.array([T0.value // 1000] * 2, pa.timestamp("us", "UTC")),
                "signal": [SPEED, SOC],
                "value": [36.0, 50.0],
            }
        ),
        f,
    )
    assert Ingester(store).ingest(f, "CAR1").inserted == 2


def test_reingesting_changes_nothing(store, tmp_path):
    f = tmp_path / "w.parquet"
    wide().to_parquet(f)
    Ingester(store).ingest(f, "CAR1")
    again = Ingester(store).ingest(f, "CAR1")
    assert again.already_ingested and again.inserted == 0
    assert store.sample_count("CAR1") == 200


def test_overlapping_file_with_other_content_stores_only_new_samples(store, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.csv"
    wide(100).to_parquet(a)
    wide(100, start=50).to_csv(b, index=False)  # other file, half the same samples
    Ingester(store).ingest(a, "CAR1")
    r = Ingester(store).ingest(b, "CAR1")
    assert (r.inserted, r.duplicates) == (100, 100) and accounted(r)
    assert store.sample_count("CAR1") == 300


def test_every_bad_value_is_quarantined_with_its_reason(store, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(
        "time;Vehicle.Speed;Vehicle.Powertrain.TractionBattery.StateOfCharge.Current;Vehicle.LowVoltageSystemState\n"
        "2024-05-01T10:00:00Z;36;80;ON\n"
        "2024-05-01T10:00:01Z;nan;79.9;ON\n"  # NaN
        "2024-05-01T10:00:03Z;500;79.8;ON\n"  # 139 m/s: out of range
        "2024-05-01T10:00:02Z;40;;ON\n"  # out of order, empty cell
        "2024-05-01T10:00:02Z;41;79.8;BOGUS\n"  # same time, other value; unknown label
        "2024-05-01T10:00:02Z;40;79.8;ON\n"  # exact repeat
        "not a time;10;79;ON\n"  # bad time
        "2024-05-01T10:00:04Z;abc;79.7;OFF\n"  # not a number
        "2024-05-01T10:00\n"  # truncated last line
    )
    r = Ingester(store).ingest(f, "CAR1")
    assert r.delimiter == ";"
    assert accounted(r)
    assert r.missing_cells == 1 and r.out_of_order >= 1 and r.duplicates_in_source == 2
    reasons = "\n".join(r.reasons)
    for text in [
        "value is NaN",
        "outside the valid range",
        "not a number",
        "unknown label",
        "missing or invalid time",
        "a second, different value",
        "malformed row",
    ]:
        assert text in reasons, text
    q = store.quarantine("CAR1").to_pylist()
    assert sum(row["count"] for row in q) == r.quarantined
    assert {"500", "abc", "BOGUS"} <= {row["value"] for row in q}


def test_unknown_signal_column_is_refused_with_close_matches_and_nothing_written(store, tmp_path):
    f = tmp_path / "u.csv"
    f.write_text("time,Vehicle.Sped\n2024-05-01T10:00:00Z,3\n")
    with pytest.raises(UnknownNameError, match=r"Vehicle\.Speed"):
        Ingester(store).ingest(f, "CAR1")
    assert store.sample_count() == 0


def test_unknown_signal_in_long_form_is_quarantined_with_close_matches(store, tmp_path):
    f = tmp_path / "l.csv"
    f.write_text(
        "time,signal,value\n2024-05-01T10:00:00Z,Vehicle.Sped,3\n2024-05-01T10:00:00Z,Vehicle.Speed,3\n"
    )
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 1
    assert any("did you mean 'Vehicle.Speed'" in k for k in r.reasons)


def test_wrong_delimiter_is_detected(store, tmp_path):
    f = tmp_path / "tab.csv"
    wide(10).to_csv(f, sep="\t", index=False)
    r = Ingester(store).ingest(f, "CAR1")
    assert r.delimiter == "\t" and r.inserted == 20


def test_file_without_time_column_is_a_validation_error(store, tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("when,Vehicle.Speed\n1,2\n")
    with pytest.raises(ValidationError, match="time"):
        Ingester(store).ingest(f, "CAR1")


def test_truncated_parquet_is_a_data_error_and_writes_nothing(store, tmp_path):
    f = tmp_path / "t.parquet"
    wide(1000).to_parquet(f)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="Parquet"):
        Ingester(store).ingest(f, "CAR1")
    assert store.sample_count() == 0


def test_empty_and_oversized_files_are_refused(store, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("")
    with pytest.raises(DataError, match="empty"):
        Ingester(store).ingest(f, "CAR1")
    g = tmp_path / "w.parquet"
    wide().to_parquet(g)
    with pytest.raises((DataError, ValidationError)):
        Ingester(store, config=IngestConfig(max_file_bytes=100)).ingest(g, "CAR1")


def test_unsupported_suffix_is_refused(store, tmp_path):
    f = tmp_path / "x.xlsx"
    f.write_text("x")
    with pytest.raises(ValidationError, match="file type"):
        Ingester(store).ingest(f, "CAR1")


def test_small_batches_commit_separately_and_report_progress(store, tmp_path):
    f = tmp_path / "w.parquet"
    wide(1000).to_parquet(f)
    seen = []
    r = Ingester(
        store, config=IngestConfig(batch_samples=200), on_batch=lambda rep, n: seen.append(n)
    ).ingest(f, "CAR1")
    assert r.batches == 10 and sum(seen) == 2000 and r.inserted == 2000


def test_quarantine_rows_are_capped_but_counted(store, tmp_path):
    f = tmp_path / "w.parquet"
    df = wide(500)
    df[SPEED] = 1000.0  # all out of range
    df.to_parquet(f)
    r = Ingester(store, config=IngestConfig(max_quarantine_rows=10)).ingest(f, "CAR1")
    q = store.quarantine("CAR1").to_pylist()
    assert len(q) == 11 and sum(x["count"] for x in q) == 500 == r.quarantined


def test_report_is_json_ready(store, tmp_path):
    f = tmp_path / "w.parquet"
    wide(5).to_parquet(f)
    json.dumps(Ingester(store).ingest(f, "CAR1").to_dict())


# ---- found by a new user's review ------------------------------------------------------------
def test_one_unparsable_epoch_time_is_quarantined_on_its_own_row(store, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("time,Vehicle.Speed\n1700000100,10\nabc,11\n1700000102,12\n")
    r = Ingester(store).ingest(f, "CAR1")
    assert (r.inserted, r.quarantined) == (2, 1) and accounted(r)
    assert r.reasons == {"missing or invalid time": 1}
    assert store.quarantine("CAR1").column("source_row").to_pylist() == [2]


def test_time_column_of_numbers_and_iso_text_is_read_by_its_majority():
    from twinloop.ingest import time_to_us

    bad = np.iinfo(np.int64).min
    numbers = time_to_us(pa.array(["1700000100", "abc", None, "1700000102.5"]))
    assert numbers.tolist() == [1_700_000_100_000_000, bad, bad, 1_700_000_102_500_000]
    iso = time_to_us(pa.array(["2024-05-01T10:00:00Z", "soon", "2024-05-01T10:00:01Z"]))
    assert iso.tolist()[1] == bad and iso[2] - iso[0] == 1_000_000


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_empty_file_is_a_data_error_before_anything_is_recorded(store, tmp_path, suffix):
    f = tmp_path / f"zero{suffix}"
    f.write_bytes(b"")
    ingester = Ingester(store)
    with pytest.raises(DataError, match=r"zero\.\w+ is empty: expected .*, received 0 bytes"):
        ingester.source(f).estimated_samples()
    with pytest.raises(DataError, match="is empty"):
        ingester.ingest(f, "CAR1")
    with pytest.raises(UnknownNameError):  # the vehicle was not even registered
        store.vehicle_id("CAR1")


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00", b"time,Vehicle.Speed\n1,\x00\n", b"PK\x03\x04rest"],
    ids=["png", "nul", "zip"],
)
def test_binary_file_named_csv_is_not_a_utf8_text_csv(store, tmp_path, content):
    f = tmp_path / "b.csv"
    f.write_bytes(content)
    with pytest.raises(DataError, match="is not a UTF-8 text CSV"):
        Ingester(store).ingest(f, "CAR1")


def test_utf8_bom_before_the_header_is_accepted(store, tmp_path):
    f = tmp_path / "bom.csv"
    f.write_bytes(b"\xef\xbb\xbftime,Vehicle.Speed\n1714557600,36\n")
    assert Ingester(store).ingest(f, "CAR1").inserted == 1


def test_custom_signal_file_makes_a_new_ingest_of_the_same_file(store, tmp_path):
    from twinloop.signals import default_catalog

    f = tmp_path / "l.csv"
    f.write_text(
        "time,signal,value\n1714557600,Vehicle.Speed,36\n1714557600,Vehicle.Private.X,0.1\n"
    )
    first = Ingester(store).ingest(f, "CAR1")
    assert (first.inserted, first.quarantined) == (1, 1)
    sig = tmp_path / "s.toml"
    sig.write_text(
        '[[signal]]\npath = "Vehicle.Private.X"\ndatatype = "float"\nunit = "ratio"\n'
        'quantity = "road_grade"\n'
    )
    catalog = default_catalog().with_file(sig)
    store.catalog = catalog
    second = Ingester(store, catalog).ingest(f, "CAR1")
    assert not second.already_ingested
    assert (second.inserted, second.duplicates, second.quarantined) == (1, 1, 0)


def test_report_of_an_ingest_that_stored_nothing_names_the_problem(store, tmp_path):
    f = tmp_path / "fast.csv"
    f.write_text("time,Vehicle.Speed\n1714557600,900\n")
    r = Ingester(store).ingest(f, "CAR1")
    assert r.problem is not None and "all 1 samples" in r.problem
    assert r.to_dict()["problem"] == r.problem
    again = Ingester(store).ingest(f, "CAR1")
    assert again.already_ingested and again.problem is not None
    g = tmp_path / "ok.csv"
    g.write_text("time,Vehicle.Speed\n1714557600,90\n")
    assert Ingester(store).ingest(g, "CAR1").problem is None
    assert Ingester(store).ingest(g, "CAR1").problem is None  # already ingested, fine


# ---- columns named with their SI unit: what `twinloop query` writes, read back unconverted ----
TEMP = "Vehicle.Exterior.AirTemperature"
CURRENT = "Vehicle.Powertrain.TractionBattery.CurrentCurrent"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_query_output_with_si_units_in_brackets_is_stored_unconverted_not_as_vss_units(store, tmp_path, suffix):
    # read as VSS units, the speed would be stored 3.6 times too small, the temperature 273.15 K too
    # high, the state of charge 100 times too small and the current with the wrong sign
    frame = pd.DataFrame({
        "time": T0 + pd.to_timedelta(np.arange(4), unit="s"),
        f"{SPEED}[m s-1]": [0.0, 10.5, 20.25, 33.3],
        f"{TEMP}[K]": [250.0, 273.15, 293.15, 310.0],
        f"{SOC}[1]": [0.8, 0.79, 0.78, 0.775],
        f"{CURRENT}[A]": [12.5, -40.0, 0.0, 150.0],
        f"{KEY}[1]": [4.0, 4.0, 5.0, 2.0],
    })
    f = tmp_path / f"q{suffix}"
    frame.to_csv(f, index=False) if suffix == ".csv" else frame.to_parquet(f)
    r = Ingester(store).ingest(f, "CAR1")
    assert (r.inserted, r.quarantined) == (20, 0)
    t = store.read("CAR1", [SPEED, TEMP, SOC, CURRENT, KEY])
    for name in (SPEED, TEMP, SOC, CURRENT, KEY):
        unit = {SPEED: "m s-1", TEMP: "K", CURRENT: "A"}.get(name, "1")
        assert t.column(name).to_pylist() == frame[f"{name}[{unit}]"].tolist(), name


@pytest.mark.parametrize("unit", ["km/h", "mph", "count", "", "m/s"])
def test_a_column_with_another_unit_in_brackets_is_refused_naming_the_si_unit(store, tmp_path, unit):
    f = tmp_path / "u.csv"
    f.write_text(f"time,{SPEED}[{unit}]\n1714557600,10\n")
    with pytest.raises(ValidationError) as caught:
        Ingester(store).ingest(f, "CAR1")
    message = str(caught.value)
    assert message.startswith(f"unit of column {SPEED} in ") and "[m s-1] (SI, as `twinloop query` writes it)" in message
    assert "km/h" in message and repr(unit) in message
    assert store.sample_count() == 0


def test_a_signal_bare_and_with_its_unit_is_a_repeated_column(store, tmp_path):
    f = tmp_path / "d.csv"
    f.write_text(f"time,{SPEED},{SPEED}[m s-1]\n1714557600,36,10\n")
    with pytest.raises(ValidationError, match=r"expected each column once, received \"'Vehicle.Speed' 2 times\""):
        Ingester(store).ingest(f, "CAR1")


def test_a_stored_code_column_refuses_values_that_are_no_code(store, tmp_path):
    # a mean over --every buckets of an ignition state (4.5) is no state
    f = tmp_path / "k.csv"
    f.write_text(f"time,{KEY}[1]\n1714557600,4\n1714557601,4.5\n1714557602,9\n")
    r = Ingester(store).ingest(f, "CAR1")
    assert r.inserted == 1 and r.quarantined == 2
    assert any("not a stored code" in reason for reason in r.reasons)
    assert any("outside the valid range [0, 5]" in reason for reason in r.reasons)
