"""The twin record: identity, vehicle specification and state, validated at construction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from twinloop.conventions import check_vin
from twinloop.errors import SpecificationError, ValidationError
from twinloop.parameters import resolve_vehicle
from twinloop.twin.record import TwinRecord, TwinState


def test_record_keeps_the_vehicle_exactly(compact_car):
    rec = TwinRecord.from_spec("5YJ3E1EA7KF000001", compact_car, name="fleet car 7")
    assert rec.spec == compact_car
    assert rec.name == "fleet car 7" and rec.vin == "5YJ3E1EA7KF000001"
    assert TwinRecord.from_spec("V", compact_car).name == "compact"
    again = TwinRecord(rec.vin, rec.name, rec.vehicle, rec.state, rec.created_at)
    assert again == rec


def test_library_vehicle_round_trips_through_the_record():
    spec = resolve_vehicle("tesla_model_3_long_range_2022")
    assert TwinRecord.from_spec("V", spec).spec == spec


def test_state_is_checked_against_the_glossary():
    with pytest.raises(ValidationError, match=r"state.state_of_charge: expected a number in \[0, 1\], received 1.5"):
        TwinState(state_of_charge=1.5)
    # Celsius by mistake: kelvin only.
    with pytest.raises(ValidationError, match=r"state.battery_temperature.*\[223.15, 353.15\] K.*received 25.0"):
        TwinState(battery_temperature=25.0)
    with pytest.raises(ValidationError, match=r"state.odometer"):
        TwinState(odometer=-1.0)
    with pytest.raises(ValidationError, match=r"state.state_of_health: expected a number or None"):
        TwinState(state_of_health="0.9")
    with pytest.raises(ValidationError, match=r"state.cabin_temperature"):
        TwinState(cabin_temperature=float("nan"))


def test_state_times_are_utc_and_state_round_trips():
    local = datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    s = TwinState(0.8, 0.97, 298.15, 294.15, 12_345_000.0, local)
    assert s.updated_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert TwinState.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(ValidationError, match=r"state: expected keys"):
        TwinState.from_dict({"soc": 0.5})


def test_with_state_replaces_fields_and_stamps_the_time(compact_car):
    rec = TwinRecord.from_spec("V", compact_car)
    assert rec.state == TwinState()
    later = rec.with_state(state_of_charge=0.42, odometer=1000.0)
    assert later.state.state_of_charge == 0.42 and later.state.odometer == 1000.0
    assert later.state.updated_at is not None and rec.state.updated_at is None
    with pytest.raises(ValidationError, match=r"state: expected fields"):
        rec.with_state(soc=0.5)
    with pytest.raises(ValidationError, match=r"state_of_charge"):
        rec.with_state(state_of_charge=-0.1)


@pytest.mark.parametrize("vin", ["", " VIN", "VIN\n", "x" * 65, 17])
def test_malformed_vins_are_refused(vin):
    with pytest.raises(ValidationError, match=r"vin: expected a printable identifier of 1 to 64"):
        check_vin(vin)


def test_vin_with_surrounding_spaces_says_spaces_are_the_problem():
    with pytest.raises(ValidationError, match=r"without surrounding spaces, received ' CAR7'"):
        check_vin(" CAR7")


def test_overlong_vin_or_name_reports_its_length_not_the_whole_text(compact_car):
    with pytest.raises(ValidationError, match=r"1 to 64 characters.*received 'VVVVVVVVVVVVVVVVVVVV\.\.\. \(65 characters\)'$"):
        check_vin("V" * 65)
    good = TwinRecord.from_spec("V", compact_car, name="n" * 200)
    with pytest.raises(ValidationError, match=r"name: expected a printable name of 1 to 200 characters,"
                                              r" received 'nnnnnnnnnnnnnnnnnnnn\.\.\. \(201 characters\)'$"):
        TwinRecord("V", "n" * 201, good.vehicle)
    assert TwinRecord.from_spec("Wägen-車", compact_car, name="Flottenwagen Nº7 – 車").name == "Flottenwagen Nº7 – 車"


def test_vehicle_name_unfit_as_twin_name_says_to_give_a_name(compact_car):
    with pytest.raises(ValidationError, match=r"received 'tab\\there'\. The twin took its vehicle's name; give it one"):
        TwinRecord.from_spec("V", compact_car.with_changes(name="tab\there"))
    assert TwinRecord.from_spec("V", compact_car.with_changes(name="tab\there"), name="mine").name == "mine"


def test_name_and_vehicle_are_checked(compact_car):
    good = TwinRecord.from_spec("V", compact_car)
    with pytest.raises(ValidationError, match=r"name"):
        TwinRecord("V", "", good.vehicle)
    with pytest.raises(SpecificationError, match=r"mass.test_mass_kg"):
        TwinRecord("V", "x", good.vehicle.replace("test_mass_kg = 1800.0", "test_mass_kg = -1.0"))


def test_to_dict_is_json(compact_car):
    d = json.loads(json.dumps(TwinRecord.from_spec("V", compact_car).to_dict()))
    assert d["vehicle"]["test_mass"] == 1800.0 and d["state"]["state_of_charge"] is None
    assert d["vehicle_toml"].startswith('name = "compact"')
