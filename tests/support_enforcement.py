"""Test support for the major enforcement decision (重大执法决定法制审核): people and a main path.

The main path is a county 市场监督管理局 penalty: an 80,000-yuan fine on a company (a legal person, so
on the catalogue at the county pack's 50,000-yuan threshold), through one 存在问题 opinion and a
resubmission with a revised draft, to an 同意 opinion, the head's decision, service, publication,
execution and archiving. Dates are 2025 working days (the May Day holiday is 1-5 May).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from decisions.definitions import Definitions
from decisions.model import Action, Actor
from tests.support import Step, Story, doc

WORKFLOW = "enforcement_decision"
CASE_ID = "EN-2025-001"
BUREAU = "县市场监督管理局"

PEOPLE: dict[str, Actor] = {
    "handler_huang": Actor("handler_huang", frozenset({"case_handler"}), f"{BUREAU}执法大队"),
    "handler_deng": Actor("handler_deng", frozenset({"case_handler"}), f"{BUREAU}执法大队"),
    "reviewer_han": Actor("reviewer_han", frozenset({"enforcement_reviewer"}), f"{BUREAU}法规股"),
    "reviewer_luo": Actor("reviewer_luo", frozenset({"enforcement_reviewer"}), f"{BUREAU}法规股"),
    # an officer who holds both posts: the guarantee keeps them off the review of a case they handled
    "officer_tang": Actor("officer_tang", frozenset({"case_handler", "enforcement_reviewer"}), BUREAU),
    "head_peng": Actor("head_peng", frozenset({"agency_head"}), BUREAU),
    "head_xu": Actor("head_xu", frozenset({"agency_head"}), BUREAU),
    "auditor_qian": Actor("auditor_qian", frozenset({"auditor"}), "县审计局"),
}

CATALOGUE_ENTRY = "行政处罚：对法人或者其他组织处5万元以上罚款"
CERTIFICATE = "A20203104301234"
CLEAN = {
    "finding_subject": "compliant",
    "finding_procedure": "compliant",
    "finding_facts": "compliant",
    "finding_law": "compliant",
    "finding_authority": "compliant",
    "finding_documents": "compliant",
    "finding_crime": "no_crime_suspected",
    "reviewer_certificate": CERTIFICATE,
}
DISCRETION_PROBLEM = {
    **CLEAN,
    "finding_law": "non_compliant",
    "problems": "罚款数额未按《市场监管行政处罚裁量基准》说明从重情节的认定依据，请补充说明或调整",
}
REGISTRATION = {
    "title": "攸县某食品有限公司生产经营超过保质期食品案",
    "party_name": "攸县某食品有限公司",
    "party_kind": "unit",
    "action_type": "penalty",
}
CONCLUSION = {"review_basis": "on_catalogue", "catalogue_item": CATALOGUE_ENTRY, "fine_amount": 80000}

MAIN_PATH: tuple[Step, ...] = (
    Step("register_case", "handler_huang", date(2025, 3, 10), REGISTRATION, ("registration_form",)),
    Step(
        "conclude_investigation",
        "handler_huang",
        date(2025, 4, 18),
        CONCLUSION,
        ("draft_decision", "investigation_report", "evidence"),
    ),
    Step(
        "submit_for_review",
        "handler_huang",
        date(2025, 4, 21),
        {},
        ("review_application", "investigation_report", "evidence"),
    ),
    Step("accept_submission", "reviewer_han", date(2025, 4, 22)),
    Step("find_problems", "reviewer_han", date(2025, 4, 28), DISCRETION_PROBLEM, ("review_opinion",)),
    Step(
        "resubmit_for_review",
        "handler_huang",
        date(2025, 5, 6),
        {},
        ("review_application", "draft_decision", "revision_explanation"),
    ),
    Step("accept_submission", "reviewer_han", date(2025, 5, 7)),
    Step("agree", "reviewer_han", date(2025, 5, 12), CLEAN, ("review_opinion",)),
    Step("submit_for_decision", "handler_huang", date(2025, 5, 13)),
    Step("decide", "head_peng", date(2025, 5, 16), {"decision_outcome": "penalty"}, ("decision_document",)),
    Step("serve", "handler_huang", date(2025, 5, 19), {}, ("service_receipt",)),
    Step(
        "publish",
        "handler_huang",
        date(2025, 5, 22),
        {"publication_channels": ["县人民政府门户网站", "国家企业信用信息公示系统"]},
        ("publication_record",),
    ),
    Step(
        "record_execution",
        "handler_huang",
        date(2025, 6, 9),
        {"summary": "当事人已于2025年6月5日缴纳罚款8万元"},
        ("execution_record",),
    ),
    Step("archive", "handler_huang", date(2025, 6, 16), {}, ("archive_index",)),
)


class EnforcementStory(Story):
    """`tests.support.Story` for the enforcement workflow, with its people."""

    def __init__(self, definitions: Definitions, case_id: str = CASE_ID, known: dict[str, Any] | None = None) -> None:
        super().__init__(definitions, WORKFLOW, case_id, known)

    def action(self, step: Step) -> Action:
        docs = tuple(doc(k, f"{self.case.id}-{len(self.case.records)}") for k in step.docs)
        return Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs, known=self.known)

    def until(self, index: int) -> EnforcementStory:
        """Walk the first ``index`` steps of the main path."""
        for s in MAIN_PATH[:index]:
            self.step(s)
        return self


def step_index(trigger: str, occurrence: int = 1) -> int:
    """The position of the ``occurrence``-th step firing ``trigger`` on the main path."""
    seen = 0
    for i, s in enumerate(MAIN_PATH):
        if s.trigger == trigger:
            seen += 1
            if seen == occurrence:
                return i
    raise AssertionError(f"no step {trigger!r} #{occurrence} on the main path")
