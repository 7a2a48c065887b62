"""The web application's security promises (issue 14, item 5): every route × every role ×
anonymous, generated from the app's route table (a route without an entry here fails); CSRF on
every state-changing request (missing or wrong → 403, nothing written); logins (Argon2, one message
for every failure, throttled per account and per client; sessions signed, HttpOnly, SameSite, idling
out); security headers; documents never served as HTML of the site; hostile text escaped; uploads
bounded; errors as pages, never tracebacks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from decisions.definitions import Definitions
from decisions.service.office import Office
from decisions.web.app import ACCESS, create_app
from tests.support import V
from tests.web_support import PASSWORD, PEOPLE, PROPOSAL, client, csrf, login, play, until, web_office

# What each route is, for the matrix: a page, an API call, or a form post (page) / API post.
KIND: dict[tuple[str, str], str] = {
    ("GET", "/login"): "anyone",
    ("POST", "/login"): "anyone-post",
    ("POST", "/logout"): "post",
    ("POST", "/lang"): "anyone-post",
    ("GET", "/"): "page",
    ("GET", "/done"): "page",
    ("GET", "/start"): "page",
    ("POST", "/start/{workflow}"): "post",
    ("GET", "/cases/{case_id}"): "page",
    ("POST", "/cases/{case_id}/act"): "post",
    ("POST", "/cases/{case_id}/correct"): "post",
    ("GET", "/cases/{case_id}/documents/{sha256}"): "page",
    ("GET", "/catalogue"): "page",
    ("GET", "/report"): "page",
    ("GET", "/audit"): "page",
    ("POST", "/audit/verify"): "post",
    ("GET", "/audit/checkpoint"): "page",
    ("POST", "/audit/checkpoint"): "post",
    ("GET", "/audit/replay/{case_id}"): "page",
    ("GET", "/api/inbox"): "api",
    ("GET", "/api/cases/{case_id}"): "api",
    ("POST", "/api/cases/{case_id}/act"): "api-post",
    ("GET", "/api/catalogue/{year}"): "api",
    ("POST", "/api/audit/verify"): "api-post",
    ("GET", "/api/openapi.json"): "anyone",
    ("GET", "/cases/{case_id}/dossier.pdf"): "page",
    ("GET", "/dossiers"): "page",
    ("POST", "/dossiers"): "post",
    # a year's job, which lives in memory: the matrix asks for one that does not exist (404 page)
    ("GET", "/dossiers/jobs/{job_id}"): "job",
    ("GET", "/dossiers/jobs/{job_id}/zip"): "job",
    ("GET", "/cases"): "page",
    ("GET", "/api/cases"): "api",
    # decisions/web/admin.py: readable by every person, changed only as the service allows
    ("GET", "/admin/people"): "page",
    ("POST", "/admin/people/add"): "post",
    ("POST", "/admin/people/grant"): "post",
    ("POST", "/admin/people/revoke"): "post",
    ("POST", "/admin/people/unit"): "post",
    ("POST", "/admin/people/deactivate"): "post",
    ("POST", "/admin/people/reactivate"): "post",
    ("POST", "/admin/people/password"): "post",
    ("GET", "/admin/units"): "page",
    ("POST", "/admin/units/add"): "post",
    ("GET", "/admin/delegations"): "page",
    ("POST", "/admin/delegations/add"): "post",
    ("POST", "/admin/delegations/end"): "post",
    ("GET", "/admin/history"): "page",
    ("GET", "/account"): "page",
    ("POST", "/account/password"): "post",
}
ROLES = ["anonymous", *PEOPLE]


@pytest.fixture
def office(tmp_path: Path, definitions: Definitions) -> Office:
    return web_office(f"sqlite:///{tmp_path / 'web.sqlite'}", tmp_path, definitions)


@pytest.fixture
def under_review(office: Office) -> str:
    """A decision waiting on legal counsel's finding (the main path up to the adviser's opinion),
    beside the 2025 catalogue's call for items."""
    notice = [(V("call_notice"), "关于征集2025年度重大行政决策事项的通知".encode(), "notice.txt")]
    office.open_catalogue(2025, "office_chen", {V("deadline"): "2024-12-10"}, notice, "2024-11-10")
    return play(office, until("give_legal_opinion"))


def routes() -> Iterator[tuple[str, str]]:
    app = create_app.__wrapped__ if hasattr(create_app, "__wrapped__") else create_app
    from decisions.store.memory import memory_store
    from tests.support import shipped_definitions

    for route in app(Office(memory_store(), shipped_definitions())).routes:
        if isinstance(route, APIRoute | Route) and not route.path.startswith("/static"):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path


def every_event(office: Office) -> list[tuple[str, int]]:
    return [(c[0], c[4]) for c in office.list_cases()]


def test_every_route_has_an_access_rule_and_an_entry_in_this_matrix() -> None:
    found = set(routes())
    assert found == set(KIND), f"routes without a matrix entry: {found - set(KIND)}; stale entries: {set(KIND) - found}"
    assert found == set(ACCESS)
    assert {k for k, v in KIND.items() if v.startswith("anyone")} == {k for k, v in ACCESS.items() if v == "anyone"}


