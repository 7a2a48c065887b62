"""Reading the demo's scenario files (``demo/NN-name.yaml``), played in name order by `decisions.demo`.

Structure is checked against ``decisions/schemas/demo.schema.json``; then what needs every file
(people declared once, a case's name given by an earlier start, actors declared before they act);
then, against the deployment's definitions, every workflow, trigger, field, document kind, role and
cited rule. All problems are reported at once, located, before anything is played.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from decisions.definitions import Definitions
from decisions.errors import DefinitionError, Problem
from decisions.loading.reader import Reader
from decisions.loading.schema import check_structure
from decisions.loading.yamlsafe import YamlDocument, format_path, load_yaml_file
from decisions.model import Text

__all__ = ["Person", "Scenario", "Step", "check_scenarios", "load_scenarios", "read_scenario"]

_ACTING = ("actor", "on", "fields", "documents", "refused", "say")
_KINDS: dict[str, tuple[str, ...]] = {
    "start": ("start", "as", "id", *_ACTING),
    "act": ("act", "case", *_ACTING),
    "timeline": ("timeline",),
    "verify": ("verify",),
    "heading": ("heading",),
    "say": ("say",),
}


@dataclass(frozen=True)
class Person:
    name: str
    roles: tuple[str, ...]
    unit: str = ""
    admin: bool = False  # the office's people administrator (the first one adds themselves)


@dataclass(frozen=True)
class Step:
    """One step: ``kind`` is one of start, act, timeline, verify, heading, say. ``name`` is what it
    acts on: the workflow (start), the trigger (act); ``case`` the name of the case it concerns."""

    kind: str
    file: str
    line: int | None
    path: str
    name: str = ""
    case: str = ""
    case_id: str = ""
    actor: str = ""
    on: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    documents: tuple[tuple[str, str], ...] = ()
    refused: bool = False
    text: Text | None = None
    cite: str = ""

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.path, message)


@dataclass(frozen=True)
class Scenario:
    file: str
    heading: Text | None
    people: tuple[Person, ...]
    steps: tuple[Step, ...]
    suggest: Mapping[str, str] = field(default_factory=dict)


def _value(value: Any) -> str:
    """A field value as the CLI takes it: text; a list joined with commas; booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_value(v) for v in value)
    return str(value)


def _step(r: Reader, raw: Any, i: int) -> Step | None:
    path: tuple[str | int, ...] = ("steps", i)
    if not isinstance(raw, dict):
        r.shape_error(path, "expected a mapping (a step)")
        return None
    kinds = [k for k in ("start", "act", "timeline", "verify", "heading") if k in raw] or (
        ["say"] if "say" in raw else []
    )
    if len(kinds) != 1:
        r.error(path, f"a step is exactly one of start, act, timeline, verify, heading, say (found: {kinds or 'none'})")
        return None
    kind = kinds[0]
    m = r.mapping(raw, path, optional=_KINDS[kind])
    if m is None:
        return None
    where = (r.doc.file, r.doc.line_of(path), format_path(path))
    text: Text | None = None
    cite = ""
    if kind in ("heading", "say") or "say" in m:
        key = "heading" if kind == "heading" else "say"
        said = r.mapping(m[key], (*path, key), required=("zh", "en"), optional=("cite",)) or {}
        text = r.text({k: v for k, v in said.items() if k != "cite"}, (*path, key))
        cite = r.string(said["cite"], (*path, key, "cite")) or "" if "cite" in said else ""
    if kind in ("heading", "say"):
        return Step(kind, *where, text=text, cite=cite) if text is not None else None
    if kind in ("timeline", "verify"):
        name = r.identifier(m[kind], (*path, kind), "case name") if kind == "timeline" else ""
        return Step(kind, *where, case=name or "") if kind == "verify" or name else None
    for key in ("actor", "on", "case" if kind == "act" else "as"):
        if key not in m:
            r.error(path, f"a {kind} step names its {key!r}")
    fields = r.mapping(m.get("fields", {}), (*path, "fields"), open_keys=True) or {}
    documents = []
    for j, d in enumerate(m.get("documents") or []):
        doc = r.mapping(d, (*path, "documents", j), required=("kind", "title")) or {}
        if isinstance(doc.get("kind"), str) and isinstance(doc.get("title"), str):
            documents.append((doc["kind"], doc["title"]))
    name = r.identifier(m.get(kind), (*path, kind))
    case = r.identifier(
        m.get("case" if kind == "act" else "as"), (*path, "case" if kind == "act" else "as"), "case name"
    )
    actor = r.string(m.get("actor"), (*path, "actor"))
    on = r.string(m.get("on"), (*path, "on"))
    case_id = r.string(m["id"], (*path, "id")) if "id" in m else ""
    if None in (name, case, actor, on, case_id):
        return None
    assert name and case and actor and on and case_id is not None  # narrowed above
    return Step(
        kind,
        *where,
        name=name,
        case=case,
        case_id=case_id,
        actor=actor,
        on=on,
        fields={str(k): _value(v) for k, v in fields.items()},
        documents=tuple(documents),
        refused=r.boolean(m.get("refused"), (*path, "refused")),
        text=text,
        cite=cite,
    )


