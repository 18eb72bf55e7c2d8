r"""The energy app's what-ifs: the same drive re-simulated changed one way at a time.

Each entry of the registry (:data:`WHAT_IF_NAMES`) changes the drive one
way and re-simulates it with :func:`twinloop.sim.simulate`: a lower cruising
speed (:func:`~twinloop.apps.energy_traces.capped_speed_trace`), gentler
acceleration and braking (:func:`~twinloop.apps.energy_traces.gentle_speed_trace`),
a cabin and battery pre-conditioned while plugged in (the scenario's
``cabin_temperature_start`` and ``battery_temperature_start``), an eco
climate set point, tyres at their placard pressure, less load.
:func:`what_ifs` runs them all and ranks what each saves; what does not
apply to the drive is listed with the reason. The definitions and their
sources are in ``docs/energy.md``.

References
----------
.. [1] Barkenbus, J. N. (2010). Eco-driving: An overlooked climate change
   initiative. Energy Policy 38(2), 762-769. doi:10.1016/j.enpol.2009.10.021
.. [2] SAE J2452 (1999). Stepwise Coastdown Methodology for Measuring Tire
   Rolling Resistance. doi:10.4271/J2452_199906
.. [3] Kambly, K. R. and Bradley, T. H. (2014). Estimating the HVAC energy
   consumption of plug-in electric vehicles. J. Power Sources 259, 117-124.
   doi:10.1016/j.jpowsour.2014.02.033
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from twinloop.apps.energy_drive import EnergyDrive
from twinloop.apps.energy_savings import SkippedWhatIf, WhatIf, WhatIfs, check_price
from twinloop.apps.energy_traces import capped_speed_trace, gentle_speed_trace
from twinloop.apps.profiles import HARD_ACCELERATION, MOVING_SPEED
from twinloop.conventions import kelvin_to_celsius
from twinloop.cycles import Cycle
from twinloop.errors import ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.physics.tyres import PRESSURE_EXPONENT, rolling_resistance_pressure_factor
from twinloop.sim import Scenario, SimulationResult, simulate

__all__ = ["PRECONDITIONED_BATTERY_TEMPERATURE", "WHAT_IF_NAMES", "WhatIfOptions", "what_ifs"]

_J_PER_KWH = 3.6e6
_MAX_SPEED = 100.0  # [m s-1], as twinloop.cycles.read_trace refuses a faster trace
_MAX_ACCELERATION = 12.0  # [m s-2], as read_trace: beyond tyre grip

PRECONDITIONED_BATTERY_TEMPERATURE = 293.15
"""Battery temperature [K] a pre-conditioned pack starts at (20 °C), when it is colder."""

_CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}


@dataclass(frozen=True)
class WhatIfOptions:
    """How far each what-if changes the drive (defaults as in ``docs/energy.md``).

    Attributes
    ----------
    cruise_speed_reduction : float
        Share [1] the cruising speed is lowered by, in (0, 0.5]; default 0.10.
    min_cruise_speed : float
        Cruising speed [m s-1] below which no lower speed is suggested
        (speeds there are set by the road, not the driver); default 60 km/h.
    cruise_min_duration : float
        Time [s] the trip must spend at its cruising speed or above; default 60.
    max_acceleration, max_deceleration : float
        Gentle limits [m s-2], > 0; default 1.0, the threshold of hard
        acceleration and braking in the driving profiles
        (:data:`twinloop.apps.profiles.HARD_ACCELERATION`).
    setpoint_change : float
        How much closer to ambient [K] the eco climate set point is, in (0, 10]; default 2.
    tyre_underinflation : float
        Share [1] below the placard pressure the tyres are assumed to run at,
        in (0, 0.5]; default 0.20.
    payload_reduction : float
        Mass [kg] taken out, in (0, 1000]; default 50.
    min_saving_share : float
        Smallest saving [1] of the trip's battery energy worth suggesting,
        in [0, 0.1]; a smaller one is listed as skipped ("negligible");
        default 0.005 (0.5 %).
    """

    cruise_speed_reduction: float = 0.10
    min_cruise_speed: float = 60 / 3.6
    cruise_min_duration: float = 60.0
    max_acceleration: float = HARD_ACCELERATION
    max_deceleration: float = HARD_ACCELERATION
    setpoint_change: float = 2.0
    tyre_underinflation: float = 0.20
    payload_reduction: float = 50.0
    min_saving_share: float = 0.005

    def __post_init__(self) -> None:
        limits = {
            "cruise_speed_reduction": (0.0, 0.5, "(0, 0.5]"),
            "min_cruise_speed": (0.0, _MAX_SPEED, "(0, 100] m/s"),
            "cruise_min_duration": (0.0, 3600.0, "(0, 3600] s"),
            "max_acceleration": (0.0, _MAX_ACCELERATION, "(0, 12] m/s2"),
            "max_deceleration": (0.0, _MAX_ACCELERATION, "(0, 12] m/s2"),
            "setpoint_change": (0.0, 10.0, "(0, 10] K"),
            "tyre_underinflation": (0.0, 0.5, "(0, 0.5]"),
            "payload_reduction": (0.0, 1000.0, "(0, 1000] kg"),
        }
        for name, (low, high, text) in limits.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
                raise ValidationError(name, f"a number in {text}", value, "WhatIfOptions")
        share = self.min_saving_share
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0.0 <= share <= 0.1:
            raise ValidationError("min_saving_share", "a number in [0, 0.1]", share, "WhatIfOptions")


def _on_grid(cycle: Cycle, time_step: float) -> Cycle:
    """The cycle as the simulator drives it: on a uniform grid of `time_step`."""
    if cycle.is_uniform() and abs(float(cycle.time[1] - cycle.time[0]) - time_step) <= 1e-9:
        return cycle
    return cycle.resample(time_step)


def _lighter(spec: VehicleSpec, mass: float) -> VehicleSpec:
    """`spec` `mass` [kg] lighter; a coast-down A scales with the mass, as the simulator scales it for payload."""
    new = spec.test_mass - mass
    if spec.road_load_form == "coastdown":
        assert spec.coastdown_a is not None
        return spec.with_changes(test_mass=new, coastdown_a=spec.coastdown_a * new / spec.test_mass)
    return spec.with_changes(test_mass=new)


def _rolling_scaled(spec: VehicleSpec, factor: float) -> VehicleSpec:
    """`spec` with its rolling resistance (Crr, or the coast-down A and B terms) times `factor`."""
    if spec.road_load_form == "coastdown":
        assert spec.coastdown_a is not None
        return spec.with_changes(coastdown_a=spec.coastdown_a * factor, coastdown_b=(spec.coastdown_b or 0.0) * factor)
    assert spec.rolling_resistance_coefficient is not None
    return spec.with_changes(rolling_resistance_coefficient=spec.rolling_resistance_coefficient * factor)


# ---- the registry --------------------------------------------------------------------------
class _NotApplicable(Exception):
    """The what-if does not apply to this drive; the message says why."""


@dataclass(frozen=True)
class _Context:
    spec: VehicleSpec
    drive: EnergyDrive
    scenario: Scenario
    baseline: SimulationResult
    grid: Cycle  # the trace on the simulator's grid
    options: WhatIfOptions


@dataclass(frozen=True)
class _Changed:
    result: SimulationResult
    suggestion: str  # the advice; ": saves ..." follows
    change: str  # what was changed, technically
    parameters: dict[str, float]
    unpaid: str | None = None  # why the saving is no money saved (the energy comes from the grid instead)


def _kmh(speed: float) -> str:
    return f"{speed * 3.6:.0f} km/h"


def _celsius(kelvin: float) -> str:
    return f"{kelvin_to_celsius(kelvin):.1f}".removesuffix(".0") + " °C"


def _cruise(ctx: _Context) -> _Changed:
    o = ctx.options
    v = ctx.grid.vehicle_speed
    dt = float(ctx.grid.time[1] - ctx.grid.time[0])
    held = math.ceil(o.cruise_min_duration / dt)
    if v.size < held:
        raise _NotApplicable(f"the trip is shorter than {o.cruise_min_duration:g} s")
    cruise = float(np.sort(v)[-held])  # the speed the trip held, or exceeded, for cruise_min_duration
    if cruise < o.min_cruise_speed:
        raise _NotApplicable(f"no stretch at or above {_kmh(o.min_cruise_speed)} lasting {o.cruise_min_duration:g} s "
                             f"(the speed held for {o.cruise_min_duration:g} s was {_kmh(cruise)})")
    cap = (1.0 - o.cruise_speed_reduction) * cruise
    changed = capped_speed_trace(ctx.drive.cycle, cap)
    above = float(np.sum(v > cap) * dt)
    return _Changed(
        simulate(ctx.spec, replace(ctx.scenario, cycle=changed)),
        f"Cruise at {_kmh(cap)} instead of {_kmh(cruise)} where you drove faster ({above / 60:.0f} min of this trip)",
        f"speed capped at {cap:.3f} m/s ({1 - o.cruise_speed_reduction:g} x the cruising speed {cruise:.3f} m/s, the "
        f"speed held for {o.cruise_min_duration:g} s), same distance, time stretched",
        {"cruise_speed_mps": cruise, "cap_mps": cap, "time_above_cap_s": above},
    )


def _gentle(ctx: _Context) -> _Changed:
    o = ctx.options
    g = ctx.grid
    accel = np.diff(g.vehicle_speed) / np.diff(g.time)
    moving = 0.5 * (g.vehicle_speed[:-1] + g.vehicle_speed[1:]) > MOVING_SPEED
    hard_up = int(np.sum(moving & (accel > o.max_acceleration + 1e-9)))
    hard_down = int(np.sum(moving & (accel < -o.max_deceleration - 1e-9)))
    if not hard_up and not hard_down:
        raise _NotApplicable(f"no acceleration above {o.max_acceleration:g} m/s2 and no braking above "
                             f"{o.max_deceleration:g} m/s2 in this trip")
    changed = gentle_speed_trace(ctx.drive.cycle, o.max_acceleration, o.max_deceleration)
    return _Changed(
        simulate(ctx.spec, replace(ctx.scenario, cycle=changed)),
        f"Accelerate more gently (at most {o.max_acceleration:g} m/s², 0-50 km/h in "
        f"{50 / 3.6 / o.max_acceleration:.0f} s) and lift off earlier so that braking stays below "
        f"{o.max_deceleration:g} m/s² ({hard_up + hard_down} s of harder acceleration or braking in this trip)",
        f"acceleration limited to {o.max_acceleration:g} m/s2 and deceleration to {o.max_deceleration:g} m/s2 over "
        "the same distance, time stretched",
        {"max_acceleration_mps2": o.max_acceleration, "max_deceleration_mps2": o.max_deceleration,
         "hard_acceleration_s": hard_up, "hard_braking_s": hard_down},
    )


def _hvac_ran(ctx: _Context) -> bool:
    return float(ctx.baseline.breakdown["hvac"][0]) > 0.0


def _preconditioning(ctx: _Context) -> _Changed:
    ambient = float(np.asarray(ctx.scenario.ambient_temperature))
    battery = ctx.drive.battery_temperature_start if ctx.drive.battery_temperature_start is not None else ambient
    warm_battery = battery < PRECONDITIONED_BATTERY_TEMPERATURE - 5.0
    if not _hvac_ran(ctx) and not warm_battery:
        raise _NotApplicable(f"the climate control did not run (ambient {_celsius(ambient)}, within 15-25 °C) and "
                             f"the battery started at {_celsius(battery)}")
    setpoint = ctx.spec.cabin_setpoint
    cabin = setpoint if _hvac_ran(ctx) else ambient  # a cabin whose climate stays off is left as it was
    start = max(battery, PRECONDITIONED_BATTERY_TEMPERATURE)
    warm = replace(ctx.scenario, cabin_temperature_start=cabin, battery_temperature_start=start)
    parts = ["the cabin"] if _hvac_ran(ctx) else []
    if start > battery:
        parts.append(f"the battery (to {_celsius(start)})")
    return _Changed(
        simulate(ctx.spec, warm),
        f"Pre-condition {' and '.join(parts)} while plugged in, before you leave",
        (f"cabin starting at its set point {_celsius(setpoint)} (no warm-up from the battery)" if _hvac_ran(ctx)
         else "cabin as driven") + f"; battery starting at {start:.2f} K instead of {battery:.2f} K",
        {"cabin_temperature_start_k": cabin, "battery_temperature_start_k": start},
        unpaid="the warm-up is then drawn from the grid while plugged in, so it saves range rather than money",
    )


def _eco_hvac(ctx: _Context) -> _Changed:
    ambient = float(np.asarray(ctx.scenario.ambient_temperature))
    if not _hvac_ran(ctx):
        raise _NotApplicable(f"the climate control did not run: ambient {_celsius(ambient)} is within 15-25 °C, "
                             "where automatic climate control is off")
    setpoint = ctx.spec.cabin_setpoint
    step = min(ctx.options.setpoint_change, abs(setpoint - ambient))
    eco = setpoint - step if ambient < setpoint else setpoint + step
    mode = "heating" if ambient < setpoint else "cooling"
    return _Changed(
        simulate(ctx.spec.with_changes(cabin_setpoint=eco), ctx.scenario),
        f"Set the climate control to {_celsius(eco)} instead of {_celsius(setpoint)} ({mode}; seat and wheel "
        "heating keep you comfortable for less)",
        f"cabin set point {eco:.2f} K instead of {setpoint:.2f} K",
        {"setpoint_k": setpoint, "eco_setpoint_k": eco},
    )


def _tyres(ctx: _Context) -> _Changed:
    u = ctx.options.tyre_underinflation
    factor = float(rolling_resistance_pressure_factor(1.0, 1.0 - u))
    return _Changed(
        simulate(_rolling_scaled(ctx.spec, factor), ctx.scenario),
        f"Check the tyre pressures: if they are {100 * u:.0f} % below the placard (e.g. {2.5 * (1 - u):.1f} instead of "
        "2.5 bar), inflating them",
        f"rolling resistance x {factor:.4f}: tyres from {1 - u:g} of the placard pressure to the placard, "
        f"Crr proportional to pressure^{PRESSURE_EXPONENT:g} (SAE J2452)",
        {"underinflation": u, "rolling_resistance_factor": factor, "pressure_exponent": PRESSURE_EXPONENT},
    )


def _payload(ctx: _Context) -> _Changed:
    mass = ctx.options.payload_reduction
    if ctx.spec.test_mass - mass < 300.0:
        raise _NotApplicable(f"the vehicle weighs {ctx.spec.test_mass:g} kg")
    return _Changed(
        simulate(_lighter(ctx.spec, mass), ctx.scenario),
        f"Carry {mass:g} kg less (a roof box, tools or luggage left in the boot)",
        f"test mass {ctx.spec.test_mass - mass:g} kg instead of {ctx.spec.test_mass:g} kg (coast-down A scaled with it)",
        {"mass_reduction_kg": mass},
    )


_WHAT_IFS: dict[str, tuple[Callable[[_Context], _Changed], str]] = {
    "lower_cruising_speed": (_cruise, "air drag rises with the square of speed (Gillespie 1992, ch. 4)"),
    "gentle_driving": (_gentle, "eco-driving: moderate acceleration, anticipation (Barkenbus 2010, "
                                "doi:10.1016/j.enpol.2009.10.021)"),
    "preconditioning": (_preconditioning, "cabin warm-up is the largest share of cold-weather HVAC energy (Kambly "
                                          "and Bradley 2014, doi:10.1016/j.jpowsour.2014.02.033)"),
    "eco_hvac_setpoint": (_eco_hvac, "HVAC load proportional to set point minus ambient (Kambly and Bradley 2014, "
                                     "doi:10.1016/j.jpowsour.2014.02.033)"),
    "tyre_pressure": (_tyres, "SAE J2452 rolling resistance ~ pressure^-0.4 (doi:10.4271/J2452_199906); NRC 2006, "
                              "TRB Special Report 286 (doi:10.17226/11620)"),
    "less_payload": (_payload, "rolling resistance and inertia proportional to mass"),
}

WHAT_IF_NAMES = tuple(_WHAT_IFS)
"""The what-ifs :func:`what_ifs` tries, by name, in the order tried (ranked by saving in the result)."""


# ---- running them -------------------------------------------------------------------------
def _money(amount: float, currency: str) -> str:
    symbol = _CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:.2f}" if symbol else f"{amount:.2f} {currency}"


def what_ifs(spec: VehicleSpec, drive: EnergyDrive, options: WhatIfOptions | None = None, *,
             price: float | None = None, currency: str = "EUR",
             baseline: SimulationResult | None = None) -> WhatIfs:
    r"""Each what-if of :data:`WHAT_IF_NAMES` re-simulated on `drive`, ranked by the energy it saves.

    Parameters
    ----------
    spec : VehicleSpec
        The vehicle, as in :func:`energy_breakdown`.
    drive : EnergyDrive
        The drive as driven.
    options : WhatIfOptions, optional
        How far each what-if changes the drive.
    price : float, optional
        Electricity price per kWh at the socket, in [0, 100]; None: no money.
    currency : str
        ISO 4217 code, default ``"EUR"``.
    baseline : SimulationResult, optional
        The simulation of `drive` with `spec`, when already run.

    Returns
    -------
    WhatIfs

    Raises
    ------
    ValidationError
        A negative or absurd price, a currency that is not a 3-letter code.

    Notes
    -----
    Each what-if is the same drive changed one way, simulated by the same
    simulator: a changed speed trace (:func:`capped_speed_trace`,
    :func:`gentle_speed_trace`), a changed scenario (cabin and battery start
    temperatures) or a changed specification (set point, rolling resistance,
    mass). With :math:`E_0` and :math:`E_1` the battery energy of the drive
    as driven and as changed,

    .. math:: \Delta E = E_0 - E_1, \qquad \Delta E / E_0, \qquad
              (W_0 - W_1)\,p

    where :math:`W = E / \eta_{charger}` is the energy from the wall and
    :math:`p` the price (none for pre-conditioning: the warm-up it saves the
    battery is drawn from the grid instead). A what-if that saves nothing (:math:`\Delta E \le 0`)
    is skipped, with its result as the reason.

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> from twinloop.parameters import resolve_vehicle
    >>> found = what_ifs(resolve_vehicle("nissan_leaf_40kwh_2018"), EnergyDrive(load_cycle("hwfet")), price=0.3)
    >>> [w.name for w in found.ranked][:2]
    ['lower_cruising_speed', 'tyre_pressure']
    >>> {s.name: s.reason for s in found.skipped}["eco_hvac_setpoint"]
    'the climate control did not run: ambient 20 °C is within 15-25 °C, where automatic climate control is off'
    """
    options = options or WhatIfOptions()
    check_price(price, currency)
    scenario = drive.scenario()
    if baseline is None:
        baseline = simulate(spec, scenario)
    ctx = _Context(spec, drive, scenario, baseline, _on_grid(drive.cycle, scenario.time_step), options)
    e0 = float(baseline.battery_energy[0])
    w0 = float(baseline.wall_energy[0])
    found: list[WhatIf] = []
    skipped: list[SkippedWhatIf] = []
    for name, (run, source) in _WHAT_IFS.items():
        try:
            changed = run(ctx)
        except _NotApplicable as exc:
            skipped.append(SkippedWhatIf(name, str(exc)))
            continue
        e1 = float(changed.result.battery_energy[0])
        saving = e0 - e1
        if saving <= 0.0:
            skipped.append(SkippedWhatIf(name, f"saves nothing on this trip ({saving / _J_PER_KWH:+.4f} kWh)"))
            continue
        if saving < options.min_saving_share * e0:
            skipped.append(SkippedWhatIf(name, f"saves only {saving / _J_PER_KWH:.4f} kWh ({100 * saving / e0:.2f} %) "
                                               f"on this trip, below {100 * options.min_saving_share:g} %: negligible"))
            continue
        money = None if price is None or changed.unpaid else (w0 - float(changed.result.wall_energy[0])) / _J_PER_KWH * price
        share = saving / e0 if e0 > 0 else math.nan
        said = f"{saving / _J_PER_KWH:.2f} kWh ({100 * share:.1f} %" + (
            f", {_money(money, currency)})" if money is not None else ")")
        unpaid = f" ({changed.unpaid})" if changed.unpaid else ""
        found.append(WhatIf(
            name=name, suggestion=f"{changed.suggestion}: saves {said} on this trip{unpaid}", change=changed.change,
            baseline_energy=e0, energy=e1, saving=saving, saving_share=share, saving_money=money,
            currency=currency, extra_time=float(changed.result.duration - baseline.duration), source=source,
            parameters=changed.parameters,
        ))
    found.sort(key=lambda w: w.saving, reverse=True)
    return WhatIfs(tuple(found), tuple(skipped), baseline)
