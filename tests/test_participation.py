"""Issue 11: public participation as the law allows it, unpublished non-disclosable decisions, what
follows a suspension, and the links between decisions.

The rule-by-rule cases (allowed and refused, with citations) are in `tests.test_rules` (`ISSUE_11`);
these tests follow whole stories a clerk would notice: a forum-only matter reaching the legality
review, a non-disclosable decision executed without publication but not without the Party report,
a stopped decision archived, an adjustment naming a decision the office has (on both databases), the
participation methods named in Chinese, and the condition language's `union` checked at load.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from decisions.deadlines import case_deadlines
from decisions.definitions import Definitions
from decisions.errors import ActionRefused, DefinitionError, UsageError
from decisions.loading import load_definitions
from decisions.model import Action
from decisions.service.cases import CaseService
from decisions.service.inputs import parse_value
from tests.stores import play
from tests.support import MAIN_PATH, PEOPLE, ROOT, Story, rule_ids
from tests.test_packs import county, load
from tests.test_rules import (
    EXECUTE_UNPUBLISHED,
    FORUM,
    FORUM_ONLY,
    REPORT_PROBLEM,
    SECRET,
    SUSPEND,
    attempt_allowed,
    attempt_refused,
    follow_up,
    main,
    path,
)

D = date
PARTY = "national.party_report_before_publication"
UNPUBLISHED = "national.unpublished_only_when_non_disclosable"


def test_a_forum_is_public_participation_enough_to_reach_the_legality_review(definitions: Definitions) -> None:
    """No open consultation: a recorded forum takes the draft on to argumentation, and the review
    submission finds public participation done."""
    story = Story(definitions).walk("submit_legality_review", FORUM_ONLY)
    assert story.case.state == "drafting"
    story.step(FORUM)
    assert story.case.state == "argumentation"
    record = story.case.records[-1]
    assert (record.kind, record.fields["participation_method"]) == ("participation", "forum")
    attempt_allowed(story, main("submit_legality_review"), "national.public_participation_done")


def test_without_any_participation_a_disclosable_matter_is_refused_the_review(definitions: Definitions) -> None:
    """Flagged non-disclosable, exempted, then found disclosable after all: no method was used."""
    exempt = (
        ("exempt_participation", {"nondisclosure_basis": "《保守国家秘密法》第十三条"}),
        ("reassess_attributes", {"reason": "经保密审查不涉密", "non_disclosable": False}),
    )
    story = Story(definitions).walk("open_consultation", path(swap={"propose": main("propose", non_disclosable=True)}))
    for trigger, fields in exempt:
        story.do(trigger, "clerk_li", D(2025, 3, 12), fields)
    refusal = story.refused("submit_legality_review", "clerk_li", D(2025, 3, 17), {"review_due": D(2025, 3, 26)})
    (unmet,) = [u for u in refusal.unmet if u.rule_id == "national.public_participation_done"]
    assert "record_participation" in unmet.message_en and "座谈会" in unmet.message_zh


def test_a_non_disclosable_decision_goes_to_execution_unpublished_after_the_party_report(
    definitions: Definitions,
) -> None:
    """Art. 32(1) exempts it from publication, not from Art. 31: without the Party report the exit is
    refused; after it the decision is executed and never shows a publication record."""
    story = Story(definitions).walk("publish", path(SECRET, drop=("report_to_party_committee",)))
    assert story.case.state == "decided"
    attempt_refused(story, EXECUTE_UNPUBLISHED, PARTY)
    story.step(main("report_to_party_committee", on=D(2025, 5, 8)))
    attempt_allowed(story, EXECUTE_UNPUBLISHED, UNPUBLISHED)
    assert story.case.state == "executing"
    assert "publish" not in [r.trigger for r in story.case.records]
    story.step(main("report_execution"))


def test_a_disclosable_decision_cannot_skip_publication(definitions: Definitions) -> None:
    story = Story(definitions).walk("publish")
    unmet = attempt_refused(story, EXECUTE_UNPUBLISHED, UNPUBLISHED)
    assert "依法不予公开" in unmet.message_zh


def suspended(definitions: Definitions) -> Story:
    story = Story(definitions).walk("complete_execution")
    story.step(REPORT_PROBLEM).step(SUSPEND)
    assert story.case.state == "suspended"
    return story


def test_a_suspended_decision_stopped_at_a_meeting_is_archived(definitions: Definitions) -> None:
    story = suspended(definitions)
    story.step(follow_up("terminate_execution"))
    assert story.case.state == "terminated"
    due = case_deadlines(
        story.case, story.engine.workflow, definitions.rulebook.parameters, definitions.calendar, D(2025, 8, 6)
    )
    assert [(d.label.en, d.due) for d in due] == [("archive hand-over deadline", D(2025, 9, 4))]
    story.do("archive", "office_chen", D(2025, 8, 20), docs=("archive_index",))
    assert story.case.state == "archived"


def test_resuming_without_a_meeting_is_refused(definitions: Definitions) -> None:
    """The head alone no longer resumes a suspended decision: the meeting and its minutes are needed."""
    story = suspended(definitions)
    refusal = story.refused("resume_execution", "head_wang", D(2025, 8, 5), {"reason": "问题已整改"})
    assert {"meeting_type", "attendees", "views", "minutes"} <= {u.rule_id.rsplit(".", 1)[-1] for u in refusal.unmet}


def test_an_adjustment_names_its_new_decision(definitions: Definitions) -> None:
    story = suspended(definitions)
    step = follow_up("open_adjustment", docs=("adjustment_plan", "minutes"))
    refusal = story.refused(step.trigger, step.actor, step.on, step.fields, step.docs)
    assert any(u.rule_id.endswith("new_decision") for u in refusal.unmet), [u.rule_id for u in refusal.unmet]


# -- the link to the new decision, through the service on both databases --------------------------
ADJUSTED = (
    *[s for s in MAIN_PATH if s.trigger not in ("complete_execution", "archive")],
    REPORT_PROBLEM,
    SUSPEND,
)


def adjust(service: CaseService, new_decision: str) -> None:
    step = follow_up("open_adjustment", new_decision=new_decision, docs=("adjustment_plan", "minutes"))
    docs = tuple(service.attach(k, f"adjust {k}".encode(), f"{k}.pdf") for k in step.docs)
    service.act("D-2025-001", Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs))


def test_an_adjustment_links_a_decision_the_office_has_on_record(service: CaseService) -> None:
    play(service, "D-2025-001", ADJUSTED)
    for unknown in ("D-2025-009", "D-2025-001"):  # none on record; the suspended decision itself
        with pytest.raises(ActionRefused) as info:
            adjust(service, unknown)
        assert rule_ids(info.value) == {"service.case_link.new_decision"}
        (unmet,) = info.value.unmet
        assert unknown in unmet.message_zh and unknown in unmet.message_en and "第三十七条" in unmet.citation
        assert service.view("D-2025-001").case.state == "suspended"
    play(service, "D-2025-009", (replace(MAIN_PATH[0], on=D(2025, 8, 1)),))
    adjust(service, "D-2025-009")
    view = service.view("D-2025-001")
    assert view.case.state == "superseded"
    assert view.case.records[-1].fields["new_decision"] == "D-2025-009"


# -- the condition language: `union` joins lists, and only lists ----------------------------------
BAD_UNION = (
    "  - id: absent_or_signed\n"
    "    workflow: major_decision\n"
    "    triggers: [hold_hearing]\n"
    "    strength: hard\n"
    "    citation: {source: reference_local, article: 假设的县规定：听证, article_en: a hypothetical county rule on hearings}\n"
    "    require:\n"
    "      contains_all:\n"
    "        - {union: [{fact: action.signed_by}, {fact: action.hearing_date}]}\n"
    "        - {fact: action.participants}\n"
    "    message: {zh: 测试, en: test}\n"
)


def test_a_union_of_a_date_is_a_located_load_error(tmp_path: Path) -> None:
    text = county().replace("\nrules:\n", "\nrules:\n" + BAD_UNION, 1)
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    (problem,) = [p for p in info.value.problems if "union" in p.message]
    assert problem.file.endswith("liling.yaml")
    assert (
        problem.line
        == text.splitlines().index("        - {union: [{fact: action.signed_by}, {fact: action.hearing_date}]}") + 1
    )
    assert "hearing_date" in problem.message and "date" in problem.message


def test_an_unpublished_decision_the_law_puts_before_the_peoples_congress_is_reported_first(
    definitions: Definitions,
) -> None:
    """Art. 8 binds issuance, published or not."""
    steps = path(
        swap={"propose": main("propose", non_disclosable=True, nondisclosure_basis="涉密", npc_report_required=True)}
    )
    story = Story(definitions).walk("publish", steps)
    attempt_refused(story, EXECUTE_UNPUBLISHED, "national.npc_report_when_required")
    story.do("report_to_npc", "office_chen", D(2025, 5, 8), docs=("npc_report",))
    attempt_allowed(story, EXECUTE_UNPUBLISHED, "national.npc_report_when_required")


# -- the participation methods carry their Chinese names ------------------------------------------
def test_an_unknown_participation_method_is_refused_with_the_methods_named_in_chinese(
    definitions: Definitions,
) -> None:
    fdef = definitions.workflow("major_decision").fields["participation_method"]
    assert parse_value(fdef, " site_visit ") == "site_visit"
    with pytest.raises(UsageError) as info:
        parse_value(fdef, "town_hall")
    message = str(info.value)
    for shown_label in (
        "forum（座谈会 / forum）",
        "site_visit（实地走访 / site visit）",
        "opinion_poll（民意调查 / opinion poll）",
    ):
        assert shown_label in message
    assert "town_hall" in message


def test_a_label_for_a_value_the_field_lacks_is_a_located_load_error(tmp_path: Path) -> None:
    text = (ROOT / "workflows" / "major_decision.yaml").read_text(encoding="utf-8")
    line = "      opinion_poll: {zh: 民意调查, en: opinion poll}\n"
    assert text.count(line) == 1
    text = text.replace(line, line + "      town_hall: {zh: 议事会, en: town hall}\n")
    edited = tmp_path / "major_decision.yaml"
    edited.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_definitions(
            [edited, ROOT / "workflows" / "catalogue.yaml"],
            [ROOT / "rules" / "national.yaml"],
            ROOT / "rules" / "calendar.yaml",
        )
    (problem,) = [p for p in info.value.problems if "town_hall" in p.message]
    assert problem.line == text.splitlines().index("      town_hall: {zh: 议事会, en: town hall}") + 1
    assert "forum" in problem.message
