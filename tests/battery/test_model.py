"""Cell model file: round trip, temperature interpolation, precise errors."""

import numpy as np
import pytest

from twinloop.battery import CellModel, CellTable, FitQuality, ThermalParameters
from twinloop.errors import SpecificationError, ValidationError


def _table(temp_c, r0):
    return CellTable(
        temp_c + 273.15, [3.0, 3.5, 4.0], [r0, r0], [[0.001, 0.001]], [25.0], 3600.0, FitQuality("x.csv", 0.002, 0.01, 100)
    )


def test_toml_round_trip_keeps_values_and_fit_quality(tmp_path):
    cell = CellModel(3600.0, (_table(10, 0.004), _table(40, 0.001)), 2.5, 4.2, ThermalParameters(800.0, 0.5), "c", {"data": "x"})
    path = tmp_path / "cell.toml"
    cell.save(path)
    back = CellModel.load(path)
    assert back.capacity == cell.capacity and back.thermal == cell.thermal and back.provenance == {"data": "x"}
    assert back.tables[0].fit.rmse == pytest.approx(0.002)
    np.testing.assert_allclose(back.tables[1].ohmic_resistance, [0.001, 0.001])


def test_resistance_interpolates_log_linearly_in_inverse_temperature():
    cell = CellModel(3600.0, (_table(10, 0.004), _table(40, 0.001)), 2.5, 4.2)
    t10, t40 = 283.15, 313.15
    temp = 1 / (0.5 / t10 + 0.5 / t40)  # midway in 1/T
    r0 = cell.parameters_at(temp).ohmic_resistance[0, 0]
    assert r0 == pytest.approx(0.002)  # geometric mean
    assert cell.parameters_at(350.0).ohmic_resistance[0, 0] == pytest.approx(0.001)  # clamped


def test_missing_field_is_named():
    text = CellModel(3600.0, (_table(25, 0.002),), 2.5, 4.2).to_toml().replace("capacity_ah = 1.0\n", "", 1)
    with pytest.raises(SpecificationError, match="capacity_ah"):
        CellModel.from_toml(text, "cell.toml")


def test_negative_resistance_is_refused_with_range():
    with pytest.raises(ValidationError, match=r"ohmic_resistance.*>= 0"):
        CellTable(298.15, [3.0, 4.0], [-0.01, 0.01], [[0.0, 0.0]], [1.0], 3600.0)


def test_wrong_format_is_named():
    with pytest.raises(SpecificationError, match="format"):
        CellModel.from_toml('format = "other"\n')


def test_identified_model_pickles_compares_and_survives_toml_exactly(synthetic_hppc, tmp_path):
    import pickle

    from twinloop.battery import identify_cell, simulate

    cell = identify_cell([synthetic_hppc], [298.15])
    assert pickle.loads(pickle.dumps(cell)) == cell  # == on array tables used to raise ValueError
    assert "CellModel(capacity=" in repr(cell)
    path = tmp_path / "cell.toml"
    cell.save(path)
    back = CellModel.load(path)
    t, amps = synthetic_hppc.time, synthetic_hppc.current
    a, b = simulate(cell, t, amps, 1.0), simulate(back, t, amps, 1.0)
    # 7 significant digits used to move the voltage by ~2 uV and the capacity by 0.016 A s
    np.testing.assert_allclose(b.voltage, a.voltage, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.state_of_charge, a.state_of_charge, rtol=0, atol=1e-12)
    assert back.capacity == pytest.approx(cell.capacity, rel=1e-14)
    assert back.tables[0].temperature == 298.15
