"""Identification recovers known parameters; bad records are refused with clear messages."""

import numpy as np
import pytest

from twinloop.battery import TimeSeries, identify_cell, identify_table, simulate
from twinloop.battery.identify import coulomb_state_of_charge, identify_from_tests
from twinloop.errors import CalibrationError, DataError, UnknownNameError, ValidationError


def test_recovers_known_parameters_from_noisy_synthetic_hppc(synthetic_hppc, reference_ocv):
    table = identify_table(synthetic_hppc, 298.15, capacity=36000.0, ocv_points=21)
    # R0: instantaneous step, 1 mV noise on 10 A steps -> within 5 %
    assert np.median(table.ohmic_resistance) == pytest.approx(0.002, rel=0.05)
    # total polarisation resistance within 15 % (the 400 s pair only half relaxes in the rests), time constants on the right decades
    assert np.median(table.rc_resistance.sum(axis=0)) == pytest.approx(0.0025, rel=0.15)
    assert 10 <= table.rc_time_constant[0] <= 40 and 200 <= table.rc_time_constant[1] <= 800
    # OCV within 5 mV where the test visits (SoC 0.05 .. 1)
    z = np.linspace(0, 1, 21)
    visited = z >= 0.05
    assert np.max(np.abs(table.open_circuit_voltage - reference_ocv)[visited]) < 0.005
    assert table.fit.rmse < 0.0015  # noise is 1 mV


def test_identified_model_reproduces_the_record(synthetic_hppc):
    cell = identify_cell([synthetic_hppc], [298.15], capacity=36000.0)
    r = simulate(cell, synthetic_hppc.time, synthetic_hppc.current, 1.0, max_step=1000.0)
    assert np.sqrt(np.mean((r.voltage[0] - synthetic_hppc.voltage) ** 2)) < 0.002


def test_coulomb_soc_hand_computed():
    s = TimeSeries([0.0, 10.0, 20.0, 30.0], [0.0, 1.0, 1.0, 0.0], [4.2, 4.0, 3.5, 3.0])
    soc, q = coulomb_state_of_charge(s)
    assert q == 20.0
    np.testing.assert_allclose(soc, [1.0, 1.0, 0.5, 0.0])


def test_too_few_samples_is_refused():
    s = TimeSeries(np.arange(10.0), np.ones(10), np.linspace(4.2, 3.0, 10))
    with pytest.raises(CalibrationError, match="too few"):
        identify_table(s, 298.15, capacity=10.0)


def test_constant_current_without_pulses_is_unobservable():
    t = np.arange(200.0)
    s = TimeSeries(t, np.ones(200), np.linspace(4.2, 3.0, 200))
    with pytest.raises(CalibrationError, match="no current pulses"):
        identify_table(s, 298.15, capacity=200.0)


def test_record_without_full_charge_is_refused_with_hint():
    # the least-discharged point (start, 3.6 V) is far below the record maximum (4.0 V)
    s = TimeSeries([0.0, 1.0, 2.0, 3.0], [1.0, -0.5, 0.0, 0.0], [3.6, 3.5, 4.0, 3.55])
    with pytest.raises(CalibrationError, match=r"no full charge.*`flip_current`"):
        coulomb_state_of_charge(s)


def test_record_without_cutoff_needs_capacity():
    # the most discharged point (3.55 V) is not the lowest voltage (3.0 V under a pulse)
    s = TimeSeries([0.0, 1.0, 2.0, 3.0], [2.0, 0.0, 1.0, 0.0], [4.2, 3.0, 3.6, 3.55])
    with pytest.raises(CalibrationError, match="`capacity`"):
        coulomb_state_of_charge(s)


def test_stuck_voltage_is_named(synthetic_hppc):
    v = synthetic_hppc.voltage.copy()
    v[100:2000] = v[100]
    s = TimeSeries(synthetic_hppc.time, synthetic_hppc.current, v, source="rig")
    with pytest.raises(DataError, match="voltage_v is stuck"):
        identify_table(s, 298.15, capacity=36000.0)


def test_saturated_voltage_is_named(synthetic_hppc):
    v = np.minimum(synthetic_hppc.voltage, 3.5)
    s = TimeSeries(synthetic_hppc.time, synthetic_hppc.current, v)
    with pytest.raises(DataError, match="saturated"):
        identify_table(s, 298.15, capacity=36000.0)


