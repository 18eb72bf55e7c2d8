"""Store behaviour, run on DuckDB and on PostgreSQL (see conftest.py)."""

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.store import Event, QuarantineRecord, SampleBatch, TelemetryStore

T0 = 1_714_557_600_000_000  # 2024-05-01T10:00:00Z in µs
SPEED = "Vehicle.Speed"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"


def batch(store, path, seconds, values):
    sid = store.signal_ids([path])[path]
    t = pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000 + T0, pa.int64()).cast(
        pa.timestamp("us")
    )
    return SampleBatch(
        pa.table(
            {
                "signal_id": pa.array([sid] * len(t), pa.int32()),
                "time": t,
                "value": pa.array(values, pa.float64()),
            }
        )
    )


def test_store_satisfies_the_protocol(store):
    assert isinstance(store, TelemetryStore)


def test_rewriting_the_same_batch_inserts_nothing(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    b = batch(store, SPEED, range(100), np.linspace(0, 30, 100))
    first = store.write_batch(iid, 0, "CAR1", b)
    again = store.write_batch(iid, 1, "CAR1", b)
    assert (first.inserted, first.duplicates) == (100, 0)
    assert (again.inserted, again.duplicates, again.conflicts) == (0, 100, 0)
    assert store.sample_count("CAR1") == 100


def test_partly_overlapping_batch_inserts_only_new_and_counts_conflicts(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, range(10), [1.0] * 10))
    out = store.write_batch(
        iid, 1, "CAR1", batch(store, SPEED, range(5, 15), [1.0] * 3 + [2.0] * 7)
    )
    assert (out.inserted, out.duplicates, out.conflicts) == (5, 5, 2)
    table = store.read("CAR1", [SPEED])
    # the stored value wins
    assert table.column(SPEED).to_pylist() == [1.0] * 10 + [2.0] * 5


def test_same_times_of_another_vehicle_or_signal_are_not_duplicates(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, range(10), [1.0] * 10))
    assert (
        store.write_batch(iid, 1, "CAR2", batch(store, SPEED, range(10), [1.0] * 10)).inserted == 10
    )
    assert (
        store.write_batch(iid, 2, "CAR1", batch(store, SOC, range(10), [0.5] * 10)).inserted == 10
    )


def test_read_returns_wide_si_table_in_time_order_and_range(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, [3, 1, 2], [3.0, 1.0, 2.0]))
    store.write_batch(iid, 1, "CAR1", batch(store, SOC, [2], [0.5]))
    t = store.read("CAR1", [SPEED, SOC])
    assert t.column_names == ["time", SPEED, SOC]
    assert t.schema.field("time").type == pa.timestamp("us")
    assert t.column(SPEED).to_pylist() == [1.0, 2.0, 3.0]
    assert t.column(SOC).to_pylist() == [None, 0.5, None]
    start = datetime(2024, 5, 1, 10, 0, 2)
    assert store.read("CAR1", [SPEED], start=start).column(SPEED).to_pylist() == [2.0, 3.0]
    assert store.read("CAR1", [SPEED], end=start).column(SPEED).to_pylist() == [1.0]


def test_values_round_trip_exactly(store):
    values = np.random.default_rng(0).uniform(0, 50, 1000)
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, range(1000), values))
    np.testing.assert_array_equal(store.read("CAR1", [SPEED]).column(SPEED).to_numpy(), values)


def test_downsampling_happens_in_the_database(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, range(60), np.arange(60.0)))
    mean = store.read("CAR1", [SPEED], every=10.0)
    assert mean.num_rows == 6
    assert mean.column(SPEED).to_pylist() == [4.5, 14.5, 24.5, 34.5, 44.5, 54.5]
    assert store.read("CAR1", [SPEED], every=10.0, how="max").column(SPEED).to_pylist()[0] == 9.0
    assert store.read("CAR1", [SPEED], every=30.0, how="count").column(SPEED).to_pylist() == [
        30.0,
        30.0,
    ]
    frame = store.read_frame("CAR1", [SPEED], every=20.0)
    assert frame.index.name == "time" and len(frame) == 3


def test_read_checks_its_arguments(store):
    store.vehicle_id("CAR1", create=True)
    with pytest.raises(UnknownNameError, match="CAR1"):
        store.read("CAR11", [SPEED])
    with pytest.raises(UnknownNameError, match=r"Vehicle\.Speed"):
        store.read("CAR1", ["Vehicle.Sped"])
    with pytest.raises(UnknownNameError, match="mean"):
        store.read("CAR1", [SPEED], how="avg")
    with pytest.raises(ValidationError):
        store.read("CAR1", [SPEED], every=-1.0)
    for below_a_microsecond_or_absurd in (1e-7, 1e300, float("nan")):  # a 0-µs bucket would crash the SQL
        with pytest.raises(ValidationError, match=r"every: expected a number of seconds in \[1e-06, "):
            store.read("CAR1", [SPEED], every=below_a_microsecond_or_absurd)
    # a catalog signal never stored reads as an empty column
    assert store.read("CAR1", [SOC]).num_rows == 0


