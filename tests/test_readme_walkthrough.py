"""The README's walkthrough transcripts are true: every ```text block of "Walkthrough by role" is
replayed, command by command, on a fresh demo database, and each command prints what the README
shows (the attached files are written with their own names as content)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def transcripts() -> list[tuple[str, str]]:
    """(command, output) in README order, from the walkthrough's ```text blocks; a command line ending
    in a backslash goes on on the next line."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Walkthrough by role", 1)[1].split("\n## ", 1)[0]
    out: list[tuple[str, str]] = []
    for block in re.findall(r"```text\n(.*?)```", section, re.S):
        command: list[str] = []
        output: list[str] = []
        continued = False
        for line in block.rstrip("\n").split("\n"):
            if line.startswith("$ ") or continued:
                if line.startswith("$ ") and command:
                    out.append((" ".join(command), "\n".join(output).strip("\n")))
                    command, output = [], []
                part = line[2:] if line.startswith("$ ") else line
                continued = part.rstrip().endswith("\\")
                command.append(part.rstrip().rstrip("\\").strip())
            else:
                output.append(line.rstrip())
        if command:
            out.append((" ".join(command), "\n".join(output).strip("\n")))
    return out


def test_the_walkthrough_transcripts_are_what_the_commands_print(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DECISIONS_DATABASE_URL": "sqlite:///decisions-demo.sqlite",
        "DECISIONS_CACHE": str(tmp_path / "cache"),
        "COLUMNS": "200",
    }
    env.pop("DECISIONS_CONFIG", None)
    demo = subprocess.run([sys.executable, "-m", "decisions", "demo"], cwd=tmp_path, env=env, capture_output=True)
    assert demo.returncode == 0, demo.stderr
    steps = transcripts()
    assert len(steps) >= 5, steps
    for command, expected in steps:
        argv = shlex.split(command)
        assert argv[0] == "decisions", command
        for arg in argv:
            if "=" in arg and arg.endswith(".pdf"):
                name = arg.split("=", 1)[1]
                (tmp_path / name).write_text(name + "\n", encoding="utf-8")
        run = subprocess.run(
            [sys.executable, "-m", "decisions", *argv[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        printed = "\n".join(line.rstrip() for line in (run.stdout + run.stderr).strip("\n").split("\n"))
        assert printed == expected, f"$ {command}\n--- README ---\n{expected}\n--- printed ---\n{printed}"
