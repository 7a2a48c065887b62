"""The deadlines a workflow declares (its ``deadlines:`` section), the states where a matter counts as
decided (``decision_taken``), who sees late catalogue items (``inbox:``), and one inbox across every
loaded workflow.

What a deadline is (its states, its record and field or its pack parameter, who sees it) is written
in the YAML and checked at load: a misspelt or renamed name is a located error, never a deadline
that silently disappears from ``show``; renaming consistently keeps the same deadline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decisions.cli import app
from decisions.deadlines import case_deadlines
from decisions.definitions import Definitions
from decisions.errors import DefinitionError, Problem
from decisions.loading import load_definitions
from decisions.loading.schema import schema_text
from decisions.model import Action, Actor
from decisions.rules.definitions import ParamUnit
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import play, play_catalogue
from tests.support import MAIN_PATH, Step, Story

ROOT = Path(__file__).resolve().parent.parent
PACK_NAMES = ("national.yaml", "hunan.yaml", "youxian.yaml")
D = date

Edits = dict[str, Sequence[tuple[str, str]]]
"""File name (``major_decision.yaml``, ``youxian.yaml`` ...) → (old text, new text) replacements."""


def copied_tree(tmp: Path, edits: Edits | None = None, rename: dict[str, str] | None = None) -> Path:
    """The shipped workflows and packs copied under ``tmp``, each ``edits`` applied once (the old text
    must be there) and each ``rename`` applied as a whole word to every file."""
    for folder in ("workflows", "rules"):
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        for source in (ROOT / folder).glob("*.yaml"):
            text = source.read_text(encoding="utf-8")
            for old, new in (edits or {}).get(source.name, ()):
                assert text.count(old) == 1, (source.name, old)
                text = text.replace(old, new)
            for old, new in (rename or {}).items():
                text = re.sub(rf"\b{re.escape(old)}\b", new, text)
            (tmp / folder / source.name).write_text(text, encoding="utf-8")
    return tmp


def tree_definitions(tree: Path, workflows: Sequence[Path] = (), packs: Sequence[Path] = ()) -> Definitions:
    return load_definitions(
        [tree / "workflows" / "major_decision.yaml", tree / "workflows" / "catalogue.yaml", *workflows],
        [*(tree / "rules" / n for n in PACK_NAMES), *packs],
        tree / "rules" / "calendar.yaml",
    )


def refused(tmp: Path, edits: Edits) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        tree_definitions(copied_tree(tmp, edits))
    return list(caught.value.problems)


def line_of(tree: Path, file: str, line: str) -> int:
    folder = "rules" if file in PACK_NAMES else "workflows"
    lines = (tree / folder / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.rstrip() == line)


# ------------------------------------------------------------------------------------------------
# Every bad form is refused, located on its key
# ------------------------------------------------------------------------------------------------
MAJOR = "major_decision.yaml"
REVIEW_DUE = "    due: {record: review_submission, field: review_due}\n"
REVIEW_BASIS = "    basis: {zh: 送审时确定, en: set at submission}\n"
HEARING_BASIS = "    basis: {zh: 听证公告, en: hearing notice}\n"


@dataclass(frozen=True)
class Bad:
    name: str
    file: str
    old: str
    new: str
    path: str
    message: str
    line: str  # the line the problem is located on, as it reads in the broken file


BAD = [
    Bad(
        "unknown_state",
        MAJOR,
        "    runs_in: [public_consultation]\n",
        "    runs_in: [public_consulting]\n",
        "deadlines.comment_period.runs_in[0]",
        "unknown state 'public_consulting'",
        "    runs_in: [public_consulting]",
    ),
    Bad(
        "unknown_role",
        MAJOR,
        REVIEW_DUE,
        REVIEW_DUE + "    seen_by: [mayor]\n",
        "deadlines.legality_review.seen_by[0]",
        "unknown role 'mayor'",
        "    seen_by: [mayor]",
    ),
    Bad(
        "unknown_record_kind_of_a_due_date",
        MAJOR,
        REVIEW_DUE,
        "    due: {record: review_sent, field: review_due}\n",
        "deadlines.legality_review.due.record",
        "unknown record kind 'review_sent'",
        "    due: {record: review_sent, field: review_due}",
    ),
    Bad(
        "unknown_record_kind_a_period_runs_from",
        MAJOR,
        "    from: {record: launch}\n",
        "    from: {record: lunch}\n",
        "deadlines.research.from.record",
        "unknown record kind 'lunch'",
        "    from: {record: lunch}",
    ),
    Bad(
        "a_period_from_neither_a_record_nor_entered",
        MAJOR,
        "    from: {record: launch}\n",
        "    from: launch\n",
        "deadlines.research.from",
        "expected {record: <record kind>} or 'entered'",
        "    from: launch",
    ),
    Bad(
        "unknown_field",
        MAJOR,
        REVIEW_DUE,
        "    due: {record: review_submission, field: review_date}\n",
        "deadlines.legality_review.due.field",
        "unknown field 'review_date'",
        "    due: {record: review_submission, field: review_date}",
    ),
    Bad(
        "a_due_field_that_is_not_a_date",
        MAJOR,
        REVIEW_DUE,
        "    due: {record: review_submission, field: short_review_reason}\n",
        "deadlines.legality_review.due.field",
        "field 'short_review_reason' is a text field, not a date",
        "    due: {record: review_submission, field: short_review_reason}",
    ),
    Bad(
        "a_due_field_the_record_never_carries",
        MAJOR,
        REVIEW_DUE,
        "    due: {record: review_submission, field: hearing_date}\n",
        "deadlines.legality_review.due.field",
        "no transition recording 'review_submission' carries field 'hearing_date'",
        "    due: {record: review_submission, field: hearing_date}",
    ),
    Bad(
        "applies_to_an_unknown_field",
        MAJOR,
        REVIEW_DUE,
        REVIEW_DUE + "    applies_to: {field: kind_of_matter, values: [plan]}\n",
        "deadlines.legality_review.applies_to.field",
        "unknown field 'kind_of_matter'",
        "    applies_to: {field: kind_of_matter, values: [plan]}",
    ),
    Bad(
        "applies_to_a_field_that_is_no_enum_attribute",
        MAJOR,
        REVIEW_DUE,
        REVIEW_DUE + "    applies_to: {field: outcome, values: [lawful]}\n",
        "deadlines.legality_review.applies_to.field",
        "field 'outcome' is no enum attribute of the case",
        "    applies_to: {field: outcome, values: [lawful]}",
    ),
    Bad(
        "applies_to_a_value_the_field_does_not_have",
        MAJOR,
        REVIEW_DUE,
        REVIEW_DUE + "    applies_to: {field: category, values: [plan, budget]}\n",
        "deadlines.legality_review.applies_to.values[1]",
        "'budget' is not a value of 'category'",
        "    applies_to: {field: category, values: [plan, budget]}",
    ),
    Bad(
        "both_due_and_length",
        MAJOR,
        REVIEW_BASIS,
        REVIEW_BASIS + "    length: research_deadline\n",
        "deadlines.legality_review",
        "exactly one of 'due'",
        "  legality_review:",
    ),
    Bad(
        "neither_due_nor_length",
        MAJOR,
        "    due: {record: announce_hearing, field: hearing_date}\n",
        "",
        "deadlines.hearing",
        "exactly one of 'due'",
        "  hearing:",
    ),
    Bad(
        "stops_on_a_due_date",
        MAJOR,
        HEARING_BASIS,
        HEARING_BASIS + "    stops: draft_change\n",
        "deadlines.hearing.stops",
        "'stops' belongs to a period ('length')",
        "    stops: draft_change",
    ),
    Bad(
        "pauses_outside_on_a_due_date",
        MAJOR,
        HEARING_BASIS,
        HEARING_BASIS + "    pauses_outside: true\n",
        "deadlines.hearing.pauses_outside",
        "'pauses_outside' belongs to a period ('length')",
        "    pauses_outside: true",
    ),
    Bad(
        "unknown_key",
        MAJOR,
        HEARING_BASIS,
        HEARING_BASIS + "    colour: red\n",
        "deadlines.hearing.colour",
        "unknown key 'colour'",
        "    colour: red",
    ),
    Bad(
        "stops_on_something_else",
        MAJOR,
        "    stops: draft_change\n",
        "    stops: signature\n",
        "deadlines.research.stops",
        "stops must be one of draft_change, found 'signature'",
        "    stops: signature",
    ),
    Bad(
        "a_length_no_pack_defines",
        MAJOR,
        "    length: archive_handover_days\n    local: true\n",
        "    length: archive_handover_dayz\n",
        "deadlines.archive_handover.length",
        "unknown parameter 'archive_handover_dayz'",
        "    length: archive_handover_dayz",
    ),
    Bad(
        "a_length_that_is_a_setting",
        MAJOR,
        "    length: research_deadline\n",
        "    length: legality_review_department\n",
        "deadlines.research.length",
        "parameter 'legality_review_department' is a setting, not a maximum or minimum period",
        "    length: legality_review_department",
    ),
    Bad(
        "a_length_that_counts_experts",
        MAJOR,
        "    length: research_deadline\n",
        "    length: expert_min_count\n",
        "deadlines.research.length",
        "parameter 'expert_min_count' is counted in 'experts', not in a period",
        "    length: expert_min_count",
    ),
    Bad(
        "decision_taken_that_is_not_a_boolean",
        MAJOR,
        "decision_taken: true, stage: collective_discussion",
        "decision_taken: yes, stage: collective_discussion",
        "states.decided.decision_taken",
        "expected true or false",
        "  decided: {label: {zh: 集体讨论通过, en: Decided}, decision_taken: yes, stage: collective_discussion, "
        "approval: true}",
    ),
    Bad(
        "late_items_seen_by_an_unknown_role",
        "catalogue.yaml",
        "  late_items_seen_by: [office_clerk, head, auditor]\n",
        "  late_items_seen_by: [office_clerk, mayor]\n",
        "inbox.late_items_seen_by[1]",
        "unknown role 'mayor'",
        "  late_items_seen_by: [office_clerk, mayor]",
    ),
    Bad(
        "a_pack_parameter_in_an_unknown_unit",
        "youxian.yaml",
        "    value: 1\n    unit: months\n",
        "    value: 1\n    unit: moons\n",
        "parameters.research_deadline.unit",
        "unit must be one of calendar days, working days, months, years, experts, yuan, found 'moons'",
        "    unit: moons",
    ),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_each_bad_form_is_refused_on_its_file_line_and_key(tmp_path: Path, bad: Bad) -> None:
    problems = refused(tmp_path, {bad.file: [(bad.old, bad.new)]})
    folder = "rules" if bad.file in PACK_NAMES else "workflows"
    at = [p for p in problems if p.path == bad.path]
    assert len(at) == 1, problems  # one message, not one from the schema and another from the reader
    assert bad.message in at[0].message, at[0]
    assert at[0].file == str(tmp_path / folder / bad.file)
    assert at[0].line == line_of(tmp_path, bad.file, bad.line)


def test_every_problem_of_the_deadlines_is_reported_at_once(tmp_path: Path) -> None:
    chosen = [b for b in BAD if b.name in ("unknown_state", "unknown_field", "a_length_no_pack_defines")]
    late = next(b for b in BAD if b.name == "late_items_seen_by_an_unknown_role")
    problems = refused(tmp_path, {MAJOR: [(b.old, b.new) for b in chosen], late.file: [(late.old, late.new)]})
    assert {b.path for b in [*chosen, late]} <= {p.path for p in problems}


def test_the_shipped_units_are_typed_at_load(definitions: Definitions) -> None:
    """No code reads a unit out of English text: the pack's unit is a closed, typed value."""
    params = definitions.rulebook.parameters
    assert params["research_deadline"].period is not None and params["research_deadline"].period.value == "month"
    assert params["legality_review_working_days"].period is not None
    assert params["expert_min_count"].period is None  # a count of experts is no period


