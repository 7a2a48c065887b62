"""`decisions export` / `decisions import`: a whole office moves between databases as one verified
archive, and nothing damaged or forged gets in.

- The demo county goes SQLite → archive → PostgreSQL → archive → SQLite: every chain verifies at
  every stop, `show --json` is identical for every case, and the two archives' table members are
  byte for byte the same (every value preserved exactly, ids, texts and hashes included). The office
  goes on working after the move (PostgreSQL's id sequence is past the imported ids).
- A tampered archive (a byte changed in a member, a member removed or added, the manifest edited, a
  digest other than the one written down) is refused with exit 7 and a clear message, before any
  database is touched; a forgery with every digest recomputed gets in no further than the verify
  after the load, which undoes the import (exit 7, every table empty again, no document file left).
- An import into a database that holds anything is refused and writes nothing (exit 2).
- Tables are carried generically: a table declared after this code was written travels too
  (bytes, dates, Unicode, ids intact); a table the store does not declare stops an export (exit 6).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, LargeBinary, Table, Text, text
from sqlmodel import SQLModel
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.definitions import Definitions
from decisions.errors import DecisionsError
from decisions.service.cases import CaseService
from decisions.store.database import Database
from tests.cli_support import definitions_parsed_once, every_row
from tests.stores import BACKENDS, fixed_clock, new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH

runner = CliRunner()
DAMAGED = "the archive is damaged or was altered"


@pytest.fixture(scope="module", autouse=True)
def parse_definitions_once() -> Iterator[None]:
    with definitions_parsed_once():
        yield


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@dataclass(frozen=True)
class Office:
    """One office on the command line: its database URL and its document store."""

    url: str
    documents: Path

    def __call__(self, *args: str) -> Run:
        env = {"DECISIONS_DOCUMENTS": str(self.documents), "DECISIONS_DATABASE_URL": None, "DECISIONS_CONFIG": None}
        result = runner.invoke(app, [*args, "--db", self.url], env=env)
        exc = result.exception
        if isinstance(exc, DecisionsError):
            return Run(exit_code(exc), result.stdout, str(exc))
        if exc is not None and not isinstance(exc, SystemExit):
            raise exc
        return Run(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str) -> str:
        r = self(*args)
        assert r.code == 0, f"decisions {' '.join(args)} → {r.code}: {r.err}{r.out}"
        return r.out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def shown(self) -> dict[str, Any]:
        """`show --json` of every case, by id."""
        return {c["id"]: self.json("show", c["id"]) for c in self.json("list")}

    def verified(self) -> dict[str, Any]:
        report = self.json("audit", "verify")
        assert report["ok"], report["findings"]
        return report

    def rows(self) -> dict[str, list[str]]:
        return every_row(self.url, self.documents)

    def files(self) -> set[str]:
        return {p.name for p in self.documents.rglob("*") if p.is_file()} if self.documents.exists() else set()


def new_office(backend: str, tmp: Path, name: str) -> Iterator[Office]:
    (tmp / name).mkdir()
    for url in new_database_url(backend, tmp / name):
        yield Office(url, tmp / name / "documents")


@pytest.fixture
def demo(tmp_path: Path) -> Office:
    """The demo county on SQLite, played through `decisions demo`."""
    office = Office(f"sqlite:///{tmp_path / 'county.sqlite'}", tmp_path / "county.documents")
    office.ok("demo")
    return office


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export of the demo county, shared by the tamper tests (each tampers with a copy)."""
    tmp = tmp_path_factory.mktemp("demo")
    office = Office(f"sqlite:///{tmp / 'county.sqlite'}", tmp / "county.documents")
    office.ok("demo")
    office.ok("export", str(tmp / "county.zip"))
    return tmp / "county.zip"


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Office]:
    yield from new_office(request.param, tmp_path, "target")


def members(archive: Path) -> dict[str, str]:
    """Each member's SHA-256, by name (the manifest and its digest apart)."""
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    return {m["name"]: m["sha256"] for m in manifest["members"]}


def rewrite(source: Path, target: Path, change: dict[str, bytes | None], *, recompute: bool = False) -> None:
    """A copy of the archive with members replaced (bytes) or removed (None); with ``recompute`` the
    manifest and the archive digest are made to match, as a careful forger would."""
    with zipfile.ZipFile(source) as zin:
        contents = {n: zin.read(n) for n in zin.namelist()}
    for name, data in change.items():
        if data is None:
            contents.pop(name, None)
        else:
            contents[name] = data
    if recompute:
        manifest = json.loads(contents["manifest.json"])
        for m in manifest["members"]:
            m["sha256"] = hashlib.sha256(contents[m["name"]]).hexdigest()
            m["bytes"] = len(contents[m["name"]])
        contents["manifest.json"] = json.dumps(manifest).encode()
        contents["manifest.sha256"] = hashlib.sha256(contents["manifest.json"]).hexdigest().encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in contents.items():
            zout.writestr(name, data)


