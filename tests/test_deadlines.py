"""Deadlines are reminders: a deadline stops when its completing event is on record and pauses while
the case waits on others, so a case that is on time is never shown overdue.

The 攸县 research deadline (立项后调研起草期限, one month after the launch, to the corresponding day) runs while the
organiser works on the matter (drafting, argumentation), stops when the draft is on record, and
stands still while the case waits on others (outside those states). Periods are counted
as the Civil Code counts (《民法典》第二百零一条至第二百零三条).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from decisions.deadlines import Deadline, case_deadlines
from decisions.definitions import Definitions
from decisions.model import Record
from tests.support import MAIN_PATH, Story, V

D = date
RESEARCH = "research deadline after launch"


def research(definitions: Definitions, story: Story, today: date, **param_changes: object) -> Deadline | None:
    params = dict(definitions.rulebook.parameters)
    if param_changes:
        params["research_deadline"] = replace(params["research_deadline"], **param_changes)  # type: ignore[arg-type]
    found = [
        d
        for d in case_deadlines(
            story.case, story.engine.workflow, params, definitions.calendar, today, definitions.rulebook.counting
        )
        if d.label.en == RESEARCH
    ]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_case_that_did_nothing_after_its_launch_is_overdue_the_day_after_the_last_day(
    definitions: Definitions, story: Story
) -> None:
    """Launched 2025-03-05: 30 days counted from 03-06 end on 04-04, 清明 (04-04..04-06), so the last
    day is Monday 04-07; it runs to 24:00, and the case is overdue from 04-08."""
    story.walk(V("submit_draft"))
    assert story.case.state == V("drafting")
    on_the_day = research(definitions, story, D(2025, 4, 7))
    assert on_the_day is not None and on_the_day.due == D(2025, 4, 7) and not on_the_day.overdue
    late = research(definitions, story, D(2025, 4, 8))
    assert late is not None and late.due == D(2025, 4, 7) and late.overdue


def test_a_case_that_submitted_its_draft_within_the_period_is_not_overdue(
    definitions: Definitions, story: Story
) -> None:
    """The main path's draft is on record on 2025-03-10, five days after the launch: the reminder
    stops there. On 04-20 (in drafting) and on 05-20 (back in argumentation after the consultation),
    past the 04-07 the old reminder kept showing, nothing is overdue."""
    story.walk(V("open_consultation"))
    assert story.case.state == V("drafting")
    assert research(definitions, story, D(2025, 4, 20)) is None
    story.walk(V("submit_legality_review"), MAIN_PATH[len(story.case.records) :])
    assert story.case.state == V("argumentation")
    assert research(definitions, story, D(2025, 5, 20)) is None
    every = case_deadlines(
        story.case, story.engine.workflow, definitions.rulebook.parameters, definitions.calendar, D(2025, 5, 20)
    )
    assert not [d for d in every if d.overdue]


def test_a_case_waiting_on_the_review_past_the_date_is_not_overdue(definitions: Definitions, story: Story) -> None:
    """Submitted for legality review on 2025-04-16: on 06-01 the case waits on the reviewer, and the
    organiser's research deadline is not shown, let alone overdue. The reviewer returns the
    submission on 06-02 (materials incomplete): the case is back in argumentation, past every date,
    and still not overdue."""
    story.walk(V("accept_review"))
    assert story.case.state == V("legality_submitted")
    assert research(definitions, story, D(2025, 6, 1)) is None
    story.do(
        V("return_submission"), "counsel_zhao", D(2025, 6, 2), {V("reason"): "缺少程序说明"}, (V("return_notice"),)
    )
    assert story.case.state == V("argumentation")
    assert research(definitions, story, D(2025, 6, 3)) is None
    every = case_deadlines(
        story.case, story.engine.workflow, definitions.rulebook.parameters, definitions.calendar, D(2025, 6, 3)
    )
    assert not [d for d in every if d.overdue]


def test_the_days_a_case_waits_on_others_do_not_count(definitions: Definitions, story: Story) -> None:
    """Before its draft, a case that leaves the organiser's working states (drafting, argumentation)
    stops the clock until it returns. The shipped rules want the draft before anything else, so the
    history is built by hand: launched 03-05, away from 03-12 to 04-15 (34 days), back in
    argumentation without a draft. The last day moves from 04-07 to 05-08 (30 days from 04-08)."""
    story.walk(V("submit_draft"))
    launched = story.case.records[-1]

    def moved(seq: int, on: date, source: str, dest: str) -> Record:
        return replace(launched, seq=seq, trigger="move", kind="move", on=on, from_state=source, to_state=dest)

    away = moved(launched.seq + 1, D(2025, 3, 12), V("drafting"), V("public_consultation"))
    back = moved(launched.seq + 2, D(2025, 4, 15), V("public_consultation"), V("argumentation"))
    story.case = replace(story.case, state=V("argumentation"), records=(*story.case.records, away, back))
    now = research(definitions, story, D(2025, 4, 20))
    assert now is not None and now.due == D(2025, 5, 8) and not now.overdue
    assert "34" in now.basis
    later = research(definitions, story, D(2025, 5, 9))
    assert later is not None and later.overdue


def test_a_limit_declared_in_months_ends_on_the_corresponding_day(definitions: Definitions, story: Story) -> None:
    """Three months from 2025-03-05 end on 06-05 (《民法典》第二百零二条), not after 90 days (06-03)."""
    story.walk(V("submit_draft"))
    months = research(definitions, story, D(2025, 4, 1), value=3, unit="months")
    assert months is not None and months.due == D(2025, 6, 5)
    assert "3 个月" in months.basis and "3 months" in months.basis
    days = research(definitions, story, D(2025, 4, 1), value=90, unit="calendar days")
    assert days is not None and days.due == D(2025, 6, 3)
