"""The twin's state synced from the latest telemetry, on DuckDB and PostgreSQL (see tests/conftest.py), with simulated telemetry (tests/_support/telemetry_drives.py)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from telemetry_drives import LEAF, VIN, drive, write

from twinloop.errors import DataError
from twinloop.signals.vss import BATTERY_TEMPERATURE, ODOMETER, SOC, SPEED
from twinloop.twin.lifecycle import create_twin, open_twin
from twinloop.twin.state import sync_state


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


