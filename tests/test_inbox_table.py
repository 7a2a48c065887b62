"""The inbox as a table (issue 15, item 5).

Every action writes its case's tasks (who may act, by role; the due dates each role sees) in its own
transaction, and `Office.inbox` reads them with one indexed query. What a person finds must be what
they found when the inbox was computed from every case (the reference below, the algorithm the table
replaces): on every day, for every person, at every step of four procedures; overdue is judged on
the day the inbox is read, from the stored due dates; `audit verify` proves the table equals what the
histories imply; a database that never had the table (migrated to it) or whose deployment changed is
rebuilt from its histories on first use. SQLite, PostgreSQL and the in-memory store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from decisions.definitions import Definitions
from decisions.model import Actor
from decisions.service.audit import AuditService
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.memory import memory_store
from decisions.tasks import untitled
from tests.stores import BACKENDS, new_database_url, play, play_catalogue
from tests.support import MAIN_PATH, PEOPLE, V
from tests.support_enforcement import MAIN_PATH as ENFORCEMENT_PATH
from tests.support_enforcement import PEOPLE as ENFORCEMENT_PEOPLE
from tests.support_government_contract import CONTRACT_PATH
from tests.support_normative_document import ND_PATH

ACTORS: dict[str, Actor] = {**PEOPLE, **ENFORCEMENT_PEOPLE}


LATER = date(2026, 1, 5)  # a day after every step played: none is refused as in the future


class Clock:
    """The office's clock, moved by the test."""

    def __init__(self, day: date) -> None:
        self.day = day

    def __call__(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", *BACKENDS])
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    clock = Clock(LATER)
    if request.param == "memory":
        yield Office(memory_store(), definitions, clock=clock)
        return
    for url in new_database_url(request.param, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        try:
            yield Office(db, definitions, clock=clock)
        finally:
            db.dispose()


def people(office: Office) -> None:
    for a in ACTORS.values():
        office.users.add(a.id, sorted(a.roles), unit=a.unit or "")


def reference_inbox(office: Office, name: str) -> list[tuple[Any, ...]]:
    """The inbox as it was computed before the table: every case read, the states where the person's
    roles can act, each option not barred by role, the case's deadlines for their roles."""
    who = office.users.actor(name)
    today = office.cases.today()
    tasks = []
    for head in office.cases.repository.cases():
        wf = office.definitions.workflows[head.workflow]
        if wf.states[head.state].final or not any(set(t.roles) & who.roles for t in wf.transitions_from(head.state)):
            continue
        view = office.cases.view(head.id)
        engine = office.cases.engine(view.definitions, head.workflow)
        due = tuple(office.deadlines(view.case, who.roles))
        title = head.title or untitled(engine.workflow, view.case)
        overdue = any(d.overdue for d in due)
        next_due = min((d.due for d in due), default=None)
        for option in engine.options(view.case, who, today):
            if not any(u.kind == "role" for u in option.blocked):
                key = (not overdue, next_due or date.max, wf.name, head.id)
                tasks.append((key, head.id, title, option, due, wf.name))
    tasks.sort(key=lambda t: t[0])
    return [t[1:] for t in tasks]


def table_inbox(office: Office, name: str) -> list[tuple[Any, ...]]:
    return [(t.case_id, t.title, t.option, t.deadlines, t.workflow) for t in office.inbox(name).tasks]


def assert_same_inboxes(office: Office) -> None:
    for name in ACTORS:
        assert table_inbox(office, name) == reference_inbox(office, name), name


def test_every_person_s_inbox_is_the_one_every_case_implies_at_every_step_and_on_every_day(office: Office) -> None:
    """Four procedures played step by step; after every step, and on days before, at and after their
    due dates, each of the fifteen people finds what reading every case would give them."""
    people(office)
    play_catalogue(office.cases, "2025-03")
    paths = [
        ("D-2025-001", MAIN_PATH, V("major_decision")),
        ("ND-2025-001", ND_PATH, V("normative_document")),
        ("HT-2025-001", CONTRACT_PATH, V("government_contract")),
        ("EN-2025-001", ENFORCEMENT_PATH, V("enforcement_decision")),
    ]
    clock = office.clock
    assert isinstance(clock, Clock)
    for case_id, path, workflow in paths:
        for i in range(len(path)):
            clock.day = LATER
            play(office.cases, case_id, path[i : i + 1], start=i == 0, workflow=workflow, people=ACTORS)
            if i % 3 == 0 or i == len(path) - 1:
                clock.day = path[i].on
                assert_same_inboxes(office)
    for day in (date(2025, 4, 30), date(2025, 5, 26), date(2026, 1, 5)):
        clock.day = day
        assert_same_inboxes(office)


def test_overdue_is_judged_on_the_day_the_inbox_is_read_with_nothing_written(office: Office) -> None:
    """The legality review due on 04-30 (set at submission): not overdue on that day, overdue the
    next, with no action in between; the working days left count down as the calendar does."""
    people(office)
    play_catalogue(office.cases, "2025-03")
    accepted = [s.trigger for s in MAIN_PATH].index(V("accept_review"))
    play(office.cases, "D-2025-001", MAIN_PATH[: accepted + 1])
    clock = office.clock
    assert isinstance(clock, Clock)
    reviewer = next(a.id for a in ACTORS.values() if V("legal_counsel") in a.roles)

    def review_deadline() -> tuple[bool, int | None]:
        box = office.inbox(reviewer)
        (d,) = {d for t in box.tasks if t.case_id == "D-2025-001" for d in t.deadlines}
        return d.overdue, d.remaining_working_days

    clock.day = date(2025, 4, 28)
    assert review_deadline() == (False, 2)
    clock.day = date(2025, 4, 30)
    assert review_deadline() == (False, 0)
    clock.day = date(2025, 5, 1)
    assert review_deadline() == (True, None)
    assert office.inbox(reviewer).overdue == 1


def test_the_inbox_is_most_urgent_first_and_keeps_at_most_limit_cases_of_each_workflow(office: Office) -> None:
    """Five decisions waiting on review, submitted a day apart: with ``limit`` 2 the reviewer gets
    the two due first, not the two oldest ids; the contract of another workflow keeps its own place."""
    people(office)
    play_catalogue(office.cases, "2025-03")
    accepted = [s.trigger for s in MAIN_PATH].index(V("accept_review"))
    for n in range(5):
        due = date(2025, 5, 20) - timedelta(days=n)
        steps = [
            replace(s, fields={**s.fields, V("review_due"): due}) if V("review_due") in s.fields else s
            for s in MAIN_PATH
        ]
        play(office.cases, f"D-2025-00{n + 1}", steps[: accepted + 1])
    contract_accepted = [s.trigger for s in CONTRACT_PATH].index(V("accept_review"))
    play(office.cases, "HT-2025-001", CONTRACT_PATH[: contract_accepted + 1], workflow=V("government_contract"))
    office.clock.day = date(2025, 5, 1)  # type: ignore[attr-defined]
    reviewer = next(a.id for a in ACTORS.values() if V("legal_counsel") in a.roles)
    box = office.inbox(reviewer, limit=2)
    cases = list(dict.fromkeys(t.case_id for t in box.tasks))
    assert sorted(c for c in cases if c.startswith("D-")) == ["D-2025-004", "D-2025-005"]
    assert "HT-2025-001" in cases
    assert [t.next_due for t in box.tasks] == sorted(t.next_due or date.max for t in box.tasks)


def _tamper(office: Office, sql: str) -> None:
    db = office.cases.db
    assert db is not None
    with db.write() as conn:
        conn.execute(text(sql))


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_proves_the_table_equals_the_histories_and_names_a_case_whose_rows_were_changed(
    backend: str, tmp_path: Path, definitions: Definitions
) -> None:
    for url in new_database_url(backend, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        office = Office(db, definitions, clock=Clock(LATER))
        people(office)
        play_catalogue(office.cases, "2025-03")
        accepted = [s.trigger for s in MAIN_PATH].index(V("accept_review"))
        play(office.cases, "D-2025-001", MAIN_PATH[: accepted + 1])
        play(office.cases, "D-2025-002", MAIN_PATH[:3])
        audit = AuditService(office.cases)
        assert audit.verify().ok
        _tamper(office, "UPDATE tasks SET next_due = '2099-01-01' WHERE case_id = 'D-2025-001'")
        _tamper(office, "DELETE FROM tasks WHERE case_id = 'D-2025-002'")
        _tamper(office, "INSERT INTO tasks SELECT 'D-9', role, acts, workflow, state, title, version, next_due, "
                "overdue_from, due, derived FROM tasks WHERE case_id = 'CAT-2025'")  # fmt: skip
        found = {(f.case_id, f.kind) for f in audit.verify().findings}
        assert found == {("D-2025-001", "tasks"), ("D-2025-002", "tasks"), ("D-9", "tasks")}
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_without_the_table_s_rows_gets_them_from_its_histories_on_first_use(
    backend: str, tmp_path: Path, definitions: Definitions
) -> None:
    """What a database migrated to revision 0005 has: the cases, an empty table, no note of what
    derived it. The first inbox derives every case's rows, and finds what it would have found."""
    for url in new_database_url(backend, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        office = Office(db, definitions, clock=Clock(LATER))
        people(office)
        play_catalogue(office.cases, "2025-03")
        play(office.cases, "D-2025-001", MAIN_PATH[:8])
        play(office.cases, "HT-2025-001", CONTRACT_PATH[:4], workflow=V("government_contract"))
        before = {name: table_inbox(office, name) for name in ACTORS}
        _tamper(office, "DELETE FROM tasks")
        _tamper(office, "DELETE FROM meta WHERE key = 'tasks'")
        fresh = Office(db, definitions, clock=Clock(LATER))
        assert {name: table_inbox(fresh, name) for name in ACTORS} == before
        assert AuditService(fresh.cases).verify().ok
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_office_under_changed_definitions_rebuilds_the_table_before_its_first_inbox(
    backend: str, tmp_path: Path, definitions: Definitions
) -> None:
    """The deployment's workflow renames a deadline: the rows written under the old definitions are
    derived again, so the reviewer reads the new label, and verify judges the table by the new ones."""
    from tests.test_deadline_spec import copied_tree, tree_definitions

    changed = tree_definitions(
        copied_tree(
            tmp_path / "tree",
            {
                "major_decision.yaml": [
                    (
                        "label: {zh: 合法性审查期限, en: legality review due}",
                        "label: {zh: 合法性审查的期限, en: legality review due}",
                    )
                ]
            },
        )
    )
    assert changed.fingerprint != definitions.fingerprint
    for url in new_database_url(backend, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        office = Office(db, definitions, clock=Clock(LATER))
        people(office)
        play_catalogue(office.cases, "2025-03")
        accepted = [s.trigger for s in MAIN_PATH].index(V("accept_review"))
        play(office.cases, "D-2025-001", MAIN_PATH[: accepted + 1])
        reviewer = next(a.id for a in ACTORS.values() if V("legal_counsel") in a.roles)

        def labels(o: Office, reviewer: str = reviewer) -> set[str]:
            return {d.label.zh for t in o.inbox(reviewer).tasks if t.case_id == "D-2025-001" for d in t.deadlines}

        assert labels(office) == {"合法性审查期限"}
        later = Office(db, changed, clock=Clock(LATER))
        assert labels(later) == {"合法性审查的期限"}
        assert AuditService(later.cases).verify().ok
        db.dispose()
