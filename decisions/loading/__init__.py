"""Loading definitions: every file read safely, checked completely, all problems reported at once.

Order: workflows (structure and graph), then rule packs against those workflows (facts, triggers,
parameters), then the cross-checks: rules named by transitions and gates exist, gate rules are
unconditional hard rules, and the static proof that no path bypasses a gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from decisions.calendar import WorkCalendar
from decisions.calendar.official import load_override_file, official_calendar
from decisions.definitions import Definitions
from decisions.errors import DefinitionError, Problem
from decisions.loading.reader import Reader
from decisions.loading.rulepacks import PackContext, read_rule_pack
from decisions.loading.workflows import read_workflow
from decisions.loading.yamlsafe import YamlDocument, load_yaml_file
from decisions.rules.definitions import RuleBook, RulePack, Strength, layer
from decisions.workflow.analysis import find_bypass
from decisions.workflow.definition import WorkflowDef

__all__ = ["check_cross_references", "load_definitions"]


def _read(path: Path, problems: list[Problem]) -> YamlDocument | None:
    try:
        return load_yaml_file(path)
    except DefinitionError as exc:
        problems.extend(exc.problems)
        return None


def check_cross_references(workflows: dict[str, tuple[WorkflowDef, Reader]], rulebook: RuleBook) -> None:
    """Rules named by transitions and gates exist and fit; no path bypasses a gate.

    Problems are recorded on each workflow's reader.
    """
    for wf, r in workflows.values():
        for i, t in enumerate(wf.transitions):
            for rule_id in t.rules:
                rule = rulebook.rules.get(rule_id)
                where = ("transitions", _index_of(r, t.line, i), "rules")
                if rule is None:
                    r.error(where, f"unknown rule {rule_id!r}")
                elif rule.workflow != wf.name:
                    r.error(where, f"rule {rule_id!r} belongs to workflow {rule.workflow!r}")
        for gate in wf.gates.values():
            path = ("gates", gate.id, "rule")
            rule = rulebook.rules.get(gate.rule)
            if rule is None:
                r.error(path, f"unknown rule {gate.rule!r}")
                continue
            if rule.strength is not Strength.HARD or rule.when is not None or rule.waiver_field:
                r.error(
                    path,
                    f"gate rule {gate.rule!r} must be an unconditional hard rule (no 'when', no waiver)",
                )
                continue
            # Only the workflow's own declarations count for the proof: a gate must not depend on
            # which rule packs a deployment happens to load.
            gated = frozenset(i for i, t in enumerate(wf.transitions) if gate.rule in t.rules)
            bypass = find_bypass(wf, gate, gated)
            if bypass is not None:
                last = bypass.path[-1]
                r.error(
                    ("gates", gate.id),
                    f"bypass of gate {gate.id!r} ({gate.label.en} / {gate.label.zh}): state "
                    f"{last.dest!r} is reachable without rule {gate.rule!r}: {bypass.describe()}",
                )


def _index_of(r: Reader, line: int | None, fallback: int) -> int:
    """The list index of a transition in its file (several sources expand one entry)."""
    for key, value in r.doc.lines.items():
        if len(key) == 2 and key[0] == "transitions" and value == line:
            return int(key[1])
    return fallback


def load_definitions(
    workflow_files: Sequence[Path],
    pack_files: Sequence[Path],
    calendar_file: Path | None = None,
) -> Definitions:
    """Load and check everything. Raises one `DefinitionError` listing every problem found."""
    problems: list[Problem] = []
    workflows: dict[str, tuple[WorkflowDef, Reader]] = {}
    for path in workflow_files:
        doc = _read(path, problems)
        if doc is None:
            continue
        wf, reader = read_workflow(doc)
        if wf is not None:
            if wf.name in workflows:
                reader.error(
                    ("workflow", "name"),
                    f"workflow {wf.name!r} is already defined in {workflows[wf.name][0].file}",
                )
            else:
                workflows[wf.name] = (wf, reader)
        problems.extend(reader.problems)
    ctx = PackContext({n: wf for n, (wf, _) in workflows.items()})
    packs: list[RulePack] = []
    for path in pack_files:
        doc = _read(path, problems)
        if doc is None:
            continue
        pack, reader = read_rule_pack(doc, ctx)
        problems.extend(reader.problems)
        if pack is not None:
            packs.append(pack)
    rulebook = layer(packs)
    before = {n: len(r.problems) for n, (_, r) in workflows.items()}
    check_cross_references(workflows, rulebook)
    for name, (_, reader) in workflows.items():
        problems.extend(reader.problems[before[name] :])
    calendar: WorkCalendar | None = None
    try:
        override = load_override_file(calendar_file) if calendar_file is not None else None
        calendar = official_calendar(override, update_file=str(calendar_file or "rules/calendar.yaml"))
    except DefinitionError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    assert calendar is not None
    return Definitions({n: wf for n, (wf, _) in workflows.items()}, rulebook, calendar)
