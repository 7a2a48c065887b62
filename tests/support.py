"""Test support: the shipped definitions, people, and a canonical story to walk a decision along.

`Story` fires actions through the real engine and keeps the resulting case; `MAIN_PATH` is the
main path of a bus-fare decision in a Hunan county, from proposal to archiving, with realistic
dates (2025, so the official calendar knows them). Its proposal leaves `regulated_public_price`
unset, so the Price Law hearing (《价格法》第二十三条) is not required of it; the demo's bus fare sets it.

The vocabulary: every state, trigger, record kind, field, enum value, document kind and role the
stories name goes through `V` (``V("decided")``). By default `V` is the identity and the shipped
definitions are loaded; with ``DECISIONS_TEST_VOCABULARY=renamed`` the definitions are a copy of
the deployment with every such name renamed (tests/renaming.py) and `V` maps each shipped name to
its new one, so a test that passes both ways depends on no name of a shipped workflow.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
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
VOCABULARY = os.environ.get("DECISIONS_TEST_VOCABULARY", "shipped")
"""``shipped`` (the default) or ``renamed``: the vocabulary the tests run under."""
if VOCABULARY not in ("shipped", "renamed"):
    raise RuntimeError(f"DECISIONS_TEST_VOCABULARY is 'shipped' or 'renamed', not {VOCABULARY!r}")


def _load(deployment: Path) -> Definitions:
    d = load_deployment(deployment)
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


def _renamed_deployment() -> tuple[Path, dict[str, str]]:
    """The renamed copy of the deployment (a temporary tree, removed at exit) and old → new."""
    from tests.renaming import renamed_tree

    tree = Path(tempfile.mkdtemp(prefix="decisions-renamed-"))
    atexit.register(shutil.rmtree, tree, True)
    return tree / "decisions.yaml", renamed_tree(_load(ROOT / "decisions.yaml"), tree)


DEPLOYMENT, RENAMED = _renamed_deployment() if VOCABULARY == "renamed" else (ROOT / "decisions.yaml", {})
"""The deployment file the tests load, and the renaming in force (empty: the shipped names)."""
TREE = DEPLOYMENT.parent
"""The definitions' tree under test (the repository, or the renamed copy): workflows/, rules/."""


_NEW = frozenset(RENAMED.values())


def load_deployment_definitions(deployment: Path) -> Definitions:
    """The definitions of the deployment file ``deployment`` (whatever the vocabulary in force)."""
    return _load(deployment)


def V(name: str) -> str:
    """The name the definitions under test give to the shipped workflows' ``name``."""
    if VOCABULARY == "shipped":
        return name
    try:
        return RENAMED[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is no state, trigger, record, field, value, document or role of a shipped workflow"
        ) from None


def F(**fields: Any) -> dict[str, Any]:
    """Action fields by their shipped names (``F(title="…", category=V("plan"))``); values are given
    as they are: an enum value goes through `V` itself, free text does not. A name already given
    through `V` (``F(**{V(flag): True})``) is kept."""
    return {k if k in _NEW else V(k): v for k, v in fields.items()}


def shipped_definitions() -> Definitions:
    """The definitions under test: the shipped ones, or their renamed copy (`VOCABULARY`)."""
    return _load(DEPLOYMENT)


