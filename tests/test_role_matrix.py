"""The exhaustive role matrix: every action of every shipped workflow × every role the workflow declares.

`ROLES` below is the specification, written out by hand from the procedure (who may do what), not read
from the YAML: a transition added without a row here, or a role added to or taken from a transition,
fails `test_the_role_table_covers_every_transition_of_the_shipped_workflows`, and the engine is held to
the table in every cell (`test_every_cell_of_the_role_matrix`). Cells are judged on fabricated
snapshots through `Engine.check` (fast); then every step of each workflow's main path is fired through
`CaseService.act` with an actor holding each role in turn, on SQLite and on PostgreSQL: a refused role
writes nothing, every allowed role succeeds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import text

from decisions.definitions import Definitions
from decisions.errors import ActionRefused
from decisions.model import Action, Actor, Case, Document
from decisions.service.cases import CaseService
from decisions.workflow.engine import Engine
from tests.support import CATALOGUE_PATH, MAIN_PATH, OUTSIDE, PEOPLE, Step, Story, report_count
from tests.support_enforcement import MAIN_PATH as ENFORCEMENT_PATH
from tests.support_enforcement import PEOPLE as ENFORCEMENT_PEOPLE
from tests.support_enforcement import EnforcementStory
from tests.support_government_contract import CONTRACT_PATH
from tests.support_normative_document import ND_PATH

WORKFLOWS = ("major_decision", "catalogue", "normative_document", "government_contract", "enforcement_decision")

# -- the specification: who may fire each trigger (the same roles from every source state) ------------

ROLES: dict[str, dict[str, frozenset[str]]] = {
    "major_decision": {
        trigger: frozenset(roles)
        for trigger, roles in {
            "propose": {"proposer", "organiser", "office_clerk"},
            "exclude": {"head", "office_clerk"},
            "decline": {"head"},
            "launch": {"head"},
            "submit_draft": {"organiser"},
            "reassess_attributes": {"organiser", "head"},
            "concur_attribute_clearance": {"legal_counsel"},
            "clear_attributes": {"head"},
            "open_consultation": {"organiser"},
            "exempt_participation": {"organiser"},
            "record_participation": {"organiser"},
            "close_consultation": {"organiser"},
            "change_comment_period": {"organiser"},
            "cancel_consultation": {"organiser"},
            "revise_draft": {"organiser"},
            "announce_hearing": {"organiser"},
            "hold_hearing": {"organiser"},
            "cancel_hearing": {"organiser"},
            "reschedule_hearing": {"organiser"},
            "commission_experts": {"organiser"},
            "record_expert_opinion": {"organiser"},
            "conclude_expert_argumentation": {"organiser"},
            "start_risk_assessment": {"organiser"},
            "complete_risk_assessment": {"organiser"},
            "reference_prior_risk_assessment": {"organiser"},
            "start_fair_competition_review": {"organiser"},
            "complete_fair_competition_review": {"organiser"},
            "submit_legality_review": {"organiser"},
            "resubmit_legality_review": {"organiser"},
            "accept_review": {"legal_counsel"},
            "return_submission": {"legal_counsel"},
            "request_supplement": {"legal_counsel"},
            "provide_supplement": {"organiser"},
            "give_legal_opinion": {"legal_adviser"},
            "find_lawful": {"legal_counsel"},
            "find_needs_revision": {"legal_counsel"},
            "find_unlawful": {"legal_counsel"},
            "find_legal_risk": {"legal_counsel"},
            "amend_draft": {"organiser"},
            "rework": {"organiser"},
            "withdraw": {"head"},
            "submit_for_discussion": {"organiser"},
            "report_to_party_committee": {"office_clerk", "head"},
            "record_party_reply": {"office_clerk", "head"},
            "report_to_npc": {"office_clerk", "head"},
            "record_npc_resolution": {"office_clerk", "head"},
            "approve": {"office_clerk"},
            "reject": {"office_clerk"},
            "send_back_for_revision": {"office_clerk"},
            "defer": {"office_clerk"},
            "resume_discussion": {"office_clerk"},
            "lapse": {"office_clerk"},
            "publish": {"office_clerk"},
            "execute_without_publication": {"head"},
            "assign_execution": {"head"},
            "report_execution": {"executor"},
            "report_problem": {"executor"},
            "record_public_feedback": {"office_clerk", "executor"},
            "suspend": {"head"},
            "resume_execution": {"head"},
            "terminate_execution": {"head"},
            "start_post_evaluation": {"head"},
            "complete_post_evaluation": {"evaluator"},
            "open_adjustment": {"head"},
            "complete_execution": {"executor", "office_clerk"},
            "archive": {"office_clerk"},
        }.items()
    },
    "catalogue": {
        trigger: frozenset(roles)
        for trigger, roles in {
            "open_call": {"office_clerk"},
            "suggest_item": {"office_clerk", "organiser"},
            "close_call": {"office_clerk"},
            "screen_item": {"legal_counsel", "office_clerk"},
            "compile_catalogue": {"office_clerk"},
            "certify_screening": {"legal_counsel"},
            "submit_for_approval": {"office_clerk"},
            "approve_at_meeting": {"office_clerk"},
            "return_for_rescreening": {"office_clerk", "head"},
            "record_party_consent": {"office_clerk"},
            "publish_catalogue": {"office_clerk"},
            "request_adjustment": {"organiser", "office_clerk"},
            "reject_adjustment": {"office_clerk", "head"},
            "compile_adjustment": {"office_clerk"},
            "return_adjustment": {"office_clerk", "head"},
            "submit_adjustment": {"office_clerk"},
            "approve_adjustment": {"office_clerk"},
            "record_adjustment_consent": {"office_clerk"},
            "publish_adjustment": {"office_clerk"},
            "disclose_year_end": {"office_clerk"},
            "close_year": {"office_clerk"},
        }.items()
    },
    # 政府合同 (other-reviews.md §3): the 承办单位 prepares, submits, revises, signs under a power of
    # attorney, files and manages performance; the 司法局 reviews; the government's 法律顾问 gives
    # opinions; the county head decides (or the 常务会议, minuted by the office) and signs as legal
    # representative; the auditor reads.
    "government_contract": {
        trigger: frozenset(roles)
        for trigger, roles in {
            "open_matter": {"organiser"},
            "record_due_diligence": {"organiser"},
            "prepare_text": {"organiser"},
            "submit_for_review": {"organiser"},
            "accept_review": {"legal_counsel"},
            "return_submission": {"legal_counsel"},
            "start_investigation": {"legal_counsel"},
            "end_investigation": {"legal_counsel"},
            "give_legal_opinion": {"legal_adviser"},
            "find_approve": {"legal_counsel"},
            "find_revise": {"legal_counsel"},
            "find_not_advisable": {"legal_counsel"},
            "revise_text": {"organiser"},
            "amend_text": {"organiser"},
            "resubmit_for_review": {"organiser"},
            "abandon": {"organiser", "head"},
            "decide_by_head": {"head"},
            "decline_by_head": {"head"},
            "submit_to_meeting": {"organiser", "office_clerk"},
            "approve_at_meeting": {"office_clerk"},
            "reject_at_meeting": {"office_clerk"},
            "sign": {"head", "organiser"},
            "file_contract": {"organiser"},
            "report_performance": {"organiser"},
            "report_dispute": {"organiser"},
            "propose_variation": {"organiser"},
            "complete_performance": {"organiser"},
            "terminate_contract": {"head"},
            "archive": {"organiser"},
        }.items()
    },
    # 118号 §（十三）（十四）, 行政处罚法 Arts. 57-58: the handling unit's officers (承办人员) open, investigate,
    # submit and carry out; the agency's 法制审核 staff review; the agency head (负责人) decides, approves a
    # longer review, settles a disagreement and sends a case back or on to the judicial organs.
    "enforcement_decision": {
        trigger: frozenset(roles)
        for trigger, roles in {
            "register_case": {"case_handler"},
            "dismiss_case": {"agency_head"},
            "conclude_investigation": {"case_handler"},
            "classify_not_major": {"case_handler"},
            "reinvestigate": {"case_handler", "agency_head"},
            "submit_for_review": {"case_handler"},
            "return_incomplete": {"enforcement_reviewer"},
            "accept_submission": {"enforcement_reviewer"},
            "request_supplement": {"enforcement_reviewer"},
            "provide_supplement": {"case_handler"},
            "return_unsupplemented": {"enforcement_reviewer"},
            "extend_review": {"agency_head"},
            "agree": {"enforcement_reviewer"},
            "find_problems": {"enforcement_reviewer"},
            "amend_draft": {"case_handler"},
            "resubmit_for_review": {"case_handler"},
            "contest_opinion": {"case_handler"},
            "uphold_opinion": {"agency_head"},
            "uphold_handler": {"agency_head"},
            "submit_for_decision": {"case_handler"},
            "refer_to_collective_discussion": {"agency_head"},
            "decide": {"agency_head"},
            "decide_collectively": {"agency_head"},
            "transfer_to_judicial": {"agency_head"},
            "serve": {"case_handler"},
            "publish": {"case_handler"},
            "record_execution": {"case_handler"},
            "archive": {"case_handler"},
        }.items()
    },
    # 国办发〔2018〕115号: the drafting unit drafts, consults, gives its own opinion, submits and revises
    # (§（五）（六）); the government office checks the submission and forwards or returns it (§（五）);
    # the Justice Bureau reviews (§（四）（六）), the legal adviser assists (§（八）); the office records
    # the meeting, the registration, publication, filing and clean-up; the head may withdraw.
    "normative_document": {
        trigger: frozenset(roles)
        for trigger, roles in {
            "start_drafting": {"organiser"},
            "exclude": {"office_clerk", "legal_counsel"},
            "submit_draft": {"organiser"},
            "reassess_attributes": {"organiser"},
            "record_assessment": {"organiser"},
            "open_comment": {"organiser"},
            "close_comment": {"organiser"},
            "change_comment_period": {"organiser"},
            "cancel_comment": {"organiser"},
            "record_fair_competition_review": {"organiser"},
            "give_unit_legality_opinion": {"organiser"},
            "submit_for_review": {"organiser"},
            "forward_for_review": {"office_clerk"},
            "return_incomplete": {"office_clerk"},
            "accept_review": {"legal_counsel"},
            "return_submission": {"legal_counsel"},
            "request_supplement": {"legal_counsel"},
            "provide_supplement": {"organiser"},
            "give_legal_opinion": {"legal_adviser"},
            "find_lawful": {"legal_counsel"},
            "find_needs_revision": {"legal_counsel"},
            "find_unlawful": {"legal_counsel"},
            "revise_after_review": {"organiser"},
            "amend_draft": {"organiser"},
            "withdraw": {"organiser", "head"},
            "submit_for_deliberation": {"organiser"},
            "adopt": {"office_clerk"},
            "send_back": {"office_clerk"},
            "reject": {"office_clerk"},
            "register_and_issue": {"office_clerk"},
            "publish": {"office_clerk"},
            "file_record": {"office_clerk"},
            "confirm_in_force": {"office_clerk"},
            "amend_after_cleanup": {"office_clerk"},
            "repeal": {"office_clerk"},
            "expire": {"office_clerk"},
            "archive": {"office_clerk"},
        }.items()
    },
}
DECLARED_ROLES = {
    "major_decision": {
        "proposer",
        "head",
        "organiser",
        "legal_counsel",
        "legal_adviser",
        "office_clerk",
        "executor",
        "evaluator",
        "auditor",
    },
    "catalogue": {"office_clerk", "legal_counsel", "organiser", "head", "auditor"},
    "normative_document": {"organiser", "office_clerk", "legal_counsel", "legal_adviser", "head", "auditor"},
    "government_contract": {"organiser", "legal_counsel", "legal_adviser", "head", "office_clerk", "auditor"},
    "enforcement_decision": {"case_handler", "enforcement_reviewer", "agency_head", "auditor"},
}
# (source state, trigger) pairs × declared roles: a new transition or role changes these on purpose
TRANSITIONS = {
    "major_decision": 107,
    "catalogue": 26,
    "normative_document": 52,
    "government_contract": 40,
    "enforcement_decision": 35,
}
CELLS = {
    "major_decision": 107 * 9,
    "catalogue": 26 * 5,
    "normative_document": 52 * 6,
    "government_contract": 40 * 6,
    "enforcement_decision": 35 * 4,
}

PATHS = {
    "major_decision": MAIN_PATH,
    "catalogue": CATALOGUE_PATH,
    "normative_document": ND_PATH,
    "government_contract": CONTRACT_PATH,
    "enforcement_decision": ENFORCEMENT_PATH,
}
CASE_IDS = {
    "major_decision": "D-2025-001",
    "catalogue": "CAT-2025",
    "normative_document": "ND-2025-001",
    "government_contract": "HT-2025-001",
    "enforcement_decision": "EN-2025-001",
}
STORIES: dict[str, Callable[[Definitions, str], Story]] = {"enforcement_decision": EnforcementStory}
"""A workflow whose main path is walked by people of its own (default: `tests.support.Story`)."""
ACTORS = {**PEOPLE, **ENFORCEMENT_PEOPLE}


# Every fabricated person works in the department the county pack designates for the legality review
# (youxian: 县司法局), so that a reviewer's step is judged on the role alone; an organiser works in the
# unit that organises the main path's decision (youxian.organiser_acts_for_own_unit), so that theirs is too.
UNIT = "县司法局"
ORGANISING_UNIT = "县交通运输局"


def unit_for(role: str) -> str:
    """The unit of a fabricated person acting in ``role``."""
    return ORGANISING_UNIT if role == "organiser" else UNIT


def only(role: str) -> Actor:
    """A person who holds ``role`` and nothing else."""
    return Actor(f"only_{role}", frozenset({role}), unit_for(role))


def _walk(definitions: Definitions, workflow: str) -> list[Case]:
    """The main path's snapshots: ``snapshots[i]`` is the case before step ``i`` (the last: after all)."""
    make = STORIES.get(workflow)
    story = make(definitions, CASE_IDS[workflow]) if make else Story(definitions, workflow, CASE_IDS[workflow])
    snapshots = [story.case]
    for step in PATHS[workflow]:
        story.step(step)
        snapshots.append(story.case)
    return snapshots


