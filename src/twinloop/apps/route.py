r"""A drive before it is driven: route segments, the driver's style, and the speed trace they imply.

A route is a list of segments, each with its length ``distance_m`` [m], the
mean speed over it ``speed_mps`` [m s-1] (length over time, stops included)
and the elevation at its end ``elevation_m`` [m], as a route planner gives
them. :func:`synthesise_trace` turns a route into a speed trace that a twin
can drive, shaped by a :class:`DrivingStyle` learned from the driver's own
recorded trips (:func:`driving_style`).

The style is what the profiling metrics of :mod:`twinloop.apps.profiles`
measure, per stretch of about a kilometre and as a function of its mean
speed: the characteristic acceleration :math:`\tilde a` (kinetic energy
gained per kg and metre, O'Keefe et al. [1]_), the stops per km, and the
driver's typical acceleration and braking rates.

Synthesis
---------
Each segment of length :math:`L` and mean speed :math:`\bar v` is driven
as cruising at :math:`\bar v` broken by speed waves between
:math:`\bar v (1-f)` and :math:`\bar v (1+f)`, speeding up at the
driver's acceleration :math:`a` and slowing at the driver's braking rate
:math:`b`.
A wave (up to the top, down to the bottom, back to the cruise) keeps the
mean speed :math:`\bar v` and gains
:math:`2 f \bar v^2` per kg over :math:`2 f \bar v^2 (1/a + 1/b)` metres,
so :math:`N = \tilde a(\bar v)\,L / (2 f \bar v^2)` waves give the
segment the driver's characteristic acceleration at that speed. Waves of
:math:`f = 1` (down to a standstill) stand for the driver's stops per km
at that speed, the rest are :math:`f = 0.25`; :math:`N` is carried from
segment to segment as a running sum, so that fractions add up over the
route. Where the waves would not fit into the segment they are shortened.
Elevation is linear in distance between segment ends.

References
----------
.. [1] O'Keefe, M. P., Simpson, A., Kelly, K. J. and Pedersen, D. S. (2007).
   Duty cycle characterization and evaluation towards heavy hybrid vehicle
   applications. SAE Technical Paper 2007-01-0302. doi:10.4271/2007-01-0302
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.cycles import Cycle
from twinloop.errors import DataError, ValidationError
from twinloop.twin.trips import block_means

__all__ = [
    "DEFAULT_STYLE_CYCLES",
    "ROUTE_COLUMNS",
    "SEGMENT_LENGTH",
    "SPEED_BINS",
    "DrivingStyle",
    "Route",
    "default_style",
    "driving_style",
    "load_route",
    "route_from_trace",
    "synthesise_trace",
]

FloatArray = npt.NDArray[np.float64]

#: Columns of a route CSV, in SI units.
ROUTE_COLUMNS = ("distance_m", "speed_mps", "elevation_m")

#: Length of the stretches a recorded trip is cut into [m] (for a style, or to test route forecasts).
SEGMENT_LENGTH = 1000.0

#: Edges of the mean-speed bins a style is summarised in [m s-1] (0, 15, 25, ... 130 km/h).
SPEED_BINS = np.array([0.0, 15.0, 25.0, 35.0, 50.0, 70.0, 90.0, 110.0, 130.0]) / 3.6

_ROUTE_UNITS = {"distance_m": "metres", "speed_mps": "m/s (the segment's mean speed)", "elevation_m": "metres"}
_OTHER_UNITS = {"distance_m": ("distance_km", "distance_mi"), "speed_mps": ("speed_kph", "speed_kmh", "speed_mph"),
                "elevation_m": ("elevation_ft",)}
_CONVERSIONS = {"distance_m": "km x 1000, mi x 1609.344", "speed_mps": "km/h / 3.6, mph x 0.44704",
                "elevation_m": "ft x 0.3048"}
_MAX_SPEED = 70.0  # [m s-1], 252 km/h: faster is a unit error
_MAX_GRADE = 0.3  # steepest grade between two segment ends [1]
_STOP = 0.5  # [m s-1], at or below: standing
_MOVING = 2.0  # [m s-1], above: moving again after a stop
_WAVE = 0.25  # relative amplitude of the speed waves that are not stops
_STEP = 1.0  # [s], time step of the synthesised trace


@dataclass(frozen=True)
class Route:
    """Route segments in SI units; arrays of one length, at least one segment.

    Attributes
    ----------
    distance : ndarray, shape (n,)
        Segment lengths [m], > 0.
    speed : ndarray, shape (n,)
        Mean speed over each segment [m s-1], in (0, 70].
    elevation : ndarray, shape (n,)
        Elevation at each segment's end [m].
    start_elevation : float
        Elevation at the route's start [m]; default the first segment's end.
    """

    distance: FloatArray
    speed: FloatArray
    elevation: FloatArray
    start_elevation: float | None = None

    def __post_init__(self) -> None:
        arrays = [np.atleast_1d(np.asarray(getattr(self, n), dtype=float)) for n in ("distance", "speed", "elevation")]
        if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1 or arrays[0].size == 0:
            raise ValidationError("route", "distance_m, speed_mps and elevation_m of equal length, >= 1 segment",
                                  [a.shape for a in arrays])
        for column, a in zip(ROUTE_COLUMNS, arrays, strict=True):
            bad = ~np.isfinite(a)
            if bad.any():
                raise ValidationError(column, "a number in every segment (a gap in the route cannot be driven)",
                                      f"{a[bad][0]} in segment {int(np.flatnonzero(bad)[0]) + 1}")
        d, v, h = arrays
        _refuse(d <= 0, "distance_m", "> 0 m", d)
        _refuse((v <= 0) | (v > _MAX_SPEED), "speed_mps", f"in (0, {_MAX_SPEED:g}] m/s", v)
        start = float(h[0]) if self.start_elevation is None else float(self.start_elevation)
        rise = np.diff(np.concatenate([[start], h]))
        _refuse(np.abs(rise) > _MAX_GRADE * d, "elevation_m",
                f"a change of at most {_MAX_GRADE:.0%} of the segment's length (a road no car climbs)", rise,
                what="rise")
        object.__setattr__(self, "distance", d)
        object.__setattr__(self, "speed", v)
        object.__setattr__(self, "elevation", h)
        object.__setattr__(self, "start_elevation", start)

    @property
    def total_distance(self) -> float:
        """Length of the route [m]."""
        return float(self.distance.sum())

    @property
    def duration(self) -> float:
        """Time to drive it at the segments' mean speeds [s]."""
        return float((self.distance / self.speed).sum())


