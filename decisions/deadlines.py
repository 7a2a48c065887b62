"""Due dates of a case, from its records, the rule packs' local limits and the calendar. Pure.

Deadlines are reminders and flags (overdue, 久拖不决), never gates: late work must still be
possible, and is recorded as late.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from decisions.calendar import CountingPolicy, Unit, WorkCalendar
from decisions.catalogue import CatalogueSpec, Item, versions
from decisions.errors import CalendarError
from decisions.model import Case, Record, Text
from decisions.rules.definitions import Parameter
from decisions.workflow.definition import DeadlineSpec, WorkflowDef

__all__ = ["Deadline", "case_deadlines", "due_date", "late_catalogue_items", "planned_items_past_due", "remaining_days"]


@dataclass(frozen=True)
class Deadline:
    """One due date: what, when, whether it has passed, and where the limit comes from."""

    label: Text
    due: date
    overdue: bool
    basis: str = ""
    remaining_working_days: int | None = None


def _latest(case: Case, kind: str) -> Record | None:
    return next((r for r in reversed(case.records) if r.kind == kind), None)


def _entered(case: Case) -> Record | None:
    """The record by which the case entered its current state (a stay in it does not re-enter it)."""
    return next((r for r in reversed(case.records) if r.to_state == case.state and r.from_state != case.state), None)


_UNIT_TEXT = {
    Unit.CALENDAR: ("日", "days"),
    Unit.WORKING: ("个工作日", "working days"),
    Unit.MONTH: ("个月", "months"),
    Unit.YEAR: ("年", "years"),
}


def _since(
    start: date,
    param: Parameter | None,
    calendar: WorkCalendar,
    policy: CountingPolicy,
    paused: int = 0,
) -> tuple[date, str] | None:
    """The end of the period ``param`` from ``start``, extended by ``paused`` days the clock stood still."""
    if param is None or not isinstance(param.value, int) or isinstance(param.value, bool) or param.value < 1:
        return None
    unit = param.period
    if unit is None:  # not a period (the loader refuses such a length; a caller's own parameters may not)
        return None
    shifted = start + timedelta(days=paused)
    try:
        due = calendar.period_end(shifted, param.value, unit, policy)
    except CalendarError:
        due = shifted + timedelta(days=param.value)
    zh, en = _UNIT_TEXT[unit]
    basis = f"{param.label.zh} {param.value} {zh} / {param.label.en} {param.value} {en}: {param.provenance()}"
    if paused:
        basis += f"; 等待他方期间不计 {paused} 日 / {paused} days waiting on others not counted"
    return due, basis


def _paused_days(case: Case, start: Record, running: tuple[str, ...]) -> int:
    """Days after ``start`` the case spent outside the ``running`` states: waiting on others (the
    public, experts, assessors, reviewers), when the clock of a deadline that runs in ``running``
    stands still. (A stretch still open does not matter: the deadline is not shown meanwhile.)"""
    paused = 0
    left: date | None = None
    for r in _after(case, start):
        if left is None and r.from_state in running and r.to_state not in running:
            left = r.on
        elif left is not None and r.to_state in running:
            paused += (r.on - left).days
            left = None
    return paused


def _after(case: Case, record: Record) -> tuple[Record, ...]:
    """The records after ``record`` (one of the case's)."""
    index = next(i for i, r in enumerate(case.records) if r is record)
    return tuple(case.records[index + 1 :])


def _due_basis(
    case: Case, spec: DeadlineSpec, params: Mapping[str, Parameter], calendar: WorkCalendar, policy: CountingPolicy
) -> tuple[date, str] | None:
    """When ``spec`` falls due for ``case`` and why, or ``None`` when it does not run (yet, or any more)."""
    if spec.due_record:
        written = _latest(case, spec.due_record)
        value = written.fields.get(spec.due_field) if written is not None else None
        if not isinstance(value, date):
            return None
        return value, f"{spec.basis.zh} / {spec.basis.en}" if spec.basis is not None else ""
    start = _entered(case) if spec.from_entered else _latest(case, spec.from_record)
    if start is None:
        return None
    if spec.stops_on_draft_change and any(r.changes_draft for r in _after(case, start)):
        return None  # completed: the draft is on record
    paused = _paused_days(case, start, spec.runs_in) if spec.pauses_outside else 0
    return _since(start.on, params.get(spec.length), calendar, policy, paused)


def due_date(
    case: Case, spec: DeadlineSpec, params: Mapping[str, Parameter], calendar: WorkCalendar, policy: CountingPolicy
) -> tuple[date, str] | None:
    """When ``spec`` falls due for ``case`` and why, or ``None`` when it does not run (yet, or any
    more). It does not depend on today: what is stored for the inbox (`decisions.tasks`)."""
    return _due_basis(case, spec, params, calendar, policy)


def remaining_days(calendar: WorkCalendar, today: date, due: date) -> int | None:
    """Working days from ``today`` to ``due`` (``None`` once it has passed, or beyond the calendar)."""
    try:
        return calendar.working_days_between(today, due) if due >= today else None
    except CalendarError:
        return None


def case_deadlines(
    case: Case,
    workflow: WorkflowDef,
    params: Mapping[str, Parameter],
    calendar: WorkCalendar,
    today: date,
    policy: CountingPolicy | None = None,
    roles: Collection[str] | None = None,
) -> list[Deadline]:
    """The due dates that matter in the case's current state, as ``workflow`` declares them (in the
    order declared), for someone holding ``roles`` (``None``: every deadline, whoever sees it).

    A deadline is shown in the states it runs in; it *stops* when its completing event is on record
    (a completed deadline is no longer a reminder, so it is not shown, and is never overdue), and it
    *pauses* while the case waits on others, outside those states: the days away are added to it."""
    policy = policy or CountingPolicy()
    out: list[Deadline] = []
    for spec in workflow.deadlines.values():
        if case.state not in spec.runs_in or not spec.seen(roles) or not spec.applies(case.attributes):
            continue
        found = _due_basis(case, spec, params, calendar, policy)
        if found is None:
            continue
        due, basis = found
        out.append(Deadline(spec.label, due, spec.overdue and today > due, basis, remaining_days(calendar, today, due)))
    return out


def planned_items_past_due(catalogue: Case, spec: CatalogueSpec | None, today: date) -> list[Item]:
    """Items of the catalogue's latest published version whose planned deadline has passed."""
    published = [v for v in versions(catalogue, spec) if v.published_on is not None]
    if not published:
        return []
    return [item for item in published[-1].items if item.planned_by is not None and item.planned_by < today]


def late_catalogue_items(
    catalogue: Case, spec: CatalogueSpec | None, decided: set[str], today: date
) -> list[tuple[Item, date]]:
    """Items past their planned deadline on which no decision has been taken (久拖不决).
    ``decided``: the ids of items some decision has reached a decision on (in a state its workflow
    flags ``decision_taken``)."""
    return [
        (item, item.planned_by)
        for item in planned_items_past_due(catalogue, spec, today)
        if item.planned_by is not None and item.id not in decided
    ]
