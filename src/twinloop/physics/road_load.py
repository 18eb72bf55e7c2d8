"""Road load: aerodynamic, rolling, grade and inertial forces.

Two equivalent forms are supported. The physical form uses drag coefficient,
frontal area and rolling-resistance coefficient; the coast-down form
:math:`F = A + B v + C v^2` uses the target coefficients that manufacturers
report to regulators (EPA test car list), which already contain tyre and
driveline spin losses measured in a coast-down.

References
----------
.. [1] Gillespie, T. D. (1992). Fundamentals of Vehicle Dynamics. SAE, ch. 4.
.. [2] US EPA / SAE J2263 (2020). Road Load Measurement Using Onboard
   Anemometry and Coastdown Techniques. doi:10.4271/J2263_202009
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F
from twinloop.conventions import STANDARD_GRAVITY

__all__ = [
    "LBF",
    "MPH",
    "aerodynamic_drag_force",
    "coastdown_force",
    "coastdown_from_epa",
    "coastdown_from_physical",
    "grade_force",
    "inertial_force",
    "rolling_resistance_force",
]

GRAVITY = STANDARD_GRAVITY  # [m s-2]
LBF = 4.4482216152605
"""One pound-force [N]."""
MPH = 0.44704
"""One mile per hour [m s-1]."""


def aerodynamic_drag_force(vehicle_speed: F, drag_coefficient: F, frontal_area: F, air_density: F = 1.2041) -> F:
    r"""Aerodynamic drag force on the vehicle [N].

    Parameters
    ----------
    vehicle_speed : array_like
        Speed through still air [m s-1]; negative when reversing.
    drag_coefficient : array_like
        Drag coefficient Cd [1].
    frontal_area : array_like
        Frontal area [m2].
    air_density : array_like, default 1.2041
        Air density [kg m-3] (dry air, 20 °C, 101.325 kPa).

    Returns
    -------
    array_like
        Drag force [N], positive when resisting forward motion; it opposes
        motion in either direction (:math:`F(-v) = -F(v)`).

    Notes
    -----
    .. math:: F_{aero} = \tfrac12 \rho C_d A v |v|

    Valid for attached flow and no wind; see [1]_.

    Examples
    --------
    >>> round(float(aerodynamic_drag_force(30.0, 0.23, 2.22)), 1)
    276.7
    """
    return 0.5 * air_density * drag_coefficient * frontal_area * vehicle_speed * np.abs(vehicle_speed)


def rolling_resistance_force(test_mass: F, rolling_resistance_coefficient: F, road_grade: F = 0.0) -> F:
    r"""Tyre rolling-resistance force [N].

    Parameters
    ----------
    test_mass : array_like
        Vehicle mass [kg].
    rolling_resistance_coefficient : array_like
        Crr [1].
    road_grade : array_like, default 0
        Grade, rise over run [1].

    Returns
    -------
    array_like
        Magnitude of the rolling resistance [N], >= 0 (it opposes whichever
        way the vehicle rolls; the caller sets its sign).

    Notes
    -----
    .. math:: F_{roll} = m g C_{rr} \cos(\arctan(\mathrm{grade}))

    Examples
    --------
    >>> round(float(rolling_resistance_force(1800.0, 0.008)), 2)
    141.22
    """
    return test_mass * GRAVITY * rolling_resistance_coefficient * np.cos(np.arctan(road_grade))


def grade_force(test_mass: F, road_grade: F) -> F:
    r"""Gravity component along the road [N], positive uphill.

    Parameters
    ----------
    test_mass : array_like
        Vehicle mass [kg].
    road_grade : array_like
        Grade, rise over run [1]; negative downhill.

    Returns
    -------
    array_like
        Force [N] resisting forward motion: positive uphill, negative downhill,
        and acting at standstill too.

    Notes
    -----
    .. math:: F_{grade} = m g \sin(\arctan(\mathrm{grade}))

    Examples
    --------
    >>> round(float(grade_force(1000.0, 0.05)), 1)
    489.7
    """
    return test_mass * GRAVITY * np.sin(np.arctan(road_grade))


def inertial_force(test_mass: F, acceleration: F, rotating_mass_factor: F = 0.0) -> F:
    r"""Force to accelerate the vehicle and its rotating parts [N].

    Parameters
    ----------
    test_mass : array_like
        Vehicle mass [kg].
    acceleration : array_like
        Longitudinal acceleration [m s-2].
    rotating_mass_factor : array_like, default 0
        Equivalent mass of rotating parts as a fraction of `test_mass` [1].

    Notes
    -----
    .. math:: F_{inertia} = m (1 + f_{rot}) a

    Examples
    --------
    >>> float(inertial_force(1500.0, 1.0, 0.02))
    1530.0
    """
    return test_mass * (1.0 + rotating_mass_factor) * acceleration


def coastdown_force(vehicle_speed: F, coastdown_a: F, coastdown_b: F, coastdown_c: F) -> F:
    r"""Road-load force in coast-down form [N].

    Parameters
    ----------
    vehicle_speed : array_like
        [m s-1]; negative when reversing.
    coastdown_a : array_like
        Constant term A [N].
    coastdown_b : array_like
        Linear term B [N s m-1].
    coastdown_c : array_like
        Quadratic term C [N s2 m-2].

    Returns
    -------
    array_like
        Force [N], positive when resisting forward motion.

    Notes
    -----
    .. math:: F = A\,\mathrm{clip}(v / 0.01\,\mathrm{m\,s^{-1}}, -1, 1) + B v + C v |v|

    which is :math:`A + B v + C v^2` for :math:`v \ge 0.01` m/s. The force
    is for a level road and includes tyre, aerodynamic and driveline spin
    losses as measured in a coast-down test [2]_. At standstill the constant
    term is not applied (the vehicle is held, not rolling); it ramps in over
    the first 0.01 m/s. The force opposes motion in either direction
    (:math:`F(-v) = -F(v)`).

    Examples
    --------
    >>> round(float(coastdown_force(20.0, 150.0, 1.0, 0.4)), 1)
    330.0
    """
    # -1 reversing, 0 at standstill, 1 moving forward (a negative speed must not scale A up)
    moving = np.minimum(np.maximum(vehicle_speed / 0.01, -1.0), 1.0)
    return moving * coastdown_a + coastdown_b * vehicle_speed + coastdown_c * vehicle_speed * np.abs(vehicle_speed)


def coastdown_from_epa(a_lbf: F, b_lbf_per_mph: F, c_lbf_per_mph2: F) -> F:
    """Convert EPA coast-down coefficients (lbf, lbf/mph, lbf/mph²) to SI.

    Parameters
    ----------
    a_lbf, b_lbf_per_mph, c_lbf_per_mph2 : array_like
        Target coefficients as in the EPA test car list.

    Returns
    -------
    tuple of array_like
        ``(coastdown_a [N], coastdown_b [N s m-1], coastdown_c [N s2 m-2])``.

    Examples
    --------
    >>> a, b, c = coastdown_from_epa(30.0, 0.2, 0.02)
    >>> round(float(a), 2), round(float(b), 3), round(float(c), 4)
    (133.45, 1.99, 0.4452)
    """
    return (
        np.asarray(a_lbf) * LBF,
        np.asarray(b_lbf_per_mph) * LBF / MPH,
        np.asarray(c_lbf_per_mph2) * LBF / MPH**2,
    )


def coastdown_from_physical(test_mass: F, drag_coefficient: F, frontal_area: F, rolling_resistance_coefficient: F, air_density: F = 1.2041) -> F:
    r"""Equivalent coast-down coefficients of a physical road-load description.

    Parameters
    ----------
    test_mass : array_like
        Vehicle mass [kg].
    drag_coefficient : array_like
        Cd [1].
    frontal_area : array_like
        [m2].
    rolling_resistance_coefficient : array_like
        Crr [1].
    air_density : array_like, default 1.2041
        [kg m-3].

    Notes
    -----
    .. math:: A = m g C_{rr},\quad B = 0,\quad C = \tfrac12\rho C_d A_f

    Returns
    -------
    tuple of array_like
        ``(coastdown_a [N], coastdown_b [N s m-1], coastdown_c [N s2 m-2])``.

    Examples
    --------
    >>> a, b, c = coastdown_from_physical(1800.0, 0.23, 2.22, 0.008)
    >>> round(float(a), 2), float(b), round(float(c), 4)
    (141.22, 0.0, 0.3074)
    """
    a = np.asarray(test_mass) * GRAVITY * rolling_resistance_coefficient
    # [()] gives a scalar, like A and C, for scalar inputs (zeros_like alone gives a 0-d array)
    return a, np.zeros_like(a)[()], 0.5 * air_density * np.asarray(drag_coefficient) * frontal_area
