"""Test support: the shipped definitions, people, and a canonical story to walk a decision along.

`Story` fires actions through the real engine and keeps the resulting case; `MAIN_PATH` is the
main path of a bus-fare decision in a Hunan county, from proposal to archiving, with realistic
dates (2025, so the official calendar knows them). Its proposal leaves `regulated_public_price`
unset, so the Price Law hearing (《价格法》第二十三条) is not required of it; the demo's bus fare sets it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import ActionRefused
from decisions.loading import load_definitions
from decisions.model import Action, Actor, Case, Document
from decisions.workflow.engine import Engine

ROOT = Path(__file__).resolve().parent.parent


def shipped_definitions() -> Definitions:
    d = load_deployment(ROOT / "decisions.yaml")
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


PEOPLE: dict[str, Actor] = {
    "proposer_liu": Actor("proposer_liu", frozenset({"proposer"}), "县交通运输局"),
    "clerk_li": Actor("clerk_li", frozenset({"organiser", "proposer"}), "县交通运输局"),
    "clerk_he": Actor("clerk_he", frozenset({"organiser"}), "县交通运输局"),
    "head_wang": Actor("head_wang", frozenset({"head"}), "县人民政府"),
    "counsel_zhao": Actor("counsel_zhao", frozenset({"legal_counsel"}), "县司法局"),
    "counsel_wu": Actor("counsel_wu", frozenset({"legal_counsel", "organiser"}), "县司法局"),
    "lawyer_zheng": Actor("lawyer_zheng", frozenset({"legal_adviser"}), "县政府法律顾问（律师事务所）"),
    "counsel_lin": Actor("counsel_lin", frozenset({"legal_counsel", "legal_adviser"}), "县司法局"),
    "counsel_gao": Actor("counsel_gao", frozenset({"legal_counsel"}), "县交通运输局法制股"),
    "office_chen": Actor("office_chen", frozenset({"office_clerk"}), "县政府办"),
    "exec_sun": Actor("exec_sun", frozenset({"executor"}), "县公交公司"),
    "eval_zhou": Actor("eval_zhou", frozenset({"evaluator"}), "第三方评估机构"),
    "auditor_qian": Actor("auditor_qian", frozenset({"auditor"}), "县审计局"),
}


def doc(kind: str, tag: str = "") -> Document:
    """A document of ``kind`` whose bytes are a deterministic text."""
    body = f"{kind}:{tag}".encode()
    return Document(kind=kind, sha256=hashlib.sha256(body).hexdigest(), name=f"{kind}{tag}.pdf")


@dataclass(frozen=True)
class Step:
    trigger: str
    actor: str
    on: date
    fields: dict[str, Any] = field(default_factory=dict)
    docs: tuple[str, ...] = ()


VIEWS_APPROVE = [
    {"member": "deputy_a", "position": "approve"},
    {"member": "deputy_b", "position": "approve"},
    {"member": "deputy_c", "position": "reject"},
    {"member": "head_wang", "position": "approve", "head": True},
]
MEETING = {
    "meeting_type": "executive",
    "attendees": ["deputy_a", "deputy_b", "deputy_c", "head_wang"],
    "views": VIEWS_APPROVE,
}

MAIN_PATH: tuple[Step, ...] = (
    Step(
        "propose",
        "clerk_li",
        date(2025, 3, 3),
        {
            "title": "城区公交票价调整",
            "category": "public_policy",
            "source": "department",
            "problem": "票价多年未调整，运营亏损",
            "reasons_and_basis": "《价格法》及省定价目录",
            "preliminary_plan": "基础票价由1元调至2元",
            "necessity": "保障公交持续运营",
            "feasibility": "财政补贴与票价联动",
        },
        ("proposal",),
    ),
    Step(
        "launch",
        "head_wang",
        date(2025, 3, 5),
        {"organiser_unit": "县交通运输局", "catalogue_item": "2025-03"},
        ("launch_decision",),
    ),
    Step(
        "submit_draft",
        "clerk_li",
        date(2025, 3, 10),
        {},
        ("draft", "drafting_explanation", "legal_basis_inventory"),
    ),
    Step(
        "open_consultation",
        "clerk_li",
        date(2025, 3, 12),
        {"comment_deadline": date(2025, 4, 14), "channels": ["website", "wechat"]},
        ("consultation_notice",),
    ),
    Step(
        "close_consultation",
        "clerk_li",
        date(2025, 4, 15),
        {},
        ("opinion_summary", "adoption_statement"),
    ),
    Step(
        "submit_legality_review",
        "clerk_li",
        date(2025, 4, 16),
        {"review_due": date(2025, 4, 30)},
        ("legal_basis", "procedure_statement"),
    ),
    Step("accept_review", "counsel_zhao", date(2025, 4, 17)),
    Step("give_legal_opinion", "lawyer_zheng", date(2025, 4, 22), {}, ("legal_counsel_opinion",)),
    Step(
        "find_lawful",
        "counsel_zhao",
        date(2025, 4, 25),
        {"authority": "compliant", "procedure": "compliant", "content": "compliant"},
        ("review_opinion",),
    ),
    Step(
        "report_to_party_committee",
        "office_chen",
        date(2025, 4, 28),
        {"party_report_kind": "report"},
        ("party_report",),
    ),
    Step("submit_for_discussion", "clerk_li", date(2025, 4, 29), {}, ("discussion_package",)),
    Step("approve", "office_chen", date(2025, 5, 6), MEETING, ("minutes",)),
    Step(
        "publish",
        "office_chen",
        date(2025, 5, 8),
        {"publication_channels": ["gazette", "website"]},
        ("publication",),
    ),
    Step("assign_execution", "head_wang", date(2025, 5, 9), {"executor_unit": "县公交公司"}),
    Step(
        "report_execution",
        "exec_sun",
        date(2025, 6, 30),
        {"summary": "新票价平稳实施"},
        ("execution_report",),
    ),
    Step(
        "complete_execution",
        "exec_sun",
        date(2025, 12, 1),
        {"summary": "执行完毕"},
        ("execution_report",),
    ),
    Step("archive", "office_chen", date(2025, 12, 10), {}, ("archive_index",)),
)


PUBLISHED_ITEMS = ("2025-01", "2025-02", "2025-03")
"""The items of the published 2025 catalogue the stories run under (the demo's; MAIN_PATH launches 2025-03)."""
OUTSIDE = {"catalogue.published_items": list(PUBLISHED_ITEMS)}


class Story:
    """A case walked through the engine one action at a time. The engine judges one case: the facts
    from outside it that the service layer would look up (the year's published catalogue) are
    ``known``, by default `OUTSIDE`; ``known={}`` is a deployment where none is known."""

    def __init__(
        self,
        definitions: Definitions,
        workflow: str = "major_decision",
        case_id: str = "D-2025-001",
        known: dict[str, Any] | None = None,
    ):
        self.engine = Engine(definitions, workflow)
        self.case: Case = self.engine.new_case(case_id)
        self.known = OUTSIDE if known is None else known

    def action(self, step: Step) -> Action:
        docs = tuple(doc(k, f"{self.case.id}-{len(self.case.records)}") for k in step.docs)
        return Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs, known=self.known)

    def do(
        self,
        trigger: str,
        actor: str,
        on: date,
        fields: dict[str, Any] | None = None,
        docs: tuple[str, ...] = (),
    ) -> Story:
        self.case = self.engine.fire(self.case, self.action(Step(trigger, actor, on, fields or {}, docs))).case
        return self

    def step(self, step: Step) -> Story:
        self.case = self.engine.fire(self.case, self.action(step)).case
        return self

    def refused(
        self, trigger: str, actor: str, on: date, fields: dict[str, Any] | None = None, docs: tuple[str, ...] = ()
    ) -> ActionRefused:
        """Fire and expect a refusal; the case is unchanged."""
        before = self.case
        try:
            self.do(trigger, actor, on, fields, docs)
        except ActionRefused as exc:
            assert self.case is before
            return exc
        raise AssertionError(f"{trigger} was not refused in state {before.state}")

    def walk(
        self,
        until: str,
        steps: tuple[Step, ...] = MAIN_PATH,
        overrides: dict[str, Step] | None = None,
    ) -> Story:
        """Fire the main path up to (not including) the step with trigger ``until``."""
        for s in steps:
            if s.trigger == until:
                return self
            self.step((overrides or {}).get(s.trigger, s))
        if until != "end":
            raise AssertionError(f"no step {until!r} on the path")
        return self


