"""Output paths checked when the command line is read, before any work is done.

A plot or output file that cannot be written should fail in the first
second with the reason, not after a long run with "file not found".
"""

from __future__ import annotations

from pathlib import Path

import click

from twinloop.files import PLOT_FORMATS, unwritable_reason

__all__ = ["PLOT_FORMATS", "output_file", "plot_file"]

def output_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback: `value` must be a file path that can be written (None passes)."""
    if value is None or str(value) == "-":
        return value
    value = Path(value)
    why = unwritable_reason(value)
    if why is not None:
        raise click.BadParameter(f"cannot write {value}: {why}", ctx=ctx, param=param)
    return value


def plot_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback: `value` must be a writable file with a plot format's suffix (None passes)."""
    if value is None:
        return value
    value = Path(value)
    suffix = value.suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        got = f"'.{suffix}'" if suffix else "no suffix"
        raise click.BadParameter(
            f"{value} has {got}; a plot is written as one of "
            + ", ".join(f".{s}" for s in PLOT_FORMATS[:6]) + " ... (e.g. plot.png)",
            ctx=ctx, param=param,
        )
    return output_file(ctx, param, value)
