import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.errors import ValidationError
from twinloop.ingest import Ingester
from twinloop.store import SampleBatch
from twinloop.store.trips import detect_trips, update_trips


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=200, unique=True), st.floats(1, 1000))
def test_gap_trips_partition_the_samples(seconds, gap):
    t = np.sort(np.array(seconds, dtype=np.int64)) * 1_000_000
    trips = detect_trips(t, None, gap)
    assert sum(x.samples for x in trips) == t.size
    for a, b in itertools.pairwise(trips):
        assert b.start - a.end > gap * 1e6


def test_no_samples_no_trips():
    assert detect_trips(np.array([], dtype=np.int64)) == []


def test_key_off_whole_time_gives_no_trips():
    t = np.arange(10, dtype=np.int64) * 1_000_000
    assert detect_trips(t, np.full(10, 2.0)) == []


# ---- incremental trips after each ingest equal a full recomputation ----------------------
SPEED = "Vehicle.Speed"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
KEY = "Vehicle.LowVoltageSystemState"
T0 = pd.Timestamp("2024-05-01T00:00:00Z")


def _file(path, seconds, columns):
    """A wide Parquet file at `seconds` after T0 with `columns` {path: values or label list}."""
    t = T0 + pd.to_timedelta(np.asarray(seconds, dtype=float), unit="s")
    pd.DataFrame({"time": t, **columns}).to_parquet(path)
    return path


def _trips(store, vin):
    t = store.trips(vin)
    return list(
        zip(
            *(
                t.column(c).to_pylist()
                for c in ("trip_no", "start_time", "end_time", "samples", "method")
            ),
            strict=True,
        )
    )


def _ingest_and_compare(store, files):
    """Ingest `files` in order into INC (incremental trips) and FULL (full recomputation)."""
    for f in files:
        Ingester(store).ingest(f, "INC")
        Ingester(store).ingest(f, "FULL")
        store.detect_trips("FULL")
        assert _trips(store, "INC") == _trips(store, "FULL"), f.name


def _key_file(path, start, n, off_at=()):
    s = np.arange(start, start + n)
    key = np.array(["ON"] * n, dtype=object)
    key[list(off_at)] = "OFF"
    return _file(path, s, {SPEED: np.full(n, 30.0), KEY: key})


def test_incremental_key_trips_equal_a_full_recomputation(store, tmp_path):
    files = [
        _key_file(tmp_path / "a.parquet", 0, 600, off_at=[599]),
        _key_file(tmp_path / "b.parquet", 700, 300),  # a new trip, still on at its end
        _key_file(tmp_path / "c.parquet", 1000, 200, off_at=[150]),  # continues b's trip
        _key_file(tmp_path / "d.parquet", -2000, 100, off_at=[99]),  # back-fill before all
        _file(
            tmp_path / "e.parquet", np.arange(300, 320), {SOC: np.full(20, 50.0)}
        ),  # other signal
        _key_file(tmp_path / "f.parquet", 1160, 100),  # overlaps c, crosses its key-off
        _key_file(tmp_path / "g.parquet", 5000, 100),  # after a long pause
    ]
    _ingest_and_compare(store, files)
    assert len(_trips(store, "INC")) >= 4


def test_incremental_gap_trips_and_a_change_of_basis_equal_a_full_recomputation(store, tmp_path):
    files = [
        _file(tmp_path / "a.parquet", np.arange(0, 100), {SOC: np.full(100, 50.0)}),  # all times
        _file(tmp_path / "b.parquet", np.arange(200, 300), {SOC: np.full(100, 50.0)}),
        _file(tmp_path / "c.parquet", np.arange(1000, 1100), {SPEED: np.full(100, 10.0)}),  # speed
        _file(tmp_path / "d.parquet", np.arange(1200, 1300), {SPEED: np.full(100, 10.0)}),
        _file(tmp_path / "e.parquet", np.arange(1250, 1600, 50), {SPEED: np.full(7, 10.0)}),
        _key_file(tmp_path / "f.parquet", 2000, 50, off_at=[49]),  # key state appears
        _key_file(tmp_path / "g.parquet", 2100, 50),
    ]
    _ingest_and_compare(store, files)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_ingest_orders_give_the_trips_of_a_full_recomputation(store, tmp_path, seed):
    rng = np.random.default_rng(seed)
    files = []
    for i in range(8):
        start = int(rng.integers(0, 20_000))
        n = int(rng.integers(1, 400))
        step = int(rng.choice([1, 1, 7, 350]))  # some files pause longer than the gap
        s = start + np.arange(n) * step
        key = np.where(rng.random(n) < 0.03, "OFF", "ON").astype(object)
        files.append(_file(tmp_path / f"r{i}.parquet", s, {SPEED: rng.uniform(0, 90, n), KEY: key}))
    _ingest_and_compare(store, files)


