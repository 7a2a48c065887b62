"""Issue 13, item 3: a running consultation or hearing can be extended, shortened or cancelled, and
a matter withdrawn from any stage before the decision.

The finding: a comment deadline typed as 2062 was accepted and trapped the case for decades (no
extension, cancellation, correction or withdrawal). A year's slip is now refused at entry (a field
constraint, tests/test_field_constraints.py); a slip within the year (2025-09-14 for 2025-04-14)
still traps the case for months, and each way out is a story here, on SQLite and
PostgreSQL; the correction by erratum is in tests/test_corrections.py. The rules themselves (allowed,
refused, waived, with their citations) are cases of the table in tests/test_rules.py (`CHANGES`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from datetime import date

import pytest

from decisions.deadlines import case_deadlines
from decisions.definitions import Definitions
from decisions.errors import ActionRefused
from decisions.model import Action
from decisions.service.cases import CaseService
from decisions.workflow.definition import WorkflowDef
from tests.stores import play
from tests.support import MAIN_PATH, PEOPLE, Step, Story, V, rule_ids

D = date
CASE = "D-2025-001"
OPEN = [s.trigger for s in MAIN_PATH].index(V("open_consultation"))
CLOSE = MAIN_PATH[OPEN + 1]
TYPO = D(2025, 9, 14)  # meant 2025-04-14; a year's slip (2062) is refused at entry: tests/test_field_constraints.py


def typo_deadline() -> list[Step]:
    steps = list(MAIN_PATH[: OPEN + 1])
    steps[OPEN] = replace(steps[OPEN], fields={**steps[OPEN].fields, V("comment_deadline"): TYPO})
    return steps


def act(service: CaseService, step: Step) -> None:
    docs = tuple(service.attach(k, f"{CASE} {k} {step.on} {step.trigger}".encode(), f"{k}.pdf") for k in step.docs)
    service.act(CASE, Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs))


CHANGED_ON = D(2025, 3, 20)


def change(deadline: date, on: date = CHANGED_ON, **fields: object) -> Step:
    return Step(
        V("change_comment_period"),
        "clerk_li",
        on,
        {V("comment_deadline"): deadline, V("reason"): "截止日期录入错误，发布变更公告", **fields},
        (V("consultation_notice"),),
    )


# -- a mistyped deadline: shortened, cancelled, withdrawn ---------------------------------------------


def test_a_mistyped_deadline_is_shortened_by_a_new_notice_and_the_consultation_closes(service: CaseService) -> None:
    play(service, CASE, typo_deadline())
    with pytest.raises(ActionRefused):
        act(service, CLOSE)
    act(service, change(D(2025, 4, 14)))  # 33 days from the notice of 2025-03-12: no reason needed
    case = service.view(CASE).case
    assert case.state == V("public_consultation")
    assert case.records[-1].fields[V("comment_deadline")] == D(2025, 4, 14)
    act(service, CLOSE)  # 2025-04-15, the day after the new deadline
    assert service.view(CASE).case.state == V("argumentation")


def test_a_mistyped_deadline_is_ended_by_cancelling_the_consultation(service: CaseService) -> None:
    """A cancelled consultation is no public participation: the review submission still asks for one."""
    play(service, CASE, typo_deadline())
    act(
        service,
        Step(
            V("cancel_consultation"),
            "clerk_li",
            D(2025, 3, 20),
            {V("reason"): "公告截止日期错误，终止后重新征求意见"},
            (V("consultation_notice"),),
        ),
    )
    assert service.view(CASE).case.state == V("argumentation")
    submit = next(s for s in MAIN_PATH if s.trigger == V("submit_legality_review"))
    with pytest.raises(ActionRefused) as refused:
        act(service, replace(submit, on=D(2025, 3, 21)))
    assert "national.public_participation_done" in rule_ids(refused.value)


def test_a_mistyped_deadline_no_longer_keeps_the_head_from_withdrawing_the_matter(service: CaseService) -> None:
    play(service, CASE, typo_deadline())
    withdraw = Step(V("withdraw"), "head_wang", D(2025, 3, 20), {V("reason"): "上级政策调整，不再决策"})
    with pytest.raises(ActionRefused) as refused:
        act(service, replace(withdraw, actor="clerk_li"))  # the head withdraws, not the organiser
    assert rule_ids(refused.value) == {"engine.role"}
    act(service, withdraw)
    assert service.view(CASE).case.state == V("withdrawn")
    act(service, Step(V("archive"), "office_chen", D(2025, 3, 25), {}, (V("archive_index"),)))
    assert service.view(CASE).case.state == V("archived")


# -- extending and shortening, on the engine --------------------------------------------------------


def test_an_extended_period_moves_the_deadline_shown_and_the_earliest_close(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("close_consultation"))
    story.step(change(D(2025, 5, 14)))
    wf = definitions.workflow(V("major_decision"))
    book = definitions.rulebook
    due = case_deadlines(story.case, wf, book.parameters, definitions.calendar, D(2025, 4, 1), book.counting)
    assert [d.due for d in due] == [D(2025, 5, 14)]
    refused = story.refused(CLOSE.trigger, CLOSE.actor, CLOSE.on, CLOSE.fields, CLOSE.docs)  # 04-15: too early
    assert "national.consultation_ran_its_period" in rule_ids(refused)
    story.do(CLOSE.trigger, CLOSE.actor, D(2025, 5, 15), CLOSE.fields, CLOSE.docs)
    assert story.case.state == V("argumentation")


def test_a_period_shortened_below_30_days_states_why_and_cannot_end_before_the_notice(
    definitions: Definitions,
) -> None:
    story = Story(definitions).walk(V("close_consultation"))
    short = change(D(2025, 4, 1))
    refused = story.refused(short.trigger, short.actor, short.on, short.fields, short.docs)
    assert rule_ids(refused) == {"national.comment_period_change_minimum"}
    past = change(D(2025, 3, 19), shortening_reason="已在变更公告中说明")
    refused = story.refused(past.trigger, past.actor, past.on, past.fields, past.docs)
    assert "national.comment_period_change_not_past" in rule_ids(refused)  # (and the field's own date-order constraint)
    story.step(change(D(2025, 4, 1), **{V("shortening_reason"): "汛期前须完成，已在变更公告中说明"}))
    story.do(CLOSE.trigger, CLOSE.actor, D(2025, 4, 2), CLOSE.fields, CLOSE.docs)
    assert story.case.state == V("argumentation")


# -- withdrawal: from every stage before the decision, never after -----------------------------------


def _reachable(wf: WorkflowDef, start: str, stop: frozenset[str] = frozenset()) -> set[str]:
    """The states reachable from ``start``, going on from none of ``stop``."""
    seen, queue = {start}, deque([start])
    while queue:
        state = queue.popleft()
        for t in wf.transitions_from(state) if state not in stop else ():
            if t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


WITHDRAWN = {  # the trigger, the state it leads to, the role that may always fire it
    "major_decision": ("withdraw", "withdrawn", "head"),
    "normative_document": ("withdraw", "withdrawn", "head"),
    "government_contract": ("abandon", "abandoned", "head"),
}


@pytest.mark.parametrize("workflow", sorted(WITHDRAWN))
def test_every_state_before_the_decision_can_be_withdrawn_by_the_head_and_nothing_protected_follows(
    definitions: Definitions, workflow: str
) -> None:
    """Every state on the way from the start to a decision (an approval or decision-taken state) offers
    the withdrawal to the head; the withdrawn state leads to no protected state (the gate proof's
    reach), only to the archive."""
    trigger, withdrawn, head = (V(x) for x in WITHDRAWN[workflow])
    wf = definitions.workflow(V(workflow))
    final = {s for s, d in wf.states.items() if d.final}
    decision = wf.approval_states | (wf.decided_states - final)  # the archive is no decision
    on_the_way = _reachable(wf, wf.initial, frozenset(decision)) - decision - {wf.initial, withdrawn}
    before = {s for s in on_the_way if _reachable(wf, s) & decision}
    offering = {t.source for t in wf.transitions if t.trigger == trigger and t.dest == withdrawn}
    assert offering == before
    assert all(head in t.roles for t in wf.transitions if t.trigger == trigger)
    protected = {s for g in wf.gates.values() for s in g.protects}
    after = _reachable(wf, withdrawn) - {withdrawn}
    assert after <= final and not after & protected


def test_a_decided_matter_is_not_withdrawn(definitions: Definitions) -> None:
    story = Story(definitions).walk(V("publish"))
    assert story.case.state == V("decided")
    refused = story.refused(V("withdraw"), "head_wang", D(2025, 5, 7), {V("reason"): "改变主意"})
    assert rule_ids(refused) == {"engine.unavailable"}
