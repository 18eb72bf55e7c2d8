"""Submodels by role, swappable before a model is built (as PyBaMM does).

The kernel is compiled once; a submodel choice is applied to the parameter
matrix (switching a part on or off, or re-parameterising it). Each role has a
registry of named options; :class:`twinloop.sim.VehicleModel` takes a dict
``{role: option}``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.sim._layout import P

__all__ = ["DEFAULT_SUBMODELS", "SUBMODELS", "apply_submodels"]

Adjust = Callable[[npt.NDArray[np.float64]], None]


def _keep(params: npt.NDArray[np.float64]) -> None:
    """Leave the parameters as specified."""


def _isothermal(params: npt.NDArray[np.float64]) -> None:
    """Battery stays at its start temperature."""
    params[:, P.battery_thermal_on] = 0.0


def _no_climate(params: npt.NDArray[np.float64]) -> None:
    """No heating or air conditioning."""
    params[:, P.hvac_on] = 0.0


def _ideal_battery(params: npt.NDArray[np.float64]) -> None:
    """A loss-free battery: no resistance, no polarisation."""
    params[:, P.battery_ohmic_resistance] = 0.0
    params[:, P.battery_rc_resistance] = 0.0
    params[:, P.battery_rc_capacitance] = 0.0


def _no_regen(params: npt.NDArray[np.float64]) -> None:
    """Friction brakes only."""
    params[:, P.regen_axle_share] = 0.0


SUBMODELS: dict[str, dict[str, Adjust]] = {
    "battery": {"ecm_1rc": _keep, "ideal": _ideal_battery},
    "battery_thermal": {"lumped": _keep, "isothermal": _isothermal},
    "cabin_climate": {"lumped": _keep, "off": _no_climate},
    "regenerative_braking": {"blended": _keep, "off": _no_regen},
}
"""Role -> option name -> how it sets the parameters."""

DEFAULT_SUBMODELS: dict[str, str] = {
    "battery": "ecm_1rc",
    "battery_thermal": "lumped",
    "cabin_climate": "lumped",
    "regenerative_braking": "blended",
}


def apply_submodels(params: npt.NDArray[np.float64], choice: dict[str, str]) -> None:
    """Apply each role's option to `params` in place; unknown names suggest close ones."""
    for role, option in choice.items():
        if not isinstance(role, str) or not isinstance(option, str):
            raise ValidationError(f"submodels[{role!r}]", "a role name and an option name, e.g. "
                                  "{'battery_thermal': 'isothermal'}", option)
        if role not in SUBMODELS:
            raise UnknownNameError("submodel role", role, SUBMODELS)
        options = SUBMODELS[role]
        if option not in options:
            raise UnknownNameError(f"{role} submodel", option, options)
        options[option](params)
