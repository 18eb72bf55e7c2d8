"""Open-circuit voltage tables and the Arrhenius factor."""

import numpy as np
import pytest

from twinloop.physics.battery import ocv


def test_ocv_of_a_scalar_soc_gives_one_value_per_vehicle_table():
    tables = np.array([[3.0, 3.6, 4.2], [2.0, 3.0, 4.0]])
    np.testing.assert_allclose(ocv.open_circuit_voltage(0.25, tables), [3.3, 2.5])
    np.testing.assert_allclose(ocv.open_circuit_voltage(0.25, [3.0, 3.6, 4.2], np.array([0.0, 1e-3]), 10.0), [3.3, 3.31])
    assert np.ndim(ocv.open_circuit_voltage(0.25, [3.0, 3.6, 4.2])) == 0


def test_ocv_broadcasts_soc_over_time_and_vehicle_axes():
    tables = np.array([[3.0, 3.6, 4.2], [2.0, 3.0, 4.0]])
    soc = np.array([[0.0, 1.0], [0.5, 0.5], [0.25, 0.75]])  # (time, vehicle)
    np.testing.assert_allclose(ocv.open_circuit_voltage(soc, tables), [[3.0, 4.0], [3.6, 3.0], [3.3, 3.5]])


def test_ocv_at_the_ends_of_the_soc_range():
    assert ocv.open_circuit_voltage(0.0, [3.0, 3.6, 4.2]) == pytest.approx(3.0)
    assert ocv.open_circuit_voltage(1.0, [3.0, 3.6, 4.2]) == pytest.approx(4.2)
    assert ocv.open_circuit_voltage(-0.1, [3.0, 3.6, 4.2]) == pytest.approx(3.0)


def test_arrhenius_factor_hand_computed():
    # exp(3000 (1/273.15 - 1/298.15)) = 2.5116
    assert ocv.arrhenius_factor(273.15, 3000.0) == pytest.approx(np.exp(3000 * (1 / 273.15 - 1 / 298.15)))
    assert ocv.arrhenius_factor(298.15, 3000.0) == 1.0
