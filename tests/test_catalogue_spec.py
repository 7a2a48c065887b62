"""The catalogue's versions come from its workflow's ``catalogue:`` section, not from names in Python.

Specified here: every bad form of the section is refused at load with its file, line and key path
(all of them at once); and a copy of the shipped definitions in which every state, trigger, record
kind, field, document kind and enum value of the catalogue workflow is renamed derives the same
versions and diffs from the same story as the shipped one, in the engine and through the store
(SQLite and PostgreSQL), with the display's columns labelled from the renamed field definitions.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decisions.catalogue import CatalogueVersion, ItemChange, diff_versions, versions
from decisions.cli import app
from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import DefinitionError, Problem
from decisions.loading import load_definitions
from decisions.model import Action, Case
from decisions.service.cases import CaseService, published_catalogue
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.workflow.engine import Engine
from tests.stores import BACKENDS, fixed_clock, new_database_url
from tests.support import PEOPLE, ROOT, Story, shipped_definitions

SHIPPED = shipped_definitions()
CAT = SHIPPED.workflow("catalogue")


# -- the definitions: shipped, edited, renamed ----------------------------------------------------


def copied_tree(tmp_path: Path) -> Path:
    """The shipped deployment (decisions.yaml, workflows/, rules/) copied under ``tmp_path``."""
    shutil.copy(ROOT / "decisions.yaml", tmp_path / "decisions.yaml")
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path


def load_tree(root: Path) -> Definitions:
    d = load_deployment(root / "decisions.yaml")
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


RENAMED = frozenset(
    set(CAT.states)
    | CAT.triggers
    | CAT.record_kinds
    | set(CAT.fields)
    | set(CAT.documents)
    | {value for f in CAT.fields.values() for value in f.values}
)
"""Every name the catalogue workflow declares but its own and its roles' (the people keep their roles)."""


def new_name(name: str) -> str:
    return f"x_{name}" if name in RENAMED else name


