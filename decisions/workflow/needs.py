"""The input schema of an action: every field and document it takes or its rules read. Pure.

Derived statically from the definitions: the transition's own ``requires:`` / ``accepts:`` plus
every action field and document kind the conditions of its applicable rules read (the fact table,
`decisions.rules.facts`, says which paths are action fields; ``count: {document: …}`` reads a
document kind). Each input says whether it is required, needed only under a condition (the
condition in words), or optional, and which rules need it, so a form can be generated from it.

`action_schema` is the static schema of one transition. `resolve` narrows it for one case: a rule
whose ``when`` does not hold for the case drops out, one whose ``when`` holds makes its inputs
required, and a document already on record satisfies a rule that only asks it to exist
(`Engine.schema` evaluates the rules for it).

Extension point: a field constraint declared in the YAML (a date order, a catalogue item that
exists) becomes one more `Need` of the field (``rule`` the constraint's id) in `_needs_of`, and so
appears in the schema without changing its shape.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from decisions.model import Text
from decisions.rules.conditions import (
    All,
    AnyOf,
    Collect,
    Compare,
    Condition,
    Count,
    Days,
    Fact,
    Latest,
    Length,
    Literal,
    Not,
    Param,
    PeriodEnd,
    Present,
    Union,
    Value,
)
from decisions.rules.definitions import Rule
from decisions.rules.facts import FACTS, FactType
from decisions.workflow.definition import FieldType, TransitionDef, WorkflowDef

__all__ = [
    "ActionSchema",
    "Input",
    "Need",
    "Requirement",
    "action_schema",
    "clauses",
    "describe_condition",
    "records_read",
    "resolve",
    "steps_to_approval",
]


class Requirement(enum.StrEnum):
    """How much an input is needed, strongest first."""

    REQUIRED = "required"  # the action is refused without it
    CONDITIONAL = "conditional"  # needed only under a condition (said in words)
    OPTIONAL = "optional"  # taken, never needed

    @property
    def strength(self) -> int:
        return {Requirement.REQUIRED: 2, Requirement.CONDITIONAL: 1, Requirement.OPTIONAL: 0}[self]


@dataclass(frozen=True)
class Need:
    """Why an input is needed: by the transition itself (``rule`` empty) or by one rule."""

    rule: str
    requirement: Requirement
    condition: Text | None = None
    citation: str = ""
    waiver: bool = False  # the field whose reason lawfully shortens the rule's minimum
    alternative: bool = False  # one of several ways to satisfy the rule (inside an ``any``)
    clause: int = -1  # which conjunct of the rule's requirement reads it (`clauses`); -1: its ``when``
    satisfied: bool = False  # already met by what is on record (a document the case has)


@dataclass(frozen=True)
class Input:
    """One field or document of an action's form."""

    kind: str  # "field" | "document"
    name: str
    label: Text
    type: str  # a field's `FieldType` value, or "document"
    choices: tuple[tuple[str, Text | None], ...] = ()
    needs: tuple[Need, ...] = ()
    own: bool = False  # named by the transition's own requires: / accepts:
    on_record: int = 0  # documents: how many of the kind the case already has
    accepted: bool = True  # this action can carry it; a document it cannot must be on record from another

    @property
    def requirement(self) -> Requirement:
        """The strongest need that is not already satisfied (optional when none is left)."""
        open_ = [n.requirement for n in self.needs if not n.satisfied]
        return max(open_, key=lambda r: r.strength, default=Requirement.OPTIONAL)

    @property
    def conditions(self) -> tuple[Text, ...]:
        """The conditions under which it is needed, when it is conditional."""
        if self.requirement is not Requirement.CONDITIONAL:
            return ()
        out: list[Text] = []
        for n in self.needs:
            if n.requirement is Requirement.CONDITIONAL and not n.satisfied and n.condition and n.condition not in out:
                out.append(n.condition)
        return tuple(out)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.rule for n in self.needs if n.rule))


@dataclass(frozen=True)
class ActionSchema:
    """What one action (a transition) takes: its inputs, who may fire it, where it leads."""

    trigger: str
    label: Text
    source: str
    dest: str
    roles: tuple[str, ...]
    inputs: tuple[Input, ...]

    @property
    def fields(self) -> tuple[Input, ...]:
        return tuple(i for i in self.inputs if i.kind == "field")

    @property
    def documents(self) -> tuple[Input, ...]:
        return tuple(i for i in self.inputs if i.kind == "document")

    def input(self, kind: str, name: str) -> Input | None:
        return next((i for i in self.inputs if i.kind == kind and i.name == name), None)


