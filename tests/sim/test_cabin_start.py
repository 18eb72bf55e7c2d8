"""The cabin's start temperature: a cabin pre-conditioned while plugged in, or soaked at ambient.

``Scenario(cabin_temperature_start=...)`` starts the kernel's cabin there, as
``battery_temperature_start`` starts the pack. A resistive heater (COP 1)
holding a cabin at its set point draws UA (T_set - T_amb) and nothing more
(:func:`twinloop.physics.cabin.hvac_heat_demand` with T = T_set): the hand
check of the tests below.
"""

from __future__ import annotations

import numpy as np
import pytest

from twinloop.cycles import load_cycle
from twinloop.errors import ValidationError
from twinloop.sim import BREAKDOWN_KEYS, Scenario, simulate

UDDS = load_cycle("udds")
COLD, MILD = 263.15, 293.15  # -10 °C, 20 °C


def test_a_cabin_started_at_its_set_point_on_a_cold_day_draws_only_what_holds_it_there(compact_car):
    setpoint = compact_car.cabin_setpoint
    soaked = simulate(compact_car, Scenario(UDDS, ambient_temperature=COLD), record=True)
    warm = simulate(compact_car, Scenario(UDDS, ambient_temperature=COLD, cabin_temperature_start=setpoint),
                    record=True)
    assert warm.series is not None and soaked.series is not None
    # held, not warmed: UA (T_set - T_amb) = 90 W/K x 31 K = 2790 W for the whole cycle, at COP 1
    held = compact_car.cabin_conductance * (setpoint - COLD) * UDDS.duration
    assert float(warm.breakdown["hvac"][0]) == pytest.approx(held, rel=1e-9)
    np.testing.assert_allclose(warm.series["cabin_temperature"][0], setpoint, rtol=0, atol=1e-9)
    assert soaked.series["cabin_temperature"][0, 0] == COLD
    # the soaked cabin's warm-up is what pre-conditioning spares the battery
    assert float(soaked.breakdown["hvac"][0]) > held + 0.5 * compact_car.cabin_heat_capacity * (setpoint - COLD)
    assert warm.battery_energy[0] < soaked.battery_energy[0]
    total = sum(warm.breakdown[k] for k in BREAKDOWN_KEYS)
    np.testing.assert_allclose(total, warm.battery_energy, rtol=1e-9)


def test_a_cabin_started_at_its_set_point_in_mild_weather_changes_no_energy(compact_car):
    # "auto" climate control is off at 20 °C: the cabin only drifts towards ambient
    soaked = simulate(compact_car, Scenario(UDDS, ambient_temperature=MILD))
    warm = simulate(compact_car, Scenario(UDDS, ambient_temperature=MILD,
                                          cabin_temperature_start=compact_car.cabin_setpoint))
    assert warm.breakdown["hvac"][0] == soaked.breakdown["hvac"][0] == 0.0
    for name in ("battery_energy", "soc_end", "battery_temperature_end", "distance"):
        np.testing.assert_array_equal(getattr(warm, name), getattr(soaked, name))
    assert soaked.cabin_temperature_end[0] == pytest.approx(MILD)
    assert MILD < warm.cabin_temperature_end[0] < compact_car.cabin_setpoint


def test_the_default_is_the_ambient(compact_car):
    default = simulate(compact_car, Scenario(UDDS, ambient_temperature=COLD))
    at_ambient = simulate(compact_car, Scenario(UDDS, ambient_temperature=COLD, cabin_temperature_start=COLD))
    np.testing.assert_array_equal(default.battery_energy, at_ambient.battery_energy)


def test_a_start_temperature_per_vehicle_is_each_vehicles_own(compact_car):
    fleet = [compact_car, compact_car.with_changes(name="b")]
    both = simulate(fleet, Scenario(UDDS, ambient_temperature=COLD,
                                    cabin_temperature_start=[COLD, compact_car.cabin_setpoint]))
    alone = [simulate(compact_car, Scenario(UDDS, ambient_temperature=COLD, cabin_temperature_start=t))
             for t in (COLD, compact_car.cabin_setpoint)]
    np.testing.assert_allclose(both.battery_energy, [float(r.battery_energy[0]) for r in alone], rtol=1e-12)
    with pytest.raises(ValidationError, match=r"^cabin_temperature_start: expected one number, or 2 .* '3 values'"):
        simulate(fleet, Scenario(UDDS, cabin_temperature_start=[COLD] * 3))


@pytest.mark.parametrize(("value", "received"), [(-10.0, "-10.0"), (21.0, "21.0"), (400.0, "400.0"),
                                                 (float("nan"), "nan"), ([294.15, 100.0], "100.0")])
def test_a_start_temperature_out_of_range_names_field_range_and_value(value, received):
    with pytest.raises(ValidationError) as err:
        Scenario(UDDS, cabin_temperature_start=value)  # Celsius given for kelvin, or none at all
    assert err.value.field == "cabin_temperature_start"
    assert str(err.value).startswith(f"cabin_temperature_start: expected a number in [223.15, 353.15] K, "
                                     f"received {received}")


@pytest.mark.parametrize("value", ["294.15", True, np.zeros((2, 1))])
def test_a_start_temperature_as_text_boolean_or_2d_array_is_refused(value):
    with pytest.raises(ValidationError, match=r"^cabin_temperature_start: expected a number, or a 1-D array"):
        Scenario(UDDS, cabin_temperature_start=value)


def test_on_the_dynamometer_the_cabin_starts_soaked():
    with pytest.raises(ValidationError, match=r"^cabin_temperature_start: expected a number in \[296.15, 298.15\] K "
                                              r"\(23 to 25 °C\) for the dynamometer condition, received 310.0"):
        Scenario(UDDS, condition="dynamometer", cabin_temperature_start=310.0)
    assert Scenario(UDDS, condition="dynamometer", cabin_temperature_start=297.0).cabin_temperature_start == 297.0
