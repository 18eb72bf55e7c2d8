"""Drivetrain: gearbox, motor + inverter losses, torque and power limits, regeneration.

The motor and inverter are described by a physically based loss model
(copper, iron, windage and constant losses) scaled by the motor's peak power,
so one set of normalised coefficients describes a family of machines.

References
----------
.. [1] Larminie, J. and Lowry, J. (2012). Electric Vehicle Technology
   Explained, 2nd ed., Wiley, section 7.2.4. doi:10.1002/9781118361146
.. [2] Gao, Y., Chen, L. and Ehsani, M. (1999). Investigation of the
   Effectiveness of Regenerative Braking for EV and HEV. SAE 1999-01-2910.
   doi:10.4271/1999-01-2910
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F

__all__ = [
    "gearbox_input_power",
    "motor_base_speed",
    "motor_electric_power",
    "motor_loss",
    "motor_speed",
    "motor_torque_limit",
    "regen_fraction",
]


def motor_speed(vehicle_speed: F, gear_ratio: F, wheel_radius: F) -> F:
    r"""Motor angular speed [rad s-1] from vehicle speed.

    Parameters
    ----------
    vehicle_speed : array_like
        [m s-1].
    gear_ratio : array_like
        Overall reduction, motor to wheel [1].
    wheel_radius : array_like
        Dynamic rolling radius [m].

    Notes
    -----
    .. math:: \omega = v\, i_g / r_w

    Examples
    --------
    >>> round(float(motor_speed(20.0, 9.0, 0.34)), 1)
    529.4
    """
    return vehicle_speed * gear_ratio / wheel_radius


def motor_base_speed(motor_peak_power: F, motor_peak_torque: F) -> F:
    """Corner (base) speed [rad s-1] where peak torque meets peak power.

    Parameters
    ----------
    motor_peak_power : array_like
        [W].
    motor_peak_torque : array_like
        [N m], > 0.

    Examples
    --------
    >>> float(motor_base_speed(150e3, 400.0))
    375.0
    """
    return motor_peak_power / motor_peak_torque


def motor_torque_limit(speed: F, motor_peak_power: F, motor_peak_torque: F) -> F:
    r"""Largest torque [N m] the motor gives at `speed` [rad s-1].

    Parameters
    ----------
    speed : array_like
        Shaft speed [rad s-1], either direction.
    motor_peak_power, motor_peak_torque : array_like
        Ratings [W], [N m].

    Notes
    -----
    .. math:: T_{max}(\omega) = \min(T_{peak}, P_{peak} / |\omega|)

    Examples
    --------
    >>> float(motor_torque_limit(750.0, 150e3, 400.0))
    200.0
    """
    return np.minimum(motor_peak_torque, motor_peak_power / np.maximum(np.abs(speed), 1e-3))


def gearbox_input_power(wheel_power: F, gearbox_efficiency: F) -> F:
    r"""Power at the motor shaft [W] for a power at the wheels [W].

    Parameters
    ----------
    wheel_power : array_like
        [W]; negative when braking (power flows back to the motor).
    gearbox_efficiency : array_like
        [1], in (0, 1].

    Notes
    -----
    Losses scale with transmitted power in both directions:

    .. math:: P_{shaft} = \max(P_w, 0)/\eta_g + \min(P_w, 0)\,\eta_g

    Examples
    --------
    >>> float(gearbox_input_power(970.0, 0.97)), float(gearbox_input_power(-1000.0, 0.97))
    (1000.0, -970.0)
    """
    return np.maximum(wheel_power, 0.0) / gearbox_efficiency + np.minimum(wheel_power, 0.0) * gearbox_efficiency


def motor_loss(
    torque: F,
    speed: F,
    motor_peak_power: F,
    motor_peak_torque: F,
    copper_loss: F = 0.06,
    iron_loss: F = 0.008,
    windage_loss: F = 0.0015,
    constant_loss: F = 0.003,
) -> F:
    r"""Motor and inverter power loss [W].

    Parameters
    ----------
    torque : array_like
        Shaft torque [N m]; sign ignored (motoring or generating).
    speed : array_like
        Shaft speed [rad s-1]; sign ignored (either direction of rotation).
    motor_peak_power, motor_peak_torque : array_like
        Ratings [W], [N m], which set the normalisation.
    copper_loss, iron_loss, windage_loss, constant_loss : array_like
        Normalised loss coefficients [1], as fractions of peak power.

    Notes
    -----
    With :math:`\tau = T/T_{peak}` and :math:`w = \omega/\omega_{base}`,
    :math:`\omega_{base} = P_{peak}/T_{peak}`, the loss of [1]_ reads

    .. math:: P_{loss} = P_{peak}\,(k_c \tau^2 + k_i |w| + k_w |w|^3 + k_0 \min(|w| / 0.01, 1))

    Copper loss grows with torque squared, iron loss with speed, windage with
    speed cubed; the constant covers inverter switching and control. The
    constant loss is not drawn at standstill: it ramps in over the first 1 %
    of the base speed. The loss is >= 0 for either sign of torque and speed.

    Examples
    --------
    >>> round(float(motor_loss(100.0, 400.0, 150e3, 400.0)), 1)
    2565.6
    """
    tau = torque / motor_peak_torque
    w = np.abs(speed) * motor_peak_torque / motor_peak_power  # losses do not depend on the direction
    spinning = np.minimum(w / 0.01, 1.0)
    return motor_peak_power * (copper_loss * tau * tau + iron_loss * w + windage_loss * w * w * w + constant_loss * spinning)


def motor_electric_power(shaft_power: F, loss: F) -> F:
    r"""Electric power at the inverter DC side [W]; negative when regenerating.

    Parameters
    ----------
    shaft_power : array_like
        Mechanical power at the motor shaft [W], negative when generating.
    loss : array_like
        Motor and inverter loss [W], >= 0 (:func:`motor_loss`).

    Notes
    -----
    .. math:: P_{el} = P_{shaft} + P_{loss}

    The loss adds to the draw when motoring and subtracts from the recovered
    power when generating.

    Examples
    --------
    >>> float(motor_electric_power(-10000.0, 800.0))
    -9200.0
    """
    return shaft_power + loss


def regen_fraction(vehicle_speed: F, regen_axle_share: F, fade_speed_low: F = 1.0, fade_speed_high: F = 4.0) -> F:
    r"""Share of braking energy the motor may take back [1].

    Parameters
    ----------
    vehicle_speed : array_like
        [m s-1].
    regen_axle_share : array_like
        Share of the braking force on the motored axle(s) that the brake
        controller leaves to the motor [1].
    fade_speed_low, fade_speed_high : array_like
        Regeneration fades linearly to zero between these speeds [m s-1];
        ``fade_speed_high <= fade_speed_low`` (within 1e-9 m/s) gives a step
        at `fade_speed_low` rather than a division by zero.

    Notes
    -----
    .. math:: f = s_{axle} \cdot \mathrm{clip}\left(\frac{v - v_{lo}}{v_{hi} - v_{lo}}, 0, 1\right)

    Power and torque limits are applied by the caller, see [2]_.

    Examples
    --------
    >>> float(regen_fraction(2.5, 0.8))
    0.4
    """
    width = np.maximum(fade_speed_high - fade_speed_low, 1e-9)  # a zero-width fade is a step, not 0/0
    ramp = np.minimum(np.maximum((vehicle_speed - fade_speed_low) / width, 0.0), 1.0)
    return regen_axle_share * ramp
