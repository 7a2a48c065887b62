"""The definitions own the whole vocabulary (issue 12, item 1): no name of a shipped workflow is
written in the engine's Python, and the main-path story, the deadline and the catalogue tests pass
against a copy of the deployment in which every such name is renamed (tests/renaming.py), on
SQLite and PostgreSQL.

The two proofs wait on the branches that move the names out of Python (case ids and start
triggers, deadlines and the inbox, catalogue versions): until they are merged both are expected
to fail, and are marked so (strictly: the marker must go once they pass).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from decisions.cli import app
from decisions.definitions import Definitions
from decisions.loading.yamlsafe import load_yaml_text
from tests.renaming import KEYWORDS, rename_data, renamed_tree, vocabulary, workflow_names
from tests.support import ROOT, load_deployment_definitions

PACKAGE = ROOT / "decisions"
SHIPPED = ROOT / "decisions.yaml"

RENAMED_SUITE = (
    "tests/test_engine.py",  # the main path through the engine, and the engine's refusals
    "tests/test_store_contract.py",  # the main path through the service, on memory, SQLite and PostgreSQL
    "tests/test_deadlines.py",
    "tests/test_catalogue_item.py",  # the catalogue played and looked up by the service, on both databases
    "tests/test_rules.py",  # every rule along the main path and the catalogue's path, and their deployments
    "tests/test_abstention.py",
    "tests/test_report.py",  # the annual report's figures of the demo year, recomputed from the event rows
)
"""The modules that name the shipped workflows only through `tests.support.V`."""

ALLOWED: dict[tuple[str, str], str] = {
    ("decisions/rules/facts.py", "head"): "a key of the built-in views type's entries ({member, position, head})",
    ("decisions/workflow/engine.py", "head"): "a key of the built-in views type's entries (checked on input)",
    ("decisions/service/inputs.py", "head"): "a key of the built-in views type's entries (member:position:head)",
    ("decisions/dossier/collect.py", "head"): "a key of the built-in views type's entries (the chair's row)",
    ("decisions/store/database.py", "head"): "Alembic's name for the latest migration (upgrade to 'head')",
    ("decisions/rules/facts.py", "views"): "the views field type (FactType.VIEWS, FactSource.VIEWS)",
    ("decisions/workflow/definition.py", "views"): "the views field type (FieldType.VIEWS)",
    ("decisions/rules/facts.py", "decision"): "the fact namespace of case attributes (decision.<field>)",
    ("decisions/calendar/core.py", "year"): "a calendar unit (Unit.YEAR)",
    ("decisions/errors.py", "problem"): "the English noun of the definition error's summary",
    ("decisions/errors.py", "problems"): "the English noun of the definition error's summary (plural)",
    ("decisions/cli/workflow.py", "problems"): "a key of `workflow check --json`",
    ("decisions/cli/workflow.py", "summary"): "a key of `workflow check --json`",
    ("decisions/cli/people.py", "add"): "the CLI verbs `user add`, `unit add`",
    ("decisions/cli/people.py", "grant"): "the CLI verb `user grant` (a role to a person)",
    ("decisions/store/tables.py", "units"): "the table of units people belong to",
    ("decisions/store/migrations/versions/0006_people_history.py", "units"): "the table of units people belong to",
    ("decisions/cli/__init__.py", "propose"): "the CLI verb `decisions propose`: it starts the workflow whose cases "
    "implement catalogue items (`Office.proposal_workflow`), whatever its start trigger is called",
    ("decisions/cli/cases.py", "year"): "a key of `catalogue show --json` (the year asked for)",
    ("decisions/web/dossier.py", "year"): "the query and form parameter of a year's dossiers (/dossiers?year=)",
    ("decisions/cli/cases.py", "reason"): "a key of `catalogue show --json` (the version's adjustment reason)",
    ("decisions/cli/corrections.py", "reason"): "a key of `correct --json` (why the erratum corrects)",
    ("decisions/store/events.py", "reason"): "a key of an erratum event's body (why it corrects), the engine's own",
    ("decisions/cli/cases.py", "planned_by"): "a key of `inbox --json`'s late catalogue items (the item's due date)",
    ("decisions/service/office.py", "head"): "a key of the built-in views type's entries (the presiding member)",
    ("decisions/web/forms.py", "head"): "a key of the built-in views type's entries (the presiding member's row)",
    ("decisions/cli/labels.py", "head"): "a key of the built-in views type's entries (the presiding member)",
    ("decisions/workflow/case_ids.py", "year"): "the id pattern's own placeholder {year} (the start date's year)",
    ("decisions/cli/__init__.py", "serve"): "the CLI verb `decisions serve` (the web application)",
    ("decisions/cli/web.py", "serve"): "the CLI verb `decisions serve` (the web application)",
    ("decisions/web/app.py", "year"): "a key of the API's catalogue answer (the year asked for)",
    ("decisions/cli/report.py", "year"): "a key of `report --format json` (the year asked for)",
}
"""Literals that equal a workflow's name by coincidence, by module: each says what it is instead."""


