"""The design app's problem: what to design, for which days, at which prices, under which floors.

:class:`DesignProblem` checks every field on construction; :data:`OBJECTIVES`
names what the optimiser may minimise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.apps.design_candidate import (
    BATTERY_COST_PER_KWH,
    KW,
    KWH,
    MOTOR_COST_PER_KW,
    MOTOR_SPECIFIC_POWER,
    PACK_SPECIFIC_ENERGY,
    RPM,
    design_vehicle,
)
from twinloop.cycles import Cycle
from twinloop.errors import UnknownNameError, ValidationError, Verbatim
from twinloop.parameters.spec import VehicleSpec, field_range
from twinloop.physics.performance import DRIVEN_AXLE_LOAD, traction_limited_acceleration
from twinloop.quantities import check

__all__ = [
    "ACCELERATION_SOC",
    "ACCELERATION_STEP",
    "ACCELERATION_TARGET",
    "OBJECTIVES",
    "DesignProblem",
    "Objective",
]

FloatArray = npt.NDArray[np.float64]

ACCELERATION_TARGET = 100.0 / 3.6
"""The speed of the acceleration figure [m s-1]: 0-100 km/h."""
ACCELERATION_STEP = 0.1
"""The full-throttle run's time step [s]."""
ACCELERATION_SOC = 0.9
"""The full-throttle run's state of charge [1]: a charged car, as performance figures are quoted."""


@dataclass(frozen=True)
class Objective:
    """An objective the optimiser minimises.

    Attributes
    ----------
    name : str
        Key in :data:`OBJECTIVES`.
    description : str
        What it is, with its unit.
    column : str
        The column of :meth:`DesignResult.to_frame` that shows it.
    """

    name: str
    description: str
    column: str


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective("cost", "battery and drive-unit cost [USD]", "cost_usd"),
    Objective("acceleration_time", "0-100 km/h time [s]", "acceleration_0_100_s"),
    Objective("consumption", "fleet energy from the wall per km driven [Wh/km]", "wh_per_km"),
)}
"""The objectives by name; a problem minimises two or more of them (default cost and acceleration time)."""


def _positive(name: str, value: object, unit: str, low: float = 0.0, high: float = math.inf,
              closed_low: bool = False) -> float:
    """`value` as a float in (low, high] (or [low, high] with `closed_low`), else a ValidationError naming `name`."""
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else math.nan  # type: ignore[arg-type]
    inside = (v >= low if closed_low else v > low) and v <= high
    if not (ok and inside):
        bracket = "[" if closed_low else "("
        upper = "inf)" if math.isinf(high) else f"{high:g}]"
        raise ValidationError(name, f"a number in {bracket}{low:g}, {upper} {unit}".rstrip(), value)
    return v


