"""Every stored byte is verified: mutations generated from the store's table metadata (issue 17, item 1).

`tests/test_tampering.py` tampers by hand, with the findings each edit must give. This suite does not
know the tables: it takes every table of the store's metadata (`SQLModel.metadata`: a table another
change adds is covered the day it is merged), every column of it and a few kinds of change that fit the
column's value (one character changed, upper-cased, emptied, NULL, +1, negated, and on SQLite bytes
that are not UTF-8), plus the row deleted, on one stored row of each table; SQLite and PostgreSQL.
After each change a new office (a new CaseService, as the next `decisions audit verify` would be)
verifies the database. The change must be reported as a finding, or the database must refuse to open
with a clear error; never a traceback, never nothing. Then the row is put back and the next change is
tried.

The only changes that may pass unreported are those of `HARMLESS` (harmless by design) and
`NOT_YET_VERIFIED` (a record with nothing to check it against yet), each with its reason; they are
listed in docs/reliability.md with the counts of a run.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Boolean, Integer, LargeBinary, Table, Text, cast, literal, select
from sqlmodel import SQLModel

import decisions.store.tables  # noqa: F401  (every table registered in the metadata)
from decisions.definitions import Definitions
from decisions.errors import DecisionsError, StoreError
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.repository import sql_store
from tests.stores import BACKENDS, PG_SERVER, fixed_clock, new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE, report_count

# (table, column or ":row_deleted", kind or "*") -> why a change there is harmless by design
HARMLESS: dict[tuple[str, str, str], str] = {
    ("events", "id", "*"): "a surrogate key: chains are ordered and linked by (case_id, seq), nothing reads id",
    ("checkpoints", "id", "*"): "a surrogate key: it only orders the stored copies",
    ("checkpoints", ":row_deleted", "*"): "the stored copy of a checkpoint is a convenience; the evidence is the "
    "published copy, which `audit verify --since-checkpoint` compares the chains with",
    ("definition_sources", "name", "*"): "a file name shown in messages: a set's fingerprint covers the kinds, order "
    "and content hashes of its texts, not their names (the manifest's names are used on load)",
    ("meta", "key", "*"): "only the hash_algorithm row is read, and a database without it is SHA-256, the default; on "
    "an SM3 database every chain stops verifying",
    ("meta", ":row_deleted", "*"): "as for meta.key",
    ("meta", "value", "empty"): "an empty algorithm is the default, SHA-256 (see meta.key)",
    ("users", "added_at", "*"): "when the row was written, read by nothing: the people history's entries carry "
    "(hashed) the time of every change, and verify compares everything else of the row with them",
    ("users", "changed_at", "*"): "as for users.added_at",
    ("document_chunks", "seq", "plus_one"): "a document's chunks are read in seq order and hashed together: "
    "renumbering the only chunk of a document changes no byte read (among several, the order and so the hash "
    "change, which is reported)",
    ("credentials", "changed_at", "*"): "when the password was last set, read by nothing: its people-history entry "
    "carries (hashed) the time, and verify compares the hash itself with the digest that entry records",
}
# Records that nothing verifies yet: none since the people history chains the people, units and
# delegations (issue 13, item 4) and every password set (its credential's digest; issue 17, item 5),
# and verify replays it against their tables.
NOT_YET_VERIFIED: dict[str, str] = {}
TEXT_KINDS = ("edit", "upper", "empty", "non_utf8")
RESULTS: dict[str, dict[str, int]] = {}


@dataclass(frozen=True)
class Template:
    backend: str
    url: str
    documents: Path


@pytest.fixture(scope="module", params=BACKENDS)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, definitions: Definitions
) -> Iterator[Template]:
    """Three decisions (two whole, one half way), the people who acted, and a stored checkpoint."""
    tmp = tmp_path_factory.mktemp(f"schema-{request.param}")
    urls = new_database_url(request.param, tmp)
    try:
        url = next(urls)
        database = Database(url, documents=tmp / "documents")
        database.migrate()
        store = sql_store(database)
        users = Office(store, definitions, clock=fixed_clock).users  # the people history, as a script adds them
        for unit in sorted({a.unit for a in PEOPLE.values() if a.unit}):
            users.add_unit(unit)
        for actor in PEOPLE.values():
            users.add(actor.id, sorted(actor.roles), actor.unit or "", user_id=actor.id)
        first, second = sorted(PEOPLE)[:2]  # a delegation on record (委托代办), so its row is tampered with too
        users.delegate(first, second, None, date(2030, 1, 1), date(2030, 1, 31))
        Office(store, definitions, clock=fixed_clock).set_password(first, "a password of some length")
        service = CaseService(store, definitions, clock=fixed_clock, outside=supplied_catalogue)
        play(service, "D-1")
        play(service, "D-2")
        play(service, "D-3", MAIN_PATH[:9])
        AuditService(service).checkpoint()
        database.dispose()
        yield Template(request.param, url, tmp / "documents")
    finally:
        urls.close()


@pytest.fixture
def copy(template: Template, tmp_path: Path) -> Iterator[Database]:
    """A fresh copy of the template's database (the documents are rows of it)."""
    documents = tmp_path / "documents"
    if template.backend == "sqlite":
        target = tmp_path / "decisions.sqlite"
        shutil.copyfile(Path(template.url.removeprefix("sqlite:///")), target)
        database = Database(f"sqlite:///{target}", documents=documents)
        yield database
        database.dispose()
        return
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.url.rsplit("/", 1)[1]}"')
    database = Database(f"{template.url.rsplit('/', 1)[0]}/{name}", documents=documents)
    try:
        yield database
    finally:
        database.dispose()
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the mutations ----------------------------------------------------------------------------------


