"""A workflow's ``case:`` section and the demo's scenario files, as a user meets them.

- A bad ``case:`` form is refused at load, located (file, line, key path), every problem at once.
- Ids come from the declared pattern: {year}, {seq:N} (the next free number), {field.NAME}.
- `Office.start` opens a case with the declared start trigger, whatever it is called; the ``title``
  and ``catalogue_item`` columns are filled from the declared fields, whatever they are called, on
  SQLite and PostgreSQL; the year's catalogue is found through its declared id pattern.
- A scenario step marked ``refused: true`` that is accepted fails the demo, naming the step; a
  malformed scenario file is refused located before anything is played.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.demo import demo_directory, run_demo
from decisions.errors import DefinitionError, Problem, UsageError
from decisions.loading import load_definitions
from decisions.loading.scenarios import load_scenarios
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.memory import memory_store
from decisions.workflow.case_ids import next_case_id
from tests.stores import BACKENDS, fixed_clock, new_database_url
from tests.support import ROOT

CASE_BLOCK = """case:
  start: propose
  id: "D-{year}-{seq:3}"
  title: title
  catalogue_item: {field: catalogue_item, catalogue: catalogue}
  unit: organiser_unit
"""


def copied_tree(tmp_path: Path, edits: Mapping[str, list[tuple[str, str]]] | None = None) -> Path:
    """A copy of the shipped deployment with regex ``edits`` applied per file (relative path)."""
    root = tmp_path / "deployment"
    for name in ("workflows", "rules"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy2(ROOT / "decisions.yaml", root / "decisions.yaml")
    for rel, subs in (edits or {}).items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        for pattern, repl in subs:
            text, n = re.subn(pattern, repl, text)
            assert n, f"{pattern!r} not found in {rel}"
        path.write_text(text, encoding="utf-8")
    return root


def definitions_of(root: Path) -> Definitions:
    d = load_deployment(root / "decisions.yaml")
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


def problems_with(tmp_path: Path, major_case: str, catalogue_case: str | None = None) -> list[Problem]:
    """The problems of the shipped deployment whose major_decision ``case:`` section is ``major_case``."""
    edits = {"workflows/major_decision.yaml": [(re.escape(CASE_BLOCK), major_case)]}
    if catalogue_case is not None:
        edits["workflows/catalogue.yaml"] = [
            (r'case:\n  start: open_call\n  id: "CAT-\{field.year\}"\n  year_field: year\n', catalogue_case)
        ]
    with pytest.raises(DefinitionError) as exc:
        definitions_of(copied_tree(tmp_path, edits))
    return exc.value.problems


def located(problems: list[Problem], path: str, fragment: str) -> Problem:
    found = [p for p in problems if p.path == path and fragment in p.message]
    assert found, f"no problem at {path} saying {fragment!r}: {[str(p) for p in problems]}"
    assert found[0].line is not None and found[0].file.endswith(".yaml")
    return found[0]


# -- 1. the case: section is validated, located ------------------------------------------------------


BAD_FORMS = [
    ("start: nope", "case.start", "is not a transition from the initial state 'new' (no transition has that trigger"),
    ("start: launch", "case.start", "is not a transition from the initial state 'new' (it leaves proposed"),
    ('id: "D-{month}-{seq:3}"', "case.id", "unknown placeholder {month}"),
    ('id: "D-{year}-{seq:0}"', "case.id", "unknown placeholder {seq:0}"),
    ('id: "D-{seq:2}-{seq:3}"', "case.id", "at most one {seq:N}"),
    ('id: "D-{year"', "case.id", "unbalanced brace"),
    ('id: "D {year}"', "case.id", "white space"),
    ('id: "D-{field.nope}"', "case.id", "unknown field 'nope'"),
    ('id: "D-{field.executor_unit}-{seq:3}"', "case.id", "is not required by the start trigger 'propose'"),
    ('id: "D-{field.problem}"', "case.id", "is a text field"),
    ("title: nope", "case.title", "unknown field 'nope'"),
    ("title: problem", "case.title", "field 'problem' is a text field, not string"),
    ("title: expert", "case.title", "field 'expert' is not an attribute of the case"),
    (
        "catalogue_item: {field: title, catalogue: nowhere}",
        "case.catalogue_item.catalogue",
        "unknown workflow 'nowhere'",
    ),
    (
        "catalogue_item: {field: catalogue_item, catalogue: major_decision}",
        "case.catalogue_item.catalogue",
        "its own cases",
    ),
    ("catalogue_item: {field: risk, catalogue: catalogue}", "case.catalogue_item.field", "is a boolean field"),
    ("catalogue_item: {field: catalogue_item}", "case.catalogue_item", "missing required key 'catalogue'"),
    ("unit: nope", "case.unit", "unknown field 'nope'"),
    ("unit: expert", "case.unit", "field 'expert' is not an attribute of the case"),
    ("colour: red", "case.colour", "colour"),
    ("id: 5", "case.id", "string"),
]


@pytest.mark.parametrize(("line", "path", "fragment"), BAD_FORMS, ids=[b[0] for b in BAD_FORMS])
def test_each_bad_case_form_is_refused_with_its_location(tmp_path: Path, line: str, path: str, fragment: str) -> None:
    problem = located(problems_with(tmp_path, f"case:\n  {line}\n"), path, fragment)
    assert problem.file.endswith("major_decision.yaml")


def test_every_problem_of_a_case_section_is_reported_at_once(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, 'case:\n  start: launch\n  id: "D-{month}"\n  title: problem\n')
    located(problems, "case.start", "not a transition from the initial state")
    located(problems, "case.id", "unknown placeholder {month}")
    located(problems, "case.title", "is a text field")


def test_a_link_to_a_catalogue_that_cannot_be_found_by_year_is_refused(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, CASE_BLOCK, 'case:\n  id: "CAT-{field.year}"\n')
    located(problems, "case.catalogue_item.catalogue", "declares no 'year_field'")


@pytest.mark.parametrize(
    ("block", "fragment"),
    [
        ('case:\n  id: "CAT-{field.year}-{seq:2}"\n  year_field: year\n', "has no {seq:N}"),
        ('case:\n  id: "CAT-{year}"\n  year_field: year\n', "must hold {field.year}"),
        ('case:\n  id: "CAT-{field.year}"\n  year_field: deadline\n', "is a date field, not integer"),
    ],
)
def test_a_year_field_must_find_one_case_a_year(tmp_path: Path, block: str, fragment: str) -> None:
    located(problems_with(tmp_path, CASE_BLOCK, block), "case.year_field", fragment)


def test_without_a_case_section_the_only_start_is_the_start_and_ids_are_given(tmp_path: Path) -> None:
    definitions = definitions_of(
        copied_tree(tmp_path, {"workflows/major_decision.yaml": [(re.escape(CASE_BLOCK), "")]})
    )
    spec = definitions.workflow("major_decision").case
    assert spec is not None and spec.start == "propose" and spec.id == "" and spec.columns["title"] == ""


# -- 2. ids from patterns ----------------------------------------------------------------------------


def test_ids_come_from_the_pattern_with_the_next_free_number() -> None:
    existing = ["D-2025-001", "D-2025-007", "D-2024-012", "D-2025-x", "CAT-2025"]
    assert next_case_id("D-{year}-{seq:3}", 2025, {}, existing) == "D-2025-008"
    assert next_case_id("D-{year}-{seq:3}", 2026, {}, existing) == "D-2026-001"
    assert next_case_id("CAT-{field.year}", 2024, {"year": 2025}, existing) == "CAT-2025"
    assert next_case_id("{field.category}/{seq:2}", 2025, {"category": "plan"}, ["plan/09"]) == "plan/10"
    assert next_case_id("N{seq:1}", 2025, {}, ["N9"]) == "N10"  # N digits at least


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request.param, tmp_path)


def office_on(url: str, tmp_path: Path, definitions: Definitions) -> Office:
    database = Database(url, documents=tmp_path / "documents")
    database.migrate()
    office = Office(database, definitions, clock=fixed_clock)
    office.users.add("李明", ["organiser", "proposer"], "县交通运输局")
    office.users.add("陈秘书", ["office_clerk"], "县政府办公室")
    return office


NOTICE = [("call_notice", "关于征集2025年度重大行政决策事项的通知".encode(), "notice.txt")]


def test_start_numbers_cases_from_the_shipped_patterns(
    database_url: str, tmp_path: Path, definitions: Definitions
) -> None:
    office = office_on(database_url, tmp_path, definitions)
    fields = {"title": "城区公交票价调整", "category": "public_policy", "source": "leader"}
    first = office.start("major_decision", "李明", fields, on="2025-03-03")
    second = office.propose("李明", fields, on="2025-04-01")  # the shortcut: the workflow with a catalogue link
    given = office.start("major_decision", "李明", fields, on="2025-04-02", case_id="D-2025-050")
    after = office.start("major_decision", "李明", fields, on="2025-04-03")
    catalogue = office.open_catalogue(2025, "陈秘书", {"deadline": "2024-12-10"}, NOTICE, "2024-11-10")
    assert [f.case.id for f in (first, second, given, after, catalogue)] == [
        "D-2025-001",
        "D-2025-002",
        "D-2025-050",
        "D-2025-051",
        "CAT-2025",  # the catalogue's year, not the year it was opened in
    ]
    assert first.record.trigger == "propose" and catalogue.record.trigger == "open_call"
    assert catalogue.case.attributes["year"] == 2025
    assert office.catalogue_versions(2025) == []  # found through its pattern: opened, not compiled
    with pytest.raises(UsageError, match="already exists"):
        office.open_catalogue(2025, "陈秘书", {"deadline": "2024-12-10"}, NOTICE, "2024-11-11")


RENAMED = {
    "workflows/major_decision.yaml": [
        (r"\bpropose\b", "submit_idea"),
        (r"\btitle\b", "matter_name"),
        (r"\bcatalogue_item\b", "plan_item"),
        (r"  plan_item: \{field: plan_item", "  catalogue_item: {field: plan_item"),
        (r"\n  matter_name: matter_name\n", "\n  title: matter_name\n"),
        (r'id: "D-\{year\}-\{seq:3\}"', 'id: "JC-{field.category}-{year}-{seq:2}"'),
    ],
    "workflows/catalogue.yaml": [(r"\byear\b", "plan_year"), (r"CAT-", "ML-")],
    "rules/national.yaml": [(r"\bpropose\b", "submit_idea")],
    "rules/hunan.yaml": [(r"\bcatalogue_item\b", "plan_item")],
}


def test_a_renamed_start_trigger_id_title_and_catalogue_item_work_as_declared(
    database_url: str, tmp_path: Path
) -> None:
    definitions = definitions_of(copied_tree(tmp_path, RENAMED))
    office = office_on(database_url, tmp_path, definitions)
    opened = office.open_catalogue(2025, "陈秘书", {"deadline": "2024-12-10"}, NOTICE, "2024-11-10")
    assert opened.case.id == "ML-2025" and opened.case.attributes["plan_year"] == 2025
    fields = {
        "matter_name": "城区公交票价调整",
        "category": "public_policy",
        "source": "leader",
        "plan_item": "2025-02",
    }
    fired = office.propose("李明", fields, on="2025-03-03")
    assert fired.case.id == "JC-public_policy-2025-01" and fired.record.trigger == "submit_idea"
    rows = {i: title for i, _, _, title, _ in office.list_cases()}
    assert rows["JC-public_policy-2025-01"] == "城区公交票价调整"  # the title column, from the declared field
    head = office.cases.repository.head(fired.case.id)
    assert head is not None and head.catalogue_item == "2025-02"  # the catalogue_item column, likewise
    assert office.cases.repository.decided_catalogue_items(["2025-02"], ["proposed"]) == {"2025-02"}
    assert office.show(fired.case.id).title == "城区公交票价调整"
    assert office.audit.verify().ok  # verification expects the same columns


def test_start_without_a_pattern_asks_for_the_id(tmp_path: Path) -> None:
    definitions = definitions_of(
        copied_tree(tmp_path, {"workflows/major_decision.yaml": [(r'  id: "D-\{year\}-\{seq:3\}"\n', "")]})
    )
    office = Office(memory_store(), definitions, clock=fixed_clock)
    office.users.add("李明", ["proposer"], "县交通运输局")
    fields = {"title": "城区公交票价调整", "category": "public_policy", "source": "leader"}
    with pytest.raises(UsageError, match=r"declares no case id pattern"):
        office.start("major_decision", "李明", fields, on="2025-03-03")
    assert office.start("major_decision", "李明", fields, on="2025-03-03", case_id="X-1").case.id == "X-1"


# -- 3. the demo's scenario files ----------------------------------------------------------------------


def scenario_dir(tmp_path: Path, files: Mapping[str, str]) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    shutil.copy2(demo_directory() / "00-people.yaml", directory / "00-people.yaml")
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


OPEN_CATALOGUE = """steps:
  - start: catalogue
    as: cat
    actor: 陈秘书
    on: 2024-11-10
    fields: {year: 2025, deadline: 2024-12-10}
    documents: [{kind: call_notice, title: 通知}]
