"""The fact table: every fact a rule condition may read, declared once. Pure; no I/O, no clock.

A fact has a path (``action.on``, ``decision.draft_version``, ``action.views.majority``), a static
type (`FactType`: what the loader checks comparisons against), a source (`FactSource`: where its value
comes from) and a description. The evaluator (`Env.fact`, `record_value`) and the loader
(`workflow_facts`, `record_fields`, read by ``decisions.loading.rulepacks.scope_for``) both read
this table, so adding a fact is one entry::

    FACTS            built-in facts of the action, the actor, the case, and outside lookups
    FIELD_FACTS      action.<field> and decision.<attribute field>, for the fields a workflow declares
    VIEWS_FACTS      derived facts of a ``views`` field: action.<views field>.<derivation>
    RECORD_FACTS     what every record has besides its fields (count / latest / collect)

A fact without a value is `MISSING`; a fact about an action not attempted yet (a preview) is
`PENDING`; a fact that cannot be computed raises `EvalFailure` (an ERROR verdict, never false).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from decisions.calendar import CountingPolicy, Unit
from decisions.model import Action, Case, Record
from decisions.workflow.definition import FieldType, WorkflowDef

__all__ = [
    "FACTS",
    "FIELD_FACTS",
    "FIELD_TYPES",
    "MISSING",
    "OUTSIDE_FACTS",
    "PENDING",
    "RECORD_FACTS",
    "VIEWS_FACTS",
    "Env",
    "EvalFailure",
    "FactDef",
    "FactSource",
    "FactType",
    "FieldFacts",
    "Views",
    "WorkingCalendar",
    "record_fields",
    "record_value",
    "workflow_facts",
]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING: Any = _Sentinel("MISSING")
"""A fact that has no value (a field never recorded, a latest record that does not exist)."""
PENDING: Any = _Sentinel("PENDING")
"""A fact about an action that has not been attempted yet (previews of available actions)."""


class EvalFailure(Exception):
    """A value could not be computed. Internal: it becomes an ERROR verdict, never a refusal by itself."""


class FactType(enum.StrEnum):
    """The closed set of static types of the condition language."""

    ANY = "any"
    BOOL = "bool"
    INT = "int"
    STR = "str"
    DATE = "date"
    LIST = "list"
    VIEWS = "views"
    """A meeting's per-member views: read only through its derived facts (`VIEWS_FACTS`)."""


class FactSource(enum.StrEnum):
    """Where a fact's value comes from."""

    ACTION = "action"  # the action being judged
    ACTOR = "actor"  # who acts, and in which role
    CASE = "case"  # the case as it stands before the action
    RECORD = "record"  # one record of the case's history
    VIEWS = "views"  # derived from the value of a views field
    OUTSIDE = "outside"  # looked up by the service, outside the case (carried in ``Action.known``)


FIELD_TYPES: Mapping[FieldType, FactType] = {
    FieldType.STRING: FactType.STR,
    FieldType.TEXT: FactType.STR,
    FieldType.ENUM: FactType.STR,
    FieldType.DATE: FactType.DATE,
    FieldType.INTEGER: FactType.INT,
    FieldType.BOOLEAN: FactType.BOOL,
    FieldType.LIST: FactType.LIST,
    FieldType.VIEWS: FactType.VIEWS,
    FieldType.CASE: FactType.STR,
}
"""The static type a workflow field of each type has in conditions (``action.<f>``, ``decision.<f>``)."""

S = TypeVar("S")


@dataclass(frozen=True)
class FactDef(Generic[S]):
    """One fact: ``read`` computes its value from what it is read from (`Env`, a `Record`, the
    entries of a views field). ``states`` / ``field_values``: the declared values an enumerated
    fact takes (the workflow's states, the views field's positions). ``unknown``: for an outside
    fact, why a rule reading it cannot be judged when the service could not supply it."""

    name: str
    type: FactType
    source: FactSource
    description: str
    read: Callable[[S], Any]
    states: bool = False
    field_values: bool = False
    unknown: str = ""


class WorkingCalendar(Protocol):
    """What the evaluator needs of a calendar (see `decisions.calendar.WorkCalendar`)."""

    def elapsed(self, start: date, end: date, unit: Unit, policy: CountingPolicy = ...) -> int: ...

    def period_end(self, start: date, length: int, unit: Unit, policy: CountingPolicy = ...) -> date: ...

    def last_day(self, day: date, policy: CountingPolicy = ...) -> date: ...


