"""Click parameter types shared by the commands."""

from __future__ import annotations

import math
from typing import Any

import click

__all__ = ["STORE_OPTION", "FiniteFloatRange"]


STORE_HELP = (
    "Store URL: a DuckDB file path, duckdb:///path or postgresql://user@host/db"
    " (?schema=name keeps the tables in a schema of their own)."
    " Default: $TWINLOOP_STORE or ~/.local/share/twinloop/telemetry.duckdb."
)


def _on_disk(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse an in-memory store: each command is its own process, so what it wrote would be lost."""
    if value is not None and value.strip().rsplit("/", 1)[-1] == ":memory:":
        raise click.BadParameter(
            f"expected a DuckDB file or a server, received {value!r}: an in-memory store is gone when the"
            " command ends. Give a file, e.g. --store fleet.duckdb",
            ctx=ctx, param=param,
        )
    return value


STORE_OPTION = click.option("--store", "store_url", envvar="TWINLOOP_STORE", help=STORE_HELP, callback=_on_disk)
"""The ``--store`` option every store command takes."""


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses nan and inf (nan passes every comparison of a range)."""

    name = "float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail(f"{value} is not a finite number; give one in the range {self._describe_range()}.", param, ctx)
        return rv
