"""The model registry of a twin: versioned consumption models, champion and challengers.

Every model a twin has ever used is a :class:`ModelVersion`: its parameters
as JSON (never a pickle, see ``docs/adr/0003-model-registry-in-the-store.md``),
its kind, the window of data it was trained on, its validation error, where
it came from (:class:`Provenance`) and its status. Exactly one version is
the *champion* (the one the twin predicts with); *challengers* wait to be
scored against it on new data; *retired* versions are kept for history.
Versions are never changed or deleted, only their status: a restore
creates a new version that copies an old one.

Models of every kind share one interface, :class:`ConsumptionModel`; their
classes are found through :data:`MODEL_TYPES` by type name.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from numbers import Integral
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.conventions import check_vin, utc
from twinloop.errors import (
    CalibrationError,
    StoreError,
    UnknownNameError,
    ValidationError,
)
from twinloop.twin.drift import ResidualBand

__all__ = [
    "KINDS",
    "MODEL_TYPES",
    "STATUSES",
    "ConsumptionModel",
    "InMemoryLedger",
    "ModelRegistry",
    "ModelType",
    "ModelVersion",
    "Provenance",
    "ScoreResult",
    "VersionLedger",
    "check_commit",
    "model_class",
    "register_model_type",
    "rmse",
]

#: Model families.
KINDS = ("physics", "learned", "hybrid")
#: Version statuses.
STATUSES = ("champion", "challenger", "retired")
#: Fewest trips of new data :meth:`ModelRegistry.recalibrate` accepts by default.
MIN_RECALIBRATION_TRIPS = 10

Promote = Literal["never", "if_better", "always"]
_PROMOTE = ("never", "if_better", "always")


@runtime_checkable
class ConsumptionModel(Protocol):
    """What every consumption model offers, whatever its kind.

    The target is battery energy per distance [J m-1]; ``X`` has the
    columns of :data:`twinloop.learn.features.FEATURES`, one row per trip.
    """

    @property
    def kind(self) -> str:
        """One of :data:`KINDS`."""
        ...

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Any:
        """Calibrate or train on trips; returns self."""
        ...

    def predict(self, X: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Energy per distance of each trip [J m-1], shape ``(n,)``."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """All parameters as a JSON-safe dict."""
        ...

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Any:
        """The model :meth:`to_dict` describes."""
        ...


@dataclass(frozen=True)
class ModelType:
    """An entry of :data:`MODEL_TYPES`: a model class found by name, loaded on demand.

    Attributes
    ----------
    name : str
        Type name stored with each version (the class name).
    kind : str
        One of :data:`KINDS`.
    load : callable
        Returns the class; raises :class:`~twinloop.errors.ValidationError`
        when its code is not installed.
    """

    name: str
    kind: str
    load: Callable[[], type[Any]]


def _physics() -> type[Any]:
    from twinloop.twin.consumption import PhysicsConsumptionModel

    return PhysicsConsumptionModel


def _from_learn(name: str) -> Callable[[], type[Any]]:
    # twinloop.learn (scikit-learn) is imported only when a learned model is used.
    def load() -> type[Any]:
        try:
            module = importlib.import_module("twinloop.learn")
        except ImportError as exc:
            raise ValidationError(
                "model_type", "a model type whose code is installed", name,
                hint=f"twinloop.learn cannot be imported: {exc}",
            ) from None
        cls = getattr(module, name, None)
        if not isinstance(cls, type):
            raise ValidationError(
                "model_type", "a model type whose code is installed", name,
                hint=f"this installation's twinloop.learn has no {name}.",
            )
        return cls

    return load


#: Type name -> model type. Add entries with :func:`register_model_type`.
MODEL_TYPES: dict[str, ModelType] = {
    t.name: t
    for t in [
        ModelType("PhysicsConsumptionModel", "physics", _physics),
        ModelType("ConsumptionRegressor", "learned", _from_learn("ConsumptionRegressor")),
        ModelType("HybridConsumptionRegressor", "hybrid", _from_learn("HybridConsumptionRegressor")),
    ]
}


def register_model_type(name: str, kind: str, load: Callable[[], type[Any]]) -> ModelType:
    """Add (or replace) a model type in :data:`MODEL_TYPES`."""
    if kind not in KINDS:
        raise UnknownNameError("model kind", kind, KINDS)
    entry = ModelType(name, kind, load)
    MODEL_TYPES[name] = entry
    return entry


def model_class(name: str) -> type[Any]:
    """The class of model type `name` (see :data:`MODEL_TYPES`).

    Raises
    ------
    UnknownNameError
        For an unknown type name, with close matches.
    ValidationError
        If the type is known but its code is not installed.

    Examples
    --------
    >>> model_class("PhysicsConsumptionModel").kind
    'physics'
    """
    try:
        entry = MODEL_TYPES[name]
    except KeyError:
        raise UnknownNameError("model type", name, MODEL_TYPES) from None
    return entry.load()


def _type_of(model: object) -> ModelType:
    entry = MODEL_TYPES.get(type(model).__name__)
    if entry is None or entry.load() is not type(model):
        raise UnknownNameError(
            "model type", type(model).__name__, MODEL_TYPES,
            hint="Add it with twinloop.twin.registry.register_model_type.",
        )
    return entry


def rmse(model: ConsumptionModel, X: pd.DataFrame, y: npt.ArrayLike) -> float:
    """Root-mean-square error of `model` on trips `X` with measured `y` [J m-1]."""
    target = np.asarray(y, dtype=float).reshape(-1)
    pred = np.asarray(model.predict(X), dtype=float).reshape(-1)
    if pred.shape != target.shape:
        raise ValidationError("y", f"{pred.shape[0]} values, one per row of X", target.shape[0])
    return float(np.sqrt(np.mean((target - pred) ** 2)))


@dataclass(frozen=True)
class Provenance:
    """Where a model version came from.

    Attributes
    ----------
    created_by : str
        Who or what created it (a user, ``"twinloop twin create"``, ``"drift monitor"``).
    reason : str
        Why: ``"initial"``, ``"calibration"``, ``"drift"``, ``"restore of v2"`` ...
    parent_version : int or None
        The version it was derived from.
    """

    created_by: str
    reason: str
    parent_version: int | None = None

    def __post_init__(self) -> None:
        for name in ("created_by", "reason"):
            value = getattr(self, name)
            if not isinstance(value, str) or not 1 <= len(value) <= 200:
                raise ValidationError(f"provenance.{name}", "text of 1 to 200 characters", value)


@dataclass(frozen=True)
class ModelVersion:
    """One registered model of one twin. Only `status` ever changes.

    Attributes
    ----------
    vin : str
    version : int
        1, 2, ... per twin.
    model_type : str
        Key of :data:`MODEL_TYPES`.
    kind : str
        One of :data:`KINDS`.
    parameters : dict
        The model's :meth:`ConsumptionModel.to_dict` (JSON-safe).
    status : str
        One of :data:`STATUSES`.
    provenance : Provenance
    training_start, training_end : datetime or None
        Window of the data it was trained on (UTC); None for a model built
        from the specification alone.
    validation_error : float or None
        RMSE on held-out trips [J m-1].
    residual_band : ResidualBand or None
        Residuals at calibration, the reference of drift detection.
    created_at : datetime
        UTC.
    """

    vin: str
    version: int
    model_type: str
    kind: str
    parameters: dict[str, Any]
    status: str
    provenance: Provenance
    training_start: datetime | None = None
    training_end: datetime | None = None
    validation_error: float | None = None
    residual_band: ResidualBand | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        check_vin(self.vin)
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValidationError("version", "an integer >= 1", self.version)
        if self.kind not in KINDS:
            raise UnknownNameError("model kind", self.kind, KINDS)
        if self.status not in STATUSES:
            raise UnknownNameError("model status", self.status, STATUSES)
        if self.validation_error is not None and not (
            math.isfinite(self.validation_error) and self.validation_error >= 0
        ):
            raise ValidationError("validation_error", "a finite number >= 0 [J m-1]", self.validation_error)
        for name in ("training_start", "training_end", "created_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, utc(value))
        if (
            self.training_start is not None
            and self.training_end is not None
            and self.training_end < self.training_start
        ):
            raise ValidationError(
                "training_end", f">= training_start ({self.training_start.isoformat()})",
                self.training_end.isoformat(),
            )

    def model(self) -> Any:
        """A fresh model object built from the stored parameters."""
        return model_class(self.model_type).from_dict(self.parameters)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (times as ISO 8601)."""

        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {
            "version": self.version,
            "model_type": self.model_type,
            "kind": self.kind,
            "status": self.status,
            "parameters": self.parameters,
            "training_start": iso(self.training_start),
            "training_end": iso(self.training_end),
            "validation_error": self.validation_error,
            "residual_band": None if self.residual_band is None else {
                "mean": self.residual_band.mean, "std": self.residual_band.std,
            },
            "created_by": self.provenance.created_by,
            "reason": self.provenance.reason,
            "parent_version": self.provenance.parent_version,
            "created_at": iso(self.created_at),
        }


