"""The auditor's pages (issue 14): verify streams its progress and ends with every finding (case,
event, kind, message, where it is stored), a tampered event row among them; a checkpoint taken and
downloaded from the page verifies with ``decisions audit verify --since-checkpoint``; an uploaded
checkpoint says which chains it includes, which grew since and what does not match, and a garbage
or tampered file is refused with a page, nothing written; the replay shows who (by name), in which
role (by label), did what (by label), on which day and when it was recorded, with every rule's
outcome judged again and its citation, and the state reproduced beside the one stored; an auditor
sees no action form and a post as auditor is refused with nothing written. SQLite and PostgreSQL."""

from __future__ import annotations

import html as html_text
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from decisions.audit import Checkpoint, Head, build_checkpoint, hasher
from decisions.cli import app as cli
from decisions.definitions import Definitions
from decisions.errors import StoreError, cited
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.tables import CheckpointRow, EventRow
from decisions.web import audit as audit_pages
from tests.stores import BACKENDS, new_database_url
from tests.support import V
from tests.web_support import PROPOSAL, client, csrf, login, play, until, web_office

EVENTS = EventRow.__table__  # type: ignore[attr-defined]
CHECKPOINTS = CheckpointRow.__table__  # type: ignore[attr-defined]
REVIEWED = until("find_lawful")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request.param, tmp_path)


@pytest.fixture
def office(url: str, tmp_path: Path, definitions: Definitions) -> Office:
    return web_office(url, tmp_path, definitions)


@pytest.fixture
def database(url: str) -> Iterator[Database]:
    """Direct access to the tables, as someone with write access to the database has it."""
    db = Database(url)
    yield db
    db.dispose()


def written(office: Office, database: Database) -> tuple[list[tuple[str, int]], int]:
    """Every case with its version, and the number of stored checkpoints."""
    with database.read() as conn:
        checkpoints = conn.execute(select(func.count()).select_from(CHECKPOINTS)).scalar_one()
    return [(c[0], c[4]) for c in office.list_cases()], checkpoints


def finding_rows(page: str) -> list[str]:
    return re.findall(r'<tr class="finding">(.*?)</tr>', page, re.S)


