"""The twin's lifecycle over the store: create, open, calibrate, watch for drift and recalibrate.

These functions compose the record, the registry, drift detection, the trip
table and the store; the command line, the service and any scheduler call
them, never the parts directly. :func:`calibrate` and
:func:`check_drift_and_recalibrate` take trips as a table;
:func:`calibrate_from_store` and :func:`update_from_store` close the loop from
the samples in the store (:func:`twinloop.twin.trips.trip_table`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.conventions import utc
from twinloop.errors import CalibrationError, DataError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.store.base import Event, TelemetryStore
from twinloop.twin.consumption import PhysicsConsumptionModel, feature_matrix, target_vector
from twinloop.twin.drift import CusumResult, cusum, standardise
from twinloop.twin.record import TwinRecord
from twinloop.twin.registry import MIN_RECALIBRATION_TRIPS, ModelRegistry, ModelVersion
from twinloop.twin.repository import TwinRepository
from twinloop.twin.samples import US, stored_trips
from twinloop.twin.trips import META_COLUMNS, TripTableOptions, trip_table

if TYPE_CHECKING:  # the battery toolkit loads only when a health is asked for
    from twinloop.battery.soh import HealthTrack

__all__ = [
    "DRIFT_EVENT",
    "DriftOutcome",
    "StoreCalibration",
    "StoreUpdate",
    "Twin",
    "TwinReport",
    "calibrate",
    "calibrate_from_store",
    "check_drift_and_recalibrate",
    "create_twin",
    "open_twin",
    "twin_report",
    "update_from_store",
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
    def store(self) -> TelemetryStore:
        """The telemetry store holding the twin."""
        return self.repository.store


def create_twin(
    store: TelemetryStore,
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


def open_twin(store: TelemetryStore, vin: str) -> Twin:
    """The twin of `vin` (unknown VINs suggest close matches)."""
    repo = TwinRepository(store)
    return Twin(repo.get(vin), ModelRegistry(vin, repo), repo)


@dataclass(frozen=True)
class TwinReport:
    """What a twin is and holds: record, model versions and, when asked, its battery health.

    Attributes
    ----------
    record : TwinRecord
    versions : tuple of ModelVersion
        Every model version, oldest first.
    health : HealthTrack or None
        Battery health tracked from the stored trips (:func:`twinloop.twin.health.health_from_store`),
        when asked for and the trips give it.
    health_unknown : str or None
        Why the health could not be tracked, when asked for and it could not
        (too few trips, no state of charge): the rest of the report stands.
    """

    record: TwinRecord
    versions: tuple[ModelVersion, ...]
    health: HealthTrack | None = None
    health_unknown: str | None = None

    @property
    def champion(self) -> ModelVersion | None:
        """The version serving now, if any."""
        return next((v for v in self.versions if v.status == "champion"), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe document: the record's fields, ``health`` (when asked), ``champion`` and ``models``."""
        doc = self.record.to_dict()
        if self.health is not None:
            doc["health"] = self.health.to_dict()
        elif self.health_unknown is not None:
            doc["health"] = {"unknown": self.health_unknown}
        champion = self.champion
        doc["champion"] = None if champion is None else champion.to_dict()
        doc["models"] = [v.to_dict() for v in self.versions]
        return doc


def twin_report(twin: Twin, *, health: bool = False) -> TwinReport:
    """The :class:`TwinReport` of `twin`; with `health`, its battery health tracked from the store.

    A health that cannot be tracked (no trips with state of charge, swings
    too small) is reported as unknown, with the reason, not raised.
    """
    from twinloop.twin.health import (
        health_from_store,  # health reads trips; the lifecycle does not need it
    )

    versions = tuple(twin.registry.history())
    if not health:
        return TwinReport(twin.record, versions)
    try:
        return TwinReport(twin.record, versions, health=health_from_store(twin))
    except (CalibrationError, DataError) as exc:
        return TwinReport(twin.record, versions, health_unknown=str(exc))


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


def _calibrated_champion(twin: Twin) -> ModelVersion:
    """The champion, which drift needs to have been calibrated on data (it carries the residual band)."""
    champ = twin.registry.champion()
    if champ is None:
        raise CalibrationError(f"twin {twin.vin} has no champion model")
    if champ.residual_band is None:
        raise CalibrationError(
            f"champion v{champ.version} of {twin.vin} has no residual band: it was never calibrated on data;"
            f" calibrate it first (`twinloop twin calibrate {twin.vin}`)"
        )
    return champ


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
    champ = _calibrated_champion(twin)
    assert champ.residual_band is not None
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


@dataclass(frozen=True)
class StoreCalibration:
    """What :func:`calibrate_from_store` did.

    Attributes
    ----------
    version : ModelVersion
        The new champion.
    trips : pandas.DataFrame
        The `meta` table of :func:`trip_table`: the trips used and those skipped, with why.
    """

    version: ModelVersion
    trips: pd.DataFrame


