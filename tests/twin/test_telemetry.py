"""From stored telemetry to the twin, on DuckDB and PostgreSQL (see tests/conftest.py).

Telemetry is the simulator's: a bundled vehicle driven over the bundled
cycles (speed scaled per trip, a rolling grade on some), its time series
written to the store as key-on/key-off trips three hours apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest

from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import CalibrationError, DataError, UnknownNameError, ValidationError
from twinloop.learn.features import FEATURES, TARGET
from twinloop.parameters import resolve_vehicle
from twinloop.parameters.spec import VehicleSpec
from twinloop.sim import Scenario, simulate
from twinloop.store import QuarantineRecord, SampleBatch, SqlTelemetryStore
from twinloop.twin.service import create_twin, open_twin
from twinloop.twin.telemetry import (
    TripTableOptions,
    calibrate_from_store,
    sync_state,
    trip_table,
    update_from_store,
)

VIN = "5YJ3E1EA7KF000001"
LEAF = resolve_vehicle("nissan_leaf_40kwh_2018")
CYCLES = ("udds", "hwfet", "us06", "wltc_3b", "nrel13", "wltc_3a")
T0 = datetime(2024, 5, 1, 6, tzinfo=UTC)
SPEED = "Vehicle.Speed"
CURRENT = "Vehicle.Powertrain.TractionBattery.CurrentCurrent"
VOLTAGE = "Vehicle.Powertrain.TractionBattery.CurrentVoltage"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
BATTERY_TEMPERATURE = "Vehicle.Powertrain.TractionBattery.Temperature.Average"
AMBIENT = "Vehicle.Exterior.AirTemperature"
GRADE = "Vehicle.Private.Twinloop.RoadGrade"
KEY = "Vehicle.LowVoltageSystemState"
ODOMETER = "Vehicle.TraveledDistance"


@dataclass
class Drive:
    """One simulated trip: SI series by VSS path and the simulator's own totals."""

    start: datetime
    time: npt.NDArray[np.float64]  # [s] since start
    series: dict[str, npt.NDArray[np.float64]]
    energy_per_distance: float  # terminal energy / distance [J m-1]
    distance: float  # [m]


