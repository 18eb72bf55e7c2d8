r"""Road stretches without a map: a trip's time steps snapped to grid cells and a heading.

A *stretch* is a square cell of a global grid, :data:`CELL_SIZE` (200 m) on
a side, travelled in one of eight compass directions (:data:`HEADINGS`). It
needs no map and no map matching: the same road driven the same way by two
cars on two days falls in the same stretches, and the two carriageways of a
road (or a road and the same road driven back) stay apart by their heading.

The grid: rows of :data:`CELL_SIZE` metres of latitude from the equator;
in each row, columns of :data:`CELL_SIZE` metres of longitude at the row's
middle latitude, from the prime meridian. Distances on the sphere of mean
Earth radius :data:`EARTH_RADIUS`, which within a 200 m cell errs by far
less than a GNSS fix.

A trip is taken on a 1 s grid (:func:`~twinloop.apps.profile_histograms.resample`).
Each time step goes to the stretch of its midpoint and of the heading of its
displacement; a step that does not move (stopped, or the receiver repeated a
fix) keeps the stretch of the step before it, so a car waiting at a light is
not spread over the cells its GNSS scatter touches. A *pass* is a run of
consecutive steps in one stretch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.apps.profile_histograms import SPEED_STEP, Histogram, resample
from twinloop.apps.profiles import CRUISE_ACCELERATION, MOVING_SPEED

__all__ = [
    "CELL_SIZE",
    "EARTH_RADIUS",
    "HEADINGS",
    "MIN_DISPLACEMENT",
    "StretchTally",
    "cell_of",
    "stretch_tallies",
]

FloatArray = npt.NDArray[np.float64]

CELL_SIZE = 200.0
"""Side [m] of a stretch's grid cell."""

EARTH_RADIUS = 6_371_008.8
"""Mean Earth radius [m] (IUGG)."""

HEADINGS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
"""Heading sectors of 45°, centred on the compass points: N is 337.5° to 22.5°."""

MIN_DISPLACEMENT = 1.0
"""Least displacement [m] of a 1 s step whose bearing counts as a heading (below it: GNSS scatter)."""

_METRES_PER_DEGREE = EARTH_RADIUS * math.pi / 180.0


def cell_of(latitude: Any, longitude: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray, FloatArray]:
    r"""Grid cells of positions, and each cell's centre.

    Parameters
    ----------
    latitude, longitude : array_like
        WGS 84 degrees.

    Returns
    -------
    row, col : ndarray of int
        :math:`r = \lfloor \varphi R_\circ / s \rfloor`, and
        :math:`c = \lfloor \lambda R_\circ \cos\varphi_r / s \rfloor` with
        :math:`R_\circ` the metres per degree, :math:`s` = :data:`CELL_SIZE`
        and :math:`\varphi_r` the middle latitude of row :math:`r`.
    centre_latitude, centre_longitude : ndarray
        The cells' centres [degrees].

    Examples
    --------
    >>> row, col, lat, lon = cell_of([0.0005, 48.137], [0.0005, 11.575])
    >>> row.tolist(), col.tolist()
    ([0, 26762], [0, 4294])
    >>> round(float(lat[0]), 6), round(float(lon[0]), 6)
    (0.000899, 0.000899)
    """
    lat = np.asarray(latitude, dtype=float)
    lon = np.asarray(longitude, dtype=float)
    row = np.floor(lat * _METRES_PER_DEGREE / CELL_SIZE).astype(np.int64)
    middle = ((row + 0.5) * CELL_SIZE / _METRES_PER_DEGREE).astype(np.float64)
    across = _METRES_PER_DEGREE * np.cos(np.radians(middle))
    col: npt.NDArray[np.int64] = np.floor(lon * across / CELL_SIZE).astype(np.int64)
    centre = ((col + 0.5) * CELL_SIZE / across).astype(np.float64)
    return row, col, middle, centre


@dataclass
class StretchTally:
    """What one trip did on one stretch; sums, so that trips add up.

    Attributes
    ----------
    stretch : str
        ``"row:col:heading"`` (:func:`cell_of`, :data:`HEADINGS`).
    latitude, longitude : float
        The cell's centre [degrees].
    heading : str
        One of :data:`HEADINGS`.
    passes : int
        Runs of consecutive steps on the stretch.
    time_s, distance_m, moving_s : float
        Time on it [s], distance driven on it [m] (from the speed), time moving [s].
    speed_change_mps : float
        Sum of the speed changes of the moving steps [m s-1]; over ``moving_s``
        the time-weighted mean acceleration.
    accelerating_s, speed_gain_mps : float
        Time [s] and speed gained [m s-1] in moving steps accelerating faster
        than :data:`~twinloop.apps.profiles.CRUISE_ACCELERATION`.
    speed_histogram : Histogram
        Seconds moving per speed bin (:data:`~twinloop.apps.profile_histograms.SPEED_STEP`).
    energy_j, energy_distance_m : float or None
        Battery energy [J] (positive discharging) over the steps whose power
        is known, and the distance of those steps [m]; None without power.
    """

    stretch: str
    latitude: float
    longitude: float
    heading: str
    passes: int = 0
    time_s: float = 0.0
    distance_m: float = 0.0
    moving_s: float = 0.0
    speed_change_mps: float = 0.0
    accelerating_s: float = 0.0
    speed_gain_mps: float = 0.0
    speed_histogram: Histogram = field(default_factory=dict)
    energy_j: float | None = None
    energy_distance_m: float | None = None