def steps_to_approval(wf: WorkflowDef) -> Mapping[str, int]:
    """For each state from which an approval state (``approval: true``) can be reached, the fewest
    transitions that reach one (0: it is one); states from which none can be reached are absent.
    What a form may show as "how far from a decision"."""
    steps = {s: 0 for s, d in wf.states.items() if d.approval}
    frontier = list(steps)
    while frontier:
        nxt: list[str] = []
        for t in wf.transitions:
            if t.dest in frontier and t.source not in steps:
                steps[t.source] = steps[t.dest] + 1
                nxt.append(t.source)
        frontier = nxt
    return steps


# -- reading the condition trees ------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    kind: str  # field | document
    name: str
    strict: bool  # an absent value makes the comparison unjudgeable (an ERROR), not merely false


def _value_reads(v: Value, wf: WorkflowDef, strict: bool) -> Iterator[_Read]:
    if isinstance(v, Fact):
        if v.path in FACTS:
            return
        namespace, _, rest = v.path.partition(".")
        name = rest.partition(".")[0]
        if namespace == "action" and name in wf.fields:
            yield _Read("field", name, strict)
    elif isinstance(v, Count):
        if v.document is not None:
            yield _Read("document", v.document, strict)
    elif isinstance(v, Length):
        yield from _value_reads(v.of, wf, False)  # an absent list has length 0
    elif isinstance(v, Days):
        yield from _value_reads(v.start, wf, True)
        yield from _value_reads(v.end, wf, True)
    elif isinstance(v, PeriodEnd):
        yield from _value_reads(v.start, wf, True)
        if v.length is not None:
            yield from _value_reads(v.length, wf, True)
    elif isinstance(v, Union):
        for item in v.items:
            yield from _value_reads(item, wf, False)


def _value_records(v: Value) -> frozenset[str]:
    if isinstance(v, Count | Latest | Collect):
        return frozenset(v.kinds)
    if isinstance(v, Length):
        return _value_records(v.of)
    if isinstance(v, Days):
        return _value_records(v.start) | _value_records(v.end)
    if isinstance(v, PeriodEnd):
        return _value_records(v.start) | (_value_records(v.length) if v.length is not None else frozenset())
    if isinstance(v, Union):
        return frozenset().union(*(_value_records(i) for i in v.items))
    return frozenset()


def records_read(c: Condition) -> frozenset[str]:
    """The record kinds ``c`` counts or reads (``count`` / ``latest`` / ``collect: {record: …}``):
    what earlier actions must have put on record."""
    if isinstance(c, All | AnyOf):
        return frozenset().union(*(records_read(i) for i in c.items))
    if isinstance(c, Not):
        return records_read(c.item)
    if isinstance(c, Compare):
        return _value_records(c.left) | _value_records(c.right)
    if isinstance(c, Present):
        return _value_records(c.of)
    return frozenset()


def _reads(c: Condition, wf: WorkflowDef, alternative: bool = False) -> Iterator[tuple[_Read, bool]]:
    """Every input ``c`` reads, with whether it is read inside an alternative (``any``)."""
    if isinstance(c, All):
        for item in c.items:
            yield from _reads(item, wf, alternative)
    elif isinstance(c, AnyOf):
        for item in c.items:
            yield from _reads(item, wf, True)
    elif isinstance(c, Not):
        return  # what must not hold needs nothing supplied
    elif isinstance(c, Compare):
        for v in (c.left, c.right):
            yield from ((r, alternative) for r in _value_reads(v, wf, True))
    elif isinstance(c, Present):
        yield from ((r, alternative) for r in _value_reads(c.of, wf, False))


def clauses(rule: Rule) -> tuple[Condition, ...]:
    """The conjuncts of a rule's requirement (the items of a top-level ``all``, else the whole)."""
    return rule.require.items if isinstance(rule.require, All) else (rule.require,)


