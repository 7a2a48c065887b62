"""重大执法决定法制审核: the legal review of a major enforcement decision, as the law writes it.

"未经法制审核或者审核未通过的，不得作出决定" (国办发〔2018〕118号 §四; 行政处罚法 Art. 58): the agency head
decides only on an 同意 opinion of the current draft decision, signed by a reviewer who did not handle
the case. Each rule of rules/enforcement_decision.yaml (national) and rules/youxian-enforcement_decision.yaml
(LOCAL proposals) is shown allowing and refusing; the main path runs through the engine and through the
service on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from decisions.config import load_deployment
from decisions.deadlines import case_deadlines
from decisions.definitions import Definitions
from decisions.demo import run_demo
from decisions.errors import ActionRefused
from decisions.loading import load_definitions
from decisions.loading.scenarios import load_scenarios
from decisions.model import Action, Case
from decisions.service import DefinitionsService
from decisions.service.cases import CaseService
from decisions.service.office import Office
from decisions.store.memory import memory_store
from tests.stores import fixed_clock, play
from tests.support import ROOT, Step, rule_ids
from tests.support_enforcement import (
    CASE_ID,
    CLEAN,
    CONCLUSION,
    MAIN_PATH,
    PEOPLE,
    REGISTRATION,
    WORKFLOW,
    EnforcementStory,
    step_index,
)

GATE = "engine.gate.legal_review"
GATE_RULE = "enforcement_decision.review_agreed_for_current_draft"


def story(definitions: Definitions, until: str | None = None, occurrence: int = 1) -> EnforcementStory:
    s = EnforcementStory(definitions)
    return s.until(step_index(until, occurrence)) if until else s.until(len(MAIN_PATH))


def refusal(s: EnforcementStory, step: Step) -> ActionRefused:
    before = s.case
    with pytest.raises(ActionRefused) as caught:
        s.step(step)
    assert s.case is before
    return caught.value


# -- the main path -------------------------------------------------------------------------------------


def test_the_penalty_goes_through_one_problems_round_to_decision_publication_and_the_archive(
    definitions: Definitions,
) -> None:
    s = story(definitions)
    assert s.case.state == "archived"
    reviews = [r for r in s.case.records if r.kind == "legal_review"]
    assert [r.fields["opinion"] for r in reviews] == ["problems", "agree"]
    assert [r.draft_version for r in reviews] == [1, 2]  # the resubmission carried a revised draft
    assert all(r.fields["reviewer_certificate"] for r in reviews)
    (decision,) = [r for r in s.case.records if r.kind == "decision"]
    assert decision.actor == "head_peng" and decision.fields["decision_mode"] == "head_alone"
    assert decision.draft_version == reviews[-1].draft_version
    # the catalogue check is recorded on the case: which basis, which entry
    assert s.case.attributes["review_basis"] == "on_catalogue"
    assert s.case.attributes["catalogue_item"] == CONCLUSION["catalogue_item"]
    # the whole process is on record (全过程记录, Art. 47): every step left a record
    assert len(s.case.records) == len(MAIN_PATH)


def test_the_main_path_through_the_service_on_both_databases(service: CaseService) -> None:
    play(service, CASE_ID, MAIN_PATH, workflow=WORKFLOW, people=PEOPLE)
    view = service.view(CASE_ID)
    assert view.case.state == "archived"
    assert view.version == len(MAIN_PATH)
    assert [r.kind for r in view.case.records if r.kind in ("legal_review", "decision")] == [
        "legal_review",
        "legal_review",
        "decision",
    ]


def test_a_refused_decision_through_the_service_writes_nothing(service: CaseService) -> None:
    at = step_index("submit_for_decision")
    for i, st in enumerate(MAIN_PATH[:at]):
        docs = tuple(service.attach(k, f"{CASE_ID} {k} #{i}".encode(), f"{k}.pdf") for k in st.docs)
        action = Action(st.trigger, PEOPLE[st.actor], st.on, dict(st.fields), docs)
        (service.start(WORKFLOW, CASE_ID, action) if i == 0 else service.act(CASE_ID, action))
    amended = service.attach("draft_decision", b"amended after the review", "draft_decision.pdf")
    service.act(CASE_ID, Action("amend_draft", PEOPLE["handler_huang"], date(2025, 5, 13), {}, (amended,)))
    before = service.view(CASE_ID)
    with pytest.raises(ActionRefused) as caught:
        service.act(CASE_ID, Action("submit_for_decision", PEOPLE["handler_huang"], date(2025, 5, 13), {}))
    assert GATE_RULE in rule_ids(caught.value)
    assert service.view(CASE_ID) == before


# -- the gate: no decision without a passing review of the current draft by an independent reviewer ----


def test_a_draft_changed_after_the_agreement_cannot_go_to_the_head(definitions: Definitions) -> None:
    """The probe: an 同意 opinion on version 2, the handler then amends the draft (version 3)."""
    s = story(definitions, "submit_for_decision")
    s.do("amend_draft", "handler_huang", date(2025, 5, 13), {}, ("draft_decision",))
    assert s.case.draft_version == 3
    exc = refusal(s, MAIN_PATH[step_index("submit_for_decision")])
    rule = next(u for u in exc.unmet if u.rule_id == GATE_RULE)
    assert "118号" in rule.citation and "四" in rule.citation
    assert "不得作出决定" in rule.message_zh
    # a new review of version 3 opens the way again
    s.do("resubmit_for_review", "handler_huang", date(2025, 5, 14), {}, ("review_application",))
    s.do("accept_submission", "reviewer_han", date(2025, 5, 14))
    s.do("agree", "reviewer_han", date(2025, 5, 15), CLEAN, ("review_opinion",))
    s.do("submit_for_decision", "handler_huang", date(2025, 5, 15))
    assert s.case.state == "awaiting_decision"


def test_a_problems_opinion_does_not_let_the_case_reach_the_head(definitions: Definitions) -> None:
    """审核未通过的，不得作出决定: even a case placed in the agreed state with a problems opinion as the
    latest review is refused on its way to the head, by the engine's guarantee and by the rule."""
    s = story(definitions, "resubmit_for_review")
    assert s.case.state == "problems_found"
    s.case = replace(s.case, state="review_agreed")
    exc = refusal(s, MAIN_PATH[step_index("submit_for_decision")])
    assert GATE_RULE in rule_ids(exc)


