"""Battery health alerts: their kinds, when a watch raises one, and idempotent writing to the store.

A watch (:mod:`~twinloop.apps.health_fade`, :mod:`~twinloop.apps.health_resistance`,
:mod:`~twinloop.apps.health_temperature`) raises a :class:`HealthAlert` only
when the evidence says, at :attr:`HealthThresholds.confidence`, that the
quantity lies beyond its limit. :func:`write_alerts` stores alerts as events
on the twin, each keyed by its kind and its evidence window, so that
monitoring twice writes nothing twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from twinloop.conventions import utc
from twinloop.errors import ValidationError
from twinloop.store.base import Event

if TYPE_CHECKING:
    from twinloop.twin.lifecycle import Twin

__all__ = ["ALERT_KINDS", "HealthAlert", "HealthThresholds", "normal_cdf", "write_alerts"]

#: Kinds of the events :func:`write_alerts` stores, by watch.
ALERT_KINDS = {
    "capacity_fade": "health.capacity_fade",
    "resistance_rise": "health.resistance_rise",
    "temperature_limit": "health.temperature_limit",
    "temperature_rise": "health.temperature_rise",
}


def normal_cdf(z: float) -> float:
    """The standard normal distribution function at `z` [1]: a watch's confidence.

    Examples
    --------
    >>> normal_cdf(0.0)
    0.5
    """
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class HealthThresholds:
    """When a watch raises an alert (configuration; the defaults are in ``docs/health.md``).

    Attributes
    ----------
    confidence : float
        Probability [1] that the watched quantity lies beyond its limit,
        given its uncertainty, above which an alert is raised.
    resistance_rise : float
        Rise of the pack resistance over the first estimate [1] (0.5: +50 %,
        half-way to the usual end of life at twice the initial resistance, Han et al. 2019).
    temperature_limit : float
        Battery temperature [K] not to be exceeded (323.15 K = 50 degC, above
        which ageing and the risk of thermal runaway rise fast, Ma et al. 2018).
    temperature_limit_duration : float
        Time [s] the battery must stay above the limit for it to count (one
        sample is not a reading).
    temperature_excess : float
        How far [K] the measured battery temperature may run above the
        thermal model's prediction over a trip before it is an anomaly.
    temperature_noise : float
        Standard uncertainty of the battery temperature signal [K], the floor
        of the model error's spread.
    end_of_life : float
        State of health [1] at which the remaining useful life ends (0.7:
        the usual EV battery warranty).
    resistance_trips : int
        Trips whose resistances make the first and the latest estimate.
    """

    confidence: float = 0.95
    resistance_rise: float = 0.5
    temperature_limit: float = 323.15
    temperature_limit_duration: float = 30.0
    temperature_excess: float = 5.0
    temperature_noise: float = 0.5
    end_of_life: float = 0.7
    resistance_trips: int = 5

    def __post_init__(self) -> None:
        # name: (low, high, low allowed, high allowed, what is expected)
        ranges = {
            "confidence": (0.5, 1.0, True, False, "a probability in [0.5, 1)"),
            "resistance_rise": (0.0, 10.0, False, True, "a share in (0, 10] (0.5 = +50 %)"),
            "temperature_limit": (273.15, 373.15, False, True, "a temperature in K, (273.15, 373.15]"),
            "temperature_limit_duration": (0.0, 86400.0, True, True, "a duration in s, [0, 86400]"),
            "temperature_excess": (0.0, 100.0, False, True, "a temperature difference in K, (0, 100]"),
            "temperature_noise": (0.0, 10.0, False, True, "a temperature difference in K, (0, 10]"),
            "end_of_life": (0.0, 1.0, False, False, "a state of health in (0, 1)"),
        }
        for name, (lo, hi, lo_ok, hi_ok, text) in ranges.items():
            v = getattr(self, name)
            number = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            if not (number and (lo <= v if lo_ok else lo < v) and (v <= hi if hi_ok else v < hi)):
                raise ValidationError(name, text, v, "HealthThresholds")
        n = self.resistance_trips
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValidationError("resistance_trips", "an integer >= 1", n, "HealthThresholds")


@dataclass(frozen=True)
class HealthAlert:
    """What a watch found: what, how sure, since when and what to do.

    Attributes
    ----------
    kind : str
        One of :data:`ALERT_KINDS`' values.
    message : str
        What was found, with its numbers.
    confidence : float
        Probability [1] that the quantity lies beyond its limit, given its uncertainty.
    since, until : datetime
        The evidence window (aware UTC); with `kind`, the alert's key.
    action : str
        What to do.
    evidence : dict
        The numbers behind it (SI).
    """

    kind: str
    message: str
    confidence: float
    since: datetime
    until: datetime
    action: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """(kind, since, until): one alert per kind and evidence window."""
        return self.kind, utc(self.since).isoformat(), utc(self.until).isoformat()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; also the payload of the stored event."""
        return {
            "kind": self.kind, "message": self.message, "confidence": self.confidence,
            "since": utc(self.since).isoformat(), "until": utc(self.until).isoformat(),
            "action": self.action, "evidence": self.evidence,
        }

    def to_event(self) -> Event:
        """The store event: at the end of the evidence window, the alert as payload."""
        return Event(utc(self.until), self.kind, self.to_dict())


def write_alerts(twin: Twin, alerts: Sequence[HealthAlert]) -> tuple[HealthAlert, ...]:
    """Store `alerts` as events on `twin`, skipping those already stored; return the ones written.

    An alert is already stored when an event of its kind has the same
    evidence window (``since`` and ``until`` in its payload): monitoring the
    same trips twice writes nothing the second time. All are written in one
    transaction.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.store import open_store
    >>> from twinloop.twin.lifecycle import create_twin
    >>> twin = create_twin(open_store("duckdb://:memory:"), "VIN1", resolve_vehicle("nissan_leaf_40kwh_2018"))
    >>> from datetime import UTC, datetime
    >>> a = HealthAlert("health.temperature_limit", "hot", 0.99, datetime(2024, 5, 1, tzinfo=UTC),
    ...                 datetime(2024, 5, 1, 1, tzinfo=UTC), "cool it")
    >>> len(write_alerts(twin, [a])), len(write_alerts(twin, [a]))
    (1, 0)
    """
    stored: set[tuple[str, str, str]] = set()
    for kind in {a.kind for a in alerts}:
        for row in twin.store.events(twin.vin, kind).to_pylist():
            payload = json.loads(row["payload"])
            stored.add((kind, str(payload.get("since")), str(payload.get("until"))))
    new, seen = [], set(stored)
    for a in alerts:
        if a.key not in seen:
            new.append(a)
            seen.add(a.key)
    if new:
        with twin.store.transaction():
            twin.store.add_events(twin.vin, [a.to_event() for a in new])
    return tuple(new)
