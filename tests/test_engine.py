"""The engine walks the shipped major-decision workflow and refuses what Decree 713 forbids."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from decisions.definitions import Definitions
from decisions.errors import ActionRefused, UsageError
from decisions.model import Case
from decisions.workflow.engine import Engine
from tests.support import MAIN_PATH, MEETING, PEOPLE, Story, rule_ids

LEGALITY_GATE = "national.legality_review_lawful_for_current_draft"
ART_25 = "第二十五条"


def test_main_path_runs_from_proposal_to_archive(story: Story) -> None:
    story.walk("end")
    assert story.case.state == "archived"
    assert [r.trigger for r in story.case.records] == [s.trigger for s in MAIN_PATH]
    review = next(r for r in story.case.records if r.kind == "legality_review")
    assert review.fields["outcome"] == "lawful"
    assert review.draft_version == story.case.draft_version == 1
    assert story.case.attributes["organiser_unit"] == "县交通运输局"


def test_review_sent_back_for_revision_then_re_reviewed(story: Story) -> None:
    story.walk("find_lawful")
    story.do(
        "find_needs_revision",
        "counsel_zhao",
        date(2025, 4, 25),
        {
            "authority": "compliant",
            "procedure": "compliant",
            "content": "non_compliant",
            "reason": "第五条与上位法不一致",
        },
        ("review_opinion",),
    )
    assert story.case.state == "revision_required"
    refused = story.refused("submit_for_discussion", "clerk_li", date(2025, 4, 28), {}, ("discussion_package",))
    assert LEGALITY_GATE in rule_ids(refused)
    story.do(
        "resubmit_legality_review",
        "clerk_li",
        date(2025, 4, 28),
        {"review_due": date(2025, 5, 12)},
        ("draft", "revision_explanation"),
    )
    assert story.case.draft_version == 2
    story.do("accept_review", "counsel_zhao", date(2025, 4, 29))
    story.do("give_legal_opinion", "lawyer_zheng", date(2025, 5, 8), {}, ("legal_counsel_opinion",))
    story.do(
        "find_lawful",
        "counsel_zhao",
        date(2025, 5, 9),
        {"authority": "compliant", "procedure": "compliant", "content": "compliant"},
        ("review_opinion",),
    )
    story.do(
        "report_to_party_committee", "office_chen", date(2025, 5, 9), {"party_report_kind": "report"}, ("party_report",)
    )
    story.do("submit_for_discussion", "clerk_li", date(2025, 5, 12), {}, ("discussion_package",))
    assert story.case.state == "in_discussion"


def test_supplement_loop_and_return_loop(story: Story) -> None:
    story.walk("give_legal_opinion")
    story.do("request_supplement", "counsel_zhao", date(2025, 4, 18), {"reason": "缺少成本测算"})
    story.do("provide_supplement", "clerk_li", date(2025, 4, 21), {}, ("supplement",))
    assert story.case.state == "under_review"
    story = Story(story.engine.definitions, case_id="D-2025-002").walk("accept_review")
    story.do(
        "return_submission",
        "counsel_zhao",
        date(2025, 4, 17),
        {"reason": "材料不全"},
        ("return_notice",),
    )
    assert story.case.state == "argumentation"
    story.do("submit_legality_review", "clerk_li", date(2025, 4, 18), {"review_due": date(2025, 5, 6)})
    assert story.case.state == "legality_submitted"


def test_meeting_sends_back_for_revision_and_the_new_draft_needs_a_new_review(story: Story) -> None:
    story.walk("approve")
    views = [dict(v, position="revise") for v in MEETING["views"]]
    story.do(
        "send_back_for_revision",
        "office_chen",
        date(2025, 5, 6),
        {**MEETING, "views": views},
        ("minutes",),
    )
    assert story.case.state == "argumentation"
    story.do("revise_draft", "clerk_li", date(2025, 5, 8), {}, ("draft",))
    story.do("submit_legality_review", "clerk_li", date(2025, 5, 9), {"review_due": date(2025, 5, 20)})
    story.do("accept_review", "counsel_zhao", date(2025, 5, 9))
    story.do("give_legal_opinion", "lawyer_zheng", date(2025, 5, 16), {}, ("legal_counsel_opinion",))
    story.do(
        "find_lawful",
        "counsel_zhao",
        date(2025, 5, 20),
        {"authority": "compliant", "procedure": "compliant", "content": "compliant"},
        ("review_opinion",),
    )
    story.do("submit_for_discussion", "clerk_li", date(2025, 5, 21), {}, ("discussion_package",))
    story.do("approve", "office_chen", date(2025, 5, 27), MEETING, ("minutes",))
    assert story.case.state == "decided"


def _states_without_lawful_review(definitions: Definitions) -> list[str]:
    wf = definitions.workflow("major_decision")
    after = {
        "reviewed_lawful",
        "reviewed_with_legal_risk",
        "in_discussion",
        "deferred",
        "decided",
        "published",
        "executing",
        "post_evaluation",
        "suspended",
        "completed",
        "superseded",
        "rejected",
        "archived",
    }
    return [s for s in wf.states if s not in after]


@pytest.mark.parametrize("trigger", ["submit_for_discussion", "approve", "publish"])
def test_no_route_to_discussion_decision_or_publication_without_a_lawful_review(
    definitions: Definitions, trigger: str
) -> None:
    """From every state a case can be in before a lawful review, reaching discussion, a decision or
    publication is refused, and the refusal cites Art. 25."""
    base = Story(definitions).walk("find_lawful").case  # everything done except the review opinion
    engine = Engine(definitions, "major_decision")
    actor = {
        "submit_for_discussion": "clerk_li",
        "approve": "office_chen",
        "publish": "office_chen",
    }[trigger]
    fields = {"approve": MEETING, "publish": {"publication_channels": ["gazette"]}}.get(trigger, {})
    story = Story(definitions)
    for state in _states_without_lawful_review(definitions):
        story.case = replace(base, state=state)
        with pytest.raises(ActionRefused) as refused:
            story.do(
                trigger,
                actor,
                date(2025, 5, 6),
                dict(fields),
                ("discussion_package", "minutes", "publication"),
            )
        gate = [u for u in refused.value.unmet if u.rule_id == LEGALITY_GATE]
        assert gate and ART_25 in gate[0].citation, (state, refused.value)
    assert engine.workflow.name == "major_decision"


def test_unlawful_finding_blocks_submission_with_art_25(story: Story) -> None:
    story.walk("find_lawful")
    story.do(
        "find_unlawful",
        "counsel_zhao",
        date(2025, 4, 25),
        {"authority": "non_compliant", "procedure": "compliant", "content": "compliant", "reason": "超越法定权限"},
        ("review_opinion",),
    )
    refused = story.refused("submit_for_discussion", "clerk_li", date(2025, 4, 29), {}, ("discussion_package",))
    assert any(u.rule_id == LEGALITY_GATE and ART_25 in u.citation for u in refused.unmet)


def test_draft_changed_after_lawful_review_is_refused_until_reviewed_again(story: Story) -> None:
    story.walk("submit_for_discussion")
    story.do("amend_draft", "clerk_li", date(2025, 4, 29), {}, ("draft",))
    refused = story.refused("submit_for_discussion", "clerk_li", date(2025, 4, 29), {}, ("discussion_package",))
    assert LEGALITY_GATE in rule_ids(refused)
    assert "the exact draft version" in next(u.message_en for u in refused.unmet if u.rule_id == LEGALITY_GATE)


def test_refusal_lists_every_unmet_requirement_at_once(story: Story) -> None:
    story.walk("launch")
    refused = story.refused("launch", "office_chen", date(2025, 3, 5), {"units": ["交通局", "财政局"]})
    ids = rule_ids(refused)
    assert {
        "engine.role",
        "engine.field.organiser_unit",
        "engine.document.launch_decision",
        "national.organiser_named",
        "national.lead_unit_when_several",
        "hunan.on_catalogue_or_reason",
    } <= ids
    assert all(u.citation for u in refused.unmet)


def test_conditional_stages_are_required_by_facts_not_skipped_by_hand(
    definitions: Definitions,
) -> None:
    story = Story(definitions)
    technical = {**MAIN_PATH[0].fields, "technical": True, "risk": True}
    story.walk("submit_legality_review", overrides={"propose": replace(MAIN_PATH[0], fields=technical)})
    refused = story.refused(
        "submit_legality_review",
        "clerk_li",
        date(2025, 4, 16),
        {"review_due": date(2025, 4, 30)},
        ("legal_basis", "procedure_statement"),
    )
    assert {
        "national.expert_argumentation_when_technical",
        "national.risk_assessment_when_risky",
    } <= rule_ids(refused)
    citations = " ".join(u.citation for u in refused.unmet)
    assert "第十九条" in citations and "第二十二条" in citations


def test_options_show_available_and_blocked_actions_with_reasons(story: Story) -> None:
    story.walk("submit_for_discussion")
    engine, case = story.engine, story.case
    organiser = {o.trigger: o for o in engine.options(case, PEOPLE["clerk_li"], date(2025, 4, 29))}
    assert organiser["submit_for_discussion"].available
    clerk = {o.trigger: o for o in engine.options(case, PEOPLE["office_chen"], date(2025, 4, 29))}
    assert [u.rule_id for u in clerk["submit_for_discussion"].blocked] == ["engine.role"]
    story.do("amend_draft", "clerk_li", date(2025, 4, 29), {}, ("draft",))
    after = {o.trigger: o for o in engine.options(story.case, PEOPLE["clerk_li"], date(2025, 4, 29))}
    blocked = after["submit_for_discussion"].blocked
    assert [u.rule_id for u in blocked] == [LEGALITY_GATE] and ART_25 in blocked[0].citation


def test_auditor_can_do_nothing(story: Story) -> None:
    story.walk("end")
    engine = story.engine
    for state in engine.workflow.states:
        case = replace(story.case, state=state)
        assert all(not o.available for o in engine.options(case, PEOPLE["auditor_qian"], date(2025, 12, 11)))


def test_no_dynamic_state_bypass(definitions: Definitions) -> None:
    engine = Engine(definitions, "major_decision")
    case: Case = engine.new_case("D-1")
    with pytest.raises(UsageError):
        engine.fire(case, Story(definitions).action(replace(MAIN_PATH[0], trigger="to_published")))
    assert not any(name.startswith("to_") for name in dir(engine._token))  # auto_transitions is off


def test_dates_cannot_go_backwards(story: Story) -> None:
    story.walk("launch")
    refused = story.refused(
        "launch",
        "head_wang",
        date(2025, 3, 1),
        {"organiser_unit": "交通局", "catalogue_item": "2025-03"},
        ("launch_decision",),
    )
    assert rule_ids(refused) == {"engine.date_order"}


def test_fields_are_typed_and_unknown_fields_refused(story: Story) -> None:
    story.walk("open_consultation")
    refused = story.refused(
        "open_consultation",
        "clerk_li",
        date(2025, 3, 12),
        {"comment_deadline": "2025-04-14", "channels": ["website"], "mood": "good"},
        ("consultation_notice",),
    )
    assert {"engine.field.comment_deadline", "engine.field.mood"} <= rule_ids(refused)


def test_unknown_calendar_year_is_an_error_never_false(story: Story) -> None:
    story.walk("submit_legality_review")
    refused = story.refused(
        "submit_legality_review",
        "clerk_li",
        date(2025, 4, 16),
        {"review_due": date(2027, 3, 1)},
        ("legal_basis", "procedure_statement"),
    )
    (unmet,) = [u for u in refused.unmet if u.rule_id == "national.review_period_minimum"]
    assert unmet.kind == "error" and "2027" in unmet.message_en