def _url(path: str, case_id: str, sha256: str, office: Office) -> str:
    return (
        path.replace("{case_id}", case_id)
        .replace("{sha256}", sha256)
        .replace("{workflow}", office.proposal_workflow())
        .replace("{year}", "2025")
    )


@pytest.mark.parametrize("who", ROLES)
def test_route_matrix(office: Office, under_review: str, who: str) -> None:
    """Anonymous: every page sends to the login, every API call is 401, nothing written. Each role:
    every page and API read answers 200; every post without a CSRF token is 403 with nothing written."""
    sha = office.history(under_review)[0].documents[0].sha256
    c = client(office)
    if who != "anonymous":
        login(c, who)
    before = every_event(office)
    for (method, path), kind in KIND.items():
        url = _url(path, under_review, sha, office)
        if method == "GET":
            r = c.get(url, follow_redirects=False)
            if who == "anonymous" and kind in ("page", "job"):
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
            elif kind == "job":
                assert r.status_code == 404 and "<html" in r.text, (method, path, who)
            elif who == "anonymous" and kind == "api":
                assert r.status_code == 401, (method, path)
            else:
                assert r.status_code == 200, (method, path, who, r.text[:300])
            continue
        if kind.startswith("api"):
            r = c.post(url, json={"action": V("find_lawful")}, follow_redirects=False)
        else:
            r = c.post(url, data={"action": V("find_lawful")}, follow_redirects=False)
        if who == "anonymous" and kind == "post":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
        elif who == "anonymous" and kind == "api-post":
            assert r.status_code == 401, (method, path)
        else:
            assert r.status_code == 403, (method, path, who, r.status_code)
        assert every_event(office) == before, (method, path)


FINDING = {
    f"f.{V('authority')}": V("compliant"),
    f"f.{V('procedure')}": V("compliant"),
    f"f.{V('content')}": V("compliant"),
}


@pytest.mark.parametrize("who", list(PEOPLE))
def test_only_the_roles_the_workflow_names_can_act_and_the_service_says_why(
    office: Office, under_review: str, who: str
) -> None:
    c = login(client(office), who)
    token = csrf(c, f"/cases/{under_review}")
    r = c.post(
        f"/cases/{under_review}/act",
        data={"csrf": token, "action": V("find_lawful"), **FINDING},
        files={f"d.{V('review_opinion')}": ("opinion.txt", b"lawful", "text/plain")},
        follow_redirects=False,
    )
    state = office.show(under_review).view.case.state
    if who == "counsel":
        assert r.status_code == 303 and state == V("reviewed_lawful")
    else:
        assert r.status_code == 422 and "engine.role" in r.text and state == V("under_review")


def test_a_wrong_csrf_token_is_refused_with_a_page_and_nothing_is_written(office: Office, under_review: str) -> None:
    c = login(client(office), "counsel")
    before = every_event(office)
    r = c.post(f"/cases/{under_review}/act", data={"csrf": "forged", "action": V("find_lawful"), **FINDING})
    assert r.status_code == 403 and "CSRF" in r.text and "<html" in r.text
    r = c.post(f"/api/cases/{under_review}/act", json={"action": V("find_lawful")}, headers={"X-CSRF-Token": "x"})
    assert r.status_code == 403
    other = login(client(office), "clerk")  # another session's token is wrong here too
    r = c.post(f"/cases/{under_review}/act", data={"csrf": csrf(other, "/"), "action": V("find_lawful")})
    assert r.status_code == 403
    assert every_event(office) == before


def test_login_failures_say_the_same_thing_and_are_throttled(office: Office) -> None:
    c = client(office)
    wrong = c.post("/login", data={"name": "clerk_li", "password": "wrong password", "csrf": csrf(c)})
    unknown = c.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf": csrf(c)})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    for _ in range(3):
        c.post("/login", data={"name": "clerk_li", "password": "wrong again!", "csrf": csrf(c)})
    r = c.post("/login", data={"name": "clerk_li", "password": PASSWORD, "csrf": csrf(c)}, follow_redirects=False)
    assert r.status_code == 429  # even the right password waits: the account is throttled
    assert "clerk_li" not in (c.cookies.get("decisions_session") or "")
    other = client(office)  # another account from the same client is throttled too (per client)
    r = other.post("/login", data={"name": "counsel_zhao", "password": PASSWORD, "csrf": csrf(other)})
    assert r.status_code == 429


def test_passwords_are_stored_as_argon2_hashes(office: Office) -> None:
    stored = office.cases.store.credentials
    assert stored is not None
    hashed = stored.get("clerk_li") or ""
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    with pytest.raises(Exception, match="10"):
        office.set_password("clerk_li", "short")


