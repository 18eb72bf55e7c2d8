"""Trip telemetry: checks at the boundary, and the derived per-sample inputs.

Every check names the trip, the column, what was expected and what was
found, so that a user can fix the data rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import savgol_filter

from twinloop.conventions import MAD_TO_SIGMA
from twinloop.errors import DataError
from twinloop.quantities import GLOSSARY

__all__ = ["REQUIRED", "Prepared", "TelemetryChecks", "averaged_over", "prepare",
           "speed_noise", "with_speed_noise"]

FloatArray = npt.NDArray[np.float64]

REQUIRED = ("time", "vehicle_speed", "battery_current", "battery_voltage", "ambient_temperature")
OPTIONAL = ("road_grade",)
_KINEMATIC = ("time", "vehicle_speed", "ambient_temperature")
MOVING = 1.0
"""Speed above which the vehicle counts as driving [m s-1]."""


@dataclass(frozen=True)
class TelemetryChecks:
    """Limits of the input checks (all times in seconds).

    Attributes
    ----------
    max_gap : float
        Longest allowed interval between samples, as a multiple of the trip's
        median sampling interval; longer is a sensor gap, default 3.
    stuck_time : float
        Longest run of exactly repeated values of speed, current or voltage
        while driving before the signal counts as stuck [s], default 60.
    saturation_share : float
        Share of samples at one extreme of the current signal (in runs of at
        least two samples) above which it counts as saturated, default 0.002.
    smoothing_window : float
        Width of the Savitzky-Golay window (polynomial order 2) that smooths
        speed and gives acceleration [s], default 2; at least three samples
        (at 1 Hz: a central difference).
    """

    max_gap: float = 3.0
    stuck_time: float = 60.0
    saturation_share: float = 0.002
    smoothing_window: float = 2.0


@dataclass(frozen=True)
class Prepared:
    """Pooled samples of all trips, SI; ``trip`` is the trip index per sample.

    ``smoothed_speed`` and ``speed_slope`` are the Savitzky-Golay speed and
    its derivative at the sample times; ``vehicle_speed`` and
    ``acceleration`` are the model's inputs: their means over each sample's
    averaging window (see :func:`averaged_over`), ``power_averaging`` the
    window as a share of the sampling interval. ``speed_noise`` is the
    estimated random error of the raw speed signal [m s-1] (see
    :func:`speed_noise`).
    """

    trip: npt.NDArray[np.int64]
    time: FloatArray
    time_step: FloatArray
    smoothed_speed: FloatArray
    speed_slope: FloatArray
    power_averaging: float
    vehicle_speed: FloatArray
    acceleration: FloatArray
    road_grade: FloatArray
    ambient_temperature: FloatArray
    battery_power: FloatArray
    has_grade: bool
    trip_names: tuple[str, ...]
    speed_noise: float = 0.0

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.time.size)

    @property
    def trip_start(self) -> npt.NDArray[np.bool_]:
        """True at the first sample of each trip (its averaging window lies before the trip)."""
        return np.r_[True, self.trip[1:] != self.trip[:-1]]


def averaged_over(data: Prepared, share: float) -> Prepared:
    r"""`data` with speed and acceleration averaged over `share` of the sampling interval.

    A logger (and the twinloop simulator) may report for sample :math:`k` the
    mean battery power over the interval :math:`(t_k - w, t_k]` rather than
    its value at :math:`t_k`. The physics inputs then have to be means over
    the same window, :math:`w = s\,\Delta t`:

    .. math:: \bar a_k = \frac{v(t_k) - v(t_k - w)}{w},\qquad
              \bar v_k = \tfrac12\left(v(t_k - w) + v(t_k)\right)

    with :math:`v(t)` the cubic Hermite interpolant of the smoothed speed and
    its Savitzky-Golay slope. :math:`s = 0` gives the instantaneous values
    (speed and slope at :math:`t_k`); :math:`s = 1` the whole step, where
    :math:`\bar a_k = (v_k - v_{k-1})/\Delta t` exactly, as in the simulator.
    The first sample of a trip has no earlier sample and keeps its
    instantaneous values.
    """
    s = min(max(float(share), 0.0), 1.0)
    v1, m1 = data.smoothed_speed, data.speed_slope
    if s == 0.0:
        return replace(data, power_averaging=0.0, vehicle_speed=v1.copy(), acceleration=m1.copy())
    dt = data.time_step
    v0 = np.r_[v1[0], v1[:-1]]
    m0 = np.r_[m1[0], m1[:-1]]
    x = 1.0 - s  # position of t_k - w within (t_{k-1}, t_k]
    h00, h10 = 2 * x**3 - 3 * x**2 + 1, x**3 - 2 * x**2 + x
    h01, h11 = -2 * x**3 + 3 * x**2, x**3 - x**2
    start = h00 * v0 + h10 * dt * m0 + h01 * v1 + h11 * dt * m1  # v(t_k - w)
    first = data.trip_start
    speed = np.where(first, v1, np.maximum(0.5 * (start + v1), 0.0))
    accel = np.where(first, m1, (v1 - start) / (s * dt))
    return replace(data, power_averaging=s, vehicle_speed=speed, acceleration=accel)


def _half_window(window: float, time_step: float) -> int:
    """Half-width [samples] of the Savitzky-Golay window of `window` seconds (at least 1)."""
    return max(1, round(window / (2.0 * time_step)))


def with_speed_noise(trips: pd.DataFrame | Sequence[pd.DataFrame], trip_column: str, std: float,
                     rng: np.random.Generator) -> list[pd.DataFrame]:
    """Trips (one frame each, in order) with N(0, `std`) added to speed while moving, clipped at 0."""
    out = []
    for _, frame in _split(trips, trip_column):
        v = pd.to_numeric(frame["vehicle_speed"], errors="coerce").to_numpy(dtype=float)
        noisy = np.where(v > 0, np.maximum(v + rng.normal(0.0, std, v.size), 0.0), v)
        out.append(frame.assign(vehicle_speed=noisy))
    return out


def speed_noise(speeds: Sequence[FloatArray]) -> float:
    r"""Random error of a speed signal [m s-1], from its fourth differences while moving.

    A trend of degree three or less cancels in the fourth difference
    :math:`\Delta^4 v_k`, and independent noise of standard deviation
    :math:`\sigma_v` gives it the standard deviation :math:`\sqrt{70}\,\sigma_v`
    (a difference-based estimator in the manner of [1]_). Genuine jerk in
    the traces appears as outliers, so the scale is robust: the standard
    deviation of the values within three median absolute deviations,
    corrected for that truncation. Only runs of five samples all above
    ``MOVING`` count (a sensor at standstill reads exactly zero). Pooled
    over trips; 0 if fewer than 20 such runs.

    References
    ----------
    .. [1] Gasser, T., Sroka, L. and Jennen-Steinmetz, C. (1986). Residual
       variance and residual pattern in nonlinear regression. Biometrika
       73(3), 625-633. doi:10.1093/biomet/73.3.625
    """
    parts = []
    for v in speeds:
        if v.size < 5:
            continue
        d4 = np.diff(v, 4) / np.sqrt(70.0)
        moving = np.lib.stride_tricks.sliding_window_view(v > MOVING, 5).all(axis=1)
        parts.append(d4[moving])
    d = np.concatenate(parts) if parts else np.zeros(0)
    if d.size < 20:
        return 0.0
    mad = MAD_TO_SIGMA * float(np.median(np.abs(d - np.median(d))))
    if mad == 0.0:
        return 0.0
    inner = d[np.abs(d - np.median(d)) <= 3.0 * mad]
    # variance of a standard normal truncated to [-3, 3]: 1 - 6 phi(3) / (2 Phi(3) - 1)
    return float(np.std(inner) / np.sqrt(0.973337))


def _split(trips: pd.DataFrame | Sequence[pd.DataFrame], trip_column: str) -> list[tuple[str, pd.DataFrame]]:
    if isinstance(trips, pd.DataFrame):
        if trip_column in trips.columns:
            return [(str(k), g) for k, g in trips.groupby(trip_column, sort=False)]
        return [("0", trips)]
    out = [(str(i), t) for i, t in enumerate(trips)]
    for name, t in out:
        if not isinstance(t, pd.DataFrame):
            raise DataError(f"trip {name}: expected a pandas DataFrame, received {type(t).__name__}")
    if not out:
        raise DataError("trips: expected at least one trip, received an empty sequence")
    return out


def _column(frame: pd.DataFrame, name: str, trip: str) -> FloatArray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"trip {trip}: column {name!r} has {int(bad.sum())} missing or non-numeric values "
            f"(NaN), the first at row {k} ({frame[name].iloc[k]!r}); drop or interpolate them, "
            "or split the trip there"
        )
    q = GLOSSARY[name]
    out = (values < q.minimum) | (values > q.maximum)
    if out.any():
        k = int(np.flatnonzero(out)[0])
        raise DataError(
            f"trip {trip}: column {name!r} must be in {q.valid_range}; row {k} has {values[k]:g} "
            "(check its unit: SI inside, temperatures in kelvin)"
        )
    return values


def _longest_run(values: FloatArray, mask: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """Length and start of the longest run of equal consecutive values inside `mask`."""
    same = np.r_[False, (np.diff(values) == 0) & mask[1:] & mask[:-1]]
    best, start, run, run_start = 0, 0, 0, 0
    for k, s in enumerate(same):
        if s:
            if run == 0:
                run_start = k - 1
            run += 1
            if run > best:
                best, start = run, run_start
        else:
            run = 0
    return best + 1 if best else 0, start


def _check_signals(trip: str, t: FloatArray, cols: dict[str, FloatArray], dt: float, checks: TelemetryChecks) -> None:
    moving = cols["vehicle_speed"] > MOVING
    for name in ("vehicle_speed", "battery_current", "battery_voltage"):
        x = cols[name]
        if np.ptp(x) == 0:
            raise DataError(
                f"trip {trip}: signal {name!r} is stuck: constant at {x[0]:g} over the whole trip"
            )
        run, start = _longest_run(x, moving)
        if run * dt > checks.stuck_time:
            raise DataError(
                f"trip {trip}: signal {name!r} is stuck at {x[start]:g} for {run * dt:g} s while driving, "
                f"from t={t[start]:g} s (more than {checks.stuck_time:g} s); check the sensor or "
                "drop that part of the trip"
            )
    clipped = saturation(cols["battery_current"], checks)
    if clipped is not None:
        extreme, pinned = clipped
        raise DataError(
            f"trip {trip}: signal 'battery_current' looks saturated at {extreme:g} A "
            f"({pinned} samples pinned at that value, in runs); the sensor's range "
            "clips the data, so battery power is wrong there"
        )


def saturation(current: FloatArray, checks: TelemetryChecks) -> tuple[float, int] | None:
    """The extreme a current is pinned at, in runs of samples, and how many samples; None if it is not.

    Saturated: at least ``max(5, checks.saturation_share * n)`` samples equal
    the maximum (or the minimum), each next to another such sample.
    """
    for extreme in (float(current.max()), float(current.min())):
        at = current == extreme
        pinned = int((at & (np.r_[False, at[:-1]] | np.r_[at[1:], False])).sum())
        if pinned >= max(5, checks.saturation_share * current.size):
            return extreme, pinned
    return None


def prepare(
    trips: pd.DataFrame | Sequence[pd.DataFrame],
    trip_column: str = "trip_id",
    checks: TelemetryChecks | None = None,
    battery: bool = True,
    power_averaging: float = 0.0,
) -> Prepared:
    """Check trips and derive smoothed speed, acceleration and battery power.

    With ``battery=False`` the battery columns are neither needed nor read
    (battery power is then zero), for forward predictions.
    `power_averaging` is the share of the sampling interval over which
    battery power is averaged (see :func:`averaged_over`).

    Raises
    ------
    DataError
        Missing columns, NaN, values out of range, time not increasing,
        uneven sampling, sensor gaps, stuck or saturated signals.
    """
    checks = checks or TelemetryChecks()
    raw_speeds: list[FloatArray] = []
    parts: dict[str, list[FloatArray]] = {k: [] for k in
                                          ("trip", "time", "dt", "v", "a", "g", "T", "P")}
    names: list[str] = []
    has_grade = False
    for index, (name, frame) in enumerate(_split(trips, trip_column)):
        required = REQUIRED if battery else _KINEMATIC
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise DataError(
                f"trip {name}: missing column(s) {', '.join(map(repr, missing))}; need "
                f"{', '.join(REQUIRED)} (SI: s, m/s, A positive discharging, V, K) and optionally road_grade"
            )
        if len(frame) < 10:
            raise DataError(f"trip {name}: expected at least 10 samples, received {len(frame)}")
        cols = {c: _column(frame, c, name) for c in (*required, *OPTIONAL) if c in frame.columns}
        t = cols["time"]
        steps = np.diff(t)
        if np.any(steps <= 0):
            k = int(np.flatnonzero(steps <= 0)[0])
            raise DataError(f"trip {name}: time must increase strictly; row {k + 1} has {t[k + 1]:g} s after {t[k]:g} s")
        dt = float(np.median(steps))
        if steps.max() > checks.max_gap * dt:
            k = int(np.argmax(steps))
            raise DataError(
                f"trip {name}: sensor gap of {steps[k]:g} s at t={t[k]:g} s (sampling interval {dt:g} s, "
                f"at most {checks.max_gap:g}x allowed); split the trip at the gap (one trip_id per part)"
            )
        if np.any(np.abs(steps - dt) > 0.1 * dt):
            raise DataError(
                f"trip {name}: uneven sampling (intervals from {steps.min():g} to {steps.max():g} s); "
                "resample to a uniform grid first"
            )
        if battery:
            _check_signals(name, t, cols, dt, checks)
        half = _half_window(checks.smoothing_window, dt)
        if t.size <= 2 * half + 1:
            raise DataError(f"trip {name}: too short ({t.size} samples) for the "
                            f"{checks.smoothing_window:g} s smoothing window")
        speed = cols["vehicle_speed"]
        raw_speeds.append(speed)
        v = np.maximum(savgol_filter(speed, 2 * half + 1, 2, mode="interp"), 0.0)
        a = savgol_filter(speed, 2 * half + 1, 2, deriv=1, delta=dt, mode="interp")
        power = cols["battery_current"] * cols["battery_voltage"] if battery else np.zeros_like(t)
        grade = cols.get("road_grade", np.zeros_like(t))
        has_grade = has_grade or "road_grade" in cols
        parts["trip"].append(np.full(t.size, index, dtype=float))
        parts["time"].append(t)
        parts["dt"].append(np.full(t.size, dt))
        parts["v"].append(v)
        parts["a"].append(a)
        parts["g"].append(grade)
        parts["T"].append(cols["ambient_temperature"])
        parts["P"].append(power)
        names.append(name)
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    data = Prepared(
        trip=cat["trip"].astype(np.int64), time=cat["time"], time_step=cat["dt"],
        smoothed_speed=cat["v"], speed_slope=cat["a"], power_averaging=0.0,
        vehicle_speed=cat["v"], acceleration=cat["a"], road_grade=cat["g"],
        ambient_temperature=cat["T"], battery_power=cat["P"], has_grade=has_grade,
        trip_names=tuple(names),
        speed_noise=speed_noise(raw_speeds),
    )
    return averaged_over(data, power_averaging)
