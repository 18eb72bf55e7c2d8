"""Energy what-ifs: each saving reproduced by re-simulating the changed drive built by hand, and the breakdown
balanced to the energy measured on a stored trip.

The stored trips are the simulator's own telemetry (tests/_support/telemetry_drives.py), written to a real
DuckDB store as key-on/key-off trips; one twin is calibrated on them, a second is left as built from its
specification. The changed drives of the what-ifs are built here without the app's helpers: a speed trace
capped or limited by hand, a specification or scenario changed field by field.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from telemetry_drives import LEAF, VIN, Drive, drive, subset, write

from twinloop.apps.energy import (
    BREAKDOWN_LINES,
    PRECONDITIONED_BATTERY_TEMPERATURE,
    WHAT_IF_NAMES,
    EnergyDrive,
    WhatIf,
    WhatIfOptions,
    calibrated_spec,
    capped_speed_trace,
    energy_report,
    gentle_speed_trace,
    stored_trip_drive,
    twin_energy_report,
    what_ifs,
)
from twinloop.cycles import Cycle
from twinloop.errors import DataError, TraceError, UnknownNameError, ValidationError
from twinloop.signals.vss import CURRENT, SPEED, VOLTAGE
from twinloop.sim import Scenario, simulate
from twinloop.store import DuckDBStore
from twinloop.twin import PhysicsConsumptionModel, calibrate_from_store, create_twin, open_twin
from twinloop.twin.drift import ResidualBand
from twinloop.twin.registry import ModelVersion, Provenance

UNCALIBRATED = "5YJ3E1EA7KF000002"
BAD_SPEED = "5YJ3E1EA7KF000003"
GAPPY = "5YJ3E1EA7KF000004"
KWH = 3.6e6
COLD, HOT, MILD = 263.15, 308.15, 293.15  # -10 °C, 35 °C, 20 °C


# ---- hand-built traces ---------------------------------------------------------------------------
def _trace(name: str, pieces: list[tuple[float, float, float]]) -> Cycle:
    """A 1 Hz trace of linear pieces (duration [s], speed at the start, at the end [m/s])."""
    t, v = [0.0], [pieces[0][1]]
    for duration, start, end in pieces:
        n = int(duration)
        assert n == duration
        for k in range(1, n + 1):
            t.append(t[-1] + 1.0)
            v.append(start + (end - start) * k / n)
    return Cycle(name, np.array(t), np.array(v), np.zeros(len(t)))


def motorway() -> Cycle:
    """0 to 30 m/s at 1 m/s2, 600 s at 30 m/s (108 km/h), back to 0 at 1 m/s2: 18.9 km."""
    return _trace("motorway", [(30, 0, 30), (600, 30, 30), (30, 30, 0)])


def capped_by_hand() -> Cycle:
    """The motorway at 27 m/s, 10 % slower: the same 18,900 m are 2 x 364.5 m of ramps and 673 s at 27 m/s."""
    return _trace("motorway at 27", [(27, 0, 27), (673, 27, 27), (27, 27, 0)])


def hard() -> Cycle:
    """0 to 20 m/s at 2 m/s2, 100 s at 20 m/s, braking to 0 at 5 m/s2: 100 + 2000 + 40 m."""
    return _trace("hard", [(10, 0, 20), (100, 20, 20), (4, 20, 0)])


def gentle_by_hand() -> Cycle:
    """The same 2140 m at 1 m/s2 both ways: 200 m up, 200 m down, 1740 m at 20 m/s (87 s)."""
    return _trace("gentle", [(20, 0, 20), (87, 20, 20), (20, 20, 0)])


def _energy(spec, scenario: Scenario) -> tuple[float, float]:
    r = simulate(spec, scenario)
    return float(r.battery_energy[0]), float(r.wall_energy[0])


def _found(report_or_ifs, name: str) -> WhatIf:
    ranked = report_or_ifs.ranked if hasattr(report_or_ifs, "ranked") else report_or_ifs.what_ifs.ranked
    return next(w for w in ranked if w.name == name)


def _assert_saving_is(w: WhatIf, base: tuple[float, float], changed: tuple[float, float], price: float | None) -> None:
    """The reported saving is baseline minus the changed drive's simulation: in J, kWh, % and money."""
    e0, w0 = base
    e1, w1 = changed
    assert w.baseline_energy == pytest.approx(e0, rel=1e-12)
    assert w.saving == pytest.approx(e0 - e1, rel=1e-7, abs=1e-6 * e0)
    assert w.saving_share == pytest.approx((e0 - e1) / e0, rel=1e-6)
    d = w.to_dict()
    assert d["saving_kwh"] == pytest.approx(round((e0 - e1) / KWH, 4), abs=1e-4)
    if price is None:
        assert w.saving_money is None and d["saving_money"] is None
    else:
        assert w.saving_money == pytest.approx((w0 - w1) / KWH * price, rel=1e-6)
        assert d["saving_money"] == round((w0 - w1) / KWH * price, 2)
    assert f"saves {(e0 - e1) / KWH:.2f} kWh" in w.suggestion


