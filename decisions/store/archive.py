"""Every table of the store, row by row, out of one database and into another (`decisions export` /
`decisions import`), and an online copy of an SQLite file (`decisions backup`).

Generic on purpose: the tables are those of `SQLModel.metadata` (every table `store/tables.py`
declares, including ones added after this module was written), in dependency order, each row as
the list of its column values in a JSON-safe form that gives back the same value on either database
(`encode` / `decode`: bytes as base64, dates as ISO text, everything else as JSON has it). The
archive's file format is the service's (`decisions.service.archive`); only rows cross this line.

A dump reads one consistent snapshot (one read transaction: SQLite's WAL snapshot, PostgreSQL's
REPEATABLE READ), streaming each table in primary-key order; a load writes every row in one
transaction into a database whose tables are empty (the ``meta`` settings a fresh database gets are
replaced by the archive's), then moves PostgreSQL's id sequences past the ids it loaded.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, inspect, select, text
from sqlalchemy import types as sqltypes
from sqlmodel import SQLModel

from decisions.errors import StoreError, UsageError, shown
from decisions.store.database import SCHEMA_REVISION, Database
from decisions.store.tables import DocumentRow, MetaRow

__all__ = [
    "SCHEMA_REVISION",
    "Snapshot",
    "TableRows",
    "backup_sqlite",
    "copy_sqlite",
    "decode",
    "dump_tables",
    "empty_tables",
    "encode",
    "load_tables",
    "meta_rows",
    "prepare_target",
    "table_order",
    "wipe_tables",
]

_META = MetaRow.__table__.name  # type: ignore[attr-defined]
_DOCUMENTS = DocumentRow.__table__  # type: ignore[attr-defined]
_NOT_TABLES = {"alembic_version"}  # the migration history: the target database keeps its own
BATCH = 500  # rows inserted per statement, and fetched per round trip


def table_order() -> list[Table]:
    """Every stored table, parents before the tables whose foreign keys name them."""
    return list(SQLModel.metadata.sorted_tables)


def _table(name: str) -> Table:
    table = SQLModel.metadata.tables.get(name)
    if table is None:
        raise UsageError(f"归档中的表本版本未知 / the archive has a table this version does not know: {shown(name)}")
    return table


def _codec(column_type: Any) -> str:
    if isinstance(column_type, sqltypes._Binary):
        return "base64"
    if isinstance(column_type, sqltypes.DateTime):
        return "datetime"
    if isinstance(column_type, sqltypes.Date):
        return "date"
    return "json"


def encode(table: Table, row: Sequence[Any]) -> list[Any]:
    """A row of ``table`` (values in column order) as JSON-safe values."""
    out: list[Any] = []
    for column, value in zip(table.columns, row, strict=True):
        codec = _codec(column.type)
        if value is None or codec == "json":
            out.append(value)
        elif codec == "base64":
            out.append(base64.b64encode(bytes(value)).decode("ascii"))
        else:
            out.append(value.isoformat())
    return out


def decode(table: Table, columns: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """The row ``encode`` wrote, back as column values (``columns`` in the order they were written)."""
    if len(values) != len(columns):
        raise UsageError(
            f"表 {table.name} 的一行列数不符 / a row of {table.name} has {len(values)} values for {len(columns)} columns"
        )
    row: dict[str, Any] = {}
    for name, value in zip(columns, values, strict=True):
        column = table.columns[name]
        codec = _codec(column.type)
        try:
            if value is None or codec == "json":
                row[name] = value
            elif codec == "base64":
                row[name] = base64.b64decode(value, validate=True)
            elif codec == "datetime":
                row[name] = datetime.fromisoformat(value)
            else:
                row[name] = date.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"表 {table.name} 列 {name} 的值无法读取 / {table.name}.{name}: {shown(value)}") from exc
    return row


@dataclass(frozen=True)
class TableRows:
    """One table as an archive carries it: its name, its column names, and its rows (encoded)."""

    name: str
    columns: tuple[str, ...]
    rows: Iterable[Sequence[Any]]


class Snapshot:
    """One consistent read of every table (inside `dump_tables`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def tables(self) -> Iterator[TableRows]:
        """Every table in dependency order; each table's rows are streamed in primary-key order."""
        for table in table_order():
            yield TableRows(table.name, tuple(c.name for c in table.columns), self._rows(table))

    def _rows(self, table: Table) -> Iterator[list[Any]]:
        order = list(table.primary_key.columns) or list(table.columns)
        result = self._conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
        for row in result:
            yield encode(table, tuple(row))


@contextmanager
def dump_tables(db: Database) -> Iterator[Snapshot]:
    """A consistent snapshot of every table, read while the context is open. Refused when the
    database holds a table this version does not declare (an export would silently lose it)."""
    with db.read() as conn:
        present = set(inspect(conn).get_table_names()) - _NOT_TABLES
        unknown = sorted(present - set(SQLModel.metadata.tables))
        if unknown:
            raise StoreError(
                f"数据库中有本版本未知的表，导出会丢失它们 / the database has tables this version does not know "
                f"(an export would lose them): {', '.join(shown(u) for u in unknown)}"
            )
        yield Snapshot(conn)


def _filled(conn: Connection) -> list[str]:
    return [
        t.name
        for t in table_order()
        if t.name != _META and conn.execute(select(text("1")).select_from(t).limit(1)).first() is not None
    ]


def empty_tables(db: Database) -> list[str]:
    """The tables that hold rows (the ``meta`` settings apart): empty means ready for a load."""
    with db.read() as conn:
        return _filled(conn)


def load_tables(db: Database, tables: Iterable[TableRows]) -> dict[str, int]:
    """Write every row of ``tables`` in one transaction into a database whose tables are empty;
    returns the rows written per table. The ``meta`` rows are replaced by the archive's. Nothing is
    written when a table holds rows already, a table or column is unknown, or any row is refused."""
    counts: dict[str, int] = {}
    with db.write() as conn:
        filled = _filled(conn)
        if filled:
            raise UsageError(
                f"目标数据库不是空的，导入不会写入 / the target database is not empty (rows in {', '.join(filled)}); "
                "import writes only into an empty database"
            )
        for part in tables:
            table = _table(part.name)
            unknown = [c for c in part.columns if c not in table.columns]
            if unknown:
                raise UsageError(
                    f"归档中的列本版本未知 / the archive has columns of {table.name} this version does not know: "
                    f"{', '.join(shown(c) for c in unknown)}"
                )
            if table.name == _META:
                conn.execute(table.delete())
            n = 0
            batch: list[dict[str, Any]] = []
            for values in part.rows:
                batch.append(decode(table, part.columns, values))
                if len(batch) >= BATCH:
                    conn.execute(table.insert(), batch)
                    n += len(batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
                n += len(batch)
            counts[table.name] = counts.get(table.name, 0) + n
        if not db.is_sqlite:
            _advance_sequences(conn)
    return counts


def _advance_sequences(conn: Connection) -> None:
    """PostgreSQL hands out ids from a sequence that explicit ids do not move: set each past the
    largest id loaded, or the office's next event would take an id already used."""
    for table in table_order():
        key = list(table.primary_key.columns)
        for column in key:
            if len(key) != 1 or not isinstance(column.type, sqltypes.Integer):
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if sequence is None:
                continue
            largest = conn.execute(select(column).order_by(column.desc()).limit(1)).scalar()
            conn.execute(
                text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                {"s": sequence, "v": largest or 1, "called": largest is not None},
            )


def wipe_tables(db: Database, meta: Sequence[tuple[str, str]]) -> None:
    """Empty every table again after a load that did not verify, and put back the ``meta`` rows the
    database had before (one transaction)."""
    with db.write() as conn:
        for table in reversed(table_order()):
            conn.execute(table.delete())
        if meta:
            conn.execute(MetaRow.__table__.insert(), [{"key": k, "value": v} for k, v in meta])  # type: ignore[attr-defined]


def meta_rows(db: Database) -> list[tuple[str, str]]:
    """The ``meta`` settings, as stored."""
    table = MetaRow.__table__  # type: ignore[attr-defined]
    with db.read() as conn:
        return [(str(k), str(v)) for k, v in conn.execute(select(table.c.key, table.c.value).order_by(table.c.key))]


def prepare_target(db: Database, hash_algorithm: str) -> None:
    """Make a new database ready for a load: one never initialised is created (Alembic); one
    initialised must be at this version's schema (`Database.ensure_ready`), and is not migrated."""
    fresh = db.is_sqlite and not Path(db.engine.url.database or "").exists()
    if not fresh:
        with db.read() as conn:
            fresh = not inspect(conn).has_table("alembic_version")
    if fresh:
        db.migrate(hash_algorithm)
    else:
        db.ensure_ready()


def backup_sqlite(db: Database, target: Path) -> None:
    """An online copy of an SQLite database into the new file ``target`` with SQLite's backup API,
    in one step: one read snapshot of the source (WAL lets writers go on meanwhile), so the copy is
    the database as it was at one instant."""
    if not db.is_sqlite:
        raise UsageError("SQLite 备份接口只适用于 SQLite 数据库 / the SQLite backup API needs an SQLite database")
    raw = db.engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            source.backup(destination)
        finally:
            destination.close()
    except sqlite3.Error as exc:
        raise StoreError(f"备份失败 / the backup failed: {shown(str(exc), 200)}") from exc
    finally:
        raw.close()


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the SQLite file ``source`` (a backup; opened read-only) into the new file ``target`` with
    SQLite's backup API: what restoring a backup does."""
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
            found = src.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
            if found is None:  # an SQLite file, but not an office's database
                raise UsageError(
                    f"不是本系统的数据库备份 / {shown(str(source), 120)} is not a backup of a decisions database"
                )
            with closing(sqlite3.connect(target)) as destination:
                src.backup(destination)
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise UsageError(f"不是可恢复的备份 / {shown(str(source), 120)} is not a database backup: {exc}") from exc