def test_no_review_at_all_means_no_decision(definitions: Definitions) -> None:
    s = story(definitions, "submit_for_review")
    s.case = replace(s.case, state="review_agreed")
    exc = refusal(s, MAIN_PATH[step_index("submit_for_decision")])
    assert GATE_RULE in rule_ids(exc)


def test_the_reviewer_may_not_be_the_officer_who_handled_the_case(definitions: Definitions) -> None:
    """Separation of duties (the national texts separate the posts; no sentence forbids one person both
    [M]): an officer holding both roles who submitted the case signs the 同意; the case cannot go on."""
    s = EnforcementStory(definitions)
    s.until(step_index("submit_for_review"))
    s.do(
        "submit_for_review",
        "officer_tang",
        date(2025, 4, 21),
        {},
        ("review_application", "investigation_report", "evidence"),
    )
    s.do("accept_submission", "officer_tang", date(2025, 4, 22))
    s.do("agree", "officer_tang", date(2025, 4, 28), CLEAN, ("review_opinion",))
    exc = refusal(s, Step("submit_for_decision", "handler_huang", date(2025, 4, 29)))
    gate = next(u for u in exc.unmet if u.rule_id == GATE)
    assert "officer_tang" in gate.message_en and "review_submission" in gate.message_en
    # a reviewer who took no part in the case gives the opinion that counts
    s.do("resubmit_for_review", "handler_huang", date(2025, 4, 29), {}, ("review_application",))
    s.do("accept_submission", "reviewer_luo", date(2025, 4, 29))
    s.do("agree", "reviewer_luo", date(2025, 4, 30), CLEAN, ("review_opinion",))
    s.do("submit_for_decision", "handler_huang", date(2025, 4, 30))
    assert s.case.state == "awaiting_decision"


def test_the_reviewer_states_a_legal_qualification(definitions: Definitions) -> None:
    """Art. 58 (last para.): reviewers new to the post hold 法律职业资格; the opinion records it."""
    s = story(definitions, "agree")
    without = {k: v for k, v in CLEAN.items() if k != "reviewer_certificate"}
    exc = refusal(s, Step("agree", "reviewer_han", date(2025, 5, 12), without, ("review_opinion",)))
    assert "reviewer_certificate" in " ".join(u.message_en for u in exc.unmet)


