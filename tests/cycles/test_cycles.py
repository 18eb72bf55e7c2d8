"""Drive cycles: bundled data and user traces."""

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
