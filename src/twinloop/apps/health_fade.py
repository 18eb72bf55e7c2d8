r"""The capacity fade of a twin's pack: the trend's points, the expected fade, its alert and the remaining life.

The trend is the capacity of each discharge stretch (:class:`SohPoint`) over
distance, and the fade line through it
(:func:`twinloop.battery.soh.health_track`). Against that line,

- :func:`fade_alert` compares the loss over the trend's window with the
  expected calendar and cycle fade of the pack's chemistry
  (:data:`EXPECTED_FADE`);
- :func:`remaining_life` samples the line to find the distance, and at the
  twin's own pace the time, until the state of health reaches the end of life.

References
----------
.. [1] Geotab (2020). What can 6,000 electric vehicles tell us about EV
   battery health? https://www.geotab.com/blog/ev-battery-health/
.. [2] Preger, Y. et al. (2020). Degradation of commercial lithium-ion cells
   as a function of chemistry and cycling conditions. J. Electrochem. Soc.
   167, 120532. doi:10.1149/1945-7111/abae37
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from twinloop.apps.health_alerts import ALERT_KINDS, HealthAlert, HealthThresholds, normal_cdf
from twinloop.battery.soh import HealthTrack

__all__ = [
    "EXPECTED_FADE",
    "FadeExpectation",
    "RemainingLife",
    "SohPoint",
    "fade_alert",
    "remaining_life",
]

_YEAR = 365.25 * 86400.0  # [s]


@dataclass(frozen=True)
class SohPoint:
    """The capacity counted over one discharge stretch.

    Attributes
    ----------
    start, end : datetime
        The stretch (aware UTC).
    distance : float
        Odometer (or distance driven) at its end [m].
    capacity, capacity_standard_error : float
        [A s].
    state_of_health : float
        Capacity over rated [1].
    """

    start: datetime
    end: datetime
    distance: float
    capacity: float
    capacity_standard_error: float
    state_of_health: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, SI units, times in ISO 8601."""
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "distance": self.distance,
            "capacity": self.capacity, "capacity_standard_error": self.capacity_standard_error,
            "state_of_health": self.state_of_health,
        }


@dataclass(frozen=True)
class FadeExpectation:
    r"""The capacity fade a healthy pack of one chemistry is expected not to exceed.

    The expected loss over a window is linear in time and throughput,

    .. math:: \Delta Q_{exp}/Q_{rated} = a\,\Delta t + b\,\Delta N_{EFC}

    with :math:`\Delta t` in years and :math:`\Delta N_{EFC}` the equivalent
    full cycles (net charge drawn / rated capacity). The rates are the upper
    end of what the sources report for packs in service at moderate
    temperatures: a fade beyond them, with confidence, is abnormal.

    Attributes
    ----------
    chemistry : str
        Key of :data:`twinloop.parameters.chemistry.OCV_TABLES`.
    calendar_per_year : float
        :math:`a` [1 per year].
    cycle_per_efc : float
        :math:`b` [1 per equivalent full cycle].
    source : str
        Where the rates come from.
    """

    chemistry: str
    calendar_per_year: float
    cycle_per_efc: float
    source: str

    def expected_loss(self, years: float, full_cycles: float) -> float:
        """Expected loss over `years` [year] and `full_cycles` [1], as a share of the rated capacity [1].

        Examples
        --------
        >>> round(EXPECTED_FADE["nmc"].expected_loss(1.0, 100.0), 4)
        0.045
        """
        return self.calendar_per_year * years + self.cycle_per_efc * full_cycles


_GEOTAB = (
    "Geotab (2020), 'What can 6,000 electric vehicles tell us about EV battery health?', telematics of"
    " 6,300 EVs: 2.3 % of capacity lost per year on average"
)
_PREGER = (
    "Preger, Y. et al. (2020), J. Electrochem. Soc. 167, 120532, doi:10.1149/1945-7111/abae37:"
    " commercial LFP, NMC and NCA cells cycled at 0.5-3C, 15-35 degC"
)
_SCHMALSTIEG = (
    "Schmalstieg, J. et al. (2014), J. Power Sources 257, 325-334, doi:10.1016/j.jpowsour.2014.02.012"
    " (calendar fade of NMC, t^0.75)"
)

EXPECTED_FADE: dict[str, FadeExpectation] = {
    e.chemistry: e
    for e in (
        # 2.5 %/yr calendar and 0.02 %/EFC (80 % after 1,000 full cycles): at 15,000 km a year
        # (~60-100 EFC) 3.7-4.5 %/yr, about twice the fleet mean of Geotab.
        FadeExpectation("nmc", 0.025, 2.0e-4, f"{_GEOTAB}; {_PREGER}; {_SCHMALSTIEG}"),
        # LFP ages slower on both counts: 80 % after 3,000+ full cycles in Preger et al.
        FadeExpectation("lfp", 0.015, 7.0e-5, f"{_GEOTAB}; {_PREGER}"),
        # manganese-spinel packs (early Nissan Leaf) faded faster, above all when hot
        FadeExpectation("lmo", 0.04, 3.0e-4, f"{_GEOTAB}; twinloop's reading for early LMO packs"),
    )
}


