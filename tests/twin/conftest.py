"""Synthetic trips for the twin tests: feature tables with plausible, varied driving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from twinloop.learn.features import FEATURES


def synthetic_trips(n: int, seed: int = 0, start: str = "2024-01-01") -> pd.DataFrame:
    """`n` trips (rows) with every feature column, one per 6 hours from `start` (UTC).

    Values span the standard cycles (UDDS to US06: kinetic terms 0.07 to
    0.21 J/(kg m), mean cubed speed 1.1 to 3.1 times the squared mean speed)
    and a little beyond: mean speed 6-30 m/s, some hills, ambient -10 to 30 degC.
    """
    rng = np.random.default_rng(seed)
    distance = rng.uniform(2e3, 40e3, n)
    mean_speed = rng.uniform(6.0, 30.0, n)
    positive = rng.uniform(0.05, 0.25, n)
    climb = rng.uniform(0.0, 0.15, n)
    frame = pd.DataFrame(
        {
            "distance": distance,
            "duration": distance / mean_speed,
            "mean_speed": mean_speed,
            "mean_cubed_speed": mean_speed**2 * rng.uniform(1.1, 3.0, n),
            "positive_kinetic": positive,
            "negative_kinetic": positive * rng.uniform(0.7, 1.0, n),
            "climb": climb,
            "descent": climb * rng.uniform(0.5, 1.2, n),
            "stop_fraction": rng.uniform(0.0, 0.3, n),
            "ambient_temperature": rng.uniform(263.15, 303.15, n),
        },
        index=pd.date_range(start, periods=n, freq="6h", tz="UTC"),
    )
    # most of the energy lost is lost braking; a little of it in gentle slowing and descents
    gentle = rng.uniform(0.0, 0.03, n)
    frame.insert(8, "traction_energy", frame["positive_kinetic"] + frame["climb"] - gentle)
    frame.insert(9, "braking_energy", braking := frame["negative_kinetic"] + frame["descent"] - gentle)
    # the distance coasting or braking, at 0.8 of the mean speed, sized so that a compact car's
    # road load there (140 N + 0.35 v^2 for 1,800 kg) takes 10-40 % of the energy lost
    share = braking * rng.uniform(0.1, 0.4, n) * 1800.0 / (140.0 + 0.35 * (0.8 * mean_speed) ** 2)
    frame.insert(10, "decel_share", share)
    frame.insert(11, "decel_speed", share * 0.8 * mean_speed)
    frame.insert(12, "decel_squared_speed", share * (0.8 * mean_speed) ** 2)
    assert list(frame.columns) == list(FEATURES)
    return frame


@pytest.fixture
def trips():
    """The :func:`synthetic_trips` factory."""
    return synthetic_trips
