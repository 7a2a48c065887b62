"""A workflow definition as loaded and validated from YAML. Pure data.

A workflow is a state machine that an office can read like a regulation: states grouped into the
stages of the procedure, transitions naming who may fire them, which rules must hold and which
records they carry, and *gates*: rules that every path into a protected state must pass (the
static proof in `decisions.workflow.analysis` checks that no path avoids them). A gate may also
declare its *guarantee*: what the engine itself requires of every case in a protected state,
whatever the gate's rule says (a rule pack may add conditions to a gate, never remove these).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from decisions.catalogue import CatalogueSpec
from decisions.model import Text
from decisions.report.spec import ReportSpec

if TYPE_CHECKING:  # rules import the workflow definitions' module at load: no cycle at run time
    from decisions.rules.definitions import Rule

__all__ = [
    "CaseSpec",
    "CatalogueLink",
    "Correction",
    "DeadlineSpec",
    "DocumentKind",
    "FieldDef",
    "FieldType",
    "Gate",
    "Guarantee",
    "Role",
    "Stage",
    "StateDef",
    "TransitionDef",
    "WorkflowDef",
]


class FieldType(enum.StrEnum):
    """The closed set of value types an action field may have (its type in conditions:
    `decisions.rules.facts.FIELD_TYPES`)."""

    STRING = "string"
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"
    LIST = "list"  # a list of strings
    VIEWS = "views"  # a meeting's views in speaking order: [{member, position, head?}]
    CASE = "case"  # the id of another case of the same workflow in the same office (a link)


@dataclass(frozen=True)
class FieldDef:
    """A field an action may carry. An *attribute* field also sets the case's attribute."""

    name: str
    type: FieldType
    label: Text
    values: tuple[str, ...] = ()
    attribute: bool = False
    default: Any = None
    value_labels: Mapping[str, Text] = field(default_factory=dict)
    """What an enum's values mean, in both languages (``forum`` → 座谈会 / forum); optional."""
    abstain: str | None = None
    """A views field's value that is an abstention: no view, not counted in the majority."""
    case_workflow: str = ""
    """A ``case`` field's ``workflow:``: the workflow of the case it names (a normative document's
    major decision, a contract's decision); empty: another case of the field's own workflow."""

    def value_label(self, value: str) -> str:
        """``value``, with its label where the definition gives one: ``forum（座谈会 / forum）``."""
        label = self.value_labels.get(value)
        return f"{value}（{label.zh} / {label.en}）" if label is not None else value


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document (draft, review opinion, minutes ...). ``draft`` kinds change the draft."""

    name: str
    label: Text
    draft: bool = False


@dataclass(frozen=True)
class Role:
    name: str
    label: Text


@dataclass(frozen=True)
class Stage:
    id: str
    label: Text
    article: str = ""


@dataclass(frozen=True)
class StateDef:
    id: str
    label: Text
    stage: str
    final: bool = False
    approval: bool = False
    discussion: bool = False  # the meeting considers the case here (集体讨论, 常务会议审议)
    line: int | None = None
    decision_taken: bool = False  # the matter counts as decided here (久拖不决, the annual figures)


@dataclass(frozen=True)
class TransitionDef:
    """One edge: ``trigger`` from ``source`` to ``dest``, who may fire it and what it must carry."""

    trigger: str
    source: str
    dest: str
    label: Text
    roles: tuple[str, ...]
    rules: tuple[str, ...] = ()
    requires_fields: tuple[str, ...] = ()
    accepts_fields: tuple[str, ...] = ()
    requires_documents: tuple[str, ...] = ()
    accepts_documents: tuple[str, ...] = ()
    record: str = ""
    sets: Mapping[str, Any] = field(default_factory=dict)
    changes_draft: bool = False
    basis: str = ""
    line: int | None = None

    @property
    def all_fields(self) -> tuple[str, ...]:
        return self.requires_fields + tuple(f for f in self.accepts_fields if f not in self.requires_fields)

    @property
    def all_documents(self) -> tuple[str, ...]:
        return self.requires_documents + tuple(d for d in self.accepts_documents if d not in self.requires_documents)


@dataclass(frozen=True)
class Guarantee:
    """What a case in a protected state must hold, checked by the engine from this data alone.

    The latest record of kind ``record`` exists; with ``current_draft`` it covers the current draft
    version (and a draft exists); with ``outcome_field`` that field's value is in ``passing``, or is a
    key of ``passing_if`` whose boolean attribute is true; and its actor is none of the actors of
    draft-changing records (``independent_of_drafters``) or of ``independent_of`` records.
    """

    record: str
    current_draft: bool = False
    outcome_field: str = ""
    passing: tuple[str, ...] = ()
    passing_if: Mapping[str, str] = field(default_factory=dict)
    independent_of_drafters: bool = False
    independent_of: tuple[str, ...] = ()

    def may_pass(self, t: TransitionDef) -> bool:
        """Whether a record ``t`` leaves can satisfy the outcome (an outcome it does not fix may)."""
        if not self.outcome_field:
            return True
        if self.outcome_field in t.sets:
            value = t.sets[self.outcome_field]
            return value in self.passing or value in self.passing_if
        return self.outcome_field in t.all_fields


@dataclass(frozen=True)
class Gate:
    """A hard gate: no path may enter a ``protects`` state without passing a transition where
    ``rule`` holds; with ``reset_on_draft_change`` a later draft change needs the gate again. With a
    ``guarantee`` the engine also checks it on every transition into a ``protects`` state."""

    id: str
    rule: str
    protects: frozenset[str]
    label: Text
    reset_on_draft_change: bool = False
    line: int | None = None
    guarantee: Guarantee | None = None


@dataclass(frozen=True)
class CatalogueLink:
    """A case implements an item of a catalogue: ``field`` holds the item's id, ``catalogue`` names
    the workflow of the catalogue (found for a year through its `CaseSpec.year_field`)."""

    field: str
    catalogue: str


@dataclass(frozen=True)
class CaseSpec:
    """How a case of the workflow is opened and named (the ``case:`` section).

    ``start``: the trigger that opens a case (from the initial state). ``id``: the case-id pattern
    (``D-{year}-{seq:3}``: `decisions.workflow.case_ids`), empty when ids are always given.
    ``title``: the string attribute shown as the case's title. ``catalogue_item``: the catalogue
    link. ``year_field``: the start field holding the year the case is about (a catalogue's year).
    ``unit``: the string attribute naming the unit that handles the case (承办单位), what a search by
    unit reads; empty when the workflow declares none."""

    start: str
    id: str = ""
    title: str = ""
    catalogue_item: CatalogueLink | None = None
    year_field: str = ""
    unit: str = ""

    @property
    def columns(self) -> dict[str, str]:
        """The store's generic projected columns and the attribute that fills each."""
        return {
            "title": self.title,
            "catalogue_item": self.catalogue_item.field if self.catalogue_item is not None else "",
        }


@dataclass(frozen=True)
class DeadlineSpec:
    """A deadline a workflow declares (its ``deadlines:`` section), shown while a case is in one of
    ``runs_in``. Either a date written on a record (``due_record``'s field ``due_field``), or a
    period of the pack parameter ``length`` from the latest ``from_record`` (or, with
    ``from_entered``, from the day the case entered its state). A period may *stop* once a
    draft-changing action follows its start, and *pause* for the days spent outside ``runs_in``."""

    id: str
    label: Text
    runs_in: tuple[str, ...]
    seen_by: tuple[str, ...] = ()  # empty: everyone
    due_record: str = ""
    due_field: str = ""
    basis: Text | None = None
    from_record: str = ""
    from_entered: bool = False
    length: str = ""
    stops_on_draft_change: bool = False
    pauses_outside: bool = False
    overdue: bool = True
    line: int | None = None
    local: bool = False
    """``length`` is a LOCAL value: a deployment whose packs do not set it has no such deadline."""

    def seen(self, roles: Collection[str] | None) -> bool:
        """Whether someone holding ``roles`` sees it (``None``: whoever asks, unfiltered)."""
        return roles is None or not self.seen_by or bool(set(self.seen_by) & set(roles))

    applies_field: str = ""
    applies_values: tuple[str, ...] = ()
    """``applies_to: {field, values}``: the deadline binds only cases whose enum attribute ``field`` is
    one of ``values`` (a period the law sets for penalties only); empty: every case."""

    def applies(self, attributes: Mapping[str, Any]) -> bool:
        """Whether the deadline binds a case with these attributes."""
        return not self.applies_field or attributes.get(self.applies_field) in self.applies_values


@dataclass(frozen=True)
class Correction:
    """Who may correct what in an earlier record (one entry of the ``corrections:`` section): anyone
    holding one of ``roles`` may correct, in a record left by one of ``triggers`` (empty: any), the
    ``fields`` named and, with ``on`` (``happened_on:`` in the YAML), the day it happened. Only fields the record's transition
    accepts, none it sets itself and no case attribute (an attribute changes by its own transition)."""

    roles: tuple[str, ...]
    triggers: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    on: bool = False
    line: int | None = None

    def covers(self, trigger: str) -> bool:
        return not self.triggers or trigger in self.triggers


@dataclass(frozen=True)
class WorkflowDef:
    """A validated workflow."""

    name: str
    version: str
    label: Text
    sources: tuple[str, ...]
    initial: str
    review_gate: str
    stages: Mapping[str, Stage]
    states: Mapping[str, StateDef]
    transitions: tuple[TransitionDef, ...]
    fields: Mapping[str, FieldDef]
    documents: Mapping[str, DocumentKind]
    roles: Mapping[str, Role]
    gates: Mapping[str, Gate]
    catalogue: CatalogueSpec | None = None
    """How its records make the versions of a catalogue (its ``catalogue:`` section), if they do."""
    file: str = ""
    sha256: str = ""
    case: CaseSpec | None = None
    """How a case is opened and named; None when the file has no ``case:`` section and the start
    trigger is ambiguous."""
    discussion_by_rule: bool = False
    """``collective_discussion: by_rule``: an approval state may be reached without a discussion state
    (a head decides alone unless a rule of the packs requires the meeting); the review gate still
    protects every approval and discussion state."""
    deadlines: Mapping[str, DeadlineSpec] = field(default_factory=dict)
    late_items_seen_by: tuple[str, ...] = ()
    """Roles whose inbox lists this (catalogue) workflow's items past their planned date (``inbox:``)."""
    constraints: tuple[Rule, ...] = ()
    """The field constraints the workflow declares (a field's ``constraints:``), as hard rules bound
    to every transition that carries the field, judged only when the action carries it."""
    corrections: tuple[Correction, ...] = ()
    """Who may correct which fields and dates of earlier records (``corrections:``); none: no errata."""
    report: ReportSpec | None = None
    """What its records count for in the annual report (``report:``); none: nothing of it is counted."""

    def correctable(self, roles: Collection[str], trigger: str) -> tuple[frozenset[str], bool]:
        """What someone holding ``roles`` may correct in a record of ``trigger``: (fields, the day)."""
        entries = [c for c in self.corrections if c.covers(trigger) and set(c.roles) & set(roles)]
        return frozenset(f for c in entries for f in c.fields), any(c.on for c in entries)

    @cached_property
    def _index(self) -> dict[tuple[str, str], TransitionDef]:
        return {(t.source, t.trigger): t for t in self.transitions}

    def transition(self, state: str, trigger: str) -> TransitionDef | None:
        """The transition ``trigger`` fires from ``state``, if any."""
        return self._index.get((state, trigger))

    def transitions_from(self, state: str) -> tuple[TransitionDef, ...]:
        return self._from.get(state, ())

    @cached_property
    def _from(self) -> Mapping[str, tuple[TransitionDef, ...]]:
        """The transitions leaving each state, in declared order (indexed once: the inbox and every
        preview ask for them)."""
        out: dict[str, list[TransitionDef]] = {}
        for t in self.transitions:
            out.setdefault(t.source, []).append(t)
        return {state: tuple(ts) for state, ts in out.items()}

    @cached_property
    def triggers(self) -> frozenset[str]:
        return frozenset(t.trigger for t in self.transitions)

    @cached_property
    def record_kinds(self) -> frozenset[str]:
        return frozenset(t.record for t in self.transitions)

    @cached_property
    def approval_states(self) -> frozenset[str]:
        return frozenset(s.id for s in self.states.values() if s.approval)

    @cached_property
    def discussion_states(self) -> frozenset[str]:
        return frozenset(s.id for s in self.states.values() if s.discussion)

    @cached_property
    def decided_states(self) -> frozenset[str]:
        """The states flagged ``decision_taken``: the matter counts as decided there."""
        return frozenset(s.id for s in self.states.values() if s.decision_taken)

    def attribute_defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields.values() if f.attribute and f.default is not None}

    def attributes_after(self, attributes: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
        """A case's attributes after a record carrying ``fields``: every attribute field it carries
        sets the attribute. The one derivation, used by the engine, the store's reader and audit."""
        attributes = dict(attributes)
        for name, value in fields.items():
            fdef = self.fields.get(name)
            if fdef is not None and fdef.attribute:
                attributes[name] = value
        return attributes