def _needs_of(rule: Rule, wf: WorkflowDef) -> Iterator[tuple[str, str, Need]]:
    """(kind, name, need) for every input ``rule`` reads."""
    citation = str(rule.citation)
    when = describe_condition(rule.when, wf) if rule.when is not None else None
    if rule.when is not None:
        for read, _ in _reads(rule.when, wf):
            if read.strict:  # the rule cannot tell whether it applies without it
                yield read.kind, read.name, Need(rule.id, Requirement.REQUIRED, None, citation)
            else:
                yield read.kind, read.name, Need(rule.id, Requirement.OPTIONAL, None, citation)
    for clause, part in enumerate(clauses(rule)):
        for read, alternative in _reads(part, wf):
            if alternative:
                condition = Text(
                    f"满足「{rule.message.zh}」的方式之一", f"one of the ways to satisfy '{rule.message.en}'"
                )
                if when is not None:
                    condition = Text(f"{when.zh}时，{condition.zh}", f"when {when.en}: {condition.en}")
                need = Need(rule.id, Requirement.CONDITIONAL, condition, citation, alternative=True, clause=clause)
            elif when is not None:
                need = Need(rule.id, Requirement.CONDITIONAL, when, citation, clause=clause)
            else:
                need = Need(rule.id, Requirement.REQUIRED, None, citation, clause=clause)
            yield read.kind, read.name, need
    if rule.waiver_field is not None and rule.waiver_field in wf.fields:
        condition = Text(
            f"低于「{rule.message.zh}」的一般期限时说明理由", f"the reason, to go below '{rule.message.en}'"
        )
        yield "field", rule.waiver_field, Need(rule.id, Requirement.OPTIONAL, condition, citation, waiver=True)


def action_schema(wf: WorkflowDef, t: TransitionDef, rules: tuple[Rule, ...]) -> ActionSchema:
    """The static input schema of ``t`` under its applicable ``rules`` (`Definitions.rules_for`)."""
    order: list[tuple[str, str]] = []
    needs: dict[tuple[str, str], list[Need]] = {}
    own: set[tuple[str, str]] = set()

    def add(kind: str, name: str, need: Need | None) -> None:
        key = (kind, name)
        if key not in needs:
            order.append(key)
            needs[key] = []
        if need is not None and need not in needs[key]:
            needs[key].append(need)

    for name in t.all_fields:
        own.add(("field", name))
        add("field", name, Need("", Requirement.REQUIRED) if name in t.requires_fields else None)
    for kind in t.all_documents:
        own.add(("document", kind))
        add("document", kind, Need("", Requirement.REQUIRED) if kind in t.requires_documents else None)
    for rule in rules:
        for kind, name, need in _needs_of(rule, wf):
            # a constant the transition records, or a field it does not take, is no input of its form
            if kind == "field" and (name in t.sets or name not in t.all_fields):
                continue
            add(kind, name, need)
    inputs = [
        replace(
            _input(wf, kind, name, tuple(needs[(kind, name)]), (kind, name) in own),
            accepted=kind == "field" or name in t.all_documents,
        )
        for kind, name in order
    ]
    return ActionSchema(t.trigger, t.label, t.source, t.dest, t.roles, tuple(inputs))


def _input(wf: WorkflowDef, kind: str, name: str, needs: tuple[Need, ...], own: bool) -> Input:
    if kind == "document":
        d = wf.documents.get(name)
        return Input(kind, name, d.label if d is not None else Text(name, name), "document", (), needs, own)
    f = wf.fields[name]
    choices: tuple[tuple[str, Text | None], ...] = ()
    if f.type in (FieldType.ENUM, FieldType.VIEWS):
        choices = tuple((v, f.value_labels.get(v)) for v in f.values)
    return Input(kind, name, f.label, f.type.value, choices, needs, own)


def resolve(
    schema: ActionSchema,
    applies: Mapping[str, bool | None],
    held: frozenset[tuple[str, int]],
    on_record: Mapping[str, int],
) -> ActionSchema:
    """``schema`` for one case: ``applies[rule]`` is False when the rule's ``when`` does not hold
    for it (its needs drop), True when it does (its conditional needs become required), None when
    the action's own input decides; ``held`` are the (rule, clause) pairs the case already meets
    whatever the action carries (e.g. a document on record, or the other branch of an ``any``):
    what they read is not needed now."""
    out: list[Input] = []
    for i in schema.inputs:
        kept: list[Need] = []
        for n in i.needs:
            verdict = applies.get(n.rule)
            if n.rule and verdict is False:
                continue
            if verdict is True and n.requirement is Requirement.CONDITIONAL and not n.alternative:
                n = replace(n, requirement=Requirement.REQUIRED, condition=None)
            if (n.rule, n.clause) in held:
                n = replace(n, satisfied=True)
            kept.append(n)
        if kept or i.own:
            count = on_record.get(i.name, 0) if i.kind == "document" else 0
            out.append(replace(i, needs=tuple(kept), on_record=count))
    return replace(schema, inputs=tuple(out))