def _documents(kinds: tuple[str, ...], tag: str) -> tuple[tuple[Document, ...], dict[str, bytes]]:
    blobs = {k: f"{tag} {k}".encode() for k in kinds}
    docs = tuple(Document(k, hashlib.sha256(b).hexdigest(), name=f"{k}.pdf") for k, b in blobs.items())
    return docs, {hashlib.sha256(b).hexdigest(): b for b in blobs.values()}


# -- the table is the workflows' -----------------------------------------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_role_table_covers_every_transition_of_the_shipped_workflows(
    definitions: Definitions, workflow: str
) -> None:
    wf = definitions.workflow(workflow)
    assert set(wf.roles) == DECLARED_ROLES[workflow], "the workflow's declared roles changed: update DECLARED_ROLES"
    assert set(ROLES[workflow]) == set(wf.triggers), (
        f"triggers without a row in ROLES: {sorted(set(wf.triggers) - set(ROLES[workflow]))}; "
        f"rows for triggers the workflow lacks: {sorted(set(ROLES[workflow]) - set(wf.triggers))}"
    )
    drift = [
        f"{t.trigger} from {t.source}: the workflow allows {sorted(t.roles)}, the table {sorted(ROLES[workflow][t.trigger])}"
        for t in wf.transitions
        if set(t.roles) != ROLES[workflow][t.trigger]
    ]
    assert not drift, "roles differ from the specification:\n" + "\n".join(drift)
    assert len(wf.transitions) == TRANSITIONS[workflow], "a transition was added or removed: update TRANSITIONS"
    assert len(wf.transitions) * len(wf.roles) == CELLS[workflow]


