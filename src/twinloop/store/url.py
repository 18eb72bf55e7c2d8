"""Open a telemetry store from a URL; the scheme picks the backend."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from twinloop.errors import UnknownNameError, ValidationError
from twinloop.signals.catalog import SignalCatalog
from twinloop.store.base import SqlTelemetryStore
from twinloop.store.duckdb import DuckDBStore
from twinloop.store.postgres import PostgresStore

__all__ = ["BACKENDS", "ENV_VAR", "BackendFactory", "default_store_url", "open_store"]

#: Environment variable that overrides the default store.
ENV_VAR = "TWINLOOP_STORE"


class BackendFactory(Protocol):
    """Opens a store from its URL; ``create=False`` refuses a store that does not exist."""

    def __call__(
        self, url: str, catalog: SignalCatalog | None = None, *, create: bool = True
    ) -> SqlTelemetryStore: ...


#: URL scheme -> backend constructor.
BACKENDS: dict[str, BackendFactory] = {
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


def open_store(
    url: str | None = None, catalog: SignalCatalog | None = None, *, create: bool = True
) -> SqlTelemetryStore:
    """Open the store at `url` (see :func:`default_store_url` when None).

    A URL without a scheme is a DuckDB file path.

    Parameters
    ----------
    url : str, optional
        Store URL or DuckDB file path.
    catalog : SignalCatalog, optional
        Signal catalog (the bundled one by default).
    create : bool
        Create the store when it does not exist. Commands that only read
        pass False: a missing store is then a :class:`StoreError` naming
        the path, and nothing is created.

    Examples
    --------
    >>> store = open_store("duckdb://:memory:")
    >>> store.sample_count()
    0
    >>> store.close()
    """
    if url is not None and not url.strip():  # an unset shell variable, most likely
        raise ValidationError(
            "store", "a DuckDB file path or a store URL (leave it out for the default store)", url
        )
    url = url or default_store_url()
    scheme = url.split("://", 1)[0] if "://" in url else None
    if scheme is None:
        return DuckDBStore(url, catalog, create=create)
    try:
        factory = BACKENDS[scheme]
    except KeyError:
        raise UnknownNameError(
            "store URL scheme", scheme, BACKENDS,
            hint=f"Known schemes: {', '.join(f'{b}://' for b in BACKENDS)}; a path without one is a DuckDB file.",
        ) from None
    return factory(url, catalog, create=create)
