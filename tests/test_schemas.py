"""The JSON Schemas of the definition files: valid, published in the package, satisfied by every
shipped file, and the source of the located structural errors (one message for one mistake)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from decisions.calendar.official import load_override_file
from decisions.config import load_deployment
from decisions.errors import DefinitionError, Problem
from decisions.loading import load_definitions
from decisions.loading.rulepacks import _LEVELS, _PARAM_KINDS
from decisions.loading.schema import KINDS, Kind, check_structure, schema_text
from decisions.loading.yamlsafe import load_yaml_file
from decisions.rules.definitions import Strength
from decisions.workflow.definition import FieldType

ROOT = Path(__file__).resolve().parent.parent
SHIPPED: list[tuple[Kind, Path]] = [
    *(("workflow", p) for p in sorted((ROOT / "workflows").glob("*.yaml"))),
    *(("rulepack", p) for p in sorted((ROOT / "rules").glob("*.yaml")) if p.name != "calendar.yaml"),
    ("calendar", ROOT / "rules" / "calendar.yaml"),
    ("deployment", ROOT / "decisions.yaml"),
]


def schema(kind: Kind) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(schema_text(kind))
    return loaded


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_a_valid_draft_2020_12_schema_with_an_id_title_and_description(kind: Kind) -> None:
    s = schema(kind)
    Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert str(s["$id"]).endswith(f"/{kind}.schema.json")
    assert s["title"] and s["description"]
    assert (ROOT / "decisions" / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8") == schema_text(kind)


@pytest.mark.parametrize(("kind", "path"), SHIPPED, ids=[p.name for _, p in SHIPPED])
def test_each_shipped_file_validates_against_its_schema(kind: Kind, path: Path) -> None:
    assert check_structure(load_yaml_file(path), kind).problems == ()


def test_the_closed_vocabularies_of_the_schemas_are_those_of_the_code() -> None:
    wf = schema("workflow")["$defs"]
    pack = schema("rulepack")
    assert isinstance(wf, dict) and isinstance(pack, dict)
    field_types = schema("workflow")["properties"]["fields"]["additionalProperties"]["properties"]["type"]  # type: ignore[index]
    assert field_types["enum"] == [t.value for t in FieldType]
    assert pack["$defs"]["rule"]["properties"]["strength"]["enum"] == [s.value for s in Strength]
    assert pack["properties"]["pack"]["properties"]["level"]["enum"] == list(_LEVELS)
    assert pack["properties"]["parameters"]["additionalProperties"]["properties"]["kind"]["enum"] == list(_PARAM_KINDS)


def _broken(tmp_path: Path, source: Path, old: str, new: str) -> tuple[Path, int]:
    text = source.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    broken = text.replace(old, new, 1)
    target = tmp_path / source.name
    target.write_text(broken, encoding="utf-8")
    start = broken.index(new) + len(new) - len(new.lstrip("\n"))  # the changed line itself
    return target, broken[:start].count("\n") + 1


def _definitions(tmp_path: Path, workflow: Path | None = None, pack: Path | None = None) -> list[Problem]:
    workflows = sorted((ROOT / "workflows").glob("*.yaml"))
    if workflow is not None:
        workflows = [workflow if p.name == workflow.name else p for p in workflows]
    packs = [ROOT / "rules" / n for n in ("national.yaml", "hunan.yaml", "youxian.yaml")]
    if pack is not None:
        packs = [pack if p.name == pack.name else p for p in packs]
    with pytest.raises(DefinitionError) as caught:
        load_definitions(workflows, packs)
    return caught.value.problems


def test_a_structural_mistake_in_a_workflow_is_one_located_problem(tmp_path: Path) -> None:
    path, line = _broken(
        tmp_path,
        ROOT / "workflows" / "major_decision.yaml",
        "\n  archived: {label: {zh: 已归档, en: Archived}, decision_taken: true, stage: archiving, final: true}",
        "\n  archived: {label: {zh: 已归档, en: Archived}, decision_taken: true, stage: archiving, final: 1, colour: red}",
    )
    problems = _definitions(tmp_path, workflow=path)
    at = [(p.line, p.path, p.message) for p in problems if p.path.startswith("states.archived.")]
    assert set(at) == {
        (line, "states.archived.final", "expected true or false, found an integer"),
        (
            line,
            "states.archived.colour",
            "unknown key 'colour' (expected one of: approval, decision_taken, discussion, final, label, stage)",
        ),
    }, problems
    assert len(at) == 2  # the reader adds no second message for what the schema reported


def test_a_structural_mistake_in_a_rule_pack_is_located_with_the_allowed_values(tmp_path: Path) -> None:
    text = (ROOT / "rules" / "hunan.yaml").read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.strip().startswith("strength: hard"))
    path, line = _broken(tmp_path, ROOT / "rules" / "hunan.yaml", old, old.replace("hard", "strict"))
    problems = [p for p in _definitions(tmp_path, pack=path) if p.file == str(path)]
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.line == line
    assert problem.path.startswith("rules[") and problem.path.endswith("].strength")
    assert problem.message == "strength must be one of hard, default_minimum, policy, found 'strict'"


def test_a_structural_mistake_in_the_calendar_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "years:\n  2027:\n    source: 国办发明电〔2026〕1号\n    holidays:\n"
        "      - {name: 元旦, from: 2027-01-01, to: 2027-01-01, note: x}\n    workdays: soon\n",
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        load_override_file(path)
    assert {(p.line, p.path, p.message) for p in caught.value.problems} == {
        (5, "years.2027.holidays[0].note", "unknown key 'note' (expected one of: from, name, to)"),
        (
            6,
            "years.2027.workdays",
            "expected a list or nothing (a list of make-up working days, 调休上班), found a string",
        ),
    }


def test_a_structural_mistake_in_the_deployment_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text("workflows: 5\nrule_packs: []\npacks: [x.yaml]\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_deployment(path)
    assert {(p.line, p.path, p.message) for p in caught.value.problems} == {
        (1, "workflows", "expected a string or a list, found an integer"),
        (2, "rule_packs", "lists at least one file"),
        (3, "packs", "unknown key 'packs' (expected one of: calendar, rule_packs, workflows)"),
    }


def test_a_missing_key_is_reported_once_on_its_mapping_and_the_rest_still_checked(tmp_path: Path) -> None:
    path, line = _broken(
        tmp_path,
        ROOT / "workflows" / "major_decision.yaml",
        "\n  archived: {label: {zh: 已归档, en: Archived}, decision_taken: true, stage",
        "\n  archived: {label: {zh: '', en: Archived}, decision_taken: true, place",
    )
    problems = [p for p in _definitions(tmp_path, workflow=path) if p.file == str(path)]
    structural = [(p.line, p.path, p.message) for p in problems if p.path.startswith("states.archived")]
    assert len(structural) == 3
    assert set(structural) == {
        (line, "states.archived", "missing required key 'stage'"),
        (line, "states.archived.label.zh", "must be a non-empty string"),
        (
            line,
            "states.archived.place",
            "unknown key 'place' (expected one of: approval, decision_taken, discussion, final, label, stage)",
        ),
    }, problems


def test_a_structural_message_quotes_a_hostile_key_escaped_and_bounded(tmp_path: Path) -> None:
    key = "k\u202e" + "x" * 100_000  # a right-to-left override, then a very long name
    path = tmp_path / "decisions.yaml"
    path.write_text(
        f"workflows: [a.yaml]\nrule_packs: [b.yaml]\n? {key}\n: 1\n", encoding="utf-8"
    )  # explicit: no 1024 limit
    with pytest.raises(DefinitionError) as caught:
        load_deployment(path)
    (unknown,) = [p for p in caught.value.problems if p.line == 3]
    assert unknown.message.startswith("unknown key 'k\\u202exxx")
    assert "100002 characters" in unknown.message and len(unknown.message) < 1_000
