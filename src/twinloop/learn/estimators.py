"""Learned and hybrid (physics + learned residual) consumption estimators.

Both predict :data:`~twinloop.learn.features.TARGET`, battery energy per
distance [J m-1], from trips described by the columns of
:data:`~twinloop.learn.features.FEATURES`, and follow scikit-learn's
estimator contract (they pass ``parametrize_with_checks``).

Which input columns are the FEATURES is set by ``columns``:

``"auto"`` (default)
    By name, when X is a DataFrame that names every FEATURES column (other
    columns are passed to the learner as they are). An input that names none
    of them (a plain array, any other table) is used as it is: the learned
    model regresses on its raw columns and the hybrid's physics term is zero,
    so that the hybrid is then its residual learner alone. A table that
    names some FEATURES but not all is refused, naming the missing ones.
``"names"``
    By name, every FEATURES column required.
``"positional"``
    The first ``len(FEATURES)`` columns of an array, in FEATURES order.

With FEATURES columns the learners regress on physically motivated terms
(:data:`~twinloop.learn._design.BASIS`: the road-load terms, time per
distance for constant loads, heating and cooling demand per distance).
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from twinloop.errors import UnknownNameError, ValidationError, close_matches
from twinloop.learn._design import (
    BASIS,
    COLUMN_MODES,
    design_matrix,
    feature_columns,
    feature_index,
)
from twinloop.learn._learners import LEARNERS, dump_state, fit_learner, load_state, predict_learner
from twinloop.learn.features import FEATURES
from twinloop.learn.road_load import road_load_consumption
from twinloop.parameters.spec import VehicleSpec
from twinloop.quantities import quantity

__all__ = ["ConsumptionRegressor", "HybridConsumptionRegressor"]

FloatArray = npt.NDArray[np.float64]

FORMAT = "twinloop.learn.consumption/1"
"""Tag of the dicts written by ``to_dict``; bumped when their layout changes."""

_LEARNER_PARAMS = ("alpha", "n_estimators", "learning_rate", "max_depth", "random_state")


class _ConsumptionEstimator(RegressorMixin, BaseEstimator):
    """What learned and hybrid estimators share: columns, learner, export."""

    kind: ClassVar[str]
    _learner_param: ClassVar[str]

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "columns": [StrOptions(set(COLUMN_MODES))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_depth": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    # -- hooks -------------------------------------------------------------
    def _offset(self, X: FloatArray, index: list[int] | None) -> FloatArray:
        """What the learner does not have to learn (zero for a purely learned model)."""
        return np.zeros(X.shape[0])

    # -- validation ----------------------------------------------------------
    def _validate_params(self) -> None:
        # scikit-learn's message, with close matches for a misspelt option name
        try:
            super()._validate_params()
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{exc}{self._did_you_mean()}") from None

    def _did_you_mean(self) -> str:
        options = {"columns": COLUMN_MODES, self._learner_param: tuple(LEARNERS)}
        for param, known in options.items():
            value = getattr(self, param)
            if isinstance(value, str) and value not in known:
                matches = close_matches(value, known)
                if matches:
                    return f" Did you mean {', '.join(repr(m) for m in matches)} for {param!r}?"
        return ""

    def _validate_fit(self, X: Any, y: Any) -> tuple[FloatArray, FloatArray]:
        """`X` and `y` as float arrays, naming a non-numeric column or a NaN or inf value."""
        _check_numeric_columns(X)
        _check_finite_target(y)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, ensure_all_finite=False)
        _check_finite(X, getattr(self, "feature_names_in_", None))
        return X, y

    def _prepare(self, X: Any) -> FloatArray:
        """The input of :meth:`predict`: checked, and a FEATURES table in the column order of fit."""
        check_is_fitted(self)
        self._check_columns(X)
        X = self._align_columns(X)
        _check_numeric_columns(X)
        X = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite=False)
        _check_finite(X, getattr(self, "feature_names_in_", None))
        return np.asarray(X)

    def _align_columns(self, X: Any) -> Any:
        # FEATURES are found by name, so a table with fit's columns in another order is put back in order.
        names = getattr(self, "feature_names_in_", None)
        if self.feature_index_ is None or names is None or self.columns == "positional" or not hasattr(X, "columns"):
            return X
        given = [str(c) for c in X.columns]
        if given != list(names) and sorted(given) == sorted(names) and len(set(given)) == len(given):
            return X[[X.columns[given.index(n)] for n in names]]
        return X

    # -- fitting and prediction -------------------------------------------
    def _fit(self, X: Any, y: Any) -> Self:
        X, y = self._validate_fit(X, y)
        index = feature_index(getattr(self, "feature_names_in_", None), X.shape[1], self.columns)
        target = y - self._offset(X, index)
        params = {k: getattr(self, k) for k in _LEARNER_PARAMS}
        state = fit_learner(getattr(self, self._learner_param), design_matrix(X, index), target, params)
        self.feature_index_ = index
        self.learner_state_ = state
        return self

    def _check_columns(self, X: Any) -> None:
        # Name a missing FEATURES column before scikit-learn's generic name check does.
        if getattr(self, "feature_index_", None) is None or not hasattr(X, "columns") or self.columns == "positional":
            return
        missing = [f for f in FEATURES if f not in {str(c) for c in X.columns}]
        if missing:
            raise ValidationError("X", f"a table with the columns {', '.join(FEATURES)}", f"missing column(s) {', '.join(missing)}")

    def predict(self, X: Any) -> FloatArray:
        """Battery energy per distance [J m-1] of each trip.

        Parameters
        ----------
        X : DataFrame or array_like, shape (n, n_features)
            Trips, with the columns seen in :meth:`fit`.

        Returns
        -------
        ndarray, shape (n,)
            [J m-1].

        Raises
        ------
        ValidationError
            A FEATURES column is missing, a column is not numeric, a value is
            NaN or inf, or a distance or duration is not positive.
        """
        X = self._prepare(X)
        index = self.feature_index_
        return self._offset(X, index) + predict_learner(self.learner_state_, design_matrix(X, index))

    # -- export --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything needed to predict, as a JSON-safe dict.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        ValidationError
            For a learner given as a scikit-learn object rather than by name.
        """
        check_is_fitted(self)
        learner = getattr(self, self._learner_param)
        if not isinstance(learner, str):
            raise ValidationError(
                self._learner_param, f"one of {', '.join(LEARNERS)} to export to a dict", learner,
                hint="A scikit-learn object can be pickled, not exported.",
            )
        params = self.get_params(deep=False)
        if not (params["random_state"] is None or isinstance(params["random_state"], int)):
            params["random_state"] = None  # only used while fitting
        names = getattr(self, "feature_names_in_", None)
        return {
            "format": FORMAT,
            "kind": self.kind,
            "class": type(self).__name__,
            "params": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()},
            "n_features_in": int(self.n_features_in_),
            "feature_names_in": None if names is None else [str(n) for n in names],
            "feature_index": self.feature_index_,
            "learner_state": dump_state(self.learner_state_),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """A fitted estimator from :meth:`to_dict`'s output (predictions are identical).

        Raises
        ------
        ValidationError
            For a dict of another format version or of the other kind, or one
            that is not a whole, consistent export (a key missing, arrays of
            the wrong shape: a tampered file).
        UnknownNameError
            For an unknown parameter or learner name.
        InvalidParameterError
            For a parameter value out of its range.
        """
        _check_header(data, cls)
        est = cls(**_known_params(data["params"], cls))
        est._validate_params()
        learner, state = getattr(est, est._learner_param), data["learner_state"]
        if isinstance(state, dict) and state.get("learner") in LEARNERS and state.get("learner") != learner:
            raise ValidationError(
                "learner_state.learner", f"{learner!r}, as params.{est._learner_param}", state.get("learner")
            )
        n_features, names, index = _check_columns_entry(data)
        est.n_features_in_ = n_features
        if names is not None:
            est.feature_names_in_ = np.asarray(names, dtype=object)
        est.feature_index_ = index
        width = n_features if index is None else len(BASIS) + n_features - len(FEATURES)
        est.learner_state_ = load_state(data["learner_state"], width)
        return est