# ------------------------------------------------------------------------------------------------
# Local lengths: a deployment whose packs do not set one has no such deadline
# ------------------------------------------------------------------------------------------------
def test_without_a_county_pack_a_local_deadline_does_not_run(definitions: Definitions) -> None:
    """Nationally the Decree sets no research period; national + Hunan load, and the launched case
    shows no research deadline (the county deployment shows one)."""
    bare = load_definitions(
        [ROOT / "workflows" / "major_decision.yaml", ROOT / "workflows" / "catalogue.yaml"],
        [ROOT / "rules" / "national.yaml", ROOT / "rules" / "hunan.yaml"],
    )
    for defs, expected in ((bare, []), (definitions, ["research deadline after launch"])):
        story = Story(defs).walk("submit_draft")
        found = case_deadlines(
            story.case, story.engine.workflow, defs.rulebook.parameters, defs.calendar, D(2025, 3, 6)
        )
        assert [d.label.en for d in found] == expected


ARCHIVE_PARAMETER = (
    "  archive_handover_days:\n"
    "    kind: maximum\n"
    "    value: 30\n"
    "    unit: calendar days\n"
    "    label: {zh: 决策办结后归档移交期限, en: archive hand-over deadline}\n"
    "    citation: {source: shenzhen_practice, article: 办结后30日内移交归档, article_en: hand-over within 30 days of "
    "completion}\n"
)


