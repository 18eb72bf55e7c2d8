"""Twins and model versions in the telemetry store, on DuckDB and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from twinloop.errors import StoreError, UnknownNameError, ValidationError
from twinloop.twin.consumption import PhysicsConsumptionModel
from twinloop.twin.drift import ResidualBand
from twinloop.twin.lifecycle import create_twin, open_twin
from twinloop.twin.record import TwinRecord, TwinState
from twinloop.twin.repository import TwinRepository


@pytest.fixture
def repo(store):
    return TwinRepository(store)


def test_record_round_trips_exactly(repo, compact_car):
    rec = TwinRecord.from_spec("VIN1", compact_car, name="fleet car 7")
    repo.add(rec)
    assert repo.get("VIN1") == rec and repo.get("VIN1").spec == compact_car
    assert repo.list() == [rec] and repo.vins() == ["VIN1"]
    assert "VIN1" in repo.store.vehicles().column("vin").to_pylist()


def test_tables_survive_a_second_repository_on_the_same_store(repo, compact_car):
    repo.add(TwinRecord.from_spec("VIN1", compact_car))
    assert TwinRepository(repo.store).vins() == ["VIN1"]


def test_duplicate_twin_is_a_clear_error_and_keeps_the_first(repo, compact_car):
    first = repo.add(TwinRecord.from_spec("VIN1", compact_car, name="first"))
    with pytest.raises(ValidationError, match=r"A twin of VIN1 exists"):
        repo.add(TwinRecord.from_spec("VIN1", compact_car, name="second"))
    assert repo.get("VIN1") == first


def test_unknown_vin_suggests_close_matches(repo, compact_car):
    repo.add(TwinRecord.from_spec("5YJ3E1EA7KF000001", compact_car))
    with pytest.raises(UnknownNameError, match=r"did you mean '5YJ3E1EA7KF000001'"):
        repo.get("5YJ3E1EA7KF000010")


def test_state_update_round_trips(repo, compact_car):
    repo.add(TwinRecord.from_spec("VIN1", compact_car))
    state = TwinState(0.61, 0.95, 301.15, 295.15, 12_345_678.5, datetime(2024, 5, 1, 10, 0, 0, 123456, UTC))
    assert repo.update_state("VIN1", state).state == state
    assert repo.get("VIN1").state == state
    with pytest.raises(UnknownNameError):
        repo.update_state("VIN2", state)


def test_model_versions_round_trip_exactly(store, compact_car, trips):
    twin = create_twin(store, "VIN1", compact_car)
    X = trips(30, seed=1)
    truth = PhysicsConsumptionModel.from_spec(compact_car, drivetrain_efficiency=0.8123456789012345)
    y = truth.predict(X) + np.random.default_rng(2).normal(0, 3, len(X))
    made = twin.registry.recalibrate(X, y, reason="calibration", created_by="t", promote="always")
    loaded = TwinRepository(store).load_versions("VIN1")
    assert loaded[1] == made  # parameters (floats bit for bit), window, band, provenance, times
    assert loaded[0].status == "retired" and loaded[1].status == "champion"
    assert isinstance(loaded[1].residual_band, ResidualBand)
    assert loaded[1].model() == made.model()


def test_create_twin_writes_twin_and_first_model_together(store, compact_car):
    create_twin(store, "VIN1", compact_car)
    with pytest.raises(ValidationError, match=r"exists"):
        create_twin(store, "VIN1", compact_car)
    versions = TwinRepository(store).load_versions("VIN1")
    assert [(v.version, v.status, v.provenance.reason) for v in versions] == [(1, "champion", "initial")]


def test_a_failure_inside_a_transaction_leaves_the_previous_state(store, compact_car):
    twin = create_twin(store, "VIN1", compact_car)
    before = twin.registry.history()

    class EventWriterDied(RuntimeError):
        pass

    with pytest.raises(EventWriterDied), twin.repository.transaction():
        twin.registry.register(PhysicsConsumptionModel.from_spec(compact_car), reason="c", created_by="t",
                               status="champion")
        assert len(twin.registry.history()) == 2  # visible inside the transaction
        raise EventWriterDied
    assert twin.registry.history() == before
    assert open_twin(store, "VIN1").registry.champion().version == 1


def test_a_stale_writer_is_refused_and_the_champion_survives(store, compact_car):
    create_twin(store, "VIN1", compact_car)
    ours, theirs = open_twin(store, "VIN1"), open_twin(store, "VIN1")
    stale_latest = ours.registry.history()[-1].version
    theirs.registry.register(PhysicsConsumptionModel.from_spec(compact_car), reason="c",
                             created_by="other process", status="champion")
    with pytest.raises(StoreError, match=r"changed meanwhile"):
        ours.repository.commit_versions("VIN1", stale_latest, [], {1: "champion"})
    assert [(v.version, v.status) for v in ours.registry.history()] == [(1, "retired"), (2, "champion")]


def test_a_second_champion_is_refused(store, compact_car):
    twin = create_twin(store, "VIN1", compact_car)
    twin.registry.register(PhysicsConsumptionModel.from_spec(compact_car), reason="c", created_by="t")
    with pytest.raises(StoreError, match=r"several champions: \[1, 2\]"):
        twin.repository.commit_versions("VIN1", 2, [], {2: "champion"})
    assert [v.status for v in twin.registry.history()] == ["champion", "challenger"]


def test_a_version_number_out_of_sequence_is_refused(store, compact_car):
    twin = create_twin(store, "VIN1", compact_car)
    v1 = twin.registry.get(1)
    copy = v1.__class__(**{**v1.__dict__, "status": "retired"})
    with pytest.raises(StoreError, match=r"numbered from v2 on, got \[1\]"):
        twin.repository.commit_versions("VIN1", 1, [copy], {})
    assert twin.registry.history() == [v1]


def test_versions_of_an_unknown_twin_are_refused(repo, compact_car):
    with pytest.raises(UnknownNameError, match=r"unknown twin 'NOPE'"):
        repo.registry("NOPE")
    with pytest.raises(UnknownNameError, match=r"unknown twin 'NOPE'"):
        repo.commit_versions("NOPE", 0, [], {})


def test_non_json_parameters_are_refused_before_writing(store, compact_car):
    twin = create_twin(store, "VIN1", compact_car)
    v1 = twin.registry.get(1)
    bad = v1.__class__(**{**v1.__dict__, "version": 2, "status": "challenger",
                          "parameters": {"x": float("nan")}})
    with pytest.raises(ValidationError, match=r"parameters.*JSON-safe"):
        twin.repository.commit_versions("VIN1", 1, [bad], {})
    assert len(twin.registry.history()) == 1
