r"""Range and trip-energy forecast with an interval calibrated on the twin's own history.

:func:`forecast_range` answers "how much battery will this drive take, and
where will the state of charge end": for a speed trace known in advance
(``mode="trace"``) or for route segments before the drive
(``mode="route"``, the trace synthesised from the driver's style,
:mod:`twinloop.apps.route`).

Point forecast
--------------
A twin never calibrated forecasts with the generic model: its spec in the
simulator (:func:`twinloop.sim.simulate`, climate control auto). A
calibrated twin's champion consumption model (its calibration from its own
trips) gives the battery energy per metre of the drive's trip features
(:func:`twinloop.twin.trips.trace_features`):

.. math:: \hat E = \hat e(x)\, d + \Delta E_{hvac}

The champion's constant auxiliary load has absorbed the climate control of
the trips it was calibrated on; :math:`\Delta E_{hvac} = E_{hvac}(T, t) -
\bar P_{hvac}\, t` replaces that average by the climate control the twin's
physics expects at the forecast's ambient temperature :math:`T` over its
duration :math:`t`. :math:`E_{hvac}` is the simulator's (cabin heat balance,
heater or heat pump, :mod:`twinloop.physics.cabin`) over the duration at
constant speed, and :math:`\bar P_{hvac}` its mean over the history.

Interval
--------
Errors of trip energy are neither Gaussian nor independent of the trip
(short trips, cold starts, traffic), so the interval is not assumed: it is
calibrated on the twin's own history by conformal prediction with
leave-one-out residuals (the jackknife of Barber et al. [1]_). Each usable
stored trip :math:`i` is predicted by the model refitted without it, and
:math:`r_i = \ln(E_i / \hat E_{-i})` is its out-of-sample log error. The
forecast's median is :math:`\hat E \exp(\mathrm{median}(r))` and its
80 % interval :math:`\hat E \exp(r_{(k)})` to :math:`\hat E \exp(r_{(K)})`
with the split-conformal ranks :math:`k = \lfloor 0.1 (n+1) \rfloor` and
:math:`K = \lceil 0.9 (n+1) \rceil` of the sorted residuals
(:func:`conformal_quantiles`, Lei et al. [2]_), which hold a new trip
exchangeable with the history at least 80 % of the time.

In route mode the history trips are themselves cut into route segments
(:func:`twinloop.apps.route.route_from_trace`), synthesised and predicted
the same way, so that the route interval includes what the synthesis does
not know. The median correction removes a systematic bias the history
shows (for a route, what the synthesis misses of the driver's stops).
:data:`MIN_HISTORY` trips are needed. Without them, or for a twin never
calibrated, the interval is a log-normal spread of
:data:`PRIOR_LOG_SPREAD` around the uncalibrated model and the result says
so. Trips are not exchangeable across seasons or when the car changes;
``benchmarks/range_real.py`` measures how the interval holds on later
trips of two real cars.

State of charge
---------------
:math:`SoC_{end} = SoC_{start} - E / (SoH\, E_{usable})`, with the
battery's usable energy from the spec and its state of health tracked from
the stored trips (:func:`twinloop.twin.health.health_from_store`) when the
store holds state of charge, else 1.

References
----------
.. [1] Barber, R. F., Candès, E. J., Ramdas, A. and Tibshirani, R. J. (2021).
   Predictive inference with the jackknife+. Annals of Statistics 49(1),
   486-507. doi:10.1214/20-AOS1965
.. [2] Lei, J., G'Sell, M., Rinaldo, A., Tibshirani, R. J. and Wasserman, L.
   (2018). Distribution-free predictive inference for regression. Journal of
   the American Statistical Association 113(523), 1094-1111.
   doi:10.1080/01621459.2017.1307116
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.apps.route import (
    DrivingStyle,
    Route,
    default_style,
    driving_style,
    route_from_trace,
    synthesise_trace,
)
from twinloop.conventions import KELVIN_OFFSET
from twinloop.cycles import Cycle
from twinloop.errors import CalibrationError, DataError, ValidationError
from twinloop.learn.features import feature_frame
from twinloop.parameters.spec import VehicleSpec
from twinloop.signals.vss import ALTITUDE, AMBIENT, SOC, SPEED
from twinloop.twin.lifecycle import Twin
from twinloop.twin.samples import US, signal_samples
from twinloop.twin.trips import TripTableOptions, trace_features, trip_table

__all__ = [
    "LEVEL",
    "MIN_HISTORY",
    "PRIOR_LOG_SPREAD",
    "Interval",
    "RangeForecast",
    "TwinHistory",
    "conformal_quantiles",
    "forecast_range",
    "hvac_energy",
    "twin_history",
]

FloatArray = npt.NDArray[np.float64]

#: Probability the interval holds the truth (p10 to p90).
LEVEL = 0.8
#: Fewest usable stored trips for an interval calibrated on the twin's history.
MIN_HISTORY = 10
#: Log-normal spread of an uncalibrated forecast [1]: road trips vary more
#: than the lab's; 0.15 makes p10-p90 about -17 % to +21 %
#: (``benchmarks/range_epa.py`` prints the spread the EPA tests would need).
PRIOR_LOG_SPREAD = 0.15
_Z90 = 1.2815515655446004  # standard normal 90th percentile
_HVAC_SPEED = 10.0  # [m s-1], constant speed of the climate-control simulation
_HVAC_CHUNK = 32  # trips simulated at once


@dataclass(frozen=True)
class Interval:
    """A forecast's median and its 10th and 90th percentiles (one unit)."""

    median: float
    p10: float
    p90: float

    def scaled(self, factor: float, offset: float = 0.0) -> Interval:
        """``offset + factor * self``, with the bounds swapped when `factor` is negative."""
        lo, hi = offset + factor * self.p10, offset + factor * self.p90
        return Interval(offset + factor * self.median, min(lo, hi), max(lo, hi))

    def contains(self, value: float) -> bool:
        """Whether `value` lies in [p10, p90]."""
        return self.p10 <= value <= self.p90

    def to_dict(self, digits: int = 4) -> dict[str, float]:
        """``{"median", "p10", "p90"}`` rounded to `digits`."""
        return {"median": round(self.median, digits), "p10": round(self.p10, digits), "p90": round(self.p90, digits)}


