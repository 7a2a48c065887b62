"""政府合同合法性审查: a county contract from preparation to performance, and every refusal on the way.

Specification: no decision to sign, no executive meeting and no signature (a variation's included)
without a review of the current text that found 同意签订, by a reviewer who neither drafted nor
submitted it ("未经法制工作机构进行合法性审查的合同，不得签署", local rules); 修改后签订 sends the text back
and the revised text is reviewed again. Each rule of rules/government_contract.yaml and
rules/youxian-government_contract.yaml is shown allowing and refusing. The national pack cites the
Supreme People's Court's provisions on administrative agreements (verified) and 中办发〔2016〕30号
(unverified); every county rule is a proposal and its refusal says so.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decisions.cli import app
from decisions.definitions import Definitions
from decisions.demo import run_demo
from decisions.errors import ActionRefused, DefinitionError
from decisions.loading import load_definitions
from decisions.loading.scenarios import load_scenarios
from decisions.model import Action
from decisions.service.cases import CaseService
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import fixed_clock, play
from tests.support import MAIN_PATH, PEOPLE, ROOT, Step, Story, rule_ids
from tests.support_government_contract import (
    CASE_ID,
    CHECKED,
    CONTRACT_PATH,
    FILING,
    FINDINGS_OK,
    MEETING,
    OPENING,
    SIGNING,
    WORKFLOW,
)

D = date
GATE = "engine.gate.signature_review"
REVIEWED = "youxian_government_contract.reviewed_before_signing"
NOT_VERIFIED = "出处未核实"
SMALL = {
    **OPENING,
    "title": "县政府办公楼物业服务合同",
    "contract_kind": "civil",
    "amount": 380_000,
    "major_contract": False,
}


def story(definitions: Definitions, case_id: str = CASE_ID) -> Story:
    return Story(definitions, WORKFLOW, case_id)


def walk(definitions: Definitions, until: str, opening: dict[str, Any] | None = None) -> Story:
    """The main path up to (not including) the first step ``until``, opened with ``opening``."""
    s = story(definitions)
    for step in CONTRACT_PATH:
        if step.trigger == until:
            return s
        s.step(replace(step, fields=opening) if opening is not None and step.trigger == "open_matter" else step)
    raise AssertionError(f"no step {until!r}")


def reviewed_small(
    definitions: Definitions, case_id: str = "HT-2025-002", drafter: str = "clerk_li", reviewer: str = "counsel_zhao"
) -> Story:
    """A small civil contract (not major, under the meeting threshold), its text prepared by
    ``drafter``, reviewed once by ``reviewer`` and found 同意签订."""
    s = story(definitions, case_id)
    s.do("open_matter", "clerk_li", D(2025, 3, 3), SMALL, ("opening_note",))
    s.do(
        "record_due_diligence",
        "clerk_li",
        D(2025, 3, 4),
        {"checked": CHECKED, "feasibility": "可行"},
        ("due_diligence_report",),
    )
    s.do("prepare_text", drafter, D(2025, 3, 5), {}, ("contract_text",))
    s.do("submit_for_review", "clerk_li", D(2025, 3, 6), {}, ("qualification_proof", "approval_papers"))
    s.do("accept_review", reviewer, D(2025, 3, 7))
    s.do("find_approve", reviewer, D(2025, 3, 10), FINDINGS_OK, ("review_opinion",))
    return s


def refusal_text(exc: ActionRefused) -> str:
    return "\n".join(str(u) for u in exc.unmet)


# -- the main path ---------------------------------------------------------------------------------------


def test_the_bus_franchise_agreement_is_reviewed_twice_approved_signed_and_filed(definitions: Definitions) -> None:
    s = story(definitions)
    states = []
    for step in CONTRACT_PATH:
        s.step(step)
        states.append(s.case.state)
    assert states[8] == "revision_required"  # 修改后签订: back to the organiser, not to signing
    assert states[9] == "preparing"
    assert states[13] == "reviewed_approved"
    assert states[15:18] == ["approved", "signed", "performing"]
    reviews = [r for r in s.case.records if r.kind == "legality_review"]
    assert [r.fields["outcome"] for r in reviews] == ["revise", "approve"]
    assert reviews[-1].draft_version == s.case.draft_version == 2  # the signed text is the text reviewed
    assert {r.actor for r in reviews} == {"counsel_zhao"}
    assert s.case.attributes["matter_kind"] == "contract"  # counted apart from 一般涉法文件


def test_the_main_path_through_the_service(service: CaseService) -> None:
    play(service, CASE_ID, CONTRACT_PATH, workflow=WORKFLOW)
    view = service.view(CASE_ID)
    assert view.case.workflow == WORKFLOW
    assert view.case.state == "performing"
    assert view.version == len(CONTRACT_PATH)
    assert [r.kind for r in view.case.records].count("legality_review") == 2


def test_a_refused_signature_through_the_service_writes_nothing(service: CaseService) -> None:
    path = CONTRACT_PATH[: [s.trigger for s in CONTRACT_PATH].index("sign")]
    for i, step in enumerate(path):
        docs = tuple(service.attach(k, f"{CASE_ID} {k} #{i}".encode(), f"{k}.pdf") for k in step.docs)
        action = Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs)
        (service.start(WORKFLOW, CASE_ID, action) if i == 0 else service.act(CASE_ID, action))
    before = service.view(CASE_ID)
    signed = service.attach("signed_contract", b"signed by an internal unit", "signed.pdf")
    action = Action(
        "sign", PEOPLE["clerk_li"], D(2025, 7, 1), {**SIGNING, "signing_party_kind": "internal_unit"}, (signed,)
    )
    with pytest.raises(ActionRefused) as refused:
        service.act(CASE_ID, action)
    assert {
        "youxian_government_contract.competent_signing_party",
        "youxian_government_contract.signatory_authorised",
    } <= rule_ids(refused.value)
    assert service.view(CASE_ID) == before


# -- the gate: no decision, meeting or signature without a passing review of the current text ----------------


def test_a_text_amended_after_the_review_cannot_be_approved_or_sent_to_the_meeting(definitions: Definitions) -> None:
    s = reviewed_small(definitions)
    s.do("amend_text", "clerk_li", D(2025, 3, 11), {}, ("contract_text", "revision_explanation"))
    for trigger, actor, docs in (
        ("decide_by_head", "head_wang", ("decision_record",)),
        ("submit_to_meeting", "clerk_li", ("discussion_package",)),
    ):
        refused = s.refused(trigger, actor, D(2025, 3, 12), {}, docs)
        assert REVIEWED in rule_ids(refused)
        assert "未经法制工作机构进行合法性审查的合同，不得签署" in refusal_text(refused)
        assert NOT_VERIFIED in refusal_text(refused)
    # reviewed again, the amended text may be approved
    s.do("resubmit_for_review", "clerk_li", D(2025, 3, 12), {}, ("qualification_proof",))
    s.do("accept_review", "counsel_zhao", D(2025, 3, 13))
    s.do("find_approve", "counsel_zhao", D(2025, 3, 14), FINDINGS_OK, ("review_opinion",))
    s.do("decide_by_head", "head_wang", D(2025, 3, 17), {}, ("decision_record",))
    assert s.case.state == "approved"


def test_sign_after_revision_does_not_let_the_contract_be_decided_or_signed(definitions: Definitions) -> None:
    s = walk(definitions, "revise_text")
    assert s.case.state == "revision_required"
    for trigger, actor in (("decide_by_head", "head_wang"), ("submit_to_meeting", "clerk_li"), ("sign", "head_wang")):
        assert "engine.unavailable" in rule_ids(s.refused(trigger, actor, D(2025, 6, 2)))


def test_a_review_by_whoever_drafted_the_text_does_not_open_the_decision(definitions: Definitions) -> None:
    """counsel_wu is a reviewer who also holds the organiser's role and drafted this text."""
    s = reviewed_small(definitions, "HT-2025-003", drafter="counsel_wu", reviewer="counsel_wu")
    refused = s.refused("decide_by_head", "head_wang", D(2025, 3, 11), {}, ("decision_record",))
    assert GATE in rule_ids(refused)