@dataclass(frozen=True)
class Env:
    """Everything a condition may look at. Built by the engine; the evaluator reads nothing else.

    Facts are those of the table: `FACTS`, then `FIELD_FACTS` (``action.<field>``, with the
    derived facts of a views field; ``decision.<attribute>``); any other path is an ERROR. An
    outside fact the service could not supply cannot be judged: an ERROR saying so, never an
    empty value.
    """

    case: Case
    action: Action | None
    role: str | None
    params: Mapping[str, Any]
    calendar: WorkingCalendar
    counting: CountingPolicy = field(default_factory=CountingPolicy)
    attribute_defaults: Mapping[str, Any] = field(default_factory=dict)
    attributes: Mapping[str, Any] = field(default_factory=dict)
    draft_documents: frozenset[str] = frozenset()
    """The document kinds that are a new version of the draft (``draft: true`` in the workflow)."""
    abstentions: Mapping[str, str] = field(default_factory=dict)
    """For each views field that declares one, its value that is an abstention (``abstain:``)."""
    preview: bool = False
    """In a preview the action's fields and documents are not known yet: they are PENDING."""

    def fact(self, path: str) -> Any:
        """The value of the fact ``path`` (`MISSING`, `PENDING`), or `EvalFailure`."""
        builtin = FACTS.get(path)
        if builtin is not None:
            return builtin.read(self)
        namespace, _, name = path.partition(".")
        family = FIELD_FACTS.get(namespace)
        if family is not None and name:
            return family.read(self, name)
        raise EvalFailure(f"unknown fact {path!r}")


def _of_action(read: Callable[[Env, Action], Any]) -> Callable[[Env], Any]:
    """A fact of the action: PENDING while there is no action yet."""
    return lambda env: PENDING if env.action is None else read(env, env.action)


def _outside(name: str, type_: FactType, description: str, unknown: str) -> FactDef[Env]:
    def read(env: Env) -> Any:
        if env.action is None:
            return PENDING
        if name not in env.action.known:
            if env.preview:
                return PENDING
            raise EvalFailure(unknown)
        return env.action.known[name]

    return FactDef(name, type_, FactSource.OUTSIDE, description, read, unknown=unknown)


def _table(*defs: FactDef[S]) -> Mapping[str, FactDef[S]]:
    return {d.name: d for d in defs}


FACTS: Mapping[str, FactDef[Env]] = _table(
    FactDef("action.on", FactType.DATE, FactSource.ACTION, "the day of the action", _of_action(lambda e, a: a.on)),
    FactDef("action.actor", FactType.STR, FactSource.ACTOR, "the id of who acts", _of_action(lambda e, a: a.actor.id)),
    FactDef(
        "action.unit",
        FactType.STR,
        FactSource.ACTOR,
        "the unit of who acts",
        _of_action(lambda e, a: a.actor.unit if a.actor.unit is not None else MISSING),
    ),
    FactDef(
        "action.role",
        FactType.STR,
        FactSource.ACTOR,
        "the role the actor acts in",
        _of_action(lambda e, a: e.role if e.role is not None else MISSING),
    ),
    FactDef(
        "action.changes_draft",
        FactType.BOOL,
        FactSource.ACTION,
        "the action carries a new version of the draft (a document kind with draft: true)",
        _of_action(lambda e, a: PENDING if e.preview else any(d.kind in e.draft_documents for d in a.documents)),
    ),
    FactDef(
        "decision.draft_version",
        FactType.INT,
        FactSource.CASE,
        "the case's draft version",
        lambda e: e.case.draft_version,
    ),
    FactDef("decision.state", FactType.STR, FactSource.CASE, "the case's state", lambda e: e.case.state, states=True),
    _outside(
        "catalogue.published_items",
        FactType.LIST,
        "the item ids of the catalogue of the year of action.on, in its latest version published on or before it",
        "未找到本年度已公布的重大行政决策事项目录，先公布目录，或说明目录外事项的理由"
        " / no catalogue of major decisions published for the year of the action is known: publish the "
        "catalogue first, or record the off-catalogue reason",
    ),
)
"""The built-in facts, by path."""

OUTSIDE_FACTS: Mapping[str, str] = {d.name: d.unknown for d in FACTS.values() if d.source is FactSource.OUTSIDE}
"""The facts the service looks up outside the case, with the ERROR a rule reading one gives when
the service could not supply it."""


@dataclass(frozen=True)
class FieldFacts:
    """The facts a workflow's fields declare under one namespace (``action.<field>``), typed by
    `FIELD_TYPES`; ``attributes_only``: only the fields that set a case attribute."""

    namespace: str
    source: FactSource
    description: str
    read: Callable[[Env, str], Any]
    attributes_only: bool = False


def _action_field(env: Env, name: str) -> Any:
    if env.action is None:
        return PENDING
    name, _, derived = name.partition(".")
    if env.preview and name not in env.action.fields:
        return PENDING
    value = env.action.fields.get(name, MISSING)
    if derived:
        return _views_value(value, derived, env.abstentions.get(name))
    return MISSING if value is None else value


def _attribute(env: Env, name: str) -> Any:
    if name in env.attributes:
        return env.attributes[name]
    return env.attribute_defaults.get(name, MISSING)


FIELD_FACTS: Mapping[str, FieldFacts] = {
    f.namespace: f
    for f in (
        FieldFacts(
            "action",
            FactSource.ACTION,
            "a field the action carries (a views field is read through its derived facts, `VIEWS_FACTS`)",
            _action_field,
        ),
        FieldFacts(
            "decision",
            FactSource.CASE,
            "a case attribute: its latest recorded value, else the field's default",
            _attribute,
            attributes_only=True,
        ),
    )
}
"""The facts of a workflow's fields, by namespace. A built-in fact (`FACTS`) of the same path wins."""


