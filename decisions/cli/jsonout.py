"""The JSON every command prints under ``--json``: one shape per view, each described by a JSON
Schema in ``decisions/schemas/cli/`` and in ``docs/json.md``. Refusals and other errors are JSON
too, on stdout (`error`). Only plain data goes out: rule ids, citations, remedies, documents and
input schemas are objects, never display strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import typer

from decisions.errors import (
    ActionRefused,
    ConflictError,
    DecisionsError,
    DefinitionError,
    Named,
    Remedy,
    UnknownName,
    Unmet,
)
from decisions.model import Document, Text

if TYPE_CHECKING:
    from decisions.service.office import DocumentInfo
    from decisions.workflow.needs import ActionSchema, Input

__all__ = ["action_schema", "document", "dump", "error", "remedy", "text", "unmet"]


def dump(payload: Any) -> None:
    """``payload`` as JSON on stdout (dates as ISO text)."""
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def text(t: Text | None) -> dict[str, str] | None:
    return None if t is None else {"zh": t.zh, "en": t.en}


def _named(n: Named) -> dict[str, Any]:
    return {"name": n.name, "label": {"zh": n.zh, "en": n.en}}


def remedy(r: Remedy | None) -> dict[str, Any] | None:
    """What would satisfy a requirement (`decisions.errors.Remedy`), or None."""
    if r is None:
        return None
    return {
        "fields": [_named(f) for f in r.fields],
        "documents": [_named(d) for d in r.documents],
        "dates": [{"field": _named(b.field), "bound": b.bound, "date": b.date.isoformat()} for b in r.dates],
        "waiver": _named(r.waiver) if r.waiver is not None else None,
        "roles": [_named(x) for x in r.roles],
        "holders": list(r.holders),
        "actions": [_named(a) for a in r.actions],
        "actor_units": list(r.units),
        "values": [{"field": _named(v.field), "how": v.how, "values": list(v.values)} for v in r.values],
    }


def unmet(u: Unmet) -> dict[str, Any]:
    return {
        "rule_id": u.rule_id,
        "citation": u.citation,
        "message": {"zh": u.message_zh, "en": u.message_en},
        "message_zh": u.message_zh,
        "message_en": u.message_en,
        "kind": u.kind,
        "sources": list(u.sources),  # each parameter's value in force and the packs (with citations) that set it
        "remedy": remedy(u.remedy),
    }


def _input(i: Input) -> dict[str, Any]:
    return {
        "kind": i.kind,
        "name": i.name,
        "label": text(i.label),
        "type": i.type,
        "choices": [{"value": v, "label": text(label)} for v, label in i.choices],
        "requirement": i.requirement.value,
        "conditions": [text(c) for c in i.conditions],
        "rules": [
            {
                "id": n.rule,
                "citation": n.citation,
                "requirement": n.requirement.value,
                "condition": text(n.condition),
                "waiver": n.waiver,
                "satisfied": n.satisfied,
            }
            for n in i.needs
            if n.rule
        ],
        "own": i.own,
        "accepted": i.accepted,
        "on_record": i.on_record,
    }


def action_schema(s: ActionSchema) -> dict[str, Any]:
    """An action's input schema (`decisions.workflow.needs.ActionSchema`): a form can be built from it."""
    return {
        "action": s.trigger,
        "label": text(s.label),
        "from": s.source,
        "to": s.dest,
        "roles": list(s.roles),
        "fields": [_input(i) for i in s.fields],
        "documents": [_input(i) for i in s.documents],
    }


def document(d: Document, info: Mapping[str, DocumentInfo] | None = None) -> dict[str, Any]:
    """A document as an object: kind, version, name, full SHA-256, size (bytes, when the store has
    it) and media type."""
    from decisions.service.office import media_type

    found = (info or {}).get(d.sha256)
    return {
        "kind": d.kind,
        "version": d.version,
        "name": d.name,
        "sha256": d.sha256,
        "size": found.size if found is not None else None,
        "media_type": found.media_type if found is not None else media_type(d.name),
    }


def error(exc: DecisionsError, code: int) -> dict[str, Any]:
    """Any error as JSON: its type, exit code and message, plus what the kind of error carries (the
    unmet requirements of a refusal with their remedies, the names meant, the versions of a conflict,
    the located problems of definitions)."""
    body: dict[str, Any] = {"type": type(exc).__name__, "exit_code": code, "message": str(exc)}
    if isinstance(exc, ActionRefused):
        body.update(action=exc.trigger, state=exc.state, unmet=[unmet(u) for u in exc.unmet])
    elif isinstance(exc, UnknownName):
        body.update(what=exc.what, name=exc.name, suggestions=list(exc.suggestions), known=list(exc.known))
    elif isinstance(exc, ConflictError):
        body.update(case=exc.case_id, expected=exc.expected, actual=exc.actual, by=exc.by, at=exc.at)
    elif isinstance(exc, DefinitionError):
        body.update(
            problems=[{"file": p.file, "line": p.line, "path": p.path, "message": p.message} for p in exc.problems]
        )
    return {"error": body}
