"""A workflow's field constraints: sanity checks on what an action carries, declared on the field.

    fields:
      deadline:
        type: date
        label: {zh: 征集截止日期, en: Call deadline}
        constraints:
          - id: after_the_call_opens
            require: {gt: [{fact: action.deadline}, {fact: action.on}]}
            message: {zh: 征集截止日期应晚于发布征集通知之日, en: "the call deadline is after the day the call opens"}
            basis: 湘政办发〔2022〕33号

Each constraint is a condition of the rule language (`decisions.loading.conditions`, over the
workflow's own facts and the outside facts; no pack parameter) and becomes a hard `Rule` with the id
``<workflow>.<field>.<id>``, bound to every transition that requires or accepts the field and judged
only when the action carries it (``triggers:`` names only some of those transitions, ``when:`` narrows
it further). It cites ``basis:`` (the
text it rests on, by default the workflow's first source), unverified unless ``verified: true``; a
refusal prints the message, which says how to fix the value, with that citation.
"""

from __future__ import annotations

from typing import Any

from decisions.loading.conditions import parse_condition
from decisions.loading.reader import Reader
from decisions.loading.rulepacks import scope_for
from decisions.rules.conditions import All, Condition, Fact, Present
from decisions.rules.definitions import Citation, Rule, Strength
from decisions.workflow.definition import WorkflowDef

__all__ = ["read_field_constraints"]

_KEYS = ("id", "require", "message", "when", "basis", "verified", "triggers")


def read_field_constraints(r: Reader, data: dict[str, Any], wf: WorkflowDef) -> tuple[Rule, ...]:
    """Every field's ``constraints:`` as rules; problems are left on ``r``."""
    scope = scope_for(wf, {})
    out: list[Rule] = []
    fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
    for name, raw_field in (fields or {}).items():
        if name not in wf.fields or not isinstance(raw_field, dict) or "constraints" not in raw_field:
            continue
        path: tuple[str | int, ...] = ("fields", name, "constraints")
        raw = raw_field["constraints"]
        if not isinstance(raw, list) or not raw:
            r.shape_error(path, "constraints is a non-empty list")
            continue
        triggers = frozenset(t.trigger for t in wf.transitions if name in (*t.requires_fields, *t.accepts_fields))
        if not triggers:
            r.error(path, f"no transition carries the field {name!r}: its constraints would never be judged")
            continue
        seen: set[str] = set()
        for i, item in enumerate(raw):
            rule = _read_one(r, item, (*path, i), wf, name, triggers, scope)
            if rule is None:
                continue
            if rule.id in seen:
                r.error((*path, i, "id"), f"duplicate constraint id {rule.id!r}")
                continue
            seen.add(rule.id)
            out.append(rule)
    return tuple(out)


def _read_one(
    r: Reader,
    raw: Any,
    path: tuple[str | int, ...],
    wf: WorkflowDef,
    name: str,
    triggers: frozenset[str],
    scope: Any,
) -> Rule | None:
    m = r.mapping(raw, path, required=("id", "require", "message"), optional=_KEYS)
    if m is None:
        return None
    local = r.identifier(m.get("id"), (*path, "id"), "constraint id")
    if "triggers" in m:  # only some of the transitions that carry the field
        named = r.string_list(m["triggers"], (*path, "triggers"))
        for j, t in enumerate(named):
            if t not in triggers:
                r.error(
                    (*path, "triggers", j),
                    f"{t!r} is no trigger that carries the field {name!r} ({', '.join(sorted(triggers))})",
                )
        triggers = frozenset(named) & triggers
        if not triggers:
            return None
    message = r.text(m.get("message"), (*path, "message"))
    basis = r.string(m["basis"], (*path, "basis")) if "basis" in m else (wf.sources[0] if wf.sources else wf.name)
    verified = r.boolean(m.get("verified"), (*path, "verified"), False)
    params: set[str] = set()
    require = parse_condition(r, m.get("require"), (*path, "require"), scope, params)
    when = parse_condition(r, m["when"], (*path, "when"), scope, params) if "when" in m else None
    if params:
        r.error((*path, "require"), "a field constraint reads no pack parameter (put such a rule in a rule pack)")
    if None in (local, message, basis, require) or ("when" in m and when is None):
        return None
    assert local and message and basis and require  # narrowed above
    carried: Condition = Present(Fact(f"action.{name}"))
    return Rule(
        id=f"{wf.name}.{name}.{local}",
        pack=f"workflow:{wf.name}",
        citation=Citation(basis, "", "", verified),
        strength=Strength.HARD,
        workflow=wf.name,
        triggers=triggers,
        require=require,
        message=message,
        when=carried if when is None else All((carried, when)),
        file=r.doc.file,
        line=r.doc.line_of(path),
    )
