"""Twin operations over the store: create, calibrate, watch for drift and recalibrate.

These functions compose the record, the registry, drift detection and the
store; the command line and any scheduler call them, never the parts
directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.errors import CalibrationError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.store.base import Event, SqlTelemetryStore
from twinloop.twin.consumption import PhysicsConsumptionModel, feature_matrix, target_vector
from twinloop.twin.drift import CusumResult, cusum, standardise
from twinloop.twin.record import TwinRecord
from twinloop.twin.registry import MIN_RECALIBRATION_TRIPS, ModelRegistry, ModelVersion
from twinloop.twin.repository import TwinRepository

__all__ = [
    "DRIFT_EVENT",
    "DriftOutcome",
    "Twin",
    "calibrate",
    "check_drift_and_recalibrate",
    "create_twin",
    "open_twin",
]

#: Kind of the store event written when drift is detected.
DRIFT_EVENT = "twin.drift"
#: Kind of the store event written when a model version is registered by these functions.
MODEL_EVENT = "twin.model"


@dataclass(frozen=True)
class Twin:
    """An open twin: its record, its model registry and the repository behind both."""

    record: TwinRecord
    registry: ModelRegistry
    repository: TwinRepository

    @property
    def vin(self) -> str:
        """The twin's VIN."""
        return self.record.vin

    @property
    def store(self) -> SqlTelemetryStore:
        """The telemetry store holding the twin."""
        return self.repository.store


def create_twin(
    store: SqlTelemetryStore,
    vin: str,
    spec: VehicleSpec,
    name: str | None = None,
    created_by: str = "twinloop",
) -> Twin:
    """Create the twin of `vin` with version 1: the physics model of `spec`, as champion.

    Twin and first model are written in one transaction.

    Raises
    ------
    ValidationError
        If `vin` already has a twin.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.store import open_store
    >>> twin = create_twin(open_store("duckdb://:memory:"), "VIN1", resolve_vehicle("vw_id3_pro_2020"))
    >>> champ = twin.registry.champion()
    >>> champ.version, champ.kind, champ.provenance.reason
    (1, 'physics', 'initial')
    """
    record = TwinRecord.from_spec(vin, spec, name=name)
    repo = TwinRepository(store)
    with repo.transaction():
        repo.add(record)
        registry = ModelRegistry(vin, repo)
        registry.register(
            PhysicsConsumptionModel.from_spec(spec),
            reason="initial",
            created_by=created_by,
            status="champion",
        )
    return Twin(record, registry, repo)


def open_twin(store: SqlTelemetryStore, vin: str) -> Twin:
    """The twin of `vin` (unknown VINs suggest close matches)."""
    repo = TwinRepository(store)
    return Twin(repo.get(vin), ModelRegistry(vin, repo), repo)


def _event_time(X: pd.DataFrame) -> datetime:
    if isinstance(X.index, pd.DatetimeIndex) and len(X):
        t: datetime = X.index.max().to_pydatetime()
        return t
    return datetime.now(UTC)


def calibrate(
    twin: Twin,
    X: pd.DataFrame,
    y: npt.ArrayLike,
    *,
    created_by: str = "twinloop",
    min_trips: int = MIN_RECALIBRATION_TRIPS,
    training_end: datetime | None = None,
) -> ModelVersion:
    """Calibrate the champion on trips and make the result the champion (reason ``"calibration"``).

    The version's training window runs from the first trip's start (the
    earliest time in ``X.index``) to `training_end`, default the last
    trip's start; give the last trip's end when it is known.

    This is how a twin built from a specification learns its residual band,
    which drift detection needs.

    Raises
    ------
    CalibrationError
        Too few or unsuitable trips; the champion is kept.
    """
    with twin.repository.transaction():
        version = twin.registry.recalibrate(
            X, y, reason="calibration", created_by=created_by, promote="always", min_trips=min_trips,
            training_end=training_end,
        )
        twin.store.add_events(twin.vin, [_model_event(version, _event_time(X))])
    return version


def _model_event(version: ModelVersion, time: datetime) -> Event:
    return Event(
        time,
        MODEL_EVENT,
        {
            "version": version.version,
            "kind": version.kind,
            "status": version.status,
            "reason": version.provenance.reason,
            "parent_version": version.provenance.parent_version,
            "validation_error": version.validation_error,
        },
    )


