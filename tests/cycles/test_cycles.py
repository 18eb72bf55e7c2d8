"""Drive cycles: bundled data and user traces."""

import re

import numpy as np
import pytest

from twinloop.cycles import Cycle, bundled_cycles, load_cycle
from twinloop.errors import TraceError, UnknownNameError, ValidationError


@pytest.mark.parametrize("name", sorted(bundled_cycles()))
def test_every_bundled_cycle_loads(name):
    c = load_cycle(name)
    assert c.is_uniform() and c.time[0] == 0 and np.all(c.vehicle_speed >= 0)


def test_regulatory_distances():
    # UDDS 7.45 mi, HWFET 10.26 mi, WLTC 3b 23.27 km
    assert load_cycle("udds").distance == pytest.approx(7.45 * 1609.344, rel=0.002)
    assert load_cycle("hwfet").distance == pytest.approx(10.26 * 1609.344, rel=0.002)
    assert load_cycle("wltc_3b").distance == pytest.approx(23266, rel=0.001)


def test_unknown_cycle_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="udds"):
        load_cycle("udd")


def test_user_trace_in_kph_with_grade_and_resampling(tmp_path):
    f = tmp_path / "trip.csv"
    f.write_text("time_s,speed_kph,grade_pct\n0,0,0\n2,36,1\n4,36,2\n")
    c = load_cycle(f)
    np.testing.assert_allclose(c.vehicle_speed, [0, 10, 10])
    np.testing.assert_allclose(c.road_grade, [0, 0.01, 0.02])
    r = c.resample(1.0)
    np.testing.assert_allclose(r.vehicle_speed, [0, 5, 10, 10, 10])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time_s,speed_mps\n0,0\n2,1\n1,2\n", "time must increase"),
        ("time_s,speed_mps\n0,0\n1,-3\n", "speed must be"),
        ("time_s,speed_mps\n0,0\n1,nan\n", r"column 'speed_mps' row 3 is not a number \(nan\)$"),
        ("time_s,speed_mps\n0,0\n1,\n", r"column 'speed_mps' row 3 is not a number \(empty\)$"),
        ("time_s,speed_mps\n0,0\n1,fast\n", r"row 3 is not a number \(fast\)$"),
        ("time_s,speed_mps\n0,0\n1,40\n", "acceleration"),
        ("t,velocity\n0,0\n1,1\n", "no speed column"),
        ("time_s speed_mps\n0 0\n1 2\n", r"found time_s speed_mps \(columns separated by ',', ';', tab or '\|'"),
        ("time_s,speed_mps,road_grade\n0,0,0\n1,1,5\n",
         r"road grade must be in \[-0.35, 0.35\] as a fraction.*\(0.05 = 5 %\); row 3 has 5 \(give percent in a grade_pct"),
    ],
)
def test_bad_traces_are_refused_with_a_clear_message(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(TraceError, match=message):
        load_cycle(f)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_column_separator_is_detected(tmp_path, delimiter):
    f = tmp_path / "trace.csv"
    rows = [["time_s", "speed_kph", "grade_pct"], ["0", "0", "0"], ["1", "3.6", "1"], ["2", "7.2", "2"]]
    f.write_text("\n".join(delimiter.join(r) for r in rows) + "\n")
    c = load_cycle(f)
    np.testing.assert_allclose(c.vehicle_speed, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(c.road_grade, [0.0, 0.01, 0.02])


def test_semicolon_files_may_use_a_decimal_comma(tmp_path):
    f = tmp_path / "eu.csv"
    f.write_text("time_s;speed_mps\n0;0\n1;1,5\n2;2,5\n", encoding="utf-8-sig")
    np.testing.assert_allclose(load_cycle(f).vehicle_speed, [0.0, 1.5, 2.5])


def test_a_file_that_is_not_utf8_is_one_clear_error(tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes("time_s,speed_mps\n0,0\n1,\xe9\n".encode("latin-1"))
    with pytest.raises(TraceError, match="not UTF-8"):
        load_cycle(f)


# -- a gap in a user trace is not driven ---------------------------------------------------

def _gappy_trace(tmp_path, speed_at_gap):
    """300 samples at 1 Hz with a one-hour jump in time after t = 149 s."""
    t = np.arange(300.0)
    v = np.where((t > 10) & (t < 290), 10.0, 0.0)
    if speed_at_gap == 0:
        v[140:160] = 0.0
    t[150:] += 3600.0
    f = tmp_path / "gap.csv"
    f.write_text("time_s,speed_mps\n" + "".join(f"{a:g},{b:g}\n" for a, b in zip(t, v, strict=True)))
    return f


def test_a_gap_while_moving_is_refused_naming_the_rows_and_the_gap(tmp_path):
    f = _gappy_trace(tmp_path, speed_at_gap=10)
    with pytest.raises(TraceError) as info:
        load_cycle(f)
    assert str(info.value) == (
        f"{f}: a 3601 s gap in 'time_s' between row 151 (149 s, 10 m/s) and row 152 (3750 s, 10 m/s) "
        "while moving; at most 10 s is allowed unless the speed is 0 at both ends, because the speed "
        "would be interpolated across the gap; split the trace into two files at this gap"
    )


def test_a_gap_at_standstill_is_a_stop_and_is_kept(tmp_path):
    c = load_cycle(_gappy_trace(tmp_path, speed_at_gap=0))
    assert c.duration == 3899.0
    assert c.distance == pytest.approx(10.0 * (279 - 20), rel=1e-9)  # 2.59 km, nothing invented


def test_max_gap_is_a_keyword_of_the_loader(tmp_path):
    import math

    from twinloop.cycles import MAX_GAP, read_trace
    from twinloop.errors import ValidationError

    assert MAX_GAP == 10.0
    f = tmp_path / "sparse.csv"
    f.write_text("time_s,speed_mps\n0,0\n15,5\n30,0\n")
    with pytest.raises(TraceError, match=r"a 15 s gap in 'time_s' between row 2 .* at most 10 s"):
        load_cycle(f)
    assert load_cycle(f, max_gap=20).distance == pytest.approx(75.0)
    assert read_trace(f, max_gap=math.inf).duration == 30.0
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValidationError, match="max_gap"):
            load_cycle(f, max_gap=bad)


def test_a_folder_is_not_a_cycle(tmp_path):
    with pytest.raises(TraceError, match=r"is a folder, not a trace: give a bundled cycle name"):
        load_cycle(tmp_path)
    with pytest.raises(UnknownNameError, match="unknown cycle ''"):
        load_cycle("")


def test_a_cycle_built_in_code_is_checked_like_a_trace_file():
    t = np.arange(5.0)
    with pytest.raises(ValidationError, match=r"Cycle\.road_grade: expected a 1-D array of numbers, received None"):
        Cycle("x", t, np.ones(5), None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"Cycle\.vehicle_speed: expected finite numbers, received '1 NaN or inf'"):
        Cycle("x", t, np.r_[1.0, np.nan, 1.0, 1.0, 1.0], np.zeros(5))
    with pytest.raises(ValidationError, match=r"Cycle: expected time, vehicle_speed and road_grade of one length"):
        Cycle("x", t, np.ones(4), np.zeros(5))
    with pytest.raises(ValidationError, match=r"Cycle\.time: expected strictly increasing"):
        Cycle("x", t[::-1], np.ones(5), np.zeros(5))
    c = Cycle("x", [0, 1, 2], [0, 1, 0], [0, 0, 0])  # lists become float arrays
    assert c.time.dtype == np.float64 and c.distance == 1.0


# -- hostile-user review: columns, units, sizes -------------------------------------------

def _trace(tmp_path, text, name="trip.csv"):
    f = tmp_path / name
    if isinstance(text, bytes):
        f.write_bytes(text)
    else:
        f.write_text(text)
    return f


@pytest.mark.parametrize("column", ["grade_percent", "slope", "Gradient", "road_grade_pct", "grade_%"])
def test_a_grade_column_under_another_name_is_refused_not_read_as_flat(tmp_path, column):
    f = _trace(tmp_path, f"time_s,speed_kph,{column}\n0,0,5\n1,5,5\n2,0,5\n")
    with pytest.raises(TraceError, match=rf"column '{re.escape(column)}' looks like road grade but is not read; "
                                         r"name it road_grade \(a fraction, 0.05 = 5 %\) or grade_pct \(percent\)"):
        load_cycle(f)


@pytest.mark.parametrize(("header", "found", "suggestion"), [
    ("time_s,spede_kph", "speed", "did you mean 'speed_kph' for 'spede_kph'?"),
    ("time_s,speed_km/h", "speed", "did you mean 'speed_kmh' for 'speed_km/h'?"),
    ("time [s],speed_kph", "time", "did you mean 'time_s' for 'time [s]'?"),
    ("tme_s,speed_kph", "time", "did you mean 'time_s' for 'tme_s'?"),
])
def test_a_misspelt_column_gets_a_close_match(tmp_path, header, found, suggestion):
    f = _trace(tmp_path, f"{header}\n0,0\n1,5\n2,0\n")
    with pytest.raises(TraceError, match=rf"no {found} column; .* names in the first row\); {re.escape(suggestion)}$"):
        load_cycle(f)


def test_time_in_milliseconds_is_read_from_a_time_ms_column(tmp_path):
    c = load_cycle(_trace(tmp_path, "time_ms,speed_mps\n0,0\n500,1\n1000,2\n"))
    np.testing.assert_allclose(c.time, [0.0, 0.5, 1.0])


def test_milliseconds_in_a_seconds_column_are_suspected_in_the_gap_message(tmp_path):
    f = _trace(tmp_path, "time_s,speed_mps\n0,0\n1000,1\n2000,2\n3000,0\n")
    with pytest.raises(TraceError, match=r"a 1000 s gap .* \(is the time column in milliseconds\? name it time_ms"):
        load_cycle(f)


@pytest.mark.parametrize(("header", "quantity", "columns"), [
    ("time_s,speed_kph,speed_mph", "speed", "'speed_kph' and 'speed_mph'"),
    ("time_s,speed_mps,grade,grade_pct", "grade", "'grade' and 'grade_pct'"),
    ("time_s,speed_kph,speed_kph", "speed", "'speed_kph' and 'speed_kph'"),
])
def test_two_columns_for_one_quantity_are_refused_not_picked_silently(tmp_path, header, quantity, columns):
    n = header.count(",") + 1
    rows = "".join(",".join([str(t)] + ["0"] * (n - 1)) + "\n" for t in range(3))
    with pytest.raises(TraceError, match=rf"2 {quantity} columns, {columns}; keep one"):
        load_cycle(_trace(tmp_path, f"{header}\n{rows}"))


@pytest.mark.parametrize(("content", "message"), [
    ("time_s,speed_kph,grade_pct\n0,0,0\n1,5,50\n", r"road grade must be in \[-35, 35\] % in column 'grade_pct'; row 3 has 50 %$"),
    ("time_s,speed_kph\n0,0\n1,-5\n", r"speed must be in \[0, 360\] km/h in column 'speed_kph'; row 3 has -5 km/h "),
    ("time_s,speed_mph\n0,0\n1,250\n", r"speed must be in \[0, 223.694\] mph in column 'speed_mph'; row 3 has 250 mph "),
    ("time_s,speed_mps\n0,0\n1,40\n", r"acceleration of 40.0 m/s2 at t=1 s \(row 3\) is beyond 12 m/s2"),
])
def test_values_out_of_range_are_reported_in_the_columns_own_unit(tmp_path, content, message):
    with pytest.raises(TraceError, match=message):
        load_cycle(_trace(tmp_path, content))


@pytest.mark.parametrize(("data", "says"), [
    (b"PK\x03\x04\x14\x00\x06\x00" + bytes(64), r"trip.csv: cannot read as CSV: a binary file, not text \(an Excel workbook\? save it as CSV\)$"),
    (b"time_s,speed_mps\n0,0\x00\n", r"trip.csv: cannot read as CSV: a binary file, not text$"),
])
def test_a_binary_file_is_called_binary(tmp_path, data, says):
    with pytest.raises(TraceError, match=says):
        load_cycle(_trace(tmp_path, data))


def test_utf16_text_as_excel_writes_it_is_read(tmp_path):
    f = _trace(tmp_path, "time_s\tspeed_mps\r\n0\t0\r\n1\t1\r\n2\t2\r\n".encode("utf-16"))
    np.testing.assert_allclose(load_cycle(f).vehicle_speed, [0.0, 1.0, 2.0])


def test_a_trace_spanning_more_than_30_days_is_refused_before_it_fills_memory(tmp_path):
    from twinloop.cycles import MAX_DURATION

    assert MAX_DURATION == 30 * 86400.0
    f = _trace(tmp_path, "time_s,speed_mps\n0,0\n1,1\n2,0\n1000000000,0\n")
    with pytest.raises(TraceError, match=r"trip.csv: the trace spans 1e\+09 s \(11574 days, to row 5\), more than "
                                         r"2.592e\+06 s \(30 days\); is the time column in seconds\?"):
        load_cycle(f)
    long = Cycle("x", [0.0, 1e9], [0.0, 0.0], [0.0, 0.0])
    with pytest.raises(ValidationError, match=r"cycle 'x': expected a cycle of at most 2.592e\+06 s"):
        long.resample(1.0)


def test_a_trace_shorter_than_the_time_step_is_named(tmp_path):
    c = load_cycle(_trace(tmp_path, "time_s,speed_mps\n0,0\n0.001,0.001\n0.002,0\n"))
    with pytest.raises(ValidationError, match=r"cycle 'trip': expected a cycle of at least one 1 s time step, "
                                              r"received 'a 0.002 s trace'"):
        c.resample(1.0)


def test_a_missing_file_with_a_path_or_suffix_is_called_missing(tmp_path):
    with pytest.raises(TraceError, match=r"cycle file '.*trip.xlsx' does not exist"):
        load_cycle(str(tmp_path / "trip.xlsx"))
    with pytest.raises(TraceError, match=r"cycle file 'sub/trip' does not exist"):
        load_cycle("sub/trip")


def test_a_speed_column_without_a_unit_is_asked_for_its_unit(tmp_path):
    with pytest.raises(TraceError, match=r"name the unit of 'Speed': speed_mps, speed_kph or speed_mph$"):
        load_cycle(_trace(tmp_path, "time_s,Speed\n0,0\n1,5\n2,0\n"))


def test_a_row_with_more_cells_than_the_header_is_refused(tmp_path):
    with pytest.raises(TraceError, match=r"cannot read as CSV \(.*Expected 2 fields in line 3, saw 3\); "
                                         r"the first row names the columns"):
        load_cycle(_trace(tmp_path, "time_s,speed_mps\n0,0\n1,5,9\n2,0\n"))


def test_a_cycle_built_in_code_with_a_grade_in_percent_is_refused():
    # a trace file's grade is checked on reading; one built in code must fail as clearly
    t = np.arange(10.0)
    with pytest.raises(ValidationError, match=r"Cycle.road_grade: expected within ±0.35.*received '5 at sample 0'"):
        Cycle("hill", t, np.full(10, 10.0), np.full(10, 5.0))
