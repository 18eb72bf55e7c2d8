import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinloop.errors import UnknownNameError
from twinloop.signals.units import UNITS, unit_conversion


def test_hand_computed_conversions():
    assert unit_conversion("km/h").apply(36.0) == pytest.approx(10.0)
    assert unit_conversion("percent").apply(55.0) == pytest.approx(0.55)
    assert unit_conversion("Celsius").apply(-40.0) == pytest.approx(233.15)
    assert unit_conversion("rpm").apply(60.0) == pytest.approx(2 * math.pi)
    assert unit_conversion("kWh").apply(1.0) == 3.6e6
    assert unit_conversion("mph").apply(1.0) == pytest.approx(0.44704)


def test_unknown_unit_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="km/h"):
        unit_conversion("kmh")


@pytest.mark.parametrize("unit", sorted(UNITS))
@given(x=st.floats(-1e6, 1e6))
def test_every_unit_round_trips(unit, x):
    conv = UNITS[unit]
    assert np.isclose(conv.invert(conv.apply(x)), x, rtol=1e-12, atol=1e-9)