def test_a_variation_is_signed_only_on_a_review_of_the_varied_text(definitions: Definitions) -> None:
    s = walk(definitions, "report_performance")
    s.do("propose_variation", "clerk_li", D(2025, 9, 1), {"reason": "增加一条线路"}, ("contract_text",))
    assert s.case.state == "preparing"
    # a variation that skipped the review (a history with the case put straight into `approved`) is
    # refused by the rule and by the engine's own guarantee
    skipped = replace(s.case, state="approved")
    action = Action(
        "sign",
        PEOPLE["head_wang"],
        D(2025, 9, 2),
        dict(SIGNING),
        s.action(Step("sign", "head_wang", D(2025, 9, 2), {}, ("signed_contract",))).documents,
    )
    unmet, _ = s.engine.check(skipped, action)
    assert REVIEWED in {u.rule_id for u in unmet}
    # the lawful way: reviewed again (the legal adviser on the varied text: it is a major contract)
    s.do("submit_for_review", "clerk_li", D(2025, 9, 2), {}, ("qualification_proof",))
    s.do("accept_review", "counsel_zhao", D(2025, 9, 3))
    refused = s.refused("find_approve", "counsel_zhao", D(2025, 9, 5), FINDINGS_OK, ("review_opinion",))
    assert rule_ids(refused) == {"government_contract.adviser_opinion_on_major_contract"}
    s.do("give_legal_opinion", "lawyer_zheng", D(2025, 9, 4), {}, ("legal_adviser_opinion",))
    s.do("find_approve", "counsel_zhao", D(2025, 9, 5), FINDINGS_OK, ("review_opinion",))
    s.do("submit_to_meeting", "clerk_li", D(2025, 9, 8), {}, ("discussion_package",))
    s.do("approve_at_meeting", "office_chen", D(2025, 9, 16), MEETING, ("minutes",))
    s.do("sign", "head_wang", D(2025, 9, 18), SIGNING, ("signed_contract",))
    s.do("file_contract", "clerk_li", D(2025, 9, 22), FILING, ("filing_copy",))
    assert s.case.state == "performing"
    assert [r.kind for r in s.case.records].count("signing") == 2