# -- the national rules, each allowing and refusing -------------------------------------------------------


def test_a_catalogue_basis_names_its_entry(definitions: Definitions) -> None:
    s = story(definitions, "conclude_investigation")
    step = MAIN_PATH[step_index("conclude_investigation")]
    bare = replace(step, fields={"review_basis": "on_catalogue", "fine_amount": 80000})
    assert "enforcement_decision.catalogue_entry_named" in rule_ids(refusal(s, bare))
    statutory = replace(step, fields={"review_basis": "complex"})
    s.step(statutory)  # a statutory case needs no catalogue entry
    assert s.case.attributes["review_basis"] == "complex"


def test_a_decision_after_a_hearing_cannot_be_classed_as_not_major(definitions: Definitions) -> None:
    s = story(definitions, "conclude_investigation")
    heard = Step(
        "classify_not_major",
        "handler_huang",
        date(2025, 4, 18),
        {"not_major_reason": "罚款数额未达目录标准", "fine_amount": 3000, "hearing_held": True},
    )
    assert "enforcement_decision.heard_decision_is_major" in rule_ids(refusal(s, heard))
    s.step(replace(heard, fields={"not_major_reason": "罚款数额未达目录标准", "fine_amount": 3000}))
    assert s.case.state == "not_major"


def test_an_agreement_cannot_stand_on_a_finding_of_a_problem(definitions: Definitions) -> None:
    s = story(definitions, "agree")
    flawed = Step(
        "agree", "reviewer_han", date(2025, 5, 12), {**CLEAN, "finding_crime": "transfer_needed"}, ("review_opinion",)
    )
    exc = refusal(s, flawed)
    assert "enforcement_decision.agreement_on_clean_findings" in rule_ids(exc)
    s.step(MAIN_PATH[step_index("agree")])
    assert s.case.state == "review_agreed"


def test_a_problems_opinion_names_the_point_that_fails(definitions: Definitions) -> None:
    s = story(definitions, "find_problems")
    vague = Step(
        "find_problems", "reviewer_han", date(2025, 4, 28), {**CLEAN, "problems": "有问题"}, ("review_opinion",)
    )
    assert "enforcement_decision.problems_opinion_names_a_problem" in rule_ids(refusal(s, vague))
    s.step(MAIN_PATH[step_index("find_problems")])
    assert s.case.state == "problems_found"


def test_a_complex_case_is_decided_by_the_heads_collectively(definitions: Definitions) -> None:
    s = story(definitions, "conclude_investigation")
    s.step(replace(MAIN_PATH[1], fields={**CONCLUSION, "complex_or_serious": True}))
    for st in MAIN_PATH[step_index("submit_for_review") : step_index("decide")]:
        s.step(st)
    exc = refusal(s, MAIN_PATH[step_index("decide")])
    assert "enforcement_decision.collective_when_complex" in rule_ids(exc)
    assert next(u for u in exc.unmet if u.rule_id.endswith("collective_when_complex")).citation.startswith(
        "《中华人民共和国行政处罚法》"
    )
    s.do("refer_to_collective_discussion", "head_peng", date(2025, 5, 16))
    s.do(
        "decide_collectively",
        "head_peng",
        date(2025, 5, 20),
        {"decision_outcome": "penalty", "attendees": ["head_peng", "head_xu"]},
        ("decision_document", "minutes"),
    )
    assert s.case.state == "decided"
    assert s.case.records[-1].fields["decision_mode"] == "collective"


def test_a_simple_case_may_still_go_to_the_collective_discussion(definitions: Definitions) -> None:
    s = story(definitions, "decide")
    s.do("refer_to_collective_discussion", "head_peng", date(2025, 5, 16), {"reason": "社会关注度高"})
    assert s.case.state == "in_collective_discussion"


# -- the county's LOCAL rules (proposals, source not verified) --------------------------------------------


def _not_major(fine: int) -> Step:
    return Step(
        "classify_not_major",
        "handler_huang",
        date(2025, 4, 18),
        {"not_major_reason": "未达目录标准", "fine_amount": fine},
    )