# ---- the key test: each saving is re-simulated by hand ---------------------------------------------------
def test_the_capped_trace_is_the_hand_built_one():
    capped = capped_speed_trace(motorway(), 27.0).resample(1.0)
    hand = capped_by_hand()
    assert capped.time.size == hand.time.size
    np.testing.assert_allclose(capped.vehicle_speed, hand.vehicle_speed, atol=1e-9)
    assert capped.distance == pytest.approx(motorway().distance, rel=1e-12)


def test_lower_cruising_speed_saving_is_the_hand_capped_drive_resimulated():
    trip = EnergyDrive(motorway(), ambient_temperature=MILD)
    found = what_ifs(LEAF, trip, price=0.30)
    w = _found(found, "lower_cruising_speed")
    assert w.parameters["cruise_speed_mps"] == 30.0 and w.parameters["cap_mps"] == pytest.approx(27.0)
    assert w.suggestion.startswith("Cruise at 97 km/h instead of 108 km/h")
    base = _energy(LEAF, trip.scenario())
    changed = _energy(LEAF, replace(trip.scenario(), cycle=capped_by_hand()))
    _assert_saving_is(w, base, changed, 0.30)
    assert w.extra_time == pytest.approx(727.0 - 660.0)  # the same road at 27 instead of 30 m/s
    assert (base[0] - changed[0]) / base[0] > 0.05  # drag falls with the square of speed


def test_the_gentle_trace_is_the_hand_built_one_and_its_saving_is_resimulated():
    limited = gentle_speed_trace(hard(), 1.0, 1.0).resample(1.0)
    hand = gentle_by_hand()
    assert limited.time.size == hand.time.size
    np.testing.assert_allclose(limited.vehicle_speed, hand.vehicle_speed, atol=1e-9)
    trip = EnergyDrive(hard(), ambient_temperature=MILD)
    w = _found(what_ifs(LEAF, trip, price=0.30), "gentle_driving")
    _assert_saving_is(w, _energy(LEAF, trip.scenario()), _energy(LEAF, replace(trip.scenario(), cycle=hand)), 0.30)
    assert w.parameters["hard_acceleration_s"] == 10 and w.parameters["hard_braking_s"] == 4


def test_preconditioning_saving_is_a_cabin_at_its_set_point_resimulated():
    trip = EnergyDrive(motorway(), ambient_temperature=COLD)
    w = _found(what_ifs(LEAF, trip, price=0.30), "preconditioning")
    # by hand: the same drive with the cabin starting at its set point and the battery at 20 °C
    warm = Scenario(motorway(), ambient_temperature=COLD, soc_start=0.9, hvac="auto",
                    cabin_temperature_start=LEAF.cabin_setpoint,
                    battery_temperature_start=PRECONDITIONED_BATTERY_TEMPERATURE)
    r = simulate(LEAF, warm)
    # no money: the warm-up the battery is spared is drawn from the grid while plugged in
    _assert_saving_is(w, _energy(LEAF, trip.scenario()), (float(r.battery_energy[0]), float(r.wall_energy[0])), None)
    assert w.suggestion.endswith("saves range rather than money)")
    # and physically: a resistive heater (COP 1) holding a cabin at its set point draws UA (T_set - T_amb)
    held = LEAF.cabin_conductance * (LEAF.cabin_setpoint - COLD) * r.duration
    assert float(r.breakdown["hvac"][0]) == pytest.approx(held, rel=1e-9)
    assert w.parameters["cabin_temperature_start_k"] == LEAF.cabin_setpoint
    # the saving on the heater is the heat stored warming the cabin, C (T_end - T_amb), less the envelope
    # losses a colder cabin avoided, UA sum (T_set - T) dt (the heater's energy balance, step by step)
    baseline = simulate(LEAF, trip.scenario(), record=True)
    assert baseline.series is not None
    cabin = baseline.series["cabin_temperature"][0]  # at the start of each 1 s step, then at the end
    avoided = LEAF.cabin_conductance * float(np.sum(LEAF.cabin_setpoint - cabin[:-1])) * 1.0
    warm_up = LEAF.cabin_heat_capacity * (cabin[-1] - COLD)
    assert float(baseline.breakdown["hvac"][0]) - held == pytest.approx(warm_up - avoided, rel=1e-3)


