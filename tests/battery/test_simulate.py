"""Simulation: hand-computed cases and physical invariants."""

import numpy as np
import pytest

from twinloop.battery import CellModel, CellTable, ThermalParameters, simulate
from twinloop.errors import ValidationError


def _cell(thermal=None):
    t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    return CellModel(3600.0, (t,), 2.5, 4.2, thermal=thermal)


def test_constant_current_hand_computed():
    # U = 3 + z; after 60 s at 1 A: z = 1 - 60/3600, v_rc = 0.005 (1 - e^{-2}), R0 I = 0.01
    r = simulate(_cell(), [0.0, 60.0], [1.0, 1.0], 1.0)
    z = 1 - 60 / 3600
    assert r.state_of_charge[0, 1] == pytest.approx(z)
    assert r.voltage[0, 1] == pytest.approx(3 + z - 0.005 * (1 - np.exp(-2)) - 0.01)


def test_charge_balance_and_rest_recovery():
    t = np.arange(0.0, 2000.0, 5.0)
    amps = np.where(t < 1000, 2.0, 0.0)
    r = simulate(_cell(), t, amps, 0.9)
    assert r.state_of_charge[0, -1] == pytest.approx(0.9 - 2 * 1000 / 3600)
    # after ~30 time constants of rest, terminal voltage equals OCV
    assert r.voltage[0, -1] == pytest.approx(r.open_circuit_voltage[0, -1], abs=1e-9)


def test_thermal_steady_state_matches_energy_balance():
    th = ThermalParameters(heat_capacity=100.0, heat_transfer_coefficient=1.0)
    t = np.arange(0.0, 3000.0, 10.0)
    r = simulate(_cell(th), t, np.full(t.size, 1.0), 0.99, ambient_temperature=298.15)
    # steady heat I^2 (R0 + R1) = 0.015 W over hA = 1 W/K
    assert r.temperature[0, -1] - 298.15 == pytest.approx(0.015, rel=0.02)


def test_fleet_axis_matches_single_runs():
    t = np.arange(0.0, 100.0)
    amps = np.vstack([np.ones(100), -np.ones(100)])
    both = simulate(_cell(), t, amps, [0.5, 0.6])
    one = simulate(_cell(), t, amps[1], 0.6)
    np.testing.assert_allclose(both.voltage[1], one.voltage[0])


def test_polarisation_per_amp_does_not_grow_with_rate(true_cell):
    # The equivalent circuit is linear in current: at the same SoC, a 3C discharge
    # has had less time to polarise than a 1C one, so (U - v) / I is no larger; with
    # heating and resistances falling with temperature it is smaller still. (The
    # Leaf cell shows the opposite at 3C; see docs/battery.md.)
    def per_amp(cell, c_rate, **kw):
        amps = c_rate * 10.0
        t = np.arange(0.0, 0.8 * 3600 / c_rate, 5.0)
        r = simulate(cell, t, np.full(t.size, amps), 1.0, **kw)
        z = r.state_of_charge[0][::-1]
        return np.interp([0.6, 0.4, 0.2], z, ((r.open_circuit_voltage[0] - r.voltage[0]) / amps)[::-1])

    one, three = per_amp(true_cell, 1.0), per_amp(true_cell, 3.0)
    assert np.all(three <= one + 1e-12)
    hot = CellTable(318.15, true_cell.tables[0].open_circuit_voltage, np.full(11, 0.001),
                    np.vstack([np.full(11, 0.0005), np.full(11, 0.00075)]), np.array([20.0, 400.0]), 36000.0)
    warming = CellModel(36000.0, (true_cell.tables[0], hot), 2.9, 4.2, thermal=ThermalParameters(500.0, 0.1))
    assert np.all(per_amp(warming, 3.0, ambient_temperature=298.15) < three)


def test_find_stop_at_the_cut_off_empty_and_full():
    from twinloop.battery.simulate import find_stop

    cell = _cell()  # U = 3 + z, R0 10 mOhm, cut-off 2.5 V, 1 Ah
    t = np.arange(0.0, 1000.0, 100.0)
    r = simulate(cell, t, np.full(t.size, 2.0), 0.3)  # empty after 540 s
    stop = find_stop(r, cell)
    assert (stop.reason, stop.index, stop.time) == ("empty", 6, 600.0)
    assert r.head(stop.index).state_of_charge.min() >= 0 and r.head(stop.index).time[-1] == 500.0
    r = simulate(cell, t, np.full(t.size, 100.0), 0.3)  # 100 A: 3.3 - 1.0 V < 2.5 V at once
    assert find_stop(r, cell).reason == "cut-off" and find_stop(r, cell).index == 0
    r = simulate(cell, t, np.full(t.size, -2.0), 0.7)  # charging: full after 540 s
    stop = find_stop(r, cell)
    assert (stop.reason, stop.time) == ("full", 600.0) and stop.state_of_charge > 1
    assert find_stop(simulate(cell, t, np.full(t.size, 0.5), 1.0), cell) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"state_of_charge": 90.0}, r"state_of_charge: expected a number in \[0, 1\].*90 % is 0.9"),
        ({"state_of_charge": float("nan")}, r"state_of_charge: expected a number in \[0, 1\]"),
        ({"state_of_charge": [0.5, 0.6]}, r"state_of_charge: expected a number or one per cell \(1"),
        ({"ambient_temperature": 25.0}, r"ambient_temperature.*K.*25 degC is 298.15 K"),
        ({"temperature": 25.0}, r"temperature.*25 degC is 298.15 K"),
        ({"current": np.r_[np.nan, np.ones(9)]}, r"current: expected finite numbers, received 'nan at index \(0, 0\)'"),
        ({"time": np.r_[np.nan, np.arange(1.0, 10.0)]}, r"time: expected finite numbers"),
        ({"current": np.ones((2, 2, 10))}, r"current: expected shape \(t,\) or \(n, t\)"),
    ],
)
def test_simulate_misuse_names_the_argument(kwargs, message):
    args = {"time": np.arange(10.0), "current": np.ones(10), "state_of_charge": 0.5} | kwargs
    with pytest.raises(ValidationError, match=message):
        simulate(_cell(), **args)


