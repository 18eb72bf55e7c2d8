"""Trip features: the few numbers of a speed trace that road-load physics needs.

Energy per distance of a battery-electric vehicle is, to first order, linear
in a handful of trace statistics (see Notes of :func:`trip_features`). Learned
and hybrid consumption models, and the twin's model registry, all exchange
trips as a table with these columns.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from twinloop.conventions import STANDARD_GRAVITY
from twinloop.errors import UnknownNameError, ValidationError
from twinloop.quantities import check

__all__ = ["FEATURES", "TARGET", "feature_frame", "trip_features"]

GRAVITY = STANDARD_GRAVITY  # [m s-2]

#: Column names and units of the feature table, in order.
FEATURES: dict[str, str] = {
    "distance": "m",
    "duration": "s",
    "mean_speed": "m s-1",
    "mean_cubed_speed": "m2 s-2",  # sum(v^3 dt) / sum(v dt): aerodynamic work per metre / (rho CdA / 2)
    "positive_kinetic": "J kg-1 m-1",  # sum of increases of v^2/2 per metre
    "negative_kinetic": "J kg-1 m-1",  # sum of decreases of v^2/2 per metre (positive number)
    "climb": "J kg-1 m-1",  # g * sum of height gained per metre
    "descent": "J kg-1 m-1",  # g * sum of height lost per metre (positive number)
    # Steps split where kinetic plus potential energy falls faster than a typical EV's road load
    # takes it (there the wheels brake or coast). That energy per kg, per metre: its change where
    # the wheels drive (a gentle slowing or descent lowers what they must give), and what is
    # lost where they brake or coast (part of it recoverable).
    "traction_energy": "J kg-1 m-1",
    "braking_energy": "J kg-1 m-1",  # positive number
    # The moments of road-load work per metre over the braking steps: A, B and C times these is
    # the road load that the falling energy pays there, not the battery.
    "decel_share": "1",  # sum of distance per metre
    "decel_speed": "m s-1",  # sum of v * distance per metre
    "decel_squared_speed": "m2 s-2",  # sum of v^2 * distance per metre
    "stop_fraction": "1",  # share of time below 0.5 m/s
    "ambient_temperature": "K",
}

# Typical road-load deceleration of a battery-electric car [m s-2] and [m-1]: a0 + c0 v^2.
_ROAD_LOAD_PER_KG = (0.08, 0.00022)

#: The target of consumption models: battery energy per distance [J m-1]
#: (1 Wh/km = 3.6 J/m).
TARGET = "battery_energy_per_distance"


def trip_features(
    time: npt.ArrayLike,
    speed: npt.ArrayLike,
    road_grade: npt.ArrayLike | None = None,
    ambient_temperature: float = 293.15,
) -> dict[str, float]:
    """Road-load statistics of one speed trace.

    Parameters
    ----------
    time : array_like
        Sample times [s], strictly increasing.
    speed : array_like
        Vehicle speed [m s-1], non-negative.
    road_grade : array_like, optional
        Rise over run [1]; default flat.
    ambient_temperature : float
        [K], in 223.15 to 333.15 K (-50 to 60 °C).

    Returns
    -------
    dict
        One value per name of :data:`FEATURES`.

    Notes
    -----
    With test mass :math:`m`, coast-down coefficients :math:`A, B, C` and a
    drivetrain efficiency :math:`\\eta`, the battery energy per metre is
    approximately

    .. math::

        \\frac{E}{d} \\approx \\frac{1}{\\eta}\\left(A + B\\,\\bar v + C\\,
        \\overline{v^3}/\\bar v - R_{dec} + m\\,e^+\\right)
        - \\eta_r \\left(m\\,e^- - R_{dec}\\right) + \\frac{P_{aux}\\,t}{d}

    The steps are split where the vehicle's kinetic plus potential energy
    falls faster than road load alone would take it (a typical EV's,
    :math:`0.08 + 0.00022\\,v^2` m s-2, decides: the features know no
    vehicle): there the wheels brake or coast. :math:`e^+`
    (``traction_energy``) is the change of that energy per kg and metre
    over the other steps, where the wheels drive (a gentle slowing or
    descent lowers it); :math:`e^-` (``braking_energy``) is what is lost
    over the braking steps, which first pays their road load,
    :math:`R_{dec} = A\\,\\delta_0 + B\\,\\delta_1 + C\\,\\delta_2` (the
    ``decel_*`` moments), before any is left to regenerate.
    ``positive_kinetic``/``negative_kinetic`` (:math:`k^\\pm`) and
    ``climb``/``descent`` (:math:`h^\\pm`) split the same energy by sign
    instead; the learned models use both. Physics, learned and hybrid
    consumption models share these columns.

    Examples
    --------
    >>> f = trip_features([0, 1, 2, 3], [0.0, 10.0, 10.0, 0.0])
    >>> round(f["distance"]), round(f["positive_kinetic"], 2)
    (20, 2.5)
    """
    t = _numbers("time", time)
    v = _numbers("speed", speed)
    if t.ndim != 1 or t.shape != v.shape or t.size < 2:
        raise ValidationError("time, speed", "two 1-D arrays of equal length >= 2", f"shapes {t.shape}, {v.shape}")
    dt = np.diff(t)
    if not np.all(dt > 0):
        raise ValidationError("time", "strictly increasing", f"first bad step at index {int(np.argmin(dt > 0)) + 1}")
    _check_samples("speed", v, "finite and >= 0 m/s", ~(v >= 0))
    grade = np.zeros_like(v) if road_grade is None else _numbers("road_grade", road_grade)
    if grade.shape not in ((), v.shape):
        raise ValidationError("road_grade", f"a number or an array of the shape of speed {v.shape}", f"shape {grade.shape}")
    grade = np.broadcast_to(grade, v.shape)
    _check_samples("road_grade", grade, "finite numbers (rise over run)", ~np.isfinite(grade))
    check("ambient_temperature", _numbers("ambient_temperature", ambient_temperature))  # catches degrees Celsius
    v_mid = 0.5 * (v[1:] + v[:-1])
    step = v_mid * dt
    distance = float(step.sum())
    per_m = 1.0 / distance if distance > 0 else 0.0
    dke = np.diff(0.5 * v**2)
    dh = step * np.sin(np.arctan(0.5 * (grade[1:] + grade[:-1])))
    # Steps where the wheels brake or coast: kinetic plus potential energy falls faster than a
    # typical EV's road load takes it (per kg: A/m and C/m of the bundled and EPA vehicles).
    mechanical = dke + GRAVITY * dh  # change of kinetic plus potential energy per kg [J kg-1]
    falling = mechanical < -(_ROAD_LOAD_PER_KG[0] + _ROAD_LOAD_PER_KG[1] * v_mid**2) * step
    duration = float(t[-1] - t[0])
    return {
        "distance": distance,
        "duration": duration,
        "mean_speed": distance / duration,
        "mean_cubed_speed": float((v_mid**3 * dt).sum()) * per_m,
        "positive_kinetic": float(dke.clip(min=0).sum()) * per_m,
        "negative_kinetic": float(-dke.clip(max=0).sum()) * per_m,
        "climb": GRAVITY * float(dh.clip(min=0).sum()) * per_m,
        "descent": GRAVITY * float(-dh.clip(max=0).sum()) * per_m,
        "traction_energy": float(mechanical[~falling].sum()) * per_m,
        "braking_energy": float(-mechanical[falling].sum()) * per_m,
        "decel_share": float(step[falling].sum()) * per_m,
        "decel_speed": float((v_mid * step)[falling].sum()) * per_m,
        "decel_squared_speed": float((v_mid**2 * step)[falling].sum()) * per_m,
        "stop_fraction": float(dt[v_mid < 0.5].sum()) / duration,
        "ambient_temperature": float(ambient_temperature),
    }


def feature_frame(rows: list[dict[str, float]]) -> pd.DataFrame:
    """Stack :func:`trip_features` results into a table with the columns of :data:`FEATURES`.

    Parameters
    ----------
    rows : list of dict
        One dict per trip, with a value for every name of :data:`FEATURES`
        (in its unit) and no other key.

    Returns
    -------
    DataFrame
        One row per trip, the columns of :data:`FEATURES` in order.

    Raises
    ------
    ValidationError
        `rows` is not a list of dicts, or a row lacks a FEATURES name.
    UnknownNameError
        A row has a key that is not a FEATURES name (close matches are named).
    """
    if isinstance(rows, dict):
        raise ValidationError("rows", "a list of dicts, one per trip", "a dict", hint="Pass [trip_features(...)] for one trip.")
    rows = list(rows)
    kinds = [type(row).__name__ for row in rows if not isinstance(row, dict)]
    if kinds:
        raise ValidationError("rows", "a list of dicts, one per trip", f"a list holding a {kinds[0]}")
    for i, row in enumerate(rows):
        for key in row:
            if key not in FEATURES:
                raise UnknownNameError(f"feature in rows[{i}]", str(key), FEATURES)
        missing = [name for name in FEATURES if name not in row]
        if missing:
            raise ValidationError(f"rows[{i}]", "a value for every FEATURES name", f"missing {', '.join(missing)}")
    return pd.DataFrame(rows, columns=list(FEATURES))


def _numbers(field: str, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """`value` as a float array, naming `field` when it holds something else."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(field, "numbers", value) from None


def _check_samples(field: str, values: npt.NDArray[np.float64], expected: str, bad: npt.NDArray[np.bool_]) -> None:
    """Name the first bad sample of a trace by index and value."""
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(field, expected, f"{values[i]:g} at index {i} ({int(bad.sum())} such samples)")
