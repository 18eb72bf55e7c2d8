"""The whole profile database in the store, on DuckDB and PostgreSQL: trips, stretches, styles, drivers.

Telemetry is the simulator's (tests/_support/telemetry_drives.py), 1 Hz, one
key-on/key-off trip per drive; the first vehicle also logs a position
(straight north from Munich at the simulated speed), the second none.
"""

from __future__ import annotations

import math
from dataclasses import replace as with_fields

import numpy as np
import pytest
from telemetry_drives import LEAF, VIN, Drive, drive, write

from twinloop.apps.profile_database import build_profiles
from twinloop.apps.profile_drivers import driver_profiles, pool_trips
from twinloop.apps.profile_roads import ROAD_COLUMNS, road_profiles
from twinloop.apps.profile_schema import (
    DRIVER_TABLE,
    PROFILE_SCHEMA,
    PROFILE_TABLE,
    STRETCH_TABLE,
    STYLE_TABLE,
)
from twinloop.apps.profile_store import (
    LATITUDE,
    LONGITUDE,
    assign_driver,
    stored_profiles,
    trip_profiles,
)
from twinloop.apps.profile_styles import STYLE_NAMES, stored_styles, style_profiles
from twinloop.errors import DataError, StoreError, UnknownNameError, ValidationError
from twinloop.signals.vss import CURRENT, SPEED, VOLTAGE
from twinloop.store import DuckDBStore, open_store
from twinloop.store.schema import SchemaExtension

OTHER = "WBA00000000000001"
METRES_PER_DEGREE = 6_371_008.8 * math.pi / 180


@pytest.fixture(scope="module")
def drives() -> list[Drive]:
    """Six trips of a Leaf over the bundled cycles, with a position driven north at the simulated speed."""
    out = []
    for d in drive(LEAF, 6, seed=5, grade=False):
        v = d.series[SPEED]
        north = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(d.time))])
        out.append(with_fields(d, series={**d.series, LATITUDE: 48.1 + north / METRES_PER_DEGREE,
                                          LONGITUDE: np.full(d.time.size, 11.5)}))
    return out


def _without_position(ds: list[Drive]) -> list[Drive]:
    return [with_fields(d, series={k: v for k, v in d.series.items() if k not in (LATITUDE, LONGITUDE)}) for d in ds]


def _close(store) -> None:
    if not isinstance(store, DuckDBStore):  # DuckDB shares one database object in a process
        store.close()


def test_a_build_fills_every_table_and_the_driver_is_the_pool_of_the_trips(store, drives):
    write(store, drives)
    write(store, _without_position(drives[:2]), vin=OTHER)
    result = build_profiles(store, min_style_trips=5)
    assert result.vehicles[VIN].profiled == (1, 2, 3, 4, 5, 6) and result.vehicles[OTHER].profiled == (1, 2)
    assert result.styles_fitted and result.styles_labelled == 8 and result.drivers == 2

    trips = trip_profiles(store)
    assert trips["driver"].tolist() == [VIN] * 6 + [OTHER] * 2
    assert set(trips["style"]) <= set(STYLE_NAMES)
    stored = [r for r in stored_profiles(store) if r["vin"] == VIN]
    drivers = driver_profiles(store)
    assert drivers["driver"].tolist() == [VIN, OTHER]
    mine = drivers.set_index("driver").loc[VIN]
    expected = pool_trips(stored)
    for name in ("distance_m", "characteristic_acceleration_mps2", "kinetic_intensity_per_km", "speed_p85_mps",
                 "acceleration_p95_mps2", "day_distance_median_m"):
        assert mine[name] == pytest.approx(expected[name], rel=1e-12), name
    assert mine["vins"] == [VIN] and mine["trips"] == 6 and mine["days"] == 1
    assert sum(mine["style_shares"].values()) == pytest.approx(1.0)
    assert driver_profiles(store, OTHER)["driver"].tolist() == [OTHER]


