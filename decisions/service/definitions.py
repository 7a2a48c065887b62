"""Service operations on definitions: load a deployment, check candidate files, draw diagrams.

A candidate file is checked *in the context of the deployment*: a workflow replaces the deployed
workflow of the same name, a rule pack the deployed pack of the same id (or is added after the
others), a calendar file the deployed calendar. So a copy of ``major_decision.yaml`` is checked
against the packs that will really run with it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from decisions.config import Deployment
from decisions.coverage import Coverage, build, index_tests
from decisions.definitions import Definitions
from decisions.errors import DefinitionError, Problem, UsageError, shown
from decisions.loading import load_definitions
from decisions.loading.yamlsafe import load_yaml_file
from decisions.workflow.diagram import to_dot, to_mermaid

__all__ = ["CheckReport", "DefinitionsService", "FileCheck"]


@dataclass(frozen=True)
class FileCheck:
    """The outcome of checking one candidate file."""

    file: str
    kind: str  # workflow | rule_pack | calendar | unknown
    name: str
    problems: tuple[Problem, ...] = ()
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CheckReport:
    files: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)


@functools.lru_cache(maxsize=256)
def _identify_cached(path: Path, mtime_ns: int) -> tuple[str, str]:
    return _identify_uncached(path)


def _identify(path: Path) -> tuple[str, str]:
    return _identify_cached(path, path.stat().st_mtime_ns)


def _identify_uncached(path: Path) -> tuple[str, str]:
    """(kind, name) of a definition file, read safely; unreadable files raise DefinitionError."""
    data = load_yaml_file(path).data
    if isinstance(data, dict):
        head = data.get("workflow")
        if isinstance(head, dict):
            return "workflow", str(head.get("name", ""))
        pack = data.get("pack")
        if isinstance(pack, dict):
            return "rule_pack", str(pack.get("id", ""))
        if "years" in data:
            return "calendar", path.name
    return "unknown", path.name


def _in_place(files: list[Path], name: str, candidate: Path) -> list[Path]:
    """``files`` with the one named ``name`` replaced by ``candidate`` where it stands, or with
    ``candidate`` added last when none is named so (a new workflow, a new, most local pack)."""
    names = [_identify(f)[1] for f in files]
    if name in names:
        return [candidate if n == name else f for f, n in zip(files, names, strict=True)]
    return [*files, candidate]


def _expand(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(x for x in p.iterdir() if x.suffix in (".yaml", ".yml") and x.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise UsageError(f"找不到文件 / no such file or directory: {p}")
    return out


class DefinitionsService:
    """Loads and checks the definitions of one deployment."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._definitions: Definitions | None = None

    def definitions(self) -> Definitions:
        """The deployment's definitions, loaded and checked once."""
        if self._definitions is None:
            d = self.deployment
            self._definitions = load_definitions(d.workflows, d.rule_packs, d.calendar)
        return self._definitions

    def check(self, paths: Sequence[Path] = ()) -> CheckReport:
        """Check the deployment (no paths) or each candidate file in the deployment's context."""
        d = self.deployment
        if not paths:
            try:
                defs = load_definitions(d.workflows, d.rule_packs, d.calendar)
            except DefinitionError as exc:
                return CheckReport((FileCheck(str(d.config), "deployment", d.config.name, exc.problems),))
            checks = [
                FileCheck(
                    wf.file,
                    "workflow",
                    f"{wf.name} {wf.version}",
                    summary={
                        "states": len(wf.states),
                        "transitions": len(wf.transitions),
                        "gates": len(wf.gates),
                    },
                )
                for wf in defs.workflows.values()
            ]
            checks += [
                FileCheck(
                    p.file,
                    "rule_pack",
                    p.id,
                    summary={"rules": len(p.rules), "parameters": len(p.parameters)},
                )
                for p in defs.rulebook.packs
            ]
            if d.calendar is not None:
                checks.append(
                    FileCheck(
                        str(d.calendar), "calendar", d.calendar.name, summary={"years": len(defs.calendar.known_years)}
                    )
                )
            return CheckReport(tuple(checks))
        return CheckReport(tuple(self._check_one(p) for p in _expand(paths)))

    def _check_one(self, path: Path) -> FileCheck:
        d = self.deployment
        try:
            kind, name = _identify(path)
        except DefinitionError as exc:
            return FileCheck(str(path), "unknown", path.name, exc.problems)
        workflows, packs, calendar = list(d.workflows), list(d.rule_packs), d.calendar
        if kind == "workflow":
            workflows = _in_place(workflows, name, path)
        elif kind == "rule_pack":  # a pack layers in order: the candidate takes the place of the one it replaces
            packs = _in_place(packs, name, path)
        elif kind == "calendar":
            calendar = path
        else:
            problem = Problem(
                str(path),
                1,
                "",
                "not a workflow (key 'workflow'), rule pack ('pack') or calendar ('years')",
            )
            return FileCheck(str(path), kind, name, (problem,))
        try:
            defs = load_definitions(workflows, packs, calendar)
        except DefinitionError as exc:
            return FileCheck(str(path), kind, name, exc.problems)
        summary: dict[str, int] = {}
        if kind == "workflow":
            wf = defs.workflow(name)
            summary = {
                "states": len(wf.states),
                "transitions": len(wf.transitions),
                "gates": len(wf.gates),
            }
        return FileCheck(str(path), kind, name, summary=summary)

    def diagram(self, name: str, fmt: str = "mermaid") -> str:
        wf = self.definitions().workflow(name)
        if fmt == "mermaid":
            return to_mermaid(wf)
        if fmt == "dot":
            return to_dot(wf)
        raise UsageError(f"未知格式 / unknown diagram format {shown(fmt)} (mermaid, dot)")

    def legal_coverage(self, requirements: Path, tests: Path) -> Coverage:
        """The legal-coverage page's data: ``requirements`` (docs/legal-requirements.yaml) checked
        against the deployment's definitions, with the tests under ``tests`` that name each rule."""
        try:
            text = requirements.read_text(encoding="utf-8")
            files = {p.name: p.read_text(encoding="utf-8") for p in sorted(tests.glob("*.py"))}
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"无法读取 / cannot read {shown(str(exc))}") from exc
        if not files:
            raise UsageError(f"测试目录中没有 .py 文件 / no .py files in {shown(str(tests))}")
        definitions = self.definitions()
        index = index_tests(files, set(definitions.rulebook.rules))
        return build(text, str(requirements), definitions, index)
