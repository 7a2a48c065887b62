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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from transitions import Machine, MachineError

from decisions.definitions import Definitions
from decisions.errors import ActionRefused, Unmet, UsageError, shown
from decisions.model import Action, Actor, Case, Document, Record, Text, is_case_id, is_storable_text
from decisions.rules.checks import CHECKS, TRANSITION_CHECKS, workflow_check
from decisions.rules.conditions import Env
from decisions.rules.evaluate import Outcome, RuleResult, evaluate_rule
from decisions.workflow.definition import FieldDef, FieldType, Gate, TransitionDef, WorkflowDef
from decisions.workflow.guarantees import gate_rule_id, guarantee_unmet

__all__ = ["ActionOption", "Engine", "Fired"]


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
                    blocked.append(result.unmet(self.definitions.rulebook.parameters))
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
                )
            )
        return out

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
                )
            )
        results = self._evaluate(case, action, role, t, preview_mode=False)
        params = self.definitions.rulebook.parameters
        unmet.extend(r.unmet(params) for r in results if r.outcome.blocks)
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
        allowed = ", ".join(t.trigger for t in self.workflow.transitions_from(state)) or "—"
        return Unmet(
            "engine.unavailable",
            self.cite("engine.unavailable"),
            f"当前阶段「{label.zh}」不能执行 {trigger}；可执行：{allowed}",
            f"{trigger} is not possible in state '{label.en}'; possible: {allowed}",
            kind="unavailable",
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
            seq=len(case.records) + 1,
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
        )
        attributes = self.workflow.attributes_after(case.attributes, fields)
        new_case = replace(case, state=new_state, attributes=attributes, records=(*case.records, record))
        return Fired(new_case, record, results)


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
