"""The profile database: per-trip metrics of stored telemetry, kept in the store, on DuckDB and PostgreSQL.

The telemetry is the simulator's (tests/_support/telemetry_drives.py): each
drive is stored as one key-on/key-off trip, and its samples as simulated are
what :func:`trip_metrics` is given for the expected figures. The cycles'
times are whole seconds, which the store keeps exactly (µs), so the stored
metrics equal the directly computed ones to rounding.
"""

from __future__ import annotations

import json
from dataclasses import replace as with_fields

import numpy as np
import pytest
from click.testing import CliRunner
from telemetry_drives import KEY, LEAF, VIN, Drive, drive, write

from twinloop.apps import (
    METRIC_NAMES,
    PROFILE_SCHEMA,
    build_trip_profiles,
    trip_metrics,
    trip_profiles,
)
from twinloop.apps.profile_histograms import PERCENTILES
from twinloop.apps.profile_store import PROFILE_COLUMNS, PROFILE_TABLE
from twinloop.apps.profiles import ACCELERATION_BINS, SPEED_BINS
from twinloop.cli import main
from twinloop.errors import DataError, UnknownNameError
from twinloop.signals.vss import ALTITUDE, SPEED
from twinloop.store import DuckDBStore, open_store

SCALARS = [n for n in METRIC_NAMES if not n.endswith("_distribution")]


@pytest.fixture(scope="module")
def drives() -> list[Drive]:
    """Two trips (UDDS, HWFET); the second with a climbing altitude trace."""
    first, second = drive(LEAF, 2, seed=3, grade=False)
    altitude = 200.0 + 0.01 * np.cumsum(second.series[SPEED])  # about a 1 % climb
    return [first, with_fields(second, series={**second.series, ALTITUDE: altitude})]


def _expected(d: Drive) -> dict[str, object]:
    return trip_metrics(d.time, d.series[SPEED], d.series.get(ALTITUDE)).to_dict()


