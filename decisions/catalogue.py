"""The annual catalogue's content, derived from its records. Pure.

Items are suggested (``suggest_item``), screened in or out (``item_screening``), and changed by
adjustments (``adjustment_request``: add / change / remove). Every draft-changing action (compiling
the catalogue or an adjustment) freezes the item list as a new immutable *version*; publishing marks
the version published. Nothing is ever removed silently: a removal is an adjustment on record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from decisions.model import Case, Record

__all__ = ["CatalogueVersion", "Item", "ItemChange", "diff_versions", "versions"]

ITEM_FIELDS = (
    "item_name",
    "organiser_unit",
    "category",
    "planned_period",
    "planned_by",
    "basis_and_reasons",
    "problem_to_solve",
    "proposed_measures",
)


@dataclass(frozen=True)
class Item:
    """One catalogue item (决策事项) and what is known of it."""

    id: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.fields.get("item_name", ""))

    @property
    def planned_by(self) -> date | None:
        value = self.fields.get("planned_by")
        return value if isinstance(value, date) else None


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


def _item_fields(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.fields.items() if k in ITEM_FIELDS}


def versions(case: Case) -> list[CatalogueVersion]:
    """Every version of the catalogue, oldest first."""
    suggested: dict[str, Item] = {}
    included: set[str] = set()
    current: dict[str, Item] = {}
    pending: list[Record] = []
    out: list[CatalogueVersion] = []
    for r in case.records:
        if r.kind == "suggestion":
            item_id = str(r.fields["item_id"])
            suggested[item_id] = Item(item_id, _item_fields(r))
        elif r.kind == "item_screening":
            item_id = str(r.fields["item_id"])
            if r.fields.get("screening_result") == "include":
                included.add(item_id)
                if "category" in r.fields and item_id in suggested:
                    old = suggested[item_id]
                    suggested[item_id] = replace(old, fields={**old.fields, "category": r.fields["category"]})
            else:
                included.discard(item_id)
        elif r.kind == "adjustment_request":
            pending.append(r)
        elif r.trigger == "reject_adjustment":
            pending.clear()
        if r.changes_draft:
            reason = ""
            if r.from_state == "screening":  # (re)compiling the year's catalogue from screened suggestions
                current = {i: suggested[i] for i in sorted(included) if i in suggested}
            else:  # compiling an adjustment: apply what was requested
                for adj in pending:
                    reason = str(adj.fields.get("reason", ""))
                    item_id = str(adj.fields["item_id"])
                    kind = adj.fields.get("adjustment_kind")
                    if kind == "remove":
                        current.pop(item_id, None)
                    elif kind == "add" or item_id not in current:
                        current[item_id] = Item(item_id, _item_fields(adj))
                    else:
                        old = current[item_id]
                        current[item_id] = replace(old, fields={**old.fields, **_item_fields(adj)})
                pending.clear()
            items = tuple(current[k] for k in sorted(current))
            out.append(CatalogueVersion(r.draft_version, r.seq, r.on, items, reason=reason))
        if r.trigger in ("publish_catalogue", "publish_adjustment") and out:
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
