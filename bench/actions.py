"""Durable actions on the workload users have (`bench.workload`), beside the raw loop and the peers
(`bench.peers`) measured in the same run; PostgreSQL client processes; round trips per action."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench import peers
from bench.workload import Workload, clock, definitions, payload, play, prepare
from decisions.service.office import Office
from decisions.store.database import Database

Add = Callable[..., None]


def decision_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(count)]


def payloads(workload: Workload, ids: list[str]) -> list[list[dict[str, Any]]]:
    return [[payload(c, i, s) for i, s in enumerate(workload.decision)] for c in ids]


def play_all(office: Office, workload: Workload, ids: list[str]) -> float:
    """Actions/s playing every decision of ``ids`` to its end, each step with its documents."""
    start = time.perf_counter()
    for case_id in ids:
        play(office, case_id, workload.decision)
    return len(ids) * len(workload.decision) / (time.perf_counter() - start)


def mean_body_bytes(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT avg(length(body)) FROM events")).scalar() or 500)


def office_on(url: str, documents: Path, workload: Workload) -> Office:
    db = Database(url, documents=documents)
    db.migrate()
    office = Office(db, definitions(), clock=clock)
    prepare(office, workload)
    return office


def compare(
    figure: Any,
    add: Add,
    where: str,
    ours: float,
    raw: float,
    es: float | None,
    spiff: float | None,
    body: int,
) -> None:
    add(
        figure(
            f"durable actions/s with documents, {where}",
            ours,
            "actions/s",
            raw,
            f"raw event insert ({body} B) + state update + commit",
            "≥ 0.6 of raw",
            ours / raw >= 0.6,
        )
    )
    if es is not None:
        add(
            figure(
                f"durable actions/s with documents ÷ eventsourcing, {where}",
                ours,
                "actions/s",
                es,
                "eventsourcing: aggregate per decision, one event per step",
                "≥ 1.0×",
                ours >= es,
                note=f"eventsourcing at {es / raw:.2f} of raw",
            )
        )
    if spiff is not None:
        add(
            figure(
                f"durable actions/s with documents ÷ SpiffWorkflow, {where}",
                ours,
                "actions/s",
                spiff,
                "SpiffWorkflow: whole workflow as JSON per step",
                "≥ 2×",
                ours >= 2 * spiff,
                note=f"SpiffWorkflow at {spiff / raw:.2f} of raw",
            )
        )


def bench_sqlite(figure: Any, add: Add, work: Path, decisions: int, workload: Workload) -> tuple[Office, float]:
    """Returns the office (its history feeds verify and replay) and eventsourcing's replay rate."""
    office = office_on(f"sqlite:///{work / 'actions.sqlite'}", work / "docs", workload)
    have = peers.available()
    ids = decision_ids("D", decisions)
    loads = payloads(workload, ids)
    raw_before = peers.raw_sqlite(work / "raw-before.sqlite", loads, 1000)
    ours = play_all(office, workload, ids)
    body = mean_body_bytes(office.cases.db)  # type: ignore[arg-type]
    raw_after = peers.raw_sqlite(work / "raw-after.sqlite", loads, body)
    es_write = es_replay = spiff = None
    if have["eventsourcing"]:
        es_write, es_replay = peers.eventsourcing_sqlite(work / "eventsourcing.sqlite", loads)
    if have["SpiffWorkflow"]:
        spiff = peers.spiff_sqlite(work / "spiff.sqlite", loads)
    raw = statistics.mean([raw_before, raw_after])
    compare(figure, add, "SQLite WAL synchronous=FULL", ours, raw, es_write, spiff, body)
    syncs, breakdown = disk_syncs(office, workload, decision_ids("F", 2))
    add(
        figure(
            "disk syncs per action, SQLite (Office.act with documents)",
            syncs,
            "syncs",
            1.0,
            "raw loop: one commit",
            "close to 1",
            None,
            note=breakdown,
        )
    )
    return office, es_replay or 0.0


def disk_syncs(office: Office, workload: Workload, ids: list[str]) -> tuple[float, str]:
    """Syncs per action on SQLite, counted (untimed): ``os.fsync`` calls (document files and their
    directory before documents moved into the database; none since) plus write commits (one WAL sync
    each at synchronous=FULL; read commits sync nothing)."""
    db = office.cases.db
    assert db is not None
    counts: Counter[str] = Counter()
    real = os.fsync

    def fsync(fd: Any) -> None:
        counts["fsync"] += 1
        real(fd)

    def commit(conn: Any) -> None:
        counts["write commit" if conn.get_execution_options().get("sqlite_immediate") else "read commit"] += 1

    event.listen(db.engine, "commit", commit)
    os.fsync = fsync
    try:
        for case_id in ids:
            play(office, case_id, workload.decision)
    finally:
        os.fsync = real
        event.remove(db.engine, "commit", commit)
    actions = len(ids) * len(workload.decision)
    syncs = (counts["fsync"] + counts["write commit"]) / actions
    return syncs, ", ".join(f"{k} {v / actions:.2f}" for k, v in sorted(counts.items()))