def renamed_tree(tmp_path: Path) -> Path:
    """A copy in which every name of `RENAMED` is ``x_<name>`` wherever it occurs as a whole word in the
    workflows and rule packs (no key of the definition language is such a name)."""
    root = copied_tree(tmp_path)
    word = re.compile(r"(?<![\w{])(" + "|".join(sorted(RENAMED, key=len, reverse=True)) + r")(?!\w)")
    for path in [*(root / "workflows").glob("*.yaml"), *(root / "rules").glob("*.yaml")]:
        if path.name == "calendar.yaml":
            continue
        path.write_text(word.sub(lambda m: new_name(m.group(1)), path.read_text(encoding="utf-8")), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def renamed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return renamed_tree(tmp_path_factory.mktemp("renamed"))


@pytest.fixture(scope="module")
def renamed(renamed_root: Path) -> Definitions:
    return load_tree(renamed_root)


def test_the_renamed_copy_shares_no_catalogue_name_with_the_shipped_one(renamed: Definitions) -> None:
    wf = renamed.workflow("catalogue")
    spec = wf.catalogue
    assert spec is not None
    assert not (set(wf.states) | wf.triggers | wf.record_kinds | set(wf.fields)) & RENAMED
    assert spec.suggested_by == "x_suggestion" and spec.screened_by.include == "x_include"
    assert spec.adjusted_by is not None and spec.adjusted_by.remove == "x_remove"
    assert spec.recompiled_from == {"x_screening"} and "x_publish_adjustment" in spec.published_by


# -- every bad form refused, located ---------------------------------------------------------------


def refused(tmp_path: Path, old: str, new: str) -> tuple[DefinitionError, int]:
    """Load the shipped tree with ``old`` replaced by ``new`` in workflows/catalogue.yaml; the refusal,
    and the line the edit ends on."""
    root = copied_tree(tmp_path)
    path = root / "workflows" / "catalogue.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    edited = text.replace(old, new)
    path.write_text(edited, encoding="utf-8")
    line = edited[: edited.index(new) + len(new.rstrip("\n"))].count("\n") + 1
    with pytest.raises(DefinitionError) as caught:
        load_tree(root)
    return caught.value, line


def located(error: DefinitionError, key_path: str, message: str) -> Problem:
    found = [p for p in error.problems if p.path == key_path and message in p.message]
    assert found, f"no problem at {key_path} saying {message!r}:\n{error}"
    assert found[0].file.endswith("catalogue.yaml")
    return found[0]


SUGGESTED = "suggested_by: {record: suggestion}"
SCREENED = "screened_by: {record: item_screening, field: screening_result, includes: include, carries: [category]}"
ADJUSTED = "adjusted_by: {record: adjustment_request, field: adjustment_kind, adds: add, removes: remove, reason_field: reason}"

BAD_FORMS = [
    # (what is wrong, old text, new text, key path, message)
    (
        "unknown id field",
        "id_field: item_id",
        "id_field: item_code",
        "catalogue.items.id_field",
        "unknown field 'item_code'",
    ),
    (
        "a date as the id",
        "id_field: item_id",
        "id_field: deadline",
        "catalogue.items.id_field",
        "is of type date; expected string",
    ),
    (
        "an enum as the name",
        "name_field: item_name",
        "name_field: category",
        "catalogue.items.name_field",
        "is of type enum; expected string or text",
    ),
    (
        "a string as the planned deadline",
        "due_field: planned_by",
        "due_field: planned_period",
        "catalogue.items.due_field",
        "is of type string; expected date",
    ),
    (
        "an unknown item field",
        "problem_to_solve,\n             proposed_measures]",
        "problem_to_solve,\n             proposed_measures, nonesuch]",
        "catalogue.items.fields[8]",
        "unknown field 'nonesuch'",
    ),
    (
        "the id among the kept fields",
        "fields: [item_name, organiser_unit, category, planned_period, planned_by, basis_and_reasons",
        "fields: [item_id, item_name, organiser_unit, category, planned_period, planned_by, basis_and_reasons",
        "catalogue.items.fields[0]",
        "is its key, not a field it keeps",
    ),
    (
        "a column that is not an item field",
        "columns: [organiser_unit, category, planned_period, planned_by]",
        "columns: [organiser_unit, meeting_type]",
        "catalogue.items.columns[1]",
        "'meeting_type' is not one of the item's fields",
    ),
    (
        "an unknown record kind",
        SUGGESTED,
        "suggested_by: {record: suggestions}",
        "catalogue.suggested_by.record",
        "unknown record kind 'suggestions'",
    ),
    (
        "a record that does not carry the item's id",
        SUGGESTED,
        "suggested_by: {record: screening_opinion}",
        "catalogue.suggested_by.record",
        "does not require field 'item_id' (triggers: certify_screening)",
    ),
    (
        "a screening result that is not an enum",
        SCREENED,
        SCREENED.replace("field: screening_result", "field: reason"),
        "catalogue.screened_by.field",
        "is of type text; expected enum",
    ),
    (
        "a screening result the screening record does not require",
        SCREENED,
        SCREENED.replace("field: screening_result", "field: adjustment_kind"),
        "catalogue.screened_by.field",
        "the 'item_screening' record does not require field 'adjustment_kind'",
    ),
    (
        "an inclusion that is not a value of the result",
        SCREENED,
        SCREENED.replace("includes: include", "includes: included"),
        "catalogue.screened_by.includes",
        "'included' is not a value of screening_result (include, exclude)",
    ),
    (
        "a carried field the screening record does not carry",
        SCREENED,
        SCREENED.replace("carries: [category]", "carries: [organiser_unit]"),
        "catalogue.screened_by.carries[0]",
        "does not carry field 'organiser_unit'",
    ),
    (
        "a carried field that is not an item field",
        SCREENED,
        SCREENED.replace("carries: [category]", "carries: [reason]"),
        "catalogue.screened_by.carries[0]",
        "'reason' is not one of the item's fields",
    ),
    (
        "an adjustment kind that is not a value",
        ADJUSTED,
        ADJUSTED.replace("adds: add", "adds: append"),
        "catalogue.adjusted_by.adds",
        "'append' is not a value of adjustment_kind (add, change, remove)",
    ),
    (
        "adding and removing by the same value",
        ADJUSTED,
        ADJUSTED.replace("removes: remove", "removes: add"),
        "catalogue.adjusted_by.removes",
        "cannot both be 'add'",
    ),
    (
        "a reason that is not text",
        ADJUSTED,
        ADJUSTED.replace("reason_field: reason", "reason_field: planned_by"),
        "catalogue.adjusted_by.reason_field",
        "is of type date; expected string or text",
    ),
    (
        "one record kind for two jobs",
        ADJUSTED,
        ADJUSTED.replace("record: adjustment_request, field: adjustment_kind", "record: suggestion, field: category"),
        "catalogue.adjusted_by.record",
        "the 'suggestion' record is already the catalogue's suggested_by",
    ),
    (
        "an unknown trigger dropping requests",
        "requests_dropped_by: [reject_adjustment]",
        "requests_dropped_by: [reject_adjustments]",
        "catalogue.requests_dropped_by[0]",
        "unknown trigger 'reject_adjustments'",
    ),
    (
        "an unknown publishing trigger",
        "published_by: [publish_catalogue, publish_adjustment]",
        "published_by: [publish_catalogue, publish]",
        "catalogue.published_by[1]",
        "unknown trigger 'publish'",
    ),
    (
        "an unknown state",
        "recompiled_from: [screening]",
        "recompiled_from: [screen]",
        "catalogue.recompiled_from[0]",
        "unknown state 'screen'",
    ),
    (
        "a state where nothing is compiled",
        "recompiled_from: [screening]",
        "recompiled_from: [screening, collecting]",
        "catalogue.recompiled_from[1]",
        "no draft-changing transition starts from state 'collecting'",
    ),
    (
        "an unknown key (the JSON Schema)",
        "  suggested_by: {record: suggestion}",
        "  suggested_by: {record: suggestion, colour: red}",
        "catalogue.suggested_by.colour",
        "colour",
    ),
    (
        "a missing required key (the JSON Schema)",
        "  published_by: [publish_catalogue, publish_adjustment]\n",
        "\n",
        "catalogue",
        "published_by",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "key_path", "message"), [f[1:] for f in BAD_FORMS], ids=[f[0] for f in BAD_FORMS]
)
def test_a_bad_catalogue_section_is_refused_where_it_is_wrong(
    tmp_path: Path, old: str, new: str, key_path: str, message: str
) -> None:
    error, line = refused(tmp_path, old, new)
    problem = located(error, key_path, message)
    if new.strip():
        assert problem.line == line, str(problem)


def test_every_mistake_of_the_section_is_reported_at_once(tmp_path: Path) -> None:
    error, _ = refused(
        tmp_path,
        "  requests_dropped_by: [reject_adjustment]\n  recompiled_from: [screening]",
        "  requests_dropped_by: [reject_adjustments]\n  recompiled_from: [screen]",
    )
    located(error, "catalogue.requests_dropped_by[0]", "unknown trigger 'reject_adjustments'")
    located(error, "catalogue.recompiled_from[0]", "unknown state 'screen'")


# -- one story, told in the shipped names and in the renamed ones ------------------------------------


@dataclass(frozen=True)
class Act:
    trigger: str
    actor: str
    on: date
    fields: dict[str, Any]
    docs: tuple[str, ...] = ()


def item(item_id: str, name: str, planned_by: date, **more: Any) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "item_name": name,
        "organiser_unit": "县交通运输局",
        "planned_period": "2025年",
        "planned_by": planned_by,
        "basis_and_reasons": "《重大行政决策程序暂行条例》第三条",
        "problem_to_solve": "群众反映强烈",
        "proposed_measures": "按程序拟定方案",
        **more,
    }


