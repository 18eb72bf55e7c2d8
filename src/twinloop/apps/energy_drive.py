r"""The drive the energy app explains: a speed trace, its conditions, and what was measured.

:class:`EnergyDrive` is one drive (a trace file, a standard cycle or a
stored trip); :func:`stored_trip_drive` reads a twin's stored trip into one:
its speed and grade, ambient temperature, state of charge and battery
temperature at the start, and the battery energy measured at the terminals,
:math:`\int V I\,dt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from twinloop.cycles import MAX_GAP, Cycle
from twinloop.errors import DataError, TraceError, UnknownNameError, ValidationError
from twinloop.sim import Scenario

if TYPE_CHECKING:
    from twinloop.store.base import TelemetryStore

__all__ = ["EnergyDrive", "stored_trip_drive"]

FloatArray = npt.NDArray[np.float64]

_MAX_SPEED = 100.0  # [m s-1], as twinloop.cycles.read_trace refuses a faster trace
_MAX_ACCELERATION = 12.0  # [m s-2], as read_trace: beyond tyre grip


@dataclass(frozen=True)
class EnergyDrive:
    """One drive to explain: the speed trace, the conditions it was driven in, and what was measured.

    Attributes
    ----------
    cycle : Cycle
        The speed trace (and road grade) driven.
    ambient_temperature : float
        [K], in [223.15, 333.15]; default 293.15 (20 °C).
    soc_start : float
        State of charge at the start [1], default 0.9.
    battery_temperature_start : float or None
        [K]; None: soaked at ambient.
    measured_energy : float or None
        Battery energy measured at the terminals, :math:`\\int V I\\,dt` [J];
        None when not measured (a trace file, a standard cycle).
    description : str
        What the drive is, for the report (``"trip 3 of VIN"``, a file name).
    trip_no : int or None
        The stored trip's number, if it is one.
    notes : tuple of str
        What was assumed in reading it (a default ambient, no measured total ...).
    """

    cycle: Cycle
    ambient_temperature: float = 293.15
    soc_start: float = 0.9
    battery_temperature_start: float | None = None
    measured_energy: float | None = None
    description: str = ""
    trip_no: int | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.cycle, Cycle):
            raise ValidationError("cycle", "a twinloop.cycles.Cycle", type(self.cycle).__name__)
        if self.measured_energy is not None and not (isinstance(self.measured_energy, int | float)
                                                     and math.isfinite(self.measured_energy)):
            raise ValidationError("measured_energy", "a finite number [J], or None", self.measured_energy)
        self.scenario()  # checks ambient, state of charge and battery temperature, naming the field

    def scenario(self) -> Scenario:
        """The drive as the simulator's scenario: on the road, climate ``auto``."""
        return Scenario(self.cycle, ambient_temperature=self.ambient_temperature, soc_start=self.soc_start,
                        battery_temperature_start=self.battery_temperature_start, hvac="auto")


