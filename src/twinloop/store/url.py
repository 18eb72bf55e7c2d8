"""Open a telemetry store from a URL; the scheme picks the backend."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from twinloop.errors import UnknownNameError
from twinloop.signals.catalog import SignalCatalog
from twinloop.store.base import SqlTelemetryStore
from twinloop.store.duckdb import DuckDBStore
from twinloop.store.postgres import PostgresStore

__all__ = ["BACKENDS", "ENV_VAR", "default_store_url", "open_store"]

#: Environment variable that overrides the default store.
ENV_VAR = "TWINLOOP_STORE"

#: URL scheme -> backend constructor.
BACKENDS: dict[str, Callable[[str, SignalCatalog | None], SqlTelemetryStore]] = {
    "duckdb": DuckDBStore.from_url,
    "postgresql": PostgresStore.from_url,
    "postgres": PostgresStore.from_url,
}


def default_store_url() -> str:
    """``$TWINLOOP_STORE``, else a DuckDB file in the user's data directory.

    The data directory is ``$XDG_DATA_HOME/twinloop`` (``~/.local/share/twinloop``).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"duckdb:///{base / 'twinloop' / 'telemetry.duckdb'}"


def open_store(url: str | None = None, catalog: SignalCatalog | None = None) -> SqlTelemetryStore:
    """Open the store at `url` (see :func:`default_store_url` when None).

    A URL without a scheme is a DuckDB file path.

    Examples
    --------
    >>> store = open_store("duckdb://:memory:")
    >>> store.sample_count()
    0
    >>> store.close()
    """
    url = url or default_store_url()
    scheme = url.split("://", 1)[0] if "://" in url else None
    if scheme is None:
        return DuckDBStore(url, catalog)
    try:
        factory = BACKENDS[scheme]
    except KeyError:
        raise UnknownNameError("store URL scheme", scheme, BACKENDS) from None
    return factory(url, catalog)
