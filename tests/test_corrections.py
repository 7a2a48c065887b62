"""Issue 13, item 3: mistakes can be corrected without rewriting history.

- An erratum (更正) is one more event of the case's chain: it corrects fields or the date of an
  earlier event, with a reason and by a role the workflow's ``corrections:`` section lets correct
  that record. The stored original is never changed; history and replay show both; the rules read
  the corrected value afterwards; a correction that would make the corrected step or any later one
  unlawful is refused with the article of the rule it would break, and writes nothing.
- The two findings of the issue, each on SQLite and PostgreSQL: a mistyped comment deadline
  (2025-09-14 for 2025-04-14; a year's slip such as 2062 is refused at entry) no longer traps the case (it is corrected, shortened, cancelled or the matter withdrawn), and a
  wrong ``--on`` date no longer blocks every later entry (an erratum of the date fixes it).
- Who may correct what is data, checked at load.

Extending, shortening and cancelling a consultation or a hearing, and withdrawing a matter, are in
tests/test_withdrawal_and_periods.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from decisions.definitions import Definitions
from decisions.errors import ActionRefused, ConflictError, DefinitionError, UsageError
from decisions.model import Action
from decisions.service.audit import AuditService
from decisions.service.cases import CaseService
from tests.stores import play
from tests.support import MAIN_PATH, PEOPLE, ROOT, Step, V, load_deployment_definitions, rule_ids

D = date
CASE = "D-2025-001"
OPEN = [s.trigger for s in MAIN_PATH].index(V("open_consultation"))
CLOSE = OPEN + 1
TYPO = D(2025, 9, 14)  # meant: 2025-04-14 (a year's slip, 2062, is refused at entry: tests/test_field_constraints.py)


def typo_deadline() -> list[Step]:
    """The main path up to the consultation, opened with a deadline typed as 2025-09-14 (meant 2025-04-14)."""
    steps = list(MAIN_PATH[: OPEN + 1])
    opening = steps[OPEN]
    steps[OPEN] = replace(opening, fields={**opening.fields, V("comment_deadline"): TYPO})
    return steps


def act(service: CaseService, step: Step, case_id: str = CASE) -> None:
    docs = tuple(service.attach(k, f"{case_id} {k} {step.on}".encode(), f"{k}.pdf") for k in step.docs)
    service.act(case_id, Action(step.trigger, PEOPLE[step.actor], step.on, dict(step.fields), docs))


def stored_bodies(service: CaseService, case_id: str = CASE) -> list[dict[str, object]]:
    return [json.loads(e.body) for e in service.repository.load(case_id)[1]]


# -- a mistyped comment deadline -----------------------------------------------------------------------


def test_a_mistyped_comment_deadline_traps_the_case_until_it_is_corrected(service: CaseService) -> None:
    """Before: closing is refused for five months. The organiser corrects the deadline of event #4 by an
    erratum (#5); the consultation then closes the day after the real deadline and the case goes on
    to the legality review. The stored opening still says 2025-09-14: nothing was rewritten."""
    play(service, CASE, typo_deadline())
    with pytest.raises(ActionRefused) as refused:
        act(service, MAIN_PATH[CLOSE])
    assert "national.consultation_ran_its_period" in rule_ids(refused.value)

    view = service.correct(
        CASE,
        corrects=OPEN + 1,
        actor=PEOPLE["clerk_li"],
        reason="截止日期笔误：9 月应为 4 月",
        fields={V("comment_deadline"): D(2025, 4, 14)},
    )
    assert view.version == OPEN + 2
    erratum = view.case.errata[-1]
    assert (erratum.seq, erratum.corrects, erratum.role) == (OPEN + 2, OPEN + 1, V("organiser"))
    assert erratum.was == {V("comment_deadline"): TYPO}
    opening = view.case.records[OPEN]
    assert opening.fields[V("comment_deadline")] == D(2025, 4, 14)
    assert opening.corrected_by == (OPEN + 2,)

    act(service, MAIN_PATH[CLOSE])
    act(service, MAIN_PATH[CLOSE + 1])
    assert service.view(CASE).case.state == V("legality_submitted")

    bodies = stored_bodies(service)
    assert bodies[OPEN]["fields"][V("comment_deadline")] == "2025-09-14"  # type: ignore[index]
    assert bodies[OPEN + 1]["trigger"] == "erratum"
    assert bodies[OPEN + 1]["erratum"]["was"] == {V("comment_deadline"): "2025-09-14"}  # type: ignore[index]

    audit = AuditService(service)
    assert audit.verify().ok
    replay = audit.replay(CASE)
    assert replay.ok
    step = replay.steps[OPEN + 1]
    assert "2025-09-14 → 2025-04-14" in step.correction and "笔误" in step.correction
    assert not any(s.flags for s in replay.steps)


def test_a_correction_that_would_make_a_later_step_unlawful_is_refused_with_its_article(
    service: CaseService,
) -> None:
    """Once the consultation closed on 2025-04-15, moving its deadline to 2025-04-20 would make the
    closing premature (Art. 15(1)): refused, naming the closing event, and nothing is written."""
    play(service, CASE, MAIN_PATH[: CLOSE + 1])
    before = service.view(CASE)
    with pytest.raises(ActionRefused) as refused:
        service.correct(
            CASE,
            corrects=OPEN + 1,
            actor=PEOPLE["clerk_li"],
            reason="延期",
            fields={V("comment_deadline"): D(2025, 4, 20)},
        )
    (unmet,) = refused.value.unmet
    assert unmet.rule_id == "national.consultation_ran_its_period"
    assert "第十五条第一款" in unmet.citation
    assert f"#{CLOSE + 1}" in unmet.message_en
    after = service.view(CASE)
    assert (after.version, after.head_hash) == (before.version, before.head_hash)


def test_a_correction_is_judged_by_the_rules_of_the_corrected_step_itself(service: CaseService) -> None:
    """A deadline corrected to a period under 30 days is refused as a first notice would be (一般不少于
    30日), unless the same erratum records the reason for the shorter period."""
    play(service, CASE, typo_deadline())
    short = {V("comment_deadline"): D(2025, 3, 25)}
    with pytest.raises(ActionRefused) as refused:
        service.correct(CASE, corrects=OPEN + 1, actor=PEOPLE["clerk_li"], reason="笔误", fields=short)
    assert rule_ids(refused.value) == {"national.comment_period_minimum"}
    view = service.correct(
        CASE,
        corrects=OPEN + 1,
        actor=PEOPLE["clerk_li"],
        reason="笔误",
        fields={**short, V("shortening_reason"): "汛期前须完成，公告已说明"},
    )
    assert view.case.records[OPEN].fields[V("shortening_reason")] == "汛期前须完成，公告已说明"


# -- a wrong --on date --------------------------------------------------------------------------------


def test_a_wrong_date_blocks_every_later_entry_until_an_erratum_of_the_date(service: CaseService) -> None:
    """The launch was entered as 2025-12-05 instead of 2025-03-05: the draft of 2025-03-10 is refused
    (events in order). The government office corrects the date of event #2; the draft is accepted,
    and verification (which checks the order of the stored days) still finds the history intact."""
    launch = [s.trigger for s in MAIN_PATH].index(V("launch"))
    steps = list(MAIN_PATH[: launch + 1])
    steps[launch] = replace(steps[launch], on=D(2025, 12, 5))
    play(service, CASE, steps)
    with pytest.raises(ActionRefused) as refused:
        act(service, MAIN_PATH[launch + 1])
    assert rule_ids(refused.value) == {"engine.date_order"}

    view = service.correct(
        CASE, corrects=launch + 1, actor=PEOPLE["office_chen"], reason="日期录入错误", on=D(2025, 3, 5)
    )
    assert view.case.records[launch].on == D(2025, 3, 5)
    assert view.case.errata[-1].was_on == D(2025, 12, 5)
    act(service, MAIN_PATH[launch + 1])
    act(service, MAIN_PATH[launch + 2])
    assert service.view(CASE).case.state == V("public_consultation")
    audit = AuditService(service)
    assert audit.verify().ok
    assert audit.replay(CASE).ok


def test_a_date_corrected_past_the_next_event_is_refused(service: CaseService) -> None:
    """Events stay in the order they happened: the draft (#3, 2025-03-10) cannot be moved after the
    consultation that followed it (#4, 2025-03-12), nor into the future."""
    play(service, CASE, MAIN_PATH[: OPEN + 1])
    with pytest.raises(ActionRefused) as refused:
        service.correct(CASE, corrects=OPEN, actor=PEOPLE["office_chen"], reason="x", on=D(2025, 3, 13))
    assert "engine.date_order" in rule_ids(refused.value)
    with pytest.raises(ActionRefused) as future:
        service.correct(CASE, corrects=OPEN + 1, actor=PEOPLE["office_chen"], reason="x", on=D(2027, 1, 1))
    assert rule_ids(future.value) == {"service.future_date"}
    assert service.view(CASE).version == OPEN + 1


# -- who may correct what -------------------------------------------------------------------------------


def test_only_the_roles_the_workflow_names_correct_only_the_fields_it_names(service: CaseService) -> None:
    play(service, CASE, typo_deadline())
    fix = {V("comment_deadline"): D(2025, 4, 14)}
    cases = [
        ("head_wang", OPEN + 1, fix, "笔误"),  # the head corrects nothing of the organiser's notice
        ("clerk_li", 1, {V("title"): "另一个标题"}, "笔误"),  # an attribute: reassessed, never corrected
        ("clerk_li", OPEN + 1, {V("channels"): ["website"], V("reason"): "x"}, "笔误"),  # not a field of it
        ("clerk_li", OPEN + 1, fix, "   "),  # no reason
    ]
    for actor, seq, fields, reason in cases:
        with pytest.raises(ActionRefused) as refused:
            service.correct(CASE, corrects=seq, actor=PEOPLE[actor], reason=reason, fields=fields)
        assert rule_ids(refused.value) == {"engine.correction"}, (actor, seq, fields)
        assert "第三十三条" in refused.value.unmet[0].citation  # a true, complete record (Art. 33)
    with pytest.raises(UsageError):
        service.correct(CASE, corrects=99, actor=PEOPLE["clerk_li"], reason="x", fields=fix)
    view = service.correct(CASE, corrects=OPEN + 1, actor=PEOPLE["clerk_li"], reason="笔误", fields=fix)
    with pytest.raises(UsageError, match="correction itself"):
        service.correct(CASE, corrects=view.case.errata[-1].seq, actor=PEOPLE["clerk_li"], reason="x", fields=fix)
    assert service.view(CASE).version == OPEN + 2


def test_corrections_are_declared_with_the_workflows_names_and_checked_at_load(tmp_path: Path) -> None:
    """Every role, trigger and field is the workflow's; an attribute, a field the transition sets itself
    or one it does not carry cannot be corrected; an entry corrects something; no workflow names a
    trigger ``erratum``: all reported at once, located."""
    tree = tmp_path / "tree"
    for part in ("workflows", "rules"):
        (tree / part).mkdir(parents=True)
        for f in (ROOT / part).iterdir():
            (tree / part / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (tree / "decisions.yaml").write_text((ROOT / "decisions.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    path = tree / "workflows" / "major_decision.yaml"
    text = path.read_text(encoding="utf-8")
    bad = """corrections:
  - roles: [nobody]
    happened_on: true
  - roles: [organiser]
    triggers: [no_such_action]
    fields: [title, no_such_field]
  - roles: [legal_counsel]
    triggers: [find_lawful]
    fields: [outcome]
  - roles: [organiser]
    triggers: [open_consultation]
    fields: [review_due]
  - roles: [organiser]
"""
    text = text.replace("corrections:\n", bad + "  - roles: [organiser]\n    happened_on: true\n", 1)
    text = text.replace("  - trigger: lapse\n", "  - trigger: erratum\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DefinitionError) as failed:
        load_deployment_definitions(tree / "decisions.yaml")
    messages = "\n".join(f"{p.path}: {p.message}" for p in failed.value.problems)
    for expected in (
        "unknown role 'nobody'",
        "unknown trigger 'no_such_action'",
        "field 'title' is a case attribute",
        "field 'outcome' is set by the transition itself",
        "unknown field 'no_such_field'",
        "field 'review_due' is not carried by open_consultation",
        "a correction names the fields it may correct",
        "trigger 'erratum' is reserved",
    ):
        assert expected in messages, (expected, messages)
    assert all(p.line for p in failed.value.problems if p.path.startswith("corrections"))


def test_who_may_correct_what_is_read_from_the_workflow(definitions: Definitions) -> None:
    """The organiser corrects its notices (fields and day), the government office only days (a meeting's
    views are never corrected), the head nothing of the organiser's notice."""
    wf = definitions.workflow(V("major_decision"))
    assert wf.corrections
    fields, on = wf.correctable({V("organiser")}, V("open_consultation"))
    assert V("comment_deadline") in fields and on
    assert wf.correctable({V("head")}, V("open_consultation")) == (frozenset(), False)
    assert wf.correctable({V("office_clerk")}, V("approve")) == (frozenset(), True)


def test_a_correction_against_a_version_that_moved_on_is_a_conflict_and_writes_nothing(
    service: CaseService,
) -> None:
    """As for an action: with the version the clerk looked at, a correction made after someone else
    acted is refused (exit 5 on the command line), so no one corrects a history they have not seen."""
    play(service, CASE, typo_deadline())
    seen = service.view(CASE).version
    service.correct(
        CASE, corrects=OPEN + 1, actor=PEOPLE["clerk_li"], reason="笔误", fields={V("comment_deadline"): D(2025, 4, 14)}
    )
    with pytest.raises(ConflictError):
        service.correct(
            CASE,
            corrects=OPEN + 1,
            actor=PEOPLE["clerk_he"],
            reason="笔误",
            fields={V("comment_deadline"): D(2025, 4, 15)},
            expected_version=seen,
        )
    view = service.view(CASE)
    assert view.version == seen + 1
    assert view.case.records[OPEN].fields[V("comment_deadline")] == D(2025, 4, 14)
