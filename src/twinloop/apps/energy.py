r"""Energy what-ifs: where every kWh of a trip went, and what driving differently would have saved.

Two questions about one trip, both answered by re-simulating the drive
with the vehicle's twin (:func:`twinloop.sim.simulate`):

*Where did the energy go?* :func:`energy_breakdown` splits the energy
the battery gave at its terminals into causes (:data:`BREAKDOWN_LINES`):
rolling resistance, air drag, climbing, acceleration not given back by
regeneration, drivetrain losses, auxiliaries and climate control. For a
stored trip with battery current and voltage, the measured energy
:math:`\int V I\,dt` is the total, and what the model does not explain is a
line of its own, so that the lines add up to the measurement exactly.

*What would have saved energy?* :func:`what_ifs` re-simulates the same
trip changed one way at a time (:data:`WHAT_IF_NAMES`): a lower cruising
speed, gentler acceleration and braking, a pre-conditioned cabin and
battery, an eco climate set point, tyres at their placard pressure, less
load. Each saving is the baseline simulation minus the changed one, in kWh,
percent and money, ranked; what does not apply to the trip is listed with
the reason.

:func:`energy_report` and :func:`twin_energy_report` compose both into one
:class:`EnergyReport`. The definitions and their sources are in
``docs/energy.md``.

This module is the app's public face; its parts live in their own modules
and are re-exported here: the drive (:mod:`~twinloop.apps.energy_drive`:
:class:`EnergyDrive`, :func:`stored_trip_drive`), the twin's calibration
(:mod:`~twinloop.apps.energy_calibration`), the changed speed traces
(:mod:`~twinloop.apps.energy_traces`), the what-ifs
(:mod:`~twinloop.apps.energy_whatifs`) and what they found
(:mod:`~twinloop.apps.energy_savings`).

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

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from twinloop.apps.energy_calibration import ModelCalibration, calibrated_spec
from twinloop.apps.energy_drive import EnergyDrive, stored_trip_drive
from twinloop.apps.energy_savings import SkippedWhatIf, WhatIf, WhatIfs, check_price
from twinloop.apps.energy_traces import capped_speed_trace, gentle_speed_trace
from twinloop.apps.energy_whatifs import (
    PRECONDITIONED_BATTERY_TEMPERATURE,
    WHAT_IF_NAMES,
    WhatIfOptions,
    what_ifs,
)
from twinloop.conventions import kelvin_to_celsius
from twinloop.errors import DataError, ValidationError
from twinloop.parameters.spec import VehicleSpec
from twinloop.sim import SimulationResult, simulate
from twinloop.twin.samples import stored_trips

if TYPE_CHECKING:
    from twinloop.twin.lifecycle import Twin

__all__ = [
    "BREAKDOWN_LINES",
    "ERROR_TRIPS",
    "PRECONDITIONED_BATTERY_TEMPERATURE",
    "WHAT_IF_NAMES",
    "EnergyBreakdown",
    "EnergyDrive",
    "EnergyReport",
    "ModelCalibration",
    "SkippedWhatIf",
    "WhatIf",
    "WhatIfOptions",
    "WhatIfs",
    "calibrated_spec",
    "capped_speed_trace",
    "energy_breakdown",
    "energy_report",
    "gentle_speed_trace",
    "stored_trip_drive",
    "twin_energy_report",
    "what_ifs",
]

_J_PER_KWH = 3.6e6
_ERROR_SIGMAS = 2.0  # the stated model error is +-2 RMSE, about 95 %

BREAKDOWN_LINES = ("rolling", "aerodynamic", "climbing", "acceleration", "drivetrain_losses", "auxiliaries",
                   "hvac", "unexplained")
"""The lines of :attr:`EnergyBreakdown.lines`, in order.

