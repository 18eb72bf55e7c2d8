"""Ageing laws: hand-computed values, vectorisation and monotone fade."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from twinloop.physics.battery import aging


def test_calendar_loss_hand_computed():
    # A e^{-Ta/T} t^z = 2 * e^{-3000/300} * 10000^0.5
    assert math.isclose(aging.calendar_capacity_loss(1e4, 300.0, 2.0, 3000.0), 2 * math.exp(-10) * 100)


def test_cycle_loss_hand_computed_wang_2011():
    # B/100 exp((-Ea + 370.3 C)/(R T)) Ah^z at C/2, 25 degC, 1000 Ah
    expected = 30330 / 100 * math.exp((-31700 + 370.3 * 0.5) / (8.314462618 * 298.15)) * 1000**0.55
    assert math.isclose(aging.cycle_capacity_loss(1000.0, 298.15, 0.5, 30330.0), expected)


def test_cycle_loss_grows_with_temperature():
    cold, hot = aging.cycle_capacity_loss(1000.0, np.array([288.15, 318.15]), 1.0, 30330.0)
    assert hot > cold


def test_fade_curves_are_vectorised():
    k = np.arange(5.0)
    assert aging.power_law_capacity(k, 2.0, 0.01, 1.0).shape == (5,)
    np.testing.assert_allclose(aging.double_exponential_capacity(k, 1.0, 0.0, 0.0, 0.0), np.ones(5))


@given(
    st.floats(1.0, 1e4), st.floats(1.0, 1e4),
    st.floats(250.0, 330.0), st.floats(0.3, 1.0),
)
def test_losses_are_monotone_in_throughput_and_time(a, b, temperature, z):
    lo, hi = sorted((a, b))
    assert aging.cycle_capacity_loss(lo, temperature, 1.0, 30330.0, throughput_exponent=z) <= aging.cycle_capacity_loss(
        hi, temperature, 1.0, 30330.0, throughput_exponent=z
    )
    assert aging.calendar_capacity_loss(lo, temperature, 1.0, 3000.0, z) <= aging.calendar_capacity_loss(
        hi, temperature, 1.0, 3000.0, z
    )


def test_ageing_laws_give_no_loss_at_zero_time_and_throughput():
    assert aging.calendar_capacity_loss(0.0, 298.15, 1.0, 3000.0) == 0.0
    assert aging.cycle_capacity_loss(0.0, 298.15, 0.5, 30330.0) == 0.0
    assert aging.power_law_capacity(0.0, 2.0, 0.01, 0.5) == 2.0
