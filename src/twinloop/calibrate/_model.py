"""The calibration's forward model: battery power from speed, grade and parameters.

Kept apart from the fitting so that tests can generate data with exactly the
model that is fitted, and so that the road-load form (physical or coast-down)
is chosen through a registry rather than by name tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.parameters.spec import VehicleSpec
from twinloop.physics import drivetrain, road_load

__all__ = ["FORMS", "Form", "Inputs", "Limits", "battery_power", "limits_from_spec"]

FloatArray = npt.NDArray[np.float64]

GRAVITY = road_load.GRAVITY
REFERENCE_TEMPERATURE = 293.15
"""Temperature at which the spec's air density (and coast-down C) holds [K]."""


@dataclass(frozen=True)
class Inputs:
    """Per-sample inputs of the forward model, all shape (n,), SI.

    ``air_density_ratio`` is rho(T)/rho(293.15 K) at constant pressure.
    """

    vehicle_speed: FloatArray
    acceleration: FloatArray
    road_grade: FloatArray
    air_density_ratio: FloatArray


@dataclass(frozen=True)
class Limits:
    """Values taken from the prior spec and not calibrated."""

    rotating_mass_factor: float
    regen_fade_speed_low: float
    regen_fade_speed_high: float
    regen_max_power: float
    battery_max_charge_power: float
    motor_peak_power: float
    motor_peak_torque: float
    motor_rated_power: float
    gear_ratio: float
    wheel_radius: float
    copper_loss: float
    iron_loss: float
    windage_loss: float
    constant_loss: float
    air_density: float


def limits_from_spec(spec: VehicleSpec) -> Limits:
    """The fixed (uncalibrated) part of the model, from `spec`."""
    return Limits(
        rotating_mass_factor=spec.rotating_mass_factor,
        regen_fade_speed_low=spec.regen_fade_speed_low,
        regen_fade_speed_high=spec.regen_fade_speed_high,
        regen_max_power=spec.effective_regen_max_power,
        battery_max_charge_power=spec.effective_battery_max_charge_power,
        motor_peak_power=spec.motor_peak_power,
        motor_peak_torque=spec.effective_motor_peak_torque,
        motor_rated_power=spec.effective_motor_rated_power,
        gear_ratio=spec.gear_ratio,
        wheel_radius=spec.wheel_radius,
        copper_loss=spec.copper_loss,
        iron_loss=spec.iron_loss,
        windage_loss=spec.windage_loss,
        constant_loss=spec.constant_loss,
        air_density=spec.air_density,
    )


def regen_limit(vehicle_speed: FloatArray, lim: Limits) -> FloatArray:
    """Largest regenerative power [W] the motor can take at `vehicle_speed`."""
    w = drivetrain.motor_speed(vehicle_speed, lim.gear_ratio, lim.wheel_radius)
    torque = drivetrain.motor_torque_limit(w, lim.motor_peak_power, lim.motor_peak_torque)
    return np.asarray(np.minimum(torque * w, lim.regen_max_power), dtype=float)


@dataclass(frozen=True)
class Form:
    """One parameterisation of road load.

    Attributes
    ----------
    names : tuple of str
        Parameter names, in vector order; the last three are always
        ``drive_efficiency``, ``regen_efficiency``, ``auxiliary_power``.
    units : tuple of str
    coastdown : callable
        ``(theta, lim) -> (A [N], B [N s m-1], C [N s2 m-2], mass [kg])``.
    prior_mean : callable
        ``spec -> theta``.
    prior_std : callable
        ``theta_prior -> default prior standard deviations``.
    bounds : callable
        ``theta_prior -> (lower, upper)``.
    update : callable
        ``(spec, theta) -> dict of VehicleSpec field changes``.
    """

    names: tuple[str, ...]
    units: tuple[str, ...]
    coastdown: Callable[[FloatArray, Limits], tuple[float, float, float, float]]
    prior_mean: Callable[[VehicleSpec], FloatArray]
    prior_std: Callable[[FloatArray], FloatArray]
    bounds: Callable[[FloatArray], tuple[FloatArray, FloatArray]]
    update: Callable[[VehicleSpec, FloatArray], dict[str, float | None]]