def _approve(start: date, submit: str, approve: str, consent: str, publish: str) -> list[Act]:
    d = start.toordinal()
    return [
        Act("certify_screening", "counsel_zhao", date.fromordinal(d), {}, ("screening_opinion",)),
        Act(submit, "office_chen", date.fromordinal(d + 1), {}),
        Act(approve, "office_chen", date.fromordinal(d + 2), {"meeting_type": "executive"}, ("minutes",)),
        Act(consent, "office_chen", date.fromordinal(d + 3), {}, ("party_consent",)),
        Act(publish, "office_chen", date.fromordinal(d + 4), {"publication_channels": ["website"]}, ("publication",)),
    ]


STORY: list[Act] = [
    Act(
        "open_call", "office_chen", date(2024, 11, 10), {"year": 2025, "deadline": date(2024, 12, 10)}, ("call_notice",)
    ),
    Act("suggest_item", "clerk_li", date(2024, 11, 20), item("2025-01", "城区公交票价调整", date(2025, 6, 30))),
    Act(
        "suggest_item",
        "clerk_li",
        date(2024, 11, 21),
        item("2025-02", "城区道路改造", date(2025, 9, 30), category="plan"),
    ),
    Act("suggest_item", "clerk_li", date(2024, 11, 22), item("2025-03", "停车场建设", date(2025, 12, 31))),
    Act("close_call", "office_chen", date(2024, 12, 11), {}),
    Act("screen_item", "counsel_zhao", date(2024, 12, 12), {"item_id": "2025-01", "screening_result": "include"}),
    Act(
        "screen_item",
        "counsel_zhao",
        date(2024, 12, 12),
        {"item_id": "2025-02", "screening_result": "include", "category": "resource_policy"},
    ),
    Act("screen_item", "counsel_zhao", date(2024, 12, 12), {"item_id": "2025-03", "screening_result": "exclude"}),
    Act("compile_catalogue", "office_chen", date(2024, 12, 13), {}, ("catalogue_draft",)),  # v1: 01, 02
    Act("certify_screening", "counsel_zhao", date(2024, 12, 14), {}, ("screening_opinion",)),
    Act("submit_for_approval", "office_chen", date(2024, 12, 15), {}),
    Act("return_for_rescreening", "head_wang", date(2024, 12, 16), {"reason": "停车场建设属重大事项"}),
    Act("screen_item", "counsel_zhao", date(2024, 12, 17), {"item_id": "2025-03", "screening_result": "include"}),
    Act("screen_item", "counsel_zhao", date(2024, 12, 17), {"item_id": "2025-02", "screening_result": "exclude"}),
    Act("compile_catalogue", "office_chen", date(2024, 12, 18), {}, ("catalogue_draft",)),  # v2: 01, 03
    *_approve(
        date(2024, 12, 19), "submit_for_approval", "approve_at_meeting", "record_party_consent", "publish_catalogue"
    ),
    Act(
        "request_adjustment",
        "clerk_li",
        date(2025, 3, 1),
        {"adjustment_kind": "add", "item_id": "2025-04", "item_name": "城区停车收费", "reason": "新增"},
        ("adjustment_request",),
    ),
    Act("reject_adjustment", "head_wang", date(2025, 3, 5), {"reason": "不属于重大行政决策"}),  # the request is dropped
    Act(
        "request_adjustment",
        "clerk_li",
        date(2025, 4, 1),
        {"adjustment_kind": "change", "item_id": "2025-01", "planned_by": date(2025, 10, 31), "reason": "论证延长"},
        ("adjustment_request",),
    ),
    Act("compile_adjustment", "office_chen", date(2025, 4, 2), {}, ("catalogue_draft",)),  # v3: 01 changed, 03
    *_approve(
        date(2025, 4, 3), "submit_adjustment", "approve_adjustment", "record_adjustment_consent", "publish_adjustment"
    ),
    Act(
        "request_adjustment",
        "clerk_li",
        date(2025, 5, 1),
        {"adjustment_kind": "remove", "item_id": "2025-03", "reason": "条件变化"},
        ("adjustment_request",),
    ),
    Act("compile_adjustment", "office_chen", date(2025, 5, 2), {}, ("catalogue_draft",)),  # v4: 01 (not published)
]


