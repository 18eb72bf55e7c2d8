"""Road load: hand-computed forces and the equivalence of the two forms."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.physics import road_load as rl


def test_aerodynamic_drag_hand_computed():
    # 0.5 * 1.2041 * 0.25 * 2.3 * 25^2 = 216.36 N
    assert rl.aerodynamic_drag_force(25.0, 0.25, 2.3) == pytest.approx(216.361, rel=1e-4)


def test_rolling_and_grade_on_a_5_percent_slope():
    theta = np.arctan(0.05)
    assert rl.rolling_resistance_force(1500.0, 0.01, 0.05) == pytest.approx(1500 * 9.80665 * 0.01 * np.cos(theta))
    assert rl.grade_force(1500.0, 0.05) == pytest.approx(1500 * 9.80665 * np.sin(theta))
    assert rl.grade_force(1500.0, -0.05) == pytest.approx(-rl.grade_force(1500.0, 0.05))


def test_epa_coefficients_convert_to_si():
    # BMW i4 eDrive40 target coefficients from the EPA 2022 list: 33.9 lbf, 0.0340 lbf/mph, 0.01668 lbf/mph2
    a, b, c = rl.coastdown_from_epa(33.9, 0.0340, 0.01668)
    assert a == pytest.approx(150.795, rel=1e-4)
    assert b == pytest.approx(0.0340 * 4.4482216 / 0.44704, rel=1e-6)
    assert c == pytest.approx(0.01668 * 4.4482216 / 0.44704**2, rel=1e-6)
    # at 60 mph the SI force equals the force computed in EPA units
    v = 60 * rl.MPH
    f_lbf = 33.9 + 0.0340 * 60 + 0.01668 * 60**2
    assert rl.coastdown_force(v, a, b, c) == pytest.approx(f_lbf * rl.LBF, rel=1e-9)


def test_coastdown_force_is_zero_at_standstill():
    assert rl.coastdown_force(0.0, 150.0, 1.0, 0.4) == 0.0


@given(
    st.floats(0.5, 60), st.floats(800, 3500), st.floats(0.15, 0.5), st.floats(1.5, 4.0), st.floats(0.005, 0.015)
)
def test_physical_and_coastdown_forms_agree(v, m, cd, area, crr):
    a, b, c = rl.coastdown_from_physical(m, cd, area, crr)
    physical = rl.aerodynamic_drag_force(v, cd, area) + rl.rolling_resistance_force(m, crr)
    assert rl.coastdown_force(v, a, b, c) == pytest.approx(physical, rel=1e-9)


def test_functions_are_vectorised_over_a_vehicle_axis():
    v = np.array([10.0, 20.0, 30.0])
    cd = np.array([0.2, 0.3, 0.4])
    out = rl.aerodynamic_drag_force(v, cd, 2.0)
    assert out.shape == (3,)
    assert out[1] == pytest.approx(rl.aerodynamic_drag_force(20.0, 0.3, 2.0))


def test_coastdown_force_opposes_motion_when_reversing():
    # reversing at 1 m/s: -(150 + 1*1 + 0.4*1^2) N, not -100 x A from an unclipped ramp
    assert rl.coastdown_force(-1.0, 150.0, 1.0, 0.4) == pytest.approx(-151.4)
    v = np.array([0.005, 0.5, 20.0])
    np.testing.assert_allclose(rl.coastdown_force(-v, 150.0, 1.0, 0.4), -rl.coastdown_force(v, 150.0, 1.0, 0.4))


def test_aerodynamic_drag_opposes_motion_when_reversing():
    assert rl.aerodynamic_drag_force(-25.0, 0.25, 2.3) == pytest.approx(-rl.aerodynamic_drag_force(25.0, 0.25, 2.3))


def test_grade_force_acts_at_standstill_and_rolling_force_is_cosine_reduced():
    # standstill on 10 %: m g sin(atan 0.1) = 1800 * 9.80665 * 0.1 / sqrt(1.01)
    assert rl.grade_force(1800.0, 0.10) == pytest.approx(1800 * 9.80665 * 0.1 / np.sqrt(1.01))
    assert rl.rolling_resistance_force(1800.0, 0.008, 0.10) == pytest.approx(1800 * 9.80665 * 0.008 / np.sqrt(1.01))
    assert rl.grade_force(1800.0, 0.0) == 0.0


def test_coastdown_force_broadcasts_over_a_large_fleet():
    n = 100_000
    a = np.full(n, 150.0)
    out = rl.coastdown_force(np.linspace(0.0, 40.0, n), a, 1.0, 0.4)
    assert out.shape == (n,)
    assert out[0] == 0.0 and out[-1] == pytest.approx(150 + 40 + 0.4 * 1600)


def test_coastdown_from_physical_returns_scalars_for_scalars():
    a, b, c = rl.coastdown_from_physical(1800.0, 0.23, 2.22, 0.008)
    assert all(np.ndim(x) == 0 and not isinstance(x, np.ndarray) for x in (a, b, c))
    a, b, c = rl.coastdown_from_physical(np.array([1500.0, 1800.0]), 0.23, 2.22, 0.008)
    assert a.shape == b.shape == (2,) and np.all(b == 0.0)