def test_trips_from_gaps(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(
        iid, 0, "CAR1", batch(store, SPEED, [*range(0, 100), *range(1000, 1050)], [5.0] * 150)
    )
    assert store.detect_trips("CAR1", gap=300) == 2
    trips = store.trips("CAR1")
    assert trips.column("samples").to_pylist() == [100, 50]
    assert trips.column("duration_s").to_pylist() == [99.0, 49.0]
    assert trips.column("method").to_pylist() == ["gap", "gap"]


def test_trips_from_key_state(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    key = "Vehicle.LowVoltageSystemState"
    # ON at 0..9, OFF at 10, ON again at 20..29, LOCK at 30
    states = [4.0] * 10 + [2.0] + [4.0] * 10 + [1.0]
    store.write_batch(iid, 0, "CAR1", batch(store, key, [*range(0, 11), *range(20, 31)], states))
    assert store.detect_trips("CAR1") == 2
    trips = store.trips("CAR1")
    assert trips.column("duration_s").to_pylist() == [10.0, 10.0]
    assert trips.column("method").to_pylist() == ["key", "key"]


def test_events_are_stored_and_read_back(store):
    store.add_events(
        "CAR1",
        [
            Event(datetime(2024, 5, 1, 12), "model.version", {"version": 3}),
            Event(datetime(2024, 5, 1, 11), "alert", {"soc": 0.1}),
        ],
    )
    ev = store.events("CAR1")
    assert ev.column("kind").to_pylist() == ["alert", "model.version"]
    assert '"soc": 0.1' in ev.column("payload").to_pylist()[0]
    assert store.events("CAR1", kind="alert").num_rows == 1


def test_quarantine_is_written_with_the_batch(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    b = batch(store, SPEED, range(3), [1.0, 2.0, 3.0])
    q = [QuarantineRecord("value is NaN", SPEED, T0, "nan", 1, 7)]
    store.write_batch(iid, 0, "CAR1", SampleBatch(b.table, q))
    rows = store.quarantine("CAR1").to_pylist()
    assert rows[0]["reason"] == "value is NaN" and rows[0]["source_row"] == 7


def test_vehicles_lists_counts(store):
    iid = store.begin_ingest("CAR1", "test", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, range(5), [1.0] * 5))
    store.vehicle_id("CAR2", create=True)
    v = store.vehicles().to_pylist()
    assert [(r["vin"], r["samples"]) for r in v] == [("CAR1", 5), ("CAR2", 0)]


def test_completed_ingest_is_found_by_content_hash(store):
    iid = store.begin_ingest("CAR1", "f.csv", "abc")
    assert store.completed_ingest("CAR1", "abc") is None  # not finished yet
    store.finish_ingest(iid, {"samples_read": 3})
    assert store.completed_ingest("CAR1", "abc") == {"samples_read": 3}
    assert store.completed_ingest("CAR2", "abc") is None


def test_bad_vehicle_names_are_refused(store):
    with pytest.raises(ValidationError):
        store.vehicle_id("", create=True)
    with pytest.raises(ValidationError):
        store.vehicle_id("x" * 65, create=True)


@pytest.mark.parametrize("vin", ["  ", " CAR1", "CAR1 "])
def test_vehicle_names_with_surrounding_space_are_refused_when_new(store, vin):
    with pytest.raises(ValidationError, match="without surrounding spaces"):
        store.vehicle_id(vin, create=True)
    assert store.vehicles().num_rows == 0


@pytest.mark.parametrize("vin", [" CAR1", "CAR1 ", "", "x" * 65])
def test_the_store_and_the_twin_apply_one_vin_rule(store, vin):
    """' CAR1' was a valid store vehicle but not a valid twin: both now refuse it, with one message."""
    from twinloop.conventions import check_vin

    with pytest.raises(ValidationError) as twin_rule:
        check_vin(vin, "vehicle")
    with pytest.raises(ValidationError) as store_rule:
        store.vehicle_id(vin, create=True)
    assert str(store_rule.value) == str(twin_rule.value)


def test_a_refused_long_vehicle_name_is_shortened_in_the_message(store):
    with pytest.raises(ValidationError, match=r"\(500 characters\)") as err:
        store.vehicle_id("x" * 500, create=True)
    assert len(str(err.value)) < 200


def test_read_refuses_a_signal_asked_twice(store):
    iid = store.begin_ingest("CAR1", "t", "x")
    store.write_batch(iid, 0, "CAR1", batch(store, SPEED, range(3), [1.0, 2.0, 3.0]))
    with pytest.raises(ValidationError, match=r"signals: expected each path once.*Vehicle.Speed"):
        store.read("CAR1", [SPEED, SOC, SPEED])
