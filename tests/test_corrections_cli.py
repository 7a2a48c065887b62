"""`decisions correct` end to end, on SQLite and PostgreSQL: the wrong `--on` date of issue 13 fixed
from the command line, `history` and `audit replay` showing the original and the correction, and
the refusals (exit 3 with the article, exit 2 for bad input) writing nothing.

The dates are relative to today (China Standard Time): the commands run on the real clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decisions.cli import app, exit_code
from decisions.errors import DecisionsError
from tests.stores import BACKENDS, new_database_url

runner = CliRunner()
CST = timezone(timedelta(hours=8))


def day(offset: int) -> str:
    return (datetime.now(CST).date() + timedelta(days=offset)).isoformat()


class Cli:
    def __init__(self, url: str, documents: Path) -> None:
        self.url, self.documents = url, documents

    def __call__(self, *args: str) -> tuple[int, str, str]:
        env = {"DECISIONS_DOCUMENTS": str(self.documents), "DECISIONS_USER": None, "DECISIONS_CONFIG": None}
        result = runner.invoke(app, [*args, "--db", self.url], env=env)
        if isinstance(result.exception, DecisionsError):
            return exit_code(result.exception), result.stdout, str(result.exception)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, (args, err)
        return out


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cli]:
    for url in new_database_url(request.param, tmp_path):
        c = Cli(url, tmp_path / "documents")
        c.ok("init")
        c.ok("user", "add", "管理员", "--admin")  # the first people administrator adds themselves
        for unit in ("县交通运输局", "县人民政府", "县政府办"):
            c.ok("unit", "add", unit, "--as", "管理员")
        c.ok("user", "add", "李明", "--role", "organiser", "--unit", "县交通运输局", "--as", "管理员")
        c.ok("user", "add", "王县长", "--role", "head", "--unit", "县人民政府", "--as", "管理员")
        c.ok("user", "add", "陈秘书", "--role", "office_clerk", "--unit", "县政府办", "--as", "管理员")
        yield c


def propose(cli: Cli, on: str) -> str:
    out = cli.ok(
        "propose", "--as", "李明", "--on", on, "--json",
        "--set", "title=城区停车收费调整", "--set", "category=public_policy", "--set", "source=leader",
    )  # fmt: skip
    return str(json.loads(out)["case"])


def test_a_wrong_on_date_is_corrected_from_the_command_line_and_both_are_on_record(cli: Cli) -> None:
    case = propose(cli, day(-1))  # meant: 30 days ago
    withdraw = ("act", case, "withdraw", "--as", "王县长", "--set", "reason=政策调整", "--on", day(-20))
    code, _, err = cli(*withdraw)
    assert code == 3 and "engine.date_order" in err

    out = cli.ok("correct", case, "--event", "1", "--on", day(-30), "--reason", "日期录入错误", "--as", "陈秘书")
    assert f"{day(-1)} → {day(-30)}" in out
    cli.ok(*withdraw)

    history = json.loads(cli.ok("history", case, "--json"))
    assert [h["seq"] for h in history] == [1, 2, 3]
    assert history[0]["on"] == day(-30) and history[0]["corrected_by"] == [2]
    assert history[1]["trigger"] == "erratum" and history[1]["corrects"] == 1
    assert history[1]["correction"] == {
        "fields": {},
        "was": {},
        "on": day(-30),
        "was_on": day(-1),
        "reason": "日期录入错误",
    }
    text = cli.ok("history", case)
    assert "日期录入错误" in text and f"{day(-1)} → {day(-30)}" in text

    assert "history intact" in cli.ok("audit", "verify")
    replay = json.loads(cli.ok("audit", "replay", case, "--json"))
    assert replay["ok"] is True
    assert replay["steps"][0]["happened_on"] == day(-1)  # the event as it was stored
    assert f"on: {day(-1)} → {day(-30)}" in replay["steps"][1]["correction"]


def test_refused_corrections_exit_with_the_article_or_as_bad_input_and_write_nothing(cli: Cli) -> None:
    case = propose(cli, day(-1))
    before = cli.ok("history", case, "--json")
    refusals = [
        (3, "engine.correction", ("--event", "1", "--on", day(-3), "--reason", "x", "--as", "李明")),  # not the office
        (3, "engine.correction", ("--event", "1", "--on", day(-3), "--reason", " ", "--as", "陈秘书")),  # no reason
        (3, "service.future_date", ("--event", "1", "--on", day(3), "--reason", "x", "--as", "陈秘书")),
        (2, "no event #7", ("--event", "7", "--on", day(-3), "--reason", "x", "--as", "陈秘书")),
        (2, "--on", ("--event", "1", "--on", "2026-13-01", "--reason", "x", "--as", "陈秘书")),
        (2, "does not take field", ("--event", "1", "--set", "nonsense=1", "--reason", "x", "--as", "陈秘书")),
    ]
    for code, text, args in refusals:
        got, out, err = cli("correct", case, *args)
        assert (got, text in err + out) == (code, True), (args, got, err)
    assert cli.ok("history", case, "--json") == before


def test_the_correct_command_is_listed_with_its_options() -> None:
    result = runner.invoke(app, ["correct", "--help"])
    assert result.exit_code == 0
    for option in ("--event", "--set", "--on", "--reason", "--as"):
        assert option in result.stdout
