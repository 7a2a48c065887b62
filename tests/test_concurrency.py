"""Racing writers on one decision, on SQLite (a file) and PostgreSQL: exactly one success per version,
clear conflict errors for the rest, nothing half-written, and the history verifies afterwards.

Writers are threads (sharing one `Database`, or each with its own engine and connection pool, as
separate users would be) and processes (each its own interpreter, started with ``spawn``). The
threads meet at a barrier either before acting or just before writing (each has read and judged the
decision), so that every one of them is sure to have seen the same version before any of them writes.
Interleavings that a free race hits only sometimes are forced with a hook on the SQL a connection
is about to execute, so that they are tested every time.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from decisions.definitions import Definitions
from decisions.errors import ConflictError, DuplicateKeyError
from decisions.model import Action, Document
from decisions.service.audit import AuditService
from decisions.service.cases import CHINA_STANDARD_TIME, CaseService
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.events import StoredEvent
from decisions.store.tables import EventRow
from tests.stores import BACKENDS, fixed_clock, fresh_service, play, supplied_catalogue
from tests.support import MAIN_PATH, PEOPLE

N = 8
PROCESSES = 4
EXECUTING = 14  # MAIN_PATH[:14] ends with assign_execution: the decision is being executed
TIMEOUT = 60


def to_executing(service: CaseService, case_id: str) -> Document:
    """Bring ``case_id`` to `executing` (version 13); returns an execution report to attach."""
    assert MAIN_PATH[EXECUTING - 1].trigger == "assign_execution"
    play(service, case_id, MAIN_PATH[:EXECUTING])
    view = service.view(case_id)
    assert (view.case.state, view.version) == ("executing", EXECUTING)
    return service.attach("execution_report", f"{case_id} execution report".encode(), "report.pdf")


def report(i: int, doc: Document) -> Action:
    return Action("report_execution", PEOPLE["exec_sun"], date(2025, 7, 1), {"summary": f"t{i}"}, (doc,))


def history(service: CaseService, case_id: str) -> list[StoredEvent]:
    return service.repository.load(case_id)[1]


def assert_verifies(service: CaseService) -> None:
    report = AuditService(service).verify()
    assert report.ok, report.findings


@contextmanager
def before_statement(
    db: Database, starts: tuple[str, ...], contains: str, action: Callable[[], Any]
) -> Iterator[list[Any]]:
    """While the block runs, just before ``db``'s engine first executes a statement that starts with one
    of ``starts`` and contains ``contains``, run ``action`` in another thread (its own connection, its own
    engine) and wait for it. Yields a list that then holds what the action returned."""
    done: list[Any] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(action())
        except BaseException as exc:
            failed.append(exc)

    def hook(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sql = " ".join(statement.split()).upper()
        if not done and not failed and sql.startswith(starts) and contains in sql:
            t = threading.Thread(target=run)
            t.start()
            t.join(TIMEOUT)
            if not done:
                raise RuntimeError(f"the interleaved action did not complete: {failed}")

    event.listen(db.engine, "before_cursor_execute", hook)
    try:
        yield done
    finally:
        event.remove(db.engine, "before_cursor_execute", hook)


# -- each guard alone ----------------------------------------------------------------------------------
# Two guards stop a stale writer: the case row is updated only where its version *and* head hash are
# still those the event was computed from, and the events table holds each (case, seq) pair once. The
# races below pass with either guard removed (the other one stops them), so each is also tested alone.


def test_the_database_itself_refuses_a_second_event_with_the_same_number(service: CaseService, db: Database) -> None:
    play(service, "D-1", MAIN_PATH[:2])
    table = EventRow.__table__  # type: ignore[attr-defined]
    with db.read() as conn:
        second = dict(conn.execute(select(table).where(table.c.case_id == "D-1", table.c.seq == 2)).mappings().one())
    del second["id"]
    with pytest.raises(DuplicateKeyError), db.write() as conn:
        conn.execute(table.insert().values(**{**second, "hash": "f" * 64}))
    assert [e.seq for e in history(service, "D-1")] == [1, 2]


def test_a_writer_whose_snapshot_ends_in_another_head_hash_writes_nothing(service: CaseService) -> None:
    """Same version, another head hash (the history under it was replaced): the conditional update
    alone refuses, since the event's number is new and the unique pair cannot."""
    play(service, "D-1", MAIN_PATH[:EXECUTING])
    doc = service.attach("execution_report", b"report", "report.pdf")
    stored = service.view("D-1")
    service._remember(replace(stored, head_hash="0" * 64))  # what this service believes it read
    with pytest.raises(ConflictError):
        service.act("D-1", report(1, doc), expected_version=EXECUTING)
    assert service.view("D-1") == stored
    assert_verifies(service)


