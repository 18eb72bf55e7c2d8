r"""Speed traces changed the way a driver could drive them: capped, or gentler, over the same road.

Both keep the distance of every step of the trace and stretch its time
(:func:`capped_speed_trace`, :func:`gentle_speed_trace`); the grade stays
with its position on the road. The energy app's what-ifs re-simulate them.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from twinloop.cycles import Cycle
from twinloop.errors import ValidationError

__all__ = ["capped_speed_trace", "gentle_speed_trace"]

FloatArray = npt.NDArray[np.float64]


def _step_distances(cycle: Cycle) -> FloatArray:
    return 0.5 * (cycle.vehicle_speed[:-1] + cycle.vehicle_speed[1:]) * np.diff(cycle.time)


def _retimed(cycle: Cycle, speed: FloatArray, name: str) -> Cycle:
    """`cycle` driven at `speed` at each of its samples' positions: same road, same distance, new times.

    A step that moves keeps its distance, driven at its new mean speed; a
    stop keeps its duration. The grade stays with its position on the road.
    """
    dx = _step_distances(cycle)
    mean = 0.5 * (speed[:-1] + speed[1:])
    moving = dx > 0
    if np.any(moving & (mean <= 0)):  # the changes never stop the vehicle where it moved
        raise ValidationError("speed", "above 0 where the trace moves", "a stop inserted")
    dt = np.where(moving, dx / np.where(moving, mean, 1.0), np.diff(cycle.time))
    time = cycle.time[0] + np.concatenate([[0.0], np.cumsum(dt)])
    return Cycle(name, time, speed, cycle.road_grade.copy(), source=f"{cycle.name}, changed: {name}")


def capped_speed_trace(cycle: Cycle, cap: float) -> Cycle:
    r"""`cycle` with its speed capped at `cap` [m s-1], over the same distance (time stretched).

    Each step keeps the distance it covers; where the speed is capped it
    takes longer. The speed at each sample becomes :math:`\min(v_i, v_{cap})`
    and the step's duration :math:`\Delta t_i' = \Delta x_i / \bar v_i'`
    with :math:`\Delta x_i = \tfrac12 (v_i + v_{i+1}) \Delta t_i` and
    :math:`\bar v_i' = \tfrac12 (v_i' + v_{i+1}')`; stops keep their duration.

    Examples
    --------
    >>> c = Cycle("c", np.array([0.0, 10.0, 20.0]), np.array([0.0, 30.0, 30.0]), np.zeros(3))
    >>> capped = capped_speed_trace(c, 25.0)
    >>> capped.vehicle_speed.tolist(), round(capped.distance, 6) == round(c.distance, 6)
    ([0.0, 25.0, 25.0], True)
    """
    if not (isinstance(cap, int | float) and math.isfinite(cap) and cap > 0):
        raise ValidationError("cap", "a speed > 0 m/s", cap)
    return _retimed(cycle, np.minimum(cycle.vehicle_speed, float(cap)), f"speed capped at {cap * 3.6:.0f} km/h")


def gentle_speed_trace(cycle: Cycle, max_acceleration: float, max_deceleration: float) -> Cycle:
    r"""`cycle` with acceleration and braking limited, over the same distance (time stretched).

    The speed profile over the distance is limited both ways, as a speed
    planner does: forwards, :math:`v_{i+1}'^2 \le v_i'^2 + 2 a_{max} \Delta x_i`
    (gentler acceleration); backwards, :math:`v_i'^2 \le v_{i+1}'^2 + 2 d_{max}
    \Delta x_i` (lifting off earlier, so that the vehicle slows over a longer
    stretch and brakes less hard); :math:`v' \le v` throughout. Then each
    step is retimed as in :func:`capped_speed_trace`, so that within a step
    the acceleration is :math:`(v_{i+1}'^2 - v_i'^2) / (2 \Delta x_i)`, inside
    the limits.

    Examples
    --------
    >>> c = Cycle("c", np.array([0.0, 5.0, 105.0]), np.array([0.0, 10.0, 10.0]), np.zeros(3))
    >>> g = gentle_speed_trace(c, 1.0, 1.0)
    >>> round(float(g.vehicle_speed[1]), 3), round(float(g.time[1]), 3)  # 25 m at <= 1 m/s2
    (7.071, 7.071)
    """
    for name, value in (("max_acceleration", max_acceleration), ("max_deceleration", max_deceleration)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValidationError(name, "a number > 0 m/s2", value)
    dx = _step_distances(cycle)
    w = cycle.vehicle_speed.astype(float).copy()
    for i in range(dx.size):
        w[i + 1] = min(w[i + 1], math.sqrt(w[i] ** 2 + 2.0 * max_acceleration * dx[i]))
    for i in range(dx.size - 1, -1, -1):
        w[i] = min(w[i], math.sqrt(w[i + 1] ** 2 + 2.0 * max_deceleration * dx[i]))
    return _retimed(cycle, w, f"acceleration within {max_acceleration:g} m/s2, braking within {max_deceleration:g} m/s2")
