import math

import numpy as np
import pytest

from twinloop.errors import SpecificationError, UnknownNameError
from twinloop.quantities import GLOSSARY
from twinloop.signals.catalog import Signal, default_catalog


def test_bundled_catalog_maps_the_issue_signals_to_glossary_quantities():
    cat = default_catalog()
    expected = {
        "Vehicle.Speed": ("vehicle_speed", "km/h"),
        "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current": ("state_of_charge", "percent"),
        "Vehicle.Powertrain.TractionBattery.CurrentCurrent": ("battery_current", "A"),
        "Vehicle.Powertrain.TractionBattery.CurrentVoltage": ("battery_voltage", "V"),
        "Vehicle.Powertrain.TractionBattery.Temperature.Average": (
            "battery_temperature",
            "Celsius",
        ),
        "Vehicle.Exterior.AirTemperature": ("ambient_temperature", "Celsius"),
        "Vehicle.TraveledDistance": ("distance", "m"),
        "Vehicle.CurrentLocation.Latitude": ("latitude", "degrees"),
        "Vehicle.Powertrain.ElectricMotor.Speed": ("motor_speed", "rpm"),
        "Vehicle.Chassis.Accelerator.PedalPosition": ("accelerator_pedal_position", "percent"),
        "Vehicle.LowVoltageSystemState": ("low_voltage_system_state", None),
    }
    for path, (q, unit) in expected.items():
        assert cat[path].quantity == q
        assert cat[path].unit == unit
    for sig in cat.signals.values():
        assert sig.quantity in GLOSSARY


def test_conversion_to_si_hand_computed():
    cat = default_catalog()
    assert float(cat["Vehicle.Speed"].to_si(90.0)) == pytest.approx(25.0)
    assert float(
        cat["Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"].to_si(80.0)
    ) == pytest.approx(0.8)
    assert float(
        cat["Vehicle.Powertrain.TractionBattery.Temperature.Average"].to_si(25.0)
    ) == pytest.approx(298.15)


def test_battery_current_sign_turns_vss_charging_positive_into_discharging_positive():
    cur = default_catalog()["Vehicle.Powertrain.TractionBattery.CurrentCurrent"]
    # VSS: negative = current out of the battery (driving); glossary: positive discharging
    assert float(cur.to_si(-100.0)) == 100.0
    assert float(cur.from_si(cur.to_si(-100.0))) == -100.0


def test_range_is_the_tighter_of_vss_and_glossary():
    soc = default_catalog()["Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"]
    assert (soc.minimum, soc.maximum) == (0.0, 1.0)
    lat = default_catalog()["Vehicle.CurrentLocation.Latitude"]
    assert (lat.minimum, lat.maximum) == (-90.0, 90.0)
    bad = soc.invalid(np.array([-0.01, 0.0, 1.0, 1.01, math.nan]))
    assert bad.tolist() == [True, False, False, True, True]


def test_unknown_signal_suggests_close_matches():
    with pytest.raises(UnknownNameError, match=r"Vehicle\.Speed"):
        default_catalog()["Vehicle.Sped"]


def test_enum_labels_encode_to_vss_index():
    s = default_catalog()["Vehicle.LowVoltageSystemState"]
    assert s.encode_labels(["LOCK", "on", "START"]).tolist() == [1.0, 4.0, 5.0]


def test_custom_signal_file_adds_signals(tmp_path):
    f = tmp_path / "custom.toml"
    f.write_text(
        '[[signal]]\npath = "Vehicle.Private.Acme.PackCoolantTemp"\ndatatype = "float"\n'
        'unit = "Celsius"\nquantity = "battery_temperature"\nmin = -30\nmax = 70\n'
    )
    cat = default_catalog().with_file(f)
    sig = cat["Vehicle.Private.Acme.PackCoolantTemp"]
    assert sig.source == str(f)
    assert sig.minimum == pytest.approx(243.15) and sig.maximum == pytest.approx(343.15)
    assert "Vehicle.Private.Acme.PackCoolantTemp" not in default_catalog()


def test_custom_signal_with_incompatible_unit_is_refused(tmp_path):
    f = tmp_path / "custom.toml"
    f.write_text(
        '[[signal]]\npath = "X.Y"\ndatatype = "float"\nunit = "km/h"\nquantity = "battery_temperature"\n'
    )
    with pytest.raises(SpecificationError, match="convertible"):
        default_catalog().with_file(f)


def test_redefining_a_vss_signal_is_refused():
    with pytest.raises(SpecificationError):
        default_catalog().with_signals([Signal("Vehicle.Speed", "float", "m/s", "vehicle_speed")])


def test_bundled_catalog_keeps_its_provenance():
    from importlib import resources

    prov = (resources.files("twinloop.signals") / "data" / "PROVENANCE.md").read_text()
    assert "ce67f927" in prov and "MPL-2.0" in prov


def test_boolean_labels_true_and_false_are_read_not_quarantined():
    """'true'/'false' from a logger were looked up upper-cased in a lower-case table: every one became NaN."""
    sig = default_catalog()["Vehicle.Cabin.HVAC.IsAirConditioningActive"]
    assert sig.encode_labels(["true", "FALSE", " True ", "1", "0", True, "maybe"]).tolist()[:6] == [
        1.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert math.isnan(sig.encode_labels(["maybe"])[0])