def _refuse(bad: npt.NDArray[np.bool_], column: str, expected: str, values: FloatArray, what: str = "") -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = f"{what} {values[i]:g}" if what else f"{values[i]:g}"
        raise ValidationError(column, expected, f"{shown} in segment {i + 1}")


def load_route(path: str | Path) -> Route:
    """Read a route CSV with the columns of :data:`ROUTE_COLUMNS`, one row per segment.

    Raises
    ------
    ValidationError
        A missing column (close matches named), a gap, an impossible speed
        or grade, naming the segment (1 = the first data row).
    """
    from twinloop.errors import UnknownNameError

    frame = pd.read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    name = Path(path).name
    for column in ROUTE_COLUMNS:
        if column in frame.columns:
            continue
        if column == "distance_m" and any(str(c).startswith("time") for c in frame.columns):
            raise ValidationError(f"{name}: {column}", "route segments (distance_m, speed_mps, elevation_m)",
                                  "a speed trace (it has a time column)", hint="Give a speed trace with --trip.")
        other = [str(c) for c in frame.columns if str(c) in _OTHER_UNITS[column]]
        if other:
            raise ValidationError(f"{name}: {column}", f"a column {column} in {_ROUTE_UNITS[column]}",
                                  f"only {other[0]}", hint=f"Convert it: {_CONVERSIONS[column]}.")
        raise UnknownNameError(f"route column in {name}", column, list(frame.columns),
                               hint=f"A route needs {', '.join(ROUTE_COLUMNS)}.")
    values = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in ROUTE_COLUMNS}
    return Route(values["distance_m"], values["speed_mps"], values["elevation_m"])


def route_from_trace(
    time: npt.ArrayLike, speed: npt.ArrayLike, elevation: npt.ArrayLike | None = None,
    segment_length: float = SEGMENT_LENGTH,
) -> Route:
    """The route a recorded trace drove, cut into segments of about `segment_length` metres.

    The last segment takes the remainder (merged into the one before when
    shorter than half a segment). Mean speed is length over time.
    """
    t = np.asarray(time, dtype=float)
    v = np.asarray(speed, dtype=float)
    h = np.zeros_like(t) if elevation is None else np.asarray(elevation, dtype=float)
    s = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(t))])
    total = float(s[-1])
    if total <= 0:
        raise DataError("the trace does not move: no route to cut")
    n = max(1, round(total / segment_length))
    edges = np.linspace(0.0, total, n + 1)
    at = np.interp(edges, s, t)  # time at each edge
    height = np.interp(edges, s, h)
    return Route(np.diff(edges), np.diff(edges) / np.diff(at), height[1:], start_elevation=float(height[0]))


