"""The engine: one typed wrapper around `transitions` that owns its quirks. Pure: no I/O, no clock.

- ``auto_transitions`` is off (no ``to_<state>()`` bypass of every guard), and the model the
  machine moves is private to this module: callers get new `Case` snapshots, never a model.
- The only condition on any transition is `Engine._guard`, bound to the rule evaluator; nothing
  from a YAML file is ever handed to `transitions` as a callable or a dotted name.
- A failed condition makes `transitions` return ``False``; here that becomes `ActionRefused`
  listing *every* unmet requirement, each with its rule id and citation.
- A gate's guarantee is an invariant of the states it protects: every transition into one is judged
  on the case as it would be after the transition (`decisions.workflow.guarantees`), besides the
  gate's rule, so no rule pack can weaken it.
- The state change is computed, not persisted: the service layer writes the new snapshot and its
  history record in one transaction, so a failure after the change leaves nothing half-done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from transitions import Machine, MachineError

from decisions.definitions import Definitions
from decisions.errors import ActionRefused, DateBound, Named, Remedy, Unmet, UsageError, ValueHint, shown
from decisions.model import (
    ERRATUM,
    Action,
    Actor,
    Case,
    Document,
    Erratum,
    Record,
    Text,
    is_case_id,
    is_storable_text,
)
from decisions.rules.checks import CHECKS, TRANSITION_CHECKS, workflow_check
from decisions.rules.conditions import All, AnyOf, Compare, Condition, Env, EvalFailure, Fact, Literal, Status
from decisions.rules.definitions import Rule, Strength
from decisions.rules.evaluate import Outcome, RuleResult, evaluate_rule
from decisions.workflow.definition import FieldDef, FieldType, Gate, TransitionDef, WorkflowDef
from decisions.workflow.guarantees import gate_rule_id, guarantee_unmet
from decisions.workflow.needs import ActionSchema, action_schema, clauses, records_read, resolve

__all__ = ["ActionOption", "Engine", "Fired"]

DATE_SEARCH_DAYS = 800
"""How far (in days, either way) a refusal looks for the nearest date a period rule accepts."""


@dataclass(frozen=True)
class Fired:
    """An accepted action: the case after it, the record it adds, and every rule checked."""

    case: Case
    record: Record
    results: tuple[RuleResult, ...]


@dataclass(frozen=True)
class ActionOption:
    """An action the case offers from its current state, for one actor.

    ``blocked`` lists what stops it now (empty: available). ``checked_on_fire`` names the rules
    that depend on what the action will carry, so they can only be judged when it is fired.
    """

    trigger: str
    label: Text
    dest: str
    roles: tuple[str, ...]
    requires_fields: tuple[str, ...]
    requires_documents: tuple[str, ...]
    blocked: tuple[Unmet, ...] = ()
    checked_on_fire: tuple[str, ...] = ()
    schema: ActionSchema | None = None
    """Its inputs for this case (`decisions.workflow.needs`): what to fill in and attach."""

    @property
    def available(self) -> bool:
        return not self.blocked


@dataclass
class _Attempt:
    """What the guard is asked to judge, and what it found."""

    case: Case
    action: Action
    transition: TransitionDef
    unmet: list[Unmet] = field(default_factory=list)
    results: tuple[RuleResult, ...] = ()
    role: str | None = None
    after: Case | None = None  # the case after the action, when judging a guarantee already built it


class _Token:
    """The object `transitions` moves. Private: it never leaves the engine."""

    state: str


class Engine:
    """Fires triggers of one workflow on case snapshots, under one set of definitions."""

    def __init__(self, definitions: Definitions, workflow: str) -> None:
        self.definitions = definitions
        self.workflow: WorkflowDef = definitions.workflow(workflow)
        self._lock = threading.Lock()
        self._machine = Machine(
            model=None,
            states=list(self.workflow.states),
            initial=self.workflow.initial,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": t.source,
                    "dest": t.dest,
                    "conditions": [self._guard],
                }
                for t in self.workflow.transitions
            ],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        self._params = definitions.rulebook.param_values()
        self._defaults = self.workflow.attribute_defaults()
        self._draft_documents = frozenset(k for k, d in self.workflow.documents.items() if d.draft)
        self._abstentions = {f.name: f.abstain for f in self.workflow.fields.values() if f.abstain is not None}
        self._token = _Token()
        # The static input schema of each transition (its rules never change within a definition
        # set): computed once, not once per inbox row or preview. Keyed by the transition's identity.
        self._static_schemas: dict[tuple[str, str, str], ActionSchema] = {}
        self._machine.add_model(self._token, initial=self.workflow.initial)

    # -- the guard ------------------------------------------------------------------------------

    def _guard(self, event: Any) -> bool:
        attempt: _Attempt = event.kwargs["attempt"]
        attempt.unmet, attempt.results, attempt.role = self._judge(
            attempt.case, attempt.action, attempt.transition, attempt
        )
        return not attempt.unmet

    # -- public API ---------------------------------------------------------------------------

    def new_case(self, case_id: str) -> Case:
        """An empty case in the workflow's initial state."""
        return Case(id=case_id, workflow=self.workflow.name, state=self.workflow.initial)

    def fire(self, case: Case, action: Action) -> Fired:
        """Fire ``action`` on ``case``. Returns the new snapshot; raises `ActionRefused`."""
        if case.workflow != self.workflow.name:
            raise UsageError(f"case {case.id} follows workflow {case.workflow!r}, not {self.workflow.name!r}")
        if action.trigger not in self.workflow.triggers:
            raise UsageError(f"未知操作 / unknown action {shown(action.trigger)} in workflow {self.workflow.name!r}")
        transition = self.workflow.transition(case.state, action.trigger)
        if transition is None:
            raise ActionRefused(action.trigger, case.state, self._unavailable_with_gates(case, action))
        attempt = _Attempt(case, action, transition)
        with self._lock:
            self._machine.set_state(case.state, model=self._token)
            try:
                moved = self._token.trigger(action.trigger, attempt=attempt)  # type: ignore[attr-defined]
            except MachineError as exc:  # pragma: no cover - the index above already knows every edge
                raise ActionRefused(
                    action.trigger, case.state, [self._unavailable(case.state, action.trigger)]
                ) from exc
            new_state = self._token.state
        if not moved:
            raise ActionRefused(action.trigger, case.state, attempt.unmet)
        assert attempt.role is not None
        if attempt.after is not None and new_state == transition.dest:  # built once, while judging
            return Fired(attempt.after, attempt.after.records[-1], attempt.results)
        return self._apply(case, action, transition, attempt.role, new_state, attempt.results)

    def check(self, case: Case, action: Action) -> tuple[tuple[Unmet, ...], tuple[RuleResult, ...]]:
        """Judge ``action`` without firing it: (unmet requirements, every rule result)."""
        transition = self.workflow.transition(case.state, action.trigger)
        if transition is None:
            return tuple(self._unavailable_with_gates(case, action)), ()
        unmet, results, _ = self._judge(case, action, transition)
        return tuple(unmet), results

    def options(self, case: Case, actor: Actor, on: date) -> list[ActionOption]:
        """Every action from the current state, each available or blocked for ``actor`` with reasons."""
        out: list[ActionOption] = []
        for t in self.workflow.transitions_from(case.state):
            preview = Action(trigger=t.trigger, actor=actor, on=on)
            blocked: list[Unmet] = []
            role = self._role(actor, None, t)
            if role is None:
                blocked.append(self._role_unmet(t, actor))
            pending: list[str] = []
            results = self._evaluate(case, preview, role, t, preview_mode=True)
            for result in results:
                if result.outcome.blocks:
                    remedy = self._remedy(case, preview, role, t, result.rule)
                    blocked.append(replace(result.unmet(self.definitions.rulebook.parameters), remedy=remedy))
                elif result.outcome is Outcome.PENDING:
                    pending.append(result.rule.id)
            for gate in self._guarded(t, results):
                assert gate.guarantee is not None
                if t.record == gate.guarantee.record or (gate.guarantee.current_draft and t.changes_draft):
                    pending.append(gate_rule_id(gate))  # what it carries decides: judged when fired
                elif (missing := self._guarantee(gate, self._after(case, preview, t, role or ""))) is not None:
                    blocked.append(missing)
            out.append(
                ActionOption(
                    trigger=t.trigger,
                    label=t.label,
                    dest=t.dest,
                    roles=t.roles,
                    requires_fields=t.requires_fields,
                    requires_documents=t.requires_documents,
                    blocked=tuple(blocked),
                    checked_on_fire=tuple(pending),
                    schema=self._resolved(case, preview, role, t),
                )
            )
        return out

    # -- input schemas ----------------------------------------------------------------------------

    def schema(self, case: Case, trigger: str, actor: Actor, on: date) -> ActionSchema:
        """The input schema of ``trigger`` for ``case`` as it stands (`decisions.workflow.needs`):
        its fields and documents, which are required now, which only under a condition, and why."""
        t = self.workflow.transition(case.state, trigger)
        if t is None:
            candidates = [x for x in self.workflow.transitions if x.trigger == trigger]
            if not candidates:
                raise UsageError(f"未知操作 / unknown action {shown(trigger)} in workflow {self.workflow.name!r}")
            return action_schema(self.workflow, candidates[0], self.definitions.rules_for(self.workflow, candidates[0]))
        preview = Action(trigger=trigger, actor=actor, on=on)
        return self._resolved(case, preview, self._role(actor, None, t), t)

    def _resolved(self, case: Case, preview: Action, role: str | None, t: TransitionDef) -> ActionSchema:
        rules = self.definitions.rules_for(self.workflow, t)
        env = self._env(case, preview, role, t.sets, preview_mode=True)
        applies: dict[str, bool | None] = {}
        held: set[tuple[str, int]] = set()
        for rule in rules:
            if rule.when is not None:
                status = rule.when.evaluate(env).status
                applies[rule.id] = True if status is Status.TRUE else False if status is Status.FALSE else None
            for n, part in enumerate(clauses(rule)):
                if part.evaluate(env).status is Status.TRUE:  # holds whatever the action carries
                    held.add((rule.id, n))
        counts: dict[str, int] = {}
        for r in case.records:
            for d in r.documents:
                counts[d.kind] = counts.get(d.kind, 0) + 1
        return resolve(self._static_schema(t, rules), applies, frozenset(held), counts)

    def _static_schema(self, t: TransitionDef, rules: tuple[Rule, ...]) -> ActionSchema:
        key = (t.source, t.trigger, t.dest)
        schema = self._static_schemas.get(key)
        if schema is None:
            schema = self._static_schemas.setdefault(key, action_schema(self.workflow, t, rules))
        return schema

    # -- remedies ---------------------------------------------------------------------------------

    def _named_field(self, name: str) -> Named:
        if name == "on":
            return Named("on", "发生日期", "the day it happened")
        label = self.workflow.fields[name].label
        return Named(name, label.zh, label.en)

    def _named_document(self, kind: str) -> Named:
        label = self.workflow.documents[kind].label
        return Named(kind, label.zh, label.en)

    def _remedy(self, case: Case, action: Action, role: str | None, t: TransitionDef, rule: Rule) -> Remedy | None:
        """What would satisfy ``rule``, which refuses ``action``: the inputs it reads that the action
        lacks, the nearest dates its comparisons accept, and its waiver field."""
        schema = action_schema(self.workflow, t, (rule,))
        missing_fields: list[Named] = []
        missing_documents: list[Named] = []
        earlier: list[Named] = []
        carried = action.document_kinds()
        on_record = {d.kind for r in case.records for d in r.documents}
        env = self._env(case, action, role, t.sets, preview_mode=False)
        parts = clauses(rule)
        failing = {n for n, part in enumerate(parts) if part.evaluate(env).status is not Status.TRUE}
        for i in schema.inputs:
            # only what the clauses that do not hold read (or what decides whether the rule applies)
            if not any(n.rule == rule.id and not n.waiver and (n.clause in failing or n.clause < 0) for n in i.needs):
                continue
            if i.kind == "field" and action.fields.get(i.name) in (None, "", [], ()):
                missing_fields.append(self._named_field(i.name))
            elif i.kind == "document" and i.name in self.workflow.documents and i.name not in carried | on_record:
                missing_documents.append(self._named_document(i.name))
                if not i.accepted:  # put on record by another action first: those possible now that carry it
                    earlier.extend(
                        Named(x.trigger, x.label.zh, x.label.en)
                        for x in self.workflow.transitions_from(case.state)
                        if x.trigger != t.trigger and i.name in x.all_documents
                    )
        kinds = frozenset().union(*(records_read(parts[n]) for n in failing))
        earlier.extend(  # the actions possible now that put on record what the rule counts
            Named(x.trigger, x.label.zh, x.label.en)
            for x in self.workflow.transitions_from(case.state)
            if x.trigger != t.trigger and x.record in kinds
        )
        dates = tuple(b for c in _comparisons(rule.require) if (b := self._date_bound(c, case, action, role, t, env)))
        waiver = None
        if (
            rule.strength is Strength.DEFAULT_MINIMUM
            and rule.waiver_field is not None
            and rule.waiver_field in t.all_fields
            and rule.waiver_field in self.workflow.fields
        ):
            waiver = self._named_field(rule.waiver_field)
        units = tuple(dict.fromkeys(u for c in _comparisons(rule.require) for u in _units(c, env)))
        hints: dict[tuple[str, str], list[str]] = {}
        for n in failing:
            for name, how, value in _value_hints(parts[n]):
                if name in t.all_fields and name in self.workflow.fields and name not in t.sets:
                    hints.setdefault((name, how), []).extend(v for v in value if v not in hints.get((name, how), []))
        if waiver is None and not all(
            self._fixable(parts[n], n, rule, schema, case, action, role, t, env) for n in failing
        ):
            return None  # a part that fails on what nobody can supply here (a fact of the case): no remedy to offer
        remedy = Remedy(
            values=tuple(ValueHint(self._named_field(k[0]), k[1], tuple(v)) for k, v in hints.items()),
            units=units,
            fields=tuple(missing_fields),
            documents=tuple(missing_documents),
            dates=dates,
            waiver=waiver,
            actions=tuple(dict.fromkeys(earlier)),
        )
        return remedy or None

    def _fixable(
        self,
        part: Condition,
        n: int,
        rule: Rule,
        schema: ActionSchema,
        case: Case,
        action: Action,
        role: str | None,
        t: TransitionDef,
        env: Env,
    ) -> bool:
        """Whether the failing clause ``part`` (number ``n`` of ``rule``) can be met by what a remedy
        names: an input the action takes, a record another action puts on file, a value, a date, or
        the actor's unit. A clause about the case alone (a flag set at an earlier stage) cannot."""
        if any(
            need.rule == rule.id and need.clause == n and not need.waiver for i in schema.inputs for need in i.needs
        ):
            return True
        if records_read(part) or _value_hints(part):
            return True
        return any(
            _units(c, env) or self._date_bound(c, case, action, role, t, env) is not None for c in _comparisons(part)
        )

    def _date_bound(
        self, c: Compare, case: Case, action: Action, role: str | None, t: TransitionDef, env: Env
    ) -> DateBound | None:
        """For a false comparison that reads a date the action supplies (a date field it carries, else
        its own day), the nearest date that makes it hold: the earliest (later than now) or the latest."""
        if c.evaluate(env).status is not Status.FALSE:
            return None
        paths = [p for p in c.references() if p.startswith("action.")]
        names = [p.partition(".")[2] for p in paths]
        candidates = [
            n
            for n in names
            if n in self.workflow.fields
            and self.workflow.fields[n].type is FieldType.DATE
            and n in t.all_fields
            and isinstance(action.fields.get(n), date)
        ]
        if not candidates and "on" not in names:
            return None
        name = candidates[0] if candidates else "on"
        current = action.fields[name] if candidates else action.on

        def holds(day: date) -> bool | None:
            moved = replace(action, on=day) if name == "on" else replace(action, fields={**action.fields, name: day})
            status = c.evaluate(self._env(case, moved, role, t.sets, preview_mode=False)).status
            return None if status is Status.ERROR else status is Status.TRUE

        later, earlier = True, True
        for n in range(1, DATE_SEARCH_DAYS + 1):
            for sign in (1, -1):
                if (later if sign > 0 else earlier) is False:
                    continue
                try:
                    day = current + timedelta(days=sign * n)
                except OverflowError:
                    day = None
                verdict = holds(day) if day is not None else None
                if verdict is None:  # beyond what the calendar knows: look no further this way
                    if sign > 0:
                        later = False
                    else:
                        earlier = False
                elif verdict and day is not None:
                    return DateBound(self._named_field(name), "earliest" if sign > 0 else "latest", day)
            if not later and not earlier:
                break
        return None

    # -- corrections (errata) -----------------------------------------------------------------------

    def erratum(
        self,
        case: Case,
        *,
        corrects: int,
        actor: Actor,
        recorded_on: date,
        reason: str,
        fields: Mapping[str, Any] | None = None,
        on: date | None = None,
        role: str | None = None,
    ) -> Erratum:
        """The erratum ``actor`` asks for: fields and/or the day of the record numbered ``corrects``,
        checked against the workflow's ``corrections:`` (who may correct what) and the record's
        transition (what it carries). Raises `ActionRefused` (``engine.correction``), or
        `UsageError` when there is no such record. It is not judged yet: `correct` does that."""
        fields = dict(fields or {})
        target = next((r for r in case.records if r.seq == corrects), None)
        if target is None:
            if any(e.seq == corrects for e in case.errata):
                raise UsageError(
                    f"第 {corrects} 号事件本身是更正，不能再更正 / event #{corrects} is a correction itself"
                )
            raise UsageError(f"决策事项 {case.id} 没有第 {corrects} 号事件 / case {case.id} has no event #{corrects}")
        t = self.workflow.transition(target.from_state, target.trigger)
        cite = self.cite("engine.correction")
        unmet: list[Unmet] = []

        def refuse(zh: str, en: str, kind: str = "invalid") -> None:
            unmet.append(Unmet("engine.correction", cite, zh, en, kind=kind))

        # The role it corrects in: the one asked for, else the first the actor holds that may correct
        # everything asked (else one that may correct something of it, to say what it may not).
        roles = [r for r in ([role] if role is not None else sorted(actor.roles)) if r in actor.roles]
        may = {r: self.workflow.correctable([r], target.trigger) for r in roles}
        allowed = [r for r in roles if may[r] != (frozenset(), False)]
        fits = [r for r in allowed if set(fields) <= may[r][0] and (on is None or may[r][1])]
        chosen = next(iter(fits or allowed), None)
        label = t.label if t is not None else Text(target.trigger, target.trigger)
        if chosen is None:
            refuse(
                f"{actor.id} 无权更正第 {corrects} 号事件（{label.zh}）",
                f"{actor.id} may not correct event #{corrects} ({label.en})",
                "role",
            )
        else:
            may_fields, may_on = may[chosen]
            for name in sorted(set(fields) - may_fields):
                refuse(
                    f"第 {corrects} 号事件（{label.zh}）的 {shown(name)} 不可更正；可更正：{'、'.join(sorted(may_fields)) or '—'}",
                    f"{shown(name)} of event #{corrects} ({label.en}) cannot be corrected; correctable: "
                    f"{', '.join(sorted(may_fields)) or '—'}",
                )
            if on is not None and not may_on:
                refuse(
                    f"第 {corrects} 号事件（{label.zh}）的发生日期不可更正",
                    f"the date of event #{corrects} ({label.en}) cannot be corrected",
                )
        if not reason.strip():
            refuse("更正须说明理由", "a correction states its reason", "missing")
        if not fields and on is None:
            refuse("未指明更正的内容（字段或日期）", "nothing to correct: give fields or the date", "missing")
        if on is not None and on == target.on and not fields:
            refuse(f"第 {corrects} 号事件的日期已是 {on}", f"event #{corrects} already has the date {on}")
        if unmet:
            raise ActionRefused(ERRATUM, case.state, unmet)
        assert chosen is not None
        return Erratum(
            seq=case.next_seq,
            corrects=corrects,
            actor=actor.id,
            role=chosen,
            unit=actor.unit,
            recorded_on=recorded_on,
            reason=reason.strip(),
            fields=fields,
            was={k: target.fields.get(k) for k in fields},
            on=on,
            was_on=target.on if on is not None else None,
        )

    def correct(
        self,
        case: Case,
        erratum: Erratum,
        known: Callable[[Case, Action], Mapping[str, Any]] | None = None,
    ) -> Case:
        """``case`` after ``erratum``. The record it corrects and every later one are judged again, in
        order, on the corrected history (their rules, the checks the engine makes and the gates'
        guarantees): a correction that would make an accepted step unlawful is refused with the
        rule it would break (`ActionRefused`). ``known`` looks up the outside facts of a step."""
        after = case.with_erratum(erratum)
        replayed = self.new_case(case.id)
        unmet: list[Unmet] = []
        for r in after.records:
            t = self.workflow.transition(r.from_state, r.trigger)
            if r.seq >= erratum.corrects and t is not None:
                action = Action(
                    trigger=r.trigger,
                    actor=Actor(r.actor, frozenset({r.role}), r.unit),
                    on=r.on,
                    fields={k: v for k, v in r.fields.items() if k not in t.sets},
                    documents=tuple(replace(d, version=1) for d in r.documents),
                    role=r.role,
                )
                if known is not None:
                    action = replace(action, known=known(replayed, action))
                found, _, _ = self._judge(replace(replayed, state=r.from_state), action, t)
                label = t.label
                unmet.extend(
                    replace(
                        u,
                        message_zh=f"更正后第 {r.seq} 号事件（{label.zh}）不再合规：{u.message_zh}",
                        message_en=f"after the correction event #{r.seq} ({label.en}) would break: {u.message_en}",
                    )
                    for u in found
                )
            attributes = self.workflow.attributes_after(replayed.attributes, r.fields)
            replayed = replace(replayed, state=r.to_state, attributes=attributes, records=(*replayed.records, r))
        if unmet:
            raise ActionRefused(ERRATUM, case.state, unmet)
        return after

    # -- judging ----------------------------------------------------------------------------------

    def _judge(
        self, case: Case, action: Action, t: TransitionDef, attempt: _Attempt | None = None
    ) -> tuple[list[Unmet], tuple[RuleResult, ...], str | None]:
        unmet: list[Unmet] = []
        role = self._role(action.actor, action.role, t)
        if role is None:
            unmet.append(self._role_unmet(t, action.actor, action.role))
        unmet.extend(self._carried(action, t))
        if case.last_on is not None and action.on < case.last_on:
            unmet.append(
                Unmet(
                    "engine.date_order",
                    self.cite("engine.date_order"),
                    f"发生日期 {action.on} 早于上一事项日期 {case.last_on}",
                    f"the date it happened ({action.on}) is before the previous event ({case.last_on})",
                    kind="invalid",
                    remedy=Remedy(dates=(DateBound(self._named_field("on"), "earliest", case.last_on),)),
                )
            )
        results = self._evaluate(case, action, role, t, preview_mode=False)
        params = self.definitions.rulebook.parameters
        unmet.extend(
            replace(r.unmet(params), remedy=self._remedy(case, action, role, t, r.rule))
            for r in results
            if r.outcome.blocks
        )
        guarded = self._guarded(t, results)
        if guarded:
            after = self._after(case, action, t, role or "")
            if attempt is not None and role is not None and self._all_known(action):
                attempt.after = after  # exactly what firing builds: nothing was left out of it
            unmet.extend(m for gate in guarded if (m := self._guarantee(gate, after)) is not None)
        return unmet, results, role

    def _guarded(self, t: TransitionDef, results: tuple[RuleResult, ...]) -> list[Gate]:
        """The gates with a guarantee that protect the state ``t`` enters, except those whose own
        rule already refuses it (one reason is enough; the guarantee speaks when the rule is silent)."""
        refusing = {r.rule.id for r in results if r.outcome.blocks}
        return [
            g
            for g in self.workflow.gates.values()
            if g.guarantee is not None and t.dest in g.protects and g.rule not in refusing
        ]

    def _guarantee(self, gate: Gate, case: Case) -> Unmet | None:
        rule = self.definitions.rulebook.rules.get(gate.rule)
        citation = str(rule.citation) if rule is not None else self._source()
        return guarantee_unmet(self.workflow, gate, case, citation, self._defaults)

    def _all_known(self, action: Action) -> bool:
        """Whether every field and document kind ``action`` carries is the workflow's (`_after` keeps all)."""
        return all(k in self.workflow.fields for k in action.fields) and all(
            d.kind in self.workflow.documents for d in action.documents
        )

    def _after(self, case: Case, action: Action, t: TransitionDef, role: str) -> Case:
        """The case as it would be after ``action`` fires ``t`` (what it carries that the workflow does
        not know is left out: it is refused anyway, and cannot be applied)."""
        known = replace(
            action,
            fields={k: v for k, v in action.fields.items() if k in self.workflow.fields},
            documents=tuple(d for d in action.documents if d.kind in self.workflow.documents),
        )
        return self._apply(case, known, t, role, t.dest, ()).case

    def _evaluate(
        self, case: Case, action: Action, role: str | None, t: TransitionDef, *, preview_mode: bool
    ) -> tuple[RuleResult, ...]:
        env = self._env(case, action, role, t.sets, preview_mode=preview_mode)
        compiled = self.definitions.compiled
        return tuple(evaluate_rule(rule, env, compiled(rule)) for rule in self.definitions.rules_for(self.workflow, t))

    def _env(
        self,
        case: Case,
        action: Action,
        role: str | None,
        sets: Mapping[str, Any],
        *,
        preview_mode: bool,
    ) -> Env:
        if sets:  # constants the transition records (e.g. the outcome) are facts of the action too
            action = replace(action, fields={**action.fields, **sets})
        return Env(
            case=case,
            action=action,
            role=role,
            params=self._params,
            calendar=self.definitions.calendar,
            counting=self.definitions.rulebook.counting,
            attribute_defaults=self._defaults,
            attributes=case.attributes,
            draft_documents=self._draft_documents,
            abstentions=self._abstentions,
            preview=preview_mode,
        )

    @staticmethod
    def _role(actor: Actor, wanted: str | None, t: TransitionDef) -> str | None:
        if wanted is not None:
            return wanted if wanted in actor.roles and wanted in t.roles else None
        return next((r for r in t.roles if r in actor.roles), None)

    def _role_unmet(self, t: TransitionDef, actor: Actor, wanted: str | None = None) -> Unmet:
        roles = [self.workflow.roles[r].label for r in t.roles]
        zh = "、".join(r.zh for r in roles)
        en = ", ".join(r.en for r in roles)
        asked = f"（以 {wanted} 身份）" if wanted else ""
        asked_en = f" (as {wanted})" if wanted else ""
        return Unmet(
            "engine.role",
            self.cite("engine.role", t),
            f"{actor.id}{asked} 无权执行「{t.label.zh}」，需要角色：{zh}",
            f"{actor.id}{asked_en} may not {t.label.en}: requires one of the roles {en}",
            kind="role",
            remedy=Remedy(
                roles=tuple(Named(r, self.workflow.roles[r].label.zh, self.workflow.roles[r].label.en) for r in t.roles)
            ),
        )

    def _carried(self, action: Action, t: TransitionDef) -> list[Unmet]:
        out: list[Unmet] = []
        cite_field, cite_document = self.cite("engine.field", t), self.cite("engine.document", t)
        for name in t.requires_fields:
            if action.fields.get(name) in (None, "", [], ()):
                label = self.workflow.fields[name].label
                out.append(
                    Unmet(
                        f"engine.field.{name}",
                        cite_field,
                        f"缺少必填项「{label.zh}」({name})",
                        f"missing required field '{label.en}' ({name})",
                        kind="missing",
                        remedy=Remedy(fields=(Named(name, label.zh, label.en),)),
                    )
                )
        for name, value in action.fields.items():
            fdef = self.workflow.fields.get(name)
            if name not in t.all_fields or fdef is None:
                out.append(
                    Unmet(
                        f"engine.field.{name}",
                        cite_field,
                        f"此操作不接受字段 {shown(name)}",
                        f"field {shown(name)} is not accepted by {t.trigger}",
                        kind="invalid",
                    )
                )
            elif value is not None and (problem := _type_problem(fdef, value)) is not None:
                out.append(
                    Unmet(
                        f"engine.field.{name}",
                        cite_field,
                        f"字段「{fdef.label.zh}」无效：{problem}",
                        f"invalid field '{fdef.label.en}': {problem}",
                        kind="invalid",
                    )
                )
        kinds = action.document_kinds()
        for kind in t.requires_documents:
            if kind not in kinds:
                label = self.workflow.documents[kind].label
                out.append(
                    Unmet(
                        f"engine.document.{kind}",
                        cite_document,
                        f"缺少文件「{label.zh}」({kind})",
                        f"missing document '{label.en}' ({kind})",
                        kind="missing",
                        remedy=Remedy(documents=(Named(kind, label.zh, label.en),)),
                    )
                )
        for kind in sorted(kinds - set(t.all_documents)):
            out.append(
                Unmet(
                    f"engine.document.{kind}",
                    cite_document,
                    f"此操作不接受文件类型 {shown(kind)}",
                    f"document kind {shown(kind)} is not accepted by {t.trigger}",
                    kind="invalid",
                )
            )
        return out

    def _unavailable_with_gates(self, case: Case, action: Action) -> list[Unmet]:
        """Why a trigger cannot fire here, plus the gates its destination is protected by whose
        rule does not hold now: a jump toward a decision is refused with the article it breaks."""
        unmet = [self._unavailable(case.state, action.trigger)]
        dests = {t.dest for t in self.workflow.transitions if t.trigger == action.trigger}
        for gate in self.workflow.gates.values():
            rule = self.definitions.rulebook.rules.get(gate.rule)
            if rule is None or not dests & gate.protects:
                continue
            env = self._env(case, action, None, {}, preview_mode=False)
            result = evaluate_rule(rule, env, self.definitions.compiled(rule))
            if result.outcome.blocks:
                unmet.append(result.unmet(self.definitions.rulebook.parameters))
        refusing = {u.rule_id for u in unmet}
        for gate in self.workflow.gates.values():
            if dests & gate.protects and gate.rule not in refusing and (missing := self._guarantee(gate, case)):
                unmet.append(missing)
        return unmet

    def _unavailable(self, state: str, trigger: str) -> Unmet:
        label = self.workflow.states[state].label if state in self.workflow.states else Text(state, state)
        possible = self.workflow.transitions_from(state)
        allowed = ", ".join(t.trigger for t in possible) or "—"
        return Unmet(
            "engine.unavailable",
            self.cite("engine.unavailable"),
            f"当前阶段「{label.zh}」不能执行 {trigger}；可执行：{allowed}",
            f"{trigger} is not possible in state '{label.en}'; possible: {allowed}",
            kind="unavailable",
            remedy=Remedy(actions=tuple(Named(t.trigger, t.label.zh, t.label.en) for t in possible)) or None,
        )

    def cite(self, check: str, t: TransitionDef | None = None) -> str:
        """The citation of ``check`` (an id of `decisions.rules.checks.CHECKS`), from data only: the
        transition's own ``basis:`` for a check about it, else the packs' citation of the check for
        this workflow, else their citation of it for every workflow, else the workflow's first source."""
        assert check in CHECKS, check
        if t is not None and t.basis and check in TRANSITION_CHECKS:
            return t.basis
        checks = self.definitions.rulebook.checks
        cited = checks.get(workflow_check(self.workflow.name, check)) or checks.get(check)
        return str(cited) if cited is not None else self._source()

    def _source(self) -> str:
        return self.workflow.sources[0] if self.workflow.sources else self.workflow.label.zh

    # -- applying ---------------------------------------------------------------------------------

    def _apply(
        self,
        case: Case,
        action: Action,
        t: TransitionDef,
        role: str,
        new_state: str,
        results: tuple[RuleResult, ...],
    ) -> Fired:
        counts: dict[str, int] = {}
        for r in case.records:
            for d in r.documents:
                counts[d.kind] = counts.get(d.kind, 0) + 1
        documents: list[Document] = []
        changes_draft = False
        for d in action.documents:
            counts[d.kind] = counts.get(d.kind, 0) + 1
            documents.append(replace(d, version=counts[d.kind]))
            changes_draft = changes_draft or self.workflow.documents[d.kind].draft
        fields = {k: v for k, v in action.fields.items() if v is not None}
        fields.update(t.sets)
        record = Record(
            seq=case.next_seq,
            trigger=t.trigger,
            kind=t.record,
            actor=action.actor.id,
            role=role,
            unit=action.actor.unit,
            on=action.on,
            from_state=case.state,
            to_state=new_state,
            fields=fields,
            documents=tuple(documents),
            draft_version=case.draft_version + 1 if changes_draft else case.draft_version,
            changes_draft=changes_draft,
            on_behalf_of=dict(action.actor.delegated).get(role),
        )
        attributes = self.workflow.attributes_after(case.attributes, fields)
        new_case = replace(case, state=new_state, attributes=attributes, records=(*case.records, record))
        return Fired(new_case, record, results)


