"""The project keeps its own promises: the README quick start is what CI runs, the code is formatted,
linted and type-checked, and the public surface is deliberate."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

BIN = Path(sys.executable).parent


def quickstart() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- quickstart -->\s*```sh\n(.*?)```", text, re.S)
    assert block, "README has no quick-start block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_quickstart_is_two_commands_that_ci_runs_verbatim() -> None:
    commands = quickstart()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert command in ci, f"{command!r} is not run by .ci/run"


def test_readme_main_job_runs_the_demo_twice_and_the_python_api_example_works(tmp_path: Path) -> None:
    setup_and_job = quickstart()[0]
    job = setup_and_job.split("&&")[-1].strip()
    assert job == ".venv/bin/decisions demo"
    argv = [str(BIN / "decisions"), *job.split()[1:]]
    for _ in range(2):  # re-runnable: it starts from a fresh file each time
        result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "history intact" in result.stdout
        assert "第二十五条" in result.stdout  # the attempt to skip the legality review is refused
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"<!-- python-api -->\s*```python\n(.*?)```", text, re.S)
    assert example, "README has no Python API example"
    run = subprocess.run(
        [sys.executable, "-c", example.group(1)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "accept_review" in run.stdout and "4 items in the 2025 catalogue" in run.stdout


@pytest.mark.parametrize(
    "tool",
    [
        ["ruff", "check", "decisions", "tests", "bench", "setup.py"],
        ["ruff", "format", "--check", "decisions", "tests", "bench", "setup.py"],
        ["mypy"],
    ],
    ids=lambda t: " ".join(t[:2]),
)
def test_code_is_formatted_linted_and_type_checked(tool: list[str]) -> None:
    result = subprocess.run([str(BIN / tool[0]), *tool[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_eval_or_unsafe_yaml_in_the_package() -> None:
    pattern = re.compile(r"(^|[^_.a-z])(eval|exec)\(|yaml\.load\(|unsafe_load|pickle\.loads")
    offenders = [
        f"{p}:{i}"
        for p in (ROOT / "decisions").rglob("*.py")
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
