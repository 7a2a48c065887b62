"""Issue 11: attributes that stay once established, who does the legality review, the Party request and
the people's congress, and the details of the review opinion.

Each test walks a decision through the real engine (`tests.support.Story`) or, where the promise is
about what is stored, through the service layer on SQLite and PostgreSQL (`tests.stores`). The table
in `tests.test_rules` gives every new rule its allowed and refused case; the tests here follow the
stories the issue tells.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from decisions.definitions import Definitions
from decisions.errors import ActionRefused
from decisions.model import Action, Document
from decisions.rules.conditions import PENDING, Env, Fact
from decisions.service.cases import CaseService
from tests.stores import play
from tests.support import PEOPLE, Step, Story, doc, rule_ids
from tests.test_rules import (
    AFTER_CLOSE,
    ASKED,
    REQUEST,
    RESOLUTION,
    SENT_BACK,
    assert_cited,
    attempt_allowed,
    attempt_refused,
    clear,
    complete_risk,
    concur,
    legal_opinion,
    main,
    main_with,
    path,
    reassess,
    reply,
    start_risk,
    submit_review,
)

D = date
RISK_STAYS = "national.risk_flag_stays"
CONTROLLABLE = "national.risk_controllable"
CONCURRED = "national.attribute_clearance_concurred"
ART_24 = ("第二十四条", "Art. 24")


def assessed(story: Story, conclusion: str) -> Story:
    """A risky bus-fare matter, walked to argumentation and assessed with ``conclusion``."""
    story.walk(AFTER_CLOSE, main_with(risk=True))
    story.step(start_risk(D(2025, 4, 16)))
    story.step(complete_risk(D(2025, 4, 24), conclusion))
    return story


def reviewed_lawful(story: Story) -> Story:
    """From argumentation (late April), through a lawful review and the Party report, to 2025-05-08."""
    story.step(submit_review(D(2025, 4, 25), D(2025, 5, 13)))
    story.step(main("accept_review", on=D(2025, 5, 6)))
    story.step(legal_opinion(D(2025, 5, 7)))
    story.step(main("find_lawful", on=D(2025, 5, 8)))
    story.step(main("report_to_party_committee", on=D(2025, 5, 8)))
    return story


SUBMIT = main("submit_for_discussion", on=D(2025, 5, 9))


def refusal_of(story: Story, step: Step) -> ActionRefused:
    return story.refused(step.trigger, step.actor, step.on, step.fields, step.docs)


# -- the probe: a risk assessed "not controllable", then risk=false, then published (Art. 24) ------------


def test_the_organiser_cannot_clear_a_risk_assessed_not_controllable(story: Story) -> None:
    """The probe of the issue: after a 'not controllable' assessment the organiser sets risk=false with
    some reason. Refused, citing Art. 24; the attribute stays true."""
    assessed(story, "not_controllable")
    unmet = attempt_refused(story, reassess(D(2025, 4, 24), risk=False), RISK_STAYS)
    for fragment in ART_24:
        assert fragment in unmet.citation
    assert story.case.attributes["risk"] is True


def test_a_not_controllable_assessment_blocks_the_decision_even_after_the_head_clears_the_flag(
    story: Story,
) -> None:
    """The head may clear the flag with the reviewer's concurrence, but Art. 24 still reads the
    assessment that exists: the case cannot go to discussion until a controllable one follows."""
    assessed(story, "not_controllable")
    story.step(concur(D(2025, 4, 24)))
    story.step(clear(D(2025, 4, 24), risk=False))
    assert story.case.attributes["risk"] is False
    unmet = attempt_refused(reviewed_lawful(story), SUBMIT, CONTROLLABLE)
    assert all(fragment in unmet.citation for fragment in ART_24)
    assert story.case.state == "reviewed_lawful"


def test_risk_controllable_applies_to_an_assessment_whatever_the_flag_says(story: Story) -> None:
    """A matter never flagged risky but assessed anyway is judged by its assessment."""
    story.walk(AFTER_CLOSE)
    story.step(start_risk(D(2025, 4, 16)))
    story.step(complete_risk(D(2025, 4, 24), "not_controllable"))
    assert story.case.attributes.get("risk", False) is False
    attempt_refused(reviewed_lawful(story), SUBMIT, CONTROLLABLE)


@pytest.mark.parametrize(
    ("flag", "rule"),
    [
        ("risk", RISK_STAYS),
        ("technical", "national.technical_flag_stays"),
        ("market_entities", "national.market_flag_stays"),
        ("affects_specific_group", "national.specific_group_flag_stays"),
        ("npc_report_required", "national.npc_flags_stay"),
        ("npc_decision_required", "national.npc_flags_stay"),
        ("major_public_interest", "hunan.hearing_triggers_stay"),
        ("opinion_divided", "hunan.hearing_triggers_stay"),
        ("stability_risk", "hunan.hearing_triggers_stay"),
        ("law_requires_hearing", "hunan.hearing_triggers_stay"),
    ],
)
def test_no_flag_set_at_the_proposal_is_cleared_by_the_organiser(story: Story, flag: str, rule: str) -> None:
    """Every attribute that brings in a procedure stays once set: the organiser's reassessment to false
    is refused with the article of that procedure; the head's clearing with a concurrence works."""
    story.walk(AFTER_CLOSE, main_with(**{flag: True}))
    attempt_refused(story, reassess(**{flag: False}), rule)
    assert story.case.attributes[flag] is True
    story.step(concur())
    story.step(clear(**{flag: False}))
    assert story.case.attributes[flag] is False


