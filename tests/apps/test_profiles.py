"""Driving metrics (O'Keefe et al., SAE 2007-01-0302): hand-computed cases, invariants, bad inputs.

Each hand-computed case is a piecewise-linear speed trace, for which the
formulas are exact: the distance is the trapezoid sum, the kinetic energy
changes telescope within a monotone segment, and the mean cube speed of a
step is the exact mean of v³ over it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinloop.apps import METRIC_NAMES, TripMetrics, cycle_metrics, metrics_frame, trip_metrics
from twinloop.apps.profiles import ACCELERATION_BINS, MOVING_SPEED, SPEED_BINS, cycle_elevation
from twinloop.conventions import STANDARD_GRAVITY
from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import ValidationError

G = STANDARD_GRAVITY
KEPLER = ("distance_m", "characteristic_acceleration_mps2", "characteristic_deceleration_mps2",
          "aerodynamic_speed_mps", "kinetic_intensity_per_km")


# -- hand-computed cases ------------------------------------------------------------------------

def test_constant_speed_has_no_acceleration_and_its_aerodynamic_speed_is_the_speed() -> None:
    t = np.arange(0.0, 101.0)
    m = trip_metrics(t, np.full(t.size, 10.0))
    assert m.distance_m == pytest.approx(1000.0)
    assert m.duration_s == 100.0
    assert m.average_speed_mps == pytest.approx(10.0)
    assert m.average_driving_speed_mps == pytest.approx(10.0)
    assert m.characteristic_acceleration_mps2 == 0.0
    assert m.characteristic_deceleration_mps2 == 0.0
    assert m.aerodynamic_speed_mps == pytest.approx(10.0)
    assert m.kinetic_intensity_per_km == 0.0
    assert m.stops_per_km == 0.0
    assert m.idle_fraction == 0.0
    assert m.speed_distribution["30_to_60_kph"] == pytest.approx(1.0)  # 36 km/h
    assert m.acceleration_distribution["cruising"] == pytest.approx(1.0)


def test_one_ramp_from_standstill() -> None:
    # 0 -> V in T: D = V T / 2; CA = (V^2 / 2) / D = V / T; mean of v^3 = V^3 / 4, so
    # ARS^2 = (V^3 T / 4) / D = V^2 / 2; KI = CA / ARS^2 = 2 / (V T) per metre.
    V, T = 10.0, 10.0
    m = trip_metrics([0.0, T], [0.0, V])
    assert m.distance_m == V * T / 2
    assert m.characteristic_acceleration_mps2 == pytest.approx((V**2 / 2) / (V * T / 2), rel=1e-12)
    assert m.characteristic_deceleration_mps2 == 0.0
    assert m.aerodynamic_speed_mps == pytest.approx(V / math.sqrt(2), rel=1e-12)
    assert m.kinetic_intensity_per_km == pytest.approx(1000 * 2 / (V * T), rel=1e-12)
    assert m.acceleration_distribution["accelerating"] == 1.0  # 1 m/s2: "accelerating" ends at 1 included


def test_the_same_ramp_sampled_every_second_gives_the_same_figures() -> None:
    coarse = trip_metrics([0.0, 10.0], [0.0, 10.0])
    fine = trip_metrics(np.arange(0.0, 11.0), np.arange(0.0, 11.0))
    for name in KEPLER:
        assert getattr(fine, name) == pytest.approx(getattr(coarse, name), rel=1e-12), name


def test_a_hill_at_constant_speed_counts_its_potential_energy() -> None:
    # 10 m/s for 100 s up 50 m: sum of a_i = g * 50 J/kg over 1000 m.
    t = np.arange(0.0, 101.0)
    m = trip_metrics(t, np.full(t.size, 10.0), elevation=0.5 * t)
    assert m.characteristic_acceleration_mps2 == pytest.approx(G * 50 / 1000, rel=1e-12)
    assert m.characteristic_deceleration_mps2 == 0.0
    assert m.aerodynamic_speed_mps == pytest.approx(10.0)
    assert m.kinetic_intensity_per_km == pytest.approx(1000 * G * 0.05 / 100, rel=1e-12)
    down = trip_metrics(t, np.full(t.size, 10.0), elevation=50 - 0.5 * t)
    assert down.characteristic_deceleration_mps2 == pytest.approx(-G * 50 / 1000, rel=1e-12)
    assert down.characteristic_acceleration_mps2 == 0.0


def test_a_hill_and_a_speed_change_in_one_step_are_netted() -> None:
    # a_i = 0.5 (v1^2 - v0^2) + g dh: braking from 10 to 8 m/s while climbing 2 m
    a = 0.5 * (64 - 100) + G * 2
    m = trip_metrics([0.0, 2.0], [10.0, 8.0], [0.0, 2.0])
    assert m.characteristic_acceleration_mps2 == pytest.approx(a / 18.0, rel=1e-12)
    assert m.characteristic_deceleration_mps2 == 0.0


def test_stop_and_go() -> None:
    # steps [s]: 0-10 stopped, 10-20 0->10 m/s, 20-30 cruise, 30-40 10->0, 40-50 stopped, 50-60 0->10
    t = np.arange(0.0, 61.0, 10.0)
    v = [0.0, 0.0, 10.0, 10.0, 0.0, 0.0, 10.0]
    m = trip_metrics(t, v)
    assert m.distance_m == 250.0  # 50 + 100 + 50 + 50
    assert m.average_speed_mps == pytest.approx(250 / 60)
    assert m.average_driving_speed_mps == pytest.approx(250 / 40)
    assert m.idle_fraction == pytest.approx(20 / 60)
    assert m.stops_per_km == pytest.approx(1 / 0.25)  # one stop (30-40 moving, 40-50 stopped) in 0.25 km
    assert m.characteristic_acceleration_mps2 == pytest.approx(100 / 250)
    assert m.characteristic_deceleration_mps2 == pytest.approx(-50 / 250)
    assert m.speed_distribution == pytest.approx({"stopped": 2 / 6, "0_to_30_kph": 3 / 6, "30_to_60_kph": 1 / 6,
                                                  "60_to_90_kph": 0, "90_to_120_kph": 0, "over_120_kph": 0})
    assert m.acceleration_distribution == pytest.approx({"stopped": 2 / 6, "braking_hard": 0, "braking": 1 / 6,
                                                         "cruising": 1 / 6, "accelerating": 2 / 6,
                                                         "accelerating_hard": 0})


def test_a_trip_ending_at_a_stop_counts_that_stop_and_a_creep_is_no_movement() -> None:
    m = trip_metrics([0, 10, 20, 30], [10.0, 0.0, 0.0, 0.0])
    assert m.stops_per_km == pytest.approx(1 / 0.05)
    creep = trip_metrics([0, 1, 2], [0.0, 2 * MOVING_SPEED, 0.0])  # step means 0.1: not moving
    assert creep.idle_fraction == 1.0
    assert math.isnan(creep.average_driving_speed_mps)


def test_a_trip_that_never_moves_has_no_per_distance_metrics() -> None:
    m = trip_metrics([0.0, 5.0, 60.0], [0.0, 0.0, 0.0])
    assert m.distance_m == 0.0 and m.average_speed_mps == 0.0 and m.idle_fraction == 1.0
    for name in ("average_driving_speed_mps", "characteristic_acceleration_mps2", "characteristic_deceleration_mps2",
                 "aerodynamic_speed_mps", "kinetic_intensity_per_km", "stops_per_km"):
        assert math.isnan(getattr(m, name)), name
        assert m.to_dict()[name] is None, name


def test_to_dict_has_exactly_the_metric_names() -> None:
    d = trip_metrics([0.0, 10.0], [0.0, 10.0]).to_dict()
    assert tuple(d) == METRIC_NAMES
    assert tuple(d["speed_distribution"]) == tuple(SPEED_BINS)
    assert tuple(d["acceleration_distribution"]) == ACCELERATION_BINS


def test_the_acceleration_bin_edges() -> None:
    # one 10-s step each: a = -1.5, -1, -0.5, -0.1, 0, 0.1, 0.5, 1, 1.5 m/s2, whole speed changes
    # so that each a is the double nearest the edge, as the constants are (1 / 10 == 0.1)
    changes = [-15.0, -10.0, -5.0, -1.0, 0.0, 1.0, 5.0, 10.0, 15.0]
    v = np.concatenate([[50.0], 50.0 + np.cumsum(changes)])
    shares = trip_metrics(10.0 * np.arange(v.size), v).acceleration_distribution
    counts = {k: round(s * len(changes)) for k, s in shares.items()}
    assert counts == {"stopped": 0, "braking_hard": 1, "braking": 2, "cruising": 3, "accelerating": 2,
                      "accelerating_hard": 1}


# -- invariants ---------------------------------------------------------------------------------

# standstill or a speed a sensor reports (1 mm/s and up: no cube that underflows to 0)
speeds = st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 40.0)), min_size=2, max_size=40)


@st.composite
def trips(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = np.array(draw(speeds))
    dt = np.array(draw(st.lists(st.floats(0.1, 20.0), min_size=v.size - 1, max_size=v.size - 1)))
    h = np.array(draw(st.lists(st.floats(-50.0, 50.0), min_size=v.size, max_size=v.size)))
    return np.concatenate([[0.0], np.cumsum(dt)]), v, h


@settings(max_examples=60, deadline=None)
@given(trips())
def test_shares_sum_to_one_and_the_signs_hold(trip: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    t, v, h = trip
    m = trip_metrics(t, v, h)
    assert sum(m.speed_distribution.values()) == pytest.approx(1.0)
    assert sum(m.acceleration_distribution.values()) == pytest.approx(1.0)
    assert 0.0 <= m.idle_fraction <= 1.0
    if m.distance_m > 0:
        assert m.characteristic_acceleration_mps2 >= 0.0 >= m.characteristic_deceleration_mps2
        # positive and negative parts together: the net energy change per metre
        net = 0.5 * (v[-1] ** 2 - v[0] ** 2) + G * (h[-1] - h[0])
        total = m.characteristic_acceleration_mps2 + m.characteristic_deceleration_mps2
        assert total * m.distance_m == pytest.approx(net, abs=1e-6 * (1 + np.max(v) ** 2 + G * np.ptp(h)))


@settings(max_examples=60, deadline=None)
@given(trips(), st.floats(0.1, 10.0))
def test_a_trip_driven_k_times_slower_in_time(trip: tuple[np.ndarray, np.ndarray, np.ndarray], k: float) -> None:
    # the same speeds held k times longer: k times the distance and the stretch; the same energy changes
    t, v, h = trip
    m, slow = trip_metrics(t, v, h), trip_metrics(k * t, v, h)
    assert slow.distance_m == pytest.approx(k * m.distance_m, rel=1e-9)
    assert slow.idle_fraction == pytest.approx(m.idle_fraction, abs=1e-12)
    if m.distance_m > 0:
        assert slow.characteristic_acceleration_mps2 == pytest.approx(m.characteristic_acceleration_mps2 / k,
                                                                      rel=1e-9, abs=1e-12)
        assert slow.aerodynamic_speed_mps == pytest.approx(m.aerodynamic_speed_mps, rel=1e-9)
        assert slow.kinetic_intensity_per_km == pytest.approx(m.kinetic_intensity_per_km / k, rel=1e-9, abs=1e-12)
        assert slow.stops_per_km == pytest.approx(m.stops_per_km / k, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(trips())
def test_a_trip_driven_backwards_swaps_acceleration_and_deceleration(
        trip: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    t, v, h = trip
    m, back = trip_metrics(t, v, h), trip_metrics(t[-1] - t[::-1], v[::-1], h[::-1])
    assert back.distance_m == pytest.approx(m.distance_m, rel=1e-12)
    if m.distance_m > 0:
        assert back.characteristic_acceleration_mps2 == pytest.approx(-m.characteristic_deceleration_mps2, rel=1e-9)
        assert back.aerodynamic_speed_mps == pytest.approx(m.aerodynamic_speed_mps, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(trips(), st.lists(st.floats(0.01, 0.99), min_size=1, max_size=30))
def test_extra_samples_on_a_piecewise_linear_trace_change_nothing(
        trip: tuple[np.ndarray, np.ndarray, np.ndarray], where: list[float]) -> None:
    # Samples added on the straight lines between the knots: non-uniform steps, the same trace.
    # On a flat road (a hill would not do: climbing while speeding up, the kinetic and potential
    # parts of a step can have opposite signs, and their split is then the sampling's).
    t, v, _ = trip
    extra = t[0] + np.array(where) * (t[-1] - t[0])
    fine_t = np.unique(np.concatenate([t, extra]))
    fine = trip_metrics(fine_t, np.interp(fine_t, t, v))
    m = trip_metrics(t, v)
    assert fine.distance_m == pytest.approx(m.distance_m, rel=1e-9, abs=1e-9)
    if m.distance_m > 1e-6:
        for name in KEPLER[1:]:
            assert getattr(fine, name) == pytest.approx(getattr(m, name), rel=1e-7, abs=1e-9), name


@settings(max_examples=40, deadline=None)
@given(trips(), trips())
def test_distance_and_energy_changes_add_over_two_trips_in_a_row(
        a: tuple[np.ndarray, np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    (ta, va, ha), (tb, vb, hb) = a, b
    vb, hb = np.concatenate([[va[-1]], vb]), np.concatenate([[ha[-1]], hb])  # b goes on from where a ends
    tb = np.concatenate([[0.0], tb + 1.0])
    both = trip_metrics(np.concatenate([ta, ta[-1] + tb[1:]]), np.concatenate([va, vb[1:]]),
                        np.concatenate([ha, hb[1:]]))
    ma, mb = trip_metrics(ta, va, ha), trip_metrics(tb, vb, hb)
    assert both.distance_m == pytest.approx(ma.distance_m + mb.distance_m, rel=1e-9, abs=1e-9)
    if ma.distance_m > 0 and mb.distance_m > 0:
        positive = [m.characteristic_acceleration_mps2 * m.distance_m for m in (both, ma, mb)]
        assert positive[0] == pytest.approx(positive[1] + positive[2], rel=1e-9, abs=1e-6)


# -- bad inputs ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("time", "speed", "elevation", "field", "fragments"), [
    ([0, 1, 1], [0, 1, 2], None, "time", ("strictly increasing", "1 after 1 at sample 2")),
    ([0, 2, 1], [0, 1, 2], None, "time", ("strictly increasing", "1 after 2 at sample 2")),
    ([0, np.nan], [0, 1], None, "time", ("finite numbers", "nan at sample 1")),
    ([0, 1, 2], [0, -1.5, 2], None, "vehicle_speed", (">= 0 m/s", "-1.5 at sample 1")),
    ([0, 1], [np.nan, 1], None, "vehicle_speed", ("finite numbers", "nan at sample 0")),
    ([0, 1], [0, np.inf], None, "vehicle_speed", ("finite numbers", "inf at sample 1")),
    ([0, 1], [0, 1], [0, np.nan], "elevation", ("finite numbers",)),
    ([0], [0], None, "time", ("at least 2 samples", "1 sample")),
    ([], [], None, "time", ("at least 2 samples", "0 samples")),
    ([0, 1, 2], [0, 1], None, "vehicle_speed", ("3 samples, one per time", "2 samples")),
    ([0, 1, 2], [0, 1, 2], [0, 1], "elevation", ("3 samples, one per time", "2 samples")),
    ([[0, 1], [0, 1]], [[0, 1], [0, 1]], None, "time", ("1-D array", "shape (2, 2)")),
    ("abc", [0, 1], None, "time", ("1-D array of numbers", "str")),
])
def test_bad_input_is_refused_naming_the_field(time: object, speed: object, elevation: object, field: str,
                                               fragments: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        trip_metrics(time, speed, elevation)
    assert info.value.field == field
    message = str(info.value)
    assert message.startswith(f"{field}: expected ")
    for fragment in fragments:
        assert fragment in message, message


# -- cycles -------------------------------------------------------------------------------------

def test_cycle_elevation_integrates_the_grade_over_the_distance() -> None:
    t = np.arange(0.0, 201.0)
    hill = Cycle("hill", t, np.full(t.size, 10.0), np.full(t.size, 0.05))
    h = cycle_elevation(hill)
    assert h[0] == 0.0
    assert h[-1] == pytest.approx(2000 * math.sin(math.atan(0.05)), rel=1e-12)
    m = cycle_metrics(hill)
    assert m.characteristic_acceleration_mps2 == pytest.approx(G * math.sin(math.atan(0.05)), rel=1e-12)


def test_udds_matches_the_published_schedule() -> None:
    # EPA, Dynamometer Drive Schedules (epa.gov/vehicle-and-fuel-emissions-testing/dynamometer-drive-schedules):
    # UDDS 1369 s, 7.45 miles, average speed 19.59 mph; HWFET 765 s, 10.26 miles, 48.3 mph.
    udds = cycle_metrics(load_cycle("udds"))
    assert udds.duration_s == 1369.0
    assert udds.distance_m / 1609.344 == pytest.approx(7.45, abs=0.005)
    assert udds.average_speed_mps / 0.44704 == pytest.approx(19.59, abs=0.005)
    hwfet = cycle_metrics(load_cycle("hwfet"))
    assert hwfet.duration_s == 765.0
    assert hwfet.distance_m / 1609.344 == pytest.approx(10.26, abs=0.005)
    assert hwfet.average_speed_mps / 0.44704 == pytest.approx(48.3, abs=0.05)
    # Not from a publication: the urban cycle is the more kinetically intense, by its definition's intent.
    assert udds.kinetic_intensity_per_km > 3 * hwfet.kinetic_intensity_per_km


def test_metrics_frame_has_one_row_per_cycle() -> None:
    frame = metrics_frame([load_cycle("udds"), load_cycle("us06")])
    assert list(frame.index) == ["udds", "us06"]
    assert frame.loc["us06", "distance_m"] == pytest.approx(cycle_metrics(load_cycle("us06")).distance_m)
    assert "speed_distribution.stopped" in frame.columns
    assert isinstance(cycle_metrics(load_cycle("udds")), TripMetrics)