# -- PostgreSQL ---------------------------------------------------------------------------------


class RoundTrips:
    """Messages that wait for the server, counted through SQLAlchemy's events: statements, BEGIN,
    COMMIT, ROLLBACK, and the pre-ping on each pool checkout when the engine pings."""

    def __init__(self, db: Database) -> None:
        self.counts: Counter[str] = Counter()
        engine = db.engine
        pings = bool(getattr(engine.pool, "_pre_ping", False))
        event.listen(engine, "before_cursor_execute", lambda *a: self.counts.update(["statement"]))
        event.listen(engine, "begin", lambda *a: self.counts.update(["begin"]))
        event.listen(engine, "commit", lambda *a: self.counts.update(["commit"]))
        event.listen(engine, "rollback", lambda *a: self.counts.update(["rollback"]))
        if pings:
            event.listen(engine.pool, "checkout", lambda *a: self.counts.update(["pre-ping"]))

    def total(self) -> int:
        return sum(self.counts.values())


def _client(url: str, documents: str, ids: list[str], barrier: Any, queue: Any) -> None:
    """One client process: its own engine, its own decisions, played to the end."""
    from bench.workload import load_workload

    workload = load_workload()
    office = Office(Database(url, documents=Path(documents)), definitions(), clock=clock)
    barrier.wait()
    start, cpu = time.perf_counter(), time.process_time()
    for case_id in ids:
        play(office, case_id, workload.decision)
    queue.put((start, time.perf_counter(), len(ids) * len(workload.decision), time.process_time() - cpu))


def processes_rate(url: str, documents: Path, clients: int, decisions: int, prefix: str) -> tuple[float, float]:
    """Actions/s of ``clients`` processes, each playing ``decisions`` decisions of its own, and the
    client CPU milliseconds per action (what bounds throughput when the cores are few)."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients)
    queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=_client,
            args=(url, str(documents), decision_ids(f"{prefix}{k}", decisions), barrier, queue),
        )
        for k in range(clients)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a client process failed (exit code {p.exitcode})")
    first = min(r[0] for r in results)
    last = max(r[1] for r in results)
    actions = sum(r[2] for r in results)
    return actions / (last - first), sum(r[3] for r in results) / actions * 1000


def bench_pg(figure: Any, add: Add, url: str, work: Path, decisions: int, workload: Workload) -> None:
    office = office_on(url, work / "pgdocs", workload)
    db = office.cases.db
    assert db is not None
    have = peers.available()
    ids = decision_ids("P", decisions)
    loads = payloads(workload, ids)
    raw_before = peers.raw_pg(url, loads, 1000)
    trips = RoundTrips(db)
    ours = play_all(office, workload, ids)
    counts = dict(trips.counts)
    actions = len(ids) * len(workload.decision)
    body = mean_body_bytes(db)
    raw_after = peers.raw_pg(url, loads, body)
    es = spiff = None
    if have["eventsourcing"]:
        es, _ = peers.eventsourcing_pg(url, loads)
    if have["SpiffWorkflow"]:
        spiff = peers.spiff_pg(url, loads)
    raw = statistics.mean([raw_before, raw_after])
    compare(figure, add, "PostgreSQL", ours, raw, es, spiff, body)
    per_action = sum(counts.values()) / actions
    breakdown = ", ".join(f"{k} {v / actions:.1f}" for k, v in sorted(counts.items()))
    add(
        figure(
            "PostgreSQL round trips per action (Office.act with documents)",
            per_action,
            "round trips",
            3.0,
            "raw loop: insert, update, commit",
            "≤ 5",
            per_action <= 5,
            note=breakdown,
        )
    )
    db.dispose()
    one = None
    for clients in (1, 4, 8):
        per = max(decisions // 8, 1) * 8 // clients
        rate, cpu_ms = processes_rate(url, work / "pgdocs", clients, per, f"C{clients}-")
        one = one or rate
        add(
            figure(
                f"PostgreSQL actions/s, {clients} client processes",
                rate,
                "actions/s",
                one,
                "1 client process (same run)",
                "8 processes ≥ 4× one" if clients == 8 else "",
                rate >= 4 * one if clients == 8 else None,
                note=f"{per} decisions each, {os.cpu_count()} cores, client CPU {cpu_ms:.1f} ms/action",
            )
        )
