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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from decisions.model import Actor, Document, Record
from decisions.rules.evaluate import RuleResult
from decisions.workflow.definition import FieldType, WorkflowDef

__all__ = ["EVENT_FORMAT", "StoredEvent", "action_actor", "event_body", "record_from_body"]

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