@dataclass(frozen=True)
class StoreUpdate:
    """What :func:`update_from_store` found and did.

    Attributes
    ----------
    outcome : DriftOutcome or None
        The champion scored, its error on the new trips, the chart and the
        version fitted after an alarm; None when no trip started since.
    serving : ModelVersion
        The champion after the update.
    since : datetime or None
        Start of the window scored (UTC).
    trips : pandas.DataFrame
        The `meta` table of :func:`trip_table` for the new trips (empty when none).
    """

    outcome: DriftOutcome | None
    serving: ModelVersion
    since: datetime | None
    trips: pd.DataFrame

    @property
    def drift(self) -> bool:
        """Whether the chart raised an alarm."""
        return self.outcome is not None and self.outcome.drift


def calibrate_from_store(
    twin: Twin,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    options: TripTableOptions | None = None,
    min_trips: int = MIN_RECALIBRATION_TRIPS,
    created_by: str = "twinloop",
) -> StoreCalibration:
    """Calibrate the twin's champion on its stored trips and make the result the champion.

    Builds :func:`trip_table` for trips starting in ``[since, until)`` and
    calls :func:`twinloop.twin.lifecycle.calibrate`. The new version's
    training window runs from the first used trip's start to the last used
    trip's end.

    Raises
    ------
    DataError
        No usable trips (the message says what is missing).
    CalibrationError
        Too few usable trips, or trips that cannot separate the parameters;
        the champion is kept.
    """
    X, y, meta = trip_table(twin.store, twin.vin, since, until, options)
    used = meta[meta["used"]]
    end = utc(used["end"].max().to_pydatetime()) if len(used) else None
    try:
        version = calibrate(twin, X, y, created_by=created_by, min_trips=min_trips, training_end=end)
    except CalibrationError as exc:
        skipped = meta[~meta["used"].astype(bool)]
        if skipped.empty:
            raise
        raise CalibrationError(f"{exc}; {_skipped_text(skipped, len(meta))}") from None
    return StoreCalibration(version, meta)


def _skipped_text(skipped: pd.DataFrame, total: int, shown: int = 3) -> str:
    """Which trips were skipped and why, for an error that says too few were usable."""
    reasons = [f"trip {r.trip_no}: {r.reason}" for r in skipped.head(shown).itertuples()]
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} of the {total} trips were skipped ({'; '.join(reasons)}{more})"


def update_from_store(
    twin: Twin,
    since: datetime | None = None,
    *,
    options: TripTableOptions | None = None,
    k: float = 0.5,
    h: float = 5.0,
    margin: float = 0.0,
    min_trips: int = MIN_RECALIBRATION_TRIPS,
    created_by: str = "drift monitor",
) -> StoreUpdate:
    """Score the champion on the trips after its training window; recalibrate on drift.

    Builds :func:`trip_table` for the trips starting after the champion's
    training window (or at or after `since`, when given) and calls
    :func:`twinloop.twin.lifecycle.check_drift_and_recalibrate`: a CUSUM chart
    of the champion's standardised residuals, and on an alarm a refit on the
    trips since the shift, registered with reason ``"drift"`` (champion if it
    beats the old one on held-out trips, else challenger).

    No new trips, or new trips that cannot be used (too short, gaps), are
    not an error: the result's `outcome` is None and its `trips` say why
    each was skipped, so a daily run does not fail on idle days.

    A refit after an alarm that fails (too few trips since the shift) is
    not an error either: the outcome's `recalibration_error` says why, the
    drift event is written and the champion is kept.

    Raises
    ------
    CalibrationError
        If the champion was never calibrated on data (run
        :func:`calibrate_from_store` first).
    """
    champ = _calibrated_champion(twin)
    if since is None and champ.training_end is not None:
        since = champ.training_end + US
    since = None if since is None else utc(since)
    if not any(since is None or r["start_time"] >= since for r in stored_trips(twin.store, twin.vin)):
        return StoreUpdate(None, champ, since, pd.DataFrame(columns=META_COLUMNS))
    X, y, meta = trip_table(twin.store, twin.vin, since, None, options, allow_empty=True)
    if X.empty:
        return StoreUpdate(None, champ, since, meta)
    used = meta[meta["used"].astype(bool)]
    end = utc(used["end"].max().to_pydatetime())  # as calibrate_from_store: the last trip's end
    outcome = check_drift_and_recalibrate(
        twin, X, y, k=k, h=h, margin=margin, min_trips=min_trips, created_by=created_by, training_end=end
    )
    serving = twin.registry.champion()
    assert serving is not None
    return StoreUpdate(outcome, serving, since, meta)

