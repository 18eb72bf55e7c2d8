"""Conventions every layer shares: constants, the temperature scales, the VIN rule and time in UTC.

One home for each, so that no two layers disagree (they once did: the store
allowed a VIN with surrounding spaces that the twin refused, and kept naive
UTC where the twin kept aware UTC).

Time
    Every :class:`~datetime.datetime` a public function returns is aware UTC;
    every one it accepts may be aware (converted to UTC) or naive (taken as
    UTC). Inside a database and inside Arrow and pandas columns, times are
    UTC without a zone (``TIMESTAMP``, ``timestamp[us]``): :func:`utc` and
    :func:`naive_utc` convert at that boundary.
Temperature
    Kelvin inside; Celsius only at I/O boundaries (options such as
    ``--ambient-c``, TOML keys ending in ``_c``), through
    :func:`celsius_to_kelvin` and :func:`kelvin_to_celsius`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from twinloop.errors import ValidationError, shorten

__all__ = [
    "KELVIN_OFFSET",
    "MAD_TO_SIGMA",
    "MAX_VIN_LENGTH",
    "STANDARD_GRAVITY",
    "TRACE_MISS_TOLERANCE",
    "celsius_to_kelvin",
    "check_vin",
    "kelvin_to_celsius",
    "naive_utc",
    "utc",
]

#: Standard acceleration of gravity [m s-2] (ISO 80000-3).
STANDARD_GRAVITY = 9.80665

#: 0 °C in kelvin [K].
KELVIN_OFFSET = 273.15

#: The median absolute deviation of a normal sample times this is its standard
#: deviation: 1 / Φ⁻¹(3/4). Robust spreads (residual bands, outlier cuts) use it.
MAD_TO_SIGMA = 1.482602218505602

#: How far below the trace's speed a simulated vehicle may fall before it
#: counts as missing the trace [m s-1] (the kernel and the result's reasons).
TRACE_MISS_TOLERANCE = 0.05

#: Longest vehicle identifier [characters]: a 17-character ISO 3779 VIN or a fleet's own name.
MAX_VIN_LENGTH = 64

T = TypeVar("T", float, npt.NDArray[np.float64])


def celsius_to_kelvin(value: T) -> T:
    """A temperature in degrees Celsius, in kelvin.

    Examples
    --------
    >>> celsius_to_kelvin(25.0)
    298.15
    """
    return value + KELVIN_OFFSET


def kelvin_to_celsius(value: T) -> T:
    """A temperature in kelvin, in degrees Celsius.

    Examples
    --------
    >>> round(kelvin_to_celsius(253.15), 6)
    -20.0
    """
    return value - KELVIN_OFFSET


def check_vin(vin: object, field: str = "vin") -> str:
    """Return `vin` if it is a valid vehicle identifier; the one rule of the store and the twins.

    A printable identifier of 1 to :data:`MAX_VIN_LENGTH` characters without
    surrounding spaces (``' CAR1'`` would otherwise be a second vehicle
    beside ``'CAR1'``).

    Raises
    ------
    ValidationError
        Naming `field`, the rule and what was received (long text cut).

    Examples
    --------
    >>> check_vin("5YJ3E1EA7KF000001")
    '5YJ3E1EA7KF000001'
    >>> check_vin(" CAR1")
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: vin: expected a printable identifier of 1 to 64 characters without surrounding spaces, received ' CAR1'
    """
    if (
        not isinstance(vin, str)
        or not 1 <= len(vin) <= MAX_VIN_LENGTH
        or not vin.isprintable()
        or vin != vin.strip()
    ):
        raise ValidationError(
            field,
            f"a printable identifier of 1 to {MAX_VIN_LENGTH} characters without surrounding spaces",
            shorten(vin),
        )
    return vin


def utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (a naive value is taken as UTC).

    Examples
    --------
    >>> utc(datetime(2024, 5, 1, 10)).isoformat()
    '2024-05-01T10:00:00+00:00'
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def naive_utc(value: datetime) -> datetime:
    """`value` as a naive datetime in UTC, as a database column keeps it (a naive value is taken as UTC).

    Examples
    --------
    >>> from datetime import timedelta, timezone
    >>> naive_utc(datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))).isoformat()
    '2024-05-01T10:00:00'
    """
    return utc(value).replace(tzinfo=None)