def _comparisons(c: Condition) -> list[Compare]:
    """The comparisons a requirement needs to hold together (under ``all``; an ``any`` offers
    alternatives, whose dates would not each be a remedy)."""
    if isinstance(c, Compare):
        return [c]
    if isinstance(c, All):
        return [x for item in c.items for x in _comparisons(item)]
    return []


def _value_hints(c: Condition) -> list[tuple[str, str, list[str]]]:
    """(field, how, values) for the comparisons of an action field with literal values in ``c``:
    ``in: [x, action.F]`` (F includes x), ``in: [action.F, [..]]`` / ``eq: [action.F, x]`` (F is one of)."""
    if isinstance(c, All | AnyOf):
        return [h for item in c.items for h in _value_hints(item)]
    if not isinstance(c, Compare) or c.op not in ("eq", "in", "contains_all"):
        return []
    out: list[tuple[str, str, list[str]]] = []
    for field_side, literal_side in ((c.left, c.right), (c.right, c.left)):
        if not (
            isinstance(field_side, Fact) and field_side.path.startswith("action.") and isinstance(literal_side, Literal)
        ):
            continue
        name = field_side.path.partition(".")[2]
        raw = literal_side.literal
        values = [str(v) for v in (raw if isinstance(raw, list | tuple) else [raw])]
        if (c.op == "in" and field_side is c.right) or c.op == "contains_all":
            out.append((name, "includes", values))
        elif c.op in ("eq", "in") and field_side is c.left:
            out.append((name, "one_of", values))
    return out


