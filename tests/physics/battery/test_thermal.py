"""Lumped thermal model and Bernardi heat generation."""

import pytest

from twinloop.physics.battery import thermal


def test_bernardi_heat_includes_reversible_term():
    # 100 A discharge, 10 V overpotential, dU/dT = -1 mV/K at 300 K: 1000 + 100*300*1e-3 = 1030 W
    assert thermal.heat_generation(100.0, 360.0, 350.0, 300.0, -1e-3) == pytest.approx(1030.0)
    # charging with the same overpotential magnitude still heats irreversibly
    assert thermal.heat_generation(-100.0, 360.0, 370.0) == pytest.approx(1000.0)


def test_lumped_step_hand_computed_and_relaxes_to_balance():
    # 300 K + 1 s * (100 W - 5 W/K * 10 K) / 1000 J/K = 300.05 K
    assert thermal.lumped_temperature_step(300.0, 100.0, 290.0, 1000.0, 5.0, 1.0) == pytest.approx(300.05)
    t = 300.0
    for _ in range(5000):
        t = thermal.lumped_temperature_step(t, 100.0, 290.0, 1000.0, 5.0, 1.0)
    assert t == pytest.approx(290.0 + 100.0 / 5.0, abs=1e-6)  # T_amb + Q / hA