def test_a_local_length_the_packs_do_not_set_is_no_deadline_and_a_required_one_is_refused(tmp_path: Path) -> None:
    """A county whose pack sets no archive hand-over period: a proposal the head declines shows no
    hand-over deadline (the shipped county's shows one). Were the length not declared ``local``,
    that deployment would not load."""
    unset = {"youxian.yaml": [(ARCHIVE_PARAMETER, "")]}
    for defs, expected in (
        (tree_definitions(copied_tree(tmp_path / "local", unset)), []),
        (tree_definitions(copied_tree(tmp_path / "shipped")), ["archive hand-over deadline"]),
    ):
        story = Story(defs).walk("launch").do("decline", "head_wang", D(2025, 3, 5), {"reason": "条件不成熟"})
        assert story.case.state == "not_launched"
        params = defs.rulebook.parameters
        found = case_deadlines(story.case, story.engine.workflow, params, defs.calendar, D(2025, 3, 6))
        assert [d.label.en for d in found] == expected
    required = {
        **unset,
        MAJOR: [("    length: archive_handover_days\n    local: true\n", "    length: archive_handover_days\n")],
    }
    problems = refused(tmp_path / "required", required)
    assert [p.path for p in problems if "unknown parameter 'archive_handover_days'" in p.message] == [
        "deadlines.archive_handover.length"
    ]


