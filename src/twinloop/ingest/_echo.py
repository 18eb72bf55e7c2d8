"""Received values as ingestion's messages and quarantine show them: bounded, with their size.

A file can hold a 1 MB cell or a 400-digit number; an error or a
quarantine row that repeats it whole is unreadable (and, for the
quarantine, a way to fill the store). Text goes through
:func:`twinloop.errors.shorten`; numbers and other objects are cut here.
"""

from __future__ import annotations

import math

from twinloop.errors import shorten

__all__ = ["NAME_LIMIT", "QUARANTINE_TEXT_LIMIT", "Verbatim", "clip", "shown"]

#: Longest name (column, signal) a message repeats whole; VSS paths stay well below it.
NAME_LIMIT = 200
#: Characters of a refused value or row kept in the quarantine table.
QUARANTINE_TEXT_LIMIT = 200
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


def clip(text: str, limit: int = QUARANTINE_TEXT_LIMIT) -> str:
    """`text` cut to `limit` characters, with its length when cut (for the quarantine table).

    Examples
    --------
    >>> clip("x" * 1000, 10)
    'xxxxxxxxxx... (1000 characters)'
    """
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
