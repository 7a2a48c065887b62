"""Chinese first: under ``--lang zh`` (or ``DECISIONS_LANG=zh``) every word a clerk reads is Chinese.

Through the installed ``decisions`` command, on the demo's database: states, roles, fields, document
kinds and booleans by their labels from the YAML; ``需要`` for what an action needs; citations without
their English article; refusals and our usage errors in Chinese only; Typer's own words (usage
errors, missing options, unknown commands, help) in Chinese, with no Python type shown as a metavar;
``--lang en`` the same in English. One role has one label everywhere, tables fit 80 columns, and
``decisions --version`` says the version.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest
from rich.cells import cell_len

from decisions.definitions import Definitions
from tests.support import DEPLOYMENT, ROOT, shipped_definitions

EXECUTABLE = str(Path(sys.executable).parent / "decisions")
CJK = re.compile(r"[\u3400-\u9fff]")
TYPER_ENGLISH = ("Usage", "Options", "Arguments", "Commands", "Error", "Try ", "Missing", "No such", "Invalid value")
PYTHON_TYPES = ("<str>", "<int>", "<path>", "<bool>", "<list[str]>", "TEXT", "INTEGER")


@dataclass(frozen=True)
class Printed:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's database, played once; each test works on a copy."""
    root = tmp_path_factory.mktemp("demo")
    env = {**_env(root), "DECISIONS_LANG": "both"}
    played = subprocess.run([EXECUTABLE, "demo"], cwd=root, env=env, capture_output=True, text=True)
    assert played.returncode == 0, played.stderr
    return root


@pytest.fixture
def office(demo_dir: Path, tmp_path: Path) -> Iterator[Path]:
    for p in demo_dir.iterdir():
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, tmp_path / p.name)
    yield tmp_path


