"""The model registry: versions, champion and challengers, restore, recalibration that fails safely."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from twinloop.errors import CalibrationError, StoreError, UnknownNameError, ValidationError
from twinloop.twin.consumption import PhysicsConsumptionModel
from twinloop.twin.registry import (
    MODEL_TYPES,
    ConsumptionModel,
    InMemoryLedger,
    ModelRegistry,
    ModelType,
    model_class,
)


class MeanPerMetre:
    """A learned model in miniature: the mean energy per metre of the training trips."""

    kind = "learned"

    def __init__(self, mean: float = 0.0) -> None:
        self.mean = mean

    def fit(self, X: pd.DataFrame, y: Any) -> MeanPerMetre:
        self.mean = float(np.mean(y))
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.full(len(X), self.mean)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MeanPerMetre:
        return cls(float(d["mean"]))


@pytest.fixture
def mean_model_type(monkeypatch):
    monkeypatch.setitem(MODEL_TYPES, "MeanPerMetre", ModelType("MeanPerMetre", "learned", lambda: MeanPerMetre))


@pytest.fixture
def truth(compact_car):
    return PhysicsConsumptionModel.from_spec(
        compact_car, drivetrain_efficiency=0.8, regen_efficiency=0.5, auxiliary_power=400.0
    )


@pytest.fixture
def registry(compact_car):
    reg = ModelRegistry("VIN1", InMemoryLedger())
    reg.register(PhysicsConsumptionModel.from_spec(compact_car), reason="initial", created_by="test",
                 status="champion")
    return reg


def test_every_registered_model_type_loads_and_round_trips(trips, truth):
    X = trips(40, seed=3)
    y = truth.predict(X)
    for name, entry in MODEL_TYPES.items():
        try:
            cls = model_class(name)
        except ValidationError as exc:
            # A learned type whose code is not installed must say which and where.
            assert entry.kind in ("learned", "hybrid") and name in str(exc) and "twinloop.learn" in str(exc)
            assert not hasattr(importlib.import_module("twinloop.learn"), name)
            continue
        model = truth if name == "PhysicsConsumptionModel" else cls()
        model.fit(X, y)
        assert isinstance(model, ConsumptionModel)
        again = cls.from_dict(json.loads(json.dumps(model.to_dict())))
        np.testing.assert_allclose(again.predict(X), model.predict(X), rtol=1e-12)
    assert MODEL_TYPES["PhysicsConsumptionModel"].kind == "physics"


def test_unknown_model_type_suggests_close_names():
    with pytest.raises(UnknownNameError, match=r"did you mean 'PhysicsConsumptionModel'"):
        model_class("PhysicsConsumptionModle")


def test_an_unregistered_model_class_is_refused(registry):
    with pytest.raises(UnknownNameError, match=r"unknown model type 'MeanPerMetre'.*register_model_type"):
        registry.register(MeanPerMetre(), reason="x", created_by="test")


def test_first_version_is_the_champion_with_provenance(registry):
    champ = registry.champion()
    assert (champ.version, champ.kind, champ.status, champ.model_type) == (1, "physics", "champion",
                                                                          "PhysicsConsumptionModel")
    assert champ.provenance.reason == "initial" and champ.provenance.parent_version is None
    assert champ.training_start is None and champ.validation_error is None
    assert isinstance(champ.model(), PhysicsConsumptionModel)


def test_promoting_a_challenger_retires_the_champion(registry, mean_model_type):
    v2 = registry.register(MeanPerMetre(500.0), reason="experiment", created_by="analyst", parent_version=1)
    assert v2.status == "challenger" and v2.kind == "learned"
    assert [v.version for v in registry.challengers()] == [2]
    registry.promote(2)
    assert [(v.version, v.status) for v in registry.history()] == [(1, "retired"), (2, "champion")]
    with pytest.raises(ValidationError, match=r"version 1: expected a challenger.*received 'retired'"):
        registry.promote(1)


def test_restore_creates_a_new_version_equal_in_parameters(registry, mean_model_type):
    registry.register(MeanPerMetre(500.0), reason="experiment", created_by="a", status="champion")
    before = registry.history()
    v3 = registry.restore(1, created_by="ops")
    assert v3.version == 3 and v3.status == "champion"
    assert v3.parameters == before[0].parameters and v3.model_type == before[0].model_type
    assert v3.provenance.parent_version == 1 and v3.provenance.reason == "restore of v1"
    after = registry.history()
    # history is never rewritten: earlier versions keep their parameters and provenance
    assert [(v.version, v.parameters, v.provenance) for v in after[:2]] == [
        (v.version, v.parameters, v.provenance) for v in before
    ]
    assert [v.status for v in after] == ["retired", "retired", "champion"]


def test_restoring_the_champion_adds_no_version(registry, mean_model_type):
    registry.register(MeanPerMetre(500.0), reason="experiment", created_by="a", status="champion")
    before = registry.history()
    assert registry.restore(2, created_by="ops") == before[1]
    assert registry.history() == before
    v3 = registry.restore(1, created_by="ops")
    assert v3.version == 3
    assert registry.restore(1, created_by="ops") == v3  # the champion already serves v1's model
    assert len(registry.history()) == 3


def test_unknown_version_lists_the_known_ones(registry):
    with pytest.raises(UnknownNameError, match=r"unknown model version of VIN1 '9'.*Known versions: 1"):
        registry.restore(9, created_by="ops")


@pytest.mark.parametrize("version", [0, -1, True, "1", 1.0])
def test_restore_of_version_zero_negative_or_not_an_integer_names_the_rule(registry, version):
    with pytest.raises(ValidationError, match=r"version: expected a model version number >= 1 \(those of VIN1: 1\)"):
        registry.restore(version, created_by="ops")
    assert [v.version for v in registry.history()] == [1]
    assert registry.get(np.int64(1)).version == 1  # a number from a table still finds its version


def test_scoring_promotes_a_challenger_only_when_better_by_the_margin(registry, truth, trips, mean_model_type):
    X = trips(30, seed=5)
    y = truth.predict(X)
    good = PhysicsConsumptionModel(**{**truth.to_dict()})
    registry.register(MeanPerMetre(float(np.mean(y))), reason="baseline", created_by="t")
    registry.register(good, reason="candidate", created_by="t")
    result = registry.score(X, y, margin=0.05, promote=False)
    assert result.champion == 1 and result.best == 3 and result.promoted == 3
    assert result.errors[3] == pytest.approx(0.0, abs=1e-9) and result.errors[1] > 0
    assert registry.champion().version == 1  # promote=False only reports
    registry.score(X, y)
    assert registry.champion().version == 3 and registry.get(1).status == "retired"
    # the new champion against an almost equal challenger: within the margin, no change
    registry.register(PhysicsConsumptionModel(**{**truth.to_dict(), "auxiliary_power": 401.0}),
                      reason="candidate", created_by="t")
    assert registry.score(X, y, margin=0.05).promoted is None
    assert registry.champion().version == 3


def test_recalibration_fits_a_copy_and_records_window_and_error(registry, truth, trips):
    X = trips(40, seed=6)
    y = truth.predict(X) + np.random.default_rng(7).normal(0, 5, len(X))
    new = registry.recalibrate(X, y, reason="calibration", created_by="t", promote="always")
    assert new.version == 2 and new.status == "champion" and new.provenance.parent_version == 1
    assert new.training_start == X.index[0] and new.training_end == X.index[-1]
    assert 0 < new.validation_error < 15 and new.residual_band.std == pytest.approx(5, rel=0.4)
    assert new.model().drivetrain_efficiency == pytest.approx(0.8, rel=0.03)
    assert registry.get(1).parameters["drivetrain_efficiency"] != new.parameters["drivetrain_efficiency"]


def test_recalibration_that_is_not_better_stays_a_challenger(registry, truth, trips):
    X = trips(40, seed=8)
    y = truth.predict(X)
    registry.recalibrate(X, y, reason="calibration", created_by="t", promote="always")
    again = registry.recalibrate(X, y, reason="drift", created_by="t", margin=0.5)
    assert again.status == "challenger" and registry.champion().version == 2


def test_failed_recalibration_keeps_the_champion(registry, truth, trips):
    before = registry.history()
    X = trips(6)
    with pytest.raises(CalibrationError, match=r"needs at least 10 trips of new data, got 6; the champion is kept"):
        registry.recalibrate(X, truth.predict(X), reason="drift", created_by="t")
    flat = trips(20).assign(braking_energy=0.0, decel_share=0.0, decel_speed=0.0, decel_squared_speed=0.0)
    with pytest.raises(CalibrationError, match=r"no trip has braking.*the champion of VIN1 is kept"):
        registry.recalibrate(flat, truth.predict(flat), reason="drift", created_by="t")
    assert registry.history() == before


def test_a_stale_registry_cannot_overwrite_a_newer_version(compact_car):
    ledger = InMemoryLedger()
    first, second = ModelRegistry("V", ledger), ModelRegistry("V", ledger)
    model = PhysicsConsumptionModel.from_spec(compact_car)
    first.register(model, reason="initial", created_by="a", status="champion")
    stale = first.history()
    second.register(model, reason="other writer", created_by="b", status="champion")
    with pytest.raises(StoreError, match=r"changed meanwhile"):
        ledger.commit_versions("V", stale[-1].version, [], {1: "retired"})
    assert [(v.version, v.status) for v in first.history()] == [(1, "retired"), (2, "champion")]


def test_bad_arguments_are_named(registry, trips, truth):
    X = trips(20)
    with pytest.raises(UnknownNameError, match=r"promotion rule"):
        registry.recalibrate(X, truth.predict(X), reason="r", created_by="t", promote="yes")
    with pytest.raises(ValidationError, match=r"margin"):
        registry.score(X, truth.predict(X), margin=1.5)
    with pytest.raises(ValidationError, match=r"status"):
        registry.register(truth, reason="r", created_by="t", status="retired")
    with pytest.raises(ValidationError, match=r"provenance.reason"):
        registry.register(truth, reason="", created_by="t")
    assert len(registry.history()) == 1


def test_score_without_champion_is_a_calibration_error():
    with pytest.raises(CalibrationError, match=r"no champion"):
        ModelRegistry("V", InMemoryLedger()).score(pd.DataFrame(), [])


def test_a_hybrid_challenger_is_stored_scored_and_promoted_like_any_model(store, compact_car, trips):
    learn = importlib.import_module("twinloop.learn")
    if not hasattr(learn, "HybridConsumptionRegressor"):
        pytest.skip("twinloop.learn has no HybridConsumptionRegressor in this checkout")
    from twinloop.twin.lifecycle import create_twin, open_twin

    # The real car draws HVAC power that grows below 15 degC, which the physics model lacks.
    X = trips(120, seed=9)
    cold = np.clip(288.15 - X["ambient_temperature"].to_numpy(), 0, None)
    truth = PhysicsConsumptionModel.from_spec(compact_car, drivetrain_efficiency=0.8, regen_efficiency=0.5)
    y = truth.predict(X) + 150.0 * cold * X["duration"].to_numpy() / X["distance"].to_numpy()
    twin = create_twin(store, "VIN1", compact_car)
    hybrid = learn.HybridConsumptionRegressor.from_spec(compact_car).fit(X.iloc[:80], y[:80])
    v2 = twin.registry.register(hybrid, reason="experiment", created_by="t", parent_version=1)
    assert v2.kind == "hybrid" and v2.model_type == "HybridConsumptionRegressor"
    result = open_twin(store, "VIN1").registry.score(X.iloc[80:], y[80:])
    assert result.promoted == 2 and result.errors[2] < 0.5 * result.errors[1]
    champion = open_twin(store, "VIN1").registry.champion()
    np.testing.assert_allclose(champion.model().predict(X), hybrid.predict(X), rtol=1e-9)
