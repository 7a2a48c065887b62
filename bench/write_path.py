"""The write path as users drive it: the main path of a decision, with its documents, through
`Office.act`, on SQLite (WAL, synchronous=FULL) and PostgreSQL; actions/s beside a raw event-insert +
state-update commit in the same run, and the statements (round trips) per action on PostgreSQL.

    .venv/bin/python -m bench.write_path [--decisions N] [--profile]

Reports; never asserts speed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event

from decisions.model import Action, Case
from decisions.service.cases import CaseService
from decisions.service.office import Office
from decisions.store.database import Database
from tests.support import MAIN_PATH, OUTSIDE, PEOPLE, shipped_definitions

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def clock() -> datetime:
    return datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def outside(service: CaseService, case: Case, action: Action) -> Mapping[str, Any]:
    return OUTSIDE


def typed(value: Any) -> str:
    """What a person types for ``value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, date | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def new_office(url: str, definitions: Any) -> Office:
    db = Database(url, documents=Path(tempfile.mkdtemp(prefix="wp-docs-")))
    db.migrate()
    office = Office(db, definitions, clock=clock)
    office.cases.outside = outside
    for person in PEOPLE.values():
        office.users.add(person.id, sorted(person.roles), person.unit or "")
    return office


def play_main_path(office: Office, case_id: str) -> int:
    """The main path of ``case_id`` through `Office`, with a small real document per kind; returns
    the number of actions (the first opens the case)."""
    wf = office.definitions.workflow("major_decision")
    for i, s in enumerate(MAIN_PATH):
        fields = {k: typed(v) for k, v in s.fields.items()}
        docs = [(k, f"{case_id} {k} #{i} ".encode() * 20, f"{k}.pdf") for k in s.docs]
        if i == 0:
            office.start(wf.name, s.actor, fields, docs, s.on, case_id)
        else:
            office.act(case_id, s.trigger, s.actor, fields, docs, s.on)
    return len(MAIN_PATH)


def office_rate(office: Office, decisions: int, prefix: str) -> tuple[float, float]:
    """(actions/s, CPU µs of this process per action): the CPU figure is steadier on a shared machine."""
    actions = 0
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(decisions):
        actions += play_main_path(office, f"{prefix}-{n:04d}")
    return actions / (time.perf_counter() - start), (time.process_time() - cpu) * 1e6 / actions


def raw_sqlite_rate(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE e (case_id TEXT, seq INT, body TEXT, PRIMARY KEY (case_id, seq))")
    conn.execute("CREATE TABLE s (id TEXT PRIMARY KEY, state TEXT, version INT)")
    conn.execute("INSERT INTO s VALUES ('c', 's', 0)")
    body = "x" * 1100
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO e VALUES ('c', ?, ?)", (i, body))
        conn.execute("UPDATE s SET state = 's', version = ? WHERE id = 'c'", (i,))
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def raw_pg_rate(url: str, n: int) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE e (case_id TEXT, seq INT, body TEXT, PRIMARY KEY (case_id, seq))")
        conn.execute("CREATE TABLE s (id TEXT PRIMARY KEY, state TEXT, version INT)")
        conn.execute("INSERT INTO s VALUES ('c', 's', 0)")
        conn.commit()
        body = "x" * 1100
        start = time.perf_counter()
        for i in range(n):
            conn.execute("INSERT INTO e VALUES ('c', %s, %s)", (i, body))
            conn.execute("UPDATE s SET state = 's', version = %s WHERE id = 'c'", (i,))
            conn.commit()
        return n / (time.perf_counter() - start)


@contextmanager
def pg_database() -> Iterator[str]:
    name = f"wp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RoundTrips:
    """Round trips to the server, counted with SQLAlchemy events: every statement, every commit and
    rollback, on PostgreSQL the BEGIN the driver sends before a transaction's first statement, and
    every ping (the pool's pre-ping or the liveness check at checkout)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        engine = db.engine

        def tick(*_: Any) -> None:
            self.count += 1

        event.listen(engine, "before_cursor_execute", tick)
        event.listen(engine, "commit", tick)
        event.listen(engine, "rollback", tick)
        if not db.is_sqlite:
            event.listen(engine, "begin", tick)
        ping = engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            self.count += 1
            return bool(ping(dbapi_connection))

        engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]


def measure(label: str, url: str, raw: Callable[[], float], decisions: int, profile: bool) -> None:
    definitions = shipped_definitions()
    office = new_office(url, definitions)
    office_rate(office, 1, "warm")
    assert office.cases.db is not None
    counter = RoundTrips(office.cases.db)
    baseline_1 = raw()
    before = counter.count
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    rate, cpu = office_rate(office, decisions, "D")
    if profiler:
        profiler.disable()
    baseline_2 = raw()
    baseline = (baseline_1 + baseline_2) / 2
    per_action = ((counter.count - before) / (decisions * len(MAIN_PATH))) if counter else 0.0
    print(
        f"{label}: {rate:,.1f} actions/s through Office.act; raw {baseline:,.1f}/s "
        f"({baseline_1:,.0f}, {baseline_2:,.0f}); ratio {rate / baseline:.3f}; "
        f"round trips per action {per_action:.2f}; CPU {cpu:,.0f} µs per action"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    raw_n = 300
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            counter = iter(range(1000))
            measure(
                "SQLite WAL FULL",
                f"sqlite:///{work / 'd.sqlite'}",
                lambda: raw_sqlite_rate(work / f"raw{next(counter)}.sqlite", raw_n),
                args.decisions,
                args.profile,
            )
    if args.only != "sqlite":
        with pg_database() as url:
            raw_url = url.replace("+psycopg", "")
            tables = iter(range(1000))

            def raw() -> float:
                with psycopg.connect(raw_url, autocommit=True) as c:
                    c.execute("DROP TABLE IF EXISTS e; DROP TABLE IF EXISTS s")
                next(tables)
                return raw_pg_rate(raw_url, raw_n)

            measure("PostgreSQL", url, raw, args.decisions, args.profile)


if __name__ == "__main__":
    sys.exit(main())
