"""Hostile input at every web door (issue 17, item 5): every route of the application's route table
(`decisions.web.app.ACCESS`, so routes added later are covered the day they are merged) fed hostile
values in its path, its query, its form or its JSON body, and in the cookies: over-long text, NUL,
bytes that are not UTF-8, unicode tricks (bidi overrides, lone surrogates, zero-width and
combining characters), path traversal in upload file names, bodies past the upload limit, wrong
types in JSON. Each answers a page or a JSON error, never a 5xx or a traceback, and writes nothing
(every case's version, the people history and the credentials unchanged). On SQLite and PostgreSQL:
hostile text that reaches a driver is where the two differ."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from decisions.definitions import Definitions
from decisions.service.office import Office
from decisions.web.app import ACCESS, LANG_COOKIE, Settings, create_app
from decisions.web.sessions import COOKIE
from tests.stores import BACKENDS, new_database_url
from tests.support import V, report_count
from tests.web_support import PROPOSAL, csrf, login, play, until, web_office

LIMIT = 64 * 1024  # the upload limit of the app under the body-limit test (Settings.max_upload)

# hostile text values (the form and JSON doors), by what they try
TEXT: dict[str, str] = {
    "over-long": "长" * 10_000,  # past every bound (a title is 512, a name 128) in every field at once
    "nul": "a\x00b",
    "control": "\x1b[31mred\x1b[0m\r\n\x07",
    "bidi override": "\u202egnp.exe",
    "lone surrogate": "\ud800x",
    "zero-width": "\u200b\u200d\ufeff",
    "combining": "a" + "\u0301" * 5000,
    "traversal": "../../../../etc/passwd",
    "html": "<script>alert(1)</script>\"'&",
    "digits": "9" * 1000,
    "empty": "",
    "format": "%s%n{0}{case_id}",
}
# hostile path segments, already percent-encoded as a client can send them (some are not UTF-8)
SEGMENTS: dict[str, str] = {
    "over-long": "x" * 10_000,
    "nul": "a%00b",
    "not utf-8": "%FF%FE%C0%AF",
    "lone surrogate": "%ED%A0%80",
    "bidi override": quote("\u202eD-1"),
    "traversal": "..%2F..%2Fetc%2Fpasswd",
    "dot-dot": "..",
    "digits": "9" * 1000,
    "negative": "-1",
    "html": quote("<script>"),
}
# hostile raw bodies: (content type, bytes)
BODIES: dict[str, tuple[str, bytes]] = {
    "form not utf-8": ("application/x-www-form-urlencoded", b"csrf=%s&f.title=\xff\xfe&action=\xc0\xaf&name=\xff"),
    "form percent not utf-8": ("application/x-www-form-urlencoded", b"csrf=%s&f.title=%FF%FE&action=%ED%A0%80"),
    "json not utf-8": ("application/json", b'{"action": "\xff\xfe"}'),
    "json not json": ("application/json", b"{action: 'x',"),
    "json deep": ("application/json", b"[" * 5000 + b"]" * 5000),
    "json huge number": ("application/json", b'{"action": "a", "expected_version": 1' + b"0" * 5000 + b"}"),
    "multipart broken": ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\n"),
    "multipart no boundary": ("multipart/form-data", b"--\r\n\r\n"),
}
# wrong types in the JSON API's bodies
JSON_BODIES: dict[str, Any] = {
    "a number for a name": {"action": 5, "fields": {}},
    "a list for the fields": {"action": "a", "fields": [1, 2]},
    "nested fields": {"action": "a", "fields": {"title": {"zh": ["x"]}}},
    "text for a version": {"action": "a", "expected_version": "seven"},
    "a huge version": {"action": "a", "expected_version": 10**40},
    "null everywhere": {"action": None, "fields": None, "role": None},
    "a list": [1, 2, 3],
    "a string": "act",
    "over-long action": {"action": "x" * 100_000},
}


def wire(value: str) -> bytes:
    """What a client sends for ``value``: UTF-8, a lone surrogate as the bytes that would encode it."""
    return value.encode("utf-8", "surrogatepass")


def encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def routes(office: Office) -> Iterator[tuple[str, str, Route]]:
    """Every (method, path) of the application, with its route, as `ACCESS` lists them."""
    for route in create_app(office).routes:
        if isinstance(route, Route) and not route.path.startswith("/static"):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                if (method, route.path) in ACCESS:
                    yield method, route.path, route


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    for url in new_database_url(request.param, tmp_path):
        here = web_office(url, tmp_path, definitions)
        try:
            yield here
        finally:
            here.cases.db.dispose()  # type: ignore[union-attr]


@pytest.fixture
def case_id(office: Office) -> str:
    """A decision under legal review, with documents: the valid values beside each hostile one."""
    return play(office, until("give_legal_opinion"))


def written(office: Office) -> tuple[Any, ...]:
    """What a write changes: every case and its version, the people history, the credentials."""
    credentials = office.cases.store.credentials
    return (
        office.list_cases(),
        [c.hash for c in office.users.history()],
        None if credentials is None else credentials.all(),
    )


def valid(office: Office, case_id: str) -> dict[str, str]:
    """A valid value for each path parameter a route of this application takes (by its name)."""
    sha = office.history(case_id)[0].documents[0].sha256
    return {"case_id": case_id, "sha256": sha, "workflow": office.proposal_workflow(), "year": "2025"}


def url_for(path: str, values: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if hostile is not None and hostile[0] == name:
            return hostile[1]
        return quote(values.get(name, "x"), safe="")

    return re.sub(r"\{([^}:]+)(?::[^}]*)?\}", fill, path)


def form_keys(office: Office) -> list[str]:
    """The names a form of this application may carry: the common ones and every field and
    document name of every workflow (prefixed as the forms prefix them)."""
    keys = ["csrf_extra", "action", "role", "version", "name", "password", "next", "lang", "reason", "on"]
    for wf in office.definitions.workflows.values():
        keys += [f"f.{name}" for name in list(wf.fields)[:20]]
    return keys


class Probe:
    """One logged-in client, and what it saw."""

    def __init__(self, office: Office, limit: int = Settings.max_upload) -> None:
        self.office = office
        app = create_app(office, Settings(max_upload=limit))
        self.client = TestClient(app, raise_server_exceptions=False)
        self.anonymous = TestClient(app, raise_server_exceptions=False)
        login(self.client, "clerk")
        self.token = csrf(self.client, "/")
        # every request is sent with this session (a hostile logout or login does not end the probe:
        # a session is a signed token, and what changes it is the client's cookie)
        self.session = dict(self.client.cookies)
        self.failures: list[str] = []
        self.tried = 0
        self.statuses: dict[int, int] = {}

    def send(self, what: str, method: str, url: str, *, anonymous: bool = False, **kwargs: Any) -> None:
        before = written(self.office)
        self.tried += 1
        client = self.anonymous if anonymous else self.client
        client.cookies.clear()
        if not anonymous:
            client.cookies.update(self.session)
        try:
            r = client.request(method, url, follow_redirects=False, **kwargs)
        except Exception as exc:  # the client itself fails: a broken response is a failure too
            self.failures.append(f"{what}: {method} {url[:80]}: the request failed: {exc!r}")
            return
        body = r.text
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if not anonymous and r.headers.get("location", "").startswith("/login") and not url.startswith("/logout"):
            self.failures.append(f"{what}: {method} {url[:80]} was sent to the login: the probe lost its session")
        if r.status_code >= 500:
            self.failures.append(f"{what}: {method} {url[:80]} answered {r.status_code}: {body[:200]!r}")
        if "Traceback" in body or 'File "' in body:
            self.failures.append(f"{what}: {method} {url[:80]} shows a traceback")
        if r.status_code < 400 and r.status_code not in (200, 303, 307):
            self.failures.append(f"{what}: {method} {url[:80]} answered {r.status_code}")
        if written(self.office) != before:
            self.failures.append(f"{what}: {method} {url[:80]} wrote something ({r.status_code})")


def test_every_route_survives_hostile_values_and_writes_nothing(office: Office, case_id: str) -> None:
    probe = Probe(office)
    values = valid(office, case_id)
    keys = form_keys(office)
    seen = list(routes(office))
    assert {(m, p) for m, p, _ in seen} == set(ACCESS), "every route of ACCESS is probed"
    for method, path, route in seen:
        params = re.findall(r"\{([^}:]+)", path)
        for param in params:
            for what, segment in SEGMENTS.items():
                probe.send(f"path {param} {what}", method, url_for(path, values, (param, segment)))
        url = url_for(path, values)
        declared = route.dependant.query_params if isinstance(route, APIRoute) else []
        queries = [p.name for p in declared] or ["next"]
        # each query value cut so the whole URL stays under what a client sends (64 KB; a character
        # is at most 9 once percent-encoded): 2,000 characters, fewer for a route with many
        # parameters (the search's 8: 777), past every bound the app sets (a title is 512) still
        cut = min(2000, 56_000 // (9 * len(queries)))
        for what, value in TEXT.items():
            query = "&".join(f"{q}={quote(wire(value[:cut]))}" for q in queries)
            probe.send(f"query {what}", method, url + "?" + query)
            cookie = quote(wire(value[:1000]))
            headers = {"cookie": f"{LANG_COOKIE}={cookie}; {COOKIE}={cookie}"}
            probe.send(f"cookie {what}", method, url, anonymous=True, headers=headers)
        if method != "POST":
            continue
        for what, value in TEXT.items():
            form = {k: wire(value) for k in keys}
            content = urlencode({**form, "csrf": probe.token}).encode("ascii")
            headers = {"content-type": "application/x-www-form-urlencoded"}
            probe.send(f"form {what}", method, url, content=content, headers=headers)
            json_headers = {"x-csrf-token": probe.token, "content-type": "application/json"}
            if path.startswith("/api/"):
                body = {"action": value, "fields": {k[2:]: value for k in keys if k.startswith("f.")}, "role": value}
                probe.send(f"json {what}", method, url, content=json.dumps(body).encode(), headers=json_headers)
            if not encodable(value):  # a multipart part's text is UTF-8 (the lone surrogate went as a form)
                continue
            files = {"d.x": (value[:300] or "f", b"bytes", "text/plain")}
            for kind in [d for wf in office.definitions.workflows.values() for d in list(wf.documents)[:3]]:
                files[f"d.{kind}"] = (TEXT["traversal"], b"bytes", "text/plain")
            text_form = {k: value for k in keys}
            probe.send(f"multipart {what}", method, url, data={**text_form, "csrf": probe.token}, files=files)
        for what, body in JSON_BODIES.items():
            probe.send(f"json {what}", method, url, json=body, headers={"x-csrf-token": probe.token})
        for what, (content_type, raw) in BODIES.items():
            content = raw.replace(b"%s", probe.token.encode()) if b"%s" in raw else raw
            headers = {"content-type": content_type, "x-csrf-token": probe.token}
            probe.send(f"body {what}", method, url, content=content, headers=headers)
    statuses = ", ".join(f"{n} × {code}" for code, n in sorted(probe.statuses.items()))
    report_count(f"test_hostile_web.py: {probe.tried} hostile requests to {len(seen)} routes ({statuses})")
    assert not probe.failures, f"{len(probe.failures)} of {probe.tried}:\n" + "\n".join(probe.failures[:40])


def test_a_body_past_the_upload_limit_is_refused_whole_at_every_post_route(office: Office, case_id: str) -> None:
    """Whatever Content-Length claims, or with none (chunked): 413, nothing read into the store. (The
    JSON API reads a body before its handler, and answers FastAPI's 400 "error parsing the body" when
    the limit cuts one that claimed no length, or never reads it (`/api/audit/verify` takes none):
    nothing is written all the same.)"""
    probe = Probe(office, LIMIT)
    values = valid(office, case_id)
    posts = [(p, r) for m, p, r in routes(office) if m == "POST"]
    assert posts
    for path, _route in posts:
        url = url_for(path, values)
        before = written(office)
        big = {"d.x": ("big.bin", b"\0" * (LIMIT + 1), "application/octet-stream")}
        probe.client.cookies.update(probe.session)
        r = probe.client.post(url, data={"csrf": probe.token}, files=big, follow_redirects=False)
        assert r.status_code == 413, (path, r.status_code)

        def chunks() -> Iterator[bytes]:
            for _ in range(LIMIT // 4096 + 2):
                yield b"a" * 4096

        headers = {"content-type": "application/x-www-form-urlencoded", "x-csrf-token": probe.token}
        r = probe.client.post(url, content=chunks(), headers=headers, follow_redirects=False)
        assert r.status_code == 413 or (path.startswith("/api/") and r.status_code < 500), (path, r.status_code)
        headers = {"content-type": "application/json", "content-length": str(10**12), "x-csrf-token": probe.token}
        r = probe.client.post(url, content=b"{}", headers=headers, follow_redirects=False)
        assert r.status_code in (400, 413), (path, r.status_code)
        assert written(office) == before, path


def test_an_upload_file_name_is_stored_without_its_path(office: Office) -> None:
    """A proposal uploaded as ``../../etc/passwd`` (or a Windows path) is filed under its last part."""
    probe = Probe(office)
    workflow = office.proposal_workflow()
    fields = {f"f.{k}": str(v) for k, v in PROPOSAL.items()}
    names = {"../../../etc/passwd": "passwd", "..\\..\\windows\\win.ini": "win.ini", "/": "upload"}
    for given, stored in names.items():
        files = {f"d.{V('proposal')}": (given, "建议内容".encode(), "text/plain")}
        r = probe.client.post(
            f"/start/{workflow}", data={**fields, "csrf": probe.token}, files=files, follow_redirects=False
        )
        assert r.status_code == 303, r.text[:300]
        case = r.headers["location"].rsplit("/", 1)[1]
        (document,) = office.history(case)[0].documents
        assert document.name == stored
    assert office.audit.verify().ok


def test_a_hostile_json_body_is_a_json_error_naming_the_input(office: Office, case_id: str) -> None:
    """Under /api a wrong type is a 4xx JSON error (FastAPI's validation, in our error shape)."""
    probe = Probe(office)
    for what, body in JSON_BODIES.items():
        r = probe.client.post(f"/api/cases/{case_id}/act", json=body, headers={"x-csrf-token": probe.token})
        assert 400 <= r.status_code < 500, (what, r.status_code)
        assert set(json.loads(r.text)) & {"error", "refused"}, (what, r.text[:200])
