r"""Battery health monitoring: the state-of-health trend, the remaining useful life and alerts.

:func:`monitor_health` reads a twin's stored trips once and composes

- the **trend**: the capacity of each discharge stretch (coulomb counting
  against the BMS state of charge, :func:`twinloop.battery.soh.pack_capacity`,
  stretches joined as :func:`twinloop.twin.health.health_from_store` joins
  them) over distance and time, and the fade line through them
  (:func:`twinloop.battery.soh.health_track`);
- the **remaining useful life**: the distance, and at the twin's own pace
  the time, until the state of health crosses the end-of-life threshold on
  that line, with a Monte Carlo interval over the line's uncertainty;
- three **watches**, each of which may raise a :class:`HealthAlert`:

  a. *capacity fading faster than expected*: the fade over the trend's
     window against the expected calendar and cycle fade of the pack's
     chemistry (:data:`EXPECTED_FADE`);
  b. *resistance rise*: the pack resistance of the latest trips against the
     first estimate (the earliest trips stored), both referred to 25 degC;
  c. *temperature anomalies*: the battery temperature above a limit, or
     rising faster than the twin's lumped thermal model explains from the
     measured current, by more than the twin's own trips scatter.

An alert is raised only when the evidence says, at the chosen confidence,
that the quantity lies beyond its limit: noise does not alert.
:func:`write_alerts` stores alerts as events on the twin, each keyed by its
kind and its evidence window, so that monitoring twice writes nothing twice.

The thresholds, their sources and an example are in ``docs/health.md``.

This module is the app's face (:func:`monitor_health`, :class:`HealthReport`);
the parts live beside it: :mod:`~twinloop.apps.health_trips` (reading),
:mod:`~twinloop.apps.health_fade` (trend points, expected fade, remaining
life), :mod:`~twinloop.apps.health_resistance`,
:mod:`~twinloop.apps.health_temperature` and
:mod:`~twinloop.apps.health_alerts` (alerts, thresholds, writing).

References
----------
.. [1] Geotab (2020). What can 6,000 electric vehicles tell us about EV
   battery health? https://www.geotab.com/blog/ev-battery-health/
.. [2] Preger, Y. et al. (2020). Degradation of commercial lithium-ion cells
   as a function of chemistry and cycling conditions. J. Electrochem. Soc.
   167, 120532. doi:10.1149/1945-7111/abae37
.. [3] Han, X. et al. (2019). A review on the key issues of the lithium ion
   battery degradation among the whole life cycle. eTransportation 1,
   100005. doi:10.1016/j.etran.2019.100005
.. [4] Ma, S. et al. (2018). Temperature effect and thermal impact in
   lithium-ion batteries: a review. Progress in Natural Science: Materials
   International 28(6), 653-666. doi:10.1016/j.pnsc.2018.11.002
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twinloop import __version__
from twinloop.apps.health_alerts import ALERT_KINDS, HealthAlert, HealthThresholds, write_alerts
from twinloop.apps.health_fade import (
    EXPECTED_FADE,
    FadeExpectation,
    RemainingLife,
    SohPoint,
    fade_alert,
    remaining_life,
)
from twinloop.apps.health_resistance import ResistanceTrend, resistance_alert, resistance_trend
from twinloop.apps.health_temperature import TemperatureCheck, temperature_alerts
from twinloop.apps.health_trips import read_trips
from twinloop.battery.soh import HealthTrack, SensorNoise, health_track
from twinloop.errors import DataError, ValidationError
from twinloop.signals.vss import BATTERY_TEMPERATURE

if TYPE_CHECKING:
    from twinloop.twin.lifecycle import Twin

__all__ = [
    "ALERT_KINDS",
    "EXPECTED_FADE",
    "FadeExpectation",
    "HealthAlert",
    "HealthReport",
    "HealthThresholds",
    "RemainingLife",
    "ResistanceTrend",
    "SohPoint",
    "TemperatureCheck",
    "monitor_health",
    "write_alerts",
]


@dataclass(frozen=True)
class HealthReport:
    """The battery health of one twin: trend, remaining life, watches and alerts.

    Attributes
    ----------
    vin : str
    chemistry : str
    trend : HealthTrack or None
        Capacity now, state of health, fade; None when no stretch gives a
        capacity (`unknown` says why).
    points : tuple of SohPoint
        The stretches behind `trend`, oldest first.
    rul : RemainingLife or None
        None without a fade line (`unknown` says why).
    expectation : FadeExpectation or None
        The chemistry's expected fade (None for a chemistry without one).
    expected_loss, observed_loss, observed_loss_standard_error : float or None
        Over the trend's window, shares of the rated capacity [1].
    full_cycles : float or None
        Equivalent full cycles over the trend's window [1].
    resistance : ResistanceTrend or None
    temperatures : tuple of TemperatureCheck
    alerts : tuple of HealthAlert
    thresholds : HealthThresholds
    trips : int
        Trips read.
    unknown : dict of str to str
        Why a part could not be computed (``trend``, ``rul``, ``resistance``,
        ``temperature``, ``fade``).
    model_version : int or None
        The twin's champion model version.
    """

    vin: str
    chemistry: str
    trend: HealthTrack | None
    points: tuple[SohPoint, ...]
    rul: RemainingLife | None
    expectation: FadeExpectation | None
    expected_loss: float | None
    observed_loss: float | None
    observed_loss_standard_error: float | None
    full_cycles: float | None
    resistance: ResistanceTrend | None
    temperatures: tuple[TemperatureCheck, ...]
    alerts: tuple[HealthAlert, ...]
    thresholds: HealthThresholds
    trips: int
    unknown: dict[str, str]
    model_version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe document, SI units (A s, m, s, K, ohm), times in ISO 8601, null where unknown."""
        e = self.expectation
        return {
            "vin": self.vin,
            "chemistry": self.chemistry,
            "trips": self.trips,
            "trend": None if self.trend is None else self.trend.to_dict(),
            "points": [p.to_dict() for p in self.points],
            "rul": None if self.rul is None else self.rul.to_dict(),
            "fade": {
                "expected_loss": self.expected_loss,
                "observed_loss": self.observed_loss,
                "observed_loss_standard_error": self.observed_loss_standard_error,
                "full_cycles": self.full_cycles,
                "expectation": None if e is None else {
                    "chemistry": e.chemistry, "calendar_per_year": e.calendar_per_year,
                    "cycle_per_efc": e.cycle_per_efc, "source": e.source,
                },
            },
            "resistance": None if self.resistance is None else self.resistance.to_dict(),
            "temperatures": [t.to_dict() for t in self.temperatures],
            "alerts": [a.to_dict() for a in self.alerts],
            "thresholds": {k: getattr(self.thresholds, k) for k in self.thresholds.__dataclass_fields__},
            "unknown": dict(self.unknown),
            "model_version": self.model_version,
            "software": f"twinloop {__version__}",
        }


