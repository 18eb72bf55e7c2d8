"""Cabin climate: HVAC heating and cooling load against ambient and sun.

The cabin is a single thermal mass exchanging heat with ambient through a
conductance (envelope plus ventilation air). The climate controller feeds
forward the steady-state load and corrects the cabin temperature towards its
set point with a first-order response, within the heater and A/C capacity.

References
----------
.. [1] Kambly, K. R. and Bradley, T. H. (2014). Estimating the HVAC energy
   consumption of plug-in electric vehicles. J. Power Sources 259, 117-124.
   doi:10.1016/j.jpowsour.2014.02.033
"""

from __future__ import annotations

import numpy as np

from twinloop._internal.typing import F

__all__ = ["cabin_temperature_step", "heat_pump_cop", "hvac_electric_power", "hvac_heat_demand", "recovered_waste_heat"]


def hvac_heat_demand(
    cabin_temperature: F,
    ambient_temperature: F,
    cabin_setpoint: F,
    cabin_conductance: F,
    cabin_heat_capacity: F,
    max_heating: F,
    max_cooling: F,
    solar_load: F = 0.0,
    response_time: F = 300.0,
) -> F:
    r"""Heat the HVAC puts into the cabin [W]; negative when cooling.

    Parameters
    ----------
    cabin_temperature, ambient_temperature, cabin_setpoint : array_like
        [K].
    cabin_conductance : array_like
        Envelope and ventilation conductance UA [W K-1].
    cabin_heat_capacity : array_like
        Cabin air and interior heat capacity [J K-1].
    max_heating, max_cooling : array_like
        Thermal capacities [W] (both positive).
    solar_load : array_like, default 0
        Solar and occupant heat gain [W].
    response_time : array_like, default 300
        Time constant of the set-point correction [s], > 0.

    Notes
    -----
    .. math:: \dot Q = UA (T_{set} - T_{amb}) - \dot Q_{sun} + C (T_{set} - T)/\tau,
        \quad -\dot Q_{c,max} \le \dot Q \le \dot Q_{h,max}

    The first two terms hold the cabin at its set point in the balance of
    :func:`cabin_temperature_step`; the last closes the gap with time constant
    :math:`\tau`. There is no dead band: just above the set point in cold
    weather the demand turns slightly negative (cooling).

    Examples
    --------
    >>> float(hvac_heat_demand(294.15, 266.15, 294.15, 100.0, 5e4, 6000.0, 5000.0))
    2800.0
    """
    q = (
        cabin_conductance * (cabin_setpoint - ambient_temperature)
        - solar_load
        + cabin_heat_capacity * (cabin_setpoint - cabin_temperature) / response_time
    )
    return np.minimum(np.maximum(q, -max_cooling), max_heating)


def heat_pump_cop(ambient_temperature: F, cop_at_280k: F, cop_slope: F = 0.05, cop_min: F = 1.0) -> F:
    r"""Heating coefficient of performance of a heat pump [1].

    Parameters
    ----------
    ambient_temperature : array_like
        [K].
    cop_at_280k : array_like
        COP at 280 K ambient [1], > 0.
    cop_slope : array_like, default 0.05
        Change of COP per kelvin of ambient [K-1].
    cop_min : array_like, default 1
        Floor [1], > 0 (1: resistive back-up).

    A linear fall with colder ambient, floored at `cop_min` (a resistive
    heater backs the heat pump up). Set ``cop_at_280k=1, cop_slope=0`` for a
    resistive (PTC) heater.

    Notes
    -----
    .. math:: COP = \max(COP_{min}, COP_{280} + s (T_{amb} - 280\,\mathrm{K}))

    Examples
    --------
    >>> round(float(heat_pump_cop(266.15, 2.5)), 3)
    1.807
    """
    return np.maximum(cop_min, cop_at_280k + cop_slope * (ambient_temperature - 280.0))


