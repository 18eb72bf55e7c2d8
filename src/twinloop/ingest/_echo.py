"""Received values as ingestion's messages and quarantine show them: bounded, with their size.

A file can hold a 1 MB cell or a 400-digit number; an error or a
quarantine row that repeats it whole is unreadable (and, for the
quarantine, a way to fill the store). The helpers are
:func:`twinloop.errors.shown` and :func:`twinloop.errors.clip`; these are
ingestion's limits.
"""

from __future__ import annotations

from twinloop.errors import Verbatim, clip, shown

__all__ = ["NAME_LIMIT", "QUARANTINE_TEXT_LIMIT", "Verbatim", "clip", "shown"]

#: Longest name (column, signal) a message repeats whole; VSS paths stay well below it.
NAME_LIMIT = 200
#: Characters of a refused value or row kept in the quarantine table.
QUARANTINE_TEXT_LIMIT = 200
