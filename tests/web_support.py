"""The web application under test: a real database (SQLite, or PostgreSQL through `tests.stores`),
the demo's people with passwords, one proposed decision, and a TestClient that logs in."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from decisions.definitions import Definitions
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.web.app import Settings, create_app
from tests.stores import fixed_clock, supplied_catalogue
from tests.support import MAIN_PATH, Step, V

PASSWORD = "correct horse battery"
# (name, roles, unit): one person per kind of user the walkthrough has
PEOPLE = {
    "clerk": ("clerk_li", [V("organiser"), V("proposer")], "县交通运输局"),
    "counsel": ("counsel_zhao", [V("legal_counsel")], "县司法局"),
    "adviser": ("lawyer_zheng", [V("legal_adviser")], "县政府法律顾问（律师事务所）"),
    "head": ("head_wang", [V("head")], "县人民政府"),
    "office": ("office_chen", [V("office_clerk")], "县政府办"),
    "auditor": ("audit_qian", [V("auditor")], "县审计局"),
}
PROPOSAL = {"title": "城区公交票价调整", "category": V("public_policy"), "source": V("leader")}


def web_office(url: str, tmp: Path, definitions: Definitions) -> Office:
    database = Database(url, documents=tmp / "documents")
    database.migrate()
    office = Office(database, definitions, clock=fixed_clock)
    office.cases.outside = supplied_catalogue  # the published 2025 catalogue, as the store tests supply it
    for name, roles, unit in PEOPLE.values():
        office.users.add(name, roles, unit)
        office.set_password(name, PASSWORD)
    return office


def client(office: Office, **settings: object) -> TestClient:
    return TestClient(create_app(office, Settings(**settings)), raise_server_exceptions=False)  # type: ignore[arg-type]


def csrf(c: TestClient, page: str = "/login") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', c.get(page).text)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def login(c: TestClient, who: str, password: str = PASSWORD) -> TestClient:
    name = PEOPLE[who][0] if who in PEOPLE else who
    r = c.post(
        "/login", data={"name": name, "password": password, "csrf": csrf(c), "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return c


def raw(value: object) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def play(office: Office, steps: tuple[Step, ...] = MAIN_PATH, case_id: str | None = None) -> str:
    """Play ``steps`` (tests.support's actors) through `Office` as a clerk would type them."""
    for step in steps:
        fields = {k: raw(v) for k, v in step.fields.items()}
        docs = [(kind, f"{kind} of {step.trigger}".encode(), f"{kind}.txt") for kind in step.docs]
        if case_id is None:
            case_id = office.propose(step.actor, fields, docs, step.on).case.id
        else:
            office.act(case_id, step.trigger, step.actor, fields, docs, step.on)
    assert case_id is not None
    return case_id


def until(trigger: str) -> tuple[Step, ...]:
    """The main path up to and including ``trigger``."""
    names = [s.trigger for s in MAIN_PATH]
    return MAIN_PATH[: names.index(V(trigger)) + 1]