@pytest.mark.parametrize(("ambient", "eco"), [(COLD, LEAF.cabin_setpoint - 2.0), (HOT, LEAF.cabin_setpoint + 2.0)])
def test_eco_setpoint_saving_is_the_changed_setpoint_resimulated(ambient, eco):
    trip = EnergyDrive(motorway(), ambient_temperature=ambient)
    w = _found(what_ifs(LEAF, trip, price=0.30), "eco_hvac_setpoint")
    base = _energy(LEAF, trip.scenario())
    _assert_saving_is(w, base, _energy(LEAF.with_changes(cabin_setpoint=eco), trip.scenario()), 0.30)
    assert ("heating" if ambient == COLD else "cooling") in w.suggestion


def test_tyre_pressure_saving_is_the_lower_rolling_resistance_resimulated():
    trip = EnergyDrive(motorway(), ambient_temperature=MILD)
    w = _found(what_ifs(LEAF, trip, price=0.30), "tyre_pressure")
    inflated = LEAF.with_changes(rolling_resistance_coefficient=0.0085 * 0.8**0.4)  # J2452: Crr ~ p^-0.4
    _assert_saving_is(w, _energy(LEAF, trip.scenario()), _energy(inflated, trip.scenario()), 0.30)


def test_tyre_pressure_on_a_coastdown_vehicle_scales_its_a_and_b_terms():
    a, b, c = 150.0, 1.2, 0.4
    car = LEAF.with_changes(drag_coefficient=None, frontal_area=None, rolling_resistance_coefficient=None,
                            coastdown_a=a, coastdown_b=b, coastdown_c=c)
    trip = EnergyDrive(motorway(), ambient_temperature=MILD)
    w = _found(what_ifs(car, trip, price=0.30), "tyre_pressure")
    f = 0.8**0.4
    inflated = car.with_changes(coastdown_a=a * f, coastdown_b=b * f)
    _assert_saving_is(w, _energy(car, trip.scenario()), _energy(inflated, trip.scenario()), 0.30)


def test_payload_saving_is_the_lighter_vehicle_resimulated():
    trip = EnergyDrive(hard(), ambient_temperature=MILD)
    w = _found(what_ifs(LEAF, trip, WhatIfOptions(min_saving_share=0.0), price=0.30), "less_payload")
    _assert_saving_is(w, _energy(LEAF, trip.scenario()), _energy(LEAF.with_changes(test_mass=1677.0), trip.scenario()),
                      0.30)


# ---- ranking, skipping, JSON ---------------------------------------------------------------------------
def test_savings_are_ranked_and_every_what_if_is_either_suggested_or_skipped_with_a_reason():
    report = energy_report(LEAF, EnergyDrive(motorway(), ambient_temperature=COLD), price=0.30)
    ranked = report.what_ifs.ranked
    savings = [w.saving for w in ranked]
    assert savings == sorted(savings, reverse=True) and all(s > 0 for s in savings)
    names = [w.name for w in ranked] + [s.name for s in report.what_ifs.skipped]
    assert sorted(names) == sorted(WHAT_IF_NAMES)
    assert ranked[0].name == "preconditioning"  # at -10 °C the cabin's warm-up is the largest
    doc = report.to_dict()
    assert [s["saving_kwh"] for s in doc["suggestions"]] == sorted((s["saving_kwh"] for s in doc["suggestions"]),
                                                                   reverse=True)


