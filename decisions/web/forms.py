"""How an action's form is made: from the service's input schema (`Office.action_schema`,
`Office.start_schema`, an `ActionOption`'s ``schema``; `decisions.workflow.needs`), never from
names written here. Every field and document the action takes or its rules read, with its label,
its input (a dropdown with labelled values, a date picker, a number, a file, one row per member for
a meeting's views), whether it is required now, needed only under a condition (the condition in
words) or optional, and the rules that need it. Also what the page needs around the forms: the
corrections a person may make (from the workflow's ``corrections:``, as the engine judges them),
people by their display names, and a remedy or a deadline's basis in one language."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from decisions.errors import Remedy, cited
from decisions.model import Record, Text
from decisions.workflow.definition import FieldType, WorkflowDef
from decisions.workflow.needs import ActionSchema, Input, Requirement

__all__ = [
    "VIEW_ROWS",
    "CorrectionForm",
    "Form",
    "FormDocument",
    "FormField",
    "action_form",
    "collect_views",
    "correction_forms",
    "correctors",
    "display_names",
    "in_language",
    "remedy_lines",
    "view_rows",
]

VIEW_ROWS = 9  # rows of a meeting's views form: one per member present (no script adds rows)

_INPUT = {
    FieldType.DATE: "date",
    FieldType.INTEGER: "number",
    FieldType.ENUM: "select",
    FieldType.BOOLEAN: "select",
    FieldType.TEXT: "textarea",
    FieldType.VIEWS: "rows",
    FieldType.LIST: "list",
    FieldType.CASE: "case",
}
_YES_NO = (("true", Text("是", "yes")), ("false", Text("否", "no")))
_HINTS = {
    FieldType.LIST: Text("多项以顿号或逗号分隔", "several items: separate them with commas"),
    FieldType.CASE: Text("另一事项的编号", "the id of another case"),
}


@dataclass(frozen=True)
class FormField:
    """One input of a form. ``input``: text, textarea, date, number, select, list, case, or rows (a
    meeting's views: one row per member)."""

    name: str
    label: Text
    input: str
    requirement: str = Requirement.OPTIONAL.value
    choices: tuple[tuple[str, Text], ...] = ()
    conditions: tuple[Text, ...] = ()
    rules: tuple[str, ...] = ()
    hint: Text | None = None

    @property
    def required(self) -> bool:
        return self.requirement == Requirement.REQUIRED.value


@dataclass(frozen=True)
class FormDocument:
    """One upload of a form; ``on_record`` documents of the kind the case already has; a kind the
    action does not carry (``accepted`` false) is shown as what must be on record from another."""

    kind: str
    label: Text
    requirement: str = Requirement.OPTIONAL.value
    conditions: tuple[Text, ...] = ()
    rules: tuple[str, ...] = ()
    on_record: int = 0
    accepted: bool = True

    @property
    def required(self) -> bool:
        return self.requirement == Requirement.REQUIRED.value


@dataclass(frozen=True)
class Form:
    """The form of one action: its fields first, then its documents."""

    trigger: str
    label: Text
    fields: tuple[FormField, ...]
    documents: tuple[FormDocument, ...]


def _field(wf: WorkflowDef, i: Input) -> FormField | None:
    f = wf.fields.get(i.name)
    if f is None:
        return None
    choices: tuple[tuple[str, Text], ...] = ()
    if f.type in (FieldType.ENUM, FieldType.VIEWS):
        choices = tuple((v, label if label is not None else Text(v, v)) for v, label in i.choices)
    elif f.type is FieldType.BOOLEAN:
        choices = _YES_NO
    return FormField(
        i.name,
        i.label,
        _INPUT.get(f.type, "text"),
        i.requirement.value,
        choices,
        i.conditions,
        i.rules,
        _HINTS.get(f.type),
    )


def action_form(wf: WorkflowDef, schema: ActionSchema) -> Form:
    """The form of ``schema`` (an action's input schema on a case, or a new case's)."""
    fields = tuple(x for x in (_field(wf, i) for i in schema.fields) if x is not None)
    documents = tuple(
        FormDocument(i.name, i.label, i.requirement.value, i.conditions, i.rules, i.on_record, i.accepted)
        for i in schema.documents
    )
    return Form(schema.trigger, schema.label, fields, documents)


# -- a meeting's views: one row per member ----------------------------------------------------------

_VIEW_KEY = re.compile(r"v\.([^.]+)\.([0-9]{1,2})\.(member|position|note)")


def collect_views(items: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """The views fields of a submitted form, from its rows (``v.FIELD.N.member|position|note``, the
    head chosen by ``v.FIELD.head`` = N), as the JSON list `Office` reads; rows left empty are no
    view. A row with a member and no position is kept, so that the service names what is missing."""
    rows: dict[str, dict[int, dict[str, str]]] = {}
    heads: dict[str, str] = {}
    for key, value in items:
        if not isinstance(value, str):
            continue
        if key.startswith("v.") and key.endswith(".head") and key.count(".") == 2:
            heads[key[2:-5]] = value.strip()
            continue
        m = _VIEW_KEY.fullmatch(key)
        if m is not None:
            rows.setdefault(m[1], {}).setdefault(int(m[2]), {})[m[3]] = value.strip()
    out: dict[str, str] = {}
    for name, numbered in rows.items():
        views: list[dict[str, Any]] = []
        for n in sorted(numbered):
            row = numbered[n]
            if not row.get("member") and not row.get("position"):
                continue
            view: dict[str, Any] = {"member": row.get("member", ""), "position": row.get("position", "")}
            if row.get("note"):
                view["note"] = row["note"]
            if heads.get(name) == str(n):
                view["head"] = True
            views.append(view)
        if views:
            out[name] = json.dumps(views, ensure_ascii=False)
    return out


def view_rows(value: Any, rows: int = VIEW_ROWS) -> list[dict[str, Any]]:
    """The rows of a views form: the views given (a list, or the JSON a refused form sent back),
    then empty rows, ``rows`` at least and one empty row more than given."""
    views: Any = value
    if isinstance(value, str):
        try:
            views = json.loads(value) if value.strip().startswith("[") else []
        except ValueError:
            views = []
    given = [v for v in views if isinstance(v, dict)] if isinstance(views, list) else []
    return given + [{} for _ in range(max(rows - len(given), 1))]


# -- corrections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectionForm:
    """The correction (更正) a person may make to one record: the fields (with their present
    values), whether its day, and in which of their roles."""

    record: Record
    label: Text
    fields: tuple[FormField, ...]
    on: bool
    roles: tuple[str, ...]


def correction_forms(wf: WorkflowDef, records: Sequence[Record], roles: Iterable[str]) -> list[CorrectionForm]:
    """For each record, what someone holding ``roles`` may correct in it (`WorkflowDef.correctable`,
    what `Engine.erratum` checks), newest first; records they may correct nothing of are left out."""
    held = sorted(set(roles))
    out: list[CorrectionForm] = []
    for r in reversed(records):
        t = wf.transition(r.from_state, r.trigger)
        if t is None:
            continue
        may = {role: wf.correctable([role], r.trigger) for role in held}
        acting = tuple(role for role in held if may[role] != (frozenset(), False))
        if not acting:
            continue
        names = frozenset().union(*(may[role][0] for role in acting))
        fields = []
        for name in (*t.all_fields, *sorted(names - set(t.all_fields))):
            f = wf.fields.get(name)
            if name not in names or f is None:
                continue
            choices: tuple[tuple[str, Text], ...] = ()
            if f.type is FieldType.ENUM:
                choices = tuple((v, f.value_labels.get(v) or Text(v, v)) for v in f.values)
            elif f.type is FieldType.BOOLEAN:
                choices = _YES_NO
            kind = "text" if f.type is FieldType.VIEWS else _INPUT.get(f.type, "text")
            fields.append(FormField(name, f.label, kind, choices=choices, hint=_HINTS.get(f.type)))
        out.append(CorrectionForm(r, t.label, tuple(fields), any(may[role][1] for role in acting), acting))
    return out


def correctors(wf: WorkflowDef, trigger: str) -> tuple[str, ...]:
    """The roles that may correct something of a record of ``trigger`` (the remedy of a refused
    correction: whom to ask)."""
    return tuple(dict.fromkeys(r for c in wf.corrections if c.covers(trigger) for r in c.roles))


# -- people, remedies and deadlines in one language -------------------------------------------------


def display_names(people: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each person's id → the name a page shows: the display name, with the id beside it where two
    people share the name (or the name is not the id and could be taken for another's id)."""
    pairs = list(people)
    counts: dict[str, int] = {}
    for _, name in pairs:
        counts[name] = counts.get(name, 0) + 1
    ids = {i for i, _ in pairs}
    return {i: name if counts[name] == 1 and (name == i or name not in ids) else f"{name} ({i})" for i, name in pairs}


def remedy_lines(remedy: Remedy | None, lang: str, names: Mapping[str, str] | None = None) -> list[str]:
    """What would satisfy a requirement, one line per kind of remedy, in ``lang`` only; the people
    who hold a role by their display names."""
    if not remedy:
        return []
    assert remedy is not None
    zh = lang == "zh"

    def named(n: Any) -> str:
        return f"{n.zh}（{n.name}）" if zh else f"{n.en} ({n.name})"

    sep = "、" if zh else ", "
    out: list[str] = []
    if remedy.fields:
        out.append(("填写：" if zh else "fill in: ") + sep.join(map(named, remedy.fields)))
    if remedy.documents:
        out.append(("附上：" if zh else "attach: ") + sep.join(map(named, remedy.documents)))
    for b in remedy.dates:
        word = ("最早" if b.bound == "earliest" else "最晚") if zh else b.bound
        out.append(f"{named(b.field)}{'' if zh else ': '}{word} {b.date.isoformat()}")
    for v in remedy.values:
        how = (
            ("包含以下之一：" if v.how == "includes" else "为以下之一：")
            if zh
            else (" includes one of: " if v.how == "includes" else " is one of: ")
        )
        out.append(f"{named(v.field)}{how}{sep.join(v.values)}")
    if remedy.waiver is not None:
        out.append(
            f"或在{named(remedy.waiver)}中说明缩短理由"
            if zh
            else f"or state the reason for the shorter period in {named(remedy.waiver)}"
        )
    if remedy.roles:
        out.append(
            ("由以下角色办理：" if zh else "to be done by: ") + sep.join(r.zh if zh else r.en for r in remedy.roles)
        )
    if remedy.holders:
        shown = [(names or {}).get(h, h) for h in remedy.holders]
        out.append(("现任人员：" if zh else "held by: ") + sep.join(shown))
    if remedy.units:
        out.append(("由以下单位的人员办理：" if zh else "by someone of: ") + sep.join(remedy.units))
    if remedy.actions:
        out.append(("可执行：" if zh else "possible: ") + sep.join(map(named, remedy.actions)))
    return out


_PAUSE = re.compile(r"；?;? ?等待他方期间不计 ([0-9]+) 日 / [0-9]+ days waiting on others not counted")


def in_language(text: str, lang: str) -> str:
    """A bilingual ``中文 / English`` text (a deadline's basis: ``… / …: provenance``) in ``lang``:
    the Chinese part, or the English part, with a provenance after it kept and cited in ``lang``."""
    pause = _PAUSE.search(text)
    body = _PAUSE.sub("", text) if pause else text
    zh, sep, en = body.partition(" / ")
    if not sep:
        return cited(text, lang)
    _, colon, provenance = en.partition(": ")
    if lang == "zh":
        out = zh + (f"（{cited(provenance, 'zh')}）" if colon else "")
        return out + (f"；等待他方期间不计 {pause[1]} 日" if pause else "")
    return cited(en, "en") + (f"; {pause[1]} days waiting on others not counted" if pause else "")