def test_the_matrix_is_as_large_as_announced() -> None:
    # major_decision and catalogue; normative_document, government_contract, enforcement_decision
    assert sum(CELLS.values()) == 1093 + 312 + 240 + 140
    every_role_of_some_transition = {r for table in ROLES.values() for roles in table.values() for r in roles}
    assert every_role_of_some_transition | {"auditor"} == set().union(*DECLARED_ROLES.values())


# -- every cell, through the engine on fabricated snapshots --------------------------------------------


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_cell_of_the_role_matrix(definitions: Definitions, workflow: str) -> None:
    """For every (source, trigger) × role: a person holding only that role, and a person holding every
    role who asks to act in that one, are refused for the role exactly where the table says so; on the
    main path, at its own state, an allowed role meets every requirement."""
    engine = Engine(definitions, workflow)
    wf = engine.workflow
    snapshots = _walk(definitions, workflow)
    path = PATHS[workflow]
    wrong: list[str] = []
    cells = 0
    for t in wf.transitions:
        at = next(
            (i for i, c in enumerate(snapshots[:-1]) if c.state == t.source and path[i].trigger == t.trigger), None
        )
        if at is not None:  # the main path's own snapshot, step and carried fields
            case, step = snapshots[at], path[at]
        else:  # the source state fabricated on the whole history; the role judgement does not look at it
            case, step = (
                replace(snapshots[-1], state=t.source),
                Step(t.trigger, "", snapshots[-1].last_on or date(2025, 1, 1)),
            )
        docs = tuple(Document(k, hashlib.sha256(k.encode()).hexdigest(), name=k) for k in step.docs)
        for role in sorted(wf.roles):
            cells += 1
            allowed = role in ROLES[workflow][t.trigger]
            everyone = Actor("everyone", frozenset(wf.roles), unit_for(role))
            for who, asked in ((only(role), None), (everyone, role)):
                action = Action(t.trigger, who, step.on, dict(step.fields), docs, asked, known=OUTSIDE)
                unmet, _ = engine.check(case, action)
                ids = [u.rule_id for u in unmet]
                cell = f"{t.trigger} from {t.source} by {who.id} as {asked or role}"
                if not allowed and "engine.role" not in ids:
                    wrong.append(f"{cell}: not refused for the role (unmet: {ids})")
                if allowed and "engine.role" in ids:
                    wrong.append(f"{cell}: refused for the role")
                if allowed and at is not None and ids:
                    wrong.append(f"{cell}: the main path's step is refused: {ids}")
    assert not wrong, f"{len(wrong)} of {cells} cells disagree with the table:\n" + "\n".join(wrong)
    assert cells == CELLS[workflow]
    report_count(f"[role matrix/{workflow}] {cells} cells (transition × role), each judged twice on the engine")


