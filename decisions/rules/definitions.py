"""Rule packs and their layering. Pure data.

A deployment loads packs in order (national → province → county). Rules accumulate; numeric
parameters layer so that the strictest value wins (`minimum`: the largest, `maximum`: the
smallest) and remember every pack that set them; `setting` parameters take the most local value,
and so does the citation of a check the engine makes itself (`decisions.rules.checks`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from decisions.calendar import CountingPolicy, Unit
from decisions.model import Text
from decisions.rules.conditions import Condition

__all__ = [
    "UNVERIFIED",
    "Citation",
    "ParamUnit",
    "Parameter",
    "ParameterSetting",
    "Rule",
    "RuleBook",
    "RulePack",
    "Strength",
    "layer",
]


class Strength(enum.StrEnum):
    """How binding a rule is, after the regulation's own modal verbs."""

    HARD = "hard"  # 应当 / 不得: no role can override it
    DEFAULT_MINIMUM = "default_minimum"  # 一般: may be departed from only with a recorded reason
    POLICY = "policy"  # 可以: a local policy choice

    @property
    def label(self) -> Text:
        return {
            Strength.HARD: Text("强制性规定（应当/不得）", "hard requirement"),
            Strength.DEFAULT_MINIMUM: Text("一般性规定（可说明理由缩短）", "default minimum"),
            Strength.POLICY: Text("可选政策（可以）", "optional policy"),
        }[self]


UNVERIFIED = "（出处未核实 / source not verified）"


@dataclass(frozen=True)
class Citation:
    """Where a requirement comes from: the legal text, its article, and whether that text was checked.

    ``verified`` is False unless a pack says its source (or this article) was read in the primary
    text; an unverified citation says so wherever it is printed (refusals, ``show``, replay).
    """

    source: str
    article: str
    article_en: str = ""
    verified: bool = False

    def __str__(self) -> str:
        en = f" ({self.article_en})" if self.article_en else ""
        mark = "" if self.verified else UNVERIFIED
        return f"{self.source}{self.article}{en}{mark}"


@dataclass(frozen=True)
class Rule:
    """One checkable requirement, bound to the triggers of one workflow."""

    id: str
    pack: str
    citation: Citation
    strength: Strength
    workflow: str
    triggers: frozenset[str]
    require: Condition
    message: Text
    when: Condition | None = None
    waiver_field: str | None = None
    params: tuple[str, ...] = ()
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class ParameterSetting:
    """One pack's value for a parameter, with the text that sets it."""

    pack: str
    value: Any
    citation: Citation | None = None

    def __str__(self) -> str:
        cite = f" ({self.citation})" if self.citation else ""
        return f"{self.pack}: {self.value}{cite}"


class ParamUnit(enum.StrEnum):
    """The closed set of units a pack parameter is counted in (checked at pack load): the periods
    the calendar counts, the counts of things packs set minimums on, and amounts of money (元)."""

    CALENDAR_DAYS = "calendar days"
    WORKING_DAYS = "working days"
    MONTHS = "months"
    YEARS = "years"
    EXPERTS = "experts"
    YUAN = "yuan"


_PERIODS: Mapping[str, Unit] = {
    ParamUnit.CALENDAR_DAYS: Unit.CALENDAR,
    ParamUnit.WORKING_DAYS: Unit.WORKING,
    ParamUnit.MONTHS: Unit.MONTH,
    ParamUnit.YEARS: Unit.YEAR,
}


@dataclass(frozen=True)
class Parameter:
    """A layered parameter: the value in force and every pack that set one."""

    name: str
    kind: str  # minimum | maximum | setting
    label: Text
    value: Any
    sources: tuple[ParameterSetting, ...]
    unit: ParamUnit | None = None
    values: tuple[str, ...] = ()

    @property
    def period(self) -> Unit | None:
        """The calendar unit of a period parameter (``None``: not a period, e.g. a count of experts)."""
        return _PERIODS.get(self.unit) if self.unit is not None else None

    def provenance(self) -> str:
        """``3 (national: 1 (…), youxian: 3 (…))``: the value in force and who set what."""
        return f"{self.value} ← " + "; ".join(str(s) for s in self.sources)


@dataclass(frozen=True)
class RulePack:
    """One pack file as loaded."""

    id: str
    name: Text
    level: str
    file: str
    rules: tuple[Rule, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    counting: CountingPolicy | None = None
    effective_from: str = ""
    checks: Mapping[str, Citation] = field(default_factory=dict)
    """The citation this pack gives each check the engine makes itself (`decisions.rules.checks`)."""


@dataclass(frozen=True)
class RuleBook:
    """The packs of a deployment, layered: every rule, and each parameter's value in force."""

    packs: tuple[RulePack, ...]
    rules: Mapping[str, Rule]
    parameters: Mapping[str, Parameter]
    counting: CountingPolicy = field(default_factory=CountingPolicy)
    checks: Mapping[str, Citation] = field(default_factory=dict)
    """Each engine check's citation, from the most local pack that gives one: by check id for every
    workflow, and by `decisions.rules.checks.workflow_check` key for one workflow alone."""
    _by_trigger: Mapping[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)

    def rules_for(self, workflow: str, trigger: str) -> tuple[Rule, ...]:
        """Rules the packs bind to ``trigger`` of ``workflow``, in pack order."""
        return self._by_trigger.get((workflow, trigger), ())

    def param_values(self) -> dict[str, Any]:
        return {name: p.value for name, p in self.parameters.items()}


def _strictest(kind: str, values: Sequence[Any]) -> Any:
    if kind == "minimum":
        return max(values)
    if kind == "maximum":
        return min(values)
    return values[-1]  # setting: the most local pack wins


def layer(packs: Sequence[RulePack]) -> RuleBook:
    """Combine packs in order. Parameter conflicts of kind are caught by the loader beforehand."""
    rules: dict[str, Rule] = {}
    by_trigger: dict[tuple[str, str], list[Rule]] = {}
    merged: dict[str, list[Parameter]] = {}
    counting = CountingPolicy()
    checks: dict[str, Citation] = {}
    for pack in packs:
        checks.update(pack.checks)
        for rule in pack.rules:
            rules[rule.id] = rule
            for trigger in sorted(rule.triggers):
                by_trigger.setdefault((rule.workflow, trigger), []).append(rule)
        for param in pack.parameters:
            merged.setdefault(param.name, []).append(param)
        if pack.counting is not None:
            counting = pack.counting
    parameters: dict[str, Parameter] = {}
    for name, layers in merged.items():
        first = layers[0]
        sources = tuple(s for p in layers for s in p.sources)
        parameters[name] = Parameter(
            name=name,
            kind=first.kind,
            label=layers[-1].label,
            value=_strictest(first.kind, [p.value for p in layers]),
            sources=sources,
            unit=first.unit,
            values=first.values,
        )
    return RuleBook(
        packs=tuple(packs),
        rules=rules,
        parameters=parameters,
        counting=counting,
        checks=checks,
        _by_trigger={k: tuple(v) for k, v in by_trigger.items()},
    )
