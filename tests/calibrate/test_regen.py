"""The regenerative power cap read from a vehicle's own telemetry."""

from __future__ import annotations

import numpy as np
import pytest

from twinloop.calibrate import regen_power_limit
from twinloop.cycles import Cycle, load_cycle
from twinloop.errors import ValidationError
from twinloop.parameters import resolve_vehicle
from twinloop.sim import Scenario, simulate


def test_a_plateau_is_the_limit_and_a_single_touch_is_not():
    t = np.arange(0.0, 60.0, 0.5)
    plateau = np.where((t >= 10) & (t < 14), -20e3, np.where(t == 30, -25e3, 5e3))
    # 4 s at 20 kW, but one sample at 25 kW: the peak is the touch, which is not a plateau
    assert regen_power_limit([(t, plateau)], 0.8) is None
    flat = np.where((t >= 10) & (t < 14), -20e3, 5e3)
    assert regen_power_limit([(t, flat)], 0.8) == pytest.approx(25e3)


def test_time_at_the_limit_adds_up_over_trips():
    t = np.arange(0.0, 10.0, 1.0)
    one = np.where(t == 3, -30e3, 1e3)
    two = np.where((t == 4) | (t == 5), -30e3, 1e3)
    assert regen_power_limit([(t, one)], 1.0) is None  # 1 s
    assert regen_power_limit([(t, one), (t, two)], 1.0) == pytest.approx(30e3)  # 3 s


def test_the_cap_of_a_simulated_car_is_found_where_its_braking_reaches_it():
    car = resolve_vehicle("tesla_model_3_long_range_2022").with_changes(regen_max_power=30e3)
    r = simulate(car, Scenario(load_cycle("us06"), hvac="off"), record=True)
    assert r.series is not None
    power = r.series["battery_voltage"][0] * r.series["battery_current"][0]
    # the battery sees the shaft's 30 kW less the motor's and inverter's losses (about 0.95 of it here), and
    # the drive efficiency given (0.9) stands in for theirs: within the difference
    limit = regen_power_limit([(r.time, power)], 0.9)
    assert limit == pytest.approx(30e3, rel=0.08)
    udds = load_cycle("udds")  # at half speed, braking never asks for 30 kW
    slow = Cycle("half udds", udds.time, 0.5 * udds.vehicle_speed, udds.road_grade)
    gentle = simulate(car, Scenario(slow, hvac="off"), record=True)
    assert gentle.series is not None
    assert regen_power_limit([(gentle.time, gentle.series["battery_voltage"][0] * gentle.series["battery_current"][0])],
                             0.9) is None


@pytest.mark.parametrize("eta", [0.0, 1.2, float("nan")])
def test_an_impossible_efficiency_is_refused(eta):
    with pytest.raises(ValidationError, match="drive_efficiency"):
        regen_power_limit([(np.arange(3.0), np.zeros(3))], eta)