class VersionLedger(Protocol):
    """Where a registry keeps its versions (the store, or memory)."""

    def load_versions(self, vin: str) -> list[ModelVersion]:
        """All versions of `vin`, by version number."""
        ...

    def commit_versions(
        self,
        vin: str,
        expected_latest: int,
        new: Sequence[ModelVersion],
        status: Mapping[int, str],
    ) -> None:
        """Atomically add `new` versions and set the `status` of existing ones.

        Raises :class:`~twinloop.errors.StoreError` (and changes nothing) if
        the latest stored version is not `expected_latest` (someone else
        registered meanwhile).
        """
        ...


def check_commit(
    vin: str,
    stored: Mapping[int, str],
    expected_latest: int,
    new: Sequence[ModelVersion],
    status: Mapping[int, str],
) -> None:
    """The checks every :class:`VersionLedger` makes before a commit.

    `stored` maps the stored versions of `vin` to their status.

    Raises
    ------
    StoreError
        If the latest stored version is not `expected_latest`, if `new` is
        not numbered on from it, or if the result would have several champions.
    UnknownNameError
        If `status` names a version that is not stored.
    """
    latest = max(stored, default=0)
    if latest != expected_latest:
        raise StoreError(
            f"the models of {vin} changed meanwhile (latest v{latest}, expected v{expected_latest});"
            " reload and retry"
        )
    numbers = [v.version for v in new]
    if numbers != list(range(latest + 1, latest + 1 + len(new))) or any(v.vin != vin for v in new):
        raise StoreError(f"new versions of {vin} must be numbered from v{latest + 1} on, got {numbers}")
    unknown = sorted(set(status) - set(stored))
    if unknown:
        raise UnknownNameError(f"model version of {vin}", str(unknown[0]), [str(v) for v in stored])
    for value in status.values():
        if value not in STATUSES:
            raise UnknownNameError("model status", value, STATUSES)
    final = {**stored, **status, **{v.version: v.status for v in new}}
    champions = sorted(v for v, s in final.items() if s == "champion")
    if len(champions) > 1:
        raise StoreError(f"refusing to leave {vin} with several champions: {champions}")