def table_member(archive: Path, table: str) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        return zf.read(f"tables/{table}.jsonl").decode().splitlines()


@contextmanager
def another_clerk(url: str, documents: Path, definitions: Definitions) -> Iterator[list[int]]:
    """Another clerk acting all the while on another connection, opening and advancing decisions
    (D-2025-101, ...); yields the count of decisions written so far, once two are, and stops on exit."""
    stop, written, failures = threading.Event(), [0], []

    def act() -> None:
        database = Database(url, documents=documents)
        service = CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)
        try:
            n = 100
            while not stop.is_set():
                n += 1
                play(service, f"D-2025-{n:03d}", MAIN_PATH[:4])
                written[0] += 1
        except Exception as exc:
            failures.append(exc)
        finally:
            database.dispose()

    thread = threading.Thread(target=act)
    thread.start()
    try:
        while written[0] < 2 and thread.is_alive():
            stop.wait(0.05)
        yield written
        during = written[0]
        while written[0] < during + 2 and thread.is_alive():  # it goes on after the copy
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join()
    assert failures == []


def heads(office: Office, definitions: Definitions) -> dict[str, tuple[int, str]]:
    """Every case's version and head hash."""
    database = Database(office.url, documents=office.documents)
    try:
        return {h.id: (h.version, h.head_hash) for h in CaseService(database, definitions).repository.cases()}
    finally:
        database.dispose()


def hash_at(office: Office, definitions: Definitions, case_id: str, seq: int) -> str | None:
    database = Database(office.url, documents=office.documents)
    try:
        return CaseService(database, definitions).repository.hash_at(case_id, seq)
    finally:
        database.dispose()


# -- the round trip ---------------------------------------------------------------------------------


def test_the_demo_county_moves_sqlite_to_postgresql_to_sqlite_unchanged_and_verified(
    demo: Office, tmp_path: Path, definitions: Definitions
) -> None:
    first = demo.shown()
    assert len(first) >= 5  # the demo's decisions, catalogue, normative document, enforcement, contract
    demo.verified()
    out = demo.ok("export", str(tmp_path / "a.zip"))
    digest = out.split("archive digest")[1].split(":")[-1].strip()

    for postgres in new_office("postgres", tmp_path, "pg"):
        imported = postgres.ok("import", str(tmp_path / "a.zip"), "--digest", digest)
        assert "history intact" in imported
        assert postgres.shown() == first
        postgres.verified()
        postgres.ok("export", str(tmp_path / "b.zip"))

        # the office goes on working on PostgreSQL: the next event takes an id after the imported ones
        database = Database(postgres.url, documents=postgres.documents)
        try:
            service = CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)
            play(service, "D-2030-001", MAIN_PATH[:2])
        finally:
            database.dispose()
        assert postgres.verified()["cases"] == len(first) + 1

    for back in new_office("sqlite", tmp_path, "back"):
        back.ok("import", str(tmp_path / "b.zip"))
        assert back.shown() == first
        assert back.verified()["events"] == demo.verified()["events"]
        assert back.files() == demo.files()

    # every table and document member of the two archives is the same, byte for byte
    a, b = members(tmp_path / "a.zip"), members(tmp_path / "b.zip")
    assert a == b
    assert "tables/document_chunks.jsonl" in a  # the documents' bytes travel as rows of their table
    assert all(f"tables/{t}.jsonl" in a for t in SQLModel.metadata.tables)


def test_an_export_taken_while_another_clerk_acts_is_one_consistent_instant(
    demo: Office, tmp_path: Path, definitions: Definitions, target: Office
) -> None:
    with another_clerk(demo.url, demo.documents, definitions) as written:
        before = written[0]
        summary = json.loads(demo.ok("export", str(tmp_path / "during.zip"), "--json"))
    assert summary["rows"]["cases"] >= 6 + before
    target.ok("import", str(tmp_path / "during.zip"), "--digest", summary["digest"])  # verified on arrival
    copied, live = heads(target, definitions), heads(demo, definitions)
    assert len(copied) < len(live)
    for case_id, (version, head) in copied.items():  # each chain as the live one was at one event
        assert hash_at(demo, definitions, case_id, version) == head


