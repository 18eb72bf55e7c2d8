"""scikit-learn's own estimator checks, on every consumption estimator and learner."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from twinloop.learn import ConsumptionRegressor, HybridConsumptionRegressor


@parametrize_with_checks(
    [
        ConsumptionRegressor(),
        ConsumptionRegressor(learner="boosting", n_estimators=20, random_state=0),
        HybridConsumptionRegressor(),
        HybridConsumptionRegressor(residual="boosting", n_estimators=20, random_state=0),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