class ConsumptionRegressor(_ConsumptionEstimator):
    """Learned model of battery energy per distance from trip features.

    Parameters
    ----------
    columns : {"auto", "names", "positional"}, default "auto"
        Where the FEATURES columns are in X (see the module docstring).
    learner : {"ridge", "boosting"} or regressor, default "ridge"
        ``ridge``: ridge regression on standardised basis terms;
        ``boosting``: gradient-boosted trees; or a scikit-learn regressor,
        cloned and fitted to the basis terms (such a model cannot be
        exported with :meth:`to_dict`).
    alpha : float, default 1.0
        Ridge penalty (on standardised terms) [1].
    n_estimators : int, default 200
        Boosting stages.
    learning_rate : float, default 0.1
        Boosting shrinkage.
    max_depth : int, default 3
        Depth of each boosted tree.
    random_state : int, RandomState or None
        Seed of the boosting learner.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only for input with string column names.
    feature_index_ : list of int or None
        Positions of the FEATURES columns in X; None: X used as it is.
    learner_state_ : dict
        The fitted learner.

    Examples
    --------
    >>> from twinloop.learn import simulated_trips
    >>> from twinloop.parameters import resolve_vehicle
    >>> X, y = simulated_trips(resolve_vehicle("nissan_leaf_40kwh_2018"), ["udds", "hwfet", "us06"],
    ...                        ambient_temperatures=[268.15, 293.15, 303.15], segment_duration=300)
    >>> model = ConsumptionRegressor(alpha=0.1).fit(X, y)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    kind: ClassVar[str] = "learned"
    _learner_param: ClassVar[str] = "learner"

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_ConsumptionEstimator._parameter_constraints,
        "learner": [StrOptions(set(LEARNERS)), HasMethods(["fit", "predict"])],
    }

    def __init__(
        self,
        columns: str = "auto",
        learner: Any = "ridge",
        alpha: float = 1.0,
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        max_depth: int = 3,
        random_state: Any = None,
    ) -> None:
        self.columns = columns
        self.learner = learner
        self.alpha = alpha
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> Self:
        """Fit to trips `X` and their battery energy per distance `y` [J m-1].

        Raises
        ------
        ValidationError
            X names some FEATURES columns but not all (the message names the
            missing ones), or a distance or duration is not positive.
        """
        return self._fit(X, y)


class HybridConsumptionRegressor(_ConsumptionEstimator):
    """Road-load physics plus a learned residual.

    The prediction is :func:`~twinloop.learn.road_load.road_load_consumption`
    of the trip features plus a learner fitted to what the physics leaves
    (HVAC, battery and motor losses, errors of the constants).

    Parameters
    ----------
    test_mass : float, default 1800
        [kg].
    coastdown_a, coastdown_b, coastdown_c : float, default 140, 0, 0.35
        Coast-down coefficients [N], [N s m-1], [N s2 m-2]; A and C >= 0,
        B in [-200, 500] (negative for some measured vehicles).
    drivetrain_efficiency : float, default 0.9
        Battery-to-wheel efficiency when driving [1].
    regen_efficiency : float, default 0.7
        Share of braking and descending energy returned [1].
    auxiliary_power : float, default 300
        [W].
    columns : {"auto", "names", "positional"}, default "auto"
        Where the FEATURES columns are in X; without them the physics term
        is zero (see the module docstring).
    residual : {"ridge", "boosting"} or regressor, default "ridge"
        The residual learner, as ``learner`` of :class:`ConsumptionRegressor`.
    alpha, n_estimators, learning_rate, max_depth, random_state
        Of the residual learner, as in :class:`ConsumptionRegressor`.

    Attributes
    ----------
    n_features_in_, feature_names_in_, feature_index_
        As in :class:`ConsumptionRegressor`; the physics term is used when
        ``feature_index_`` is not None.
    learner_state_ : dict
        The fitted residual learner.

    See Also
    --------
    from_spec : the physical constants from a VehicleSpec.

    Examples
    --------
    >>> from twinloop.learn import simulated_trips
    >>> from twinloop.parameters import resolve_vehicle
    >>> leaf = resolve_vehicle("nissan_leaf_40kwh_2018")
    >>> X, y = simulated_trips(leaf, ["udds"], ambient_temperatures=[268.15, 293.15, 303.15])
    >>> model = HybridConsumptionRegressor.from_spec(leaf).fit(X, y)
    >>> X_hwy, y_hwy = simulated_trips(leaf, ["hwfet"], ambient_temperatures=[283.15])
    >>> bool(abs(model.predict(X_hwy)[0] / y_hwy.iloc[0] - 1) < 0.1)
    True
    """

    kind: ClassVar[str] = "hybrid"
    _learner_param: ClassVar[str] = "residual"

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_ConsumptionEstimator._parameter_constraints,
        "test_mass": [Interval(Real, 0, None, closed="neither")],
        "coastdown_a": [Interval(Real, 0, None, closed="left")],
        # B is negative for some measured vehicles (EPA 2022 targets): the glossary's range
        "coastdown_b": [Interval(Real, quantity("coastdown_b").minimum, quantity("coastdown_b").maximum, closed="both")],
        "coastdown_c": [Interval(Real, 0, None, closed="left")],
        "drivetrain_efficiency": [Interval(Real, 0, 1, closed="right")],
        "regen_efficiency": [Interval(Real, 0, 1, closed="both")],
        "auxiliary_power": [Interval(Real, 0, None, closed="left")],
        "residual": [StrOptions(set(LEARNERS)), HasMethods(["fit", "predict"])],
    }

    def __init__(
        self,
        test_mass: float = 1800.0,
        coastdown_a: float = 140.0,
        coastdown_b: float = 0.0,
        coastdown_c: float = 0.35,
        drivetrain_efficiency: float = 0.9,
        regen_efficiency: float = 0.7,
        auxiliary_power: float = 300.0,
        columns: str = "auto",
        residual: Any = "ridge",
        alpha: float = 1.0,
        n_estimators: int = 200,
        learning_rate: float = 0.1,
        max_depth: int = 3,
        random_state: Any = None,
    ) -> None:
        self.test_mass = test_mass
        self.coastdown_a = coastdown_a
        self.coastdown_b = coastdown_b
        self.coastdown_c = coastdown_c
        self.drivetrain_efficiency = drivetrain_efficiency
        self.regen_efficiency = regen_efficiency
        self.auxiliary_power = auxiliary_power
        self.columns = columns
        self.residual = residual
        self.alpha = alpha
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.random_state = random_state

    @classmethod
    def from_spec(cls, spec: VehicleSpec, **params: Any) -> Self:
        """An unfitted hybrid with the test mass, coast-down and auxiliary power of `spec`.

        Parameters
        ----------
        spec : VehicleSpec
            The vehicle, e.g. ``twinloop.parameters.resolve_vehicle(name)``.
        **params
            Other parameters (efficiencies, residual learner ...), or ones
            that override the spec's.

        Raises
        ------
        ValidationError
            `spec` is not a VehicleSpec.
        UnknownNameError
            A name in `params` is not a parameter (close matches are named).
        """
        if not isinstance(spec, VehicleSpec):
            raise ValidationError(
                "spec", "a VehicleSpec", spec if isinstance(spec, str) else type(spec).__name__,
                hint="twinloop.parameters.resolve_vehicle(name) loads one; `twinloop vehicle list` names them.",
            )
        known = cls._get_param_names()
        for name in params:
            if name not in known:
                raise UnknownNameError(f"{cls.__name__} parameter", name, known)
        a, b, c = spec.effective_coastdown
        constants = {
            "test_mass": spec.test_mass,
            "coastdown_a": a,
            "coastdown_b": b,
            "coastdown_c": c,
            "auxiliary_power": spec.auxiliary_power,
        }
        return cls(**{**constants, **params})

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> Self:
        """Fit the residual learner to `y` minus the physics term [J m-1].

        Raises
        ------
        ValidationError
            X names some FEATURES columns but not all (the message names the
            missing ones), or a distance or duration is not positive.
        """
        return self._fit(X, y)

    def predict_physics(self, X: Any) -> FloatArray:
        """The physics term alone (zeros where X has no FEATURES columns).

        Parameters
        ----------
        X : DataFrame or array_like, shape (n, n_features)
            Trips, with the columns seen in :meth:`fit`.

        Returns
        -------
        ndarray, shape (n,)
            Battery energy per distance by the road-load form [J m-1].
        """
        return self._offset(self._prepare(X), self.feature_index_)

    def _offset(self, X: FloatArray, index: list[int] | None) -> FloatArray:
        if index is None:
            return np.zeros(X.shape[0])
        return road_load_consumption(
            feature_columns(X, index),
            self.test_mass,
            (self.coastdown_a, self.coastdown_b, self.coastdown_c),
            self.drivetrain_efficiency,
            self.regen_efficiency,
            self.auxiliary_power,
        )


# -- input checks --------------------------------------------------------------
def _check_numeric_columns(X: Any) -> None:
    """Name the columns of a table that are not numbers (before they fail as "could not convert")."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    bad = [name for name, dtype in dtypes.items() if dtype.kind not in "biuf" and not _converts(X[name])]
    if bad:
        raise ValidationError(
            "X", "numeric columns", ", ".join(f"column {str(c)!r} of dtype {dtypes[c]}" for c in bad),
            hint="Drop them, or encode them upstream (e.g. OneHotEncoder in a ColumnTransformer).",
        )


