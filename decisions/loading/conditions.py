"""Parsing the condition language from YAML data, with load-time checks of every fact, operator,
record kind, parameter and type. Unknown names are load errors, never ``false`` at run time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from decisions.calendar import Unit
from decisions.loading.reader import Reader
from decisions.rules.conditions import (
    COMPARISON_OPERATORS,
    All,
    AnyOf,
    Collect,
    Compare,
    Condition,
    Count,
    Days,
    Fact,
    Latest,
    Length,
    Literal,
    Not,
    Param,
    PeriodEnd,
    Present,
    Union,
    Value,
)
from decisions.rules.facts import FactType

__all__ = ["FactScope", "parse_condition", "parse_value"]

Path = tuple[str | int, ...]
_VALUE_FORMS = ("fact", "param", "count", "latest", "length", "days", "collect", "union", "period_end")
_UNITS = tuple(u.value for u in Unit)
_CONDITION_FORMS = ("all", "any", "not", "present", *COMPARISON_OPERATORS)


@dataclass(frozen=True)
class FactScope:
    """What conditions of one workflow's rules may refer to, with static types."""

    facts: Mapping[str, FactType]
    enums: Mapping[str, tuple[str, ...]]
    record_kinds: frozenset[str]
    record_fields: Mapping[str, FactType]
    document_kinds: frozenset[str]
    params: Mapping[str, FactType] = field(default_factory=dict)


def _literal_type(value: Any) -> FactType:
    if isinstance(value, bool):
        return FactType.BOOL
    if isinstance(value, int):
        return FactType.INT
    if isinstance(value, str):
        return FactType.STR
    if isinstance(value, list):
        return FactType.LIST
    return FactType.ANY


def _single_key(reader: Reader, value: Any, path: Path, forms: tuple[str, ...], what: str) -> str | None:
    if not isinstance(value, dict) or len(value) != 1:
        reader.error(path, f"a {what} is a mapping with exactly one of: {', '.join(forms)}")
        return None
    key = next(iter(value))
    if key not in forms:
        reader.error((*path, key), f"unknown {what} operator {key!r} (known: {', '.join(forms)})")
        return None
    return str(key)


def _kinds(reader: Reader, raw: Any, path: Path, scope: FactScope) -> frozenset[str]:
    kinds = reader.string_list(raw, path)
    for i, k in enumerate(kinds):
        if k not in scope.record_kinds:
            reader.error((*path, i) if isinstance(raw, list) else path, f"unknown record kind {k!r}")
    return frozenset(kinds)


def _record_field(reader: Reader, raw: Any, path: Path, scope: FactScope) -> str | None:
    name = reader.string(raw, path)
    if name is not None and name not in scope.record_fields:
        reader.error(path, f"unknown record field {name!r}")
        return None
    return name


