"""Twins and their model versions, kept in the telemetry store.

:class:`TwinRepository` keeps two tables in a store (DuckDB or PostgreSQL),
declared as the store's schema extension ``twin``
(:mod:`twinloop.store.schema`), so twins, models, samples and events live in
one database and one transaction can span them:

``twins``
    One row per twin: identity, the vehicle TOML, the current state.
``twin_models``
    One row per model version: parameters as JSON, kind, training window,
    validation error, residual band, provenance and status; key (vin, version).

Every write is one transaction: a failure leaves the previous state intact.
The repository uses the store's public API only (no SQL, no driver).
"""

from __future__ import annotations

import builtins
import contextlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from twinloop.conventions import check_vin
from twinloop.errors import StoreConflictError, UnknownNameError, ValidationError
from twinloop.store.base import TelemetryStore
from twinloop.store.schema import Column, SchemaExtension, Table
from twinloop.twin.drift import ResidualBand
from twinloop.twin.record import TwinRecord, TwinState
from twinloop.twin.registry import ModelRegistry, ModelVersion, Provenance, check_commit

__all__ = ["TWIN_SCHEMA", "TwinRepository"]

_STATE_COLUMNS = ("state_of_charge", "state_of_health", "battery_temperature", "cabin_temperature", "odometer")

#: The twin layer's tables in the store.
TWIN_SCHEMA = SchemaExtension(
    "twin",
    tables=(
        Table(
            "twins",
            (
                Column("vin", "text", nullable=False),
                Column("name", "text", nullable=False),
                Column("vehicle_toml", "text", nullable=False),
                *(Column(c, "double") for c in _STATE_COLUMNS),
                Column("state_updated_at", "timestamp"),
                Column("created_at", "timestamp", nullable=False),
            ),
            primary_key=("vin",),
        ),
        Table(
            "twin_models",
            (
                Column("vin", "text", nullable=False),
                Column("version", "integer", nullable=False),
                Column("model_type", "text", nullable=False),
                Column("kind", "text", nullable=False),
                Column("parameters", "json", nullable=False),
                Column("status", "text", nullable=False),
                Column("created_by", "text", nullable=False),
                Column("reason", "text", nullable=False),
                Column("parent_version", "integer"),
                Column("training_start", "timestamp"),
                Column("training_end", "timestamp"),
                Column("validation_error", "double"),
                Column("residual_mean", "double"),
                Column("residual_std", "double"),
                Column("created_at", "timestamp", nullable=False),
            ),
            primary_key=("vin", "version"),
        ),
    ),
)