def test_sensor_gap_is_named():
    with pytest.raises(DataError, match=r"voltage_v.*missing.*row 3"):
        TimeSeries([0.0, 1.0, 2.0], [0.0, 1.0, 1.0], [4.0, 3.9, np.nan])


def test_time_gap_is_named(synthetic_hppc):
    with pytest.raises(DataError, match="gap of"):
        synthetic_hppc.check_gaps(5.0)


def test_identified_model_records_the_currents_it_was_identified_on(synthetic_hppc):
    cell = identify_cell([synthetic_hppc], [298.15], capacity=36000.0)
    # the synthetic HPPC pulses: -7.5 A (charge) to 10 A (discharge); beyond that the model extrapolates
    assert cell.provenance["current_range_a"] == "-7.5 .. 10"
    assert type(cell).from_toml(cell.to_toml()).provenance["current_range_a"] == "-7.5 .. 10"


# ---------------------------------------------------------------- misuse from a notebook

def test_identify_table_refuses_a_flipped_current_sign_naming_the_api_fix(synthetic_hppc):
    s = TimeSeries(synthetic_hppc.time, -synthetic_hppc.current, synthetic_hppc.voltage, source="rig")
    with pytest.raises(DataError, match=r"discharge negative; pass `flip_current`"):
        identify_table(s, 298.15)


def test_identify_table_refuses_a_current_in_ma(synthetic_hppc):
    # 1/100 of the amperes would still pass TimeSeries' range; read as mA the cell holds ~1000 Ah... here 3850 Ah
    s = TimeSeries(synthetic_hppc.time, synthetic_hppc.current * 100, synthetic_hppc.voltage)
    with pytest.raises(DataError, match=r"more than one cell holds.*current_a must be in amperes"):
        identify_table(s, 298.15)


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        (10.0, r"3600 C for this 0.00278 Ah cell.*or `capacity` is too small"),  # Ah, not A s
        (3600.0, r"capacity in synthetic_hppc: expected a capacity between 3.08e\+04 and 7.69e\+04 A s.*received 3600"),
        (360000.0, r"far above the charge the test draws.*which is in A s"),
        (float("nan"), r"capacity.*finite number > 0 A s"),
        ("36000", r"capacity.*finite number > 0 A s"),
    ],
)
def test_identify_table_refuses_a_capacity_far_from_the_charge_drawn(synthetic_hppc, capacity, message):
    with pytest.raises((DataError, ValidationError), match=message):
        identify_table(synthetic_hppc, 298.15, capacity=capacity)


def test_identify_table_refuses_a_temperature_in_celsius(synthetic_hppc):
    with pytest.raises(ValidationError, match=r"temperature.*\[173.15, 373.15\] K.*25 degC is 298.15 K"):
        identify_table(synthetic_hppc, 25.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ocv_points": 1}, r"ocv_points.*integer >= 2"),
        ({"resistance_points": 0}, r"resistance_points.*integer >= 2"),
        ({"smoothing": -1.0}, r"smoothing.*>= 0"),
        ({"time_constants": [float("nan"), 10.0, 100.0]}, r"time_constants.*finite values > 0 s"),
        ({"time_constants": 10.0}, r"time_constants.*at least 2"),
        ({"state_of_charge": 1.5, "capacity": 36000.0}, r"state_of_charge.*\[0, 1\]"),
        ({"state_of_charge": 0.0}, r"state_of_charge.*> 0 when the capacity comes from the record"),
    ],
)
def test_identify_table_bad_options_name_the_argument(synthetic_hppc, options, message):
    with pytest.raises(ValidationError, match=message):
        identify_table(synthetic_hppc, 298.15, **options)


def test_identify_cell_with_one_series_or_a_scalar_temperature_says_how(synthetic_hppc):
    with pytest.raises(ValidationError, match=r"identify_cell\(\[series\], \[temperature\]\)"):
        identify_cell(synthetic_hppc, [298.15])
    with pytest.raises(ValidationError, match=r"temperatures: expected a list of temperatures \[K\]"):
        identify_cell([synthetic_hppc], 298.15)
    with pytest.raises(ValidationError, match=r"temperatures\[0\].*25 degC is 298.15 K"):
        identify_cell([synthetic_hppc], [25.0])


def test_identify_cell_unknown_option_suggests_the_close_name(synthetic_hppc):
    with pytest.raises(UnknownNameError, match=r"unknown identify_table option 'smoothign'; did you mean 'smoothing'"):
        identify_cell([synthetic_hppc], [298.15], smoothign=1.0)