def test_mild_weather_and_no_fast_stretch_skip_those_what_ifs_and_say_why():
    town = _trace("town", [(10, 0, 12), (60, 12, 12), (10, 12, 0), (20, 0, 0)] * 5)  # 43 km/h at most
    found = what_ifs(LEAF, EnergyDrive(town, ambient_temperature=MILD))
    reasons = {s.name: s.reason for s in found.skipped}
    assert reasons["eco_hvac_setpoint"].startswith("the climate control did not run: ambient 20 °C is within 15-25 °C")
    assert "the climate control did not run" in reasons["preconditioning"]
    assert reasons["lower_cruising_speed"].startswith("no stretch at or above 60 km/h lasting 60 s")
    assert "(the speed held for 60 s was 43 km/h)" in reasons["lower_cruising_speed"]
    assert "gentle_driving" in [w.name for w in found.ranked]  # 1.2 m/s2 ramps and stops: it applies


def test_report_json_has_these_keys():
    doc = energy_report(LEAF, EnergyDrive(motorway(), ambient_temperature=COLD), price=0.30, currency="GBP").to_dict()
    assert list(doc) == ["vin", "vehicle", "trip", "trip_no", "ambient_temperature_c", "calibrated", "model",
                         "breakdown", "price_per_kwh", "currency", "suggestions", "skipped", "notes", "warnings"]
    assert list(doc["breakdown"]) == [
        "basis", "total_kwh", "measured_kwh", "modelled_kwh", "residual_kwh", "model_error_kwh", "within_model_error",
        "lines_kwh", "battery_losses_kwh", "battery_energy_kwh", "regeneration_recovered_kwh", "distance_km",
        "duration_s", "trace_missed_s"]
    assert tuple(doc["breakdown"]["lines_kwh"]) == BREAKDOWN_LINES
    assert doc["breakdown"]["basis"] == "modelled" and doc["breakdown"]["lines_kwh"]["unexplained"] is None
    assert list(doc["suggestions"][0]) == ["name", "suggestion", "saving_kwh", "saving_percent", "saving_money",
                                           "currency", "extra_time_s", "baseline_kwh", "changed_kwh", "change",
                                           "source", "parameters"]
    assert doc["calibrated"] is False and doc["currency"] == "GBP" and "£" in doc["suggestions"][1]["suggestion"]
    assert doc["suggestions"][0]["name"] == "preconditioning" and doc["suggestions"][0]["saving_money"] is None
    assert doc["model"]["notes"] == ["no twin: the specification as it is"]


def test_without_a_price_there_is_no_money():
    w = what_ifs(LEAF, EnergyDrive(motorway())).ranked[0]
    assert w.saving_money is None and w.to_dict()["saving_money"] is None and "€" not in w.suggestion


# ---- stored trips ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def drives() -> list[Drive]:
    return drive(LEAF, 12, seed=0)


@pytest.fixture(scope="module")
def stored(tmp_path_factory, drives):
    """A DuckDB store: VIN calibrated on 12 trips, the same trips for an uncalibrated twin, two broken trips."""
    store = DuckDBStore(tmp_path_factory.mktemp("energy") / "store.duckdb")
    write(store, drives)
    write(store, drives, vin=UNCALIBRATED)
    spiked = drives[0].series[SPEED].copy()
    spiked[100] = 150.0
    write(store, [replace(drives[0], series={**drives[0].series, SPEED: spiked})], vin=BAD_SPEED)
    keep = np.ones(drives[0].time.size, dtype=bool)
    keep[200:230] = False  # 30 s without samples, while moving
    assert drives[0].series[SPEED][199] > 1
    write(store, [subset(drives[0], keep)], vin=GAPPY)
    for vin in (VIN, UNCALIBRATED, BAD_SPEED, GAPPY):
        create_twin(store, vin, LEAF)
    calibrate_from_store(open_twin(store, VIN))
    yield store
    store.close()


def _measured(d: Drive) -> float:
    """The trip's battery energy from the samples as simulated: the integral of V I."""
    return float(np.trapezoid(d.series[CURRENT] * d.series[VOLTAGE], d.time))


