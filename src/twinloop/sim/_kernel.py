"""The compiled time-stepping kernel.

The physics functions of :mod:`twinloop.physics` are compiled here as they are
(they use only ufuncs and arithmetic); the kernel only orders them in time and
keeps the books. One loop over vehicles (parallel) and time serves a single
vehicle and a fleet alike.
"""

from __future__ import annotations

import hashlib
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

import numba
import numpy as np
from numba.core.caching import FunctionCache

from twinloop import conventions
from twinloop.conventions import TRACE_MISS_TOLERANCE
from twinloop.physics import cabin, drivetrain, road_load
from twinloop.physics.battery import ecm, ocv, thermal
from twinloop.sim import _layout
from twinloop.sim._layout import P, S, T

__all__ = ["run_kernel"]

#: Modules whose code the kernel inlines: a change to any of them must recompile it.
_INLINED: tuple[ModuleType, ...] = (conventions, road_load, drivetrain, cabin, ecm, ocv, thermal, _layout)


def _inlined_digest() -> str:
    """SHA-256 of the source of every module the kernel inlines."""
    h = hashlib.sha256()
    for module in _INLINED:
        h.update(Path(inspect.getfile(module)).read_bytes())
    return h.hexdigest()


class _KernelCache(FunctionCache):
    """numba's on-disk cache of the kernel, keyed also by the physics it inlines.

    numba checks only the kernel's own file for changes, so an edit of
    :mod:`twinloop.physics` alone would keep serving the old compiled kernel.
    """

    digest = _inlined_digest()

    def _index_key(self, sig: Any, codegen: Any) -> tuple[Any, ...]:
        return (*super()._index_key(sig, codegen), self.digest)


_jit = numba.njit(cache=True, inline="always")

_coastdown_force = _jit(road_load.coastdown_force)
_grade_force = _jit(road_load.grade_force)
_inertial_force = _jit(road_load.inertial_force)
_motor_speed = _jit(drivetrain.motor_speed)
_torque_limit = _jit(drivetrain.motor_torque_limit)
_gearbox_input_power = _jit(drivetrain.gearbox_input_power)
_motor_loss = _jit(drivetrain.motor_loss)
_regen_fraction = _jit(drivetrain.regen_fraction)
_heat_demand = _jit(cabin.hvac_heat_demand)
_heat_pump_cop = _jit(cabin.heat_pump_cop)
_hvac_power = _jit(cabin.hvac_electric_power)
_recovered_heat = _jit(cabin.recovered_waste_heat)
_cabin_step = _jit(cabin.cabin_temperature_step)
_current_for_power = _jit(ecm.current_for_power)
_rc_step = _jit(ecm.rc_voltage_step)
_soc_step = _jit(ecm.state_of_charge_step)
_max_discharge_power = _jit(ecm.max_discharge_power)
_arrhenius = _jit(ocv.arrhenius_factor)
_heat_generation = _jit(thermal.heat_generation)
_thermal_step = _jit(thermal.lumped_temperature_step)

N_TOTALS = len(T)
N_SERIES = len(S)


@_jit
def _ocv(soc, table):
    """Scalar twin of :func:`twinloop.physics.battery.ocv.open_circuit_voltage`."""
    k = table.shape[0]
    x = min(max(soc, 0.0), 1.0) * (k - 1)
    i = min(int(x), k - 2)
    return table[i] + (x - i) * (table[i + 1] - table[i])


@_jit
def _drive(p, v_prev, v_new, grade, dt):
    """Forces and powers for moving from `v_prev` to `v_new` in `dt`.

    Returns wheel power, motor torque, motor speed, shaft power and the
    resistive force components, all at the step's mean speed.
    """
    v = 0.5 * (v_prev + v_new)
    accel = (v_new - v_prev) / dt
    mass = p[P.mass]
    f_roll = _coastdown_force(v, p[P.coastdown_a], p[P.coastdown_b], 0.0)
    f_aero = p[P.coastdown_c] * v * v
    f_grade = _grade_force(mass, grade)
    f_inertia = _inertial_force(mass, accel, p[P.rotating_mass_factor])
    wheel_power = (f_roll + f_aero + f_grade + f_inertia) * v
    speed = _motor_speed(v, p[P.gear_ratio], p[P.wheel_radius])
    return v, wheel_power, speed, f_roll, f_aero, f_grade, f_inertia


@_jit
def _rated_torque(p):
    """Torque [N m] at the rated power and the peak-torque corner speed (normalises copper loss)."""
    return p[P.motor_peak_torque] * p[P.motor_rated_power] / p[P.motor_peak_power]


@_jit
def _traction_electric(p, wheel_power, speed):
    """Electric power [W] and shaft torque for a wheel power >= 0."""
    shaft = _gearbox_input_power(wheel_power, p[P.gearbox_efficiency])
    torque = shaft / max(speed, 1e-3)
    loss = _motor_loss(
        torque, speed, p[P.motor_rated_power], _rated_torque(p),
        p[P.copper_loss], p[P.iron_loss], p[P.windage_loss], p[P.constant_loss],
    )
    return shaft + loss, torque, loss, shaft - wheel_power


