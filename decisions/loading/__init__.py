"""Loading definitions: every file read safely, checked completely, all problems reported at once.

Order: workflows (structure and graph), then rule packs against those workflows (facts, triggers,
parameters), then the cross-checks: rules named by transitions and gates exist, gate rules are
unconditional hard rules, and the static proof that no path bypasses a gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from decisions.calendar import WorkCalendar
from decisions.calendar.official import official_calendar, parse_override
from decisions.definitions import Definitions, Source
from decisions.errors import DefinitionError, Problem
from decisions.loading.cache import cache_directory, parse_checked
from decisions.loading.case_spec import check_case_fields, check_catalogue_links
from decisions.loading.deadline_spec import check_deadline_lengths
from decisions.loading.reader import Reader
from decisions.loading.report_spec import check_report_parameters
from decisions.loading.rulepacks import PackContext, read_rule_pack
from decisions.loading.schema import Kind
from decisions.loading.workflows import read_workflow
from decisions.loading.yamlsafe import YamlDocument, format_path
from decisions.model import Text
from decisions.rules.definitions import RuleBook, RulePack, Strength, layer
from decisions.workflow.analysis import find_bypass
from decisions.workflow.definition import WorkflowDef

__all__ = ["check_cross_references", "load_definitions", "load_sources", "read_sources"]


def check_cross_references(
    workflows: dict[str, tuple[WorkflowDef, Reader]], rulebook: RuleBook, *, recorded: bool = False
) -> None:
    """Rules named by transitions and gates exist and fit; a gate's rule is an unconditional hard rule
    of its workflow (a problem on the gate and one on the rule in its pack); no path bypasses a gate.

    Problems are recorded on each workflow's reader.
    """
    check_deadline_lengths(workflows, rulebook)
    check_report_parameters(workflows, rulebook)
    if not recorded:  # texts stored before one role had one label still replay as they were
        check_role_labels(workflows)
    for wf, r in workflows.values():
        index_at_line = _transition_indexes(r)
        for i, t in enumerate(wf.transitions):
            for rule_id in t.rules:
                rule = rulebook.rules.get(rule_id)
                where = ("transitions", index_at_line.get(t.line, i), "rules")
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
            weakened = [
                why
                for why, bad in (
                    (f"it belongs to workflow {rule.workflow!r}", rule.workflow != wf.name),
                    (f"its strength is {rule.strength}", rule.strength is not Strength.HARD),
                    ("it has a 'when'", rule.when is not None),
                    ("it has a waiver", bool(rule.waiver_field)),
                )
                if bad
            ]
            if weakened:
                message = (
                    f"gate rule {gate.rule!r} of gate {gate.id!r} must be an unconditional hard rule of workflow "
                    f"{wf.name!r} (no 'when', no waiver): {'; '.join(weakened)}"
                )
                r.error(path, f"{message} ({rule.file}:{rule.line})")
                # and where the pack weakens it, for the pack's author
                r.problems.append(Problem(rule.file, rule.line, format_path(("rules", rule.id)), message))
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


def check_role_labels(workflows: dict[str, tuple[WorkflowDef, Reader]]) -> None:
    """A person holds a role in every workflow that names it, so a role has one label: the first
    workflow that declares it defines it, and every other one must say the same (else a problem there)."""
    first: dict[str, tuple[str, Text]] = {}
    for wf, r in workflows.values():
        for name, role in wf.roles.items():
            defined = first.setdefault(name, (wf.name, role.label))
            if defined[1] != role.label:
                r.error(
                    ("roles", name),
                    f"role {name!r} is labelled {str(role.label)!r} here but {str(defined[1])!r} in workflow "
                    f"{defined[0]!r}: one role, one label (a person holds it in every workflow)",
                )


def _transition_indexes(r: Reader) -> dict[int | None, int]:
    """The list index in its file of the transition on each line (several sources expand one entry)."""
    out: dict[int | None, int] = {}
    for key, line in r.doc.lines.items():
        if len(key) == 2 and key[0] == "transitions":
            out.setdefault(line, int(key[1]))
    return out


def read_sources(
    workflow_files: Sequence[Path], pack_files: Sequence[Path], calendar_file: Path | None = None
) -> tuple[list[Source], list[Problem]]:
    """Read definition files as texts; unreadable or non-UTF-8 files are located problems."""
    sources: list[Source] = []
    problems: list[Problem] = []
    files = [("workflow", p) for p in workflow_files] + [("rule_pack", p) for p in pack_files]
    if calendar_file is not None:
        files.append(("calendar", calendar_file))
    for kind, path in files:
        try:
            raw = path.read_bytes()
            sources.append(Source(kind, str(path), raw.decode("utf-8")))
        except OSError as exc:
            problems.append(Problem(str(path), None, "", f"cannot read file: {exc.strerror}"))
        except UnicodeDecodeError as exc:
            problems.append(Problem(str(path), None, "", f"file is not valid UTF-8 (byte {exc.start})"))
    return sources, problems


def load_definitions(
    workflow_files: Sequence[Path],
    pack_files: Sequence[Path],
    calendar_file: Path | None = None,
) -> Definitions:
    """Load and check definition files. Raises one `DefinitionError` listing every problem found."""
    sources, problems = read_sources(workflow_files, pack_files, calendar_file)
    if problems:
        raise DefinitionError(problems)
    return load_sources(sources, cached=True)


_SCHEMA_OF: dict[str, Kind] = {"workflow": "workflow", "rule_pack": "rulepack", "calendar": "calendar"}


def _parse(source: Source, problems: list[Problem], cache: Path | None) -> YamlDocument | None:
    """The parsed, structure-checked document of ``source`` (through the cache in ``cache``, if any)."""
    try:
        return parse_checked(source.text, source.name, _SCHEMA_OF[source.kind], cache)[0]
    except DefinitionError as exc:
        problems.extend(exc.problems)
        return None


def load_sources(sources: Sequence[Source], *, recorded: bool = False, cached: bool = False) -> Definitions:
    """Load and check definitions from their texts, in order (workflows, then packs in layering
    order, then at most one calendar). The same texts always give the same definitions: this is
    how a decision is replayed under the definitions it was recorded with (``recorded``: texts
    stored with decisions, which requirements added to the loader later do not bind; see
    `read_workflow`). ``cached``: parse and schema-check each text through the on-disk cache
    (`decisions.loading.cache`; a deployment's files, loaded by every command)."""
    cache = cache_directory() if cached else None
    problems: list[Problem] = []
    workflows: dict[str, tuple[WorkflowDef, Reader]] = {}
    for source in (s for s in sources if s.kind == "workflow"):
        doc = _parse(source, problems, cache)
        if doc is None:
            continue
        wf, reader = read_workflow(doc, recorded=recorded)
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
    for source in (s for s in sources if s.kind == "rule_pack"):
        doc = _parse(source, problems, cache)
        if doc is None:
            continue
        pack, reader = read_rule_pack(doc, ctx)
        problems.extend(reader.problems)
        if pack is not None:
            packs.append(pack)
    rulebook = layer(packs)
    before = {n: len(r.problems) for n, (_, r) in workflows.items()}
    check_cross_references(workflows, rulebook, recorded=recorded)
    check_catalogue_links(workflows)
    check_case_fields(workflows)
    for name, (_, reader) in workflows.items():
        problems.extend(reader.problems[before[name] :])
    calendars = [s for s in sources if s.kind == "calendar"]
    calendar: WorkCalendar | None = None
    try:
        override = None
        if calendars:
            doc, structure = parse_checked(calendars[0].text, calendars[0].name, "calendar", cache)
            override = parse_override(doc.data, file=doc.file, line_of=doc.line_of, structure=structure)
        calendar = official_calendar(override, update_file=calendars[0].name if calendars else "rules/calendar.yaml")
    except DefinitionError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DefinitionError(problems)
    assert calendar is not None
    return Definitions({n: wf for n, (wf, _) in workflows.items()}, rulebook, calendar, tuple(sources))