def test_stretches_cover_each_trip_and_their_energy_is_the_battery_power_integral(store, drives):
    write(store, drives[:2])
    build_profiles(store, min_style_trips=50)
    trips = trip_profiles(store, VIN).set_index("trip_no")
    rows = store.select(STRETCH_TABLE, where={"vin": VIN})
    for no, d in enumerate(drives[:2], start=1):
        mine = [r for r in rows if r["trip_no"] == no]
        assert sum(r["distance_m"] for r in mine) == pytest.approx(trips.loc[no, "distance_m"], rel=1e-9)
        assert sum(r["time_s"] for r in mine) == pytest.approx(trips.loc[no, "duration_s"])
        assert {r["heading"] for r in mine} == {"N"}  # straight north
        power = d.series[VOLTAGE] * d.series[CURRENT]
        energy = float(np.sum(0.5 * (power[1:] + power[:-1]) * np.diff(d.time)))
        assert sum(r["energy_j"] for r in mine) == pytest.approx(energy, rel=1e-9)
    roads = road_profiles(store, VIN)
    assert list(roads.columns) == list(ROAD_COLUMNS)
    assert roads["passes"].is_monotonic_decreasing
    assert roads["energy_per_distance"].notna().all() and (roads["mean_speed_mps"] > 0).all()  # regen: < 0 allowed
    assert len(road_profiles(store, top=3)) == 3


def test_no_position_is_no_stretch_and_an_empty_table_not_an_error(store, drives):
    write(store, _without_position(drives[:2]), vin=OTHER)
    build_profiles(store)
    assert store.select(STRETCH_TABLE) == []
    roads = road_profiles(store, OTHER)
    assert roads.empty and list(roads.columns) == list(ROAD_COLUMNS)


def test_too_few_trips_fit_no_styles_and_say_so(store, drives):
    write(store, drives[:2])
    result = build_profiles(store)
    assert not result.styles_fitted and "2 trip(s) of at least 1 km" in result.style_note and "10 needed" in result.style_note
    assert style_profiles(store).empty and trip_profiles(store)["style"].isna().all()
    assert stored_styles(store) is None


def test_trips_added_later_get_the_stored_styles_until_they_are_fitted_again(store, drives):
    write(store, drives[:5])
    first = build_profiles(store, min_style_trips=5)
    assert first.styles_fitted
    fitted = store.select(STYLE_TABLE, ["style", "fitted_at"], order_by=["rank"])
    write(store, drives[5:])
    second = build_profiles(store, min_style_trips=5)
    assert second.vehicles[VIN].profiled == (6,) and not second.styles_fitted and second.styles_labelled == 1
    assert store.select(STYLE_TABLE, ["style", "fitted_at"], order_by=["rank"]) == fitted
    styles = style_profiles(store)
    assert styles["style"].tolist() == list(STYLE_NAMES) and styles["trips"].sum() == 6
    assert styles["characteristic_acceleration_mps2"].is_monotonic_increasing  # calm, moderate, dynamic
    again = build_profiles(store, refit_styles=True, min_style_trips=5)
    assert again.styles_fitted and again.styles_labelled == 6


def test_assigned_drivers_get_profiles_of_their_own_and_keep_them_through_a_rebuild(store, drives):
    write(store, drives[:4])
    build_profiles(store)
    assert assign_driver(store, VIN, "alice", [1, 3]) == 2
    build_profiles(store, replace=True)  # every trip profiled again: the assignment stays
    trips = trip_profiles(store, VIN)
    assert trips["driver"].tolist() == ["alice", VIN, "alice", VIN]
    drivers = driver_profiles(store).set_index("driver")
    assert drivers.loc["alice", "trips"] == 2 and drivers.loc[VIN, "trips"] == 2
    assert drivers.loc["alice", "distance_m"] == pytest.approx(trips["distance_m"][[0, 2]].sum())
    assert driver_profiles(store, VIN)["driver"].tolist() == [VIN, "alice"]  # both drove the vehicle
    assert assign_driver(store, VIN, None) == 4  # back to the VIN
    build_profiles(store)
    assert driver_profiles(store)["driver"].tolist() == [VIN]


def test_assigning_bad_drivers_or_trips_is_refused(store, drives):
    write(store, drives[:2])
    build_profiles(store)
    with pytest.raises(ValidationError, match=r"trips: expected profiled trips of .* \(1 to 2\), received \[3\]"):
        assign_driver(store, VIN, "bob", [3])
    with pytest.raises(ValidationError, match="driver"):
        assign_driver(store, VIN, " bob")
    with pytest.raises(UnknownNameError, match="did you mean"):
        assign_driver(store, VIN[:-1] + "2", "bob")