@dataclass(frozen=True)
class RemainingLife:
    """Distance and time until the state of health reaches `end_of_life`, on the fade line.

    Attributes
    ----------
    end_of_life : float
        State of health at the end of life [1].
    distance : float
        Median remaining distance [m] (``inf`` when most of the lines do not
        reach the end of life within `horizon`); 0 when already there.
    interval : tuple of float
        The `level` interval of the remaining distance [m] (``inf`` as the
        upper end when it lies beyond the horizon).
    level : float
        [1].
    probability_beyond_horizon : float
        Share of the sampled lines that do not reach the end of life within the horizon [1].
    horizon : float
        Longest remaining distance forecast [m].
    distance_rate : float or None
        The twin's pace over the trend's window [m s-1], for the times; None
        when the window has no duration.
    """

    end_of_life: float
    distance: float
    interval: tuple[float, float]
    level: float
    probability_beyond_horizon: float
    horizon: float
    distance_rate: float | None

    def time(self, distance: float) -> float | None:
        """Time [s] to drive `distance` at the twin's pace; None without a pace, inf for inf."""
        if self.distance_rate is None or self.distance_rate <= 0:
            return None
        return distance / self.distance_rate

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: distances [m] and times [s], null for beyond the horizon."""

        def finite(x: float | None) -> float | None:
            return x if x is not None and math.isfinite(x) else None

        return {
            "end_of_life": self.end_of_life,
            "distance": finite(self.distance),
            "interval": [finite(self.interval[0]), finite(self.interval[1])],
            "time": finite(self.time(self.distance)),
            "time_interval": [finite(self.time(self.interval[0])), finite(self.time(self.interval[1]))],
            "level": self.level,
            "probability_beyond_horizon": self.probability_beyond_horizon,
            "horizon": self.horizon,
            "distance_rate": self.distance_rate,
            "method": "linear fade (Theil-Sen line over distance), Monte Carlo over its standard errors",
        }


def remaining_life(points: Sequence[SohPoint], track: HealthTrack, th: HealthThresholds, level: float,
                   horizon: float, seed: int) -> RemainingLife:
    r"""Where the fade line :math:`Q(x) = \bar Q + b (x - \bar x)` first reaches the end of life, sampled.

    `track` must have a fade line (``track.fade_rate`` not None).
    """
    assert track.fade_rate is not None and track.fade_rate_standard_error is not None
    x = np.array([p.distance for p in points])
    q = np.array([p.capacity for p in points])
    s = np.array([p.capacity_standard_error for p in points])
    w = 1.0 / np.maximum(s, 1e-9 * np.abs(q)) ** 2
    x_mean = float(w @ x / w.sum())
    last = track.distance
    # the line's level at its weighted mean, from the capacity now and the slope (as health_track built them)
    q_mean = track.capacity - track.fade_rate * (last - x_mean)
    se_mean = math.sqrt(max(track.capacity_standard_error**2 - (track.fade_rate_standard_error * (last - x_mean)) ** 2,
                            0.0))
    eol = th.end_of_life * track.rated_capacity
    rng = np.random.default_rng(seed)
    n = 4000
    level_s = q_mean + se_mean * rng.standard_normal(n)
    slope_s = track.fade_rate + track.fade_rate_standard_error * rng.standard_normal(n)
    now = level_s + slope_s * (last - x_mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        remaining = np.where(slope_s < 0, (eol - now) / slope_s, np.inf)
    remaining = np.where(now <= eol, 0.0, remaining)
    remaining = np.where(remaining > horizon, np.inf, remaining)
    lo, mid, hi = np.quantile(remaining, [(1 - level) / 2, 0.5, (1 + level) / 2], method="inverted_cdf")
    span = (points[-1].end - points[0].start).total_seconds()
    rate = (float(x.max() - x.min()) / span) if span > 0 and x.max() > x.min() else None
    return RemainingLife(th.end_of_life, float(mid), (float(lo), float(hi)), level,
                         float(np.mean(np.isinf(remaining))), horizon, rate)


def fade_alert(points: Sequence[SohPoint], track: HealthTrack, exp: FadeExpectation, charge_per_metre: float,
               th: HealthThresholds) -> tuple[dict[str, float], HealthAlert | None]:
    """The observed and expected loss over the trend's window, and the alert when the first exceeds the second.

    Returns the figures (``expected_loss``, ``observed_loss``,
    ``observed_loss_standard_error``, ``full_cycles``) and the alert, None
    when the confidence stays below ``th.confidence``. `track` must have a
    fade line; `charge_per_metre` [A s m-1] is the net charge drawn per metre
    driven, for the full cycles.
    """
    assert track.fade_rate is not None and track.fade_rate_standard_error is not None
    x = np.array([p.distance for p in points])
    span = float(x.max() - x.min())
    since, until = points[0].start, points[-1].end
    years = (until - since).total_seconds() / _YEAR
    cycles = charge_per_metre * span / track.rated_capacity
    expected = exp.expected_loss(years, cycles)
    observed = -track.fade_rate * span / track.rated_capacity
    se = track.fade_rate_standard_error * span / track.rated_capacity
    figures = {"expected_loss": expected, "observed_loss": observed, "observed_loss_standard_error": se,
               "full_cycles": cycles}
    if se <= 0:
        return figures, None
    confidence = normal_cdf((observed - expected) / se)
    if confidence < th.confidence:
        return figures, None
    return figures, HealthAlert(
        ALERT_KINDS["capacity_fade"],
        f"capacity fell by {observed:.1%} ± {se:.1%} of rated over {span / 1000:.0f} km and {years * 365.25:.0f} days;"
        f" a healthy {exp.chemistry} pack loses at most {expected:.1%} over that time and {cycles:.0f} full cycles",
        confidence, since, until,
        "have the pack's capacity checked at a service point (a full charge and discharge); look for causes of fast"
        " ageing: frequent fast charging, long parking at high state of charge or temperature",
        {"observed_loss": observed, "observed_loss_standard_error": se, "expected_loss": expected,
         "years": years, "full_cycles": cycles, "distance": span, "state_of_health": track.state_of_health},
    )