@numba.njit(parallel=True)
def run_kernel(params, ocv_tables, speed, grade, dt, record):
    """Simulate every vehicle (row of `params`) over one trace.

    Parameters
    ----------
    params : ndarray, shape (n, len(P))
    ocv_tables : ndarray, shape (n, k)
    speed, grade : ndarray, shape (T,)
        Target speed [m s-1] and grade [1] on a uniform grid of step `dt` [s].
    record : bool
        Whether to fill the time series.

    Returns
    -------
    totals : ndarray, shape (n, len(T))
    final : ndarray, shape (n, 3)
        State of charge, battery and cabin temperature at the end.
    series : ndarray, shape (n, len(S), steps) or (n, len(S), 0)
    """
    n = params.shape[0]
    steps = speed.shape[0]
    totals = np.zeros((n, N_TOTALS))
    final = np.zeros((n, 3))
    series = np.zeros((n, N_SERIES, steps if record else 0))
    for i in numba.prange(n):
        p = params[i]
        table = ocv_tables[i]
        tot = totals[i]
        t_amb = p[P.ambient_temperature]
        soc = p[P.soc_start]
        t_batt = p[P.battery_temperature_start]
        t_cab = p[P.cabin_temperature_start]
        v_rc = 0.0
        v_prev = speed[0]
        waste = 0.0  # drivetrain losses of the previous step [W], a heat source for the cabin
        hvac_on = p[P.hvac_on]
        cop_heat = _heat_pump_cop(t_amb, p[P.hvac_cop_at_280k], p[P.hvac_cop_slope], 1.0)
        tau_rc = p[P.battery_rc_resistance] * p[P.battery_rc_capacitance]
        for k in range(1, steps):
            target = speed[k]
            g = 0.5 * (grade[k - 1] + grade[k])
            # -- climate: heat demand this step (state from the previous step)
            q = hvac_on * _heat_demand(
                t_cab, t_amb, p[P.cabin_setpoint], p[P.cabin_conductance],
                p[P.cabin_heat_capacity], p[P.hvac_max_heating], p[P.hvac_max_cooling],
                p[P.solar_load], 300.0,
            )
            q_rec = _recovered_heat(q, waste, p[P.hvac_waste_heat_share])
            p_hvac = _hvac_power(q - q_rec, cop_heat, p[P.hvac_cop_cooling])
            p_aux = p[P.auxiliary_power]
            # -- battery state and limits
            r0 = p[P.battery_ohmic_resistance] * _arrhenius(t_batt, p[P.battery_activation_temperature], 298.15)
            u_oc = _ocv(soc, table)
            p_dis = min(
                p[P.battery_max_discharge_power],
                _max_discharge_power(u_oc, v_rc, r0, p[P.battery_minimum_voltage]),
            )
            if soc <= 0.0:
                p_dis = 0.0
            p_chg = p[P.battery_max_charge_power] if soc < 1.0 else 0.0
            # loads get what the battery can give: auxiliaries first, then climate
            p_aux = min(p_aux, p_dis)
            p_hvac_wanted = p_hvac
            p_hvac = min(p_hvac, p_dis - p_aux)
            if p_hvac_wanted > 0.0:
                q = q_rec + (q - q_rec) * p_hvac / p_hvac_wanted
            p_avail = p_dis - p_aux - p_hvac
            # -- follow the trace, or as close as the limits allow
            v, p_wheel, w, f_roll, f_aero, f_grade, f_inert = _drive(p, v_prev, target, g, dt)
            t_max = _torque_limit(w, p[P.motor_peak_power], p[P.motor_peak_torque])
            v_new = target
            if p_wheel > 0.0:
                p_elec, torque, m_loss, gb_loss = _traction_electric(p, p_wheel, w)
                if torque > t_max or p_elec > p_avail:
                    lo = 0.0
                    hi = target
                    for _ in range(40):
                        mid = 0.5 * (lo + hi)
                        v, p_wheel, w, f_roll, f_aero, f_grade, f_inert = _drive(p, v_prev, mid, g, dt)
                        t_max = _torque_limit(w, p[P.motor_peak_power], p[P.motor_peak_torque])
                        p_elec, torque, m_loss, gb_loss = _traction_electric(p, max(p_wheel, 0.0), w)
                        if torque > t_max or p_elec > p_avail:
                            hi = mid
                        else:
                            lo = mid
                    v_new = lo
                    v, p_wheel, w, f_roll, f_aero, f_grade, f_inert = _drive(p, v_prev, v_new, g, dt)
                    p_elec, torque, m_loss, gb_loss = _traction_electric(p, max(p_wheel, 0.0), w)
                friction = 0.0
                if p_wheel < 0.0:  # the limited step turned into braking
                    friction = -p_wheel
                    p_elec, torque, m_loss, gb_loss = _traction_electric(p, 0.0, w)
            else:
                # braking: the motor takes what axle share, fade, torque and power allow
                share = _regen_fraction(v, p[P.regen_axle_share], p[P.regen_fade_speed_low], p[P.regen_fade_speed_high])
                regen_wheel = p_wheel * share
                shaft = _gearbox_input_power(regen_wheel, p[P.gearbox_efficiency])
                shaft = max(shaft, -t_max * w, -p[P.regen_max_power])
                regen_wheel = shaft / p[P.gearbox_efficiency]
                gb_loss = shaft - regen_wheel
                torque = -shaft / max(w, 1e-3)
                m_loss = _motor_loss(
                    torque, w, p[P.motor_rated_power], _rated_torque(p),
                    p[P.copper_loss], p[P.iron_loss], p[P.windage_loss], p[P.constant_loss],
                )
                p_elec = shaft + m_loss
                friction = regen_wheel - p_wheel
            if p_elec > p_avail:
                # The battery cannot even feed the motor's own losses (empty, cold, or a
                # machine far too lossy): the inverter shuts down and the car coasts.
                if p_wheel > 0.0:
                    lo = 0.0
                    hi = v_new
                    for _ in range(40):
                        mid = 0.5 * (lo + hi)
                        v, p_wheel, w, f_roll, f_aero, f_grade, f_inert = _drive(p, v_prev, mid, g, dt)
                        if p_wheel > 0.0:
                            hi = mid
                        else:
                            lo = mid
                    v_new = lo
                    v, p_wheel, w, f_roll, f_aero, f_grade, f_inert = _drive(p, v_prev, v_new, g, dt)
                    if p_wheel > 0.0:
                        # it rolls to a stop within the step: rolling resistance acts only
                        # until then, so it takes no more than the kinetic energy released
                        f_roll -= p_wheel / max(v, 1e-12)
                        p_wheel = 0.0
                friction = max(-p_wheel, 0.0)
                p_elec = 0.0
                m_loss = 0.0
                gb_loss = 0.0
            # -- battery: terminal power, clipped to what it can take or give
            p_batt = p_elec + p_aux + p_hvac
            if p_batt < -p_chg:
                friction += -p_chg - p_batt
                p_batt = -p_chg
            current = _current_for_power(p_batt, u_oc, v_rc, r0)
            v_term = u_oc - v_rc - r0 * current
            heat = _heat_generation(current, u_oc, v_term, t_batt, 0.0)
            # -- books
            tot[T.aerodynamic] += f_aero * v * dt
            tot[T.rolling] += f_roll * v * dt
            tot[T.grade] += f_grade * v * dt
            tot[T.kinetic_change] += f_inert * v * dt
            tot[T.friction_braking] += friction * dt
            tot[T.drivetrain_losses] += (gb_loss + m_loss) * dt
            waste = gb_loss + m_loss
            tot[T.battery_losses] += heat * dt
            tot[T.auxiliary] += p_aux * dt
            tot[T.hvac] += p_hvac * dt
            tot[T.battery_chemical] += u_oc * current * dt
            tot[T.battery_terminal] += v_term * current * dt
            if p_wheel < 0.0:
                tot[T.regeneration_recovered] += max(-(p_elec), 0.0) * dt
            tot[T.distance] += v * dt
            tot[T.target_distance] += 0.5 * (speed[k - 1] + target) * dt
            if target - v_new > TRACE_MISS_TOLERANCE:
                tot[T.trace_missed_time] += dt
            # -- state update
            soc = min(max(_soc_step(soc, current, p[P.battery_capacity], dt, 1.0), 0.0), 1.0)
            v_rc = _rc_step(v_rc, current, p[P.battery_rc_resistance], p[P.battery_rc_capacitance], dt) if tau_rc > 0.0 else 0.0
            if p[P.battery_thermal_on] > 0.0:
                t_batt = _thermal_step(t_batt, heat, t_amb, p[P.battery_heat_capacity], p[P.battery_heat_transfer], dt)
            t_cab = _cabin_step(t_cab, q, t_amb, p[P.cabin_conductance], p[P.cabin_heat_capacity], dt, p[P.solar_load])
            v_prev = v_new
            if record:
                s = series[i]
                s[S.vehicle_speed, k] = v_new
                s[S.battery_power, k] = p_batt
                s[S.battery_current, k] = current
                s[S.battery_voltage, k] = v_term
                s[S.state_of_charge, k] = soc
                s[S.battery_temperature, k] = t_batt
                s[S.cabin_temperature, k] = t_cab
                s[S.hvac_power, k] = p_hvac
                s[S.motor_power, k] = p_elec
                s[S.friction_brake_power, k] = friction
        final[i, 0] = soc
        final[i, 1] = t_batt
        final[i, 2] = t_cab
        if record:
            s = series[i]
            s[S.vehicle_speed, 0] = speed[0]
            s[S.state_of_charge, 0] = p[P.soc_start]
            s[S.battery_temperature, 0] = p[P.battery_temperature_start]
            s[S.cabin_temperature, 0] = p[P.cabin_temperature_start]
            s[S.battery_voltage, 0] = _ocv(p[P.soc_start], table)
    return totals, final, series


run_kernel._cache = _KernelCache(run_kernel.py_func)  # type: ignore[attr-defined]  # cache=True, physics in the key