def translated(act: Act, definitions: Definitions) -> Act:
    """``act`` in the names of ``definitions`` (the shipped ones, or the renamed copy)."""
    if definitions is SHIPPED:
        return act
    enums = {name for name, f in CAT.fields.items() if f.values}
    fields = {new_name(k): new_name(v) if k in enums else v for k, v in act.fields.items()}
    return Act(new_name(act.trigger), act.actor, act.on, fields, tuple(new_name(d) for d in act.docs))


def back(value: Any) -> Any:
    """A renamed name (a field or an enum value) as the shipped one."""
    return value.removeprefix("x_") if isinstance(value, str) and value.removeprefix("x_") in RENAMED else value


def comparable(found: list[CatalogueVersion]) -> list[tuple[Any, ...]]:
    """Versions as plain data in the shipped names, to compare a renamed derivation with the shipped one."""
    return [
        (
            v.version,
            v.seq,
            v.on,
            v.published_on,
            v.reason,
            [(i.id, i.name, i.planned_by, {back(k): back(x) for k, x in i.fields.items()}) for i in v.items],
        )
        for v in found
    ]


def comparable_diff(changes: list[ItemChange]) -> list[tuple[Any, ...]]:
    return [(c.item, c.kind, [(back(f), back(x), back(y)) for f, x, y in c.changes]) for c in changes]


def told(definitions: Definitions) -> Case:
    story = Story(definitions, "catalogue", "CAT-2025", known={})
    for act in STORY:
        a = translated(act, definitions)
        story.do(a.trigger, a.actor, a.on, a.fields, a.docs)
    return story.case


def derived(definitions: Definitions, case: Case) -> list[CatalogueVersion]:
    return versions(case, definitions.workflow("catalogue").catalogue)