From the simulator's breakdown (:data:`twinloop.sim.BREAKDOWN_KEYS`):
``rolling`` (tyres; the coast-down A + B v terms), ``aerodynamic``,
``climbing`` (``grade``: net of descents), ``acceleration``
(``kinetic_change`` + ``friction_braking``: the kinetic energy the trip put
in and did not get back by regeneration), ``drivetrain_losses`` (motor,
inverter, gearbox; driving and regenerating), ``auxiliaries``, ``hvac``;
``unexplained`` is the measured total less the model's (0 without a
measurement). The battery's own losses lie behind its terminals, where the
measured :math:`V I` is taken: :attr:`EnergyBreakdown.battery_losses`.
"""

_SIM_LINES: dict[str, tuple[str, ...]] = {
    "rolling": ("rolling",),
    "aerodynamic": ("aerodynamic",),
    "climbing": ("grade",),
    "acceleration": ("kinetic_change", "friction_braking"),
    "drivetrain_losses": ("drivetrain_losses",),
    "auxiliaries": ("auxiliary",),
    "hvac": ("hvac",),
}


# ---- where the energy went ---------------------------------------------------------------
@dataclass(frozen=True)
class EnergyBreakdown:
    """Where the battery energy of one drive went [J].

    Attributes
    ----------
    lines : dict of str to float
        Energy by cause, keys :data:`BREAKDOWN_LINES`; they sum to `total`.
    total : float
        The measured energy when there is one, else the modelled.
    modelled : float
        Battery energy at the terminals, as simulated.
    measured : float or None
        Measured :math:`\\int V I\\,dt`.
    residual : float or None
        Measured less modelled (the ``unexplained`` line).
    model_error : float or None
        The model's stated error for this drive, ±2 RMSE times the distance
        (about 95 %); None when the twin is not calibrated.
    within_model_error : bool or None
        Whether ``|residual| <= model_error``.
    battery_losses : float
        Heat in the pack (ohmic and polarisation losses), modelled: behind
        the terminals, so in no line.
    battery_energy : float
        Energy the cells gave (modelled terminal energy plus battery losses).
    regeneration_recovered : float
        Braking energy returned to the battery (already netted in the lines).
    distance, duration : float
        [m], [s] as simulated.
    trace_missed_time : float
        Time [s] the simulated vehicle fell behind the trace.
    """

    lines: dict[str, float]
    total: float
    modelled: float
    measured: float | None
    residual: float | None
    model_error: float | None
    within_model_error: bool | None
    battery_losses: float
    battery_energy: float
    regeneration_recovered: float
    distance: float
    duration: float
    trace_missed_time: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, energies in kWh (4 decimals): the lines add up to ``total_kwh`` as printed."""
        lines: dict[str, float | None] = {k: _kwh(v) for k, v in self.lines.items() if k != "unexplained"}
        total = _kwh(self.total)
        # the unexplained line absorbs the rounding, so that the printed lines sum to the printed total
        explained = sum(v for v in lines.values() if v is not None)
        lines["unexplained"] = round(total - explained, 4) + 0.0 if self.measured is not None else None
        return {
            "basis": "measured" if self.measured is not None else "modelled",
            "total_kwh": total,
            "measured_kwh": None if self.measured is None else _kwh(self.measured),
            "modelled_kwh": _kwh(self.modelled),
            "residual_kwh": None if self.residual is None else _kwh(self.residual),
            "model_error_kwh": None if self.model_error is None else _kwh(self.model_error),
            "within_model_error": self.within_model_error,
            "lines_kwh": lines,
            "battery_losses_kwh": _kwh(self.battery_losses),
            "battery_energy_kwh": _kwh(self.battery_energy),
            "regeneration_recovered_kwh": _kwh(self.regeneration_recovered),
            "distance_km": round(self.distance / 1000.0, 3),
            "duration_s": round(self.duration, 1),
            "trace_missed_s": self.trace_missed_time,
        }


def _kwh(joules: float) -> float:
    return round(joules / _J_PER_KWH, 4) + 0.0  # + 0.0: no -0.0


