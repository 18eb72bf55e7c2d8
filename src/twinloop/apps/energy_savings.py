"""What the energy app's what-ifs found: each saving, what did not apply, and the price of a kWh.

:func:`twinloop.apps.energy_whatifs.what_ifs` fills these: a :class:`WhatIf`
for each change that saves energy, a :class:`SkippedWhatIf` (with the reason)
for each that does not apply, both in one :class:`WhatIfs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from twinloop.errors import ValidationError
from twinloop.sim import SimulationResult

__all__ = ["SkippedWhatIf", "WhatIf", "WhatIfs", "check_price"]

_J_PER_KWH = 3.6e6
_MAX_PRICE = 100.0  # per kWh: a price above it is a unit error (cents, not euros)


@dataclass(frozen=True)
class WhatIf:
    """One changed drive and what it saves, from re-simulating it.

    Attributes
    ----------
    name : str
        Key of :data:`WHAT_IF_NAMES`.
    suggestion : str
        The advice in plain words, with the saving.
    change : str
        What was changed in the simulation, technically.
    baseline_energy, energy : float
        Battery energy [J] (the cells', :attr:`SimulationResult.battery_energy`)
        of the drive as driven and as changed.
    saving : float
        ``baseline_energy - energy`` [J].
    saving_share : float
        ``saving / baseline_energy`` [1].
    saving_money : float or None
        The wall energy saved (charger losses included) times the price;
        None without a price, and for pre-conditioning, whose warm-up is
        still paid for, from the grid while plugged in (it saves range).
    currency : str
        ISO 4217 code of `saving_money`.
    extra_time : float
        How much longer the changed drive takes [s] (0 unless the trace changed).
    source : str
        Where the effect is documented.
    parameters : dict of str to float
        The numbers of the change (SI, names with units).
    """

    name: str
    suggestion: str
    change: str
    baseline_energy: float
    energy: float
    saving: float
    saving_share: float
    saving_money: float | None
    currency: str
    extra_time: float
    source: str
    parameters: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; energies in kWh (4 decimals), money to the cent."""
        return {
            "name": self.name,
            "suggestion": self.suggestion,
            "saving_kwh": _kwh(self.saving),
            "saving_percent": round(100.0 * self.saving_share, 2),
            "saving_money": None if self.saving_money is None else round(self.saving_money, 2),
            "currency": self.currency,
            "extra_time_s": round(self.extra_time, 1),
            "baseline_kwh": _kwh(self.baseline_energy),
            "changed_kwh": _kwh(self.energy),
            "change": self.change,
            "source": self.source,
            "parameters": dict(self.parameters),
        }


@dataclass(frozen=True)
class SkippedWhatIf:
    """A what-if that does not apply to the drive, and why."""

    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """``{"name": ..., "reason": ...}``."""
        return {"name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class WhatIfs:
    """What :func:`what_ifs` found: the savings, largest first, and what did not apply.

    Attributes
    ----------
    ranked : tuple of WhatIf
        By saving, largest first; only what saves energy.
    skipped : tuple of SkippedWhatIf
        What does not apply to the drive, or saves nothing, with the reason.
    baseline : SimulationResult
        The drive as driven.
    """

    ranked: tuple[WhatIf, ...]
    skipped: tuple[SkippedWhatIf, ...]
    baseline: SimulationResult


def _kwh(joules: float) -> float:
    return round(joules / _J_PER_KWH, 4) + 0.0  # + 0.0: no -0.0


def check_price(price: float | None, currency: str) -> None:
    """Refuse a price per kWh outside [0, 100] (above it, a unit error: cents, not euros) or a bad currency code.

    Parameters
    ----------
    price : float or None
        Electricity price per kWh at the socket; None: no money.
    currency : str
        ISO 4217 code of `price`: 3 capital letters.

    Raises
    ------
    ValidationError
        Naming ``price`` or ``currency``, what is valid and what was received.

    Examples
    --------
    >>> check_price(0.30, "EUR")
    >>> check_price(30.0, "eur")
    Traceback (most recent call last):
    ...
    twinloop.errors.ValidationError: currency: expected an ISO 4217 code of 3 capital letters, e.g. EUR, USD, GBP, received 'eur'
    """
    if price is not None and (isinstance(price, bool) or not isinstance(price, int | float)
                              or not 0.0 <= price <= _MAX_PRICE):
        raise ValidationError("price", f"a price per kWh in [0, {_MAX_PRICE:g}]", price,
                              hint="Give it in currency units per kWh, e.g. 0.30 for 30 cents")
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValidationError("currency", "an ISO 4217 code of 3 capital letters, e.g. EUR, USD, GBP", currency)