def test_sessions_are_signed_httponly_samesite_and_idle_out(office: Office) -> None:
    c = client(office, idle_minutes=1)
    r = c.post("/login", data={"name": "clerk_li", "password": PASSWORD, "csrf": csrf(c)}, follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert client(office, secure_cookies=True).get("/login").headers["set-cookie"].count("Secure") == 1
    forged = TestClient(create_app(office), cookies={"decisions_session": "eyJ1IjoiY2xlcmtfbGkifQ.x.y"})
    assert forged.get("/", follow_redirects=False).status_code == 303
    token = c.cookies["decisions_session"]
    stale = client(office, idle_minutes=1)  # another server's secret: its cookie is not this one's
    assert stale.get("/", cookies={"decisions_session": token}, follow_redirects=False).status_code == 303
    # logout ends the session in this browser
    r = c.post("/logout", data={"csrf": csrf(c, "/")}, follow_redirects=False)
    assert r.status_code == 303 and c.get("/", follow_redirects=False).status_code == 303


def test_the_session_idles_out(office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    c = login(client(office, idle_minutes=1), "clerk")
    assert c.get("/", follow_redirects=False).status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    assert c.get("/", follow_redirects=False).status_code == 303


def test_security_headers_on_every_page(office: Office) -> None:
    c = client(office)
    for r in (c.get("/login"), c.get("/no/such/page"), login(c, "clerk").get("/")):
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "<script" not in c.get("/").text


def test_hostile_text_is_escaped_everywhere_it_is_shown(office: Office) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    case_id = office.propose("clerk_li", {**PROPOSAL, V("title"): hostile}).case.id
    c = login(client(office), "clerk")
    for page in (f"/cases/{case_id}", "/done", "/audit"):
        text = c.get(page).text
        assert "<script>alert" not in text and "<img src=x" not in text, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, page


def test_documents_keep_their_name_and_are_never_html_of_the_site(office: Office, under_review: str) -> None:
    office.act(
        under_review,
        V("find_lawful"),
        "counsel_zhao",
        {k[2:]: v for k, v in FINDING.items()},
        [(V("review_opinion"), b"<html><script>alert(1)</script></html>", "意见.html")],
    )
    c = login(client(office), "auditor")
    history = office.history(under_review)
    html_doc = history[-1].documents[0]
    r = c.get(f"/cases/{under_review}/documents/{html_doc.sha256}")
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%84%8F%E8%A7%81.html" in r.headers["content-disposition"]
    assert "sandbox" in r.headers["content-security-policy"]
    txt = history[0].documents[0]
    r = c.get(f"/cases/{under_review}/documents/{txt.sha256}")
    assert r.headers["content-type"].startswith("text/plain") and r.headers["content-disposition"].startswith("inline;")
    assert r.content == office.document(txt.sha256)
    # a hash the case does not carry is not served, whatever is in the store
    other = office.propose("clerk_li", PROPOSAL, [(V("proposal"), b"other", "o.txt")]).case.id
    foreign = office.history(other)[0].documents[0].sha256
    assert c.get(f"/cases/{under_review}/documents/{foreign}").status_code == 404


def test_uploads_are_bounded_and_never_name_a_path(office: Office, tmp_path: Path) -> None:
    c = login(client(office, max_upload=4096), "clerk")
    token = csrf(c, "/start")
    before = every_event(office)
    fields = {f"f.{k}": v for k, v in PROPOSAL.items()}
    r = c.post(
        f"/start/{office.proposal_workflow()}",
        data={"csrf": token, **fields},
        files={f"d.{V('proposal')}": ("big.txt", b"x" * 10_000, "text/plain")},
    )
    assert r.status_code == 413 and every_event(office) == before
    r = c.post(
        f"/start/{office.proposal_workflow()}",
        data={"csrf": token, **fields},
        files={f"d.{V('proposal')}": ("../../etc/passwd", b"proposal text", "text/plain")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    case_id = r.headers["location"].rsplit("/", 1)[1]
    assert office.history(case_id)[0].documents[0].name == "passwd"
    assert not (tmp_path / "etc").exists()


def test_errors_are_pages_in_both_languages_never_tracebacks(office: Office) -> None:
    c = login(client(office), "clerk")
    r = c.get("/cases/NO-SUCH-CASE")
    assert r.status_code == 400 and "<html" in r.text and "Traceback" not in r.text and "NO-SUCH-CASE" in r.text
    assert c.get("/no/such/page").status_code == 404
    r = c.get("/api/cases/NO-SUCH-CASE")
    assert r.status_code == 400 and r.json()["error"]["en"] == "not done"
    r = c.get("/catalogue?year=notayear")
    assert r.status_code == 422 and "Traceback" not in r.text
    assert re.search(r"<html lang=\"zh-CN\"", c.get("/").text)
    c.post("/lang", data={"csrf": csrf(c, "/"), "lang": "en", "next": "/"})
    assert "Inbox" in c.get("/").text and '<html lang="en"' in c.get("/").text


def test_a_crash_is_a_page_with_the_same_headers_never_a_traceback(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = login(TestClient(create_app(office)), "clerk")  # server exceptions would be raised here

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(office, "inbox", broken)
    for url in ("/", "/api/inbox"):
        r = c.get(url)
        assert r.status_code == 500 and "secret internals" not in r.text and "Traceback" not in r.text
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "internal error" in c.get("/api/inbox").json()["error"]["en"]