def energy_breakdown(spec: VehicleSpec, drive: EnergyDrive, model_error: float | None = None,
                     result: SimulationResult | None = None) -> EnergyBreakdown:
    r"""Where the battery energy of `drive` went, by cause, balanced to the measurement when there is one.

    Parameters
    ----------
    spec : VehicleSpec
        The vehicle (for a twin, :func:`calibrated_spec` of its specification).
    drive : EnergyDrive
        The trace, its conditions and the measured energy (if any).
    model_error : float, optional
        The model's error per distance [J m-1] (an RMSE); the stated error
        is twice it times the simulated distance.
    result : SimulationResult, optional
        The simulation of `drive` with `spec`, when already run.

    Returns
    -------
    EnergyBreakdown

    Notes
    -----
    With :math:`E_k` the simulated energy of cause :math:`k` (battery
    terminal basis), :math:`E_{mod} = \sum_k E_k` and :math:`E_{meas}` the
    measured energy,

    .. math:: E_{unexplained} = E_{meas} - E_{mod}, \qquad
              \sum_k E_k + E_{unexplained} = E_{meas}

    and :math:`|E_{unexplained}| \le 2\,\mathrm{RMSE}\,d` is the check
    against the stated error. The lines are the simulator's breakdown less
    the battery's internal losses, which the terminals do not see.

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> from twinloop.parameters import resolve_vehicle
    >>> b = energy_breakdown(resolve_vehicle("nissan_leaf_40kwh_2018"), EnergyDrive(load_cycle("udds")))
    >>> abs(sum(b.lines.values()) - b.total) < 1e-6 * b.total, b.measured is None
    (True, True)
    """
    if result is None:
        result = simulate(spec, drive.scenario())
    lines = {name: float(sum(result.breakdown[k][0] for k in keys)) for name, keys in _SIM_LINES.items()}
    modelled = float(sum(lines.values()))
    measured = drive.measured_energy
    residual = None if measured is None else measured - modelled
    lines["unexplained"] = 0.0 if residual is None else residual
    distance = float(result.distance[0])
    stated = None if model_error is None else _ERROR_SIGMAS * model_error * distance
    return EnergyBreakdown(
        lines=lines,
        total=modelled if measured is None else float(measured),
        modelled=modelled,
        measured=measured,
        residual=residual,
        model_error=stated,
        within_model_error=None if stated is None or residual is None else abs(residual) <= stated,
        battery_losses=float(result.breakdown["battery_losses"][0]),
        battery_energy=float(result.battery_energy[0]),
        regeneration_recovered=float(result.regeneration_recovered[0]),
        distance=distance,
        duration=float(result.duration),
        trace_missed_time=float(result.trace_missed_time[0]),
    )