def test_timeseries_with_text_or_celsius_names_the_column():
    with pytest.raises(DataError, match=r"current_a: not numbers"):
        TimeSeries([0.0, 1.0], ["a", "b"], [4.0, 3.9])
    with pytest.raises(ValidationError, match=r"TimeSeries.temperature is in kelvin.*25 degC is 298.15 K"):
        TimeSeries([0.0, 1.0], [0.0, 1.0], [4.0, 3.9], [25.0, 25.0])


# ---------------------------------------------------------------- defects of the hostile review

def _with_rows_missing(series, start, length):
    """`series` without the samples in (start, start + length): a logger that stopped."""
    keep = (series.time <= start) | (series.time >= start + length)
    return TimeSeries(series.time[keep], series.current[keep], series.voltage[keep], source=series.source)


def test_identify_refuses_a_logging_gap_with_the_current_held_across_it(synthetic_hppc):
    # 2000 s of rows missing from a 1C discharge: held across the gap, 10 A would count 5.6 Ah nobody measured
    start = float(synthetic_hppc.time[np.flatnonzero(synthetic_hppc.current == 10.0)[200]])
    gappy = _with_rows_missing(synthetic_hppc, start, 2000.0)
    with pytest.raises(DataError, match=rf"gap of 20\d\d s in time_s after {start:g} s with current_a 10 A held across "
                       r"it .*longest interval allowed with current flowing is 600 s"):
        identify_table(gappy, 298.15)
    with pytest.raises(DataError, match="gap of"):
        identify_from_tests([gappy])


def test_identify_refuses_a_logging_gap_where_the_current_may_have_started_unseen(synthetic_hppc):
    # the gap begins at rest and ends in a discharge: when the discharge began is unknown
    rest = np.flatnonzero((synthetic_hppc.current == 0.0) & (synthetic_hppc.time > 5000))[0]
    start = float(synthetic_hppc.time[rest])
    after = float(synthetic_hppc.time[np.flatnonzero((synthetic_hppc.current == 10.0) & (synthetic_hppc.time > start + 1500))[0]])
    gappy = _with_rows_missing(synthetic_hppc, start, after - start)
    with pytest.raises(DataError, match=rf"after {start:g} s with current_a 0 A before it and 10 A after it"):
        identify_table(gappy, 298.15)


def test_identify_names_a_time_in_milliseconds(synthetic_hppc):
    ms = TimeSeries(synthetic_hppc.time * 1000, synthetic_hppc.current, synthetic_hppc.voltage, source="rig")
    # the charge reads 1000 times too high at a thousandth of the rate: not a current in mA
    with pytest.raises(DataError, match=r"rig: time_s looks like milliseconds: the test draws 1.068e\+04 Ah from its "
                       r"full state at a peak current_a of 10 A, a peak rate of 0.00094 C"):
        identify_table(ms, 298.15)
    with pytest.raises(DataError, match=r"time_s looks like milliseconds"):
        identify_table(ms, 298.15, capacity=36000.0)


def test_identify_from_tests_takes_each_tests_mean_temperature_else_25_c(synthetic_hppc):
    warm = TimeSeries(synthetic_hppc.time, synthetic_hppc.current, synthetic_hppc.voltage,
                      np.full(synthetic_hppc.time.size, 313.15), source="warm")
    cell = identify_from_tests([warm, synthetic_hppc], capacity=36000.0, n_rc=1)
    assert [t.temperature for t in cell.tables] == [298.15, 313.15]


def test_identify_from_tests_checks_every_test_before_fitting_and_names_fields(synthetic_hppc):
    flipped = TimeSeries(synthetic_hppc.time, -synthetic_hppc.current, synthetic_hppc.voltage, source="rig")
    with pytest.raises(DataError, match=r"discharge negative; pass `flip_current`"):
        identify_from_tests([synthetic_hppc, flipped], [298.15, 308.15])
    with pytest.raises(ValidationError, match=r"capacity in synthetic_hppc: expected a capacity between 8.54 and 21.4 Ah.*"
                       r"received 1000.0. The capacity given is far above the charge the test draws \(1000 Ah against "
                       r"10.7 Ah\): check `capacity`, which is in Ah"):
        identify_from_tests([synthetic_hppc], capacity=1000.0 * 3600, capacity_unit="Ah")
    with pytest.raises(ValidationError, match=r"identify_cell\(\[series\], \[temperature\]\)"):
        identify_from_tests(synthetic_hppc)
