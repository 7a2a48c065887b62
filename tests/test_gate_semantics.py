"""Built-in gate semantics: a rule pack may add conditions to a gate, never take its guarantee away.

The legality gate guarantees a lawful review (legal risk disclosed only for an exploratory reform,
Art. 25(2)), of the current draft version, by someone who neither changed the draft nor submitted
it (Art. 25(1), 28); the catalogue gates guarantee screening, meeting approval and Party consent of
the current catalogue version (Art. 3(3)). The workflow declares these (`gates.*.guarantee`) and the
engine checks them on every transition into a protected state, whatever the gate's rule says.

Each test below weakens one gate rule in a copy of the shipped pack, the way an office's pack could:
the weakening is either refused at load, located in the pack, or the action it would let through
is still refused at run time with the engine's gate refusal (``engine.gate.<gate>``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import ActionRefused, DefinitionError, Unmet
from decisions.loading import load_definitions, load_sources
from decisions.model import Action, Case, Record
from decisions.service import DefinitionsService
from decisions.service.cases import CaseService
from decisions.store.database import Database
from decisions.workflow.engine import Engine
from tests.stores import fixed_clock, play, supplied_catalogue
from tests.support import CATALOGUE_PATH, MAIN_PATH, PEOPLE, ROOT, Step, Story, rule_ids, shipped_definitions
from tests.test_rules import (
    AMEND,
    EXPLORATORY,
    FIND_LEGAL_RISK,
    find,
    legal_opinion,
    main,
    organised_by_justice_bureau,
)

JUSTICE_BUREAU_PATH = organised_by_justice_bureau(MAIN_PATH)
"""The main path of a decision the Justice Bureau organises itself: counsel_wu, its legal counsel and
an organiser clerk, may then act as the organiser (an organiser acts only on their own unit's decisions)."""

D = date
NATIONAL = "rules/national.yaml"
MAJOR = "workflows/major_decision.yaml"
CATALOGUE = "workflows/catalogue.yaml"
FILES = (MAJOR, CATALOGUE, NATIONAL, "rules/hunan.yaml", "rules/youxian.yaml", "rules/calendar.yaml")
SHIPPED = {name: (ROOT / name).read_text(encoding="utf-8") for name in FILES}

LEGALITY = "engine.gate.legality_review"
SCREENING = "engine.gate.screening"
CONSENT = "engine.gate.party_consent"
RULE = "national.legality_review_lawful_for_current_draft"
SCREENED = "national.catalogue_screened_current_version"
CONSENTED = "national.catalogue_party_consent_current_version"

# the clauses of the shipped gate rules that a weakened pack drops or rewrites
VERSION_CLAUSE = (
    "        - eq: [{latest: {record: legality_review, field: draft_version}}, {fact: decision.draft_version}]\n"
)
OUTCOME_CLAUSE = """        - any:
            - eq: [{latest: {record: legality_review, field: outcome}}, lawful]
            - all:
                - eq: [{latest: {record: legality_review, field: outcome}}, legal_risk_disclosed]
                - eq: [{fact: decision.exploratory_reform}, true]
"""
GATE_RULE_HEAD = """  - id: legality_review_lawful_for_current_draft
    workflow: major_decision
    triggers: [submit_for_discussion, approve, publish]
    strength: hard
"""
SCREENING_VERSION = (
    "        - eq: [{latest: {record: screening_opinion, field: draft_version}}, {fact: decision.draft_version}]\n"
)
SCREENING_DRAFT_EXISTS = "        - gte: [{fact: decision.draft_version}, 1]\n"
CONSENT_VERSION = (
    "        - eq: [{latest: {record: party_consent, field: draft_version}}, {fact: decision.draft_version}]\n"
)


def edited(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"the edit no longer applies: {old!r}"
        text = text.replace(old, new)
    return text


def deployment(tmp_path: Path, **edits: list[tuple[str, str]]) -> list[Path]:
    """The shipped files written to ``tmp_path`` (keyword: file stem, e.g. ``national``), edited."""
    paths = []
    for name in FILES:
        stem = Path(name).stem
        path = tmp_path / Path(name).name
        path.write_text(edited(SHIPPED[name], *edits.get(stem, [])), encoding="utf-8")
        paths.append(path)
    return paths


def load(tmp_path: Path, **edits: list[tuple[str, str]]) -> Definitions:
    *workflows_and_packs, calendar = deployment(tmp_path, **edits)
    return load_definitions(workflows_and_packs[:2], workflows_and_packs[2:], calendar)


def refused_at_load(tmp_path: Path, **edits: list[tuple[str, str]]) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        load(tmp_path, **edits)
    return caught.value


def gate_refusal(exc: ActionRefused, rule_id: str) -> Unmet:
    """The engine's refusal for a gate: cites the gate rule's article and says what to do, in zh and en."""
    (unmet,) = [u for u in exc.unmet if u.rule_id == rule_id]
    assert unmet.kind == "violation"
    # the gate rule's citation: Decree 713, or for the catalogue's screening the local catalogue rules
    assert "《重大行政决策程序暂行条例》" in unmet.citation or "湘政办发〔2022〕33号" in unmet.citation
    assert unmet.message_zh and unmet.message_en and unmet.message_zh != unmet.message_en
    return unmet


def amended_after_review(definitions: Definitions) -> Story:
    """The main path to the point of submission, then the reviewed draft amended."""
    story = Story(definitions).walk("submit_for_discussion")
    story.step(AMEND)
    return story


# -- the shipped definitions: the gate and its guarantee agree ----------------------------------------


def test_shipped_gate_refuses_a_stale_review_by_its_rule_alone(definitions: Definitions) -> None:
    """With the shipped pack the rule already refuses, and the refusal says it once."""
    exc = amended_after_review(definitions).refused(
        "submit_for_discussion", "clerk_li", D(2025, 4, 29), {}, ("discussion_package",)
    )
    assert RULE in rule_ids(exc) and LEGALITY not in rule_ids(exc)


# -- weakenings the engine still refuses at run time -------------------------------------------------


def test_dropping_the_version_clause_still_refuses_a_review_of_an_older_draft(tmp_path: Path) -> None:
    """The issue's probe: without the clause, amend_draft -> submit_for_discussion is still refused."""
    weak = load(tmp_path, national=[(VERSION_CLAUSE, "")])
    story = amended_after_review(weak)
    exc = story.refused("submit_for_discussion", "clerk_li", D(2025, 4, 29), {}, ("discussion_package",))
    assert RULE not in rule_ids(exc)  # the weakened rule passes: only the engine stands in the way
    unmet = gate_refusal(exc, LEGALITY)
    assert "第 1 版" in unmet.message_zh and "version 2" in unmet.message_en
    assert "重新办理" in unmet.message_zh and "record a new legality_review" in unmet.message_en
    # the way out it names works: a new review of the amended draft
    story.do("resubmit_legality_review", "clerk_li", D(2025, 4, 29), {"review_due": D(2025, 5, 13)})
    story.do("accept_review", "counsel_zhao", D(2025, 4, 30))
    story.step(legal_opinion(D(2025, 5, 6)))
    story.step(find("find_lawful", D(2025, 5, 9)))
    story.step(main("submit_for_discussion", on=D(2025, 5, 12)))
    assert story.case.state == "in_discussion"


def test_dropping_the_outcome_clause_still_refuses_an_opinion_that_is_not_lawful(tmp_path: Path) -> None:
    """A legal-risk opinion on an ordinary matter (its own rule dropped too) does not open the meeting."""
    weak = load(
        tmp_path,
        national=[
            (OUTCOME_CLAUSE, ""),
            ("    triggers: [find_legal_risk]\n", "    triggers: [find_unlawful]\n"),  # its own rule unbound
        ],
    )
    story = Story(weak).walk("find_lawful").step(FIND_LEGAL_RISK).step(main("report_to_party_committee"))
    assert story.case.state == "reviewed_with_legal_risk"
    exc = story.refused("submit_for_discussion", "clerk_li", D(2025, 4, 29), {}, ("discussion_package",))
    assert RULE not in rule_ids(exc)
    unmet = gate_refusal(exc, LEGALITY)
    assert "'legal_risk_disclosed'" in unmet.message_en and "Exploratory reform" in unmet.message_en
    assert "探索性改革事项" in unmet.message_zh


def test_without_the_outcome_clause_an_exploratory_reform_may_still_go_forward(tmp_path: Path) -> None:
    """Art. 25(2): legal risk disclosed is a passing outcome exactly for an exploratory reform."""
    weak = load(tmp_path, national=[(OUTCOME_CLAUSE, "")])
    story = Story(weak).walk("find_lawful", EXPLORATORY).step(FIND_LEGAL_RISK).step(main("report_to_party_committee"))
    story.step(main("submit_for_discussion"))
    assert story.case.state == "in_discussion"


def test_pointing_the_rule_at_another_record_still_needs_the_review(tmp_path: Path) -> None:
    """A rule about the submission instead of the review loads (it is a valid rule) and is harmless."""
    retargeted = "        - gte: [{count: {record: review_submission}}, 1]\n"
    weak = load(
        tmp_path,
        national=[
            (OUTCOME_CLAUSE, retargeted),
            (VERSION_CLAUSE, ""),
            ("        - gte: [{count: {record: legality_review}}, 1]\n", ""),
        ],
    )
    assert weak.rulebook.rules[RULE].strength.value == "hard"
    exc = amended_after_review(weak).refused(
        "submit_for_discussion", "clerk_li", D(2025, 4, 29), {}, ("discussion_package",)
    )
    assert RULE not in rule_ids(exc)
    gate_refusal(exc, LEGALITY)


def test_a_review_by_the_drafter_does_not_open_the_meeting(tmp_path: Path) -> None:
    """The pack's independence rule dropped: counsel_wu amends the draft, then reviews it himself.
    The engine refuses the submission, naming him and what he did."""
    independence = "    triggers: [accept_review, return_submission, request_supplement, find_lawful, find_needs_revision, find_unlawful, find_legal_risk]\n    strength: hard\n"
    weak = load(tmp_path, national=[(independence, "    triggers: [return_submission]\n    strength: hard\n")])
    story = Story(weak).walk("submit_for_discussion", JUSTICE_BUREAU_PATH)
    story.do("amend_draft", "counsel_wu", D(2025, 4, 28), docs=("draft", "revision_explanation"))
    story.do("resubmit_legality_review", "clerk_sf", D(2025, 4, 29), {"review_due": D(2025, 5, 13)})
    story.do("accept_review", "counsel_wu", D(2025, 4, 30))
    story.step(legal_opinion(D(2025, 5, 6)))
    story.step(find("find_lawful", D(2025, 5, 9), actor="counsel_wu"))
    exc = story.refused("submit_for_discussion", "clerk_sf", D(2025, 5, 12), {}, ("discussion_package",))
    unmet = gate_refusal(exc, LEGALITY)
    assert "'counsel_wu'" in unmet.message_en and "changed the draft" in unmet.message_en
    assert "曾修改草案" in unmet.message_zh and "未曾如此参与的人员重新办理" in unmet.message_zh


def test_a_review_by_whoever_submitted_it_does_not_open_the_meeting(tmp_path: Path) -> None:
    independence = "    triggers: [accept_review, return_submission, request_supplement, find_lawful, find_needs_revision, find_unlawful, find_legal_risk]\n    strength: hard\n"
    weak = load(tmp_path, national=[(independence, "    triggers: [return_submission]\n    strength: hard\n")])
    story = Story(weak).walk("submit_legality_review", JUSTICE_BUREAU_PATH)
    story.step(main("submit_legality_review", actor="counsel_wu"))
    story.do("accept_review", "counsel_wu", D(2025, 4, 17))
    story.step(legal_opinion(D(2025, 4, 22)))
    (report,) = organised_by_justice_bureau((main("report_to_party_committee"),))
    story.step(find("find_lawful", D(2025, 4, 25), actor="counsel_wu")).step(report)
    exc = story.refused("submit_for_discussion", "clerk_sf", D(2025, 4, 29), {}, ("discussion_package",))
    assert "recorded review_submission" in gate_refusal(exc, LEGALITY).message_en


def test_the_inbox_shows_the_submission_blocked_by_the_gate(tmp_path: Path) -> None:
    """What an organiser is offered after amending the reviewed draft, under the weakened pack."""
    weak = load(tmp_path, national=[(VERSION_CLAUSE, "")])
    story = amended_after_review(weak)
    offered = {o.trigger: o for o in story.engine.options(story.case, PEOPLE["clerk_li"], D(2025, 4, 29))}
    assert [u.rule_id for u in offered["submit_for_discussion"].blocked] == [LEGALITY]
    assert offered["resubmit_legality_review"].available


def test_a_jump_toward_the_decision_names_the_gate(tmp_path: Path) -> None:
    """A trigger not possible here, whose destination a gate protects, says what the gate still needs."""
    weak = load(tmp_path, national=[(VERSION_CLAUSE, "")])
    exc = amended_after_review(weak).refused("approve", "office_chen", D(2025, 4, 29), {}, ())
    assert "engine.unavailable" in rule_ids(exc)
    gate_refusal(exc, LEGALITY)


# -- weakenings refused at load, located in the pack ---------------------------------------------------


def _located(error: DefinitionError, tmp_path: Path, rule: str, workflow: str, message_fragment: str) -> None:
    """A problem in the national pack, on the gate rule's line, saying what is wrong; and one on the
    gate relying on it, in the workflow."""
    pack = tmp_path / "national.yaml"
    lines = pack.read_text(encoding="utf-8").splitlines()
    hits = [p for p in error.problems if p.file == str(pack) and message_fragment in p.message]
    assert hits, [str(p) for p in error.problems]
    assert all(p.line is not None and f"id: {rule}" in lines[p.line - 1] for p in hits), [str(p) for p in hits]
    assert re.search(rf"{re.escape(str(pack))}:\d+: rules\.national\.{rule}: ", str(error))
    gate = [p for p in error.problems if p.file == str(tmp_path / workflow) and "unconditional hard rule" in p.message]
    assert gate and all(p.path.startswith("gates.") and p.path.endswith(".rule") for p in gate), gate


GATE_RULE_HEADS = {
    "legality_review_lawful_for_current_draft": ("major_decision.yaml", GATE_RULE_HEAD, "decision.risk}, true"),
    "catalogue_screened_current_version": (
        "catalogue.yaml",
        "  - id: catalogue_screened_current_version\n    workflow: catalogue\n"
        "    triggers: [submit_for_approval, submit_adjustment]\n    strength: hard\n",
        "decision.year}, 2025",
    ),
    "catalogue_meeting_approval": (
        "catalogue.yaml",
        "  - id: catalogue_meeting_approval\n    workflow: catalogue\n"
        "    triggers: [approve_at_meeting, approve_adjustment]\n    strength: hard\n",
        "decision.year}, 2025",
    ),
    "catalogue_party_consent_current_version": (
        "catalogue.yaml",
        "  - id: catalogue_party_consent_current_version\n    workflow: catalogue\n"
        "    triggers: [publish_catalogue, publish_adjustment]\n    strength: hard\n",
        "decision.year}, 2025",
    ),
}


@pytest.mark.parametrize("rule", list(GATE_RULE_HEADS))
@pytest.mark.parametrize(
    "weakening, message",
    [
        ("    strength: hard\n    when: {eq: [{fact: WHEN]}\n", "it has a 'when'"),
        ("    strength: policy\n", "its strength is policy"),
        ("    strength: default_minimum\n    waiver: reason\n", "its strength is default_minimum"),
        ("    strength: hard\n    waiver: reason\n", "it has a waiver"),
    ],
    ids=["conditional", "policy", "default_minimum_with_waiver", "hard_with_waiver"],
)
def test_a_conditional_or_weaker_gate_rule_is_refused_at_load_in_the_pack(
    tmp_path: Path, rule: str, weakening: str, message: str
) -> None:
    workflow, head, when = GATE_RULE_HEADS[rule]
    weaker = head.replace("    strength: hard\n", weakening.replace("WHEN", when))
    error = refused_at_load(tmp_path, national=[(head, weaker)])
    _located(error, tmp_path, rule, workflow, message)


def test_a_pack_without_the_gate_rule_is_refused_at_load_on_the_gate(tmp_path: Path) -> None:
    renamed = GATE_RULE_HEAD.replace("legality_review_lawful_for_current_draft", "legality_review_noted")
    error = refused_at_load(tmp_path, national=[(GATE_RULE_HEAD, renamed)])
    workflow = tmp_path / "major_decision.yaml"
    lines = workflow.read_text(encoding="utf-8").splitlines()
    hits = [p for p in error.problems if p.file == str(workflow) and p.path == "gates.legality_review.rule"]
    assert hits and all(p.line and "rule: national.legality_review" in lines[p.line - 1] for p in hits), hits
    assert "unknown rule 'national.legality_review_lawful_for_current_draft'" in hits[0].message


def test_a_gate_rule_of_another_workflow_is_refused_at_load(tmp_path: Path) -> None:
    moved = "  - id: legality_review_lawful_for_current_draft\n    workflow: catalogue\n    triggers: [publish_catalogue]\n    strength: hard\n"
    error = refused_at_load(
        tmp_path,
        national=[
            (GATE_RULE_HEAD, moved),
            (VERSION_CLAUSE, ""),
            (OUTCOME_CLAUSE, ""),
            (
                "        - gte: [{count: {record: legality_review}}, 1]\n",
                "        - gte: [{count: {record: party_consent}}, 1]\n",
            ),
        ],
    )
    assert any("belongs to workflow 'catalogue'" in p.message for p in error.problems), [str(p) for p in error.problems]


# -- a pack may add to a gate ----------------------------------------------------------------------------


def test_a_pack_may_add_a_condition_to_the_gate_rule_and_it_is_enforced(tmp_path: Path) -> None:
    """Added: the Party committee reported to before the meeting. Refused until it is, then allowed."""
    added = VERSION_CLAUSE + "        - gte: [{count: {record: party_report}}, 1]\n"
    stricter = load(tmp_path, national=[(VERSION_CLAUSE, added)])
    story = Story(stricter).walk("report_to_party_committee")
    exc = story.refused("submit_for_discussion", "clerk_li", D(2025, 4, 29), {}, ("discussion_package",))
    assert rule_ids(exc) == {RULE}
    story.step(main("report_to_party_committee")).step(main("submit_for_discussion"))
    assert story.case.state == "in_discussion"


# -- the catalogue ----------------------------------------------------------------------------------------

CAT = {s.trigger: s for s in CATALOGUE_PATH}


def catalogue(definitions: Definitions) -> Story:
    return Story(definitions, "catalogue", "C-2025")


def test_catalogue_without_the_version_clause_refuses_a_stale_screening(tmp_path: Path) -> None:
    weak = load(tmp_path, national=[(SCREENING_VERSION, "")])
    story = catalogue(weak).walk("submit_for_approval", CATALOGUE_PATH)
    story.step(replace(CAT["compile_catalogue"], on=D(2024, 12, 19)))
    exc = story.refused("submit_for_approval", "office_chen", D(2024, 12, 20))
    assert SCREENED not in rule_ids(exc)
    unmet = gate_refusal(exc, SCREENING)
    assert "screening_opinion" in unmet.message_en and "version 2" in unmet.message_en
    story.step(replace(CAT["certify_screening"], on=D(2024, 12, 20))).step(CAT["submit_for_approval"])
    assert story.case.state == "awaiting_meeting"


def test_catalogue_without_the_draft_clause_refuses_a_screening_of_no_catalogue(tmp_path: Path) -> None:
    """Screened before anything was compiled: the weakened rule sees version 0 = 0, the engine sees no draft."""
    weak = load(tmp_path, national=[(SCREENING_DRAFT_EXISTS, "")])
    story = catalogue(weak).walk("compile_catalogue", CATALOGUE_PATH)
    story.step(replace(CAT["certify_screening"], on=D(2024, 12, 18)))
    exc = story.refused("submit_for_approval", "office_chen", D(2024, 12, 20))
    assert SCREENED not in rule_ids(exc)
    assert "no draft yet" in gate_refusal(exc, SCREENING).message_en


def _recompiled_after_consent(story: Story) -> Case:
    """The case as a history that recompiled the catalogue after the Party consented would leave it (no
    shipped transition does that; a case migrated from another workflow version could)."""
    last = story.case.records[-1]
    recompiled = Record(
        seq=last.seq + 1,
        trigger="compile_catalogue",
        kind="compile_catalogue",
        actor="office_chen",
        role="office_clerk",
        unit="县政府办",
        on=D(2025, 1, 16),
        from_state="approved",
        to_state="approved",
        draft_version=last.draft_version + 1,
        changes_draft=True,
    )
    return replace(story.case, records=(*story.case.records, recompiled))


def test_catalogue_without_the_consent_version_clause_refuses_a_stale_consent(tmp_path: Path) -> None:
    weak = load(tmp_path, national=[(CONSENT_VERSION, "")])
    story = catalogue(weak).walk("publish_catalogue", CATALOGUE_PATH)
    story.case = _recompiled_after_consent(story)
    exc = story.refused(
        "publish_catalogue", "office_chen", D(2025, 1, 20), {"publication_channels": ["website"]}, ("publication",)
    )
    assert CONSENTED not in rule_ids(exc)
    assert "party_consent" in gate_refusal(exc, CONSENT).message_en
    # nor do the screening and the meeting's approval of the old version (their rules are not on publication)
    gate_refusal(exc, SCREENING)
    assert "meeting_approval" in gate_refusal(exc, "engine.gate.executive_meeting").message_en


# -- the workflow side: the review gate declares its guarantee, completely and correctly --------------------


def _check(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "major_decision.yaml"
    path.write_text(text, encoding="utf-8")
    (check,) = DefinitionsService(load_deployment(ROOT / "decisions.yaml")).check([path]).files
    lines = text.splitlines()
    return [f"{lines[p.line - 1].strip()} :: {p.message}" for p in check.problems if p.line]


GUARANTEE = (
    "      outcome: {field: outcome, passing: [lawful], passing_if: {legal_risk_disclosed: exploratory_reform}}\n"
)


@pytest.mark.parametrize(
    "old, new, expect",
    [
        (
            "    guarantee:\n      record: legality_review\n      current_draft: true\n"
            + GUARANTEE
            + "      independent_of: {drafters: true, records: [review_submission]}\n",
            "",
            "legality_review: :: the review gate 'legality_review' declares its 'guarantee'",
        ),
        (
            "      record: legality_review\n",
            "      record: legality_reveiw\n",
            "record: legality_reveiw :: unknown record kind",
        ),
        (
            GUARANTEE,
            GUARANTEE.replace("passing: [lawful]", "passing: [fine]"),
            "outcome: {field: outcome, passing: [fine]",
        ),
        (GUARANTEE, GUARANTEE.replace("field: outcome", "field: title"), "is not an enum field"),
        (GUARANTEE, GUARANTEE.replace(": exploratory_reform", ": title"), "'title' is not a boolean attribute"),
        (
            GUARANTEE,
            GUARANTEE.replace("passing: [lawful]", "passing: [unlawful]").replace(
                "{legal_risk_disclosed: exploratory_reform}", "{}"
            ),
            "can never be entered",
        ),
        ("records: [review_submission]", "records: [review_submision]", "unknown record kind 'review_submision'"),
        ("      current_draft: true\n" + GUARANTEE, GUARANTEE, "guarantees a review of the current draft"),
    ],
    ids=[
        "no_guarantee",
        "unknown_record",
        "unknown_outcome",
        "outcome_not_enum",
        "attribute_not_boolean",
        "never_passable",
        "unknown_independence_record",
        "not_of_the_current_draft",
    ],
)
def test_a_broken_guarantee_is_refused_located(tmp_path: Path, old: str, new: str, expect: str) -> None:
    problems = _check(tmp_path, edited(SHIPPED[MAJOR], (old, new)))
    assert any(all(part in p for part in expect.split(" :: ")) for p in problems), problems


def test_the_proof_resets_on_a_draft_change_by_the_guarantee_even_without_the_flag(tmp_path: Path) -> None:
    """The static proof takes "of the current draft" from the guarantee: with ``reset_on_draft_change``
    dropped, a draft edited in the meeting is still a located bypass."""
    tweak = (
        "  - trigger: tweak_in_meeting\n    source: in_discussion\n    stays: true\n"
        "    label: {zh: 会上改稿, en: tweak}\n    roles: [office_clerk]\n    requires: {documents: [draft]}\n"
        "    changes_draft: true\n"
    )
    flag = "    protects: [in_discussion, decided, published]\n    reset_on_draft_change: true\n"
    text = edited(
        SHIPPED[MAJOR],
        ("transitions:\n", "transitions:\n" + tweak),
        (flag, "    protects: [in_discussion, decided, published]\n"),
    )
    problems = _check(tmp_path, text)
    assert any(p.startswith("legality_review: ::") and "--tweak_in_meeting--> in_discussion" in p for p in problems), (
        problems
    )


# -- through the service layer, on SQLite and PostgreSQL -------------------------------------------------


def test_a_weakened_pack_in_a_deployment_still_refuses_the_stale_review_and_stores_nothing(
    db: Database, tmp_path: Path
) -> None:
    """The deployment runs the weakened pack; the refusal leaves the stored case as it was, and the
    definitions replayed from the database (the texts it stored) refuse the same way."""
    weak = load(tmp_path, national=[(VERSION_CLAUSE, "")])
    service = CaseService(db, weak, clock=fixed_clock, outside=supplied_catalogue)
    steps = (*_until_submission(), AMEND)
    play(service, "D-2025-031", steps)
    before = service.view("D-2025-031")
    submit = main("submit_for_discussion")
    attempt = Action(submit.trigger, PEOPLE[submit.actor], submit.on, {}, ())
    with pytest.raises(ActionRefused) as refused:
        service.act("D-2025-031", attempt)
    gate_refusal(refused.value, LEGALITY)
    after = service.view("D-2025-031")
    assert (after.version, after.case.state, after.head_hash) == (before.version, "reviewed_lawful", before.head_hash)
    replayed = Engine(service.stored_definitions(before.definitions), "major_decision")
    unmet, _ = replayed.check(after.case, attempt)
    assert LEGALITY in {u.rule_id for u in unmet}


def _until_submission() -> tuple[Step, ...]:
    return tuple(itertools.takewhile(lambda s: s.trigger != "submit_for_discussion", MAIN_PATH))


def test_a_workflow_recorded_before_guarantees_existed_still_loads_for_replay() -> None:
    """A decision keeps the definitions it was taken under. A text stored by an earlier version, whose
    review gate has no `guarantee:`, is refused for a deployment but still loads to replay it."""
    sources = list(shipped_definitions().sources)
    (i,) = [n for n, s in enumerate(sources) if s.kind == "workflow" and "\n  name: major_decision\n" in s.text]
    old = SHIPPED_GUARANTEE_RE.sub("", sources[i].text, count=1)
    assert "      record: legality_review\n      current_draft: true" not in old  # the gate as it was before
    sources[i] = replace(sources[i], text=old)
    with pytest.raises(DefinitionError, match="declares its 'guarantee'"):
        load_sources(sources)
    replayed = load_sources(sources, recorded=True)
    assert replayed.workflows["major_decision"].gates["legality_review"].guarantee is None


SHIPPED_GUARANTEE_RE = re.compile(r"(?m)^    # Checked by the engine.*?\n(?:    #.*\n)*    guarantee:\n(?:      .*\n)+")
