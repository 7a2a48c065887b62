"""The legal-coverage page (docs/legal-coverage.md), built from data so it cannot drift. Pure.

Inputs, all text or loaded values: the requirement list (docs/legal-requirements.yaml: one entry per
row of the reference, with its article and what encodes it, or why it cannot be checked and what the
software offers instead), the loaded `Definitions` (each rule's own citation, gates, transitions),
and the test files (which tests name each rule, and the allowed / refused cases of the rule tables).
`build` checks every reference and returns located `Problem`s (an unknown rule, gate or transition;
a rule whose citation contains none of the entry's article fragments); `render` writes the page.
Rules of the packs that no entry names are listed at the end, so rules added later show up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from decisions.definitions import Definitions
from decisions.errors import Problem
from decisions.loading.reader import Reader
from decisions.loading.yamlsafe import load_yaml_text
from decisions.model import Text
from decisions.rules.definitions import Rule

__all__ = ["Coverage", "Requirement", "TestIndex", "build", "index_tests", "render"]

_ENTRY_KEYS = ("row", "requirement", "article", "rules", "gates", "transitions", "cites", "not_checkable", "offers")


@dataclass(frozen=True)
class Requirement:
    """One row of the reference and what encodes it."""

    row: str
    text: Text
    articles: tuple[str, ...]
    rules: tuple[str, ...] = ()
    gates: tuple[str, ...] = ()
    transitions: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()
    not_checkable: str = ""
    offers: str = ""


@dataclass(frozen=True)
class TestIndex:
    """Where tests name each rule id: table cases (allowed / refused) and other tests."""

    allowed: Mapping[str, tuple[str, ...]]
    refused: Mapping[str, tuple[str, ...]]
    named_in: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Coverage:
    requirements: tuple[Requirement, ...]
    definitions: Definitions
    tests: TestIndex
    problems: tuple[Problem, ...] = field(default=())

    @property
    def unmapped_rules(self) -> tuple[str, ...]:
        named = {r for q in self.requirements for r in q.rules}
        return tuple(sorted(r for r in self.definitions.rulebook.rules if r not in named))


# -- reading the requirement list ------------------------------------------------------------------
def _read(text: str, file: str) -> tuple[list[tuple[Requirement, tuple[str | int, ...]]], Reader]:
    doc = load_yaml_text(text, file)
    r = Reader(doc)
    top = r.mapping(doc.data, (), required=("requirements",)) or {}
    raw = top.get("requirements")
    if not isinstance(raw, list):
        r.error(("requirements",), "应为要求列表 / expected a list of requirements")
        raw = []
    out: list[tuple[Requirement, tuple[str | int, ...]]] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        path: tuple[str | int, ...] = ("requirements", i)
        m = r.mapping(entry, path, required=("row", "requirement", "article"), optional=_ENTRY_KEYS)
        if m is None:
            continue
        row = r.string(m.get("row"), (*path, "row"))
        text_ = r.text(m.get("requirement"), (*path, "requirement"))
        articles = tuple(r.string_list(m.get("article"), (*path, "article")))
        lists = {k: tuple(r.string_list(m.get(k), (*path, k))) for k in ("rules", "gates", "transitions", "cites")}
        not_checkable = r.string(m["not_checkable"], (*path, "not_checkable")) if "not_checkable" in m else ""
        offers = r.string(m["offers"], (*path, "offers")) if "offers" in m else ""
        if row is not None and row in seen:
            r.error((*path, "row"), f"行号重复 / row {row!r} is listed twice")
        if not (lists["rules"] or lists["gates"] or not_checkable):
            r.error(
                path,
                "条目须列出规则或关口，或说明不可机器检查的理由 / an entry names the rules or gates that check it, or says why it is not_checkable",
            )
        if row is None or text_ is None or not articles:
            continue
        seen.add(row)
        req = Requirement(
            row=row,
            text=text_,
            articles=articles,
            rules=lists["rules"],
            gates=lists["gates"],
            transitions=lists["transitions"],
            cites=lists["cites"],
            not_checkable=not_checkable or "",
            offers=offers or "",
        )
        out.append((req, path))
    return out, r


def _check(req: Requirement, path: tuple[str | int, ...], d: Definitions, r: Reader) -> None:
    rules = d.rulebook.rules
    packs = ", ".join(p.id for p in d.rulebook.packs)
    fragments = req.cites or req.articles
    for j, rule_id in enumerate(req.rules):
        rule = rules.get(rule_id)
        if rule is None:
            r.error((*path, "rules", j), f"未知规则 / unknown rule {rule_id!r} (not in the loaded packs: {packs})")
        elif not any(f in str(rule.citation) for f in fragments):
            r.error(
                (*path, "rules", j),
                f"引用不符 / wrong citation: {rule_id} cites {str(rule.citation)!r}, which contains none of "
                f"{', '.join(fragments)} (fix the pack's citation, or this entry's article / cites)",
            )
    for j, ref in enumerate(req.gates):
        wf_name, _, gate = ref.partition(".")
        wf = d.workflows.get(wf_name)
        if wf is None or gate not in wf.gates:
            known = ", ".join(f"{w.name}.{g}" for w in d.workflows.values() for g in w.gates)
            r.error((*path, "gates", j), f"未知关口 / unknown gate {ref!r} (known: {known})")
    for j, ref in enumerate(req.transitions):
        wf_name, _, trigger = ref.partition(".")
        wf = d.workflows.get(wf_name)
        if wf is None or trigger not in wf.triggers:
            r.error(
                (*path, "transitions", j),
                f"未知操作 / unknown transition {ref!r} (workflow.trigger of a loaded workflow)",
            )


# -- reading the tests -----------------------------------------------------------------------------
_CASE = re.compile(r"\b(allowed|refused)\(\s*(?:([A-Z_]+)\s*\+\s*)?\"([a-z0-9_.]+)\",\s*\"([^\"]+)\"")
_CONSTANT = re.compile(r"^([A-Z_][A-Z0-9_]*) = \"([a-z0-9_.]+)\"$", re.MULTILINE)
_TEST = re.compile(r"^(?:async )?def (test_\w+)\(", re.MULTILINE)


def index_tests(files: Mapping[str, str], rule_ids: set[str]) -> TestIndex:
    """``files``: test file name → text. Table cases are ``allowed(RULE, "case", ...)`` and
    ``refused(RULE, "case", ...)`` (RULE a string, or a constant prefix + a string); any other test
    function that names a rule id (as a string, or through a module constant) is listed as well."""
    allowed: dict[str, set[str]] = {}
    refused: dict[str, set[str]] = {}
    named: dict[str, set[str]] = {}
    for name, text in sorted(files.items()):
        constants = dict(_CONSTANT.findall(text))
        for kind, prefix, rule, case in _CASE.findall(text):
            rule_id = constants.get(prefix, "") + rule if prefix else rule
            target = allowed if kind == "allowed" else refused
            target.setdefault(rule_id, set()).add(f"{name} {case}")
        aliases = {c: v for c, v in constants.items() if v in rule_ids}
        starts = [(m.start(), m.group(1)) for m in _TEST.finditer(text)]
        for k, (start, test) in enumerate(starts):
            body = text[start : starts[k + 1][0] if k + 1 < len(starts) else len(text)]
            hits = {rid for rid in rule_ids if f'"{rid}"' in body}
            hits |= {v for c, v in aliases.items() if re.search(rf"\b{c}\b", body)}
            for rid in hits:
                named.setdefault(rid, set()).add(f"{name}::{test}")

    def freeze(m: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(sorted(v)) for k, v in m.items()}

    return TestIndex(freeze(allowed), freeze(refused), freeze(named))


def build(requirements_text: str, requirements_file: str, definitions: Definitions, tests: TestIndex) -> Coverage:
    """Read and check the requirement list against the definitions; every problem is located."""
    entries, r = _read(requirements_text, requirements_file)
    for req, path in entries:
        _check(req, path, definitions, r)
    return Coverage(tuple(req for req, _ in entries), definitions, tests, tuple(r.problems))


# -- the page --------------------------------------------------------------------------------------
def _code(items: tuple[str, ...]) -> str:
    return ", ".join(f"`{i}`" for i in items) if items else "none found"


def _rule_lines(rule: Rule, tests: TestIndex) -> list[str]:
    lines = [f"  - `{rule.id}` ({rule.strength.value}, pack {rule.pack}): {rule.citation}"]
    lines.append(f"    - allowed: {_code(tests.allowed.get(rule.id, ()))}")
    lines.append(f"    - refused: {_code(tests.refused.get(rule.id, ()))}")
    named = tests.named_in.get(rule.id, ())
    if named:
        lines.append(f"    - also named in: {_code(named)}")
    return lines


def render(c: Coverage, command: str) -> str:
    """The Markdown page. ``command`` is how it was generated (printed in its header)."""
    d = c.definitions
    rules = d.rulebook.rules
    checked = [q for q in c.requirements if q.rules or q.gates]
    unverified = sorted(r.id for r in rules.values() if not r.citation.verified)
    out = [
        "# Legal coverage / 法律要求覆盖表",
        "",
        f"Generated by `{command}`",
        "from `docs/legal-requirements.yaml` (one entry per row of the reference), the rule packs and",
        "workflows of the deployment, and `tests/`. Do not edit by hand: `tests/test_legal_coverage.py`",
        "fails when this page differs from what the generator writes. Each rule is shown with its own",
        "citation as its pack states it; （出处未核实 / source not verified） marks a source whose text",
        "was not read. Tests are the allowed and refused cases of the rule tables (`tests/test_rules.py`)",
        "and the other tests that name the rule.",
        "",
        f"- requirements: {len(c.requirements)}; checked by a rule or gate: {len(checked)}; "
        f"not machine-checkable (with what is offered instead): {len(c.requirements) - len(checked)}",
        f"- rules loaded: {len(rules)} (packs {', '.join(p.id for p in d.rulebook.packs)}); "
        f"with an unverified source: {len(unverified)}; named by no requirement: {len(c.unmapped_rules)}",
        "",
    ]
    for q in c.requirements:
        out.append(f"## {q.row} {q.text.zh} / {q.text.en}")
        out.append("")
        out.append(f"- article: {'、'.join(q.articles)}")
        if q.rules:
            out.append("- rules:")
            for rule_id in q.rules:
                rule = rules.get(rule_id)
                out += _rule_lines(rule, c.tests) if rule else [f"  - `{rule_id}`: UNKNOWN RULE"]
        for ref in q.gates:
            wf_name, _, gate_id = ref.partition(".")
            gate = d.workflows[wf_name].gates.get(gate_id) if wf_name in d.workflows else None
            what = f"{gate.label.zh} / {gate.label.en}, rule `{gate.rule}`" if gate else "UNKNOWN GATE"
            out.append(f"- gate `{ref}`: {what}")
        for ref in q.transitions:
            wf_name, _, trigger = ref.partition(".")
            wf = d.workflows.get(wf_name)
            ts = [t for t in wf.transitions if t.trigger == trigger] if wf else []
            basis = "; ".join(sorted({t.basis for t in ts if t.basis})) or "—"
            if ts:
                out.append(f"- transition `{ref}`: {ts[0].label.zh} / {ts[0].label.en} ({basis})")
            else:
                out.append(f"- transition `{ref}`: UNKNOWN TRANSITION")
        if q.not_checkable:
            out.append(f"- not machine-checkable: {q.not_checkable}")
        if q.offers:
            out.append(f"- offered: {q.offers}")
        out.append("")
    out.append("## Rules named by no requirement")
    out.append("")
    if c.unmapped_rules:
        out.append("Map each to a requirement in `docs/legal-requirements.yaml` (or add a row):")
        out.append("")
        for rule_id in c.unmapped_rules:
            out += _rule_lines(rules[rule_id], c.tests)
    else:
        out.append("None: every loaded rule encodes a listed requirement.")
    out.append("")
    return "\n".join(out)