def _converts(column: Any) -> bool:
    try:
        np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _check_finite(X: FloatArray, names: Any) -> None:
    """Name the first NaN or inf of `X` by column and row."""
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        column = repr(str(names[col])) if names is not None else col
        raise ValidationError(
            f"X[{column}]", "finite numbers (no NaN or inf)", f"{X[row, col]} in row {row}",
            hint=f"{int(bad.any(axis=1).sum())} row(s) hold NaN or inf; drop or impute them first.",
        )


def _check_finite_target(y: Any) -> None:
    """Name the first NaN or inf of a numeric target by row."""
    values = np.asarray(y)
    if values.dtype.kind != "f" or values.ndim != 1:
        return
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValidationError(
            "y", "finite battery energy per distance [J m-1] (no NaN or inf)", f"{values[bad[0]]} in row {int(bad[0])}",
            hint=f"{bad.size} row(s) hold NaN or inf; drop them first.",
        )


# -- export checks -------------------------------------------------------------
_EXPORT_KEYS = ("format", "kind", "params", "n_features_in", "feature_names_in", "feature_index", "learner_state")


def _check_header(data: Any, cls: type[_ConsumptionEstimator]) -> None:
    """Refuse what is not a whole export of this format version and of `cls`'s kind."""
    if not isinstance(data, dict):
        raise ValidationError("data", "a dict from to_dict() (json.load of its JSON)", type(data).__name__)
    if data.get("format") != FORMAT:
        raise ValidationError(
            "format", repr(FORMAT), data.get("format"),
            hint="The dict was written by another version of twinloop; refit the model, or load it with that version.",
        )
    if data.get("kind") != cls.kind:
        other = {c.kind: c.__name__ for c in (ConsumptionRegressor, HybridConsumptionRegressor)}
        kind = str(data.get("kind"))
        raise ValidationError(
            "kind", repr(cls.kind), data.get("kind"),
            hint=f"Load {kind!r} dicts with {other.get(kind, data.get('class'))}.from_dict.",
        )
    missing = [k for k in _EXPORT_KEYS if k not in data]
    if missing:
        raise ValidationError("data", f"the keys {', '.join(_EXPORT_KEYS)}", f"missing {', '.join(missing)}")


