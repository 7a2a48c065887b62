"""行政规范性文件: the normative-document workflow, its gate and its rules, as a user meets them.

The main path (`tests.support_normative_document.ND_PATH`) runs through the engine and through the
service on SQLite and PostgreSQL. The gate (115号 §（七）): no deliberation, registration or
publication without a lawful review of the current text by someone who neither drafted nor submitted
it. Then each rule of the three packs, once allowing and once refusing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decisions.cli import app
from decisions.config import load_deployment
from decisions.deadlines import case_deadlines
from decisions.definitions import Definitions
from decisions.demo import run_demo
from decisions.errors import ActionRefused
from decisions.loading.scenarios import load_scenarios
from decisions.model import Action
from decisions.service import DefinitionsService
from decisions.service.cases import CaseService
from decisions.service.office import Office
from decisions.store.memory import memory_store
from tests import stores
from tests.stores import BACKENDS, fixed_clock, fresh_service
from tests.support import MAIN_PATH, PEOPLE, ROOT, Step, Story, rule_ids
from tests.support_normative_document import CASE_ID, ND_PATH, SEVEN_LAWFUL, START, WORKFLOW, NDStory

ND = "normative_document."
HN = "hunan_normative_document."
GATE = "engine.gate.legality_review"


def step_of(trigger: str) -> Step:
    return next(s for s in ND_PATH if s.trigger == trigger)


def at(definitions: Definitions, trigger: str, skip: tuple[str, ...] = (), **overrides: Step) -> NDStory:
    """The main path walked to just before ``trigger``, with some of its steps replaced or left out."""
    return NDStory(definitions).walk_nd(trigger, overrides, skip)


def with_fields(trigger: str, **fields: Any) -> Step:
    s = step_of(trigger)
    return replace(s, fields={**s.fields, **fields})


def refused_ids(story: NDStory, s: Step) -> set[str]:
    return rule_ids(story.refused(s.trigger, s.actor, s.on, s.fields, s.docs))


# -- the shipped definitions ---------------------------------------------------------------------------


def test_workflow_check_passes_on_the_shipped_tree_with_the_normative_document_workflow() -> None:
    result = CliRunner().invoke(app, ["workflow", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output
    assert "normative_document.yaml" in result.output
    for pack in ("normative_document.yaml", "hunan-normative_document.yaml", "youxian-normative_document.yaml"):
        assert pack in result.output


def test_a_shortcut_past_the_deliberation_is_refused_by_the_static_proof(tmp_path: Path) -> None:
    text = (ROOT / "workflows" / "normative_document.yaml").read_text(encoding="utf-8")
    shortcut = (
        "transitions:\n"
        "  - trigger: fast_track\n"
        "    source: drafting\n"
        "    dest: registered\n"
        "    label: {zh: 直接印发, en: issue at once}\n"
        "    roles: [office_clerk]\n"
    )
    path = tmp_path / "normative_document.yaml"
    path.write_text(text.replace("transitions:\n", shortcut, 1), encoding="utf-8")
    (check,) = DefinitionsService(load_deployment(ROOT / "decisions.yaml")).check([path]).files
    messages = " | ".join(p.message for p in check.problems)
    assert "fast_track" in messages and "registered" in messages, messages


# -- the main path -------------------------------------------------------------------------------------


def test_the_main_path_makes_publishes_and_files_the_document(definitions: Definitions) -> None:
    story = NDStory(definitions).walk_nd("end")
    case = story.case
    assert case.state == "in_force"
    assert case.attributes["title"] == "攸县城区出租汽车经营服务管理办法"
    assert case.attributes["registration_number"] == "YXDR-2025-00003"
    assert case.attributes["effective_on"] == date(2025, 6, 15)
    review = next(r for r in case.records if r.kind == "legality_review")
    assert review.fields["outcome"] == "lawful" and review.actor == "counsel_zhao"
    assert review.draft_version == case.draft_version == 1
    assert [r.kind for r in case.records][-3:] == ["publish", "filing", "cleanup"]


def play(service: CaseService, case_id: str, steps: tuple[Step, ...] = ND_PATH) -> None:
    stores.play(service, case_id, steps, workflow=WORKFLOW)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_main_path_through_the_service(backend: str, tmp_path: Path, definitions: Definitions) -> None:
    with fresh_service(backend, tmp_path, definitions) as service:
        play(service, CASE_ID)
        view = service.view(CASE_ID)
        assert view.case.workflow == WORKFLOW
        assert view.case.state == "in_force"
        assert view.version == len(ND_PATH)
        # the gate refuses through the service too, and writes nothing
        play(service, "ND-2025-002", ND_PATH[: [s.trigger for s in ND_PATH].index("submit_for_deliberation")])
        draft = service.attach("draft", b"ND-2025-002 amended text", "draft.pdf")
        service.act("ND-2025-002", Action("amend_draft", PEOPLE["clerk_li"], date(2025, 4, 26), {}, (draft,)))
        before = service.view("ND-2025-002")
        package = service.attach("deliberation_package", b"ND-2025-002 package", "p.pdf")
        with pytest.raises(ActionRefused) as refusal:
            service.act(
                "ND-2025-002",
                Action("submit_for_deliberation", PEOPLE["clerk_li"], date(2025, 4, 28), {}, (package,)),
            )
        assert ND + "lawful_review_of_current_text" in rule_ids(refusal.value)
        assert service.view("ND-2025-002") == before


# -- the gate: no deliberation, registration or publication without a lawful review of the current text --


def test_a_text_changed_after_a_lawful_review_cannot_go_to_deliberation(definitions: Definitions) -> None:
    story = at(definitions, "submit_for_deliberation")
    story.do("amend_draft", "clerk_li", date(2025, 4, 26), {}, ("draft",))
    s = step_of("submit_for_deliberation")
    refusal = story.refused(s.trigger, s.actor, s.on, s.fields, s.docs)
    assert ND + "lawful_review_of_current_text" in rule_ids(refusal)
    cited = " ".join(u.citation for u in refusal.unmet if u.rule_id == ND + "lawful_review_of_current_text")
    assert "国办发〔2018〕115号" in cited and "§（七）" in cited
    # the new text is reviewed again: back to drafting, the unit's opinion, submission, review
    story.do("revise_after_review", "clerk_li", date(2025, 4, 28), {}, ("draft",))
    story.do(
        "give_unit_legality_opinion",
        "clerk_he",
        date(2025, 4, 28),
        {"own_opinion_conclusion": "lawful"},
        ("unit_legality_opinion",),
    )
    story.do("submit_for_review", "clerk_li", date(2025, 4, 29), {"review_due": date(2025, 5, 14)}, ("legal_basis",))
    story.do("forward_for_review", "office_chen", date(2025, 4, 29))
    story.do("accept_review", "counsel_zhao", date(2025, 4, 30))
    story.do("find_lawful", "counsel_zhao", date(2025, 5, 6), SEVEN_LAWFUL, ("review_opinion",))
    story.do(s.trigger, s.actor, date(2025, 5, 7), s.fields, s.docs)
    assert story.case.state == "in_deliberation"


def test_a_document_found_unlawful_cannot_go_to_deliberation(definitions: Definitions) -> None:
    story = at(definitions, "find_lawful")
    story.do(
        "find_unlawful",
        "counsel_zhao",
        date(2025, 4, 25),
        {**SEVEN_LAWFUL, "finding_no_unlawful_measures": "non_compliant", "reason": "设定了罚款"},
        ("review_opinion",),
    )
    s = step_of("submit_for_deliberation")
    assert "engine.unavailable" in refused_ids(story, s)
    assert story.case.state == "reviewed_unlawful"


def test_the_drafter_cannot_review_the_document(definitions: Definitions) -> None:
    """counsel_wu works at the 司法局 and holds both roles: having submitted the text, he may not review it."""
    story = at(definitions, "submit_for_review")
    s = step_of("submit_for_review")
    story.do(s.trigger, "counsel_wu", s.on, s.fields, s.docs)
    story.do("forward_for_review", "office_chen", date(2025, 4, 17))
    ids = rule_ids(story.refused("accept_review", "counsel_wu", date(2025, 4, 17)))
    assert ND + "reviewer_independent_of_drafter" in ids
    story.do("accept_review", "counsel_zhao", date(2025, 4, 17))
    ids = rule_ids(story.refused("find_lawful", "counsel_wu", date(2025, 4, 25), SEVEN_LAWFUL, ("review_opinion",)))
    assert {GATE, ND + "reviewer_independent_of_drafter"} & ids


def test_a_comment_or_a_co_signature_does_not_replace_the_review(definitions: Definitions) -> None:
    """The only way to deliberation is through a lawful legality_review record: from every state before
    the review, submit_for_deliberation is not available at all."""
    story = NDStory(definitions)
    s = step_of("submit_for_deliberation")
    for step in ND_PATH:
        if step.trigger == "find_lawful":
            break
        story.step(step)
        assert "engine.unavailable" in refused_ids(story, s), story.case.state


# -- each rule, once allowing and once refusing (a table: docs/legal-coverage.md lists the cases) -------


@dataclass(frozen=True)
class RuleCase:
    rule: str
    name: str
    refuses: bool
    attempt: Step
    until: str = ""  # walk the main path up to this trigger (default: the attempt's own)
    skip: tuple[str, ...] = ()  # main-path steps left out
    overrides: tuple[Step, ...] = ()  # main-path steps replaced (by trigger)
    then: tuple[Step, ...] = ()  # steps fired after the walk, before the attempt


def refused(rule: str, name: str, attempt: Step, **kw: Any) -> RuleCase:
    return RuleCase(rule, name, True, attempt, **kw)


def allowed(rule: str, name: str, attempt: Step, **kw: Any) -> RuleCase:
    return RuleCase(rule, name, False, attempt, **kw)


def main(trigger: str, **fields: Any) -> Step:
    return with_fields(trigger, **fields)


def without(trigger: str, *names: str) -> Step:
    s = step_of(trigger)
    return replace(s, fields={k: v for k, v in s.fields.items() if k not in names})


NON_MARKET = main("start_drafting", market_entities=False, business_activity=False)


CHANGED_ON = date(2025, 3, 20)


def change_comment(deadline: date, on: date = CHANGED_ON, **fields: Any) -> Step:
    """A new notice changing the comment period the main path opened on 2025-03-10 (deadline 2025-04-10)."""
    return Step(
        "change_comment_period",
        "clerk_li",
        on,
        {"comment_deadline": deadline, "reason": "截止日期录入错误，发布变更公告", **fields},
        ("comment_notice",),
    )


def cancel_comment(**fields: Any) -> Step:
    return Step("cancel_comment", "clerk_li", date(2025, 3, 20), fields, ("comment_notice",))


NEEDS_REVISION = Step(
    "find_needs_revision",
    "counsel_zhao",
    date(2025, 4, 25),
    {**SEVEN_LAWFUL, "finding_content": "non_compliant", "reason": "第八条与上位法不一致"},
    ("review_opinion",),
)
SECOND_REVIEW = (  # after a must-be-revised opinion: the revised text goes through the review again
    NEEDS_REVISION,
    Step("revise_after_review", "clerk_li", date(2025, 4, 28), {}, ("draft",)),
    Step(
        "give_unit_legality_opinion",
        "clerk_he",
        date(2025, 4, 28),
        {"own_opinion_conclusion": "lawful"},
        ("unit_legality_opinion",),
    ),
    Step("submit_for_review", "clerk_li", date(2025, 4, 29), {"review_due": date(2025, 5, 14)}, ("legal_basis",)),
    Step("forward_for_review", "office_chen", date(2025, 4, 29)),
    Step("accept_review", "counsel_zhao", date(2025, 4, 30)),
    Step("find_lawful", "counsel_zhao", date(2025, 5, 6), SEVEN_LAWFUL, ("review_opinion",)),
)
EXCLUDE = Step(
    "exclude",
    "office_chen",
    date(2025, 3, 3),
    {"exclusion_kind": "work_plan", "reason": "内部工作方案"},
    ("exclusion_note",),
)
DELIBERATION = replace(step_of("submit_for_deliberation"), on=date(2025, 5, 7))

RULE_CASES = (
    # scope (115号 §（三）)
    refused(
        ND + "exclusion_reasoned",
        "no-reason",
        replace(EXCLUDE, fields={"exclusion_kind": "work_plan"}),
        until="submit_draft",
    ),
    allowed(ND + "exclusion_reasoned", "kind-and-reason", EXCLUDE, until="submit_draft"),
    refused(ND + "major_decision_linked", "unlinked", main("start_drafting", also_major_decision=True)),
    allowed(
        ND + "major_decision_linked",
        "linked",
        main("start_drafting", also_major_decision=True, decision_case="D-2025-001"),
    ),
    # assessment and comment
    refused(ND + "assessment_before_review", "not-assessed", main("submit_for_review"), skip=("record_assessment",)),
    allowed(ND + "assessment_before_review", "assessed", main("submit_for_review")),
    refused(
        ND + "market_documents_put_out_for_comment",
        "no-comment",
        main("submit_for_review"),
        skip=("open_comment", "close_comment"),
        overrides=(main("start_drafting", major_impact=False),),
    ),
    allowed(ND + "market_documents_put_out_for_comment", "commented", main("submit_for_review")),
    refused(
        ND + "major_impact_documents_put_out_for_comment",
        "no-comment",
        main("submit_for_review"),
        skip=("open_comment", "close_comment"),
        overrides=(main("start_drafting", market_entities=False),),
    ),
    allowed(ND + "major_impact_documents_put_out_for_comment", "commented", main("submit_for_review")),
    refused(ND + "market_comment_period", "21-days", main("open_comment", comment_deadline=date(2025, 3, 31))),
    allowed(
        ND + "market_comment_period",
        "shorter-with-reason",
        main("open_comment", comment_deadline=date(2025, 3, 31), shortening_reason="汛期前须出台"),
    ),
    allowed(ND + "market_comment_period", "31-days", main("open_comment")),
    refused(
        ND + "comment_period",
        "5-working-days",
        main("open_comment", comment_deadline=date(2025, 3, 17)),
        overrides=(NON_MARKET,),
    ),
    allowed(
        ND + "comment_period",
        "7-working-days",
        main("open_comment", comment_deadline=date(2025, 3, 19)),
        overrides=(NON_MARKET,),
    ),
    refused(ND + "comment_ran_its_period", "on-the-deadline", replace(step_of("close_comment"), on=date(2025, 4, 10))),
    allowed(ND + "comment_ran_its_period", "after-the-deadline", main("close_comment")),
    # a running comment period changed or cancelled (opened 2025-03-10, deadline 2025-04-10)
    allowed(ND + "market_comment_period_change", "extended", change_comment(date(2025, 5, 10)), until="close_comment"),
    refused(ND + "market_comment_period_change", "21-days", change_comment(date(2025, 3, 31)), until="close_comment"),
    allowed(
        ND + "market_comment_period_change",
        "shorter-with-reason",
        change_comment(date(2025, 3, 31), shortening_reason="汛期前须出台，已在变更公告中说明"),
        until="close_comment",
    ),
    refused(
        ND + "comment_period_change",
        "5-working-days",
        change_comment(date(2025, 3, 17), on=date(2025, 3, 12)),
        until="close_comment",
        overrides=(NON_MARKET,),
    ),
    allowed(
        ND + "comment_period_change",
        "7-working-days",
        change_comment(date(2025, 3, 19), on=date(2025, 3, 12)),
        until="close_comment",
        overrides=(NON_MARKET,),
    ),
    allowed(ND + "comment_change_not_past", "deadline-ahead", change_comment(date(2025, 5, 10)), until="close_comment"),
    refused(
        ND + "comment_change_not_past",
        "deadline-passed",
        change_comment(date(2025, 3, 19), shortening_reason="已在变更公告中说明"),
        until="close_comment",
    ),
    allowed(
        ND + "comment_cancelled_with_reason",
        "with-reason",
        cancel_comment(reason="文本需重大修改"),
        until="close_comment",
    ),
    refused(ND + "comment_cancelled_with_reason", "without-reason", cancel_comment(), until="close_comment"),
    # fair competition
    refused(
        ND + "fair_competition_reviewed",
        "not-reviewed",
        main("submit_for_review"),
        skip=("record_fair_competition_review",),
    ),
    refused(
        ND + "fair_competition_reviewed",
        "non-compliant",
        main("submit_for_review"),
        overrides=(main("record_fair_competition_review", fair_competition_conclusion="non_compliant"),),
    ),
    allowed(ND + "fair_competition_reviewed", "compliant", main("submit_for_review")),
    allowed(ND + "fair_competition_reviewed", "issued-after-review", main("register_and_issue")),
    refused(ND + "operators_heard", "not-heard", main("record_fair_competition_review", operators_heard=False)),
    allowed(ND + "operators_heard", "heard", main("record_fair_competition_review")),
    # submission (115号 §（五）)
    refused(
        ND + "submission_materials_complete",
        "no-explanation",
        main("submit_for_review"),
        overrides=(replace(step_of("submit_draft"), docs=("draft",)),),
    ),
    allowed(ND + "submission_materials_complete", "complete", main("submit_for_review")),
    refused(
        ND + "unit_opinion_of_current_text",
        "text-changed-since",
        main("submit_for_review"),
        then=(Step("submit_draft", "clerk_li", date(2025, 4, 16), {}, ("draft",)),),
    ),
    refused(
        ND + "unit_opinion_of_current_text",
        "unit-finds-unlawful",
        main("submit_for_review"),
        overrides=(main("give_unit_legality_opinion", own_opinion_conclusion="unlawful"),),
    ),
    allowed(ND + "unit_opinion_of_current_text", "current-and-lawful", main("submit_for_review")),
    refused(ND + "review_period_minimum", "3-working-days", main("submit_for_review", review_due=date(2025, 4, 21))),
    allowed(
        ND + "review_period_minimum",
        "emergency",
        main("submit_for_review", review_due=date(2025, 4, 21), emergency_reason="防汛应急需要立即实施"),
    ),
    allowed(ND + "review_period_minimum", "11-working-days", main("submit_for_review")),
    refused(
        ND + "review_period_maximum",
        "20-working-days",
        main("submit_for_review", review_due=date(2025, 5, 16), emergency_reason="无"),
    ),
    allowed(ND + "review_period_maximum", "15-working-days", main("submit_for_review", review_due=date(2025, 5, 9))),
    # the review (115号 §（四）（六）)
    refused(ND + "reviewer_in_designated_body", "other-unit", replace(step_of("accept_review"), actor="counsel_gao")),
    allowed(ND + "reviewer_in_designated_body", "justice-bureau", main("accept_review")),
    refused(
        ND + "reviewer_independent_of_drafter",
        "submitted-it",
        replace(step_of("accept_review"), actor="counsel_wu"),
        overrides=(replace(step_of("submit_for_review"), actor="counsel_wu"),),
    ),
    allowed(ND + "reviewer_independent_of_drafter", "another-person", main("accept_review")),
    refused(ND + "review_seven_findings", "six-findings", without("find_lawful", "finding_no_self_empowerment")),
    allowed(ND + "review_seven_findings", "seven-findings", main("find_lawful")),
    refused(
        ND + "lawful_only_with_seven_compliant_findings",
        "one-non-compliant",
        main("find_lawful", finding_no_rights_reduced="non_compliant"),
    ),
    allowed(ND + "lawful_only_with_seven_compliant_findings", "seven-compliant", main("find_lawful")),
    refused(
        ND + "adverse_opinion_names_a_defect",
        "no-defect",
        replace(NEEDS_REVISION, trigger="find_unlawful", fields={**SEVEN_LAWFUL, "reason": "?"}),
        until="find_lawful",
    ),
    allowed(ND + "adverse_opinion_names_a_defect", "names-a-defect", NEEDS_REVISION, until="find_lawful"),
    # revision, deliberation (115号 §（六）（七）)
    refused(ND + "non_adoption_explained", "unexplained", DELIBERATION, until="find_lawful", then=SECOND_REVIEW),
    allowed(
        ND + "non_adoption_explained",
        "explained",
        replace(DELIBERATION, docs=(*DELIBERATION.docs, "revision_explanation")),
        until="find_lawful",
        then=SECOND_REVIEW,
    ),
    refused(
        ND + "lawful_review_of_current_text",
        "text-changed-after-review",
        main("submit_for_deliberation"),
        then=(Step("amend_draft", "clerk_li", date(2025, 4, 26), {}, ("draft",)),),
    ),
    allowed(ND + "lawful_review_of_current_text", "reviewed-text", main("submit_for_deliberation")),
    allowed(ND + "lawful_review_of_current_text", "published-as-reviewed", main("publish")),
    refused(ND + "deliberated", "no-minutes", replace(step_of("adopt"), docs=())),
    allowed(ND + "deliberated", "executive-meeting", main("adopt")),
    # publication and filing
    refused(HN + "entry_into_force_delay", "10-days", main("publish", effective_on=date(2025, 5, 23))),
    allowed(
        HN + "entry_into_force_delay",
        "sooner-with-reason",
        main("publish", effective_on=date(2025, 5, 23), immediate_effect_reason="执行上级紧急部署"),
    ),
    allowed(HN + "entry_into_force_delay", "33-days", main("publish")),
    refused(HN + "filed_within_period", "28-days", replace(step_of("file_record"), on=date(2025, 6, 10))),
    allowed(
        HN + "filed_within_period",
        "late-with-reason",
        replace(main("file_record", late_filing_reason="备案材料退回补正"), on=date(2025, 6, 10)),
    ),
    allowed(HN + "filed_within_period", "7-days", main("file_record")),
    refused(ND + "filed_with_a_filing_organ", "no-organ", main("file_record", filed_with=[])),
    allowed(ND + "filed_with_a_filing_organ", "two-organs", main("file_record")),
)


@pytest.mark.parametrize("case", RULE_CASES, ids=lambda c: f"{c.rule.split('.')[-1]}-{c.name}")
def test_each_rule_allows_and_refuses(definitions: Definitions, case: RuleCase) -> None:
    story = NDStory(definitions).walk_nd(
        case.until or case.attempt.trigger, {s.trigger: s for s in case.overrides}, case.skip
    )
    for s in case.then:
        story.step(s)
    unmet, _ = story.engine.check(story.case, story.action(case.attempt))
    ids = {u.rule_id for u in unmet}
    if case.refuses:
        assert case.rule in ids, f"not refused by {case.rule}: {sorted(ids)}"
        refusal = story.refused(
            case.attempt.trigger, case.attempt.actor, case.attempt.on, case.attempt.fields, case.attempt.docs
        )
        cited = next(u for u in refusal.unmet if u.rule_id == case.rule)
        assert cited.citation and cited.message_zh and cited.message_en
        if case.rule.startswith(HN):
            assert "（出处未核实 / source not verified）" in cited.citation
    else:
        story.step(case.attempt)  # accepted: every rule holds (or is waived with its reason)
        assert story.case.records[-1].trigger == case.attempt.trigger


def test_every_rule_of_the_normative_packs_has_a_case_each_way(definitions: Definitions) -> None:
    rules = {r for r in definitions.rulebook.rules if r.startswith((ND, HN))}
    assert rules == {c.rule for c in RULE_CASES if c.refuses} == {c.rule for c in RULE_CASES if not c.refuses}


# -- scenarios beside the table ------------------------------------------------------------------------


def test_an_out_of_scope_document_is_excluded_and_archived(definitions: Definitions) -> None:
    story = at(definitions, "submit_draft")
    story.step(EXCLUDE)
    story.do("archive", "office_chen", date(2025, 3, 10), {}, ("archive_index",))
    assert story.case.state == "archived"


def test_the_office_returns_an_incomplete_submission(definitions: Definitions) -> None:
    story = at(definitions, "forward_for_review")
    story.do("return_incomplete", "office_chen", date(2025, 4, 17), {"reason": "缺少依据目录"}, ("return_notice",))
    assert story.case.state == "drafting"


def test_the_clean_up_repeals_a_document_and_its_file_is_archived(definitions: Definitions) -> None:
    story = NDStory(definitions).walk_nd("end")
    story.do("repeal", "office_chen", date(2025, 12, 20), {"reason": "上位法修改"}, ("cleanup_report",))
    story.do("archive", "office_chen", date(2025, 12, 22), {}, ("archive_index",))
    assert story.case.state == "archived"
    assert story.case.records[-2].fields["cleanup_result"] == "repeal"
    assert START["title"] == story.case.attributes["title"]


# -- the demo scenario ---------------------------------------------------------------------------------

COUNTY_PEOPLE = {  # demo/00-people.yaml (the common cast of the demo, written on another branch)
    "王县长": ({"head"}, "县人民政府"),
    "周敏": ({"organiser"}, "县城市管理局"),
    "赵律师": ({"legal_counsel"}, "县司法局"),
    "钱律师": ({"legal_adviser"}, "县政府法律顾问（律师事务所）"),
    "陈秘书": ({"office_clerk"}, "县政府办公室"),
}


def test_the_demo_year_carries_the_document_through_and_refuses_it_at_the_gate_once(
    definitions: Definitions,
) -> None:
    """demo/30-normative-document.yaml, played by the demo player with the county's year (on the
    in-memory store): the deliberation after an amended text is refused once by the gate; the document
    ends registered, filed and in force."""
    office = Office(memory_store(), definitions, clock=fixed_clock)
    lines: list[str] = []
    ids = run_demo(office, lines.append, load_scenarios(ROOT / "demo"))
    case = office.cases.view(ids["vending"]).case
    assert case.state == "in_force"
    assert case.attributes["registration_number"] == "YXDR-2025-00003"
    assert sum(f"✗ [{ND}lawful_review_of_current_text]" in line for line in lines) == 1


def deadlines_on(
    definitions: Definitions, story: NDStory, today: date, roles: set[str]
) -> list[tuple[str, date, bool]]:
    wf = definitions.workflow(WORKFLOW)
    book = definitions.rulebook
    found = case_deadlines(story.case, wf, book.parameters, definitions.calendar, today, book.counting, roles)
    return [(d.label.zh, d.due, d.overdue) for d in found]


def test_the_review_and_filing_deadlines_are_the_ones_the_workflow_declares(definitions: Definitions) -> None:
    """Under review, the reviewer and the drafter see the due date set on submission (115号 §（五）:
    5 to 15 working days); once published, the office sees the filing period the Hunan pack sets (15
    days from publication, 湖南办法 Art. 22, unverified), overdue the day after; the drafter does not."""
    reviewing = at(definitions, "give_legal_opinion")
    assert deadlines_on(definitions, reviewing, date(2025, 5, 1), {"legal_counsel"}) == [
        ("合法性审核期限", date(2025, 4, 30), True)
    ]
    published = at(definitions, "file_record")
    assert deadlines_on(definitions, published, date(2025, 5, 28), {"office_clerk"}) == [
        ("备案期限", date(2025, 5, 28), False)
    ]
    assert deadlines_on(definitions, published, date(2025, 5, 29), {"office_clerk"})[0][2] is True
    assert deadlines_on(definitions, published, date(2025, 5, 29), {"organiser"}) == []


# -- the engine's own checks cite this procedure's text ------------------------------------------------


def test_a_date_out_of_order_cites_the_review_ledger_here_and_decree_713_for_a_major_decision(
    definitions: Definitions,
) -> None:
    story = at(definitions, "record_assessment")
    early = replace(step_of("record_assessment"), on=date(2025, 3, 4))
    (unmet,) = [u for u in story.refused(*_args(early)).unmet if u.rule_id == "engine.date_order"]
    assert "国办发〔2018〕115号" in unmet.citation and "§（九）" in unmet.citation
    decision = Story(definitions).walk("submit_draft")
    refusal = decision.refused("submit_draft", "clerk_li", date(2025, 3, 1), {}, ("draft",))
    (unmet,) = [u for u in refusal.unmet if u.rule_id == "engine.date_order"]
    assert "国务院令第713号" in unmet.citation and "第三十三条" in unmet.citation


def _args(s: Step) -> tuple[str, str, date, dict[str, Any], tuple[str, ...]]:
    return s.trigger, s.actor, s.on, s.fields, s.docs


def test_a_check_citation_for_an_unknown_workflow_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (ROOT / "rules" / "normative_document.yaml").read_text(encoding="utf-8")
    flawed = text.replace("  - workflow: normative_document\n", "  - workflow: normative_documents\n", 1)
    assert flawed != text
    path = tmp_path / "normative_document.yaml"
    path.write_text(flawed, encoding="utf-8")
    (check,) = DefinitionsService(load_deployment(ROOT / "decisions.yaml")).check([path]).files
    (problem,) = [p for p in check.problems if "normative_documents" in p.message]
    assert "unknown workflow 'normative_documents'" in problem.message
    assert problem.line == flawed.splitlines().index("  - workflow: normative_documents") + 1


def test_a_document_that_is_also_a_major_decision_links_that_decision_s_case(service: CaseService) -> None:
    """`decision_case` names a case of the major-decision procedure (linked, not merged): a decision on
    record is accepted, another normative document is not (SQLite and PostgreSQL)."""
    stores.play(service, "D-2025-001", MAIN_PATH[:1])
    stores.play(service, "ND-2025-002", ND_PATH[:1], workflow=WORKFLOW)
    first = ND_PATH[0]

    def opened(link: str) -> Action:
        fields = {**first.fields, "also_major_decision": True, "decision_case": link}
        return Action(first.trigger, PEOPLE[first.actor], first.on, fields, ())

    with pytest.raises(ActionRefused) as refused:
        service.start(WORKFLOW, "ND-2025-003", opened("ND-2025-002"))
    assert rule_ids(refused.value) == {"service.case_link.decision_case"}
    service.start(WORKFLOW, "ND-2025-003", opened("D-2025-001"))
    assert service.view("ND-2025-003").case.attributes["decision_case"] == "D-2025-001"