class InMemoryLedger:
    """A :class:`VersionLedger` in memory (tests, notebooks)."""

    def __init__(self) -> None:
        self._versions: dict[str, list[ModelVersion]] = {}

    def load_versions(self, vin: str) -> list[ModelVersion]:
        return list(self._versions.get(vin, []))

    def commit_versions(
        self,
        vin: str,
        expected_latest: int,
        new: Sequence[ModelVersion],
        status: Mapping[int, str],
    ) -> None:
        current = self._versions.get(vin, [])
        check_commit(vin, {v.version: v.status for v in current}, expected_latest, new, status)
        updated = [replace(v, status=status.get(v.version, v.status)) for v in current]
        self._versions[vin] = updated + list(new)


@dataclass(frozen=True)
class ScoreResult:
    """Champion and challengers scored on the same new trips.

    Attributes
    ----------
    errors : dict of int to float
        RMSE of each scored version [J m-1].
    champion : int
        The champion's version when scoring.
    best : int
        The version with the lowest error.
    promoted : int or None
        The challenger promoted, if any.
    """

    errors: dict[int, float]
    champion: int
    best: int
    promoted: int | None


class ModelRegistry:
    """The versions of one twin's consumption models.

    Parameters
    ----------
    vin : str
        The twin.
    ledger : VersionLedger
        Where versions are kept: :class:`twinloop.twin.repository.TwinRepository`
        (the telemetry store) or :class:`InMemoryLedger`.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.twin.consumption import PhysicsConsumptionModel
    >>> reg = ModelRegistry("VIN1", InMemoryLedger())
    >>> model = PhysicsConsumptionModel.from_spec(resolve_vehicle("nissan_leaf_40kwh_2018"))
    >>> reg.register(model, reason="initial", created_by="doctest", status="champion").version
    1
    >>> other = PhysicsConsumptionModel.from_spec(resolve_vehicle("tesla_model_3_long_range_2022"))
    >>> reg.register(other, reason="experiment", created_by="doctest", status="champion").version
    2
    >>> reg.restore(1, created_by="doctest").provenance.reason
    'restore of v1'
    >>> [(v.version, v.status) for v in reg.history()]
    [(1, 'retired'), (2, 'retired'), (3, 'champion')]
    """

    def __init__(self, vin: str, ledger: VersionLedger) -> None:
        self.vin = check_vin(vin)
        self.ledger = ledger

    # ---- reading -------------------------------------------------------------------
    def history(self) -> list[ModelVersion]:
        """Every version, oldest first."""
        return self.ledger.load_versions(self.vin)

    def get(self, version: int) -> ModelVersion:
        """One version; a number below 1, or an unknown one, lists the known ones."""
        versions = self.history()
        known = [str(v.version) for v in versions]
        if isinstance(version, bool) or not isinstance(version, Integral) or version < 1:
            raise ValidationError(
                "version", f"a model version number >= 1 (those of {self.vin}: {', '.join(known) or 'none'})",
                version,
            )
        for v in versions:
            if v.version == version:
                return v
        raise UnknownNameError(
            f"model version of {self.vin}", str(version), known,
            hint=f"Known versions: {', '.join(known) or 'none'}.",
        )

    def champion(self) -> ModelVersion | None:
        """The champion version, None before the first is registered."""
        return next((v for v in self.history() if v.status == "champion"), None)

    def challengers(self) -> list[ModelVersion]:
        """Versions waiting to be scored against the champion."""
        return [v for v in self.history() if v.status == "challenger"]

    # ---- writing -------------------------------------------------------------------
    def _commit(self, versions: list[ModelVersion], new: list[ModelVersion], status: dict[int, str]) -> None:
        latest = versions[-1].version if versions else 0
        self.ledger.commit_versions(self.vin, latest, new, status)

    def register(
        self,
        model: ConsumptionModel,
        *,
        reason: str,
        created_by: str,
        parent_version: int | None = None,
        status: str = "challenger",
        training_start: datetime | None = None,
        training_end: datetime | None = None,
        validation_error: float | None = None,
        residual_band: ResidualBand | None = None,
    ) -> ModelVersion:
        """Add `model` as a new version; as champion, the previous champion retires.

        Returns
        -------
        ModelVersion
            The stored version.
        """
        if status not in ("champion", "challenger"):
            raise ValidationError("status", "'champion' or 'challenger'", status)
        entry = _type_of(model)
        versions = self.history()
        new = ModelVersion(
            vin=self.vin,
            version=(versions[-1].version if versions else 0) + 1,
            model_type=entry.name,
            kind=entry.kind,
            parameters=model.to_dict(),
            status=status,
            provenance=Provenance(created_by, reason, parent_version),
            training_start=training_start,
            training_end=training_end,
            validation_error=validation_error,
            residual_band=residual_band,
        )
        changes = self._demote_champion(versions) if status == "champion" else {}
        self._commit(versions, [new], changes)
        return new

    @staticmethod
    def _demote_champion(versions: list[ModelVersion]) -> dict[int, str]:
        return {v.version: "retired" for v in versions if v.status == "champion"}

    def promote(self, version: int) -> ModelVersion:
        """Make challenger `version` the champion; the champion retires."""
        versions = self.history()
        target = self.get(version)
        if target.status != "challenger":
            raise ValidationError(
                f"version {version}", "a challenger (restore a retired version instead)", target.status
            )
        changes = self._demote_champion(versions)
        changes[version] = "champion"
        self._commit(versions, [], changes)
        return replace(target, status="champion")

    def retire(self, version: int) -> ModelVersion:
        """Retire challenger `version` (the champion retires only when replaced)."""
        versions = self.history()
        target = self.get(version)
        if target.status != "challenger":
            raise ValidationError(f"version {version}", "a challenger", target.status)
        self._commit(versions, [], {version: "retired"})
        return replace(target, status="retired")

    def restore(self, version: int, *, created_by: str) -> ModelVersion:
        """Make a copy of `version` the champion, as a new version (history is never rewritten).

        Restoring the serving champion, or a version whose model the champion
        already serves (same type and parameters), changes nothing and returns
        the champion as it is.
        """
        versions = self.history()
        old = self.get(version)
        champion = self.champion()
        if champion is not None and (champion.model_type, champion.parameters) == (old.model_type, old.parameters):
            return champion
        new = replace(
            old,
            version=versions[-1].version + 1,
            status="champion",
            provenance=Provenance(created_by, f"restore of v{version}", version),
            created_at=datetime.now(UTC),
        )
        self._commit(versions, [new], self._demote_champion(versions))
        return new

    def score(
        self, X: pd.DataFrame, y: npt.ArrayLike, *, margin: float = 0.05, promote: bool = True
    ) -> ScoreResult:
        """Score champion and challengers on new trips; promote a clearly better challenger.

        Parameters
        ----------
        X, y : trips and measured energy per distance [J m-1]
        margin : float
            A challenger wins when its RMSE is below ``(1 - margin)`` times
            the champion's [1].
        promote : bool
            Promote the winner (else only report).
        """
        if not (math.isfinite(margin) and 0 <= margin < 1):
            raise ValidationError("margin", "a number in [0, 1)", margin)
        champ = self.champion()
        if champ is None:
            raise CalibrationError(f"twin {self.vin} has no champion model to score")
        errors = {v.version: rmse(v.model(), X, y) for v in [champ, *self.challengers()]}
        best = min(errors, key=lambda v: (errors[v], v != champ.version))
        promoted = None
        if best != champ.version and errors[best] < (1 - margin) * errors[champ.version]:
            if promote:
                self.promote(best)
            promoted = best
        return ScoreResult(errors, champ.version, best, promoted)

    def recalibrate(
        self,
        X: pd.DataFrame,
        y: npt.ArrayLike,
        *,
        reason: str,
        created_by: str,
        base: int | None = None,
        promote: Promote = "if_better",
        margin: float = 0.0,
        min_trips: int = MIN_RECALIBRATION_TRIPS,
        validation_fraction: float = 0.25,
        training_start: datetime | None = None,
        training_end: datetime | None = None,
    ) -> ModelVersion:
        """Fit a copy of the champion (or of `base`) to new trips and register it.

        The trips, in time order, are split: the first part calibrates, the
        last `validation_fraction` gives the validation error and decides
        promotion against the champion. Nothing is stored unless the fit
        succeeds, so a failed recalibration keeps the last good champion.

        Parameters
        ----------
        X : pandas.DataFrame
            New trips (feature columns), oldest first. A DatetimeIndex gives
            the training window unless `training_start`/`training_end` do.
        y : array_like
            Measured energy per distance [J m-1].
        reason, created_by : str
            Provenance.
        base : int, optional
            Version to start from (default: the champion).
        promote : {"never", "if_better", "always"}
            Whether the new version becomes champion: never, when its
            validation RMSE beats the champion's by `margin`, or always.
        margin : float
            Relative margin for ``"if_better"`` [1].
        min_trips : int
            Fewest trips accepted.
        validation_fraction : float
            Share of trips held out, in (0, 0.5].

        Raises
        ------
        CalibrationError
            Too few trips, no champion, or data that cannot calibrate the
            model; the message names what is missing.
        """
        if promote not in _PROMOTE:
            raise UnknownNameError("promotion rule", str(promote), _PROMOTE)
        if not 0 < validation_fraction <= 0.5:
            raise ValidationError("validation_fraction", "a number in (0, 0.5]", validation_fraction)
        versions = self.history()
        champ = next((v for v in versions if v.status == "champion"), None)
        start_from = self.get(base) if base is not None else champ
        if start_from is None:
            raise CalibrationError(f"twin {self.vin} has no champion to recalibrate; register one first")
        n = len(X)
        if n < min_trips:
            raise CalibrationError(
                f"recalibrating v{start_from.version} of {self.vin} needs at least {min_trips} trips"
                f" of new data, got {n}; the champion is kept"
            )
        target = np.asarray(y, dtype=float).reshape(-1)
        if target.shape[0] != n:
            raise ValidationError("y", f"{n} values, one per row of X", target.shape[0])
        n_val = max(1, round(n * validation_fraction))
        fit_X, fit_y = X.iloc[: n - n_val], target[: n - n_val]
        val_X, val_y = X.iloc[n - n_val :], target[n - n_val :]
        model = start_from.model()
        try:
            model.fit(fit_X, fit_y)
        except CalibrationError as exc:
            raise CalibrationError(f"{exc}; the champion of {self.vin} is kept") from None
        error = rmse(model, val_X, val_y)
        if not math.isfinite(error):
            raise CalibrationError(f"the recalibrated model of {self.vin} predicts non-finite energy; the champion is kept")
        band = ResidualBand.of(target - np.asarray(model.predict(X), dtype=float))
        if training_start is None and isinstance(X.index, pd.DatetimeIndex) and n:
            training_start = X.index.min().to_pydatetime()
        if training_end is None and isinstance(X.index, pd.DatetimeIndex) and n:
            training_end = X.index.max().to_pydatetime()
        better = champ is None or error < (1 - margin) * rmse(champ.model(), val_X, val_y)
        status = "champion" if promote == "always" or (promote == "if_better" and better) else "challenger"
        return self.register(
            model,
            reason=reason,
            created_by=created_by,
            parent_version=start_from.version,
            status=status,
            training_start=training_start,
            training_end=training_end,
            validation_error=error,
            residual_band=band,
        )
