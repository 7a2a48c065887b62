"""How an action's form is made (one place, to switch to `Office`'s input schema when it comes):
today from the transition's declared fields and documents."""

from __future__ import annotations

from dataclasses import dataclass

from decisions.model import Text
from decisions.workflow.definition import FieldType, WorkflowDef

__all__ = ["FormDocument", "FormField", "action_form"]

_INPUT = {
    FieldType.DATE: "date",
    FieldType.INTEGER: "number",
    FieldType.ENUM: "select",
    FieldType.BOOLEAN: "select",
    FieldType.TEXT: "textarea",
    FieldType.VIEWS: "textarea",
}
_YES_NO = (("true", Text("是", "yes")), ("false", Text("否", "no")))


@dataclass(frozen=True)
class FormField:
    name: str
    label: Text
    input: str  # text | textarea | date | number | select
    required: bool
    choices: tuple[tuple[str, Text], ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class FormDocument:
    kind: str
    label: Text
    required: bool


def action_form(wf: WorkflowDef, state: str, trigger: str) -> tuple[tuple[FormField, ...], tuple[FormDocument, ...]]:
    """The inputs of ``trigger`` from ``state``: its required fields and documents first, then the
    accepted ones, each with its label and, for a choice, the labelled values."""
    t = wf.transition(state, trigger) or next((x for x in wf.transitions if x.trigger == trigger), None)
    if t is None:
        return (), ()
    fields: list[FormField] = []
    for name in (*t.requires_fields, *(f for f in t.accepts_fields if f not in t.requires_fields)):
        f = wf.fields.get(name)
        if f is None or name in t.sets:
            continue
        choices: tuple[tuple[str, Text], ...] = ()
        if f.type is FieldType.ENUM:
            choices = tuple((v, f.value_labels.get(v, Text(v, v))) for v in f.values)
        elif f.type is FieldType.BOOLEAN:
            choices = _YES_NO
        hint = {
            FieldType.LIST: "、",
            FieldType.VIEWS: "member:position, …",
            FieldType.CASE: "D-…",
        }.get(f.type, "")
        fields.append(FormField(name, f.label, _INPUT.get(f.type, "text"), name in t.requires_fields, choices, hint))
    documents = [
        FormDocument(k, wf.documents[k].label, k in t.requires_documents)
        for k in (*t.requires_documents, *(d for d in t.accepts_documents if d not in t.requires_documents))
        if k in wf.documents
    ]
    return tuple(fields), tuple(documents)