def _env(cwd: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECISIONS_")}
    env.update(
        DECISIONS_DATABASE_URL="sqlite:///decisions-demo.sqlite",
        DECISIONS_CACHE=str(cwd / "cache"),
        DECISIONS_DOCUMENTS=str(cwd / "decisions-demo.documents"),
        COLUMNS="200",
    )
    env.update(extra)
    return env


def decisions(cwd: Path, *args: str, **env: str) -> Printed:
    run = subprocess.run([EXECUTABLE, *args], cwd=cwd, env=_env(cwd, **env), capture_output=True, text=True)
    return Printed(run.returncode, run.stdout, run.stderr)


@pytest.fixture(scope="module")
def definitions() -> Definitions:
    return shipped_definitions()


# -- a case on screen ---------------------------------------------------------------------------------


def test_show_in_chinese_names_states_roles_fields_and_needs_by_their_labels(
    office: Path, definitions: Definitions
) -> None:
    shown = decisions(office, "--lang", "zh", "show", "D-2025-002", "--as", "赵律师")
    assert shown.code == 0, shown.err
    wf = definitions.workflow("major_decision")
    history = decisions(office, "history", "D-2025-002", "--json")
    roles = {r.split('"')[3] for r in re.findall(r'"role": "[^"]*"', history.out)}
    assert roles and all(f"[{wf.roles[r].label.zh}]" in shown.out for r in roles), shown.out
    assert not any(f"[{r}]" in shown.out for r in roles), "a role shown by its id"
    states = {"legality_submitted", "under_review", "drafting", "proposed", "argumentation"}
    assert not [s for s in states if re.search(rf"(?<![（_a-z]){s}(?![）_a-z])", shown.out)], shown.out
    assert all(wf.states[s].label.zh in shown.out for s in states)
    for name in ("organiser_unit", "risk", "technical", "title"):
        assert f"   {name}" not in shown.out and f"{wf.fields[name].label.zh}：" in shown.out, name
    assert "needs" not in shown.out and "需要：" in shown.out
    assert f"📎{wf.documents['return_notice'].label.zh}" in shown.out
    assert "yes" not in shown.out and "：是" in shown.out  # booleans
    assert "Art." not in shown.out and "source not verified" not in shown.out and "第" in shown.out
    english = decisions(office, "--lang", "en", "show", "D-2025-002", "--as", "赵律师")
    assert "needs: reason, 📎return_notice" in english.out and "需要：" not in english.out


def test_history_list_user_list_and_inbox_in_chinese_show_no_ids(office: Path, definitions: Definitions) -> None:
    wf = definitions.workflow("major_decision")
    history = decisions(office, "--lang", "zh", "history", "D-2025-001")
    assert history.code == 0 and "[organiser]" not in history.out and "[承办单位经办人]" in history.out
    assert f"{wf.transition('proposed', 'launch').label.zh}（launch）" in history.out  # type: ignore[union-attr]
    listed = decisions(office, "--lang", "zh", "list")
    assert "major_decision" not in listed.out and wf.label.zh in listed.out and "executing" not in listed.out
    assert wf.states["executing"].label.zh in listed.out
    people = decisions(office, "--lang", "zh", "user", "list")
    assert "legal_counsel" not in people.out and "在用" in people.out and "active" not in people.out
    box = decisions(office, "--lang", "zh", "inbox", "--as", "赵律师")
    assert "legal_counsel" not in box.out and "inbox" not in box.out and "overdue" not in box.out, box.out


def test_an_accepted_action_in_chinese_names_its_action_states_and_role(office: Path) -> None:
    done = decisions(
        office, "--lang", "zh", "act", "D-2025-002", "accept_review", "--as", "赵律师", "--on", "2025-10-10"
    )
    assert done.code == 0, done.err
    assert "legality_submitted" not in done.out and "under_review" not in done.out and "[legal_counsel]" not in done.out
    assert "受理合法性审查（accept_review）" in done.out and "［合法性审查人员］" in done.out


# -- refusals and errors ------------------------------------------------------------------------------

FIND_LAWFUL = ("act", "D-2025-002", "find_lawful", "--as", "赵律师", "--on", "2025-10-20")
FINDINGS = ("--set", "authority=compliant", "--set", "procedure=compliant", "--set", "content=non_compliant")


def test_a_refusal_in_chinese_is_chinese_only_and_in_english_english_only(office: Path) -> None:
    assert decisions(office, "act", "D-2025-002", "accept_review", "--as", "赵律师", "--on", "2025-10-10").code == 0
    zh = decisions(office, "--lang", "zh", *FIND_LAWFUL, *FINDINGS)
    assert zh.code == 3 and zh.out == ""
    assert zh.err.startswith("操作被拒绝：出具合法性审查意见：合法（find_lawful）（状态：合法性审查中）"), zh.err
    assert "Art." not in zh.err and "action refused" not in zh.err and "three findings" not in zh.err
    assert "第二十七条" in zh.err
    en = decisions(office, "--lang", "en", *FIND_LAWFUL, *FINDINGS)
    assert en.code == 3 and en.err.startswith("action refused: find_lawful (state: under_review)"), en.err
    assert "操作被拒绝" not in en.err and "三项审查结论" not in en.err and "(Art. 27)" in en.err
    both = decisions(office, *FIND_LAWFUL, *FINDINGS)
    assert both.err.startswith("操作被拒绝 / action refused: find_lawful"), both.err


def test_our_usage_errors_carry_both_languages_and_show_the_one_asked_for(office: Path) -> None:
    args = ("act", "D-2025-002", "accept_review", "--as", "赵律师", "--on", "2025/13/01")
    zh = decisions(office, "--lang", "zh", *args)
    assert zh.code == 2 and "日期格式错误" in zh.err and "malformed" not in zh.err, zh.err
    en = decisions(office, "--lang", "en", *args)
    assert en.code == 2 and "malformed date" in en.err and "日期格式错误" not in en.err, en.err
    env = decisions(office, *args, DECISIONS_LANG="zh")
    assert env.code == 2 and env.err == zh.err
    future = decisions(
        office, "--lang", "zh", "act", "D-2025-002", "accept_review", "--as", "赵律师", "--on", "2030-01-01"
    )
    assert future.code == 2 and "晚于今天" in future.err and "in the future" not in future.err, future.err


@pytest.mark.parametrize(
    "args, chinese",
    [
        (("shw",), ("没有命令 'shw'", "'show'")),
        (("act", "D-2025-001"), ("缺少参数",)),
        (("act", "D-2025-001", "launch", "--as"), ("选项 --as 需要一个值",)),
        (("inbox", "--as", "赵律师", "--limit", "abc"), ("--limit", "应为整数")),
        (("inbox", "--as", "赵律师", "--limit", "0"), ("--limit", "应不小于 1")),
        (("show", "D-2025-001", "--bogus"), ("没有选项 --bogus",)),
        (("show", "D-2025-001", "extra"), ("多余的参数", "extra")),
    ],
    ids=[
        "unknown-command",
        "missing-argument",
        "option-without-value",
        "not-an-integer",
        "below-range",
        "unknown-option",
        "extra-argument",
    ],
)
def test_typer_s_own_usage_errors_are_told_in_chinese(
    office: Path, args: tuple[str, ...], chinese: tuple[str, ...]
) -> None:
    for printed in (decisions(office, "--lang", "zh", *args), decisions(office, *args, DECISIONS_LANG="zh")):
        assert printed.code == 2 and printed.out == "" and "Traceback" not in printed.err, printed
        assert all(c in printed.err for c in chinese), printed.err
        assert not [w for w in TYPER_ENGLISH if w in printed.err], printed.err
    assert decisions(office, "--lang", "en", *args).code == 2


# -- help ------------------------------------------------------------------------------------------------


def _command_paths() -> list[tuple[str, ...]]:
    from typer.main import get_command

    from decisions.cli import app

    paths: list[tuple[str, ...]] = []
    stack: list[tuple[tuple[str, ...], object]] = [((), get_command(app))]
    while stack:
        path, cmd = stack.pop()
        paths.append(path)
        stack.extend(((*path, name), sub) for name, sub in getattr(cmd, "commands", {}).items())
    return sorted(paths)


def test_every_help_page_in_chinese_is_chinese_with_no_python_type(tmp_path: Path) -> None:
    paths = _command_paths()
    assert len(paths) > 15
    for path in paths:
        printed = decisions(tmp_path, "--lang", "zh", *path, "--help")
        assert printed.code == 0, (path, printed.err)
        assert "用法：" in printed.out and "显示本帮助并退出" in printed.out, path
        assert not [w for w in (*TYPER_ENGLISH, *PYTHON_TYPES, "Show this message") if w in printed.out], (
            path,
            printed.out,
        )
        described = [line for line in printed.out.splitlines() if line.startswith("│ --")]
        assert all(CJK.search(line) for line in described), (path, [line for line in described if not CJK.search(line)])
        english = decisions(tmp_path, "--lang", "en", *path, "--help")
        assert not [w for w in PYTHON_TYPES if w in english.out], (path, english.out)


def test_version(tmp_path: Path) -> None:
    printed = decisions(tmp_path, "--version")
    assert printed.code == 0 and printed.out.strip() == f"decisions {version('decisions')}"


# -- one label per role, tables at 80 columns ----------------------------------------------------------


def test_a_role_has_one_label_in_every_workflow(definitions: Definitions) -> None:
    labels: dict[str, set[str]] = {}
    for wf in definitions.workflows.values():
        for name, role in wf.roles.items():
            labels.setdefault(name, set()).add(str(role.label))
    assert {n: ls for n, ls in labels.items() if len(ls) > 1} == {}


def test_a_workflow_labelling_a_shared_role_otherwise_is_refused_where_it_does(tmp_path: Path) -> None:
    text = (ROOT / "workflows" / "catalogue.yaml").read_text(encoding="utf-8")
    edited = re.sub(r"(?m)^  organiser: \{zh: [^,]+,", "  organiser: {zh: 部门经办人,", text, count=1)
    assert edited != text
    (tmp_path / "catalogue.yaml").write_text(edited, encoding="utf-8")
    checked = decisions(tmp_path, "workflow", "check", str(tmp_path / "catalogue.yaml"), "--config", str(DEPLOYMENT))
    assert checked.code == 1, checked
    assert re.search(r"catalogue\.yaml:\d+: roles\.organiser: role 'organiser' is labelled '部门经办人", checked.text)


@pytest.mark.parametrize("lang", ["zh", "en", "both"])
def test_tables_fit_80_columns(office: Path, lang: str) -> None:
    for args in (("list",), ("user", "list"), ("catalogue", "show", "2025"), ("workflow", "check")):
        printed = decisions(office, "--lang", lang, *args, COLUMNS="80")
        table = [line for line in printed.out.splitlines() if line[:1] in "┏┃┡│└"]
        assert table, args
        assert max(cell_len(line) for line in table) <= 80, (args, [line for line in table if cell_len(line) > 80])


def test_a_field_may_be_named_by_its_chinese_label(office: Path, definitions: Definitions) -> None:
    wf = definitions.workflow("major_decision")
    reason = wf.fields["reason"].label.zh
    (office / "退回通知.pdf").write_text("退回通知\n", encoding="utf-8")
    done = decisions(
        office,
        *("--lang", "zh", "act", "D-2025-002", "return_submission", "--as", "赵律师", "--on", "2025-10-10"),
        *("--set", f"{reason}=材料不全", "--attach", "return_notice=退回通知.pdf"),
    )
    assert done.code == 0, done.err
    history = decisions(office, "history", "D-2025-002", "--json")
    assert '"reason": "材料不全"' in history.out


def test_the_audit_in_chinese_verifies_and_replays_in_chinese(office: Path, definitions: Definitions) -> None:
    verified = decisions(office, "--lang", "zh", "audit", "verify")
    assert verified.code == 0 and "已校验：" in verified.out and "历史完整，未发现篡改" in verified.out
    assert not re.search(r"[A-Za-z]{3,}", verified.out.replace("sha256", "")), verified.out
    replayed = decisions(office, "--lang", "zh", "audit", "replay", "D-2025-002")
    wf = definitions.workflow("major_decision")
    assert replayed.code == 0 and "一致" in replayed.out and "consistent" not in replayed.out
    assert f"［{wf.roles['organiser'].label.zh}］" in replayed.out and "[organiser]" not in replayed.out
    assert "通过" in replayed.out and "passed" not in replayed.out and "not_applicable" not in replayed.out
    assert "Art." not in replayed.out and "article to be verified" not in replayed.out
    assert wf.states["legality_submitted"].label.zh in replayed.out and " legality_submitted" not in replayed.out
