"""The stored event format, and the one mapping between it and domain records.

An event body is a JSON object serialised canonically (`decisions.audit.canonical`); its hash,
chained to the previous event's (`decisions.audit.hashing.chain_hash`), is what makes the history
tamper-evident. Format version 1::

    {"format": 1, "case": "D-2025-001", "seq": 3, "workflow": "major_decision",
     "definitions": "<fingerprint of the definition set>", "trigger": "...", "record": "<record kind>",
     "actor": "clerk_li", "roles": ["organiser"], "role": "organiser", "unit": "县交通运输局",
     "on": "2025-03-10", "recorded_at": "2025-03-10T02:15:00.000000Z",
     "from": "drafting", "to": "drafting", "fields": {...},
     "documents": [{"kind": "draft", "sha256": "...", "version": 1, "name": "draft.pdf"}],
     "draft_version": 1, "changes_draft": true,
     "rules": [{"id": "national.x", "outcome": "passed", "citation": "..."}]}

An erratum (更正, `decisions.model.Erratum`) is an event of the same format: its ``trigger`` and
``record`` are `ERRATUM` (no workflow may name a trigger so), ``from`` and ``to`` are the state the
case is in, ``on`` is the day the correction was made, and it carries one more key::

    "erratum": {"corrects": 3, "reason": "...", "fields": {"comment_deadline": "2025-11-30"},
                "was": {"comment_deadline": "2062-11-30"}, "on": "2025-10-20", "was_on": "2025-12-20"}

(``on`` / ``was_on`` are null when the day is not corrected.) Events already stored are never
changed: a snapshot applies the errata when it is built (`history_from_bodies`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from decisions.model import ERRATUM, Actor, Document, Erratum, Record
from decisions.rules.evaluate import RuleResult
from decisions.workflow.definition import FieldType, WorkflowDef

__all__ = [
    "ERRATUM",
    "EVENT_FORMAT",
    "StoredEvent",
    "action_actor",
    "erratum_body",
    "erratum_from_body",
    "event_body",
    "history_from_bodies",
    "is_erratum",
    "record_from_body",
]

EVENT_FORMAT = 1


@dataclass(frozen=True)
class StoredEvent:
    """An event as read back: the columns that repeat the body, and the body's exact text."""

    case_id: str
    seq: int
    trigger: str
    actor: str
    happened_on: str
    recorded_at: str
    prev_hash: str
    hash: str
    body: str


def event_body(
    *,
    case_id: str,
    workflow: str,
    definitions: str,
    record: Record,
    roles: Iterable[str],
    results: Iterable[RuleResult],
    recorded_at: datetime,
) -> dict[str, Any]:
    """The body of the event that records ``record``."""
    return {
        "format": EVENT_FORMAT,
        "case": case_id,
        "seq": record.seq,
        "workflow": workflow,
        "definitions": definitions,
        "trigger": record.trigger,
        "record": record.kind,
        "actor": record.actor,
        "roles": sorted(roles),
        "role": record.role,
        "unit": record.unit,
        "on": record.on,
        "recorded_at": recorded_at,
        "from": record.from_state,
        "to": record.to_state,
        "fields": dict(record.fields),
        "documents": [
            {"kind": d.kind, "sha256": d.sha256, "version": d.version, "name": d.name} for d in record.documents
        ],
        "draft_version": record.draft_version,
        "changes_draft": record.changes_draft,
        "rules": [{"id": r.rule.id, "outcome": r.outcome.value, "citation": str(r.rule.citation)} for r in results],
        # only when acting for someone by delegation: every other body keeps its format-1 bytes
        **({"for": record.on_behalf_of} if record.on_behalf_of is not None else {}),
    }


def _typed_fields(fields: Mapping[str, Any], wf: WorkflowDef) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields.items():
        fdef = wf.fields.get(name)
        if fdef is not None and fdef.type is FieldType.DATE and isinstance(value, str):
            out[name] = date.fromisoformat(value)
        else:
            out[name] = value
    return out


