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

from sqlalchemy import Connection, bindparam, delete, or_, select, union_all
from sqlalchemy.dialects import postgresql

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
    """Replace the rows of ``case_id`` by ``tasks`` (none: the case has no task now). On PostgreSQL
    in one statement (one round trip): the rows of roles no longer there deleted in a CTE, the others
    inserted or updated in place."""
    rows = case_tasks_rows(tasks) if tasks is not None else []
    if rows and conn.dialect.name == "postgresql":
        gone = delete(TASKS).where(TASKS.c.case_id == case_id, TASKS.c.role.not_in([r["role"] for r in rows]))
        upsert = postgresql.insert(TASKS).values(rows)
        kept = {c.name: upsert.excluded[c.name] for c in TASKS.c if c.name not in ("case_id", "role")}
        conn.execute(upsert.on_conflict_do_update(index_elements=["case_id", "role"], set_=kept).add_cte(gone.cte()))
        return
    conn.execute(_DELETE, {"b_case": case_id})
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


def inbox_page(
    conn: Connection, roles: Sequence[str], workflows: Sequence[str], today: date, limit: int
) -> list[CaseTasks]:
    """The cases on which one of ``roles`` may act, at most ``limit`` of each workflow, the most
    urgent first: overdue, then by the earliest due date (undated last), then by id; a case's
    urgency is that of the roles in which the person may act on it (its acting rows), the rows of
    ``roles`` only. The candidates are read by the index on (role, acts, workflow, next_due) in its
    order: for each role and workflow the first ``limit`` overdue, dated and undated rows (a case
    among the first ``limit`` of a workflow is among the first ``limit`` of the role it ranks by),
    all in one statement; then the page's rows of ``roles``."""
    if not roles or not workflows:
        return []
    day = today.isoformat()
    parts = []
    for role in roles:
        for wf in workflows:
            mine = (TASKS.c.role == role, TASKS.c.acts == 1, TASKS.c.workflow == wf)
            overdue = TASKS.c.overdue_from < day
            parts += [
                select(*_KEY).where(*mine, overdue).order_by(TASKS.c.next_due, TASKS.c.case_id).limit(limit),
                select(*_KEY)
                .where(*mine, TASKS.c.next_due.is_not(None), or_(TASKS.c.overdue_from.is_(None), ~overdue))
                .order_by(TASKS.c.next_due, TASKS.c.case_id)
                .limit(limit),
                select(*_KEY).where(*mine, TASKS.c.next_due.is_(None)).order_by(TASKS.c.case_id).limit(limit),
            ]
    query = union_all(*(select(p.subquery()) for p in parts))
    best: dict[str, tuple[bool, str, str, str]] = {}
    for case_id, workflow, next_due, overdue_from in conn.execute(query):
        key = (not (overdue_from is not None and overdue_from < day), next_due or "9999-12-31", workflow, case_id)
        best[case_id] = min(best.get(case_id, key), key)
    page: list[str] = []
    per: dict[str, int] = {}
    for key in sorted(best.values()):
        per[key[2]] = per.get(key[2], 0) + 1
        if per[key[2]] <= limit:
            page.append(key[3])
    found = {
        t.case_id: t
        for chunk in range(0, len(page), 500)
        for t in decode_tasks(
            conn.execute(
                select(TASKS)
                .where(TASKS.c.case_id.in_(page[chunk : chunk + 500]), TASKS.c.role.in_(list(roles)))
                .order_by(TASKS.c.case_id, TASKS.c.role)
            )
        )
    }
    return [found[c] for c in page if c in found]


_KEY = (TASKS.c.case_id, TASKS.c.workflow, TASKS.c.next_due, TASKS.c.overdue_from)


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
