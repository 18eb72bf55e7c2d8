"""Unit conversion at the boundary: VSS (and DBC) units to twinloop's SI units.

Every conversion is affine, ``si = value * scale + offset``, so a whole column
converts in one vectorised step. Units are looked up in :data:`UNITS` by their
VSS spelling (``units.yaml`` in the VSS specification) or a common alias found
in DBC files (``kph``, ``degC`` ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twinloop.errors import UnknownNameError

__all__ = ["UNITS", "UnitConversion", "unit_conversion"]


@dataclass(frozen=True)
class UnitConversion:
    """An affine conversion from a source unit to an SI unit.

    Attributes
    ----------
    source : str
        Unit as written at the boundary, e.g. ``"km/h"``.
    target : str
        SI unit in glossary notation, e.g. ``"m s-1"``.
    scale, offset : float
        ``si = value * scale + offset``.
    """

    source: str
    target: str
    scale: float = 1.0
    offset: float = 0.0

    def apply(self, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Convert `value` to the target unit.

        Examples
        --------
        >>> float(unit_conversion("km/h").apply(36.0))
        10.0
        """
        arr = np.asarray(value, dtype=np.float64)
        if self.scale == 1.0 and self.offset == 0.0:
            return arr
        return arr * self.scale + self.offset

    def invert(self, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Convert `value` from the target unit back to the source unit."""
        arr = np.asarray(value, dtype=np.float64)
        return (arr - self.offset) / self.scale


_U = UnitConversion
_RPM = 2.0 * math.pi / 60.0
_DEG = math.pi / 180.0

UNITS: dict[str, UnitConversion] = {
    u.source: u
    for u in [
        _U("m", "m"),
        _U("km", "m", 1000.0),
        _U("mm", "m", 1e-3),
        _U("km/h", "m s-1", 1 / 3.6),
        _U("m/s", "m s-1"),
        _U("m/s^2", "m s-2"),
        _U("percent", "1", 0.01),
        _U("ratio", "1"),
        _U("Celsius", "K", 1.0, 273.15),
        _U("K", "K"),
        _U("A", "A"),
        _U("V", "V"),
        _U("W", "W"),
        _U("kW", "W", 1000.0),
        _U("Wh", "J", 3600.0),
        _U("kWh", "J", 3.6e6),
        _U("Nm", "N m"),
        _U("rpm", "rad s-1", _RPM),
        _U("degrees", "deg"),  # latitude and longitude stay in degrees (WGS 84)
        _U("degrees/s", "rad s-1", _DEG),
        _U("hPa", "Pa", 100.0),
        _U("kg", "kg"),
        _U("s", "s"),
        _U("1", "1"),
        # aliases seen in DBC files
        _U("kph", "m s-1", 1 / 3.6),
        _U("mph", "m s-1", 0.44704),
        _U("degC", "K", 1.0, 273.15),
        _U("°C", "K", 1.0, 273.15),
        _U("%", "1", 0.01),
        _U("RPM", "rad s-1", _RPM),
        _U("N.m", "N m"),
        _U("Amps", "A"),  # Ford's opendbc files
        _U("amp", "A"),
        _U("Volts", "V"),
        _U("volt", "V"),
    ]
}


def unit_conversion(unit: str) -> UnitConversion:
    """Look up the conversion of `unit` to SI.

    Raises
    ------
    UnknownNameError
        If the unit is not known; the message lists close matches.

    Examples
    --------
    >>> unit_conversion("Celsius").offset
    273.15
    """
    try:
        return UNITS[unit]
    except KeyError:
        raise UnknownNameError("unit", unit, UNITS) from None