def test_every_ending_is_archived(definitions: Definitions) -> None:
    s = walk(definitions, "report_performance")
    s.do("report_dispute", "clerk_li", D(2025, 10, 9), {"summary": "相对方延迟投放车辆"}, ("dispute_report",))
    s.do("complete_performance", "clerk_li", D(2025, 12, 30), {"summary": "本期履行完毕"}, ("performance_report",))
    s.do("archive", "clerk_li", D(2025, 12, 31), {}, ("archive_index",))
    assert s.case.state == "archived"
    small = reviewed_small(definitions)
    small.do("decline_by_head", "head_wang", D(2025, 3, 11), {"reason": "预算未落实"})
    small.do("archive", "clerk_li", D(2025, 3, 12), {}, ("archive_index",))
    assert small.case.state == "archived"


# -- the national pack -----------------------------------------------------------------------------------


def test_a_contract_states_its_kind_an_other_legal_document_need_not(definitions: Definitions) -> None:
    no_kind = {k: v for k, v in OPENING.items() if k not in ("contract_kind", "public_purpose")}
    s = walk(definitions, "submit_for_review", no_kind)
    refused = s.refused("submit_for_review", "clerk_li", D(2025, 5, 19), {}, ("qualification_proof", "approval_papers"))
    assert rule_ids(refused) == {"government_contract.contract_kind_identified"}
    assert "第二条" in refusal_text(refused) and NOT_VERIFIED not in refusal_text(refused)
    document = {**no_kind, "matter_kind": "other_legal_document", "title": "关于公交站点用地的复函"}
    s = walk(definitions, "submit_for_review", document)
    s.step(CONTRACT_PATH[3])
    assert s.case.state == "submitted"