# ------------------------------------------------------------------------------------------------
# seen_by and decision_taken (pure)
# ------------------------------------------------------------------------------------------------
def test_a_deadline_seen_by_a_role_is_listed_only_for_that_role(tmp_path: Path) -> None:
    defs = tree_definitions(
        copied_tree(tmp_path, {MAJOR: [(REVIEW_DUE, REVIEW_DUE + "    seen_by: [legal_counsel]\n")]})
    )
    story = Story(defs).walk("give_legal_opinion")
    assert story.case.state == "under_review"

    def seen(roles: set[str] | None) -> list[str]:
        params = defs.rulebook.parameters
        return [
            d.label.en
            for d in case_deadlines(
                story.case, story.engine.workflow, params, defs.calendar, D(2025, 5, 6), roles=roles
            )
        ]

    assert seen({"legal_counsel"}) == ["legality review due"]
    assert seen({"organiser", "proposer"}) == []
    assert seen(None) == ["legality review due"]  # unfiltered: the office's own view


def test_the_decided_states_are_the_flagged_ones(definitions: Definitions) -> None:
    """Where a major decision counts as decided (久拖不决 and the annual figures): from the meeting's
    approval on, and a rejection; not while it is still being prepared, deferred or withdrawn."""
    decided = definitions.workflow("major_decision").decided_states
    assert {"decided", "published", "executing", "rejected", "archived"} <= decided
    assert not {"proposed", "drafting", "under_review", "in_discussion", "deferred", "withdrawn"} & decided


# ------------------------------------------------------------------------------------------------
# The probe: renamed consistently, the overdue review deadline is still shown
# ------------------------------------------------------------------------------------------------
RENAMES = {
    "review_submission": "submission_for_review",
    "review_due": "review_deadline_date",
    "research_deadline": "drafting_period",
}
AFTER_ACCEPT = [s.trigger for s in MAIN_PATH].index("accept_review") + 1


def renamed_steps(steps: Sequence[Step], rename: dict[str, str]) -> tuple[Step, ...]:
    return tuple(replace(s, fields={rename.get(k, k): v for k, v in s.fields.items()}) for s in steps)


def clock_at(day: date) -> Callable[[], datetime]:
    return lambda: datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    db = Database(database_url, documents=tmp_path / "documents")
    db.migrate()
    yield db
    db.dispose()


