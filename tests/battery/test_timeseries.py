"""Reading a cell's time series: repeated times at current steps, times that go back, logging gaps."""

import numpy as np
import pytest

from twinloop.battery import TimeSeries, read_timeseries
from twinloop.errors import DataError, ValidationError


def _csv(tmp_path, rows, header="time_s,current_a,voltage_v"):
    path = tmp_path / "cycler.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_a_repeated_time_at_a_current_step_keeps_the_row_after_the_step(tmp_path):
    # a cycler's export: the end of the 2 A step and the start of the rest both at 2 s, then 1 A at 4 s
    path = _csv(tmp_path, ["0,2,3.9", "1,2,3.88", "2,2,3.86", "2,0,3.95", "3,0,3.96", "4,0,3.96", "4,1,3.91", "5,1,3.90"])
    s = read_timeseries(path)
    assert s.time.tolist() == [0, 1, 2, 3, 4, 5]
    assert s.current.tolist() == [2, 2, 0, 0, 1, 1]  # from 2 s the rest, from 4 s the 1 A step
    assert s.voltage.tolist() == [3.9, 3.88, 3.95, 3.96, 3.91, 3.90]
    assert s.repeated_times == 2
    assert s.notes == (
        f"{path}: time_s repeats at 2 current step(s), the first at time_s=2 (rows 3 and 4); the row after each "
        "step is kept and the 2 row(s) before left out",
    )
    # the charge the kept rows count is the charge the cycler delivered: 2 A for 2 s, 1 A for 1 s
    assert float(np.sum(s.current[:-1] * np.diff(s.time))) == 5.0


def test_a_record_without_repeated_times_is_read_as_it_is(tmp_path):
    s = read_timeseries(_csv(tmp_path, ["0,1,3.7", "1,1,3.69"]))
    assert s.repeated_times == 0 and s.notes == ()


def test_a_repeated_time_without_a_current_step_is_refused(tmp_path):
    path = _csv(tmp_path, ["0,1,3.7", "1,1,3.69", "1,1,3.69", "2,0,3.8"])
    with pytest.raises(
        ValidationError,
        match=r"time_s in .*cycler.csv: expected strictly increasing values, or a time repeated at a current step "
        r"\(where the row after the step is kept\): current_a changing by at least 0.5% of its largest value, "
        r"received '1 at rows 2 and 3 with current_a 1 A, then 1 A'. Remove the duplicated row",
    ):
        read_timeseries(path)


def test_a_repeated_time_with_only_sensor_noise_on_the_current_is_no_step(tmp_path):
    path = _csv(tmp_path, ["0,10,3.7", "1,10.001,3.69", "1,10.002,3.69", "2,0,3.8"])
    with pytest.raises(ValidationError, match=r"received '1 at rows 2 and 3 with current_a 10.001 A, then 10.002 A'"):
        read_timeseries(path)


def test_a_time_that_goes_back_is_refused_with_its_row_in_the_file(tmp_path):
    # a repeated time at a step comes first; the row numbers still count every row of the file
    path = _csv(tmp_path, ["0,1,3.7", "1,1,3.69", "1,0,3.75", "2,0,3.76", "1.5,0,3.76"])
    with pytest.raises(ValidationError, match=r"time_s in .*: expected strictly increasing values, received '1.5 after 2.0 at row 5'"):
        read_timeseries(path)


def test_rows_left_out_at_a_step_do_not_shift_the_row_an_error_names(tmp_path):
    # one row left out before the bad voltage: the message must still say row 5 of the file
    path = _csv(tmp_path, ["0,1,3.7", "1,1,3.69", "1,0,3.75", "2,0,3.76", "3,0,42"])
    with pytest.raises(ValidationError, match=r"voltage_v \(row 5\) in .*: expected a number in \[0, 10\] V per cell, received 42.0"):
        read_timeseries(path)
    path = _csv(tmp_path, ["0,1,3.7", "1,1,3.69", "1,0,3.75", "2,0,3.76", "3,0,"])
    with pytest.raises(DataError, match=r"voltage_v in .*: 1 missing or non-numeric value\(s\), the first at row 5"):
        read_timeseries(path)


def test_a_repeated_time_with_temperature_keeps_the_temperature_of_the_row_after_the_step(tmp_path):
    path = _csv(tmp_path, ["0,1,3.7,25", "1,1,3.69,25.5", "1,0,3.75,25.4", "2,0,3.76,25.3"],
                header="time_s,current_a,voltage_v,temperature_c")
    s = read_timeseries(path, flip_current=True)
    assert s.current.tolist() == [-1, 0, 0]
    np.testing.assert_allclose(s.temperature, [298.15, 298.55, 298.45])


# ---- logging gaps: the current held across a gap counts charge nobody measured
def test_a_logging_gap_with_the_current_held_is_refused_naming_where_how_long_and_the_limit():
    t = np.r_[np.arange(0.0, 100.0), np.arange(2100.0, 2200.0)]
    s = TimeSeries(t, np.full(t.size, 2.0), source="rig")
    with pytest.raises(
        DataError,
        match=r"rig: gap of 2001 s in time_s after 99 s with current_a 2 A held across it \(1.11 Ah counted that "
        r"nobody measured; the longest interval allowed with current flowing is 600 s: 10 median intervals of 1 s, "
        r"at least 600 s\)",
    ):
        s.check_logging_gaps()


def test_a_rest_across_a_gap_is_harmless_and_a_gap_before_a_step_is_refused_only_when_strict():
    t = np.r_[np.arange(0.0, 100.0), np.arange(2100.0, 2200.0)]
    amps = np.where(t < 50, 2.0, 0.0)
    TimeSeries(t, amps).check_logging_gaps(strict=True)  # at rest on both sides
    amps = np.where(t < 2100, 0.0, 2.0)  # at rest before, 2 A after: a car that parked, or a step in the gap
    TimeSeries(t, amps).check_logging_gaps()
    with pytest.raises(DataError, match=r"gap of 2001 s in time_s after 99 s with current_a 0 A before it and 2 A after it"):
        TimeSeries(t, amps).check_logging_gaps(strict=True)


def test_a_slow_log_interval_throughout_is_no_gap():
    # a cycler logging a slow discharge every 15 minutes: the median interval is the log interval
    t = np.arange(0.0, 36000.0, 900.0)
    TimeSeries(t, np.ones(t.size)).check_logging_gaps(strict=True)
