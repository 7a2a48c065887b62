"""docs/legal-coverage.md is generated, so it cannot drift.

`decisions workflow coverage` reads docs/legal-requirements.yaml (one entry per row of the reference),
the deployment's packs and workflows, and tests/. The committed page must be exactly what it writes;
an entry naming a rule, gate or transition that does not exist, or a rule whose own citation does not
say the entry's article ("wrong citation"), is refused with its file and line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.config import load_deployment
from decisions.coverage import build, index_tests, render
from decisions.errors import DefinitionError
from decisions.service import DefinitionsService
from tests.support import ROOT, shipped_definitions

REQUIREMENTS = ROOT / "docs" / "legal-requirements.yaml"
PAGE = ROOT / "docs" / "legal-coverage.md"
TESTS = ROOT / "tests"
TEXT = REQUIREMENTS.read_text(encoding="utf-8")
runner = CliRunner()


def coverage_cli(*args: str) -> tuple[int, str]:
    """Run ``decisions workflow coverage`` on the shipped deployment; (exit code, output or error)."""
    result = runner.invoke(
        app,
        ["workflow", "coverage", "--config", str(ROOT / "decisions.yaml"), "--tests", str(TESTS), *args],
    )
    if isinstance(result.exception, DefinitionError):
        return exit_code(result.exception), str(result.exception)
    return result.exit_code, result.output


def with_requirements(tmp_path: Path, old: str, new: str) -> Path:
    assert TEXT.count(old) == 1, old
    path = tmp_path / "legal-requirements.yaml"
    path.write_text(TEXT.replace(old, new), encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def test_the_committed_page_is_what_the_generator_writes() -> None:
    code, out = coverage_cli("--requirements", str(REQUIREMENTS), "--check", str(PAGE))
    assert code == 0, out
    assert "up to date" in out


def test_a_stale_page_is_reported_with_the_command_that_regenerates_it(tmp_path: Path) -> None:
    stale = tmp_path / "legal-coverage.md"
    stale.write_text(PAGE.read_text(encoding="utf-8").replace("第十五条第一款", "第十五条第二款"), encoding="utf-8")
    config = ("--config", str(ROOT / "decisions.yaml"), "--tests", str(TESTS), "--requirements", str(REQUIREMENTS))
    result = runner.invoke(app, ["workflow", "coverage", *config, "--check", str(stale)])
    assert result.exit_code == 1
    assert "out of date" in result.stderr and "decisions workflow coverage --write docs/legal-coverage.md" in (
        result.stderr
    )


def test_every_row_of_the_reference_has_an_entry_and_the_shipped_rules_are_placed() -> None:
    definitions = shipped_definitions()
    files = {p.name: p.read_text(encoding="utf-8") for p in TESTS.glob("*.py")}
    result = build(TEXT, str(REQUIREMENTS), definitions, index_tests(files, set(definitions.rulebook.rules)))
    assert result.problems == ()
    rows = [q.row for q in result.requirements]
    assert [r for r in rows if r.startswith("2.")] == [f"2.{n}" for n in range(1, 48)]
    assert [r for r in rows if r.startswith("4.2.")] == [f"4.2.{n}" for n in range(1, 10)]
    # rules added later are listed on the page as unmapped (see below); today every rule is placed
    assert result.unmapped_rules == ()
    for q in result.requirements:
        assert q.rules or q.gates or (q.not_checkable and q.offers), q.row


def test_the_page_shows_each_rule_with_its_own_citation_and_its_allowed_and_refused_cases() -> None:
    page = PAGE.read_text(encoding="utf-8")
    section = page.split("## 2.13 ")[1].split("\n## ")[0]
    assert "- article: 第十五条第一款" in section
    assert "`national.comment_period_minimum` (default_minimum, pack national): 《重大行政决策程序暂行条例》" in section
    assert "第十五条第一款 (Art. 15(1))" in section and "第十五条第二款" not in section
    assert "- allowed: `test_rules.py 29-days-with-reason`, `test_rules.py 30-days`" in section
    assert "- refused: `test_rules.py 29-days`" in section
    # a rule cited to an unverified local source is marked on the page
    screening = page.split("## 4.2.2 ")[1].split("\n## ")[0]
    assert "湘政办发〔2022〕33号" in screening and "（出处未核实 / source not verified）" in screening
    # what cannot be checked says why, and what the software offers instead
    archiving = page.split("## 2.36 ")[1].split("\n## ")[0]
    assert "- not machine-checkable:" in archiving and "- offered:" in archiving


def test_the_test_index_reads_rule_tables_and_tests_that_name_a_rule() -> None:
    files = {
        "test_x.py": (
            'R = "national."\n'
            'GATE = "national.gate"\n'
            'CASES = [allowed(R + "a", "ok-case", STEP), refused(\n    R + "a",\n    "bad-case", STEP)]\n'
            'def test_one() -> None:\n    assert "national.b" in ids\n'
            "def test_two() -> None:\n    check(GATE)\n"
            "def test_three() -> None:\n    attempt_allowed(story, step)\n"
        )
    }
    index = index_tests(files, {"national.a", "national.b", "national.gate"})
    assert index.allowed == {"national.a": ("test_x.py ok-case",)}
    assert index.refused == {"national.a": ("test_x.py bad-case",)}
    assert index.named_in == {"national.b": ("test_x.py::test_one",), "national.gate": ("test_x.py::test_two",)}


FLAWS = [
    (
        "unknown-rule",
        "    rules: [national.comment_period_minimum, national.consultation_ran_its_period, national.open_consultation_when_required, national.comment_period_change_minimum, national.comment_period_change_not_past, national.consultation_cancelled_with_reason]\n",
        "    rules: [national.comment_period_minimum, national.no_such_rule]\n",
        "rules: [national.comment_period_minimum, national.no_such_rule]",
        "unknown rule 'national.no_such_rule' (not in the loaded packs: national,",
    ),
    (
        "wrong-citation",
        "    article: [第十五条第一款]\n",
        "    article: [第十五条第二款]\n",
        "rules: [national.comment_period_minimum, national.consultation_ran_its_period, national.open_consultation_when_required, national.comment_period_change_minimum",
        "wrong citation: national.comment_period_minimum cites",
    ),
    (
        "unknown-gate",
        "    cites: [第二十五条]\n    gates: [major_decision.legality_review]\n",
        "    cites: [第二十五条]\n    gates: [major_decision.lawfulness]\n",
        "gates: [major_decision.lawfulness]",
        "unknown gate 'major_decision.lawfulness'",
    ),
    (
        "unknown-transition",
        "    transitions: [major_decision.archive]\n",
        "    transitions: [major_decision.shred]\n",
        "transitions: [major_decision.shred]",
        "unknown transition 'major_decision.shred'",
    ),
    (
        "neither-checked-nor-explained",
        "    not_checkable: a principle, with no act a record could show\n",
        "",
        '- row: "2.4"',
        "an entry names the rules or gates that check it, or says why it is not_checkable",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "at", "expect"), FLAWS, ids=[f[0] for f in FLAWS])
def test_a_flawed_entry_is_refused_at_its_line(
    tmp_path: Path, name: str, old: str, new: str, at: str, expect: str
) -> None:
    path = with_requirements(tmp_path, old, new)
    code, out = coverage_cli("--requirements", str(path))
    assert code == 1, out
    assert f"{path}:{line_of(path, at)}:" in out and expect in out, out
    assert "# Legal coverage" not in out  # nothing is written when an entry is wrong


def test_rules_added_later_are_listed_as_unmapped_not_lost() -> None:
    definitions = shipped_definitions()
    trimmed = TEXT.replace("    rules: [youxian.deferral_not_expired, youxian.deferral_expired]\n", "")
    trimmed = trimmed.replace("    cites: [暂缓]\n", "    not_checkable: test\n    cites: [暂缓]\n")
    result = build(trimmed, "x.yaml", definitions, index_tests({}, set(definitions.rulebook.rules)))
    assert result.problems == ()
    assert result.unmapped_rules == ("youxian.deferral_expired", "youxian.deferral_not_expired")
    page = render(result, "cmd")
    tail = page.split("## Rules named by no requirement")[1]
    assert "`youxian.deferral_expired`" in tail and "- allowed: none found" in tail


def test_the_service_reads_the_deployment_and_the_tests_directory() -> None:
    service = DefinitionsService(load_deployment(ROOT / "decisions.yaml"))
    result = service.legal_coverage(REQUIREMENTS, TESTS)
    assert result.problems == () and len(result.requirements) == TEXT.count("\n  - row: ") >= 58