def record_from_body(body: Mapping[str, Any], wf: WorkflowDef) -> Record:
    """The domain record an event body stands for (dates parsed back by the workflow's field types)."""
    return Record(
        seq=int(body["seq"]),
        trigger=str(body["trigger"]),
        kind=str(body["record"]),
        actor=str(body["actor"]),
        role=str(body["role"]),
        unit=body.get("unit"),
        on=date.fromisoformat(str(body["on"])),
        from_state=str(body["from"]),
        to_state=str(body["to"]),
        fields=_typed_fields(body.get("fields", {}), wf),
        documents=tuple(
            Document(str(d["kind"]), str(d["sha256"]), int(d["version"]), str(d.get("name", "")))
            for d in body.get("documents", [])
        ),
        draft_version=int(body["draft_version"]),
        changes_draft=bool(body["changes_draft"]),
        on_behalf_of=None if body.get("for") is None else str(body["for"]),
    )


def action_actor(body: Mapping[str, Any]) -> Actor:
    """The actor as they stood when the event was recorded (their roles then, not now, and the
    person they acted for in their role, if by delegation)."""
    delegated = ((str(body["role"]), str(body["for"])),) if body.get("for") is not None else ()
    return Actor(str(body["actor"]), frozenset(str(r) for r in body.get("roles", [])), body.get("unit"), delegated)


def erratum_body(
    *,
    case_id: str,
    workflow: str,
    definitions: str,
    state: str,
    erratum: Erratum,
    roles: Iterable[str],
    draft_version: int,
    recorded_at: datetime,
) -> dict[str, Any]:
    """The body of the event that records ``erratum`` (see the module docstring)."""
    return {
        "format": EVENT_FORMAT,
        "case": case_id,
        "seq": erratum.seq,
        "workflow": workflow,
        "definitions": definitions,
        "trigger": ERRATUM,
        "record": ERRATUM,
        "actor": erratum.actor,
        "roles": sorted(roles),
        "role": erratum.role,
        "unit": erratum.unit,
        "on": erratum.recorded_on,
        "recorded_at": recorded_at,
        "from": state,
        "to": state,
        "fields": {},
        "documents": [],
        "draft_version": draft_version,
        "changes_draft": False,
        "rules": [],
        "erratum": {
            "corrects": erratum.corrects,
            "reason": erratum.reason,
            "fields": dict(erratum.fields),
            "was": dict(erratum.was),
            "on": erratum.on,
            "was_on": erratum.was_on,
        },
    }


def is_erratum(body: Mapping[str, Any]) -> bool:
    """Whether an event body records an erratum rather than an action."""
    return body.get("record") == ERRATUM and isinstance(body.get("erratum"), Mapping)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def erratum_from_body(body: Mapping[str, Any], wf: WorkflowDef) -> Erratum:
    """The erratum an erratum event body stands for (dates parsed back by the workflow's field types)."""
    e = body["erratum"]
    return Erratum(
        seq=int(body["seq"]),
        corrects=int(e["corrects"]),
        actor=str(body["actor"]),
        role=str(body["role"]),
        unit=body.get("unit"),
        recorded_on=date.fromisoformat(str(body["on"])),
        reason=str(e.get("reason", "")),
        fields=_typed_fields(e.get("fields", {}), wf),
        was=_typed_fields(e.get("was", {}), wf),
        on=_day(e.get("on")),
        was_on=_day(e.get("was_on")),
    )


def history_from_bodies(
    bodies: Iterable[Mapping[str, Any]], wf: WorkflowDef
) -> tuple[tuple[Record, ...], tuple[Erratum, ...]]:
    """The records of a case's events, as corrected by its errata, and the errata, in event order."""
    records: list[Record] = []
    errata: list[Erratum] = []
    for body in bodies:
        if is_erratum(body):
            erratum = erratum_from_body(body, wf)
            records = [erratum.applied_to(r) if r.seq == erratum.corrects else r for r in records]
            errata.append(erratum)
        else:
            records.append(record_from_body(body, wf))
    return tuple(records), tuple(errata)