@pytest.mark.parametrize(
    ("party_kind", "fine", "reviewed"),
    [("unit", 50000, True), ("unit", 49999, False), ("citizen", 20000, True), ("citizen", 19999, False)],
)
def test_a_fine_at_the_catalogue_threshold_must_be_reviewed(
    definitions: Definitions, party_kind: str, fine: int, reviewed: bool
) -> None:
    s = EnforcementStory(definitions)
    s.step(replace(MAIN_PATH[0], fields={**REGISTRATION, "party_kind": party_kind}))
    if reviewed:  # 以上(含): the threshold itself is on the catalogue
        exc = refusal(s, _not_major(fine))
        (unmet,) = [u for u in exc.unmet if u.rule_id == "youxian_enforcement_decision.catalogue_fine_is_reviewed"]
        assert "出处未核实 / source not verified" in unmet.citation  # a LOCAL proposal, never attributed
    else:
        s.step(_not_major(fine))
        assert s.case.state == "not_major"


def test_a_penalty_classed_as_not_major_states_its_fine(definitions: Definitions) -> None:
    s = EnforcementStory(definitions).until(1)
    no_amount = Step("classify_not_major", "handler_huang", date(2025, 4, 18), {"not_major_reason": "未达目录标准"})
    assert "youxian_enforcement_decision.catalogue_fine_is_reviewed" in rule_ids(refusal(s, no_amount))


def test_the_boundary_rule_is_stored_with_the_threshold(tmp_path: Path) -> None:
    """A catalogue that says 不含: a fine of exactly 50,000 yuan on a company is not on it."""
    deployment = load_deployment(ROOT / "decisions.yaml")
    county = ROOT / "rules" / "youxian-enforcement_decision.yaml"
    text = county.read_text(encoding="utf-8").replace("    value: inclusive\n", "    value: exclusive\n", 1)
    exclusive = tmp_path / county.name
    exclusive.write_text(text, encoding="utf-8")
    packs = [exclusive if Path(p).name == county.name else p for p in deployment.rule_packs]
    definitions = load_definitions(deployment.workflows, packs, deployment.calendar)
    s = EnforcementStory(definitions).until(1)
    s.step(_not_major(50000))
    assert s.case.state == "not_major"
    s = EnforcementStory(definitions).until(1)
    assert "youxian_enforcement_decision.catalogue_fine_is_reviewed" in rule_ids(refusal(s, _not_major(50001)))


def test_a_heard_case_is_submitted_with_its_hearing_record(definitions: Definitions) -> None:
    s = story(definitions, "conclude_investigation")
    s.step(replace(MAIN_PATH[1], fields={**CONCLUSION, "hearing_held": True}))
    submit = MAIN_PATH[step_index("submit_for_review")]
    assert "youxian_enforcement_decision.hearing_record_submitted" in rule_ids(refusal(s, submit))
    s.step(replace(submit, docs=(*submit.docs, "hearing_record")))
    assert s.case.state == "submitted"


def test_an_unsupplemented_file_is_returned_only_after_the_supplement_period(definitions: Definitions) -> None:
    """3 working days (LOCAL): asked on Monday 9 June 2025, the period ends on Thursday 12 June."""
    s = story(definitions, "find_problems")
    s.do("request_supplement", "reviewer_han", date(2025, 6, 9), {"reason": "缺少抽样检验报告"})
    early = Step(
        "return_unsupplemented", "reviewer_han", date(2025, 6, 12), {"reason": "逾期未补充"}, ("return_notice",)
    )
    assert "youxian_enforcement_decision.returned_only_after_supplement_period" in rule_ids(refusal(s, early))
    s.step(replace(early, on=date(2025, 6, 13)))
    assert s.case.state == "investigation_concluded"


def test_the_review_period_is_extended_once(definitions: Definitions) -> None:
    s = story(definitions, "find_problems")
    extend = Step("extend_review", "head_xu", date(2025, 4, 25), {"reason": "案情复杂"}, ("extension_approval",))
    s.step(extend)
    again = replace(extend, on=date(2025, 4, 28))
    assert "youxian_enforcement_decision.review_extended_once" in rule_ids(refusal(s, again))