def _assert_row_is(row: dict[str, object], expected: dict[str, object]) -> None:
    for name in SCALARS:
        assert row[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name
    for name in ("speed_distribution", "acceleration_distribution"):
        bins = SPEED_BINS if name.startswith("speed") else ACCELERATION_BINS
        for b in bins:
            assert row[f"{name}.{b}"] == pytest.approx(expected[name][b], abs=1e-12), f"{name}.{b}"  # type: ignore[index]


def test_stored_metrics_equal_trip_metrics_of_the_same_samples(store, drives):
    write(store, drives)
    result = build_trip_profiles(store, VIN)
    assert result.profiled == (1, 2) and not result.skipped and not result.unchanged
    frame = trip_profiles(store, VIN)
    assert list(frame.columns) == list(PROFILE_COLUMNS)
    assert frame["trip_no"].tolist() == [1, 2]
    assert frame["with_altitude"].tolist() == [False, True]
    assert frame["samples"].tolist() == [d.time.size for d in drives]
    for (_, row), d in zip(frame.iterrows(), drives, strict=True):
        _assert_row_is(row.to_dict(), _expected(d))
        assert row["start_time"] == d.start
    # the climb counts: with the altitude, more work per metre than the speed trace alone asks for
    flat = trip_metrics(drives[1].time, drives[1].series[SPEED])
    assert frame.loc[1, "characteristic_acceleration_mps2"] > flat.characteristic_acceleration_mps2


def test_a_second_build_writes_nothing_new(store, drives):
    write(store, drives)
    build_trip_profiles(store, VIN)
    before = store.select(PROFILE_TABLE, ["trip_no", "created_at"], {"vin": VIN}, order_by=["trip_no"])
    again = build_trip_profiles(store, VIN)
    assert again.profiled == () and again.unchanged == (1, 2) and not again.skipped
    assert store.select(PROFILE_TABLE, ["trip_no", "created_at"], {"vin": VIN}, order_by=["trip_no"]) == before


def test_a_build_after_more_telemetry_profiles_only_the_new_trip(store, drives):
    write(store, drives[:1])
    build_trip_profiles(store, VIN)
    write(store, drives[1:])
    result = build_trip_profiles(store, VIN)
    assert result.profiled == (2,) and result.unchanged == (1,)
    assert trip_profiles(store, VIN)["trip_no"].tolist() == [1, 2]


def test_replace_rewrites_every_trip_with_the_same_figures(store, drives):
    write(store, drives)
    build_trip_profiles(store, VIN)
    first = trip_profiles(store, VIN)
    again = build_trip_profiles(store, VIN, replace=True)
    assert again.profiled == (1, 2) and again.unchanged == ()
    second = trip_profiles(store, VIN)
    assert len(second) == 2
    assert (second["created_at"] > first["created_at"]).all()
    assert second.drop(columns="created_at").equals(first.drop(columns="created_at"))


def test_a_trip_with_fewer_than_two_speed_samples_is_skipped_with_its_reason(store, drives):
    d = drives[0]
    later = d.start + (drives[1].start - d.start) * 2
    key = np.full(d.time.size, 4.0)
    key[-1] = 2.0
    # key on and off around the trip, but a single speed sample inside it
    bare = [Drive(later, d.time, {KEY: key}, 0.0, 0.0), Drive(later, d.time[:1], {SPEED: d.series[SPEED][:1]}, 0.0, 0.0)]
    write(store, [*drives, *bare])
    result = build_trip_profiles(store, VIN)
    assert result.profiled == (1, 2)
    assert result.skipped == {3: f"1 {SPEED} sample (a profile needs at least 2)"}
    assert trip_profiles(store, VIN)["trip_no"].tolist() == [1, 2]


def test_the_table_is_created_through_the_extension_and_a_second_store_sees_it(store, drives):
    write(store, drives)
    build_trip_profiles(store, VIN)
    assert PROFILE_SCHEMA.name == "profile" and all(t.name.startswith("profile") for t in PROFILE_SCHEMA.tables)
    other = open_store(store.url, create=False)
    try:
        frame = trip_profiles(other, VIN)  # registers the extension on this object: the table is there
        assert frame["trip_no"].tolist() == [1, 2]
        assert build_trip_profiles(other, VIN).unchanged == (1, 2)
    finally:
        if not isinstance(other, DuckDBStore):  # DuckDB shares one database object in a process
            other.close()


def test_unknown_vehicle_suggests_close_matches_and_no_trips_says_to_ingest(store, drives):
    write(store, drives)
    with pytest.raises(UnknownNameError, match="did you mean"):
        build_trip_profiles(store, VIN[:-1] + "2")
    with pytest.raises(UnknownNameError, match="did you mean"):
        trip_profiles(store, VIN[:-1] + "2")
    store.vehicle_id("WBA00000000000001", create=True)
    with pytest.raises(DataError, match=r"has no trips in the store.*ingest telemetry"):
        build_trip_profiles(store, "WBA00000000000001")


def test_profiles_of_every_vehicle_and_an_empty_table(store, drives):
    assert trip_profiles(store).empty and list(trip_profiles(store).columns) == list(PROFILE_COLUMNS)
    write(store, drives)
    write(store, drives[:1], vin="WBA00000000000001")
    build_trip_profiles(store, VIN)
    build_trip_profiles(store, "WBA00000000000001")
    frame = trip_profiles(store)
    assert list(zip(frame["vin"], frame["trip_no"], strict=True)) == [
        (VIN, 1), (VIN, 2), ("WBA00000000000001", 1)
    ]


# -- the commands ---------------------------------------------------------------------------------

def _user_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_cli_build_then_trips_round_trip(tmp_path, monkeypatch, drives):
    path = tmp_path / "cli.duckdb"
    with DuckDBStore(path) as s:
        write(s, drives)
        s.vehicle_id("WBA00000000000001", create=True)
    monkeypatch.setenv("TWINLOOP_STORE", str(path))
    runner = CliRunner()

    built = runner.invoke(main, ["profile", "build", VIN])
    assert built.exit_code == 0, built.output
    assert built.output.startswith(f"profiled 2 trips of {VIN}, skipped 0")
    again = runner.invoke(main, ["profile", "build", VIN, "--store", str(path)])
    assert again.output.startswith(f"profiled 0 trips of {VIN}, skipped 0; 2 already profiled, unchanged")
    assert runner.invoke(main, ["profile", "build", VIN, "--replace"]).output.startswith("profiled 2 trips")

    doc = json.loads(runner.invoke(main, ["profile", "trips", VIN, "--format", "json"]).output)
    assert [r["trip_no"] for r in doc] == [1, 2]
    assert set(doc[0]) == {"vin", "trip_no", "start_time", "end_time", "samples", "with_altitude", "created_at",
                           "driver", "style", *PERCENTILES, *METRIC_NAMES}
    assert set(doc[0]["speed_distribution"]) == set(SPEED_BINS)
    for row, d in zip(doc, drives, strict=True):
        expected = _expected(d)
        flat = {**{n: row[n] for n in SCALARS},
                **{f"{k}.{b}": v for k in ("speed_distribution", "acceleration_distribution") for b, v in row[k].items()}}
        _assert_row_is(flat, expected)

    table = runner.invoke(main, ["profile", "trips", VIN]).output.splitlines()
    assert len(table) == 3 and "ki_per_km" in table[0] and VIN in table[1]
    csv = runner.invoke(main, ["profile", "trips", "--format", "csv"]).output.splitlines()
    assert csv[0].split(",") == list(PROFILE_COLUMNS) and len(csv) == 3

    _user_error(runner.invoke(main, ["profile", "build", VIN[:-1] + "2"]), "did you mean", VIN)
    _user_error(runner.invoke(main, ["profile", "build", "WBA00000000000001"]), "no trips", "ingest telemetry")
    _user_error(runner.invoke(main, ["profile", "trips", "NOPE"]), "NOPE")
