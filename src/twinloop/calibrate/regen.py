r"""The regenerative power limit a vehicle shows in its own telemetry.

A car's controller caps regenerative braking well below what its motor
could take (the JLU Tesla Model 3 returns at most 33 kW to its battery on
every dynamometer cycle, its motor is rated for several times that).
The cap is visible in the data only where the driving reached it: then the
battery power rests on one level for a while instead of touching it once.

:func:`regen_power_limit` finds that plateau: the highest regenerative
battery power :math:`P^- = \max(-P_b)` is taken as the limit when the
trips spend at least `min_time` within `tolerance` of it, and converted to
the motor shaft, where the simulator applies it
(``VehicleSpec.regen_max_power``), by the drive efficiency:
:math:`P_{shaft} = P^- / \eta`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError

__all__ = ["regen_power_limit"]


def regen_power_limit(
    trips: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    drive_efficiency: float,
    *,
    tolerance: float = 0.03,
    min_time: float = 3.0,
) -> float | None:
    """Regenerative power limit at the motor shaft [W] shown by the trips, or None where they never reach one.

    Parameters
    ----------
    trips : sequence of (time, battery_power)
        Per trip, sample times [s] (increasing) and battery power [W],
        positive discharging.
    drive_efficiency : float
        Battery-to-wheel efficiency [1] in (0, 1], e.g. a calibration's
        ``drive_efficiency``.
    tolerance : float
        Relative band below the peak that counts as "at the limit".
    min_time : float
        Least time [s] at the limit, over all trips, for a plateau.

    Examples
    --------
    Five seconds at 30 kW of regeneration, sampled at 10 Hz, and a drive
    efficiency of 0.9:

    >>> t = np.arange(0.0, 20.0, 0.1)
    >>> p = np.where((t > 5) & (t <= 10), -30e3, 10e3)
    >>> round(regen_power_limit([(t, p)], 0.9))
    33333
    >>> regen_power_limit([(t, np.where(t == 5.0, -30e3, 10e3))], 0.9) is None  # touched once
    True
    """
    if not (isinstance(drive_efficiency, int | float) and 0.0 < drive_efficiency <= 1.0):
        raise ValidationError("drive_efficiency", "a number in (0, 1]", drive_efficiency)
    if not (0.0 < tolerance < 1.0 and math.isfinite(min_time) and min_time >= 0.0):
        raise ValidationError("tolerance", "a share in (0, 1), with min_time >= 0 s", (tolerance, min_time))
    pieces = []
    for time, power in trips:
        t, p = np.asarray(time, dtype=float), np.asarray(power, dtype=float)
        if t.size >= 2:
            dt = np.diff(t, append=t[-1] + np.median(np.diff(t)))
            pieces.append((-p, dt))
    if not pieces:
        return None
    regen = np.concatenate([r for r, _ in pieces])
    steps = np.concatenate([d for _, d in pieces])
    peak = float(np.nanmax(regen))
    if not peak > 0:
        return None
    at_limit = float(steps[regen >= (1.0 - tolerance) * peak].sum())
    return peak / drive_efficiency if at_limit >= min_time else None