def rule_ids(exc: ActionRefused) -> set[str]:
    return {u.rule_id for u in exc.unmet}


CATALOGUE_ITEM = {  # a suggested item with everything the Hunan rules ask for
    "item_id": "2025-01",
    "item_name": "城区公交票价调整",
    "organiser_unit": "县交通运输局",
    "category": "public_policy",
    "planned_by": date(2025, 6, 30),
    "basis_and_reasons": "《重大行政决策程序暂行条例》第三条",
    "problem_to_solve": "公交运营亏损",
    "proposed_measures": "按程序拟定调价方案",
}
# The annual catalogue's main path: compiled, screened, approved, published, adjusted once, closed.
CATALOGUE_PATH: tuple[Step, ...] = (
    Step(
        "open_call", "office_chen", date(2024, 11, 10), {"year": 2025, "deadline": date(2024, 12, 10)}, ("call_notice",)
    ),
    Step("suggest_item", "office_chen", date(2024, 11, 25), CATALOGUE_ITEM, ("suggestion_form",)),
    Step("close_call", "office_chen", date(2024, 12, 11)),
    Step("screen_item", "counsel_zhao", date(2024, 12, 16), {"item_id": "2025-01", "screening_result": "include"}),
    Step("compile_catalogue", "office_chen", date(2024, 12, 18), {}, ("catalogue_draft",)),
    Step("certify_screening", "counsel_zhao", date(2024, 12, 19), {}, ("screening_opinion",)),
    Step("submit_for_approval", "office_chen", date(2024, 12, 20)),
    Step("approve_at_meeting", "office_chen", date(2025, 1, 8), {"meeting_type": "executive"}, ("minutes",)),
    Step("record_party_consent", "office_chen", date(2025, 1, 15), {}, ("party_consent",)),
    Step(
        "publish_catalogue", "office_chen", date(2025, 1, 20), {"publication_channels": ["website"]}, ("publication",)
    ),
    Step(
        "request_adjustment",
        "clerk_li",
        date(2025, 6, 10),
        {"adjustment_kind": "add", "item_id": "2025-04", "item_name": "城区停车收费标准调整", "reason": "群众反映强烈"},
        ("adjustment_request",),
    ),
    Step("compile_adjustment", "office_chen", date(2025, 6, 12), {}, ("catalogue_draft",)),
    Step("certify_screening", "counsel_zhao", date(2025, 6, 13), {}, ("screening_opinion",)),
    Step("submit_adjustment", "office_chen", date(2025, 6, 16)),
    Step("approve_adjustment", "office_chen", date(2025, 6, 20), {"meeting_type": "executive"}, ("minutes",)),
    Step("record_adjustment_consent", "office_chen", date(2025, 6, 25), {}, ("party_consent",)),
    Step(
        "publish_adjustment", "office_chen", date(2025, 6, 30), {"publication_channels": ["website"]}, ("publication",)
    ),
    Step(
        "disclose_year_end", "office_chen", date(2025, 12, 20), {"completed_items": ["2025-01"]}, ("completion_report",)
    ),
    Step("close_year", "office_chen", date(2025, 12, 31)),
)


# -- counts: what the adversarial suites ran, printed in the terminal summary of every run (CI's too) ----

COUNTS: list[str] = []


def report_count(line: str) -> None:
    """Record one line saying how many cases a suite ran (tests.conftest prints them at the end)."""
    COUNTS.append(" ".join(line.split()))
