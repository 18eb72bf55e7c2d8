"""The loop from the store: calibrate and update a twin on its stored trips, on DuckDB and PostgreSQL (see tests/conftest.py), with simulated telemetry (tests/_support/telemetry_drives.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from telemetry_drives import LEAF, T0, VIN, Drive, drive, subset, write

from twinloop.errors import CalibrationError, DataError
from twinloop.signals.vss import CURRENT, SPEED, VOLTAGE
from twinloop.twin.lifecycle import calibrate_from_store, create_twin, open_twin, update_from_store


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


def test_a_twin_report_shows_the_rest_when_health_cannot_be_tracked(store):
    """The service and the CLI print one document; a twin without usable trips still reports, health unknown."""
    from twinloop.twin.lifecycle import twin_report

    twin = create_twin(store, VIN, LEAF)
    report = twin_report(twin, health=True)
    assert report.health is None and "no trips" in (report.health_unknown or "")
    doc = report.to_dict()
    assert doc["health"] == {"unknown": report.health_unknown}
    assert doc["champion"]["version"] == 1 and [m["version"] for m in doc["models"]] == [1]
    assert "health" not in twin_report(twin).to_dict()
    json.dumps(doc)  # JSON-safe


def test_a_twin_report_says_why_short_drives_give_no_health(store):
    """Four cycles swing the state of charge by under 10 % each: the report names the swing, it does not fail."""
    from twinloop.twin.lifecycle import twin_report

    create_twin(store, VIN, LEAF)
    write(store, drive(LEAF, 4, seed=3))
    report = twin_report(open_twin(store, VIN), health=True)
    assert report.health is None
    assert "state-of-charge swing below 0.1" in (report.health_unknown or "")
