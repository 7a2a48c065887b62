"""Field constraints declared in the workflow YAML (issue 13, item 4): sanity checks on what an action
carries (a date after the action's day or another date, a catalogue item that is on the published
catalogue, a plausible year), each a hard rule of the workflow with its citation and the fix in its
message; a bad constraint is refused at load, located. No value or name of them is in Python."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import DefinitionError
from decisions.loading import load_definitions
from tests.support import CATALOGUE_PATH, MAIN_PATH, ROOT, Story, V, rule_ids

D = date
OPEN_CALL = CATALOGUE_PATH[0]
CONSULT = next(s for s in MAIN_PATH if s.trigger == V("open_consultation"))
LAUNCH = next(s for s in MAIN_PATH if s.trigger == V("launch"))


def _catalogue(definitions: Definitions) -> Story:
    return Story(definitions, "catalogue", case_id="CAT-2025")


def _open_call(definitions: Definitions, **fields: Any) -> set[str]:
    story = _catalogue(definitions)
    refused = story.refused(
        OPEN_CALL.trigger, OPEN_CALL.actor, OPEN_CALL.on, {**OPEN_CALL.fields, **fields}, OPEN_CALL.docs
    )
    return rule_ids(refused)


def test_a_call_deadline_a_year_before_the_call_opens_is_refused_with_the_fix(definitions: Definitions) -> None:
    story = _catalogue(definitions)
    fields = {**OPEN_CALL.fields, V("deadline"): D(2023, 12, 10)}  # the call opens 2024-11-10
    refused = story.refused(OPEN_CALL.trigger, OPEN_CALL.actor, OPEN_CALL.on, fields, OPEN_CALL.docs)
    assert "catalogue.deadline.after_the_call_opens" in rule_ids(refused)
    unmet = next(u for u in refused.unmet if u.rule_id == "catalogue.deadline.after_the_call_opens")
    assert "give a later date" in unmet.message_en and "（出处未核实" in unmet.citation
    assert _open_call(definitions, **{V("deadline"): D(2024, 11, 10)}) >= {"catalogue.deadline.after_the_call_opens"}
    assert _open_call(definitions, **{V("deadline"): D(2026, 12, 10)}) == {
        "catalogue.deadline.within_a_year_of_the_call"
    }
    story.step(OPEN_CALL)  # the day after it opens, a month after: accepted
    assert story.case.state == V("collecting")


def test_an_implausible_catalogue_year_is_refused(definitions: Definitions) -> None:
    assert _open_call(definitions, **{V("year"): 20255}) == {"catalogue.year.plausible_year"}
    assert _open_call(definitions, **{V("year"): 1999}) == {"catalogue.year.plausible_year"}


def test_a_comment_deadline_before_the_notice_or_decades_ahead_is_refused(definitions: Definitions) -> None:
    story = Story(definitions).walk(CONSULT.trigger)
    for deadline, rule in [
        (D(2025, 3, 1), "major_decision.comment_deadline.not_before_the_notice"),
        (D(2062, 4, 14), "major_decision.comment_deadline.within_a_year_of_the_notice"),
    ]:
        fields = {**CONSULT.fields, V("comment_deadline"): deadline, V("shortening_reason"): "紧急"}
        refused = story.refused(CONSULT.trigger, CONSULT.actor, CONSULT.on, fields, CONSULT.docs)
        assert rule in rule_ids(refused)
    story.step(CONSULT)
    assert story.case.state == V("public_consultation")


def test_a_catalogue_item_that_is_not_on_the_published_catalogue_is_refused(definitions: Definitions) -> None:
    """2099-99 is no item of the 2025 catalogue: even recorded as off-catalogue, it is refused."""
    story = Story(definitions).walk(LAUNCH.trigger)
    fields = {**LAUNCH.fields, V("catalogue_item"): "2099-99", V("off_catalogue_reason"): "突发事件应对"}
    refused = story.refused(LAUNCH.trigger, LAUNCH.actor, LAUNCH.on, fields, LAUNCH.docs)
    assert rule_ids(refused) == {"major_decision.catalogue_item.on_the_published_catalogue"}
    assert "decisions catalogue show" in str(refused)
    story.step(LAUNCH)  # 2025-03, an item of the published catalogue
    assert story.case.attributes[V("catalogue_item")] == LAUNCH.fields[V("catalogue_item")]


def test_an_action_that_does_not_carry_the_field_is_not_judged_by_its_constraints(definitions: Definitions) -> None:
    story = Story(definitions).walk(LAUNCH.trigger)
    fields = {k: v for k, v in LAUNCH.fields.items() if k != V("catalogue_item")}
    off_catalogue = replace(LAUNCH, fields={**fields, V("off_catalogue_reason"): "突发事件应对"})
    fired = story.engine.fire(story.case, story.action(off_catalogue))
    outcomes = {r.rule.id: r.outcome.value for r in fired.results}
    assert outcomes["major_decision.catalogue_item.on_the_published_catalogue"] == "not_applicable"


# -- at load ------------------------------------------------------------------------------------


def _edited(tmp_path: Path, old: str, new: str) -> DefinitionError:
    shutil.copy(ROOT / "decisions.yaml", tmp_path / "decisions.yaml")
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    path = tmp_path / "workflows" / "catalogue.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    d = load_deployment(tmp_path / "decisions.yaml")
    with pytest.raises(DefinitionError) as caught:
        load_definitions(d.workflows, d.rule_packs, d.calendar)
    return caught.value


def test_a_constraint_on_an_unknown_fact_is_refused_where_it_is_written(tmp_path: Path) -> None:
    error = _edited(
        tmp_path,
        "{gt: [{fact: action.deadline}, {fact: action.on}]}",
        "{gt: [{fact: action.dedline}, {fact: action.on}]}",
    )
    found = [p for p in error.problems if p.path.startswith("fields.deadline.constraints[0].require")]
    assert found and found[0].file.endswith("catalogue.yaml") and found[0].line is not None
    assert "action.dedline" in str(error)


def test_a_constraint_that_reads_a_pack_parameter_or_lacks_its_message_is_refused(tmp_path: Path) -> None:
    error = _edited(
        tmp_path,
        "      - id: after_the_call_opens\n        require: {gt: [{fact: action.deadline}, {fact: action.on}]}\n",
        "      - id: after_the_call_opens\n        require: {gt: [{fact: action.deadline}, {param: comment_period_days}]}\n",
    )
    assert any(p.path.startswith("fields.deadline.constraints[0]") for p in error.problems), str(error)
