"""Issue 13, done when: a new decision is taken from proposal to publication using only what
`decisions show --json` offers (its actions, fields, documents, choices and the remedies of its
refusals), with no name typed from the YAML, on SQLite and PostgreSQL.

The clerk in this test knows the command line (``--set name=value``, ``--attach kind=path``,
``--on``, ``--as``, ``--json``) and nothing of the procedure. Every trigger, field, document kind,
enum value and role it uses is read from JSON the commands print; the only things it makes up are
free text, people's names and the first day. It proceeds by declared properties only:

- next action: among those offered now (available, or blocked with a remedy for every reason), one
  leading to a state not entered before, in the current stage or a later one (the order the
  workflow declares its stages in), from which an approval state can still be reached; of those,
  the fewest steps from an approval state (`state_info.steps_to_approval`), then the later stage;
- it fills every field and attaches every document the action's input schema says is required or
  needed under a condition and that the action accepts: an enum or views value with its first
  choice, a date with the action's day; it leaves optional ones out (so waivers are never used);
- when refused (JSON on stdout, exit 3), it does what the remedies say: the fields, documents and
  values named, the earliest or latest date given (of a field or of the action's day), a person of
  the unit or role named; when a remedy names actions that put on record what is missing, it takes
  one of them first (each at most once per refused action) and comes back; a refusal without a
  remedy fails the test;
- people: one per role (and unit), added when an action needs one nobody holds (read from JSON);
- it stops at publication: in an approval state from which no available action leads to another,
  after a decision (two approval states entered).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from decisions.cli import main
from tests.cli_support import definitions_parsed_once
from tests.stores import BACKENDS, new_database_url


@pytest.fixture(scope="module", autouse=True)
def parse_definitions_once() -> Iterator[None]:
    with definitions_parsed_once():
        yield


class Clerk:
    """Runs `decisions ...` through the real entry point (`decisions.cli.main`): exit code and stdout."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
        self.capsys, self.monkeypatch, self.tmp = capsys, monkeypatch, tmp
        self.people: dict[tuple[str, str], str] = {}  # (role, unit) -> the person added for them
        self.units: set[str] = set()
        self.admin: str | None = None  # the people administrator, added (by themselves) on first need
        self.files = 0

    def run(self, *args: str) -> tuple[int, Any]:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "argv", ["decisions", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = self.capsys.readouterr().out
        return code, json.loads(out) if out.strip().startswith(("{", "[")) else out

    def json(self, *args: str) -> Any:
        code, out = self.run(*args, "--json")
        assert code == 0, out
        return out

    def person_for(self, roles: list[str], unit: str = "某单位") -> str:
        for role in roles:
            if (role, unit) in self.people:
                return self.people[(role, unit)]
        role = roles[0]
        if self.admin is None:
            code, out = self.run("user", "add", "管理员", "--admin")
            assert code == 0, out
            self.admin = "管理员"
        if unit not in self.units:
            code, out = self.run("unit", "add", unit, "--as", self.admin)
            assert code == 0, out
            self.units.add(unit)
        name = f"人员{len(self.people) + 1}"
        code, out = self.run("user", "add", name, "--role", role, "--unit", unit, "--as", self.admin)
        assert code == 0, out
        self.people[(role, unit)] = name
        return name

    def attachment(self, kind: str) -> str:
        self.files += 1
        path = self.tmp / f"file{self.files}.pdf"
        path.write_text(f"{kind} #{self.files}", encoding="utf-8")
        return f"{kind}={path}"


def _value(field: dict[str, Any], day: date) -> str:
    if field["choices"]:
        first = field["choices"][0]["value"]
        if field["type"] == "views":  # a meeting's views in speaking order, the head last
            return f"成员甲:{first},成员乙:{first},主持人:{first}:head"
        return str(first)
    return {
        "date": day.isoformat(),
        "boolean": "true",
        "integer": "1",
        "list": "成员甲,成员乙,主持人",
    }.get(field["type"], f"（{field['label']['zh']}）")


def _wanted(inputs: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    keep = ("required", "conditional")
    return (
        [f for f in inputs["fields"] if f["requirement"] in keep],
        [d for d in inputs["documents"] if d["requirement"] in keep and d["accepted"]],
    )


class First(Exception):
    """The refusal names actions to take first (they put on record what this one needs)."""

    def __init__(self, actions: list[str], documents: list[str]) -> None:
        self.actions, self.documents = actions, documents


def _rule_ids(spec: dict[str, Any]) -> set[str]:
    """The rules an input of an action's schema is read by."""
    return {r["id"] for r in spec["rules"]}


def _act(
    clerk: Clerk, args: list[str], schema: dict[str, Any], day: date, also: list[str] = ()
) -> tuple[dict[str, Any], date]:
    """Fire the action ``schema`` describes (``args``: how to address it), doing what refusals say;
    ``also``: documents another action's refusal asked for, which this one carries."""
    fields, documents = _wanted(schema)
    values = {f["name"]: _value(f, day) for f in fields}
    accepted = {d["name"] for d in schema["documents"] if d["accepted"]}
    kinds = [d["name"] for d in documents] + [k for k in also if k in accepted]
    actor = clerk.person_for(schema["roles"])
    for _ in range(8):
        command = [*args, "--as", actor, "--on", day.isoformat()]
        command += [x for name, v in values.items() for x in ("--set", f"{name}={v}")]
        command += [x for kind in kinds for x in ("--attach", clerk.attachment(kind))]
        code, out = clerk.run(*command, "--json")
        if code == 0:
            return out, day
        assert code == 3 and isinstance(out, dict), out  # refused by the procedure, as JSON on stdout
        unmet = out["error"]["unmet"]
        # a rule refusing a value the clerk need not have given (a conditional input, e.g. an id that
        # must be on a list no one has published yet): leave the value out, as its remedy-less refusal
        # leaves no other choice; any other refusal must say how to fix it
        dropped = {
            f["name"]
            for u in unmet
            if not u["remedy"]
            for f in schema["fields"]
            if f["requirement"] == "conditional" and u["rule_id"] in _rule_ids(f) and f["name"] in values
        }
        if dropped and all(
            u["remedy"] or any(u["rule_id"] in _rule_ids(f) for f in schema["fields"] if f["name"] in dropped)
            for u in unmet
        ):
            values = {k: v for k, v in values.items() if k not in dropped}
            continue
        remedies = [u["remedy"] for u in unmet]
        assert all(remedies), f"a refusal without a remedy: {unmet}"
        first = [a["name"] for r in remedies for a in r["actions"]]
        if first:
            raise First(first, [d["name"] for r in remedies for d in r["documents"] if d["name"] not in accepted])
        for r in remedies:
            for f in r["fields"]:
                spec = next(x for x in schema["fields"] if x["name"] == f["name"])
                values[f["name"]] = _value(spec, day)
            kinds += [d["name"] for d in r["documents"] if d["name"] not in kinds and d["name"] in accepted]
            for bound in r["dates"]:
                if bound["field"]["name"] == "on":
                    day = date.fromisoformat(bound["date"])
                else:
                    values[bound["field"]["name"]] = bound["date"]
            if r["roles"]:
                actor = r["holders"][0] if r["holders"] else clerk.person_for([x["name"] for x in r["roles"]])
            for hint in r["values"]:  # a value the rule asks for: one of them, or a list including one
                name = hint["field"]["name"]
                if hint["how"] == "includes":  # a list: add the first value it asks for
                    values[name] = ",".join(x for x in (values.get(name, ""), hint["values"][0]) if x)
                else:
                    values[name] = hint["values"][0]
            if r["actor_units"]:
                actor = clerk.person_for(schema["roles"], r["actor_units"][0])
    raise AssertionError(f"still refused after doing what the remedies said: {out}")


def _next(details: dict[str, Any], visited: set[str], taken: list[str]) -> dict[str, Any]:
    """The action offered now that leads to a state not entered before, in the current stage or a
    later one, that is the fewest steps from an approval state (ties: the later stage)."""
    here = details["state_info"]["stage_order"]
    # available, or blocked with a remedy for every reason (who acts, an action to take first, a date)
    offered = details["available_actions"] + [
        a for a in details["blocked_actions"] if all(r["remedy"] for r in a["reasons"])
    ]
    forward = [
        a
        for a in offered
        if a["to_state"]["id"] not in visited
        and a["to_state"]["stage_order"] >= here
        and a["to_state"]["steps_to_approval"] is not None
    ]
    assert forward, f"no way forward from {details['state']} after {taken}: {offered}"
    return min(forward, key=lambda a: (a["to_state"]["steps_to_approval"], -a["to_state"]["stage_order"]))


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend (PostgreSQL: dropped after the test)."""
    yield from new_database_url(request.param, tmp_path)


def test_a_decision_from_proposal_to_publication_using_only_what_show_json_offers(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECISIONS_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    clerk = Clerk(capsys, monkeypatch, tmp_path)
    assert clerk.run("init")[0] == 0

    new = clerk.json("show", "--new")
    fired, day = _act(clerk, ["propose"], new["start"], date(2025, 3, 3))
    case = fired["case"]
    visited = {fired["from"], fired["to"]}
    taken = [fired["trigger"]]
    approvals: list[str] = []  # the approval states entered, in order
    tried: set[tuple[str, str]] = set()  # (refused action, action its remedy named) done first
    for _ in range(40):
        details = clerk.json("show", case)
        if details["approval_state"] and details["state"] not in approvals:
            approvals.append(details["state"])
        leads_to_approval = [a for a in details["available_actions"] if a["to_state"]["approval"]]
        if details["approval_state"] and not leads_to_approval:
            break
        action = _next(details, visited, taken)
        try:
            fired, day = _act(clerk, ["act", case, action["action"]], action["inputs"], day)
        except First as needed:  # what the remedy says to do first: an action offered now, not yet tried for it
            offered = details["available_actions"] + details["blocked_actions"]
            untried = [a for a in needed.actions if (action["action"], a) not in tried]
            assert untried, f"every action the remedy named was taken and {action['action']} is still refused"
            tried.add((action["action"], untried[0]))
            action = next(a for a in offered if a["action"] == untried[0])
            fired, day = _act(clerk, ["act", case, action["action"]], action["inputs"], day, needed.documents)
        assert fired["to"] == action["to"]
        visited.add(fired["to"])
        taken.append(fired["trigger"])
    else:
        raise AssertionError(f"no publication after {taken}")
    final = clerk.json("show", case)
    assert final["approval_state"] and final["state"] in approvals
    # published once decided: the case went through two approval states, the decision and its publication
    assert len(approvals) >= 2, approvals
    history = clerk.json("history", case)
    assert [r["trigger"] for r in history] == taken
    assert all(len(d["sha256"]) == 64 and d["size"] > 0 for r in history for d in r["documents"])
