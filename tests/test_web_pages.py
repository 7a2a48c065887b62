"""The pages and the JSON API (issue 14, items 1-4): a clerk proposes and acts through generated
forms and sees a refusal with its article on the page (nothing written), legal counsel finds the
draft in the inbox and signs off the review, the done list, the diagram with the current state lit,
the catalogue with its versions and diff, the auditor's verify and replay; the API's refusals are
the objects `decisions show --json` prints; passwords on SQLite and PostgreSQL; the CLI's
`user set-password` (prompted) and `serve` (refuses to start when no one can log in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from decisions.cli import app as cli
from decisions.definitions import Definitions
from decisions.service.logins import LoginRefused
from decisions.service.office import Office
from tests.stores import BACKENDS, new_database_url
from tests.support import CATALOGUE_PATH, V
from tests.web_support import PASSWORD, PROPOSAL, client, csrf, login, play, raw, until, web_office


@pytest.fixture
def office(tmp_path: Path, definitions: Definitions) -> Office:
    return web_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)


def launched(office: Office) -> str:
    case_id = office.propose("clerk_li", PROPOSAL).case.id
    office.act(
        case_id,
        V("launch"),
        "head_wang",
        {V("organiser_unit"): "县交通运输局", V("catalogue_item"): "2025-03"},
        [(V("launch_decision"), b"launch", "launch.txt")],
    )
    return case_id


def test_a_clerk_proposes_through_the_generated_form(office: Office) -> None:
    c = login(client(office), "clerk")
    page = c.get("/start").text
    workflow = office.proposal_workflow()
    assert f'action="/start/{workflow}"' in page and f'name="f.{V("title")}"' in page
    assert 'class="required"' in page  # required marks
    fields = {f"f.{k}": v for k, v in PROPOSAL.items()}
    r = c.post(f"/start/{workflow}", data={"csrf": csrf(c, "/start"), **fields}, follow_redirects=False)
    assert r.status_code == 303
    case_id = r.headers["location"].rsplit("/", 1)[1]
    record = office.history(case_id)[0]
    assert record.actor == "clerk_li" and record.fields[V("title")] == PROPOSAL[V("title")]
    assert case_id in c.get("/done").text


def test_every_link_of_the_navigation_opens_a_page(office: Office) -> None:
    c = login(client(office), "clerk")
    nav = re.search(r"<nav>(.*?)</nav>", c.get("/").text, re.S)
    assert nav is not None
    links = re.findall(r'href="([^"]+)"', nav.group(1))
    assert {"/", "/done", "/cases", "/start", "/catalogue", "/audit", "/dossiers", "/report"} <= set(links)
    for link in links:
        r = c.get(link)
        assert r.status_code == 200 and "<nav>" in r.text, link


def test_a_person_whose_display_name_is_not_their_id_logs_in_and_acts_as_their_id(office: Office) -> None:
    office.users.add("李明", [V("organiser"), V("proposer")], "县交通运输局", user_id="liming2")
    office.set_password("liming2", PASSWORD)
    c = login(client(office), "liming2")
    page = c.get("/start").text
    assert '<span class="me">李明</span>' in page  # shown by name
    fields = {f"f.{k}": v for k, v in PROPOSAL.items()}
    r = c.post(
        f"/start/{office.proposal_workflow()}", data={"csrf": csrf(c, "/start"), **fields}, follow_redirects=False
    )
    assert r.status_code == 303
    case_id = r.headers["location"].rsplit("/", 1)[1]
    assert office.history(case_id)[0].actor == "liming2"  # the history names the id
    assert case_id in c.get("/done").text


def test_a_refused_action_shows_its_article_on_the_page_and_writes_nothing(office: Office) -> None:
    case_id = launched(office)
    c = login(client(office), "clerk")
    page = c.get(f"/cases/{case_id}").text
    assert f'name="d.{V("draft")}"' in page  # the document inputs of the available action
    version = office.show(case_id).view.version
    r = c.post(f"/cases/{case_id}/act", data={"csrf": csrf(c, f"/cases/{case_id}"), "action": V("submit_draft")})
    assert r.status_code == 422
    assert "engine.document" in r.text and "第十二条" in r.text and 'id="refusal"' in r.text
    wf = office.definitions.workflow(office.show(case_id).view.case.workflow)
    label = next(x.label.zh for x in wf.transitions if x.trigger == V("submit_draft"))
    assert f"<b>{label}</b>" in r.text  # the refused action by its label
    assert office.show(case_id).view.version == version
    files = {
        f"d.{kind}": (f"{kind}.txt", f"{kind} 正文".encode(), "text/plain")
        for kind in (V("draft"), V("drafting_explanation"), V("legal_basis_inventory"))
    }
    r = c.post(
        f"/cases/{case_id}/act",
        data={"csrf": csrf(c, f"/cases/{case_id}"), "action": V("submit_draft")},
        files=files,
        follow_redirects=False,
    )
    assert r.status_code == 303
    last = office.history(case_id)[-1]
    assert last.trigger == V("submit_draft") and last.actor == "clerk_li" and last.role == V("organiser")
    assert {d.name for d in last.documents} == {
        f"{k}.txt" for k in (V("draft"), V("drafting_explanation"), V("legal_basis_inventory"))
    }


def test_legal_counsel_opens_the_draft_from_the_inbox_and_signs_off(office: Office) -> None:
    case_id = play(office, until("give_legal_opinion"))
    c = login(client(office), "counsel")
    inbox = c.get("/").text
    assert f'href="/cases/{case_id}"' in inbox
    role = office.users.roles[V("legal_counsel")]
    assert f"· {role.zh}</small>" in inbox  # the role by its label, as everywhere on the page
    page = c.get(f"/cases/{case_id}").text
    draft = next(d for r in office.history(case_id) for d in r.documents if d.kind == V("draft"))
    link = f"/cases/{case_id}/documents/{draft.sha256}"
    assert link in page
    opened = c.get(link)
    assert opened.content == office.document(draft.sha256) and draft.name in opened.headers["content-disposition"]
    assert 'class="state current"' in page and f'data-state="{V("under_review")}"' in page  # the diagram, lit
    r = c.post(
        f"/cases/{case_id}/act",
        data={
            "csrf": csrf(c, f"/cases/{case_id}"),
            "action": V("find_lawful"),
            f"f.{V('authority')}": V("compliant"),
            f"f.{V('procedure')}": V("compliant"),
            f"f.{V('content')}": V("compliant"),
        },
        files={f"d.{V('review_opinion')}": ("审查意见书.pdf", b"%PDF-1.4 opinion", "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    last = office.history(case_id)[-1]
    assert (last.trigger, last.actor, last.role) == (V("find_lawful"), "counsel_zhao", V("legal_counsel"))
    r = c.get(f"/cases/{case_id}/documents/{last.documents[0].sha256}")
    assert r.headers["content-type"] == "application/pdf" and r.headers["content-disposition"].startswith("inline;")


def test_the_auditor_verifies_and_replays_read_only(office: Office) -> None:
    case_id = play(office, until("find_lawful"))
    c = login(client(office), "auditor")
    assert "您目前没有可办理的操作" in c.get(f"/cases/{case_id}").text
    r = c.post("/audit/verify", data={"csrf": csrf(c, "/audit")})
    assert r.status_code == 200 and "核验通过" in r.text and f"{len(until('find_lawful'))} 条记录" in r.text
    replay = c.get(f"/audit/replay/{case_id}").text
    assert "回放结果与存储一致" in replay and "passed" in replay
    token = csrf(c, "/")
    assert c.post("/api/audit/verify", headers={"X-CSRF-Token": token}).json()["ok"] is True


def test_the_catalogue_page_shows_versions_and_an_item_diff(office: Office) -> None:
    case_id = None
    for step in CATALOGUE_PATH:
        fields = {k: raw(v) for k, v in step.fields.items()}
        docs = [(kind, f"{kind}".encode(), f"{kind}.txt") for kind in step.docs]
        if case_id is None:
            year = int(fields.pop(V("year")))
            case_id = office.open_catalogue(year, "office_chen", fields, docs, step.on).case.id
        else:
            office.act(case_id, step.trigger, step.actor, fields, docs, step.on)
    versions = office.catalogue_versions(2025)
    assert len(versions) == 2  # compiled, then an item added by the adjustment
    c = login(client(office), "clerk")
    page = c.get("/catalogue?year=2025").text
    assert f"v{versions[-1].version}" in page and versions[-1].items[0].name in page
    added = versions[1].items[-1]
    diff = c.get("/catalogue?year=2025&a=1&b=2").text
    assert re.search(rf'<li class="added"><b>{re.escape(added.id)}</b> 新增', diff)
    api = c.get("/api/catalogue/2025").json()
    assert [v["version"] for v in api["versions"]] == [v.version for v in versions]


def test_the_api_acts_and_refuses_with_the_objects_of_show_json(office: Office) -> None:
    case_id = launched(office)
    c = login(client(office), "clerk")
    token = csrf(c, "/")
    r = c.post(f"/api/cases/{case_id}/act", json={"action": V("submit_draft")}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422
    body = r.json()
    assert body["refused"] == V("submit_draft")
    reason = body["reasons"][0]
    assert set(reason) == {"rule_id", "citation", "message_zh", "message_en", "kind", "sources"}
    assert reason["kind"] == "missing" and "第十二条" in reason["citation"]
    shown = c.get(f"/api/cases/{case_id}").json()
    assert shown["id"] == case_id and shown["records"][-1]["actor"] == "head_wang"
    tasks = c.get("/api/inbox").json()["tasks"]
    assert any(t["case"] == case_id and t["action"] == V("submit_draft") for t in tasks)
    schema = c.get("/api/openapi.json").json()
    assert "/api/cases/{case_id}/act" in schema["paths"] and "/login" not in schema["paths"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request.param, tmp_path)


def test_passwords_live_in_the_database_on_both_backends(
    database_url: str, tmp_path: Path, definitions: Definitions
) -> None:
    office = web_office(database_url, tmp_path, definitions)
    again = Office(office.cases.store, definitions)
    assert again.login("clerk_li", PASSWORD).name == "clerk_li"
    with pytest.raises(LoginRefused):
        again.login("clerk_li", "not the password")
    office.users.deactivate("clerk_li")
    with pytest.raises(LoginRefused):  # a deactivated person cannot log in
        Office(office.cases.store, definitions).login("clerk_li", PASSWORD)


def test_set_password_is_prompted_and_serve_needs_someone_who_can_log_in(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(cli, ["init", "--db", db]).exit_code == 0
    assert (
        runner.invoke(cli, ["user", "add", "管理员", "--admin", "--db", db]).exit_code == 0
    )  # the first administrator
    assert (
        runner.invoke(cli, ["user", "add", "李明", "--role", V("organiser"), "--as", "管理员", "--db", db]).exit_code
        == 0
    )
    r = runner.invoke(cli, ["serve", "--db", db])
    assert r.exit_code != 0 and "set-password" in str(r.exception or "") + r.output
    r = runner.invoke(cli, ["user", "set-password", "李明", "--db", db], input="a long password\na long password\n")
    assert r.exit_code == 0 and "a long password" not in r.output
    assert Office.open(db).login("李明", "a long password").name == "李明"
    r = runner.invoke(cli, ["user", "set-password", "无此人", "--db", db], input="x\nx\n")
    assert r.exit_code != 0
    assert re.search("unknown user", str(r.exception))
