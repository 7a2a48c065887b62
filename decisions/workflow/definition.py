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
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from decisions.model import Text

__all__ = [
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
    file: str = ""
    sha256: str = ""
    collective_discussion: bool = True
    """Whether every decision of the procedure is taken in collective discussion (a ``discussion`` state
    before each approval state). False where one official decides unless a pack rule requires a meeting
    (an agency head who decides alone, collectively only for complex or serious cases)."""

    @cached_property
    def _index(self) -> dict[tuple[str, str], TransitionDef]:
        return {(t.source, t.trigger): t for t in self.transitions}

    def transition(self, state: str, trigger: str) -> TransitionDef | None:
        """The transition ``trigger`` fires from ``state``, if any."""
        return self._index.get((state, trigger))

    def transitions_from(self, state: str) -> tuple[TransitionDef, ...]:
        return tuple(t for t in self.transitions if t.source == state)

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
