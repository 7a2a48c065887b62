"""One inbox across the shipped procedures (issue 12, item 3).

A reviewer who holds the county Justice Bureau's review post (`legal_counsel`) and an agency's
法制审核 post (`enforcement_reviewer`: 118号 §（十一） lets 法律顾问、公职律师 serve several units) opens
one inbox and finds a major decision, a normative document, a government contract and a major
enforcement decision waiting on their review, each with the due date its own workflow declares,
overdue first, then by due date. Played through the service on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from decisions.definitions import Definitions
from decisions.model import Actor
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import play, play_catalogue
from tests.support import MAIN_PATH, PEOPLE, Step
from tests.support_enforcement import MAIN_PATH as ENFORCEMENT_PATH
from tests.support_enforcement import PEOPLE as ENFORCEMENT_PEOPLE
from tests.support_government_contract import CONTRACT_PATH
from tests.support_normative_document import ND_PATH

ACTORS: dict[str, Actor] = {**PEOPLE, **ENFORCEMENT_PEOPLE}


def until_accepted(path: Sequence[Step], trigger: str) -> tuple[Step, ...]:
    """The path up to and including the first step ``trigger`` (the review accepted)."""
    return tuple(path[: [s.trigger for s in path].index(trigger) + 1])


def clock_at(day: date) -> Callable[[], datetime]:
    return lambda: datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


@pytest.fixture
def office(database_url: str, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    db = Database(database_url, documents=tmp_path / "documents")
    db.migrate()
    office = Office(db, definitions, clock=clock_at(date(2025, 5, 26)))
    play_catalogue(office.cases, "2025-03")
    play(office.cases, "D-2025-001", until_accepted(MAIN_PATH, "accept_review"))
    # the normative document's review due on the last day 115号 §（五） allows (15 working days)
    nd = [
        replace(s, fields={**s.fields, "review_due": date(2025, 5, 9)}) if "review_due" in s.fields else s
        for s in ND_PATH
    ]
    play(office.cases, "ND-2025-001", until_accepted(nd, "accept_review"), workflow="normative_document")
    play(office.cases, "HT-2025-001", until_accepted(CONTRACT_PATH, "accept_review"), workflow="government_contract")
    play(
        office.cases,
        "EN-2025-001",
        until_accepted(ENFORCEMENT_PATH, "accept_submission"),
        workflow="enforcement_decision",
        people=ACTORS,
    )
    office.users.add("赵律师", ["legal_counsel", "enforcement_reviewer"], unit="县司法局")
    yield office
    db.dispose()


def test_one_reviewer_sees_every_procedure_waiting_on_review_in_one_list(office: Office) -> None:
    """On 2025-05-26: the enforcement review accepted on 04-22 was due after 7 working days (04-30, the
    county's proposed period; 04-27 is a working Sunday), the decision's review on the 04-30 set at
    submission, the normative document's on 05-09; the contract submitted on 05-19 is due after 5
    working days, today, so not yet late. One list, overdue first, then by due date, each task
    naming its workflow and carrying its own workflow's deadline."""
    box = office.inbox("赵律师")
    order = list(dict.fromkeys((t.workflow, t.case_id) for t in box.tasks))
    assert order == [
        ("enforcement_decision", "EN-2025-001"),
        ("major_decision", "D-2025-001"),
        ("normative_document", "ND-2025-001"),
        ("government_contract", "HT-2025-001"),
    ]
    due = {t.case_id: [(d.label.zh, d.due, d.overdue) for d in t.deadlines] for t in box.tasks}
    assert due == {
        "EN-2025-001": [  # and, for a penalty, the 90 days from 立案 (行政处罚法 Art. 60)
            ("法制审核期限", date(2025, 4, 30), True),
            ("自立案之日起九十日内作出行政处罚决定", date(2025, 6, 9), False),
        ],
        "D-2025-001": [("合法性审查期限", date(2025, 4, 30), True)],
        "ND-2025-001": [("合法性审核期限", date(2025, 5, 9), True)],
        "HT-2025-001": [("合同合法性审查期限", date(2025, 5, 26), False)],
    }
    assert box.overdue == 3
    labels = {t.workflow: t.workflow_label.zh for t in box.tasks}
    assert (
        labels["enforcement_decision"] == "重大执法决定法制审核"
        and labels["government_contract"] == "政府合同合法性审查"
    )


def test_a_reviewer_of_the_justice_bureau_alone_does_not_get_the_agency_s_enforcement_review(office: Office) -> None:
    """The 法制审核 post is the agency's: without it the same inbox holds the other three."""
    office.users.add("钱律师", ["legal_counsel"], unit="县司法局")
    assert sorted({t.workflow for t in office.inbox("钱律师").tasks}) == [
        "government_contract",
        "major_decision",
        "normative_document",
    ]
