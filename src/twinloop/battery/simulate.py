"""Run an identified cell model over a current profile (electrical + lumped thermal).

:func:`simulate` runs arrays; :func:`simulate_profile` runs a measured or
written profile (a :class:`~twinloop.battery.timeseries.TimeSeries`) as a
cycler would, after the checks on its units and sign, stops where a cycler
stops and returns a :class:`ProfileRun` with the output table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.battery import _tables
from twinloop.battery.model import CellModel
from twinloop.battery.timeseries import DEFAULT_TEMPERATURE, TimeSeries
from twinloop.conventions import celsius_to_kelvin, kelvin_to_celsius
from twinloop.errors import DataError, ValidationError
from twinloop.physics.battery import ecm, ocv, thermal

__all__ = ["MAX_PROFILE_SWING", "ProfileRun", "SimulationResult", "Stop", "find_stop", "simulate", "simulate_profile"]

#: Net charge a profile may ask of the cell before its time is taken for ms [capacities]: more than a
#: cell holds is a run that stops at the cut-off, but not a thousand times more.
MAX_PROFILE_SWING = 20.0

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SimulationResult:
    """Simulated cell response at the profile's sample times.

    Every array has shape (n, t): one row per simulated cell.

    Attributes
    ----------
    time : ndarray, shape (t,)
        [s].
    current : ndarray
        [A], positive discharging.
    voltage : ndarray
        Terminal voltage [V].
    state_of_charge : ndarray
        [1]; below 0 means discharged past the identified cut-off (see :func:`find_stop`).
    temperature : ndarray
        Lumped cell temperature [K].
    open_circuit_voltage : ndarray
        [V].
    heat : ndarray
        Heat generated [W].
    """

    time: Array
    current: Array
    voltage: Array
    state_of_charge: Array
    temperature: Array
    open_circuit_voltage: Array
    heat: Array

    def head(self, n: int) -> SimulationResult:
        """The first `n` samples."""
        return SimulationResult(*(a[..., :n] for a in (
            self.time, self.current, self.voltage, self.state_of_charge, self.temperature,
            self.open_circuit_voltage, self.heat,
        )))


@dataclass(frozen=True)
class Stop:
    """Where a cycler ends a run: the first sample outside the cell's limits.

    Attributes
    ----------
    index : int
        That sample; the run reported stops before it.
    time : float
        Its time [s].
    reason : {"cut-off", "empty", "full"}
        The terminal voltage falls below ``voltage_min`` while discharging,
        or the SoC falls below 0, or it passes 1.
    voltage, state_of_charge : float
        [V] and [1] at that sample.
    """

    index: int
    time: float
    reason: str
    voltage: float
    state_of_charge: float

    def reason_text(self, cell: CellModel) -> str:
        """Why the run stops, in words (``"the cell is empty (SoC 0) and the profile goes on discharging"``)."""
        if self.reason == "cut-off":
            return (
                f"the voltage falls to {self.voltage:.3f} V, below the cut-off {cell.voltage_min:g} V, "
                f"at SoC {min(max(self.state_of_charge, 0.0), 1.0):.3f}"
            )
        if self.reason == "empty":
            return "the cell is empty (SoC 0) and the profile goes on discharging"
        return "the cell is full (SoC 1) and the profile goes on charging"


def find_stop(result: SimulationResult, cell: CellModel, cell_index: int = 0) -> Stop | None:
    """The first sample at which a cycler would end the run of one cell, or None if it runs to the end.

    A cycler ends a discharge at the cut-off voltage; past it, or past an
    empty or full cell, the model extrapolates (SoC outside [0, 1]). Report
    ``result.head(stop.index)``.

    Examples
    --------
    >>> from twinloop.battery.model import CellTable
    >>> t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    >>> cell = CellModel(3600.0, (t,), 2.5, 4.2)
    >>> r = simulate(cell, np.arange(0.0, 800.0, 100.0), np.full(8, 3.0), 0.5)
    >>> stop = find_stop(r, cell)
    >>> stop.reason, stop.time, round(stop.state_of_charge, 3), float(r.head(stop.index).time[-1])
    ('empty', 700.0, -0.083, 600.0)
    """
    cells = result.state_of_charge.shape[0]
    if isinstance(cell_index, bool) or not isinstance(cell_index, int | np.integer) or not -cells <= cell_index < cells:
        raise ValidationError("cell_index", f"an integer in [0, {cells - 1}] (the result's rows)", cell_index)
    z = result.state_of_charge[cell_index]
    v = result.voltage[cell_index]
    amps = result.current[cell_index]
    cut_off = (v < cell.voltage_min) & (amps > 0)
    empty = z < -1e-6
    full = z > 1.0 + 1e-6
    out = np.flatnonzero(cut_off | empty | full)
    if not out.size:
        return None
    k = int(out[0])
    reason = "cut-off" if cut_off[k] else "empty" if empty[k] else "full"
    return Stop(k, float(result.time[k]), reason, float(v[k]), float(z[k]))


def _floats(name: str, values: npt.ArrayLike) -> Array:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, "numbers", f"{type(values).__name__} ({exc})") from None


def _per_cell(name: str, value: npt.ArrayLike, n: int, lo: float, hi: float, unit: str) -> Array:
    """`value` broadcast to one per cell (n,), each in [lo, hi], or a ValidationError naming it."""
    a = _floats(name, value)
    if a.ndim > 1 or a.size not in (1, n):
        raise ValidationError(name, f"a number or one per cell ({n}, the rows of current)", f"shape {a.shape}")
    bad = ~((a >= lo) & (a <= hi))
    if bad.any():
        got = float(a.ravel()[np.flatnonzero(bad.ravel())[0]])
        hint = None
        if unit == "K" and -100.0 <= got <= 100.0:
            hint = f"Temperatures are in kelvin: {got:g} degC is {celsius_to_kelvin(got):g} K"
        elif unit.startswith("[1]") and 2.0 <= got <= 100.0:
            hint = f"State of charge is a fraction: {got:g} % is {got / 100:g}"
        raise ValidationError(name, f"a number in [{lo:g}, {hi:g}] {unit}", got, hint=hint)
    return np.broadcast_to(a, (n,)).copy()


def simulate(
    cell: CellModel,
    time: npt.ArrayLike,
    current: npt.ArrayLike,
    state_of_charge: npt.ArrayLike = 1.0,
    ambient_temperature: npt.ArrayLike = DEFAULT_TEMPERATURE,
    temperature: npt.ArrayLike | None = None,
    max_step: float = 10.0,
    entropic_heat: bool = False,
) -> SimulationResult:
    r"""Simulate voltage, SoC and temperature of a cell for a current profile.

    Parameters
    ----------
    cell : CellModel
    time : array_like, shape (t,)
        Sample times [s], strictly increasing.
    current : array_like, shape (t,) or (n, t)
        Current [A], positive discharging, held from one sample to the next.
    state_of_charge : array_like, shape () or (n,)
        Initial SoC [1], in [0, 1].
    ambient_temperature : array_like, shape () or (n,)
        [K], in [173.15, 373.15] (-100 to 100 degC).
    temperature : array_like, shape () or (n,), optional
        Initial cell temperature [K]; defaults to ambient.
    max_step : float, default 10
        Longest internal step [s] (the thermal model is forward Euler).
    entropic_heat : bool, default False
        Add the reversible heat from the OCV's temperature dependence.

    Returns
    -------
    SimulationResult
        Every sample of the profile: the run does *not* stop at the cell's
        limits. Past the cut-off or an empty or full cell the SoC leaves
        [0, 1] and the OCV and resistances hold their values at the table's
        end (an extrapolation). :func:`find_stop` gives where a cycler would
        have ended the run; report ``result.head(stop.index)``.

    Raises
    ------
    ValidationError
        Shapes that do not match, non-finite or non-increasing times, a
        non-finite current, a SoC outside [0, 1] or a temperature outside
        [173.15, 373.15] K (a value in degC or in % is named as such).

    Notes
    -----
    Each internal step applies, in order, the kernels of
    :mod:`twinloop.physics.battery`: :func:`~twinloop.physics.battery.ecm.terminal_voltage`,
    :func:`~twinloop.physics.battery.thermal.heat_generation`,
    :func:`~twinloop.physics.battery.ecm.rc_voltage_step` (exact for the held
    current), :func:`~twinloop.physics.battery.ecm.state_of_charge_step` and
    :func:`~twinloop.physics.battery.thermal.lumped_temperature_step`;
    parameters are re-interpolated at the new temperature.

    Examples
    --------
    >>> from twinloop.battery.model import CellModel, CellTable
    >>> t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    >>> cell = CellModel(3600.0, (t,), 2.5, 4.2)
    >>> r = simulate(cell, [0.0, 1.0, 2.0], [1.0, 1.0, 1.0])
    >>> round(float(r.voltage[0, 0]), 4)
    3.99
    """
    t = _floats("time", time)
    amps = np.atleast_2d(_floats("current", current))
    if t.ndim != 1:
        raise ValidationError("time", "a 1-D array of sample times [s]", f"shape {t.shape}")
    if amps.ndim != 2 or amps.shape[-1] != t.size:
        raise ValidationError("current", f"shape (t,) or (n, t) with t = {t.size}", amps.shape)
    for name, values in (("time", t), ("current", amps)):
        if not np.all(np.isfinite(values)):
            first = np.argwhere(~np.isfinite(values))[0]
            raise ValidationError(name, "finite numbers", f"{values[tuple(first)]} at index {tuple(int(i) for i in first)}")
    if t.size > 1 and np.any(np.diff(t) <= 0):
        k = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise ValidationError("time", "strictly increasing values", f"{t[k + 1]:g} after {t[k]:g} at index {k + 1}")
    if not (isinstance(max_step, int | float | np.integer | np.floating) and max_step > 0 and math.isfinite(max_step)):
        raise ValidationError("max_step", "a finite number > 0 s", max_step)
    n, steps = amps.shape
    z = _per_cell("state_of_charge", state_of_charge, n, 0.0, 1.0, "[1] (a fraction)")
    ambient = _per_cell("ambient_temperature", ambient_temperature, n, 173.15, 373.15, "K")
    temp = ambient.copy() if temperature is None else _per_cell("temperature", temperature, n, 173.15, 373.15, "K")
    heat_model = cell.thermal
    v_rc = np.zeros((n, cell.n_rc))
    out = {key: np.empty((n, steps)) for key in ("voltage", "soc", "temp", "ocv", "heat")}
    p = cell.parameters_at(temp)

    d_gain = cell.diffusion_shift * 3600.0 / cell.capacity
    shift = np.zeros(n)

    def electrical(z: Array, amps_k: Array) -> tuple[Array, Array]:
        u = ocv.open_circuit_voltage(np.clip(z - shift, 0.0, 1.0), p.open_circuit_voltage)
        r0 = _tables.lookup(z, p.ohmic_resistance)
        return u, ecm.terminal_voltage(u, v_rc.sum(axis=1), amps_k, r0)

    def heat_of(z: Array, u: Array, v: Array, amps_k: Array) -> Array:
        dudt = _tables.lookup(z, p.entropic_coefficient_table) if entropic_heat else 0.0
        return np.asarray(thermal.heat_generation(amps_k, u, v, temp, dudt))

    for k in range(steps):
        amps_k = amps[:, k]
        if heat_model is not None:
            p = cell.parameters_at(temp)
        u, v = electrical(z, amps_k)
        out["voltage"][:, k], out["soc"][:, k], out["temp"][:, k], out["ocv"][:, k] = v, z, temp, u
        out["heat"][:, k] = heat_of(z, u, v, amps_k)
        if k == steps - 1:
            break
        dt = t[k + 1] - t[k]
        m = max(1, math.ceil(dt / max_step - 1e-9))
        h = dt / m
        for sub in range(m):
            if sub and heat_model is not None:
                p = cell.parameters_at(temp)
                u, v = electrical(z, amps_k)
            r_rc = np.stack([_tables.lookup(z, p.rc_resistance[:, i, :]) for i in range(cell.n_rc)], axis=1)
            r_rc = np.maximum(r_rc, 1e-12)
            v_rc = ecm.rc_voltage_step(v_rc, amps_k[:, None], r_rc, p.rc_time_constant / r_rc, h)
            if heat_model is not None:
                q = heat_of(z, u, v, amps_k)
                temp = thermal.lumped_temperature_step(
                    temp, q, ambient, heat_model.heat_capacity, heat_model.heat_transfer_coefficient, h
                )
            if d_gain > 0:
                shift = ecm.rc_voltage_step(shift, amps_k, d_gain, cell.diffusion_time_constant / d_gain, h)
            z = ecm.state_of_charge_step(z, amps_k, cell.capacity, h)
    return SimulationResult(
        time=t,
        current=amps,
        voltage=out["voltage"],
        state_of_charge=out["soc"],
        temperature=out["temp"],
        open_circuit_voltage=out["ocv"],
        heat=out["heat"],
    )


@dataclass(frozen=True)
class ProfileRun:
    """A cell run over a profile as a cycler runs it: to the profile's end, or to the first sample outside the limits.

    Attributes
    ----------
    cell : CellModel
        The model run.
    result : SimulationResult
        The samples before the stop (all of them when the run does not stop).
    stop : Stop or None
        Where and why the run stops; None when it runs to the profile's end.
    samples : int
        Samples in the profile.
    state_of_charge : float
        Initial SoC [1].
    ambient_temperature : float
        [K].
    """

    cell: CellModel
    result: SimulationResult
    stop: Stop | None
    samples: int
    state_of_charge: float
    ambient_temperature: float

    def columns(self) -> dict[str, Array]:
        """The output table: column name with its unit -> values (``time_s, current_a, voltage_v, soc, temperature_c``)."""
        r = self.result
        return {
            "time_s": r.time,
            "current_a": r.current[0],
            "voltage_v": r.voltage[0],
            "soc": r.state_of_charge[0],
            "temperature_c": kelvin_to_celsius(r.temperature[0]),
        }

    def stop_note(self) -> str | None:
        """Where and why the run stops and where the output ends, in words; None when it runs to the end."""
        if self.stop is None:
            return None
        return (
            f"the simulation stops at time_s={self.stop.time:g}: {self.stop.reason_text(self.cell)}; the output ends "
            f"at time_s={self.result.time[-1]:g} ({self.stop.index} of {self.samples} samples)"
        )

    def metadata(self) -> dict[str, Any]:
        """What the output document says besides the table: cell, initial SoC, ambient [degC] and the stop."""
        return {
            "cell": self.cell.name,
            "soc_start": self.state_of_charge,
            # the degC given became kelvin at the boundary; rounding undoes that round trip (23.7, not 23.69999999999999)
            "ambient_c": round(kelvin_to_celsius(self.ambient_temperature), 10),
            "stopped": None if self.stop is None else {"time_s": self.stop.time, "reason": self.stop.reason},
        }


def simulate_profile(
    cell: CellModel,
    profile: TimeSeries,
    state_of_charge: float = 1.0,
    ambient_temperature: float | None = None,
) -> ProfileRun:
    """Run `cell` over a current profile as a cycler would: checked first, stopped at the cell's limits.

    Parameters
    ----------
    cell : CellModel
    profile : TimeSeries
        Current [A] (positive discharging), voltage not needed (when present,
        its response to current steps checks the sign).
    state_of_charge : float, default 1
        Initial SoC [1].
    ambient_temperature : float, optional
        [K]; default the profile's first temperature, else
        :data:`~twinloop.battery.timeseries.DEFAULT_TEMPERATURE` (25 degC).

    Returns
    -------
    ProfileRun
        The run up to the first sample where a cycler would stop (see
        :func:`find_stop`).

    Raises
    ------
    DataError
        Before the run: a logging gap with current flowing, a flipped sign
        (voltage rising with the discharge current), a current in mA (above
        50 C), a time in ms (a net charge of more than
        :data:`MAX_PROFILE_SWING` capacities, or steps of 1000 and more than
        two); after it: a full cell charged further from
        ``state_of_charge=1`` (almost always a flipped sign), or a run that
        ends at its first sample. Messages name the fields
        ```flip_current``` and ```state_of_charge```.

    Examples
    --------
    >>> from twinloop.battery.model import CellTable
    >>> cell = CellModel(3600.0, (CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0),), 2.5, 4.2)
    >>> run = simulate_profile(cell, TimeSeries(np.arange(0.0, 800.0, 100.0), np.full(8, 3.0)), 0.5)
    >>> run.stop.reason, float(run.result.time[-1]), run.metadata()["ambient_c"]
    ('empty', 600.0, 25.0)
    >>> run.stop_note()
    'the simulation stops at time_s=700: the cell is empty (SoC 0) and the profile goes on discharging; the output ends at time_s=600 (7 of 8 samples)'

    """
    from twinloop.battery.checks import (  # checks imports this module
        check_current_scale,
        check_current_sign,
        check_state_of_charge,
        check_time_scale,
    )
    profile.check_logging_gaps()
    check_current_sign(profile)
    check_current_scale(cell, profile)
    check_time_scale(profile, cell.capacity, MAX_PROFILE_SWING)
    if ambient_temperature is None:
        ambient_temperature = DEFAULT_TEMPERATURE if profile.temperature is None else float(profile.temperature[0])
    r = simulate(cell, profile.time, profile.current, state_of_charge, ambient_temperature)
    stop = find_stop(r, cell)
    if stop is not None and stop.reason == "full" and state_of_charge >= 1.0:
        check_state_of_charge(r)  # a full cell charged further: almost always a flipped sign
    if stop is not None and stop.index == 0:
        raise DataError(
            f"the first sample already ends the run: current_a {float(profile.current[0]):g} A from `state_of_charge` "
            f"{state_of_charge:g} gives {stop.voltage:.3f} V, below the cell's cut-off {cell.voltage_min:g} V; start "
            "higher with `state_of_charge`, or check the profile's current_a"
        )
    return ProfileRun(
        cell=cell,
        result=r if stop is None else r.head(stop.index),
        stop=stop,
        samples=int(profile.time.size),
        state_of_charge=float(state_of_charge),
        ambient_temperature=float(ambient_temperature),
    )
