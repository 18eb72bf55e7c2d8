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
        ("time_s,speed_mps\n0,0\n1,nan\n", "not a number"),
        ("time_s,speed_mps\n0,0\n1,40\n", "acceleration"),
        ("time_s;speed_mps\n0;0\n1;2\n", "no time column"),
        ("t,velocity\n0,0\n1,1\n", "no speed column"),
    ],
)
def test_bad_traces_are_refused_with_a_clear_message(tmp_path, content, message):
    f = tmp_path / "bad.csv"
    f.write_text(content)
    with pytest.raises(TraceError, match=message):
        load_cycle(f)
