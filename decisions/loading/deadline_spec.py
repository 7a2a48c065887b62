"""Reading a workflow's ``deadlines:`` and ``inbox:`` sections, and checking each period's length
against the loaded packs' parameters once every pack has been read.

A deadline is either a date written on a record::

    answer:
      label: {zh: 审核答复期限, en: opinion due}
      runs_in: [awaiting_answer]
      due: {record: submission, field: answer_by}
      basis: {zh: 送审时确定, en: set at submission}

or a period of a pack parameter from a record (or from the day the case ``entered`` its state)::

    preparation:
      label: {zh: 起草期限, en: preparation period}
      runs_in: [preparing, consulting]
      from: {record: opening}
      length: preparation_period
      stops: draft_change
      pauses_outside: true

Either may bind only some cases: ``applies_to: {field: action_type, values: [penalty]}`` (an enum
attribute of the case and some of its values). Every name is checked against the workflow (states, roles, record kinds, fields and their types),
every problem located on its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from decisions.loading.reader import Reader
from decisions.rules.definitions import RuleBook
from decisions.workflow.definition import DeadlineSpec, FieldDef, FieldType, Role, StateDef, TransitionDef, WorkflowDef

__all__ = ["check_deadline_lengths", "read_deadlines", "read_inbox"]

_KEYS = (
    "label",
    "runs_in",
    "seen_by",
    "due",
    "basis",
    "from",
    "length",
    "local",
    "stops",
    "pauses_outside",
    "overdue",
    "applies_to",
)
_PERIOD_ONLY = ("from", "local", "stops", "pauses_outside")
_STOPS = ("draft_change",)
_ENTERED = "entered"

Path = tuple[str | int, ...]


def _known(r: Reader, raw: Any, path: Path, known: Mapping[str, Any], what: str) -> tuple[tuple[str, ...], bool]:
    """The names listed at ``path``, and whether every one is ``known`` (each unknown one located)."""
    names = r.string_list(raw, path)
    for i, name in enumerate(names):
        if name not in known:
            r.error((*path, i) if isinstance(raw, list) else path, f"unknown {what} {name!r}")
    return tuple(n for n in names if n in known), all(n in known for n in names)


def _record_kind(r: Reader, raw: Any, path: Path, kinds: frozenset[str]) -> str | None:
    name = r.identifier(raw, path, "record kind")
    if name is not None and name not in kinds:
        r.error(path, f"unknown record kind {name!r} (recorded by a transition: {', '.join(sorted(kinds))})")
        return None
    return name


def _applies(r: Reader, raw: Any, path: Path, fields: Mapping[str, FieldDef]) -> tuple[str, tuple[str, ...]] | None:
    """``applies_to: {field: <enum attribute>, values: [...]}``: the cases the deadline binds; ``("", ())``
    when absent (every case); None on a problem (located)."""
    if raw is None:
        return "", ()
    m = r.mapping(raw, path, required=("field", "values"))
    if m is None or "field" not in m or "values" not in m:
        return None
    name = r.identifier(m["field"], (*path, "field"), "field")
    fdef = fields.get(name) if name is not None else None
    if name is not None and fdef is None:
        r.error((*path, "field"), f"unknown field {name!r}")
    elif fdef is not None and (fdef.type is not FieldType.ENUM or not fdef.attribute):
        r.error((*path, "field"), f"field {name!r} is no enum attribute of the case: a deadline applies by one")
        fdef = None
    values = r.string_list(m["values"], (*path, "values"))
    if m["values"] == []:
        r.error((*path, "values"), "names at least one value the deadline applies to")
        return None
    if fdef is None or name is None:
        return None
    unknown = [i for i, v in enumerate(values) if v not in fdef.values]
    for i in unknown:
        r.error((*path, "values", i), f"{values[i]!r} is not a value of {name!r} ({', '.join(fdef.values)})")
    return (name, tuple(values)) if not unknown and values else None


def _due(
    r: Reader,
    raw: Any,
    path: Path,
    kinds: frozenset[str],
    fields: Mapping[str, FieldDef],
    transitions: list[TransitionDef],
) -> tuple[str, str] | None:
    m = r.mapping(raw, path, required=("record", "field"))
    if m is None or "record" not in m or "field" not in m:
        return None
    record = _record_kind(r, m["record"], (*path, "record"), kinds)
    name = r.identifier(m["field"], (*path, "field"), "field")
    if name is None:
        return None
    fdef = fields.get(name)
    if fdef is None:
        r.error((*path, "field"), f"unknown field {name!r}")
        return None
    if fdef.type is not FieldType.DATE:
        r.error((*path, "field"), f"field {name!r} is a {fdef.type} field, not a date: a due date is a date field")
        return None
    if record is None:
        return None
    if not any(t.record == record and name in t.all_fields for t in transitions):
        r.error((*path, "field"), f"no transition recording {record!r} carries field {name!r}")
        return None
    return record, name


def _one(
    r: Reader,
    name: str,
    raw: Any,
    states: Mapping[str, StateDef],
    roles: Mapping[str, Role],
    fields: Mapping[str, FieldDef],
    transitions: list[TransitionDef],
) -> DeadlineSpec | None:
    path: Path = ("deadlines", name)
    m = r.mapping(raw, path, required=("label", "runs_in"), optional=_KEYS)
    if m is None:
        return None
    kinds = frozenset(t.record for t in transitions)
    label = r.text(m.get("label"), (*path, "label"))
    runs_in, all_states = _known(r, m.get("runs_in"), (*path, "runs_in"), states, "state")
    if m.get("runs_in") == []:
        r.error((*path, "runs_in"), "names at least one state the deadline runs in")
    seen_by, all_roles = _known(r, m.get("seen_by"), (*path, "seen_by"), roles, "role")
    overdue = r.boolean(m.get("overdue"), (*path, "overdue"), default=True)
    applies = _applies(r, m.get("applies_to"), (*path, "applies_to"), fields)
    ok = label is not None and bool(runs_in) and all_states and all_roles and applies is not None
    applies_field, applies_values = applies or ("", ())
    if ("due" in m) == ("length" in m):
        r.error(
            path,
            "a deadline has exactly one of 'due' (a date written on a record) and 'length' (a period of a pack "
            "parameter from 'from')",
        )
        return None
    line = r.doc.line_of(path)
    if "due" in m:
        for key in _PERIOD_ONLY:
            if key in m:
                r.error((*path, key), f"{key!r} belongs to a period ('length'), not to a deadline with a 'due' date")
                ok = False
        due = _due(r, m["due"], (*path, "due"), kinds, fields, transitions)
        basis = r.text(m["basis"], (*path, "basis")) if "basis" in m else None
        if due is None or label is None or not ok or ("basis" in m and basis is None):
            return None
        return DeadlineSpec(
            name,
            label,
            runs_in,
            seen_by,
            due_record=due[0],
            due_field=due[1],
            basis=basis,
            overdue=overdue,
            line=line,
            applies_field=applies_field,
            applies_values=applies_values,
        )
    if "basis" in m:
        r.error((*path, "basis"), "a period's basis is its parameter (label, value, citation): 'basis' is for 'due'")
        ok = False
    length = r.identifier(m["length"], (*path, "length"), "parameter name")
    from_record, entered = "", False
    if "from" not in m:
        r.error(path, f"a period names where it runs 'from': a record kind ({{record: ...}}) or {_ENTERED!r}")
        ok = False
    elif m["from"] == _ENTERED:
        entered = True
    elif isinstance(m["from"], dict):
        f = r.mapping(m["from"], (*path, "from"), required=("record",)) or {}
        if "record" in f:
            from_record = _record_kind(r, f["record"], (*path, "from", "record"), kinds) or ""
        ok = ok and bool(from_record)
    else:
        r.shape_error((*path, "from"), f"expected {{record: <record kind>}} or {_ENTERED!r}, found {m['from']!r}")
        ok = False
    stops = m.get("stops")
    if stops is not None and stops not in _STOPS:
        r.shape_error((*path, "stops"), f"stops must be one of {', '.join(_STOPS)}, found {stops!r}")
        ok = False
    pauses = r.boolean(m.get("pauses_outside"), (*path, "pauses_outside"))
    local = r.boolean(m.get("local"), (*path, "local"))
    if length is None or label is None or not ok:
        return None
    return DeadlineSpec(
        name,
        label,
        runs_in,
        seen_by,
        from_record=from_record,
        from_entered=entered,
        length=length,
        stops_on_draft_change=stops == "draft_change",
        pauses_outside=pauses,
        overdue=overdue,
        line=line,
        local=local,
        applies_field=applies_field,
        applies_values=applies_values,
    )


def read_deadlines(
    r: Reader,
    data: Mapping[str, Any],
    states: Mapping[str, StateDef],
    roles: Mapping[str, Role],
    fields: Mapping[str, FieldDef],
    transitions: list[TransitionDef],
) -> dict[str, DeadlineSpec]:
    """The workflow's declared deadlines, in the order written; problems left on ``r``."""
    raw = data.get("deadlines")
    if raw is None:
        return {}
    section = r.mapping(raw, ("deadlines",), open_keys=True) or {}
    out: dict[str, DeadlineSpec] = {}
    for name, body in section.items():
        if r.identifier(name, ("deadlines", name), "deadline id") is None:
            continue
        spec = _one(r, name, body, states, roles, fields, transitions)
        if spec is not None:
            out[name] = spec
    return out