# -- common tail: efficiencies and auxiliary load --------------------------
_TAIL_NAMES = ("drive_efficiency", "regen_efficiency", "auxiliary_power")
_TAIL_UNITS = ("1", "1", "W")


def _tail_prior(spec: VehicleSpec) -> list[float]:
    # Motor losses are modelled apart (prior spec), so eta_d is the gearbox's;
    # regeneration also loses the share of braking left to the friction brakes.
    eta = spec.gearbox_efficiency
    return [eta, spec.effective_regen_axle_share * eta, spec.auxiliary_power]


def _tail_std(theta: FloatArray) -> list[float]:
    return [0.02, 0.15, max(0.5 * theta[-1], 200.0)]


def _tail_bounds(theta: FloatArray) -> tuple[list[float], list[float]]:
    return [0.5, 0.02, 0.0], [1.0, 1.0, 5000.0]


def _tail_update(theta: FloatArray) -> dict[str, float]:
    eta_d, eta_r, aux = (float(x) for x in theta[-3:])
    gearbox = min(max(eta_d, 0.8), 1.0)
    return {
        "gearbox_efficiency": gearbox,
        "regen_axle_share": min(max(eta_r / gearbox, 0.0), 1.0),
        "auxiliary_power": min(max(aux, 0.0), 5000.0),
    }


# -- physical form: mass, CdA, Crr ------------------------------------------
def _physical_coastdown(theta: FloatArray, lim: Limits) -> tuple[float, float, float, float]:
    mass, cda, crr = theta[0], theta[1], theta[2]
    return mass * GRAVITY * crr, 0.0, 0.5 * lim.air_density * cda, mass


def _physical_prior(spec: VehicleSpec) -> FloatArray:
    if spec.road_load_form == "physical":
        assert spec.drag_coefficient is not None and spec.frontal_area is not None
        assert spec.rolling_resistance_coefficient is not None
        cda = spec.drag_coefficient * spec.frontal_area
        crr = spec.rolling_resistance_coefficient
    else:
        a, _, c = spec.effective_coastdown
        cda = 2.0 * c / spec.air_density
        crr = a / (spec.test_mass * GRAVITY)
    return np.array([spec.test_mass, cda, crr, *_tail_prior(spec)])


def _physical_std(theta: FloatArray) -> FloatArray:
    return np.array([0.10 * theta[0], 0.15 * theta[1], 0.25 * theta[2], *_tail_std(theta)])