def test_an_import_into_a_database_that_holds_anything_is_refused_and_writes_nothing(
    demo_archive: Path, target: Office
) -> None:
    target.ok("import", str(demo_archive))
    before, files = target.rows(), target.files()
    again = target("import", str(demo_archive))
    assert again.code == 2
    assert "not empty" in again.err
    assert target.rows() == before
    assert target.files() == files


def test_export_never_overwrites_a_file(demo: Office, tmp_path: Path) -> None:
    existing = tmp_path / "kept.zip"
    existing.write_bytes(b"someone's file")
    r = demo("export", str(existing))
    assert r.code == 2 and "will not be overwritten" in r.err
    assert existing.read_bytes() == b"someone's file"


def test_an_office_whose_history_does_not_verify_is_not_exported(demo: Office, tmp_path: Path) -> None:
    database = Database(demo.url, documents=demo.documents)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE events SET actor = 'someone else' WHERE seq = 2"))
    database.dispose()
    r = demo("export", str(tmp_path / "x.zip"))
    assert r.code == 7 and "does not verify" in r.err
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.glob(".x.zip*")) == []


# -- tampered archives ------------------------------------------------------------------------------


def _flip_a_byte_inside(source: Path, copy: Path) -> None:
    """Change one byte of a member's stored data in the file itself (not through zipfile)."""
    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo("tables/events.jsonl")
    data = bytearray(source.read_bytes())
    # the member's data begins after its local header (30 bytes + name + extra field)
    name_len, extra_len = (
        int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"),
        int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little"),
    )
    at = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    data[at] ^= 0x01
    copy.write_bytes(bytes(data))


def _event_line_changed(source: Path, copy: Path, *, recompute: bool) -> str:
    """A consistent forgery of who did the fifth event (its body and its actor column); the case id."""
    lines = table_member(source, "events")
    columns = json.loads(lines[0])["columns"]
    row = json.loads(lines[5])
    actor, body = columns.index("actor"), columns.index("body")
    assert row[actor] in row[body]
    row[body] = row[body].replace(row[actor], "伪造者")
    row[actor] = "伪造者"
    lines[5] = json.dumps(row)
    rewrite(source, copy, {"tables/events.jsonl": ("\n".join(lines) + "\n").encode()}, recompute=recompute)
    return str(row[columns.index("case_id")])


def _manifest_edited(source: Path, copy: Path) -> None:
    with zipfile.ZipFile(source) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["tables"][0]["rows"] += 1
    rewrite(source, copy, {"manifest.json": json.dumps(manifest).encode()})


def _a_document_removed(source: Path, copy: Path) -> None:
    rewrite(source, copy, {"tables/document_chunks.jsonl": None})


def _a_table_removed(source: Path, copy: Path) -> None:
    rewrite(source, copy, {"tables/users.jsonl": None})


def _a_member_added(source: Path, copy: Path) -> None:
    rewrite(source, copy, {"documents/" + "0" * 64: b"smuggled"})


def _the_digest_removed(source: Path, copy: Path) -> None:
    rewrite(source, copy, {"manifest.sha256": None})


