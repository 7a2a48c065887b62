"""Legal text lives only in packs and workflow files; code refers to rules and checks by id.

The checks the engine and the service make themselves (`decisions.rules.checks`: date order, a
date in the future, a missing or damaged attachment, a case link, role, fields, documents, an
unavailable action) cite what the data says: the transition's own ``basis:`` for a check about it,
else the citation a pack's ``checks:`` section gives it (the most local pack wins), else the
workflow's first source. A pack naming an unknown check is a located load error.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from datetime import date

import pytest

from decisions.definitions import Definitions, Source
from decisions.errors import DefinitionError
from decisions.loading import load_sources
from decisions.rules.checks import CHECKS
from decisions.workflow.engine import Engine
from tests.support import MAIN_PATH, PEOPLE, ROOT, Story

CITATION = re.compile(r"《[^》]+》|第[一二三四五六七八九十百零〇\d]+条|\bArt\.\s*\d+")
# The demo plays clerks typing a decision's basis into a field: what a person enters, not a citation
# the code makes.
TYPED_BY_A_PERSON = {
    ("decisions/demo.py", "《重大行政决策程序暂行条例》第三条"),
    ("decisions/demo.py", "《价格法》《湖南省定价目录》"),
}
ART_33 = "第三十三条"
NATIONAL = (ROOT / "rules" / "national.yaml").read_text(encoding="utf-8")
WORKFLOWS = [
    Source("workflow", f"workflows/{name}.yaml", (ROOT / "workflows" / f"{name}.yaml").read_text(encoding="utf-8"))
    for name in ("major_decision", "catalogue")
]


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings (documentation, not text shown to anyone)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def legal_text_in_python() -> list[str]:
    found: list[str] = []
    for path in sorted((ROOT / "decisions").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), rel)
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
            if text is not None and id(node) not in docs and (rel, text) not in TYPED_BY_A_PERSON:
                found += [f"{rel}:{node.lineno}: {m.group(0)}" for m in CITATION.finditer(text)]
    return found


def test_the_scan_finds_citations() -> None:
    assert CITATION.findall("《重大行政决策程序暂行条例》第三十三条 (Art. 33)") == [
        "《重大行政决策程序暂行条例》",
        "第三十三条",
        "Art. 33",
    ]
    assert CITATION.findall("第 3 项 / record 3, a draft (version 2)") == []


def test_no_legal_citation_is_written_in_python() -> None:
    assert legal_text_in_python() == []


def test_the_art_33_citation_of_the_engine_checks_is_written_once() -> None:
    packs = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "rules").glob("*.yaml")}
    assert {name: text.count(ART_33) for name, text in packs.items() if ART_33 in text} == {"national.yaml": 1}


def deployment(*packs: str) -> Definitions:
    return load_sources(WORKFLOWS + [Source("rule_pack", f"rules/pack{i}.yaml", text) for i, text in enumerate(packs)])


def county(checks: str) -> str:
    return (
        "pack:\n  id: county\n  name: {zh: 县, en: County}\n  level: county\n"
        "  sources: {local: 《某县重大行政决策程序规定》}\n" + checks + "rules: []\n"
    )


def refused_ids_and_citations(definitions: Definitions) -> dict[str, str]:
    story = Story(definitions)
    story.walk("launch")
    backwards = story.refused(
        "launch", "head_wang", date(2025, 3, 1), {"organiser_unit": "交通局", "catalogue_item": "2025-03"}, ()
    )
    out = {u.rule_id: u.citation for u in backwards.unmet}
    unavailable = story.refused("archive", "clerk_li", date(2025, 3, 10))
    out.update({u.rule_id: u.citation for u in unavailable.unmet})
    clerk = story.refused("launch", "clerk_li", date(2025, 3, 10), {"organiser_unit": "交通局"}, ("launch_decision",))
    out.update({u.rule_id: u.citation for u in clerk.unmet})
    return out


def test_engine_checks_cite_the_national_pack_or_the_transition(definitions: Definitions) -> None:
    cited = {k: v for k, v in definitions.rulebook.checks.items() if ":" not in k}  # not one workflow's own
    assert set(cited) == {"engine.date_order", "service.future_date", "service.document", "engine.correction"}
    assert {str(c) for c in cited.values()} == {"《重大行政决策程序暂行条例》（国务院令第713号）第三十三条 (Art. 33)"}
    found = refused_ids_and_citations(definitions)
    launch = next(t for t in definitions.workflow("major_decision").transitions if t.trigger == "launch")
    assert launch.basis
    assert found["engine.date_order"] == str(cited["engine.date_order"])
    assert found["engine.role"] == launch.basis  # the transition's own basis: the most specific text
    assert found["engine.document.launch_decision"] == launch.basis
    assert found["engine.unavailable"] == definitions.workflow("major_decision").sources[0]  # no pack cites it


def test_a_local_pack_recites_a_check(definitions: Definitions) -> None:
    local = county(
        "checks:\n"
        "  - ids: [engine.date_order, engine.unavailable]\n"
        "    citation: {source: local, article: 第九条, article_en: Art. 9}\n"
    )
    found = refused_ids_and_citations(deployment(NATIONAL, local))
    assert found["engine.date_order"] == found["engine.unavailable"]
    assert found["engine.date_order"].startswith("《某县重大行政决策程序规定》第九条 (Art. 9)")


def test_without_a_pack_citing_a_check_the_workflow_source_is_cited() -> None:
    start, end = NATIONAL.index("\nchecks:\n"), NATIONAL.index("\nrules:\n")
    bare = deployment(NATIONAL[:start] + NATIONAL[end:])
    assert bare.rulebook.checks == {}
    assert refused_ids_and_citations(bare)["engine.date_order"] == bare.workflow("major_decision").sources[0]


def test_an_unknown_or_twice_cited_check_is_a_located_load_error() -> None:
    local = county(
        "checks:\n"
        "  - ids: [engine.date_order, engine.dates]\n"
        "    citation: {source: local, article: 第九条}\n"
        "  - ids: [engine.date_order]\n"
        "    citation: {source: nowhere, article: 第十条}\n"
    )
    with pytest.raises(DefinitionError) as exc:
        deployment(NATIONAL, local)
    shown = [str(p) for p in exc.value.problems]
    assert any(
        s.startswith("rules/pack1.yaml:7: checks[0].ids[1]:")
        and "unknown engine check 'engine.dates'" in s
        and all(c in s for c in CHECKS)
        for s in shown
    ), shown
    assert any(s.startswith("rules/pack1.yaml:9: checks[1].ids[0]:") and "cited twice" in s for s in shown), shown
    assert any(s.startswith("rules/pack1.yaml:10: checks[1].citation.source:") for s in shown), shown


def test_refusals_keep_their_ids(definitions: Definitions) -> None:
    engine = Engine(definitions, "major_decision")
    case = engine.new_case("D-1")
    step = MAIN_PATH[0]
    unmet, _ = engine.check(case, Story(definitions).action(replace(step, actor="auditor_qian")))
    assert "engine.role" in {u.rule_id for u in unmet}
    assert PEOPLE["auditor_qian"].id in next(u.message_zh for u in unmet if u.rule_id == "engine.role")
    assert set(CHECKS) >= {u.rule_id for u in unmet if u.rule_id.count(".") == 1}


def test_every_check_id_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [c for c in CHECKS if f"`{c}" not in readme] == []
