"""The people commands as an IT colleague uses them (`decisions user …`, `decisions unit …`): the first
administrator adds themselves on an empty database, every later change names its administrator,
two people may share a name, and `--as` refuses an ambiguous name with the candidates. SQLite
(the service behind them is specified on both databases in tests/test_people.py)."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli_e2e import Cli

ADMIN = "管理员"


def test_people_administration_from_the_command_line(tmp_path: Path) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'people.sqlite'}", tmp_path / "documents")
    cli.ok("init")
    refused = cli("user", "add", "李明", "--role", "organiser")
    assert refused.code == 2 and "--as" in refused.err and "--admin" in refused.err  # nobody administers yet
    assert "✓ 管理员 (admin)" in cli.ok("user", "add", ADMIN, "--admin").out
    again = cli("user", "add", "第二管理员", "--admin")
    assert again.code == 2 and "--as" in again.err  # the bootstrap works once: then an administrator adds people
    cli.ok("unit", "add", "县交通运输局", "县城市管理局", "--as", ADMIN)
    assert cli.json("unit", "list") == sorted(["县城市管理局", "县交通运输局"])
    cli.ok("user", "add", "李明", "--role", "organiser", "--unit", "县交通运输局", "--as", ADMIN)
    namesake = cli("user", "add", "李明", "--role", "organiser", "--unit", "县城市管理局", "--as", ADMIN)
    assert namesake.code == 2 and "--id" in namesake.err
    cli.ok("user", "add", "李明", "--id", "liming-cg", "--role", "organiser", "--unit", "县城市管理局", "--as", ADMIN)
    cli.ok("user", "add", "张伟", "--id", "zw1", "--role", "proposer", "--unit", "县交通运输局", "--as", ADMIN)
    cli.ok("user", "add", "张伟", "--id", "zw2", "--role", "proposer", "--unit", "县城市管理局", "--as", ADMIN)
    ambiguous = cli("inbox", "--as", "张伟")
    assert ambiguous.code == 2 and "zw1 (县交通运输局)" in ambiguous.err and "zw2 (县城市管理局)" in ambiguous.err
    not_admin = cli("user", "grant", "zw1", "head", "--as", "李明")
    assert not_admin.code == 2 and "not an active people administrator" in not_admin.err
    cli.ok("user", "grant", "zw1", "head", "--as", ADMIN)
    cli.ok("user", "unit", "liming-cg", "县交通运输局", "--as", ADMIN)
    cli.ok("user", "deactivate", "zw2", "--as", ADMIN)
    cli.ok("user", "reactivate", "zw2", "--as", ADMIN)
    people = {u["id"]: u for u in cli.json("user", "list")}
    assert people["zw1"]["roles"] == ["head", "proposer"] and people["zw2"]["active"]
    assert people["liming-cg"] == {
        "id": "liming-cg",
        "name": "李明",
        "roles": ["organiser"],
        "unit": "县交通运输局",
        "active": True,
    }
    history = cli.json("user", "history", "zw2")
    assert [(e["kind"], e["by"]) for e in history] == [
        ("person_added", ADMIN),
        ("deactivated", ADMIN),
        ("reactivated", ADMIN),
    ]
    granted = cli.ok(
        "user",
        "delegate",
        "zw1",
        "liming-cg",
        "--role",
        "head",
        "--from",
        "2025-03-04",
        "--until",
        "2025-03-06",
        "--as",
        "zw1",
    )
    assert "liming-cg 代 zw1" in granted.out
    seq = granted.out.split("#", 1)[1].split(" ", 1)[0]
    cli.ok("user", "end-delegation", seq, "--on", "2025-03-05", "--as", ADMIN)
    assert [e["kind"] for e in cli.json("user", "history", "liming-cg")][-2:] == [
        "delegation_granted",
        "delegation_ended",
    ]
    verified = cli.json("audit", "verify")
    assert verified["ok"] is True
