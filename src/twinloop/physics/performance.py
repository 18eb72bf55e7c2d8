r"""Performance: the traction limit, the top speed and the time to reach a speed.

A car's 0-100 km/h time is set by whichever limit binds at each speed: the
tyres' grip at low speed, the motor's torque up to its corner speed, its
power beyond it (and the battery's, for a small pack). The simulator's
kernel applies the torque, power and battery limits step by step; what it
does not know is grip, so a full-throttle run is asked to follow a ramp at
the traction-limited acceleration of :func:`traction_limited_acceleration`,
and :func:`time_to_speed` reads the time off its recorded speed. The top
speed is the lower of the motor's speed limit through the gear
(:func:`gear_limited_speed`) and the speed where the peak power just
balances the road load (:func:`power_limited_speed`).

References
----------
.. [1] Gillespie, T. D. (1992). Fundamentals of Vehicle Dynamics. SAE,
   ch. 2 (acceleration performance, traction-limited acceleration with
   load transfer). doi:10.4271/R-114
.. [2] Wong, J. Y. (2008). Theory of Ground Vehicles, 4th ed. Wiley,
   ch. 3.1 (maximum tractive effort), table 1.3 (peak friction
   coefficients: 0.8-0.9 on dry asphalt).
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F
from twinloop.conventions import STANDARD_GRAVITY

__all__ = [
    "DRIVEN_AXLE_LOAD",
    "gear_limited_speed",
    "power_limited_speed",
    "time_to_speed",
    "traction_limited_acceleration",
]

DRIVEN_AXLE_LOAD: dict[str, tuple[float, float]] = {
    "FWD": (0.60, -1.0),
    "RWD": (0.50, 1.0),
    "AWD": (1.00, 0.0),
}
"""Static share of the weight on the driven axle(s) [1] and load-transfer sign, by drive.