def _units(c: Compare, env: Env) -> list[str]:
    """The units a comparison of the actor's unit (``action.unit``) with a value asks for."""
    if c.op not in ("eq", "in"):
        return []
    for mine, other in ((c.left, c.right), (c.right, c.left)):
        if isinstance(mine, Fact) and mine.path == "action.unit":
            try:
                value = other.value(env)
            except EvalFailure:
                return []
            values = value if isinstance(value, list | tuple) else [value]
            return [str(v) for v in values if isinstance(v, str) and v]
    return []


def _storable(value: Any) -> bool:
    """Whether every text inside ``value`` (a field value: text, a list, a list of views) can be
    recorded and hashed the same way on every backend."""
    if isinstance(value, str):
        return is_storable_text(value)
    if isinstance(value, list | tuple):
        return all(_storable(v) for v in value)
    if isinstance(value, Mapping):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    return True


def _type_problem(fdef: FieldDef, value: Any) -> str | None:
    """Why ``value`` does not fit ``fdef`` (None when it does). Values arrive already parsed."""
    t = fdef.type
    if not _storable(value):
        return "text contains a NUL or an unpaired surrogate (not storable)"
    if t in (FieldType.STRING, FieldType.TEXT):
        return None if isinstance(value, str) else "expected text"
    if t is FieldType.CASE:
        return None if isinstance(value, str) and is_case_id(value) else "expected a case id"
    if t is FieldType.DATE:
        return None if isinstance(value, date) else "expected a date"
    if t is FieldType.INTEGER:
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an integer"
    if t is FieldType.BOOLEAN:
        return None if isinstance(value, bool) else "expected true or false"
    if t is FieldType.ENUM:
        return None if value in fdef.values else f"expected one of {', '.join(fdef.values)}"
    if t is FieldType.LIST:
        ok = isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
        return None if ok else "expected a list of text"
    # VIEWS: [{member, position, head?}] in speaking order
    if not isinstance(value, list | tuple) or not value:
        return "expected a non-empty list of views"
    for v in value:
        if not isinstance(v, Mapping) or not isinstance(v.get("member"), str) or v.get("position") not in fdef.values:
            return f"each view needs a member and a position in {', '.join(fdef.values)}"
        if set(v) - {"member", "position", "head", "note"}:
            return f"unknown keys in a view: {', '.join(sorted(set(v) - {'member', 'position', 'head', 'note'}))}"
    return None
