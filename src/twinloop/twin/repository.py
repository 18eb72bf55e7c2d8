"""Twins and their model versions, kept in the telemetry store.

:class:`TwinRepository` adds two tables to a store (DuckDB or PostgreSQL)
through the store's own connection, so twins, models, samples and events
live in one database and one transaction can span them:

``twins``
    One row per twin: identity, the vehicle TOML, the current state.
``twin_models``
    One row per model version: parameters as JSON, kind, training window,
    validation error, residual band, provenance and status; key (vin, version).

Every write is one transaction: a failure leaves the previous state intact.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import psycopg

from twinloop.errors import StoreError, UnknownNameError, ValidationError
from twinloop.store.base import SqlTelemetryStore
from twinloop.twin.drift import ResidualBand
from twinloop.twin.record import TwinRecord, TwinState, check_vin, utc
from twinloop.twin.registry import ModelRegistry, ModelVersion, Provenance, check_commit

__all__ = ["TwinRepository"]

_STATE_COLUMNS = ("state_of_charge", "state_of_health", "battery_temperature", "cabin_temperature", "odometer")
_TWIN_COLUMNS = ("vin", "name", "vehicle_toml", *_STATE_COLUMNS, "state_updated_at", "created_at")
_MODEL_COLUMNS = (
    "vin", "version", "model_type", "kind", "parameters", "status", "created_by", "reason",
    "parent_version", "training_start", "training_end", "validation_error", "residual_mean",
    "residual_std", "created_at",
)
# What a failed statement raises, by driver.
_DRIVER_ERRORS = (duckdb.Error, psycopg.Error)


def _naive(t: datetime | None) -> datetime | None:
    # The store keeps UTC as TIMESTAMP without zone.
    return None if t is None else utc(t).replace(tzinfo=None)


def _aware(t: datetime | None) -> datetime | None:
    return None if t is None else utc(t)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


class TwinRepository:
    """Twins and model versions in a telemetry store; also the registry's :class:`~twinloop.twin.registry.VersionLedger`.

    Parameters
    ----------
    store : SqlTelemetryStore
        An open store (:func:`twinloop.store.open_store`); its tables are
        created if missing.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.store import open_store
    >>> repo = TwinRepository(open_store("duckdb://:memory:"))
    >>> _ = repo.add(TwinRecord.from_spec("VIN1", resolve_vehicle("nissan_leaf_40kwh_2018"), name="my leaf"))
    >>> [t.name for t in repo.list()]
    ['my leaf']
    >>> repo.get("VIN2")
    Traceback (most recent call last):
    ...
    twinloop.errors.UnknownNameError: unknown twin 'VIN2'; did you mean 'VIN1'? `twinloop twin list` shows them.
    """

    def __init__(self, store: SqlTelemetryStore) -> None:
        self.store = store
        d, j = store.double_type, store.json_type
        states = ", ".join(f"{c} {d}" for c in _STATE_COLUMNS)
        with self.transaction():
            store._execute(
                "CREATE TABLE IF NOT EXISTS twins (vin VARCHAR PRIMARY KEY, name VARCHAR NOT NULL,"
                f" vehicle_toml VARCHAR NOT NULL, {states}, state_updated_at TIMESTAMP,"
                " created_at TIMESTAMP NOT NULL)"
            )
            store._execute(
                "CREATE TABLE IF NOT EXISTS twin_models (vin VARCHAR NOT NULL, version INTEGER NOT NULL,"
                f" model_type VARCHAR NOT NULL, kind VARCHAR NOT NULL, parameters {j} NOT NULL,"
                " status VARCHAR NOT NULL, created_by VARCHAR NOT NULL, reason VARCHAR NOT NULL,"
                " parent_version INTEGER, training_start TIMESTAMP, training_end TIMESTAMP,"
                f" validation_error {d}, residual_mean {d}, residual_std {d},"
                " created_at TIMESTAMP NOT NULL, PRIMARY KEY (vin, version))"
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction of the store: everything inside commits together or not at all.

        Driver errors surface as :class:`~twinloop.errors.StoreError`.
        """
        try:
            with self.store._transaction():
                yield
        except _DRIVER_ERRORS as exc:
            raise StoreError(f"the twin store refused a write: {exc}".strip()) from None

    # ---- twins ---------------------------------------------------------------------
    def vins(self) -> builtins.list[str]:
        """VINs of every twin, sorted."""
        return [r[0] for r in self.store._fetchall("SELECT vin FROM twins ORDER BY vin")]

    def add(self, record: TwinRecord) -> TwinRecord:
        """Store a new twin; its VIN is also registered as a store vehicle.

        Raises
        ------
        ValidationError
            If a twin with that VIN exists.
        """
        self.store.vehicle_id(record.vin, create=True)
        with self.transaction():
            if self.store._fetchall("SELECT 1 FROM twins WHERE vin = ?", [record.vin]):
                raise ValidationError(
                    "vin", "a VIN without a twin", record.vin,
                    hint=f"A twin of {record.vin} exists; see `twinloop twin show {record.vin}`.",
                )
            s = record.state
            self.store._execute(
                f"INSERT INTO twins ({', '.join(_TWIN_COLUMNS)}) VALUES ({', '.join('?' * len(_TWIN_COLUMNS))})",
                [
                    record.vin, record.name, record.vehicle,
                    *(getattr(s, c) for c in _STATE_COLUMNS),
                    _naive(s.updated_at), _naive(record.created_at),
                ],
            )
        return record

    def get(self, vin: str) -> TwinRecord:
        """The twin of `vin`; an unknown VIN suggests close matches."""
        rows = self.store._fetchall(
            f"SELECT {', '.join(_TWIN_COLUMNS)} FROM twins WHERE vin = ?", [vin]
        )
        if not rows:
            raise UnknownNameError("twin", vin, self.vins(), hint="`twinloop twin list` shows them.")
        return self._record(rows[0])

    def list(self) -> builtins.list[TwinRecord]:
        """Every twin, by VIN."""
        rows = self.store._fetchall(f"SELECT {', '.join(_TWIN_COLUMNS)} FROM twins ORDER BY vin")
        return [self._record(r) for r in rows]

    def update_state(self, vin: str, state: TwinState) -> TwinRecord:
        """Replace the state of twin `vin`; returns the updated record."""
        record = self.get(vin)
        with self.transaction():
            self.store._execute(
                f"UPDATE twins SET {', '.join(f'{c} = ?' for c in _STATE_COLUMNS)}, state_updated_at = ?"
                " WHERE vin = ?",
                [*(getattr(state, c) for c in _STATE_COLUMNS), _naive(state.updated_at), vin],
            )
        return TwinRecord(record.vin, record.name, record.vehicle, state, record.created_at)

    @staticmethod
    def _record(row: Sequence[Any]) -> TwinRecord:
        d = dict(zip(_TWIN_COLUMNS, row, strict=True))
        state = TwinState(
            **{c: None if d[c] is None else float(d[c]) for c in _STATE_COLUMNS},
            updated_at=_aware(d["state_updated_at"]),
        )
        return TwinRecord(d["vin"], d["name"], d["vehicle_toml"], state, utc(d["created_at"]))

    # ---- model versions (the VersionLedger of ModelRegistry) -----------------------
    def registry(self, vin: str) -> ModelRegistry:
        """The model registry of twin `vin` (which must exist)."""
        self.get(vin)
        return ModelRegistry(vin, self)

    def load_versions(self, vin: str) -> builtins.list[ModelVersion]:
        """All model versions of `vin`, oldest first."""
        rows = self.store._fetchall(
            f"SELECT {', '.join(_MODEL_COLUMNS)} FROM twin_models WHERE vin = ? ORDER BY version",
            [vin],
        )
        return [self._version(r) for r in rows]

    def commit_versions(
        self,
        vin: str,
        expected_latest: int,
        new: Sequence[ModelVersion],
        status: Mapping[int, str],
    ) -> None:
        """Add `new` versions and set the `status` of existing ones, in one transaction.

        Raises
        ------
        StoreError
            If the latest stored version is not `expected_latest` (another
            writer registered meanwhile), if `new` is not numbered on from
            it, if the result would have more than one champion, or if the
            database refuses the write (its (vin, version) key still guards
            writers racing past these checks). Nothing is changed then.
        UnknownNameError
            If `vin` has no twin.
        """
        check_vin(vin)
        rows = [self._row(v) for v in new]
        with self.transaction():
            if not self.store._fetchall("SELECT 1 FROM twins WHERE vin = ?", [vin]):
                raise UnknownNameError("twin", vin, self.vins(), hint="`twinloop twin list` shows them.")
            stored = dict(self.store._fetchall("SELECT version, status FROM twin_models WHERE vin = ?", [vin]))
            check_commit(vin, stored, expected_latest, new, status)
            for version, new_status in status.items():
                self.store._execute(
                    "UPDATE twin_models SET status = ? WHERE vin = ? AND version = ?",
                    [new_status, vin, version],
                )
            for row in rows:
                self.store._execute(
                    f"INSERT INTO twin_models ({', '.join(_MODEL_COLUMNS)})"
                    f" VALUES ({', '.join('?' * len(_MODEL_COLUMNS))})",
                    row,
                )

    @staticmethod
    def _row(v: ModelVersion) -> builtins.list[Any]:
        try:
            parameters = json.dumps(v.parameters, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                "parameters", "a JSON-safe dict of finite numbers, text, lists and dicts",
                f"{type(exc).__name__}: {exc}", f"version {v.version} of {v.vin}",
            ) from None
        band = v.residual_band
        return [
            v.vin, v.version, v.model_type, v.kind, parameters, v.status,
            v.provenance.created_by, v.provenance.reason, v.provenance.parent_version,
            _naive(v.training_start), _naive(v.training_end), v.validation_error,
            None if band is None else band.mean, None if band is None else band.std,
            _naive(v.created_at),
        ]

    @staticmethod
    def _version(row: Sequence[Any]) -> ModelVersion:
        d = dict(zip(_MODEL_COLUMNS, row, strict=True))
        band = None
        if d["residual_mean"] is not None and d["residual_std"] is not None:
            band = ResidualBand(float(d["residual_mean"]), float(d["residual_std"]))
        error = d["validation_error"]
        return ModelVersion(
            vin=d["vin"],
            version=int(d["version"]),
            model_type=d["model_type"],
            kind=d["kind"],
            parameters=dict(_json(d["parameters"])),
            status=d["status"],
            provenance=Provenance(
                d["created_by"], d["reason"],
                None if d["parent_version"] is None else int(d["parent_version"]),
            ),
            training_start=_aware(d["training_start"]),
            training_end=_aware(d["training_end"]),
            validation_error=None if error is None or not math.isfinite(error) else float(error),
            residual_band=band,
            created_at=utc(d["created_at"]) if d["created_at"] else datetime.now(UTC),
        )
