"""Property-based stateful tests of the other procedures (issue 17, item 5): the normative-document
legality review (规范性文件合法性审核), the major enforcement decision's legal review (重大执法决定法制
审核) and the government contract's legality review (政府合同合法性审查), played by the machine of
`tests/test_properties.py` (its rules, actions, refusal bookkeeping and invariants: version counts,
verify clean, replay reproduces every stored state, records only in allowed roles by holders).

What differs per workflow is taken from the workflow itself and from its main path in the support
module: the guided planner proposes the main path's next step (its position: as many steps as the case has
records) most of the time, and the main path's other triggers that leave the case's state (so loops
and detours happen), with the main path's fields and a date on or
after the last; wild steps fire any trigger, as anyone, with mutated fields, documents and dates.
After every step each history is held to its workflow's **declared** gates (`gates:` in the YAML,
read here as data and judged here, independently of `decisions.workflow.guarantees`): every record
entering a protected state is preceded by the guarantee's record, on the draft version then current,
with a passing outcome, made by someone who changed no draft and made none of the records it must be
independent of.

Profiles as in `tests/test_properties.py` (``HYPOTHESIS_PROFILE=long`` for the long runs); CI runs
``ci`` with fewer examples per machine, to keep each under ~90 s on SQLite and PostgreSQL together.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import rule, run_state_machine_as_test

from decisions.errors import ActionRefused, UsageError
from decisions.model import Actor, Case, Record
from decisions.workflow.definition import Gate, WorkflowDef
from tests import support_enforcement, support_government_contract, support_normative_document
from tests.stores import BACKENDS, new_database_url
from tests.support import PEOPLE, Step, report_count
from tests.test_properties import (
    DEFINITIONS,
    PROFILE,
    SETTINGS,
    STATES,
    STATS,
    TODAY,
    DecisionHistories,
    _plausible_value,
    _summary,
    _wrong_value,
)

# ci: fewer examples than the decision machine's (three machines here, each on both backends)
RUN = settings(SETTINGS, max_examples=5) if PROFILE == "ci" else SETTINGS


def gate_breaches(wf: WorkflowDef, case: Case) -> list[str]:
    """Every record of ``case`` entering a state a gate of ``wf`` protects without that gate's
    declared guarantee, in words (empty: the history keeps every gate)."""
    out = []
    for r in case.records:
        for gate in wf.gates.values():
            if r.to_state in gate.protects and gate.guarantee is not None:
                # judged on the case after the transition, as the guarantee is declared (the
                # entering record may itself be the guarantee's, as an adoption is)
                problem = _unguaranteed(wf, gate, case.records[: case.records.index(r) + 1], r)
                if problem:
                    out.append(f"#{r.seq} {r.trigger} into {r.to_state} ({gate.id}): {problem}")
    return out


def _unguaranteed(wf: WorkflowDef, gate: Gate, before: tuple[Record, ...], entering: Record) -> str:
    g = gate.guarantee
    assert g is not None
    made = [r for r in before if r.kind == g.record]
    if not made:
        return f"no {g.record} record"
    latest = made[-1]
    if g.current_draft and latest.draft_version != entering.draft_version:
        return f"the {g.record} covers draft {latest.draft_version}, the draft is {entering.draft_version}"
    if g.outcome_field:
        value = latest.fields.get(g.outcome_field)
        attributes: dict[str, Any] = {}
        for r in before if g.passing_if else ():
            attributes = wf.attributes_after(attributes, r.fields)
        if value not in g.passing and not (value in g.passing_if and attributes.get(g.passing_if[value]) is True):
            return f"the {g.record}'s {g.outcome_field} is {value!r}, not passing"
    others = set()
    if g.independent_of_drafters:
        others |= {r.actor for r in before if r.changes_draft}
    others |= {r.actor for r in before if r.kind in g.independent_of}
    if latest.actor in others:
        return f"the {g.record} was made by {latest.actor}, who must be independent of it"
    return ""


_BEFORE: dict[str, frozenset[str]] = {}


def before_the_gates(wf: WorkflowDef) -> frozenset[str]:
    """The states reachable from the initial one without entering a protected state: a case in any
    other state has passed a gate (a document in force was published first)."""
    if wf.name in _BEFORE:
        return _BEFORE[wf.name]
    protected = {s for g in wf.gates.values() for s in g.protects}
    seen, todo = {wf.initial}, [wf.initial]
    while todo:
        for t in wf.transitions_from(todo.pop()):
            if t.dest not in protected and t.dest not in seen:
                seen.add(t.dest)
                todo.append(t.dest)
    _BEFORE[wf.name] = frozenset(seen)
    return _BEFORE[wf.name]


class PathHistories(DecisionHistories):
    """Random histories of one workflow, guided by its main path."""

    wf: ClassVar[WorkflowDef]
    path: ClassVar[tuple[Step, ...]]
    people: ClassVar[dict[str, Actor]]
    prefix: ClassVar[str]

    # -- what differs from the decision machine ----------------------------------------------------

    def check_history(self, case: Case) -> None:
        breaches = gate_breaches(self.wf, case)
        assert not breaches, f"{case.id}: gates passed without their guarantee: {breaches}"
        for r in case.records:  # the role and the person, from the record alone
            t = self.wf.transition(r.from_state, r.trigger)
            assert t is not None and r.role in t.roles, f"{case.id} #{r.seq}: {r.trigger} as {r.role}"
            person = self.people.get(r.actor)
            assert person is None or r.role in person.roles, f"{case.id} #{r.seq}: {r.actor} lacks {r.role}"

    def _next(self, case: Case) -> Step | None:
        """The main path's step after as many steps as the case has records, if it leaves its state."""
        k = len(case.records)
        step = self.path[k] if k < len(self.path) else None
        return step if step is not None and self.wf.transition(case.state, step.trigger) is not None else None

    def _plan(self, case: Case) -> list[str]:
        others = sorted({s.trigger for s in self.path if self.wf.transition(case.state, s.trigger) is not None})
        # now and then a step off the main path (a withdrawal, a return, a deferral)
        off = sorted({t.trigger for t in self.wf.transitions_from(case.state)} - set(others))
        following = self._next(case)
        return others + off[:1] if following is None else [following.trigger] * 8 + others + off

    def _date_hint(self, case: Case, trigger: str) -> date | None:
        last = case.last_on or self.path[0].on
        days = [s.on for s in self.path if s.trigger == trigger and s.on >= last]
        return min(days[0], TODAY) if days else None

    def _past_gate(self, state: str) -> bool:
        return state not in before_the_gates(self.wf)

    def _open(self, state: str) -> bool:
        return bool(self.wf.transitions_from(state))

    def _events(self, case: Case) -> int:
        return len(case.records) + len(case.errata)

    # -- corrections (更正) and withdrawals ------------------------------------------------------

    @rule(decision=DecisionHistories.decisions, data=st.data())
    def correct(self, decision: str, data: st.DataObject) -> None:
        """An erratum of an earlier record: a field the workflow's `corrections:` let a role correct
        (or one it does not), by a holder of that role (or anyone), with a value from the main path
        (or a wrong one). Accepted, it is one more event; refused, nothing is written."""
        self.stats["steps"] += 1
        view = self.service.view(decision)
        case = view.case
        wild = data.draw(st.integers(0, 3), label="wild correction") == 3
        record = data.draw(st.sampled_from(case.records), label="corrected record")
        entries = [c for c in self.wf.corrections if c.covers(record.trigger)] or list(self.wf.corrections)
        if not entries:
            return
        entry = data.draw(st.sampled_from(entries), label="correction entry")
        t = self.wf.transition(record.from_state, record.trigger)
        names = [f for f in entry.fields if t is not None and f in t.all_fields] or list(entry.fields)
        fields: dict[str, Any] = {}
        if names and (wild or not entry.on or data.draw(st.booleans(), label="a field")):
            name = data.draw(st.sampled_from(names), label="corrected field")
            values = [s.fields[name] for s in self.path if name in s.fields]
            fields[name] = data.draw(st.sampled_from(values), label="value") if values and not wild else None
            if fields[name] is None:
                fields[name] = _wrong_value(self.wf, name) if wild else _plausible_value(self.wf, name)
        on = record.on if not entry.on else record.on + timedelta(days=data.draw(st.integers(-2, 2), label="shift"))
        holders = sorted(p for p, a in self.people.items() if a.roles & set(entry.roles))
        actor = self.people[data.draw(st.sampled_from(holders if holders and not wild else sorted(self.people)))]
        self.stats["corrections"] += 1
        try:
            self.service.correct(
                decision,
                corrects=record.seq,
                actor=actor,
                reason="笔误更正",
                fields=fields,
                on=on if entry.on else None,
            )
        except (ActionRefused, UsageError):
            self.stats["corrections_refused"] += 1
            assert self.service.view(decision) == view, f"a refused correction changed {decision}"
            return
        assert set(actor.roles) & set(entry.roles) or not wild, f"{actor.id} corrected without a role for it"
        self.stats["corrections_accepted"] += 1
        self.versions[decision] += 1

    def _fields(self, data: st.DataObject, case: Case, trigger: str, on: date) -> dict[str, Any]:
        t = self.wf.transition(case.state, trigger)
        if t is not None and all(s.trigger != trigger for s in self.path):  # off the main path: a withdrawal
            return {name: _plausible_value(self.wf, name) for name in t.requires_fields}
        following = self._next(case)
        if following is not None and following.trigger == trigger:
            return dict(following.fields)
        steps = [s for s in self.path if s.trigger == trigger]
        if not steps:
            return {}
        return dict(steps[data.draw(st.integers(0, len(steps) - 1), label="fields of step")].fields)

    def _trigger(self, data: st.DataObject, case: Case, wild: bool) -> str:
        trigger = super()._trigger(data, case, wild)
        self._drawn = (case, trigger)  # the main path's person for it is the likeliest actor
        return trigger

    def _actor(self, data: st.DataObject, t: Any, wild: bool) -> Actor:
        holders = sorted(p for p, a in self.people.items() if t is not None and a.roles & set(t.roles))
        case, trigger = getattr(self, "_drawn", (None, ""))
        following = self._next(case) if case is not None else None
        if following is not None and following.trigger == trigger and following.actor in holders:
            holders = [following.actor] * 3 + holders  # another holder now and then (independence)
        chosen = holders if holders and not wild else sorted(self.people)
        return self.people[data.draw(st.sampled_from(chosen), label="actor")]

    def _propose(self, data: st.DataObject, wild: bool) -> str | None:
        self.stats["proposals"] += 1
        self.attempts += 1
        first = self.path[0]
        # on the main path's day (its later dates and the periods its fields name fit that day); wild, any day
        on = first.on + timedelta(days=data.draw(st.integers(0, 20), label="start") if wild else 0)
        return self._start(data, f"{self.prefix}-{self.attempts}", on, dict(first.fields), wild)