def shipped() -> Definitions:
    return load_deployment_definitions(SHIPPED)


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def names_of_the_shipped_workflows(definitions: Definitions) -> dict[str, str]:
    """name → what it names, for every name of every shipped workflow and the workflows themselves,
    less the definition language's own keywords (a field called ``source`` or ``title`` is spelled
    like a keyword of the schemas; the keyword in Python is the language's, not the workflow's)."""
    out: dict[str, str] = {}
    for wf in definitions.workflows.values():
        out[wf.name] = "workflow"
        for kind, names in (
            ("state", wf.states),
            ("field", wf.fields),
            ("document kind", wf.documents),
            ("role", wf.roles),
            ("trigger", [t.trigger for t in wf.transitions]),
            ("record kind", [t.record or t.trigger for t in wf.transitions]),
            ("value", [v for f in wf.fields.values() for v in (*f.values, *f.value_labels)]),
        ):
            for n in names:
                out.setdefault(n, f"{kind} of {wf.name}")
    return {n: what for n, what in out.items() if n not in KEYWORDS}


def test_no_name_of_a_shipped_workflow_is_written_in_the_engine() -> None:
    names = names_of_the_shipped_workflows(shipped())
    offenders: list[str] = []
    for file in sorted(PACKAGE.rglob("*.py")):
        module = file.relative_to(ROOT).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=module)
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
                continue
            if node.value in names and (module, node.value) not in ALLOWED:
                offenders.append(f"{module}:{node.lineno}: {node.value!r} ({names[node.value]})")
    assert not offenders, f"{len(offenders)} names of shipped workflows in decisions/:\n" + "\n".join(offenders)


def test_every_allowed_literal_is_still_there() -> None:
    """The allow-list shrinks with the code: an entry whose literal is gone is removed."""
    stale = []
    for module, name in ALLOWED:
        tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
        if not any(isinstance(n, ast.Constant) and n.value == name for n in ast.walk(tree)):
            stale.append(f"{module}: {name!r}")
    assert not stale, "allow-list entries with no literal left: " + ", ".join(stale)


def test_the_renamer_renames_every_name_of_every_workflow(tmp_path: Path) -> None:
    """The copy has the shipped workflows, rules and stages, and not one of their names."""
    original = shipped()
    mapping = renamed_tree(original, tmp_path)
    renamed = load_deployment_definitions(tmp_path / "decisions.yaml")
    old_names = set(mapping)
    assert set(renamed.workflows) == set(original.workflows)
    for name, wf in renamed.workflows.items():
        before = original.workflows[name]
        now = workflow_names(wf)
        assert not now & old_names, f"{name} keeps {sorted(now & old_names)}"
        assert now == {mapping[n] for n in workflow_names(before)}
        assert len(wf.transitions) == len(before.transitions) and len(wf.gates) == len(before.gates)
        assert {g.rule for g in wf.gates.values()} == {g.rule for g in before.gates.values()}
    assert set(renamed.rulebook.rules) == set(original.rulebook.rules)
    for rule_id, rule in renamed.rulebook.rules.items():
        assert set(rule.triggers) == {mapping[t] for t in original.rulebook.rules[rule_id].triggers}, rule_id


