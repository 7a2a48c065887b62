"""Reading a workflow's ``report:`` section: what its records count for in the annual report.

    report:
      unit_field: organiser_unit       # a string attribute naming the responsible unit
      category_field: category         # an enum attribute
      counts:                          # figure kind (docs/report.md) → triggers
        review_submitted: [submit_legality_review]
        review_lawful: [find_lawful]
      shortened_period: {triggers: [open_consultation], reason_field: shortening_reason}
      review_minimum: {parameter: legality_review_working_days, due_field: review_due}
      execution_reports_in: [executing]
      item_unit: organiser_unit        # a catalogue's item field

Every name is the workflow's and is checked here, located: the figure kinds are the closed set of
`decisions.report.spec.FIGURE_KINDS`; triggers exist and count for one kind only; the reason and
due fields are carried by every trigger named with them; the minimum's parameter is checked against
the loaded packs by `check_report_parameters`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from decisions.catalogue import CatalogueSpec
from decisions.loading.reader import Reader
from decisions.report.spec import FIGURE_KINDS, OUTCOME_KINDS, ReportSpec, ReviewMinimum, Shortened
from decisions.rules.definitions import ParamUnit, RuleBook
from decisions.workflow.definition import FieldDef, FieldType, StateDef, TransitionDef, WorkflowDef

__all__ = ["check_report_parameters", "read_report_spec"]

Path = tuple[str | int, ...]
_ROOT: Path = ("report",)
_KEYS = (
    "unit_field",
    "category_field",
    "counts",
    "shortened_period",
    "review_minimum",
    "execution_reports_in",
    "item_unit",
)


def _attribute(r: Reader, fields: Mapping[str, FieldDef], value: Any, path: Path, types: Sequence[FieldType]) -> str:
    name = r.identifier(value, path, "field")
    if name is None:
        return ""
    fdef = fields.get(name)
    if fdef is None:
        r.error(path, f"unknown field {name!r}")
    elif not fdef.attribute:
        r.error(path, f"field {name!r} is not a case attribute ('attribute: true')")
    elif fdef.type not in types:
        r.error(path, f"field {name!r} is of type {fdef.type}; expected {' or '.join(types)}")
    else:
        return name
    return ""


def _triggers(r: Reader, value: Any, path: Path, known: set[str]) -> frozenset[str]:
    names = r.string_list(value, path, identifiers=True)
    for name in names:
        if name not in known:
            r.error(path, f"unknown trigger {name!r}")
    return frozenset(n for n in names if n in known)


def _carried(
    r: Reader, fields: Mapping[str, FieldDef], transitions: Sequence[TransitionDef], triggers: frozenset[str],
    value: Any, path: Path, types: Sequence[FieldType],
) -> str:  # fmt: skip
    name = r.identifier(value, path, "field")
    if name is None:
        return ""
    fdef = fields.get(name)
    if fdef is None:
        r.error(path, f"unknown field {name!r}")
        return ""
    if fdef.type not in types:
        r.error(path, f"field {name!r} is of type {fdef.type}; expected {' or '.join(types)}")
        return ""
    missing = sorted({t.trigger for t in transitions if t.trigger in triggers and name not in t.all_fields})
    if missing:
        r.error(path, f"field {name!r} is not carried by {', '.join(missing)}")
        return ""
    return name


def read_report_spec(
    r: Reader,
    data: Mapping[str, Any],
    fields: Mapping[str, FieldDef],
    states: Mapping[str, StateDef],
    transitions: Sequence[TransitionDef],
    catalogue: CatalogueSpec | None,
) -> ReportSpec | None:
    """The ``report:`` section (``None`` when there is none), every problem located on ``r``."""
    if "report" not in data:
        return None
    m = r.mapping(data["report"], _ROOT, optional=_KEYS)
    if m is None:
        return None
    known = {t.trigger for t in transitions}
    textual = (FieldType.STRING, FieldType.TEXT)
    unit = _attribute(r, fields, m["unit_field"], (*_ROOT, "unit_field"), textual) if "unit_field" in m else ""
    category = (
        _attribute(r, fields, m["category_field"], (*_ROOT, "category_field"), (FieldType.ENUM,))
        if "category_field" in m
        else ""
    )
    counts: dict[str, frozenset[str]] = {}
    raw_counts = r.mapping(m.get("counts", {}), (*_ROOT, "counts"), optional=FIGURE_KINDS) or {}
    counted_by: dict[str, str] = {}
    for kind in FIGURE_KINDS:
        if kind not in raw_counts:
            continue
        path = (*_ROOT, "counts", kind)
        counts[kind] = _triggers(r, raw_counts[kind], path, known)
        for trigger in sorted(counts[kind]):
            if trigger in counted_by:
                r.error(path, f"trigger {trigger!r} already counts for {counted_by[trigger]!r}: a record counts once")
            counted_by.setdefault(trigger, kind)
    if any(kind in counts for kind in OUTCOME_KINDS) and "review_submitted" not in counts:
        r.error((*_ROOT, "counts"), "review outcomes are counted against submissions: declare 'review_submitted'")
    shortened = None
    if "shortened_period" in m:
        path = (*_ROOT, "shortened_period")
        s = r.mapping(m["shortened_period"], path, required=("triggers", "reason_field"))
        if s is not None and "triggers" in s and "reason_field" in s:
            which = _triggers(r, s["triggers"], (*path, "triggers"), known)
            reason = _carried(r, fields, transitions, which, s["reason_field"], (*path, "reason_field"), textual)
            shortened = Shortened(which, reason) if which and reason else None
    minimum = None
    if "review_minimum" in m:
        path = (*_ROOT, "review_minimum")
        s = r.mapping(m["review_minimum"], path, required=("parameter", "due_field"))
        if s is not None and "parameter" in s and "due_field" in s:
            parameter = r.identifier(s["parameter"], (*path, "parameter"), "parameter")
            submitted = counts.get("review_submitted", frozenset())
            if not submitted:
                r.error(path, "the minimum is judged on submissions: declare 'review_submitted' under 'counts'")
            due = _carried(r, fields, transitions, submitted, s["due_field"], (*path, "due_field"), (FieldType.DATE,))
            minimum = ReviewMinimum(parameter, due) if parameter and due else None
    execution_in: frozenset[str] = frozenset()
    if "execution_reports_in" in m:
        path = (*_ROOT, "execution_reports_in")
        names = r.string_list(m["execution_reports_in"], path, identifiers=True)
        for name in names:
            if name not in states:
                r.error(path, f"unknown state {name!r}")
        if "execution_reported" not in counts:
            r.error(
                path, "a missing execution report is judged against 'execution_reported': declare it under 'counts'"
            )
        execution_in = frozenset(n for n in names if n in states)
    item_unit = ""
    if "item_unit" in m:
        path = (*_ROOT, "item_unit")
        item = r.identifier(m["item_unit"], path, "field")
        if catalogue is None:
            r.error(path, "'item_unit' names a field of a catalogue's items: this workflow has no 'catalogue:' section")
        elif item is not None and item not in catalogue.items.fields:
            kept = ", ".join(catalogue.items.fields)
            r.error(path, f"field {item!r} is not kept on the catalogue's items (catalogue.items.fields: {kept})")
        elif item is not None:
            item_unit = item
    return ReportSpec(counts, unit, category, shortened, minimum, execution_in, item_unit)


def check_report_parameters(workflows: Mapping[str, tuple[WorkflowDef, Reader]], rulebook: RuleBook) -> None:
    """A review minimum names a minimum some loaded pack defines, a whole number of working days."""
    for wf, r in workflows.values():
        minimum = wf.report.review_minimum if wf.report is not None else None
        if minimum is None:
            continue
        path = ("report", "review_minimum", "parameter")
        param = rulebook.parameters.get(minimum.parameter)
        if param is None:
            known = sorted(n for n, p in rulebook.parameters.items() if p.unit == ParamUnit.WORKING_DAYS)
            r.error(
                path,
                f"unknown parameter {minimum.parameter!r} (working-day periods the packs define: {', '.join(known)})",
            )
        elif param.kind != "minimum":
            r.error(path, f"parameter {minimum.parameter!r} is a {param.kind}, not a minimum")
        elif param.unit != ParamUnit.WORKING_DAYS or not isinstance(param.value, int) or isinstance(param.value, bool):
            r.error(path, f"parameter {minimum.parameter!r} is not a whole number of working days")
