"""Learners behind the consumption estimators, with a plain-array state.

A learner is fitted with scikit-learn and then reduced to arrays (ridge
coefficients, regression trees), so that prediction needs only numpy and a
fitted model exports to JSON and back with identical predictions. A
scikit-learn regressor passed instead of a name is fitted and used as it is
(it cannot be exported).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge

from twinloop.errors import UnknownNameError, ValidationError

__all__ = ["LEARNERS", "Learner", "dump_state", "fit_learner", "load_state", "predict_learner"]

FloatArray = npt.NDArray[np.float64]
State = dict[str, Any]


class Learner(Protocol):
    """How a registered learner fits to arrays and predicts from them."""

    @staticmethod
    def fit(Z: FloatArray, y: FloatArray, params: dict[str, Any]) -> State: ...

    @staticmethod
    def predict(state: State, Z: FloatArray) -> FloatArray: ...

    @staticmethod
    def load(data: dict[str, Any]) -> State: ...

    @staticmethod
    def check(state: State, width: int) -> None: ...


class RidgeLearner:
    """Ridge regression on standardised columns (penalty ``alpha``)."""

    @staticmethod
    def fit(Z: FloatArray, y: FloatArray, params: dict[str, Any]) -> State:
        mean = Z.mean(axis=0)
        scale = Z.std(axis=0)
        scale[scale < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0  # constant columns carry no information
        ridge = Ridge(alpha=params["alpha"]).fit((Z - mean) / scale, y)
        return {
            "mean": mean,
            "scale": scale,
            "coef": np.asarray(ridge.coef_, dtype=float),
            "intercept": float(ridge.intercept_),
        }

    @staticmethod
    def predict(state: State, Z: FloatArray) -> FloatArray:
        return np.asarray(((Z - state["mean"]) / state["scale"]) @ state["coef"] + state["intercept"])

    @staticmethod
    def load(data: dict[str, Any]) -> State:
        return {
            "mean": np.asarray(data["mean"], dtype=float),
            "scale": np.asarray(data["scale"], dtype=float),
            "coef": np.asarray(data["coef"], dtype=float),
            "intercept": float(data["intercept"]),
        }

    @staticmethod
    def check(state: State, width: int) -> None:
        """Refuse a state that does not predict from `width` columns (a tampered export)."""
        for key in ("mean", "scale", "coef"):
            _check_shape(f"learner_state.{key}", state[key], (width,))
        if not np.all(state["scale"] > 0):
            raise ValidationError("learner_state.scale", "> 0 in every column", f"min {np.min(state['scale']):g}")


class BoostingLearner:
    """Gradient-boosted regression trees (scikit-learn's GradientBoostingRegressor)."""

    @staticmethod
    def fit(Z: FloatArray, y: FloatArray, params: dict[str, Any]) -> State:
        gbr = GradientBoostingRegressor(
            n_estimators=params["n_estimators"],
            learning_rate=params["learning_rate"],
            max_depth=params["max_depth"],
            random_state=params["random_state"],
        ).fit(Z, y)
        trees = [est.tree_ for est in gbr.estimators_[:, 0]]
        return {
            "baseline": float(np.ravel(gbr.init_.constant_)[0]),
            "learning_rate": float(gbr.learning_rate),
            "left": [np.asarray(t.children_left, dtype=np.int64) for t in trees],
            "right": [np.asarray(t.children_right, dtype=np.int64) for t in trees],
            "feature": [np.asarray(t.feature, dtype=np.int64) for t in trees],
            "threshold": [np.asarray(t.threshold, dtype=float) for t in trees],
            "value": [np.asarray(t.value[:, 0, 0], dtype=float) for t in trees],
        }

    @staticmethod
    def predict(state: State, Z: FloatArray) -> FloatArray:
        # scikit-learn's trees compare float32 inputs with float64 thresholds.
        Zf = Z.astype(np.float32).astype(np.float64)
        rows = np.arange(Z.shape[0])
        out = np.full(Z.shape[0], state["baseline"])
        for left, right, feature, threshold, value in zip(
            state["left"], state["right"], state["feature"], state["threshold"], state["value"], strict=True
        ):
            node = np.zeros(Z.shape[0], dtype=np.int64)
            inner = left[node] >= 0
            while inner.any():
                go_left = Zf[rows, np.maximum(feature[node], 0)] <= threshold[node]
                node = np.where(inner, np.where(go_left, left[node], right[node]), node)
                inner = left[node] >= 0
            out += state["learning_rate"] * value[node]
        return out

    @staticmethod
    def load(data: dict[str, Any]) -> State:
        state: State = {"baseline": float(data["baseline"]), "learning_rate": float(data["learning_rate"])}
        for key, dtype in (("left", np.int64), ("right", np.int64), ("feature", np.int64)):
            state[key] = [np.asarray(a, dtype=dtype) for a in data[key]]
        for key in ("threshold", "value"):
            state[key] = [np.asarray(a, dtype=float) for a in data[key]]
        return state

    @staticmethod
    def check(state: State, width: int) -> None:
        """Refuse trees that do not predict from `width` columns or do not end in leaves."""
        n_trees = len(state["left"])
        for key in ("right", "feature", "threshold", "value"):
            if len(state[key]) != n_trees:
                raise ValidationError(f"learner_state.{key}", f"{n_trees} trees, as learner_state.left", f"{len(state[key])}")
        for i, (left, right, feature, threshold, value) in enumerate(
            zip(state["left"], state["right"], state["feature"], state["threshold"], state["value"], strict=True)
        ):
            nodes = left.shape if left.ndim == 1 and left.size else (1,)
            for key, array in (("left", left), ("right", right), ("feature", feature), ("threshold", threshold), ("value", value)):
                _check_shape(f"learner_state.{key}[{i}]", array, nodes)
            ids = np.arange(left.size)
            inner = left >= 0
            # scikit-learn numbers a node's children after it, so that every path ends in a leaf.
            if np.any(inner & ~((left > ids) & (right > ids) & (left < left.size) & (right < left.size))) or np.any(
                inner & ((feature < 0) | (feature >= width))
            ):
                raise ValidationError(
                    f"learner_state tree {i}", f"child nodes after their parent, features in [0, {width})",
                    "a node that breaks this",
                )


def _check_shape(field: str, array: Any, shape: tuple[int, ...]) -> None:
    """Refuse an array of another shape, or with NaN or inf."""
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValidationError(field, f"finite numbers of shape {shape}", f"shape {array.shape}" if array.shape != shape else "NaN or inf")


#: Learners by name; each name is a valid ``learner``/``residual`` argument.
LEARNERS: dict[str, type[Learner]] = {"ridge": RidgeLearner, "boosting": BoostingLearner}


def fit_learner(learner: Any, Z: FloatArray, y: FloatArray, params: dict[str, Any]) -> State:
    """Fit a registered learner (by name) or a clone of a scikit-learn regressor.

    The state records which: ``state["learner"]`` is the name, or None.
    """
    if isinstance(learner, str):
        return {"learner": learner, **LEARNERS[learner].fit(Z, y, params)}
    return {"learner": None, "estimator": clone(learner).fit(Z, y)}


def predict_learner(state: State, Z: FloatArray) -> FloatArray:
    """Predict with a state made by :func:`fit_learner`."""
    if state["learner"] is None:
        return np.asarray(state["estimator"].predict(Z), dtype=float).reshape(-1)
    return LEARNERS[state["learner"]].predict(state, Z)


def dump_state(state: State) -> dict[str, Any]:
    """A JSON-safe copy of a registered learner's state (arrays become lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {key: plain(value) for key, value in state.items()}


def load_state(data: dict[str, Any], width: int) -> State:
    """Inverse of :func:`dump_state`, for a learner that predicts from `width` columns.

    Raises
    ------
    UnknownNameError
        For an unknown learner name.
    ValidationError
        For a state that is not the learner's (a key missing, arrays of the
        wrong shape or type): a tampered or foreign export.
    """
    if not isinstance(data, dict):
        raise ValidationError("learner_state", "a dict from to_dict()", type(data).__name__)
    name = data.get("learner")
    if name not in LEARNERS:
        raise UnknownNameError("learner", str(name), LEARNERS)
    learner = LEARNERS[name]
    try:
        state = learner.load(data)
    except KeyError as exc:
        raise ValidationError("learner_state", f"the state of a {name} learner", f"no key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ValidationError("learner_state", f"the state of a {name} learner (numbers and lists)", str(exc)) from None
    learner.check(state, width)
    return {"learner": name, **state}