@pytest.mark.parametrize("vocabulary", ["shipped", "renamed"])
def test_a_renamed_record_field_and_parameter_keep_the_overdue_review_deadline_in_show(
    database: Database, tmp_path: Path, vocabulary: str
) -> None:
    """Submitted on 2025-04-16 with the review due 04-30 and accepted on 04-17: on 05-06 ``show``
    marks the review overdue, whatever the submission's record kind, the due-date field and the
    research period's parameter are called, as long as the YAML calls them the same everywhere."""
    rename = RENAMES if vocabulary == "renamed" else {}
    defs = tree_definitions(copied_tree(tmp_path / "tree", rename=rename))
    office = Office(database, defs, clock=clock_at(D(2025, 5, 6)))
    play_catalogue(office.cases, "2025-03")
    play(office.cases, "D-2025-001", renamed_steps(MAIN_PATH[:AFTER_ACCEPT], rename))
    shown = office.show("D-2025-001").deadlines
    assert [(d.label.en, d.due, d.overdue, d.basis) for d in shown] == [
        ("legality review due", D(2025, 4, 30), True, "送审时确定 / set at submission")
    ]
    research = Story(defs).walk("submit_draft")
    params = defs.rulebook.parameters
    [period] = case_deadlines(research.case, research.engine.workflow, params, defs.calendar, D(2025, 4, 8))
    assert (period.label.en, period.due, period.overdue) == ("research deadline after launch", D(2025, 4, 7), True)


# ------------------------------------------------------------------------------------------------
# Late catalogue items: the flagged states and the roles the catalogue names
# ------------------------------------------------------------------------------------------------
AFTER_APPROVE = [s.trigger for s in MAIN_PATH].index("approve") + 1


@pytest.mark.parametrize("flagged", [True, False], ids=["decided_flagged", "decided_not_flagged"])
def test_an_item_whose_decision_is_taken_is_not_late(database: Database, tmp_path: Path, flagged: bool) -> None:
    """Item 2025-03 is planned by 2025-06-30; its decision was approved at the meeting on 05-06. On
    07-10 it is not late where the YAML flags ``decided`` as ``decision_taken``; a copy that does not
    flag it, and shows late items to legal counsel instead, lists it as 久拖不决 to counsel alone."""
    edits: Edits = {}
    if not flagged:
        edits = {
            MAJOR: [("decision_taken: true, stage: collective_discussion", "stage: collective_discussion")],
            "catalogue.yaml": [("[office_clerk, head, auditor]", "[legal_counsel]")],
        }
    office = Office(database, tree_definitions(copied_tree(tmp_path / "tree", edits)), clock=clock_at(D(2025, 7, 10)))
    play_catalogue(office.cases, "2025-03")
    play(office.cases, "D-2025-001", MAIN_PATH[:AFTER_APPROVE])
    assert office.cases.view("D-2025-001").case.state == "decided"
    office.users.add("王县长", ["head"], unit="县人民政府")
    office.users.add("赵律师", ["legal_counsel"], unit="县司法局")
    late = {who: [i for _, i, _, _ in office.inbox(who).late_items] for who in ("王县长", "赵律师")}
    assert late == ({"王县长": [], "赵律师": []} if flagged else {"王县长": [], "赵律师": ["2025-03"]})


