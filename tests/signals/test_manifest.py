from importlib import resources
from pathlib import Path

import pytest

from twinloop.errors import SpecificationError, UnknownNameError
from twinloop.signals import DecoderManifest, default_catalog, load_dbc, starter_manifest

DBC_DIR = Path(__file__).parent.parent / "data" / "opendbc"


def test_starter_manifest_for_tesla_parses_and_checks(tmp_path):
    db = load_dbc(DBC_DIR / "tesla_model3_party.dbc")
    text = starter_manifest(db, default_catalog(), "tesla_model3_party.dbc")
    f = tmp_path / "m.toml"
    f.write_text(text)
    man = DecoderManifest.load(f)
    man.check(db, default_catalog())
    assert ("ESP_B", "ESP_vehicleSpeed") in man.dbc_signals
    assert "# DI_torque.DI_axleSpeed  [RPM]" in text  # unmapped signals are listed as comments


def test_starter_manifest_for_ford_maps_the_battery_actuals_not_its_limits(tmp_path):
    ford = Path(__file__).parents[2] / "examples" / "data" / "opendbc" / "ford_lincoln_base_pt_excerpt.dbc"
    db = load_dbc(ford)
    text = starter_manifest(db, default_catalog(), ford.name)
    f = tmp_path / "m.toml"
    f.write_text(text)
    man = DecoderManifest.load(f)
    man.check(db, default_catalog())
    pairs = dict(zip([e.signal for e in man.entries], [e.vss for e in man.entries], strict=True))
    assert pairs["BattTrac_I_Actl"] == "Vehicle.Powertrain.TractionBattery.CurrentCurrent"  # [Amps]
    assert pairs["BattTrac_U_Actl"] == "Vehicle.Powertrain.TractionBattery.CurrentVoltage"  # [Volts]
    assert pairs["BattTrac_Te_Actl"] == "Vehicle.Powertrain.TractionBattery.Temperature.Average"
    assert "BattTrac_U_LimHi" not in pairs and "# Battery_Traction_1_FD1.BattTrac_U_LimHi  [volt]" in text
    assert "set scale = -1.0" in text  # the current's sign convention is flagged for review
    assert pairs["Veh_V_ActlBrk"] == "Vehicle.Speed"


def test_bundled_example_manifest_is_valid():
    data = resources.files("twinloop.signals") / "data"
    db = load_dbc(str(data / "twinloop_ev.dbc"))
    DecoderManifest.load(str(data / "twinloop_ev.toml")).check(db, default_catalog())


def test_manifest_naming_an_unknown_dbc_signal_suggests_matches(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text(
        '[[map]]\nmessage = "DI_speed"\nsignal = "DI_vehicleSped"\nvss = "Vehicle.Speed"\n'
    )
    with pytest.raises(UnknownNameError, match="DI_vehicleSpeed"):
        DecoderManifest.load(f).check(
            load_dbc(DBC_DIR / "tesla_model3_party.dbc"), default_catalog()
        )


def test_manifest_mapping_to_an_enum_needs_a_values_map(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text(
        '[[map]]\nmessage = "DI_speed"\nsignal = "DI_uiSpeed"\nvss = "Vehicle.LowVoltageSystemState"\n'
    )
    with pytest.raises(SpecificationError, match="values"):
        DecoderManifest.load(f).check(
            load_dbc(DBC_DIR / "tesla_model3_party.dbc"), default_catalog()
        )


def test_broken_manifest_toml_is_a_specification_error(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text("[[map]\nmessage=")
    with pytest.raises(SpecificationError, match="TOML"):
        DecoderManifest.load(f)


def test_vehicle_spec_loaded_as_a_manifest_is_refused_naming_its_first_key(tmp_path):
    f = tmp_path / "leaf.toml"
    f.write_text('name = "leaf"\ntest_mass = 1700.0\n[battery]\nenergy = 40\n')
    with pytest.raises(SpecificationError, match="'name'") as err:
        DecoderManifest.load(f)
    assert err.value.field == "key" and "dbc, map" in str(err.value)
    assert "Is this a decoder manifest?" in str(err.value)


def test_manifest_without_map_entries_is_refused_as_it_would_decode_nothing(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text('dbc = "x.dbc"\n')
    with pytest.raises(SpecificationError, match=r"at least one \[\[map\]\] table") as err:
        DecoderManifest.load(f)
    assert err.value.field == "map" and str(f) in str(err.value)


@pytest.mark.parametrize(
    ("text", "key", "suggestion"),
    [
        ('dbc = "x.dbc"\nmaps = []\n', "maps", "'map'"),
        ('[[map]]\nmessage = "a"\nsignal = "b"\nvss = "c"\nscael = 2.0\n', "scael", "'scale'"),
        ('[[map]]\nmessage = "a"\nsignal = "b"\nvss = "c"\nvalue = {}\n', "value", "'values'"),
    ],
)
def test_misspelt_manifest_keys_are_refused_with_close_matches(tmp_path, text, key, suggestion):
    f = tmp_path / "m.toml"
    f.write_text(text)
    with pytest.raises(SpecificationError, match=f"'{key}'") as err:
        DecoderManifest.load(f)
    assert f"Did you mean {suggestion}" in str(err.value)


def test_map_entry_that_is_not_a_table_is_refused(tmp_path):
    with pytest.raises(SpecificationError, match="expected a table"):
        DecoderManifest.from_dict({"map": ["DI_speed.DI_vehicleSpeed"]})


@pytest.mark.parametrize("body", ["", "BO_ 100 Msg: 8 A\n"])
def test_starter_manifest_for_a_dbc_without_signals_is_refused(tmp_path, body):
    from twinloop.errors import DataError

    f = tmp_path / "empty.dbc"
    f.write_text(f'VERSION ""\n\nNS_ :\n\nBS_:\n\nBU_: A\n\n{body}')
    with pytest.raises(DataError, match=r"empty\.dbc has no signals"):
        starter_manifest(load_dbc(f), default_catalog(), f.name)