def hvac_electric_power(heat_demand: F, cop_heating: F, cop_cooling: F) -> F:
    r"""Electric power [W] for a cabin heat demand [W] (negative = cooling).

    Parameters
    ----------
    heat_demand : array_like
        Heat into the cabin [W], negative when cooling.
    cop_heating, cop_cooling : array_like
        Coefficients of performance [1], > 0.

    Notes
    -----
    .. math:: P = \max(\dot Q, 0)/COP_h + \max(-\dot Q, 0)/COP_c \ge 0

    Examples
    --------
    >>> float(hvac_electric_power(3000.0, 2.0, 2.5)), float(hvac_electric_power(-2500.0, 2.0, 2.5))
    (1500.0, 1000.0)
    """
    return np.maximum(heat_demand, 0.0) / cop_heating + np.maximum(-heat_demand, 0.0) / cop_cooling


def recovered_waste_heat(heat_demand: F, waste_heat: F, recovery_share: F) -> F:
    r"""Cabin heat [W] taken from drivetrain losses instead of from the heater.

    Motor, inverter and gearbox losses end up in their coolant; a thermal
    system that can route that coolant through the cabin heat exchanger (or
    use it as the heat pump's source) covers part of the heating load with
    them. Only heating demand is covered, and never more than the share of
    the waste heat that reaches the cabin; the rest of the load is left to
    the heater, whose electric power follows from
    :func:`hvac_electric_power`.

    Parameters
    ----------
    heat_demand : array_like
        Heat the cabin needs [W]; negative (cooling) takes no waste heat.
    waste_heat : array_like
        Drivetrain losses [W] (motor, inverter, gearbox).
    recovery_share : array_like
        Share of the waste heat that reaches the cabin [1], 0 (none, most
        resistive systems) to 1 (all of it, an integrated heat pump loop).

    Notes
    -----
    .. math:: \dot Q_{rec} = \min(\max(\dot Q, 0),\ f\,\max(P_{loss}, 0)),
        \qquad P_{hvac} = \frac{\dot Q - \dot Q_{rec}}{COP}

    Modelled as a direct transfer: heat recovered at the coolant's
    temperature is not also pumped up by the heat pump. The coolant loop's
    own heat capacity (the time it takes to warm) is not modelled, so in the
    first minutes of a cold start the recovery is overstated.

    Examples
    --------
    >>> float(recovered_waste_heat(3000.0, 800.0, 0.5)), float(recovered_waste_heat(300.0, 800.0, 1.0))
    (400.0, 300.0)
    >>> float(recovered_waste_heat(-2000.0, 800.0, 1.0))
    0.0
    """
    return np.minimum(np.maximum(heat_demand, 0.0), recovery_share * np.maximum(waste_heat, 0.0))


def cabin_temperature_step(
    cabin_temperature: F,
    heat_demand: F,
    ambient_temperature: F,
    cabin_conductance: F,
    cabin_heat_capacity: F,
    time_step: F,
    solar_load: F = 0.0,
) -> F:
    r"""Cabin temperature [K] after one step of `time_step` [s] (forward Euler).

    Parameters
    ----------
    cabin_temperature, ambient_temperature : array_like
        [K].
    heat_demand : array_like
        HVAC heat into the cabin over the step [W], negative when cooling.
    cabin_conductance : array_like
        UA [W K-1].
    cabin_heat_capacity : array_like
        C [J K-1], > 0.
    time_step : array_like
        [s].
    solar_load : array_like, default 0
        Solar and occupant heat gain [W].

    Notes
    -----
    .. math:: C \dot T = \dot Q + \dot Q_{sun} - UA (T - T_{amb})

    Stable (no overshoot of the balance temperature) while
    :math:`UA\,\Delta t / C \le 1`. The error of a step against the exact
    exponential solution is about :math:`(UA\,\Delta t / C)^2 / 2` of the
    distance to the balance temperature: about 1e-6 for a cabin's time
    constant :math:`C/UA` of some 10 minutes and 1 s steps.

    Examples
    --------
    >>> round(float(cabin_temperature_step(266.15, 6000.0, 266.15, 100.0, 5e4, 1.0)), 3)
    266.27
    """
    net = heat_demand + solar_load - cabin_conductance * (cabin_temperature - ambient_temperature)
    return cabin_temperature + time_step * net / cabin_heat_capacity
