r"""Driving styles: trips grouped by how firmly they are driven, without labels.

:class:`DrivingStyleClusterer` is k-means on standardised columns with a
fixed seed, its clusters numbered by their centre's first column, so that
cluster 0 is the calmest when that column grows with vigour. It follows
scikit-learn's estimator contract (``fit`` returns self, learned attributes
end in ``_``, ``get_params``/``set_params``) and passes its checks.

The profile database fits it to every profiled trip of at least
:data:`MIN_STYLE_DISTANCE` on the :data:`STYLE_FEATURES` (:func:`fit_styles`),
keeps the centres and the standardisation in ``profile_styles``, labels
each trip's ``style``, and labels trips profiled later with the stored
centres (:func:`label_new_trips`) until it is fitted again. With three
clusters they are named :data:`STYLE_NAMES` (calm, moderate, dynamic).

The features describe the road as much as the driver: a trip in town asks
for more acceleration than one on a motorway whoever drives. Compare the
styles of drivers on similar roads, or read them as "how dynamic the trip
was".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Integral
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from twinloop.apps.profile_histograms import percentiles
from twinloop.apps.profile_schema import PROFILE_SCHEMA, PROFILE_TABLE, STYLE_TABLE

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.store.base import TelemetryStore

__all__ = [
    "MIN_STYLE_DISTANCE",
    "STYLE_FEATURES",
    "STYLE_NAMES",
    "DrivingStyleClusterer",
    "StyleFit",
    "fit_styles",
    "label_new_trips",
    "stored_styles",
    "style_features",
    "style_profiles",
]

FloatArray = npt.NDArray[np.float64]

STYLE_FEATURES = (
    "characteristic_acceleration_mps2",
    "characteristic_deceleration_mps2",
    "acceleration_p95_mps2",
    "acceleration_p05_mps2",
)
"""The trip columns the styles are fitted on; the first orders the clusters.