def _not_an_archive(source: Path, copy: Path) -> None:
    copy.write_bytes(source.read_bytes()[: len(source.read_bytes()) // 2])


TAMPERING = {
    "a byte flipped inside a member's stored data": (_flip_a_byte_inside, "tables/events.jsonl"),
    "an event line changed": (lambda s, c: _event_line_changed(s, c, recompute=False), "tables/events.jsonl"),
    "the manifest edited": (_manifest_edited, "manifest.json does not match"),
    "a document removed": (_a_document_removed, "is missing"),
    "a table removed": (_a_table_removed, "tables/users.jsonl"),
    "a member added": (_a_member_added, "is not in the manifest"),
    "the archive digest removed": (_the_digest_removed, "manifest.sha256 is missing"),
    "the file cut in half": (_not_an_archive, "not a readable archive"),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_tampered_archive_is_refused_before_any_database_is_touched(
    how: str, demo_archive: Path, tmp_path: Path
) -> None:
    tamper, named = TAMPERING[how]
    copy = tmp_path / "tampered.zip"
    tamper(demo_archive, copy)
    office = Office(f"sqlite:///{tmp_path / 'new.sqlite'}", tmp_path / "new.documents")
    r = office("import", str(copy))
    assert r.code == 7, r
    assert DAMAGED in r.err and named in r.err
    assert not (tmp_path / "new.sqlite").exists()
    assert not (tmp_path / "new.documents").exists()


def test_the_installed_command_refuses_a_tampered_archive_with_exit_7_and_one_message(
    demo_archive: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "tampered.zip"
    _manifest_edited(demo_archive, copy)
    executable = str(Path(sys.executable).parent / "decisions")
    env = {**os.environ, "DECISIONS_DOCUMENTS": str(tmp_path / "new.documents")}
    done = subprocess.run(
        [executable, "import", str(copy), "--db", f"sqlite:///{tmp_path / 'new.sqlite'}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 7
    assert DAMAGED in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "new.sqlite").exists()


def test_an_archive_whose_digest_is_not_the_one_written_down_is_refused(demo_archive: Path, tmp_path: Path) -> None:
    office = Office(f"sqlite:///{tmp_path / 'new.sqlite'}", tmp_path / "new.documents")
    r = office("import", str(demo_archive), "--digest", "ab" * 32)
    assert r.code == 7 and "not the expected" in r.err
    assert not (tmp_path / "new.sqlite").exists()


def test_a_forgery_with_every_digest_recomputed_is_caught_by_the_verify_and_undone(
    demo_archive: Path, target: Office, tmp_path: Path
) -> None:
    forged = tmp_path / "forged.zip"
    case_id = _event_line_changed(demo_archive, forged, recompute=True)
    r = target("import", str(forged))
    assert r.code == 7, r
    assert "the import was undone" in r.err and case_id in r.err
    rows = target.rows()
    assert {t: n for t, n in rows.items() if n and t not in ("meta", "alembic_version")} == {}
    assert target.files() == set()
    target.ok("import", str(demo_archive))  # the database is empty again: the true archive goes in
    target.verified()


def test_an_archive_with_a_table_this_version_does_not_know_is_refused_and_writes_nothing(
    demo_archive: Path, target: Office, tmp_path: Path
) -> None:
    with zipfile.ZipFile(demo_archive) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["tables"].append({"name": "tasks_of_tomorrow", "member": "tables/tasks_of_tomorrow.jsonl", "rows": 1})
    manifest["members"].append({"name": "tables/tasks_of_tomorrow.jsonl", "sha256": "", "bytes": 0})
    newer = tmp_path / "newer.zip"
    member = b'{"table":"tasks_of_tomorrow","columns":["id"]}\n[1]\n'
    rewrite(
        demo_archive,
        newer,
        {"manifest.json": json.dumps(manifest).encode(), "tables/tasks_of_tomorrow.jsonl": member},
        recompute=True,
    )
    r = target("import", str(newer))
    assert r.code == 2 and "tasks_of_tomorrow" in r.err and "does not know" in r.err
    assert {t: n for t, n in target.rows().items() if n and t not in ("meta", "alembic_version")} == {}
    assert target.files() == set()


# -- tables this code does not know ---------------------------------------------------------------


@pytest.fixture
def later_table() -> Iterator[Table]:
    """A table as another change might declare it after this code was written: bytes, a time, text."""
    table = Table(
        "later_notes",
        SQLModel.metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("note", Text, nullable=False),
        Column("blob", LargeBinary, nullable=True),
        Column("at", DateTime, nullable=True),
    )
    try:
        yield table
    finally:
        SQLModel.metadata.remove(table)


def test_a_table_declared_later_travels_with_its_values_exact(
    demo: Office, later_table: Table, tmp_path: Path, target: Office
) -> None:
    from datetime import datetime

    source = Database(demo.url, documents=demo.documents)
    rows = [
        {
            "id": 7,
            "note": "审查意见 ✓ \u2028 'quoted'",
            "blob": bytes(range(256)),
            "at": datetime(2025, 3, 1, 8, 30, 5),
        },
        {"id": 12, "note": "", "blob": None, "at": None},
    ]
    with source.engine.begin() as conn:
        later_table.create(conn)
        conn.execute(later_table.insert(), rows)
    source.dispose()
    demo.ok("export", str(tmp_path / "later.zip"))

    database = Database(target.url, documents=target.documents)
    try:
        database.migrate()
        with database.engine.begin() as conn:
            later_table.create(conn)
        target.ok("import", str(tmp_path / "later.zip"))
        with database.engine.connect() as conn:
            back = [dict(r._mapping) for r in conn.execute(later_table.select().order_by(later_table.c.id))]
    finally:
        database.dispose()
    assert back == rows


def test_a_table_the_store_does_not_declare_stops_an_export(demo: Office, tmp_path: Path) -> None:
    file = demo.url.removeprefix("sqlite:///")
    with sqlite3.connect(file) as conn:
        conn.execute("CREATE TABLE notes_nobody_declared (x INTEGER)")
    r = demo("export", str(tmp_path / "x.zip"))
    assert r.code == 6 and "notes_nobody_declared" in r.err
    assert not (tmp_path / "x.zip").exists()