# -- conditions in words --------------------------------------------------------------------------

_OPS: Mapping[str, tuple[str, str]] = {
    "eq": ("为", "is"),
    "ne": ("不为", "is not"),
    "gt": ("大于", "is more than"),
    "gte": ("不少于", "is at least"),
    "lt": ("小于", "is less than"),
    "lte": ("不超过", "is at most"),
    "in": ("为以下之一：", "is one of"),
    "not_in": ("不为以下任一：", "is none of"),
    "contains_all": ("包含全部：", "contains all of"),
    "disjoint": ("不包含任一：", "contains none of"),
}
_DATE_OPS: Mapping[str, tuple[str, str]] = {
    "gt": ("晚于", "is after"),
    "gte": ("不早于", "is on or after"),
    "lt": ("早于", "is before"),
    "lte": ("不晚于", "is on or before"),
}


def _enum_field(v: Value, wf: WorkflowDef) -> str | None:
    if isinstance(v, Fact):
        name = v.path.partition(".")[2]
        f = wf.fields.get(name)
        if f is not None and f.type is FieldType.ENUM:
            return name
    return None


def _describe_value(v: Value, wf: WorkflowDef, enum_of: str | None = None) -> Text:
    if isinstance(v, Fact) and v.path not in FACTS:
        namespace, _, name = v.path.partition(".")
        f = wf.fields.get(name)
        if f is not None:
            where = ("本次填写的", "this action's ") if namespace == "action" else ("事项的", "the case's ")
            return Text(f"{where[0]}「{f.label.zh}」({name})", f"{where[1]}'{f.label.en}' ({name})")
    if isinstance(v, Literal):
        values = v.literal if isinstance(v.literal, list | tuple) else [v.literal]
        f = wf.fields.get(enum_of) if enum_of else None
        shown: list[Text] = []
        for x in values:
            label = f.value_labels.get(x) if f is not None and isinstance(x, str) else None
            if isinstance(x, bool):
                shown.append(Text("是" if x else "否", "yes" if x else "no"))
            else:
                shown.append(Text(f"{label.zh} ({x})", f"{label.en} ({x})") if label else Text(str(x), str(x)))
        return Text("、".join(s.zh for s in shown), ", ".join(s.en for s in shown))
    if isinstance(v, Param):
        return Text(f"参数 {v.name}", f"parameter {v.name}")
    if isinstance(v, Length):
        of = _describe_value(v.of, wf)
        return Text(f"{of.zh}的个数", f"the number of {of.en}")
    if isinstance(v, Count) and v.document is not None:
        d = wf.documents.get(v.document)
        label = d.label if d is not None else Text(v.document, v.document)
        return Text(f"「{label.zh}」({v.document}) 的份数", f"the number of '{label.en}' ({v.document}) documents")
    text = v.describe()
    return Text(text, text)


def describe_condition(c: Condition, wf: WorkflowDef) -> Text:
    """A condition in words, in both languages, naming fields by their labels."""
    if isinstance(c, All | AnyOf):
        parts = [describe_condition(i, wf) for i in c.items]
        zh, en = ("且", "and") if isinstance(c, All) else ("或", "or")
        return Text(f" {zh} ".join(p.zh for p in parts), f" {en} ".join(p.en for p in parts))
    if isinstance(c, Not):
        inner = describe_condition(c.item, wf)
        return Text(f"并非（{inner.zh}）", f"not ({inner.en})")
    if isinstance(c, Present):
        of = _describe_value(c.of, wf)
        return Text(f"{of.zh}已填写", f"{of.en} is given")
    if isinstance(c, Compare):
        enum_of = _enum_field(c.left, wf) or _enum_field(c.right, wf)
        left, right = _describe_value(c.left, wf, enum_of), _describe_value(c.right, wf, enum_of)
        dates = FactType.DATE in (c.left.type, c.right.type)
        zh, en = (_DATE_OPS if dates and c.op in _DATE_OPS else _OPS).get(c.op, (c.op, c.op))
        return Text(f"{left.zh}{zh}{right.zh}", f"{left.en} {en} {right.en}")
    return Text(type(c).__name__, type(c).__name__)  # pragma: no cover - the closed set above
