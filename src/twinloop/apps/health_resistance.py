r"""The resistance watch: the pack resistance of the first and the latest trips, referred to 25 degC.

Each trip's resistance comes from its current steps
(:func:`twinloop.battery.soh.pack_resistance`) and is referred to 25 degC
with the twin's Arrhenius law, so that a winter does not look like ageing.
The first and the latest trips are pooled, and :func:`resistance_alert`
raises an alert when the rise exceeds its level at the chosen confidence.

References
----------
.. [1] Han, X. et al. (2019). A review on the key issues of the lithium ion
   battery degradation among the whole life cycle. eTransportation 1,
   100005. doi:10.1016/j.etran.2019.100005
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from twinloop.apps.health_alerts import ALERT_KINDS, HealthAlert, HealthThresholds, normal_cdf
from twinloop.battery.soh import ResistanceEstimate, pack_resistance
from twinloop.errors import CalibrationError, ValidationError
from twinloop.signals.vss import BATTERY_TEMPERATURE, CURRENT, VOLTAGE

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "REFERENCE_TEMPERATURE",
    "ResistanceTrend",
    "TripResistance",
    "resistance_alert",
    "resistance_trend",
    "trip_resistance",
]

REFERENCE_TEMPERATURE = 298.15
"""Temperature [K] the resistances are referred to (25 degC), as the twin's spec states its resistances."""


@dataclass(frozen=True)
class ResistanceTrend:
    """Pack resistance of the first and the latest trips, referred to 25 degC.

    Attributes
    ----------
    first, latest : float
        Inverse-variance weighted means of the trips' resistances [ohm].
    first_standard_error, latest_standard_error : float
        [ohm].
    first_window, latest_window : tuple of datetime
        Start of the first trip and end of the last trip of each estimate.
    trips : int
        Trips in each estimate (the smaller of the two).
    """

    first: float
    first_standard_error: float
    latest: float
    latest_standard_error: float
    first_window: tuple[datetime, datetime]
    latest_window: tuple[datetime, datetime]
    trips: int

    @property
    def rise(self) -> float:
        """Latest over first, less one [1]."""
        return self.latest / self.first - 1.0

    @property
    def rise_standard_error(self) -> float:
        """[1], first order."""
        ratio = self.latest / self.first
        return ratio * math.hypot(self.first_standard_error / self.first, self.latest_standard_error / self.latest)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, SI units."""
        return {
            "first": self.first, "first_standard_error": self.first_standard_error,
            "latest": self.latest, "latest_standard_error": self.latest_standard_error,
            "rise": self.rise, "rise_standard_error": self.rise_standard_error,
            "first_window": [t.isoformat() for t in self.first_window],
            "latest_window": [t.isoformat() for t in self.latest_window],
            "trips": self.trips, "reference_temperature": REFERENCE_TEMPERATURE,
        }


@dataclass(frozen=True)
class TripResistance:
    """One trip's pack resistance, referred to 25 degC when the battery temperature was stored.

    Attributes
    ----------
    start, end : datetime
        The trip.
    estimate : ResistanceEstimate
        Its resistance [ohm], standard error and spread.
    """

    start: datetime
    end: datetime
    estimate: ResistanceEstimate


def trip_resistance(frame: pd.DataFrame, start: datetime, end: datetime,
                    activation_temperature: float) -> TripResistance | None:
    r"""The pack resistance of one trip's current steps, referred to 25 degC; None when it has too few.

    With the trip's mean battery temperature :math:`\bar T` and the twin's
    activation temperature :math:`T_a` [K],
    :math:`R_{25} = R \exp(-T_a (1/\bar T - 1/298.15))`; without a stored
    temperature the resistance is left as measured.
    """
    both = frame[[CURRENT, VOLTAGE]].dropna()
    if len(both) < 2:
        return None
    t = (both.index - both.index[0]).total_seconds().to_numpy(dtype=float)
    try:
        r = pack_resistance(t, both[CURRENT].to_numpy(float), both[VOLTAGE].to_numpy(float))
    except (CalibrationError, ValidationError):
        return None
    temperature = frame[BATTERY_TEMPERATURE].dropna()
    if len(temperature):
        factor = math.exp(-activation_temperature * (1.0 / float(temperature.mean()) - 1.0 / REFERENCE_TEMPERATURE))
        r = ResistanceEstimate(r.resistance * factor, r.standard_error * factor, r.spread * factor, r.steps)
    return TripResistance(start, end, r)


def resistance_trend(having: Sequence[TripResistance], th: HealthThresholds) -> tuple[ResistanceTrend | None, str | None]:
    """The first and the latest ``th.resistance_trips`` resistances pooled; or None and why.

    `having` are the trips that give a resistance, oldest first. Each group
    is the inverse-variance mean, its standard error widened by the Birge
    ratio when the trips scatter more than their errors say; with fewer than
    ``2 * th.resistance_trips`` trips, each group takes half of them.
    """
    k = th.resistance_trips
    if len(having) < 2:
        return None, (f"{len(having)} trip(s) give a pack resistance (current steps of 20 A or more with"
                      f" {VOLTAGE} sampled within 1.5 s); a trend needs at least 2")
    k = min(k, len(having) // 2)
    first, latest = having[:k], having[-k:]

    def pooled(group: Sequence[TripResistance]) -> tuple[float, float]:
        r = np.array([g.estimate.resistance for g in group])
        se = np.array([g.estimate.standard_error for g in group])
        w = 1.0 / np.maximum(se, 1e-6 * r) ** 2
        mean = float(w @ r / w.sum())
        err = 1.0 / math.sqrt(float(w.sum()))
        if r.size > 1:  # trips that scatter more than their errors say widen it (Birge ratio)
            err *= max(1.0, math.sqrt(float(w @ (r - mean) ** 2) / (r.size - 1)))
        return mean, err

    (r1, s1), (r2, s2) = pooled(first), pooled(latest)
    return ResistanceTrend(r1, s1, r2, s2, (first[0].start, first[-1].end), (latest[0].start, latest[-1].end), k), None


def resistance_alert(trend: ResistanceTrend, th: HealthThresholds) -> HealthAlert | None:
    r"""The alert when the rise exceeds ``th.resistance_rise``: confidence :math:`\Phi((\rho - \rho_a)/\sigma_\rho)`."""
    se = trend.rise_standard_error
    confidence = normal_cdf((trend.rise - th.resistance_rise) / se) if se > 0 else float(trend.rise > th.resistance_rise)
    if confidence < th.confidence:
        return None
    return HealthAlert(
        ALERT_KINDS["resistance_rise"],
        f"pack resistance rose by {trend.rise:+.0%} ± {se:.0%} since the first estimate"
        f" ({trend.first * 1000:.1f} to {trend.latest * 1000:.1f} mOhm at 25 degC); the alert level is"
        f" +{th.resistance_rise:.0%}",
        confidence, trend.latest_window[0], trend.latest_window[1],
        "expect less power and range in the cold; have the pack inspected for a weak module or a loose"
        " connection (a rise that is sudden rather than gradual points to these)",
        {"first": trend.first, "latest": trend.latest, "rise": trend.rise, "rise_standard_error": se,
         "first_window": [t.isoformat() for t in trend.first_window]},
    )