def drive(
    spec: VehicleSpec,
    n: int,
    seed: int,
    first: datetime = T0,
    payload: float = 0.0,
    grade: bool = True,
) -> list[Drive]:
    """`n` trips of `spec` over the bundled cycles, 3 h apart from `first`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        c = load_cycle(CYCLES[i % len(CYCLES)])
        g = 0.02 * np.sin(2 * np.pi * c.time / rng.uniform(200, 600)) if grade else np.zeros_like(c.time)
        cycle = Cycle(c.name, c.time, c.vehicle_speed * rng.uniform(0.8, 1.05), g)
        ambient = rng.uniform(289.0, 297.0)  # inside the comfort band: no HVAC
        r = simulate(
            spec,
            Scenario(cycle, payload=payload, soc_start=rng.uniform(0.5, 0.95), ambient_temperature=ambient),
            record=True,
        )
        assert r.series is not None and r.time is not None
        s = {k: v[0] for k, v in r.series.items()}
        key = np.full(r.time.size, 4.0)  # ON, then OFF at the last sample
        key[-1] = 2.0
        series = {
            SPEED: s["vehicle_speed"],
            CURRENT: s["battery_current"],
            VOLTAGE: s["battery_voltage"],
            SOC: s["state_of_charge"],
            BATTERY_TEMPERATURE: s["battery_temperature"],
            AMBIENT: np.full(r.time.size, ambient),
            KEY: key,
        }
        if grade:
            series[GRADE] = np.interp(r.time, cycle.time, g)
        out.append(
            Drive(
                first + timedelta(hours=3 * i),
                r.time,
                series,
                float(r.battery_terminal_energy[0] / r.distance[0]),
                float(r.distance[0]),
            )
        )
    return out


def write(store: SqlTelemetryStore, drives: list[Drive], vin: str = VIN) -> None:
    """Store the drives' samples (one batch each) and recompute the vehicle's trips."""
    iid = store.begin_ingest(vin, "simulation", f"{id(drives):x}")
    for no, d in enumerate(drives):
        ids = store.signal_ids(d.series)
        t0 = int(d.start.timestamp() * 1e6)
        us = t0 + np.round(d.time * 1e6).astype(np.int64)
        table = pa.concat_tables(
            [
                pa.table(
                    {
                        "signal_id": pa.array(np.full(us.size, ids[p]), pa.int32()),
                        "time": pa.array(us, pa.int64()).cast(pa.timestamp("us")),
                        "value": pa.array(v, pa.float64()),
                    }
                )
                for p, v in d.series.items()
            ]
        )
        store.write_batch(iid, no, vin, SampleBatch(table))
    store.finish_ingest(iid, {})
    store.detect_trips(vin)


def without(d: Drive, *paths: str) -> Drive:
    return Drive(d.start, d.time, {p: v for p, v in d.series.items() if p not in paths}, d.energy_per_distance, d.distance)


def subset(d: Drive, keep: npt.NDArray[np.bool_], paths: tuple[str, ...] | None = None) -> Drive:
    """`d` with only the samples `keep` (of `paths` only, when given)."""
    series = {p: v[keep] for p, v in d.series.items() if paths is None or p in paths}
    return Drive(d.start, d.time[keep], series, d.energy_per_distance, d.distance)


# ---- trip_table -------------------------------------------------------------------------
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


# ---- calibration and drift ----------------------------------------------------------------
def test_calibrate_from_store_makes_a_champion_trained_on_the_trips(store):
    twin = create_twin(store, VIN, LEAF)
    drives = drive(LEAF, 24, seed=0)
    write(store, drives)
    result = calibrate_from_store(twin)
    v = result.version
    assert (v.version, v.status, v.provenance.reason) == (2, "champion", "calibration")
    # the window runs from the first trip's start to the last trip's end (its last sample)
    last_end = drives[-1].start + timedelta(seconds=float(drives[-1].time[-1]))
    assert v.training_start == drives[0].start and v.training_end == last_end
    assert v.residual_band is not None and v.validation_error is not None
    assert v.validation_error < 0.03 * np.mean([d.energy_per_distance for d in drives])
    assert result.trips["used"].sum() == 24
    assert twin.registry.champion() == v
    since = calibrate_from_store(twin, since=drives[12].start).version
    assert since.training_start == drives[12].start and since.version == 3


def test_calibration_on_too_few_trips_keeps_the_champion(store):
    twin = create_twin(store, VIN, LEAF)
    write(store, drive(LEAF, 4, seed=0))
    with pytest.raises(CalibrationError, match="needs at least 10 trips of new data, got 4"):
        calibrate_from_store(twin)
    assert [v.version for v in twin.registry.history()] == [1]


def test_calibration_on_too_few_usable_trips_says_which_were_skipped_and_why(store):
    # 5 good trips and 7 with the current clipped: "got 5" alone hides where the other 7 went
    twin = create_twin(store, VIN, LEAF)
    drives = drive(LEAF, 12, seed=0)
    write(store, drives[:5] + _altered(drives[5:], CURRENT, lambda x: np.minimum(x, 0.3 * x.max())))
    with pytest.raises(CalibrationError, match=r"got 5.*; 7 of the 12 trips were skipped \(trip \d+: "
                       r"Vehicle.Powertrain.TractionBattery.CurrentCurrent clipped at .*; and 4 more\)"):
        calibrate_from_store(twin)
    assert [v.version for v in twin.registry.history()] == [1]


def test_update_before_calibration_asks_to_calibrate(store):
    twin = create_twin(store, VIN, LEAF)
    write(store, drive(LEAF, 2, seed=0))
    with pytest.raises(CalibrationError, match=f"never calibrated on data; calibrate it first .`twinloop twin calibrate {VIN}`"):
        update_from_store(twin)


@pytest.mark.slow
def test_drift_of_a_changed_vehicle_is_found_and_recalibrated_while_the_unchanged_is_not(store):
    twin = create_twin(store, VIN, LEAF)
    calibration = drive(LEAF, 24, seed=0)
    write(store, calibration)
    v2 = calibrate_from_store(twin).version

    # the same car, a month later: scored, no alarm, nothing registered
    same = drive(LEAF, 18, seed=1, first=T0 + timedelta(days=30))
    write(store, same)
    quiet = update_from_store(twin)
    assert not quiet.drift and quiet.outcome.new_version is None
    assert quiet.outcome.champion == 2 and quiet.serving.version == 2
    assert list(quiet.trips.index) == [d.start for d in same]  # only trips after v2's window
    assert [v.version for v in twin.registry.history()] == [1, 2]

    # then its auxiliary load grows by 30 %
    heavier_aux = LEAF.with_changes(auxiliary_power=1.3 * LEAF.auxiliary_power)
    changed = drive(heavier_aux, 18, seed=2, first=T0 + timedelta(days=60))
    write(store, changed)
    alarm = update_from_store(twin)
    assert alarm.drift and alarm.outcome.champion == 2
    assert len(alarm.trips) == 36  # still scored from v2's window on
    new = alarm.outcome.new_version
    assert new is not None and new.provenance.reason == "drift" and new.provenance.parent_version == 2
    # its window ends where a calibration's does: at the last trip's end, not its start
    assert new.training_end == changed[-1].start + timedelta(seconds=float(changed[-1].time[-1]))
    assert new.training_start is not None and new.training_start >= same[0].start
    assert alarm.serving.version == new.version == 3 and new.status == "champion"
    assert new.parameters["auxiliary_power"] > v2.parameters["auxiliary_power"]
    drift_events = store.events(VIN, "twin.drift").to_pylist()
    assert len(drift_events) == 1 and json.loads(drift_events[0]["payload"])["new_version"] == 3

    # nothing new since v3's window: nothing scored, nothing changed
    idle = update_from_store(twin)
    assert idle.outcome is None and not idle.drift and idle.serving.version == 3 and idle.trips.empty
    assert idle.since is not None and idle.since > new.training_end


def _altered(drives: list[Drive], path: str, change) -> list[Drive]:
    return [Drive(d.start, d.time, {**d.series, path: change(d.series[path])}, d.energy_per_distance, d.distance)
            for d in drives]


@pytest.mark.parametrize(("fault", "path", "change", "error", "message"), [
    ("stuck current", CURRENT, lambda x: np.full_like(x, 50.0), DataError,
     rf"none of the 12 trips of {VIN} starting from .* can be used \(12 with a stuck speed, current or voltage\)"),
    ("voltage at a rail", VOLTAGE, lambda x: np.minimum(x, 300.0), DataError,
     r"\(12 with a stuck speed, current or voltage\)"),
    # long pinned runs count as stuck
    ("clipped current", CURRENT, lambda x: np.minimum(x, 0.3 * x.max()), DataError,
     r"can be used \(\d+ with the current clipped"),
    # km/h read as m/s: every check passes, the fit lands on a physical limit
    ("speed in the wrong unit", SPEED, lambda v: v / 3.6, CalibrationError,
     r"the fit ends on a physical limit .* check that speed"),
])
def test_stuck_clipped_or_misscaled_signals_are_refused_and_the_champion_is_kept(
    store, fault, path, change, error, message
):
    twin = create_twin(store, VIN, LEAF)
    write(store, drive(LEAF, 12, seed=0))
    calibrate_from_store(twin)
    later = T0 + timedelta(days=30)
    write(store, _altered(drive(LEAF, 12, seed=1, first=later), path, change))
    with pytest.raises(error, match=message):
        calibrate_from_store(twin, since=later)
    assert open_twin(store, VIN).registry.champion().version == 2


def test_a_failed_recalibration_after_drift_keeps_the_champion(store):
    twin = create_twin(store, VIN, LEAF)
    write(store, drive(LEAF, 24, seed=0))
    calibrate_from_store(twin)
    write(store, drive(LEAF, 6, seed=4, first=T0 + timedelta(days=30), payload=300.0))
    result = update_from_store(twin)
    assert result.outcome is not None and result.outcome.drift and result.outcome.new_version is None
    assert "needs at least 10 trips of new data, got 6; the champion is kept" in result.outcome.recalibration_error
    assert open_twin(store, VIN).registry.champion().version == 2
    payload = json.loads(store.events(VIN, "twin.drift").to_pylist()[0]["payload"])
    assert payload["new_version"] is None and "got 6" in payload["recalibration_error"]


# ---- state ---------------------------------------------------------------------------------
def test_sync_state_takes_the_last_samples_and_adds_the_distance_driven(store):
    twin = create_twin(store, VIN, LEAF)
    first, second = drive(LEAF, 2, seed=5, grade=False)
    write(store, [first])
    synced = sync_state(twin).twin
    s = synced.record.state
    assert s.state_of_charge == pytest.approx(first.series[SOC][-1])
    assert s.battery_temperature == pytest.approx(first.series[BATTERY_TEMPERATURE][-1])
    assert s.updated_at == first.start + timedelta(seconds=float(first.time[-1]))
    assert s.odometer == pytest.approx(first.distance, rel=1e-6)
    assert s.state_of_health is None and s.cabin_temperature is None  # no such signals: unknown
    assert open_twin(store, VIN).record.state == s  # persisted

    assert sync_state(synced).twin.record.state.odometer == pytest.approx(first.distance, rel=1e-6)  # idempotent
    write(store, [second])
    later = sync_state(open_twin(store, VIN)).twin.record.state
    assert later.odometer == pytest.approx(first.distance + second.distance, rel=1e-6)
    assert later.state_of_charge == pytest.approx(second.series[SOC][-1])


def test_a_stored_odometer_signal_is_used_as_it_is(store):
    twin = create_twin(store, VIN, LEAF)
    d = drive(LEAF, 1, seed=5, grade=False)[0]
    d.series[ODOMETER] = 12_345_000.0 + np.concatenate([[0.0], np.cumsum(d.series[SPEED][1:])])
    write(store, [d])
    synced = sync_state(twin)
    assert synced.twin.record.state.odometer == pytest.approx(d.series[ODOMETER][-1])
    assert synced.notes == ()  # odometer and speed agree


def test_odometer_that_went_back_is_not_taken_and_is_noted(store):
    # An instrument-cluster swap or a reset: the twin keeps the distance it knew.
    first, second = drive(LEAF, 2, seed=5, grade=False)
    for d, start in ((first, 20_000e3), (second, 300e3)):
        d.series[ODOMETER] = start + np.concatenate([[0.0], np.cumsum(d.series[SPEED][1:])])
    write(store, [first])
    twin = sync_state(create_twin(store, VIN, LEAF)).twin
    write(store, [second])
    synced = sync_state(twin)
    assert synced.twin.record.state.odometer == pytest.approx(first.series[ODOMETER][-1])
    assert len(synced.notes) == 1 and "below the twin's 20" in synced.notes[0] and "kept" in synced.notes[0]
    assert synced.twin.record.state.state_of_charge == pytest.approx(second.series[SOC][-1])  # the rest is taken


@pytest.mark.parametrize(("factor", "hint"), [(1 / 3.6, "ratio 3.60: speed in m/s stored as km/h"),
                                               (1.609344, "speed in mph read as km/h")])
def test_speed_in_the_wrong_unit_is_noted_against_the_odometer(store, factor, hint):
    # The odometer counts true distance; the speed signal was logged in another unit.
    d = drive(LEAF, 1, seed=5, grade=False)[0]
    d.series[ODOMETER] = 5_000e3 + np.concatenate([[0.0], np.cumsum(d.series[SPEED][1:])])
    d.series[SPEED] = d.series[SPEED] * factor
    write(store, [d])
    synced = sync_state(create_twin(store, VIN, LEAF))
    assert synced.twin.record.state.odometer == pytest.approx(d.series[ODOMETER][-1])  # the odometer is kept
    assert len(synced.notes) == 1 and hint in synced.notes[0], synced.notes


def test_sync_without_telemetry_says_so(store):
    twin = create_twin(store, VIN, LEAF)
    with pytest.raises(DataError, match=f"no telemetry of {VIN} in the store gives its state"):
        sync_state(twin)


def test_update_with_only_unusable_new_trips_is_a_quiet_no_op(store):
    # A daily run after a day of short hops must not fail: nothing is scored, the reasons are listed.
    twin = create_twin(store, VIN, LEAF)
    write(store, drive(LEAF, 12, seed=0))
    calibrate_from_store(twin)
    hop = drive(LEAF, 1, seed=5, first=T0 + timedelta(days=30))[0]
    write(store, [subset(hop, hop.time <= hop.time[0] + 60)])  # one minute of driving
    result = update_from_store(twin)
    assert result.outcome is None and result.serving.version == 2
    assert len(result.trips) == 1 and not result.trips["used"].any()
    assert "too short" in result.trips["reason"].iloc[0]
