"""Schema extensions: tables that other layers own, kept in the store's database.

A layer (the twin registry, a profiling database, a service) declares its
tables as a :class:`SchemaExtension` and registers it with
:meth:`~twinloop.store.SqlTelemetryStore.extend`. The store owns the
connection and the SQL: it creates the tables in its own dialect, records
the extension's version, applies the extension's :class:`Migration` steps
to a store written by an older version, and offers typed reads and writes
of those tables (``select``, ``insert``, ``update``, ``delete``) that take
and return Python values, never SQL.

Examples
--------
>>> notes = SchemaExtension(
...     "notes",
...     tables=(Table("notes", (Column("vin", "text", nullable=False), Column("text", "text")),
...                   primary_key=("vin",)),),
... )
>>> notes.version
1
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from twinloop.errors import UnknownNameError, ValidationError

__all__ = [
    "COLUMN_TYPES",
    "AddColumn",
    "Column",
    "ColumnType",
    "Migration",
    "SchemaExtension",
    "Table",
]

#: Portable column types; each backend maps them to its own.
ColumnType = Literal["text", "integer", "bigint", "double", "boolean", "timestamp", "json"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)

#: Identifiers of tables and columns: lower-case names, which the store quotes in SQL (reserved words such as
#: ``order`` or ``at`` are names too), so they mean the same on every backend.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: The store's own tables; no extension may declare one.
CORE_TABLES = frozenset(
    {"vehicles", "signals", "samples", "ingests", "ingest_batches", "quarantine", "trips", "events",
     "schema_extensions"}
)


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(kind, f"a lower-case SQL name matching {_NAME.pattern}", name)
    return name


@dataclass(frozen=True)
class Column:
    """One column of an extension table.

    Attributes
    ----------
    name : str
        Lower-case SQL name.
    type : {"text", "integer", "bigint", "double", "boolean", "timestamp", "json"}
        ``timestamp`` columns take and give datetimes (stored as UTC without
        zone, returned aware UTC); ``json`` columns take and give any JSON
        value (dicts with text keys, lists, numbers, text), a float coming
        back a float. The other types take ``str``, integers in range (not
        ``bool``), real numbers and ``bool``; the store checks each value
        before any SQL, so that both backends refuse the same values.
    nullable : bool
        Whether the column may hold NULL (None).
    """

    name: str
    type: ColumnType
    nullable: bool = True

    def __post_init__(self) -> None:
        _check_name("column name", self.name)
        if self.type not in COLUMN_TYPES:
            raise UnknownNameError("column type", str(self.type), COLUMN_TYPES,
                                   hint=f"Column types: {', '.join(COLUMN_TYPES)}.")


@dataclass(frozen=True)
class Table:
    """An extension table: its name, columns in order and primary key."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("table name", self.name)
        if self.name in CORE_TABLES:
            raise ValidationError("table name", "a name the store itself does not use", self.name,
                                  hint=f"The store's own tables: {', '.join(sorted(CORE_TABLES))}")
        if not self.columns:
            raise ValidationError("columns", "at least one column", 0, f"table {self.name}")
        names = [c.name for c in self.columns]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError("columns", "each name once", twice, f"table {self.name}")
        for key in self.primary_key:
            if key not in names:
                raise UnknownNameError(f"primary-key column of {self.name}", key, names)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called `name`; an unknown name suggests close matches."""
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownNameError(f"column of table {self.name}", name, self.column_names)


@dataclass(frozen=True)
class AddColumn:
    """A migration step: add `column` (nullable) to `table`."""

    table: str
    column: Column


#: A step from one version of an extension to the next.
Migration = AddColumn


@dataclass(frozen=True)
class SchemaExtension:
    """Tables a layer keeps in the store, and how to bring an older store up to date.

    Attributes
    ----------
    name : str
        The owner, e.g. ``"twin"``; recorded in the store with the version.
    tables : tuple of Table
        The tables in their current shape.
    migrations : tuple of Migration
        ``migrations[k]`` takes a store from version ``k + 1`` to ``k + 2``;
        the current version is ``1 + len(migrations)``. A new store gets the
        current tables at once.
    """

    name: str
    tables: tuple[Table, ...]
    migrations: tuple[Migration, ...] = ()

    def __post_init__(self) -> None:
        _check_name("extension name", self.name)
        names = [t.name for t in self.tables]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError("tables", "each name once", twice, f"extension {self.name}")
        for step in self.migrations:
            table = self.table(step.table)
            if step.column.name not in table.column_names:
                raise ValidationError(
                    "migrations", f"columns that the current {table.name} table has", step.column.name,
                    f"extension {self.name}",
                )
            if not step.column.nullable:
                raise ValidationError("migrations", "an added column that may be NULL (old rows have none)",
                                      step.column.name, f"extension {self.name}")

    @property
    def version(self) -> int:
        """The current version: 1 plus the number of migrations."""
        return 1 + len(self.migrations)

    def table(self, name: str) -> Table:
        """The table called `name`; an unknown name suggests close matches."""
        for t in self.tables:
            if t.name == name:
                return t
        raise UnknownNameError(f"table of extension {self.name}", name, [t.name for t in self.tables])

    def columns_at(self, version: int) -> dict[str, tuple[str, ...]]:
        """Each table's column names at `version` (for checking an older store)."""
        later = {(m.table, m.column.name) for m in self.migrations[version - 1:]}
        return {t.name: tuple(c for c in t.column_names if (t.name, c) not in later) for t in self.tables}
