"""The twin's trip table from stored trips, on DuckDB and PostgreSQL (see tests/conftest.py), with simulated telemetry (tests/_support/telemetry_drives.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from telemetry_drives import LEAF, VIN, drive, subset, without, write

from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.learn.features import FEATURES, TARGET
from twinloop.signals.vss import AMBIENT, CURRENT, SPEED, VOLTAGE
from twinloop.store import QuarantineRecord, SampleBatch
from twinloop.twin.trips import TripTableOptions, trip_table


def test_trip_table_gives_one_row_per_trip_with_the_simulated_energy(store):
    drives = drive(LEAF, 4, seed=0)
    write(store, drives)
    X, y, meta = trip_table(store, VIN)
    starts = [d.start for d in drives]
    assert list(X.index) == starts and list(y.index) == starts and list(meta.index) == starts
    assert list(X.columns) == list(FEATURES) and y.name == TARGET
    assert meta["used"].all() and (meta["reason"] == "").all()
    assert list(meta["trip_no"]) == [1, 2, 3, 4]
    assert list(meta["samples"]) == [d.time.size for d in drives]
    assert np.allclose(meta["duration"], [d.time[-1] for d in drives])
    # The simulator sums each step's power at its end (rectangle rule), trip_table
    # integrates the same samples by trapezoids: over a whole cycle they differ by < 1e-4.
    np.testing.assert_allclose(y, [d.energy_per_distance for d in drives], rtol=2e-4)
    np.testing.assert_allclose(X["distance"], [d.distance for d in drives], rtol=1e-6)
    assert (X["climb"] > 0).all() and (X["descent"] > 0).all()  # the grade signal was read
    np.testing.assert_allclose(X["ambient_temperature"], [d.series[AMBIENT][0] for d in drives])


def test_since_and_until_select_trips_by_start(store):
    drives = drive(LEAF, 4, seed=0, grade=False)
    write(store, drives)
    X, _, _ = trip_table(store, VIN, since=drives[1].start, until=drives[3].start)
    assert list(X.index) == [drives[1].start, drives[2].start]
    assert X["climb"].eq(0).all()  # no grade stored: flat
    naive = drives[1].start.replace(tzinfo=None)  # naive means UTC
    assert len(trip_table(store, VIN, since=naive)[0]) == 3


def test_short_gappy_and_incomplete_trips_are_skipped_with_the_reason(store):
    good, no_current, gappy, short = drive(LEAF, 4, seed=1)
    hole = (gappy.time < 200) | (gappy.time > 230)  # speed at 199 s, then 231 s; the key stays on
    gappy_speed = subset(gappy, hole, (SPEED,))
    write(store, [good, without(no_current, CURRENT), without(gappy, SPEED), gappy_speed])
    write(store, [subset(short, short.time <= 60)])
    X, y, meta = trip_table(store, VIN)
    assert list(X.index) == [good.start] and len(y) == 1
    reasons = dict(zip(meta.index, meta["reason"], strict=True))
    assert reasons[good.start] == ""
    assert reasons[no_current.start] == f"no samples of {CURRENT}"
    assert reasons[gappy.start].startswith(f"gap of 32 s in {SPEED} after ")
    assert reasons[short.start].startswith("too short:") and "needs 1000 m and 120 s" in reasons[short.start]
    assert list(meta["used"]) == [True, False, False, False]
    assert (meta["quarantined"] == 0).all()  # nothing was refused at ingest


def _trip_with_quarantined_speed(store, extra=()):
    """One trip whose speed from 200 to 230 s was refused at ingest (out of range); the hole's mask."""
    d = drive(LEAF, 1, seed=1)[0]
    hole = (d.time >= 200) & (d.time < 230)
    write(store, [subset(d, ~hole, (SPEED,)), without(d, SPEED)])
    iid = store.begin_ingest(VIN, "file.csv", "q")
    times = [int((d.start + timedelta(seconds=float(t))).timestamp() * 1e6) for t in d.time[hole]]
    store.write_batch(iid, 0, VIN, SampleBatch(pa.table({
        "signal_id": pa.array([], pa.int32()), "time": pa.array([], pa.timestamp("us")),
        "value": pa.array([], pa.float64())}),
        quarantine=[QuarantineRecord("above 250 km/h", SPEED, t, "9999") for t in times] + list(extra)))
    store.finish_ingest(iid, {})
    return hole


