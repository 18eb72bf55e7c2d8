"""The ``twinloop`` command: a thin adapter over the library.

Subcommands live in sibling modules; each exposes ``register(group)``. A user
error (any :class:`twinloop.errors.TwinloopError`, or a usage error click
finds: an unknown option, a value out of range) prints one line and exits
with status 2, never a traceback.
"""

from __future__ import annotations

import errno
import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from twinloop import __version__
from twinloop.cli._errors import cli_message, current_field_flags
from twinloop.errors import TwinloopError, shorten

__all__ = ["main"]

# Modules that add commands to the group, in help order.
_COMMAND_MODULES = [
    "twinloop.cli.simulate",
    "twinloop.cli.vehicle",
    "twinloop.cli.data",
    "twinloop.cli.twin",
    "twinloop.cli.battery",
    "twinloop.cli.profile",
    "twinloop.cli.range",
    "twinloop.cli.energy",
    "twinloop.cli.health",
    "twinloop.cli.design",
]


def _os_error(exc: OSError) -> str:
    """One line for a file the system refused: which file, and why, with the name cut when absurdly long."""
    shown = "the output" if exc.filename is None else str(shorten(str(exc.filename), 80))
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENAMETOOLONG:
        return f"cannot use {shown}: the file name is too long (the system allows 255 characters a name)"
    if exc.errno == errno.ENOTDIR:
        return f"cannot use {shown}: a part of the path is a file, not a folder"
    if exc.errno == errno.ENOSPC:
        return f"cannot write {shown}: no space left on the device"
    return f"cannot use {shown}: {reason}"


#: click >= 8.2 raises this (a UsageError) for a group run without a command; older click shows help itself.
_NO_ARGS_IS_HELP: type[click.UsageError] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Group(click.Group):
    """A group that turns twinloop errors and click's usage errors into one-line messages."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # a bare group: its help
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:  # unknown option or command, bad or missing value
            where = f"`{exc.ctx.command_path} --help`" if exc.ctx is not None else "`twinloop --help`"
            click.secho(f"error: {exc.format_message()} (see {where})", fg="red", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except OSError as exc:  # raised while options are checked (a --plot path too long to exist ...)
            click.secho(f"error: {_os_error(exc)}", fg="red", err=True)
            sys.exit(2)
        # an int here is a ctx.exit(code); commands themselves return nothing
        sys.exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TwinloopError as exc:
            click.secho(f"error: {cli_message(exc, current_field_flags(ctx))}", fg="red", err=True)
            sys.exit(2)
        except IsADirectoryError as exc:
            click.secho(f"error: {exc.filename} is a folder; give a file", fg="red", err=True)
            sys.exit(2)
        except FileNotFoundError as exc:
            where = exc.filename if exc.filename is not None else "(no file name given)"
            click.secho(f"error: file not found: {where}", fg="red", err=True)
            sys.exit(2)
        except PermissionError as exc:
            click.secho(f"error: no permission to use {exc.filename}: {exc.strerror}", fg="red", err=True)
            sys.exit(2)
        except BrokenPipeError:  # `twinloop ... | head`: click ends quietly, as before
            raise
        except OSError as exc:  # a name too long, a file where a folder should be, a full disk ...
            click.secho(f"error: {_os_error(exc)}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="twinloop")
def main() -> None:
    """twinloop: digital twins of electric vehicles.

    \b
    Start here:
      twinloop demo                     simulate the bundled vehicles over the standard cycles
      twinloop simulate -v tesla_model_3_long_range_2022 -c udds
      twinloop vehicle list             the bundled vehicle library
      twinloop cycle list               the bundled drive cycles
      twinloop ingest FILE -v VIN       telemetry (CSV, Parquet, CAN logs) into the store
      twinloop twin create VIN -v NAME  a twin of one vehicle; then twin calibrate|sync|update
      twinloop range VIN --trip FILE    a drive's energy, end charge and range, with an interval
      twinloop energy VIN --trip N      where a trip's kWh went, and what would have saved some
      twinloop health VIN               battery health trend, remaining life, alerts
      twinloop profile build            driving profiles per trip, driver and road stretch
      twinloop design                   battery, motor and gear ratio for a fleet's days
      twinloop battery identify FILE    a cell model from pulse tests
    """


for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # a command module not written yet
        if _exc.name != _name:
            raise
        continue
    _module.register(main)