def test_clearing_is_recorded_with_both_people_and_their_reasons(story: Story) -> None:
    story.walk(AFTER_CLOSE, main_with(technical=True))
    refusal = refusal_of(story, clear(technical=False))
    assert_cited(refusal, CONCURRED)
    story.step(concur())
    story.step(clear(technical=False))
    concurrence, clearing = story.case.records[-2:]
    assert (concurrence.kind, concurrence.actor, concurrence.role) == (
        "attribute_clearance_concurrence",
        "counsel_zhao",
        "legal_counsel",
    )
    assert (clearing.kind, clearing.actor, clearing.role) == ("attribute_clearance", "head_wang", "head")
    assert concurrence.fields["reason"] and clearing.fields["reason"] and clearing.fields["technical"] is False


def test_only_the_head_clears_and_only_a_legality_reviewer_concurs(story: Story) -> None:
    story.walk(AFTER_CLOSE, main_with(risk=True))
    assert "engine.role" in rule_ids(refusal_of(story, replace(clear(risk=False), actor="clerk_li")))
    assert "engine.role" in rule_ids(refusal_of(story, replace(concur(), actor="head_wang")))
    # a reviewer outside the designated department (a bureau's own legal section) does not count either
    attempt_refused(story, concur(actor="counsel_gao"), "national.reviewer_in_designated_department")


# -- Art. 22(2): a prior assessment is referenced, not repeated ------------------------------------------


def prior(conclusion: str) -> Step:
    return Step(
        "reference_prior_risk_assessment",
        "clerk_li",
        D(2025, 4, 16),
        {"prior_assessment": "县重点项目社会稳定风险评估（攸稳评〔2025〕3号）", "conclusion": conclusion},
        ("risk_report",),
    )


def test_a_referenced_prior_assessment_satisfies_the_risk_assessment(story: Story) -> None:
    story.walk(AFTER_CLOSE, main_with(risk=True))
    story.step(prior("controllable"))
    assert story.case.state == "argumentation" and story.case.records[-1].kind == "risk_assessment"
    attempt_allowed(story, main("submit_legality_review"), "national.risk_assessment_when_risky")


def test_a_referenced_assessment_found_not_controllable_blocks_the_decision(story: Story) -> None:
    story.walk(AFTER_CLOSE, main_with(risk=True))
    story.step(prior("not_controllable"))
    attempt_refused(reviewed_lawful(story), SUBMIT, CONTROLLABLE)


def test_a_reference_needs_the_reference_and_the_conclusion(story: Story) -> None:
    story.walk(AFTER_CLOSE, main_with(risk=True))
    step = prior("controllable")
    for missing in ("prior_assessment", "conclusion"):
        fields = {k: v for k, v in step.fields.items() if k != missing}
        assert f"engine.field.{missing}" in rule_ids(refusal_of(story, replace(step, fields=fields)))


# -- Art. 28: the reviewer and the legal adviser are different roles and different people ---------------