def _flipped(c: str) -> str:
    """Another character of the same sort: a digest stays a well-formed digest, a date a date."""
    if c.isdigit():
        return str((int(c) + 1) % 10)
    if c in "abcdef":
        return "abcdef"[("abcdef".index(c) + 1) % 6]
    if c.isascii() and c.isalpha():
        return "a" if c != "a" else "b"
    return "x" if c != "x" else "y"


def _changed(value: Any, kind: str, column: Any, backend: str) -> Any:
    """The value (or SQL expression) ``kind`` makes of ``value``, or None when it does not apply."""
    if kind == "null":
        return literal(None) if column.nullable and value is not None else None
    if isinstance(value, bool) or isinstance(column.type, Boolean):
        return (not value) if kind == "negated" else None
    if isinstance(value, int) or isinstance(column.type, Integer):
        return value + 1 if kind == "plus_one" and value is not None else None
    if isinstance(value, bytes | memoryview) or isinstance(column.type, LargeBinary):
        data = b"" if value is None else bytes(value)
        if kind == "edit" and data:  # one byte changed
            return data[: len(data) // 2] + bytes([data[len(data) // 2] ^ 0x01]) + data[len(data) // 2 + 1 :]
        if kind == "empty" and data:
            return b""
        return None
    text = "" if value is None else str(value)
    if kind == "edit" and text:
        middle = len(text) // 2
        return text[:middle] + _flipped(text[middle]) + text[middle + 1 :]
    if kind == "upper" and text.upper() != text:
        return text.upper()
    if kind == "empty" and text:
        return ""
    if kind == "non_utf8" and backend == "sqlite":  # PostgreSQL refuses such text on write
        raw = bytearray(text.encode("utf-8") or b"x")
        raw[len(raw) // 2] = 0xFF
        return cast(literal(bytes(raw), LargeBinary), Text)
    return None


def kinds_for(column: Any) -> tuple[str, ...]:
    return ("null", "negated", "plus_one", *TEXT_KINDS)


def the_row(db: Database, table: Table) -> dict[str, Any]:
    """The stored row each change is tried on: the first in primary-key order."""
    with db.read() as conn:
        row = conn.execute(select(table).order_by(*table.primary_key.columns).limit(1)).first()
    assert row is not None, f"the template has no row in {table.name}: add one, so that it is tampered with"
    return dict(row._mapping)


def rows_of(db: Database, table: Table) -> list[str]:
    with db.read() as conn:
        return sorted(repr(tuple(r)) for r in conn.execute(select(table)))


def verdict(db: Database, definitions: Definitions) -> str:
    """What a new office's `audit verify` says: ``finding``, ``refused`` (a clear error opening or
    reading the database: not a store failure, exit 6, which is what an outage says) or ``clean``; a
    traceback propagates and fails the test."""
    try:
        report = AuditService(CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)).verify()
    except StoreError as exc:  # "the database does not answer" (exit 6) is not what tampering is
        return f"misreported as a store failure: {exc}"
    except DecisionsError:
        return "refused"
    finally:
        db.dispose()  # every verify on new connections, as a new process would
    return "clean" if report.ok else "finding"


def allowed(table: str, column: str, kind: str) -> str | None:
    return HARMLESS.get((table, column, kind)) or HARMLESS.get((table, column, "*")) or NOT_YET_VERIFIED.get(table)


TABLES = sorted(SQLModel.metadata.tables)


@pytest.mark.parametrize("table_name", TABLES)
def test_every_change_to_every_column_is_reported(
    copy: Database, definitions: Definitions, template: Template, table_name: str
) -> None:
    table = SQLModel.metadata.tables[table_name]
    assert verdict(copy, definitions) == "clean"
    original = the_row(copy, table)
    before = rows_of(copy, table)
    key = {c.name: original[c.name] for c in table.primary_key.columns}
    tried: dict[str, str] = {}
    for column in table.columns:
        for kind in kinds_for(column):
            new = _changed(original[column.name], kind, column, template.backend)
            if new is None:
                continue
            where = [table.c[k] == v for k, v in key.items()]
            try:
                with copy.write() as conn:
                    if conn.execute(table.update().where(*where).values({column.name: new})).rowcount != 1:
                        continue
            except DecisionsError:  # the database itself refuses the value (a key taken, a constraint)
                continue
            tried[f"{column.name}:{kind}"] = verdict(copy, definitions)
            moved = [table.c[k] == (new if k == column.name else v) for k, v in key.items()]
            with copy.write() as conn:
                conn.execute(table.update().where(*moved).values({column.name: original[column.name]}))
            assert rows_of(copy, table) == before, f"{table_name}.{column.name}:{kind} was not put back"
    with copy.write() as conn:
        conn.execute(table.delete().where(*[table.c[k] == v for k, v in key.items()]))
    tried[":row_deleted:*"] = verdict(copy, definitions)
    missed = {
        name: outcome
        for name, outcome in tried.items()
        if outcome not in ("finding", "refused")
        and (outcome != "clean" or not allowed(table_name, *name.rsplit(":", 1)))
    }
    assert not missed, f"changes to {table_name} that verify does not report: {sorted(missed)}"
    counts = RESULTS.setdefault(template.backend, {"tried": 0, "finding": 0, "refused": 0, "harmless": 0})
    counts["tried"] += len(tried)
    for outcome in tried.values():
        counts["harmless" if outcome == "clean" else outcome] += 1
    if table_name == TABLES[-1]:
        c = counts
        report_count(
            f"test_tampering_schema.py [{template.backend}]: {c['tried']} mutations of {len(TABLES)} tables, "
            f"{c['finding']} reported by verify, {c['refused']} refused on opening, {c['harmless']} harmless or "
            "not yet verifiable (listed)"
        )


def test_every_listed_harmless_change_names_a_real_column() -> None:
    """The allow-list does not outlive the schema: each entry names a table and column that exist."""
    for table, column, kind in HARMLESS:
        assert table in SQLModel.metadata.tables, table
        assert column == ":row_deleted" or column in SQLModel.metadata.tables[table].columns, (table, column)
        assert kind == "*" or kind in (*TEXT_KINDS, "null", "negated", "plus_one"), kind
    assert set(NOT_YET_VERIFIED) <= set(SQLModel.metadata.tables)


def test_the_allow_list_is_documented() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    for table, column, _kind in HARMLESS:
        assert f"`{table}.{column.lstrip(':')}`" in text or f"`{table}` {column.lstrip(':')}" in text, (table, column)
    for table in NOT_YET_VERIFIED:
        assert f"`{table}`" in text, table
