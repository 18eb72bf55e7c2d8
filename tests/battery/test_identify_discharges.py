"""Identification on constant-current discharges beside the pulses: what the pulses leave open, the discharges fix.

The synthetic cell (as conftest's ``true_cell``: R0 2 mOhm, RC pairs 1 mOhm / 20 s
and 1.5 mOhm / 400 s, an OCV knee below SoC 0.1, 10 Ah) is pulse-tested
from full charge down to SoC 0.3 only, so the OCV below is an extrapolation.
A 1C discharge to SoC 0.02 joins the fit; a 2C discharge is held out, as
the Leaf benchmark holds out 3C.
"""

import dataclasses

import numpy as np
import pytest
from synthetic_cell import CAPACITY, hppc_profile, true_cell_model, true_ocv

from twinloop.battery import (
    CellModel,
    TimeSeries,
    identify_cell,
    identify_table,
    simulate,
)
from twinloop.battery.identify import DischargeTest
from twinloop.errors import UnknownNameError, ValidationError

TAUS = (5.0, 20.0, 100.0, 400.0, 1000.0)


def shallow_pulses(true_cell: CellModel) -> TimeSeries:
    """Rest, then per 10 % of SoC down to 0.3: 10 A 30 s, rest, -7.5 A 10 s, 1C for 6 min, 20 min rest."""
    time, current = hppc_profile(levels=7)
    r = simulate(true_cell, time, current, 1.0, max_step=1000.0)
    volts = r.voltage[0] + np.random.default_rng(1).normal(0, 0.001, time.size)
    return TimeSeries(time, current, volts, source="shallow_pulses")


def discharge(true_cell: CellModel, amps: float, seed: int) -> TimeSeries:
    """From full at `amps` to SoC 0.02, then the first rest sample: 1 s for a minute, 20 s after."""
    end = 0.98 * CAPACITY / amps
    time = np.r_[np.arange(0.0, 60.0), np.arange(60.0, end, 20.0), end]
    current = np.r_[np.full(time.size - 1, amps), 0.0]
    r = simulate(true_cell, time, current, 1.0, max_step=1000.0)
    volts = r.voltage[0] + np.random.default_rng(seed).normal(0, 0.001, time.size)
    return TimeSeries(time, current, volts, source=f"discharge_{amps:g}A")


def rmse(cell: CellModel, s: TimeSeries) -> float:
    assert s.voltage is not None
    r = simulate(cell, s.time, s.current, 1.0, max_step=1000.0)
    return float(np.sqrt(np.mean((r.voltage[0][:-1] - s.voltage[:-1]) ** 2)))


@pytest.fixture(scope="module")
def cells() -> dict:
    true_cell = true_cell_model()
    pulses = shallow_pulses(true_cell)
    fit_1c, held_2c = discharge(true_cell, 10.0, 2), discharge(true_cell, 20.0, 3)
    only = identify_cell([pulses], [298.15], capacity=CAPACITY, time_constants=TAUS, ocv_points=21)
    both = identify_cell([pulses], [298.15], capacity=CAPACITY, time_constants=TAUS, ocv_points=21,
                         discharges=[DischargeTest(fit_1c, CAPACITY)])
    return {"truth": true_cell, "pulses": pulses, "1C": fit_1c, "2C": held_2c, "only": only, "both": both}


def test_the_discharge_identifies_the_ocv_the_pulses_never_reached(cells):
    z = np.linspace(0, 1, 21)
    low = z <= 0.2
    err_only = np.abs(cells["only"].tables[0].open_circuit_voltage - true_ocv())[low].max()
    err_both = np.abs(cells["both"].tables[0].open_circuit_voltage - true_ocv())[low].max()
    assert err_only > 0.05  # the pulses stop at SoC 0.3: below it the OCV is the smoothing's extrapolation
    assert err_both < 0.015  # the 1C discharge ran through the knee


def test_the_held_out_2c_discharge_is_predicted_better(cells):
    only, both = rmse(cells["only"], cells["2C"]), rmse(cells["both"], cells["2C"])
    assert both < 0.25 * only
    assert both < 0.01  # 10 mV on a discharge the fit never saw
    assert rmse(cells["both"], cells["1C"]) < 0.005  # and the one it fitted


def test_the_pulses_still_fit_and_the_provenance_says_what_was_used(cells):
    table = cells["both"].tables[0]
    assert table.fit is not None and table.fit.rmse < 0.002  # the quality is that on the pulse test (1 mV noise)
    p = cells["both"].provenance
    assert "discharge_10A" in p["data"] and "shallow_pulses" in p["data"]
    assert "1 constant-current discharge(s)" in p["method"]
    assert p["current_range_a"] == "-7.5 .. 10"
    assert "discharge" not in cells["only"].provenance["method"]


def test_without_discharges_the_tables_are_the_pulse_only_ones(cells):
    again = identify_cell([cells["pulses"]], [298.15], capacity=CAPACITY, time_constants=TAUS, ocv_points=21,
                          discharges=[])
    np.testing.assert_array_equal(again.tables[0].open_circuit_voltage, cells["only"].tables[0].open_circuit_voltage)


def test_a_discharge_joins_the_table_nearest_its_temperature(cells):
    warm = dataclasses.replace(cells["pulses"], source="warm_pulses")
    cell = identify_cell([cells["pulses"], warm], [298.15, 318.15], capacity=CAPACITY, time_constants=TAUS,
                         ocv_points=21, discharges=[DischargeTest(cells["1C"], CAPACITY, temperature=295.0)])
    cold_ocv, warm_ocv = (t.open_circuit_voltage for t in cell.tables)
    # the 25 degC table took the discharge (below the coldest table the model holds it alone: no blend)
    assert np.abs(cold_ocv - true_ocv())[:5].max() < 0.015
    np.testing.assert_array_equal(warm_ocv, cells["only"].tables[0].open_circuit_voltage)  # the 45 degC one did not


def test_identify_table_takes_the_discharges_too(cells):
    table = identify_table(cells["pulses"], 298.15, capacity=CAPACITY, time_constants=TAUS, ocv_points=21,
                           discharges=[DischargeTest(cells["1C"], CAPACITY)])
    np.testing.assert_allclose(table.open_circuit_voltage, cells["both"].tables[0].open_circuit_voltage)


def test_bad_discharges_are_refused_naming_the_field(cells):
    s = cells["1C"]
    with pytest.raises(ValidationError, match="capacity"):
        DischargeTest(s, 10.0 * 0)
    with pytest.raises(ValidationError, match="state_of_charge"):
        DischargeTest(s, CAPACITY, state_of_charge=1.5)
    with pytest.raises(ValidationError, match="temperature"):
        DischargeTest(s, CAPACITY, temperature=25.0)  # degC where K is meant
    with pytest.raises(ValidationError, match="series"):
        DischargeTest(s.current, CAPACITY)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="discharges"):
        identify_cell([cells["pulses"]], [298.15], capacity=CAPACITY, discharges=DischargeTest(s, CAPACITY))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="discharges"):
        identify_cell([cells["pulses"]], [298.15], capacity=CAPACITY, discharges=[s])  # type: ignore[list-item]
    with pytest.raises(UnknownNameError, match="pulse_tables"):
        identify_cell([cells["pulses"]], [298.15], capacity=CAPACITY, pulse_tables=())