O'Keefe's characteristic acceleration and deceleration (work per metre) and
the 95th and 5th percentiles of the acceleration while moving (the firmest
accelerating and braking a trip does regularly, on the 1 s trace).
"""

STYLE_NAMES = ("calm", "moderate", "dynamic")
"""Names of the clusters when there are three, by ascending characteristic acceleration."""

MIN_STYLE_DISTANCE = 1000.0
"""Least distance [m] of a trip that is fitted and labelled: shorter ones are too few steps to judge."""


class DrivingStyleClusterer(ClusterMixin, BaseEstimator):
    r"""k-means clustering on standardised columns, clusters ordered by their first column.

    Parameters
    ----------
    n_clusters : int, default 3
        Number of clusters, >= 1.
    n_init : int, default 10
        k-means restarts; the one of least inertia is kept.
    random_state : int, RandomState or None, default 0
        Seed of the k-means initialisation (fixed by default: the same trips
        give the same styles).

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (n_features,)
        The standardisation :math:`z = (x - \mu)/\sigma` (a column that does
        not vary gets :math:`\sigma = 1`).
    cluster_centers_ : ndarray, shape (n_clusters, n_features)
        Centres in the input's units, in ascending order of the first column.
    labels_ : ndarray of int, shape (n_samples,)
        Cluster of each training row.
    inertia_ : float
        Sum of squared standardised distances to the nearest centre.
    names_ : tuple of str
        :data:`STYLE_NAMES` for three clusters, else ``style_1`` ... by rank.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When fitted on a table with text column names.

    Examples
    --------
    >>> X = np.array([[0.1, 1.0], [0.12, 1.1], [0.3, 2.0], [0.31, 2.1], [0.6, 3.0], [0.62, 3.2]])
    >>> est = DrivingStyleClusterer(random_state=0).fit(X)
    >>> est.labels_.tolist(), [est.names_[k] for k in est.predict([[0.55, 2.9]])]
    ([0, 0, 1, 1, 2, 2], ['dynamic'])
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters: int = 3, n_init: int = 10, random_state: Any = 0) -> None:
        self.n_clusters = n_clusters
        self.n_init = n_init
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> Self:
        """Cluster the rows of `X` (n_samples >= n_clusters, finite numbers); `y` is ignored."""
        from sklearn.cluster import KMeans

        X = validate_data(self, X, dtype=np.float64)
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        kmeans = KMeans(n_clusters=self.n_clusters, n_init=self.n_init, random_state=self.random_state)
        kmeans.fit((X - mean) / scale)
        order = np.argsort(kmeans.cluster_centers_[:, 0], kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        self.mean_ = mean
        self.scale_ = scale
        self.cluster_centers_ = kmeans.cluster_centers_[order] * scale + mean
        self.labels_ = rank[kmeans.labels_].astype(np.intp)
        self.inertia_ = float(kmeans.inertia_)
        self.names_ = _names(self.n_clusters)
        return self

    def predict(self, X: Any) -> npt.NDArray[np.intp]:
        """The nearest centre (standardised distance) of each row of `X`."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return _nearest((X - self.mean_) / self.scale_, (self.cluster_centers_ - self.mean_) / self.scale_)

    @classmethod
    def from_centres(cls, centres: Any, mean: Any, scale: Any, feature_names: Sequence[str] | None = None) -> Self:
        """A fitted clusterer from stored centres and standardisation (as :func:`fit_styles` keeps them)."""
        est = cls(n_clusters=len(centres))
        est.cluster_centers_ = np.asarray(centres, dtype=float)
        est.mean_ = np.asarray(mean, dtype=float)
        est.scale_ = np.asarray(scale, dtype=float)
        est.n_features_in_ = est.mean_.size
        if feature_names is not None:
            est.feature_names_in_ = np.asarray(list(feature_names), dtype=object)
        est.names_ = _names(len(centres))
        return est


def _names(k: int) -> tuple[str, ...]:
    return STYLE_NAMES if k == len(STYLE_NAMES) else tuple(f"style_{i + 1}" for i in range(k))


def _nearest(z: FloatArray, centres: FloatArray) -> npt.NDArray[np.intp]:
    distance = ((z[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(distance, axis=1).astype(np.intp)


# -- the styles of the profile database ----------------------------------------------------------

def style_features(row: Mapping[str, Any]) -> list[float] | None:
    """The :data:`STYLE_FEATURES` of a stored trip row; None when it is too short or lacks one."""
    distance = row.get("distance_m")
    if distance is None or not distance >= MIN_STYLE_DISTANCE or row.get("histograms") is None:
        return None
    values = {**row, **percentiles(row["histograms"])}
    out = [values.get(name) for name in STYLE_FEATURES]
    if any(v is None or not math.isfinite(float(v)) for v in out):
        return None
    return [float(v) for v in out if v is not None]


@dataclass(frozen=True)
class StyleFit:
    """What :func:`fit_styles` did.

    Attributes
    ----------
    clusterer : DrivingStyleClusterer or None
        The fitted styles; None when there were too few trips.
    trips : int
        Trips with the style features (at least :data:`MIN_STYLE_DISTANCE`).
    note : str
        Why nothing was fitted; empty otherwise.
    """

    clusterer: DrivingStyleClusterer | None
    trips: int
    note: str = ""


def fit_styles(store: TelemetryStore, n_clusters: int = 3, min_trips: int = 10,
               random_state: int = 0) -> StyleFit:
    """Fit the styles to every profiled trip, store the centres and label every trip.

    Parameters
    ----------
    store : TelemetryStore
    n_clusters : int
        Number of styles.
    min_trips : int
        Least number of trips of at least :data:`MIN_STYLE_DISTANCE` to fit
        on; with fewer, nothing is fitted or changed, and the note says so.
    random_state : int
        k-means seed.

    Returns
    -------
    StyleFit
    """
    from twinloop.apps.profile_store import stored_profiles

    store.extend(PROFILE_SCHEMA)
    rows = stored_profiles(store)
    features = [(r, style_features(r)) for r in rows]
    usable = [(r, f) for r, f in features if f is not None]
    need = max(min_trips, n_clusters)
    if len(usable) < need:
        return StyleFit(None, len(usable), f"styles not fitted: {len(usable)} trip(s) of at least"
                        f" {MIN_STYLE_DISTANCE / 1000:g} km with the style features, {need} needed")
    import pandas

    X = pandas.DataFrame([f for _, f in usable], columns=list(STYLE_FEATURES))
    est = DrivingStyleClusterer(n_clusters=n_clusters, random_state=random_state).fit(X)
    labels = {(r["vin"], int(r["trip_no"])): est.names_[k] for (r, _), k in zip(usable, est.labels_, strict=True)}
    now = datetime.now(UTC)
    counts = np.bincount(est.labels_, minlength=n_clusters)
    with store.transaction():
        for old in store.select(STYLE_TABLE, ["style"]):
            store.delete(STYLE_TABLE, {"style": old["style"]})
        store.insert(STYLE_TABLE, [
            {"style": name, "rank": k, "centre": dict(zip(STYLE_FEATURES, map(float, est.cluster_centers_[k]), strict=True)),
             "mean": dict(zip(STYLE_FEATURES, map(float, est.mean_), strict=True)),
             "scale": dict(zip(STYLE_FEATURES, map(float, est.scale_), strict=True)),
             "trips": int(counts[k]), "fitted_at": now}
            for k, name in enumerate(est.names_)
        ])
        for r in rows:
            key = (r["vin"], int(r["trip_no"]))
            if r["style"] != labels.get(key):
                store.update(PROFILE_TABLE, {"style": labels.get(key)}, {"vin": key[0], "trip_no": key[1]})
    return StyleFit(est, len(usable))


def stored_styles(store: TelemetryStore) -> DrivingStyleClusterer | None:
    """The clusterer kept in ``profile_styles``; None before styles were fitted."""
    store.extend(PROFILE_SCHEMA)
    rows = store.select(STYLE_TABLE, order_by=["rank"])
    if not rows:
        return None
    return DrivingStyleClusterer.from_centres(
        [[r["centre"][f] for f in STYLE_FEATURES] for r in rows],
        [rows[0]["mean"][f] for f in STYLE_FEATURES], [rows[0]["scale"][f] for f in STYLE_FEATURES],
        STYLE_FEATURES,
    )


def label_new_trips(store: TelemetryStore) -> int:
    """Label, with the stored centres, every profiled trip that has no style yet; return how many.

    Nothing happens before styles were fitted (:func:`fit_styles`); trips
    shorter than :data:`MIN_STYLE_DISTANCE` stay without a style.
    """
    from twinloop.apps.profile_store import stored_profiles

    est = stored_styles(store)
    if est is None:
        return 0
    todo = [(r, f) for r in stored_profiles(store) if r["style"] is None and (f := style_features(r)) is not None]
    if not todo:
        return 0
    labels = _nearest((np.array([f for _, f in todo]) - est.mean_) / est.scale_,
                      (est.cluster_centers_ - est.mean_) / est.scale_)
    with store.transaction():
        for (r, _), k in zip(todo, labels, strict=True):
            store.update(PROFILE_TABLE, {"style": est.names_[int(k)]}, {"vin": r["vin"], "trip_no": int(r["trip_no"])})
    return len(todo)


def style_profiles(store: TelemetryStore) -> pd.DataFrame:
    """The stored styles: one row per cluster, calmest first.

    Returns
    -------
    pandas.DataFrame
        ``style``, ``rank``, ``trips`` (labelled now), ``distance_m`` and
        ``time_share`` (of the labelled trips' time), the centre's
        :data:`STYLE_FEATURES`, and ``fitted_at``. Empty (with those
        columns) before styles were fitted.
    """
    import pandas as pd

    from twinloop.apps.profile_store import stored_profiles

    store.extend(PROFILE_SCHEMA)
    columns = ["style", "rank", "trips", "distance_m", "time_share", *STYLE_FEATURES, "fitted_at"]
    styles = store.select(STYLE_TABLE, order_by=["rank"])
    trips = [r for r in stored_profiles(store) if r["style"] is not None]
    total = sum(r["duration_s"] or 0.0 for r in trips)
    records = []
    for s in styles:
        mine = [r for r in trips if r["style"] == s["style"]]
        records.append({
            "style": s["style"], "rank": s["rank"], "trips": len(mine),
            "distance_m": float(sum(r["distance_m"] or 0.0 for r in mine)),
            "time_share": sum(r["duration_s"] or 0.0 for r in mine) / total if total > 0 else math.nan,
            **{f: s["centre"][f] for f in STYLE_FEATURES}, "fitted_at": s["fitted_at"],
        })
    frame = pd.DataFrame(records, columns=columns).astype({"rank": "int64", "trips": "int64"})
    frame["fitted_at"] = pd.to_datetime(frame["fitted_at"], utc=True)
    return frame
