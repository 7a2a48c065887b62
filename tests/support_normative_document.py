"""Test support for the normative-document workflow: its people and the main path of one document.

`ND_PATH` makes 《攸县城区临时占道经营管理办法》 in 2025: drafted by 周敏's unit (县城市管理局), assessed,
put out for 31 days of comment (it regulates street vendors' business, so it is tied to market
entities and concerns operators' economic activity: fair-competition review), the unit's own legality
opinion, submission with the 115号 §（五） materials, the office's completeness check, the 司法局's
review (赵律师, with the government legal adviser's opinion) finding all seven points lawful,
deliberation at the executive meeting, registration as YXDR-2025-00003, publication, filing within
the Hunan 15 days, and the year-end clean-up confirming it in force.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from decisions.definitions import Definitions
from decisions.model import Action, Actor
from tests.support import PEOPLE, Step, Story, doc

WORKFLOW = "normative_document"
CASE_ID = "ND-2025-001"

ND_PEOPLE: dict[str, Actor] = {
    "clerk_zhou": Actor("clerk_zhou", frozenset({"organiser"}), "县城市管理局"),
    "clerk_tang": Actor("clerk_tang", frozenset({"organiser"}), "县城市管理局法规股"),
}
"""The drafting unit's clerk and its own legality reviewer (法规股), beside the shared `PEOPLE`."""
PERSON: dict[str, Actor] = {**PEOPLE, **ND_PEOPLE}

SEVEN_LAWFUL: dict[str, Any] = {
    "finding_issuer": "compliant",
    "finding_authority": "compliant",
    "finding_content": "compliant",
    "finding_no_unlawful_measures": "compliant",
    "finding_no_rights_reduced": "compliant",
    "finding_no_self_empowerment": "compliant",
    "finding_procedure": "compliant",
}
"""The seven findings of 115号 §（六）, all lawful."""

START: dict[str, Any] = {
    "title": "攸县城区临时占道经营管理办法",
    "drafting_unit": "县城市管理局",
    "issuer": "county_government",
    "major_impact": True,
    "market_entities": True,
    "business_activity": True,
}

ND_PATH: tuple[Step, ...] = (
    Step("start_drafting", "clerk_zhou", date(2025, 3, 3), START),
    Step("submit_draft", "clerk_zhou", date(2025, 3, 5), {}, ("draft", "drafting_explanation")),
    Step(
        "record_assessment",
        "clerk_zhou",
        date(2025, 3, 7),
        {"assessment_summary": "对城区主次干道临时占道经营的必要性、可行性和社会影响进行评估"},
        ("assessment_report",),
    ),
    Step(
        "open_comment",
        "clerk_zhou",
        date(2025, 3, 10),
        {"comment_deadline": date(2025, 4, 10), "channels": ["攸县人民政府门户网站", "攸县发布"]},
        ("comment_notice",),
    ),
    Step("close_comment", "clerk_zhou", date(2025, 4, 11), {}, ("comment_summary",)),
    Step(
        "record_fair_competition_review",
        "clerk_zhou",
        date(2025, 4, 14),
        {"fair_competition_conclusion": "compliant", "operators_heard": True},
        ("fair_competition_record",),
    ),
    Step(
        "give_unit_legality_opinion",
        "clerk_tang",
        date(2025, 4, 15),
        {"own_opinion_conclusion": "lawful"},
        ("unit_legality_opinion",),
    ),
    Step("submit_for_review", "clerk_zhou", date(2025, 4, 16), {"review_due": date(2025, 4, 30)}, ("legal_basis",)),
    Step("forward_for_review", "office_chen", date(2025, 4, 17)),
    Step("accept_review", "counsel_zhao", date(2025, 4, 17)),
    Step("give_legal_opinion", "lawyer_zheng", date(2025, 4, 22), {}, ("legal_adviser_opinion",)),
    Step("find_lawful", "counsel_zhao", date(2025, 4, 25), SEVEN_LAWFUL, ("review_opinion",)),
    Step("submit_for_deliberation", "clerk_zhou", date(2025, 4, 28), {}, ("deliberation_package",)),
    Step(
        "adopt",
        "office_chen",
        date(2025, 5, 8),
        {"meeting_type": "executive", "attendees": ["head_wang", "deputy_a", "deputy_b"]},
        ("minutes",),
    ),
    Step(
        "register_and_issue",
        "office_chen",
        date(2025, 5, 12),
        {"registration_number": "YXDR-2025-00003"},
        ("issued_document",),
    ),
    Step(
        "publish",
        "office_chen",
        date(2025, 5, 13),
        {"publication_channels": ["攸县人民政府门户网站"], "effective_on": date(2025, 6, 15)},
        ("publication",),
    ),
    Step(
        "file_record",
        "office_chen",
        date(2025, 5, 20),
        {"filed_with": ["株洲市人民政府", "攸县人大常委会"]},
        ("filing_report",),
    ),
    Step("confirm_in_force", "office_chen", date(2025, 12, 15), {}, ("cleanup_report",)),
)


class NDStory(Story):
    """A normative document walked through the engine; its actors are looked up in `PERSON`."""

    def __init__(self, definitions: Definitions, case_id: str = CASE_ID):
        super().__init__(definitions, WORKFLOW, case_id, known={})

    def action(self, step: Step) -> Action:
        docs = tuple(doc(k, f"{self.case.id}-{len(self.case.records)}") for k in step.docs)
        return Action(step.trigger, PERSON[step.actor], step.on, dict(step.fields), docs, known=self.known)

    def walk_nd(self, until: str, overrides: dict[str, Step] | None = None, skip: tuple[str, ...] = ()) -> NDStory:
        """Fire `ND_PATH` up to (not including) the first step with trigger ``until`` ("end": all),
        with the steps of ``overrides`` replaced and those of ``skip`` left out."""
        self.walk(until, tuple(s for s in ND_PATH if s.trigger not in skip), overrides)
        return self