def _physical_bounds(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    lo, hi = _tail_bounds(theta)
    return (np.array([300.0, 0.05, 0.001, *lo]), np.array([40000.0, 15.0, 0.05, *hi]))


def _physical_update(spec: VehicleSpec, theta: FloatArray) -> dict[str, float | None]:
    area = spec.frontal_area or 2.3
    return {
        "coastdown_a": None,
        "coastdown_b": None,
        "coastdown_c": None,
        "test_mass": float(theta[0]),
        "frontal_area": float(area),
        "drag_coefficient": float(min(max(theta[1] / area, 0.1), 1.5)),
        "rolling_resistance_coefficient": float(min(max(theta[2], 0.003), 0.03)),
        **_tail_update(theta),
    }


# -- coast-down form: mass, A, B, C ----------------------------------------
def _coast_coastdown(theta: FloatArray, lim: Limits) -> tuple[float, float, float, float]:
    return theta[1], theta[2], theta[3], theta[0]


def _coast_prior(spec: VehicleSpec) -> FloatArray:
    a, b, c = spec.effective_coastdown
    return np.array([spec.test_mass, a, b, c, *_tail_prior(spec)])


def _coast_std(theta: FloatArray) -> FloatArray:
    return np.array([0.10 * theta[0], 0.25 * theta[1], max(0.5 * abs(theta[2]), 2.0), 0.15 * theta[3],
                     *_tail_std(theta)])


def _coast_bounds(theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    lo, hi = _tail_bounds(theta)
    return (np.array([300.0, 0.0, -200.0, 0.0, *lo]), np.array([40000.0, 5000.0, 500.0, 20.0, *hi]))


def _coast_update(spec: VehicleSpec, theta: FloatArray) -> dict[str, float | None]:
    return {
        "test_mass": float(theta[0]),
        "coastdown_a": float(max(theta[1], 0.0)),
        "coastdown_b": float(theta[2]),
        "coastdown_c": float(max(theta[3], 0.0)),
        **_tail_update(theta),
    }


FORMS: Mapping[str, Form] = {
    "physical": Form(
        ("test_mass", "drag_area", "rolling_resistance_coefficient", *_TAIL_NAMES),
        ("kg", "m2", "1", *_TAIL_UNITS),
        _physical_coastdown, _physical_prior, _physical_std, _physical_bounds, _physical_update,
    ),
    "coastdown": Form(
        ("test_mass", "coastdown_a", "coastdown_b", "coastdown_c", *_TAIL_NAMES),
        ("kg", "N", "N s m-1", "N s2 m-2", *_TAIL_UNITS),
        _coast_coastdown, _coast_prior, _coast_std, _coast_bounds, _coast_update,
    ),
}
"""Road-load parameterisations by name (the registry behind ``form=``)."""


def wheel_power(theta: FloatArray, form: Form, x: Inputs, lim: Limits) -> FloatArray:
    r"""Tractive power at the wheels [W], positive driving.

    .. math:: P_w = \left[A + Bv + C\,\frac{\rho(T)}{\rho_0}\,v^2
              + m g \sin(\arctan\gamma) + m(1 + f_{rot})\,a\right] v
    """
    a, b, c, mass = form.coastdown(theta, lim)
    v = x.vehicle_speed
    force = (
        road_load.coastdown_force(v, a, b, 0.0)
        + c * x.air_density_ratio * v * v
        + road_load.grade_force(mass, x.road_grade)
        + road_load.inertial_force(mass, x.acceleration, lim.rotating_mass_factor)
    )
    return np.asarray(force * v, dtype=float)


def battery_power(theta: FloatArray, form: Form, x: Inputs, lim: Limits) -> FloatArray:
    r"""Battery terminal power [W] the model predicts, positive discharging.

    .. math:: P_s = \frac{P_w^+}{\eta_d}
              - \min\!\left(\eta_r f(v) P_w^-,\ P_{regen,max}(v)\right),\qquad
              P_b = P_s + P_{motor}\!\left(|P_s|/\omega, \omega\right) + P_{aux}

    with :math:`P_w^\pm` the positive and negative parts of wheel power,
    :math:`f(v)` the low-speed regeneration fade, :math:`\omega` the motor
    speed and :math:`P_{motor}` the motor and inverter loss of
    :func:`twinloop.physics.drivetrain.motor_loss` with the prior spec's
    coefficients. :math:`\eta_d` is then the gearbox efficiency and
    :math:`\eta_r` the gearbox efficiency times the share of braking left to
    the motor.
    """
    eta_d, eta_r, aux = theta[-3], theta[-2], theta[-1]
    v = x.vehicle_speed
    pw = wheel_power(theta, form, x, lim)
    fade = drivetrain.regen_fraction(v, 1.0, lim.regen_fade_speed_low, lim.regen_fade_speed_high)
    shaft = np.maximum(pw, 0.0) / eta_d + np.maximum(eta_r * fade * np.minimum(pw, 0.0), -regen_limit(v, lim))
    w = drivetrain.motor_speed(v, lim.gear_ratio, lim.wheel_radius)
    # Loss coefficients are fractions of the rated power, at the rated torque (as in the simulator).
    rated_torque = lim.motor_peak_torque * lim.motor_rated_power / lim.motor_peak_power
    loss = drivetrain.motor_loss(np.abs(shaft) / np.maximum(w, 1e-3), w, lim.motor_rated_power,
                                 rated_torque, lim.copper_loss, lim.iron_loss,
                                 lim.windage_loss, lim.constant_loss)
    return np.asarray(np.maximum(shaft + loss + aux, -lim.battery_max_charge_power), dtype=float)
