"""The dossier on the web (issue 16, items 1 and 4): a clerk downloads a matter's dossier from its
page, a PDF under its Chinese file name that holds every record, reviewer and document hash and whose
verification page agrees with `audit verify`; a year's dossiers are built in the background, with a
status page that reloads itself (no script) until the ZIP of one PDF per matter can be downloaded,
naming the matters whose history does not verify. SQLite and PostgreSQL, through the TestClient."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy
from fastapi.testclient import TestClient

from decisions.audit import Checkpoint
from decisions.definitions import Definitions
from decisions.dossier import file_name
from decisions.service.office import Office
from decisions.store.database import Database
from tests.stores import BACKENDS, fixed_clock, new_database_url, play, supplied_catalogue
from tests.support import MAIN_PATH, shipped_definitions
from tests.test_dossier import attachments, compact, need, pdf_text
from tests.web_support import client, csrf, login, web_office

CASE = "D-2025-001"  # the bus-fare decision, the main path to its archiving
SHORT = "D-2025-002"  # a second matter of the year, just proposed and launched
REFRESH = '<meta http-equiv="refresh" content="2">'


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """Two matters of 2025 on each backend, the bus-fare decision played to its end."""
    need("pdftotext", "pdfdetach")
    tmp = tmp_path_factory.mktemp("web-dossier")
    for url in new_database_url(request.param, tmp):
        office = web_office(url, tmp, shipped_definitions())
        play(office.cases, CASE)
        play(office.cases, SHORT, MAIN_PATH[:2])
        yield office
        assert office.cases.db is not None
        office.cases.db.dispose()


def wait_until_finished(c: TestClient, status: str) -> str:
    """The status page, read again as the browser's refresh would, until it stops refreshing."""
    deadline = time.monotonic() + 300  # a bound, not an expectation: a PDF takes seconds
    while True:
        page = c.get(status)
        assert page.status_code == 200, page.text
        if REFRESH not in page.text:
            return page.text
        assert time.monotonic() < deadline, "the year's dossiers did not finish"
        time.sleep(0.2)


def test_the_decision_page_offers_its_dossier_as_a_pdf_under_its_chinese_name(site: Office, tmp_path: Path) -> None:
    c = login(client(site), "clerk")
    page = c.get(f"/cases/{CASE}")
    assert f'href="/cases/{CASE}/dossier.pdf"' in page.text and "下载决策档案" in page.text
    r = c.get(f"/cases/{CASE}/dossier.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    title = site.show(CASE).title
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(f'决策档案-{CASE}-{title}.pdf', safe='')}" in disposition
    assert f'filename="{CASE}.pdf"' in disposition  # the ASCII fallback for old clients
    assert r.content.startswith(b"%PDF")

    pdf = tmp_path / "dossier.pdf"
    pdf.write_bytes(r.content)
    text = pdf_text(pdf)
    assert title in text  # Chinese as Chinese
    records = site.history(CASE)
    wf = site.definitions.workflow(site.show(CASE).view.case.workflow)
    for record in records:
        transition = wf.transition(record.from_state, record.trigger)
        assert transition is not None
        assert f"#{record.seq} {transition.label.zh}" in text, record.seq
        assert record.actor in text and wf.roles[record.role].label.zh in text
    assert {"counsel_zhao", "lawyer_zheng"} <= {r.actor for r in records}  # the reviewers are named
    documents = [d for r in records for d in r.documents]
    for d in documents:
        assert f"SHA-256 {d.sha256}" in text, d.name
        assert compact(d.name) in compact(text)

    # the verification page agrees with audit verify and the checkpoint it attaches
    files = attachments(pdf, tmp_path / "out")
    checkpoint = Checkpoint.from_json(files["checkpoint.json"].decode())
    assert site.audit.verify(CASE, since=checkpoint).ok
    head = next(h for h in checkpoint.heads if h.chain == CASE)
    assert head.seq == len(records) and head.hash in text
    assert checkpoint.root in text and "历史完整" in text
    assert {d.sha256 for d in documents} <= {hashlib.sha256(b).hexdigest() for b in files.values()}


