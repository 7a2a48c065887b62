"""Test support for the normative-document workflow: the main path of one document.

`ND_PATH` makes 《攸县城区出租汽车经营服务管理办法》 in 2025, with the people of `tests.support.PEOPLE`
(so that the role matrix and the renaming suite walk it like the other workflows): drafted by the
县交通运输局 (clerk_li), assessed, put out for 31 days of comment (it regulates taxi operators'
business, so it is tied to market entities and concerns operators' economic activity:
fair-competition review), the unit's own legality opinion (clerk_he, another clerk of the unit), submission
with the 115号 §（五） materials, the office's completeness check, the 司法局's review (counsel_zhao,
with the government legal adviser's opinion) finding all seven points lawful,
deliberation at the executive meeting, registration as YXDR-2025-00003, publication, filing within
the Hunan 15 days, and the year-end clean-up confirming it in force.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from decisions.definitions import Definitions
from tests.support import Step, Story

WORKFLOW = "normative_document"
CASE_ID = "ND-2025-001"

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
    "title": "攸县城区出租汽车经营服务管理办法",
    "drafting_unit": "县交通运输局",
    "issuer": "county_government",
    "major_impact": True,
    "market_entities": True,
    "business_activity": True,
}

ND_PATH: tuple[Step, ...] = (
    Step("start_drafting", "clerk_li", date(2025, 3, 3), START),
    Step("submit_draft", "clerk_li", date(2025, 3, 5), {}, ("draft", "drafting_explanation")),
    Step(
        "record_assessment",
        "clerk_li",
        date(2025, 3, 7),
        {"assessment_summary": "对出租汽车经营权管理、运价和服务规范的必要性、可行性和社会影响进行评估"},
        ("assessment_report",),
    ),
    Step(
        "open_comment",
        "clerk_li",
        date(2025, 3, 10),
        {"comment_deadline": date(2025, 4, 10), "channels": ["攸县人民政府门户网站", "攸县发布"]},
        ("comment_notice",),
    ),
    Step("close_comment", "clerk_li", date(2025, 4, 11), {}, ("comment_summary",)),
    Step(
        "record_fair_competition_review",
        "clerk_li",
        date(2025, 4, 14),
        {"fair_competition_conclusion": "compliant", "operators_heard": True},
        ("fair_competition_record",),
    ),
    Step(
        "give_unit_legality_opinion",
        "clerk_he",
        date(2025, 4, 15),
        {"own_opinion_conclusion": "lawful"},
        ("unit_legality_opinion",),
    ),
    Step("submit_for_review", "clerk_li", date(2025, 4, 16), {"review_due": date(2025, 4, 30)}, ("legal_basis",)),
    Step("forward_for_review", "office_chen", date(2025, 4, 17)),
    Step("accept_review", "counsel_zhao", date(2025, 4, 17)),
    Step("give_legal_opinion", "lawyer_zheng", date(2025, 4, 22), {}, ("legal_adviser_opinion",)),
    Step("find_lawful", "counsel_zhao", date(2025, 4, 25), SEVEN_LAWFUL, ("review_opinion",)),
    Step("submit_for_deliberation", "clerk_li", date(2025, 4, 28), {}, ("deliberation_package",)),
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
    """A normative document walked through the engine (no facts from outside the case)."""

    def __init__(self, definitions: Definitions, case_id: str = CASE_ID):
        super().__init__(definitions, WORKFLOW, case_id, known={})

    def walk_nd(self, until: str, overrides: dict[str, Step] | None = None, skip: tuple[str, ...] = ()) -> NDStory:
        """Fire `ND_PATH` up to (not including) the first step with trigger ``until`` ("end": all),
        with the steps of ``overrides`` replaced and those of ``skip`` left out."""
        self.walk(until, tuple(s for s in ND_PATH if s.trigger not in skip), overrides)
        return self
