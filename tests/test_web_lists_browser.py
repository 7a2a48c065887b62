"""The lists in a real browser (Debian's chromium, as tests/test_web_browser.py drives it): the
inbox's filter and the search are plain GET forms that work without any script (the CSP forbids
it), and a search result opens its decision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from decisions.definitions import Definitions
from decisions.service.office import Office
from tests.support import V
from tests.test_web_browser import _login
from tests.web_support import PROPOSAL, play, until, web_office


@pytest.fixture
def office(tmp_path: Path, definitions: Definitions) -> Office:
    return web_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)


def _rows(page: Any) -> list[str]:
    return [str(r.get_attribute("data-case")) for r in page.locator("tr.case-row").all()]


def test_the_inbox_filter_and_the_search_work_as_plain_forms(office: Office, server: str, browser: Any) -> None:
    reviewed = play(office, until("give_legal_opinion"))  # overdue since 2025-04-30
    fresh = office.propose("clerk_li", {**PROPOSAL, V("title"): "农村饮水安全工程"}).case.id  # nothing due
    page = _login(browser, server, "head")
    assert _rows(page) == [reviewed, fresh]  # overdue first
    assert page.locator(f"tr[data-case='{reviewed}'].overdue").count() == 1
    page.check("#inbox-filters input[name=overdue]")
    page.click("#inbox-filters button[type=submit]")
    assert "overdue=1" in page.url and _rows(page) == [reviewed]
    page.goto(server + "/cases")
    page.fill("#search input[name=title]", "饮水")
    page.click("#search button[type=submit]")
    assert _rows(page) == [fresh]
    page.click(f"tr[data-case='{fresh}'] a")
    assert page.url.endswith(f"/cases/{fresh}")