class TwinRepository:
    """Twins and model versions in a telemetry store; also the registry's :class:`~twinloop.twin.registry.VersionLedger`.

    Parameters
    ----------
    store : TelemetryStore
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

    def __init__(self, store: TelemetryStore) -> None:
        self.store = store
        store.extend(TWIN_SCHEMA)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction of the store: everything inside commits together or not at all.

        A write the database refuses surfaces as :class:`~twinloop.errors.StoreError`.
        """
        with self.store.transaction():
            yield

    # ---- twins ---------------------------------------------------------------------
    def vins(self) -> builtins.list[str]:
        """VINs of every twin, sorted."""
        return [r["vin"] for r in self.store.select("twins", ["vin"], order_by=["vin"])]

    def _exists(self, vin: str) -> bool:
        return bool(self.store.select("twins", ["vin"], {"vin": vin}, limit=1))

    def add(self, record: TwinRecord) -> TwinRecord:
        """Store a new twin; its VIN is also registered as a store vehicle.

        Raises
        ------
        ValidationError
            If a twin with that VIN exists.
        """
        self.store.vehicle_id(record.vin, create=True)
        with self.transaction():
            if self._exists(record.vin):
                raise ValidationError(
                    "vin", "a VIN without a twin", record.vin,
                    hint=f"A twin of {record.vin} exists; see `twinloop twin show {record.vin}`.",
                )
            s = record.state
            self.store.insert("twins", [{
                "vin": record.vin, "name": record.name, "vehicle_toml": record.vehicle,
                **{c: getattr(s, c) for c in _STATE_COLUMNS},
                "state_updated_at": s.updated_at, "created_at": record.created_at,
            }])
        return record

    def get(self, vin: str) -> TwinRecord:
        """The twin of `vin`; an unknown VIN suggests close matches."""
        rows = self.store.select("twins", where={"vin": vin})
        if not rows:
            raise UnknownNameError("twin", vin, self.vins(), hint="`twinloop twin list` shows them.")
        return self._record(rows[0])

    def list(self) -> builtins.list[TwinRecord]:
        """Every twin, by VIN."""
        return [self._record(r) for r in self.store.select("twins", order_by=["vin"])]

    def update_state(self, vin: str, state: TwinState) -> TwinRecord:
        """Replace the state of twin `vin`; returns the updated record."""
        record = self.get(vin)
        self.store.update(
            "twins",
            {**{c: getattr(state, c) for c in _STATE_COLUMNS}, "state_updated_at": state.updated_at},
            {"vin": vin},
        )
        return TwinRecord(record.vin, record.name, record.vehicle, state, record.created_at)

    @staticmethod
    def _record(d: Mapping[str, Any]) -> TwinRecord:
        state = TwinState(
            **{c: None if d[c] is None else float(d[c]) for c in _STATE_COLUMNS},
            updated_at=d["state_updated_at"],
        )
        return TwinRecord(d["vin"], d["name"], d["vehicle_toml"], state, d["created_at"])

    # ---- model versions (the VersionLedger of ModelRegistry) -----------------------
    def registry(self, vin: str) -> ModelRegistry:
        """The model registry of twin `vin` (which must exist)."""
        self.get(vin)
        return ModelRegistry(vin, self)

    def load_versions(self, vin: str) -> builtins.list[ModelVersion]:
        """All model versions of `vin`, oldest first."""
        rows = self.store.select("twin_models", where={"vin": vin}, order_by=["version"])
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
        StoreConflictError
            If another writer registered a version of `vin` at the same time.
        UnknownNameError
            If `vin` has no twin.
        """
        check_vin(vin)
        rows = [self._row(v) for v in new]
        try:
            with self.transaction():
                if not self._exists(vin):
                    raise UnknownNameError("twin", vin, self.vins(), hint="`twinloop twin list` shows them.")
                stored = {
                    int(r["version"]): r["status"]
                    for r in self.store.select("twin_models", ["version", "status"], {"vin": vin})
                }
                check_commit(vin, stored, expected_latest, new, status)
                for version, new_status in status.items():
                    self.store.update("twin_models", {"status": new_status}, {"vin": vin, "version": version})
                self.store.insert("twin_models", rows)
        except StoreConflictError:
            raise StoreConflictError(
                f"another writer registered a model version of {vin} at the same time (a calibration or"
                " update running beside this one); nothing was written: run it again"
            ) from None

    @staticmethod
    def _row(v: ModelVersion) -> dict[str, Any]:
        try:
            json.dumps(v.parameters, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                "parameters", "a JSON-safe dict of finite numbers, text, lists and dicts",
                f"{type(exc).__name__}: {exc}", f"version {v.version} of {v.vin}",
            ) from None
        band = v.residual_band
        return {
            "vin": v.vin, "version": v.version, "model_type": v.model_type, "kind": v.kind,
            "parameters": v.parameters, "status": v.status,
            "created_by": v.provenance.created_by, "reason": v.provenance.reason,
            "parent_version": v.provenance.parent_version,
            "training_start": v.training_start, "training_end": v.training_end,
            "validation_error": v.validation_error,
            "residual_mean": None if band is None else band.mean,
            "residual_std": None if band is None else band.std,
            "created_at": v.created_at,
        }

    @staticmethod
    def _version(d: Mapping[str, Any]) -> ModelVersion:
        band = None
        if d["residual_mean"] is not None and d["residual_std"] is not None:
            band = ResidualBand(float(d["residual_mean"]), float(d["residual_std"]))
        error = d["validation_error"]
        return ModelVersion(
            vin=d["vin"],
            version=int(d["version"]),
            model_type=d["model_type"],
            kind=d["kind"],
            parameters=dict(d["parameters"]),
            status=d["status"],
            provenance=Provenance(
                d["created_by"], d["reason"],
                None if d["parent_version"] is None else int(d["parent_version"]),
            ),
            training_start=d["training_start"],
            training_end=d["training_end"],
            validation_error=None if error is None or not math.isfinite(error) else float(error),
            residual_band=band,
            created_at=d["created_at"] or datetime.now(UTC),
        )