def parse_value(reader: Reader, raw: Any, path: Path, scope: FactScope, params: set[str]) -> Value | None:
    """A value expression: a literal, or one of the forms in `decisions.rules.conditions`."""
    if not isinstance(raw, dict):
        if raw is None:
            reader.error(path, "a value is required here")
            return None
        return Literal(raw, type=_literal_type(raw))
    form = _single_key(reader, raw, path, _VALUE_FORMS, "value")
    if form is None:
        return None
    arg = raw[form]
    at = (*path, form)
    if form == "fact":
        name = reader.string(arg, at)
        if name is None:
            return None
        if name not in scope.facts:
            reader.error(at, f"unknown fact {name!r}")
            return None
        return Fact(name, type=scope.facts[name])
    if form == "param":
        name = reader.string(arg, at)
        if name is None:
            return None
        if name not in scope.params:
            reader.error(at, f"unknown parameter {name!r} (no loaded rule pack declares it)")
            return None
        params.add(name)
        return Param(name, type=scope.params[name])
    if form == "length":
        inner = parse_value(reader, arg, at, scope, params)
        if inner is None:
            return None
        if inner.type not in (FactType.LIST, FactType.ANY, FactType.STR):
            reader.error(at, f"length needs a list, {inner.describe()} is {inner.type}")
        return Length(inner)
    if form == "union":
        if not isinstance(arg, list) or not arg:
            reader.error(at, "union takes a non-empty list of list values")
            return None
        parts = [parse_value(reader, item, (*at, i), scope, params) for i, item in enumerate(arg)]
        for i, part in enumerate(parts):
            if part is not None and part.type not in (FactType.LIST, FactType.ANY):
                reader.error((*at, i), f"union joins lists, {part.describe()} is {part.type}")
        if any(p is None for p in parts):
            return None
        return Union(tuple(p for p in parts if p is not None))
    if form == "count":
        m = reader.mapping(arg, at, optional=("record", "document", "where", "distinct"))
        if m is None:
            return None
        if ("record" in m) == ("document" in m):
            reader.error(at, "count takes exactly one of 'record' or 'document'")
            return None
        if "document" in m:
            doc = reader.string(m["document"], (*at, "document"))
            if doc is not None and doc not in scope.document_kinds:
                reader.error((*at, "document"), f"unknown document kind {doc!r}")
            if "distinct" in m or "where" in m:
                reader.error(at, "'distinct' and 'where' apply to records, not documents")
            return Count(document=doc)
        kinds = _kinds(reader, m["record"], (*at, "record"), scope)
        where: list[tuple[str, Any]] = []
        w = reader.mapping(m.get("where", {}), (*at, "where"), open_keys=True) or {}
        for key, val in w.items():
            if _record_field(reader, key, (*at, "where", key), scope) is not None:
                if isinstance(val, dict | list) or val is None:
                    reader.error((*at, "where", key), "a 'where' filter compares with a plain value")
                else:
                    where.append((str(key), val))
        distinct = _record_field(reader, m["distinct"], (*at, "distinct"), scope) if "distinct" in m else None
        return Count(kinds=kinds, where=tuple(where), distinct=distinct)
    if form == "latest":
        m = reader.mapping(arg, at, required=("record", "field"))
        if m is None or "record" not in m or "field" not in m:
            return None
        kinds = _kinds(reader, m["record"], (*at, "record"), scope)
        fname = _record_field(reader, m["field"], (*at, "field"), scope)
        if fname is None:
            return None
        return Latest(kinds, fname, type=scope.record_fields[fname])
    if form == "collect":
        m = reader.mapping(arg, at, required=("field",), optional=("record", "draft_changes"))
        if m is None or "field" not in m:
            return None
        kinds = _kinds(reader, m.get("record", []), (*at, "record"), scope) if "record" in m else frozenset()
        drafts = reader.boolean(m.get("draft_changes"), (*at, "draft_changes"))
        if not kinds and not drafts:
            reader.error(at, "collect needs 'record' kinds or 'draft_changes: true'")
        fname = _record_field(reader, m["field"], (*at, "field"), scope)
        if fname is None:
            return None
        return Collect(kinds, fname, draft_changes=drafts)
    if form == "period_end":
        return _period_end(reader, arg, at, scope, params)
    # days
    m = reader.mapping(arg, at, required=("from", "to"), optional=("unit",))
    if m is None or "from" not in m or "to" not in m:
        return None
    start = parse_value(reader, m["from"], (*at, "from"), scope, params)
    end = parse_value(reader, m["to"], (*at, "to"), scope, params)
    unit_raw = m.get("unit", "calendar")
    if unit_raw not in _UNITS:
        reader.error((*at, "unit"), f"unit must be one of {', '.join(_UNITS)}, found {unit_raw!r}")
        return None
    for name, v in (("from", start), ("to", end)):
        if v is not None and v.type not in (FactType.DATE, FactType.ANY):
            reader.error((*at, name), f"days needs dates, {v.describe()} is {v.type}")
            return None
    if start is None or end is None:
        return None
    return Days(start, end, Unit(unit_raw))


