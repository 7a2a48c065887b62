"""Reading a workflow's ``catalogue:`` section: how its records make the versions of a catalogue.

Every name it uses is checked against the workflow, with its location: record kinds that some
transition leaves (and that carry the item's id on every transition leaving them), fields of the
right type carried by those records, enum values among the field's values, triggers and states.
The meaning is `decisions.catalogue.CatalogueSpec`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from decisions.catalogue import Adjustments, CatalogueSpec, ItemsSpec, Screening
from decisions.loading.reader import Reader
from decisions.workflow.definition import FieldDef, FieldType, StateDef, TransitionDef

__all__ = ["read_catalogue_spec"]

Path = tuple[str | int, ...]
_ROOT: Path = ("catalogue",)
_TEXTUAL = (FieldType.STRING, FieldType.TEXT)


class _Names:
    """The names of one workflow a catalogue section may use, each check leaving a located error."""

    def __init__(
        self,
        r: Reader,
        fields: dict[str, FieldDef],
        states: dict[str, StateDef],
        transitions: Sequence[TransitionDef],
    ) -> None:
        self.r, self.fields, self.states, self.transitions = r, fields, states, transitions
        self.kinds = sorted({t.record for t in transitions})

    def field(self, value: Any, path: Path, types: Collection[FieldType] = ()) -> FieldDef | None:
        name = self.r.identifier(value, path, "field")
        if name is None:
            return None
        fdef = self.fields.get(name)
        if fdef is None:
            self.r.error(path, f"unknown field {name!r}")
            return None
        if types and fdef.type not in types:
            self.r.error(path, f"field {name!r} is of type {fdef.type}; expected {' or '.join(types)}")
            return None
        return fdef

    def record(self, value: Any, path: Path) -> str | None:
        name = self.r.identifier(value, path, "record kind")
        if name is not None and name not in self.kinds:
            self.r.error(path, f"unknown record kind {name!r} (recorded by a transition: {', '.join(self.kinds)})")
            return None
        return name

    def leaving(self, kind: str) -> list[TransitionDef]:
        return [t for t in self.transitions if t.record == kind]

    def carried(self, kind: str, fdef: FieldDef | None, path: Path, *, required: bool = False) -> FieldDef | None:
        """``fdef``, if every transition leaving a ``kind`` record carries it (``required``: requires it)."""
        if fdef is None:
            return None
        missing = sorted(
            {
                t.trigger
                for t in self.leaving(kind)
                if fdef.name not in (t.requires_fields if required else t.all_fields)
            }
        )
        if missing:
            verb = "require" if required else "carry"
            self.r.error(
                path, f"the {kind!r} record does not {verb} field {fdef.name!r} (triggers: {', '.join(missing)})"
            )
            return None
        return fdef

    def value(self, fdef: FieldDef | None, value: Any, path: Path) -> str | None:
        text = self.r.identifier(value, path, "value")
        if text is not None and fdef is not None and text not in fdef.values:
            self.r.error(path, f"{text!r} is not a value of {fdef.name} ({', '.join(fdef.values)})")
            return None
        return text

    def names(self, value: Any, path: Path, known: Collection[str], what: str) -> tuple[str, ...] | None:
        """The names listed at ``path``, or None if one is not ``known``."""
        names = self.r.string_list(value, path)
        ok = True
        for i, name in enumerate(names):
            if name not in known:
                self.r.error((*path, i) if isinstance(value, list) else path, f"unknown {what} {name!r}")
                ok = False
        return tuple(names) if ok else None


def _items(n: _Names, raw: Any) -> ItemsSpec | None:
    path: Path = (*_ROOT, "items")
    m = n.r.mapping(raw, path, required=("id_field", "name_field", "fields"), optional=("due_field", "columns"))
    if m is None:
        return None
    id_ = n.field(m.get("id_field"), (*path, "id_field"), (FieldType.STRING,))
    name = n.field(m.get("name_field"), (*path, "name_field"), _TEXTUAL)
    due = "due_field" in m
    planned = n.field(m["due_field"], (*path, "due_field"), (FieldType.DATE,)) if due else None
    listed = n.r.string_list(m.get("fields"), (*path, "fields"))
    fields = [f for i, f in enumerate(listed) if n.field(f, (*path, "fields", i)) is not None]
    if id_ is not None and id_.name in listed:
        n.r.error(
            (*path, "fields", listed.index(id_.name)), f"the item's id {id_.name!r} is its key, not a field it keeps"
        )
    for key, fdef in (("name_field", name), ("due_field", planned)):
        if fdef is not None and fdef.name not in listed:
            n.r.error((*path, key), f"{fdef.name!r} is not one of the item's fields ({', '.join(listed)})")
    shown = n.r.string_list(m.get("columns"), (*path, "columns"))
    for i, column in enumerate(shown):
        if column not in listed:
            n.r.error((*path, "columns", i), f"{column!r} is not one of the item's fields ({', '.join(listed)})")
    if id_ is None or name is None or (due and planned is None) or len(fields) < len(listed):
        return None
    return ItemsSpec(id_.name, name.name, tuple(fields), planned.name if planned else "", tuple(shown))


def _keyed_record(n: _Names, raw: Any, path: Path, id_field: str | None) -> str | None:
    """The record kind at ``path``: every transition leaving it requires the item's id."""
    kind = n.record(raw, path)
    if kind is None or id_field is None:
        return kind
    return kind if n.carried(kind, n.fields[id_field], path, required=True) is not None else None


