"""Route segments, the driver's style and the speed trace synthesised from them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twinloop.apps.route import (
    Route,
    default_style,
    driving_style,
    load_route,
    route_from_trace,
    synthesise_trace,
)
from twinloop.cycles import load_cycle
from twinloop.errors import DataError, UnknownNameError, ValidationError
from twinloop.twin.trips import trace_features


def _route(d=(1000.0, 2000.0, 500.0), v=(8.0, 25.0, 12.0), h=(100.0, 110.0, 105.0)) -> Route:
    return Route(np.array(d), np.array(v), np.array(h))


def test_a_trace_cut_into_segments_keeps_its_distance_time_and_elevation():
    c = load_cycle("udds")
    elevation = 50.0 + np.cumsum(c.vehicle_speed) * 0.01  # climbs 1 m per 100 m
    r = route_from_trace(c.time, c.vehicle_speed, elevation)
    distance = float(np.trapezoid(c.vehicle_speed, c.time))
    assert r.total_distance == pytest.approx(distance)
    assert r.duration == pytest.approx(c.time[-1] - c.time[0], rel=0.02)  # less the standing at the ends
    assert len(r.distance) == round(distance / 1000)
    assert r.elevation[-1] == pytest.approx(elevation[-1], abs=0.2)


def test_the_synthesised_trace_drives_each_segment_at_its_mean_speed():
    route = _route()
    style = default_style()
    trace = synthesise_trace(route, style)
    assert trace.vehicle_speed[0] == 0.0 and trace.vehicle_speed[-1] == 0.0
    distance = float(np.sum(trace.vehicle_speed))  # 1-s steps
    assert distance == pytest.approx(route.total_distance, rel=1e-9)
    assert trace.time[-1] == pytest.approx(route.duration, rel=0.03)
    # the climb of the route: 10 m up, then 5 m down
    rise = np.sum(trace.vehicle_speed * np.sin(np.arctan(trace.road_grade)))
    assert rise == pytest.approx(5.0, abs=0.05)


def test_the_synthesised_trace_has_the_drivers_characteristic_acceleration():
    # a long uniform route at 40 km/h: the trace's kinetic energy gained per metre is the style's
    style = default_style()
    v = 40 / 3.6
    route = Route(np.full(20, 1000.0), np.full(20, v), np.zeros(20))
    trace = synthesise_trace(route, style)
    gained = trace_features(trace.time, trace.vehicle_speed)["positive_kinetic"]
    expected = float(style.at(v)[0])
    assert gained == pytest.approx(expected, rel=0.1)


def test_a_style_learned_from_city_driving_stops_more_than_one_from_the_motorway():
    city = driving_style([(c.time, c.vehicle_speed) for c in [load_cycle("udds"), load_cycle("nrel13")]])
    assert city.stops_per_km.max() >= 1.0
    assert 0.1 < city.acceleration < 3.0 and 0.1 < city.braking < 3.0
    with pytest.raises(DataError, match="no recorded stretch of 1000 m"):
        driving_style([(np.arange(10.0), np.ones(10))])


@pytest.mark.parametrize(("field", "d", "v", "h", "match"), [
    ("distance_m", (1000.0, 0.0), (10.0, 10.0), (0.0, 0.0), "> 0 m.*0 in segment 2"),
    ("speed_mps", (1000.0, 1000.0), (10.0, 90.0), (0.0, 0.0), r"in \(0, 70\] m/s.*90 in segment 2"),
    ("speed_mps", (1000.0, 1000.0), (0.0, 10.0), (0.0, 0.0), "0 in segment 1"),
    ("elevation_m", (1000.0, 100.0), (10.0, 10.0), (0.0, 50.0), "rise 50 in segment 2"),
    ("elevation_m", (1000.0, 1000.0), (10.0, 10.0), (0.0, math.nan), "a gap in the route.*nan in segment 2"),
])
def test_impossible_routes_are_refused_naming_the_segment(field, d, v, h, match):
    with pytest.raises(ValidationError, match=match) as info:
        Route(np.array(d), np.array(v), np.array(h))
    assert info.value.field == field


def test_a_route_file_without_a_column_names_it_with_close_matches(tmp_path: Path):
    path = tmp_path / "route.csv"
    path.write_text("distance_m,speed_ms,elevation_m\n1000,10,5\n")
    with pytest.raises(UnknownNameError, match=r"speed_mps.*speed_ms"):
        load_route(path)
    path.write_text("distance_m,speed_mps,elevation_m\n1000,10,5\n800,,6\n")
    with pytest.raises(ValidationError, match=r"speed_mps.*nan in segment 2"):
        load_route(path)
    path.write_text("distance_m,speed_mps,elevation_m\n1000,10,5\n800,12,6\n")
    r = load_route(path)
    assert r.total_distance == 1800.0 and r.start_elevation == 5.0


def test_a_route_in_other_units_or_a_trace_given_as_a_route_says_what_to_do(tmp_path: Path):
    path = tmp_path / "route.csv"
    path.write_text("distance_m,speed_kph,elevation_m\n1000,36,5\n")
    with pytest.raises(ValidationError, match=r"speed_mps in m/s.*only speed_kph.*km/h / 3.6"):
        load_route(path)
    path.write_text("time_s,speed_kph\n0,0\n1,5\n")
    with pytest.raises(ValidationError, match=r"a speed trace.*--trip"):
        load_route(path)