"""


def test_the_shipped_scenarios_are_valid_and_name_only_what_the_definitions_have(definitions: Definitions) -> None:
    scenarios = load_scenarios(demo_directory())
    assert [Path(s.file).name for s in scenarios][:3] == ["00-people.yaml", "10-catalogue.yaml", "20-decisions.yaml"]
    from decisions.loading.scenarios import check_scenarios

    check_scenarios(scenarios, definitions)  # raises on any unknown workflow, trigger, field, kind, role


def test_a_step_marked_refused_that_is_accepted_fails_the_demo_naming_the_step(
    tmp_path: Path, definitions: Definitions
) -> None:
    text = OPEN_CATALOGUE + "  - {act: close_call, case: cat, actor: 陈秘书, on: 2024-12-11, refused: true}\n"
    directory = scenario_dir(tmp_path, {"10-wrong.yaml": text})
    office = Office(memory_store(), definitions, clock=fixed_clock)
    lines: list[str] = []
    with pytest.raises(DefinitionError) as exc:
        run_demo(office, lines.append, load_scenarios(directory))
    (problem,) = exc.value.problems
    assert problem.file.endswith("10-wrong.yaml") and problem.line == 8 and problem.path == "steps[1]"
    assert "marked 'refused: true' but 'close_call' was accepted" in problem.message


def test_a_refused_step_prints_its_unmet_rules_and_the_demo_goes_on(tmp_path: Path, definitions: Definitions) -> None:
    text = OPEN_CATALOGUE + (
        "  - act: compile_catalogue\n    case: cat\n    actor: 陈秘书\n    on: 2024-11-12\n    refused: true\n"
        "    say: {zh: 征集未结束即汇编, en: 'compile during the call:'}\n"
        "  - {act: close_call, case: cat, actor: 陈秘书, on: 2024-12-11}\n"
    )
    office = Office(memory_store(), definitions, clock=fixed_clock)
    lines: list[str] = []
    ids = run_demo(office, lines.append, load_scenarios(scenario_dir(tmp_path, {"10-ok.yaml": text})))
    assert ids == {"cat": "CAT-2025"}
    at = lines.index("  征集未结束即汇编 / compile during the call:")
    assert lines[at + 1].startswith("    ✗ [engine.unavailable]")
    assert "close_call" in lines[-1] and office.show("CAT-2025").view.case.state == "screening"


def test_a_malformed_scenario_file_is_refused_located_with_every_problem(tmp_path: Path) -> None:
    text = """heading: {zh: 坏, en: bad}
