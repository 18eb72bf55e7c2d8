"""Learned and hybrid consumption estimators on simulated trips."""

import json

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.learn import FEATURES, LEARNERS, ConsumptionRegressor, HybridConsumptionRegressor
from twinloop.learn._design import BASIS

ESTIMATORS = [ConsumptionRegressor, HybridConsumptionRegressor]


def _rmse(model, X, y):
    return float(np.sqrt(np.mean((model.predict(X) - y.to_numpy()) ** 2)))


def test_kinds_are_the_registry_names():
    assert ConsumptionRegressor.kind == "learned"
    assert HybridConsumptionRegressor.kind == "hybrid"


def test_hybrid_extrapolates_from_urban_to_highway_better_than_learned(leaf, urban_trips, highway_trips):
    learned = ConsumptionRegressor().fit(*urban_trips)
    hybrid = HybridConsumptionRegressor.from_spec(leaf).fit(*urban_trips)
    # Measured: learned 32.5, hybrid 17.0 J/m; the margin leaves room for solver noise.
    assert _rmse(hybrid, *highway_trips) < 0.7 * _rmse(learned, *highway_trips)
    assert _rmse(hybrid, *highway_trips) / highway_trips[1].mean() < 0.05


def test_hybrid_learns_from_few_trips_better_than_learned(leaf, mixed_trips):
    X, y = mixed_trips
    mild = X["ambient_temperature"].between(288.0, 299.0).to_numpy()
    X, y = X[mild], y[mild]
    rng = np.random.default_rng(0)
    errors = {"learned": [], "hybrid": []}
    for _ in range(5):
        order = rng.permutation(len(X))
        train, test = order[:5], order[5:]
        for name, model in (("learned", ConsumptionRegressor()), ("hybrid", HybridConsumptionRegressor.from_spec(leaf))):
            model.fit(X.iloc[train], y.iloc[train])
            errors[name].append(np.mean(np.abs(model.predict(X.iloc[test]) / y.iloc[test] - 1)))
    # Measured over these splits: learned about 0.3, hybrid about 0.04 mean relative error.
    assert np.mean(errors["hybrid"]) < 0.5 * np.mean(errors["learned"])
    assert np.mean(errors["hybrid"]) < 0.1