def _screening(n: _Names, raw: Any, items: ItemsSpec | None, id_field: str | None) -> Screening | None:
    path: Path = (*_ROOT, "screened_by")
    m = n.r.mapping(raw, path, required=("record", "field", "includes"), optional=("carries",))
    if m is None:
        return None
    kind = _keyed_record(n, m.get("record"), (*path, "record"), id_field)
    result = n.field(m.get("field"), (*path, "field"), (FieldType.ENUM,))
    if kind is not None:
        result = n.carried(kind, result, (*path, "field"), required=True)
    include = n.value(result, m.get("includes"), (*path, "includes"))
    carries = n.r.string_list(m.get("carries"), (*path, "carries"))
    ok = True
    for i, name in enumerate(carries):
        where = (*path, "carries", i)
        fdef = n.field(name, where)
        if fdef is not None and items is not None and name not in items.fields:
            n.r.error(where, f"{name!r} is not one of the item's fields ({', '.join(items.fields)})")
            fdef = None
        ok = ok and fdef is not None and (kind is None or n.carried(kind, fdef, where) is not None)
    if kind is None or result is None or include is None or not ok:
        return None
    return Screening(kind, result.name, include, tuple(carries))


def _adjustments(n: _Names, raw: Any, id_field: str | None) -> Adjustments | None:
    path: Path = (*_ROOT, "adjusted_by")
    m = n.r.mapping(raw, path, required=("record", "field", "adds", "removes"), optional=("reason_field",))
    if m is None:
        return None
    kind = _keyed_record(n, m.get("record"), (*path, "record"), id_field)
    which = n.field(m.get("field"), (*path, "field"), (FieldType.ENUM,))
    if kind is not None:
        which = n.carried(kind, which, (*path, "field"), required=True)
    add = n.value(which, m.get("adds"), (*path, "adds"))
    remove = n.value(which, m.get("removes"), (*path, "removes"))
    if add is not None and add == remove:
        n.r.error((*path, "removes"), f"adding and removing an item cannot both be {add!r}")
        remove = None
    explained = "reason_field" in m
    reason = n.field(m["reason_field"], (*path, "reason_field"), _TEXTUAL) if explained else None
    if kind is not None and reason is not None:
        reason = n.carried(kind, reason, (*path, "reason_field"))
    if kind is None or which is None or add is None or remove is None or (explained and reason is None):
        return None
    return Adjustments(kind, which.name, add, remove, reason.name if reason else "")


def read_catalogue_spec(
    r: Reader,
    raw: Any,
    fields: dict[str, FieldDef],
    states: dict[str, StateDef],
    transitions: Sequence[TransitionDef],
) -> CatalogueSpec | None:
    """The ``catalogue:`` section ``raw`` of a workflow, or None (its problems left on ``r``)."""
    m = r.mapping(
        raw,
        _ROOT,
        required=("items", "suggested_by", "screened_by", "published_by", "recompiled_from"),
        optional=("adjusted_by", "requests_dropped_by"),
    )
    if m is None:
        return None
    n = _Names(r, fields, states, transitions)
    items = _items(n, m.get("items"))
    raw_id = m["items"].get("id_field") if isinstance(m.get("items"), dict) else None
    id_field = raw_id if isinstance(raw_id, str) and raw_id in fields else None
    suggested = r.mapping(m.get("suggested_by"), (*_ROOT, "suggested_by"), required=("record",))
    suggested_by = (
        _keyed_record(n, suggested.get("record"), (*_ROOT, "suggested_by", "record"), id_field) if suggested else None
    )
    screening = _screening(n, m.get("screened_by"), items, id_field)
    adjustments = _adjustments(n, m["adjusted_by"], id_field) if "adjusted_by" in m else None
    used: dict[str, str] = {}
    for part in ("suggested_by", "screened_by", "adjusted_by"):
        kind = m[part].get("record") if isinstance(m.get(part), dict) else None
        if isinstance(kind, str) and kind in used:
            r.error((*_ROOT, part, "record"), f"the {kind!r} record is already the catalogue's {used[kind]}")
        elif isinstance(kind, str):
            used[kind] = part
    triggers = {t.trigger for t in transitions}
    published_by = n.names(m.get("published_by"), (*_ROOT, "published_by"), triggers, "trigger")
    dropped_by = n.names(m.get("requests_dropped_by"), (*_ROOT, "requests_dropped_by"), triggers, "trigger")
    recompiled = n.names(m.get("recompiled_from"), (*_ROOT, "recompiled_from"), states, "state")
    drafting = {t.source for t in transitions if t.changes_draft}
    raw_states = m.get("recompiled_from")
    for state in recompiled or ():
        if state not in drafting:
            where = (*_ROOT, "recompiled_from", *((raw_states.index(state),) if isinstance(raw_states, list) else ()))
            r.error(where, f"no draft-changing transition starts from state {state!r}: nothing is compiled there")
            recompiled = None
    for part, value in (("published_by", published_by), ("recompiled_from", recompiled)):
        if value is not None and not value and part in m:
            r.error((*_ROOT, part), "names at least one")
    if (
        items is None
        or suggested_by is None
        or screening is None
        or ("adjusted_by" in m and adjustments is None)
        or not published_by
        or not recompiled
        or dropped_by is None
        or len(used) < 2 + ("adjusted_by" in m)
        or len({suggested_by, screening.record, adjustments.record if adjustments else None}) < 3
    ):
        return None
    return CatalogueSpec(
        items,
        suggested_by,
        screening,
        frozenset(published_by),
        frozenset(recompiled),
        adjustments,
        frozenset(dropped_by),
    )
