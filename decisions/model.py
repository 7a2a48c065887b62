"""Domain values shared by the workflow engine and the rule evaluator. Pure data, no I/O.

A *case* is one thing moving through a workflow: a major decision or an annual catalogue. Its
history is a sequence of *records*, one per action taken; everything the rules can see about a
case is derived from its attributes and those records, plus the action being attempted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

__all__ = [
    "ERRATUM",
    "MAX_CASE_ID",
    "Action",
    "Actor",
    "Case",
    "Document",
    "Erratum",
    "Record",
    "Text",
    "is_case_id",
    "is_storable_text",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})

MAX_CASE_ID = 64

ERRATUM = "erratum"
"""The trigger and record kind of an erratum event (`Erratum`): reserved, no workflow may use it."""


def is_storable_text(text: str) -> bool:
    """Whether ``text`` can be recorded the same way on every backend and hashed: no NUL (PostgreSQL
    text cannot hold one) and no unpaired surrogate (not Unicode; UTF-8 cannot encode it)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_case_id(text: str) -> bool:
    """A case id: 1 to 64 printable characters, no white space (``D-2025-001``, ``CAT-2026``).
    Printable excludes control, format (bidi) and surrogate characters."""
    return 0 < len(text) <= MAX_CASE_ID and all(c.isprintable() and not c.isspace() for c in text)


@dataclass(frozen=True)
class Text:
    """A user-facing label or message in Chinese with English alongside."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def pick(self, lang: str) -> str:
        """The text in one language (``zh`` or ``en``), or both."""
        return self.zh if lang == "zh" else self.en if lang == "en" else str(self)


@dataclass(frozen=True)
class Document:
    """A document attached to an action, identified by the SHA-256 of its bytes.

    ``version`` counts documents of the same kind within one case (the draft's version number).
    """

    kind: str
    sha256: str
    version: int = 1
    name: str = ""


@dataclass(frozen=True)
class Actor:
    """A person acting: their id, the roles they hold and their unit (单位). ``delegated`` pairs
    each role they hold only by delegation (委托代办) with the person they act for in it."""

    id: str
    roles: frozenset[str]
    unit: str | None = None
    delegated: tuple[tuple[str, str], ...] = ()

    def own_roles(self) -> frozenset[str]:
        """The roles they hold themselves (not by delegation)."""
        return self.roles - {role for role, _ in self.delegated}


@dataclass(frozen=True)
class Action:
    """An attempt to fire ``trigger``, with what it carries and the day it happened (``on``).

    ``role`` is the role the actor acts in; ``None`` lets the engine pick the first role the actor
    holds that the transition allows.

    ``known`` holds facts from outside the case that the service layer looked up for the rules (e.g.
    ``catalogue.published_items``); the service sets it, whatever a caller put there, and it is not
    recorded: it is derived again, from stored records, when the case is replayed.
    """

    trigger: str
    actor: Actor
    on: date
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    documents: tuple[Document, ...] = ()
    role: str | None = None
    known: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def document_kinds(self) -> frozenset[str]:
        """The kinds of document this action carries."""
        return frozenset(d.kind for d in self.documents)


@dataclass(frozen=True)
class Record:
    """What one accepted action left in a case's history.

    ``draft_version`` is the case's draft version *after* the action, so a legality review
    record says exactly which draft it covered.
    """

    seq: int
    trigger: str
    kind: str
    actor: str
    role: str
    unit: str | None
    on: date
    from_state: str
    to_state: str
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    documents: tuple[Document, ...] = ()
    draft_version: int = 0
    changes_draft: bool = False
    corrected_by: tuple[int, ...] = ()
    """The errata (by event number) that corrected this record, oldest first."""
    on_behalf_of: str | None = None  # the person the actor acted for, by delegation (委托代办)


@dataclass(frozen=True)
class Erratum:
    """A correction (更正) of an earlier record, itself an event of the case's history: it changes
    fields of the record numbered ``corrects`` (``fields``, with the values they replace in ``was``)
    and/or the day it happened (``on``, replacing ``was_on``), with ``reason``, by ``actor`` acting as
    ``role``, on ``recorded_on``. History is never rewritten: the original event stays as it was
    stored; a case snapshot shows the record as corrected (`Record.corrected_by` names the errata)."""

    seq: int
    corrects: int
    actor: str
    role: str
    unit: str | None
    recorded_on: date
    reason: str
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    was: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    on: date | None = None
    was_on: date | None = None

    def applied_to(self, record: Record) -> Record:
        """``record`` as this erratum corrects it."""
        return replace(
            record,
            fields=MappingProxyType({**record.fields, **self.fields}),
            on=self.on if self.on is not None else record.on,
            corrected_by=(*record.corrected_by, self.seq),
        )


@dataclass(frozen=True)
class Case:
    """A snapshot of one case: where it is, what it is, and everything that happened to it.

    ``records`` are the accepted actions as corrected by the case's ``errata`` (which are events of
    its history too, numbered in the same sequence, but are not actions: they move no state)."""

    id: str
    workflow: str
    state: str
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    records: tuple[Record, ...] = ()
    errata: tuple[Erratum, ...] = ()

    @property
    def next_seq(self) -> int:
        """The number the next event of this case takes (actions and errata share one sequence)."""
        return len(self.records) + len(self.errata) + 1

    def with_erratum(self, erratum: Erratum) -> Case:
        """The case after ``erratum``: the record it corrects replaced by its corrected version."""
        records = tuple(erratum.applied_to(r) if r.seq == erratum.corrects else r for r in self.records)
        return replace(self, records=records, errata=(*self.errata, erratum))

    @property
    def draft_version(self) -> int:
        """The current draft version (0 before any draft exists)."""
        return self.records[-1].draft_version if self.records else 0

    @property
    def last_on(self) -> date | None:
        """The day the latest recorded action happened."""
        return self.records[-1].on if self.records else None
