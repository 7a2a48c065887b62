"""The definitions a deployment runs under: workflows, layered rule packs and the calendar. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from decisions.calendar import WorkCalendar
from decisions.errors import UsageError, shown
from decisions.rules.definitions import Rule, RuleBook
from decisions.workflow.definition import TransitionDef, WorkflowDef

if TYPE_CHECKING:
    from decisions.rules.compiled import CompiledRule

__all__ = ["Definitions", "Source", "effective_rules", "fingerprint_of", "source_digest"]


def source_digest(text: str) -> str:
    """The content hash a definition text is stored under (SHA-256 of its UTF-8 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_of(manifest: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of a definition set from its ordered (kind, content hash) pairs: SHA-256 over
    the kinds, order and content hashes (file names do not count). The one derivation, used when a
    set is loaded and when audit checks a stored set."""
    text = "\n".join(f"{kind}:{sha}" for kind, sha in manifest)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Source:
    """The exact text of one definition file, as loaded. ``kind``: workflow, rule_pack or calendar."""

    kind: str
    name: str
    text: str

    @cached_property
    def sha256(self) -> str:
        return source_digest(self.text)


def effective_rules(rulebook: RuleBook, wf: WorkflowDef, t: TransitionDef) -> tuple[Rule, ...]:
    """The rules that must hold to fire ``t``: those the workflow names, then those the packs
    bind to its trigger, then the workflow's field constraints on what it carries, each once."""
    seen: dict[str, Rule] = {}
    for rule_id in t.rules:
        rule = rulebook.rules.get(rule_id)
        if rule is not None:
            seen[rule.id] = rule
    for rule in rulebook.rules_for(wf.name, t.trigger):
        seen.setdefault(rule.id, rule)
    for rule in wf.constraints:
        if t.trigger in rule.triggers:
            seen.setdefault(rule.id, rule)
    return tuple(seen.values())


@dataclass(frozen=True)
class Definitions:
    """Validated workflows, the rule book over them, and the working-day calendar."""

    workflows: Mapping[str, WorkflowDef]
    rulebook: RuleBook
    calendar: WorkCalendar
    sources: tuple[Source, ...] = ()
    _effective: dict[tuple[str, str, str], tuple[Rule, ...]] = field(default_factory=dict, repr=False)

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 over the kinds, order and content hashes of the sources: one id for the set
        of definitions a decision is recorded under (file names do not count)."""
        return fingerprint_of((s.kind, s.sha256) for s in self.sources)

    def workflow(self, name: str) -> WorkflowDef:
        try:
            return self.workflows[name]
        except KeyError:
            known = ", ".join(sorted(self.workflows))
            raise UsageError(f"未知流程 / unknown workflow {shown(name)} (known: {known})") from None

    @cached_property
    def compiled_rules(self) -> Mapping[str, CompiledRule]:
        """Every rule's conditions compiled to closures, once per definition set (on first use): the
        packs' rules and the workflows' field constraints (hard rules of their workflow)."""
        from decisions.rules.compiled import compile_rules

        constraints = {rule.id: rule for wf in self.workflows.values() for rule in wf.constraints}
        return compile_rules({**constraints, **self.rulebook.rules})

    def compiled(self, rule: Rule) -> CompiledRule | None:
        """``rule`` compiled, when it is this rule book's (else None: interpret it)."""
        found = self.compiled_rules.get(rule.id)
        return found if found is not None and found.rule is rule else None

    def rules_for(self, wf: WorkflowDef, t: TransitionDef) -> tuple[Rule, ...]:
        """`effective_rules` of ``t``, cached."""
        key = (wf.name, t.source, t.trigger)
        cached = self._effective.get(key)
        if cached is None:
            cached = self._effective[key] = effective_rules(self.rulebook, wf, t)
        return cached
