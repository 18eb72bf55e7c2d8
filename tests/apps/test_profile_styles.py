"""Driving styles: the clusterer passes scikit-learn's checks; hand-made clusters come out in order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from twinloop.apps.profile_styles import STYLE_NAMES, DrivingStyleClusterer


@parametrize_with_checks([DrivingStyleClusterer(), DrivingStyleClusterer(n_clusters=2, n_init=3, random_state=1)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _three_groups(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.3, 1.4], [0.08, 0.5], [0.16, 1.0]])  # dynamic, calm, moderate: not in order
    return np.vstack([c + rng.normal(0, 0.01, size=(20, 2)) for c in centres])


def test_clusters_are_numbered_by_their_first_column_and_named_calm_to_dynamic():
    X = _three_groups()
    est = DrivingStyleClusterer().fit(X)
    assert est.names_ == STYLE_NAMES
    assert est.cluster_centers_[:, 0] == pytest.approx([0.08, 0.16, 0.3], abs=0.01)
    assert est.labels_.tolist() == [2] * 20 + [0] * 20 + [1] * 20
    assert est.predict([[0.1, 0.6], [0.29, 1.3]]).tolist() == [0, 2]
    # standardised: the second column (ten times larger) does not outweigh the first
    assert est.scale_ == pytest.approx(X.std(axis=0))


def test_the_same_trips_give_the_same_styles_and_stored_centres_predict_alike():
    X = _three_groups(1)
    a, b = DrivingStyleClusterer().fit(X), DrivingStyleClusterer().fit(X)
    assert np.array_equal(a.labels_, b.labels_) and np.array_equal(a.cluster_centers_, b.cluster_centers_)
    copy = DrivingStyleClusterer.from_centres(a.cluster_centers_.tolist(), a.mean_.tolist(), a.scale_.tolist())
    assert np.array_equal(copy.predict(X), a.labels_)
    assert copy.names_ == STYLE_NAMES


def test_other_numbers_of_clusters_are_named_by_rank_and_bad_parameters_are_refused():
    est = DrivingStyleClusterer(n_clusters=2).fit(_three_groups())
    assert est.names_ == ("style_1", "style_2")
    with pytest.raises(ValueError, match="n_clusters"):
        DrivingStyleClusterer(n_clusters=0).fit(_three_groups())
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        DrivingStyleClusterer().fit([[0.1, 1.0], [0.2, 2.0]])
