"""One exception hierarchy for twinloop.

Every error a user can cause derives from :class:`TwinloopError`; the command
line prints its message (never a traceback) and exits with status 2.
Messages name the field, the valid range, what was received and, for unknown
names, the closest matches.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable

__all__ = [
    "CalibrationError",
    "DataError",
    "SpecificationError",
    "StoreConflictError",
    "StoreError",
    "TraceError",
    "TwinloopError",
    "UnknownNameError",
    "ValidationError",
    "Verbatim",
    "clip",
    "close_matches",
    "shorten",
    "shown",
]


class TwinloopError(Exception):
    """Base class of every error twinloop raises on purpose."""


class ValidationError(TwinloopError, ValueError):
    """A value is missing, of the wrong type or outside its valid range.

    Parameters
    ----------
    field : str
        Dotted name of the offending field, e.g. ``"battery.capacity"``.
    expected : str
        The valid range or form, e.g. ``"> 0 kg"``.
    received : object
        What was received.
    where : str, optional
        The file or object the field came from.
    hint : str, optional
        How to fix it.
    """

    def __init__(
        self,
        field: str,
        expected: str,
        received: object,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.field = field
        self.expected = expected
        self.received = received
        self.where = where
        self.hint = hint
        location = f" in {where}" if where else ""
        message = f"{field}{location}: expected {expected}, received {received!r}"
        if hint:
            message += f". {hint}"
        super().__init__(message)


def shorten(value: object, limit: int = 40) -> object:
    """A typed-in `value` as an error shows it: text longer than `limit` cut, with its length.

    Nobody counts 65 characters. Meant for identifiers and names a user
    typed, not for descriptive text.

    Examples
    --------
    >>> shorten("V" * 65)
    'VVVVVVVVVVVVVVVVVVVV... (65 characters)'
    >>> shorten("CAR7")
    'CAR7'
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:20]}... ({len(value)} characters)"
    return value


#: Characters of a refused value or row that :func:`clip` keeps by default (a quarantine row, a library message).
CLIP_LIMIT = 200
# beyond this many bits str() of an int is refused by Python (4300 digits) or slow
_MAX_INT_BITS = 10_000


class Verbatim(str):
    """Text standing for a value in a message; its repr is the text itself (no quotes around a number)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def shown(value: object, limit: int = 40) -> object:
    """`value` as a message shows it: long text, huge numbers and long reprs cut, with their size.

    Examples
    --------
    >>> shown("V" * 65)
    'VVVVVVVVVVVVVVVVVVVV... (65 characters)'
    >>> shown(-10**400)
    -1000000000000000000... (401 digits)
    >>> shown(12.5)
    12.5
    """
    if isinstance(value, str):
        return shorten(value, limit)
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > _MAX_INT_BITS:
            digits = int(value.bit_length() * math.log10(2)) + 1
            return Verbatim(f"{'-' if value < 0 else ''}an integer of about {digits} digits")
        text = str(value)
        if len(text) <= limit:
            return value
        return Verbatim(f"{text[:20]}... ({len(text.lstrip('-'))} digits)")
    text = repr(value)
    return value if len(text) <= limit else Verbatim(f"{text[:20]}... ({len(text)} characters)")


def clip(text: str, limit: int = CLIP_LIMIT) -> str:
    """`text` cut to `limit` characters, with its length when cut (for the quarantine table).

    Examples
    --------
    >>> clip("x" * 1000, 10)
    'xxxxxxxxxx... (1000 characters)'
    """
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class SpecificationError(ValidationError):
    """A vehicle, cell or scenario specification is invalid."""


class UnknownNameError(TwinloopError, KeyError):
    """A name (vehicle, cycle, signal, model ...) is not known.

    The message lists the closest known names; `hint` (how to see them all)
    follows as a sentence of its own.

    Examples
    --------
    >>> print(UnknownNameError("vehicle", "x", ["leaf"], hint="`twinloop vehicle list` shows them"))
    unknown vehicle 'x'. `twinloop vehicle list` shows them.
    >>> print(UnknownNameError("cycle", "udd", ["udds", "us06"], hint="or pass a CSV file."))
    unknown cycle 'udd'; did you mean 'udds'? Or pass a CSV file.
    """

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.matches = close_matches(name, known)
        message = f"unknown {kind} {name!r}"
        if self.matches:
            message += "; did you mean " + ", ".join(repr(m) for m in self.matches) + "?"
        if hint:
            # The hint is a sentence of its own: "unknown twin 'X'. `twinloop twin list` shows them."
            if not message.endswith("?"):
                message += "."
            hint = hint.strip()
            message += f" {hint[:1].upper()}{hint[1:]}"
            if not hint.endswith((".", "?", "!")):
                message += "."
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class DataError(TwinloopError, ValueError):
    """Input data (a file, a trace, a log) cannot be used as it is."""


class TraceError(DataError):
    """A speed trace is malformed (time not increasing, negative speed ...)."""


class CalibrationError(TwinloopError):
    """There is not enough, or not the right, data to calibrate a model."""


class StoreError(TwinloopError):
    """The telemetry store cannot be opened or written."""


class StoreConflictError(StoreError):
    """A concurrent writer changed the same rows first; nothing was written, and running again is safe."""


def close_matches(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Return up to `n` known names closest to `name` (case-insensitive).

    Examples
    --------
    >>> close_matches("udd", ["udds", "hwfet", "us06"])
    ['udds']

    Names that differ only in case are all kept:

    >>> close_matches("car8", ["CAR7", "car7", "Car7", "bus1"])
    ['CAR7', 'car7', 'Car7']
    """
    lowered: dict[str, list[str]] = {}
    for k in known:
        lowered.setdefault(k.lower(), []).append(k)
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    if not hits:
        hits = [k for k in lowered if name.lower() in k][:n]
    return [k for h in hits for k in lowered[h]][:n]
