"""Column names that say their unit: ``Vehicle.Speed[m s-1]`` holds values as the store keeps them.

A bare VSS path as a column holds values in the VSS unit (``Vehicle.Speed``
in km/h), converted to SI on ingest. What ``twinloop query`` writes is
already SI, so it names each column with the signal's SI unit in brackets,
and ingestion reads such a column as it is: a query's output ingested again
stores the same numbers (see :func:`unit_column`).
"""

from __future__ import annotations

import re

__all__ = ["COUNT_UNIT", "split_unit", "unit_column"]

#: The "unit" of a column of sample counts (``--how count``): no signal has it, so such a
#: column is never read back as values.
COUNT_UNIT = "count"
_WITH_UNIT = re.compile(r"(?P<path>[^\[\]]*?)\s*\[(?P<unit>[^\[\]]*)\]")


def unit_column(path: str, unit: str) -> str:
    """The column name of `path` holding values in `unit`.

    The unit is the signal's SI unit in glossary notation, or
    :data:`COUNT_UNIT` for counts. Values in such a column are the store's
    own: SI and twinloop's signs (battery current positive discharging).

    Examples
    --------
    >>> unit_column("Vehicle.Speed", "m s-1")
    'Vehicle.Speed[m s-1]'
    """
    return f"{path}[{unit}]"


def split_unit(name: str) -> tuple[str, str | None]:
    """(path, unit) of a column name; the unit is None for a bare path.

    Examples
    --------
    >>> split_unit("Vehicle.Speed[m s-1]")
    ('Vehicle.Speed', 'm s-1')
    >>> split_unit("Vehicle.Speed [K]")
    ('Vehicle.Speed', 'K')
    >>> split_unit("Vehicle.Speed")
    ('Vehicle.Speed', None)
    """
    match = _WITH_UNIT.fullmatch(name)
    if match is None:
        return name, None
    return match["path"], match["unit"].strip()