def test_simulate_past_the_cut_off_runs_on_and_find_stop_says_where():
    from twinloop.battery.simulate import find_stop

    cell = _cell()
    t = np.arange(0.0, 3000.0, 10.0)
    r = simulate(cell, t, np.full(t.size, 2.0), 0.5)
    assert r.time.size == t.size and r.state_of_charge[0, -1] < 0  # documented: no stop inside simulate
    stop = find_stop(r, cell)
    assert stop.reason == "empty" and r.head(stop.index).state_of_charge.min() >= 0
    with pytest.raises(ValidationError, match=r"cell_index.*\[0, 0\]"):
        find_stop(r, cell, cell_index=3)


# ---- a profile run as a cycler runs it: the defaults and the document the command line prints
def test_simulate_profile_stops_where_a_cycler_stops_and_documents_the_run():
    from twinloop.battery import TimeSeries
    from twinloop.battery.simulate import simulate_profile

    cell = _cell()
    t = np.arange(0.0, 800.0, 100.0)
    run = simulate_profile(cell, TimeSeries(t, np.full(t.size, 3.0)), 0.5)
    assert run.stop.reason == "empty" and run.result.time[-1] == 600.0 and run.samples == 8
    assert list(run.columns()) == ["time_s", "current_a", "voltage_v", "soc", "temperature_c"]
    assert run.columns()["temperature_c"][0] == pytest.approx(25.0)
    assert run.metadata() == {"cell": "cell", "soc_start": 0.5, "ambient_c": 25.0,
                              "stopped": {"time_s": 700.0, "reason": "empty"}}
    assert run.stop_note() == ("the simulation stops at time_s=700: the cell is empty (SoC 0) and the profile goes on "
                               "discharging; the output ends at time_s=600 (7 of 8 samples)")


def test_simulate_profile_takes_the_ambient_from_the_profiles_first_temperature():
    from twinloop.battery import TimeSeries
    from twinloop.battery.simulate import simulate_profile

    t = np.arange(0.0, 10.0)
    profile = TimeSeries(t, np.ones(t.size), temperature=np.full(t.size, 23.7 + 273.15))
    run = simulate_profile(_cell(), profile, 0.5)
    assert run.ambient_temperature == pytest.approx(296.85) and run.metadata()["ambient_c"] == 23.7
    assert simulate_profile(_cell(), profile, 0.5, 263.15).metadata()["ambient_c"] == -10.0


def test_simulate_profile_refuses_a_run_that_ends_at_its_first_sample_naming_the_field():
    from twinloop.battery import TimeSeries
    from twinloop.battery.simulate import simulate_profile
    from twinloop.errors import DataError

    resistive = CellModel(3600.0, (CellTable(298.15, [3.0, 4.0], [0.05, 0.05], [[0.005, 0.005]], [30.0], 3600.0),), 2.5, 4.2)
    with pytest.raises(DataError, match=r"current_a 20 A from `state_of_charge` 0.3 gives 2.300 V, below the cell's "
                       r"cut-off 2.5 V; start higher with `state_of_charge`"):
        simulate_profile(resistive, TimeSeries(np.arange(3.0), np.full(3, 20.0)), 0.3)


def test_simulate_profile_refuses_a_logging_gap_with_the_current_held():
    from twinloop.battery import TimeSeries
    from twinloop.battery.simulate import simulate_profile
    from twinloop.errors import DataError

    t = np.r_[np.arange(0.0, 100.0), np.arange(2100.0, 2200.0)]
    with pytest.raises(DataError, match=r"gap of 2001 s in time_s after 99 s with current_a 0.5 A held across it"):
        simulate_profile(_cell(), TimeSeries(t, np.full(t.size, 0.5)), 1.0)
    # a written profile that holds each current for long is no gap: its intervals are all long
    simulate_profile(_cell(), TimeSeries([0.0, 1800.0, 3600.0], [0.5, 0.0, 0.0]), 1.0)


def test_simulate_profile_names_a_time_in_milliseconds():
    from twinloop.battery import TimeSeries
    from twinloop.battery.simulate import simulate_profile
    from twinloop.errors import DataError

    t = np.arange(0.0, 1800.0)  # half an hour at C/2, written in ms: 250 capacities
    with pytest.raises(DataError, match=r"time_s looks like milliseconds: .* 250 times the capacity of this 1 Ah cell.*"
                       r"in steps of 1000 as 1 Hz data reads in ms"):
        simulate_profile(_cell(), TimeSeries(1000 * t, np.full(t.size, 0.5)), 1.0)
    # a profile that asks for more than the cell holds runs to the cut-off: not milliseconds
    t = np.arange(0.0, 4 * 3600.0, 10.0)
    assert simulate_profile(_cell(), TimeSeries(t, np.full(t.size, 1.0)), 1.0).stop.reason in ("cut-off", "empty")