def test_an_administrative_agreement_states_its_public_aim_a_civil_contract_need_not(definitions: Definitions) -> None:
    no_aim = {k: v for k, v in OPENING.items() if k != "public_purpose"}
    s = walk(definitions, "submit_for_review", no_aim)
    refused = s.refused("submit_for_review", "clerk_li", D(2025, 5, 19), {}, ("qualification_proof", "approval_papers"))
    assert rule_ids(refused) == {"government_contract.administrative_agreement_states_its_aim"}
    assert "第一条" in refusal_text(refused)
    s = walk(definitions, "submit_for_review", {**no_aim, "contract_kind": "civil"})
    s.step(CONTRACT_PATH[3])
    assert s.case.state == "submitted"


def test_a_major_contract_needs_the_advisers_opinion_on_the_text_reviewed(definitions: Definitions) -> None:
    s = walk(definitions, "give_legal_opinion")  # the first round's opinion was on the first text
    s.step(CONTRACT_PATH[7])
    assert s.case.state == "under_review"
    second = walk(definitions, "find_approve")
    second.case = replace(
        second.case,
        records=tuple(r for r in second.case.records if not (r.kind == "legal_opinion" and r.on == D(2025, 6, 11))),
    )
    refused = second.refused("find_approve", "counsel_zhao", D(2025, 6, 12), FINDINGS_OK, ("review_opinion",))
    assert rule_ids(refused) == {"government_contract.adviser_opinion_on_major_contract"}
    assert "中办发〔2016〕30号" in refusal_text(refused) and NOT_VERIFIED in refusal_text(refused)
    small = reviewed_small(definitions)  # not major: no adviser's opinion asked
    assert small.case.state == "reviewed_approved"


# -- the county pack -------------------------------------------------------------------------------------


def test_due_diligence_covers_status_licences_credit_and_capacity(definitions: Definitions) -> None:
    s = story(definitions, "HT-2025-004")
    s.do("open_matter", "clerk_li", D(2025, 3, 3), SMALL, ("opening_note",))
    s.do(
        "record_due_diligence",
        "clerk_li",
        D(2025, 3, 4),
        {"checked": CHECKED[:3], "feasibility": "可行"},
        ("due_diligence_report",),
    )
    s.do("prepare_text", "clerk_li", D(2025, 3, 5), {}, ("contract_text",))
    refused = s.refused("submit_for_review", "clerk_li", D(2025, 3, 6), {}, ("qualification_proof", "approval_papers"))
    assert rule_ids(refused) == {"youxian_government_contract.due_diligence_before_submission"}
    assert "双政发〔2026〕1号" in refusal_text(refused) and NOT_VERIFIED in refusal_text(refused)
    s.do(
        "record_due_diligence",
        "clerk_li",
        D(2025, 3, 6),
        {"checked": CHECKED, "feasibility": "可行"},
        ("due_diligence_report",),
    )
    s.do("submit_for_review", "clerk_li", D(2025, 3, 6), {}, ("qualification_proof", "approval_papers"))
    assert s.case.state == "submitted"


def test_the_submission_carries_the_approvals(definitions: Definitions) -> None:
    s = walk(definitions, "submit_for_review")
    refused = s.refused("submit_for_review", "clerk_li", D(2025, 5, 19), {}, ("qualification_proof",))
    assert rule_ids(refused) == {"youxian_government_contract.submission_complete"}
    s.step(CONTRACT_PATH[3])
    assert s.case.state == "submitted"


