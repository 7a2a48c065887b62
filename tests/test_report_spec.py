"""A workflow's ``report:`` section (docs/report.md): read from the YAML into the workflow's
`ReportSpec`, and every bad form refused at load with its file, line and key path, all at once,
before anything runs. The figure kinds are the engine's closed set; everything they count is named
in the YAML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from decisions.config import load_deployment
from decisions.definitions import Definitions
from decisions.errors import DefinitionError, Problem
from decisions.loading import load_definitions
from decisions.report.spec import FIGURE_KINDS
from tests.support import ROOT

SCHEMA = ROOT / "decisions" / "schemas" / "workflow.schema.json"


def load_tree(root: Path) -> Definitions:
    d = load_deployment(root / "decisions.yaml")
    return load_definitions(d.workflows, d.rule_packs, d.calendar)


def edited(tmp_path: Path, file: str, old: str, new: str) -> Path:
    shutil.copy(ROOT / "decisions.yaml", tmp_path / "decisions.yaml")
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    path = tmp_path / "workflows" / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def located(error: DefinitionError, key_path: str, message: str, file: str) -> Problem:
    found = [p for p in error.problems if p.path == key_path and message in p.message]
    assert found, f"no problem at {key_path} saying {message!r}:\n{error}"
    assert found[0].file.endswith(file) and found[0].line is not None
    return found[0]


def test_the_shipped_sections_are_read_as_declared() -> None:
    d = load_tree(ROOT)
    md = d.workflow("major_decision").report
    assert md is not None and md.unit == "organiser_unit" and md.category == "category"
    assert md.counts["review_submitted"] == {"submit_legality_review", "resubmit_legality_review"}
    assert md.kind_of("find_legal_risk") == "review_risk_disclosed" and md.kind_of("launch") is None
    assert md.shortened is not None and md.shortened.reason == "shortening_reason"
    assert md.review_minimum is not None and md.review_minimum.parameter == "legality_review_working_days"
    assert md.execution_in == {"executing"}
    contract = d.workflow("government_contract").report
    assert contract is not None and contract.review_minimum is None and contract.unit == "organiser_unit"
    catalogue = d.workflow("catalogue").report
    assert catalogue is not None and catalogue.item_unit == "organiser_unit" and not catalogue.counts


def test_the_schema_names_exactly_the_engine_s_figure_kinds() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["report"]["properties"]["counts"]["properties"]) == FIGURE_KINDS


MD = "major_decision.yaml"
BAD_FORMS = [
    # (what is wrong, file, old text, new text, key path, message)
    (
        "an unknown figure kind",
        MD,
        "    evaluation_done: [complete_post_evaluation]",
        "    evaluation_done: [complete_post_evaluation]\n    appeals: [find_lawful]",
        "report.counts.appeals",
        "appeals",
    ),
    (
        "an unknown trigger",
        MD,
        "review_lawful: [find_lawful]",
        "review_lawful: [find_lawfull]",
        "report.counts.review_lawful",
        "unknown trigger 'find_lawfull'",
    ),
    (
        "a trigger counted twice",
        MD,
        "review_unlawful: [find_unlawful]",
        "review_unlawful: [find_unlawful, find_lawful]",
        "report.counts.review_unlawful",
        "already counts for 'review_lawful'",
    ),
    (
        "a unit that is no attribute",
        MD,
        "  unit_field: organiser_unit\n  category_field: category\n  counts:",
        "  unit_field: reason\n  category_field: category\n  counts:",
        "report.unit_field",
        "is not a case attribute",
    ),
    (
        "a category that is no enum",
        MD,
        "  unit_field: organiser_unit\n  category_field: category\n  counts:",
        "  unit_field: organiser_unit\n  category_field: title\n  counts:",
        "report.category_field",
        "expected enum",
    ),
    (
        "a reason some named trigger does not carry",
        MD,
        "reason_field: shortening_reason}",
        "reason_field: reason}",
        "report.shortened_period.reason_field",
        "is not carried by",
    ),
    (
        "a due field that is no date",
        MD,
        "due_field: review_due}",
        "due_field: short_review_reason}",
        "report.review_minimum.due_field",
        "expected date",
    ),
    (
        "a minimum that is no minimum",
        MD,
        "{parameter: legality_review_working_days, due_field: review_due}",
        "{parameter: legality_review_department, due_field: review_due}",
        "report.review_minimum.parameter",
        "is a setting, not a minimum",
    ),
    (
        "an unknown parameter",
        MD,
        "{parameter: legality_review_working_days, due_field: review_due}",
        "{parameter: review_days, due_field: review_due}",
        "report.review_minimum.parameter",
        "unknown parameter 'review_days'",
    ),
    (
        "an unknown state owing execution reports",
        MD,
        "execution_reports_in: [executing]",
        "execution_reports_in: [executed]",
        "report.execution_reports_in",
        "unknown state 'executed'",
    ),
    (
        "outcomes without submissions",
        MD,
        "    review_submitted: [submit_legality_review, resubmit_legality_review]\n",
        "",
        "report.counts",
        "declare 'review_submitted'",
    ),
    (
        "an item unit on a workflow without a catalogue",
        MD,
        "execution_reports_in: [executing]",
        "execution_reports_in: [executing]\n  item_unit: organiser_unit",
        "report.item_unit",
        "has no 'catalogue:' section",
    ),
    (
        "an item unit the items do not keep",
        "catalogue.yaml",
        "  item_unit: organiser_unit",
        "  item_unit: title",
        "report.item_unit",
        "is not kept on the catalogue's items",
    ),
]


@pytest.mark.parametrize(
    ("what", "file", "old", "new", "key_path", "message"), BAD_FORMS, ids=[b[0] for b in BAD_FORMS]
)
def test_a_bad_report_section_is_refused_at_load_located(
    tmp_path: Path, what: str, file: str, old: str, new: str, key_path: str, message: str
) -> None:
    root = edited(tmp_path, file, old, new)
    with pytest.raises(DefinitionError) as caught:
        load_tree(root)
    located(caught.value, key_path, message, file)


def test_every_problem_of_the_section_is_reported_at_once(tmp_path: Path) -> None:
    root = edited(
        tmp_path,
        MD,
        "review_lawful: [find_lawful]\n    review_risk_disclosed: [find_legal_risk]",
        "review_lawful: [nope]\n    review_risk_disclosed: [nada]",
    )
    with pytest.raises(DefinitionError) as caught:
        load_tree(root)
    located(caught.value, "report.counts.review_lawful", "unknown trigger 'nope'", MD)
    located(caught.value, "report.counts.review_risk_disclosed", "unknown trigger 'nada'", MD)
