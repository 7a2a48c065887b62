"""The inbox table's SQL (`TaskRow`): a case's rows written in its action's transaction, the inbox's
one query, the rebuild under another deployment's definitions, and the rows verification compares.

The ``meta`` row ``tasks`` names the definitions that derived the whole table; an inbox read under
other definitions rebuilds it first (`Repository.rebuild_tasks`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, func, or_, select

from decisions.model import Text
from decisions.store.tables import MetaRow, TaskRow
from decisions.tasks import CaseTasks, DueDate, TaskEntry

__all__ = ["TASKS_KEY", "case_tasks_rows", "decode_tasks", "inbox_page", "write_case_tasks"]

TASKS = TaskRow.__table__  # type: ignore[attr-defined]
_META = MetaRow.__table__  # type: ignore[attr-defined]
TASKS_KEY = "tasks"  # the meta row naming the definitions that derived the table
_DELETE = delete(TASKS).where(TASKS.c.case_id == bindparam("b_case"))
_INSERT = TASKS.insert()
_DERIVED = select(_META.c.value).where(_META.c.key == TASKS_KEY)


def _encode(due: Sequence[DueDate]) -> str:
    return json.dumps(
        [[d.index, d.label.zh, d.label.en, d.due.isoformat(), d.counts_overdue, d.basis] for d in due],
        ensure_ascii=False,
    )


def _decode(text: str) -> tuple[DueDate, ...]:
    return tuple(
        DueDate(int(i), Text(str(zh), str(en)), date.fromisoformat(str(due)), bool(counts), str(basis))
        for i, zh, en, due, counts, basis in json.loads(text)
    )


def case_tasks_rows(tasks: CaseTasks) -> list[dict[str, Any]]:
    """The rows of one case's tasks."""
    return [
        {
            "case_id": tasks.case_id,
            "role": e.role,
            "acts": int(e.acts),
            "workflow": tasks.workflow,
            "state": tasks.state,
            "title": tasks.title[:512],
            "version": tasks.version,
            "next_due": None if e.next_due is None else e.next_due.isoformat(),
            "overdue_from": None if e.overdue_from is None else e.overdue_from.isoformat(),
            "due": _encode(e.due),
            "derived": tasks.derived,
        }
        for e in tasks.entries
    ]


def write_case_tasks(conn: Connection, case_id: str, tasks: CaseTasks | None) -> None:
    """Replace the rows of ``case_id`` by ``tasks`` (none: the case has no task now)."""
    conn.execute(_DELETE, {"b_case": case_id})
    rows = case_tasks_rows(tasks) if tasks is not None else []
    if rows:
        conn.execute(_INSERT, rows)


def decode_tasks(rows: Iterable[Any]) -> list[CaseTasks]:
    """Rows (in case order, each case's rows together) as one `CaseTasks` per case."""
    out: list[CaseTasks] = []
    entries: list[TaskEntry] = []
    last: Any = None
    for r in rows:
        if last is not None and r.case_id != last.case_id:
            out.append(_case(last, entries))
            entries = []
        entries.append(TaskEntry(str(r.role), bool(r.acts), _decode(r.due)))
        last = r
    if last is not None:
        out.append(_case(last, entries))
    return out


def _case(row: Any, entries: list[TaskEntry]) -> CaseTasks:
    return CaseTasks(
        str(row.case_id), str(row.workflow), str(row.state), str(row.title), int(row.version), str(row.derived),
        tuple(entries),
    )  # fmt: skip


def derived_by(conn: Connection) -> str | None:
    value = conn.execute(_DERIVED).scalar()
    return None if value is None else str(value)


def set_derived_by(conn: Connection, fingerprint: str) -> None:
    if conn.execute(_DERIVED).first() is None:
        conn.execute(_META.insert().values(key=TASKS_KEY, value=fingerprint))
    else:
        conn.execute(_META.update().where(_META.c.key == TASKS_KEY).values(value=fingerprint))


