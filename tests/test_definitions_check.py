"""`decisions workflow check`: shipped definitions pass; each broken copy is refused, located.

Every fixture is the shipped major-decision workflow with exactly one flaw, written to a directory
that the check is then run on, as an office's reviewer would run it on a proposed change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decisions.cli import app
from decisions.config import load_deployment
from decisions.service import DefinitionsService
from tests.support import ROOT

SHIPPED = (ROOT / "workflows" / "major_decision.yaml").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Flaw:
    name: str
    old: str  # text of the shipped file to replace (must occur)
    new: str
    expect: str  # fragment of the message naming the offender
    at: str  # a fragment of the line the message must point at


def _insert_transition(block: str) -> tuple[str, str]:
    return "transitions:\n", "transitions:\n" + block


FLAWS = [
    Flaw(
        "unknown_state",
        "    dest: drafting\n    label: {zh: 决定启动并确定承办单位",
        "    dest: drafted\n    label: {zh: 决定启动并确定承办单位",
        "unknown state 'drafted'",
        "dest: drafted",
    ),
    Flaw(
        "unknown_role",
        "    label: {zh: 决定启动并确定承办单位, en: launch and name the organiser}\n    roles: [head]",
        "    label: {zh: 决定启动并确定承办单位, en: launch and name the organiser}\n    roles: [mayor]",
        "unknown role 'mayor'",
        "roles: [mayor]",
    ),
    Flaw(
        "unknown_rule",
        "    basis: 第十一条 (Art. 11)\n",
        "    rules: [national.no_such_rule]\n    basis: 第十一条 (Art. 11)\n",
        "unknown rule 'national.no_such_rule'",
        "rules: [national.no_such_rule]",
    ),
    Flaw(
        "unreachable_state",
        "  archived: {label",
        "  orphan: {label: {zh: 孤立, en: Orphan}, stage: closure}\n  archived: {label",
        "'orphan' is unreachable",
        "orphan:",
    ),
    Flaw(
        "dead_end",
        "  - trigger: complete_post_evaluation\n    source: post_evaluation",
        "  - trigger: complete_post_evaluation\n    source: executing",
        "non-final state 'post_evaluation' has no way out",
        "post_evaluation: {label: {zh: 决策后评估中",
    ),
    Flaw(
        "duplicate_trigger",
        *_insert_transition(
            "  - trigger: launch\n    source: proposed\n    dest: not_launched\n    label: {zh: 重复, en: dup}\n"
            "    roles: [head]\n"
        ),
        "duplicate trigger 'launch' from state 'proposed'",
        "- trigger: launch",
    ),
    Flaw(
        "approval_unreachable",
        "  archived: {label",
        "  fast_decided: {label: {zh: 速决, en: Fast}, stage: closure, final: true, approval: true}\n  archived: {label",
        "approval state 'fast_decided' is unreachable",
        "fast_decided:",
    ),
    Flaw(
        "yes_is_not_a_boolean",
        "stage: archiving, final: true}",
        "stage: archiving, final: yes}",
        "expected true or false, found a string 'yes'",
        "archived:",
    ),
    Flaw(
        "python_tag",
        "  label: {zh: 重大行政决策, en: Major administrative decision}",
        "  label: !!python/object/apply:os.system [echo pwned]",
        "YAML tags are not allowed",
        "os.system",
    ),
    Flaw(
        "unknown_key",
        "    changes_draft: true\n    basis: 第十二条 (Art. 12)",
        "    change_draft: true\n    basis: 第十二条 (Art. 12)",
        "unknown key 'change_draft'",
        "change_draft",
    ),
    Flaw(
        "jump_from_drafting_to_decided",
        *_insert_transition(
            "  - trigger: fast_track\n    source: drafting\n    dest: decided\n    label: {zh: 快速通过, en: fast track}\n"
            "    roles: [head]\n"
        ),
        "drafting --fast_track--> decided",
        "legality_review:",
    ),
    Flaw(
        "legality_gate_deleted",
        "    rules: [national.legality_review_lawful_for_current_draft]\n    basis: 第二十五、二十九条",
        "    basis: 第二十五、二十九条",
        "reviewed_lawful --submit_for_discussion--> in_discussion",
        "legality_review:",
    ),
    Flaw(
        "draft_changed_after_review",
        *_insert_transition(
            "  - trigger: tweak_in_meeting\n    source: in_discussion\n    stays: true\n    label: {zh: 会上改稿, en: tweak}\n"
            "    roles: [office_clerk]\n    requires: {documents: [draft]}\n    changes_draft: true\n"
        ),
        "--submit_for_discussion--> in_discussion --tweak_in_meeting--> in_discussion",
        "legality_review:",
    ),
    Flaw(
        "discussion_state_unprotected",
        "    protects: [in_discussion, decided, published]\n",
        "    protects: [decided, published]\n",
        "discussion state 'in_discussion' is not protected by the review gate 'legality_review'",
        "protects: [decided, published]",
    ),
    Flaw(
        "no_discussion_state",
        "stage: collective_discussion, discussion: true}",
        "stage: collective_discussion}",
        "the workflow declares no discussion state",
        "states:",
    ),
    Flaw(
        "decided_without_discussion",
        *_insert_transition(
            "  - trigger: decide_directly\n    source: reviewed_lawful\n    dest: decided\n"
            "    label: {zh: 不经讨论直接决定, en: decide without a meeting}\n    roles: [head]\n"
            "    rules: [national.legality_review_lawful_for_current_draft]\n"
        ),
        "approval state 'decided' is reachable without collective discussion",
        "decided: {label",
    ),
    Flaw(
        # the review gate stops protecting the meeting, the flag moves to a state after it, and an
        # unreviewed draft gets an edge into the meeting: refused, since the decision is then reached
        # without passing the flagged state
        "meeting_unguarded_and_flag_moved",
        "  in_discussion: {label: {zh: 已提请集体讨论, en: Submitted for collective discussion}, stage: "
        "collective_discussion, discussion: true}\n  deferred: {label: {zh: 暂缓决策, en: Deferred}, stage: "
        "collective_discussion}",
        "  in_discussion: {label: {zh: 已提请集体讨论, en: Submitted for collective discussion}, stage: "
        "collective_discussion}\n  deferred: {label: {zh: 暂缓决策, en: Deferred}, stage: "
        "collective_discussion, discussion: true}",
        "approval state 'decided' is reachable without collective discussion",
        "decided: {label",
    ),
    Flaw(
        # the flag moved onto the decision itself would let the decision count as its own meeting
        "decision_flagged_as_its_own_meeting",
        "stage: collective_discussion, approval: true}",
        "stage: collective_discussion, approval: true, discussion: true}",
        "cannot be both an approval state and a discussion state",
        "decided: {label",
    ),
    Flaw(
        "syntax_error",
        "states:\n  new: {label",
        "states:\n  new: {label: [",
        "YAML syntax error",
        "",
    ),
]


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("broken")
    for flaw in FLAWS:
        assert flaw.old in SHIPPED, f"fixture {flaw.name} no longer applies to the shipped workflow"
        (directory / f"{flaw.name}.yaml").write_text(SHIPPED.replace(flaw.old, flaw.new, 1), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def service() -> DefinitionsService:
    return DefinitionsService(load_deployment(ROOT / "decisions.yaml"))


def test_shipped_definitions_pass(service: DefinitionsService) -> None:
    report = service.check()
    assert report.ok, [str(p) for f in report.files for p in f.problems]
    kinds = sorted(f.kind for f in report.files)
    d = service.deployment
    assert kinds == sorted(["calendar"] + ["rule_pack"] * len(d.rule_packs) + ["workflow"] * len(d.workflows))
    assert len(d.workflows) >= 2 and len(d.rule_packs) >= 3


@pytest.mark.parametrize("flaw", FLAWS, ids=lambda f: f.name)
def test_each_broken_copy_is_refused_with_file_line_and_offender(
    flaw: Flaw, broken_dir: Path, service: DefinitionsService
) -> None:
    path = broken_dir / f"{flaw.name}.yaml"
    (check,) = service.check([path]).files
    assert not check.ok
    matching = [p for p in check.problems if flaw.expect in p.message]
    assert matching, [str(p) for p in check.problems]
    assert all(p.file == str(path) and p.line is not None for p in matching), matching
    lines = path.read_text(encoding="utf-8").splitlines()
    # one flaw may break several checks (a jump to a decision skips both the review and the meeting)
    assert any(flaw.at in lines[p.line - 1] for p in matching if p.line), [
        (p, lines[p.line - 1]) for p in matching if p.line
    ]


def test_check_command_rejects_the_broken_directory_and_prints_every_file(broken_dir: Path) -> None:
    result = CliRunner().invoke(app, ["workflow", "check", str(broken_dir), "--config", str(ROOT / "decisions.yaml")])
    assert result.exit_code == 1
    for flaw in FLAWS:
        assert f"{flaw.name}.yaml" in result.output
    assert "drafting --fast_track--> decided" in result.output


def test_check_command_passes_on_the_shipped_files() -> None:
    result = CliRunner().invoke(app, ["workflow", "check", "--json"])
    assert result.exit_code == 0, result.output
    assert '"ok": true' in result.output


def test_all_problems_of_a_file_are_reported_at_once(tmp_path: Path, service: DefinitionsService) -> None:
    text = SHIPPED
    for flaw in FLAWS[:3]:
        text = text.replace(flaw.old, flaw.new, 1)
    path = tmp_path / "three_flaws.yaml"
    path.write_text(text, encoding="utf-8")
    (check,) = service.check([path]).files
    for flaw in FLAWS[:3]:
        assert any(flaw.expect in p.message for p in check.problems), flaw.name


def test_diagram_labels_gated_edges_with_their_rule() -> None:
    runner = CliRunner()
    mermaid = runner.invoke(app, ["workflow", "diagram", "major_decision"])
    assert mermaid.exit_code == 0
    assert mermaid.output.startswith("stateDiagram-v2")
    assert (
        "reviewed_lawful --> in_discussion: submit_for_discussion [gate: national.legality_review_lawful_for_current_draft]"
        in mermaid.output
    )
    dot = runner.invoke(app, ["workflow", "diagram", "catalogue", "--format", "dot"])
    assert dot.exit_code == 0
    assert dot.output.startswith('digraph "catalogue"')
    assert "gate: national.catalogue_party_consent_current_version" in dot.output


def test_unknown_workflow_in_diagram_is_a_clear_usage_error() -> None:
    from decisions.cli import exit_code
    from decisions.errors import UsageError

    result = CliRunner().invoke(app, ["workflow", "diagram", "no_such_workflow"])
    assert isinstance(result.exception, UsageError)
    assert exit_code(result.exception) == 2
    assert "no_such_workflow" in str(result.exception)


@pytest.mark.parametrize("pack", ["national.yaml", "hunan.yaml", "youxian.yaml"])
def test_a_candidate_pack_is_checked_in_its_own_layer(pack: str, service: DefinitionsService, tmp_path: Path) -> None:
    """A copy of a shipped pack is checked where that pack stands in the deployment's order: the
    national pack under the provincial and county ones, not after them (it used to be appended last,
    so checking an unchanged national pack always failed)."""
    candidate = tmp_path / pack
    candidate.write_text((ROOT / "rules" / pack).read_text(encoding="utf-8"), encoding="utf-8")
    (check,) = service.check([candidate]).files
    assert check.problems == (), [str(p) for p in check.problems]


def test_a_field_may_not_take_the_name_of_a_built_in_fact(tmp_path: Path, service: DefinitionsService) -> None:
    """A field named `on` would make `action.on` an integer to the loader and the action's date to the
    evaluator: refused where it is declared."""
    text = SHIPPED.replace("\nfields:\n", "\nfields:\n  on: {type: integer, label: {zh: 日期, en: Day}}\n", 1)
    path = tmp_path / "on_field.yaml"
    path.write_text(text, encoding="utf-8")
    (check,) = service.check([path]).files
    [problem] = [p for p in check.problems if "taken by a built-in fact" in p.message]
    assert problem.line == text.splitlines().index("  on: {type: integer, label: {zh: 日期, en: Day}}") + 1