def test_unknown_vehicles_and_vehicles_without_trips(store, drives):
    write(store, drives[:2])
    store.vehicle_id(OTHER, create=True)
    with pytest.raises(UnknownNameError, match="did you mean"):
        build_profiles(store, [VIN[:-1] + "2"])
    with pytest.raises(UnknownNameError, match="did you mean"):
        driver_profiles(store, VIN[:-1] + "2")
    with pytest.raises(UnknownNameError, match="did you mean"):
        road_profiles(store, VIN[:-1] + "2")
    with pytest.raises(DataError, match="has no trips"):
        build_profiles(store, [OTHER])  # asked for by name
    result = build_profiles(store)  # every vehicle: the one without trips is listed
    assert result.without_trips == (OTHER,) and list(result.vehicles) == [VIN]


def test_a_version_1_profile_store_is_migrated_in_place(store, drives):
    """A store the first profile database wrote (profile_trips alone) gets the new columns and tables."""
    write(store, drives[:2])
    v1 = SchemaExtension("profile", tables=(PROFILE_SCHEMA.table_at(PROFILE_TABLE, 1),))
    assert PROFILE_SCHEMA.version == 7 and v1.version == 1
    old = open_store(store.url, create=False)
    try:
        old.extend(v1)
        trip = old.trips(VIN).to_pylist()[0]
        row = {c.name: 0.0 for c in v1.tables[0].columns if c.type == "double"}
        row.update({"vin": VIN, "trip_no": 1, "start_time": trip["start_time"], "end_time": trip["end_time"],
                    "samples": 2, "with_altitude": False, "distributions": {}, "created_at": trip["start_time"]})
        old.insert(PROFILE_TABLE, [row])
    finally:
        _close(old)
    new = open_store(store.url, create=False)
    try:
        result = build_profiles(new)
        # the old row lacks histograms: it is profiled again, the other trip for the first time
        assert result.vehicles[VIN].profiled == (1, 2) and result.vehicles[VIN].unchanged == ()
        assert trip_profiles(new, VIN)["distance_m"].gt(1000).all()
        assert new.select(DRIVER_TABLE, ["driver"]) == [{"driver": VIN}]
        assert len(new.select(STRETCH_TABLE, ["stretch"], {"vin": VIN, "trip_no": 1})) > 0
    finally:
        _close(new)
    again = open_store(store.url, create=False)
    try:
        with pytest.raises(StoreError, match="version 7"):
            again.extend(v1)  # the store is at version 7 now: the old code is refused
    finally:
        _close(again)


def test_a_logger_faster_than_1_hz_is_profiled_on_the_1_s_grid(store):
    """20 Hz with a speed flicker of one quantisation step: profiled as the trace resampled to 1 s."""
    import pyarrow as pa

    from twinloop.apps.profile_histograms import resample
    from twinloop.apps.profiles import trip_metrics
    from twinloop.store import SampleBatch

    t = np.arange(0.0, 120.0 + 1e-9, 0.05)
    v = np.clip(np.minimum(t, 120.0 - t) * 0.5, 0.0, 15.0) + (np.arange(t.size) % 2) * 0.078 / 3.6
    iid = store.begin_ingest(VIN, "20 Hz", "f" * 64)
    sid = store.signal_ids([SPEED])[SPEED]
    us = 1_714_543_200_000_000 + np.round(t * 1e6).astype(np.int64)
    store.write_batch(iid, 0, VIN, SampleBatch(pa.table({
        "signal_id": pa.array(np.full(t.size, sid), pa.int32()),
        "time": pa.array(us, pa.int64()).cast(pa.timestamp("us")), "value": v})))
    store.finish_ingest(iid, {})
    store.detect_trips(VIN)
    build_profiles(store)
    row = trip_profiles(store, VIN).iloc[0]
    expected = trip_metrics(*resample(t, v))
    raw = trip_metrics(t, v)
    assert row["samples"] == t.size
    assert row["characteristic_acceleration_mps2"] == pytest.approx(expected.characteristic_acceleration_mps2)
    assert raw.characteristic_acceleration_mps2 > 1.2 * expected.characteristic_acceleration_mps2  # the flicker
