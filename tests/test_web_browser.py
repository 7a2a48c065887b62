"""The web application in a real browser (issue 14, item 6): Debian's chromium driven by Python
Playwright (never a downloaded browser) against `decisions serve`'s app on a loopback port.

A clerk logs in, proposes through the generated form, is refused with the article when the draft
is missing, attaches it and succeeds; legal counsel opens the draft from the inbox and signs off the
review; an auditor verifies and opens the replay; a wrong password and a CSRF-less POST are refused.
Without chromium these tests skip with the reason, and fail under ``CI=true``.

``DECISIONS_SCREENSHOTS=1`` also writes the main pages to docs/screenshots/ (the README's pictures):
``DECISIONS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_web_browser.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from decisions.definitions import Definitions
from decisions.service.office import Office
from tests.browser_support import log_in
from tests.browser_support import shot as _shot
from tests.support import V
from tests.web_support import PASSWORD, PEOPLE, PROPOSAL, play, until, web_office


@pytest.fixture
def office(tmp_path: Path, definitions: Definitions) -> Office:
    return web_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)


def _login(browser: Any, base: str, who: str, password: str = PASSWORD) -> Any:
    """Logged in as one of tests.web_support's PEOPLE (by their kind) or by name."""
    return log_in(browser, base, PEOPLE[who][0] if who in PEOPLE else who, password)


def test_a_clerk_proposes_is_refused_with_the_article_fixes_it_and_succeeds(
    office: Office, server: str, browser: Any, tmp_path: Path
) -> None:
    page = _login(browser, server, "clerk")
    page.click("text=发起")
    form = page.locator(f"#start-{office.proposal_workflow()}")
    form.locator(f"[name='f.{V('title')}']").fill(PROPOSAL[V("title")])
    form.locator(f"[name='f.{V('category')}']").select_option(PROPOSAL[V("category")])
    form.locator(f"[name='f.{V('source')}']").select_option(PROPOSAL[V("source")])
    form.locator("button[type=submit]").click()
    case_id = page.locator(".case-id").inner_text()
    assert office.history(case_id)[0].actor == "clerk_li"
    office.act(  # the head launches it (another person, another day)
        case_id,
        V("launch"),
        "head_wang",
        {V("organiser_unit"): "县交通运输局", V("catalogue_item"): "2025-03"},
        [(V("launch_decision"), b"launch", "launch.txt")],
    )
    page.reload()
    action = page.locator(f"#action-{V('submit_draft')}")
    action.locator("button[type=submit]").click()
    refusal = page.locator("#refusal")
    assert "第十二条" in refusal.inner_text() and "engine.document" in refusal.inner_text()
    _shot(page, "refusal")
    assert office.history(case_id)[-1].trigger == V("launch")  # nothing written
    for kind in (V("draft"), V("drafting_explanation"), V("legal_basis_inventory")):
        file = tmp_path / f"{kind}.txt"
        file.write_text(f"{kind}：票价调整方案", encoding="utf-8")
        page.locator(f"#action-{V('submit_draft')} [name='d.{kind}']").set_input_files(str(file))
    page.locator(f"#action-{V('submit_draft')} button[type=submit]").click()
    assert page.locator("#refusal").count() == 0
    assert office.history(case_id)[-1].trigger == V("submit_draft")
    _shot(page, "decision")


def test_legal_counsel_opens_the_draft_from_the_inbox_and_signs_off(
    office: Office, server: str, browser: Any, tmp_path: Path
) -> None:
    case_id = play(office, until("give_legal_opinion"))
    page = _login(browser, server, "counsel")
    _shot(page, "inbox")
    page.click(f"a[href='/cases/{case_id}']")
    draft = next(d for r in office.history(case_id) for d in r.documents if d.kind == V("draft"))
    link = page.locator(f"a[href='/cases/{case_id}/documents/{draft.sha256}']").first
    response = page.request.get(server + link.get_attribute("href"))
    assert response.body() == office.document(draft.sha256)
    assert "inline" in response.headers["content-disposition"]
    action = page.locator(f"#action-{V('find_lawful')}")
    action.locator("summary").click()
    for name in (V("authority"), V("procedure"), V("content")):
        action.locator(f"[name='f.{name}']").select_option(V("compliant"))
    opinion = tmp_path / "审查意见书.txt"
    opinion.write_text("经审查，合法。", encoding="utf-8")
    action.locator(f"[name='d.{V('review_opinion')}']").set_input_files(str(opinion))
    action.locator("button[type=submit]").click()
    last = office.history(case_id)[-1]
    assert (last.trigger, last.actor) == (V("find_lawful"), "counsel_zhao")
    assert last.documents[0].name == "审查意见书.txt"


def test_an_auditor_verifies_and_opens_the_replay(office: Office, server: str, browser: Any) -> None:
    case_id = play(office, until("find_lawful"))
    page = _login(browser, server, "auditor")
    page.click("text=审计核验")
    page.click("#verify")
    assert "核验通过" in page.locator("#report").inner_text()
    _shot(page, "audit")
    page.click(f"a[href='/audit/replay/{case_id}']")
    assert "回放结果与存储一致" in page.locator("#replay-result").inner_text()
    page.goto(f"{server}/cases/{case_id}")
    assert page.locator("details.action").count() == 0  # read-only: no action to take
    _shot(page, "decision-auditor")


def test_a_wrong_password_and_a_csrf_less_post_are_refused(office: Office, server: str, browser: Any) -> None:
    case_id = play(office, until("give_legal_opinion"))
    page = _login(browser, server, "counsel", "not the password")
    assert "/login" in page.url and "用户名或密码错误" in page.locator("[role=alert]").inner_text()
    _shot(page, "login")
    page = _login(browser, server, "counsel")
    response = page.request.post(f"{server}/cases/{case_id}/act", form={"action": V("find_lawful")}, max_redirects=0)
    assert response.status == 403
    assert office.history(case_id)[-1].trigger == V("give_legal_opinion")
