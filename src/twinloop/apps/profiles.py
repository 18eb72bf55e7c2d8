r"""Driving profiles: the metrics that characterise a trip or a drive cycle.

How a trip is driven (its accelerations, its speeds, its hills, its stops)
sets the energy an electric vehicle spends on it as much as the vehicle
does. The metrics here summarise a trip as recorded, time steps of any
length allowed, in a few numbers that can be compared across trips,
drivers, roads and standard cycles.

The central pair is O'Keefe's [1]_: the *characteristic acceleration*
(the kinetic and potential energy the road asks for, per kg and per metre)
and the *aerodynamic speed* (the speed whose square, times the distance,
gives the trip's aerodynamic work). Their ratio, the *kinetic intensity*,
says how much of the energy a trip needs goes into speeding up and climbing
rather than into air drag: high in town, low on a motorway.

References
----------
.. [1] O'Keefe, M. P., Simpson, A., Kelly, K. J. and Pedersen, D. S. (2007).
   Duty Cycle Characterization and Evaluation Towards Heavy Hybrid Vehicle
   Applications. SAE Technical Paper 2007-01-0302. doi:10.4271/2007-01-0302
.. [2] NREL DRIVE (Drive-cycle Rapid Investigation, Visualization, and
   Evaluation) analysis tool, https://www.nrel.gov/transportation/drive.html
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from twinloop.conventions import STANDARD_GRAVITY
from twinloop.errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.cycles import Cycle

__all__ = [
    "ACCELERATION_BINS",
    "CRUISE_ACCELERATION",
    "HARD_ACCELERATION",
    "METRIC_NAMES",
    "MOVING_SPEED",
    "SPEED_BINS",
    "TripMetrics",
    "cycle_elevation",
    "cycle_metrics",
    "metrics_frame",
    "trip_metrics",
]

FloatArray = npt.NDArray[np.float64]

MOVING_SPEED = 0.1
"""Speed [m s-1] above which a time step counts as moving (0.36 km/h).

A step is moving when its mean speed :math:`(v_i + v_{i+1})/2` exceeds it,
stopped otherwise. It is above the creep a speed sensor reports at a
standstill, and far below any speed at which a vehicle is driven.
"""

CRUISE_ACCELERATION = 0.1
"""Largest acceleration magnitude [m s-2] of a moving step counted as cruising."""

HARD_ACCELERATION = 1.0
"""Acceleration magnitude [m s-2] beyond which a moving step counts as hard (about 0.1 g)."""

SPEED_BINS: dict[str, tuple[float, float]] = {
    "stopped": (0.0, MOVING_SPEED),
    "0_to_30_kph": (MOVING_SPEED, 30 / 3.6),
    "30_to_60_kph": (30 / 3.6, 60 / 3.6),
    "60_to_90_kph": (60 / 3.6, 90 / 3.6),
    "90_to_120_kph": (90 / 3.6, 120 / 3.6),
    "over_120_kph": (120 / 3.6, math.inf),
}
"""The speed bins of :attr:`TripMetrics.speed_distribution`: name -> (low, high) [m s-1].

A step falls in the bin with ``low < mean speed <= high``, where its mean
speed is :math:`(v_i + v_{i+1})/2`; "stopped" holds the steps that are not
moving (mean speed at most :data:`MOVING_SPEED`, 0 included).
"""

ACCELERATION_BINS = ("stopped", "braking_hard", "braking", "cruising", "accelerating", "accelerating_hard")
"""The bins of :attr:`TripMetrics.acceleration_distribution`.