def test_verify_streams_its_progress_then_ends_with_the_verdict(office: Office) -> None:
    first = play(office, REVIEWED)
    play(office, until("launch"))
    events = sum(c[4] for c in office.list_cases())
    c = login(client(office), "auditor")
    token = csrf(c, "/audit")
    with c.stream("POST", "/audit/verify", data={"csrf": token}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        chunks = [chunk.decode() for chunk in r.iter_bytes()]
    page = "".join(chunks)
    progress = re.findall(r'<progress max="(\d+)" value="(\d+)">', page)
    assert len(progress) > 2, "the progress moves as events are checked"
    assert [int(v) for _, v in progress] == sorted(int(v) for _, v in progress)
    assert progress[-1] == (str(events), str(events))
    assert page.index("<progress") < page.index('id="report"')  # the progress comes first, the verdict last
    assert "核验通过" in page and f"{events} 条记录" in page and "历史完整，未发现篡改" in page
    assert not finding_rows(page)
    assert page.rstrip().endswith("</html>") and "<script" not in page
    assert first in c.get("/audit").text


def test_a_tampered_event_row_is_a_finding_on_the_page(office: Office, database: Database) -> None:
    case_id = play(office, REVIEWED)
    clean = play(office, until("launch"))
    with database.write() as conn:
        where = (EVENTS.c.case_id == case_id, EVENTS.c.seq == 1)
        body = conn.execute(select(EVENTS.c.body).where(*where)).scalar_one()
        title = PROPOSAL[V("title")]
        assert body.count(title) == 1
        conn.execute(EVENTS.update().where(*where).values(body=body.replace(title, title[:-2] + "降低")))
    c = login(client(office), "auditor")
    before = written(office, database)
    page = c.post("/audit/verify", data={"csrf": csrf(c, "/audit")}).text
    assert "发现问题" in page and "核验通过" not in page
    rows = finding_rows(page)
    assert rows and all(clean not in row for row in rows)
    hit = next(row for row in rows if f"/audit/replay/{case_id}" in row and "#1<" in row)
    assert "<code>hash</code>" in hit and "does not match" in hit  # kind and message of the edited event
    assert written(office, database) == before  # verifying writes nothing
    replay = c.get(f"/audit/replay/{case_id}").text
    assert 'id="chain-broken"' in replay and "回放结果与存储不一致" in replay


def test_a_finding_names_where_the_damage_is_stored(office: Office, database: Database) -> None:
    play(office, until("launch"))
    c = login(client(office), "auditor")
    c.post("/audit/checkpoint", data={"csrf": csrf(c, "/audit")})
    with database.write() as conn:
        assert conn.execute(CHECKPOINTS.update().values(root="0" * 64)).rowcount == 1
    rows = finding_rows(c.post("/audit/verify", data={"csrf": csrf(c, "/audit")}).text)
    hit = next(row for row in rows if "root column" in row)
    assert "<code>checkpoint</code>" in hit and re.search(r"<code>checkpoints\[[^]]+\]\.root</code>", hit)


def test_a_downloaded_checkpoint_verifies_with_the_cli_and_an_upload_says_what_grew(
    office: Office, database: Database, url: str, tmp_path: Path
) -> None:
    case_id = play(office, until("submit_legality_review"))
    c = login(client(office), "auditor")
    none_yet = c.get("/audit/checkpoint")
    assert none_yet.status_code == 200 and 'id="no-checkpoint"' in none_yet.text
    _, checkpoints = written(office, database)
    r = c.post("/audit/checkpoint", data={"csrf": csrf(c, "/audit")})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert re.fullmatch(r'attachment; filename="checkpoint-[0-9TZ.]+\.json"', r.headers["content-disposition"])
    taken = Checkpoint.from_json(r.text)
    assert [(h.chain, h.seq) for h in taken.heads] == [(case_id, len(until("submit_legality_review")))]
    assert written(office, database)[1] == checkpoints + 1  # saved, as `decisions audit checkpoint` does
    latest = c.get("/audit/checkpoint")  # the newest stored one, as a download
    assert "attachment" in latest.headers["content-disposition"] and Checkpoint.from_json(latest.text) == taken

    file = tmp_path / "published.json"
    file.write_bytes(r.content)
    result = CliRunner().invoke(cli, ["audit", "verify", "--since-checkpoint", str(file), "--db", url])
    assert result.exit_code == 0, result.output
    assert taken.root[:16] in result.output

    for step in REVIEWED[len(until("submit_legality_review")) :]:  # the decision goes on, another begins
        play(office, (step,), case_id)
    other = play(office, until("launch"))
    before = written(office, database)
    page = c.post(
        "/audit/verify",
        data={"csrf": csrf(c, "/audit")},
        files={"checkpoint": ("published.json", r.content, "application/json")},
    ).text
    assert "核验通过" in page and 'id="reach"' in page and taken.root in page
    extended = re.search(r'id="reach-extended">(.*?)</dd>', page, re.S)
    assert extended and f"{case_id} (#{taken.heads[0].seq} → #{len(REVIEWED)})" in extended.group(1)
    new = re.search(r'id="reach-new">(.*?)</dd>', page, re.S)
    assert new and other in new.group(1) and case_id not in new.group(1)
    assert written(office, database) == before


def test_a_checkpoint_the_chains_do_not_pass_through_is_reported(office: Office) -> None:
    case_id = play(office, until("launch"))
    forged = build_checkpoint(
        hasher("sha256"), "sha256", [Head(case_id, 1, "0" * 64)], datetime(2025, 6, 1, tzinfo=UTC)
    )
    c = login(client(office), "auditor")
    page = c.post(
        "/audit/verify",
        data={"csrf": csrf(c, "/audit")},
        files={"checkpoint": ("forged.json", forged.to_json().encode(), "application/json")},
    ).text
    assert "发现问题" in page
    assert any(case_id in row and "<code>checkpoint</code>" in row for row in finding_rows(page))
    assert "见上列问题" in page


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b'{"algorithm": "sha256"}',
        b"[" * 100_000,
        "tampered",
    ],
    ids=["text", "not-utf8", "incomplete", "deep", "tampered-head"],
)
def test_an_uploaded_garbage_or_tampered_checkpoint_is_refused_with_a_page_nothing_written(
    office: Office, database: Database, content: bytes | str
) -> None:
    case_id = play(office, until("launch"))
    c = login(client(office), "auditor")
    if content == "tampered":  # a published file edited afterwards: its root no longer recomputes
        body = json.loads(c.post("/audit/checkpoint", data={"csrf": csrf(c, "/audit")}).text)
        body["heads"][0]["seq"] = 99
        content = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    assert isinstance(content, bytes)
    before = written(office, database)
    r = c.post(
        "/audit/verify",
        data={"csrf": csrf(c, "/audit")},
        files={"checkpoint": ("checkpoint.json", content, "application/json")},
    )
    assert r.status_code == 400 and "<html" in r.text and "Traceback" not in r.text
    assert 'id="upload-error"' in r.text and "检查点文件无效" in r.text and "nothing was verified" in r.text
    assert 'id="report"' not in r.text and case_id in r.text  # the audit page again, its case list with it
    assert written(office, database) == before


