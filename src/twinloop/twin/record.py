"""The twin record: who a twin is, what vehicle it models, and its current state.

A :class:`TwinRecord` is the identity of one vehicle's twin (VIN and a
human name), the vehicle specification it was built from (kept as the TOML
text of :func:`twinloop.parameters.dump_vehicle`, so the record is
self-contained and readable) and its last known :class:`TwinState`.
Models live beside it in the model registry (:mod:`twinloop.twin.registry`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from twinloop.conventions import check_vin, utc
from twinloop.errors import ValidationError, shorten
from twinloop.parameters.spec import VehicleSpec
from twinloop.parameters.toml_io import dump_vehicle, load_vehicle
from twinloop.quantities import check

__all__ = ["TwinRecord", "TwinState"]

#: Longest twin name.
MAX_NAME_LENGTH = 200

# state field -> glossary quantity giving its unit and valid range
_STATE_QUANTITIES: dict[str, str] = {
    "state_of_charge": "state_of_charge",
    "state_of_health": "state_of_health",
    "battery_temperature": "battery_temperature",
    "cabin_temperature": "cabin_temperature",
    "odometer": "distance",
}


@dataclass(frozen=True)
class TwinState:
    """The last known state of the vehicle a twin follows.

    ``None`` means not observed yet (a new twin knows nothing of its car).

    Attributes
    ----------
    state_of_charge : float or None
        [1], in [0, 1].
    state_of_health : float or None
        Capacity relative to rated [1], in [0, 1.2].
    battery_temperature : float or None
        [K].
    cabin_temperature : float or None
        [K].
    odometer : float or None
        Distance driven since new [m].
    updated_at : datetime or None
        When the state was last observed (UTC).

    Examples
    --------
    >>> TwinState(state_of_charge=0.8, battery_temperature=298.15).state_of_charge
    0.8
    >>> TwinState(state_of_charge=80)
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: state.state_of_charge: expected a number in [0, 1], received 80.0
    """

    state_of_charge: float | None = None
    state_of_health: float | None = None
    battery_temperature: float | None = None
    cabin_temperature: float | None = None
    odometer: float | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        for name, qname in _STATE_QUANTITIES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"state.{name}", "a number or None", value)
            object.__setattr__(self, name, float(check(qname, value, field=f"state.{name}")))
        if self.updated_at is not None:
            if not isinstance(self.updated_at, datetime):
                raise ValidationError("state.updated_at", "a datetime", self.updated_at)
            object.__setattr__(self, "updated_at", utc(self.updated_at))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``updated_at`` as ISO 8601 text)."""
        d: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        d["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TwinState:
        """Inverse of :meth:`to_dict`; unknown keys are refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValidationError("state", f"keys among {sorted(known)}", unknown[0])
        values = dict(d)
        if isinstance(values.get("updated_at"), str):
            values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        return cls(**values)


@dataclass(frozen=True)
class TwinRecord:
    """One vehicle's twin: identity, vehicle specification and current state.

    Parameters
    ----------
    vin : str
        Vehicle identifier (see :func:`check_vin`); also the store's vehicle key.
    name : str
        Human name, 1 to 200 characters.
    vehicle : str
        The vehicle specification as TOML text (:func:`twinloop.parameters.dump_vehicle`);
        parsed and validated on construction. Use :meth:`from_spec` to build
        a record from a :class:`~twinloop.parameters.VehicleSpec`.
    state : TwinState
        Last known state.
    created_at : datetime
        UTC.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> rec = TwinRecord.from_spec("VIN1", resolve_vehicle("nissan_leaf_40kwh_2018"))
    >>> rec.name, rec.spec.test_mass
    ('nissan_leaf_40kwh_2018', 1727.0)
    >>> rec.with_state(state_of_charge=0.5).state.state_of_charge
    0.5
    """

    vin: str
    name: str
    vehicle: str
    state: TwinState = field(default_factory=TwinState)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _spec: VehicleSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_vin(self.vin)
        if (
            not isinstance(self.name, str)
            or not 1 <= len(self.name) <= MAX_NAME_LENGTH
            or not self.name.isprintable()
        ):
            raise ValidationError(
                "name", f"a printable name of 1 to {MAX_NAME_LENGTH} characters", shorten(self.name)
            )
        if not isinstance(self.vehicle, str):
            raise ValidationError("vehicle", "vehicle TOML text", type(self.vehicle).__name__)
        if not isinstance(self.state, TwinState):
            raise ValidationError("state", "a TwinState", type(self.state).__name__)
        object.__setattr__(self, "created_at", utc(self.created_at))
        object.__setattr__(self, "_spec", load_vehicle(self.vehicle))

    @classmethod
    def from_spec(
        cls,
        vin: str,
        spec: VehicleSpec,
        name: str | None = None,
        state: TwinState | None = None,
        created_at: datetime | None = None,
    ) -> TwinRecord:
        """A record for `vin` built from a vehicle specification; `name` defaults to the spec's."""
        try:
            return cls(
                vin=vin,
                name=name if name is not None else spec.name,
                vehicle=dump_vehicle(spec),
                state=state or TwinState(),
                created_at=created_at or datetime.now(UTC),
            )
        except ValidationError as exc:
            if name is not None or exc.field != "name":
                raise
            raise ValidationError(  # the user gave no name: say where this one came from
                exc.field, exc.expected, exc.received,
                hint="The twin took its vehicle's name; give it one of its own (`name`)",
            ) from None

    @property
    def spec(self) -> VehicleSpec:
        """The vehicle specification (SI)."""
        return self._spec

    def with_state(self, **changes: Any) -> TwinRecord:
        """A copy whose state has some fields replaced (validated again).

        ``updated_at`` defaults to now when not given.
        """
        changes.setdefault("updated_at", datetime.now(UTC))
        unknown = sorted(set(changes) - {f.name for f in fields(TwinState)})
        if unknown:
            raise ValidationError("state", f"fields among {list(_STATE_QUANTITIES)}", unknown[0])
        return replace(self, state=replace(self.state, **changes))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: vin, name, the vehicle as its SI dict and TOML text, state, created_at."""
        spec = self.spec.to_dict()
        spec = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in spec.items()}
        return {
            "vin": self.vin,
            "name": self.name,
            "vehicle": spec,
            "vehicle_toml": self.vehicle,
            "state": self.state.to_dict(),
            "created_at": self.created_at.isoformat(),
        }