def read_inbox(r: Reader, data: Mapping[str, Any], roles: Mapping[str, Role]) -> tuple[str, ...]:
    """``inbox: {late_items_seen_by: [...]}``: the roles whose inbox lists items past their planned date."""
    raw = data.get("inbox")
    if raw is None:
        return ()
    m = r.mapping(raw, ("inbox",), optional=("late_items_seen_by",)) or {}
    return _known(r, m.get("late_items_seen_by"), ("inbox", "late_items_seen_by"), roles, "role")[0]


def check_deadline_lengths(workflows: Mapping[str, tuple[WorkflowDef, Reader]], rulebook: RuleBook) -> None:
    """Each period's ``length`` names a parameter some loaded pack defines: a maximum or minimum with
    an integer value, counted in a period unit (calendar days, working days, months, years). A
    ``local`` length is a value the law leaves to each place: a deployment whose packs do not set it
    has no such deadline (and nothing to refuse)."""
    for wf, r in workflows.values():
        for spec in wf.deadlines.values():
            if not spec.length:
                continue
            path = ("deadlines", spec.id, "length")
            param = rulebook.parameters.get(spec.length)
            if param is None and spec.local:
                continue
            if param is None:
                known = sorted(n for n, p in rulebook.parameters.items() if p.period is not None)
                r.error(path, f"unknown parameter {spec.length!r} (periods the packs define: {', '.join(known)})")
            elif param.kind not in ("maximum", "minimum"):
                r.error(path, f"parameter {spec.length!r} is a {param.kind}, not a maximum or minimum period")
            elif not isinstance(param.value, int) or isinstance(param.value, bool):
                r.error(path, f"parameter {spec.length!r} has no whole-number value ({param.value!r})")
            elif param.period is None:
                unit = str(param.unit) if param.unit else "no unit"
                r.error(
                    path,
                    f"parameter {spec.length!r} is counted in {unit!r}, not in a period "
                    "(calendar days, working days, months, years)",
                )