@pytest.mark.parametrize("trip_no", [1, 3])
def test_breakdown_lines_sum_to_the_measured_energy_of_a_stored_trip(stored, drives, trip_no):
    twin = open_twin(stored, VIN)
    report = twin_energy_report(twin, trip_no, price=0.30)
    b = report.breakdown
    assert b.measured == pytest.approx(_measured(drives[trip_no - 1]), rel=1e-9)
    assert sum(b.lines.values()) == pytest.approx(b.measured, rel=1e-12)
    assert b.lines["unexplained"] == pytest.approx(b.measured - b.modelled, rel=1e-12) == b.residual
    champion = twin.registry.champion()
    assert champion is not None
    # the stated error is the re-simulation's own: RMS per metre of measured minus re-simulated over the
    # twin's other stored trips, times two and the distance
    spec, _ = calibrated_spec(twin.record.spec, champion)
    misses = []
    for no in [n for n in range(1, len(drives) + 1) if n != trip_no]:
        other = stored_trip_drive(stored, VIN, no)
        r = simulate(spec, other.scenario())
        misses.append((other.measured_energy - r.battery_terminal_energy[0]) / r.distance[0])
    rms = float(np.sqrt(np.mean(np.square(misses))))
    assert report.calibrated and report.calibration.error_source == f"re-simulated {len(misses)} trips"
    assert b.model_error == pytest.approx(2 * rms * b.distance, rel=1e-9)
    assert b.within_model_error and abs(b.residual) <= b.model_error
    assert report.calibration.applied["auxiliary_power"] == champion.parameters["auxiliary_power"]
    assert not report.warnings
    doc = report.to_dict()["breakdown"]
    assert doc["basis"] == "measured"
    assert sum(doc["lines_kwh"].values()) == pytest.approx(doc["total_kwh"], abs=1e-9)
    assert doc["total_kwh"] == round(_measured(drives[trip_no - 1]) / KWH, 4)


def test_a_stored_trips_savings_are_resimulated_with_the_calibrated_spec(stored):
    twin = open_twin(stored, VIN)
    report = twin_energy_report(twin, 2, price=0.30)
    spec, _ = calibrated_spec(twin.record.spec, twin.registry.champion())
    trip = stored_trip_drive(stored, VIN, 2)
    assert spec.auxiliary_power == report.calibration.applied["auxiliary_power"] != LEAF.auxiliary_power
    w = _found(report, "tyre_pressure")
    inflated = spec.with_changes(rolling_resistance_coefficient=spec.rolling_resistance_coefficient * 0.8**0.4)
    _assert_saving_is(w, _energy(spec, trip.scenario()), _energy(inflated, trip.scenario()), 0.30)


def test_an_uncalibrated_twin_works_and_says_so(stored, drives):
    before = stored.sample_count(), len(open_twin(stored, UNCALIBRATED).registry.history())
    report = twin_energy_report(open_twin(stored, UNCALIBRATED), 1)
    assert report.calibrated is False and report.to_dict()["calibrated"] is False
    assert report.warnings[0].startswith(f"the twin of {UNCALIBRATED} is not calibrated (champion v1 was built")
    b = report.breakdown
    assert b.model_error is None and b.within_model_error is None
    # the telemetry is this very simulator's: what it does not explain is within 0.1 %
    assert abs(b.residual) < 1e-3 * b.measured
    assert sum(b.lines.values()) == pytest.approx(_measured(drives[0]), rel=1e-12)
    assert (stored.sample_count(), len(open_twin(stored, UNCALIBRATED).registry.history())) == before


def test_the_champions_parameters_map_onto_the_spec():
    prior = PhysicsConsumptionModel.from_spec(LEAF)
    model = PhysicsConsumptionModel.from_spec(LEAF, auxiliary_power=600.0, road_load_scale=1.1,
                                              drivetrain_efficiency=0.95 * LEAF.gearbox_efficiency)
    version = ModelVersion(VIN, 2, "PhysicsConsumptionModel", "physics", model.to_dict(), "champion",
                           Provenance("test", "calibration", 1), validation_error=4.0,
                           residual_band=ResidualBand(0.0, 3.0))
    spec, cal = calibrated_spec(LEAF, version)
    a, b, c = LEAF.effective_coastdown
    assert spec.road_load_form == "coastdown" and spec.auxiliary_power == 600.0
    assert spec.effective_coastdown == pytest.approx((1.1 * a, 1.1 * b, 1.1 * c))
    # motor and inverter losses from 10 % of the shaft power (the prior's 0.9) to 5 %: halved
    assert prior.drivetrain_efficiency == pytest.approx(0.9 * LEAF.gearbox_efficiency)
    assert spec.copper_loss == pytest.approx(0.5 * LEAF.copper_loss) and spec.iron_loss == pytest.approx(0.5 * LEAF.iron_loss)
    assert cal.calibrated and cal.model_error == 4.0 and cal.error_source == "validation_error"
    assert any(n.startswith("regen_efficiency not applied") for n in cal.notes)
    uncalibrated = replace(version, residual_band=None, validation_error=None)
    assert calibrated_spec(LEAF, uncalibrated) == (LEAF, calibrated_spec(LEAF, uncalibrated)[1])
    assert calibrated_spec(LEAF, uncalibrated)[1].calibrated is False


