"""The decoder manifest: which DBC signal becomes which VSS signal, and how.

A manifest is a small TOML file::

    # twinloop decoder manifest
    dbc = "tesla_model3_party.dbc"        # for the reader; not enforced

    [[map]]
    message = "DI_speed"                  # DBC message name
    signal = "DI_vehicleSpeed"            # DBC signal name
    vss = "Vehicle.Speed"                 # VSS path in the signal catalog
    scale = 1.0                           # vss_value = dbc_value * scale + offset
    offset = 0.0

    [[map]]
    message = "VCFRONT_LVPowerState"
    signal = "VCFRONT_vehiclePowerState"
    vss = "Vehicle.LowVoltageSystemState"
    values = { "0" = "OFF", "1" = "ACC", "3" = "ON" }   # DBC value -> VSS label

``scale`` and ``offset`` turn the DBC's physical value into the VSS unit
(mph to km/h, say); the catalog then converts the VSS unit to SI. For
enumerated VSS signals, ``values`` maps DBC values to VSS labels; a value
missing from the map is quarantined. :func:`starter_manifest` writes a
first draft from a DBC.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cantools.database
import numpy as np
import numpy.typing as npt

from twinloop.errors import (
    DataError,
    SpecificationError,
    UnknownNameError,
    clip,
    close_matches,
    shorten,
    shown,
)
from twinloop.signals.catalog import SignalCatalog
from twinloop.signals.units import UNITS

__all__ = ["DecoderManifest", "ManifestEntry", "starter_manifest"]

#: A manifest larger than this is refused.
MAX_MANIFEST_BYTES = 2_000_000
#: Keys of the manifest document and of each ``[[map]]`` table.
MANIFEST_KEYS = ("dbc", "map")
ENTRY_KEYS = ("message", "signal", "vss", "scale", "offset", "values")
# Longest name (key, message, signal, path) a message repeats whole; longer ones are cut.
_NAME_LIMIT = 200


def _refuse_unknown_keys(
    table: dict[str, Any], known: tuple[str, ...], where: str, note: str = ""
) -> None:
    """Raise SpecificationError for the first key of `table` not in `known`."""
    for key in table:
        if key not in known:
            matches = close_matches(key, known)
            hint = f"Did you mean {', '.join(repr(m) for m in matches)}? " if matches else ""
            raise SpecificationError(
                "key", f"one of {', '.join(known)}", shown(key, _NAME_LIMIT), where,
                (hint + note).strip() or None,
            )


@dataclass(frozen=True)
class ManifestEntry:
    """One mapping of a DBC signal to a VSS signal.

    Attributes
    ----------
    message, signal : str
        DBC message and signal names.
    vss : str
        VSS path (must be in the catalog).
    scale, offset : float
        ``vss_value = dbc_value * scale + offset``.
    values : dict
        For enumerated VSS signals: DBC value -> VSS label.
    """

    message: str
    signal: str
    vss: str
    scale: float = 1.0
    offset: float = 0.0
    values: dict[int, str] = field(default_factory=dict)

    def to_vss(self, value: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | list[str | None]:
        """DBC values to VSS values (numbers, or labels for enumerated signals)."""
        if self.values:
            return [self.values.get(int(v)) if math.isfinite(v) else None for v in value.tolist()]
        if self.scale == 1.0 and self.offset == 0.0:
            return value
        return value * self.scale + self.offset


@dataclass(frozen=True)
class DecoderManifest:
    """A validated set of :class:`ManifestEntry`.

    Use :meth:`load` to read one; every entry's DBC signal and VSS path are
    checked when it is bound to a database and catalog (:meth:`check`).
    """

    entries: tuple[ManifestEntry, ...]
    dbc: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> DecoderManifest:
        """Read a manifest TOML file."""
        p = Path(path)
        size = p.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise SpecificationError("size", f"<= {MAX_MANIFEST_BYTES} bytes", size, str(p))
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:  # TOMLDecodeError, or an integer of > 4300 digits
            raise SpecificationError(
                "file", "a TOML decoder manifest", clip(str(exc)), str(p)
            ) from None
        return cls.from_dict(doc, where=str(p))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], where: str = "manifest") -> DecoderManifest:
        """Build from the parsed TOML document.

        Raises
        ------
        SpecificationError
            For a key the manifest does not define (a vehicle spec passed
            by mistake, a misspelt key), for a manifest without ``[[map]]``
            entries, and for malformed entries.
        """
        _refuse_unknown_keys(
            doc,
            MANIFEST_KEYS,
            where,
            'Is this a decoder manifest? One holds dbc = "FILE" and [[map]] tables'
            " (write a starter with `twinloop can manifest --dbc FILE`).",
        )
        raw = doc.get("map", [])
        if not isinstance(raw, list):
            raise SpecificationError("map", "a list of [[map]] tables", type(raw).__name__, where)
        if not raw:
            raise SpecificationError(
                "map",
                "at least one [[map]] table (message, signal, vss)",
                "no [[map]] entries",
                where,
                "Without one, nothing in a CAN log would be decoded. Write a starter with"
                " `twinloop can manifest --dbc FILE` and uncomment the signals you need.",
            )
        entries = []
        for i, e in enumerate(raw):
            loc = f"{where} [[map]] #{i + 1}"
            if not isinstance(e, dict):
                raise SpecificationError("map", "a table", type(e).__name__, loc)
            _refuse_unknown_keys(e, ENTRY_KEYS, loc)
            for key in ("message", "signal", "vss"):
                if not isinstance(e.get(key), str) or not e[key]:
                    raise SpecificationError(key, "a non-empty string", shown(e.get(key)), loc)
            try:
                values = {int(k): str(v) for k, v in (e.get("values") or {}).items()}
                scale, offset = float(e.get("scale", 1.0)), float(e.get("offset", 0.0))
            except (TypeError, ValueError, AttributeError, OverflowError) as exc:
                raise SpecificationError(
                    "scale/offset/values", "numbers (values: integer keys)",
                    clip(str(exc)), loc,
                ) from None
            if not (math.isfinite(scale) and math.isfinite(offset)) or scale == 0:
                raise SpecificationError("scale", "a finite, non-zero number", scale, loc)
            entries.append(
                ManifestEntry(e["message"], e["signal"], e["vss"], scale, offset, values)
            )
        dbc = doc.get("dbc")
        return cls(tuple(entries), str(dbc) if dbc is not None else None)

    def check(self, database: cantools.database.can.Database, catalog: SignalCatalog) -> None:
        """Refuse entries whose DBC signal or VSS path does not exist."""
        messages = {m.name: m for m in database.messages}
        for e in self.entries:
            if e.message not in messages:
                raise UnknownNameError(
                    "DBC message", str(shorten(e.message, _NAME_LIMIT)), messages, hint="(decoder manifest)"
                )
            names = [s.name for s in messages[e.message].signals]
            if e.signal not in names:
                raise UnknownNameError(
                    f"signal of DBC message {e.message}", str(shorten(e.signal, _NAME_LIMIT)), names
                )
            if e.vss not in catalog:  # the catalog's own error, with the path cut
                raise UnknownNameError(
                    "signal", str(shorten(e.vss, _NAME_LIMIT)), catalog, hint="Add custom signals with a signal file."
                )
            sig = catalog[e.vss]
            if sig.allowed and not e.values:
                raise SpecificationError(
                    "values",
                    f"a DBC value -> label map for enumerated {e.vss} ({', '.join(sig.allowed)})",
                    None,
                )
            bad = [v for v in e.values.values() if sig.allowed and v not in sig.allowed]
            if bad:
                raise SpecificationError(
                    f"values of {e.vss}", f"labels in {list(sig.allowed)}", shown(bad[0], _NAME_LIMIT)
                )

    @property
    def dbc_signals(self) -> list[tuple[str, str]]:
        """``(message, signal)`` pairs the manifest reads."""
        return [(e.message, e.signal) for e in self.entries]


# (words in the lower-cased DBC signal name, DBC units, VSS path) for first guesses
_GUESSES: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (("vehiclespeed", "vehv"), ("kph", "km/h", "mph"), "Vehicle.Speed"),  # vehv: Ford's Veh_V_Actl*
    (("soc",), ("%", "percent"), "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"),
    (("packcurrent",), ("a",), "Vehicle.Powertrain.TractionBattery.CurrentCurrent"),
    (("packvoltage",), ("v",), "Vehicle.Powertrain.TractionBattery.CurrentVoltage"),
    (("accelpedal",), ("%",), "Vehicle.Chassis.Accelerator.PedalPosition"),
    (
        ("outsidetemp", "ambienttemp", "airtemp"),
        ("degc", "°c", "c", "celsius"),
        "Vehicle.Exterior.AirTemperature",
    ),
    (("torqueactual", "motortorque"), ("nm",), "Vehicle.Powertrain.ElectricMotor.Torque"),
    (("odometer",), ("km", "m"), "Vehicle.TraveledDistance"),
    # the traction battery's actual current, voltage and temperature (e.g. Ford's BattTrac_I_Actl)
    (("batt",), ("a", "amps", "amp"), "Vehicle.Powertrain.TractionBattery.CurrentCurrent"),
    (("batt",), ("v", "volts", "volt"), "Vehicle.Powertrain.TractionBattery.CurrentVoltage"),
    (("batt",), ("degc", "°c", "celsius"), "Vehicle.Powertrain.TractionBattery.Temperature.Average"),
]

#: Words in a signal name that mark a limit, request or target, never the actual value.
_NOT_ACTUAL = ("lim", "max", "min", "rq", "req", "target", "tgt", "cmd")


def _linear(dbc_unit: str, vss_unit: str | None) -> tuple[float, float] | None:
    """scale, offset from a DBC unit to a VSS unit, when both are known."""
    if vss_unit is None or dbc_unit == vss_unit:
        return (1.0, 0.0)
    a, b = UNITS.get(dbc_unit), UNITS.get(vss_unit)
    if a is None or b is None or a.target != b.target:
        return None
    # dbc -> SI -> vss
    scale = a.scale / b.scale
    offset = (a.offset - b.offset) / b.scale
    return (scale, offset)


def starter_manifest(
    database: cantools.database.can.Database, catalog: SignalCatalog, dbc_name: str = ""
) -> str:
    """A first-draft manifest (TOML text) for `database`.

    Signals whose name and unit suggest a catalog signal are mapped, with
    scale and offset from the units; every other signal is listed as a
    comment to uncomment and complete. Review every line: names are guesses.

    Raises
    ------
    DataError
        If the DBC defines no signal (nothing could be mapped).
    """
    n_signals = sum(len(m.signals) for m in database.messages)
    if n_signals == 0:
        raise DataError(
            f"{dbc_name or 'the DBC'} has no signals: expected a DBC whose messages define"
            f" signals (SG_ lines), received {len(database.messages)} messages and 0 signals"
        )
    lines = [
        "# twinloop decoder manifest: DBC message.signal -> VSS path.",
        "# Written by `twinloop can manifest`; the [[map]] entries below are GUESSES",
        "# from signal names and units: check each one against the vehicle.",
        "# vss_value = dbc_value * scale + offset; the VSS unit is then converted to SI.",
        f'dbc = "{dbc_name}"',
        "",
    ]
    mapped: set[str] = set()
    rest: list[str] = []
    for msg in sorted(database.messages, key=lambda m: m.frame_id):
        for sig in msg.signals:
            key = sig.name.lower().replace("_", "")
            unit = (sig.unit or "").strip()
            target = next(
                (
                    vss
                    for words, units, vss in _GUESSES
                    if any(w in key for w in words)
                    and not any(w in key for w in _NOT_ACTUAL)
                    and unit.lower() in units
                    and vss in catalog
                ),
                None,
            )
            lin = _linear(unit, catalog[target].unit) if target else None
            if target and target not in mapped and lin is not None:
                mapped.add(target)
                if target == "Vehicle.Powertrain.TractionBattery.CurrentCurrent":
                    lines.append("# sign: VSS counts charging current positive; if this DBC counts discharge positive, set scale = -1.0")
                lines += [
                    "[[map]]",
                    f'message = "{msg.name}"   # id 0x{msg.frame_id:x}',
                    f'signal = "{sig.name}"   # [{unit}]',
                    f'vss = "{target}"   # [{catalog[target].unit}]',
                    f"scale = {lin[0]!r}",
                    f"offset = {lin[1]!r}",
                    "",
                ]
            else:
                rest.append(f"# {msg.name}.{sig.name}  [{unit}]  id 0x{msg.frame_id:x}")
    lines += ["# Other signals in the DBC (add a [[map]] table to use one):", *rest, ""]
    return "\n".join(lines)
