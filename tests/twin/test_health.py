"""The battery's health from a twin's stored trips (a DuckDB store): stretches, capacity, fade, resistance.

The telemetry is the simulator's Leaf with an aged pack, measured as a
production BMS reports it (tests/_support/aged_pack.py); each tolerance is
derived from that noise.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import numpy.typing as npt
import pytest
from aged_pack import (
    LEAF,
    NOISE,
    SOC_STEP,
    T0,
    VIN,
    aged,
    long_trip,
    measured,
    resistance_tolerance,
)
from telemetry_drives import sample_table

from twinloop.errors import CalibrationError, DataError
from twinloop.signals.vss import CURRENT, IGNITION, ODOMETER, SOC, SOH, SPEED, VOLTAGE
from twinloop.store import DuckDBStore, SampleBatch, SqlTelemetryStore
from twinloop.twin.health import health_from_store
from twinloop.twin.lifecycle import create_twin, open_twin
from twinloop.twin.state import sync_state

KEY = IGNITION

# ---- through a real store -----------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    s = DuckDBStore(tmp_path / "soh.duckdb")
    yield s
    s.close()


def write(store: SqlTelemetryStore, trips: list[dict[str, npt.NDArray[np.float64]]], odometers: list[float] | None = None,
          drop: tuple[str, ...] = (), extra: dict[str, float] | None = None, first: int = 0) -> None:
    """Store measured trips, 12 h apart from trip number `first`, as key-on/key-off trips."""
    iid = store.begin_ingest(VIN, "simulation", f"{id(trips):x}")
    for no, m in enumerate(trips):
        key = np.full(m["time"].size, 4.0)
        key[-1] = 2.0
        series = {SPEED: m["speed"], CURRENT: m["current"], VOLTAGE: m["voltage"], SOC: m["soc"], KEY: key}
        if odometers is not None:
            series[ODOMETER] = odometers[no] + np.concatenate([[0.0], np.cumsum(m["speed"][1:])])
        for path, value in (extra or {}).items():
            series[path] = np.full(m["time"].size, value)
        series = {p: v for p, v in series.items() if p not in drop}
        ids = store.signal_ids(series)
        us = int((T0 + timedelta(hours=12 * (first + no))).timestamp() * 1e6) + np.round(m["time"] * 1e6).astype(np.int64)
        table = sample_table(ids, us, series)
        store.write_batch(iid, no, VIN, SampleBatch(table))
    store.finish_ingest(iid, {})
    store.detect_trips(VIN)


def test_sync_state_tracks_state_of_health_and_fade_from_stored_trips(store):
    # Five long drives 5,000 km apart while the pack fades from 95 % to 87 % of rated:
    # 2 % of rated per 5,000 km = 0.4 % per 1,000 km.
    fractions = [0.95, 0.93, 0.91, 0.89, 0.87]
    odometers = [20e6 + 5e6 * k for k in range(len(fractions))]
    trips = [measured(long_trip(aged(capacity=f)), seed=k) for k, f in enumerate(fractions)]
    write(store, trips, odometers)
    twin = create_twin(store, VIN, LEAF)
    synced = sync_state(twin).twin
    h = health_from_store(synced, noise=NOISE)
    assert h.stretches == 5 and h.rated_capacity == LEAF.battery_capacity
    # SoH now: on the line at the last trip; sigma ~0.6 % (five trips of 0.75 % each, plus the slope's share)
    assert abs(h.state_of_health - 0.87) < 3 * h.state_of_health_standard_error
    assert h.state_of_health_standard_error < 0.015
    true_fade = 0.02 / 5.0  # of rated, per 1,000 km
    assert h.fade_per_1000_km is not None and h.fade_per_1000_km_standard_error is not None
    assert abs(h.fade_per_1000_km - true_fade) < 3 * h.fade_per_1000_km_standard_error
    assert h.resistance is not None
    assert abs(h.resistance.resistance - aged().effective_battery_ohmic_resistance) < resistance_tolerance(
        h.resistance.standard_error, aged()
    )
    # sync_state used the default noise model: same capacities, other error bars, same centre
    # up to the Birge scaling -> within the tracked uncertainty of the NOISE run.
    s = synced.record.state
    assert s.state_of_health == pytest.approx(h.state_of_health, abs=3 * h.state_of_health_standard_error)
    assert open_twin(store, VIN).record.state.state_of_health == s.state_of_health  # persisted
    assert s.odometer == pytest.approx(odometers[-1] + trips[-1]["speed"][1:].sum())


def test_without_pack_voltage_the_resistance_is_unknown_and_says_why(store):
    write(store, [measured(long_trip(aged(capacity=0.9)), seed=0)], drop=(VOLTAGE,))
    h = health_from_store(create_twin(store, VIN, LEAF), noise=NOISE)
    assert abs(h.state_of_health - 0.9) < 3 * h.state_of_health_standard_error  # the capacity still counts
    assert h.resistance is None
    assert h.resistance_note == f"no trip has {VOLTAGE} sampled with {CURRENT}"
    assert h.to_dict()["resistance_note"] == h.resistance_note


def test_trips_that_give_no_capacity_are_named_beside_the_ones_that_do(store):
    good = measured(long_trip(aged(capacity=0.9)), seed=0)
    write(store, [good])
    write(store, [{**good, "soc": np.full(good["time"].size, 0.8)}], first=1)  # the SoC froze
    h = health_from_store(create_twin(store, VIN, LEAF), noise=NOISE)
    assert h.stretches == 1 and abs(h.state_of_health - 0.9) < 3 * h.state_of_health_standard_error
    assert h.skipped == f"1 stretch(es) with {SOC} stuck"


def test_a_reported_state_of_health_is_kept(store):
    write(store, [measured(long_trip(aged(capacity=0.9)), seed=0)], extra={SOH: 0.97})
    assert sync_state(create_twin(store, VIN, LEAF)).twin.record.state.state_of_health == pytest.approx(0.97)


def test_without_soc_or_with_small_swings_the_store_says_what_it_found(store):
    m = measured(long_trip(aged(), repeats=1), seed=0)  # one WLTC: a ~0.09 swing
    write(store, [m, m], drop=(SOC,))
    twin = create_twin(store, VIN, LEAF)
    with pytest.raises(DataError, match=f"none of the 2 latest trips of {VIN} has samples of {SOC}"):
        health_from_store(twin)
    assert sync_state(twin).twin.record.state.state_of_health is None  # nothing to track from: unknown

    write(store, [m], first=2)
    with pytest.raises(
        CalibrationError,
        match=rf"none of the 3 latest trips of {VIN} gives the battery capacity \(2 trip\(s\) without {SOC},"
        r" 1 discharge stretch\(es\) with a state-of-charge swing below 0\.1 \(largest 0\.0[89]\d*\)\)",
    ):
        health_from_store(twin)

    # a long drive (0.24 of rated drawn) with the SoC frozen at 0.8
    long = measured(long_trip(aged()), seed=0)
    write(store, [{**long, "soc": np.full(long["time"].size, 0.8)}], first=3)
    with pytest.raises(CalibrationError, match=rf"4 latest trips .*\(2 trip\(s\) without {SOC}, 1 stretch\(es\) with {SOC} stuck, 1 discharge"):
        health_from_store(twin)


def _halves(m: dict[str, npt.NDArray[np.float64]]) -> list[dict[str, npt.NDArray[np.float64]]]:
    """Two trips from one drive, the second starting where the first stopped (times from 0)."""
    cut = m["time"].size // 2
    out = []
    for part in (slice(None, cut), slice(cut, None)):
        trip = {k: v[part] for k, v in m.items()}
        trip["time"] = trip["time"] - trip["time"][0]
        out.append(trip)
    return out


def test_short_trips_without_a_charge_between_them_add_up_to_a_countable_swing(store):
    # One WLTC drive split into two trips 12 h apart, nothing logged between them (key off):
    # they swing the state of charge 0.02 and 0.06, together 0.08 -> counted as one stretch
    m = measured(long_trip(aged(), repeats=1), seed=0)
    write(store, _halves(m))
    twin = create_twin(store, VIN, LEAF)
    h = health_from_store(twin, noise=NOISE, min_soc_swing=0.07)
    assert h.stretches == 1
    assert abs(h.capacity - aged().battery_capacity) < 3 * h.capacity_standard_error
    with pytest.raises(CalibrationError, match=r"1 discharge stretch\(es\) with a state-of-charge swing below 0\.1"):
        health_from_store(twin, noise=NOISE)  # the joined 0.08 is still below the default 0.1


def test_a_state_of_charge_that_moves_while_nothing_is_logged_cuts_the_stretch(store):
    # The same two trips, but the BMS corrected its state of charge by -2 % while the car was
    # off: no current explains it, so each trip stands alone (0.02 and 0.06: too small to count)
    first, second = _halves(measured(long_trip(aged(), repeats=1), seed=0))
    write(store, [first, {**second, "soc": second["soc"] - 0.02}])
    twin = create_twin(store, VIN, LEAF)
    with pytest.raises(CalibrationError, match=r"2 discharge stretch\(es\) with a state-of-charge swing below 0\.07"):
        health_from_store(twin, noise=NOISE, min_soc_swing=0.07)


def test_a_logged_charging_session_is_its_own_stretch_not_merged_with_the_drives(store):
    # drive 0.80 -> ~0.55, a logged 40 A charge for an hour, drive again: three stretches,
    # each counting the same pack (merged, only their small net swing would be left)
    spec = aged(capacity=0.9)
    drive = measured(long_trip(spec, soc_start=0.8), seed=0)
    t = np.arange(0.0, 3600.0)
    current = np.full(t.size, -40.0)
    soc = np.round((drive["soc"][-1] - np.cumsum(np.r_[0.0, current[1:]]) / spec.battery_capacity) / SOC_STEP) * SOC_STEP
    charge = {"time": t, "current": current, "voltage": np.full(t.size, 380.0), "soc": soc, "speed": np.zeros(t.size)}
    again = measured(long_trip(spec, soc_start=float(soc[-1])), seed=1)
    write(store, [drive, charge, again])
    h = health_from_store(create_twin(store, VIN, LEAF), noise=NOISE)
    assert h.stretches == 3
    assert abs(h.capacity - spec.battery_capacity) < 3 * h.capacity_standard_error


def test_a_trip_without_an_odometer_reading_is_placed_by_the_distance_driven_since_the_last_one(store):
    fractions = [0.95, 0.93, 0.91, 0.89, 0.87]
    trips = [measured(long_trip(aged(capacity=f)), seed=k) for k, f in enumerate(fractions)]
    odometers = [20e6 + 5e6 * k for k in range(len(fractions))]
    write(store, trips[:2], odometers[:2])
    write(store, trips[2:3], None, first=2)  # its odometer was not logged
    write(store, trips[3:], odometers[3:], first=3)
    h = health_from_store(create_twin(store, VIN, LEAF), noise=NOISE)
    # mixed with the raw distance driven (a few km) the middle trip would sit 25,000 km early
    assert h.stretches == 5 and abs(h.state_of_health - 0.87) < 3 * h.state_of_health_standard_error
    assert h.state_of_health_standard_error < 0.015


# ---------------------------------------------------------------- misuse from a notebook