def test_a_disagreement_is_settled_at_the_heads_meeting(definitions: Definitions) -> None:
    s = story(definitions, "resubmit_for_review")
    s.do(
        "contest_opinion",
        "handler_huang",
        date(2025, 4, 29),
        {"disagreement": "从重情节已在调查报告中说明"},
        ("disagreement_statement",),
    )
    alone = Step("uphold_handler", "head_peng", date(2025, 4, 30), {"reason": "承办机构意见成立"})
    assert "youxian_enforcement_decision.disagreement_settled_at_meeting" in rule_ids(refusal(s, alone))
    s.step(
        replace(
            alone,
            fields={"reason": "承办机构意见成立", "attendees": ["head_peng", "head_xu"]},
            docs=("coordination_minutes",),
        )
    )
    assert s.case.state == "submitted"  # back to the reviewer: only an 同意 opinion opens the decision
    exc = refusal(
        s, Step("decide", "head_peng", date(2025, 5, 6), {"decision_outcome": "penalty"}, ("decision_document",))
    )
    assert "engine.unavailable" in rule_ids(exc)


def test_national_citations_are_verified_and_every_county_value_is_not(definitions: Definitions) -> None:
    """118号 and 行政处罚法 were read in full [V]; the county values are proposals from other places' texts
    read in part [P]: each refusal citing one says so."""
    rules = [r for r in definitions.rulebook.rules.values() if r.workflow == WORKFLOW]
    national = {r.id for r in rules if r.pack == "enforcement_decision"}
    county = {r.id for r in rules if r.pack == "youxian_enforcement_decision"}
    assert len(national) == 6 and len(county) == 5
    for r in rules:
        assert r.citation.verified is (r.id in national), r.id
    for name, p in definitions.rulebook.parameters.items():
        if name.startswith("enforcement_"):
            (setting,) = p.sources
            expected = setting.pack == "enforcement_decision"
            assert setting.citation is not None and setting.citation.verified is expected, name


# -- the definitions ---------------------------------------------------------------------------------------


def test_workflow_check_passes_on_the_shipped_tree_with_the_enforcement_files() -> None:
    report = DefinitionsService(load_deployment(ROOT / "decisions.yaml")).check()
    assert report.ok, [str(p) for f in report.files for p in f.problems]
    names = {Path(f.file).name for f in report.files}
    assert {"enforcement_decision.yaml", "youxian-enforcement_decision.yaml"} <= names


SHIPPED = (ROOT / "workflows" / "enforcement_decision.yaml").read_text(encoding="utf-8")


def _check(tmp_path: Path, text: str) -> list[tuple[str, int | None, str]]:
    path = tmp_path / "enforcement_decision.yaml"
    path.write_text(text, encoding="utf-8")
    service = DefinitionsService(load_deployment(ROOT / "decisions.yaml"))
    (check,) = service.check([path]).files
    lines = text.splitlines()
    return [(p.message, p.line, lines[p.line - 1] if p.line else "") for p in check.problems]


def test_without_the_declaration_a_head_alone_decision_is_refused_where_it_is_declared(tmp_path: Path) -> None:
    """`collective_discussion: by_rule` is what lets the head decide alone; without it the loader asks
    for collective discussion before every decision, as it does of the major-decision procedure."""
    problems = _check(tmp_path, SHIPPED.replace("  collective_discussion: by_rule\n", "", 1))
    located = [(line, src) for msg, line, src in problems if "reachable without collective discussion" in msg]
    assert located and all(line is not None for line, _ in located)
    assert any(src.startswith("  decided: {label") for _, src in located), problems


def test_a_collective_discussion_declaration_that_is_not_a_boolean_is_refused_on_its_line(tmp_path: Path) -> None:
    problems = _check(
        tmp_path, SHIPPED.replace("  collective_discussion: by_rule\n", "  collective_discussion: sometimes\n", 1)
    )
    assert any("collective_discussion: sometimes" in src for _, _, src in problems), problems


def test_the_review_gate_still_protects_the_decision_without_collective_discussion(tmp_path: Path) -> None:
    problems = _check(
        tmp_path,
        SHIPPED.replace(
            "    protects: [awaiting_decision, in_collective_discussion, decided, published]\n",
            "    protects: [awaiting_decision, in_collective_discussion, published]\n",
            1,
        ),
    )
    assert any("approval state 'decided' is not protected" in msg for msg, _, _ in problems), problems


