"""An output file must not be what the command reads: an `-o` that names an input is refused.

``twinloop query -o fleet.duckdb --store fleet.duckdb`` would replace the
whole store with a CSV; ``twinloop can manifest --dbc my.dbc -o my.dbc``
the DBC with a manifest. Commands call :func:`check_output` with their
inputs before any work, so the refusal costs nothing and writes nothing.
Paths are compared resolved (``..``, symbolic links) and, where both exist,
as files (hard links).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from twinloop.errors import ValidationError

__all__ = ["check_output", "store_file"]


def store_file(url: str | None) -> Path | None:
    """The DuckDB file a store URL names (the default store when None); None for a server or memory.

    Examples
    --------
    >>> str(store_file("duckdb:///data/fleet.duckdb"))
    '/data/fleet.duckdb'
    >>> str(store_file("fleet.duckdb"))
    'fleet.duckdb'
    >>> store_file("postgresql://localhost/test") is None
    True
    """
    from twinloop.store.url import default_store_url

    if url is not None and not url.strip():  # refused when the store is opened
        return None
    url = url or default_store_url()
    if "://" in url:
        scheme, rest = url.split("://", 1)
        if scheme != "duckdb":
            return None
        if rest.startswith("//"):  # duckdb:////abs/path, as the store itself reads it
            rest = rest[1:]
    else:
        rest = url
    if not rest.strip() or rest.strip().rsplit("/", 1)[-1] == ":memory:":
        return None
    return Path(rest).expanduser()


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links
        return None


def _same(a: Path, b: Path) -> bool:
    ra, rb = _resolved(a), _resolved(b)
    if ra is not None and ra == rb:
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False


def check_output(
    output: str | Path | None,
    inputs: Iterable[str | Path | None] = (),
    *,
    store: Path | None = None,
    option: str = "--output",
) -> None:
    """Refuse `output` when it is one of `inputs` or the `store` (None and ``-``, standard output, pass).

    Parameters
    ----------
    output : path or None
        The file the command is about to write.
    inputs : iterable of paths
        Files the command reads (None entries are skipped).
    store : path, optional
        The DuckDB file of the store the command opens (see :func:`store_file`);
        its write-ahead log (``.wal``) is refused too.
    option : str
        The option that set `output`, as the message names it.

    Raises
    ------
    ValidationError
        Naming `option`, the path and what it is; nothing has been written.
    """
    if output is None or str(output) == "-":
        return
    out = Path(output)
    candidates: list[tuple[Path, str]] = []
    if store is not None:
        candidates += [
            (store, "the store this command reads"),
            (store.with_name(store.name + ".wal"), "the write-ahead log of the store this command reads"),
        ]
    candidates += [(Path(p), "an input file of this command") for p in inputs if p is not None]
    for path, what in candidates:
        if _same(out, path):
            real = _resolved(path)
            via = f" ({real})" if real is not None and str(real) != str(out) else ""
            raise ValidationError(
                option,
                "a file this command does not read",
                str(out),
                hint=f"It is {what}{via}; nothing was written. Write to another file.",
            )