@dataclass(frozen=True)
class Views:
    """The value of a views field: the members' entries in speaking order (``member``, ``position``,
    ``head``), and the field's value that is an abstention, if it declares one (``abstain:``)."""

    entries: Sequence[Mapping[str, Any]]
    abstain: str | None = None

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def last(self) -> Mapping[str, Any]:
        return self.entries[-1]


def _head_position(views: Views) -> Any:
    heads = [v for v in views if v.get("head") is True]
    return heads[-1].get("position", MISSING) if heads else MISSING


def _majority(views: Views) -> Any:
    tally: dict[str, int] = {}
    for v in views:
        abstains = views.abstain is not None and v.get("position") == views.abstain  # an abstention is no view
        if v.get("head") is not True and not abstains:
            tally[str(v.get("position"))] = tally.get(str(v.get("position")), 0) + 1
    if not tally:
        return MISSING
    top = max(tally.values())
    leaders = [p for p, n in tally.items() if n == top]
    return leaders[0] if len(leaders) == 1 else "tie"


VIEWS_FACTS: Mapping[str, FactDef[Views]] = _table(
    FactDef(
        "members",
        FactType.LIST,
        FactSource.VIEWS,
        "the members who stated a view, in speaking order",
        lambda views: [str(v.get("member", "")) for v in views],
    ),
    FactDef(
        "head_last",
        FactType.BOOL,
        FactSource.VIEWS,
        "the head of the meeting spoke last",
        lambda views: bool(views) and views.last().get("head") is True,
    ),
    FactDef(
        "head_position",
        FactType.STR,
        FactSource.VIEWS,
        "the head's view (one of the field's values)",
        _head_position,
        field_values=True,
    ),
    FactDef(
        "majority",
        FactType.STR,
        FactSource.VIEWS,
        "the plurality view of the members other than the head, abstentions (the field's `abstain:` value)"
        ' not counted, or "tie"',
        _majority,
    ),
    FactDef(
        "dissenters",
        FactType.LIST,
        FactSource.VIEWS,
        "the members whose view differs from the head's",
        lambda views: [str(v.get("member")) for v in views if v.get("position") != _head_position(views)],
    ),
)
"""The facts derived from a ``views`` field (a meeting's per-member views, in speaking order), by
derivation name: ``action.<views field>.<name>``."""


def _views_value(value: Any, derived: str, abstain: str | None) -> Any:
    d = VIEWS_FACTS.get(derived)
    if d is None:
        raise EvalFailure(f"unknown fact {derived!r} of a views field")  # the loader admits only VIEWS_FACTS
    if value is MISSING or value is None:
        return MISSING
    return d.read(Views([v for v in value if isinstance(v, Mapping)], abstain))


RECORD_FACTS: Mapping[str, FactDef[Record]] = _table(
    FactDef("on", FactType.DATE, FactSource.RECORD, "the day of the action recorded", lambda r: r.on),
    FactDef("actor", FactType.STR, FactSource.RECORD, "who acted", lambda r: r.actor),
    FactDef(
        "unit",
        FactType.STR,
        FactSource.RECORD,
        "the unit of who acted",
        lambda r: r.unit if r.unit is not None else MISSING,
    ),
    FactDef("role", FactType.STR, FactSource.RECORD, "the role the actor acted in", lambda r: r.role),
    FactDef(
        "draft_version",
        FactType.INT,
        FactSource.RECORD,
        "the case's draft version after the action",
        lambda r: r.draft_version,
    ),
)
"""What every record has besides its fields, by name (``latest: {field: on}``)."""


def record_value(record: Record, name: str) -> Any:
    """A field of a record (`RECORD_FACTS`, else the action field it carries; `MISSING` if none)."""
    builtin = RECORD_FACTS.get(name)
    if builtin is not None:
        return builtin.read(record)
    value = record.fields.get(name, MISSING)
    return MISSING if value is None else value


def workflow_facts(wf: WorkflowDef) -> dict[str, tuple[FactType, tuple[str, ...] | None]]:
    """Every fact path the rules of ``wf`` may read, with its type and, for an enumerated fact, the
    values it takes."""
    out: dict[str, tuple[FactType, tuple[str, ...] | None]] = {
        d.name: (d.type, tuple(wf.states) if d.states else None) for d in FACTS.values()
    }
    for f in wf.fields.values():
        values = f.values if f.type is FieldType.ENUM else None
        for family in FIELD_FACTS.values():
            if f.attribute or not family.attributes_only:
                out[f"{family.namespace}.{f.name}"] = (FIELD_TYPES[f.type], values)
        if f.type is FieldType.VIEWS:
            for d in VIEWS_FACTS.values():
                out[f"action.{f.name}.{d.name}"] = (d.type, f.values if d.field_values else None)
    return out


def record_fields(wf: WorkflowDef) -> dict[str, FactType]:
    """The fields a record of ``wf`` may be read by: `RECORD_FACTS`, then the workflow's fields."""
    out = {d.name: d.type for d in RECORD_FACTS.values()}
    out.update({f.name: FIELD_TYPES[f.type] for f in wf.fields.values()})
    return out