# ---- bad input ---------------------------------------------------------------------------------------
def test_an_unknown_trip_lists_the_valid_numbers(stored):
    with pytest.raises(UnknownNameError, match=r"unknown trip of 5YJ3E1EA7KF000001 '13'; did you mean .*"
                                              r"Its trips are numbered 1-12\."):
        stored_trip_drive(stored, VIN, 13)
    with pytest.raises(ValidationError, match="trip: expected a trip number"):
        stored_trip_drive(stored, VIN, "3")


def test_an_unknown_vin_names_the_closest(stored):
    with pytest.raises(UnknownNameError, match="5YJ3E1EA7KF000001"):
        open_twin(stored, "5YJ3E1EA7KF00001")


def test_a_stored_trip_with_an_impossible_speed_or_a_gap_is_refused(stored):
    before = stored.sample_count()
    with pytest.raises(ValidationError, match=r"trip 1 of 5YJ3E1EA7KF000003 Vehicle.Speed: expected speeds in "
                                              r"\[0, 100\] m/s, received '150 m/s at 100 s'"):
        twin_energy_report(open_twin(stored, BAD_SPEED), 1)
    with pytest.raises(TraceError, match=r"trip 1 of 5YJ3E1EA7KF000004: a 31 s gap in Vehicle.Speed at 199 s while "
                                         r"moving"):
        twin_energy_report(open_twin(stored, GAPPY), 1)
    assert stored.sample_count() == before


def test_a_vehicle_without_trips_is_a_data_error(tmp_path):
    store = DuckDBStore(tmp_path / "empty.duckdb")
    create_twin(store, VIN, LEAF)
    with pytest.raises(DataError, match="has no stored trips"):
        stored_trip_drive(store, VIN, 1)
    store.close()


@pytest.mark.parametrize(("price", "currency", "field"), [(-0.1, "EUR", "price"), (math.nan, "EUR", "price"),
                                                          (500.0, "EUR", "price"), (0.3, "euro", "currency")])
def test_a_bad_price_or_currency_names_the_field_and_range(price, currency, field):
    with pytest.raises(ValidationError) as err:
        energy_report(LEAF, EnergyDrive(motorway()), price=price, currency=currency)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: expected ")


def test_bad_options_and_drives_are_refused():
    with pytest.raises(ValidationError, match=r"cruise_speed_reduction in WhatIfOptions: expected a number in \(0, 0.5\]"):
        WhatIfOptions(cruise_speed_reduction=0.0)
    with pytest.raises(ValidationError, match="ambient_temperature"):
        EnergyDrive(motorway(), ambient_temperature=-10.0)  # Celsius given for kelvin
    with pytest.raises(ValidationError, match="measured_energy"):
        EnergyDrive(motorway(), measured_energy=math.inf)


# ---- the public face ---------------------------------------------------------------------------------
APP_NAMES = ("BREAKDOWN_LINES", "WHAT_IF_NAMES", "EnergyBreakdown", "EnergyReport", "ModelCalibration", "WhatIf",
             "WhatIfOptions", "WhatIfs", "calibrated_spec", "energy_breakdown", "energy_report", "stored_trip_drive",
             "twin_energy_report", "what_ifs")


@pytest.mark.parametrize("name", APP_NAMES)
def test_the_apps_package_and_the_energy_module_give_the_same_public_name(name):
    import twinloop.apps
    import twinloop.apps.energy

    assert name in twinloop.apps.energy.__all__
    assert getattr(twinloop.apps, name) is getattr(twinloop.apps.energy, name)


def test_every_name_of_the_energy_module_is_defined_where_it_says():
    import importlib

    import twinloop.apps.energy

    for name in twinloop.apps.energy.__all__:
        value = getattr(twinloop.apps.energy, name)
        home = getattr(value, "__module__", None)
        if home is not None and home.startswith("twinloop.apps.energy"):
            assert name in importlib.import_module(home).__all__, (name, home)
