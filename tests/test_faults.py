"""Faults tried (issue 17, item 4): a full disk, a read-only database, a writer that holds the lock.

Each fault gets one clear message and exit 6 (`StoreError`; its subclasses `StorageFull` and
`DatabaseBusy` say which), nothing half-written (the history verifies, the action is not there), and
the same office succeeds once the fault is gone, without being restarted.

A full disk is real, not simulated: a 4 MiB tmpfs mounted for the test (it needs root; skipped
otherwise) holds the SQLite file (documents are rows of it: an action's new documents are written in its own
transaction, `tests/test_documents_in_database.py`), and a filler file takes its last byte. A read-only database is the same tmpfs remounted read-only (chmod does not stop root).
A document larger than the limit is refused before anything is read or written: `tests/test_hostile_input.py`
(`MAX_DOCUMENT_BYTES + 1`, a sparse file). PostgreSQL stopped and restarted mid-stream is left out: the
shared test server must not be restarted (see docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from decisions.cli import exit_code
from decisions.definitions import Definitions
from decisions.errors import DatabaseBusy, StorageFull, StoreError
from decisions.model import Action, Document
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.tables import EventRow
from tests.stores import fixed_clock, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE

EVENTS = EventRow.__table__  # type: ignore[attr-defined]
PLAYED = 3  # steps played before the fault
WITH_DOCUMENT = next(i for i, s in enumerate(MAIN_PATH) if i >= PLAYED and s.docs)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"a small tmpfs cannot be mounted here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; returns the filler to delete."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
        try:
            while True:
                f.write(b"\0")
                f.flush()
        except OSError:
            pass
    return filler


def events(db: Database, case_id: str) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).where(EVENTS.c.case_id == case_id)).scalar_one())


def step(service: CaseService, index: int, new_blobs: bool = False) -> tuple[Action, dict[str, bytes]]:
    """MAIN_PATH's step ``index`` as an action; with ``new_blobs`` its documents are new bytes of
    100 KB each, to be filed only if the action is accepted."""
    s = MAIN_PATH[index]
    blobs: dict[str, bytes] = {}
    docs = []
    for k in s.docs:
        if new_blobs:
            data = (f"{k} ".encode() * 20000)[:100_000]
            sha = hashlib.sha256(data).hexdigest()
            blobs[sha] = data
            docs.append(Document(kind=k, sha256=sha, name=f"{k}.pdf"))
        else:
            docs.append(service.attach(k, f"{k} text".encode(), f"{k}.pdf"))
    return Action(s.trigger, PEOPLE[s.actor], s.on, dict(s.fields), tuple(docs)), blobs


def play_to(service: CaseService, index: int) -> None:
    """Play the steps from PLAYED up to (not including) ``index``."""
    for i in range(PLAYED, index):
        service.act("D-1", step(service, i)[0])


def office(url: str, documents: Path, definitions: Definitions, **options: float) -> tuple[Database, CaseService]:
    db = Database(url, documents=documents, **options)
    db.migrate()
    service = CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)
    play(service, "D-1", MAIN_PATH[:PLAYED])
    return db, service


def test_a_full_disk_under_the_sqlite_file_is_one_clear_error_and_nothing_is_half_written(
    small_disk: Path, tmp_path: Path, definitions: Definitions
) -> None:
    db, service = office(f"sqlite:///{small_disk / 'decisions.sqlite'}", tmp_path / "documents", definitions)
    db.dispose()
    with sqlite3.connect(small_disk / "decisions.sqlite") as raw:  # the write-ahead log emptied: the next
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # write needs new space
    action, _ = step(service, PLAYED)
    filler = fill(small_disk)
    with pytest.raises(StorageFull) as full:
        service.act("D-1", action)
    assert exit_code(full.value) == 6 and "nothing was written" in str(full.value)
    filler.unlink()
    assert events(db, "D-1") == PLAYED
    service.act("D-1", action)  # the same office, once there is space again
    assert events(db, "D-1") == PLAYED + 1
    assert AuditService(service).verify().ok
    db.dispose()


def test_a_full_disk_during_an_action_with_new_documents_files_no_byte_of_them(
    small_disk: Path, tmp_path: Path, definitions: Definitions
) -> None:
    db, service = office(f"sqlite:///{small_disk / 'decisions.sqlite'}", tmp_path / "documents", definitions)
    play_to(service, WITH_DOCUMENT)
    action, blobs = step(service, WITH_DOCUMENT, new_blobs=True)
    db.dispose()
    with sqlite3.connect(small_disk / "decisions.sqlite") as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = fill(small_disk)
    with pytest.raises(StorageFull) as full:
        service.act("D-1", action, blobs=blobs)
    assert exit_code(full.value) == 6 and "nothing was written" in str(full.value)
    filler.unlink()
    assert events(db, "D-1") == WITH_DOCUMENT
    assert all(service.documents.check(hashlib.sha256(b).hexdigest()) == "missing" for b in blobs.values())
    service.act("D-1", action, blobs=blobs)
    assert events(db, "D-1") == WITH_DOCUMENT + 1
    assert AuditService(service).verify().ok
    db.dispose()


def test_a_read_only_database_file_is_one_clear_error_and_writes_succeed_once_writable(
    small_disk: Path, tmp_path: Path, definitions: Definitions
) -> None:
    db, service = office(f"sqlite:///{small_disk / 'decisions.sqlite'}", tmp_path / "documents", definitions)
    action, _ = step(service, PLAYED)
    db.dispose()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(StoreError) as refused:
            service.act("D-1", action)
        assert exit_code(refused.value) == 6 and "read-only" in str(refused.value), refused.value
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    db.dispose()
    service.act("D-1", action)
    assert events(db, "D-1") == PLAYED + 1
    assert AuditService(service).verify().ok
    db.dispose()


def test_a_writer_holding_the_sqlite_lock_makes_a_clear_busy_error_within_the_timeout(
    tmp_path: Path, definitions: Definitions
) -> None:
    path = tmp_path / "decisions.sqlite"
    db, service = office(f"sqlite:///{path}", tmp_path / "documents", definitions, busy_seconds=1.0)
    action, _ = step(service, PLAYED)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock, and keeps it
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as busy:
            service.act("D-1", action)
        waited = time.monotonic() - started
        assert 0.9 <= waited < 10, waited  # bounded: the timeout, never a hang
        assert exit_code(busy.value) == 6 and "busy" in str(busy.value) and "nothing was written" in str(busy.value)
        assert service.view("D-1").version == PLAYED  # reading goes on while the writer holds the lock
    finally:
        other.rollback()
        other.close()
    service.act("D-1", action)
    assert events(db, "D-1") == PLAYED + 1
    db.dispose()