def _known_params(params: Any, cls: type[_ConsumptionEstimator]) -> dict[str, Any]:
    """`params` of an export, refusing a name `cls` does not have."""
    if not isinstance(params, dict):
        raise ValidationError("params", "a dict of parameters", type(params).__name__)
    known = cls._get_param_names()
    for name in params:
        if name not in known:
            raise UnknownNameError(f"{cls.__name__} parameter", str(name), known)
    return params


def _check_columns_entry(data: dict[str, Any]) -> tuple[int, list[str] | None, list[int] | None]:
    """`n_features_in`, `feature_names_in` and `feature_index` of an export, consistent with each other."""
    n = data["n_features_in"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValidationError("n_features_in", "an int >= 1", n)
    names = data["feature_names_in"]
    if names is not None and (not isinstance(names, list) or len(names) != n or not all(isinstance(x, str) for x in names)):
        raise ValidationError("feature_names_in", f"None or a list of {n} column names (n_features_in)", names)
    index = data["feature_index"]
    if index is not None:
        if (
            not isinstance(index, list)
            or len(index) != len(FEATURES)
            or not all(isinstance(i, int) and 0 <= i < n for i in index)
            or len(set(index)) != len(index)
        ):
            raise ValidationError(
                "feature_index", f"None or {len(FEATURES)} distinct column positions in [0, {n})", index
            )
        if names is not None and [names[i] for i in index] != list(FEATURES):
            raise ValidationError("feature_index", "the positions of the FEATURES columns in feature_names_in", index)
    return n, names, index