def test_a_review_that_finds_a_point_wanting_cannot_allow_signing(definitions: Definitions) -> None:
    s = walk(definitions, "find_revise")
    refused = s.refused(
        "find_approve",
        "counsel_zhao",
        D(2025, 5, 30),
        {**FINDINGS_OK, "text_finding": "non_compliant"},
        ("review_opinion",),
    )
    assert rule_ids(refused) == {"youxian_government_contract.approval_needs_compliant_findings"}


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        ({}, True),
        ({"major_contract": True}, False),
        ({"amount": 5_000_000}, False),  # the county's threshold (a proposal): 5,000,000 yuan and more
        ({"amount": 4_999_999}, True),
    ],
)
def test_the_head_alone_decides_only_a_contract_below_the_meeting_threshold(
    definitions: Definitions, change: dict[str, Any], allowed: bool
) -> None:
    s = story(definitions, "HT-2025-005")
    s.do("open_matter", "clerk_li", D(2025, 3, 3), {**SMALL, **change}, ("opening_note",))
    s.do(
        "record_due_diligence",
        "clerk_li",
        D(2025, 3, 4),
        {"checked": CHECKED, "feasibility": "可行"},
        ("due_diligence_report",),
    )
    s.do("prepare_text", "clerk_li", D(2025, 3, 5), {}, ("contract_text",))
    s.do("submit_for_review", "clerk_li", D(2025, 3, 6), {}, ("qualification_proof", "approval_papers"))
    s.do("accept_review", "counsel_zhao", D(2025, 3, 7))
    if change.get("major_contract"):
        s.do("give_legal_opinion", "lawyer_zheng", D(2025, 3, 7), {}, ("legal_adviser_opinion",))
    s.do("find_approve", "counsel_zhao", D(2025, 3, 10), FINDINGS_OK, ("review_opinion",))
    if allowed:
        s.do("decide_by_head", "head_wang", D(2025, 3, 11), {}, ("decision_record",))
        assert s.case.state == "approved"
    else:
        refused = s.refused("decide_by_head", "head_wang", D(2025, 3, 11), {}, ("decision_record",))
        assert rule_ids(refused) == {"youxian_government_contract.major_contract_to_meeting"}
        assert "5000000" in refusal_text(refused)
        s.do("submit_to_meeting", "office_chen", D(2025, 3, 11), {}, ("discussion_package",))
        s.do("approve_at_meeting", "office_chen", D(2025, 3, 18), MEETING, ("minutes",))
        assert s.case.state == "approved"


@pytest.mark.parametrize("kind", ["temporary_body", "internal_unit"])
def test_no_signing_by_a_temporary_body_or_an_internal_unit(definitions: Definitions, kind: str) -> None:
    s = walk(definitions, "sign")
    refused = s.refused(
        "sign", "head_wang", D(2025, 7, 1), {**SIGNING, "signing_party_kind": kind}, ("signed_contract",)
    )
    assert rule_ids(refused) == {"youxian_government_contract.competent_signing_party"}


def test_anyone_but_the_head_signs_with_a_power_of_attorney(definitions: Definitions) -> None:
    s = walk(definitions, "sign")
    signing = {**SIGNING, "signatory": "clerk_li", "signing_party_kind": "department"}
    refused = s.refused("sign", "clerk_li", D(2025, 7, 1), signing, ("signed_contract",))
    assert rule_ids(refused) == {"youxian_government_contract.signatory_authorised"}
    s.do("sign", "clerk_li", D(2025, 7, 1), signing, ("signed_contract", "authorisation"))
    assert s.case.state == "signed"
    head = walk(definitions, "sign")
    head.do("sign", "head_wang", D(2025, 7, 1), SIGNING, ("signed_contract",))
    assert head.case.state == "signed"


