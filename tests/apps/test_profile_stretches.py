"""Road stretches: hand-made tracks snapped to 200 m cells and 8 headings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinloop.apps.profile_stretches import (
    CELL_SIZE,
    EARTH_RADIUS,
    HEADINGS,
    cell_of,
    stretch_tallies,
)

DEG = EARTH_RADIUS * math.pi / 180  # metres per degree of latitude


def _north(metres):
    return np.asarray(metres, dtype=float) / DEG


def test_cells_are_200_m_of_latitude_and_of_longitude_at_the_row_middle():
    row, col, lat, _lon = cell_of(_north([0.0, 199.9, 200.1]), [0.0, 0.0, 0.0])
    assert row.tolist() == [0, 0, 1] and col.tolist() == [0, 0, 0]
    assert lat.tolist() == pytest.approx(_north([100.0, 100.0, 300.0]).tolist())
    # at 60 degrees north a degree of longitude is half as long: 200 m east is twice the degrees
    _r, c, mid, centre = cell_of([60.0], [0.0])
    assert c.tolist() == [0]
    east = 199.0 / (DEG * math.cos(math.radians(mid[0])))
    assert cell_of([60.0], [east])[1].tolist() == [0] and cell_of([60.0], [201.0 / (DEG * math.cos(math.radians(mid[0])))])[1].tolist() == [1]
    assert centre[0] == pytest.approx(100.0 / (DEG * math.cos(math.radians(mid[0]))))


def test_a_straight_run_north_then_back_south_gives_two_headings_per_cell():
    # 400 m north at 10 m/s, then 400 m back south: 4 stretches, 20 s and 200 m each
    t = np.arange(81.0)
    north = np.concatenate([10.0 * t[:41], 400.0 - 10.0 * (t[41:] - 40.0)])
    speed = np.full(81, 10.0)
    tallies = stretch_tallies(t, speed, _north(north), np.full(81, 1e-6))
    got = {s.stretch: (s.heading, s.passes, s.time_s, s.distance_m) for s in tallies}
    assert got == {
        "0:0:N": ("N", 1, 20.0, 200.0), "1:0:N": ("N", 1, 20.0, 200.0),
        "1:0:S": ("S", 1, 20.0, 200.0), "0:0:S": ("S", 1, 20.0, 200.0),
    }
    assert all(s.moving_s == s.time_s and s.speed_change_mps == 0.0 and s.energy_j is None for s in tallies)


@pytest.mark.parametrize(("east", "north", "heading"), [
    (1.0, 0.0, "E"), (1.0, 1.0, "NE"), (-1.0, -1.0, "SW"), (-1.0, 0.0, "W"), (0.0, -1.0, "S"), (-1.0, 1.0, "NW"),
])
def test_the_heading_is_the_sector_of_the_displacement(east, north, heading):
    t = np.arange(11.0)
    lat = _north(north * 5.0 * t) + 0.0001
    lon = east * 5.0 * t / DEG + 0.0001
    tallies = stretch_tallies(t, np.full(11, 5.0 * math.hypot(east, north)), lat, lon)
    assert {s.heading for s in tallies} == {heading} and heading in HEADINGS


def test_a_stop_keeps_its_stretch_while_the_fix_scatters_across_a_cell_edge():
    # drive 190 m north, stop 30 s with the fix jumping 20 m either side of the 200 m edge, drive on
    t = np.arange(70.0)
    speed = np.concatenate([np.full(19, 10.0), np.zeros(31), np.full(20, 10.0)])
    north = np.concatenate([10.0 * t[:19], 190.0 + 20.0 * (np.arange(31) % 2), 190.0 + 10.0 * np.arange(1, 21)])
    tallies = {s.stretch: s for s in stretch_tallies(t, speed, _north(north), np.full(70, 1e-6))}
    assert set(tallies) == {"0:0:N", "1:0:N"}
    first = tallies["0:0:N"]
    assert first.passes == 1 and first.moving_s < first.time_s  # the stop stays where the car was
    assert tallies["1:0:N"].passes == 1


def test_a_stretch_driven_twice_counts_two_passes_and_the_stretch_energy_is_the_power_integral():
    # 100 m north, the fix jumps back 100 m (a tunnel's exit), the same 100 m north again
    t = np.arange(22.0)
    north = np.concatenate([10.0 * np.arange(11), 10.0 * np.arange(11)])
    power = np.full(22, 20_000.0)  # 20 kW, discharging
    tallies = {s.stretch: s for s in stretch_tallies(t, np.full(22, 10.0), _north(north), np.full(22, 1e-6), power)}
    assert set(tallies) == {"0:0:N", "0:0:S"}  # the jump's step heads south
    n = tallies["0:0:N"]
    assert (n.passes, n.time_s, n.distance_m) == (2, 20.0, 200.0)
    assert n.energy_j == pytest.approx(20_000.0 * 20.0) and n.energy_distance_m == pytest.approx(200.0)
    assert tallies["0:0:S"].passes == 1


def test_acceleration_sums_give_the_mean_and_the_positive_acceleration():
    t = np.arange(11.0)
    speed = np.array([5.0, 6.0, 7.0, 8.0, 8.0, 8.0, 8.0, 7.5, 7.0, 6.5, 6.0])
    north = np.concatenate([[0.0], np.cumsum(0.5 * (speed[1:] + speed[:-1]))])
    (s,) = stretch_tallies(t, speed, _north(north), np.full(11, 1e-6))
    assert s.speed_change_mps == pytest.approx(1.0) and s.moving_s == 10.0
    assert (s.accelerating_s, s.speed_gain_mps) == (3.0, pytest.approx(3.0))
    assert sum(s.speed_histogram.values()) == 10.0


def test_a_trip_that_never_moves_or_never_shifts_has_no_stretch():
    t = np.arange(10.0)
    assert stretch_tallies(t, np.zeros(10), np.full(10, 48.0), np.full(10, 11.0)) == []
    assert stretch_tallies(t, np.full(10, 5.0), np.full(10, 48.0), np.full(10, 11.0)) == []  # a frozen fix


def test_cell_size_is_200_m():
    assert CELL_SIZE == 200.0