def test_the_reviewer_cannot_give_the_legal_opinion_nor_the_adviser_sign_the_review(story: Story) -> None:
    story.walk("give_legal_opinion")
    assert "engine.role" in rule_ids(refusal_of(story, legal_opinion(D(2025, 4, 22), actor="counsel_zhao")))
    story.step(legal_opinion(D(2025, 4, 22)))
    assert "engine.role" in rule_ids(refusal_of(story, main("find_lawful", actor="lawyer_zheng")))
    attempt_allowed(story, main("find_lawful"), "national.legal_opinion_by_another_person")
    opinion = next(r for r in story.case.records if r.kind == "legal_opinion")
    assert (opinion.actor, opinion.role) == ("lawyer_zheng", "legal_adviser")


def test_a_review_opinion_no_longer_carries_the_legal_opinion_itself(story: Story) -> None:
    story.walk("find_lawful")
    refused = refusal_of(story, main("find_lawful", docs=("review_opinion", "legal_counsel_opinion")))
    assert "engine.document.legal_counsel_opinion" in rule_ids(refused)


def test_the_designated_department_comes_from_the_county_pack(definitions: Definitions) -> None:
    param = definitions.rulebook.parameters["legality_review_department"]
    assert param.value == "县司法局" and param.kind == "setting"
    youxian = [s for s in param.sources if s.pack == "youxian"]
    assert youxian and youxian[0].citation is not None and not youxian[0].citation.verified
    assert "出处未核实" in str(youxian[0].citation)
    story = Story(definitions).walk("accept_review")
    unmet = attempt_refused(
        story, main("accept_review", actor="counsel_gao"), "national.reviewer_in_designated_department"
    )
    assert "县司法局" in unmet.message_zh and "县司法局" in unmet.message_en


# -- Art. 27 and Art. 28: the opinion's findings, and a resubmission after "needs revision" -------------


@pytest.mark.parametrize("trigger", ["find_needs_revision", "find_unlawful"])
def test_an_adverse_opinion_with_three_compliant_findings_is_refused(story: Story, trigger: str) -> None:
    story.walk("find_lawful")
    step = Step(
        trigger,
        "counsel_zhao",
        D(2025, 4, 25),
        {"authority": "compliant", "procedure": "compliant", "content": "compliant", "reason": "须修改"},
        ("review_opinion",),
    )
    attempt_refused(story, step, "national.adverse_opinion_names_a_defect")
    attempt_allowed(
        story,
        replace(step, fields={**step.fields, "procedure": "non_compliant"}),
        "national.adverse_opinion_names_a_defect",
    )


def test_an_unrevised_resubmission_states_why(story: Story) -> None:
    story.walk("report_to_party_committee", SENT_BACK)
    assert story.case.state == "revision_required"
    bare = Step("resubmit_legality_review", "clerk_li", D(2025, 4, 28), {"review_due": D(2025, 5, 13)})
    unmet = attempt_refused(story, bare, "national.unrevised_resubmission_explained")
    assert "resubmission_statement" in unmet.message_en
    explained = replace(bare, fields={**bare.fields, "resubmission_statement": "意见所指问题已在起草说明中澄清"})
    attempt_allowed(story, explained, "national.unrevised_resubmission_explained")
    assert story.case.records[-1].fields["resubmission_statement"]


def test_changes_draft_is_a_fact_of_the_action(definitions: Definitions) -> None:
    """``action.changes_draft``: true when the action carries a draft document, false otherwise, pending
    in a preview (its documents are not known yet)."""
    case = Story(definitions).walk("submit_draft").case
    fact = Fact("action.changes_draft")

    def env(documents: tuple[Document, ...], preview: bool = False) -> Env:
        action = Action("submit_draft", PEOPLE["clerk_li"], D(2025, 3, 10), {}, documents)
        return Env(
            case, action, "organiser", {}, definitions.calendar, draft_documents=frozenset({"draft"}), preview=preview
        )

    assert fact.value(env((doc("draft"),))) is True
    assert fact.value(env((doc("drafting_explanation"),))) is False
    assert fact.value(env((doc("draft"),), preview=True)) is PENDING


# -- Art. 31: a request (请示) needs the committee's reply on the draft that was reported --------------


def test_a_request_needs_the_reply_before_publication(story: Story) -> None:
    story.walk("publish", ASKED)
    unmet = attempt_refused(story, main("publish"), "national.party_reply_to_request")
    assert "第三十一条" in unmet.citation
    story.step(reply())
    attempt_allowed(story, main("publish"), "national.party_reply_to_request")