def _numbers_text(numbers: list[int]) -> str:
    """``1-12`` or ``1-3, 5, 8-9``: trip numbers as ranges."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def _check_trace(where: str, t: FloatArray, v: FloatArray, max_gap: float) -> None:
    """Refuse impossible speeds, accelerations and gaps while moving, as a trace file is refused."""
    bad = np.flatnonzero(~np.isfinite(v) | (v < 0) | (v > _MAX_SPEED))
    if bad.size:
        k = int(bad[0])
        raise ValidationError(f"{where} Vehicle.Speed", f"speeds in [0, {_MAX_SPEED:g}] m/s",
                              f"{v[k]:g} m/s at {t[k]:g} s")
    dt = np.diff(t)
    moving = v > 0
    gaps = np.flatnonzero((dt > max_gap) & (moving[:-1] | moving[1:]))
    if gaps.size:
        k = int(gaps[0])
        raise TraceError(f"{where}: a {dt[k]:g} s gap in Vehicle.Speed at {t[k]:g} s while moving "
                         f"({v[k]:g} m/s, then {v[k + 1]:g} m/s); at most {max_gap:g} s is allowed, since the "
                         "speed would be interpolated across it")
    accel = np.diff(v) / dt
    hard = np.flatnonzero(np.abs(accel) > _MAX_ACCELERATION)
    if hard.size:
        k = int(hard[0])
        raise ValidationError(f"{where} Vehicle.Speed", f"accelerations within ±{_MAX_ACCELERATION:g} m/s2",
                              f"{accel[k]:.1f} m/s2 at {t[k + 1]:g} s")


def stored_trip_drive(store: TelemetryStore, vin: str, trip_no: int, *, max_gap: float = MAX_GAP) -> EnergyDrive:
    r"""A stored trip of `vin` as a :class:`EnergyDrive`: its speed trace, conditions and measured energy.

    The trip (``trip_no`` of :meth:`~twinloop.store.TelemetryStore.trips`)
    is read from the store's samples: ``Vehicle.Speed`` (required), the
    road grade and the ambient temperature (mean) when stored, the state of
    charge and battery temperature at the start when stored. The measured
    energy is

    .. math:: E = \int V(t)\, I(t)\, dt

    by the trapezoidal rule on the union of the current and voltage sample
    times, as the twin's trip table integrates it
    (:func:`twinloop.twin.trips.trip_table`); without current or voltage, or
    with a gap in them longer than `max_gap`, there is no measured total
    (the drive's notes say why).

    Raises
    ------
    UnknownNameError
        No trip `trip_no` (the message lists the valid numbers), or no vehicle `vin` in the store.
    DataError
        Fewer than 2 speed samples, or no stored trips.
    TraceError, ValidationError
        A speed outside [0, 100] m/s, an acceleration beyond 12 m/s2, or a
        gap longer than `max_gap` while moving (as a trace file is refused).
    """
    from twinloop.signals.vss import (
        AMBIENT,
        BATTERY_TEMPERATURE,
        CURRENT,
        GRADE,
        SOC,
        SPEED,
        VOLTAGE,
    )
    from twinloop.twin.samples import US, signal_samples, stored_trips

    if isinstance(trip_no, bool) or not isinstance(trip_no, int | np.integer):
        raise ValidationError("trip", "a trip number (an integer)", trip_no)
    trips = {int(r["trip_no"]): r for r in stored_trips(store, vin)}
    if not trips:
        raise DataError(f"{vin} has no stored trips; ingest its telemetry first (`twinloop ingest FILE -v {vin}`)")
    if int(trip_no) not in trips:
        raise UnknownNameError(f"trip of {vin}", str(trip_no), [str(n) for n in trips],
                               hint=f"its trips are numbered {_numbers_text(sorted(trips))}")
    trip = trips[int(trip_no)]
    start, end = trip["start_time"], trip["end_time"]
    where = f"trip {trip_no} of {vin}"
    frame = store.read_frame(vin, [SPEED, CURRENT, VOLTAGE, AMBIENT, GRADE, SOC, BATTERY_TEMPERATURE], start, end + US)
    t, v = signal_samples(frame, SPEED, start)
    if t.size < 2:
        raise DataError(f"{where} has {t.size} Vehicle.Speed sample{'' if t.size == 1 else 's'}; at least 2 are needed")
    _check_trace(where, t, v, max_gap)
    grade = np.zeros_like(t)
    if frame[GRADE].notna().any():
        tg, g = signal_samples(frame, GRADE, start)
        grade = np.interp(t, tg, g)
    notes: list[str] = []
    ambient = frame[AMBIENT].dropna()
    if len(ambient):
        temperature = float(ambient.mean())
    else:
        temperature = 293.15
        notes.append(f"no {AMBIENT} samples: ambient taken as 20 °C")
    soc = frame[SOC].dropna()
    soc_start = float(soc.iloc[0]) if len(soc) and 0.0 <= float(soc.iloc[0]) <= 1.0 else 0.9
    if not len(soc) or soc_start != float(soc.iloc[0]):
        notes.append(f"no usable {SOC} sample at the start: the trip is taken to start at a state of charge of 0.9")
    battery = frame[BATTERY_TEMPERATURE].dropna()
    battery_start = float(battery.iloc[0]) if len(battery) and 223.15 <= float(battery.iloc[0]) <= 353.15 else None
    measured = None
    if frame[CURRENT].notna().sum() >= 2 and frame[VOLTAGE].notna().sum() >= 2:
        (ti, current), (tv, voltage) = signal_samples(frame, CURRENT, start), signal_samples(frame, VOLTAGE, start)
        worst = max(float(np.max(np.diff(ti), initial=0.0)), float(np.max(np.diff(tv), initial=0.0)))
        if worst > max_gap:
            notes.append(f"a {worst:g} s gap in battery current or voltage: no measured total")
        else:
            tu = np.union1d(ti, tv)
            measured = float(np.trapezoid(np.interp(tu, ti, current) * np.interp(tu, tv, voltage), tu))
    else:
        notes.append("no battery current and voltage samples: no measured total")
    cycle = Cycle(f"trip {trip_no}", t - t[0], v, grade, source=where)
    return EnergyDrive(cycle, temperature, soc_start, battery_start, measured, where, int(trip_no), tuple(notes))
