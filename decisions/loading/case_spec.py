"""Reading a workflow's ``case:`` section: how a case is opened and named (`CaseSpec`).

    case:
      start: propose            # the trigger that opens a case (from `initial`); default: the only one
      id: "D-{year}-{seq:3}"    # {year}, {seq:N}, {field.NAME} (a field the start trigger requires)
      title: title              # the string attribute shown as the case's title (optional)
      catalogue_item: {field: catalogue_item, catalogue: catalogue}   # optional
      year_field: year          # optional: the start field holding the year the case is about
      unit: organiser_unit      # optional: the string attribute naming the unit handling the case

Checked here: everything that needs only this file. That the linked catalogue workflow is loaded
and can be found by year is checked once every file is read (`check_catalogue_links`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from decisions.loading.reader import Reader
from decisions.workflow.case_ids import parse_pattern
from decisions.workflow.definition import CaseSpec, CatalogueLink, FieldDef, FieldType, TransitionDef, WorkflowDef

__all__ = ["check_case_fields", "check_catalogue_links", "read_case_spec"]

_KEYS = ("start", "id", "title", "catalogue_item", "year_field", "unit")
_ID_FIELD_TYPES = (FieldType.STRING, FieldType.INTEGER, FieldType.ENUM)
Path = tuple[str | int, ...]


def _start(r: Reader, m: Mapping[str, Any], initial: str, transitions: Sequence[TransitionDef]) -> TransitionDef | None:
    starts = {t.trigger: t for t in transitions if t.source == initial}
    if "start" not in m:
        if len(starts) == 1:
            return next(iter(starts.values()))
        r.error(
            ("case",),
            f"declare 'start': the state {initial!r} has {len(starts)} transitions "
            f"({', '.join(sorted(starts)) or 'none'}), say which one opens a case",
        )
        return None
    trigger = r.identifier(m["start"], ("case", "start"), "trigger")
    if trigger is None:
        return None
    if trigger not in starts:
        elsewhere = sorted({t.source for t in transitions if t.trigger == trigger})
        why = f"it leaves {', '.join(elsewhere)}" if elsewhere else "no transition has that trigger"
        r.error(
            ("case", "start"),
            f"start trigger {trigger!r} is not a transition from the initial state {initial!r} ({why}; "
            f"from {initial!r}: {', '.join(sorted(starts)) or 'none'})",
        )
        return None
    return starts[trigger]


def _field(
    r: Reader,
    value: Any,
    path: Path,
    fields: Mapping[str, FieldDef],
    what: str,
    types: Sequence[FieldType],
    *,
    attribute: bool = False,
    start: TransitionDef | None = None,
) -> str | None:
    """The name at ``path``: a field of this workflow of one of ``types`` (an attribute, and required
    by the start trigger, where asked)."""
    name = r.identifier(value, path, "field name")
    if name is None:
        return None
    fdef = fields.get(name)
    kinds = " or ".join(str(t) for t in types)
    if fdef is None:
        r.error(path, f"{what}: unknown field {name!r}")
    elif fdef.type not in types:
        r.error(path, f"{what}: field {name!r} is a {fdef.type} field, not {kinds}")
    elif attribute and not fdef.attribute:
        r.error(path, f"{what}: field {name!r} is not an attribute of the case (declare 'attribute: true')")
    elif start is not None and name not in start.requires_fields:
        r.error(
            path,
            f"{what}: field {name!r} is not required by the start trigger {start.trigger!r} "
            f"(it requires: {', '.join(start.requires_fields) or 'nothing'})",
        )
    else:
        return name
    return None


def read_case_spec(
    r: Reader,
    raw: Any,
    initial: str | None,
    transitions: Sequence[TransitionDef],
    fields: Mapping[str, FieldDef],
) -> CaseSpec | None:
    """The workflow's `CaseSpec`: from its ``case:`` section (``raw``), or, without one, the only
    transition from the initial state as the start and no id pattern (None if there are several)."""
    if initial is None:
        return None
    if raw is None:
        starts = [t for t in transitions if t.source == initial]
        return CaseSpec(starts[0].trigger) if len(starts) == 1 else None
    m = r.mapping(raw, ("case",), optional=_KEYS)
    if m is None:
        return None
    start = _start(r, m, initial, transitions)
    ok = start is not None
    pattern = ""
    if "id" in m:
        pattern = r.string(m["id"], ("case", "id")) or ""
        parts, problems = parse_pattern(pattern)
        for problem in problems:
            r.error(("case", "id"), f"case id pattern {pattern!r}: {problem}")
        for part in (p for p in parts if p.kind == "field"):
            ok = (
                bool(
                    _field(
                        r, part.value, ("case", "id"), fields, f"{{field.{part.value}}}", _ID_FIELD_TYPES, start=start
                    )
                )
                and ok
            )
        ok = ok and not problems and bool(pattern)
    title = ""
    if "title" in m:
        title = _field(r, m["title"], ("case", "title"), fields, "title", (FieldType.STRING,), attribute=True) or ""
        ok = ok and bool(title)
    link: CatalogueLink | None = None
    if "catalogue_item" in m:
        path: Path = ("case", "catalogue_item")
        c = r.mapping(m["catalogue_item"], path, required=("field", "catalogue")) or {}
        item = (
            _field(r, c["field"], (*path, "field"), fields, "catalogue item", (FieldType.STRING,), attribute=True)
            if "field" in c
            else None
        )
        catalogue = r.identifier(c["catalogue"], (*path, "catalogue"), "workflow name") if "catalogue" in c else None
        link = CatalogueLink(item, catalogue) if item and catalogue else None
        ok = ok and link is not None
    year_field = ""
    if "year_field" in m:
        year_field = (
            _field(r, m["year_field"], ("case", "year_field"), fields, "year field", (FieldType.INTEGER,), start=start)
            or ""
        )
        ok = ok and bool(year_field)
        if year_field and any(p.kind == "seq" for p in parse_pattern(pattern)[0]):
            r.error(("case", "year_field"), "a case found by its year has no {seq:N} in its id (one case a year)")
            ok = False
        if year_field and f"{{field.{year_field}}}" not in pattern:
            r.error(
                ("case", "year_field"),
                f"the id pattern must hold {{field.{year_field}}} (the case of a year is found by its id)",
            )
            ok = False
    unit = ""
    if "unit" in m:
        unit = _field(r, m["unit"], ("case", "unit"), fields, "unit", (FieldType.STRING,), attribute=True) or ""
        ok = ok and bool(unit)
    if not ok or start is None:
        return None
    return CaseSpec(start.trigger, pattern, title, link, year_field, unit)


def check_catalogue_links(workflows: Mapping[str, tuple[WorkflowDef, Reader]]) -> None:
    """A catalogue link names another loaded workflow whose case of a year can be found (it declares
    ``case: year_field``). Problems are recorded on the linking workflow's reader."""
    for wf, r in workflows.values():
        link = wf.case.catalogue_item if wf.case is not None else None
        if link is None:
            continue
        where = ("case", "catalogue_item", "catalogue")
        target = workflows.get(link.catalogue)
        if target is None:
            r.error(where, f"unknown workflow {link.catalogue!r} (loaded: {', '.join(sorted(workflows))})")
        elif target[0].name == wf.name:
            r.error(where, "a workflow's cases cannot be items of its own cases")
        elif target[0].case is None or not target[0].case.year_field:
            r.error(
                where,
                f"workflow {link.catalogue!r} is no catalogue that can be found by year "
                "(its 'case:' section declares no 'year_field')",
            )
        elif target[0].catalogue is None:
            r.error(where, f"workflow {link.catalogue!r} is no catalogue (it declares no 'catalogue:' section)")


def check_case_fields(workflows: Mapping[str, tuple[WorkflowDef, Reader]]) -> None:
    """A ``case`` field's ``workflow:`` names a loaded workflow (problems on the field's own reader)."""
    for wf, r in workflows.values():
        for f in wf.fields.values():
            if f.case_workflow and f.case_workflow not in workflows:
                r.error(
                    ("fields", f.name, "workflow"),
                    f"unknown workflow {f.case_workflow!r} (loaded: {', '.join(sorted(workflows))})",
                )
