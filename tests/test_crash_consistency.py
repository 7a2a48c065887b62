"""Crash consistency: a child process (`tests/crash_child.py`) acts on a decision database without
pause and is killed with SIGKILL at random moments, many times, on SQLite and on PostgreSQL.

After every kill the database opens, `audit verify` passes, no action is half applied (every case's
projection version is the number of its events, and no action was recorded twice), every action the
child acknowledged (it prints a line only after `act` returned) is there with its summary, and the
row of every acknowledged document exists. The child carries on with the same database in the next
round, so the kills land in ever different states: during start-up, half way along the main path,
in the middle of a document write, inside a transaction, between a commit and its acknowledgement.

A document's bytes are written in the action's own transaction (chunk rows beside its row), so
a kill leaves neither bytes without their row nor a row without its bytes (asserted), and no document
file is ever written. What may never happen either, and is asserted: a document ROW that no event
carries.

``CRASH_ROUNDS`` (default 12 kills per backend) and ``CRASH_SEED`` (default: random, printed) tune a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from decisions.definitions import Definitions
from decisions.model import Action
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.store.tables import DocumentChunkRow, DocumentRow
from tests.stores import BACKENDS, fixed_clock, new_database_url, supplied_catalogue
from tests.support import PEOPLE, ROOT, report_count

CHILD = Path(__file__).resolve().parent / "crash_child.py"
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "12"))
SEED = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(1 << 32))
RUN_FOR = (0.2, 1.5)  # seconds the child acts (after it is ready) before it is killed
START_TIMEOUT = 60.0
PREFIX = "CRASH"
_DOCUMENTS = DocumentRow.__table__  # type: ignore[attr-defined]
_CHUNKS = DocumentChunkRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Ack:
    """One line ``committed <case> <seq> <trigger> <tag> <sha256|->``: an action the child saw committed."""

    case: str
    seq: int
    trigger: str
    tag: str
    sha: str

    @classmethod
    def parse(cls, line: str) -> Ack | None:
        words = line.split()
        if not line.endswith("\n") or len(words) != 6 or words[0] != "committed":
            return None
        return cls(words[1], int(words[2]), words[3], words[4], words[5])


@dataclass
class Tally:
    rounds: int = 0
    acknowledged: int = 0
    events: int = 0
    cases: int = 0
    documents: int = 0
    unacknowledged_commits: int = 0  # committed, but killed before the child said so
    wal_left: int = 0  # kills after which SQLite had a -wal file to recover
    seeds: list[int] = field(default_factory=list)


class Child:
    """One run of `tests/crash_child.py`, started ahead of time: it imports and loads its definitions
    while the parent checks the previous kill, and touches the database only once told to go."""

    def __init__(self, url: str, documents: Path, seed: int, log: Path) -> None:
        self.seed, self.log = seed, log
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(CHILD), url, str(documents), PREFIX, str(seed)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=ROOT,
                env={**os.environ, "CRASH_CHILD_WAIT": "1"},
            )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            self.ready.set()
        self.ready.set()  # end of output: the child died

    def run_and_kill(self, run_for: float) -> list[Ack]:
        """Let the child act for ``run_for`` seconds once ready, SIGKILL it; what it acknowledged."""
        alive = False
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
            self.ready.wait(START_TIMEOUT)
            time.sleep(run_for)
            alive = self.proc.poll() is None
            if alive:
                os.kill(self.proc.pid, signal.SIGKILL)
        except BrokenPipeError:
            pass  # the child died before it was told to go
        finally:
            self.stop()
        if not alive or not self.lines or not self.lines[0].startswith("ready"):
            pytest.fail(
                f"the child died on its own (exit {self.proc.returncode}), seed {self.seed}:\n"
                + self.log.read_text()[-3000:]
            )
        assert self.proc.returncode == -signal.SIGKILL
        return [a for a in map(Ack.parse, self.lines[1:]) if a is not None]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.reader.join(timeout=30)
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()


def check_after_kill(url: str, documents: Path, definitions: Definitions, acks: list[Ack], tally: Tally) -> None:
    """The database a kill left behind: it opens, verifies, holds every acknowledged action, nothing half done."""
    db = Database(url, documents=documents)
    try:
        service = CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)
        report = AuditService(service).verify()
        assert report.ok, "audit verify after a kill:\n" + "\n".join(map(str, report.findings))

        repository = service.repository
        events = {(e.case_id, e.seq): e for e in repository.iter_events()}
        heads = {h.id: h for h in repository.iter_heads()}
        per_case = Counter(case for case, _ in events)
        assert set(per_case) == set(heads), "cases with events but no row, or a row but no events"
        half_applied = {c: (heads[c].version, n) for c, n in per_case.items() if heads[c].version != n}
        assert not half_applied, f"projection version != number of events (version, events): {half_applied}"

        bodies = {key: json.loads(e.body) for key, e in events.items()}
        tags = Counter(
            str(b["fields"].get("summary") or b["fields"].get("title") or "")
            for b in bodies.values()
            if b["trigger"] in ("record_public_feedback", "propose")
        )
        twice = {t: n for t, n in tags.items() if n > 1 and t.split("-")[0].isdigit()}
        assert not twice, f"an action was recorded more than once: {twice}"

        with db.read() as conn:
            rows = {str(r[0]) for r in conn.execute(select(_DOCUMENTS.c.sha256))}
        acked_tags = set()
        for a in acks:
            body = bodies.get((a.case, a.seq))
            assert body is not None, f"acknowledged action lost: {a}"
            assert body["trigger"] == a.trigger, f"acknowledged {a}, stored {body['trigger']}"
            if a.tag != "-":
                acked_tags.add(a.tag)
                assert a.tag in (body["fields"].get("summary"), body["fields"].get("title")), (a, body["fields"])
            if a.sha != "-":
                assert a.sha in {d["sha256"] for d in body["documents"]}, (a, body["documents"])
                # its bytes were hashed against the digest by verify, as every carried document's are
                assert a.sha in rows, f"acknowledged document has no row: {a}"

        carried = {d["sha256"] for b in bodies.values() for d in b["documents"]}
        assert rows <= carried, f"document rows that no event carries: {sorted(rows - carried)}"
        # The bytes are written in the action's own transaction: a killed action leaves none behind,
        # and no document file is written at all.
        with db.read() as conn:
            stored = {str(r[0]) for r in conn.execute(select(_CHUNKS.c.sha256).distinct())}
        assert stored == rows, (
            f"bytes without their row: {sorted(stored - rows)}; rows without their bytes: {sorted(rows - stored)}"
        )
        assert not any(p.is_file() for p in documents.rglob("*")), "a document file was written"

        tally.events, tally.cases, tally.documents = len(events), len(heads), len(rows)
        tally.unacknowledged_commits = sum(n for t, n in tags.items() if t.split("-")[0].isdigit()) - len(acked_tags)
    finally:
        db.dispose()


def write_after_crashes(url: str, documents: Path, definitions: Definitions) -> None:
    """The database still takes a write after the last kill (SQLite: its WAL was recovered read-write)."""
    db = Database(url, documents=documents)
    try:
        service = CaseService(db, definitions, clock=fixed_clock, outside=supplied_catalogue)
        case_id = f"{PREFIX}-E0"
        before = service.view(case_id).version
        action = Action("record_public_feedback", PEOPLE["office_chen"], date(2025, 6, 2), {"summary": "after"})
        assert service.act(case_id, action).record.seq == before + 1
        report = AuditService(service).verify()
        assert report.ok, report.findings
    finally:
        db.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_at_random_moments_leaves_a_consistent_database(
    backend: str, tmp_path: Path, definitions: Definitions
) -> None:
    rng = random.Random(f"{SEED}-{backend}")
    started = time.monotonic()
    for url in new_database_url(backend, tmp_path):
        documents = tmp_path / "documents"
        setup = Database(url, documents=documents)
        setup.migrate()
        setup.dispose()
        wal = tmp_path / "decisions.sqlite-wal"
        acks: list[Ack] = []
        tally = Tally()
        log = tmp_path / "child.log"
        child = Child(url, documents, rng.randrange(1 << 32), log)
        try:
            for round_ in range(ROUNDS):
                seed, run_for = child.seed, rng.uniform(*RUN_FOR)
                tally.seeds.append(seed)
                acks += child.run_and_kill(run_for)
                tally.rounds += 1
                tally.wal_left += wal.exists()
                if round_ + 1 < ROUNDS:  # loads while this kill is checked; opens the database only after
                    child = Child(url, documents, rng.randrange(1 << 32), log)
                try:
                    check_after_kill(url, documents, definitions, acks, tally)
                except AssertionError:
                    print(f"failed after kill {round_ + 1} (child seed {seed}, killed after {run_for:.2f} s)")
                    raise
        finally:
            child.stop()
        tally.acknowledged = len(acks)
        report_count(
            f"[crash consistency/{backend}] CRASH_SEED={SEED}: {tally.rounds} kills, {tally.acknowledged} acknowledged actions, {tally.events} events, "
            f"{tally.cases} cases, {tally.documents} documents; {tally.unacknowledged_commits} committed but "
            f"unacknowledged, no orphan document bytes, -wal left by {tally.wal_left} kills; child seeds {tally.seeds}; "
            f"{time.monotonic() - started:.1f} s"
        )
        assert tally.acknowledged > 0, "the child was never acknowledged anything: the test proves nothing"

        if backend == "sqlite":
            assert tally.wal_left > 0, "no kill left a -wal file: the WAL recovery was never exercised"
            raw = sqlite3.connect(tmp_path / "decisions.sqlite")
            try:
                assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            finally:
                raw.close()
        write_after_crashes(url, documents, definitions)