colour: red
steps:
  - start: catalogue
    as: cat
    actor: 无名氏
    on: 2024-11-10
  - act: close_call
    case: nowhere
    actor: 陈秘书
    on: 11/12/2024
  - {say: {zh: 说, en: say}, timeline: cat}
  - {timeline: cat, fields: {a: b}}
"""
    with pytest.raises(DefinitionError) as exc:
        load_scenarios(scenario_dir(tmp_path, {"10-bad.yaml": text}))
    problems = exc.value.problems
    assert all(p.file.endswith("10-bad.yaml") and p.line is not None for p in problems)
    located(problems, "colour", "colour")
    located(problems, "steps[0]", "unknown person '无名氏'")
    located(problems, "steps[1]", "unknown case 'nowhere'")
    located(problems, "steps[1].on", "")
    located(problems, "steps[3].fields", "")


def test_names_a_scenario_uses_are_checked_against_the_definitions_before_anything_is_played(
    tmp_path: Path, definitions: Definitions
) -> None:
    text = """steps:
  - start: catalog
    as: typo
    actor: 陈秘书
    on: 2024-11-10
  - start: catalogue
    as: cat
    actor: 陈秘书
    on: 2024-11-10
    fields: {year: 2025, colour: red}
    documents: [{kind: memo, title: 备忘}]
  - {act: close_the_call, case: cat, actor: 陈秘书, on: 2024-12-11}
  - {say: {zh: 说明, en: note, cite: national.no_such_rule}}
