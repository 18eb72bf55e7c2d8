"""Battery health monitoring on real DuckDB stores: trend, remaining life, the three watches, idempotent alerts.

The telemetry is the simulator's Leaf with an aged pack, measured as a
production BMS reports it (tests/_support/aged_pack.py), one long drive
(three WLTCs, a ~27 % state-of-charge swing) every 30 days with the odometer
5,000 km further each time. The battery temperature is the simulator's own,
so the twin's thermal model explains it to a few mK.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from functools import cache

import numpy as np
import numpy.typing as npt
import pytest
from aged_pack import LEAF, NOISE, T0, VIN, aged, long_trip, measured
from telemetry_drives import sample_table

from twinloop.apps.health import (
    ALERT_KINDS,
    EXPECTED_FADE,
    HealthAlert,
    HealthThresholds,
    monitor_health,
    write_alerts,
)
from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.signals.vss import (
    BATTERY_TEMPERATURE,
    CURRENT,
    IGNITION,
    ODOMETER,
    SOC,
    SPEED,
    VOLTAGE,
)
from twinloop.store import SampleBatch, TelemetryStore, open_store
from twinloop.twin.lifecycle import create_twin, open_twin

Series = dict[str, npt.NDArray[np.float64]]
KM = 5000.0  # odometer between drives [km]
DAYS = 30  # days between drives


@cache
def _drive(capacity: float, resistance: float) -> Series:
    s = long_trip(aged(capacity=capacity, resistance=resistance))
    return {**s}


def trip(capacity: float, resistance: float = 1.0, seed: int = 0) -> Series:
    """A measured drive of the aged Leaf, with its battery temperature."""
    s = _drive(capacity, resistance)
    return {**measured(s, seed), "temperature": s["battery_temperature"].copy()}


def write(store: TelemetryStore, trips: list[Series], first: int = 0, drop: tuple[str, ...] = ()) -> None:
    """Store the drives DAYS apart, the odometer KM further each time, as key-on/key-off trips."""
    iid = store.begin_ingest(VIN, "simulation", f"{id(trips):x}-{first}")
    for no, m in enumerate(trips, start=first):
        key = np.full(m["time"].size, 4.0)
        key[-1] = 2.0
        series = {
            SPEED: m["speed"], CURRENT: m["current"], VOLTAGE: m["voltage"], SOC: m["soc"], IGNITION: key,
            BATTERY_TEMPERATURE: m["temperature"],
            ODOMETER: 20e6 + KM * 1e3 * no + np.concatenate([[0.0], np.cumsum(m["speed"][1:])]),
        }
        series = {p: v for p, v in series.items() if p not in drop}
        ids = store.signal_ids(series)
        us = int((T0 + timedelta(days=DAYS * no)).timestamp() * 1e6) + np.round(m["time"] * 1e6).astype(np.int64)
        table = sample_table(ids, us, series)
        store.write_batch(iid, no - first, VIN, SampleBatch(table))
    store.finish_ingest(iid, {})
    store.detect_trips(VIN)


@pytest.fixture
def store(tmp_path):
    s = open_store(f"duckdb:///{tmp_path / 'health.duckdb'}")
    yield s
    s.close()


def twin_with(store: TelemetryStore, trips: list[Series]):
    write(store, trips)
    return create_twin(store, VIN, LEAF)


FAST = [0.95, 0.92, 0.89, 0.86, 0.83]  # 3 % of rated per 5,000 km and 30 days: 12 % in four months
NORMAL = [0.95, 0.949, 0.948, 0.947, 0.946]  # 0.4 % in four months: within the NMC expectation


def kinds(report) -> list[str]:
    return [a.kind for a in report.alerts]


# ---- (a) capacity fade against the chemistry's expectation ----------------------------------------
def test_a_pack_fading_faster_than_expected_raises_the_fade_alert(store):
    report = monitor_health(twin_with(store, [trip(c, seed=k) for k, c in enumerate(FAST)]), noise=NOISE)
    (alert,) = [a for a in report.alerts if a.kind == ALERT_KINDS["capacity_fade"]]
    # expected over 120 days and ~65 full cycles: 2.5 %/yr x 0.33 yr + 0.02 % x 65 = 2.1 %; observed ~12 %
    assert report.expected_loss == pytest.approx(0.021, abs=0.003)
    assert report.observed_loss is not None and report.observed_loss_standard_error is not None
    assert abs(report.observed_loss - 0.12) < 3 * report.observed_loss_standard_error
    assert alert.confidence > 0.999
    assert alert.since == report.points[0].start and alert.until == report.points[-1].end
    assert "capacity fell by" in alert.message and "service" in alert.action
    assert report.expectation is EXPECTED_FADE["nmc"]


def test_a_pack_fading_as_expected_raises_no_alert(store):
    report = monitor_health(twin_with(store, [trip(c, seed=k) for k, c in enumerate(NORMAL)]), noise=NOISE)
    assert report.alerts == ()
    assert report.trend is not None and abs(report.trend.state_of_health - 0.946) < 3 * report.trend.state_of_health_standard_error
    assert report.observed_loss is not None and report.expected_loss is not None
    assert report.observed_loss < report.expected_loss


def test_the_remaining_life_interval_holds_the_simulated_truth(store):
    # on the line of FAST the pack reaches 70 % of rated (0.13 below the last 0.83) after 0.13 / 0.03 x 5,000 km
    report = monitor_health(twin_with(store, [trip(c, seed=k) for k, c in enumerate(FAST)]), noise=NOISE)
    rul = report.rul
    assert rul is not None and rul.level == 0.9 and rul.end_of_life == 0.7
    truth = 0.13 / 0.03 * KM * 1e3
    assert rul.interval[0] < truth < rul.interval[1]
    assert rul.interval[0] < rul.distance < rul.interval[1]
    # at the twin's pace, 5,000 km per 30 days
    assert rul.distance_rate == pytest.approx(KM * 1e3 / (DAYS * 86400), rel=0.01)
    assert rul.time(truth) == pytest.approx(truth / rul.distance_rate)


# ---- (b) resistance ------------------------------------------------------------------------------
def test_a_resistance_rise_beyond_the_level_alerts_and_noise_does_not(store, tmp_path):
    th = HealthThresholds(resistance_trips=2)
    rising = [trip(0.95, 1.0, 0), trip(0.95, 1.0, 1), trip(0.95, 1.0, 2), trip(0.95, 1.8, 3), trip(0.95, 1.8, 4)]
    report = monitor_health(twin_with(store, rising), noise=NOISE, thresholds=th)
    (alert,) = [a for a in report.alerts if a.kind == ALERT_KINDS["resistance_rise"]]
    r = report.resistance
    assert r is not None and abs(r.rise - 0.8) < 3 * r.rise_standard_error + 0.05  # + the step-selection bias
    assert alert.until == r.latest_window[1] and alert.confidence > 0.999

    other = open_store(f"duckdb:///{tmp_path / 'steady.duckdb'}")
    steady = [trip(0.95, 1.0, k) for k in range(3)] + [trip(0.95, 1.05, k) for k in (3, 4)]
    calm = monitor_health(twin_with(other, steady), noise=NOISE, thresholds=th)
    assert calm.resistance is not None and 0 < calm.resistance.rise < 0.15
    assert ALERT_KINDS["resistance_rise"] not in kinds(calm)
    other.close()


# ---- (c) temperature -----------------------------------------------------------------------------
def test_a_battery_above_the_limit_alerts_for_that_trip(store):
    drives = [trip(0.95, seed=k) for k in range(4)]
    hot = drives[2]["temperature"]
    hot[hot.size // 2 : hot.size // 2 + 120] = 273.15 + 56.0  # two minutes at 56 degC
    report = monitor_health(twin_with(store, drives), noise=NOISE)
    (alert,) = [a for a in report.alerts if a.kind == ALERT_KINDS["temperature_limit"]]
    assert alert.since == report.temperatures[2].start and "56.0 degC" in alert.message
    assert "cooling" in alert.action


def test_a_single_hot_sample_is_not_a_reading(store):
    drives = [trip(0.95, seed=k) for k in range(4)]
    drives[2]["temperature"][1000] = 273.15 + 70.0
    assert ALERT_KINDS["temperature_limit"] not in kinds(monitor_health(twin_with(store, drives), noise=NOISE))


def test_heating_the_current_does_not_explain_alerts(store):
    drives = [trip(0.95, seed=k) for k in range(5)]
    t = drives[4]["time"]
    drives[4]["temperature"] = drives[4]["temperature"] + 8.0 * t / t[-1]  # 8 K more by the end: a heat source
    report = monitor_health(twin_with(store, drives), noise=NOISE)
    (alert,) = [a for a in report.alerts if a.kind == ALERT_KINDS["temperature_rise"]]
    assert alert.since == report.temperatures[4].start
    # not all 8 K: referred to 25 degC at the trip's (raised) mean temperature, the resistance measured
    # on that trip comes out ~17 % higher, and the model heats ~1 K more with it
    assert 6.0 < alert.evidence["excess"] < 8.1
    assert all(abs(c.excess) < 0.1 for c in report.temperatures[:4] if c.excess is not None)


def test_three_kelvin_more_is_model_error_not_an_anomaly(store):
    drives = [trip(0.95, seed=k) for k in range(5)]
    t = drives[4]["time"]
    drives[4]["temperature"] = drives[4]["temperature"] + 3.0 * t / t[-1]
    assert kinds(monitor_health(twin_with(store, drives), noise=NOISE)) == []


# ---- idempotency and the document ----------------------------------------------------------------
def test_alerts_are_written_once_per_kind_and_evidence_window(store):
    twin = twin_with(store, [trip(c, seed=k) for k, c in enumerate(FAST)])
    report = monitor_health(twin, noise=NOISE)
    assert report.alerts
    written = write_alerts(twin, report.alerts)
    assert written == report.alerts
    again = monitor_health(open_twin(store, VIN), noise=NOISE)
    assert again.alerts == report.alerts  # same trips, same evidence
    assert write_alerts(twin, again.alerts) == ()
    stored = store.events(VIN, ALERT_KINDS["capacity_fade"]).to_pylist()
    assert len(stored) == 1
    payload = json.loads(stored[0]["payload"])
    assert payload == report.alerts[0].to_dict()
    assert set(payload) == {"kind", "message", "confidence", "since", "until", "action", "evidence"}
    # a new drive is new evidence: a new window, one new alert
    write(store, [trip(0.80, seed=9)], first=len(FAST))
    newer = monitor_health(open_twin(store, VIN), noise=NOISE)
    fresh = write_alerts(twin, newer.alerts)
    assert [a.kind for a in fresh] == [ALERT_KINDS["capacity_fade"]]
    assert len(store.events(VIN, ALERT_KINDS["capacity_fade"])) == 2


def test_the_same_alert_twice_in_one_call_is_written_once(store):
    twin = twin_with(store, [trip(0.95)])
    a = HealthAlert("health.temperature_limit", "hot", 0.99, T0, T0 + timedelta(hours=1), "cool it")
    assert write_alerts(twin, [a, replace(a, message="hot again")]) == (a,)


def test_the_json_document_has_its_keys_in_si(store):
    report = monitor_health(twin_with(store, [trip(c, seed=k) for k, c in enumerate(FAST)]), noise=NOISE)
    doc = json.loads(json.dumps(report.to_dict()))
    assert set(doc) == {"vin", "chemistry", "trips", "trend", "points", "rul", "fade", "resistance", "temperatures",
                        "alerts", "thresholds", "unknown", "model_version", "software"}
    assert doc["vin"] == VIN and doc["chemistry"] == "nmc" and doc["trips"] == 5 and doc["model_version"] == 1
    assert len(doc["points"]) == 5 and doc["points"][0]["capacity"] == pytest.approx(0.95 * LEAF.battery_capacity, rel=0.02)
    assert set(doc["rul"]) >= {"distance", "interval", "time", "time_interval", "level", "end_of_life"}
    assert set(doc["fade"]) == {"expected_loss", "observed_loss", "observed_loss_standard_error", "full_cycles",
                                "expectation"}
    assert doc["thresholds"]["temperature_limit"] == 323.15
    assert {a["kind"] for a in doc["alerts"]} == {ALERT_KINDS["capacity_fade"]}
    assert doc["unknown"] == {}


# ---- bad input -----------------------------------------------------------------------------------
def test_an_unknown_vin_suggests_the_close_ones(store):
    twin_with(store, [trip(0.95)])
    with pytest.raises(UnknownNameError, match=VIN):
        open_twin(store, VIN[:-1] + "2")


def test_a_twin_without_trips_says_what_to_store(store):
    twin = create_twin(store, VIN, LEAF)
    with pytest.raises(DataError, match=f"{VIN} has no trips in the store; ingest telemetry with {SOC}"):
        monitor_health(twin)
    assert len(store.events(VIN)) == 0


def test_trips_with_nothing_to_watch_say_why(store):
    write(store, [trip(0.95)], drop=(SOC, VOLTAGE, BATTERY_TEMPERATURE))
    with pytest.raises(DataError, match=f"nothing to watch.*1 trip\\(s\\) without {SOC}.*{BATTERY_TEMPERATURE}"):
        monitor_health(create_twin(store, VIN, LEAF))


def test_one_trip_gives_the_health_now_but_no_fade_or_life(store, tmp_path):
    report = monitor_health(twin_with(store, [trip(0.9)]), noise=NOISE)
    assert report.trend is not None and report.rul is None
    assert "fade line needs capacities at 3 distinct distances" in report.unknown["rul"]
    assert "a trend needs at least 2" in report.unknown["resistance"]
    from twinloop.plotting import plot_health  # the figure of a trend without a line still draws

    assert plot_health(report, tmp_path / "one.png").read_bytes()[:4] == b"\x89PNG"


def test_without_state_of_charge_the_other_watches_still_run(store, tmp_path):
    write(store, [trip(0.95, 1.0, 0), trip(0.95, 1.0, 1), trip(0.95, 1.8, 2), trip(0.95, 1.8, 3)], drop=(SOC,))
    report = monitor_health(create_twin(store, VIN, LEAF), noise=NOISE, thresholds=HealthThresholds(resistance_trips=2))
    assert report.trend is None and report.points == () and report.rul is None
    assert f"4 trip(s) without {SOC}" in report.unknown["trend"] and "store trips with" in report.unknown["trend"]
    assert kinds(report) == [ALERT_KINDS["resistance_rise"]] and len(report.temperatures) == 4
    from twinloop.plotting import plot_health

    assert plot_health(report, tmp_path / "none.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("name", "value"), [("confidence", 1.0), ("resistance_rise", -0.1),
                                             ("temperature_limit", 50.0), ("end_of_life", 1.2),
                                             ("resistance_trips", 0)])
def test_thresholds_out_of_range_are_refused(name, value):
    with pytest.raises(ValidationError, match=name):
        HealthThresholds(**{name: value})
