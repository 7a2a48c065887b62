"""A views field declares which of its values is an abstention (``abstain:``): an abstaining member
states no view, and the majority (``action.<views field>.majority``) is counted without them. The
value is the workflow's, not the engine's: a field that declares none has no abstentions."""

from __future__ import annotations

from pathlib import Path

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import DefinitionError
from decisions.loading import load_definitions
from decisions.rules.evaluate import Outcome
from tests.support import ROOT, Story, V
from tests.test_rules import meeting, spoken

DECLARED = "    values: [approve, reject, revise, defer, abstain]\n    abstain: abstain"
RULE = "national.head_reasons_when_departing_from_majority"


def shipped_with(tmp_path: Path, old: str, new: str) -> Definitions:
    """The shipped deployment, its major-decision workflow edited (``old`` → ``new``)."""
    d = load_deployment(ROOT / "decisions.yaml")
    text = (ROOT / "workflows" / "major_decision.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    edited = tmp_path / "major_decision.yaml"
    edited.write_text(text.replace(old, new), encoding="utf-8")
    workflows = [edited if w.name == edited.name else w for w in d.workflows]
    return load_definitions(workflows, d.rule_packs, d.calendar)


def problems(tmp_path: Path, new: str, old: str = DECLARED) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        shipped_with(tmp_path, old, new)
    return [f"{p.file.rsplit('/', 1)[-1]}:{p.line}: {p.path}: {p.message}" for p in caught.value.problems]


def head_reasons_rule(definitions: Definitions) -> Outcome:
    """The head approves after two abstentions and one approval: must the head give reasons?"""
    story = Story(definitions).walk(V("approve"))
    step = meeting(views=spoken(V("abstain"), V("abstain"), V("approve"), head=V("approve")))
    _, results = story.engine.check(story.case, story.action(step))
    (result,) = [r for r in results if r.rule.id == RULE]
    return result.outcome


def test_an_abstention_is_no_view_where_the_field_declares_it(definitions: Definitions) -> None:
    assert head_reasons_rule(definitions) is Outcome.NOT_APPLICABLE  # the majority approves, as the head


@pytest.mark.skipif(V("abstain") != "abstain", reason="edits the shipped text")
def test_without_the_declaration_abstain_is_a_view_like_any_other(tmp_path: Path) -> None:
    undeclared = shipped_with(tmp_path, DECLARED, "    values: [approve, reject, revise, defer, abstain]")
    assert head_reasons_rule(undeclared) is Outcome.FAILED  # two "abstain" views outvote one approval


def test_the_abstention_is_one_of_the_field_s_values(tmp_path: Path) -> None:
    found = problems(tmp_path, "    values: [approve, reject, revise, defer, abstain]\n    abstain: blank")
    assert len(found) == 1
    assert found[0].startswith("major_decision.yaml:")
    assert "fields.views.abstain: abstention 'blank' is not one of the field's values (approve, reject" in found[0]


def test_only_a_views_field_declares_an_abstention(tmp_path: Path) -> None:
    old = "    values: [executive, plenary]\n"
    found = problems(tmp_path, old + "    abstain: plenary\n", old)
    assert len(found) == 1
    assert "fields.meeting_type.abstain: only a views field declares its abstention value, not a enum field" in found[0]


def test_the_abstention_is_a_name(tmp_path: Path) -> None:
    found = problems(tmp_path, "    values: [approve, reject, revise, defer, abstain]\n    abstain: [abstain]")
    assert any("fields.views.abstain" in p for p in found), found
