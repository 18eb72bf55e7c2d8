"""FASTSim 3 import, checked against real FASTSim 3.1.0 vehicle files (tests/data/fastsim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinloop.errors import SpecificationError
from twinloop.parameters.fastsim_import import fastsim_vehicle_spec
from twinloop.parameters.toml_io import dump_vehicle, load_vehicle

DATA = Path(__file__).parents[1] / "data" / "fastsim"
TESLA = DATA / "2022_Tesla_Model_3_RWD_thrml.yaml"
LEAF = DATA / "2016_Nissan_Leaf_30_kWh_thrml.yaml"
ZOE = DATA / "2022_Renault_Zoe_ZE50_R135.yaml"


def test_tesla_chassis_powertrain_and_battery() -> None:
    spec = fastsim_vehicle_spec(TESLA)
    assert spec.name == "2022_tesla_model_3_rwd"
    assert spec.test_mass == 1752.0
    assert (spec.drag_coefficient, spec.frontal_area, spec.rolling_resistance_coefficient) == (0.23, 2.22, 0.007)
    assert spec.drive == "RWD" and spec.wheel_radius == 0.33435
    assert spec.motor_peak_power == 239000.0
    assert spec.gearbox_efficiency == 0.98
    # usable energy: 194.4 MJ × (0.98 − 0.05) = 180.79 MJ = 50.22 kWh
    assert spec.battery_energy == pytest.approx(194.4e6 * (0.98 - 0.05))
    assert spec.battery_max_discharge_power == 201227.4239
    assert spec.auxiliary_power == 250.0
    # wheels: 4 × 0.815 kg m² / 0.33435² m² / 1752 kg = 0.01664
    assert spec.rotating_mass_factor == pytest.approx(4 * 0.815 / 0.33435**2 / 1752.0)


def test_tesla_thermal_and_heat_pump() -> None:
    spec = fastsim_vehicle_spec(TESLA)
    assert spec.battery_heat_capacity == pytest.approx(158336.26498645396)
    assert spec.battery_heat_transfer == pytest.approx(47.68760165881292)
    assert spec.cabin_heat_capacity == pytest.approx(80122.89559295388)
    area = 6.605402324062461 * 1.84912
    assert spec.cabin_conductance == pytest.approx(area / (1 / 271.93316068664683 + 1 / 17.40594588729652))
    assert spec.hvac_heating == "heat_pump"
    assert spec.cabin_setpoint == 295.15
    frac = 0.1672948274768393
    assert spec.hvac_cop_at_280k == pytest.approx(frac * 295.15 / 15.0)  # 3.29
    assert spec.hvac_cop_cooling == pytest.approx(frac * 295.15 / 13.0)  # 3.80
    assert spec.hvac_max_heating == 5000.0


def test_leaf_resistive_heater_uses_lumped_cabin_hvac_keys() -> None:
    spec = fastsim_vehicle_spec(LEAF)
    assert spec.hvac_heating == "resistive"
    assert spec.hvac_cop_at_280k == 2.5  # default: a resistive heater has no COP to map
    assert spec.battery_energy == pytest.approx(108e6 * 0.9)
    assert spec.drive == "FWD"


def test_zoe_without_thermal_models_keeps_defaults() -> None:
    spec = fastsim_vehicle_spec(ZOE)
    assert spec.cabin_conductance == 90.0 and spec.battery_heat_capacity is None
    assert spec.gearbox_efficiency == 0.92


@pytest.mark.parametrize("path", [TESLA, LEAF, ZOE], ids=lambda p: p.stem)
def test_import_round_trips_through_toml(path: Path) -> None:
    spec = fastsim_vehicle_spec(path)
    assert load_vehicle(dump_vehicle(spec)) == spec
    assert "FASTSim" in spec.sources["road_load.drag_coefficient"]
    assert spec.sources["drivetrain.motor_loss"].startswith("not mapped")


def test_name_override() -> None:
    assert fastsim_vehicle_spec(ZOE, name="zoe").name == "zoe"


def test_non_bev_is_refused() -> None:
    text = ZOE.read_text().replace("  BEV:\n", "  Conv:\n", 1)
    with pytest.raises(SpecificationError, match="BEV"):
        fastsim_vehicle_spec(text)


def test_missing_required_value_names_the_fastsim_path() -> None:
    text = ZOE.read_text().replace("drag_coef: 0.33", "drag_coef: ~")
    with pytest.raises(SpecificationError) as info:
        fastsim_vehicle_spec(text)
    assert info.value.field == "chassis.drag_coef"


def test_out_of_range_value_names_the_fastsim_path() -> None:
    text = ZOE.read_text().replace("drag_coef: 0.33", "drag_coef: 3.3")
    with pytest.raises(SpecificationError) as info:
        fastsim_vehicle_spec(text)
    assert info.value.field == "chassis.drag_coef" and "drag_coefficient" in info.value.expected


def test_not_yaml_or_not_a_vehicle() -> None:
    with pytest.raises(SpecificationError):
        fastsim_vehicle_spec("a: [1\nb: 2\n")
    with pytest.raises(SpecificationError, match="pt_type"):
        fastsim_vehicle_spec("name: x\nother: 1\n")