@dataclass(frozen=True)
class TwinHistory:
    """What a twin's stored trips say for forecasting (see :func:`twin_history`).

    Attributes
    ----------
    spec : VehicleSpec
    model : object
        The champion's consumption model.
    model_version : int
    calibrated : bool
        Whether the champion was calibrated on this vehicle's trips.
    features : pandas.DataFrame
        Trip features of the usable stored trips, oldest first.
    energy : ndarray, shape (n,)
        Their measured battery energy [J].
    hvac : ndarray, shape (n,)
        Their climate-control energy as the physics expects it [J].
    residuals, route_residuals : ndarray, shape (n,)
        Out-of-sample log errors of trace and route forecasts (empty when
        the history is too short or the twin uncalibrated).
    style : DrivingStyle
        The driver's style from these trips (the standard cycles' without them).
    state_of_health : float
    state_of_health_note : str
    soc_now : float or None
        The latest stored state of charge [1].
    trips : int
        Stored trips read; ``len(features)`` were usable.
    notes : tuple of str
    """

    spec: VehicleSpec
    model: Any
    model_version: int
    calibrated: bool
    features: pd.DataFrame
    energy: FloatArray
    hvac: FloatArray
    residuals: FloatArray
    route_residuals: FloatArray
    style: DrivingStyle
    state_of_health: float
    state_of_health_note: str
    soc_now: float | None
    trips: int
    notes: tuple[str, ...] = ()

    @property
    def mean_hvac_power(self) -> float:
        """Mean climate-control power over the history [W] (0 without history)."""
        duration = float(self.features["duration"].sum()) if len(self.features) else 0.0
        return float(self.hvac.sum()) / duration if duration > 0 else 0.0


