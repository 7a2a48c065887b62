"""The dossier in a real browser (issue 16, items 1 and 4), with the fixtures of
tests/test_web_browser.py (Debian's chromium through Playwright, `decisions serve`'s app on a
loopback port) over the demo's county year (`decisions demo`): its clerk 李明 opens the bus-fare
decision and clicks its dossier link, and the download is a PDF whose text is Chinese; the year's
status page reloads itself (no script) until its ZIP, one PDF per matter, is offered.

``DECISIONS_SCREENSHOTS=1`` also writes the dossier's cover (pdftoppm, poppler-utils) to
docs/screenshots/dossier-cover.png, the README's picture:
``DECISIONS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_web_browser_dossier.py``.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from decisions.cli import app
from decisions.dossier import file_name
from decisions.service.office import Office
from decisions.store.database import Database
from tests.browser_support import SHOTS
from tests.support import shipped_definitions
from tests.test_dossier import need, pdf_text
from tests.web_support import PASSWORD

CASE = "D-2025-001"  # the demo's bus-fare decision
CLERK = "李明"  # who proposed it in the demo (demo/00-people.yaml)


@pytest.fixture
def office(tmp_path: Path) -> Office:
    """The demo's county year on SQLite, its clerk given a password; the app serves it."""
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    played = CliRunner().invoke(app, ["demo", "--db", url])
    assert played.exit_code == 0, played.output
    office = Office(Database(url), shipped_definitions())
    office.set_password(CLERK, PASSWORD)
    return office


def login(chromium: Any, base: str) -> Any:
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(base + "/")
    page.fill("#name", CLERK)
    page.fill("#password", PASSWORD)
    page.click("#login")
    assert "/login" not in page.url
    return page


def test_a_clerk_downloads_the_bus_fare_decisions_dossier_from_its_page(
    office: Office,
    server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    need("pdftotext")
    title = office.show(CASE).title
    page = login(browser, server)
    page.click("text=已办")
    page.click(f"a[href='/cases/{CASE}']")
    assert title in page.locator("h1").inner_text()
    with page.expect_download() as download:
        page.click("#dossier-link")
    assert download.value.suggested_filename == f"决策档案-{CASE}-{title}.pdf"
    pdf = tmp_path / "dossier.pdf"
    download.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert title in text and "决策档案" in text and "办理记录" in text  # Chinese comes out as Chinese
    assert CLERK in text.split("\f")[0]  # on the cover: who opened the matter
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(SHOTS / "dossier-cover"),
            ],
            check=True,
        )


def test_a_years_status_page_reloads_itself_until_the_zip_is_offered(
    office: Office,
    server: str,
    browser: Any,
) -> None:
    need()
    matters = office.dossier_cases(2025)
    assert CASE in matters and len({c[1] for c in office.list_cases() if c[0] in matters}) >= 4  # workflows
    page = login(browser, server)
    page.goto(f"{server}/dossiers?year=2025")
    page.click("#build-dossiers")
    assert "/dossiers/jobs/" in page.url
    link = page.locator("#download-zip")
    link.wait_for(timeout=180_000)  # nobody reloads: the page's own refresh brings the result
    assert f"{len(matters)}</b> / {len(matters)}" in page.locator("#progress").inner_html()
    response = page.request.get(server + str(link.get_attribute("href")))
    with zipfile.ZipFile(io.BytesIO(response.body())) as archive:
        assert sorted(archive.namelist()) == sorted(file_name(c) for c in matters)
