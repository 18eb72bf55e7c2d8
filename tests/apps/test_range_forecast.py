"""Range and trip-energy forecasts: the point, the conformal interval from the twin's own trips, the state of charge."""

from __future__ import annotations

import math

import numpy as np
import pytest
from telemetry_drives import LEAF, VIN, drive, write

from twinloop.apps.range_forecast import (
    MIN_HISTORY,
    PRIOR_LOG_SPREAD,
    conformal_quantiles,
    forecast_range,
    hvac_energy,
    twin_history,
)
from twinloop.apps.route import route_from_trace
from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import ValidationError
from twinloop.store import open_store
from twinloop.twin.lifecycle import calibrate_from_store, create_twin
from twinloop.twin.trips import trace_features

KWH = 3.6e6


@pytest.fixture(scope="module")
def drives():
    return drive(LEAF, 16, seed=3)


@pytest.fixture
def calibrated(drives):
    store = open_store("duckdb://:memory:")
    twin = create_twin(store, VIN, LEAF)
    write(store, drives[:14])
    calibrate_from_store(twin)
    yield twin
    store.close()


def _trace(d) -> Cycle:
    return Cycle("held out", d.time, d.series["Vehicle.Speed"], d.series["Vehicle.Private.Twinloop.RoadGrade"])


def test_conformal_ranks_follow_the_finite_sample_rule():
    r = np.arange(1.0, 20.0)  # n = 19: floor(0.1 * 20) = 2nd, ceil(0.9 * 20) = 18th
    assert conformal_quantiles(r).tolist() == [10.0, 2.0, 18.0]
    # few residuals: the bounds are the extremes
    assert conformal_quantiles([3.0, 1.0, 2.0]).tolist() == [2.0, 1.0, 3.0]


def test_an_uncalibrated_twin_forecasts_from_its_spec_with_a_prior_interval_and_says_so():
    store = open_store("duckdb://:memory:")
    twin = create_twin(store, VIN, LEAF)
    f = forecast_range(twin, trace=load_cycle("udds"), soc_start=0.9, ambient_temperature=293.15)
    assert not f.calibrated and f.interval == "prior" and f.model_version == 1
    # the generic model: the spec in the simulator
    from twinloop.sim import Scenario, simulate

    expected = simulate(LEAF, Scenario(load_cycle("udds"), ambient_temperature=293.15, soc_start=0.9))
    assert f.battery_energy.median == pytest.approx(float(expected.battery_terminal_energy[0]), rel=1e-12)
    assert any("not calibrated" in w and "twinloop twin calibrate" in w for w in f.warnings)
    spread = PRIOR_LOG_SPREAD * 1.2815515655446004
    assert f.battery_energy.p10 == pytest.approx(f.battery_energy.median * math.exp(-spread))
    assert f.battery_energy.p90 == pytest.approx(f.battery_energy.median * math.exp(spread))


def test_the_interval_is_the_point_scaled_by_the_conformal_bounds_of_the_leave_one_out_errors(calibrated, drives):
    history = twin_history(calibrated)
    assert history.calibrated and history.residuals.size == 14 >= MIN_HISTORY
    f = forecast_range(calibrated, trace=_trace(drives[14]), soc_start=0.9, ambient_temperature=293.15,
                       history=history)
    assert f.interval == "conformal" and f.history_trips == 14
    median, lo, hi = conformal_quantiles(history.residuals)
    point = f.battery_energy.median / math.exp(median)
    assert f.battery_energy.p10 == pytest.approx(point * math.exp(lo))
    assert f.battery_energy.p90 == pytest.approx(point * math.exp(hi))
    # the point is the champion's energy per metre times distance (no climate control at 20 degC)
    x = trace_features(drives[14].time, drives[14].series["Vehicle.Speed"],
                       grade=drives[14].series["Vehicle.Private.Twinloop.RoadGrade"], ambient_temperature=293.15)
    import pandas as pd

    expected = float(history.model.predict(pd.DataFrame([x]))[0]) * x["distance"]
    assert point == pytest.approx(expected - history.mean_hvac_power * x["duration"], rel=1e-9)


def test_a_residual_is_out_of_sample_the_trip_predicted_by_a_model_fitted_without_it(calibrated):
    history = twin_history(calibrated, route=False)
    X, E = history.features, history.energy
    refit = type(history.model).from_dict(history.model.to_dict())
    keep = np.arange(len(X)) != 0
    refit.fit(X.iloc[keep], E[keep] / X["distance"].to_numpy()[keep])
    mean_power = history.hvac[keep].sum() / X["duration"].to_numpy()[keep].sum()
    predicted = refit.predict(X.iloc[[0]])[0] * X["distance"].iloc[0] + history.hvac[0] - mean_power * X["duration"].iloc[0]
    assert history.residuals[0] == pytest.approx(math.log(E[0] / predicted), rel=1e-9)