# ---- the report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnergyReport:
    """Where the energy of one drive went and what would have saved some, for one vehicle.

    Attributes
    ----------
    vin : str or None
        The twin's VIN; None for a library vehicle.
    vehicle : str
        The specification's name.
    drive : EnergyDrive
        What was explained.
    calibration : ModelCalibration
        Whether the twin is calibrated and what of its champion was used.
    breakdown : EnergyBreakdown
    what_ifs : WhatIfs
    price : float or None
        Per kWh at the socket.
    currency : str
    warnings : tuple of str
        What the reader should know: an uncalibrated twin, a residual beyond
        the stated error, a trace the vehicle could not follow.
    """

    vin: str | None
    vehicle: str
    drive: EnergyDrive
    calibration: ModelCalibration
    breakdown: EnergyBreakdown
    what_ifs: WhatIfs
    price: float | None
    currency: str
    warnings: tuple[str, ...] = ()

    @property
    def calibrated(self) -> bool:
        """Whether the twin's champion was calibrated on measured trips."""
        return self.calibration.calibrated

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready dict; energies in kWh, temperatures in °C."""
        d = self.drive
        return {
            "vin": self.vin,
            "vehicle": self.vehicle,
            "trip": d.description,
            "trip_no": d.trip_no,
            "ambient_temperature_c": round(kelvin_to_celsius(d.ambient_temperature), 2),
            "calibrated": self.calibrated,
            "model": self.calibration.to_dict(),
            "breakdown": self.breakdown.to_dict(),
            "price_per_kwh": self.price,
            "currency": self.currency,
            "suggestions": [w.to_dict() for w in self.what_ifs.ranked],
            "skipped": [s.to_dict() for s in self.what_ifs.skipped],
            "notes": list(d.notes),
            "warnings": list(self.warnings),
        }


def energy_report(spec: VehicleSpec, drive: EnergyDrive, calibration: ModelCalibration | None = None, *,
                  vin: str | None = None, options: WhatIfOptions | None = None, price: float | None = None,
                  currency: str = "EUR") -> EnergyReport:
    """The breakdown and the what-ifs of `drive` with `spec`, in one report.

    Parameters
    ----------
    spec : VehicleSpec
        The vehicle as simulated (see :func:`calibrated_spec` for a twin's).
    drive : EnergyDrive
    calibration : ModelCalibration, optional
        From :func:`calibrated_spec`; default: a library vehicle, not calibrated.
    vin : str, optional
    options : WhatIfOptions, optional
    price : float, optional
        Per kWh at the socket, in [0, 100].
    currency : str
        ISO 4217 code.

    Returns
    -------
    EnergyReport

    Examples
    --------
    >>> from twinloop.cycles import load_cycle
    >>> from twinloop.parameters import resolve_vehicle
    >>> report = energy_report(resolve_vehicle("nissan_leaf_40kwh_2018"), EnergyDrive(load_cycle("udds")))
    >>> report.calibrated, report.to_dict()["breakdown"]["basis"]
    (False, 'modelled')
    """
    check_price(price, currency)
    calibration = calibration or ModelCalibration(False, notes=("no twin: the specification as it is",))
    baseline = simulate(spec, drive.scenario())
    breakdown = energy_breakdown(spec, drive, calibration.model_error, result=baseline)
    found = what_ifs(spec, drive, options, price=price, currency=currency, baseline=baseline)
    warnings: list[str] = []
    if vin is not None and not calibration.calibrated:
        warnings.append(f"the twin of {vin} is not calibrated ({'; '.join(calibration.notes)}): the breakdown has no "
                        f"stated error; calibrate it with `twinloop twin calibrate {vin}`")
    if breakdown.within_model_error is False:
        assert breakdown.residual is not None and breakdown.model_error is not None
        warnings.append(f"the measured energy differs from the model's by {_kwh(breakdown.residual):+.4f} kWh, beyond "
                        f"its stated error of ±{_kwh(breakdown.model_error):.4f} kWh")
    if breakdown.trace_missed_time > 0:
        warnings.append(f"the simulated vehicle fell behind the trace for {breakdown.trace_missed_time:.0f} s: "
                        "the savings of that part are not comparable")
    return EnergyReport(vin, spec.name, drive, calibration, breakdown, found, price, currency, tuple(warnings))


def twin_energy_report(twin: Twin, drive: EnergyDrive | int, *, options: WhatIfOptions | None = None,
                       price: float | None = None, currency: str = "EUR") -> EnergyReport:
    """:func:`energy_report` of a twin: its specification with its champion's calibration, on a drive.

    Parameters
    ----------
    twin : Twin
        From :func:`twinloop.twin.open_twin`.
    drive : EnergyDrive or int
        A drive (a trace file read into a :class:`EnergyDrive`), or the number of
        one of the twin's stored trips (:func:`stored_trip_drive`).
    options, price, currency
        As :func:`energy_report`.

    Returns
    -------
    EnergyReport
        Reads the store only: nothing is written.
    """
    check_price(price, currency)
    if not isinstance(drive, EnergyDrive):
        drive = stored_trip_drive(twin.store, twin.vin, drive)
    spec, calibration = calibrated_spec(twin.record.spec, twin.registry.champion())
    if calibration.calibrated:
        calibration = _resimulated_error(twin, spec, calibration, exclude=drive.trip_no)
    return energy_report(spec, drive, calibration, vin=twin.vin, options=options, price=price, currency=currency)


#: Most recent stored trips re-simulated to state the breakdown's error.
ERROR_TRIPS = 20


def _resimulated_error(twin: Twin, spec: VehicleSpec, calibration: ModelCalibration,
                       exclude: int | None) -> ModelCalibration:
    """`calibration` with the error of the re-simulation itself on the twin's latest stored trips.

    The champion's validation error is the error of its trip-feature model;
    the breakdown comes from the simulator with the specification mapped
    from it, which errs differently. Its own error is the root mean square,
    per metre, of measured minus re-simulated energy over up to
    :data:`ERROR_TRIPS` other stored trips with battery current and voltage
    (bias included); with fewer than 3 such trips the champion's stays.
    """
    rows = stored_trips(twin.store, twin.vin)
    numbers = [int(r["trip_no"]) for r in rows if int(r["trip_no"]) != exclude][-ERROR_TRIPS:]
    per_metre = []
    for number in numbers:
        try:
            other = stored_trip_drive(twin.store, twin.vin, number)
        except (DataError, ValidationError):
            continue
        if other.measured_energy is None:
            continue
        result = simulate(spec, other.scenario())
        distance = float(result.distance[0])
        if distance > 0:
            per_metre.append((other.measured_energy - float(result.battery_terminal_energy[0])) / distance)
    if len(per_metre) < 3:
        return calibration
    error = float(np.sqrt(np.mean(np.square(per_metre))))
    return replace(calibration, model_error=error, error_source=f"re-simulated {len(per_metre)} trips")
