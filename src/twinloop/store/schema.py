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
    "AddTable",
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


def _once(field: str, names: list[str], where: str) -> None:
    """Refuse names given more than once."""
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValidationError(field, "each name once", twice, where)


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
        _once("columns", names, f"table {self.name}")
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
    """A migration step: add `column` (nullable, not part of the key) to `table`.

    The column must be declared the same way (name, type) in the table's
    current shape: a store migrated in place and a new one get one schema.
    """

    table: str
    column: Column


@dataclass(frozen=True)
class AddTable:
    """A migration step: create `table` (declared in the extension's tables) in a store of an older version.

    It gets the columns the table has at that version: its current shape less
    the columns later :class:`AddColumn` steps add.
    """

    table: str


#: A step from one version of an extension to the next.
Migration = AddColumn | AddTable


@dataclass(frozen=True)
class SchemaExtension:
    """Tables a layer keeps in the store, and how to bring an older store up to date.

    Attributes
    ----------
    name : str
        The owner, e.g. ``"twin"``; recorded in the store with the version.
        Every table's name starts with it (``twins``, ``twin_models``), so
        two extensions cannot claim one table, and a plug-in cannot take the
        name of a table another layer will need.
    tables : tuple of Table
        The tables in their current shape.
    migrations : tuple of Migration
        ``migrations[k]`` takes a store from version ``k + 1`` to ``k + 2``
        (:class:`AddColumn`, :class:`AddTable`); the current version is
        ``1 + len(migrations)``. A new store gets the current tables at once.
    """

    name: str
    tables: tuple[Table, ...]
    migrations: tuple[Migration, ...] = ()

    def __post_init__(self) -> None:
        _check_name("extension name", self.name)
        if not self.tables:
            raise ValidationError("tables", "at least one table", 0, f"extension {self.name}")
        names = [t.name for t in self.tables]
        _once("tables", names, f"extension {self.name}")
        foreign = [n for n in names if not n.startswith(self.name)]
        if foreign:
            raise ValidationError(
                "table name", f"a name that starts with the extension's name {self.name!r}", foreign[0],
                f"extension {self.name}", hint="Each extension keeps to names of its own (e.g. twin: twins, twin_models)",
            )
        self._check_migrations()

    def _check_migrations(self) -> None:
        where = f"extension {self.name}"
        created: dict[str, int] = {}
        added: set[tuple[str, str]] = set()
        for k, step in enumerate(self.migrations):
            table = self.table(step.table)
            if isinstance(step, AddTable):
                if step.table in created:
                    raise ValidationError("migrations", "each table added once", step.table, where)
                created[step.table] = k
                continue
            if not isinstance(step, AddColumn):
                raise ValidationError("migrations", "AddColumn or AddTable steps", type(step).__name__, where)
            name = step.column.name
            if name not in table.column_names:
                raise ValidationError("migrations", f"columns that the current {table.name} table has", name, where)
            declared = table.column(name)
            if step.column != declared:
                raise ValidationError(
                    "migrations", f"the column as table {table.name} declares it ({declared.type},"
                    f" {'NULL allowed' if declared.nullable else 'NOT NULL'})",
                    f"{step.column.type}, {'NULL allowed' if step.column.nullable else 'NOT NULL'}", where,
                    hint=f"A store migrated in place must get the same column {name} as a new store",
                )
            if not step.column.nullable:
                raise ValidationError("migrations", "an added column that may be NULL (old rows have none)",
                                      name, where)
            if name in table.primary_key:
                raise ValidationError("migrations", "a column outside the primary key (the key is made with the"
                                      " table)", name, where)
            if (step.table, name) in added:
                raise ValidationError("migrations", "each column added once", f"{step.table}.{name}", where)
            if step.table in created and created[step.table] > k:
                raise ValidationError("migrations", f"columns added to {step.table} after its AddTable step",
                                      name, where)
            added.add((step.table, name))

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
        """Each table's column names at `version` (for checking an older store); tables added later are absent."""
        later = self.migrations[version - 1:]
        absent = {m.table for m in later if isinstance(m, AddTable)}
        added = {(m.table, m.column.name) for m in later if isinstance(m, AddColumn)}
        return {t.name: tuple(c for c in t.column_names if (t.name, c) not in added)
                for t in self.tables if t.name not in absent}

    def table_at(self, name: str, version: int) -> Table:
        """Table `name` as it is at `version`: its columns then, its key."""
        table = self.table(name)
        columns = self.columns_at(version)[name]
        return Table(table.name, tuple(c for c in table.columns if c.name in columns), table.primary_key)
