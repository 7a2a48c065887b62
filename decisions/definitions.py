"""The definitions a deployment runs under: workflows, layered rule packs and the calendar. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from decisions.calendar import WorkCalendar
from decisions.errors import UsageError
from decisions.rules.definitions import Rule, RuleBook
from decisions.workflow.definition import TransitionDef, WorkflowDef

__all__ = ["Definitions", "effective_rules"]


def effective_rules(rulebook: RuleBook, wf: WorkflowDef, t: TransitionDef) -> tuple[Rule, ...]:
    """The rules that must hold to fire ``t``: those the workflow names, then those the packs
    bind to its trigger, each once."""
    seen: dict[str, Rule] = {}
    for rule_id in t.rules:
        rule = rulebook.rules.get(rule_id)
        if rule is not None:
            seen[rule.id] = rule
    for rule in rulebook.rules_for(wf.name, t.trigger):
        seen.setdefault(rule.id, rule)
    return tuple(seen.values())


@dataclass(frozen=True)
class Definitions:
    """Validated workflows, the rule book over them, and the working-day calendar."""

    workflows: Mapping[str, WorkflowDef]
    rulebook: RuleBook
    calendar: WorkCalendar
    _effective: dict[tuple[str, str, str], tuple[Rule, ...]] = field(default_factory=dict, repr=False)

    def workflow(self, name: str) -> WorkflowDef:
        try:
            return self.workflows[name]
        except KeyError:
            known = ", ".join(sorted(self.workflows))
            raise UsageError(f"未知流程 / unknown workflow {name!r} (known: {known})") from None

    def rules_for(self, wf: WorkflowDef, t: TransitionDef) -> tuple[Rule, ...]:
        """`effective_rules` of ``t``, cached."""
        key = (wf.name, t.source, t.trigger)
        cached = self._effective.get(key)
        if cached is None:
            cached = self._effective[key] = effective_rules(self.rulebook, wf, t)
        return cached