def _bounds(name: str, value: object, spec_field: str | None, unit: str, scale: float) -> tuple[float, float]:
    """Two finite numbers, low <= high, inside the spec field's range; shown in `unit` (SI / `scale`)."""
    low_ok, high_ok = field_range(spec_field) if spec_field else (0.0, math.inf)
    valid = f"[{low_ok / scale:g}, {high_ok / scale:g}] {unit}"
    try:
        low, high = (float(x) for x in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValidationError(name, f"two numbers (low, high) within {valid}", value) from None
    shown = Verbatim(f"({low / scale:g}, {high / scale:g}) {unit}")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValidationError(name, f"two finite numbers within {valid}", shown)
    if low > high:
        raise ValidationError(name, f"a low end <= the high end, within {valid}", shown,
                              hint="The bounds are reversed: give the smaller value first")
    if low < low_ok or high > high_ok or (spec_field is None and low <= 0):
        raise ValidationError(name, f"bounds within {valid}" if spec_field else f"bounds > 0 {unit}", shown)
    return low, high


@dataclass(frozen=True)
class DesignProblem:
    """What to design, for which days, at which prices, under which floors.

    Every field is checked on construction; a ValidationError names the
    field, its valid range and the value received.

    Attributes
    ----------
    vehicle : VehicleSpec
        The base vehicle (road load, drivetrain losses, cabin ...).
    days : sequence of Cycle
        The fleet's days, e.g. ``read_days(folder).days``.
    share : float
        Share of the days [1] in (0, 1] a design must cover, default 0.95.
    battery_cost_per_kwh, motor_cost_per_kw : float
        Prices [USD kWh-1], [USD kW-1], >= 0; defaults :data:`BATTERY_COST_PER_KWH`
        (BNEF 2024) and :data:`MOTOR_COST_PER_KW` (U.S. DRIVE 2020 target).
    battery_energy_bounds : tuple of float
        Usable battery energy [J], default 10-120 kWh.
    motor_power_bounds : tuple of float
        Motor peak power [W], default 50-300 kW.
    gear_ratio_bounds : tuple of float
        Final-drive ratio [1], default 5-14. A bound pair with low == high fixes that choice.
    max_acceleration_time : float
        Slowest 0-100 km/h time allowed [s], default 9.
    min_top_speed : float
        Lowest top speed allowed [m s-1], default 140 km/h.
    motor_max_speed : float
        Largest motor speed [rad s-1], default 12,000 rpm (Nissan Leaf
        10,390 rpm, VW APP 310 16,000 rpm).
    reserve : float
        Share of the usable energy [1] kept for the unexpected, default 0.1.
    capacity_fade : float
        Capacity lost by the end of the battery's life [1], default 0.2
        (end of life at 80 %, as USABC and most warranties define it).
    winter_margin : float
        Extra energy [1] a day may need in winter, default 0; at -7 °C
        with the heater on, range falls about 40 % (AAA, 2019), a margin
        of 0.67. Alternatively simulate the days at a cold
        `ambient_temperature`.
    ambient_temperature : float
        [K] of the simulated days, default 293.15 (climate control runs
        outside 15-25 °C).
    specific_energy, motor_specific_power : float
        Pack [J kg-1] and drive-unit [W kg-1] specific figures that set the mass.
    friction_coefficient : float
        Tyre-road peak friction [1] for the traction limit, default 0.9 (dry asphalt).
    cg_height_ratio : float
        Centre-of-gravity height over wheelbase [1], default 0.2.
    objectives : tuple of str
        Names in :data:`OBJECTIVES`, at least two, default cost and acceleration time.
    """

    vehicle: VehicleSpec
    days: Sequence[Cycle]
    share: float = 0.95
    battery_cost_per_kwh: float = BATTERY_COST_PER_KWH
    motor_cost_per_kw: float = MOTOR_COST_PER_KW
    battery_energy_bounds: tuple[float, float] = (10 * KWH, 120 * KWH)
    motor_power_bounds: tuple[float, float] = (50 * KW, 300 * KW)
    gear_ratio_bounds: tuple[float, float] = (5.0, 14.0)
    max_acceleration_time: float = 9.0
    min_top_speed: float = 140 / 3.6
    motor_max_speed: float = 12000 * RPM
    reserve: float = 0.1
    capacity_fade: float = 0.2
    winter_margin: float = 0.0
    ambient_temperature: float = 293.15
    specific_energy: float = PACK_SPECIFIC_ENERGY
    motor_specific_power: float = MOTOR_SPECIFIC_POWER
    friction_coefficient: float = 0.9
    cg_height_ratio: float = 0.2
    objectives: tuple[str, ...] = ("cost", "acceleration_time")

    def __post_init__(self) -> None:
        if not isinstance(self.vehicle, VehicleSpec):
            raise ValidationError("vehicle", "a VehicleSpec", type(self.vehicle).__name__,
                                  hint="resolve_vehicle(name) loads a library vehicle or a TOML file")
        days = tuple(self.days) if isinstance(self.days, Iterable) else None
        if not days or not all(isinstance(d, Cycle) for d in days):
            raise ValidationError("days", "one or more day traces (twinloop.cycles.Cycle)",
                                  Verbatim(f"{len(days)} days") if days is not None and not days
                                  else type(self.days).__name__, hint="read_days(folder) reads a folder of them")
        object.__setattr__(self, "days", days)
        _positive("share", self.share, "(a share of the days)", 0.0, 1.0)
        _positive("battery_cost_per_kwh", self.battery_cost_per_kwh, "USD/kWh", closed_low=True)
        _positive("motor_cost_per_kw", self.motor_cost_per_kw, "USD/kW", closed_low=True)
        object.__setattr__(self, "battery_energy_bounds",
                           _bounds("battery_energy_bounds", self.battery_energy_bounds, "battery_energy", "kWh", KWH))
        object.__setattr__(self, "motor_power_bounds",
                           _bounds("motor_power_bounds", self.motor_power_bounds, "motor_peak_power", "kW", KW))
        object.__setattr__(self, "gear_ratio_bounds",
                           _bounds("gear_ratio_bounds", self.gear_ratio_bounds, "gear_ratio", "", 1.0))
        _positive("max_acceleration_time", self.max_acceleration_time, "s", 0.0, 60.0)
        _positive("min_top_speed", self.min_top_speed, "m/s", 0.0, 100.0, closed_low=True)
        _positive("motor_max_speed", self.motor_max_speed, "rad/s", 0.0, 5000.0)
        _positive("reserve", self.reserve, "(a share of the usable energy)", 0.0, 0.9, closed_low=True)
        _positive("capacity_fade", self.capacity_fade, "(a share of the capacity)", 0.0, 0.9, closed_low=True)
        _positive("winter_margin", self.winter_margin, "(extra energy, a share)", 0.0, 10.0, closed_low=True)
        check("ambient_temperature", self.ambient_temperature, "ambient_temperature")
        _positive("specific_energy", self.specific_energy, "J/kg", 0.0, 2e6)
        _positive("motor_specific_power", self.motor_specific_power, "W/kg", 0.0, 1e5)
        _positive("friction_coefficient", self.friction_coefficient, "", 0.0, 1.5)
        _positive("cg_height_ratio", self.cg_height_ratio, "", 0.0, 0.5, closed_low=True)
        names = (self.objectives,) if isinstance(self.objectives, str) else tuple(self.objectives)
        for name in names:
            if name not in OBJECTIVES:
                raise UnknownNameError("objective", str(name), OBJECTIVES,
                                       hint=f"the objectives are {', '.join(OBJECTIVES)}")
        if len(set(names)) < 2:
            raise ValidationError("objectives", f"two or more different names of {', '.join(OBJECTIVES)}",
                                  list(names))
        object.__setattr__(self, "objectives", names)
        # the lightest and the heaviest corner must be vehicles: the mass is monotone in both choices
        for e, p in ((0, 0), (1, 1)):
            design_vehicle(self.vehicle, self.battery_energy_bounds[e], self.motor_power_bounds[p],
                           self.gear_ratio_bounds[e], specific_energy=self.specific_energy,
                           motor_specific_power=self.motor_specific_power)

    @property
    def usable_factor(self) -> float:
        r"""Share of the nominal usable energy [1] a day may plan to use: :math:`(1 - r)(1 - f) / (1 + w)`."""
        return (1 - self.reserve) * (1 - self.capacity_fade) / (1 + self.winter_margin)

    @property
    def days_needed(self) -> int:
        """How many days a design must cover: the share of the days, rounded up."""
        return max(1, math.ceil(self.share * len(self.days) - 1e-9))

    @property
    def traction_acceleration(self) -> float:
        """The tyres' traction-limited acceleration [m s-2] for the base vehicle's drive."""
        share, transfer = DRIVEN_AXLE_LOAD[self.vehicle.drive]
        return float(traction_limited_acceleration(self.friction_coefficient, share, transfer, self.cg_height_ratio))

    def cost(self, battery_energy: Any, motor_peak_power: Any) -> FloatArray:
        """Cost [USD] of packs of `battery_energy` [J] and drive units of `motor_peak_power` [W]."""
        return np.asarray(self.battery_cost_per_kwh * np.asarray(battery_energy) / KWH
                          + self.motor_cost_per_kw * np.asarray(motor_peak_power) / KW, dtype=float)

    def acceleration_run(self) -> Cycle:
        """The full-throttle target: a ramp at the traction limit to 105 km/h, then held.

        It lasts twice :attr:`max_acceleration_time` plus 10 s, at 0.1 s steps.
        """
        t = np.arange(0.0, 2 * self.max_acceleration_time + 10.0 + 1e-9, ACCELERATION_STEP)
        v = np.minimum(self.traction_acceleration * t, 1.05 * ACCELERATION_TARGET)
        return Cycle("full throttle 0-100 km/h", t, v, np.zeros_like(t), "traction-limited ramp")