def test_a_reply_to_an_earlier_draft_does_not_cover_the_amended_one(story: Story) -> None:
    """The committee replied on draft 1; the draft was then amended and reviewed again: draft 2 was never
    put to the committee, so the decision cannot be published on that reply."""
    story.walk("report_to_party_committee")
    story.step(REQUEST)
    story.step(reply(D(2025, 4, 28)))
    story.do("amend_draft", "clerk_li", D(2025, 4, 28), {}, ("draft", "revision_explanation"))
    story.do("resubmit_legality_review", "clerk_li", D(2025, 4, 29), {"review_due": D(2025, 5, 13)})
    story.do("accept_review", "counsel_zhao", D(2025, 4, 30))
    story.step(legal_opinion(D(2025, 5, 8)))
    story.step(main("find_lawful", on=D(2025, 5, 9)))
    story.step(main("submit_for_discussion", on=D(2025, 5, 12)))
    story.step(main("approve", on=D(2025, 5, 13)))
    publish = main("publish", on=D(2025, 5, 14))
    attempt_refused(story, publish, "national.party_reply_to_request")
    # reporting the amended draft and receiving the reply on it puts things right
    story.step(replace(REQUEST, on=D(2025, 5, 14)))
    attempt_refused(story, publish, "national.party_reply_to_request")
    story.step(reply(D(2025, 5, 14)))
    attempt_allowed(story, publish, "national.party_reply_to_request")


def test_the_kind_of_party_report_is_required(story: Story) -> None:
    story.walk("report_to_party_committee")
    bare = main("report_to_party_committee", drop=("party_report_kind",))
    assert "engine.field.party_report_kind" in rule_ids(refusal_of(story, bare))


# -- Art. 8: what the people's congress decides needs its resolution --------------------------------------


def test_a_report_does_not_replace_the_congress_resolution(story: Story) -> None:
    story.walk("publish", main_with(npc_decision_required=True))
    story.do("report_to_npc", "office_chen", D(2025, 5, 7), {}, ("npc_report",))
    attempt_refused(story, main("publish"), "national.npc_resolution_when_npc_decides")
    story.step(RESOLUTION)
    attempt_allowed(story, main("publish"), "national.npc_resolution_when_npc_decides")


# -- through the service layer, on SQLite and PostgreSQL -------------------------------------------------

REQUESTED_PATH = tuple(
    s
    for step in path(swap={"report_to_party_committee": REQUEST})
    for s in ((step, reply(D(2025, 4, 28))) if step.trigger == "report_to_party_committee" else (step,))
)


def test_the_review_and_the_party_request_are_stored_with_their_people(service: CaseService) -> None:
    """The main path with a request and its reply, stored and read back: the adviser's opinion and the
    reply are records of their own, by the people who gave them, and the decision is archived."""
    play(service, "D-1", REQUESTED_PATH)
    records = service.view("D-1").case.records
    assert [r.trigger for r in records] == [s.trigger for s in REQUESTED_PATH]
    by_kind = {r.kind: r for r in records}
    assert (by_kind["legal_opinion"].actor, by_kind["legal_opinion"].role) == ("lawyer_zheng", "legal_adviser")
    assert by_kind["legal_opinion"].unit == PEOPLE["lawyer_zheng"].unit
    assert by_kind["party_report"].fields["party_report_kind"] == "request"
    assert by_kind["party_reply"].draft_version == by_kind["party_report"].draft_version
    assert service.view("D-1").case.state == "archived"


def test_a_refused_clearing_writes_nothing(service: CaseService) -> None:
    steps = main_with(risk=True)
    play(service, "D-1", steps[: next(i for i, s in enumerate(steps) if s.trigger == AFTER_CLOSE)])
    before = service.view("D-1")
    for step in (reassess(risk=False), clear(risk=False)):
        with pytest.raises(ActionRefused) as refused:
            service.act("D-1", Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields)))
        assert {RISK_STAYS, CONCURRED} & rule_ids(refused.value)
        assert service.view("D-1") == before
    for step in (concur(), clear(risk=False)):
        service.act("D-1", Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields)))
    assert service.view("D-1").case.attributes["risk"] is False
