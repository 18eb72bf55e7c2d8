"""The linear road-load consumption form, evaluated on trip features.

The physics half of :class:`~twinloop.learn.HybridConsumptionRegressor`:
battery energy per distance from the columns of
:data:`~twinloop.learn.features.FEATURES` and a handful of vehicle constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError

__all__ = ["PHYSICS_FEATURES", "road_load_consumption", "road_load_terms"]

FloatArray = npt.NDArray[np.float64]

#: The feature columns the road-load form reads.
PHYSICS_FEATURES: tuple[str, ...] = (
    "distance",
    "duration",
    "mean_speed",
    "mean_cubed_speed",
    "traction_energy",
    "braking_energy",
    "decel_share",
    "decel_speed",
    "decel_squared_speed",
)


def road_load_consumption(
    features: Mapping[str, Any],
    test_mass: float,
    coastdown: tuple[float, float, float],
    drivetrain_efficiency: float,
    regen_efficiency: float,
    auxiliary_power: float,
) -> FloatArray:
    """Battery energy per distance of trips by the linear road-load form.

    Parameters
    ----------
    features : mapping or DataFrame
        Columns of :data:`PHYSICS_FEATURES` (see
        :data:`~twinloop.learn.features.FEATURES` for units), scalars or
        arrays of shape (n,).
    test_mass : float
        [kg].
    coastdown : tuple of float
        Coast-down coefficients A [N], B [N s m-1], C [N s2 m-2].
    drivetrain_efficiency : float
        Battery-to-wheel efficiency when driving [1], in (0, 1].
    regen_efficiency : float
        Share of braking and descending energy returned to the battery [1],
        in [0, 1].
    auxiliary_power : float
        Constant low-voltage load [W].

    Returns
    -------
    ndarray, shape (n,)
        Battery energy per distance [J m-1].

    Raises
    ------
    ValidationError
        A column is missing, not numbers, NaN or inf, or of another shape
        than the others; a distance is not positive; or a constant is out
        of its range.

    Notes
    -----
    .. math::

        \\frac{E}{d} = \\frac{1}{\\eta}\\left(A + B\\,\\bar v + C\\,\\overline{v^3}
        - R_{dec} + m\\,e^+\\right) - \\eta_r \\left(m\\,e^- - R_{dec}\\right)
        + P_{aux}\\,\\frac{t}{d},
        \\qquad R_{dec} = A\\,\\delta_0 + B\\,\\delta_1 + C\\,\\delta_2

    with :math:`\\bar v` = ``mean_speed``, :math:`\\overline{v^3}` =
    ``mean_cubed_speed`` (already per metre), :math:`e^+` =
    ``traction_energy`` and :math:`e^-` = ``braking_energy`` (kinetic plus
    potential energy per kg and metre, gained where the wheels drive, lost
    where they brake), :math:`t` = ``duration`` and :math:`d` =
    ``distance``; :math:`\\delta_{0,1,2}` = ``decel_share``, ``decel_speed``,
    ``decel_squared_speed``: :math:`R_{dec}` is the road load paid by falling
    kinetic and potential energy, charged neither to traction nor to
    regeneration. The B term uses the mean speed where the exact work is
    :math:`B\\sum v^2\\,\\Delta t / d`, which is larger on uneven traces.
    HVAC, battery and speed-dependent motor losses are left out: a hybrid
    model learns them from the residual.

    Examples
    --------
    >>> f = {"distance": 1000.0, "duration": 100.0, "mean_speed": 10.0, "mean_cubed_speed": 100.0,
    ...      "traction_energy": 0.0, "braking_energy": 0.0,
    ...      "decel_share": 0.0, "decel_speed": 0.0, "decel_squared_speed": 0.0}
    >>> road_load_consumption(f, 1500.0, (150.0, 0.0, 0.4), 0.8, 0.6, 300.0)
    array(267.5)
    """
    col = _columns(features)
    if np.any(~(col["distance"] > 0)):
        raise ValidationError("distance", "> 0 m in every trip", f"min {np.min(col['distance']):g}")
    _check_constants(test_mass, coastdown, drivetrain_efficiency, regen_efficiency, auxiliary_power)
    road, gained, recovered = road_load_terms(col, test_mass, coastdown)
    return np.asarray(
        (road + gained) / drivetrain_efficiency
        - regen_efficiency * recovered
        + auxiliary_power * col["duration"] / col["distance"]
    )


def _columns(features: Mapping[str, Any]) -> dict[str, FloatArray]:
    """The PHYSICS_FEATURES columns as finite float arrays of one shape."""
    missing = [name for name in PHYSICS_FEATURES if name not in features]
    if missing:
        raise ValidationError("features", f"columns {', '.join(PHYSICS_FEATURES)}", f"missing {', '.join(missing)}")
    col = {}
    for name in PHYSICS_FEATURES:
        try:
            col[name] = np.asarray(features[name], dtype=float)
        except (TypeError, ValueError):
            raise ValidationError(name, "numbers", features[name]) from None
        if not np.all(np.isfinite(col[name])):
            raise ValidationError(name, "finite numbers (no NaN or inf)", features[name])
    shapes = {a.shape for a in col.values()} - {()}
    if len(shapes) > 1:
        raise ValidationError("features", "columns of one length (or scalars)", {k: a.shape for k, a in col.items()})
    return col


def _check_constants(
    test_mass: float, coastdown: Any, drivetrain_efficiency: float, regen_efficiency: float, auxiliary_power: float
) -> None:
    """Refuse vehicle constants outside the ranges of :func:`road_load_consumption`."""
    if isinstance(coastdown, str) or not hasattr(coastdown, "__len__") or len(coastdown) != 3:
        raise ValidationError("coastdown", "a tuple (A [N], B [N s m-1], C [N s2 m-2])", coastdown)
    ranges = {
        "test_mass": (test_mass, "> 0 kg", lambda x: x > 0),
        "coastdown": (coastdown, "three finite numbers: A [N], B [N s m-1], C [N s2 m-2]", lambda x: np.isfinite(x).all()),
        "drivetrain_efficiency": (drivetrain_efficiency, "a number in (0, 1]", lambda x: 0 < x <= 1),
        "regen_efficiency": (regen_efficiency, "a number in [0, 1]", lambda x: 0 <= x <= 1),
        "auxiliary_power": (auxiliary_power, "a finite number >= 0 W", lambda x: 0 <= x < np.inf),
    }
    for name, (value, expected, valid) in ranges.items():
        try:
            ok = bool(valid(np.asarray(value, dtype=float)))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValidationError(name, expected, value)


def road_load_terms(
    features: Mapping[str, Any] | Any, test_mass: float, coastdown: tuple[float, float, float]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three energies per metre [J m-1] of the road-load form, before efficiencies.

    Returns the road load the wheels must give while they drive
    (:math:`A + B\\,\\bar v + C\\,\\overline{v^3} - R_{dec}`), the kinetic and
    potential energy they give there (:math:`m\\,e^+`), and the energy left
    to recover where they brake (:math:`m\\,e^- - R_{dec}`); see
    :func:`road_load_consumption`. `features` (a mapping or a DataFrame)
    holds the columns of :data:`PHYSICS_FEATURES` (unchecked).
    """
    a, b, c = coastdown
    col = {name: np.asarray(features[name], dtype=float) for name in PHYSICS_FEATURES}
    paid = a * col["decel_share"] + b * col["decel_speed"] + c * col["decel_squared_speed"]
    road = a + b * col["mean_speed"] + c * col["mean_cubed_speed"] - paid
    return road, test_mass * col["traction_energy"], test_mass * col["braking_energy"] - paid