# ------------------------------------------------------------------------------------------------
# One inbox across workflows
# ------------------------------------------------------------------------------------------------
OPINION_WORKFLOW = """\
workflow:
  name: legal_opinion
  version: "1.0.0"
  label: {zh: 法律意见征询（测试）, en: Legal opinion request (test)}
  sources: [测试用工作流 / a workflow written for the tests]
  initial: new
  review_gate: review
roles:
  requester: {zh: 申请单位, en: Requester}
  legal_counsel: {zh: 合法性审查人员, en: Legality reviewer}  # the shipped label: one role, one label
  head: {zh: 行政首长, en: Head of government}
stages:
  request: {label: {zh: 申请, en: Request}}
  review: {label: {zh: 审核, en: Review}}
  closure: {label: {zh: 办结, en: Closure}}
states:
  new: {label: {zh: 新建, en: New}, stage: request}
  submitted: {label: {zh: 已送审, en: Submitted}, stage: review}
  reviewed: {label: {zh: 已审核, en: Reviewed}, stage: review}
  in_meeting: {label: {zh: 提请集体讨论, en: Before the meeting}, stage: closure, discussion: true}
  signed: {label: {zh: 已签署, en: Signed}, stage: closure, approval: true, decision_taken: true, final: true}
fields:
  title: {type: string, label: {zh: 标题, en: Title}}
  answer_by: {type: date, label: {zh: 答复期限, en: Answer by}}
  outcome: {type: enum, values: [lawful, unlawful], label: {zh: 审核结论, en: Outcome}}
documents:
  text: {label: {zh: 送审文本, en: Text}, draft: true}
  opinion: {label: {zh: 审核意见书, en: Opinion}}
transitions:
  - trigger: submit
    source: new
    dest: submitted
    label: {zh: 送审, en: submit}
    roles: [requester]
    requires: {fields: [title, answer_by], documents: [text]}
    changes_draft: true
  - trigger: give_opinion
    source: submitted
    dest: reviewed
    label: {zh: 出具审核意见, en: give the opinion}
    roles: [legal_counsel]
    record: opinion_given
    requires: {fields: [outcome], documents: [opinion]}
  - trigger: table
    source: reviewed
    dest: in_meeting
    label: {zh: 提请集体讨论, en: table at the meeting}
    roles: [head]
    rules: [opinion.lawful_review]
  - trigger: sign
    source: in_meeting
    dest: signed
    label: {zh: 签署, en: sign}
    roles: [head]
    rules: [opinion.lawful_review]
gates:
  review:
    label: {zh: 合法性审核（须覆盖当前文本）, en: lawful review of the current text}
    rule: opinion.lawful_review
    protects: [in_meeting, signed]
    reset_on_draft_change: true
    guarantee:
      record: opinion_given
      current_draft: true
      outcome: {field: outcome, passing: [lawful]}
deadlines:
  answer:
    label: {zh: 审核答复期限, en: opinion due}
    runs_in: [submitted]
    seen_by: [legal_counsel]
    due: {record: submit, field: answer_by}
    basis: {zh: 送审时确定, en: set at submission}
  signing:
    label: {zh: 签署期限, en: signing due}
    runs_in: [reviewed]
    seen_by: [head]
    from: entered
    length: legality_review_working_days
"""
OPINION_PACK = """\
pack:
  id: opinion
  name: {zh: 法律意见征询规则（测试）, en: Legal opinion rules (test)}
  level: county
  sources:
    test_text: {title: 测试用规则（无出处）, verified: false}
rules:
  - id: lawful_review
    workflow: legal_opinion
    triggers: [table, sign]
    strength: hard
    citation: {source: test_text, article: 测试, article_en: test}
    require:
      all:
        - gte: [{count: {record: opinion_given}}, 1]
        - eq: [{latest: {record: opinion_given, field: draft_version}}, {fact: decision.draft_version}]
        - eq: [{latest: {record: opinion_given, field: outcome}}, lawful]
    message: {zh: 签署前须经合法性审核且审核意见针对当前文本, en: a lawful review of the current text comes before signing}
"""
REQUESTER = Actor("财政局经办人", frozenset({"requester"}), "县财政局")
COUNSEL = Actor("赵律师", frozenset({"legal_counsel"}), "县司法局")


def with_opinions(tmp: Path) -> tuple[Definitions, Path]:
    """The shipped definitions with the test workflow that shares ``legal_counsel``, and a deployment
    file naming them all."""
    (tmp / "legal_opinion.yaml").write_text(OPINION_WORKFLOW, encoding="utf-8")
    (tmp / "opinion_pack.yaml").write_text(OPINION_PACK, encoding="utf-8")
    config = tmp / "decisions.yaml"
    workflows = [ROOT / "workflows" / "major_decision.yaml", ROOT / "workflows" / "catalogue.yaml"]
    packs = [*(ROOT / "rules" / n for n in PACK_NAMES), tmp / "opinion_pack.yaml"]
    config.write_text(
        "workflows:\n"
        + "".join(f"  - {p}\n" for p in [*workflows, tmp / "legal_opinion.yaml"])
        + "rule_packs:\n"
        + "".join(f"  - {p}\n" for p in packs)
        + f"calendar: {ROOT / 'rules' / 'calendar.yaml'}\n",
        encoding="utf-8",
    )
    defs = load_definitions([*workflows, tmp / "legal_opinion.yaml"], packs, ROOT / "rules" / "calendar.yaml")
    return defs, config


