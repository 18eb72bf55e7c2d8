"""Road grade derived from a trace's elevation: GPS logs and route profiles."""

import numpy as np
import pandas as pd
import pytest

from twinloop.cycles import Cycle, grade_from_elevation, load_cycle
from twinloop.errors import TraceError
from twinloop.parameters import resolve_vehicle
from twinloop.sim import Scenario, simulate


def hill(distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Elevation [m] and true grade (rise over run) of a road: flat, 6 % up for 800 m, 4 % down, flat."""
    grade = np.select([distance < 1000, distance < 1800, distance < 3000], [0.0, 0.06, -0.04], 0.0)
    ds = np.diff(distance, prepend=distance[0])
    return 200.0 + np.cumsum(ds * np.sin(np.arctan(grade))), grade


def trace_with_elevation(tmp_path, noise_m=0.0, unit="m", seed=0):
    c = load_cycle("wltc_3b")
    s = np.concatenate([[0.0], np.cumsum(0.5 * (c.vehicle_speed[1:] + c.vehicle_speed[:-1]))]) % 4000.0
    h, g = hill(s)
    # GPS elevation error: slow (AR(1), 3 m, 2 min) plus 0.5 m of scatter from fix to fix
    rng = np.random.default_rng(seed)
    slow = np.zeros(h.size)
    for k in range(1, h.size):
        slow[k] = slow[k - 1] * np.exp(-1 / 120) + rng.normal(0.0, 3.0 * np.sqrt(1 - np.exp(-2 / 120)))
    h = h + noise_m / 3.0 * (slow + rng.normal(0.0, 0.5, h.size))
    f = tmp_path / "gps.csv"
    pd.DataFrame({"time_s": c.time, "speed_mps": c.vehicle_speed,
                  f"elevation_{unit}": h / (0.3048 if unit == "ft" else 1.0)}).to_csv(f, index=False)
    return f, c.vehicle_speed, g


def test_a_noisy_gps_elevation_gives_the_hill_and_its_energy(tmp_path):
    # A GPS elevation error of 3 m drifting over minutes, 0.5 m from fix to fix: the grade and
    # the energy of the true road come back.
    f, v, truth = trace_with_elevation(tmp_path, noise_m=3.0)
    c = load_cycle(f)
    moving = v > 1.0
    assert np.sqrt(np.mean((c.road_grade - truth)[moving] ** 2)) < 0.02  # 0.5 % without the GPS error
    on_the_climb = moving & (truth == 0.06)
    assert np.median(c.road_grade[on_the_climb]) == pytest.approx(0.06, abs=0.005)
    leaf = resolve_vehicle("nissan_leaf_40kwh_2018")
    wltc = load_cycle("wltc_3b")
    true_road = Cycle("true road", wltc.time, wltc.vehicle_speed, truth)
    derived = simulate(leaf, Scenario(c)).battery_energy[0]
    assert derived == pytest.approx(simulate(leaf, Scenario(true_road)).battery_energy[0], rel=0.02)
    assert derived > simulate(leaf, Scenario(load_cycle("wltc_3b"))).battery_energy[0] * 1.02  # the hills cost


def test_elevation_in_feet_gives_the_same_grade(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "ft").mkdir()
    metres, _, _ = trace_with_elevation(tmp_path / "m")
    feet, _, _ = trace_with_elevation(tmp_path / "ft", unit="ft")
    np.testing.assert_allclose(load_cycle(feet).road_grade, load_cycle(metres).road_grade, atol=1e-9)


def test_standing_still_with_a_wandering_gps_fix_gives_finite_grades():
    t = np.arange(0.0, 300.0)
    v = np.where((t > 100) & (t < 200), 12.0, 0.0)
    h = 50.0 + np.random.default_rng(1).normal(0.0, 3.0, t.size)
    g = grade_from_elevation(t, v, h)
    assert np.all(np.isfinite(g)) and np.all(np.abs(g) < 0.35)


def test_a_trace_too_short_for_the_window_gets_its_end_to_end_slope():
    t = np.arange(0.0, 8.0)
    g = grade_from_elevation(t, np.full(t.size, 5.0), 10.0 + 0.5 * t * 5.0 * 0.02)
    np.testing.assert_allclose(g, 0.01 / np.sqrt(1 - 0.01**2), rtol=1e-9)


def test_an_explicit_grade_column_wins_over_elevation(tmp_path):
    f = tmp_path / "both.csv"
    f.write_text("time_s,speed_mps,grade,elevation_m\n0,10,0.01,0\n1,10,0.01,50\n2,10,0.01,100\n")
    np.testing.assert_allclose(load_cycle(f).road_grade, 0.01)


@pytest.mark.parametrize("column", ["elevation", "Altitude", "alt_cm", "height"])
def test_an_elevation_column_without_a_known_unit_is_refused_not_driven_flat(tmp_path, column):
    f = tmp_path / "gps.csv"
    f.write_text(f"time_s,speed_mps,{column}\n0,10,100\n1,10,101\n2,10,102\n")
    with pytest.raises(TraceError, match=f"column '{column}' looks like elevation but is not read; name it elevation_m"):
        load_cycle(f)


def test_elevation_in_the_wrong_unit_is_refused_as_a_cliff(tmp_path):
    # centimetres in an elevation_m column: a 6 % road reads as a 600 % one
    f, _, _ = trace_with_elevation(tmp_path)
    frame = pd.read_csv(f)
    frame["elevation_m"] *= 100
    frame.to_csv(f, index=False)
    with pytest.raises(TraceError, match=r"gives a road grade of .* %.*beyond 35 %; is the unit right"):
        load_cycle(f)
