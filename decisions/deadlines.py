"""Due dates of a case, from its records, the rule packs' local limits and the calendar. Pure.

Deadlines are reminders and flags (overdue, 久拖不决), never gates: late work must still be
possible, and is recorded as late.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from decisions.calendar import CountingPolicy, Unit, WorkCalendar
from decisions.catalogue import Item, versions
from decisions.errors import CalendarError
from decisions.model import Case, Record, Text
from decisions.rules.definitions import Parameter

__all__ = ["DECIDED_STATES", "Deadline", "case_deadlines", "late_catalogue_items", "planned_items_past_due"]

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


def _since(
    start: date, param: Parameter | None, calendar: WorkCalendar, policy: CountingPolicy
) -> tuple[date, str] | None:
    if param is None or not isinstance(param.value, int):
        return None
    try:
        due = calendar.period_end(start, param.value, Unit.CALENDAR, policy)
    except CalendarError:
        due = start + timedelta(days=param.value)
    return due, f"{param.label.zh} {param.value} 日 / {param.label.en}: {param.provenance()}"


def case_deadlines(
    case: Case,
    params: Mapping[str, Parameter],
    calendar: WorkCalendar,
    today: date,
    policy: CountingPolicy | None = None,
) -> list[Deadline]:
    """The due dates that matter in the case's current state."""
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
    elif state in ("drafting", "argumentation"):
        launch = _latest(case, "launch")
        if launch is not None:
            add(
                Text("立项后调研起草期限", "research deadline after launch"),
                _since(launch.on, params.get("research_deadline_days"), calendar, policy),
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
                _since(meeting.on, params.get("deferral_expiry_days"), calendar, policy),
                overdue_after=False,
            )
    elif state in _TERMINAL and case.records:
        add(
            Text("归档移交期限", "archive hand-over deadline"),
            _since(case.records[-1].on, params.get("archive_handover_days"), calendar, policy),
        )
    return out


def planned_items_past_due(catalogue: Case, today: date) -> list[Item]:
    """Items of the catalogue's latest published version whose planned deadline has passed."""
    published = [v for v in versions(catalogue) if v.published_on is not None]
    if not published:
        return []
    return [item for item in published[-1].items if item.planned_by is not None and item.planned_by < today]


def late_catalogue_items(catalogue: Case, decided: set[str], today: date) -> list[tuple[Item, date]]:
    """Items past their planned deadline on which no decision has been taken (久拖不决).
    ``decided``: the ids of items some decision has reached a decision on (see `DECIDED_STATES`)."""
    return [
        (item, item.planned_by)
        for item in planned_items_past_due(catalogue, today)
        if item.planned_by is not None and item.id not in decided
    ]