# -- the demo scenario ---------------------------------------------------------------------------------


def test_the_demo_year_carries_the_fine_through_and_refuses_it_at_the_gate_once(definitions: Definitions) -> None:
    """demo/40-enforcement.yaml, played by the demo player with the county's year (on the in-memory
    store: the database adds nothing here): the handler's edit after the 同意 is refused once by the
    legal-review gate; the case goes through a problems round to its decision and the archive."""
    office = Office(memory_store(), definitions, clock=fixed_clock)
    lines: list[str] = []
    ids = run_demo(office, lines.append, load_scenarios(ROOT / "demo"))
    case = office.cases.view(ids["penalty"]).case
    assert case.state == "archived"
    assert sum(f"✗ [{GATE_RULE}]" in line for line in lines) == 1
    assert [r.fields["opinion"] for r in case.records if r.kind == "legal_review"] == ["problems", "agree", "agree"]


def test_a_procedure_declared_without_collective_discussion_needs_no_discussion_state(tmp_path: Path) -> None:
    """With the declaration, a procedure whose head always decides alone loads without any meeting state;
    without it, the same file is refused for lacking one (as the major-decision procedure would be)."""
    no_meeting_flag = SHIPPED.replace("stage: decision, discussion: true}", "stage: decision}", 1)
    assert no_meeting_flag != SHIPPED
    assert _check(tmp_path, no_meeting_flag) == []
    undeclared = no_meeting_flag.replace("  collective_discussion: by_rule\n", "", 1)
    assert any("declares no discussion state" in msg for msg, _, _ in _check(tmp_path, undeclared))


def test_a_date_out_of_order_cites_the_duty_to_record_the_whole_process(definitions: Definitions) -> None:
    """The engine's own checks rest on this procedure's text, not on Decree 713's: a record dated before
    the one it follows breaks the 全过程记录 of 行政处罚法 Art. 47."""
    s = story(definitions, "accept_submission")
    step = MAIN_PATH[step_index("accept_submission")]
    early = replace(step, on=date(2025, 3, 1))
    (unmet,) = [u for u in refusal(s, early).unmet if u.rule_id == "engine.date_order"]
    assert "行政处罚法" in unmet.citation and "第四十七条" in unmet.citation
    assert "国务院令第713号" not in unmet.citation


def _deadlines(definitions: Definitions, case: Case, today: date) -> list[tuple[str, date]]:
    book = definitions.rulebook
    wf = definitions.workflow(WORKFLOW)
    return [
        (d.label.en, d.due)
        for d in case_deadlines(case, wf, book.parameters, definitions.calendar, today, book.counting)
    ]


def _as(case: Case, action_type: str) -> Case:
    """The same case file, opened for another kind of enforcement decision."""
    return replace(case, attributes={**case.attributes, "action_type": action_type})


def test_the_penalty_periods_bind_penalties_and_the_publication_period_follows_the_kind_of_decision(
    definitions: Definitions,
) -> None:
    """Art. 60's 90 days from 立案 (2025-03-10: day 90 is Sunday 06-08, so Monday 06-09) bind a penalty,
    shown beside the review period while the review runs; after the decision (Friday 05-16) a penalty or
    a licence is published within 7 working days (05-27, 118号 §（六）), another decision within 20
    (06-16). The same file opened for a licence has no 90-day period."""
    reviewing = story(definitions, "find_problems").case
    assert ("penalty decided within 90 days of 立案", date(2025, 6, 9)) in _deadlines(
        definitions, reviewing, date(2025, 4, 25)
    )
    assert all(
        "90 days" not in label for label, _ in _deadlines(definitions, _as(reviewing, "licence"), date(2025, 4, 25))
    )
    decided = story(definitions, "serve").case
    assert _deadlines(definitions, decided, date(2025, 5, 19)) == [
        ("publication of the decision (licences, penalties)", date(2025, 5, 27))
    ]
    assert [due for _, due in _deadlines(definitions, _as(decided, "licence"), date(2025, 5, 19))] == [
        date(2025, 5, 27)
    ]
    assert _deadlines(definitions, _as(decided, "inspection"), date(2025, 5, 19)) == [
        ("publication of the decision (other enforcement decisions)", date(2025, 6, 16))
    ]
