"""Documents live in the database (issue 15, item 1): an action's new documents are written in the
action's own transaction, so an accepted action with documents is one commit and no file sync, and
a refused, lost or killed action leaves no bytes behind. Content-addressed and deduplicated, size
and media type kept, large documents in chunks; every read checks the hash. On SQLite and
PostgreSQL. The upgrade that brings this (revision 0004) moves an earlier version's file store in,
checking every hash, and writes nothing when a file is missing or damaged."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, event, inspect, select, text

from decisions.definitions import Definitions
from decisions.errors import ActionRefused, ConflictError, IntegrityError, StoreError
from decisions.service.audit import AuditService
from decisions.service.office import Office
from decisions.store.database import SCHEMA_REVISION, Database
from decisions.store.documents import CHUNK_BYTES
from tests.stores import BACKENDS, fixed_clock, new_database_url
from tests.support import ROOT

FIELDS = {"title": "城区公交票价调整", "category": "public_policy", "source": "leader"}
PROPOSAL = [("proposal", "关于城区公交票价调整的建议".encode(), "proposal.pdf")]
LAUNCHED = {"organiser_unit": "县交通运输局", "off_catalogue_reason": "突发事件应对"}
LEGACY = ROOT / "tests" / "data" / "office-0003.tar.gz"
"""An SQLite database and its file store as the code before revision 0004 made them (main at
901de3f: two decisions along the main path, 6 and 3 steps, and one document attached but never
carried; 16 documents, schema 0003)."""


def launch(data: bytes = b"launch decision") -> list[tuple[str, bytes, str]]:
    return [("launch_decision", data, "launch.pdf")]


def drafts(tag: str) -> list[tuple[str, bytes, str]]:
    kinds = ("draft", "drafting_explanation", "legal_basis_inventory")
    return [(k, f"{tag} {k}".encode(), f"{k}.txt") for k in kinds]


def new_office(url: str, tmp_path: Path, definitions: Definitions) -> Office:
    database = Database(url, documents=tmp_path / "no-file-store")
    database.migrate()
    office = Office(database, definitions, clock=fixed_clock)
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局")
    office.users.add("王县长", ["head"], "县人民政府")
    return office


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    for url in new_database_url(request.param, tmp_path):
        office = new_office(url, tmp_path, definitions)
        try:
            yield office
        finally:
            office.cases.db.dispose()  # type: ignore[union-attr]


def database(office: Office) -> Database:
    assert office.cases.db is not None
    return office.cases.db


def stored(office: Office, sha: str) -> tuple[Any, list[int]]:
    """The document row of ``sha`` (None when absent) and the sizes of its chunk rows, in order."""
    with database(office).read() as conn:
        row = conn.execute(text("SELECT size, media_type FROM documents WHERE sha256 = :s"), {"s": sha}).first()
        chunks = conn.execute(
            text("SELECT length(data) FROM document_chunks WHERE sha256 = :s ORDER BY seq"), {"s": sha}
        ).all()
    return (None if row is None else tuple(row)), [int(n) for (n,) in chunks]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_no_document_file_is_written_and_each_is_read_back_with_its_size_and_type(
    office: Office, tmp_path: Path
) -> None:
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    office.act(case, "launch", "王县长", LAUNCHED, launch(), "2025-03-05")
    office.act(case, "submit_draft", "李明", {}, drafts("v1"), "2025-03-10")
    assert not (tmp_path / "no-file-store").exists()
    for _, data, name in [*PROPOSAL, *drafts("v1")]:
        assert office.document(sha(data)) == data
        kind = "application/pdf" if name.endswith(".pdf") else "text/plain"
        assert stored(office, sha(data)) == ((len(data), kind), [len(data)])
        assert office.cases.documents.media_type(sha(data)) == kind
    report = AuditService(office.cases).verify()
    assert report.ok and report.documents == 5


def test_an_action_with_two_documents_is_one_write_commit_and_no_fsync(
    tmp_path: Path, definitions: Definitions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted as the benchmark counts disk syncs on SQLite: every `os.fsync`, and every commit of
    a write transaction (one WAL sync each at synchronous=FULL)."""
    office = new_office(f"sqlite:///{tmp_path / 'office.sqlite'}", tmp_path, definitions)
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    counts: Counter[str] = Counter()
    real = os.fsync

    def fsync(fd: Any) -> None:
        counts["fsync"] += 1
        real(fd)

    def commit(conn: Any) -> None:
        counts["write commit" if conn.get_execution_options().get("sqlite_immediate") else "read commit"] += 1

    two = [("launch_decision", b"launch decision", "launch.pdf"), ("launch_decision", b"its annex", "annex.pdf")]
    event.listen(database(office).engine, "commit", commit)
    monkeypatch.setattr(os, "fsync", fsync)
    try:
        fired = office.act(case, "launch", "王县长", LAUNCHED, two, "2025-03-05")
    finally:
        event.remove(database(office).engine, "commit", commit)
    assert len(fired.record.documents) == 2
    assert counts["write commit"] == 1 and counts["fsync"] == 0, counts
    assert [office.document(sha(d)) for _, d, _ in two] == [b"launch decision", b"its annex"]
    database(office).dispose()