# -- threads ------------------------------------------------------------------------------------------


class Writers:
    """N case services, on the test's `Database` or each on its own, and the barrier they race from."""

    def __init__(self, db: Database, definitions: Definitions, own_databases: bool, meet: str) -> None:
        self.databases = [Database(db.url, documents=db.documents_root) for _ in range(N)] if own_databases else []
        self.services = [
            CaseService(d, definitions, clock=fixed_clock, outside=supplied_catalogue)
            for d in self.databases or [db] * N
        ]
        self.barrier = threading.Barrier(N)
        if meet == "before_writing":
            for service in self.services:
                self._meet_before_first_write(service)

    def _meet_before_first_write(self, service: CaseService) -> None:
        """Every writer reads the decision and judges its action; all wait until all have, then write."""
        append = service.repository.append
        first = [True]

        def meet_then_append(*args: Any, **kwargs: Any) -> Any:
            if first[0]:
                first[0] = False
                self.barrier.wait(TIMEOUT)
            return append(*args, **kwargs)

        service.repository.append = meet_then_append  # type: ignore[method-assign]

    def race(self, work: Callable[[int, CaseService], Any], meet: str) -> list[Any]:
        """Run ``work(i, service)`` in N threads; the result or the exception of each."""
        outcomes: list[Any] = [None] * N

        def run(i: int) -> None:
            if meet == "start":
                self.barrier.wait(TIMEOUT)
            try:
                outcomes[i] = work(i, self.services[i])
            except Exception as exc:
                outcomes[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert not any(t.is_alive() for t in threads)
        return outcomes

    def close(self) -> None:
        for d in self.databases:
            d.dispose()


@pytest.fixture(params=["shared_database", "own_databases"])
def own_databases(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "own_databases")


@pytest.mark.parametrize("meet", ["start", "before_writing"])
def test_racing_threads_on_one_version_one_wins_the_others_get_a_conflict(
    service: CaseService, db: Database, definitions: Definitions, own_databases: bool, meet: str
) -> None:
    doc = to_executing(service, "D-1")
    writers = Writers(db, definitions, own_databases, meet)
    try:
        outcomes = writers.race(lambda i, s: s.act("D-1", report(i, doc), expected_version=EXECUTING), meet)
    finally:
        writers.close()
    won = [o for o in outcomes if not isinstance(o, Exception)]
    conflicts = [o for o in outcomes if isinstance(o, ConflictError)]
    others = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ConflictError)]
    assert not others, [(repr(o), repr(o.__cause__)) for o in others]
    assert len(won) == 1 and len(conflicts) == N - 1, outcomes
    assert won[0].record.seq == EXECUTING + 1
    for c in conflicts:
        assert (c.case_id, c.expected, c.actual) == ("D-1", EXECUTING, EXECUTING + 1)
        assert "conflict: D-1 was changed" in str(c) and "nothing was written" in str(c)
        assert c.by == "exec_sun" and "by exec_sun at" in str(c), str(c)  # who changed it, and when
    view = service.view("D-1")
    assert view.version == EXECUTING + 1
    assert view.case.records[-1].fields["summary"] == won[0].record.fields["summary"]
    assert [e.seq for e in history(service, "D-1")] == list(range(1, EXECUTING + 2))
    assert_verifies(service)


def test_racing_threads_without_an_expected_version_all_succeed_one_after_another(
    service: CaseService, db: Database, definitions: Definitions, own_databases: bool
) -> None:
    doc = to_executing(service, "D-1")
    writers = Writers(db, definitions, own_databases, "before_writing")
    try:
        outcomes = writers.race(lambda i, s: s.act("D-1", report(i, doc)), "before_writing")
    finally:
        writers.close()
    failed = [o for o in outcomes if isinstance(o, Exception)]
    assert not failed, [(repr(o), repr(o.__cause__)) for o in failed]
    assert sorted(o.record.seq for o in outcomes) == list(range(EXECUTING + 1, EXECUTING + N + 1))
    events = history(service, "D-1")
    assert [e.seq for e in events] == list(range(1, EXECUTING + N + 1))
    summaries = [service.view("D-1").case.records[e.seq - 1].fields["summary"] for e in events[EXECUTING:]]
    assert sorted(summaries) == sorted(f"t{i}" for i in range(N))
    assert_verifies(service)


@contextmanager
def other_user(service: CaseService, definitions: Definitions) -> Iterator[CaseService]:
    """Another user of the same database: their own `Database` (engine, connection pool) and service."""
    database = Database(service.db.url, documents=service.db.documents_root)
    try:
        yield CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)
    finally:
        database.dispose()