@dataclass(frozen=True)
class DrivingStyle:
    """How a driver drives, by mean speed of the stretch.

    Attributes
    ----------
    speed : ndarray, shape (k,)
        Bin centres of :data:`SPEED_BINS` that hold data [m s-1].
    characteristic_acceleration : ndarray, shape (k,)
        Median kinetic energy gained per kg and metre in stretches of that
        mean speed [m s-2].
    stops_per_km : ndarray, shape (k,)
        Median stops per km there [km-1].
    acceleration, braking : float
        The driver's median acceleration and braking rate, over the steps
        where speed changes by more than 0.2 m s-2 [m s-2], both > 0.
    stretches : int
        Stretches the style was learned from.
    """

    speed: FloatArray
    characteristic_acceleration: FloatArray
    stops_per_km: FloatArray
    acceleration: float
    braking: float
    stretches: int

    def at(self, speed: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Characteristic acceleration [m s-2] and stops per km at mean speeds `speed`, interpolated."""
        v = np.asarray(speed, dtype=float)
        return (np.interp(v, self.speed, self.characteristic_acceleration),
                np.interp(v, self.speed, self.stops_per_km))

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary (km/h for the speeds)."""
        return {
            "speed_kmh": [round(float(x) * 3.6, 1) for x in self.speed],
            "characteristic_acceleration_mps2": [round(float(x), 4) for x in self.characteristic_acceleration],
            "stops_per_km": [round(float(x), 3) for x in self.stops_per_km],
            "acceleration_mps2": round(self.acceleration, 3),
            "braking_mps2": round(self.braking, 3),
            "stretches": self.stretches,
        }


def _stretch_stats(t: FloatArray, v: FloatArray, segment_length: float) -> tuple[list[float], list[float], list[float]]:
    s = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(t))])
    n = int(s[-1] // segment_length)
    speeds, kinetic, stops = [], [], []
    for i in range(n):
        inside = (s >= i * segment_length) & (s <= (i + 1) * segment_length)
        ti, vi = t[inside], v[inside]
        if ti.size < 3:
            continue
        length = float(s[inside][-1] - s[inside][0])
        if length < 0.5 * segment_length or ti[-1] <= ti[0]:
            continue
        gain = np.diff(0.5 * vi**2)
        speeds.append(length / float(ti[-1] - ti[0]))
        kinetic.append(float(gain[gain > 0].sum()) / length)
        stopped = vi <= _STOP
        moving = vi > _MOVING
        # a stop: standing after having moved
        state = np.where(stopped, -1, np.where(moving, 1, 0))
        state = state[state != 0]
        stops.append(float(np.count_nonzero((state[1:] == -1) & (state[:-1] == 1))) / (length / 1000.0))
    return speeds, kinetic, stops


def driving_style(traces: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]], segment_length: float = SEGMENT_LENGTH) -> DrivingStyle:
    """Learn a :class:`DrivingStyle` from recorded speed traces ``(time [s], speed [m s-1])``.

    Speeds are taken as 1-s means (faster loggers are averaged). Raises
    :class:`~twinloop.errors.DataError` when the traces hold no stretch of
    `segment_length` metres.
    """
    speeds: list[float] = []
    kinetic: list[float] = []
    stops: list[float] = []
    rates: list[FloatArray] = []
    for time, speed in traces:
        t, v = block_means(np.asarray(time, dtype=float), np.asarray(speed, dtype=float), step=_STEP)
        if t.size < 3:
            continue
        sp, ki, st = _stretch_stats(t, v, segment_length)
        speeds += sp
        kinetic += ki
        stops += st
        rates.append(np.diff(v) / np.diff(t))
    if not speeds:
        raise DataError(f"no recorded stretch of {segment_length:g} m to learn a driving style from")
    a = np.concatenate(rates)
    sp_arr, ki_arr, st_arr = np.array(speeds), np.array(kinetic), np.array(stops)
    which = np.digitize(sp_arr, SPEED_BINS[1:-1])
    centres, kin, stp = [], [], []
    for b in range(len(SPEED_BINS) - 1):
        inside = which == b
        if inside.any():
            centres.append(float(np.median(sp_arr[inside])))
            kin.append(float(np.median(ki_arr[inside])))
            stp.append(float(np.median(st_arr[inside])))
    up, down = a[a > 0.2], -a[a < -0.2]
    return DrivingStyle(
        np.array(centres), np.array(kin), np.array(stp),
        float(np.median(up)) if up.size else 1.0, float(np.median(down)) if down.size else 1.0, len(speeds),
    )


