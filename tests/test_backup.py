"""`decisions backup` and `decisions restore`: an online, consistent copy, and a restore that verifies.

- SQLite: the copy is made with SQLite's backup API while another writer keeps appending actions;
  it is the database at one instant (every chain verifies, every case of the copy is a prefix of the
  same case in the live office), the documents are rows of it, and restoring it into
  a new file gives an office that verifies and shows exactly what the copy holds.
- PostgreSQL: `decisions backup` writes the export archive of one snapshot; restoring it is an
  import, verified. The `pg_dump` path that docs/operations.md documents is run as written there,
  and the restored database verifies.
- A backup never overwrites a file; a restore never writes over a database; a damaged backup
  restores nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from decisions.definitions import Definitions
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import fixed_clock, new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH
from tests.test_archive import Office as Cli
from tests.test_archive import another_clerk, new_office, parse_definitions_once  # noqa: F401 (the module fixture)


def _service(url: str, documents: Path, definitions: Definitions, *, new: bool = False) -> tuple[Database, CaseService]:
    database = Database(url, documents=documents)
    if new:
        database.migrate()
    return database, CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)


def _heads(service: CaseService) -> dict[str, tuple[int, str]]:
    return {h.id: (h.version, h.head_hash) for h in service.repository.cases()}


@pytest.fixture
def live(tmp_path: Path, definitions: Definitions) -> Iterator[tuple[str, Path]]:
    """An SQLite office with a few decisions on record."""
    url, documents = f"sqlite:///{tmp_path / 'office.sqlite'}", tmp_path / "office.documents"
    database, service = _service(url, documents, definitions, new=True)
    for n in range(3):
        play(service, f"D-2025-{n + 1:03d}", MAIN_PATH[:6])
    database.dispose()
    yield url, documents


def test_an_sqlite_backup_taken_while_another_writer_acts_is_one_consistent_instant(
    live: tuple[str, Path], tmp_path: Path, definitions: Definitions
) -> None:
    url, documents = live
    with another_clerk(url, documents, definitions) as written:
        during = written[0]
        summary = Office(Database(url, documents=documents), definitions).backup(tmp_path / "copy.sqlite")
    assert summary.verified is not None and summary.verified.ok

    _, office = _service(url, documents, definitions)
    copy_db, copy = _service(f"sqlite:///{tmp_path / 'copy.sqlite'}", tmp_path / "copy.documents", definitions)
    live_heads, copied = _heads(office), _heads(copy)
    assert 3 + during <= len(copied) < len(live_heads)  # taken while the writer went on
    for case_id, (version, head) in copied.items():  # each copied chain is the live chain up to some event
        assert office.repository.hash_at(case_id, version) == head
    copy_db.dispose()

    # restore: a new office from the copy, verified, holding exactly what the copy holds
    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite'}"
    Office.restore(tmp_path / "copy.sqlite", restored_url, documents=tmp_path / "restored.documents")
    restored_db, restored = _service(restored_url, tmp_path / "restored.documents", definitions)
    assert AuditService(restored).verify().ok
    assert _heads(restored) == copied
    play(restored, "D-2026-001", MAIN_PATH[:2])  # and it goes on working
    assert AuditService(restored).verify().ok
    restored_db.dispose()


def test_restore_from_the_command_line_verifies_and_never_writes_over_a_database(
    live: tuple[str, Path], tmp_path: Path
) -> None:
    office = Cli(live[0], live[1])
    out = office.ok("backup", str(tmp_path / "b.sqlite"))
    assert "the copy verifies" in out
    again = office("backup", str(tmp_path / "b.sqlite"))
    assert again.code == 2 and "will not be overwritten" in again.err

    restored = Cli(f"sqlite:///{tmp_path / 'r.sqlite'}", tmp_path / "r.documents")
    assert "history intact" in restored.ok("restore", str(tmp_path / "b.sqlite"))
    assert restored.shown() == office.shown()
    restored.verified()
    before = (tmp_path / "r.sqlite").read_bytes()
    over = restored("restore", str(tmp_path / "b.sqlite"))
    assert over.code == 2 and (tmp_path / "r.sqlite").read_bytes() == before


def test_a_file_that_is_not_a_backup_restores_nothing(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    restored = Cli(f"sqlite:///{tmp_path / 'r.sqlite'}", tmp_path / "r.documents")
    for candidate, says in ((other, "not a backup of a decisions database"), (tmp_path, "no such backup")):
        r = restored("restore", str(candidate))
        assert r.code == 2 and says in r.err
        assert not (tmp_path / "r.sqlite").exists() and not (tmp_path / "r.documents").exists()


def test_a_backup_missing_a_document_restores_nothing(live: tuple[str, Path], tmp_path: Path) -> None:
    office = Cli(live[0], live[1])
    office.ok("backup", str(tmp_path / "b.sqlite"))
    with closing(sqlite3.connect(tmp_path / "b.sqlite")) as conn, conn:
        (victim,) = conn.execute("SELECT sha256 FROM document_chunks ORDER BY sha256 LIMIT 1").fetchone()
        conn.execute("DELETE FROM document_chunks WHERE sha256 = ?", (victim,))
    restored = Cli(f"sqlite:///{tmp_path / 'r.sqlite'}", tmp_path / "r.documents")
    r = restored("restore", str(tmp_path / "b.sqlite"))
    assert r.code == 7 and "does not verify" in r.err and victim[:12] in r.err  # the finding names the document
    assert not (tmp_path / "r.sqlite").exists()


def test_a_postgresql_backup_is_one_snapshot_archive_that_restores_verified(
    tmp_path: Path, definitions: Definitions
) -> None:
    for source in new_office("postgres", tmp_path, "pg"):
        database, service = _service(source.url, source.documents, definitions, new=True)
        for n in range(2):
            play(service, f"D-2025-{n + 1:03d}", MAIN_PATH[:6])
        database.dispose()
        out = source.ok("backup", str(tmp_path / "pg.zip"))
        assert "backed up as an archive" in out
        for target in new_office("postgres", tmp_path, "restored"):
            assert "history intact" in target.ok("restore", str(tmp_path / "pg.zip"))
            assert target.shown() == source.shown()


def test_the_documented_pg_dump_path_restores_a_database_that_verifies(
    tmp_path: Path, definitions: Definitions
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    for source in new_office("postgres", tmp_path, "pg"):
        database, service = _service(source.url, source.documents, definitions, new=True)
        play(service, "D-2025-001", MAIN_PATH)
        database.dispose()
        dump = tmp_path / "office.dump"
        plain = source.url.replace("postgresql+psycopg://", "postgresql://")
        # docs/operations.md, "PostgreSQL: pg_dump": the dump (the documents are rows of it), then verify
        subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), plain], check=True)
        for target in new_database_url("postgres", tmp_path):
            plain_target = target.replace("postgresql+psycopg://", "postgresql://")
            subprocess.run(["pg_restore", "--no-owner", "--dbname", plain_target, str(dump)], check=True)
            restored = Cli(target, tmp_path / "restored-documents")
            report = restored.verified()
            assert report["cases"] == 1 and report["events"] == len(MAIN_PATH)
            assert restored.shown() == source.shown()