def test_an_oversized_checkpoint_upload_is_refused(
    office: Office, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(office, until("launch"))
    monkeypatch.setattr(audit_pages, "MAX_CHECKPOINT", 1000)
    c = login(client(office), "auditor")
    before = written(office, database)
    r = c.post(
        "/audit/verify",
        data={"csrf": csrf(c, "/audit")},
        files={"checkpoint": ("big.json", b" " * 1001, "application/json")},
    )
    assert r.status_code == 400 and "检查点文件过大" in r.text and "1000" in r.text
    assert written(office, database) == before


def test_the_replay_shows_who_in_which_role_did_what_and_every_rule_with_its_citation(office: Office) -> None:
    case_id = play(office, REVIEWED)
    report = office.audit.replay(case_id)
    wf = office.definitions.workflow(report.workflow)
    c = login(client(office), "auditor")
    page = c.get(f"/audit/replay/{case_id}").text
    assert "回放结果与存储一致" in page
    state = wf.states[report.stored_state].label.zh
    assert f'id="replayed-state">{state}<' in page and f'id="stored-state">{state}<' in page
    outcomes = set()
    for step in report.steps:
        block = re.search(rf'<li id="seq-{step.seq}".*?</li>', page, re.S)
        assert block, step.seq
        html = block.group(0)
        assert f'<b class="what">{step.label.zh}</b>' in html
        assert f'<span class="who">{office.users.get(step.actor).name}</span>' in html
        assert f'<span class="role">{wf.roles[step.role].label.zh}</span>' in html
        assert f'<span class="on">{step.happened_on}</span>' in html
        assert f'<span class="recorded">{step.recorded_at}</span>' in html
        for rule_id, outcome, citation in step.rules:
            row = re.search(rf'<tr class="rule {outcome}"><td><code>{re.escape(rule_id)}</code></td>(.*?)</tr>', html)
            assert row, (step.seq, rule_id)
            shown_outcome = audit_pages.OUTCOMES[outcome].zh
            assert f'<td class="outcome">{shown_outcome}</td>' in row.group(1)
            assert cited(citation, "zh") in html_text.unescape(row.group(1))
            outcomes.add(outcome)
    assert {"passed", "not_applicable"} <= outcomes
    assert "第二十七条" in page  # the lawful finding's article, in Chinese

    office.users.add("孙主任", [V("proposer")], "县交通运输局", user_id="p-0042")  # an id that is not the name
    by_id = office.propose("p-0042", PROPOSAL).case.id
    named = c.get(f"/audit/replay/{by_id}").text
    assert '<span class="who">孙主任</span>' in named and '<span class="who">p-0042</span>' not in named

    c.post("/lang", data={"csrf": csrf(c, "/audit"), "lang": "en", "next": "/audit"})
    english = c.get(f"/audit/replay/{case_id}").text
    assert "The replay agrees with the stored state" in english and ">passed</td>" in english
    assert wf.roles[report.steps[0].role].label.en in english


def test_the_replay_is_linked_from_the_decision_page_and_found_by_id_on_the_audit_page(office: Office) -> None:
    case_id = play(office, REVIEWED)
    other = play(office, until("launch"))
    c = login(client(office), "auditor")
    decision = c.get(f"/cases/{case_id}").text
    for seq in range(1, len(REVIEWED) + 1):
        assert f'href="/audit/replay/{case_id}#seq-{seq}"' in decision
    found = c.get("/audit", params={"q": case_id.lower()}).text
    assert f'href="/audit/replay/{case_id}"' in found and f'href="/audit/replay/{other}"' not in found
    assert 'id="case-search" value="' + case_id.lower() in found
    assert "没有符合的事项" in c.get("/audit", params={"q": "NO-SUCH"}).text
    assert "NO-SUCH" in c.get("/audit/replay/NO-SUCH").text  # an unknown case: its message, a page


def test_an_auditor_sees_no_action_form_and_a_post_as_auditor_writes_nothing(
    office: Office, database: Database
) -> None:
    case_id = play(office, until("give_legal_opinion"))  # legal counsel could act on it now
    c = login(client(office), "auditor")
    pages = ["/", "/done", "/start", "/catalogue", "/audit", f"/cases/{case_id}", f"/audit/replay/{case_id}"]
    for path in pages:
        html = c.get(path).text
        assert "/act" not in html and 'action="/start/' not in html, path
    counsel = login(client(office), "counsel")
    assert f'action="/cases/{case_id}/act"' in counsel.get(f"/cases/{case_id}").text  # the form exists for counsel
    before = written(office, database)
    r = c.post(
        f"/cases/{case_id}/act",
        data={
            "csrf": csrf(c, f"/cases/{case_id}"),
            "action": V("find_lawful"),
            f"f.{V('authority')}": V("compliant"),
            f"f.{V('procedure')}": V("compliant"),
            f"f.{V('content')}": V("compliant"),
        },
        files={f"d.{V('review_opinion')}": ("opinion.txt", b"lawful", "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 422 and "engine.role" in r.text and "未作任何更改" in r.text
    api = c.post(f"/api/cases/{case_id}/act", json={"action": V("find_lawful")}, headers={"X-CSRF-Token": csrf(c, "/")})
    assert api.status_code == 422 and api.json()["reasons"]
    assert written(office, database) == before


def test_a_verification_that_cannot_finish_ends_its_page_with_the_reason_never_a_traceback(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    play(office, until("launch"))
    c = login(client(office), "auditor")

    def unreachable(*args: object, **kwargs: object) -> None:
        raise StoreError("数据库无响应 / the database does not answer")

    monkeypatch.setattr(office.audit, "verify", unreachable)
    page = c.post("/audit/verify", data={"csrf": csrf(c, "/audit")}).text
    assert "核验未能完成，未作任何更改" in page and "the database does not answer" in page
    assert "核验通过" not in page and "Traceback" not in page and page.rstrip().endswith("</html>")

    def crashed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(office.audit, "verify", crashed)
    page = c.post("/audit/verify", data={"csrf": csrf(c, "/audit")}).text
    assert "核验未能完成" in page and "服务器内部错误" in page and "secret internals" not in page
