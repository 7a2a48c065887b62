"""The lists' SQL: 已办 (the cases a person acted in, with their last action there), the search of
the cases (`CaseQuery`), and the cases implementing catalogue items.

已办 and a search by person read the events by the index on (actor, case, seq); a search's state,
workflow and catalogue item are indexed columns of the cases; overdue reads the inbox table by its
key (case); a year not held in an attribute is the day of the case's first event (by the unique
(case, seq) pair); title and unit are substrings (of the title column, and of the attribute the
workflow's ``case: unit`` names, read from the case's attributes JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, String, and_, case, cast, exists, false, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from decisions.store.events import StoredEvent
from decisions.store.interface import CaseQuery
from decisions.store.tables import EVENT_COLUMNS, CaseRow, EventRow, TaskRow
from decisions.store.tasks import decode_tasks
from decisions.tasks import CaseTasks

__all__ = ["acted_in", "implementing", "search_cases"]

_CASES = CaseRow.__table__  # type: ignore[attr-defined]
_EVENTS = EventRow.__table__  # type: ignore[attr-defined]
_TASKS = TaskRow.__table__  # type: ignore[attr-defined]


def acted_in(conn: Connection, person: str, limit: int, offset: int) -> tuple[int, list[tuple[Any, StoredEvent]]]:
    """How many cases ``person`` acted in, and a page of them (their case rows with the person's last
    event in each), the most recent last action first (by its day, then when it was recorded)."""
    mine = _EVENTS.c.actor == person
    last = select(_EVENTS.c.case_id, func.max(_EVENTS.c.seq).label("seq")).where(mine).group_by(_EVENTS.c.case_id)
    lasts = last.subquery()
    total = int(conn.execute(select(func.count()).select_from(lasts)).scalar() or 0)
    query = (
        select(_CASES, *(c.label(f"e_{c.name}") for c in EVENT_COLUMNS))
        .join(lasts, lasts.c.case_id == _CASES.c.id)
        .join(_EVENTS, and_(_EVENTS.c.case_id == lasts.c.case_id, _EVENTS.c.seq == lasts.c.seq))
        .order_by(_EVENTS.c.happened_on.desc(), _EVENTS.c.recorded_at.desc(), _CASES.c.id)
        .limit(limit)
        .offset(offset)
    )
    out = []
    for row in conn.execute(query):
        event = StoredEvent(*(getattr(row, f"e_{c.name}") for c in EVENT_COLUMNS))
        out.append((row, event))
    return total, out


def _attribute(conn: Connection, name: str) -> ColumnElement[Any]:
    """The case attribute ``name`` as text (NULL when absent); on SQLite NULL for attributes that are
    not JSON at all (tampering: `decisions audit verify` reports it; a search passes it by)."""
    if conn.dialect.name == "postgresql":
        text: ColumnElement[Any] = cast(_CASES.c.attributes, JSONB)[name].astext
        return text
    path = '$."' + name + '"'  # a field name is an identifier (checked at load): nothing to escape
    valid = func.json_valid(_CASES.c.attributes) == 1
    return cast(case((valid, func.json_extract(_CASES.c.attributes, path)), else_=None), String)


def _criteria(conn: Connection, q: CaseQuery, first: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.workflows:
        where.append(_CASES.c.workflow.in_(list(q.workflows)))
    if q.states:
        where.append(_CASES.c.state.in_(list(q.states)))
    if q.title:
        where.append(_CASES.c.title.icontains(q.title, autoescape=True))
    if q.unit:
        by_unit = [
            and_(_CASES.c.workflow == wf, _attribute(conn, field).icontains(q.unit, autoescape=True))
            for wf, field in sorted(q.unit_fields.items())
        ]
        where.append(or_(*by_unit) if by_unit else false())
    if q.year is not None:
        held = sorted(q.year_fields.items())
        start_day = and_(
            _CASES.c.workflow.not_in([wf for wf, _ in held]),
            first.c.happened_on >= f"{q.year:04d}-01-01",
            first.c.happened_on < f"{q.year + 1:04d}-01-01",
        )
        by_field = [and_(_CASES.c.workflow == wf, _attribute(conn, field) == str(q.year)) for wf, field in held]
        where.append(or_(start_day, *by_field))
    if q.person:
        where.append(exists().where(_EVENTS.c.case_id == _CASES.c.id, _EVENTS.c.actor == q.person))
    if q.overdue_on is not None:
        day = q.overdue_on.isoformat()
        where.append(exists().where(_TASKS.c.case_id == _CASES.c.id, _TASKS.c.overdue_from < day))
    return where


def search_cases(conn: Connection, q: CaseQuery) -> tuple[int, list[tuple[Any, CaseTasks | None]]]:
    """How many cases meet every criterion of ``q``, and the page ``q`` asks for (the case rows with
    their inbox-table rows, if any), the most recently started first (then by id, descending)."""
    first = _EVENTS.alias("first")
    joined = _CASES.outerjoin(first, and_(first.c.case_id == _CASES.c.id, first.c.seq == 1))
    where = _criteria(conn, q, first)
    total = int(conn.execute(select(func.count()).select_from(joined).where(*where)).scalar() or 0)
    query = (
        select(_CASES)
        .select_from(joined)
        .where(*where)
        .order_by(first.c.happened_on.desc(), first.c.recorded_at.desc(), _CASES.c.id.desc())
        .limit(q.limit)
        .offset(q.offset)
    )
    rows = list(conn.execute(query))
    tasks = _tasks_of(conn, [r.id for r in rows])
    return total, [(r, tasks.get(r.id)) for r in rows]


def _tasks_of(conn: Connection, case_ids: Sequence[str]) -> dict[str, CaseTasks]:
    if not case_ids:
        return {}
    query = select(_TASKS).where(_TASKS.c.case_id.in_(list(case_ids))).order_by(_TASKS.c.case_id, _TASKS.c.role)
    return {t.case_id: t for t in decode_tasks(conn.execute(query))}


def implementing(conn: Connection, items: Sequence[str], workflows: Sequence[str]) -> list[Any]:
    """The case rows of ``workflows`` that implement one of ``items`` (by the catalogue-item index),
    by item, then id."""
    if not items or not workflows:
        return []
    query = (
        select(_CASES)
        .where(_CASES.c.catalogue_item.in_(list(items)), _CASES.c.workflow.in_(list(workflows)))
        .order_by(_CASES.c.catalogue_item, _CASES.c.id)
    )
    return list(conn.execute(query))
