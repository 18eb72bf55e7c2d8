"""SoC estimation: convergence from a wrong start, invariants under random inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twinloop.twin.battery import TimeSeries, simulate
from twinloop.twin.battery.estimate import SocFilter, estimate_soc


def test_converges_from_20_points_off(true_cell):
    t = np.arange(0.0, 3000.0, 1.0)
    amps = 10.0 * (np.sin(t / 50.0) > 0) - 3.0 * (np.sin(t / 50.0) < -0.8)
    r = simulate(true_cell, t, amps, 0.9)
    noisy = r.voltage[0] + np.random.default_rng(0).normal(0, 0.002, t.size)
    est = estimate_soc(true_cell, TimeSeries(t, amps, noisy), 0.7, 0.2, voltage_noise=0.005)
    late = t > 300
    err = est.state_of_charge[late] - r.state_of_charge[0, late]
    assert np.max(np.abs(err)) < 0.02
    assert np.mean(np.abs(err) < 3 * est.state_of_charge_std[late]) > 0.9


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0.0, 1.0),
    st.lists(st.tuples(st.floats(-200.0, 200.0), st.floats(0.0, 6.0), st.floats(0.1, 100.0)), min_size=1, max_size=30),
)
def test_soc_stays_in_unit_interval_and_covariance_positive(start, steps):
    true_cell = _cell()
    f = SocFilter(true_cell, start, 0.3)
    for current, voltage, dt in steps:
        f.predict(current, dt)
        f.update(current, voltage)
        assert 0.0 <= f.state_of_charge <= 1.0
        assert np.all(np.linalg.eigvalsh(f.p) > 0)
        assert np.allclose(f.p, f.p.T)


def _cell():
    from twinloop.twin.battery import CellModel, CellTable

    z = np.linspace(0, 1, 21)
    table = CellTable(298.15, 3.0 + 0.9 * z + 0.25 * np.tanh(12 * (z - 0.05)), np.full(11, 0.002), np.full((1, 11), 0.001), [20.0], 36000.0)
    return CellModel(36000.0, (table,), 2.9, 4.2)