def _machine(workflow: str, path: tuple[Step, ...], people: dict[str, Actor], prefix: str) -> type[PathHistories]:
    attrs = {"wf": DEFINITIONS.workflow(workflow), "path": path, "people": people, "prefix": prefix}
    return type(f"{workflow}_histories", (PathHistories,), attrs)


MACHINES: dict[str, type[PathHistories]] = {
    support_normative_document.WORKFLOW: _machine(
        support_normative_document.WORKFLOW, support_normative_document.ND_PATH, dict(PEOPLE), "ND"
    ),
    support_enforcement.WORKFLOW: _machine(
        support_enforcement.WORKFLOW, support_enforcement.MAIN_PATH, support_enforcement.PEOPLE, "EN"
    ),
    support_government_contract.WORKFLOW: _machine(
        support_government_contract.WORKFLOW, support_government_contract.CONTRACT_PATH, dict(PEOPLE), "HT"
    ),
}


@pytest.mark.parametrize("workflow", sorted(MACHINES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_random_histories_of_every_procedure_keep_its_gates(backend: str, workflow: str, tmp_path: Path) -> None:
    probe = new_database_url(backend, tmp_path)  # skips (or, under CI=true, fails) if PostgreSQL is unreachable
    next(probe)
    probe.close()
    machine = type(f"{workflow}_{backend}", (MACHINES[workflow],), {"backend": backend})
    key = f"{backend}/{workflow}"
    before, states_before = Counter(STATS[key]), Counter(STATES[key])
    run_state_machine_as_test(machine, settings=RUN)
    ran, states = Counter(STATS[key]), Counter(STATES[key])
    ran.subtract(before)
    states.subtract(states_before)
    report_count(
        _summary(key, ran, states) + f"; {ran['corrections']} corrections ({ran['corrections_accepted']} accepted), "
        f"{ran['accepted:withdraw']} withdrawals"
    )
    assert ran["steps"] > 0 and ran["accepted"] > 0 and ran["checks"] > 0
    if os.environ.get("CI") == "true" or PROFILE == "long":
        assert ran["past_a_gate"] > 0, f"{key}: no history got past a gate: the planner does not reach one"


def test_the_gate_check_catches_a_gate_passed_on_a_stale_or_failing_review() -> None:
    """The check can fail: the main path of each procedure passes it, and the same history with its
    guarantee record's draft, outcome or author changed does not."""
    from dataclasses import replace

    from tests.support import Story

    for workflow, machine in MACHINES.items():
        story = (
            support_enforcement.EnforcementStory(DEFINITIONS)
            if workflow == support_enforcement.WORKFLOW
            else Story(DEFINITIONS, workflow, f"{machine.prefix}-1")
        )
        case = story.walk("end", steps=machine.path).case
        assert gate_breaches(machine.wf, case) == [], workflow
        (gate,) = [g for g in machine.wf.gates.values() if g.guarantee is not None][:1]
        assert gate.guarantee is not None
        review = [r for r in case.records if r.kind == gate.guarantee.record][-1]
        i = case.records.index(review)

        def changed(case: Case = case, i: int = i, review: Record = review, **kw: Any) -> Case:
            records = list(case.records)
            records[i] = replace(review, **kw)
            return replace(case, records=tuple(records))

        assert gate_breaches(machine.wf, changed(draft_version=review.draft_version - 1)), workflow
        drafter = next(r.actor for r in case.records if r.changes_draft)
        if gate.guarantee.independent_of_drafters:
            assert gate_breaches(machine.wf, changed(actor=drafter)), workflow
        if gate.guarantee.outcome_field:
            failing = {**review.fields, gate.guarantee.outcome_field: "not a passing value"}
            assert gate_breaches(machine.wf, changed(fields=failing)), workflow
