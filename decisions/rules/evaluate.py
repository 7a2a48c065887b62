"""Evaluating rules against a case and an action. Pure.

Each rule yields one `RuleResult`. Only ``passed``, ``not_applicable`` and ``waived`` let an action
through; ``failed`` and ``error`` refuse it (an error is never taken as false, nor as true);
``pending`` appears only in previews, where the action's own input is not known yet.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from decisions.errors import Unmet
from decisions.rules.conditions import MISSING, PENDING, Env, Status
from decisions.rules.definitions import Parameter, Rule, Strength

if TYPE_CHECKING:
    from decisions.rules.compiled import CompiledRule

__all__ = ["Outcome", "RuleResult", "evaluate_rule", "render_message"]


class Outcome(enum.StrEnum):
    PASSED = "passed"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"
    FAILED = "failed"
    ERROR = "error"
    PENDING = "pending"

    @property
    def blocks(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule for one attempted action, with the reason when it is not plain."""

    rule: Rule
    outcome: Outcome
    detail: tuple[str, ...] = ()

    def unmet(self, parameters: Mapping[str, Parameter]) -> Unmet:
        """This result as an unmet requirement (for refusals and blocked-action lists)."""
        sources = tuple(parameters[p].provenance() for p in self.rule.params if p in parameters)
        zh = render_message(self.rule.message.zh, parameters)
        en = render_message(self.rule.message.en, parameters)
        if self.outcome is Outcome.ERROR:
            why = "; ".join(self.detail)
            zh = f"无法判断（{why}）：{zh}"
            en = f"cannot be evaluated ({why}): {en}"
        return Unmet(
            rule_id=self.rule.id,
            citation=str(self.rule.citation),
            message_zh=zh,
            message_en=en,
            kind="error" if self.outcome is Outcome.ERROR else "violation",
            sources=sources,
        )


_PLACEHOLDER = re.compile(r"\{param\.([a-z][a-z0-9_]*)\}")


def render_message(template: str, parameters: Mapping[str, Parameter]) -> str:
    """Fill ``{param.name}`` placeholders; nothing else in a message template is interpreted."""

    def fill(m: re.Match[str]) -> str:
        p = parameters.get(m.group(1))
        return str(p.value) if p is not None else m.group(0)

    return _PLACEHOLDER.sub(fill, template)


def evaluate_rule(rule: Rule, env: Env, compiled: CompiledRule | None = None) -> RuleResult:
    """Evaluate one rule: its ``when`` (applicability), its requirement, then any recorded waiver;
    through its ``compiled`` closures when given (the same verdicts: `decisions.rules.compiled`)."""
    if rule.when is not None:
        applies = compiled.when(env) if compiled is not None and compiled.when is not None else rule.when.evaluate(env)
        if applies.status is Status.FALSE:
            return RuleResult(rule, Outcome.NOT_APPLICABLE)
        if applies.status is Status.ERROR:
            return RuleResult(rule, Outcome.ERROR, applies.errors)
        if applies.status is Status.PENDING:
            return RuleResult(rule, Outcome.PENDING)
    verdict = compiled.require(env) if compiled is not None else rule.require.evaluate(env)
    if verdict.status is Status.TRUE:
        return RuleResult(rule, Outcome.PASSED)
    if verdict.status is Status.PENDING:
        return RuleResult(rule, Outcome.PENDING)
    if verdict.status is Status.ERROR:
        return RuleResult(rule, Outcome.ERROR, verdict.errors)
    if rule.strength is Strength.DEFAULT_MINIMUM and rule.waiver_field is not None:
        # 一般: going below the minimum is lawful only with the reason on record.
        reason = env.fact(f"action.{rule.waiver_field}")
        if reason is PENDING:
            return RuleResult(rule, Outcome.PENDING)
        if reason is not MISSING and str(reason).strip():
            return RuleResult(rule, Outcome.WAIVED, (str(reason),))
    return RuleResult(rule, Outcome.FAILED)
