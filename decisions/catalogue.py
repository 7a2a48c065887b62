"""The annual catalogue's content, derived from its records as its workflow declares. Pure.

A workflow's ``catalogue:`` section (`CatalogueSpec`) names the records that suggest items, screen
them in or out and request adjustments (add / change / remove), the triggers that drop pending
requests and publish, and the states from which a draft change recompiles the catalogue from the
screened suggestions. Every draft-changing action freezes the item list as a new immutable
*version*; publishing marks the version published. Nothing is ever removed silently: a removal is an
adjustment on record. No name of a shipped workflow appears here: every one comes from the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from decisions.model import Case, Record

__all__ = [
    "Adjustments",
    "CatalogueSpec",
    "CatalogueVersion",
    "Item",
    "ItemChange",
    "ItemsSpec",
    "Screening",
    "diff_versions",
    "versions",
]


@dataclass(frozen=True)
class ItemsSpec:
    """What an item is: the field keying it, the fields it keeps, and which of them are its name and
    its planned deadline (`Item.name`, `Item.planned_by`) and which the catalogue display shows."""

    id: str
    name: str
    fields: tuple[str, ...]
    planned_by: str = ""
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Screening:
    """A ``record`` whose ``result`` field is ``include`` screens its item in (anything else, out);
    an included item takes the ``carries`` fields of the screening record."""

    record: str
    result: str
    include: str
    carries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Adjustments:
    """A ``record`` requesting an adjustment of a published catalogue, applied by the next draft
    change: its ``kind`` field is ``add``, ``remove`` or anything else (a change of the item's fields);
    its ``reason`` field (optional) is the version's reason."""

    record: str
    kind: str
    add: str
    remove: str
    reason: str = ""


@dataclass(frozen=True)
class CatalogueSpec:
    """How a workflow's records make the versions of a catalogue (its ``catalogue:`` section)."""

    items: ItemsSpec
    suggested_by: str
    screened_by: Screening
    published_by: frozenset[str]
    recompiled_from: frozenset[str]
    adjusted_by: Adjustments | None = None
    requests_dropped_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Item:
    """One catalogue item (决策事项) and what is known of it: its name and planned deadline as the
    spec names them."""

    id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    planned_by: date | None = None


@dataclass(frozen=True)
class CatalogueVersion:
    """The item list frozen by one draft-changing action."""

    version: int
    seq: int
    on: date
    items: tuple[Item, ...]
    published_on: date | None = None
    reason: str = ""


@dataclass(frozen=True)
class ItemChange:
    item: str
    kind: str  # added | removed | changed
    changes: tuple[tuple[str, Any, Any], ...] = ()  # (field, before, after)


def _item(spec: ItemsSpec, item_id: str, fields: Mapping[str, Any]) -> Item:
    kept = {k: v for k, v in fields.items() if k in spec.fields}
    planned = kept.get(spec.planned_by) if spec.planned_by else None
    return Item(item_id, kept, str(kept.get(spec.name, "")), planned if isinstance(planned, date) else None)


def _updated(spec: ItemsSpec, item: Item, fields: Mapping[str, Any]) -> Item:
    return _item(spec, item.id, {**item.fields, **fields})


def versions(case: Case, spec: CatalogueSpec | None) -> list[CatalogueVersion]:
    """Every version of the catalogue ``case``, oldest first, derived as ``spec`` declares (none
    when its workflow declares no catalogue)."""
    if spec is None:
        return []
    items, screening, adjusting = spec.items, spec.screened_by, spec.adjusted_by
    suggested: dict[str, Item] = {}
    included: set[str] = set()
    current: dict[str, Item] = {}
    pending: list[Record] = []
    out: list[CatalogueVersion] = []
    for r in case.records:
        if r.kind == spec.suggested_by:
            item_id = str(r.fields[items.id])
            suggested[item_id] = _item(items, item_id, r.fields)
        elif r.kind == screening.record:
            item_id = str(r.fields[items.id])
            if r.fields.get(screening.result) == screening.include:
                included.add(item_id)
                carried = {k: r.fields[k] for k in screening.carries if k in r.fields}
                if carried and item_id in suggested:
                    suggested[item_id] = _updated(items, suggested[item_id], carried)
            else:
                included.discard(item_id)
        elif adjusting is not None and r.kind == adjusting.record:
            pending.append(r)
        elif r.trigger in spec.requests_dropped_by:
            pending.clear()
        if r.changes_draft:
            reason = ""
            if r.from_state in spec.recompiled_from:  # (re)compiling the catalogue from screened suggestions
                current = {i: suggested[i] for i in sorted(included) if i in suggested}
            elif adjusting is not None:  # compiling an adjustment: apply what was requested
                for adj in pending:
                    reason = str(adj.fields.get(adjusting.reason, "")) if adjusting.reason else ""
                    item_id = str(adj.fields[items.id])
                    kind = adj.fields.get(adjusting.kind)
                    if kind == adjusting.remove:
                        current.pop(item_id, None)
                    elif kind == adjusting.add or item_id not in current:
                        current[item_id] = _item(items, item_id, adj.fields)
                    else:
                        current[item_id] = _updated(items, current[item_id], adj.fields)
                pending.clear()
            listed = tuple(current[k] for k in sorted(current))
            out.append(CatalogueVersion(r.draft_version, r.seq, r.on, listed, reason=reason))
        if r.trigger in spec.published_by and out:
            out[-1] = replace(out[-1], published_on=r.on)
    return out


def diff_versions(a: CatalogueVersion, b: CatalogueVersion) -> list[ItemChange]:
    """What changed from version ``a`` to version ``b``, item by item."""
    before = {i.id: i for i in a.items}
    after = {i.id: i for i in b.items}
    out: list[ItemChange] = []
    for item_id in sorted(before.keys() | after.keys()):
        if item_id not in before:
            out.append(ItemChange(item_id, "added"))
        elif item_id not in after:
            out.append(ItemChange(item_id, "removed"))
        else:
            x, y = before[item_id].fields, after[item_id].fields
            changes = tuple((k, x.get(k), y.get(k)) for k in sorted(x.keys() | y.keys()) if x.get(k) != y.get(k))
            if changes:
                out.append(ItemChange(item_id, "changed", changes))
    return out
