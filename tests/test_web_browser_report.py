"""The annual report's page in a real browser (Debian's chromium, Playwright; the pattern and the
fixtures of tests/test_web_browser.py): on the demo's year an auditor opens /report, reads the
figures, narrows them to one unit, and sees the charts, inlined as images the browser decoded
under the site's CSP (no script).

``DECISIONS_SCREENSHOTS=1`` also writes docs/screenshots/report-chart.png (the README's picture of a
report chart): ``DECISIONS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_web_browser_report.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from decisions.demo import run_demo
from decisions.loading.scenarios import load_scenarios
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.web.app import create_app
from tests.browser_support import SHOTS, serve
from tests.stores import fixed_clock
from tests.support import TREE, shipped_definitions
from tests.web_support import PASSWORD

AUDITOR = "钱审计"  # the demo's auditor (demo/00-people.yaml)


@pytest.fixture
def demo_office(tmp_path: Path) -> Office:
    database = Database(f"sqlite:///{tmp_path / 'web.sqlite'}", documents=tmp_path / "documents")
    database.migrate()
    office = Office(database, shipped_definitions(), clock=fixed_clock)
    run_demo(office, lambda line: None, load_scenarios(TREE / "demo"))
    office.set_password(AUDITOR, PASSWORD)
    return office


@pytest.fixture
def demo_server(demo_office: Office) -> Iterator[str]:
    with serve(create_app(demo_office)) as base:
        yield base


def _cells(page: Any, section: str) -> list[list[str]]:
    rows = page.locator(f"#report-{section} tbody tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]


def test_the_report_page_renders_the_year_a_unit_and_its_charts(
    demo_office: Office,
    demo_server: str,
    browser: Any,
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors: list[str] = []
    # every response the page needed answered (the browser's own favicon request aside)
    page.on(
        "response",
        lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None,
    )
    page.goto(demo_server + "/report?year=2025")
    assert "/login" in page.url  # a person's page: log in first
    page.fill("#name", AUDITOR)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.goto(demo_server + "/report?year=2025")
    figures = demo_office.report(2025)
    assert page.locator("h1").inner_text().startswith("2025 年度法治政府建设报告数据")
    md = demo_office.definitions.workflow("major_decision")
    header = page.locator("#report-reviews thead th").all_inner_texts()
    column = header.index(md.label.zh)
    submitted = {row[0]: row[column] for row in _cells(page, "reviews")}["送审"]
    (reviews,) = [r for r in figures.reviews if r.workflow == md.name]
    assert submitted == str(reviews.counts["review_submitted"])
    (catalogue,) = _cells(page, "catalogue")
    assert catalogue[:5] == ["CAT-2025", "4", "1", "3", "1"]
    # the charts are images the browser decoded (a data: URI the CSP allows), not broken placeholders
    images = page.locator(".report-chart img")
    assert images.count() == 3
    for i in range(3):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#chart-reviews-per-month").screenshot(path=str(SHOTS / "report-chart.png"))
    # one unit: its matters only, chosen from the form
    page.select_option("select[name=unit]", "县交通运输局")
    page.click(".report-filter button[type=submit]")
    assert "unit=" in page.url
    units = {row[1] for row in _cells(page, "by_unit")}
    assert units == {"县交通运输局"}
    assert not errors, errors
