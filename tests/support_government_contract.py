"""Test support for the government contract workflow: the main path of one county contract.

`CONTRACT_PATH` is the 2025 城区公交线路特许经营协议 (a 政府特许经营协议, Art. 2(1) of the Supreme
People's Court's provisions on administrative agreements) between the county and the bus company:
prepared by the transport bureau's clerk (clerk_li), reviewed by the Justice Bureau (counsel_zhao)
with the government's legal adviser (lawyer_zheng), sent back once for revision, reviewed again,
approved by the executive meeting (it is a major contract), signed by the county head, filed within
five working days and performed. The people are those of `tests.support.PEOPLE`.
"""

from __future__ import annotations

from datetime import date

from tests.support import Step

WORKFLOW = "government_contract"
CASE_ID = "HT-2025-001"

OPENING = {
    "title": "城区公交线路特许经营协议",
    "matter_kind": "contract",
    "organiser_unit": "县交通运输局",
    "contract_kind": "franchise",
    "public_purpose": "保障城区公共交通服务的持续稳定供给",
    "counterparty": "县公交公司",
    "amount": 12_000_000,
    "major_contract": True,
}
CHECKED = ["legal_status", "licences", "credit", "capacity"]
FINDINGS_OK = {"party_finding": "compliant", "content_finding": "compliant", "text_finding": "compliant"}
FINDINGS_REVISE = {**FINDINGS_OK, "content_finding": "non_compliant", "revision_points": "补贴调整机制和退出条款不明确"}
MEETING = {"meeting_type": "executive", "attendees": ["head_wang", "deputy_a", "deputy_b", "deputy_c"]}
SIGNING = {"signatory": "head_wang", "signing_party_kind": "government"}
FILING = {"filed_with": ["县司法局", "县档案馆"]}

CONTRACT_PATH: tuple[Step, ...] = (
    Step("open_matter", "clerk_li", date(2025, 5, 6), OPENING, ("opening_note",)),
    Step(
        "record_due_diligence",
        "clerk_li",
        date(2025, 5, 12),
        {"checked": CHECKED, "feasibility": "线路客流与财政补贴测算可行"},
        ("due_diligence_report",),
    ),
    Step(
        "prepare_text",
        "clerk_li",
        date(2025, 5, 16),
        {"model_text_available": True, "model_text_used": True},
        ("contract_text",),
    ),
    Step("submit_for_review", "clerk_li", date(2025, 5, 19), {}, ("qualification_proof", "approval_papers")),
    Step("accept_review", "counsel_zhao", date(2025, 5, 20)),
    Step("start_investigation", "counsel_zhao", date(2025, 5, 21), {"reason": "核实相对方营运资质和车辆状况"}),
    Step("end_investigation", "counsel_zhao", date(2025, 5, 28), {}, ("investigation_record",)),
    Step("give_legal_opinion", "lawyer_zheng", date(2025, 5, 29), {}, ("legal_adviser_opinion",)),
    Step("find_revise", "counsel_zhao", date(2025, 5, 30), FINDINGS_REVISE, ("review_opinion",)),
    Step("revise_text", "clerk_li", date(2025, 6, 5), {}, ("contract_text", "revision_explanation")),
    Step("submit_for_review", "clerk_li", date(2025, 6, 6), {}, ("qualification_proof", "approval_papers")),
    Step("accept_review", "counsel_zhao", date(2025, 6, 9)),
    Step("give_legal_opinion", "lawyer_zheng", date(2025, 6, 11), {}, ("legal_adviser_opinion",)),
    Step("find_approve", "counsel_zhao", date(2025, 6, 12), FINDINGS_OK, ("review_opinion",)),
    Step("submit_to_meeting", "clerk_li", date(2025, 6, 16), {}, ("discussion_package",)),
    Step("approve_at_meeting", "office_chen", date(2025, 6, 24), MEETING, ("minutes",)),
    # the head signs as the government's legal representative; the power of attorney is on file so
    # that an authorised signatory of the organising unit could sign the same text
    Step("sign", "head_wang", date(2025, 7, 1), SIGNING, ("signed_contract", "authorisation")),
    Step("file_contract", "clerk_li", date(2025, 7, 4), FILING, ("filing_copy",)),
    Step(
        "report_performance",
        "clerk_li",
        date(2025, 12, 15),
        {"summary": "线路运营正常，年度考核合格"},
        ("performance_report",),
    ),
)