def _period_end(reader: Reader, arg: Any, at: Path, scope: FactScope, params: set[str]) -> Value | None:
    """``{from, length, unit}``: the last day of a period; ``{last_day}``: a published last day, rolled."""
    m = reader.mapping(arg, at, optional=("from", "length", "unit", "last_day"))
    if m is None:
        return None
    if ("last_day" in m) == ("from" in m or "length" in m):
        reader.error(at, "period_end takes either 'from' and 'length' (and 'unit'), or 'last_day'")
        return None
    if "last_day" in m:
        if "unit" in m:
            reader.error((*at, "unit"), "'unit' belongs to a period given by 'from' and 'length'")
        day = parse_value(reader, m["last_day"], (*at, "last_day"), scope, params)
        if day is not None and day.type not in (FactType.DATE, FactType.ANY):
            reader.error((*at, "last_day"), f"period_end needs a date, {day.describe()} is {day.type}")
            return None
        return PeriodEnd(day) if day is not None else None
    if "from" not in m or "length" not in m:
        reader.error(at, "period_end takes both 'from' and 'length'")
        return None
    start = parse_value(reader, m["from"], (*at, "from"), scope, params)
    length = parse_value(reader, m["length"], (*at, "length"), scope, params)
    unit_raw = m.get("unit", "calendar")
    if unit_raw not in _UNITS:
        reader.error((*at, "unit"), f"unit must be one of {', '.join(_UNITS)}, found {unit_raw!r}")
        return None
    if start is not None and start.type not in (FactType.DATE, FactType.ANY):
        reader.error((*at, "from"), f"period_end needs a date, {start.describe()} is {start.type}")
        return None
    if length is not None and length.type not in (FactType.INT, FactType.ANY):
        reader.error((*at, "length"), f"a period's length is a number, {length.describe()} is {length.type}")
        return None
    if isinstance(length, Literal) and (
        isinstance(length.literal, bool) or not isinstance(length.literal, int) or length.literal < 1
    ):
        reader.error(
            (*at, "length"), f"a period's length is a whole number, at least 1 {unit_raw}, found {length.literal!r}"
        )
        return None
    if start is None or length is None:
        return None
    return PeriodEnd(start, length, Unit(unit_raw))


def _check_types(reader: Reader, op: str, a: Value, b: Value, path: Path, scope: FactScope) -> None:
    ta, tb = a.type, b.type
    if FactType.VIEWS in (ta, tb):
        reader.error(path, "a views field is compared through its derived facts (e.g. .majority)")
        return
    if op in ("gt", "gte", "lt", "lte"):
        for v in (a, b):
            if v.type not in (FactType.INT, FactType.DATE, FactType.ANY):
                reader.error(path, f"{op} compares numbers or dates; {v.describe()} is {v.type}")
        if FactType.ANY not in (ta, tb) and ta != tb:
            reader.error(path, f"{op} compares {ta} with {tb}")
    elif op in ("eq", "ne"):
        if FactType.ANY not in (ta, tb) and ta != tb:
            reader.error(path, f"{op} compares {ta} ({a.describe()}) with {tb} ({b.describe()})")
    elif op in ("in", "not_in"):
        if tb not in (FactType.LIST, FactType.ANY):
            reader.error(path, f"{op} needs a list on the right; {b.describe()} is {tb}")
    elif op in ("contains_all", "disjoint"):
        for v in (a, b):
            if v.type not in (FactType.LIST, FactType.ANY):
                reader.error(path, f"{op} compares lists; {v.describe()} is {v.type}")
    # Enumerated facts compared with literals must use one of their declared values.
    for fact, lit in ((a, b), (b, a)):
        if isinstance(fact, Fact) and isinstance(lit, Literal) and fact.path in scope.enums:
            allowed = scope.enums[fact.path]
            values = lit.literal if isinstance(lit.literal, list) else [lit.literal]
            for v in values:
                if v not in allowed:
                    reader.error(path, f"{v!r} is not a value of {fact.path} ({', '.join(allowed)})")


def parse_condition(reader: Reader, raw: Any, path: Path, scope: FactScope, params: set[str]) -> Condition | None:
    """A condition tree; every problem anywhere in it is recorded on ``reader``."""
    form = _single_key(reader, raw, path, _CONDITION_FORMS, "condition")
    if form is None:
        return None
    arg = raw[form]
    at = (*path, form)
    if form in ("all", "any"):
        if not isinstance(arg, list) or not arg:
            reader.error(at, f"{form} takes a non-empty list of conditions")
            return None
        items = [parse_condition(reader, item, (*at, i), scope, params) for i, item in enumerate(arg)]
        if any(i is None for i in items):
            return None
        parts = tuple(i for i in items if i is not None)
        return All(parts) if form == "all" else AnyOf(parts)
    if form == "not":
        inner = parse_condition(reader, arg, at, scope, params)
        return Not(inner) if inner is not None else None
    if form == "present":
        v = parse_value(reader, arg, at, scope, params)
        return Present(v) if v is not None else None
    if not isinstance(arg, list) or len(arg) != 2:
        reader.error(at, f"{form} takes a list of exactly two values: [left, right]")
        return None
    left = parse_value(reader, arg[0], (*at, 0), scope, params)
    right = parse_value(reader, arg[1], (*at, 1), scope, params)
    if left is None or right is None:
        return None
    _check_types(reader, form, left, right, at, scope)
    return Compare(form, left, right)