WRITES = ("INSERT INTO EVENTS", "UPDATE CASES")


def test_a_writer_overtaken_inside_its_transaction_is_told_who_changed_the_decision(
    tmp_path: Path, definitions: Definitions
) -> None:
    """PostgreSQL only (SQLite's BEGIN IMMEDIATE makes this interleaving impossible): the loser has read
    version 13 and opened its write transaction; just before its first write, the winner commits
    version 14. The loser must write nothing and name the winner, as every other conflict does."""
    with fresh_service("postgres", tmp_path, definitions) as loser, other_user(loser, definitions) as winner:
        doc = to_executing(loser, "D-1")
        with before_statement(loser.db, WRITES, "", lambda: winner.act("D-1", report(1, doc)).record.actor) as won:
            try:
                loser.act("D-1", report(2, doc), expected_version=EXECUTING)
            except ConflictError as exc:
                conflict = exc
            else:
                raise RuntimeError("the overtaken writer was not refused")
        if won != ["exec_sun"] or loser.view("D-1").version != EXECUTING + 1:
            raise RuntimeError(f"the interleaving did not happen: {won}")
        assert_verifies(loser)
        assert (conflict.expected, conflict.actual) == (EXECUTING, EXECUTING + 1)
        assert conflict.by == "exec_sun", str(conflict)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reading_a_decision_while_another_user_acts_sees_one_version(
    backend: str, tmp_path: Path, definitions: Definitions
) -> None:
    """The reader has read the case row (version 13); the writer commits event 14 and version 14 before
    the reader reads the events. The reader sees one version: 13, consistently."""
    with fresh_service(backend, tmp_path, definitions) as reader, other_user(reader, definitions) as writer:
        doc = to_executing(reader, "D-1")
        act = lambda: writer.act("D-1", report(1, doc)).record.seq  # noqa: E731
        with before_statement(reader.db, ("SELECT",), "FROM EVENTS", act) as wrote:
            view = reader.view("D-1")
        assert wrote == [EXECUTING + 1]
        assert view.version == len(view.case.records) == EXECUTING  # the snapshot from before the write
        assert reader.view("D-1").version == EXECUTING + 1


def test_verifying_while_a_decision_advances_reports_no_false_findings(
    service: CaseService, definitions: Definitions
) -> None:
    """A clerk acts after the auditor has read the chain's events and before it reads the case row."""
    doc = to_executing(service, "D-1")
    with other_user(service, definitions) as auditing:
        auditor = AuditService(auditing)
        act = lambda: service.act("D-1", report(1, doc)).record.seq  # noqa: E731
        with before_statement(auditing.db, ("SELECT",), "FROM CASES", act) as wrote:
            found = auditor.verify()
        assert wrote == [EXECUTING + 1]
        assert found.ok, found.findings
        assert found.cases == 1
    assert_verifies(service)


def test_verifying_while_a_decision_is_proposed_reports_no_false_findings(
    service: CaseService, definitions: Definitions
) -> None:
    """A clerk proposes a decision (its id sorting first) after the auditor has streamed the events and
    before it lists the case rows: the new decision is not "a case without events"."""
    to_executing(service, "D-2")
    with other_user(service, definitions) as auditing:
        auditor = AuditService(auditing)
        propose = lambda: play(service, "D-1", MAIN_PATH[:1]) or "D-1"  # noqa: E731
        with before_statement(auditing.db, ("SELECT",), "ORDER BY CASES.ID", propose) as wrote:
            found = auditor.verify()
        assert wrote == ["D-1"]
        assert found.ok, found.findings
    assert_verifies(service)


# -- processes ----------------------------------------------------------------------------------------


Job = tuple[str, int, str, int]  # case, expected version, digest of the execution report, summary number
PROPOSE = "<propose>"  # a job that proposes a new decision (numbered by the workflow's pattern) instead


def serve_in_process(inbox: Any, barrier: Any, results: Any) -> None:
    """A separate interpreter (spawned: nothing inherited). For every request (database URL, document
    store, jobs) it builds its own `Database` (engine, connection pool) and `CaseService` with the
    definitions loaded from disk; for each job it waits for the other processes, then acts."""
    from decisions.service.cases import CaseService
    from decisions.service.office import Office
    from decisions.store.database import Database
    from tests.stores import fixed_clock, supplied_catalogue
    from tests.support import shipped_definitions

    definitions = shipped_definitions()
    while (request := inbox.get()) is not None:
        url, documents, jobs = request
        database = Database(url, documents=Path(documents))
        try:
            service = CaseService(database, definitions, clock=fixed_clock, outside=supplied_catalogue)
            office = Office(database, definitions, clock=fixed_clock)
            for case_id, expected, sha, i in jobs:
                action = report(i, Document("execution_report", sha, 1, "report.pdf"))
                try:
                    barrier.wait(TIMEOUT)
                    if case_id == PROPOSE:
                        proposed = office.propose("proposer_liu", {**PROPOSAL, "title": f"决策事项 {i}"})
                        results.put(("ok", proposed.case.id, proposed.record.seq))
                        continue
                    fired = service.act(case_id, action, expected_version=expected)
                    results.put(("ok", case_id, fired.record.seq))
                except ConflictError as exc:
                    results.put(("conflict", case_id, str(exc)))
                except Exception as exc:
                    results.put(("error", case_id, repr(exc)))
        finally:
            database.dispose()