def test_the_same_bytes_are_stored_once(office: Office) -> None:
    one = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    two = office.start("major_decision", "李明", {**FIELDS, "title": "另一事项"}, PROPOSAL, "2025-03-03").case.id
    office.act(one, "launch", "王县长", LAUNCHED, launch(), "2025-03-05")
    office.act(two, "launch", "王县长", LAUNCHED, launch(), "2025-03-05")
    digest = sha(PROPOSAL[0][1])
    assert stored(office, digest) == ((len(PROPOSAL[0][1]), "application/pdf"), [len(PROPOSAL[0][1])])
    with database(office).read() as conn:
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM document_chunks")).scalar() == 2
    assert AuditService(office.cases).verify().ok


def test_a_large_document_is_stored_and_read_a_chunk_at_a_time(office: Office) -> None:
    big = os.urandom(2 * CHUNK_BYTES + 12345)
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    office.act(case, "launch", "王县长", LAUNCHED, launch(big), "2025-03-05")
    row, chunks = stored(office, sha(big))
    assert row == (len(big), "application/pdf") and chunks == [CHUNK_BYTES, CHUNK_BYTES, 12345]
    pieces = list(office.cases.documents.stream(sha(big)))
    assert [len(p) for p in pieces] == chunks and b"".join(pieces) == big
    assert office.document(sha(big)) == big
    assert office.cases.documents.inspect(sha(big)) == (None, len(big))
    assert office.cases.documents.size(sha(big)) == len(big)


def test_altered_or_missing_bytes_are_refused_on_every_read(office: Office) -> None:
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    digest = sha(PROPOSAL[0][1])
    with database(office).write() as conn:
        conn.execute(text("UPDATE document_chunks SET data = :d WHERE sha256 = :s"), {"d": b"forged", "s": digest})
    with pytest.raises(IntegrityError, match="no longer match"):
        office.document(digest)
    with pytest.raises(IntegrityError, match="no longer match"):
        list(office.cases.documents.stream(digest))
    assert office.cases.documents.inspect(digest) == ("bytes do not match the hash", 6)
    with database(office).write() as conn:
        conn.execute(text("DELETE FROM document_chunks WHERE sha256 = :s"), {"s": digest})
    with pytest.raises(IntegrityError, match="missing"):
        office.document(digest)
    assert office.cases.documents.inspect(digest) == ("missing", None)
    findings = AuditService(office.cases).verify().findings
    assert [(f.case_id, f.kind) for f in findings] == [(case, "document")]


def test_a_refused_or_lost_action_leaves_no_bytes(office: Office, definitions: Definitions) -> None:
    assert office.cases.db is not None
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    refused = b"launched by someone who may not"
    with pytest.raises(ActionRefused, match=r"role|角色"):
        office.act(case, "launch", "李明", LAUNCHED, launch(refused), "2025-03-05")
    elsewhere = Office(Database(office.cases.db.url), definitions, clock=fixed_clock)
    try:
        elsewhere.act(case, "launch", "王县长", LAUNCHED, launch(b"launched elsewhere first"), "2025-03-05")
        lost = b"launched here, second"
        with pytest.raises(ConflictError):
            office.act(case, "launch", "王县长", LAUNCHED, launch(lost), "2025-03-05", expected_version=1)
    finally:
        database(elsewhere).dispose()
    assert stored(office, sha(refused)) == (None, [])
    assert stored(office, sha(lost)) == (None, [])
    assert stored(office, sha(b"launched elsewhere first"))[1] == [24]
    assert AuditService(office.cases).verify().ok


KILLED_CHILD = """
import os, signal, sys
from sqlalchemy import event
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import fixed_clock
from tests.support import shipped_definitions

url, case, data = sys.argv[1], sys.argv[2], sys.argv[3].encode()
database = Database(url)
office = Office(database, shipped_definitions(), clock=fixed_clock)

@event.listens_for(database.engine, "after_cursor_execute")
def killed_once_the_bytes_are_sent(conn, cursor, statement, *_):
    if "document_chunks" in statement:
        os.kill(os.getpid(), signal.SIGKILL)

office.act(case, "launch", "王县长", {"organiser_unit": "县交通运输局", "off_catalogue_reason": "突发事件应对"},
           [("launch_decision", data, "launch.pdf")], "2025-03-05")
"""