def test_a_years_dossiers_are_built_in_the_background_and_downloaded_as_one_zip(
    site: Office, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """While the worker is held before its first PDF the page says 0 of 2 and reloads itself; once it
    runs, the page stops reloading and offers the ZIP: one PDF per matter, each that matter's dossier."""
    release = threading.Event()
    build: Callable[[Office, str], tuple[bytes, bool]] = Office.dossier_checked

    def held(self: Office, case_id: str) -> tuple[bytes, bool]:
        assert release.wait(120), "the test never released the worker"
        return build(self, case_id)

    monkeypatch.setattr(Office, "dossier_checked", held)
    c = login(client(site), "clerk")
    listing = c.get("/dossiers?year=2025")
    assert listing.status_code == 200 and site.dossier_cases(2025) == [CASE, SHORT]
    assert re.search(r'id="matter-count">2<', listing.text)
    r = c.post("/dossiers", data={"csrf": csrf(c, "/dossiers?year=2025"), "year": "2025"}, follow_redirects=False)
    assert r.status_code == 303
    status = r.headers["location"]
    running = c.get(status)
    assert REFRESH in running.text and "<script" not in running.text
    assert re.search(r'id="progress"><b>0</b> / 2<', running.text)
    assert c.get(status + "/zip", follow_redirects=False).headers["location"] == status  # not ready yet
    again = c.post("/dossiers", data={"csrf": csrf(c, "/dossiers"), "year": "2025"}, follow_redirects=False)
    assert again.headers["location"] == status  # one job per year at a time

    release.set()
    done = wait_until_finished(c, status)
    assert re.search(r'id="progress"><b>2</b> / 2<', done) and 'id="failures"' not in done
    z = c.get(status + "/zip")
    assert z.status_code == 200 and z.headers["content-type"] == "application/zip"
    assert f"filename*=UTF-8''{quote('决策档案-2025.zip', safe='')}" in z.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        assert sorted(archive.namelist()) == sorted(file_name(case) for case in (CASE, SHORT))
        for case in (CASE, SHORT):
            pdf = tmp_path / file_name(case)
            pdf.write_bytes(archive.read(file_name(case)))
            cover = pdf_text(pdf).split("\f")[0]
            assert case in cover and site.show(case).title in cover  # that matter's own dossier
    assert len(c.get("/dossiers?year=2025").text.split('class="dossier-jobs"')) == 2  # the job is listed


def test_a_post_without_csrf_starts_nothing_and_a_bad_year_is_a_page(site: Office) -> None:
    c = login(client(site), "clerk")
    r = c.post("/dossiers", data={"year": "2025"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert 'class="dossier-jobs"' not in c.get("/dossiers?year=2025").text  # no job was started
    for year in ("20x5", "1900"):
        r = c.get(f"/dossiers?year={year}")
        assert r.status_code == 422 and "年度无效" in r.text and "Traceback" not in r.text
    r = c.post("/dossiers", data={"csrf": csrf(c, "/dossiers"), "year": "2030"}, follow_redirects=False)
    assert r.status_code == 422 and 'id="no-matters"' in r.text
    assert c.get("/dossiers/jobs/no-such-job").status_code == 404
    assert c.get("/dossiers/jobs/no-such-job/zip").status_code == 404


def tampered_site(tmp_path: Path, definitions: Definitions, edit: str, case_id: str) -> Office:
    """Two short matters of 2025 on SQLite, then ``edit`` made behind the engine's back; the web
    app's office reads the tampered rows afresh."""
    url = f"sqlite:///{tmp_path / 'tampered.sqlite'}"
    first = web_office(url, tmp_path, definitions)
    play(first.cases, "D-2025-001", MAIN_PATH[:2])
    play(first.cases, "D-2025-002", MAIN_PATH[:2])
    database = Database(url)
    with database.write() as conn:
        conn.execute(sqlalchemy.text(edit), {"id": case_id})
    office = Office(database, definitions, clock=fixed_clock)
    office.cases.outside = supplied_catalogue
    return office


def test_a_matter_that_does_not_verify_is_named_and_its_dossier_says_so(
    tmp_path: Path, definitions: Definitions
) -> None:
    """A case row edited (the chain still reads): the year's job names it; its PDF is in the ZIP, its
    cover saying the history does not verify."""
    need("pdftotext")
    edited = "D-2025-002"
    office = tampered_site(tmp_path, definitions, "UPDATE cases SET title = '伪造的标题' WHERE id = :id", edited)
    c = login(client(office), "clerk")
    r = c.post("/dossiers", data={"csrf": csrf(c, "/dossiers"), "year": "2025"}, follow_redirects=False)
    done = wait_until_finished(c, r.headers["location"])
    failures = done[done.index('id="failures"') :]
    assert edited in failures and "D-2025-001" not in failures
    assert "decisions audit verify" in failures
    z = c.get(r.headers["location"] + "/zip")
    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        assert sorted(archive.namelist()) == [file_name("D-2025-001"), file_name(edited)]
        pdf = tmp_path / "edited.pdf"
        pdf.write_bytes(archive.read(file_name(edited)))
    assert "历史未通过校验" in pdf_text(pdf).split("\f")[0]


def test_a_broken_chain_gets_a_clear_page_and_no_dossier(tmp_path: Path, definitions: Definitions) -> None:
    """An event's body edited: the chain breaks; the service refuses to make a dossier over it, and
    the pages say which matter and what to do, never a traceback."""
    broken = "D-2025-002"
    edit = "UPDATE events SET body = replace(body, '2025', '2024') WHERE case_id = :id AND seq = 1"
    office = tampered_site(tmp_path, definitions, edit, broken)
    c = login(client(office), "clerk")
    before = len(office.cases.repository.checkpoints())
    for r in (
        c.get(f"/cases/{broken}/dossier.pdf"),
        c.get("/dossiers?year=2025"),
        c.post("/dossiers", data={"csrf": csrf(c, "/"), "year": "2025"}, follow_redirects=False),
    ):
        assert r.status_code == 409 and r.headers["content-type"].startswith("text/html")
        assert f"{broken} 的历史链校验失败" in r.text and "decisions audit verify" in r.text
        assert "Traceback" not in r.text
    assert len(office.cases.repository.checkpoints()) == before  # nothing vouches for it