@dataclass(frozen=True)
class RangeForecast:
    """A trip-energy and range forecast.

    Attributes
    ----------
    vin : str
    mode : {"trace", "route"}
    distance : float
        [m].
    duration : float
        [s] (the synthesised trace's for a route).
    ambient_temperature : float
        [K].
    battery_energy : Interval
        [J], at the battery terminals.
    soc_start : float
    soc_end : Interval
        [1]; may go below 0 where the drive needs more than the battery holds.
    range : Interval
        Distance the battery's energy from `soc_start` to empty lasts at
        this drive's consumption [m].
    model_version : int
    calibrated : bool
    interval : str
        How the interval was made: ``"conformal"`` (from ``history_trips``
        out-of-sample errors of the twin's own trips) or ``"prior"``.
    history_trips : int
    state_of_health : float
    warnings : tuple of str
    """

    vin: str
    mode: str
    distance: float
    duration: float
    ambient_temperature: float
    battery_energy: Interval
    soc_start: float
    soc_end: Interval
    range: Interval
    model_version: int
    calibrated: bool
    interval: str
    history_trips: int
    state_of_health: float
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe document (kWh, km, °C) with the keys the command line prints."""
        return {
            "vin": self.vin,
            "mode": self.mode,
            "distance_km": round(self.distance / 1000.0, 3),
            "duration_min": round(self.duration / 60.0, 1),
            "ambient_c": round(self.ambient_temperature - KELVIN_OFFSET, 1),
            "battery_energy_kwh": self.battery_energy.scaled(1 / 3.6e6).to_dict(),
            "soc_start": round(self.soc_start, 4),
            "soc_end": self.soc_end.to_dict(),
            "range_km": self.range.scaled(1e-3).to_dict(1),
            "model_version": self.model_version,
            "calibrated": self.calibrated,
            "interval": self.interval,
            "level": LEVEL,
            "history_trips": self.history_trips,
            "state_of_health": round(self.state_of_health, 4),
            "warnings": list(self.warnings),
        }


def hvac_energy(spec: VehicleSpec, duration: npt.ArrayLike, ambient_temperature: npt.ArrayLike) -> FloatArray:
    """Climate-control energy [J] the twin's physics expects over drives of `duration` [s] at `ambient_temperature` [K].

    One simulation of the vehicle at a constant 10 m/s per ambient, climate
    control ``auto`` (off between 15 and 25 °C), integrated to each duration;
    speed changes the cabin's heat balance little.
    """
    from twinloop.sim import Scenario, simulate  # the simulator compiles on first use

    t = np.atleast_1d(np.asarray(duration, dtype=float))
    temp = np.broadcast_to(np.asarray(ambient_temperature, dtype=float), t.shape).astype(float)
    if t.size > _HVAC_CHUNK:  # the recorded series are (vehicles x steps): keep them small
        return np.concatenate([hvac_energy(spec, t[i:i + _HVAC_CHUNK], temp[i:i + _HVAC_CHUNK])
                               for i in range(0, t.size, _HVAC_CHUNK)])
    if t.size == 0:
        return np.zeros(0)
    horizon = float(np.clip(np.ceil(t.max()), 2.0, 4 * 3600.0))
    time = np.arange(0.0, horizon + 1.0)
    cycle = Cycle("hvac", time, np.full(time.size, _HVAC_SPEED), np.zeros(time.size))
    result = simulate([spec] * t.size, Scenario(cycle, ambient_temperature=np.clip(temp, 223.15, 333.15)), record=True)
    assert result.series is not None  # record=True
    power = result.series["hvac_power"]  # (n, T)
    cumulative = np.concatenate([np.zeros((t.size, 1)), np.cumsum(power[:, 1:], axis=1)], axis=1)
    within = np.minimum(t, horizon)
    energy = np.array([np.interp(w, time, c) for w, c in zip(within, cumulative, strict=True)])
    # beyond the horizon, at the last steady power
    out: FloatArray = energy + np.maximum(t - horizon, 0.0) * power[:, -1]
    return out


def conformal_quantiles(residuals: npt.ArrayLike, level: float = LEVEL) -> FloatArray:
    """Median and the split-conformal lower and upper bounds of `residuals` for a central `level` interval.

    With :math:`n` residuals sorted, the bounds are the
    :math:`\\lfloor \tfrac{1-\\ell}{2}(n+1) \rfloor`-th and
    :math:`\\lceil \tfrac{1+\\ell}{2}(n+1) \rceil`-th smallest (clipped to
    the sample), which holds a new exchangeable residual with probability at
    least :math:`\\ell` (Lei et al. 2018, doi:10.1080/01621459.2017.1307116).

    Examples
    --------
    >>> conformal_quantiles(np.arange(1.0, 20.0))  # 19 residuals: the 2nd and the 18th
    array([10.,  2., 18.])
    """
    r = np.sort(np.asarray(residuals, dtype=float))
    n = r.size
    lo = max(math.floor((1 - level) / 2 * (n + 1) + 1e-9), 1)
    hi = min(math.ceil((1 + level) / 2 * (n + 1) - 1e-9), n)
    return np.array([float(np.median(r)), r[lo - 1], r[hi - 1]])


def _predict(model: Any, X: pd.DataFrame, hvac: FloatArray, mean_hvac_power: float) -> FloatArray:
    e = np.asarray(model.predict(X), dtype=float) * X["distance"].to_numpy()
    out: FloatArray = e + hvac - mean_hvac_power * X["duration"].to_numpy()
    return out


def _simulated_energy(spec: VehicleSpec, drive: Cycle, ambient_temperature: float, soc_start: float) -> float:
    """Battery terminal energy [J] of `spec` over `drive` in the simulator (road, climate control auto)."""
    from twinloop.sim import Scenario, simulate

    result = simulate(spec, Scenario(drive, ambient_temperature=ambient_temperature, soc_start=soc_start))
    return float(result.battery_terminal_energy[0])


def _jackknife(model: Any, X: pd.DataFrame, energy: FloatArray, hvac: FloatArray,
               targets: pd.DataFrame | None = None, target_hvac: FloatArray | None = None) -> FloatArray:
    """Out-of-sample log errors: trip i predicted by the model refitted without it.

    `targets` (one row per trip, defaults to `X`) are what is predicted for
    trip i, e.g. its route synthesis; a refit the data refuse leaves that
    trip out.
    """
    targets = X if targets is None else targets
    target_hvac = hvac if target_hvac is None else target_hvac
    out = []
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        fit_X, fit_E, fit_h = X.iloc[keep], energy[keep], hvac[keep]
        refit = type(model).from_dict(model.to_dict())
        try:
            refit.fit(fit_X, fit_E / fit_X["distance"].to_numpy())
        except CalibrationError:
            continue
        mean_power = float(fit_h.sum() / fit_X["duration"].sum())
        predicted = _predict(refit, targets.iloc[[i]], target_hvac[[i]], mean_power)[0]
        if predicted > 0 and energy[i] > 0:
            out.append(math.log(energy[i] / predicted))
    return np.array(out)


def _traces(twin: Twin, ends: Sequence[tuple[datetime, datetime]]) -> list[tuple[FloatArray, FloatArray, FloatArray | None]]:
    """Time, speed and (when stored) elevation of each stored trip."""
    out = []
    for start, end in ends:
        frame = twin.store.read_frame(twin.vin, [SPEED, ALTITUDE], start, end + US)
        t, v = signal_samples(frame, SPEED, start)
        h = None
        if frame[ALTITUDE].notna().sum() >= 2:
            th, hh = signal_samples(frame, ALTITUDE, start)
            h = np.interp(t, th, hh)
        out.append((t, v, h))
    return out


def twin_history(twin: Twin, *, route: bool = True, options: TripTableOptions | None = None) -> TwinHistory:
    """Read what forecasting needs from the twin's stored trips (see the module notes).

    Parameters
    ----------
    twin : Twin
    route : bool
        Also learn the driving style and the route forecasts' errors
        (reads every trip's speed once more).
    options : TripTableOptions, optional
        Which trips are usable.
    """
    champion = twin.registry.champion()
    if champion is None:
        raise CalibrationError(f"twin {twin.vin} has no champion model; create it again with `twinloop twin create`")
    model = champion.model()
    calibrated = champion.residual_band is not None
    spec = twin.record.spec
    notes: list[str] = []
    try:
        X, y, meta = trip_table(twin.store, twin.vin, options=options, allow_empty=True)
    except DataError as exc:  # no trips at all: a twin not driven yet still forecasts from its spec
        X, y, meta = feature_frame([]), pd.Series(dtype=float), pd.DataFrame({"used": pd.Series(dtype=bool)})
        notes.append(str(exc))
    used = meta[meta["used"]] if len(meta) else meta
    energy = np.asarray(y, dtype=float) * X["distance"].to_numpy() if len(X) else np.zeros(0)
    hvac = hvac_energy(spec, X["duration"].to_numpy(), X["ambient_temperature"].to_numpy()) if len(X) else np.zeros(0)
    residuals = route_residuals = np.zeros(0)
    style = None
    history_style = False
    if route and len(X):
        windows = list(zip(pd.DatetimeIndex(X.index).to_pydatetime(), pd.to_datetime(used["end"]).dt.to_pydatetime(),
                           strict=True))
        traces = _traces(twin, windows)
        try:
            style = driving_style([(t, v) for t, v, _ in traces])
        except DataError:
            style = None
    history_style = style is not None
    if style is None:
        style = default_style()
    if route and not history_style:
        notes.append("no stored stretch of driving to learn the driver's style from: the standard cycles' style is used")
    if calibrated and len(X) >= MIN_HISTORY:
        residuals = _jackknife(model, X, energy, hvac)
        if route:
            synth = [synthesise_trace(route_from_trace(t, v, h), style) for t, v, h in traces]
            rows = [trace_features(c.time, c.vehicle_speed, grade=c.road_grade, ambient_temperature=float(a))
                    for c, a in zip(synth, X["ambient_temperature"], strict=True)]
            SX = feature_frame(rows)
            route_residuals = _jackknife(model, X, energy, hvac, SX,
                                         hvac_energy(spec, SX["duration"].to_numpy(), SX["ambient_temperature"].to_numpy()))
    soh, soh_note = _state_of_health(twin)
    latest = twin.store.latest(twin.vin, [SOC]).get(SOC)
    return TwinHistory(spec, model, champion.version, calibrated, X, energy, hvac, residuals, route_residuals, style,
                       soh, soh_note, None if latest is None else float(latest[1]), len(meta), tuple(notes))


def _state_of_health(twin: Twin) -> tuple[float, str]:
    from twinloop.twin.health import health_from_store

    try:
        track = health_from_store(twin)
    except (CalibrationError, DataError) as exc:
        return 1.0, f"state of health unknown ({exc}); 1 assumed"
    soh = track.capacity / track.rated_capacity
    return float(np.clip(soh, 0.05, 1.2)), "tracked from the stored trips"


def _check_soc(soc: float | None) -> None:
    if soc is not None and not (isinstance(soc, int | float) and math.isfinite(soc) and 0.0 <= soc <= 1.0):
        raise ValidationError("soc_start", "a state of charge in [0, 1] (0.8 = 80 %)", soc)


def forecast_range(
    twin: Twin,
    *,
    trace: Cycle | None = None,
    route: Route | None = None,
    soc_start: float | None = None,
    ambient_temperature: float | None = None,
    history: TwinHistory | None = None,
) -> RangeForecast:
    """Forecast the battery energy of a drive, its end state of charge and the range, with an 80 % interval.

    Parameters
    ----------
    twin : Twin
    trace : Cycle, optional
        The drive as a speed trace (with its road grade), e.g.
        :func:`twinloop.cycles.read_trace` of a CSV; or
    route : Route, optional
        The drive as route segments (:func:`twinloop.apps.route.load_route`).
    soc_start : float, optional
        State of charge at the start [1]; default the latest stored, else 1.
    ambient_temperature : float, optional
        [K]; default the latest stored, else 293.15.
    history : TwinHistory, optional
        From :func:`twin_history`, to forecast many drives of one twin
        without reading the store again.

    Raises
    ------
    ValidationError
        Neither or both of `trace` and `route`; `soc_start` outside [0, 1];
        an ambient outside -50 to 60 °C.
    """
    if (trace is None) == (route is None):
        raise ValidationError("drive", "exactly one of a speed trace (trace) or route segments (route)",
                              "both" if trace is not None else "neither")
    _check_soc(soc_start)
    if ambient_temperature is not None and not (
        isinstance(ambient_temperature, int | float) and 223.15 <= ambient_temperature <= 333.15
    ):
        raise ValidationError("ambient_temperature", "a number in [223.15, 333.15] K (-50 to 60 °C)", ambient_temperature)
    history = history if history is not None else twin_history(twin, route=route is not None)
    warn: list[str] = list(history.notes)
    if ambient_temperature is None:
        latest = twin.store.latest(twin.vin, [AMBIENT]).get(AMBIENT)
        ambient_temperature = float(latest[1]) if latest is not None else 293.15
    mode = "trace" if trace is not None else "route"
    drive = trace if trace is not None else synthesise_trace(route, history.style)  # type: ignore[arg-type]
    X = feature_frame([trace_features(drive.time, drive.vehicle_speed, grade=drive.road_grade,
                                      ambient_temperature=float(ambient_temperature))])
    soc0 = soc_start if soc_start is not None else history.soc_now
    if history.calibrated:
        hvac = hvac_energy(history.spec, X["duration"].to_numpy(), [ambient_temperature])
        point = float(_predict(history.model, X, hvac, history.mean_hvac_power)[0])
    else:  # the generic model: the twin's spec in the simulator
        point = _simulated_energy(history.spec, drive, float(ambient_temperature), 1.0 if soc0 is None else soc0)
    if point <= 0:  # a long descent: the battery gains
        warn.append("the drive regenerates more than it uses; the interval is the model's, not the history's")
    residuals = history.residuals if mode == "trace" else history.route_residuals
    if history.calibrated and residuals.size >= MIN_HISTORY and point > 0:
        energy = Interval(*(point * np.exp(conformal_quantiles(residuals))).tolist())
        how = "conformal"
    else:
        spread = PRIOR_LOG_SPREAD * _Z90
        energy = Interval(point, point * math.exp(-spread * np.sign(point)), point * math.exp(spread * np.sign(point)))
        how = "prior"
        if not history.calibrated:
            warn.append(f"the twin of {twin.vin} is not calibrated: the forecast uses the generic model of its spec "
                        f"(calibrate it with `twinloop twin calibrate {twin.vin}`)")
        else:
            warn.append(f"{residuals.size} stored trips give out-of-sample errors, {MIN_HISTORY} are needed for an "
                        "interval from the twin's history: the interval is a prior spread")
    if soc0 is None:
        soc0 = 1.0
        warn.append("no state of charge given or stored: a full battery (1.0) is assumed")
    usable = history.spec.battery_energy * history.state_of_health
    soc_end = energy.scaled(-1.0 / usable, soc0)
    per_metre = energy.scaled(1.0 / float(X["distance"].iloc[0]))
    rng = Interval(*(soc0 * usable / max(x, 1e-9) for x in (per_metre.median, per_metre.p90, per_metre.p10)))
    if soc_end.median < 0:
        warn.append("the battery runs empty before the end of this drive at the median forecast")
    return RangeForecast(
        twin.vin, mode, float(X["distance"].iloc[0]), float(X["duration"].iloc[0]), float(ambient_temperature),
        energy, float(soc0), soc_end, rng, history.model_version, history.calibrated, how, int(residuals.size),
        history.state_of_health, tuple(warn),
    )

