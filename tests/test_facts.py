"""The fact table (`decisions.rules.facts`) is the one list of what a condition may read: the loader
admits exactly its facts, with its types, and the evaluator answers every one of them, with a value
of that type; anything else is a located load error, and at run time an ERROR, never a value."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from decisions.definitions import Definitions
from decisions.errors import DefinitionError
from decisions.loading.rulepacks import scope_for
from decisions.model import Action, Actor, Case, Record
from decisions.rules.conditions import MISSING, PENDING, Compare, Env, Fact, Literal, Status
from decisions.rules.facts import (
    FACTS,
    FIELD_FACTS,
    FIELD_TYPES,
    OUTSIDE_FACTS,
    RECORD_FACTS,
    VIEWS_FACTS,
    EvalFailure,
    FactSource,
    FactType,
    Views,
    record_fields,
    record_value,
    workflow_facts,
)
from decisions.workflow.definition import FieldDef, FieldType, WorkflowDef
from tests.test_packs import county, load

D = date
ON = D(2025, 3, 10)
VIEWS = [
    {"member": "wang", "position": "approve"},
    {"member": "zhao", "position": "reject"},
    {"member": "sun", "position": "approve"},
    {"member": "qian", "position": "abstain"},
    {"member": "li", "position": "reject", "head": True},
]
PYTHON_TYPES: dict[FactType, type | tuple[type, ...]] = {
    FactType.BOOL: bool,
    FactType.INT: int,
    FactType.STR: str,
    FactType.DATE: date,
    FactType.LIST: list,
    FactType.VIEWS: list,
}


def sample(f: FieldDef) -> Any:
    """A value of field ``f`` as an action would carry it."""
    return {
        FieldType.DATE: ON,
        FieldType.INTEGER: 2,
        FieldType.BOOLEAN: True,
        FieldType.ENUM: f.values[0] if f.values else "x",
        FieldType.LIST: ["a", "b"],
        FieldType.VIEWS: VIEWS,
    }.get(f.type, "text")


def sample_env(wf: WorkflowDef, *, preview: bool = False, with_action: bool = True) -> Env:
    """A case of ``wf`` one record in, every attribute set, and an action carrying every field."""
    fields = {f.name: sample(f) for f in wf.fields.values()}
    record = Record(1, "t", "k", "clerk", "organiser", "office", ON, "a", "b", fields, (), 1, True)
    case = Case(
        "C-1", wf.name, next(iter(wf.states)), {n: v for n, v in fields.items() if wf.fields[n].attribute}, (record,)
    )
    action = Action(
        "t", Actor("clerk", frozenset({"organiser"}), "office"), ON, fields, known={n: ["item"] for n in OUTSIDE_FACTS}
    )
    return Env(
        case,
        action if with_action else None,
        "organiser",
        {},
        calendar=None,  # type: ignore[arg-type]  # no fact reads the calendar
        attributes=case.attributes,
        preview=preview,
    )


def entry_type(wf: WorkflowDef, path: str) -> FactType:
    """The type the table declares for ``path``: a built-in, a field, or a derivation of a views field."""
    if path in FACTS:
        return FACTS[path].type
    namespace, _, rest = path.partition(".")
    name, _, derived = rest.partition(".")
    f = wf.fields[name]
    if derived:
        assert namespace == "action" and f.type is FieldType.VIEWS, path
        return VIEWS_FACTS[derived].type
    assert f.attribute or not FIELD_FACTS[namespace].attributes_only, path
    return FIELD_TYPES[f.type]


def test_the_loader_admits_exactly_the_facts_of_the_table(definitions: Definitions) -> None:
    for wf in definitions.workflows.values():
        scope = scope_for(wf, {})
        admitted = workflow_facts(wf)
        assert set(FACTS) <= set(scope.facts)
        assert dict(scope.facts) == {path: t for path, (t, _) in admitted.items()}
        for path, t in scope.facts.items():
            assert t is entry_type(wf, path), path
        assert scope.enums["decision.state"] == tuple(wf.states)
        assert dict(scope.record_fields) == record_fields(wf)
        assert set(RECORD_FACTS) <= set(scope.record_fields)


def test_every_admitted_fact_evaluates_to_a_value_of_its_type(definitions: Definitions) -> None:
    for wf in definitions.workflows.values():
        env = sample_env(wf)
        for path, (t, values) in workflow_facts(wf).items():
            value = env.fact(path)
            assert value is not MISSING and value is not PENDING, path
            assert isinstance(value, PYTHON_TYPES[t]), (path, t, value)
            assert t is not FactType.INT or not isinstance(value, bool), path
            if values is not None and not path.endswith(".head_position"):
                assert value in values, path


def test_every_record_field_reads_a_value_of_its_type(definitions: Definitions) -> None:
    for wf in definitions.workflows.values():
        (record,) = sample_env(wf).case.records
        for name, t in record_fields(wf).items():
            value = record_value(record, name)
            assert isinstance(value, PYTHON_TYPES[t]), (name, t, value)


def test_facts_of_the_action_are_pending_until_it_is_attempted(definitions: Definitions) -> None:
    wf = definitions.workflow("major_decision")
    before, preview = sample_env(wf, with_action=False), sample_env(wf, preview=True)
    for path in workflow_facts(wf):
        source = FACTS[path].source if path in FACTS else FIELD_FACTS[path.partition(".")[0]].source
        if source is FactSource.CASE:
            assert before.fact(path) is not PENDING, path
        else:
            assert before.fact(path) is PENDING, path
    assert preview.fact("action.changes_draft") is PENDING  # the documents are not known yet
    assert preview.fact("action.on") == ON


def test_an_outside_fact_the_service_did_not_supply_cannot_be_judged(definitions: Definitions) -> None:
    env = sample_env(definitions.workflow("major_decision"))
    assert env.action is not None
    bare = Env(env.case, Action("t", env.action.actor, ON), "organiser", {}, calendar=env.calendar)
    for path, why in OUTSIDE_FACTS.items():
        assert FACTS[path].source is FactSource.OUTSIDE
        with pytest.raises(EvalFailure, match="catalogue"):
            bare.fact(path)
        assert why and "/" in why  # zh / en


@pytest.mark.parametrize("path", ["foo.bar", "catalogue.items", "decision", "action.views.loudest"])
def test_a_fact_outside_the_table_is_an_error_never_a_value(definitions: Definitions, path: str) -> None:
    env = sample_env(definitions.workflow("major_decision"))
    verdict = Compare("eq", Fact(path), Literal(1)).evaluate(env)
    assert verdict.status is Status.ERROR
    assert "unknown fact" in verdict.errors[0]


def test_meeting_views_are_counted_by_declared_derivations() -> None:
    """The head speaks last and differs from the plurality of the others (abstentions are no view)."""
    derived = {name: d.read(Views(VIEWS, abstain="abstain")) for name, d in VIEWS_FACTS.items()}
    assert derived == {
        "members": ["wang", "zhao", "sun", "qian", "li"],
        "head_last": True,
        "head_position": "reject",
        "majority": "approve",
        "dissenters": ["wang", "sun", "qian"],
    }
    assert all(d.source is FactSource.VIEWS for d in VIEWS_FACTS.values())
    tie = Views([*VIEWS[:2], VIEWS[-1]], abstain="abstain")
    assert VIEWS_FACTS["majority"].read(tie) == "tie"
    assert VIEWS_FACTS["majority"].read(Views([VIEWS[3], VIEWS[-1]], abstain="abstain")) is MISSING
    assert VIEWS_FACTS["majority"].read(Views([VIEWS[3], VIEWS[-1]])) == "abstain"  # declared by no field: a view
    assert VIEWS_FACTS["head_last"].read(Views(VIEWS[::-1])) is False


UNKNOWN_FACTS = """  - id: reads_unknown_facts
    workflow: major_decision
    triggers: [publish]
    strength: hard
    citation: {source: reference_local, article: 假设的县规定, article_en: a hypothetical county rule}
    require:
      all:
        - {eq: [{fact: action.views.loudest}, wang]}
        - {present: {fact: decision.mood}}
    message: {zh: 未知事实, en: unknown facts}
"""


def test_an_unknown_fact_in_a_pack_is_a_located_load_error(tmp_path: Path) -> None:
    text = county() + UNKNOWN_FACTS
    with pytest.raises(DefinitionError) as info:
        load(tmp_path, ("liling.yaml", text))
    problems = [p for p in info.value.problems if "unknown fact" in p.message]
    assert [p.message for p in problems] == ["unknown fact 'action.views.loudest'", "unknown fact 'decision.mood'"]
    lines = text.splitlines()
    assert [(p.file.endswith("liling.yaml"), p.line) for p in problems] == [
        (True, lines.index("        - {eq: [{fact: action.views.loudest}, wang]}") + 1),
        (True, lines.index("        - {present: {fact: decision.mood}}") + 1),
    ]