#: The bundled cycles a driver without history is assumed to drive like.
DEFAULT_STYLE_CYCLES = ("udds", "hwfet", "wltc_3b", "us06")


def default_style() -> DrivingStyle:
    """The style of the standard cycles :data:`DEFAULT_STYLE_CYCLES`, for a driver without history."""
    from twinloop.cycles import load_cycle

    cycles = [load_cycle(name) for name in DEFAULT_STYLE_CYCLES]
    return driving_style([(c.time, c.vehicle_speed) for c in cycles])


def _segment_speeds(length: float, mean: float, waves: list[float], accel: float, brake: float) -> FloatArray:
    """Speed per second over one segment: cruise at `mean` with the given waves (relative amplitudes)."""
    pieces: list[FloatArray] = []
    ramp_distance = sum(2 * f * mean**2 * (1 / accel + 1 / brake) for f in waves)
    shrink = min(1.0, 0.9 * length / ramp_distance) if ramp_distance > 0 else 1.0
    cruise_each = (length - ramp_distance * shrink) / (len(waves) + 1)
    for f in [*waves, None]:
        pieces.append(np.full(max(round(cruise_each / mean), 0), mean))
        if f is None:
            break
        lo, hi = mean * (1 - f * math.sqrt(shrink)), mean * (1 + f * math.sqrt(shrink))
        # from the cruise up to hi, down to lo, back up to the cruise
        for a, b, rate in ((mean, hi, accel), (hi, lo, brake), (lo, mean, accel)):
            pieces.append(np.linspace(a, b, max(round(abs(b - a) / rate), 1) + 1)[1:])
    out = np.concatenate(pieces) if pieces else np.array([mean])
    return out if out.size else np.array([mean])


def synthesise_trace(route: Route, style: DrivingStyle, name: str = "route") -> Cycle:
    """A 1-s speed trace that drives `route` in `style` (see the module notes).

    The trace covers each segment's length and keeps its mean speed (to a
    second's rounding, corrected by stretching the segment's time), starts
    and ends at a standstill, and carries the road grade of the elevation.
    """
    kinetic, stops = style.at(route.speed)
    owed_stops = owed_waves = 0.0
    speeds: list[FloatArray] = [np.zeros(1)]
    grades: list[FloatArray] = [np.zeros(1)]
    rise = np.diff(np.concatenate([[route.start_elevation], route.elevation]))
    for L, vbar, k, spk, dh in zip(route.distance, route.speed, kinetic, stops, rise, strict=True):
        owed_stops += spk * L / 1000.0
        n_stop = int(owed_stops)
        owed_stops -= n_stop
        gained = n_stop * 2 * vbar**2
        owed_waves += max(k * L - gained, 0.0) / (2 * _WAVE * vbar**2)
        n_wave = int(owed_waves)
        owed_waves -= n_wave
        waves = [1.0] * n_stop + [_WAVE] * n_wave
        order = np.argsort(np.arange(len(waves)) % 2)  # interleave stops and waves a little
        v = _segment_speeds(float(L), float(vbar), [waves[i] for i in order], style.acceleration, style.braking)
        # match the segment's length exactly by scaling speed, its mean by the number of seconds
        length = float(v.sum())
        v = v * (L / length) if length > 0 else np.full(1, vbar)
        speeds.append(v)
        grades.append(np.full(v.size, dh / math.sqrt(max(L**2 - dh**2, 1e-9))))
    speeds.append(np.zeros(1))
    grades.append(np.zeros(1))
    v_all = np.concatenate(speeds)
    g_all = np.concatenate(grades)
    t_all = np.arange(v_all.size, dtype=float) * _STEP
    return Cycle(name, t_all, v_all, g_all, source="synthesised from route segments and the driver's style")
