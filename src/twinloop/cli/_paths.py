"""Output paths checked when the command line is read, before any work is done.

A plot or output file that cannot be written should fail in the first
second with the reason, not after a long run with "file not found".
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import click

__all__ = ["PLOT_FORMATS", "output_file", "plot_file"]

#: File formats matplotlib's Agg backend writes (``FigureCanvasBase.get_supported_filetypes``).
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps", "pgf", "raw", "rgba")


def _writable(path: Path) -> str | None:
    """Why `path` cannot be written, or None. Creates missing parent folders, as the commands do."""
    if path.is_dir():
        return "it is a folder; give a file name inside it"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return f"{path.parent} is a file, not a folder"
    except OSError as exc:
        return f"cannot create the folder {path.parent} ({exc.strerror or exc})"
    if path.exists():
        return None if os.access(path, os.W_OK) else "the file is not writable"
    try:  # a probe: only writing tells (/proc, read-only mounts, root's special folders)
        with open(path, "xb"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno in (errno.ENOENT, errno.EACCES, errno.EROFS, errno.EPERM):
            reason = f"{path.parent} does not accept new files ({reason})"
        return reason
    path.unlink()
    return None


def output_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Click callback: `value` must be a file path that can be written (None passes)."""
    if value is None or str(value) == "-":
        return value
    value = Path(value)
    why = _writable(value)
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