def test_an_interrupted_ingest_of_other_content_forces_a_full_recomputation(store, tmp_path):
    Ingester(store).ingest(_key_file(tmp_path / "a.parquet", 0, 100), "CAR1")
    Ingester(store).ingest(_key_file(tmp_path / "b.parquet", 1000, 100), "CAR1")
    # an ingest that committed samples between the two trips and was killed
    # before its trips were updated
    killed = store.begin_ingest("CAR1", "killed.parquet", "0" * 64)
    sid = store.signal_ids([KEY])[KEY]
    t = (T0.value // 1000) + np.arange(500, 560, dtype=np.int64) * 1_000_000
    batch = pa.table(
        {
            "signal_id": pa.array(np.full(t.size, sid), pa.int32()),
            "time": pa.array(t, pa.int64()).cast(pa.timestamp("us")),
            "value": pa.array(np.full(t.size, 4.0)),
        }
    )
    store.write_batch(killed, 0, "CAR1", SampleBatch(batch))
    # new data inside the second trip: its start alone would be the anchor
    since = (T0.value // 1000) + 1050 * 1_000_000
    assert update_trips(store, "CAR1", since) == 3
    assert [x[3] for x in _trips(store, "CAR1")] == [100, 60, 100]


def test_appending_reads_only_from_the_last_trip(store, tmp_path, monkeypatch):
    from twinloop.store import trips as trips_module

    anchors = []
    real = trips_module._anchor

    def spy(*args, **kwargs):
        anchors.append(real(*args, **kwargs))
        return anchors[-1]

    monkeypatch.setattr(trips_module, "_anchor", spy)
    Ingester(store).ingest(_key_file(tmp_path / "a.parquet", 0, 100, off_at=[99]), "CAR1")
    Ingester(store).ingest(_key_file(tmp_path / "b.parquet", 1000, 100), "CAR1")
    Ingester(store).ingest(_key_file(tmp_path / "c.parquet", 1100, 100), "CAR1")
    start_b = (T0.value // 1000) + 1000 * 1_000_000
    assert anchors == [None, 0 + T0.value // 1000, start_b]
    assert [x[3] for x in _trips(store, "CAR1")] == [99, 200]  # the key-off sample ends trip 1


@pytest.mark.parametrize("gap", [0.0, 0.5, -5.0, float("nan"), float("inf")])
def test_a_gap_that_is_not_a_positive_pause_is_refused_and_keeps_the_stored_trips(store, tmp_path, gap):
    Ingester(store).ingest(_key_file(tmp_path / "a.parquet", 0, 600, off_at=[599]), "CAR")
    before = _trips(store, "CAR")
    with pytest.raises(ValidationError, match=r"gap: expected a pause in seconds >= 1"):
        store.detect_trips("CAR", gap)
    with pytest.raises(ValidationError, match="gap"):
        detect_trips(np.arange(3, dtype=np.int64), None, gap)
    assert _trips(store, "CAR") == before and before


def test_trips_of_a_vehicle_without_speed_do_not_depend_on_other_vehicles(store, tmp_path):
    soc = _file(tmp_path / "soc.parquet", [0, 10, 1000, 1010], {SOC: np.full(4, 50.0)})
    speed = _file(tmp_path / "speed.parquet", np.arange(5), {SPEED: np.full(5, 10.0)})
    Ingester(store).ingest(soc, "ALONE")
    alone = [r[1:] for r in _trips(store, "ALONE")]
    assert len(alone) == 2
    Ingester(store).ingest(speed, "OTHER")  # the store now has speed samples, of another vehicle
    Ingester(store).ingest(soc, "NOSPEED")
    assert [r[1:] for r in _trips(store, "NOSPEED")] == alone
    store.detect_trips("NOSPEED")
    assert [r[1:] for r in _trips(store, "NOSPEED")] == alone
