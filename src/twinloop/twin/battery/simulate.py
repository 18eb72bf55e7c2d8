"""Run an identified cell model over a current profile (electrical + lumped thermal)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError
from twinloop.physics.battery import ecm, ocv, thermal
from twinloop.twin.battery import _tables
from twinloop.twin.battery.model import CellModel

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
    >>> from twinloop.twin.battery.model import CellTable
    >>> t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    >>> cell = CellModel(3600.0, (t,), 2.5, 4.2)
    >>> r = simulate(cell, np.arange(0.0, 800.0, 100.0), np.full(8, 3.0), 0.5)
    >>> stop = find_stop(r, cell)
    >>> stop.reason, stop.time, round(stop.state_of_charge, 3), float(r.head(stop.index).time[-1])
    ('empty', 700.0, -0.083, 600.0)
    """
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
        Initial SoC [1].
    ambient_temperature : array_like, shape () or (n,)
        [K].
    temperature : array_like, optional
        Initial cell temperature [K]; defaults to ambient.
    max_step : float, default 10
        Longest internal step [s] (the thermal model is forward Euler).
    entropic_heat : bool, default False
        Add the reversible heat from the OCV's temperature dependence.

    Returns
    -------
    SimulationResult

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
    >>> from twinloop.twin.battery.model import CellModel, CellTable
    >>> t = CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0)
    >>> cell = CellModel(3600.0, (t,), 2.5, 4.2)
    >>> r = simulate(cell, [0.0, 1.0, 2.0], [1.0, 1.0, 1.0])
    >>> round(float(r.voltage[0, 0]), 4)
    3.99
    """
    t = np.asarray(time, dtype=float)
    amps = np.atleast_2d(np.asarray(current, dtype=float))
    if t.ndim != 1 or amps.shape[-1] != t.size:
        raise ValidationError("current", f"shape (t,) or (n, t) with t = {t.size}", amps.shape)
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValidationError("time", "strictly increasing values", t.tolist()[:5])
    if not max_step > 0:
        raise ValidationError("max_step", "> 0 s", max_step)
    n, steps = amps.shape
    z = np.broadcast_to(np.asarray(state_of_charge, dtype=float), (n,)).copy()
    ambient = np.broadcast_to(np.asarray(ambient_temperature, dtype=float), (n,)).copy()
    temp = ambient.copy() if temperature is None else np.broadcast_to(np.asarray(temperature, dtype=float), (n,)).copy()
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