def test_samples_quarantined_at_ingest_are_counted_and_named_in_the_skip_reason(store):
    # Ingestion refused 30 s of speed as out of range: the trip then has a gap,
    # and the reason says where the samples went.
    hole = _trip_with_quarantined_speed(store)
    _, _, meta = trip_table(store, VIN, allow_empty=True)
    assert meta["quarantined"].tolist() == [int(hole.sum())]
    assert meta["reason"].iloc[0].endswith(f"; {hole.sum()} samples of this trip were quarantined at ingest"
                                           f" ({hole.sum()} above 250 km/h)")
    with pytest.raises(DataError, match=f"{hole.sum()} of their samples were quarantined at ingest"):
        trip_table(store, VIN)


def test_samples_quarantined_without_a_time_are_counted_in_the_vehicles_total(store):
    # rows whose time could not be read cannot be placed in a trip, but they were refused all the same
    hole = _trip_with_quarantined_speed(store, [QuarantineRecord("unreadable time", SPEED, None, "12", count=500)])
    with pytest.raises(DataError, match=rf"{hole.sum()} of their samples were quarantined at ingest"
                                        rf" \({hole.sum() + 500} of the vehicle's in all"):
        trip_table(store, VIN)


def test_options_change_what_is_usable(store):
    d = drive(LEAF, 1, seed=2)[0]
    write(store, [without(d, AMBIENT)])
    with pytest.raises(DataError, match=f"1 without {AMBIENT}"):
        trip_table(store, VIN)
    X, _, _ = trip_table(store, VIN, options=TripTableOptions(ambient_temperature=283.15))
    assert X["ambient_temperature"].tolist() == [283.15]
    with pytest.raises(DataError, match="1 too short"):
        trip_table(store, VIN, options=TripTableOptions(ambient_temperature=283.15, min_distance=1e6))
    with pytest.raises(ValidationError, match="max_gap"):
        TripTableOptions(max_gap=0)
    with pytest.raises(ValidationError, match="ambient_temperature"):
        TripTableOptions(ambient_temperature=20.0)  # Celsius given as kelvin


def test_no_usable_trip_says_what_is_missing(store):
    drives = drive(LEAF, 3, seed=3, grade=False)
    write(store, [without(d, VOLTAGE) for d in drives])
    with pytest.raises(DataError) as err:
        trip_table(store, VIN)
    message = str(err.value)
    assert f"none of the 3 trips of {VIN} can be used (3 without {VOLTAGE})" in message
    assert "without gaps over 10 s and at least 1000 m and 120 s of driving" in message
    with pytest.raises(DataError, match=f"{VIN} has no trips starting from 2030"):
        trip_table(store, VIN, since=datetime(2030, 1, 1))


def test_unknown_vehicle_suggests_close_matches(store):
    write(store, drive(LEAF, 1, seed=0, grade=False))
    with pytest.raises(UnknownNameError, match="did you mean '5YJ3E1EA7KF000001'"):
        trip_table(store, "5YJ3E1EA7KF000002")




def test_a_fast_loggers_noise_is_not_read_as_acceleration():
    from twinloop.twin.trips import trace_features

    # 10 m/s with +-1 m/s of sensor noise, alternating at 20 Hz: as 1-s means, a steady 10 m/s
    t = np.arange(0.0, 300.0, 0.05)
    noisy = 10.0 + np.where(np.arange(t.size) % 2, 1.0, -1.0)
    raw = trace_features(t, noisy, step=0.01)  # no averaging: every flicker is kinetic energy
    assert raw["positive_kinetic"] > 0.5
    averaged = trace_features(t, noisy)
    assert averaged["positive_kinetic"] == pytest.approx(0.0, abs=1e-9)
    assert averaged["distance"] == pytest.approx(10.0 * 299.0, rel=1e-9)  # from the first block mean to the last
    # a 1 Hz trace is used as it is
    t1 = np.arange(0.0, 300.0)
    v1 = 10.0 + np.sin(t1 / 10)
    from twinloop.learn.features import trip_features

    assert trace_features(t1, v1) == trip_features(t1, v1)


def test_stored_altitude_gives_the_grade_when_no_grade_is_stored(store):
    from twinloop.signals.vss import ALTITUDE, GRADE

    flat = drive(LEAF, 3, seed=1, grade=False)
    d = flat[0]
    distance = np.concatenate([[0.0], np.cumsum(0.5 * (d.series[SPEED][1:] + d.series[SPEED][:-1]) * np.diff(d.time))])
    d.series[ALTITUDE] = 100.0 + 0.03 * distance  # a steady 3 % climb
    write(store, flat)
    X, _, _ = trip_table(store, VIN)
    rise = X["climb"].iloc[0] * X["distance"].iloc[0] / 9.80665
    assert rise == pytest.approx(0.03 * X["distance"].iloc[0], rel=0.02)
    assert X["climb"].iloc[1] == 0.0  # the trips without altitude stay flat
    assert GRADE not in d.series