def test_a_role_the_actor_does_not_hold_is_refused_even_where_the_transition_allows_it(
    definitions: Definitions,
) -> None:
    engine = Engine(definitions, "major_decision")
    case = _walk(definitions, "major_decision")[2]  # in drafting, before submit_draft
    step = MAIN_PATH[2]
    docs = tuple(Document(k, hashlib.sha256(k.encode()).hexdigest(), name=k) for k in step.docs)
    unmet, _ = engine.check(case, Action(step.trigger, only("head"), step.on, {}, docs, "organiser"))
    assert "engine.role" in {u.rule_id for u in unmet}


# -- the main paths, through the service layer, on SQLite and PostgreSQL --------------------------------


def _fire(service: CaseService, workflow: str, case_id: str, step: Step, actor: Actor, tag: str) -> None:
    docs, blobs = _documents(step.docs, f"{case_id} {tag}")
    action = Action(step.trigger, actor, step.on, dict(step.fields), docs)
    if service.repository.head(case_id) is None:
        service.start(workflow, case_id, action, blobs)
    else:
        service.act(case_id, action, blobs=blobs)


def _documents_stored(service: CaseService) -> int:
    with service.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM documents")).scalar_one())


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_main_path_fires_only_for_the_roles_the_workflow_names(service: CaseService, workflow: str) -> None:
    """Each main-path step, at its main-path state, with a person holding only one role, every role in
    turn: refused (and nothing written) unless the table names the role; every named role succeeds."""
    path = PATHS[workflow]
    wf = service.current.workflow(workflow)
    main = CASE_IDS[workflow]
    fired = refused = 0
    for i, step in enumerate(path):
        before = service.view(main) if i else None
        documents = _documents_stored(service)
        allowed = sorted(ROLES[workflow][step.trigger])
        for role in sorted(set(wf.roles) - set(allowed)):
            try:
                _fire(service, workflow, main, step, only(role), f"#{i} as {role}")
            except ActionRefused as refusal:
                ids = {u.rule_id for u in refusal.unmet}
                assert "engine.role" in ids, f"{step.trigger} by {only(role).id} refused, but not for the role: {ids}"
            else:
                pytest.fail(f"{step.trigger} was accepted from {only(role).id}; the table allows only {allowed}")
            refused += 1
            if before is None:
                assert service.repository.head(main) is None, f"a refused start by {role} created {main}"
            else:
                assert service.view(main) == before, f"{step.trigger} refused for {role} changed {main}"
            assert _documents_stored(service) == documents, f"{step.trigger} refused for {role} stored documents"
        # the first allowed role advances the main case; each other allowed role on a case walked to here
        _fire(service, workflow, main, step, only(allowed[0]), f"#{i}")
        fired += 1
        assert service.view(main).case.records[-1].role == allowed[0]
        for role in allowed[1:]:
            side = f"{main}-{i}-{role}"
            for j, earlier in enumerate(path[:i]):
                _fire(service, workflow, side, earlier, ACTORS[earlier.actor], f"#{j}")
            _fire(service, workflow, side, step, only(role), f"#{i} as {role}")
            fired += 1
            assert service.view(side).case.records[-1].role == role
    assert service.view(main).version == len(path)
    assert refused + fired == len(path) * len(wf.roles)