def test_the_contract_is_filed_within_five_working_days_with_both_recipients(definitions: Definitions) -> None:
    s = walk(definitions, "file_contract")  # signed on Tuesday 2025-07-01
    late = s.refused("file_contract", "clerk_li", D(2025, 7, 9), FILING, ("filing_copy",))
    assert rule_ids(late) == {"youxian_government_contract.filed_in_time"}
    one = s.refused("file_contract", "clerk_li", D(2025, 7, 8), {"filed_with": ["县司法局"]}, ("filing_copy",))
    assert rule_ids(one) == {"youxian_government_contract.filed_with_recipients"}
    assert "县档案馆" in refusal_text(one)
    s.do("file_contract", "clerk_li", D(2025, 7, 8), FILING, ("filing_copy",))  # the fifth working day
    assert s.case.state == "performing"


# -- the definitions ---------------------------------------------------------------------------------------


def test_workflow_check_passes_on_the_shipped_tree() -> None:
    result = CliRunner().invoke(app, ["workflow", "check"])
    assert result.exit_code == 0, result.output


def _load(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "government_contract.yaml"
    path.write_text(text, encoding="utf-8")
    workflows = [ROOT / "workflows" / n for n in ("major_decision.yaml", "catalogue.yaml")] + [path]
    packs = [
        ROOT / "rules" / n
        for n in (
            "national.yaml",
            "government_contract.yaml",
            "hunan.yaml",
            "youxian.yaml",
            "youxian-government_contract.yaml",
        )
    ]
    with pytest.raises(DefinitionError) as caught:
        load_definitions(workflows, packs, ROOT / "rules" / "calendar.yaml")
    return [f"{p.line}:{p.path}: {p.message}" for p in caught.value.problems if p.file == str(path)]


SHIPPED = (ROOT / "workflows" / "government_contract.yaml").read_text(encoding="utf-8")
HEAD_RULES = "    rules: [youxian_government_contract.reviewed_before_signing, youxian_government_contract.major_contract_to_meeting]"


def test_a_heads_decision_without_the_gate_rule_is_a_located_bypass(tmp_path: Path) -> None:
    """The static proof: drop the gate rule from the head's decision and `approved` is reachable
    without it (the rule on `sign` does not help: the proof wants it on every way into the state)."""
    assert HEAD_RULES in SHIPPED
    text = SHIPPED.replace(HEAD_RULES, "    rules: [youxian_government_contract.major_contract_to_meeting]", 1)
    problems = _load(text, tmp_path)
    line = text.splitlines().index("  signature_review:") + 1
    assert any(
        p.startswith(f"{line}:gates.signature_review: bypass") and p.endswith("--decide_by_head--> approved")
        for p in problems
    ), problems


def test_without_collective_discussion_by_rule_the_heads_decision_alone_is_refused(tmp_path: Path) -> None:
    text = SHIPPED.replace("  collective_discussion: by_rule\n", "", 1)
    problems = _load(text, tmp_path)
    assert any("states.approved:" in p and "without collective discussion" in p for p in problems), problems


def test_an_unknown_collective_discussion_value_is_refused_where_it_is_written(tmp_path: Path) -> None:
    text = SHIPPED.replace("  collective_discussion: by_rule\n", "  collective_discussion: sometimes\n", 1)
    problems = _load(text, tmp_path)
    line = text.splitlines().index("  collective_discussion: sometimes") + 1
    assert any(p.startswith(f"{line}:workflow.collective_discussion:") for p in problems), problems


def test_a_discussion_state_still_needs_the_review_gates_protection(tmp_path: Path) -> None:
    text = SHIPPED.replace("    protects: [in_meeting, approved, signed]", "    protects: [approved, signed]", 1)
    problems = _load(text, tmp_path)
    assert any("discussion state 'in_meeting' is not protected" in p for p in problems), problems


# -- the demo scenario -------------------------------------------------------------------------------------

# the county's people of the demo (common to every scenario file, demo/00-people.yaml)


def test_the_demo_year_carries_the_contract_through_and_refuses_it_at_the_gate_once(
    db: Database, definitions: Definitions
) -> None:
    """The demo's scenario files played by the demo player on SQLite and PostgreSQL: the bus franchise
    agreement (demo/50-contract.yaml, linked to the bus-fare decision played before it) is refused once
    at the signature gate's rule, reviewed three times, signed and filed."""
    office = Office(db, definitions, clock=fixed_clock)
    lines: list[str] = []
    ids = run_demo(office, lines.append, load_scenarios(ROOT / "demo"))
    case = office.cases.view(ids["bus_franchise"]).case
    assert case.state == "performing" and case.records[-1].kind == "filing"
    assert [r.kind for r in case.records].count("legality_review") == 3
    assert case.attributes["implements_decision"] == ids["bus_fares"]
    assert sum(f"✗ [{REVIEWED}]" in line for line in lines) == 1


def test_a_date_out_of_order_cites_the_county_s_filing_duty_marked_unverified(definitions: Definitions) -> None:
    """A contract's records in order rest on the county's 备案归档 duty (a local example, unverified), not
    on Decree 713's archiving article."""
    s = walk(definitions, "accept_review")
    step = next(x for x in CONTRACT_PATH if x.trigger == "accept_review")
    refused = s.refused(step.trigger, step.actor, date(2025, 5, 1), step.fields, step.docs)
    (unmet,) = [u for u in refused.unmet if u.rule_id == "engine.date_order"]
    assert "备案归档" in unmet.citation and "出处未核实" in unmet.citation
    assert "国务院令第713号" not in unmet.citation


# -- the decision a contract carries out: a case of the major-decision procedure on record ------------


def test_a_contract_links_the_major_decision_it_carries_out_only_if_that_decision_is_on_record(
    service: CaseService,
) -> None:
    """`implements_decision` names a case of `major_decision` (the field's `workflow:`): a decision
    proposed here is accepted; an unknown id, or a contract's own id, is refused naming the id and
    saying to start that decision first, and nothing is written."""
    play(service, "D-2025-001", MAIN_PATH[:1])  # the bus-fare decision, proposed
    play(service, "HT-2025-002", CONTRACT_PATH[:1], workflow=WORKFLOW)
    opening = CONTRACT_PATH[0]
    for wrong in ("D-2025-009", "HT-2025-002"):
        linked = Action(
            opening.trigger, PEOPLE[opening.actor], opening.on, {**opening.fields, "implements_decision": wrong}, ()
        )
        with pytest.raises(ActionRefused) as refused:
            service.start(WORKFLOW, "HT-2025-003", linked)
        (unmet,) = [u for u in refused.value.unmet if u.rule_id == "service.case_link.implements_decision"]
        assert (
            wrong in unmet.message_zh
            and "重大行政决策" in unmet.message_zh
            and "start that case first" in unmet.message_en
        )
        assert service.repository.head("HT-2025-003") is None
    docs = tuple(service.attach(k, f"HT-2025-003 {k}".encode(), f"{k}.pdf") for k in opening.docs)
    linked = Action(
        opening.trigger,
        PEOPLE[opening.actor],
        opening.on,
        {**opening.fields, "implements_decision": "D-2025-001"},
        docs,
    )
    service.start(WORKFLOW, "HT-2025-003", linked)
    assert service.view("HT-2025-003").case.attributes["implements_decision"] == "D-2025-001"


def test_a_case_field_naming_an_unknown_workflow_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (ROOT / "workflows" / "government_contract.yaml").read_text(encoding="utf-8")
    flawed = text.replace("type: case, workflow: major_decision", "type: case, workflow: major_decisions", 1)
    assert flawed != text
    problems = _load(flawed, tmp_path)
    assert any("unknown workflow 'major_decisions'" in p for p in problems), problems


def test_only_a_case_field_names_a_workflow(tmp_path: Path) -> None:
    text = (ROOT / "workflows" / "government_contract.yaml").read_text(encoding="utf-8")
    flawed = text.replace("type: case, workflow: major_decision", "type: string, workflow: major_decision", 1)
    problems = _load(flawed, tmp_path)
    assert any("only a case field names the workflow of its case" in p for p in problems), problems
