"""行政规范性文件: the normative-document workflow, its gate and its rules, as a user meets them.

The main path (`tests.support_normative_document.ND_PATH`) runs through the engine and through the
service on SQLite and PostgreSQL. The gate (115号 §（七）): no deliberation, registration or
publication without a lawful review of the current text by someone who neither drafted nor submitted
it. Then each rule of the three packs, once allowing and once refusing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decisions.cli import app
from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import ActionRefused
from decisions.loading.yamlsafe import load_yaml_file
from decisions.model import Action, Actor, Document
from decisions.service import DefinitionsService
from decisions.service.cases import CaseService
from decisions.workflow.definition import FieldType
from tests.stores import BACKENDS, fresh_service
from tests.support import PEOPLE, ROOT, Step, rule_ids
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
    for i, s in enumerate(steps):
        docs = tuple(service.attach(k, f"{case_id} {k} #{i}".encode(), f"{k}.pdf") for k in s.docs)
        action = Action(s.trigger, PEOPLE[s.actor], s.on, dict(s.fields), docs)
        if i == 0:
            service.start(WORKFLOW, case_id, action)
        else:
            service.act(case_id, action)


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


# -- scope, assessment, comment ----------------------------------------------------------------------


def test_an_out_of_scope_document_is_excluded_with_its_kind_and_reason(definitions: Definitions) -> None:
    story = NDStory(definitions)
    ids = rule_ids(
        story.refused("exclude", "office_chen", date(2025, 3, 3), {"exclusion_kind": "work_plan"}, ("exclusion_note",))
    )
    assert ND + "exclusion_reasoned" in ids
    story.do(
        "exclude",
        "office_chen",
        date(2025, 3, 3),
        {"exclusion_kind": "work_plan", "reason": "内部工作方案"},
        ("exclusion_note",),
    )
    story.do("archive", "office_chen", date(2025, 3, 10), {}, ("archive_index",))
    assert story.case.state == "archived"


def test_a_document_that_is_also_a_major_decision_links_its_case(definitions: Definitions) -> None:
    story = NDStory(definitions)
    s = with_fields("start_drafting", also_major_decision=True)
    assert ND + "major_decision_linked" in refused_ids(story, s)
    story.step(with_fields("start_drafting", also_major_decision=True, decision_case="D-2025-001"))
    assert story.case.attributes["decision_case"] == "D-2025-001"


def test_an_important_document_is_assessed_before_review(definitions: Definitions) -> None:
    story = at(definitions, "submit_for_review", skip=("record_assessment",))
    assert ND + "assessment_before_review" in refused_ids(story, step_of("submit_for_review"))
    minor = at(
        definitions,
        "submit_for_review",
        skip=("record_assessment",),
        start_drafting=with_fields("start_drafting", major_impact=False),
    )
    assert ND + "assessment_before_review" not in refused_ids(
        minor, with_fields("submit_for_review", review_due=date(2025, 4, 17))
    )


def _skip_comment(definitions: Definitions, **attributes: Any) -> NDStory:
    return at(
        definitions,
        "submit_for_review",
        skip=("open_comment", "close_comment"),
        start_drafting=with_fields("start_drafting", **attributes),
    )


def test_a_market_document_is_put_out_for_comment_unless_secret(definitions: Definitions) -> None:
    s = step_of("submit_for_review")
    ids = refused_ids(_skip_comment(definitions, major_impact=False), s)
    assert ND + "market_documents_put_out_for_comment" in ids
    secret = _skip_comment(definitions, major_impact=False, secret=True)
    ids = refused_ids(secret, s)  # still refused: no 征求意见及采纳情况 among the materials
    assert ND + "market_documents_put_out_for_comment" not in ids
    assert ND + "submission_materials_complete" in ids


def test_a_document_of_major_impact_is_put_out_for_comment(definitions: Definitions) -> None:
    s = step_of("submit_for_review")
    ids = refused_ids(_skip_comment(definitions, market_entities=False), s)
    assert ND + "major_impact_documents_put_out_for_comment" in ids
    assert ND + "market_documents_put_out_for_comment" not in ids


def test_the_market_comment_period_is_generally_thirty_days(definitions: Definitions) -> None:
    story = at(definitions, "open_comment")
    short = with_fields("open_comment", comment_deadline=date(2025, 3, 31))
    assert ND + "market_comment_period" in refused_ids(story, short)
    story.step(with_fields("open_comment", comment_deadline=date(2025, 3, 31), shortening_reason="汛期前须出台"))
    assert story.case.state == "public_comment"


def test_other_documents_have_seven_working_days_of_comment(definitions: Definitions) -> None:
    start = with_fields("start_drafting", market_entities=False, business_activity=False)
    story = at(definitions, "open_comment", start_drafting=start)
    five = with_fields("open_comment", comment_deadline=date(2025, 3, 17))  # 11..17 March: 5 working days
    ids = refused_ids(story, five)
    assert ND + "comment_period" in ids and ND + "market_comment_period" not in ids
    story.step(with_fields("open_comment", comment_deadline=date(2025, 3, 19)))  # 7 working days
    assert story.case.state == "public_comment"


def test_comment_closes_only_after_its_deadline(definitions: Definitions) -> None:
    story = at(definitions, "close_comment")
    early = replace(step_of("close_comment"), on=date(2025, 4, 10))
    assert ND + "comment_ran_its_period" in refused_ids(story, early)
    story.step(step_of("close_comment"))
    assert story.case.state == "drafting"


# -- fair competition ----------------------------------------------------------------------------------


def test_no_fair_competition_review_no_submission(definitions: Definitions) -> None:
    story = at(definitions, "submit_for_review", skip=("record_fair_competition_review",))
    assert ND + "fair_competition_reviewed" in refused_ids(story, step_of("submit_for_review"))
    failing = with_fields("record_fair_competition_review", fair_competition_conclusion="non_compliant")
    story = at(definitions, "submit_for_review", record_fair_competition_review=failing)
    assert ND + "fair_competition_reviewed" in refused_ids(story, step_of("submit_for_review"))


def test_the_fair_competition_review_hears_the_operators(definitions: Definitions) -> None:
    story = at(definitions, "record_fair_competition_review")
    assert ND + "operators_heard" in refused_ids(
        story, with_fields("record_fair_competition_review", operators_heard=False)
    )
    story.step(step_of("record_fair_competition_review"))
    assert story.case.records[-1].kind == "fair_competition_review"


# -- submission ------------------------------------------------------------------------------------------


def test_the_submission_carries_the_materials_of_115_section_5(definitions: Definitions) -> None:
    bare = replace(step_of("submit_draft"), docs=("draft",))
    story = at(definitions, "submit_for_review", submit_draft=bare)
    assert ND + "submission_materials_complete" in refused_ids(story, step_of("submit_for_review"))
    s = step_of("submit_for_review")
    story.step(replace(s, docs=(*s.docs, "drafting_explanation")))
    assert story.case.state == "submitted"


def test_the_units_own_opinion_covers_the_text_submitted_and_finds_it_lawful(definitions: Definitions) -> None:
    story = at(definitions, "submit_for_review")
    story.do("submit_draft", "clerk_li", date(2025, 4, 16), {}, ("draft",))
    assert ND + "unit_opinion_of_current_text" in refused_ids(story, step_of("submit_for_review"))
    unlawful = with_fields("give_unit_legality_opinion", own_opinion_conclusion="unlawful")
    story = at(definitions, "submit_for_review", give_unit_legality_opinion=unlawful)
    assert ND + "unit_opinion_of_current_text" in refused_ids(story, step_of("submit_for_review"))


def test_the_review_generally_has_at_least_five_working_days(definitions: Definitions) -> None:
    story = at(definitions, "submit_for_review")
    three = with_fields("submit_for_review", review_due=date(2025, 4, 21))  # 17, 18, 21 April
    assert ND + "review_period_minimum" in refused_ids(story, three)
    story.step(with_fields("submit_for_review", review_due=date(2025, 4, 21), emergency_reason="防汛应急需要立即实施"))
    assert story.case.state == "submitted"


def test_the_review_has_at_most_fifteen_working_days(definitions: Definitions) -> None:
    story = at(definitions, "submit_for_review")
    long = with_fields("submit_for_review", review_due=date(2025, 5, 16), emergency_reason="无")
    assert ND + "review_period_maximum" in refused_ids(story, long)
    story.step(with_fields("submit_for_review", review_due=date(2025, 5, 9)))  # 15 working days (1–5 May off)
    assert story.case.state == "submitted"


def test_the_office_returns_an_incomplete_submission(definitions: Definitions) -> None:
    story = at(definitions, "forward_for_review")
    story.do("return_incomplete", "office_chen", date(2025, 4, 17), {"reason": "缺少依据目录"}, ("return_notice",))
    assert story.case.state == "drafting"


# -- the review ------------------------------------------------------------------------------------------


def test_the_reviewer_belongs_to_the_designated_body(definitions: Definitions) -> None:
    story = at(definitions, "accept_review")
    assert ND + "reviewer_in_designated_body" in rule_ids(
        story.refused("accept_review", "counsel_gao", date(2025, 4, 17))
    )
    story.step(step_of("accept_review"))
    assert story.case.state == "under_review"


def test_the_opinion_gives_all_seven_findings(definitions: Definitions) -> None:
    story = at(definitions, "find_lawful")
    six = {k: v for k, v in SEVEN_LAWFUL.items() if k != "finding_no_self_empowerment"}
    assert ND + "review_seven_findings" in refused_ids(story, replace(step_of("find_lawful"), fields=six))
    story.step(step_of("find_lawful"))
    assert story.case.state == "reviewed_lawful"


def test_a_lawful_opinion_needs_seven_compliant_findings(definitions: Definitions) -> None:
    story = at(definitions, "find_lawful")
    one_bad = with_fields("find_lawful", finding_no_rights_reduced="non_compliant")
    assert ND + "lawful_only_with_seven_compliant_findings" in refused_ids(story, one_bad)


def test_an_adverse_opinion_names_a_defect(definitions: Definitions) -> None:
    story = at(definitions, "find_lawful")
    ids = rule_ids(
        story.refused(
            "find_unlawful", "counsel_zhao", date(2025, 4, 25), {**SEVEN_LAWFUL, "reason": "?"}, ("review_opinion",)
        )
    )
    assert ND + "adverse_opinion_names_a_defect" in ids
    story.do(
        "find_needs_revision",
        "counsel_zhao",
        date(2025, 4, 25),
        {**SEVEN_LAWFUL, "finding_content": "non_compliant", "reason": "第八条与上位法不一致"},
        ("review_opinion",),
    )
    assert story.case.state == "revision_required"


def test_the_drafter_explains_what_of_the_opinion_it_did_not_adopt(definitions: Definitions) -> None:
    story = at(definitions, "find_lawful")
    story.do(
        "find_needs_revision",
        "counsel_zhao",
        date(2025, 4, 25),
        {**SEVEN_LAWFUL, "finding_content": "non_compliant", "reason": "第八条与上位法不一致"},
        ("review_opinion",),
    )
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
    s = replace(step_of("submit_for_deliberation"), on=date(2025, 5, 7))
    assert ND + "non_adoption_explained" in refused_ids(story, s)
    story.step(replace(s, docs=(*s.docs, "revision_explanation")))
    assert story.case.state == "in_deliberation"


# -- deliberation, publication, filing ----------------------------------------------------------------


def test_the_meeting_keeps_minutes(definitions: Definitions) -> None:
    story = at(definitions, "adopt")
    ids = refused_ids(story, replace(step_of("adopt"), docs=()))
    assert ND + "deliberated" in ids
    story.step(step_of("adopt"))
    assert story.case.state == "adopted"


def test_a_document_takes_effect_thirty_days_after_publication(definitions: Definitions) -> None:
    story = at(definitions, "publish")
    soon = with_fields("publish", effective_on=date(2025, 5, 23))
    assert HN + "entry_into_force_delay" in refused_ids(story, soon)
    story.step(with_fields("publish", effective_on=date(2025, 5, 23), immediate_effect_reason="执行上级紧急部署"))
    assert story.case.state == "published"
    assert "（出处未核实 / source not verified）" in " ".join(
        u.citation
        for u in story.engine.check(at(definitions, "publish").case, story.action(soon))[0]
        if u.rule_id == HN + "entry_into_force_delay"
    )


def test_the_document_is_filed_within_fifteen_days(definitions: Definitions) -> None:
    story = at(definitions, "file_record")
    late = replace(step_of("file_record"), on=date(2025, 6, 10))
    assert HN + "filed_within_period" in refused_ids(story, late)
    story.step(replace(late, fields={**late.fields, "late_filing_reason": "备案材料退回补正"}))
    assert story.case.state == "in_force"


def test_the_filing_names_its_filing_organ(definitions: Definitions) -> None:
    story = at(definitions, "file_record")
    assert ND + "filed_with_a_filing_organ" in refused_ids(story, with_fields("file_record", filed_with=[]))


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


def test_the_demo_scenario_plays_through_the_engine_and_its_refused_step_is_refused(
    definitions: Definitions,
) -> None:
    """demo/30-normative-document.yaml, step by step through the engine: every step is accepted but the
    one marked ``refused``, which the gate refuses; the document ends filed and in force."""
    scenario = load_yaml_file(ROOT / "demo" / "30-normative-document.yaml").data
    cast = dict(COUNTY_PEOPLE) | {p["name"]: (set(p["roles"]), p["unit"]) for p in scenario["people"]}
    story = NDStory(definitions)
    wf = definitions.workflow(WORKFLOW)
    refused = 0
    for i, s in enumerate(scenario["steps"]):
        if "act" not in s and "start" not in s:
            continue
        roles, unit = cast[s["actor"]]
        docs = tuple(Document(d["kind"], f"{i:064x}", name=f"{d['title']}.pdf") for d in s.get("documents", []))
        trigger = "start_drafting" if "start" in s else s["act"]
        fields = {  # as the CLI takes them: dates written as text
            k: date.fromisoformat(v) if wf.fields[k].type is FieldType.DATE else v
            for k, v in s.get("fields", {}).items()
        }
        who = Actor(s["actor"], frozenset(roles), unit)
        action = Action(trigger, who, date.fromisoformat(s["on"]), fields, docs)
        if s.get("refused"):
            with pytest.raises(ActionRefused) as refusal:
                story.engine.fire(story.case, action)
            assert ND + "lawful_review_of_current_text" in rule_ids(refusal.value)
            refused += 1
        else:
            story.case = story.engine.fire(story.case, action).case
    assert refused == 1
    assert story.case.state == "in_force"
    assert story.case.attributes["registration_number"] == "YXDR-2025-00003"
