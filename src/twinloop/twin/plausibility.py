"""Plausibility of a vehicle's reported odometer against its own speed signal.

A twin's odometer drives its health tracking (fade per 1,000 km) and its
service intervals, so a reading that goes backwards, or that disagrees with
the distance the speed signal integrates to, must not pass silently. These
checks return a note (or None); they never raise, because the telemetry may
be right and the other signal wrong: the caller decides what to keep and
reports the note.
"""

from __future__ import annotations

__all__ = [
    "MIN_COMPARED_DISTANCE",
    "ODOMETER_SPEED_RATIO",
    "ODOMETER_TOLERANCE",
    "odometer_regression",
    "odometer_speed_mismatch",
]

#: Largest drop of the odometer [m] read as rounding, not as a regression.
ODOMETER_TOLERANCE = 100.0

#: Odometer advance over speed-integrated distance [1] accepted as agreement.
#: Wide, because logging gaps while driving shorten the integrated distance.
ODOMETER_SPEED_RATIO = (0.8, 1.25)

#: Shortest distance [m] (by either signal) over which the two are compared.
MIN_COMPARED_DISTANCE = 2000.0

# Ratios that betray a unit slip, and what each one suggests.
_UNIT_SLIPS = {
    3.6: "speed in m/s stored as km/h, or the odometer in the wrong unit",
    1 / 3.6: "speed in km/h stored as m/s",
    1.609344: "an odometer in miles read as kilometres, or speed in km/h read as mph",
    1 / 1.609344: "speed in mph read as km/h, or an odometer in kilometres read as miles",
    1000.0: "an odometer in metres read as kilometres",
    0.001: "an odometer in kilometres read as metres",
}


def odometer_regression(previous: float | None, reading: float) -> str | None:
    """A note when the odometer `reading` [m] is below the twin's `previous` one [m].

    Examples
    --------
    >>> print(odometer_regression(15_000e3, 12_000e3))
    the odometer reads 12000.0 km, below the twin's 15000.0 km: kept 15000.0 km (an odometer reset, a replaced instrument cluster or a unit slip?)
    >>> odometer_regression(15_000e3, 15_000.05e3) is None
    True
    """
    if previous is None or reading >= previous - ODOMETER_TOLERANCE:
        return None
    return (
        f"the odometer reads {reading / 1e3:.1f} km, below the twin's {previous / 1e3:.1f} km:"
        f" kept {previous / 1e3:.1f} km (an odometer reset, a replaced instrument cluster or a unit slip?)"
    )


def odometer_speed_mismatch(odometer_advance: float, speed_distance: float) -> str | None:
    """A note when the odometer's advance and the speed signal's distance [m] disagree.

    They agree when their ratio lies in :data:`ODOMETER_SPEED_RATIO`; below
    :data:`MIN_COMPARED_DISTANCE` on both there is too little to compare. A
    ratio near a unit conversion (3.6, 1.609, 1000) names the likely slip.

    Examples
    --------
    >>> odometer_speed_mismatch(36_000.0, 10_000.0)
    'the odometer advanced 36.0 km while the speed signal integrates to 10.0 km (ratio 3.60: speed in m/s stored as km/h, or the odometer in the wrong unit)'
    >>> odometer_speed_mismatch(10_300.0, 10_000.0) is None
    True
    """
    if max(odometer_advance, speed_distance) < MIN_COMPARED_DISTANCE:
        return None
    if odometer_advance < 0.0:
        return f"the odometer went back by {-odometer_advance / 1e3:.1f} km while the vehicle drove"
    if speed_distance <= 0.0:
        return (
            f"the odometer advanced {odometer_advance / 1e3:.1f} km while the speed signal shows no driving"
            " (speed not logged while driving?)"
        )
    ratio = odometer_advance / speed_distance
    low, high = ODOMETER_SPEED_RATIO
    if low <= ratio <= high:
        return None
    slip = next((why for r, why in _UNIT_SLIPS.items() if abs(ratio / r - 1.0) < 0.05), None)
    if slip is None:
        slip = "speed not logged while driving" if ratio > 1.0 else "a speed signal in another unit"
    return (
        f"the odometer advanced {odometer_advance / 1e3:.1f} km while the speed signal integrates to"
        f" {speed_distance / 1e3:.1f} km (ratio {ratio:.2f}: {slip})"
    )