def monitor_health(
    twin: Twin,
    *,
    thresholds: HealthThresholds | None = None,
    last_trips: int = 50,
    noise: SensorNoise | None = None,
    min_soc_swing: float = 0.1,
    max_gap: float = 10.0,
    level: float = 0.9,
    horizon: float = 1.0e9,
    seed: int = 0,
) -> HealthReport:
    r"""The battery health of `twin` from its stored trips: trend, remaining useful life, alerts.

    Reads the store only; :func:`write_alerts` stores the alerts.

    Parameters
    ----------
    twin : Twin
    thresholds : HealthThresholds, optional
        When the watches alert; default :class:`HealthThresholds()`.
    last_trips : int
        Trips read for the trend, the temperatures and the latest resistance
        (the first resistance estimate also reads the first trips ever stored).
    noise : SensorNoise, optional
        The sensors' errors, for the capacities' standard errors.
    min_soc_swing, max_gap : float
        As :func:`twinloop.twin.health.health_from_store`.
    level : float
        Probability of the remaining-life interval [1].
    horizon : float
        Longest remaining distance forecast [m] (default 1e9 m = 1 million km).
    seed : int
        Of the Monte Carlo interval (results are reproducible).

    Returns
    -------
    HealthReport

    Raises
    ------
    UnknownNameError
        If the store has no twin `twin.vin` (from :func:`~twinloop.twin.lifecycle.open_twin`).
    DataError
        No trips, or trips from which nothing can be watched (no capacity,
        no resistance and no battery temperature): the message says what to store.
    ValidationError
        An argument out of its range.

    Notes
    -----
    Fade: over the trend's window (first to last stretch; :math:`\Delta x`
    of distance, :math:`\Delta t` of time) the observed loss is
    :math:`L = -b\,\Delta x / Q_{rated}` with the fade line's slope :math:`b`
    and standard error :math:`\sigma_L = \sigma_b \Delta x / Q_{rated}`; the
    expected loss is :meth:`FadeExpectation.expected_loss` of :math:`\Delta t`
    and :math:`\Delta N = (A/d)\,\Delta x / Q_{rated}` full cycles, with
    :math:`A/d` the net charge drawn per metre on the trips read. The alert's
    confidence is :math:`\Phi((L - L_{exp}) / \sigma_L)`.

    Resistance: each trip's resistance (:func:`~twinloop.battery.soh.pack_resistance`)
    is referred to 25 degC by the twin's Arrhenius law
    :math:`R_{25} = R \exp(-T_a (1/\bar T - 1/298.15))` at the trip's mean
    battery temperature; the first and the latest `resistance_trips` trips
    are pooled (inverse-variance mean, Birge-scaled), and the confidence that
    the rise :math:`\rho = R_{late}/R_{first} - 1` exceeds the alert level
    :math:`\rho_a` is :math:`\Phi((\rho - \rho_a)/\sigma_\rho)`.

    Temperature: the limit alert takes the highest temperature held for
    `temperature_limit_duration`; the rise alert compares, per trip, the
    largest excess of the measured temperature over the lumped model
    :math:`C\,\dot T = I^2 R_0(T) + I v_{RC} - hA\,(T - T_{amb})` (the
    twin's heat capacity and :math:`hA`, its resistance as measured on the
    trip) with the median :math:`m` and robust spread :math:`s` (floored at
    the sensor's noise) of the twin's other trips:
    :math:`\Phi((e - m - e_a)/s)`.

    Remaining life: lines are sampled from the fade line's level and slope
    with their standard errors; each gives the distance at which the
    capacity reaches `end_of_life` times rated; the median and the `level`
    interval of those distances are reported, and the time at the twin's pace.

    Examples
    --------
    >>> from twinloop.parameters import resolve_vehicle
    >>> from twinloop.store import open_store
    >>> from twinloop.twin.lifecycle import create_twin
    >>> twin = create_twin(open_store("duckdb://:memory:"), "VIN1", resolve_vehicle("nissan_leaf_40kwh_2018"))
    >>> monitor_health(twin)
    Traceback (most recent call last):
    ...
    twinloop.errors.DataError: VIN1 has no trips in the store; ingest telemetry with ...
    """
    th = HealthThresholds() if thresholds is None else thresholds
    if not isinstance(th, HealthThresholds):
        raise ValidationError("thresholds", "a HealthThresholds", type(th).__name__)
    if isinstance(last_trips, bool) or not isinstance(last_trips, int) or last_trips < 1:
        raise ValidationError("last_trips", "an integer >= 1", last_trips)
    if not (isinstance(level, float) and 0 < level < 1):
        raise ValidationError("level", "a probability in (0, 1)", level)
    if not (isinstance(horizon, int | float) and math.isfinite(horizon) and horizon > 0):
        raise ValidationError("horizon", "a distance > 0 m", horizon)
    noise = SensorNoise() if noise is None else noise
    spec = twin.record.spec
    unknown: dict[str, str] = {}
    trips, points, why = read_trips(twin, last_trips, noise, max_gap, min_soc_swing, th)
    track: HealthTrack | None = None
    if why is not None:
        unknown["trend"] = why
    else:
        track = health_track([p.distance for p in points], [p.capacity for p in points],
                             [p.capacity_standard_error for p in points], spec.battery_capacity)
    resistance, note = resistance_trend([t.resistance for t in trips if t.resistance is not None], th)
    if note:
        unknown["resistance"] = note
    checks = tuple(t.temperature for t in trips if t.temperature is not None)
    if not checks:
        unknown["temperature"] = f"no trip has samples of {BATTERY_TEMPERATURE}"
    if track is None and resistance is None and not checks:
        raise DataError(
            f"nothing to watch in the {len(trips)} latest trips of {twin.vin}: {why}; and {note}; and no trip has"
            f" samples of {BATTERY_TEMPERATURE}"
        )
    alerts: list[HealthAlert] = []
    fade: dict[str, Any] = {"expected_loss": None, "observed_loss": None, "observed_loss_standard_error": None,
                            "full_cycles": None}
    expectation = EXPECTED_FADE.get(spec.battery_chemistry)
    rul = None
    if track is not None and track.fade_rate is None:
        unknown["rul"] = unknown["fade"] = (
            f"{track.stretches} stretch(es) give a capacity; a fade line needs capacities at 3 distinct distances")
    elif track is not None:
        rul = remaining_life(points, track, th, level, horizon, seed)
        if expectation is None:
            unknown["fade"] = f"no expected fade for chemistry {spec.battery_chemistry!r} (EXPECTED_FADE)"
        else:
            # net charge per metre on the logged trips: the odometer also spans driving that was not logged
            logged = [t for t in trips if t.in_window]
            per_metre = sum(t.charge for t in logged) / max(sum(t.distance for t in logged), 1.0)
            figures, alert = fade_alert(points, track, expectation, per_metre, th)
            fade.update(figures)
            alerts += [alert] if alert else []
    elif "trend" in unknown:
        unknown["rul"] = "no capacity trend (see trend)"
    if resistance is not None:
        alert = resistance_alert(resistance, th)
        alerts += [alert] if alert else []
    alerts += temperature_alerts(checks, th)
    champion = twin.registry.champion()
    return HealthReport(
        twin.vin, spec.battery_chemistry, track, tuple(points), rul, expectation, fade["expected_loss"],
        fade["observed_loss"], fade["observed_loss_standard_error"], fade["full_cycles"], resistance, checks,
        tuple(alerts), th, len(trips), unknown, None if champion is None else champion.version,
    )
