"""Due dates of a case, from its records, the rule packs' local limits and the calendar. Pure.

Deadlines are reminders and flags (overdue, 久拖不决), never gates: late work must still be
possible, and is recorded as late.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from decisions.calendar import CountingPolicy, Unit, WorkCalendar
from decisions.catalogue import CatalogueSpec, Item, versions
from decisions.errors import CalendarError
from decisions.model import Case, Record, Text
from decisions.rules.definitions import Parameter

__all__ = ["DECIDED_STATES", "Deadline", "case_deadlines", "late_catalogue_items", "planned_items_past_due"]

_RESEARCH_RUNS = ("drafting", "argumentation")
_TERMINAL = ("completed", "superseded", "terminated", "rejected", "withdrawn", "lapsed", "not_launched", "excluded")
DECIDED_STATES = (
    "decided",
    "published",
    "executing",
    "post_evaluation",
    "suspended",
    "completed",
    "superseded",
    "terminated",
    "archived",
    "rejected",
)


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


def _param_unit(param: Parameter) -> Unit:
    """The unit a limit is declared in (its ``unit`` text in the pack): calendar days by default."""
    text = param.unit.lower()
    for word, unit in (("working", Unit.WORKING), ("month", Unit.MONTH), ("year", Unit.YEAR)):
        if word in text:
            return unit
    return Unit.CALENDAR


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
    unit = _param_unit(param)
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


def case_deadlines(
    case: Case,
    params: Mapping[str, Parameter],
    calendar: WorkCalendar,
    today: date,
    policy: CountingPolicy | None = None,
) -> list[Deadline]:
    """The due dates that matter in the case's current state.

    A deadline is shown in the states it runs in; it *stops* when its completing event is on record
    (a completed deadline is no longer a reminder, so it is not shown, and is never overdue), and it
    *pauses* while the case waits on others, outside those states: the days away are added to it."""
    policy = policy or CountingPolicy()
    out: list[Deadline] = []
    state = case.state

    def add(label: Text, due_basis: tuple[date, str] | None, overdue_after: bool = True) -> None:
        if due_basis is None:
            return
        due, basis = due_basis
        remaining = None
        try:
            remaining = calendar.working_days_between(today, due) if due >= today else None
        except CalendarError:
            remaining = None
        out.append(Deadline(label, due, overdue_after and today > due, basis, remaining))

    if state in ("legality_submitted", "under_review", "supplement_requested"):
        sub = _latest(case, "review_submission")
        if sub is not None and "review_due" in sub.fields:
            add(
                Text("合法性审查期限", "legality review due"),
                (sub.fields["review_due"], "送审时确定 / set at submission"),
            )
    elif state == "public_consultation":
        notice = _latest(case, "open_consultation")
        if notice is not None:
            add(
                Text("征求意见截止（届满后结束征求意见）", "comment period ends (then close the consultation)"),
                (notice.fields["comment_deadline"], "征求意见公告 / consultation notice"),
                overdue_after=False,
            )
    elif state == "hearing_preparation":
        notice = _latest(case, "announce_hearing")
        if notice is not None:
            add(Text("听证日期", "hearing date"), (notice.fields["hearing_date"], "听证公告 / hearing notice"), False)
    elif state in _RESEARCH_RUNS:
        # The organiser's research and drafting (调研起草): runs in its own working states from the
        # launch, stops when the draft is on record (the first draft-changing action after the
        # launch, whatever the workflow calls it), pauses while the case waits on others.
        launch = _latest(case, "launch")
        if launch is not None and not any(r.changes_draft for r in _after(case, launch)):
            add(
                Text("立项后调研起草期限", "research deadline after launch"),
                _since(
                    launch.on,
                    params.get("research_deadline"),
                    calendar,
                    policy,
                    _paused_days(case, launch, _RESEARCH_RUNS),
                ),
            )
    elif state == "decided":
        meeting = _latest(case, "meeting")
        if meeting is not None:
            add(
                Text("决定后公布期限", "publication deadline"),
                _since(meeting.on, params.get("publication_deadline_days"), calendar, policy),
            )
    elif state == "deferred":
        meeting = _latest(case, "meeting")
        if meeting is not None:
            add(
                Text("暂缓期限（届满退出程序）", "deferral expires (then the matter leaves the procedure)"),
                _since(meeting.on, params.get("deferral_expiry"), calendar, policy),
                overdue_after=False,
            )
    elif state in _TERMINAL and case.records:
        add(
            Text("归档移交期限", "archive hand-over deadline"),
            _since(case.records[-1].on, params.get("archive_handover_days"), calendar, policy),
        )
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
    ``decided``: the ids of items some decision has reached a decision on (see `DECIDED_STATES`)."""
    return [
        (item, item.planned_by)
        for item in planned_items_past_due(catalogue, spec, today)
        if item.planned_by is not None and item.id not in decided
    ]