A stopped step is "stopped"; a moving step falls in a bin by its
acceleration :math:`a = (v_{i+1} - v_i)/\\Delta t_i` [m s-2], with
:math:`c` = :data:`CRUISE_ACCELERATION` and :math:`h` = :data:`HARD_ACCELERATION`:
"braking_hard" :math:`a < -h`, "braking" :math:`-h \\le a < -c`,
"cruising" :math:`-c \\le a \\le c`, "accelerating" :math:`c < a \\le h`,
"accelerating_hard" :math:`a > h`.
"""

METRIC_NAMES = (
    "distance_m",
    "duration_s",
    "average_speed_mps",
    "average_driving_speed_mps",
    "characteristic_acceleration_mps2",
    "characteristic_deceleration_mps2",
    "aerodynamic_speed_mps",
    "kinetic_intensity_per_km",
    "stops_per_km",
    "idle_fraction",
    "speed_distribution",
    "acceleration_distribution",
)
"""The keys of :meth:`TripMetrics.to_dict`, in order."""


@dataclass(frozen=True)
class TripMetrics:
    """The driving metrics of one trip; see :func:`trip_metrics` for the definitions.

    Metrics that divide by the distance or by the time moving are NaN for a
    trip that never moves (``None`` in :meth:`to_dict`).

    Attributes
    ----------
    distance_m : float
        Distance driven [m].
    duration_s : float
        Time from the first sample to the last [s].
    average_speed_mps : float
        Distance over duration [m s-1].
    average_driving_speed_mps : float
        Distance over the time moving [m s-1].
    characteristic_acceleration_mps2 : float
        Positive kinetic and potential energy changes per unit mass, per metre [m s-2].
    characteristic_deceleration_mps2 : float
        Negative kinetic and potential energy changes per unit mass, per metre [m s-2] (<= 0).
    aerodynamic_speed_mps : float
        Aerodynamic speed [m s-1].
    kinetic_intensity_per_km : float
        Characteristic acceleration over aerodynamic speed squared [km-1].
    stops_per_km : float
        Transitions from moving to stopped, per kilometre [km-1].
    idle_fraction : float
        Share of the duration spent stopped [1].
    speed_distribution : dict of str to float
        Share of the duration [1] in each of :data:`SPEED_BINS`; sums to 1.
    acceleration_distribution : dict of str to float
        Share of the duration [1] in each of :data:`ACCELERATION_BINS`; sums to 1.
    """

    distance_m: float
    duration_s: float
    average_speed_mps: float
    average_driving_speed_mps: float
    characteristic_acceleration_mps2: float
    characteristic_deceleration_mps2: float
    aerodynamic_speed_mps: float
    kinetic_intensity_per_km: float
    stops_per_km: float
    idle_fraction: float
    speed_distribution: dict[str, float]
    acceleration_distribution: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The metrics by name (:data:`METRIC_NAMES`), NaN as ``None``, ready for JSON.

        Examples
        --------
        >>> m = trip_metrics([0.0, 10.0], [0.0, 0.0])
        >>> m.to_dict()["distance_m"], m.to_dict()["aerodynamic_speed_mps"]
        (0.0, None)
        """
        return {name: _none_for_nan(value) for name, value in asdict(self).items()}


