"""The same-run baselines and peers for the durable-action workload.

- raw: one event insert + one state update + commit per step, through ``sqlite3`` (WAL,
  synchronous=FULL) or ``psycopg``: the floor a store of this shape cannot beat;
- ``eventsourcing``: an aggregate per decision, one event per step with the step's payload, saved
  through its SQLite (WAL) or PostgreSQL recorder;
- SpiffWorkflow: a sequential workflow spec with one task per step; each step runs its task with the
  payload as task data, and the whole workflow is serialised to JSON and upserted, one commit.

The peers are in the optional extra ``bench`` (``pip install -e '.[dev,bench]'``); `available`
says which are installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Payloads = Sequence[Sequence[dict[str, Any]]]
"""One list of step payloads per decision."""


def available() -> dict[str, bool]:
    return {
        "eventsourcing": importlib.util.find_spec("eventsourcing") is not None,
        "SpiffWorkflow": importlib.util.find_spec("SpiffWorkflow") is not None,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# -- raw ----------------------------------------------------------------------------------------


def raw_sqlite(path: Path, payloads: Payloads, body_bytes: int) -> float:
    """Actions/s of raw event insert + state update + commit (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE events (case_id TEXT, seq INTEGER, body TEXT NOT NULL, PRIMARY KEY (case_id, seq))")
    conn.execute("CREATE TABLE cases (id TEXT PRIMARY KEY, state TEXT, version INTEGER)")
    n = 0
    start = time.perf_counter()
    for d, steps in enumerate(payloads):
        case_id = f"R-{d:05d}"
        conn.execute("INSERT INTO cases VALUES (?, 'new', 0)", (case_id,))
        for seq, p in enumerate(steps, 1):
            body = _dumps(p).ljust(body_bytes)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO events VALUES (?, ?, ?)", (case_id, seq, body))
            conn.execute("UPDATE cases SET state = ?, version = ? WHERE id = ?", (p["trigger"], seq, case_id))
            conn.execute("COMMIT")
            n += 1
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def raw_pg(url: str, payloads: Payloads, body_bytes: int) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TABLE raw_events (case_id TEXT, seq INTEGER, body TEXT NOT NULL, PRIMARY KEY (case_id, seq))"
        )
        conn.execute("CREATE TABLE raw_cases (id TEXT PRIMARY KEY, state TEXT, version INTEGER)")
        conn.commit()
        n = 0
        start = time.perf_counter()
        for d, steps in enumerate(payloads):
            case_id = f"R-{d:05d}"
            conn.execute("INSERT INTO raw_cases VALUES (%s, 'new', 0)", (case_id,))
            for seq, p in enumerate(steps, 1):
                body = _dumps(p).ljust(body_bytes)
                conn.execute("INSERT INTO raw_events VALUES (%s, %s, %s)", (case_id, seq, body))
                conn.execute(
                    "UPDATE raw_cases SET state = %s, version = %s WHERE id = %s", (p["trigger"], seq, case_id)
                )
                conn.commit()
                n += 1
        rate = n / (time.perf_counter() - start)
        conn.execute("DROP TABLE raw_events, raw_cases")
        conn.commit()
        return rate


# -- eventsourcing ------------------------------------------------------------------------------


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_CLASSES: dict[str, Any] = {}


def _eventsourcing_app(env: dict[str, str]) -> tuple[Any, Any]:
    if _CLASSES:  # eventsourcing registers each class by its topic: define them once
        with _environ(env):
            return _CLASSES["app"](), _CLASSES["aggregate"]
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Decision(Aggregate):  # type: ignore[misc]
        @event("Opened")  # type: ignore[misc]
        def __init__(self, case_id: str, payload: dict[str, Any]) -> None:
            self.case_id = case_id
            self.steps = [payload["trigger"]]

        @event("Stepped")  # type: ignore[misc]
        def step(self, payload: dict[str, Any]) -> None:
            self.steps.append(payload["trigger"])

    class Decisions(Application):  # type: ignore[misc]
        pass

    _CLASSES.update(app=Decisions, aggregate=Decision)
    with _environ(env):
        return Decisions(), Decision


def eventsourcing_run(env: dict[str, str], payloads: Payloads) -> tuple[float, float]:
    """(actions/s, replayed events/s): one aggregate per decision, saved once per step; then every
    aggregate read back from its events."""
    app, decision = _eventsourcing_app(env)
    ids = []
    n = 0
    start = time.perf_counter()
    for d, steps in enumerate(payloads):
        aggregate = decision(f"E-{d:05d}", steps[0])
        app.save(aggregate)
        n += 1
        for p in steps[1:]:
            aggregate.step(p)
            app.save(aggregate)
            n += 1
        ids.append(aggregate.id)
    write = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for aggregate_id in ids:
        app.repository.get(aggregate_id)
    replay = n / (time.perf_counter() - start)
    app.close()
    return write, replay


def eventsourcing_sqlite(path: Path, payloads: Payloads) -> tuple[float, float]:
    return eventsourcing_run({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}, payloads)


def eventsourcing_pg(url: str, payloads: Payloads) -> tuple[float, float]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": u.database or "",
        "POSTGRES_HOST": u.host or "127.0.0.1",
        "POSTGRES_PORT": str(u.port or 5432),
        "POSTGRES_USER": u.username or "postgres",
        "POSTGRES_PASSWORD": u.password or "",
    }
    return eventsourcing_run(env, payloads)


# -- SpiffWorkflow ------------------------------------------------------------------------------


def _spiff_run(payloads: Payloads, save: Callable[[str, str], None]) -> float:
    from SpiffWorkflow.serializer.json import JSONSerializer
    from SpiffWorkflow.specs.Simple import Simple
    from SpiffWorkflow.specs.WorkflowSpec import WorkflowSpec
    from SpiffWorkflow.util.task import TaskState
    from SpiffWorkflow.workflow import Workflow

    serializer = JSONSerializer()
    specs: dict[tuple[str, ...], Any] = {}
    n = 0
    start = time.perf_counter()
    for d, steps in enumerate(payloads):
        names = tuple(p["trigger"] for p in steps)
        spec = specs.get(names)
        if spec is None:
            spec = WorkflowSpec("major_decision", addstart=True)
            previous = spec.start
            for i, name in enumerate(names):
                task = Simple(spec, f"{i}:{name}")
                previous.connect(task)
                previous = task
            specs[names] = spec
        workflow = Workflow(spec)
        workflow.get_tasks(state=TaskState.READY)[0].run()  # the Start task
        case_id = f"S-{d:05d}"
        for p in steps:
            task = workflow.get_tasks(state=TaskState.READY)[0]
            task.set_data(payload=p)
            task.run()
            save(case_id, workflow.serialize(serializer))
            n += 1
    return n / (time.perf_counter() - start)


def spiff_sqlite(path: Path, payloads: Payloads) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE workflows (id TEXT PRIMARY KEY, state TEXT NOT NULL)")

    def save(case_id: str, state: str) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO workflows VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            (case_id, state),
        )
        conn.execute("COMMIT")

    try:
        return _spiff_run(payloads, save)
    finally:
        conn.close()


def spiff_pg(url: str, payloads: Payloads) -> float:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE spiff_workflows (id TEXT PRIMARY KEY, state TEXT NOT NULL)")
        conn.commit()

        def save(case_id: str, state: str) -> None:
            conn.execute(
                "INSERT INTO spiff_workflows VALUES (%s, %s) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
                (case_id, state),
            )
            conn.commit()

        rate = _spiff_run(payloads, save)
        conn.execute("DROP TABLE spiff_workflows")
        conn.commit()
        return rate