def test_the_shipped_catalogue_derives_the_versions_its_records_make() -> None:
    found = derived(SHIPPED, told(SHIPPED))
    assert [[i.id for i in v.items] for v in found] == [
        ["2025-01", "2025-02"],  # compiled from the screened suggestions
        ["2025-01", "2025-03"],  # recompiled after re-screening: 02 screened out, 03 in
        ["2025-01", "2025-03"],  # the change of 01 (the rejected addition of 04 is not applied)
        ["2025-01"],  # the removal of 03, not yet published
    ]
    assert [v.published_on for v in found] == [None, date(2024, 12, 23), date(2025, 4, 7), None]
    assert found[0].items[1].fields["category"] == "resource_policy"  # carried by the screening
    assert found[1].items[0].name == "城区公交票价调整" and found[1].items[0].planned_by == date(2025, 6, 30)
    assert found[2].items[0].planned_by == date(2025, 10, 31) and found[2].reason == "论证延长"
    assert diff_versions(found[1], found[2]) == [
        ItemChange("2025-01", "changed", (("planned_by", date(2025, 6, 30), date(2025, 10, 31)),))
    ]
    assert diff_versions(found[0], found[1]) == [ItemChange("2025-02", "removed"), ItemChange("2025-03", "added")]


def test_a_renamed_catalogue_derives_the_same_versions_and_diffs(renamed: Definitions) -> None:
    shipped, copy = derived(SHIPPED, told(SHIPPED)), derived(renamed, told(renamed))
    assert comparable(copy) == comparable(shipped)
    assert copy[0].items[1].fields["x_category"] == "x_resource_policy"  # the copy's own names, carried through
    for a, b in zip(range(len(shipped)), range(1, len(shipped)), strict=False):
        assert comparable_diff(diff_versions(copy[a], copy[b])) == comparable_diff(
            diff_versions(shipped[a], shipped[b])
        )


def test_a_workflow_without_a_catalogue_section_has_no_versions() -> None:
    assert SHIPPED.workflow("major_decision").catalogue is None
    assert versions(told(SHIPPED), None) == []


# -- through the store, on both backends -------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    office: Office
    url: str
    documents: Path


@pytest.fixture(params=BACKENDS)
def renamed_office(request: pytest.FixtureRequest, tmp_path: Path, renamed: Definitions) -> Iterator[Stored]:
    for url in new_database_url(request.param, tmp_path):
        database = Database(url, documents=tmp_path / "documents")
        database.migrate()
        try:
            yield Stored(Office(database, renamed, clock=fixed_clock), url, tmp_path / "documents")
        finally:
            database.dispose()


def stored(service: CaseService, definitions: Definitions) -> None:
    for i, act in enumerate(STORY):
        a = translated(act, definitions)
        docs = tuple(service.attach(k, f"CAT-2025 {k} #{i}".encode(), f"{k}.pdf") for k in a.docs)
        action = Action(a.trigger, PEOPLE[a.actor], a.on, dict(a.fields), docs)
        if i == 0:
            service.start("catalogue", "CAT-2025", action)
        else:
            service.act("CAT-2025", action)


def test_the_stored_renamed_catalogue_gives_the_shipped_versions_and_its_own_columns(
    renamed_office: Stored, renamed: Definitions, renamed_root: Path
) -> None:
    stored(renamed_office.office.cases, renamed)
    office = renamed_office.office
    assert comparable(office.catalogue_versions(2025)) == comparable(derived(SHIPPED, told(SHIPPED)))
    assert comparable_diff(office.catalogue_diff(2025, 1, 2)) == [
        ("2025-02", "removed", []),
        ("2025-03", "added", []),
    ]
    columns = office.catalogue_columns(2025)
    assert [name for name, _ in columns] == [
        "x_item_id",
        "x_item_name",
        "x_organiser_unit",
        "x_category",
        "x_planned_period",
        "x_planned_by",
    ]
    assert columns[2][1] == CAT.fields["organiser_unit"].label  # each column labelled by its field's definition
    # the published catalogue a decision's rules look up: the latest version published by the day it acts on
    launch = Action("propose", PEOPLE["clerk_li"], date(2025, 4, 10))
    decision = Engine(renamed, "major_decision").new_case("D-2025-009")  # a case of the linked workflow
    facts = published_catalogue(office.cases, decision, launch)
    assert facts == {"catalogue.published_items": ["2025-01", "2025-03"]}
    # `catalogue show` under the renamed deployment: the columns its section declares, headed by their labels
    shown = CliRunner().invoke(
        app,
        ["catalogue", "show", "2025", "--db", renamed_office.url, "--config", str(renamed_root / "decisions.yaml")],
        env={"DECISIONS_DOCUMENTS": str(renamed_office.documents), "DECISIONS_CONFIG": None},
    )
    assert shown.exit_code == 0, shown.output
    for name in ("x_item_id", "x_item_name", "x_organiser_unit", "x_category", "x_planned_period", "x_planned_by"):
        assert str(renamed.workflow("catalogue").fields[name].label) in shown.output, name
    assert "城区公交票价调整" in shown.output and "县交通运输局" in shown.output and "2025-10-31" in shown.output
    assert "停车场建设" not in shown.output  # removed in version 4
