"""Drivetrain: losses, limits and regeneration."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.physics import drivetrain as dt


def test_torque_limit_is_constant_below_corner_speed_and_power_limited_above():
    assert dt.motor_torque_limit(100.0, 150e3, 400.0) == 400.0
    assert dt.motor_torque_limit(1000.0, 150e3, 400.0) == pytest.approx(150.0)


def test_gearbox_loses_in_both_directions():
    assert dt.gearbox_input_power(970.0, 0.97) == pytest.approx(1000.0)
    assert dt.gearbox_input_power(-1000.0, 0.97) == pytest.approx(-970.0)


def test_motor_loss_hand_computed():
    # tau = 0.25, w = 1.0667: 150e3 * (0.06*0.0625 + 0.008*1.0667 + 0.0015*1.0667^3 + 0.003)
    w = 400.0 * 400.0 / 150e3
    expected = 150e3 * (0.06 * 0.0625 + 0.008 * w + 0.0015 * w**3 + 0.003)
    assert dt.motor_loss(100.0, 400.0, 150e3, 400.0, 0.06, 0.008, 0.0015, 0.003) == pytest.approx(expected)


@given(st.floats(1, 400), st.floats(10, 1000))
def test_motor_efficiency_is_below_one_and_loss_symmetric_in_torque_sign(torque, speed):
    loss = dt.motor_loss(torque, speed, 150e3, 400.0)
    assert loss > 0
    assert dt.motor_loss(-torque, speed, 150e3, 400.0) == pytest.approx(loss)
    shaft = torque * speed
    assert shaft / (shaft + loss) < 1.0


def test_regeneration_fades_out_at_low_speed():
    v = np.array([0.0, 1.0, 2.5, 4.0, 20.0])
    f = dt.regen_fraction(v, 0.8, 1.0, 4.0)
    np.testing.assert_allclose(f, [0.0, 0.0, 0.4, 0.8, 0.8])


def test_motor_loss_is_positive_when_spinning_backwards():
    # w = 300 * 400 / 150e3 = 0.8: 150e3 * (0.008*0.8 + 0.0015*0.8^3 + 0.003) = 1525.2 W, not a negative loss
    assert dt.motor_loss(0.0, -300.0, 150e3, 400.0) == pytest.approx(1525.2)
    assert dt.motor_loss(50.0, -300.0, 150e3, 400.0) == pytest.approx(dt.motor_loss(50.0, 300.0, 150e3, 400.0))


def test_motor_loss_at_standstill_is_copper_loss_only():
    # holding 300 N m on a hill: 150e3 * 0.06 * 0.75^2 = 5062.5 W; nothing with no torque
    assert dt.motor_loss(300.0, 0.0, 150e3, 400.0) == pytest.approx(5062.5)
    assert dt.motor_loss(0.0, 0.0, 150e3, 400.0) == 0.0


def test_torque_limit_is_power_limited_in_reverse_too():
    assert dt.motor_torque_limit(-1000.0, 150e3, 400.0) == pytest.approx(150.0)


def test_regen_fade_of_zero_width_is_a_step_without_division_by_zero():
    with np.errstate(all="raise"):
        f = dt.regen_fraction(np.array([0.5, 1.0, 2.0]), 0.8, 1.0, 1.0)
    np.testing.assert_allclose(f, [0.0, 0.0, 0.8])