PEOPLE: dict[str, Actor] = {
    "proposer_liu": Actor("proposer_liu", frozenset({V("proposer")}), "县交通运输局"),
    "clerk_li": Actor("clerk_li", frozenset({V("organiser"), V("proposer")}), "县交通运输局"),
    "clerk_he": Actor("clerk_he", frozenset({V("organiser")}), "县交通运输局"),
    "head_wang": Actor("head_wang", frozenset({V("head")}), "县人民政府"),
    "counsel_zhao": Actor("counsel_zhao", frozenset({V("legal_counsel")}), "县司法局"),
    "counsel_wu": Actor("counsel_wu", frozenset({V("legal_counsel"), V("organiser")}), "县司法局"),
    # the Justice Bureau's organiser clerk, for a decision the bureau organises itself
    "clerk_sf": Actor("clerk_sf", frozenset({V("organiser")}), "县司法局"),
    "lawyer_zheng": Actor("lawyer_zheng", frozenset({V("legal_adviser")}), "县政府法律顾问（律师事务所）"),
    "counsel_lin": Actor("counsel_lin", frozenset({V("legal_counsel"), V("legal_adviser")}), "县司法局"),
    "counsel_gao": Actor("counsel_gao", frozenset({V("legal_counsel")}), "县交通运输局法制股"),
    "office_chen": Actor("office_chen", frozenset({V("office_clerk")}), "县政府办"),
    "exec_sun": Actor("exec_sun", frozenset({V("executor")}), "县公交公司"),
    "eval_zhou": Actor("eval_zhou", frozenset({V("evaluator")}), "第三方评估机构"),
    "auditor_qian": Actor("auditor_qian", frozenset({V("auditor")}), "县审计局"),
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
    {"member": "deputy_a", "position": V("approve")},
    {"member": "deputy_b", "position": V("approve")},
    {"member": "deputy_c", "position": V("reject")},
    {"member": "head_wang", "position": V("approve"), "head": True},
]
MEETING = {
    V("meeting_type"): V("executive"),
    V("attendees"): ["deputy_a", "deputy_b", "deputy_c", "head_wang"],
    V("views"): VIEWS_APPROVE,
}

