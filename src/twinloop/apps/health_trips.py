"""One pass over a twin's stored trips for the health app: stretch capacities, resistances, temperatures.

The trend's capacities come from :func:`twinloop.twin.health.stretch_capacities`
(the stretches of ``twinloop twin show --health``); each trip it reads is
also measured here, so no trip is read twice. The first trips ever stored
are read as well when they lie before the window: they make the first
resistance estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from twinloop.apps.health_alerts import HealthThresholds
from twinloop.apps.health_fade import SohPoint
from twinloop.apps.health_resistance import TripResistance, trip_resistance
from twinloop.apps.health_temperature import TemperatureCheck, temperature_check
from twinloop.battery.soh import SensorNoise
from twinloop.errors import DataError
from twinloop.signals.vss import (
    AMBIENT,
    BATTERY_TEMPERATURE,
    CURRENT,
    ODOMETER,
    SOC,
    SPEED,
    VOLTAGE,
)
from twinloop.twin.health import TripFrame, stretch_capacities
from twinloop.twin.samples import US, signal_samples, stored_trips

if TYPE_CHECKING:
    import pandas as pd

    from twinloop.twin.lifecycle import Twin

__all__ = ["TripHealth", "read_trips"]

_SIGNALS = [CURRENT, VOLTAGE, SOC, SPEED, ODOMETER, BATTERY_TEMPERATURE, AMBIENT]
_EXTRA = (BATTERY_TEMPERATURE, AMBIENT)  # read besides those stretch_capacities reads


@dataclass(frozen=True)
class TripHealth:
    """What one trip gives: its charge and distance, resistance and temperature.

    Attributes
    ----------
    start, end : datetime
        The trip.
    charge : float
        Net charge drawn [A s].
    distance : float
        Driven, from the speed [m] (0 for a trip outside the window).
    in_window : bool
        One of the latest trips (trend, temperature), not only an early one (resistance).
    resistance : TripResistance or None
    temperature : TemperatureCheck or None
    """

    start: datetime
    end: datetime
    charge: float = 0.0
    distance: float = 0.0
    in_window: bool = False
    resistance: TripResistance | None = None
    temperature: TemperatureCheck | None = None


def _net_charge(frame: pd.DataFrame, start: datetime) -> float:
    ti, current = signal_samples(frame, CURRENT, start)
    return float(np.sum(0.5 * (current[1:] + current[:-1]) * np.diff(ti))) if ti.size >= 2 else 0.0


def read_trips(
    twin: Twin, last_trips: int, noise: SensorNoise, max_gap: float, min_soc_swing: float, th: HealthThresholds
) -> tuple[list[TripHealth], list[SohPoint], str | None]:
    """The trips read (the early ones first) and the trend's points; or no points and why.

    Raises
    ------
    DataError
        If the twin has no trips.
    """
    store, vin = twin.store, twin.vin
    spec = twin.record.spec
    rated = spec.battery_capacity
    every = stored_trips(store, vin)
    if not every:
        raise DataError(
            f"{vin} has no trips in the store; ingest telemetry with {SOC}, {CURRENT}, {VOLTAGE} and"
            f" {BATTERY_TEMPERATURE} first (`twinloop ingest FILE --vehicle NAME`)"
        )
    window = every[-last_trips:]
    # the first trips ever stored make the first resistance estimate, also when they lie before the window
    early = [r for r in every[: th.resistance_trips] if r not in window]
    trips: list[TripHealth] = []
    for row in early:
        start, end = row["start_time"], row["end_time"]
        frame = store.read_frame(vin, _SIGNALS, start, end + US)
        trips.append(TripHealth(start, end, _net_charge(frame, start),
                                resistance=trip_resistance(frame, start, end, spec.battery_activation_temperature)))

    def watch(trip: TripFrame) -> None:
        resistance = trip_resistance(trip.frame, trip.start, trip.end, spec.battery_activation_temperature)
        ohm = resistance.estimate.resistance if resistance is not None else None
        trips.append(TripHealth(
            trip.start, trip.end, _net_charge(trip.frame, trip.start), trip.distance, True, resistance,
            temperature_check(twin, trip.frame, trip.start, trip.end, ohm, th),
        ))

    found = stretch_capacities(twin, window, min_soc_swing=min_soc_swing, noise=noise, max_gap=max_gap,
                               signals=_EXTRA, each_trip=watch)
    points = [SohPoint(p.start, p.end, p.distance, p.capacity, p.standard_error, p.capacity / rated)
              for p in found.points]
    why = None
    if not points:
        count = found.skipped.get
        parts = []
        if count("no soc", 0):
            parts.append(f"{count('no soc', 0)} trip(s) without {SOC}")
        if count("no current", 0):
            parts.append(f"{count('no current', 0)} trip(s) without {CURRENT}")
        if count("gap", 0):
            parts.append(f"{count('gap', 0)} trip(s) with gaps over {max_gap:g} s in {CURRENT}")
        if count("swing", 0):
            parts.append(f"{count('swing', 0)} discharge stretch(es) with a state-of-charge swing below"
                         f" {min_soc_swing:g} (largest {found.largest_swing:.3g})")
        parts += found.rejected[:2]
        why = (f"none of the {len(window)} latest trips gives the battery capacity ({', '.join(parts)}); store trips"
               f" with {SOC} and {CURRENT} whose state of charge falls by {min_soc_swing:g} or more between charges")
    return trips, points, why