def _fill_index(valid: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """For each entry, the index of the last valid one up to it (of the first valid one before that)."""
    index = np.where(valid, np.arange(valid.size), -1)
    np.maximum.accumulate(index, out=index)
    index[index < 0] = int(np.argmax(valid))
    return index


def stretch_tallies(time: Any, vehicle_speed: Any, latitude: Any, longitude: Any,
                    battery_power: Any = None) -> list[StretchTally]:
    r"""Snap one trip's time steps to stretches and tally each stretch.

    Parameters
    ----------
    time : array_like, shape (T,)
        Sample times [s], strictly increasing.
    vehicle_speed : array_like, shape (T,)
        Speed [m s-1].
    latitude, longitude : array_like, shape (T,)
        Position [degrees] at those times (interpolated onto them beforehand
        if logged at other times).
    battery_power : array_like, shape (T,), optional
        Battery power [W], positive discharging.

    Returns
    -------
    list of StretchTally
        One per stretch the trip touched, in order of first visit; empty
        when the trip never moves.

    Notes
    -----
    On the 1 s grid, step :math:`i` has the mean speed
    :math:`\bar v_i = \tfrac12 (v_i + v_{i+1})`, the distance
    :math:`\bar v_i \Delta t_i`, the acceleration
    :math:`(v_{i+1} - v_i)/\Delta t_i`, the energy
    :math:`\tfrac12 (P_i + P_{i+1}) \Delta t_i`, and the bearing of the
    displacement from fix :math:`i` to fix :math:`i+1` (east
    :math:`\Delta\lambda R_\circ \cos\varphi`, north
    :math:`\Delta\varphi R_\circ`). A step is placed by its midpoint when it
    moves (:math:`\bar v_i >` :data:`~twinloop.apps.profiles.MOVING_SPEED`)
    and its displacement is at least :data:`MIN_DISPLACEMENT`; the heading
    alone is kept from the step before when the displacement is smaller but
    the car moves (a repeated fix), and both are kept from the step before
    when it is stopped.

    Examples
    --------
    400 m due north at 10 m/s from the equator: two cells of the first
    column, each 200 m and 20 s, one pass each.

    >>> t = np.arange(41.0)
    >>> lat = 10.0 * t / (EARTH_RADIUS * np.pi / 180)
    >>> tallies = stretch_tallies(t, np.full(41, 10.0), lat, np.full(41, 1e-6))
    >>> [(s.stretch, s.passes, round(s.distance_m), round(s.time_s)) for s in tallies]
    [('0:0:N', 1, 200, 20), ('1:0:N', 1, 200, 20)]
    """
    t = np.asarray(time, dtype=float)
    columns = [np.asarray(vehicle_speed, dtype=float), np.asarray(latitude, dtype=float),
               np.asarray(longitude, dtype=float)]
    if battery_power is not None:
        columns.append(np.asarray(battery_power, dtype=float))
    t, v, lat, lon, *power = resample(t, *columns)
    if t.size < 2:
        return []
    dt = np.diff(t)
    mean_speed = 0.5 * (v[:-1] + v[1:])
    moving = mean_speed > MOVING_SPEED
    if not moving.any():
        return []
    north = np.diff(lat) * _METRES_PER_DEGREE
    east = np.diff(lon) * _METRES_PER_DEGREE * np.cos(np.radians(0.5 * (lat[:-1] + lat[1:])))
    shifted = moving & (np.hypot(north, east) >= MIN_DISPLACEMENT)
    if not shifted.any():
        return []
    bearing = np.degrees(np.arctan2(east, north)) % 360.0
    sector = (np.floor((bearing + 22.5) / 45.0).astype(np.int64)) % len(HEADINGS)
    sector = sector[_fill_index(shifted)]
    row, col, c_lat, c_lon = cell_of(0.5 * (lat[:-1] + lat[1:]), 0.5 * (lon[:-1] + lon[1:]))
    keep = _fill_index(moving)
    row, col, c_lat, c_lon = row[keep], col[keep], c_lat[keep], c_lon[keep]
    code = [f"{r}:{c}:{HEADINGS[h]}" for r, c, h in zip(row.tolist(), col.tolist(), sector.tolist(), strict=True)]

    a = np.diff(v) / dt
    distance = mean_speed * dt
    energy = 0.5 * (power[0][:-1] + power[0][1:]) * dt if power else None
    tallies: dict[str, StretchTally] = {}
    previous = None
    for i, key in enumerate(code):
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = StretchTally(key, float(c_lat[i]), float(c_lon[i]), HEADINGS[int(sector[i])])
            if energy is not None:
                tally.energy_j, tally.energy_distance_m = 0.0, 0.0
        if key != previous:
            tally.passes += 1
            previous = key
        tally.time_s += float(dt[i])
        tally.distance_m += float(distance[i])
        if energy is not None:
            tally.energy_j = (tally.energy_j or 0.0) + float(energy[i])
            tally.energy_distance_m = (tally.energy_distance_m or 0.0) + float(distance[i])
        if moving[i]:
            tally.moving_s += float(dt[i])
            tally.speed_change_mps += float(v[i + 1] - v[i])
            if a[i] > CRUISE_ACCELERATION:
                tally.accelerating_s += float(dt[i])
                tally.speed_gain_mps += float(v[i + 1] - v[i])
            k = str(int(np.floor(mean_speed[i] / SPEED_STEP + 0.5)))
            tally.speed_histogram[k] = tally.speed_histogram.get(k, 0.0) + float(dt[i])
    return list(tallies.values())

