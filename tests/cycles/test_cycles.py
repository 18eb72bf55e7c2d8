"""Drive cycles: bundled data and user traces."""

import numpy as np
import pytest

from twinloop.cycles import bundled_cycles, load_cycle
from twinloop.errors import TraceError, UnknownNameError


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