def read_scenario(doc: YamlDocument) -> tuple[Scenario | None, Reader]:
    """Read one scenario document; problems are left on the returned reader."""
    r = Reader(doc, check_structure(doc, "demo"))
    data = r.mapping(doc.data, (), optional=("heading", "people", "steps", "suggest"))
    if data is None:
        return None, r
    heading = r.text(data["heading"], ("heading",)) if "heading" in data else None
    people: list[Person] = []
    for i, raw in enumerate(data.get("people") or []):
        p = r.mapping(raw, ("people", i), required=("name", "roles"), optional=("unit", "admin")) or {}
        name = r.string(p.get("name"), ("people", i, "name")) if "name" in p else None
        roles = r.string_list(p.get("roles"), ("people", i, "roles"), identifiers=True)
        unit = r.string(p["unit"], ("people", i, "unit")) if "unit" in p else ""
        admin = r.boolean(p.get("admin", False), ("people", i, "admin"))
        if name and roles and unit is not None:
            people.append(Person(name, tuple(roles), unit, admin))
    raw_steps = data.get("steps") or []
    steps = [s for i, raw in enumerate(raw_steps if isinstance(raw_steps, list) else []) if (s := _step(r, raw, i))]
    suggest = r.mapping(data.get("suggest", {}), ("suggest",), optional=("show", "inbox")) or {}
    return Scenario(doc.file, heading, tuple(people), tuple(steps), {k: str(v) for k, v in suggest.items()}), r


def load_scenarios(directory: Path) -> list[Scenario]:
    """Every ``*.yaml`` file of ``directory``, in name order, checked alone and together. Raises one
    `DefinitionError` listing every problem."""
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    if not files:
        raise DefinitionError([Problem(str(directory), None, "", "no demo scenario files (*.yaml) here")])
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    for path in files:
        try:
            doc = load_yaml_file(path)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        scenario, r = read_scenario(doc)
        problems.extend(r.problems)
        if scenario is not None:
            scenarios.append(scenario)
    problems.extend(_check_names(scenarios))
    if problems:
        raise DefinitionError(problems)
    return scenarios


def _check_names(scenarios: Sequence[Scenario]) -> list[Problem]:
    """People are declared once and before they act; a case is named by one start, before use."""
    problems: list[Problem] = []
    people: dict[str, str] = {}
    cases: dict[str, str] = {}
    for s in scenarios:
        for p in s.people:
            if p.name in people:
                problems.append(
                    Problem(s.file, None, "people", f"person {p.name!r} is already declared in {people[p.name]}")
                )
            people.setdefault(p.name, s.file)
        for step in s.steps:
            if step.actor and step.actor not in people:
                problems.append(
                    step.problem(
                        f"unknown person {step.actor!r} (declare them under 'people:' in this or an earlier file)"
                    )
                )
            if step.kind == "start":
                if step.case in cases:
                    problems.append(
                        step.problem(f"case name {step.case!r} is already given by a start in {cases[step.case]}")
                    )
                cases.setdefault(step.case, f"{s.file}:{step.line}")
            elif step.case and step.case not in cases:
                problems.append(step.problem(f"unknown case {step.case!r} (no earlier start step names it with 'as:')"))
        show = s.suggest.get("show")
        if show is not None and show not in cases:
            problems.append(Problem(s.file, None, "suggest.show", f"unknown case {show!r}"))
        inbox = s.suggest.get("inbox")
        if inbox is not None and inbox not in people:
            problems.append(Problem(s.file, None, "suggest.inbox", f"unknown person {inbox!r}"))
    return problems


def check_scenarios(scenarios: Sequence[Scenario], definitions: Definitions) -> None:
    """Every name a scenario uses exists in ``definitions``: workflows that declare their start,
    triggers of the case's workflow, fields and document kinds of that workflow, roles, cited rules.
    Raises one `DefinitionError` listing every problem."""
    problems: list[Problem] = []
    roles = {name for wf in definitions.workflows.values() for name in wf.roles}
    workflow_of: dict[str, str] = {}
    for s in scenarios:
        for i, p in enumerate(s.people):
            for role in p.roles:
                if role not in roles:
                    problems.append(
                        Problem(
                            s.file,
                            None,
                            f"people[{i}].roles",
                            f"unknown role {role!r} (known: {', '.join(sorted(roles))})",
                        )
                    )
        for step in s.steps:
            if step.cite and step.cite not in definitions.rulebook.rules:
                problems.append(step.problem(f"unknown rule {step.cite!r} (say.cite names a rule of the loaded packs)"))
            if step.kind == "start":
                wf = definitions.workflows.get(step.name)
                if wf is None:
                    problems.append(
                        step.problem(
                            f"unknown workflow {step.name!r} (loaded: {', '.join(sorted(definitions.workflows))})"
                        )
                    )
                    continue
                if wf.case is None:
                    problems.append(
                        step.problem(f"workflow {step.name!r} does not declare which action opens a case (case: start)")
                    )
                    continue
                workflow_of[step.case] = wf.name
                trigger = wf.case.start
            elif step.kind == "act" and step.case in workflow_of:
                wf = definitions.workflows[workflow_of[step.case]]
                trigger = step.name
                if trigger not in wf.triggers:
                    problems.append(step.problem(f"unknown action {trigger!r} of workflow {wf.name!r}"))
                    continue
            else:
                continue
            carried = {f for t in wf.transitions if t.trigger == trigger for f in t.all_fields}
            for name in step.fields:
                if name not in carried:
                    problems.append(
                        step.problem(
                            f"{trigger!r} carries no field {name!r} (it carries: {', '.join(sorted(carried)) or 'none'})"
                        )
                    )
            for kind, _ in step.documents:
                if kind not in wf.documents:
                    problems.append(step.problem(f"unknown document kind {kind!r} of workflow {wf.name!r}"))
    if problems:
        raise DefinitionError(problems)
