"""Tyres: the SAE J2452 pressure term of rolling resistance, hand-computed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.physics.tyres import PRESSURE_EXPONENT, rolling_resistance_pressure_factor


def test_twenty_percent_underinflation_hand_computed():
    # (200 / 250) ** -0.4 = 0.8 ** -0.4 = exp(0.4 ln 1.25) = 1.09340
    assert rolling_resistance_pressure_factor(200e3, 250e3) == pytest.approx(1.0934, abs=1e-4)
    assert rolling_resistance_pressure_factor(250e3, 200e3) == pytest.approx(0.8**0.4, rel=1e-12)
    assert PRESSURE_EXPONENT == -0.4


def test_vectorised_and_the_reference_pressure_gives_one():
    p = np.array([150e3, 250e3, 300e3])
    out = rolling_resistance_pressure_factor(p, 250e3)
    assert out.shape == (3,) and out[1] == 1.0
    assert out[0] > 1.0 > out[2]  # a softer tyre rolls harder


@given(st.floats(50e3, 400e3), st.floats(50e3, 400e3), st.floats(-0.6, -0.2))
def test_the_factor_there_and_back_is_one(p, q, alpha):
    there = rolling_resistance_pressure_factor(p, q, alpha)
    back = rolling_resistance_pressure_factor(q, p, alpha)
    assert there * back == pytest.approx(1.0, rel=1e-12)
