"""The engine walks the shipped major-decision workflow and refuses what Decree 713 forbids."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from decisions.definitions import Definitions
from decisions.errors import ActionRefused, UsageError
from decisions.model import Case
from decisions.workflow.engine import Engine
from tests.support import MAIN_PATH, MEETING, PEOPLE, Story, V, rule_ids

LEGALITY_GATE = "national.legality_review_lawful_for_current_draft"
ART_25 = "第二十五条"


def test_main_path_runs_from_proposal_to_archive(story: Story) -> None:
    story.walk("end")
    assert story.case.state == V("archived")
    assert [r.trigger for r in story.case.records] == [s.trigger for s in MAIN_PATH]
    review = next(r for r in story.case.records if r.kind == V("legality_review"))
    assert review.fields[V("outcome")] == V("lawful")
    assert review.draft_version == story.case.draft_version == 1
    assert story.case.attributes[V("organiser_unit")] == "县交通运输局"


def test_review_sent_back_for_revision_then_re_reviewed(story: Story) -> None:
    story.walk(V("find_lawful"))
    story.do(
        V("find_needs_revision"),
        "counsel_zhao",
        date(2025, 4, 25),
        {
            V("authority"): V("compliant"),
            V("procedure"): V("compliant"),
            V("content"): V("non_compliant"),
            V("reason"): "第五条与上位法不一致",
        },
        (V("review_opinion"),),
    )
    assert story.case.state == V("revision_required")
    refused = story.refused(V("submit_for_discussion"), "clerk_li", date(2025, 4, 28), {}, (V("discussion_package"),))
    assert LEGALITY_GATE in rule_ids(refused)
    story.do(
        V("resubmit_legality_review"),
        "clerk_li",
        date(2025, 4, 28),
        {V("review_due"): date(2025, 5, 12)},
        (V("draft"), V("revision_explanation")),
    )
    assert story.case.draft_version == 2
    story.do(V("accept_review"), "counsel_zhao", date(2025, 4, 29))
    story.do(V("give_legal_opinion"), "lawyer_zheng", date(2025, 5, 8), {}, (V("legal_counsel_opinion"),))
    story.do(
        V("find_lawful"),
        "counsel_zhao",
        date(2025, 5, 9),
        {V("authority"): V("compliant"), V("procedure"): V("compliant"), V("content"): V("compliant")},
        (V("review_opinion"),),
    )
    story.do(
        V("report_to_party_committee"),
        "office_chen",
        date(2025, 5, 9),
        {V("party_report_kind"): V("report")},
        (V("party_report"),),
    )
    story.do(V("submit_for_discussion"), "clerk_li", date(2025, 5, 12), {}, (V("discussion_package"),))
    assert story.case.state == V("in_discussion")


def test_supplement_loop_and_return_loop(story: Story) -> None:
    story.walk(V("give_legal_opinion"))
    story.do(V("request_supplement"), "counsel_zhao", date(2025, 4, 18), {V("reason"): "缺少成本测算"})
    story.do(V("provide_supplement"), "clerk_li", date(2025, 4, 21), {}, (V("supplement"),))
    assert story.case.state == V("under_review")
    story = Story(story.engine.definitions, case_id="D-2025-002").walk(V("accept_review"))
    story.do(
        V("return_submission"),
        "counsel_zhao",
        date(2025, 4, 17),
        {V("reason"): "材料不全"},
        (V("return_notice"),),
    )
    assert story.case.state == V("argumentation")
    story.do(V("submit_legality_review"), "clerk_li", date(2025, 4, 18), {V("review_due"): date(2025, 5, 6)})
    assert story.case.state == V("legality_submitted")


def test_meeting_sends_back_for_revision_and_the_new_draft_needs_a_new_review(story: Story) -> None:
    story.walk(V("approve"))
    views = [dict(v, position=V("revise")) for v in MEETING[V("views")]]
    story.do(
        V("send_back_for_revision"),
        "office_chen",
        date(2025, 5, 6),
        {**MEETING, V("views"): views},
        (V("minutes"),),
    )
    assert story.case.state == V("argumentation")
    story.do(V("revise_draft"), "clerk_li", date(2025, 5, 8), {}, (V("draft"),))
    story.do(V("submit_legality_review"), "clerk_li", date(2025, 5, 9), {V("review_due"): date(2025, 5, 20)})
    story.do(V("accept_review"), "counsel_zhao", date(2025, 5, 9))
    story.do(V("give_legal_opinion"), "lawyer_zheng", date(2025, 5, 16), {}, (V("legal_counsel_opinion"),))
    story.do(
        V("find_lawful"),
        "counsel_zhao",
        date(2025, 5, 20),
        {V("authority"): V("compliant"), V("procedure"): V("compliant"), V("content"): V("compliant")},
        (V("review_opinion"),),
    )
    story.do(V("submit_for_discussion"), "clerk_li", date(2025, 5, 21), {}, (V("discussion_package"),))
    story.do(V("approve"), "office_chen", date(2025, 5, 27), MEETING, (V("minutes"),))
    assert story.case.state == V("decided")


def _states_without_lawful_review(definitions: Definitions) -> list[str]:
    wf = definitions.workflow("major_decision")
    after = {
        V("reviewed_lawful"),
        V("reviewed_with_legal_risk"),
        V("in_discussion"),
        V("deferred"),
        V("decided"),
        V("published"),
        V("executing"),
        V("post_evaluation"),
        V("suspended"),
        V("completed"),
        V("superseded"),
        V("rejected"),
        V("archived"),
    }
    return [s for s in wf.states if s not in after]


@pytest.mark.parametrize("trigger", [V("submit_for_discussion"), V("approve"), V("publish")])
def test_no_route_to_discussion_decision_or_publication_without_a_lawful_review(
    definitions: Definitions, trigger: str
) -> None:
    """From every state a case can be in before a lawful review, reaching discussion, a decision or
    publication is refused, and the refusal cites Art. 25."""
    base = Story(definitions).walk(V("find_lawful")).case  # everything done except the review opinion
    engine = Engine(definitions, "major_decision")
    actor = {
        V("submit_for_discussion"): "clerk_li",
        V("approve"): "office_chen",
        V("publish"): "office_chen",
    }[trigger]
    fields = {V("approve"): MEETING, V("publish"): {V("publication_channels"): ["gazette"]}}.get(trigger, {})
    story = Story(definitions)
    for state in _states_without_lawful_review(definitions):
        story.case = replace(base, state=state)
        with pytest.raises(ActionRefused) as refused:
            story.do(
                trigger,
                actor,
                date(2025, 5, 6),
                dict(fields),
                (V("discussion_package"), V("minutes"), V("publication")),
            )
        gate = [u for u in refused.value.unmet if u.rule_id == LEGALITY_GATE]
        assert gate and ART_25 in gate[0].citation, (state, refused.value)
    assert engine.workflow.name == "major_decision"


def test_unlawful_finding_blocks_submission_with_art_25(story: Story) -> None:
    story.walk(V("find_lawful"))
    story.do(
        V("find_unlawful"),
        "counsel_zhao",
        date(2025, 4, 25),
        {
            V("authority"): V("non_compliant"),
            V("procedure"): V("compliant"),
            V("content"): V("compliant"),
            V("reason"): "超越法定权限",
        },
        (V("review_opinion"),),
    )
    refused = story.refused(V("submit_for_discussion"), "clerk_li", date(2025, 4, 29), {}, (V("discussion_package"),))
    assert any(u.rule_id == LEGALITY_GATE and ART_25 in u.citation for u in refused.unmet)


def test_draft_changed_after_lawful_review_is_refused_until_reviewed_again(story: Story) -> None:
    story.walk(V("submit_for_discussion"))
    story.do(V("amend_draft"), "clerk_li", date(2025, 4, 29), {}, (V("draft"),))
    refused = story.refused(V("submit_for_discussion"), "clerk_li", date(2025, 4, 29), {}, (V("discussion_package"),))
    assert LEGALITY_GATE in rule_ids(refused)
    assert "the exact draft version" in next(u.message_en for u in refused.unmet if u.rule_id == LEGALITY_GATE)


def test_refusal_lists_every_unmet_requirement_at_once(story: Story) -> None:
    story.walk(V("launch"))
    refused = story.refused(V("launch"), "office_chen", date(2025, 3, 5), {V("units"): ["交通局", "财政局"]})
    ids = rule_ids(refused)
    assert {
        "engine.role",
        f"engine.field.{V('organiser_unit')}",
        f"engine.document.{V('launch_decision')}",
        "national.organiser_named",
        "national.lead_unit_when_several",
        "hunan.on_catalogue_or_reason",
    } <= ids
    assert all(u.citation for u in refused.unmet)


def test_conditional_stages_are_required_by_facts_not_skipped_by_hand(
    definitions: Definitions,
) -> None:
    story = Story(definitions)
    technical = {**MAIN_PATH[0].fields, V("technical"): True, V("risk"): True}
    story.walk(V("submit_legality_review"), overrides={V("propose"): replace(MAIN_PATH[0], fields=technical)})
    refused = story.refused(
        V("submit_legality_review"),
        "clerk_li",
        date(2025, 4, 16),
        {V("review_due"): date(2025, 4, 30)},
        (V("legal_basis"), V("procedure_statement")),
    )
    assert {
        "national.expert_argumentation_when_technical",
        "national.risk_assessment_when_risky",
    } <= rule_ids(refused)
    citations = " ".join(u.citation for u in refused.unmet)
    assert "第十九条" in citations and "第二十二条" in citations


def test_options_show_available_and_blocked_actions_with_reasons(story: Story) -> None:
    story.walk(V("submit_for_discussion"))
    engine, case = story.engine, story.case
    organiser = {o.trigger: o for o in engine.options(case, PEOPLE["clerk_li"], date(2025, 4, 29))}
    assert organiser[V("submit_for_discussion")].available
    clerk = {o.trigger: o for o in engine.options(case, PEOPLE["office_chen"], date(2025, 4, 29))}
    assert [u.rule_id for u in clerk[V("submit_for_discussion")].blocked] == ["engine.role"]
    story.do(V("amend_draft"), "clerk_li", date(2025, 4, 29), {}, (V("draft"),))
    after = {o.trigger: o for o in engine.options(story.case, PEOPLE["clerk_li"], date(2025, 4, 29))}
    blocked = after[V("submit_for_discussion")].blocked
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
        engine.fire(case, Story(definitions).action(replace(MAIN_PATH[0], trigger=f"to_{V('published')}")))
    assert not any(name.startswith("to_") for name in dir(engine._token))  # auto_transitions is off


def test_dates_cannot_go_backwards(story: Story) -> None:
    story.walk(V("launch"))
    refused = story.refused(
        V("launch"),
        "head_wang",
        date(2025, 3, 1),
        {V("organiser_unit"): "交通局", V("catalogue_item"): "2025-03"},
        (V("launch_decision"),),
    )
    assert rule_ids(refused) == {"engine.date_order"}


def test_fields_are_typed_and_unknown_fields_refused(story: Story) -> None:
    story.walk(V("open_consultation"))
    refused = story.refused(
        V("open_consultation"),
        "clerk_li",
        date(2025, 3, 12),
        {V("comment_deadline"): "2025-04-14", V("channels"): ["website"], "mood": "good"},
        (V("consultation_notice"),),
    )
    assert {f"engine.field.{V('comment_deadline')}", "engine.field.mood"} <= rule_ids(refused)


def test_unknown_calendar_year_is_an_error_never_false(story: Story) -> None:
    story.walk(V("submit_legality_review"))
    refused = story.refused(
        V("submit_legality_review"),
        "clerk_li",
        date(2025, 4, 16),
        {V("review_due"): date(2027, 3, 1)},
        (V("legal_basis"), V("procedure_statement")),
    )
    (unmet,) = [u for u in refused.unmet if u.rule_id == "national.review_period_minimum"]
    assert unmet.kind == "error" and "2027" in unmet.message_en
