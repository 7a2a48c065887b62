"""The tasks of a case: who may act on it now, and the due dates each of them sees. Pure.

What the inbox table holds (`decisions.store`), derived from the case and the definitions alone and
written in the action's own transaction, so that an inbox is one indexed query. Nothing here depends
on today: a due date is stored, and whether it is overdue, or how many working days remain, is
computed when the inbox is read (`DueDate.deadline`).

One `TaskEntry` per role: each role that may fire a transition from the case's state (``acts``), and
each role that only sees one of its running deadlines (``seen_by``), so that the deadlines of a
person holding several roles are the union of their roles' entries, exactly those
`decisions.deadlines.case_deadlines` gives for the same roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from decisions.calendar import CountingPolicy, WorkCalendar
from decisions.deadlines import Deadline, due_date, remaining_days
from decisions.model import Case, Text
from decisions.rules.definitions import Parameter
from decisions.workflow.definition import WorkflowDef

__all__ = ["CaseTasks", "DueDate", "TaskEntry", "case_tasks", "merged_due_dates", "untitled"]


@dataclass(frozen=True)
class DueDate:
    """A running deadline as stored: its place among the workflow's ``deadlines:`` (their order),
    label, day, whether passing it is a lateness, and where the limit comes from."""

    index: int
    label: Text
    due: date
    counts_overdue: bool
    basis: str

    def deadline(self, today: date, calendar: WorkCalendar) -> Deadline:
        """The deadline as it stands on ``today``."""
        overdue = self.counts_overdue and today > self.due
        return Deadline(self.label, self.due, overdue, self.basis, remaining_days(calendar, today, self.due))


@dataclass(frozen=True)
class TaskEntry:
    """One role's part of a case's tasks: whether the role may act in the case's state, and the
    due dates it sees (in the workflow's order)."""

    role: str
    acts: bool
    due: tuple[DueDate, ...]

    @property
    def next_due(self) -> date | None:
        return min((d.due for d in self.due), default=None)

    @property
    def overdue_from(self) -> date | None:
        """The earliest due date whose passing is a lateness: the entry is overdue after it."""
        return min((d.due for d in self.due if d.counts_overdue), default=None)


def case_tasks(
    case: Case,
    workflow: WorkflowDef,
    params: Mapping[str, Parameter],
    calendar: WorkCalendar,
    policy: CountingPolicy | None = None,
) -> tuple[TaskEntry, ...]:
    """The entries of ``case`` under ``workflow`` (the deployment's definition of its workflow), by
    role name. A case in a final state has none; nor has one no role may act on."""
    state = workflow.states.get(case.state)
    if state is None or state.final:
        return ()
    acting = {r for t in workflow.transitions_from(case.state) for r in t.roles}
    if not acting:
        return ()
    policy = policy or CountingPolicy()
    running: list[tuple[tuple[str, ...], DueDate]] = []
    for index, spec in enumerate(workflow.deadlines.values()):
        if case.state not in spec.runs_in or not spec.applies(case.attributes):
            continue
        found = due_date(case, spec, params, calendar, policy)
        if found is not None:
            running.append((spec.seen_by, DueDate(index, spec.label, found[0], spec.overdue, found[1])))
    seeing = {r for seen_by, _ in running for r in seen_by}
    return tuple(
        TaskEntry(
            role,
            role in acting,
            tuple(d for seen_by, d in running if not seen_by or role in seen_by),
        )
        for role in sorted(acting | seeing)
    )


def merged_due_dates(entries: Iterable[Iterable[DueDate]]) -> tuple[DueDate, ...]:
    """The due dates of several roles' entries of one case, each once, in the workflow's order."""
    return tuple(sorted({d.index: d for due in entries for d in due}.values(), key=lambda d: d.index))


def untitled(wf: WorkflowDef, case: Case) -> str:
    """The title of a case with no title attribute: the workflow's label and the case's year (a
    catalogue: 重大行政决策事项年度目录 2025), or the label alone."""
    spec = wf.case
    year = case.attributes.get(spec.year_field, "") if spec is not None and spec.year_field else ""
    return f"{wf.label.zh} {year}".strip()


@dataclass(frozen=True)
class CaseTasks:
    """Everything the inbox table holds for one case: its entries, and what a task names (workflow,
    state, title, the version they were derived at, the fingerprint of the definitions that derived
    them)."""

    case_id: str
    workflow: str
    state: str
    title: str
    version: int
    derived: str
    entries: tuple[TaskEntry, ...]