def test_an_action_killed_after_writing_its_bytes_leaves_none_behind(office: Office) -> None:
    """The process is killed (SIGKILL) right after the database received the document's bytes and
    before the commit: no row, no chunk, the case unchanged; the same action then succeeds."""
    case = office.start("major_decision", "李明", FIELDS, PROPOSAL, "2025-03-03").case.id
    data = "killed before its commit"
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, database(office).url, case, data],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        env={**os.environ, "DECISIONS_CACHE": "off"},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert stored(office, sha(data.encode())) == (None, [])
    assert office.cases.view(case).version == 1
    office.act(case, "launch", "王县长", LAUNCHED, launch(data.encode()), "2025-03-05")
    assert office.document(sha(data.encode())) == data.encode()
    assert AuditService(office.cases).verify().ok


# -- moving an earlier version's file store in ----------------------------------------------------------


def unpack(target: Path) -> Path:
    """The database and file store of the earlier version, unpacked into ``target``:
    ``office.sqlite`` and ``office.documents/``."""
    with tarfile.open(LEGACY) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    return unpack(tmp_path / "legacy")


def legacy_database(backend: str, legacy: Path, tmp_path: Path) -> Iterator[Database]:
    """The earlier version's database on ``backend`` (on PostgreSQL, its rows copied into a database
    at revision 0003), its file store beside it."""
    sqlite_url = f"sqlite:///{legacy / 'office.sqlite'}"
    for url in new_database_url(backend, tmp_path):
        if backend != "sqlite":
            _copy_at_0003(sqlite_url, url)
        db = Database(url if backend != "sqlite" else sqlite_url, documents=legacy / "office.documents")
        try:
            yield db
        finally:
            db.dispose()


