"""The README's "Auditors" walkthrough (README.md, "Walkthrough by role") in a real browser, logged
in as the auditor: verify every record (the progress, then "history intact"), open a decision's
replay (every step with its rules judged again and their articles), take and download a checkpoint
to publish, check it with ``decisions audit verify --since-checkpoint`` and upload it back once the
decision has moved on; an edited event row then shows on the page as a finding. Nowhere an action
form. Debian's chromium through Playwright (the fixtures of tests/test_web_browser.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from decisions.audit import Checkpoint
from decisions.cli import app as cli
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.tables import EventRow
from tests.browser_support import shot as _shot
from tests.support import V
from tests.test_web_browser import _login, office
from tests.web_support import PROPOSAL, play, until

__all__ = ["office"]  # the fixture, shared with tests/test_web_browser.py

EVENTS = EventRow.__table__  # type: ignore[attr-defined]


def test_the_auditors_walkthrough_in_the_browser(office: Office, server: str, browser: Any, tmp_path: Path) -> None:
    case_id = play(office, until("submit_legality_review"))
    events = len(until("submit_legality_review"))
    page = _login(browser, server, "auditor")
    page.click("text=审计核验")
    assert page.locator("form[action$='/act']").count() == 0

    # decisions audit verify
    page.click("#verify")
    report = page.locator("#report")
    assert "核验通过" in report.inner_text() and "历史完整，未发现篡改" in report.inner_text()
    assert f"{events} 条记录" in report.inner_text()
    assert page.locator("#progress progress").last.get_attribute("value") == str(events)
    assert page.locator("#progress li:visible").count() == 1  # one bar: the newest line
    _shot(page, "audit-verify")

    # decisions audit replay D-2025-001, found by id on the audit page
    page.goto(server + "/audit")
    page.fill("#case-search", case_id)
    page.click("#search")
    page.click(f"a.replay-link[href='/audit/replay/{case_id}']")
    assert "回放结果与存储一致" in page.locator("#replay-result").inner_text()
    first = page.locator("#seq-1")
    assert first.locator(".what").inner_text() == office.audit.replay(case_id).steps[0].label.zh
    assert first.locator("tr.rule").count() > 0 and "第十条" in first.inner_text()
    assert page.locator("tr.rule.passed .outcome").first.inner_text() == "通过"
    _shot(page, "audit-replay")

    # decisions audit checkpoint --out FILE
    page.goto(server + "/audit")
    with page.expect_download() as download:
        page.click("#take-checkpoint")
    published = tmp_path / "checkpoint.json"
    download.value.save_as(str(published))
    taken = Checkpoint.from_json(published.read_text(encoding="utf-8"))
    assert [(h.chain, h.seq) for h in taken.heads] == [(case_id, events)]
    url = f"sqlite:///{tmp_path / 'web.sqlite'}"  # the office fixture's database
    result = CliRunner().invoke(cli, ["audit", "verify", "--since-checkpoint", str(published), "--db", url])
    assert result.exit_code == 0, result.output

    # the decision moves on; the published checkpoint is uploaded back
    for step in until("find_lawful")[events:]:
        play(office, (step,), case_id)
    page.goto(server + "/audit")
    page.set_input_files("#checkpoint-file", str(published))
    page.click("#verify-checkpoint")
    assert "核验通过" in page.locator("#report").inner_text()
    assert f"{case_id} (#{events} → #{len(until('find_lawful'))})" in page.locator("#reach-extended").inner_text()
    _shot(page, "audit-checkpoint")

    # someone edits a stored event behind the engine: the page names the case and the event
    database = Database(url)
    with database.write() as conn:
        where = (EVENTS.c.case_id == case_id, EVENTS.c.seq == 1)
        body = conn.execute(select(EVENTS.c.body).where(*where)).scalar_one()
        title = PROPOSAL[V("title")]
        conn.execute(EVENTS.update().where(*where).values(body=body.replace(title, title + "（改）")))
    database.dispose()
    page.goto(server + "/audit")
    page.click("#verify")
    assert "发现问题" in page.locator("#report").inner_text()
    finding = page.locator("tr.finding").filter(has_text="#1").first
    assert case_id in finding.inner_text() and "hash" in finding.inner_text()

    # read-only: the decision page offers the auditor no action
    page.goto(f"{server}/cases/{office.propose('clerk_li', PROPOSAL).case.id}")
    assert page.locator("details.action").count() == 0 and page.locator("form[action$='/act']").count() == 0
