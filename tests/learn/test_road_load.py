"""The road-load physics term, by hand."""

import numpy as np
import pandas as pd
import pytest

from twinloop.errors import ValidationError
from twinloop.learn import (
    FEATURES,
    HybridConsumptionRegressor,
    road_load_consumption,
    trip_features,
)


def _trip() -> dict[str, float]:
    # 0 -> 10 m/s in 1 s, 10 m/s for 98 s, 10 -> 0 m/s in 1 s: 990 m in 100 s, on a 2 % climb.
    t = np.arange(101.0)
    v = np.full_like(t, 10.0)
    v[0] = v[-1] = 0.0
    return trip_features(t, v, road_grade=0.02, ambient_temperature=293.15)


def test_road_load_consumption_hand_computed():
    f = _trip()
    assert f["distance"] == pytest.approx(990.0)
    # mean cubed speed: (98 s * 1000 + 2 s * 125) m3/s3 / 990 m
    assert f["mean_cubed_speed"] == pytest.approx(98_250 / 990)
    # kinetic energy 50 J/kg gained once and lost once; height 990 m * sin(atan(0.02)) gained
    assert f["positive_kinetic"] == pytest.approx(50 / 990)
    rise = 990 * np.sin(np.arctan(0.02))
    assert f["climb"] == pytest.approx(9.80665 * rise / 990)
    # the last second (5 m at a mean 5 m/s) brakes: its 50 J/kg less the 5 m of climb in it are
    # lost, and that energy pays the step's own road load
    assert (f["decel_share"], f["decel_speed"], f["decel_squared_speed"]) == pytest.approx((5 / 990, 25 / 990, 125 / 990))
    last_climb = 9.80665 * 5 * np.sin(np.arctan(0.02))
    assert f["braking_energy"] == pytest.approx((50 - last_climb) / 990)
    assert f["traction_energy"] == pytest.approx((50 + 9.80665 * rise - last_climb) / 990)
    m, a, b, c, eta, eta_r, aux = 1500.0, 150.0, 2.0, 0.4, 0.8, 0.6, 300.0
    paid = (a * 5 + b * 25 + c * 125) / 990
    traction = a + b * (990 / 100) + c * 98_250 / 990 - paid + m * (50 + 9.80665 * rise - last_climb) / 990
    recovered = m * (50 - last_climb) / 990 - paid
    expected = traction / eta - eta_r * recovered + aux * 100 / 990
    got = road_load_consumption(f, m, (a, b, c), eta, eta_r, aux)
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_hybrid_physics_term_is_the_road_load_form():
    X = pd.DataFrame([_trip(), _trip()], columns=list(FEATURES))
    X.loc[1, "ambient_temperature"] = 270.0
    hybrid = HybridConsumptionRegressor(
        test_mass=1500.0, coastdown_a=150.0, coastdown_b=2.0, coastdown_c=0.4,
        drivetrain_efficiency=0.8, regen_efficiency=0.6, auxiliary_power=300.0,
    ).fit(X, [500.0, 700.0])
    expected = road_load_consumption(X, 1500.0, (150.0, 2.0, 0.4), 0.8, 0.6, 300.0)
    np.testing.assert_allclose(hybrid.predict_physics(X), expected, rtol=1e-12)


def test_hybrid_from_spec_takes_the_spec_constants(leaf):
    hybrid = HybridConsumptionRegressor.from_spec(leaf, drivetrain_efficiency=0.85)
    a, b, c = leaf.effective_coastdown
    assert (hybrid.test_mass, hybrid.coastdown_a, hybrid.coastdown_b, hybrid.coastdown_c) == (leaf.test_mass, a, b, c)
    assert hybrid.auxiliary_power == leaf.auxiliary_power
    assert hybrid.drivetrain_efficiency == 0.85


def test_missing_physics_column_is_named():
    f = _trip()
    del f["braking_energy"]
    with pytest.raises(ValidationError, match="missing braking_energy"):
        road_load_consumption(f, 1500.0, (150.0, 0.0, 0.4), 0.8, 0.6, 300.0)


def test_zero_distance_is_refused():
    f = {**_trip(), "distance": 0.0}
    with pytest.raises(ValidationError, match="distance"):
        road_load_consumption(f, 1500.0, (150.0, 0.0, 0.4), 0.8, 0.6, 300.0)


_CONSTANTS = {"test_mass": 1500.0, "coastdown": (150.0, 0.0, 0.4), "drivetrain_efficiency": 0.8,
              "regen_efficiency": 0.6, "auxiliary_power": 300.0}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("drivetrain_efficiency", 0.0, r"\(0, 1\]"),
        ("drivetrain_efficiency", 90.0, r"\(0, 1\]"),
        ("regen_efficiency", 1.5, r"\[0, 1\]"),
        ("test_mass", -1500.0, "> 0 kg"),
        ("auxiliary_power", np.inf, ">= 0 W"),
        ("coastdown", (150.0, 0.0), r"A \[N\], B \[N s m-1\], C \[N s2 m-2\]"),
        ("coastdown", 150.0, "A"),
    ],
)
def test_out_of_range_constant_is_named(name, value, expected):
    with pytest.raises(ValidationError, match=rf"{name}: expected .*{expected}"):
        road_load_consumption(_trip(), **{**_CONSTANTS, name: value})


def test_nan_duration_is_refused_not_returned_as_nan():
    with pytest.raises(ValidationError, match="duration: expected finite numbers"):
        road_load_consumption({**_trip(), "duration": np.nan}, **_CONSTANTS)


def test_columns_of_different_lengths_are_refused():
    f = {**_trip(), "distance": [990.0, 990.0], "duration": [100.0, 100.0, 100.0]}
    with pytest.raises(ValidationError, match="columns of one length"):
        road_load_consumption(f, **_CONSTANTS)
