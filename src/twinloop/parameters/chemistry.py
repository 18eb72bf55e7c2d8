"""Cell open-circuit-voltage curves by chemistry, per cell, on a uniform SoC grid.

Each table gives OCV [V] at state of charge 0, 0.1, ..., 1.0 (11 points).

Sources
-------
- ``nmc``: approximate full-cell OCV of an NMC811/graphite-SiOx LG M50 cell,
  read from Chen, C.-H. et al. (2020), J. Electrochem. Soc. 167, 080534,
  doi:10.1149/1945-7111/ab9050 (the parameter set PyBaMM names Chen2020).
- ``lfp``: approximate OCV of an A123 LiFePO4/graphite cell, read from the
  CALCE A123 low-current OCV test (University of Maryland CALCE battery group).
- ``lmo``: approximate OCV of the 2013 Nissan Leaf LMO/graphite cell from the
  ORNL C/15 discharge at 24 °C (doi:10.5281/zenodo.2580327).

These are representative curves for vehicles whose own cell is unknown; a
twin identified from its own data (``twinloop battery identify``) replaces them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["CELL_VOLTAGE_LIMITS", "OCV_TABLES", "pack_ocv_table"]

OCV_TABLES: dict[str, tuple[float, ...]] = {
    "nmc": (3.00, 3.44, 3.53, 3.60, 3.66, 3.74, 3.83, 3.92, 4.01, 4.09, 4.18),
    "lfp": (2.60, 3.15, 3.21, 3.25, 3.27, 3.29, 3.30, 3.31, 3.33, 3.34, 3.50),
    "lmo": (3.10, 3.58, 3.68, 3.75, 3.80, 3.86, 3.93, 3.99, 4.05, 4.10, 4.15),
}

CELL_VOLTAGE_LIMITS: dict[str, tuple[float, float]] = {
    "nmc": (2.5, 4.2),
    "lfp": (2.0, 3.65),
    "lmo": (2.5, 4.2),
}

_NOMINAL_CELL = {k: float(np.mean(v)) for k, v in OCV_TABLES.items()}


def pack_ocv_table(chemistry: str, nominal_voltage: float) -> npt.NDArray[np.float64]:
    """Pack OCV table [V]: the cell curve times the series count implied by `nominal_voltage`.

    Examples
    --------
    >>> t = pack_ocv_table("nmc", 360.0)
    >>> t.shape, round(float(t.mean()), 1)
    ((11,), 360.0)
    """
    series = nominal_voltage / _NOMINAL_CELL[chemistry]
    return np.asarray(OCV_TABLES[chemistry]) * series


def pack_minimum_voltage(chemistry: str, nominal_voltage: float) -> float:
    """Pack minimum voltage [V] from the cell's lower limit."""
    return CELL_VOLTAGE_LIMITS[chemistry][0] * nominal_voltage / _NOMINAL_CELL[chemistry]
