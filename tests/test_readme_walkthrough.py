"""The README's walkthrough runs as written, start to finish: every ```sh block and every ```text
transcript of "Walkthrough by role", in README order, in one shell, in a fresh directory holding only
the virtual environment (as ``.venv``, where the quick start made it). The ```sh blocks put ``decisions``
on the PATH themselves, play the demo and make the attachments; each of their commands must succeed.
Each ``$ decisions …`` command of a transcript must print exactly what the README shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def walkthrough() -> list[tuple[str, str]]:
    """The section's blocks in order: ("sh", script) or ("text", the transcript)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Walkthrough by role", 1)[1].split("\n## ", 1)[0]
    return [(kind, body) for kind, body in re.findall(r"```(sh|text)\n(.*?)```", section, re.S)]


def transcripts(block: str) -> list[tuple[str, str]]:
    """(command, output) of one ```text block; a command line ending in a backslash goes on on the next line."""
    out: list[tuple[str, str]] = []
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


def test_the_walkthrough_runs_as_written_and_prints_what_the_readme_shows(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))  # the checkout's virtual environment, nothing else of it
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECISIONS_")}
    env.update(DECISIONS_CACHE=str(tmp_path / "cache"), COLUMNS="200")
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != Path(sys.executable).parent
    )
    script = ["set -e"]
    expected: list[tuple[str, str, Path]] = []
    sh_commands = 0
    for kind, body in walkthrough():
        if kind == "sh":
            script.append(body)
            sh_commands += sum(1 for line in body.splitlines() if line.startswith("decisions "))
            continue
        for command, output in transcripts(body):
            assert shlex.split(command)[0] == "decisions", command
            printed = tmp_path / f"transcript-{len(expected)}.txt"
            script.append(f"{command} > {shlex.quote(str(printed))} 2>&1 || true")
            expected.append((command, output, printed))
    assert sh_commands >= 10 and len(expected) >= 8, (sh_commands, len(expected))
    ran = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, f"a command of the walkthrough failed:\n{ran.stderr[-3000:]}"
    for command, output, printed in expected:
        got = "\n".join(line.rstrip() for line in printed.read_text(encoding="utf-8").strip("\n").split("\n"))
        assert got == output, f"$ {command}\n--- README ---\n{output}\n--- printed ---\n{got}"


def test_the_walkthrough_puts_decisions_on_the_path_and_shows_the_language_switch() -> None:
    blocks = walkthrough()
    first_sh = next(body for kind, body in blocks if kind == "sh")
    assert first_sh.startswith('export PATH="$PWD/.venv/bin:$PATH"'), first_sh
    commands = [c for kind, body in blocks if kind == "text" for c, _ in transcripts(body)]
    assert any(c.startswith("decisions --lang zh ") for c in commands)
    assert any(c.startswith("decisions --lang en ") for c in commands)
    assert not [b for kind, b in blocks if kind == "sh" and re.search(r"=\.\.\.|\s\.\.\.(\s|$)", b)], "a placeholder"


def test_the_browser_section_starts_the_server_the_administrator_logs_in_to(tmp_path: Path) -> None:
    """ "In the browser": after the demo, the block's commands as written (the prompted password
    typed in), and the administrator logs in to the served database and reaches the people pages."""
    import socket
    import time

    import httpx

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In the browser: `decisions serve`", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, re.S)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines() if line.startswith("decisions ")]
    assert [c[:2] for c in commands] == [["decisions", "user"], ["decisions", "serve"]], commands
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECISIONS_")}
    env.update(DECISIONS_CACHE=str(tmp_path / "cache"), COLUMNS="200")
    exe = str(Path(sys.executable).parent / "decisions")
    demo = subprocess.run([exe, "demo"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr[-2000:]
    password = "a password of the walkthrough"
    set_password = subprocess.run(
        [exe, *commands[0][1:]],
        cwd=tmp_path,
        env=env,
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
    )
    assert set_password.returncode == 0, set_password.stdout + set_password.stderr
    administrator = commands[0][3]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [exe, *commands[1][1:], "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1].decode()[-2000:]
                time.sleep(0.1)
        with httpx.Client(base_url=base, follow_redirects=True) as browser:
            token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text)
            assert token is not None
            page = browser.post(
                "/login",
                data={"name": administrator, "password": password, "csrf": token.group(1), "next": "/admin/people"},
            )
            assert page.status_code == 200 and str(page.url).endswith("/admin/people"), page.url
            assert administrator in page.text and 'id="nav-admin"' in page.text
    finally:
        server.terminate()
        server.wait(timeout=10)
