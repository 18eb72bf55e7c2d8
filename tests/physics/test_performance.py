"""Performance: traction limit, gear- and power-limited top speed, time to a speed; hand-computed."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.conventions import STANDARD_GRAVITY
from twinloop.physics import performance as pf


def test_traction_limit_without_load_transfer_is_mu_g_times_the_driven_share():
    assert pf.traction_limited_acceleration(0.9, 1.0, 0.0) == pytest.approx(0.9 * STANDARD_GRAVITY)
    assert pf.traction_limited_acceleration(1.0, 0.5, 0.0, 0.3) == pytest.approx(0.5 * STANDARD_GRAVITY)


def test_load_transfer_helps_a_rear_drive_and_hurts_a_front_drive():
    # Gillespie (1992) ch. 2: a = mu g psi / (1 - s mu h/L); mu 0.9, h/L 0.2: 1 -/+ 0.18
    rear = pf.traction_limited_acceleration(0.9, 0.5, 1.0, 0.2)
    front = pf.traction_limited_acceleration(0.9, 0.5, -1.0, 0.2)
    assert rear == pytest.approx(0.9 * STANDARD_GRAVITY * 0.5 / 0.82)
    assert front == pytest.approx(0.9 * STANDARD_GRAVITY * 0.5 / 1.18)
    assert front < 0.9 * STANDARD_GRAVITY * 0.5 < rear


def test_every_drive_has_a_load_share_and_transfer_sign():
    assert set(pf.DRIVEN_AXLE_LOAD) == {"FWD", "RWD", "AWD"}
    shares = {d: pf.traction_limited_acceleration(0.9, *pf.DRIVEN_AXLE_LOAD[d]) for d in pf.DRIVEN_AXLE_LOAD}
    assert shares["FWD"] < shares["RWD"] < shares["AWD"] == pytest.approx(0.9 * STANDARD_GRAVITY)


def test_gear_limited_speed_inverts_the_motor_speed():
    # 12,000 rpm through 9:1 on a 0.34 m wheel: 1256.637 * 0.34 / 9 = 47.473 m/s
    assert pf.gear_limited_speed(12000 * math.pi / 30, 9.0, 0.34) == pytest.approx(47.4730, rel=1e-5)
    speeds = pf.gear_limited_speed(1000.0, np.array([5.0, 10.0]), 0.3)
    np.testing.assert_allclose(speeds, [60.0, 30.0])


def test_power_limited_speed_balances_power_and_road_load():
    # aerodynamic drag only: C v^3 = P -> v = (P / C)^(1/3)
    assert pf.power_limited_speed(8000.0, 0.0, 0.0, 1.0) == pytest.approx(20.0)
    # rolling only: A v = P
    assert pf.power_limited_speed(3000.0, 150.0, 0.0, 0.0) == pytest.approx(20.0)
    # the gearbox takes its share first
    assert pf.power_limited_speed(8000.0 / 0.8, 0.0, 0.0, 1.0, 0.8) == pytest.approx(20.0)


@given(st.floats(1e3, 5e5), st.floats(0.0, 500.0), st.floats(0.0, 20.0), st.floats(0.05, 1.5))
def test_power_limited_speed_is_the_root(power, a, b, c):
    v = float(pf.power_limited_speed(power, a, b, c))
    assert (a + b * v + c * v * v) * v == pytest.approx(power, rel=1e-9)


def test_power_limited_speed_is_vectorised():
    v = pf.power_limited_speed(np.array([8000.0, 64000.0]), 0.0, 0.0, np.array([1.0, 1.0]))
    np.testing.assert_allclose(v, [20.0, 40.0])


def test_time_to_speed_interpolates_and_marks_never_as_inf():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    v = np.array([[0.0, 10.0, 20.0, 30.0], [0.0, 5.0, 5.0, 5.0], [30.0, 30.0, 30.0, 30.0]])
    np.testing.assert_allclose(pf.time_to_speed(t, v, 15.0), [1.5, np.inf, 0.0])
    assert pf.time_to_speed(t, v[0], 30.0) == pytest.approx(3.0)
