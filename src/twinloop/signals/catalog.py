"""The signal catalog: VSS paths mapped to glossary quantities, with units and ranges.

A :class:`Signal` says how a value that arrives under a VSS path (in the VSS
unit, e.g. km/h) becomes a twinloop quantity (in SI, e.g. m s-1), and which
values are valid. :class:`SignalCatalog` holds the bundled signals (derived
from COVESA VSS, see ``data/PROVENANCE.md``) plus any custom signals a user
adds from a TOML file.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from twinloop.errors import SpecificationError, UnknownNameError
from twinloop.quantities import GLOSSARY, quantity
from twinloop.signals.units import unit_conversion

__all__ = ["Signal", "SignalCatalog", "default_catalog"]

_NUMERIC = {
    "float",
    "double",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
}
_DATATYPES = _NUMERIC | {"boolean", "string"}
#: A custom signal file larger than this is refused.
MAX_CUSTOM_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class Signal:
    """One signal: where it comes from (VSS) and what it is inside twinloop.

    Attributes
    ----------
    path : str
        VSS path, e.g. ``"Vehicle.Speed"``.
    datatype : str
        VSS datatype (``float``, ``uint8``, ``boolean``, ``string`` ...).
    unit : str or None
        VSS unit of incoming values (``"km/h"``); None for booleans and enums.
    quantity : str
        Glossary name of the value inside twinloop (``"vehicle_speed"``).
    description : str
        One line, from VSS where the signal is standard.
    allowed : tuple of str
        For enumerated string signals, the allowed values; the stored value
        is the index into this tuple.
    sign : float
        +1 or -1; -1 where VSS counts the opposite direction (battery current
        is positive *into* the battery in VSS, positive discharging here).
    vss_minimum, vss_maximum : float
        Range given by VSS, in the VSS unit (``-inf``/``inf`` when none).
    source : str
        ``"vss"`` for standard signals, otherwise the file that defined it.
    """

    path: str
    datatype: str
    unit: str | None
    quantity: str
    description: str = ""
    allowed: tuple[str, ...] = ()
    sign: float = 1.0
    vss_minimum: float = -math.inf
    vss_maximum: float = math.inf
    source: str = "vss"

    def __post_init__(self) -> None:
        where = f"signal {self.path}"
        if self.datatype not in _DATATYPES:
            raise SpecificationError(
                "datatype", f"one of {sorted(_DATATYPES)}", self.datatype, where
            )
        if self.datatype == "string" and not self.allowed:
            raise SpecificationError(
                "allowed", "a list of allowed values for a string signal", None, where
            )
        if self.datatype in _NUMERIC and self.unit is None:
            raise SpecificationError("unit", "a unit for a numeric signal", None, where)
        if self.sign not in (1.0, -1.0):
            raise SpecificationError("sign", "1 or -1", self.sign, where)
        q = quantity(self.quantity)
        if self.unit is not None and unit_conversion(self.unit).target != q.unit:
            raise SpecificationError(
                "unit",
                f"a unit convertible to {q.unit!r} (quantity {self.quantity})",
                self.unit,
                where,
            )

    @property
    def si_unit(self) -> str:
        """The SI unit of stored values (the glossary unit)."""
        return GLOSSARY[self.quantity].unit

    @property
    def minimum(self) -> float:
        """Lowest valid value in SI: the tighter of the VSS and glossary ranges."""
        return max(GLOSSARY[self.quantity].minimum, self._vss_si_bounds()[0])

    @property
    def maximum(self) -> float:
        """Highest valid value in SI: the tighter of the VSS and glossary ranges."""
        return min(GLOSSARY[self.quantity].maximum, self._vss_si_bounds()[1])

    def _vss_si_bounds(self) -> tuple[float, float]:
        if self.unit is None:
            return -math.inf, math.inf
        lo, hi = self.to_si([self.vss_minimum, self.vss_maximum])
        return (float(min(lo, hi)), float(max(lo, hi)))

    def to_si(self, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Convert numeric values in the VSS unit to SI (sign included).

        Examples
        --------
        >>> s = default_catalog()["Vehicle.Speed"]
        >>> float(s.to_si(72.0))
        20.0
        """
        arr = np.asarray(value, dtype=np.float64)
        if self.unit is not None:
            arr = unit_conversion(self.unit).apply(arr)
        return arr if self.sign == 1.0 else -arr

    def from_si(self, value: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Convert SI values back to the VSS unit (for writing logs)."""
        arr = np.asarray(value, dtype=np.float64) * self.sign
        return unit_conversion(self.unit).invert(arr) if self.unit is not None else arr

    def encode_labels(self, labels: Iterable[object]) -> npt.NDArray[np.float64]:
        """Map enum labels or booleans to stored codes; unknown labels give NaN.

        Examples
        --------
        >>> s = default_catalog()["Vehicle.LowVoltageSystemState"]
        >>> s.encode_labels(["ON", "OFF", "BOGUS"]).tolist()
        [4.0, 2.0, nan]
        """
        if self.datatype == "boolean":
            table: Mapping[str, float] = {"TRUE": 1.0, "FALSE": 0.0, "1": 1.0, "0": 0.0}  # keys as looked up: upper case
        else:
            table = {label.upper(): float(i) for i, label in enumerate(self.allowed)}
        return np.array(
            [
                table.get(str(v).strip().upper() if v is not None else "", math.nan)
                if not isinstance(v, bool)
                else float(v)
                for v in labels
            ]
        )

    def invalid(self, si: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Mask of values that are NaN or outside ``[minimum, maximum]``."""
        with np.errstate(invalid="ignore"):
            return ~((si >= self.minimum) & (si <= self.maximum))

    @property
    def valid_range(self) -> str:
        """The valid SI range as text, e.g. ``"[0, 100] m s-1"``."""
        return f"[{self.minimum:g}, {self.maximum:g}] {self.si_unit}"


def _signal_from_dict(entry: Mapping[str, Any], source: str) -> Signal:
    try:
        allowed = entry.get("allowed") or ()
        return Signal(
            path=str(entry["path"]),
            datatype=str(entry["datatype"]),
            unit=entry.get("unit"),
            quantity=str(entry["quantity"]),
            description=str(entry.get("description", "")),
            allowed=tuple(str(a) for a in allowed),
            sign=float(entry.get("sign", 1.0)),
            vss_minimum=-math.inf if entry.get("min") is None else float(entry["min"]),
            vss_maximum=math.inf if entry.get("max") is None else float(entry["max"]),
            source=str(entry.get("source", source)),
        )
    except KeyError as exc:
        raise SpecificationError(str(exc.args[0]), "a value", None, source) from None


@dataclass(frozen=True)
class SignalCatalog:
    """An immutable set of :class:`Signal`, keyed by VSS path.

    Examples
    --------
    >>> cat = default_catalog()
    >>> cat["Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"].quantity
    'state_of_charge'
    >>> "Vehicle.Speed" in cat
    True
    """

    signals: Mapping[str, Signal] = field(default_factory=dict)

    def __getitem__(self, path: str) -> Signal:
        try:
            return self.signals[path]
        except KeyError:
            raise UnknownNameError(
                "signal", path, self.signals, hint="Add custom signals with a signal file."
            ) from None

    def __contains__(self, path: object) -> bool:
        return path in self.signals

    def __iter__(self) -> Iterator[str]:
        return iter(self.signals)

    def __len__(self) -> int:
        return len(self.signals)

    def by_quantity(self, name: str) -> Signal:
        """The first signal that carries glossary quantity `name`."""
        for sig in self.signals.values():
            if sig.quantity == name:
                return sig
        raise UnknownNameError(
            "quantity with a signal", name, {s.quantity for s in self.signals.values()}
        )

    def with_signals(self, extra: Iterable[Signal]) -> SignalCatalog:
        """A new catalog with `extra` added; redefining a path is an error."""
        merged = dict(self.signals)
        for sig in extra:
            if sig.path in merged and merged[sig.path] != sig:
                raise SpecificationError(
                    "path", "a path not already in the catalog", sig.path, sig.source
                )
            merged[sig.path] = sig
        return SignalCatalog(merged)

    def with_file(self, path: str | Path) -> SignalCatalog:
        """A new catalog with the custom signals of a TOML file added.

        The file holds ``[[signal]]`` tables with ``path``, ``datatype``,
        ``unit``, ``quantity`` and optionally ``description``, ``min``,
        ``max``, ``allowed`` and ``sign`` (see ``docs/data.md``).
        """
        p = Path(path)
        if p.stat().st_size > MAX_CUSTOM_FILE_BYTES:
            raise SpecificationError(
                "size", f"<= {MAX_CUSTOM_FILE_BYTES} bytes", p.stat().st_size, str(p)
            )
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SpecificationError("file", "valid TOML", str(exc), str(p)) from None
        entries = doc.get("signal", [])
        if not isinstance(entries, list):
            raise SpecificationError(
                "signal", "a list of [[signal]] tables", type(entries).__name__, str(p)
            )
        return self.with_signals(_signal_from_dict(e, str(p)) for e in entries)


def _load_bundled() -> SignalCatalog:
    data = resources.files("twinloop.signals") / "data"
    doc = json.loads((data / "vss_catalog.json").read_text(encoding="utf-8"))
    cat = SignalCatalog({e["path"]: _signal_from_dict(e, "vss") for e in doc["signals"]})
    with resources.as_file(data / "twinloop_signals.toml") as own:
        return cat.with_file(own)


_DEFAULT: list[SignalCatalog] = []


def default_catalog() -> SignalCatalog:
    """The bundled catalog (VSS signals plus twinloop's own), loaded once."""
    if not _DEFAULT:
        _DEFAULT.append(_load_bundled())
    return _DEFAULT[0]