"""
    office = Office(memory_store(), definitions, clock=fixed_clock)
    with pytest.raises(DefinitionError) as exc:
        run_demo(office, lambda line: None, load_scenarios(scenario_dir(tmp_path, {"10-names.yaml": text})))
    problems = exc.value.problems
    located(problems, "steps[0]", "unknown workflow 'catalog'")
    located(problems, "steps[1]", "'open_call' carries no field 'colour'")
    located(problems, "steps[1]", "unknown document kind 'memo'")
    located(problems, "steps[2]", "unknown action 'close_the_call' of workflow 'catalogue'")
    located(problems, "steps[3]", "unknown rule 'national.no_such_rule'")
    assert office.list_cases() == [] and office.users.list() == []  # nothing was played


def test_a_case_recorded_before_case_sections_keeps_its_columns(database_url: str, tmp_path: Path) -> None:
    """Definitions stored before workflows declared ``case:`` name no title field: the columns of
    such a case follow the deployment's declaration of the same workflow, so its row keeps the values
    the earlier code wrote (the attribute ``title``), verification agrees, and a new action keeps them."""
    from sqlalchemy import text

    from decisions.service.audit import AuditService
    from decisions.service.cases import CaseService
    from tests.stores import play, supplied_catalogue
    from tests.support import MAIN_PATH

    catalogue_block = r'case:\n  start: open_call\n  id: "CAT-\{field.year\}"\n  year_field: year\n'
    earlier = definitions_of(
        copied_tree(
            tmp_path / "earlier",
            {
                "workflows/major_decision.yaml": [(re.escape(CASE_BLOCK), "")],
                "workflows/catalogue.yaml": [(catalogue_block, "")],
            },
        )
    )
    database = Database(database_url, documents=tmp_path / "documents")
    database.migrate()
    before = CaseService(database, earlier, clock=fixed_clock, outside=supplied_catalogue)
    play(before, "D-1", MAIN_PATH[:1])
    title = MAIN_PATH[0].fields["title"]
    with database.engine.begin() as conn:  # what the code before `case:` sections wrote in the row
        conn.execute(text("UPDATE cases SET title = :t WHERE id = 'D-1'"), {"t": title})
    now = CaseService(
        database, definitions_of(copied_tree(tmp_path / "now")), clock=fixed_clock, outside=supplied_catalogue
    )
    assert AuditService(now).verify().ok
    play(now, "D-1", MAIN_PATH[1:3], start=False)
    head = now.repository.head("D-1")
    assert head is not None and head.definitions == earlier.fingerprint  # the case keeps its own definitions
    assert head.title == title and head.version == 3 and AuditService(now).verify().ok


# -- 4. the commands ---------------------------------------------------------------------------------


def test_decisions_start_opens_any_workflow_and_the_demo_refuses_a_bad_scenario_before_any_database(
    database_url: str, tmp_path: Path
) -> None:
    from tests.test_cli_e2e import Cli

    cli = Cli(database_url, tmp_path / "documents")
    cli.ok("init")
    cli.ok("user", "add", "管理员", "--admin")
    cli.ok("user", "add", "陈秘书", "--role", "office_clerk", "--as", "管理员")
    notice = tmp_path / "通知.txt"
    notice.write_text("关于征集2026年度重大行政决策事项的通知", encoding="utf-8")
    args = ("--as", "陈秘书", "--on", "2025-11-10", "--set", "year=2026", "--set", "deadline=2025-12-10")
    opened = cli.json("start", "catalogue", *args, "--attach", f"call_notice={notice}")
    assert opened["case"] == "CAT-2026" and opened["trigger"] == "open_call"
    unknown = cli("start", "catalog", *args)
    assert unknown.code == 2 and "unknown workflow 'catalog'" in unknown.err

    bad = scenario_dir(
        tmp_path, {"10-bad.yaml": "steps:\n  - {act: close_call, case: nowhere, actor: 陈秘书, on: 2025-01-01}\n"}
    )
    demo_db = tmp_path / "never.sqlite"
    refused = cli("demo", "--scenarios", str(bad), db=f"sqlite:///{demo_db}")
    assert refused.code == 1 and "10-bad.yaml:2: steps[0]: unknown case 'nowhere'" in refused.err
    assert not demo_db.exists()
