"""State-of-charge estimation with an extended Kalman filter on the identified ECM.

State :math:`x = (z, v_1, \\dots, v_n)`: SoC and the RC-pair voltages.
Prediction uses the exact zero-order-hold kernels of
:mod:`twinloop.physics.battery.ecm`; the measurement is the terminal voltage

.. math:: y = U(z) - \\sum_i v_i - R_0(z) I, \\qquad
          H = \\left(\\frac{dU}{dz} - \\frac{dR_0}{dz} I, -1, \\dots, -1\\right)

Flat OCV (LiFePO4): the OCV slope is taken over a window of +-2 % SoC, and
the measurement noise defaults to three times the identification RMSE:
model error is correlated in time, and a filter that took it for white
noise at its true size would let it drag the SoC through the flat region.
The noise also grows with current (resistance uncertainty). The covariance
update is in Joseph form, the SoC is kept in [0, 1] and the covariance
symmetric positive definite.

References
----------
.. [1] Plett, G. L. (2004). Extended Kalman filtering for battery management
   systems of LiPB-based HEV battery packs: Part 3. State and parameter
   estimation. J. Power Sources 134(2), 277-292.
   doi:10.1016/j.jpowsour.2004.02.033
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.battery import _tables
from twinloop.battery.checks import (
    check_charge_direction,
    check_current_scale,
    check_current_sign,
    check_time_scale,
)
from twinloop.battery.model import CellModel
from twinloop.battery.timeseries import DEFAULT_TEMPERATURE, TimeSeries, check_temperature
from twinloop.errors import ValidationError
from twinloop.physics.battery import ecm, ocv

#: Largest measurement noise [V] taken for a voltage_noise; above it the value is in mV.
MAX_VOLTAGE_NOISE = 1.0

#: A logging gap (:meth:`~twinloop.battery.timeseries.TimeSeries.check_logging_gaps`) is refused when the
#: current held across it moves more than this share of the capacity: the filter would count it as measured.
GAP_CHARGE_SHARE = 0.05

__all__ = ["EstimationResult", "SocFilter", "estimate_soc"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class EstimationResult:
    """SoC estimate at every sample.

    Attributes
    ----------
    time : ndarray, shape (t,)
        [s].
    state_of_charge : ndarray, shape (t,)
        Posterior SoC [1].
    state_of_charge_std : ndarray, shape (t,)
        Its standard deviation [1].
    voltage : ndarray, shape (t,)
        Predicted terminal voltage before the update [V].
    innovation : ndarray, shape (t,)
        Measured minus predicted voltage [V].
    cell : str
        Name of the cell model.
    initial_state_of_charge : float or None
        The initial guess the filter started from [1].
    """

    time: Array
    state_of_charge: Array
    state_of_charge_std: Array
    voltage: Array
    innovation: Array
    cell: str = ""
    initial_state_of_charge: float | None = None

    def columns(self) -> dict[str, Array]:
        """The output table: column name with its unit -> values (``time_s, soc, soc_std, voltage_pred_v, innovation_v``)."""
        return {
            "time_s": self.time,
            "soc": self.state_of_charge,
            "soc_std": self.state_of_charge_std,
            "voltage_pred_v": self.voltage,
            "innovation_v": self.innovation,
        }

    def metadata(self) -> dict[str, Any]:
        """What the output document says besides the table: the cell and the initial guess."""
        return {"cell": self.cell, "soc_start": self.initial_state_of_charge}


class SocFilter:
    """Extended Kalman filter for SoC on an identified cell model.

    Parameters
    ----------
    cell : CellModel
    state_of_charge : float
        Initial SoC estimate [1].
    state_of_charge_std : float, default 0.2
        Its standard deviation [1], in (0, 1].
    temperature : float, default 298.15 (25 degC)
        Cell temperature [K] for the parameters (changed by :meth:`set_temperature`).
    voltage_noise : float, optional
        Measurement noise std [V], in (0, 1]; default: three times the largest
        identification RMSE in the model (at least 5 mV).
    current_noise : float, default 0.01
        Current-sensor noise as a fraction of the capacity in amperes (1C) [1], >= 0.

    Raises
    ------
    ValidationError
        An argument outside its range (a temperature in degC or a noise in
        mV is named as such).
    """

    def __init__(
        self,
        cell: CellModel,
        state_of_charge: float,
        state_of_charge_std: float = 0.2,
        temperature: float = DEFAULT_TEMPERATURE,
        voltage_noise: float | None = None,
        current_noise: float = 0.01,
    ) -> None:
        if not 0.0 <= state_of_charge <= 1.0:
            hint = f"State of charge is a fraction: {state_of_charge:g} % is {state_of_charge / 100:g}" if 2 <= state_of_charge <= 100 else None
            raise ValidationError("state_of_charge", "a number in [0, 1]", state_of_charge, hint=hint)
        if not 0 < state_of_charge_std <= 1:
            raise ValidationError("state_of_charge_std", "a number in (0, 1] (a SoC fraction)", state_of_charge_std)
        self.cell = cell
        fits = [t.fit.rmse for t in cell.tables if t.fit is not None and np.isfinite(t.fit.rmse)]
        default = max(5e-3, 3.0 * max(fits, default=5e-3))
        self.voltage_noise = float(voltage_noise if voltage_noise is not None else default)
        if not 0 < self.voltage_noise <= MAX_VOLTAGE_NOISE:
            hint = (
                f"voltage_noise is in V: {self.voltage_noise:g} mV is {self.voltage_noise / 1000:g} V"
                if self.voltage_noise > MAX_VOLTAGE_NOISE else None
            )
            raise ValidationError("voltage_noise", f"a number in (0, {MAX_VOLTAGE_NOISE:g}] V", voltage_noise, hint=hint)
        if not (math.isfinite(current_noise) and current_noise >= 0):
            raise ValidationError("current_noise", "a finite number >= 0 (a fraction of 1C)", current_noise)
        temperature = check_temperature("temperature", temperature)
        self.current_noise = current_noise * cell.capacity / 3600.0
        n = 1 + cell.n_rc
        self.x = np.zeros(n)
        self.x[0] = state_of_charge
        self.p = np.diag([state_of_charge_std**2] + [1e-4] * cell.n_rc)
        self._params = cell.parameters_at(temperature)

    def set_temperature(self, temperature: float) -> None:
        """Use the parameters at `temperature` [K]."""
        self._params = self.cell.parameters_at(check_temperature("temperature", temperature))

    def predict(self, current: float, time_step: float) -> None:
        """Advance the state over `time_step` [s] at constant `current` [A]."""
        if not (math.isfinite(time_step) and time_step >= 0):
            raise ValidationError("time_step", "a finite number >= 0 s", time_step)
        if not math.isfinite(current):
            raise ValidationError("current", "a finite number [A]", current)
        p = self._params
        z = self.x[0]
        r_rc = np.maximum([float(_tables.lookup(np.array([z]), p.rc_resistance[0, i])[0]) for i in range(self.cell.n_rc)], 1e-12)
        tau = p.rc_time_constant[0]
        decay = np.exp(-time_step / tau)
        self.x[1:] = ecm.rc_voltage_step(self.x[1:], current, r_rc, tau / r_rc, time_step)
        self.x[0] = ecm.state_of_charge_step(z, current, self.cell.capacity, time_step)
        f = np.diag(np.r_[1.0, decay])
        # process noise from the current sensor, propagated to SoC and RC voltages
        g = np.r_[-time_step / self.cell.capacity, r_rc * (1 - decay)]
        q = np.outer(g, g) * self.current_noise**2 + np.diag(np.r_[(1e-6 * time_step), np.full(self.cell.n_rc, 1e-9 * time_step)])
        self.p = f @ self.p @ f.T + q
        self.x[0] = float(np.clip(self.x[0], 0.0, 1.0))

    def update(self, current: float, voltage: float) -> tuple[float, float]:
        """Correct with a measured `voltage` [V]; returns (predicted voltage, innovation), both [V]."""
        if not (math.isfinite(current) and math.isfinite(voltage)):
            raise ValidationError("current, voltage", "finite numbers [A], [V]", (current, voltage))
        p = self._params
        z = np.array([self.x[0]])
        u = float(ocv.open_circuit_voltage(z, p.open_circuit_voltage)[0])
        r0 = float(_tables.lookup(z, p.ohmic_resistance)[0])
        v_pred = float(ecm.terminal_voltage(u, self.x[1:].sum(), current, r0))
        d_u = float(_tables.slope(z, p.open_circuit_voltage)[0])
        d_r0 = float(_tables.slope(z, p.ohmic_resistance)[0])
        h = np.r_[d_u - d_r0 * current, -np.ones(self.cell.n_rc)]
        # resistance uncertainty (10 %) adds noise in proportion to the current
        r = self.voltage_noise**2 + (0.1 * abs(current) * r0) ** 2
        s = float(h @ self.p @ h + r)
        k = self.p @ h / s
        innovation = voltage - v_pred
        self.x = self.x + k * innovation
        a = np.eye(self.x.size) - np.outer(k, h)
        self.p = a @ self.p @ a.T + np.outer(k, k) * r
        self.p = 0.5 * (self.p + self.p.T)
        self.x[0] = float(np.clip(self.x[0], 0.0, 1.0))
        return v_pred, innovation

    @property
    def state_of_charge(self) -> float:
        """Current SoC estimate [1]."""
        return float(self.x[0])

    @property
    def state_of_charge_std(self) -> float:
        """Its standard deviation [1]."""
        return float(np.sqrt(max(self.p[0, 0], 0.0)))


def estimate_soc(
    cell: CellModel,
    series: TimeSeries,
    state_of_charge: float,
    state_of_charge_std: float = 0.2,
    temperature: float = DEFAULT_TEMPERATURE,
    voltage_noise: float | None = None,
) -> EstimationResult:
    """Estimate SoC over a measured record (current and voltage).

    Parameters
    ----------
    cell : CellModel
    series : TimeSeries
        Measured current and voltage (temperature used when present).
    state_of_charge : float
        Initial guess [1].
    state_of_charge_std : float
        Its standard deviation [1].
    temperature : float
        Cell temperature [K] when `series` has none.
    voltage_noise : float, optional
        [V]; see :class:`SocFilter`.

    Returns
    -------
    EstimationResult

    Raises
    ------
    DataError
        Before filtering, the slips that would otherwise give a confident
        wrong SoC: a flipped sign (the voltage rises with the discharge
        current, or falls while the counted charge says the cell charges:
        :func:`~twinloop.battery.checks.check_charge_direction`, which needs
        no current steps), the current exceeds 50 C of the cell (mA), the
        time moves more than twice the capacity (ms), the voltage is stuck or
        saturated, or a logging gap: an interval longer than ten median
        intervals and 10 minutes across which the held current would move
        more than 5 % of the capacity (split the record, or add a sample with
        the current during the gap, 0 A if the cell rested). Errors name the
        fix as a field: ```flip_current```.

    Examples
    --------
    >>> from twinloop.battery.model import CellTable
    >>> cell = CellModel(3600.0, (CellTable(298.15, [3.0, 4.0], [0.01, 0.01], [[0.005, 0.005]], [30.0], 3600.0),), 3.0, 4.0)
    >>> t = np.arange(0.0, 600.0)
    >>> s = TimeSeries(t, np.ones(600), 3.0 + (0.9 - t / 3600) - 0.015)
    >>> r = estimate_soc(cell, s, 0.5)
    >>> bool(abs(r.state_of_charge[-1] - (0.9 - 599 / 3600)) < 0.01)
    True
    """
    volts = series.require_voltage("to estimate the state of charge")
    f = SocFilter(cell, state_of_charge, state_of_charge_std, temperature, voltage_noise)
    check_current_sign(series)
    check_current_scale(cell, series)
    series.check_logging_gaps(GAP_CHARGE_SHARE * cell.capacity)  # before the time scale: a gap moves charge too
    check_time_scale(series, cell.capacity)
    check_charge_direction(series, cell.capacity)
    series.check_signals()
    n = series.time.size
    soc, std, v_pred, innov = (np.empty(n) for _ in range(4))
    for k in range(n):
        if k:
            if series.temperature is not None:
                f.set_temperature(float(series.temperature[k - 1]))
            f.predict(float(series.current[k - 1]), float(series.time[k] - series.time[k - 1]))
        v_pred[k], innov[k] = f.update(float(series.current[k]), float(volts[k]))
        soc[k], std[k] = f.state_of_charge, f.state_of_charge_std
    return EstimationResult(series.time, soc, std, v_pred, innov, cell.name, float(state_of_charge))