def _copy_at_0003(source_url: str, target_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from decisions.store.database import MIGRATIONS

    source, target = Database(source_url, documents=Path("unused")), Database(target_url, documents=Path("unused"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with target.write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
        meta = MetaData()
        with source.read() as src:
            meta.reflect(src)
            tables = {t: [dict(r._mapping) for r in src.execute(select(meta.tables[t]))] for t in meta.tables}
        with target.write() as dst:
            target_meta = MetaData()
            target_meta.reflect(dst)
            for name, rows in tables.items():
                if name == "alembic_version" or not rows:
                    continue
                for r in sorted(rows, key=lambda r: r.get("id") or 0):
                    r.pop("id", None) if name in ("events", "checkpoints") else None
                    dst.execute(target_meta.tables[name].insert().values(**r))
    finally:
        source.dispose()
        target.dispose()


def _revision(db: Database) -> str:
    with db.read() as conn:
        return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_upgrade_moves_an_earlier_file_store_into_the_database(
    backend: str, legacy: Path, tmp_path: Path, definitions: Definitions
) -> None:
    files = {p.name: p.read_bytes() for p in (legacy / "office.documents").rglob("*") if p.is_file()}
    assert len(files) == 16
    for db in legacy_database(backend, legacy, tmp_path):
        with pytest.raises(StoreError, match="decisions init"):
            db.ensure_ready()
        db.migrate()
        moved = db.documents_moved
        assert moved is not None
        assert (moved.moved, moved.bytes, moved.unlisted_files) == (16, sum(map(len, files.values())), 0)
        assert _revision(db) == SCHEMA_REVISION  # through 0004, which moved them, to the head
        office = Office(db, definitions, clock=fixed_clock)
        assert all(office.document(digest) == data for digest, data in files.items())
        report = office.audit.verify()
        assert report.ok and (report.cases, report.events, report.documents) == (2, 9, 15)
        shutil.rmtree(legacy / "office.documents")  # the files are no longer needed
        assert office.audit.verify().ok
        db.migrate()  # already moved: nothing more to do
        assert db.documents_moved is None


def _damage(legacy: Path, how: str) -> str:
    files = sorted(p for p in (legacy / "office.documents").rglob("*") if p.is_file())
    victim = files[3]
    if how == "missing":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes().replace(b"D-", b"X-"))
    return victim.name


@pytest.mark.parametrize("how", ["missing", "altered"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_missing_or_altered_file_refuses_the_upgrade_and_nothing_is_written(
    backend: str, how: str, legacy: Path, tmp_path: Path
) -> None:
    victim = _damage(legacy, how)
    for db in legacy_database(backend, legacy, tmp_path):
        with pytest.raises(IntegrityError, match=f"nothing was written: 1 of 16 documents.*{victim}"):
            db.migrate()
        assert _revision(db) == "0003"
        with db.read() as conn:
            assert "document_chunks" not in inspect(conn).get_table_names()
            assert "media_type" not in {c["name"] for c in inspect(conn).get_columns("documents")}
            assert conn.execute(text("SELECT count(*) FROM documents")).scalar() == 16


def test_init_reports_what_it_moved_and_a_damaged_store_refuses_it(legacy: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from decisions.cli import app, exit_code

    def init(root: Path) -> Any:
        env = {"DECISIONS_DOCUMENTS": str(root / "office.documents"), "DECISIONS_CONFIG": None}
        return CliRunner().invoke(app, ["init", "--db", f"sqlite:///{root / 'office.sqlite'}"], env=env)

    damaged = unpack(tmp_path / "damaged")
    _damage(damaged, "altered")
    refused = init(damaged)
    assert isinstance(refused.exception, IntegrityError) and exit_code(refused.exception) == 7
    assert "nothing was written" in str(refused.exception)
    stray = legacy / "office.documents" / "00" / ("00" * 32)  # bytes of an action never recorded
    stray.parent.mkdir()
    stray.write_bytes(b"bytes no row names")
    done = init(legacy)
    assert done.exit_code == 0, done.output
    assert "16 documents" in done.output and "every hash checked" in done.output
    assert "1 files no document row names were not moved" in done.output
    again = init(legacy)
    assert again.exit_code == 0 and "documents are stored in the database" in again.output


# -- the same contract on every store ----------------------------------------------------------------


def test_every_store_keeps_the_document_contract(contract_service: Any) -> None:
    """Memory, SQLite and PostgreSQL: `put` stores the bytes and the row at once, once; an append
    stores the action's new documents with it; every read is checked, one at a time or in a batch."""
    documents, repository = contract_service.documents, contract_service.repository
    first = documents.put(b"a document", "text/plain")
    assert documents.put(b"a document", "application/pdf") == first == sha(b"a document")
    assert documents.media_type(first) == "text/plain" and repository.document_size(first) == 10
    assert list(documents.stream(first)) == [b"a document"] and documents.get(first) == b"a document"
    unknown = "0" * 64
    assert documents.media_type(unknown) is None
    with pytest.raises(IntegrityError):
        documents.get(unknown)
    with pytest.raises(IntegrityError):
        list(documents.stream(unknown))
    assert documents.inspect_many([first, unknown]) == {first: (None, 10), unknown: ("missing", None)}
    assert documents.inspect_many([]) == {}

    from decisions.model import Action, Document
    from tests.stores import play
    from tests.support import MAIN_PATH, PEOPLE

    play(contract_service, "D-1", MAIN_PATH[:1])
    step = MAIN_PATH[1]
    assert step.docs
    carried = [Document(k, sha(f"carried {k}".encode()), 1, f"{k}.pdf") for k in step.docs]
    blobs = {d.sha256: f"carried {d.kind}".encode() for d in carried}
    action = Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), tuple(carried))
    contract_service.act("D-1", action, blobs=blobs)  # through `Repository.append`, with the bytes
    for d in carried:
        assert documents.get(d.sha256) == blobs[d.sha256] and documents.media_type(d.sha256) == "application/pdf"
        assert repository.document_size(d.sha256) == len(blobs[d.sha256])
    wanted = [d.sha256 for d in carried] + [first]
    assert documents.inspect_many(wanted) == {w: documents.inspect(w) for w in wanted}
    assert all(problem is None for problem, _ in documents.inspect_many(wanted).values())


def test_two_writers_of_the_same_new_bytes_store_them_once(office: Office, definitions: Definitions) -> None:
    """Two offices (two engines, as two processes) start decisions carrying the same new document at
    the same moment: both are accepted, the bytes are stored once."""
    import threading

    assert office.cases.db is not None
    other = Office(Database(office.cases.db.url), definitions, clock=fixed_clock)
    shared = [("proposal", b"the same proposal, twice at once", "proposal.pdf")]
    barrier, errors = threading.Barrier(2), []

    def propose(o: Office, title: str) -> None:
        try:
            barrier.wait()
            o.start("major_decision", "李明", {**FIELDS, "title": title}, shared, "2025-03-03")
        except Exception as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=propose, args=(o, t)) for o, t in ((office, "一"), (other, "二"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        database(other).dispose()
    assert errors == []
    assert len(office.list_cases()) == 2
    assert stored(office, sha(shared[0][1])) == ((32, "application/pdf"), [32])
    assert AuditService(office.cases).verify().ok
