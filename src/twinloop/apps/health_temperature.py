r"""The temperature watch: the battery temperature of each trip against a limit and the twin's thermal model.

Two alerts: the battery held above the limit (:attr:`HealthThresholds.temperature_limit`
for :attr:`~HealthThresholds.temperature_limit_duration`), and heat the
current does not explain: the measured temperature running above the
twin's lumped thermal model, driven by the measured current, by more than
the twin's other trips scatter.

References
----------
.. [1] Ma, S. et al. (2018). Temperature effect and thermal impact in
   lithium-ion batteries: a review. Progress in Natural Science: Materials
   International 28(6), 653-666. doi:10.1016/j.pnsc.2018.11.002
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from twinloop.apps.health_alerts import ALERT_KINDS, HealthAlert, HealthThresholds, normal_cdf
from twinloop.apps.health_resistance import REFERENCE_TEMPERATURE
from twinloop.signals.vss import AMBIENT, BATTERY_TEMPERATURE, CURRENT
from twinloop.twin.samples import signal_samples

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.twin.lifecycle import Twin

__all__ = ["TemperatureCheck", "temperature_alerts", "temperature_check"]

FloatArray = npt.NDArray[np.float64]

_ROBUST = 1.4826  # MAD to standard deviation of a normal sample


@dataclass(frozen=True)
class TemperatureCheck:
    """The battery temperature of one trip against the limit and the thermal model.

    Attributes
    ----------
    start, end : datetime
        The trip.
    maximum : float
        Highest battery temperature [K].
    sustained : float
        Highest temperature held (summed over the trip) for at least the
        limit's duration [K].
    excess : float or None
        Largest measured minus predicted temperature over the trip [K];
        None without current samples.
    """

    start: datetime
    end: datetime
    maximum: float
    sustained: float
    excess: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict, kelvin."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "maximum": self.maximum,
                "sustained": self.sustained, "excess": self.excess}


def _sustained(t: FloatArray, temp: FloatArray, duration: float) -> float:
    """Highest temperature reached or exceeded for a total of `duration` seconds (each sample held to the next)."""
    held = np.diff(t, append=t[-1])
    order = np.argsort(temp)[::-1]
    total = np.cumsum(held[order])
    k = int(np.searchsorted(total, duration))
    return float(temp[order[min(k, order.size - 1)]])


def _predicted_temperature(
    twin: Twin, t: FloatArray, current: FloatArray, start: float, ambient: FloatArray, resistance: float | None
) -> FloatArray:
    """The twin's lumped thermal model driven by the measured current: ohmic and RC heat, loss to ambient."""
    spec = twin.record.spec
    r0 = spec.effective_battery_ohmic_resistance if resistance is None else resistance
    r_rc, tau = spec.effective_battery_rc_resistance, spec.battery_rc_time_constant
    cap, ha, ta = spec.effective_battery_heat_capacity, spec.battery_heat_transfer, spec.battery_activation_temperature
    out = np.empty(t.size)
    temp, v_rc = start, 0.0
    out[0] = temp
    for k in range(t.size - 1):
        dt = float(t[k + 1] - t[k])
        i = float(current[k])
        heat = i * i * r0 * math.exp(ta * (1.0 / temp - 1.0 / REFERENCE_TEMPERATURE)) + i * v_rc
        if tau > 0:
            decay = math.exp(-dt / tau)
            v_rc = v_rc * decay + r_rc * i * (1.0 - decay)
        temp += dt * (heat - ha * (temp - float(ambient[k]))) / cap
        out[k + 1] = temp
    return out


def temperature_check(
    twin: Twin, frame: pd.DataFrame, start: datetime, end: datetime, resistance: float | None, th: HealthThresholds
) -> TemperatureCheck | None:
    r"""One trip's battery temperature against the limit and the thermal model; None without two samples.

    The model :math:`C\,\dot T = I^2 R_0(T) + I v_{RC} - hA\,(T - T_{amb})`
    takes the twin's heat capacity and :math:`hA`, and `resistance` [ohm at
    25 degC] as measured on the trip (the spec's when None).
    """
    tt, temp = signal_samples(frame, BATTERY_TEMPERATURE, start)
    if tt.size < 2:
        return None
    sustained = _sustained(tt, temp, th.temperature_limit_duration)
    ti, current = signal_samples(frame, CURRENT, start)
    excess = None
    if ti.size >= 2:
        ta, amb = signal_samples(frame, AMBIENT, start)
        grid = np.union1d(ti, tt)
        grid = grid[(grid >= tt[0]) & (grid <= tt[-1])]
        # current held to the next sample, as the BMS reports it
        held = current[np.clip(np.searchsorted(ti, grid, side="right") - 1, 0, ti.size - 1)]
        ambient = np.interp(grid, ta, amb) if ta.size else np.full(grid.size, temp[0])
        predicted = _predicted_temperature(twin, grid, held, float(temp[0]), ambient, resistance)
        excess = float(np.max(temp - np.interp(tt, grid, predicted)))
    return TemperatureCheck(start, end, float(temp.max()), sustained, excess)


def temperature_alerts(checks: Sequence[TemperatureCheck], th: HealthThresholds) -> list[HealthAlert]:
    """The limit and the unexplained-heating alerts of the trips' checks, trip by trip.

    A trip's excess is compared with the median and the robust spread of the
    other trips' excesses (floored at ``th.temperature_noise``): the model
    error this twin shows anyway.
    """
    alerts = []
    excesses = np.array([c.excess if c.excess is not None else np.nan for c in checks])
    for k, c in enumerate(checks):
        if c.sustained > th.temperature_limit:
            confidence = normal_cdf((c.sustained - th.temperature_limit) / th.temperature_noise)
            if confidence >= th.confidence:
                alerts.append(HealthAlert(
                    ALERT_KINDS["temperature_limit"],
                    f"battery at {c.sustained - 273.15:.1f} degC or more for {th.temperature_limit_duration:g} s"
                    f" (highest {c.maximum - 273.15:.1f} degC), above the {th.temperature_limit - 273.15:.0f} degC limit",
                    confidence, c.start, c.end,
                    "check the battery cooling (coolant level, pump, fan) and avoid fast charging and hard driving"
                    " in the heat until it is checked; above 60 degC stop and have the car inspected",
                    {"sustained": c.sustained, "maximum": c.maximum, "limit": th.temperature_limit},
                ))
        if c.excess is None:
            continue
        others = np.delete(excesses, k)
        others = others[np.isfinite(others)]
        # the model error this twin shows on its other trips: its bias and spread
        bias = float(np.median(others)) if others.size >= 3 else 0.0
        spread = _ROBUST * float(np.median(np.abs(others - bias))) if others.size >= 3 else 0.0
        sigma = max(spread, th.temperature_noise)
        z = (c.excess - bias - th.temperature_excess) / sigma
        confidence = normal_cdf(z)
        if confidence >= th.confidence:
            alerts.append(HealthAlert(
                ALERT_KINDS["temperature_rise"],
                f"battery ran up to {c.excess - bias:.1f} K warmer than the thermal model explains from the"
                f" current (the twin's other trips: {bias:+.1f} ± {sigma:.1f} K; alert level {th.temperature_excess:g} K)",
                confidence, c.start, c.end,
                "heat the current does not explain: check the cooling and the temperature sensor; an internal"
                " short or a failing cell heats without current, so have the pack inspected soon",
                {"excess": c.excess, "model_bias": bias, "model_spread": sigma, "trips_compared": int(others.size)},
            ))
    return alerts