def test_the_renamed_copy_passes_workflow_check(tmp_path: Path) -> None:
    renamed_tree(shipped(), tmp_path)
    result = CliRunner().invoke(app, ["workflow", "check", "--json", "--config", str(tmp_path / "decisions.yaml")])
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output


def test_the_main_path_deadline_and_catalogue_tests_pass_under_renamed_names() -> None:
    """The converted modules, run again in a fresh interpreter with every name renamed; their store
    tests run on SQLite and PostgreSQL there as here."""
    env = {**os.environ, "DECISIONS_TEST_VOCABULARY": "renamed"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *RENAMED_SUITE, "-q", "-p", "no:cacheprovider", "-rf", "--tb=line"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


ISSUE_12_SECTIONS = """
case:
  start: propose
  id: "CAT-{field.year}"
  title: title
deadlines:
  legality_review_period:
    label: {zh: 合法性审查期限, en: legality review}
    runs_in: [legality_submitted, under_review]
    seen_by: [legal_counsel]
    due: {record: review_submission, field: review_due}
    basis: {zh: 送审时确定, en: set when submitted}
  research:
    from: {record: launch}
    length: research_deadline
    stops: draft_change
    pauses_outside: true
states:
  decided: {label: {zh: 集体讨论通过, en: decided}, stage: collective_discussion, decision_taken: true}
inbox: {late_items_seen_by: [head, office_clerk]}
heading: {zh: 2025 年度, en: the 2025 catalogue}
people:
  - {name: 王县长, roles: [head], unit: 县人民政府}
steps:
  - say: {zh: 征集, en: propose}
  - start: catalogue
    as: cat
    actor: 陈秘书
    on: 2024-11-10
    fields: {deadline: 2024-12-10, source: department, views: "甲:approve,王县长:reject:head"}
    documents: [{kind: call_notice, title: 通知}]
  - act: suggest_item
    case: cat
"""


def test_the_renamer_covers_the_sections_issue_12_adds() -> None:
    """The walker knows no section by name: case ids and start triggers, deadlines, the inbox, the
    state flags and the demo scenarios are renamed by position (docs: tests/renaming.py)."""
    n = vocabulary(shipped())
    out = rename_data(load_yaml_text(ISSUE_12_SECTIONS, "sections.yaml").data, n)
    assert out["case"] == {"start": n["propose"], "id": "CAT-{field." + n["year"] + "}", "title": n["title"]}
    review = out["deadlines"]["legality_review_period"]
    assert review["runs_in"] == [n["legality_submitted"], n["under_review"]] and review["seen_by"] == [
        n["legal_counsel"]
    ]
    assert review["due"] == {"record": n["review_submission"], "field": n["review_due"]}
    assert review["label"] == {"zh": "合法性审查期限", "en": "legality review"}  # free text stays
    assert out["deadlines"]["research"] == {
        "from": {"record": n["launch"]},
        "length": "research_deadline",  # a pack parameter, not a workflow's name
        "stops": "draft_change",
        "pauses_outside": True,
    }
    assert out["states"][n["decided"]]["decision_taken"] is True
    assert out["states"][n["decided"]]["stage"] == "collective_discussion"
    assert out["inbox"] == {"late_items_seen_by": [n["head"], n["office_clerk"]]}
    assert out["people"] == [{"name": "王县长", "roles": [n["head"]], "unit": "县人民政府"}]
    start, act = out["steps"][1], out["steps"][2]
    assert start["start"] == "catalogue" and start["as"] == "cat"  # a workflow's name and an alias stay
    assert start["fields"] == {
        n["deadline"]: "2024-12-10",
        n["source"]: n["department"],  # a field spelled like a keyword is renamed where fields are keyed
        n["views"]: f"甲:{n['approve']},王县长:{n['reject']}:head",
    }
    assert start["documents"] == [{"kind": n["call_notice"], "title": "通知"}]
    assert act == {"act": n["suggest_item"], "case": "cat"}
    assert out["steps"][0] == {"say": {"zh": "征集", "en": "propose"}}
