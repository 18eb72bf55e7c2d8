"""Run an identified cell model over a current profile (electrical + lumped thermal)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.battery import _tables
from twinloop.battery.model import CellModel
from twinloop.errors import ValidationError
from twinloop.physics.battery import ecm, ocv, thermal

__all__ = ["SimulationResult", "Stop", "find_stop", "simulate"]

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
            hint = f"Temperatures are in kelvin: {got:g} degC is {got + 273.15:g} K"
        elif unit.startswith("[1]") and 2.0 <= got <= 100.0:
            hint = f"State of charge is a fraction: {got:g} % is {got / 100:g}"
        raise ValidationError(name, f"a number in [{lo:g}, {hi:g}] {unit}", got, hint=hint)
    return np.broadcast_to(a, (n,)).copy()


def simulate(
    cell: CellModel,
    time: npt.ArrayLike,
    current: npt.ArrayLike,
    state_of_charge: npt.ArrayLike = 1.0,
    ambient_temperature: npt.ArrayLike = 298.15,
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
