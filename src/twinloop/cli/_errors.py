"""Library errors in the command line's words: the fields they name become the options that set them.

The library names fields (``capacity``, ``ambient_temperature``), never
command-line flags, so that the service and any other caller can reuse its
errors. A command says which of its options set which fields with
:func:`field_flags`; :func:`cli_message` then writes the option where the
library wrote the field: at the start of a :class:`~twinloop.errors.ValidationError`
and wherever a message quotes the field in backticks (```flip_current```
becomes ``--flip-current``, as a user types it).

Examples
--------
>>> from twinloop.errors import ValidationError
>>> cli_message(ValidationError("capacity", "> 0 Ah", -1.0, hint="Give `capacity`"), {"capacity": "--capacity-ah"})
'--capacity-ah: expected > 0 Ah, received -1.0. Give --capacity-ah'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

__all__ = ["cli_message", "current_field_flags", "field_flags"]

_KEY = "twinloop.field_flags"
F = TypeVar("F", bound=Callable[..., Any])


def field_flags(**mapping: str) -> Callable[[F], F]:
    """Decorate a command's function (below ``@click.command``): library field -> the option that sets it."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            click.get_current_context().meta[_KEY] = mapping  # meta is shared with the parent contexts
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def current_field_flags(ctx: click.Context) -> Mapping[str, str]:
    """The field -> option map the running command declared (empty when none)."""
    flags: Mapping[str, str] = ctx.meta.get(_KEY, {})
    return flags


def cli_message(exc: BaseException, flags: Mapping[str, str]) -> str:
    """`exc`'s message with each field the command sets by an option written as that option."""
    text = str(exc)
    field = getattr(exc, "field", None)
    if isinstance(field, str) and field in flags and text.startswith(field):
        text = flags[field] + text[len(field):]
    for name, flag in flags.items():
        text = text.replace(f"`{name}`", flag)
    return text