@pytest.mark.parametrize("learner", sorted(LEARNERS))
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_learners_fit_heating_and_cooling(cls, learner, mixed_trips):
    X, y = mixed_trips
    model = cls(**{cls._learner_param: learner}, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.95


@pytest.mark.parametrize("learner", sorted(LEARNERS))
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_to_dict_from_dict_round_trip_through_json_predicts_identically(cls, learner, mixed_trips, highway_trips):
    X, y = mixed_trips
    model = cls(**{cls._learner_param: learner}, n_estimators=30, random_state=0).fit(X, y)
    text = json.dumps(model.to_dict())
    restored = cls.from_dict(json.loads(text))
    assert restored.get_params() == model.get_params()
    np.testing.assert_array_equal(restored.predict(highway_trips[0]), model.predict(highway_trips[0]))
    np.testing.assert_array_equal(restored.feature_names_in_, model.feature_names_in_)
    assert json.dumps(restored.to_dict()) == text


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_round_trip_of_a_model_fitted_to_a_plain_array(cls):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + rng.normal(scale=0.1, size=30)
    model = cls().fit(X, y)
    assert model.feature_index_ is None
    restored = cls.from_dict(json.loads(json.dumps(model.to_dict())))
    assert not hasattr(restored, "feature_names_in_")
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_from_dict_refuses_the_other_kind(cls, mixed_trips):
    other = next(c for c in ESTIMATORS if c is not cls)
    data = other().fit(*mixed_trips).to_dict()
    with pytest.raises(ValidationError, match=f"{cls.kind!r}"):
        cls.from_dict(data)


def test_from_dict_refuses_an_unknown_learner(mixed_trips):
    data = ConsumptionRegressor().fit(*mixed_trips).to_dict()
    data["learner_state"]["learner"] = "ridgee"
    with pytest.raises(UnknownNameError, match="'ridge'"):
        ConsumptionRegressor.from_dict(data)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_unfitted_estimator_raises_not_fitted(cls, mixed_trips):
    with pytest.raises(NotFittedError):
        cls().predict(mixed_trips[0])
    with pytest.raises(NotFittedError):
        cls().to_dict()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_a_scikit_learn_learner_fits_but_does_not_export(cls, mixed_trips):
    model = cls(**{cls._learner_param: Ridge(alpha=0.1)}).fit(*mixed_trips)
    assert model.score(*mixed_trips) > 0.9
    with pytest.raises(ValidationError, match=cls._learner_param):
        model.to_dict()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_missing_feature_column_is_named_at_fit(cls, mixed_trips):
    X, y = mixed_trips
    with pytest.raises(ValidationError, match=r"missing column\(s\) mean_cubed_speed"):
        cls().fit(X.drop(columns="mean_cubed_speed"), y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_missing_feature_column_is_named_at_predict(cls, mixed_trips):
    X, y = mixed_trips
    model = cls().fit(X, y)
    with pytest.raises(ValidationError, match=r"missing column\(s\) climb, descent"):
        model.predict(X.drop(columns=["climb", "descent"]))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_names_mode_refuses_a_plain_array(cls, mixed_trips):
    X, y = mixed_trips
    with pytest.raises(ValidationError, match="missing column"):
        cls(columns="names").fit(X.to_numpy(), y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_positional_array_matches_named_table(cls, mixed_trips):
    X, y = mixed_trips
    by_name = cls().fit(X, y)
    by_position = cls(columns="positional").fit(X.to_numpy(), y.to_numpy())
    np.testing.assert_allclose(by_position.predict(X.to_numpy()), by_name.predict(X), rtol=1e-9)
    with pytest.raises(ValidationError, match=f"at least {len(FEATURES)} columns"):
        cls(columns="positional").fit(X.to_numpy()[:, :4], y)


def test_extra_columns_are_passed_to_the_learner(mixed_trips):
    X, y = mixed_trips
    X = X.assign(payload=np.linspace(0, 300, len(X)))
    model = ConsumptionRegressor().fit(X, y)
    assert model.feature_index_ == list(range(len(FEATURES)))
    assert model.learner_state_["coef"].size == len(BASIS) + 1  # the basis terms and the payload


def test_nonpositive_distance_is_refused(mixed_trips):
    X, y = mixed_trips
    X = X.copy()
    X.iloc[3, X.columns.get_loc("distance")] = 0.0
    with pytest.raises(ValidationError, match="distance"):
        HybridConsumptionRegressor().fit(X, y)


@pytest.mark.parametrize(
    ("param", "value"),
    [("drivetrain_efficiency", 1.2), ("regen_efficiency", -0.1), ("test_mass", 0.0), ("residual", "forest"), ("columns", "index")],
)
def test_bad_hybrid_parameter_is_named(param, value, mixed_trips):
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        HybridConsumptionRegressor(**{param: value}).fit(*mixed_trips)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_boosting_is_deterministic(cls, mixed_trips):
    X, y = mixed_trips
    a = cls(**{cls._learner_param: "boosting"}, random_state=3).fit(X, y).predict(X)
    b = cls(**{cls._learner_param: "boosting"}, random_state=3).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_grid_search_over_parameters(leaf, mixed_trips):
    X, y = mixed_trips
    search = GridSearchCV(
        HybridConsumptionRegressor.from_spec(leaf), {"alpha": [0.1, 10.0], "drivetrain_efficiency": [0.85, 0.9]}, cv=3
    ).fit(X, y)
    assert set(search.best_params_) == {"alpha", "drivetrain_efficiency"}
    assert isinstance(search.best_estimator_.predict(X.iloc[:2]), np.ndarray)


def test_boosting_matches_scikit_learn(mixed_trips):
    # The exported trees predict what scikit-learn's GradientBoostingRegressor does.
    from sklearn.ensemble import GradientBoostingRegressor

    from twinloop.learn._design import design_matrix

    X, y = mixed_trips
    model = ConsumptionRegressor(learner="boosting", n_estimators=25, random_state=0).fit(X, y)
    Z = design_matrix(X.to_numpy(dtype=float), model.feature_index_)
    reference = GradientBoostingRegressor(n_estimators=25, random_state=0).fit(Z, y.to_numpy())
    np.testing.assert_allclose(model.predict(X), reference.predict(Z), rtol=1e-12)