def test_held_out_trips_fall_near_their_forecast(calibrated, drives):
    history = twin_history(calibrated)
    for d in drives[14:]:
        truth = d.energy_per_distance * d.distance
        f = forecast_range(calibrated, trace=_trace(d), soc_start=0.9, ambient_temperature=float(d.series[
            "Vehicle.Exterior.AirTemperature"][0]), history=history)
        assert f.battery_energy.median == pytest.approx(truth, rel=0.03)
        r = forecast_range(calibrated, route=route_from_trace(d.time, d.series["Vehicle.Speed"]), soc_start=0.9,
                           ambient_temperature=float(d.series["Vehicle.Exterior.AirTemperature"][0]), history=history)
        assert r.mode == "route" and r.battery_energy.median == pytest.approx(truth, rel=0.25)
        assert r.distance == pytest.approx(d.distance, rel=0.01)


def test_the_end_state_of_charge_spends_the_energy_from_the_battery_at_its_health(calibrated):
    f = forecast_range(calibrated, trace=load_cycle("hwfet"), soc_start=0.8, ambient_temperature=293.15)
    usable = LEAF.battery_energy * f.state_of_health
    assert f.soc_end.median == pytest.approx(0.8 - f.battery_energy.median / usable)
    assert f.soc_end.p10 == pytest.approx(0.8 - f.battery_energy.p90 / usable)  # more energy, lower charge
    assert f.range.median == pytest.approx(0.8 * usable / (f.battery_energy.median / f.distance))
    doc = f.to_dict()
    assert set(doc["battery_energy_kwh"]) == set(doc["soc_end"]) == {"median", "p10", "p90"}
    assert doc["distance_km"] == round(f.distance / 1000, 3) and doc["calibrated"] is True


def test_the_cold_costs_what_the_twins_climate_control_draws(calibrated):
    mild = forecast_range(calibrated, trace=load_cycle("udds"), soc_start=0.9, ambient_temperature=293.15)
    cold = forecast_range(calibrated, trace=load_cycle("udds"), soc_start=0.9, ambient_temperature=263.15)
    heat = hvac_energy(LEAF, [cold.duration], [263.15])[0] - hvac_energy(LEAF, [mild.duration], [293.15])[0]
    assert heat > 0.3 * KWH
    assert cold.battery_energy.median - mild.battery_energy.median == pytest.approx(
        heat * cold.battery_energy.median / (cold.battery_energy.median / math.exp(0)), rel=0.05)


def test_a_forecast_changes_nothing_stored(calibrated):
    store = calibrated.store
    before = (len(calibrated.registry.history()), store.events(VIN).num_rows)
    forecast_range(calibrated, trace=load_cycle("udds"))
    assert (len(calibrated.registry.history()), store.events(VIN).num_rows) == before


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "exactly one of a speed trace"),
    ({"trace": "both"}, "received .both."),
    ({"trace": "udds", "soc_start": 1.2}, r"soc_start: expected a state of charge in \[0, 1\]"),
    ({"trace": "udds", "soc_start": math.nan}, "soc_start"),
    ({"trace": "udds", "ambient_temperature": 20.0}, r"ambient_temperature: expected a number in \[223.15, 333.15\] K"),
])
def test_bad_requests_are_refused_naming_the_field(calibrated, kwargs, match):
    kwargs = dict(kwargs)
    if kwargs.get("trace") == "both":
        kwargs = {"trace": load_cycle("udds"), "route": route_from_trace(np.arange(100.0), np.full(100, 10.0))}
    elif "trace" in kwargs:
        kwargs["trace"] = load_cycle(kwargs["trace"])
    with pytest.raises(ValidationError, match=match):
        forecast_range(calibrated, **kwargs)


def test_climate_control_energy_is_the_same_one_trip_at_a_time_or_many_at_once():
    durations = np.linspace(300.0, 2400.0, 40)  # more than one chunk of trips
    ambients = np.linspace(258.15, 308.15, 40)
    together = hvac_energy(LEAF, durations, ambients)
    alone = np.array([hvac_energy(LEAF, [d], [a])[0] for d, a in zip(durations[::13], ambients[::13], strict=True)])
    np.testing.assert_allclose(together[::13], alone, rtol=1e-12)
    mild = int(np.argmin(np.abs(ambients - 293.15)))
    assert together[0] > together[mild] == 0.0 < together[-1]  # heating, the comfort band, cooling