def request_opinion(office: Office, case_id: str, on: date, answer_by: date, opinion: str | None = None) -> None:
    text = office.cases.attach("text", f"{case_id} 合同文本".encode(), "text.pdf")
    fields = {"title": f"{case_id} 合同", "answer_by": answer_by}
    office.cases.start("legal_opinion", case_id, Action("submit", REQUESTER, on, fields, (text,)))
    if opinion is not None:
        doc = office.cases.attach("opinion", f"{case_id} 意见".encode(), "opinion.pdf")
        office.cases.act(case_id, Action("give_opinion", COUNSEL, on, {"outcome": opinion}, (doc,)))


def test_a_legal_reviewer_s_inbox_lists_every_workflow_overdue_first_then_by_due_date(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """On 2025-05-06 赵律师 (legal_counsel) has a decision under legality review (due 04-30, overdue)
    and two opinion requests of another workflow (due 04-25, overdue; due 05-20): one list, the
    requests' dates from their own workflow's declaration, overdue first then by date, each task
    naming its workflow. A third request already reviewed waits on the head, not on counsel, and its
    signing deadline is the head's alone; the counsel's opinion deadline is not shown to the head."""
    defs, config = with_opinions(tmp_path)
    office = Office(database, defs, clock=clock_at(D(2025, 5, 6)))
    play_catalogue(office.cases, "2025-03")
    play(office.cases, "D-2025-001", MAIN_PATH[:AFTER_ACCEPT])
    request_opinion(office, "OP-2025-001", D(2025, 4, 20), D(2025, 4, 25))
    request_opinion(office, "OP-2025-002", D(2025, 4, 28), D(2025, 5, 20))
    request_opinion(office, "OP-2025-003", D(2025, 4, 28), D(2025, 5, 20), opinion="lawful")
    office.users.add("赵律师", ["legal_counsel"], unit="县司法局")
    office.users.add("王县长", ["head"], unit="县人民政府")

    box = office.inbox("赵律师")
    order = list(dict.fromkeys((t.case_id, t.workflow) for t in box.tasks))
    assert order == [
        ("OP-2025-001", "legal_opinion"),
        ("D-2025-001", "major_decision"),
        ("OP-2025-002", "legal_opinion"),
    ]
    due = {t.case_id: [(d.label.en, d.due, d.overdue) for d in t.deadlines] for t in box.tasks}
    assert due == {
        "OP-2025-001": [("opinion due", D(2025, 4, 25), True)],
        "D-2025-001": [("legality review due", D(2025, 4, 30), True)],
        "OP-2025-002": [("opinion due", D(2025, 5, 20), False)],
    }
    assert box.overdue == 2

    head = office.inbox("王县长")
    signing = [t for t in head.tasks if t.case_id == "OP-2025-003"]
    assert signing and [d.label.en for d in signing[0].deadlines] == ["signing due"]
    assert office.show("OP-2025-001", "王县长").deadlines == ()
    assert [d.label.en for d in office.show("OP-2025-001", "赵律师").deadlines] == ["opinion due"]

    listed = CliRunner().invoke(
        app, ["inbox", "--as", "赵律师", "--json", "--db", database_url, "--config", str(config)]
    )
    assert listed.exit_code == 0, listed.output
    tasks = json.loads(listed.output)["tasks"]
    assert list(dict.fromkeys((t["case"], t["workflow"]) for t in tasks)) == order
    human = CliRunner().invoke(app, ["inbox", "--as", "赵律师", "--db", database_url, "--config", str(config)])
    assert human.exit_code == 0, human.output
    assert "法律意见征询（测试）" in human.output and "重大行政决策" in human.output


def test_the_schemas_state_the_closed_sets_the_loader_checks() -> None:
    """Editors see the same closed sets: the pack units and what stops a period."""
    pack = json.loads(schema_text("rulepack"))
    unit = pack["properties"]["parameters"]["additionalProperties"]["properties"]["unit"]
    assert unit["enum"] == [u.value for u in ParamUnit]
    workflow = json.loads(schema_text("workflow"))
    deadline = workflow["properties"]["deadlines"]["additionalProperties"]["properties"]
    assert deadline["stops"]["enum"] == ["draft_change"]
    assert workflow["properties"]["states"]["additionalProperties"]["properties"]["decision_taken"]["type"] == "boolean"