Accelerating moves load from the front axle to the rear: a front-driven car
loses grip (sign -1), a rear-driven one gains it (+1), an all-wheel drive
uses the whole weight (0). The shares are those of a typical electric car
with its pack in the floor: 60 % on the front axle of a front-wheel drive,
50/50 for a rear-wheel drive [1]_.
"""


def traction_limited_acceleration(
    friction_coefficient: F,
    driven_axle_load_share: F,
    load_transfer: F,
    cg_height_ratio: F = 0.2,
) -> F:
    r"""Largest acceleration [m s-2] the tyres of the driven axle(s) can transmit.

    Parameters
    ----------
    friction_coefficient : array_like
        Peak tyre-road friction coefficient :math:`\mu` [1] (0.8-0.9 dry asphalt [2]_).
    driven_axle_load_share : array_like
        Static share of the weight on the driven axle(s) :math:`\psi` [1]
        (:data:`DRIVEN_AXLE_LOAD`).
    load_transfer : array_like
        :math:`s`: -1 front-driven, +1 rear-driven, 0 all-wheel drive.
    cg_height_ratio : array_like, default 0.2
        Height of the centre of gravity over the wheelbase :math:`h/L` [1]
        (0.55 m over 2.75 m).

    Notes
    -----
    The driven axle's load under acceleration :math:`a` is
    :math:`m g \psi + s\, m a\, h/L`; at the grip limit
    :math:`m a = \mu (m g \psi + s\, m a\, h/L)`, so [1]_

    .. math:: a_{max} = \frac{\mu g \psi}{1 - s \mu h / L}

    Road load and the rotating masses are left out: the first takes some
    1-4 % of the grip below 100 km/h, the second is driven by the motor's
    torque, not through the tyre contact. Valid for :math:`s \mu h/L < 1`.

    Examples
    --------
    A rear-wheel drive on dry asphalt, then a front-wheel drive:

    >>> round(float(traction_limited_acceleration(0.9, 0.5, 1.0)), 2)
    5.38
    >>> round(float(traction_limited_acceleration(0.9, 0.6, -1.0)), 2)
    4.49
    """
    return friction_coefficient * STANDARD_GRAVITY * driven_axle_load_share / (
        1.0 - load_transfer * friction_coefficient * cg_height_ratio)


def gear_limited_speed(motor_max_speed: F, gear_ratio: F, wheel_radius: F) -> F:
    r"""Vehicle speed [m s-1] at which the motor reaches its largest speed.

    Parameters
    ----------
    motor_max_speed : array_like
        Largest motor speed [rad s-1] (12,000 rpm is 1256.6 rad/s).
    gear_ratio : array_like
        Overall reduction, motor to wheel [1].
    wheel_radius : array_like
        Dynamic rolling radius [m].

    Notes
    -----
    .. math:: v = \omega_{max}\, r_w / i_g

    the inverse of :func:`twinloop.physics.drivetrain.motor_speed`.

    Examples
    --------
    >>> round(float(gear_limited_speed(12000 * np.pi / 30, 9.0, 0.34) * 3.6), 1)
    170.9
    """
    return motor_max_speed * wheel_radius / gear_ratio


def power_limited_speed(
    motor_peak_power: F,
    coastdown_a: F,
    coastdown_b: F,
    coastdown_c: F,
    gearbox_efficiency: F = 1.0,
) -> F:
    r"""Speed [m s-1] at which the peak power just overcomes the road load on a flat road.

    Parameters
    ----------
    motor_peak_power : array_like
        Peak power at the motor shaft [W], > 0.
    coastdown_a, coastdown_b, coastdown_c : array_like
        Road load :math:`A + B v + C v^2`: A [N], B [N s m-1], C [N s2 m-2],
        each >= 0 and not all zero.
    gearbox_efficiency : array_like, default 1
        [1], in (0, 1].

    Notes
    -----
    The positive root of

    .. math:: (A + B v + C v^2)\, v = \eta_g P_{peak}

    whose left side rises monotonically for :math:`v > 0`; found by 60
    bisections of :math:`[0, v_{hi}]` with
    :math:`v_{hi} = \eta_g P / A`, or :math:`(\eta_g P / C)^{1/3}` if
    smaller, which bound the root (branch-free, to 1e-15 of :math:`v_{hi}`).

    Examples
    --------
    A mid-size car with 150 kW (A = 150 N, C = 0.38 N s2 m-2):

    >>> round(float(power_limited_speed(150e3, 150.0, 0.0, 0.38, 0.97) * 3.6), 1)
    254.9
    """
    power = motor_peak_power * gearbox_efficiency
    a, b, c = (np.asarray(x, dtype=float) for x in (coastdown_a, coastdown_b, coastdown_c))
    with np.errstate(divide="ignore", over="ignore"):  # a tiny coefficient bounds nothing: inf
        high = np.minimum(np.where(a > 0, power / np.where(a > 0, a, 1.0), np.inf),
                          np.where(c > 0, np.cbrt(power / np.where(c > 0, c, 1.0)), np.inf))
        high = np.minimum(high, np.where(b > 0, np.sqrt(power / np.where(b > 0, b, 1.0)), np.inf))
    low = np.zeros_like(high)
    for _ in range(60):
        mid = 0.5 * (low + high)
        short = (a + b * mid + c * mid * mid) * mid < power
        low = np.where(short, mid, low)
        high = np.where(short, high, mid)
    return 0.5 * (low + high)


def time_to_speed(time: F, vehicle_speed: F, speed: float) -> F:
    r"""When each vehicle first reaches `speed` [s]; inf where it never does.

    Parameters
    ----------
    time : array_like, shape (T,)
        Sample times [s], increasing.
    vehicle_speed : array_like, shape (..., T)
        Speeds [m s-1], the leading axes one per vehicle.
    speed : float
        The speed to reach [m s-1] (27.78 for 100 km/h).

    Notes
    -----
    Linear between samples: with :math:`k` the first sample at or above
    :math:`v^*`,

    .. math:: t^* = t_{k-1} + (t_k - t_{k-1}) \frac{v^* - v_{k-1}}{v_k - v_{k-1}}

    (:math:`t_0` when the first sample is already at :math:`v^*`).

    Examples
    --------
    >>> float(time_to_speed([0.0, 1.0, 2.0], [0.0, 20.0, 40.0], 30.0))
    1.5
    >>> time_to_speed([0.0, 1.0], [[0.0, 10.0], [0.0, 40.0]], 30.0).tolist()
    [inf, 0.75]
    """
    t = np.asarray(time, dtype=float)
    v = np.asarray(vehicle_speed, dtype=float)
    reached = v >= speed
    k = np.argmax(reached, axis=-1)
    ever = np.any(reached, axis=-1)
    before = np.maximum(k - 1, 0)
    v0 = np.take_along_axis(v, before[..., None], axis=-1)[..., 0]
    v1 = np.take_along_axis(v, k[..., None], axis=-1)[..., 0]
    rise = v1 - v0
    share = np.divide(speed - v0, rise, out=np.ones_like(rise), where=rise > 0)
    crossing = t[before] + (t[k] - t[before]) * share
    return np.where(ever, crossing, np.inf)
