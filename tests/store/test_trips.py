import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from twinloop.store.trips import detect_trips


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=200, unique=True), st.floats(1, 1000))
def test_gap_trips_partition_the_samples(seconds, gap):
    t = np.sort(np.array(seconds, dtype=np.int64)) * 1_000_000
    trips = detect_trips(t, None, gap)
    assert sum(x.samples for x in trips) == t.size
    for a, b in itertools.pairwise(trips):
        assert b.start - a.end > gap * 1e6


def test_no_samples_no_trips():
    assert detect_trips(np.array([], dtype=np.int64)) == []


def test_key_off_whole_time_gives_no_trips():
    t = np.arange(10, dtype=np.int64) * 1_000_000
    assert detect_trips(t, np.full(10, 2.0)) == []