MAIN_PATH: tuple[Step, ...] = (
    Step(
        V("propose"),
        "clerk_li",
        date(2025, 3, 3),
        {
            V("title"): "城区公交票价调整",
            V("category"): V("public_policy"),
            V("source"): V("department"),
            V("problem"): "票价多年未调整，运营亏损",
            V("reasons_and_basis"): "《价格法》及省定价目录",
            V("preliminary_plan"): "基础票价由1元调至2元",
            V("necessity"): "保障公交持续运营",
            V("feasibility"): "财政补贴与票价联动",
        },
        (V("proposal"),),
    ),
    Step(
        V("launch"),
        "head_wang",
        date(2025, 3, 5),
        {V("organiser_unit"): "县交通运输局", V("catalogue_item"): "2025-03"},
        (V("launch_decision"),),
    ),
    Step(
        V("submit_draft"),
        "clerk_li",
        date(2025, 3, 10),
        {},
        (V("draft"), V("drafting_explanation"), V("legal_basis_inventory")),
    ),
    Step(
        V("open_consultation"),
        "clerk_li",
        date(2025, 3, 12),
        {V("comment_deadline"): date(2025, 4, 14), V("channels"): ["website", "wechat"]},
        (V("consultation_notice"),),
    ),
    Step(
        V("close_consultation"),
        "clerk_li",
        date(2025, 4, 15),
        {},
        (V("opinion_summary"), V("adoption_statement")),
    ),
    Step(
        V("submit_legality_review"),
        "clerk_li",
        date(2025, 4, 16),
        {V("review_due"): date(2025, 4, 30)},
        (V("legal_basis"), V("procedure_statement")),
    ),
    Step(V("accept_review"), "counsel_zhao", date(2025, 4, 17)),
    Step(V("give_legal_opinion"), "lawyer_zheng", date(2025, 4, 22), {}, (V("legal_counsel_opinion"),)),
    Step(
        V("find_lawful"),
        "counsel_zhao",
        date(2025, 4, 25),
        {V("authority"): V("compliant"), V("procedure"): V("compliant"), V("content"): V("compliant")},
        (V("review_opinion"),),
    ),
    Step(
        V("report_to_party_committee"),
        "office_chen",
        date(2025, 4, 28),
        {V("party_report_kind"): V("report")},
        (V("party_report"),),
    ),
    Step(V("submit_for_discussion"), "clerk_li", date(2025, 4, 29), {}, (V("discussion_package"),)),
    Step(V("approve"), "office_chen", date(2025, 5, 6), MEETING, (V("minutes"),)),
    Step(
        V("publish"),
        "office_chen",
        date(2025, 5, 8),
        {V("publication_channels"): ["gazette", "website"]},
        (V("publication"),),
    ),
    Step(V("assign_execution"), "head_wang", date(2025, 5, 9), {V("executor_unit"): "县公交公司"}),
    Step(
        V("report_execution"),
        "exec_sun",
        date(2025, 6, 30),
        {V("summary"): "新票价平稳实施"},
        (V("execution_report"),),
    ),
    Step(
        V("complete_execution"),
        "exec_sun",
        date(2025, 12, 1),
        {V("summary"): "执行完毕"},
        (V("execution_report"),),
    ),
    Step(V("archive"), "office_chen", date(2025, 12, 10), {}, (V("archive_index"),)),
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
    V("item_id"): "2025-01",
    V("item_name"): "城区公交票价调整",
    V("organiser_unit"): "县交通运输局",
    V("category"): V("public_policy"),
    V("planned_by"): date(2025, 6, 30),
    V("basis_and_reasons"): "《重大行政决策程序暂行条例》第三条",
    V("problem_to_solve"): "公交运营亏损",
    V("proposed_measures"): "按程序拟定调价方案",
}
# The annual catalogue's main path: compiled, screened, approved, published, adjusted once, closed.
CATALOGUE_PATH: tuple[Step, ...] = (
    Step(
        V("open_call"),
        "office_chen",
        date(2024, 11, 10),
        {V("year"): 2025, V("deadline"): date(2024, 12, 10)},
        (V("call_notice"),),
    ),
    Step(V("suggest_item"), "office_chen", date(2024, 11, 25), CATALOGUE_ITEM, (V("suggestion_form"),)),
    Step(V("close_call"), "office_chen", date(2024, 12, 11)),
    Step(
        V("screen_item"),
        "counsel_zhao",
        date(2024, 12, 16),
        {V("item_id"): "2025-01", V("screening_result"): V("include")},
    ),
    Step(V("compile_catalogue"), "office_chen", date(2024, 12, 18), {}, (V("catalogue_draft"),)),
    Step(V("certify_screening"), "counsel_zhao", date(2024, 12, 19), {}, (V("screening_opinion"),)),
    Step(V("submit_for_approval"), "office_chen", date(2024, 12, 20)),
    Step(
        V("approve_at_meeting"), "office_chen", date(2025, 1, 8), {V("meeting_type"): V("executive")}, (V("minutes"),)
    ),
    Step(V("record_party_consent"), "office_chen", date(2025, 1, 15), {}, (V("party_consent"),)),
    Step(
        V("publish_catalogue"),
        "office_chen",
        date(2025, 1, 20),
        {V("publication_channels"): ["website"]},
        (V("publication"),),
    ),
    Step(
        V("request_adjustment"),
        "clerk_li",
        date(2025, 6, 10),
        {
            V("adjustment_kind"): V("add"),
            V("item_id"): "2025-04",
            V("item_name"): "城区停车收费标准调整",
            V("reason"): "群众反映强烈",
        },
        (V("adjustment_request"),),
    ),
    Step(V("compile_adjustment"), "office_chen", date(2025, 6, 12), {}, (V("catalogue_draft"),)),
    Step(V("certify_screening"), "counsel_zhao", date(2025, 6, 13), {}, (V("screening_opinion"),)),
    Step(V("submit_adjustment"), "office_chen", date(2025, 6, 16)),
    Step(
        V("approve_adjustment"), "office_chen", date(2025, 6, 20), {V("meeting_type"): V("executive")}, (V("minutes"),)
    ),
    Step(V("record_adjustment_consent"), "office_chen", date(2025, 6, 25), {}, (V("party_consent"),)),
    Step(
        V("publish_adjustment"),
        "office_chen",
        date(2025, 6, 30),
        {V("publication_channels"): ["website"]},
        (V("publication"),),
    ),
    Step(
        V("disclose_year_end"),
        "office_chen",
        date(2025, 12, 20),
        {V("completed_items"): ["2025-01"]},
        (V("completion_report"),),
    ),
    Step(V("close_year"), "office_chen", date(2025, 12, 31)),
)


# -- counts: what the adversarial suites ran, printed in the terminal summary of every run (CI's too) ----

COUNTS: list[str] = []


def report_count(line: str) -> None:
    """Record one line saying how many cases a suite ran (tests.conftest prints them at the end)."""
    COUNTS.append(" ".join(line.split()))