def _none_for_nan(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _none_for_nan(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def _vector(value: Any, field: str) -> FloatArray:
    """`value` as a finite 1-D float array, or a ValidationError naming `field`."""
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(field, "a 1-D array of numbers", type(value).__name__) from None
    if a.ndim != 1:
        raise ValidationError(field, "a 1-D array of numbers (one trip)", f"shape {a.shape}",
                              hint="Pass trips one at a time, or use metrics_frame for many")
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise ValidationError(field, "finite numbers", f"{a[bad[0]]} at sample {bad[0]} ({bad.size} not finite)")
    return a


def _check(time: Any, vehicle_speed: Any, elevation: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    t = _vector(time, "time")
    if t.size < 2:
        raise ValidationError("time", "at least 2 samples", f"{t.size} sample{'s' if t.size != 1 else ''}")
    v = _vector(vehicle_speed, "vehicle_speed")
    h = np.zeros_like(t) if elevation is None else _vector(elevation, "elevation")
    for name, a in (("vehicle_speed", v), ("elevation", h)):
        if a.size != t.size:
            raise ValidationError(name, f"{t.size} samples, one per time", f"{a.size} samples")
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise ValidationError("time", "strictly increasing sample times [s]",
                              f"{t[k + 1]:g} after {t[k]:g} at sample {k + 1}")
    if np.any(v < 0):
        k = int(np.argmax(v < 0))
        raise ValidationError("vehicle_speed", "speeds >= 0 m/s", f"{v[k]:g} at sample {k}")
    return t, v, h


def trip_metrics(time: Any, vehicle_speed: Any, elevation: Any = None) -> TripMetrics:
    r"""The driving metrics of one trip, from its samples as recorded.

    Parameters
    ----------
    time : array_like, shape (T,)
        Sample times [s], strictly increasing; the steps need not be equal.
    vehicle_speed : array_like, shape (T,)
        Vehicle speed [m s-1], >= 0.
    elevation : array_like, shape (T,), optional
        Elevation above any datum [m]; None for a flat road (0 everywhere).

    Returns
    -------
    TripMetrics
        The metrics; those that divide by the distance or the time moving
        are NaN when the vehicle never moves.

    Raises
    ------
    ValidationError
        Fewer than 2 samples, arrays of different lengths or not 1-D, a
        value that is NaN or infinite, time not strictly increasing, or a
        negative speed; the message names the field.

    Notes
    -----
    With :math:`\Delta t_i = t_{i+1} - t_i` and :math:`g` the standard
    gravity, the speed is taken as linear within each step, so that the
    distance and the aerodynamic speed are exact for a piecewise-linear
    speed trace [1]_ [2]_:

    .. math::

        D = \sum_i \tfrac12 (v_i + v_{i+1}) \Delta t_i

        a_i = \tfrac12 (v_{i+1}^2 - v_i^2) + g (h_{i+1} - h_i)
              \quad [\mathrm{J\,kg^{-1}}]

        \tilde a = \frac{\sum_i \max(a_i, 0)}{D}, \qquad
        \tilde d = \frac{\sum_i \min(a_i, 0)}{D}

        \overline{v^3}_i = \tfrac14 (v_{i+1}^3 + v_{i+1}^2 v_i
                             + v_{i+1} v_i^2 + v_i^3), \qquad
        \tilde v = \sqrt{\frac{\sum_i \overline{v^3}_i \Delta t_i}{D}}

        KI = \tilde a / \tilde v^2 \quad [\mathrm{m^{-1}}],
        reported per km (times 1000).

    :math:`\overline{v^3}_i` is the exact mean of :math:`v^3` over a step
    with linear speed, so adding samples on the straight lines between
    samples changes none of these figures on a flat road. On a hill it can:
    where a step climbs while slowing down (or descends while speeding up)
    its kinetic and potential parts net within the step, and finer steps
    may split them into a positive and a negative part. A step is moving when its mean speed exceeds
    :data:`MOVING_SPEED`; ``average_driving_speed_mps`` is :math:`D` over the
    time moving, ``idle_fraction`` the share of the duration stopped, and
    ``stops_per_km`` counts each moving step followed by a stopped one. The
    distributions give the share of the duration in each of
    :data:`SPEED_BINS` (by the step's mean speed) and
    :data:`ACCELERATION_BINS` (by :math:`(v_{i+1} - v_i)/\Delta t_i`).

    References
    ----------
    .. [1] O'Keefe, M. P., Simpson, A., Kelly, K. J. and Pedersen, D. S.
       (2007). Duty Cycle Characterization and Evaluation Towards Heavy
       Hybrid Vehicle Applications. SAE Technical Paper 2007-01-0302.
       doi:10.4271/2007-01-0302
    .. [2] NREL DRIVE analysis tool,
       https://www.nrel.gov/transportation/drive.html

    Examples
    --------
    From standstill to 10 m/s in 10 s, then 10 s at 10 m/s: 150 m, and
    50 J/kg of kinetic energy over those 150 m.

    >>> m = trip_metrics([0.0, 10.0, 20.0], [0.0, 10.0, 10.0])
    >>> m.distance_m, round(m.characteristic_acceleration_mps2, 4)
    (150.0, 0.3333)
    >>> round(m.aerodynamic_speed_mps, 3), round(m.kinetic_intensity_per_km, 3)
    (9.129, 4.0)
    """
    t, v, h = _check(time, vehicle_speed, elevation)
    dt = np.diff(t)
    v0, v1 = v[:-1], v[1:]
    mean_speed = 0.5 * (v0 + v1)
    distance = float(np.sum(mean_speed * dt))
    duration = float(t[-1] - t[0])
    work = 0.5 * (v1 * v1 - v0 * v0) + STANDARD_GRAVITY * np.diff(h)  # [J kg-1]
    cube = 0.25 * (v1**3 + v1 * v1 * v0 + v1 * v0 * v0 + v0**3)
    moving = mean_speed > MOVING_SPEED
    time_moving = float(np.sum(dt[moving]))

    per_metre = 1.0 / distance if distance > 0 else math.nan
    acceleration = float(np.sum(np.maximum(work, 0.0))) * per_metre
    deceleration = float(np.sum(np.minimum(work, 0.0))) * per_metre
    aerodynamic_speed = math.sqrt(float(np.sum(cube * dt)) * per_metre)
    stops = int(np.sum(moving[:-1] & ~moving[1:]))

    stopped = float(np.sum(dt[~moving])) / duration
    speed_share = {"stopped": stopped}
    for name, (low, high) in list(SPEED_BINS.items())[1:]:
        speed_share[name] = float(np.sum(dt[moving & (mean_speed > low) & (mean_speed <= high)])) / duration
    a = np.diff(v) / dt
    c, hard = CRUISE_ACCELERATION, HARD_ACCELERATION
    modes = {"braking_hard": a < -hard, "braking": (a >= -hard) & (a < -c), "cruising": np.abs(a) <= c,
             "accelerating": (a > c) & (a <= hard), "accelerating_hard": a > hard}
    acceleration_share = {"stopped": stopped}
    acceleration_share.update({name: float(np.sum(dt[moving & inside])) / duration for name, inside in modes.items()})

    return TripMetrics(
        distance_m=distance,
        duration_s=duration,
        average_speed_mps=distance / duration,
        average_driving_speed_mps=distance / time_moving if time_moving > 0 else math.nan,
        characteristic_acceleration_mps2=acceleration,
        characteristic_deceleration_mps2=deceleration,
        aerodynamic_speed_mps=aerodynamic_speed,
        kinetic_intensity_per_km=1000.0 * acceleration / aerodynamic_speed**2 if aerodynamic_speed > 0 else math.nan,
        stops_per_km=1000.0 * stops * per_metre,
        idle_fraction=stopped,
        speed_distribution=speed_share,
        acceleration_distribution=acceleration_share,
    )


def cycle_elevation(cycle: Cycle) -> FloatArray:
    r"""The elevation [m] of a cycle's samples above its start, from its road grade.

    A :class:`~twinloop.cycles.Cycle` keeps the road grade, not the
    elevation: a trace file's elevation column has been turned into a grade
    fitted over :data:`~twinloop.cycles.GRADE_WINDOW` (100 m) of road, which
    removes GPS scatter that would otherwise count as climbing. The grade is
    integrated back over the distance.

    Notes
    -----
    With :math:`\sin\theta = G / \sqrt{1 + G^2}` for the grade :math:`G`
    (rise over run) and the trapezoidal distance of each step,

    .. math:: h_{i+1} - h_i = \tfrac12 (\sin\theta_i + \sin\theta_{i+1})
              \tfrac12 (v_i + v_{i+1}) \Delta t_i, \qquad h_0 = 0

    Examples
    --------
    >>> from twinloop.cycles import Cycle
    >>> hill = Cycle("hill", np.array([0.0, 100.0]), np.array([10.0, 10.0]), np.array([0.05, 0.05]))
    >>> np.round(cycle_elevation(hill), 2)
    array([ 0.  , 49.94])
    """
    sine = cycle.road_grade / np.sqrt(1.0 + cycle.road_grade**2)
    rise = 0.25 * (sine[:-1] + sine[1:]) * (cycle.vehicle_speed[:-1] + cycle.vehicle_speed[1:]) * np.diff(cycle.time)
    return np.concatenate([[0.0], np.cumsum(rise)])


def cycle_metrics(cycle: Cycle) -> TripMetrics:
    """The driving metrics of a drive cycle or a loaded trace, hills included.

    The elevation is :func:`cycle_elevation`, the road grade integrated over
    the distance (zero for the bundled standard cycles, which are flat).

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> udds = cycle_metrics(load_cycle("udds"))
    >>> round(udds.distance_m / 1000, 2), round(udds.average_speed_mps * 3.6, 1)
    (11.99, 31.5)
    """
    return trip_metrics(cycle.time, cycle.vehicle_speed, cycle_elevation(cycle))


def metrics_frame(cycles: Iterable[Cycle]) -> pd.DataFrame:
    """The driving metrics of many trips or cycles: one row each, indexed by name.

    The columns are :data:`METRIC_NAMES` with each distribution spread over
    columns of its own (``speed_distribution.stopped`` ...).

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> frame = metrics_frame([load_cycle("udds"), load_cycle("hwfet")])
    >>> frame["kinetic_intensity_per_km"].round(2).to_dict()
    {'udds': 0.8, 'hwfet': 0.14}
    """
    import pandas as pd

    rows = {c.name: cycle_metrics(c).to_dict() for c in cycles}
    frame = pd.json_normalize(list(rows.values()))
    frame.index = pd.Index(list(rows), name="name")
    return frame.astype(float)