def inbox_page(conn: Connection, roles: Sequence[str], today: date, limit: int) -> list[CaseTasks]:
    """The cases on which one of ``roles`` may act, at most ``limit`` of each workflow, the most
    urgent first (overdue, then by the earliest due date, undated last, then workflow and id), each
    with the rows of ``roles`` only. One statement: the index on (role, case) finds the rows, the
    grouping merges a person's roles, a window keeps ``limit`` per workflow."""
    wanted = TASKS.c.role.in_(list(roles))
    overdue_from, next_due = func.min(TASKS.c.overdue_from), func.min(TASKS.c.next_due)
    late = case((overdue_from < today.isoformat(), 0), else_=1)
    undated = case((next_due.is_(None), 1), else_=0)
    order = (late, undated, next_due, func.min(TASKS.c.workflow), TASKS.c.case_id)
    grouped = (
        select(
            TASKS.c.case_id,
            late.label("late"),
            undated.label("undated"),
            next_due.label("next_due"),
            func.min(TASKS.c.workflow).label("workflow"),
            func.row_number().over(partition_by=func.min(TASKS.c.workflow), order_by=order).label("rank"),
        )
        .where(wanted)
        .group_by(TASKS.c.case_id)
        .having(func.max(TASKS.c.acts) == 1)
        .subquery()
    )
    page = select(grouped).where(grouped.c.rank <= limit).subquery()
    query = (
        select(TASKS)
        .join(page, page.c.case_id == TASKS.c.case_id)
        .where(wanted)
        .order_by(page.c.late, page.c.undated, page.c.next_due, page.c.workflow, TASKS.c.case_id, TASKS.c.role)
    )
    return decode_tasks(conn.execute(query))


def differing(conn: Connection, expected: Mapping[str, CaseTasks | None]) -> set[str]:
    """Which of the cases of ``expected`` have rows other than those ``expected`` gives (every
    column compared, as stored)."""
    ids = sorted(expected)
    if not ids:
        return set()
    stored: dict[str, list[dict[str, Any]]] = {c: [] for c in ids}
    query = select(TASKS).where(TASKS.c.case_id.in_(ids)).order_by(TASKS.c.case_id, TASKS.c.role)
    for r in conn.execute(query).mappings():
        stored[str(r["case_id"])].append(dict(r))
    return {c for c in ids if stored[c] != (case_tasks_rows(t) if (t := expected[c]) is not None else [])}


def rows_without_case(conn: Connection, cases: Any, events: Any) -> list[str]:
    """Case ids that have task rows but no case row, or a case row without events."""
    orphan = or_(
        ~select(cases.c.id).where(cases.c.id == TASKS.c.case_id).exists(),
        ~select(events.c.id).where(events.c.case_id == TASKS.c.case_id).exists(),
    )
    return [str(r[0]) for r in conn.execute(select(TASKS.c.case_id).where(orphan).distinct())]


def rebuild(
    conn: Connection,
    fingerprint: str,
    cases: Iterator[tuple[Any, list[Any]]],
    derive: Callable[[Any, list[Any]], CaseTasks | None],
    batch: int = 2000,
) -> None:
    """Replace every row by what ``derive`` gives for each (case head, events) of ``cases``, and name
    ``fingerprint`` as the definitions that derived the table."""
    if conn.dialect.name == "postgresql":  # writers wait until the table is whole again
        conn.exec_driver_sql("LOCK TABLE tasks IN EXCLUSIVE MODE")
    conn.execute(delete(TASKS))
    rows: list[dict[str, Any]] = []
    for head, events in cases:
        found = derive(head, events)
        if found is not None:
            rows += case_tasks_rows(found)
        if len(rows) >= batch:
            conn.execute(_INSERT, rows)
            rows = []
    if rows:
        conn.execute(_INSERT, rows)
    set_derived_by(conn, fingerprint)
