"""Shared fixtures for the whole suite."""

from __future__ import annotations

import pytest

from twinloop.parameters.spec import VehicleSpec


@pytest.fixture
def compact_car() -> VehicleSpec:
    """A mid-size BEV in physical road-load form (numbers chosen for hand checks)."""
    return VehicleSpec(
        "compact",
        test_mass=1800.0,
        motor_peak_power=150e3,
        battery_energy=75 * 3.6e6,
        drag_coefficient=0.25,
        frontal_area=2.3,
        rolling_resistance_coefficient=0.008,
    )
