"""`audit verify` and `audit replay` on a history with realistic documents, beside raw loops in the
same run (task "verify and replay" of issue 15).

    .venv/bin/python -m bench.verify_batches [--decisions 200] [--keep DIR] [--profile]

The history is N decisions × the real main path (`tests.support.MAIN_PATH`) played through the
service with a small real document for every kind a step carries (about 1.2 documents per event).
Baselines measured in the same run on the same database:
- raw verify: one `sqlite3` loop reading every event (prev hash + body, hashed with hashlib) and one
  reading every document row and its file, hashing the bytes;
- raw replay: the same events read with `sqlite3` and `json.loads`-ed, nothing evaluated.
Reports ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import pstats
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from decisions.service.audit import AuditService  # noqa: E402
from decisions.service.cases import CaseService  # noqa: E402
from decisions.store.database import Database  # noqa: E402
from tests.stores import play, supplied_catalogue  # noqa: E402
from tests.support import shipped_definitions  # noqa: E402


def clock() -> datetime:
    return datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def build(work: Path, decisions: int) -> Database:
    work.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{work / 'verify.sqlite'}", documents=work / "documents")
    if not (work / "verify.sqlite").exists():
        db.migrate()
        service = CaseService(db, shipped_definitions(), clock=clock, outside=supplied_catalogue)
        for i in range(decisions):
            play(service, f"D-{i:05d}")
    return db


def raw_verify(path: Path, documents: Path) -> tuple[int, float]:
    """Read and hash every event and every document with the standard library alone."""
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    n = 0
    h = hashlib.sha256
    for prev, body, _digest in conn.execute("SELECT prev_hash, body, hash FROM events ORDER BY case_id, seq"):
        h(prev.encode() + b"\n" + body.encode()).hexdigest()
        n += 1
    for (sha,) in conn.execute("SELECT sha256 FROM documents"):  # their bytes: chunk rows in the database
        h(
            b"".join(
                d for (d,) in conn.execute("SELECT data FROM document_chunks WHERE sha256 = ? ORDER BY seq", (sha,))
            )
        )
    conn.close()
    return n, time.perf_counter() - start


def raw_replay(path: Path) -> tuple[int, float]:
    import json

    start = time.perf_counter()
    conn = sqlite3.connect(path)
    n = 0
    for (body,) in conn.execute("SELECT body FROM events ORDER BY case_id, seq"):
        json.loads(body)
        n += 1
    conn.close()
    return n, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the history here once and reuse it")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="verify-batches-"))
    work.mkdir(parents=True, exist_ok=True)
    db = build(work, args.decisions)
    path = work / "verify.sqlite"
    service = CaseService(db, shipped_definitions(), clock=clock, outside=supplied_catalogue)
    with sqlite3.connect(path) as c:
        events = c.execute("SELECT count(*) FROM events").fetchone()[0]
        docs = c.execute("SELECT count(*) FROM documents").fetchone()[0]
    print(f"code: {Path(sys.modules[AuditService.__module__].__file__ or '').parent}")
    print(f"history: {args.decisions} decisions, {events} events, {docs} documents ({docs / events:.2f} per event)")
    if args.profile:
        cProfile.runctx(
            "AuditService(service).verify()",
            globals(),
            {"AuditService": AuditService, "service": service},
            str(work / "verify.prof"),
        )
        pstats.Stats(str(work / "verify.prof")).sort_stats("cumulative").print_stats(25)
    for _ in range(args.repeat):
        audit = AuditService(service)
        start = time.perf_counter()
        report = audit.verify()
        ours = time.perf_counter() - start
        assert report.ok, report.findings[:3]
        n, raw = raw_verify(path, work / "documents")
        print(
            f"verify: {report.events / ours:,.0f} events/s ({report.documents} documents); raw read+hash loop "
            f"{n / raw:,.0f} events/s; ratio {raw / ours:.3f}"
        )
        case_ids = [h.id for h in service.repository.cases()]
        start = time.perf_counter()
        steps = sum(len(audit.replay(cid).steps) for cid in case_ids)
        one_by_one = time.perf_counter() - start
        replay = one_by_one
        if hasattr(audit, "replay_all"):  # absent before this change: the script measures both versions
            start = time.perf_counter()
            batched = sum(len(r.steps) for r in audit.replay_all())
            replay = time.perf_counter() - start
            assert batched == steps
        n, raw = raw_replay(path)
        print(f"replay case by case (load per case): {steps / one_by_one:,.0f} events/s")
        print(
            f"replay: {steps / replay:,.0f} events/s; raw read+parse loop {n / raw:,.0f} events/s; "
            f"ratio {raw / replay:.4f}"
        )
    db.dispose()


if __name__ == "__main__":
    main()