@dataclass(frozen=True)
class DriftOutcome:
    """What :func:`check_drift_and_recalibrate` found and did.

    Attributes
    ----------
    champion : int
        The champion version scored.
    error : float
        Its RMSE on the new trips [J m-1].
    cusum : CusumResult
        The chart of its standardised residuals.
    new_version : ModelVersion or None
        The version fitted after an alarm (champion if it beat the old one).
    recalibration_error : str or None
        After an alarm, why no version could be fitted (the champion is
        kept): too few trips since the shift, data that cannot identify the
        model. A drift that could not be acted on yet is an outcome, not an
        error: the next update retries with more trips.
    """

    champion: int
    error: float
    cusum: CusumResult
    new_version: ModelVersion | None
    recalibration_error: str | None = None

    @property
    def drift(self) -> bool:
        """Whether the chart raised an alarm."""
        return self.cusum.alarm is not None


def check_drift_and_recalibrate(
    twin: Twin,
    X: pd.DataFrame,
    y: npt.ArrayLike,
    *,
    k: float = 0.5,
    h: float = 5.0,
    margin: float = 0.0,
    min_trips: int = MIN_RECALIBRATION_TRIPS,
    created_by: str = "drift monitor",
    training_end: datetime | None = None,
) -> DriftOutcome:
    """Score the champion on new trips, run the CUSUM chart, recalibrate on alarm.

    On an alarm the champion is refitted on the trips from the estimated
    start of the shift onwards and registered with reason ``"drift"``; it
    becomes champion when its validation error beats the old champion's on
    the same held-out trips (by `margin`), else it stays a challenger. A
    ``twin.drift`` event with the outcome is written to the store in the
    same transaction.

    Parameters
    ----------
    twin : Twin
    X : pandas.DataFrame
        New trips (feature columns), oldest first.
    y : array_like
        Measured battery energy per distance [J m-1].
    k, h : float
        CUSUM allowance and decision interval, in residual standard
        deviations (see :func:`twinloop.twin.drift.cusum`).
    margin : float
        Relative margin a refit must win by to become champion.
    min_trips : int
        Fewest trips after the shift needed to refit.
    training_end : datetime, optional
        End of the refit's training window (the last trip's end); default
        the last trip's start, the latest time in ``X.index``.

    Returns
    -------
    DriftOutcome
        When the trips since the shift cannot refit the model, its
        `recalibration_error` says why; the drift event is written with the
        reason and the champion is kept.

    Raises
    ------
    CalibrationError
        If the champion has no residual band (calibrate it first).
    """
    F = feature_matrix(X)
    target = target_vector(y, len(F))
    champ = twin.registry.champion()
    if champ is None:
        raise CalibrationError(f"twin {twin.vin} has no champion model")
    if champ.residual_band is None:
        raise CalibrationError(
            f"champion v{champ.version} of {twin.vin} has no residual band (it was never calibrated"
            " on data); calibrate it first"
        )
    if len(F) == 0:
        raise ValidationError("X", "at least one trip", 0)
    residuals = target - np.asarray(champ.model().predict(X), dtype=float)
    error = float(np.sqrt(np.mean(residuals**2)))
    chart = cusum(standardise(residuals, champ.residual_band), k=k, h=h)
    if chart.alarm is None:
        return DriftOutcome(champ.version, error, chart, None)

    assert chart.change_start is not None
    recent = X.iloc[chart.change_start :]
    payload: dict[str, Any] = {
        "champion": champ.version,
        "alarm_index": chart.alarm,
        "change_start_index": chart.change_start,
        "direction": chart.direction,
        "trips": len(F),
        "trips_since_change": len(recent),
        "rmse": error if math.isfinite(error) else None,
        "k": k,
        "h": h,
    }
    time = _event_time(X)
    try:
        with twin.repository.transaction():
            new = twin.registry.recalibrate(
                recent,
                target[chart.change_start :],
                reason="drift",
                created_by=created_by,
                promote="if_better",
                margin=margin,
                min_trips=min_trips,
                training_end=training_end,
            )
            payload.update(new_version=new.version, promoted=new.status == "champion")
            twin.store.add_events(twin.vin, [Event(time, DRIFT_EVENT, payload), _model_event(new, time)])
    except CalibrationError as exc:
        payload.update(new_version=None, promoted=False, recalibration_error=str(exc))
        twin.store.add_events(twin.vin, [Event(time, DRIFT_EVENT, payload)])
        return DriftOutcome(champ.version, error, chart, None, str(exc))
    return DriftOutcome(champ.version, error, chart, new)