class Processes:
    """PROCESSES spawned interpreters, started once for the module (starting one costs seconds)."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.results = ctx.Queue()
        self.inboxes = [ctx.Queue() for _ in range(PROCESSES)]
        self.barrier = ctx.Barrier(PROCESSES)  # kept: a semaphore the parent drops is gone for the children
        self.processes = [
            ctx.Process(target=serve_in_process, args=(inbox, self.barrier, self.results), daemon=True)
            for inbox in self.inboxes
        ]
        for p in self.processes:
            p.start()

    def run(self, db: Database, jobs: list[list[Job]]) -> list[tuple[str, str, Any]]:
        """Give each process its jobs (the same number each); the outcome of every job."""
        assert len(jobs) == PROCESSES and len({len(j) for j in jobs}) == 1
        for inbox, job in zip(self.inboxes, jobs, strict=True):
            inbox.put((db.url, str(db.documents_root), job))
        return [self.results.get(timeout=TIMEOUT) for job in jobs for _ in job]

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for p in self.processes:
            p.join(TIMEOUT)
            if p.is_alive():
                p.kill()


@pytest.fixture(scope="module")
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.close()


def test_racing_processes_on_one_version_one_wins(service: CaseService, db: Database, processes: Processes) -> None:
    doc = to_executing(service, "D-1")
    outcomes = processes.run(db, [[("D-1", EXECUTING, doc.sha256, i)] for i in range(PROCESSES)])
    assert sorted(o[0] for o in outcomes) == ["conflict"] * (PROCESSES - 1) + ["ok"], outcomes
    assert [o[2] for o in outcomes if o[0] == "ok"] == [EXECUTING + 1]
    for _, case_id, message in (o for o in outcomes if o[0] == "conflict"):
        assert case_id == "D-1" and "by exec_sun at" in message, message
        assert f"version {EXECUTING} -> {EXECUTING + 1}" in message and "nothing was written" in message
    assert service.view("D-1").version == EXECUTING + 1
    assert [e.seq for e in history(service, "D-1")] == list(range(1, EXECUTING + 2))
    assert_verifies(service)


def test_processes_acting_on_different_decisions_all_succeed(
    service: CaseService, db: Database, processes: Processes
) -> None:
    cases = [f"D-{i + 1}" for i in range(PROCESSES)]
    docs = [to_executing(service, c) for c in cases]
    rounds = 2  # each process acts twice on its own decision, the others acting at the same moments
    jobs = [[(c, EXECUTING + r, d.sha256, r) for r in range(rounds)] for c, d in zip(cases, docs, strict=True)]
    outcomes = processes.run(db, jobs)
    assert sorted(outcomes) == sorted(("ok", c, EXECUTING + r + 1) for c in cases for r in range(rounds)), outcomes
    for c in cases:
        assert service.view(c).version == EXECUTING + rounds
    assert_verifies(service)


PROPOSAL = {"category": "public_policy", "source": "leader"}  # as a clerk types it (`--set`)


def test_processes_proposing_at_the_same_moment_each_get_the_next_free_number(
    db: Database, definitions: Definitions, processes: Processes
) -> None:
    """Eight clerks propose at once (numbered by `case: id`, D-{year}-{seq:3}): every proposal is
    accepted, each with its own number, none refused as an existing case or a conflict."""
    office = Office(db, definitions, clock=fixed_clock)
    office.users.add("proposer_liu", ["proposer"], unit="县交通运输局")
    outcomes = processes.run(db, [[(PROPOSE, 0, "", i)] for i in range(PROCESSES)])
    assert sorted(o[0] for o in outcomes) == ["ok"] * PROCESSES, outcomes
    year = fixed_clock().astimezone(CHINA_STANDARD_TIME).year
    assert sorted(o[1] for o in outcomes) == [f"D-{year}-{n:03d}" for n in range(1, PROCESSES + 1)]
    assert_verifies(CaseService(db, definitions, clock=fixed_clock))
