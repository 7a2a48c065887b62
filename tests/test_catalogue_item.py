"""A launched decision names an item of that year's published catalogue, or gives its off-catalogue
reason (hunan.on_catalogue_or_reason). The engine judges one case; the service looks the catalogue
up (the catalogue case of the launch year, in its latest version published by the day of the launch)
and hands its items to the rules as ``catalogue.published_items``. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from decisions.definitions import Definitions
from decisions.errors import ActionRefused
from decisions.model import Action
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from tests.stores import fixed_clock
from tests.support import CATALOGUE_PATH, MAIN_PATH, PEOPLE, F, Step, V

RULE = "hunan.on_catalogue_or_reason"
PROPOSE, LAUNCH = MAIN_PATH[0], MAIN_PATH[1]
D = date


@pytest.fixture
def office(db: Database, definitions: Definitions) -> CaseService:
    """A service that looks the catalogue up for real (its default)."""
    return CaseService(db, definitions, clock=fixed_clock)


def fire(service: CaseService, case_id: str, step: Step, workflow: str = "major_decision") -> None:
    docs = tuple(service.attach(k, f"{case_id} {k} {step.on}".encode(), f"{k}.pdf") for k in step.docs)
    action = Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs)
    if service.repository.head(case_id) is None:
        service.start(workflow, case_id, action)
    else:
        service.act(case_id, action)


def catalogue(service: CaseService, until: str | None = None) -> None:
    """The 2025 catalogue (tests.support.CATALOGUE_PATH): 2025-01 published on 2025-01-20, 2025-04
    added by an adjustment published on 2025-06-30. Played up to (not including) ``until``."""
    for step in CATALOGUE_PATH:
        if step.trigger == until:
            return
        fire(service, "CAT-2025", step, "catalogue")


def launch(service: CaseService, case_id: str, on: date | None = None, **fields: Any) -> None:
    fire(service, case_id, replace(PROPOSE, on=on or PROPOSE.on))
    kept = {k: v for k, v in LAUNCH.fields.items() if k != V("catalogue_item")}
    fire(service, case_id, replace(LAUNCH, on=on or LAUNCH.on, fields={**kept, **F(**fields)}))


def refusal(service: CaseService, case_id: str, on: date | None = None, **fields: Any) -> str:
    with pytest.raises(ActionRefused) as caught:
        launch(service, case_id, on, **fields)
    (unmet,) = [u for u in caught.value.unmet if u.rule_id == RULE]
    assert service.view(case_id).case.state == V("proposed")  # refused: nothing recorded
    assert "条号待核" in unmet.citation
    return f"{unmet.message_zh} {unmet.message_en}"


def test_a_launch_naming_an_item_of_the_published_catalogue_passes(office: CaseService) -> None:
    catalogue(office)
    launch(office, "D-1", catalogue_item="2025-01")
    assert office.view("D-1").case.state == V("drafting")
    report = AuditService(office).replay("D-1")  # the replay looks the catalogue up again and agrees
    assert report.ok, [s.flags for s in report.steps]


def test_a_launch_naming_an_item_not_in_the_catalogue_is_refused(office: CaseService) -> None:
    catalogue(office)
    message = refusal(office, "D-1", catalogue_item="2025-09")
    assert "本年度已公布目录" in message and "published catalogue" in message


def test_an_off_catalogue_launch_with_its_reason_passes(office: CaseService) -> None:
    catalogue(office)
    launch(office, "D-1", off_catalogue_reason="年中群众集中反映，已申请目录调整")
    assert office.view("D-1").case.state == V("drafting")


def test_an_item_counts_only_once_its_version_is_published(office: CaseService) -> None:
    """2025-04 is requested on 06-10 and published on 06-30: a launch on 06-20 naming it is refused
    (the published version does not have it yet), one on 07-01 passes."""
    catalogue(office)
    refusal(office, "D-1", D(2025, 6, 20), catalogue_item="2025-04")
    launch(office, "D-2", D(2025, 7, 1), catalogue_item="2025-04")
    assert office.view("D-2").case.state == V("drafting")


def test_a_compiled_but_unpublished_catalogue_is_not_a_catalogue(office: CaseService) -> None:
    catalogue(office, until=V("publish_catalogue"))
    message = refusal(office, "D-1", catalogue_item="2025-01")
    assert "无法判断" in message and "cannot be evaluated" in message


def test_without_a_catalogue_for_the_year_the_rule_cannot_be_judged(office: CaseService) -> None:
    """No 2025 catalogue on record: naming an item cannot be checked, and is refused saying so (never
    taken as on the catalogue); an off-catalogue reason still passes."""
    message = refusal(office, "D-1", catalogue_item="2025-01")
    assert "未找到本年度已公布" in message and "no catalogue of major decisions published" in message
    launch(office, "D-2", off_catalogue_reason="本年度目录尚未编制")
    assert office.view("D-2").case.state == V("drafting")


def test_another_year_s_catalogue_does_not_count(office: CaseService) -> None:
    catalogue(office)
    message = refusal(office, "D-1", D(2026, 1, 5), catalogue_item="2025-01")
    assert "cannot be evaluated" in message
