"""The administration pages (issue 14: "an `admin` role manages people, roles, units and
delegations (recorded as in the people history)"), on SQLite and PostgreSQL: every change an
administrator makes in the browser is an entry of the people history naming them; the same form
posted by someone who administers no one is refused with the service's message (403) and writes
nothing; a person delegates their own role and changes their own password (the current one
required); a hostile display name is shown as text; the navigation offers the pages only to
administrators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from decisions.definitions import Definitions
from decisions.service.office import Office
from decisions.service.users import ADMIN as ADMIN_ROLE
from decisions.store.database import Database
from tests.stores import BACKENDS, fixed_clock, new_database_url, supplied_catalogue
from tests.support import V
from tests.web_support import PASSWORD, PEOPLE, client, csrf, login

ADMIN = "陈秘书"  # the demo's people administrator (demo/00-people.yaml)
OUTSIDER = "auditor"  # a person who administers no one
NEW_PASSWORD = "a new and longer passphrase"


def admin_office(url: str, tmp: Path, definitions: Definitions) -> tuple[Office, Database]:
    """The web tests' people (`tests.web_support.PEOPLE`, with passwords) and an administrator, who
    added themselves first on the empty history."""
    database = Database(url, documents=tmp / "documents")
    database.migrate()
    office = Office(database, definitions, clock=fixed_clock)
    office.cases.outside = supplied_catalogue
    # Argon2id still, at its lowest cost: these tests are about who may change what, not hashing
    # strength (tests/test_web_security.py checks the stored hashes at the shipped cost)
    office.logins.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    office.users.add(ADMIN, [V("office_clerk")], admin=True)
    office.users.add_unit("县政府办公室", by=ADMIN)
    office.users.set_unit(ADMIN, "县政府办公室", by=ADMIN)
    office.set_password(ADMIN, PASSWORD)
    for name, roles, unit in PEOPLE.values():
        for missing in {unit} - set(office.users.units()):
            office.users.add_unit(missing, by=ADMIN)
        office.users.add(name, roles, unit, by=ADMIN)
        office.set_password(name, PASSWORD)
    return office, database


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    urls = new_database_url(request.param, tmp_path)
    made, database = admin_office(next(urls), tmp_path, definitions)
    yield made
    database.dispose()
    urls.close()  # drops the PostgreSQL database


def delegated(office: Office) -> dict[str, str]:
    d = office.users.delegate(PEOPLE["head"][0], PEOPLE["office"][0], V("head"), date(2026, 1, 5), date(2026, 1, 9))
    return {"seq": str(d.seq), "on": "2026-01-07"}


def deactivated(office: Office) -> dict[str, str]:
    office.users.deactivate(PEOPLE["counsel"][0], by=ADMIN)
    return {"person": PEOPLE["counsel"][0]}


CLERK, COUNSEL, HEAD, OFFICE_CLERK = (PEOPLE[k][0] for k in ("clerk", "counsel", "head", "office"))

# action: (the form's path, the prepared office → the form, what the change leaves on record)
CHANGES: dict[str, tuple[str, Callable[[Office], dict[str, Any]], Callable[[Office], bool]]] = {
    "add a person": (
        "/admin/people/add",
        lambda o: {"name": "张华", "role": [V("organiser"), V("proposer")], "unit": "县交通运输局"},
        lambda o: (
            [(u.roles, u.unit) for u in o.users.list() if u.id == "张华"]
            == [(tuple(sorted([V("organiser"), V("proposer")])), "县交通运输局")]
        ),
    ),
    "grant a role": (
        "/admin/people/grant",
        lambda o: {"person": CLERK, "role": V("evaluator")},
        lambda o: V("evaluator") in o.users.get(CLERK).roles,
    ),
    "revoke a role": (
        "/admin/people/revoke",
        lambda o: {"person": CLERK, "role": V("proposer")},
        lambda o: o.users.get(CLERK).roles == (V("organiser"),),
    ),
    "change a unit": (
        "/admin/people/unit",
        lambda o: {"person": CLERK, "unit": "县司法局"},
        lambda o: o.users.get(CLERK).unit == "县司法局",
    ),
    "deactivate": (
        "/admin/people/deactivate",
        lambda o: {"person": COUNSEL},
        lambda o: not o.users.get(COUNSEL).active,
    ),
    "reactivate": ("/admin/people/reactivate", deactivated, lambda o: o.users.get(COUNSEL).active),
    "add a unit": ("/admin/units/add", lambda o: {"unit": "县财政局"}, lambda o: "县财政局" in o.users.units()),
    "delegate another's role": (
        "/admin/delegations/add",
        lambda o: (
            {"delegator": HEAD, "delegate": OFFICE_CLERK, "role": V("head"), "start": "2026-01-05"}
            | {"until": "2026-01-09"}
        ),
        lambda o: (
            [(d.delegator, d.delegate, d.role) for d in o.users.delegations()] == [(HEAD, OFFICE_CLERK, V("head"))]
        ),
    ),
    "end a delegation": (
        "/admin/delegations/end",
        delegated,
        lambda o: [d.ended for d in o.users.delegations()] == ["2026-01-07"],
    ),
}


@pytest.mark.parametrize("action", list(CHANGES))
def test_an_administrator_changes_people_and_the_history_names_them(office: Office, action: str) -> None:
    path, form, done = CHANGES[action]
    data = form(office)
    before = len(office.users.history())
    c = login(client(office), ADMIN)
    r = c.post(path, data={"csrf": csrf(c, "/admin/people"), **data}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert done(office)
    history = office.users.history()
    assert len(history) == before + 1 and history[-1].by == ADMIN


@pytest.mark.parametrize("action", list(CHANGES))
def test_someone_who_administers_no_one_is_refused_and_nothing_is_written(office: Office, action: str) -> None:
    path, form, done = CHANGES[action]
    data = form(office)
    before = office.users.history()
    c = login(client(office), OUTSIDER)
    r = c.post(path, data={"csrf": csrf(c, "/admin/people"), **data}, follow_redirects=False)
    assert r.status_code == 403
    assert 'id="refusal"' in r.text and "人员管理员" in r.text and "<html" in r.text
    assert office.users.history() == before and not done(office)


def test_a_post_without_its_csrf_token_is_refused_even_for_an_administrator(office: Office) -> None:
    c = login(client(office), ADMIN)
    before = office.users.history()
    for path, form, _ in CHANGES.values():
        r = c.post(path, data=form(office), follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text, path
    r = c.post("/admin/people/password", data={"person": CLERK, "password": NEW_PASSWORD})
    assert r.status_code == 403
    assert len(office.users.history()) == len(before) + 2  # only the two set up by the forms' own setups
    login(client(office), "clerk")  # the old password still opens the clerk's account


def test_a_person_delegates_their_own_role_but_not_anyone_elses(office: Office) -> None:
    c = login(client(office), "head")
    page = c.get("/admin/delegations").text
    assert 'id="add-delegation"' in page and 'id="read-only"' in page
    token = csrf(c, "/admin/delegations")
    own = {"delegator": HEAD, "delegate": OFFICE_CLERK, "role": V("head"), "start": "2026-01-05", "until": "2026-01-09"}
    r = c.post("/admin/delegations/add", data={"csrf": token, **own}, follow_redirects=False)
    assert r.status_code == 303
    (d,) = office.users.delegations()
    assert (d.delegator, d.delegate, d.role) == (HEAD, OFFICE_CLERK, V("head"))
    assert office.users.history()[-1].by == HEAD
    # bad input about their own role: the service's message, as bad input (not a refusal of rights)
    before = office.users.history()
    r = c.post("/admin/delegations/add", data={"csrf": token, **own, "until": "2026-01-01"})
    assert r.status_code == 400 and "2026-01-01" in r.text and office.users.history() == before
    # someone else's role: refused
    others = {**own, "delegator": CLERK, "role": V("organiser")}
    r = c.post("/admin/delegations/add", data={"csrf": token, **others})
    assert r.status_code == 403 and office.users.history() == before
    # and they end their own delegation
    r = c.post("/admin/delegations/end", data={"csrf": token, "seq": str(d.seq), "on": "2026-01-06"})
    assert r.status_code == 200 and [x.ended for x in office.users.delegations()] == ["2026-01-06"]


def _stored_hash(office: Office, name: str) -> str | None:
    credentials = office.cases.store.credentials
    assert credentials is not None
    return credentials.get(name)


def test_an_administrator_sets_an_initial_password_and_no_one_else_can(office: Office) -> None:
    c = login(client(office), ADMIN)
    token = csrf(c, "/admin/people")
    r = c.post("/admin/people/password", data={"csrf": token, "person": "张华", "password": NEW_PASSWORD})
    assert r.status_code == 400 and "张华" in r.text  # nobody of that name yet
    r = c.post(
        "/admin/people/add",
        data={"csrf": token, "name": "张华", "role": V("organiser"), "unit": "县交通运输局"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = c.post("/admin/people/password", data={"csrf": token, "person": "张华", "password": "short"})
    assert r.status_code == 400 and "10" in r.text and _stored_hash(office, "张华") is None
    r = c.post(
        "/admin/people/password",
        data={"csrf": token, "person": "张华", "password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert office.users.history()[-1].by == ADMIN  # the people history names who set it
    assert "张华" in login(client(office), "张华", NEW_PASSWORD).get("/").text
    stored = _stored_hash(office, CLERK)
    outsider = login(client(office), OUTSIDER)
    r = outsider.post(
        "/admin/people/password",
        data={"csrf": csrf(outsider, "/account"), "person": CLERK, "password": NEW_PASSWORD},
    )
    assert r.status_code == 403 and 'id="refusal"' in r.text
    assert _stored_hash(office, CLERK) == stored
    login(client(office), "clerk")  # the clerk's own password still works


def test_a_person_changes_their_own_password_only_with_the_current_one(office: Office) -> None:
    c = login(client(office), "clerk")
    page = c.get("/account").text
    assert CLERK in page and "县交通运输局" in page and 'id="password"' in page
    token = csrf(c, "/account")
    stored = _stored_hash(office, CLERK)
    wrong = {
        "csrf": token,
        "current_password": "not my password",
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    r = c.post("/account/password", data=wrong)
    assert r.status_code == 400 and "当前密码不正确" in r.text and _stored_hash(office, CLERK) == stored
    differ = {
        "csrf": token,
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD + "!",
    }
    r = c.post("/account/password", data=differ)
    assert r.status_code == 400 and "不一致" in r.text and _stored_hash(office, CLERK) == stored
    right = {
        "csrf": token,
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }
    r = c.post("/account/password", data=right, follow_redirects=False)
    assert r.status_code == 303 and 'id="changed"' in c.get(r.headers["location"]).text
    login(client(office), "clerk", NEW_PASSWORD)
    old = client(office)
    r = old.post("/login", data={"name": CLERK, "password": PASSWORD, "csrf": csrf(old)})
    assert r.status_code == 401


def test_a_hostile_display_name_is_shown_as_text_everywhere(office: Office) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    c = login(client(office), ADMIN)
    token = csrf(c, "/admin/people")
    r = c.post(
        "/admin/people/add",
        data={"csrf": token, "name": hostile, "id": "hostile", "role": V("organiser")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and office.users.get("hostile").name == hostile
    office.users.delegate("hostile", CLERK, None, date(2026, 1, 5), date(2026, 1, 9), by=ADMIN)
    for page in ("/admin/people", "/admin/delegations", "/admin/history"):
        text = c.get(page).text
        assert "<script>alert" not in text and "<img src=x" not in text, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, page


def test_the_pages_list_people_by_their_role_labels_and_only_administrators_get_the_forms(office: Office) -> None:
    office.users.delegate(HEAD, OFFICE_CLERK, V("head"), date(2026, 1, 5), date(2026, 1, 9), by=ADMIN)
    wf = office.definitions.workflow(office.proposal_workflow())
    organiser, head = wf.roles[V("organiser")].label.zh, wf.roles[V("head")].label.zh
    admin = login(client(office), ADMIN)
    page = admin.get("/admin/people").text
    assert organiser in page and 'id="add-person"' in page and 'action="/admin/people/grant"' in page
    row = page[page.index(f'data-person="{OFFICE_CLERK}"') :].split("</tr>")[0]
    assert f"代 {HEAD}" in row and head in row  # acting for the head, in the head's role
    assert 'id="nav-admin"' in admin.get("/").text
    outsider = login(client(office), OUTSIDER)
    page = outsider.get("/admin/people").text
    assert organiser in page and 'id="read-only"' in page
    assert 'id="add-person"' not in page and 'action="/admin/people/grant"' not in page
    assert 'id="nav-admin"' not in outsider.get("/").text and 'id="nav-account"' in outsider.get("/").text
    assert 'id="add-unit"' not in outsider.get("/admin/units").text
    assert 'id="add-unit"' in admin.get("/admin/units").text
    roles = admin.get("/admin/delegations").text.split('id="delegation-role"')[1].split("</select>")[0]
    assert f'value="{V("head")}"' in roles and f'value="{ADMIN_ROLE}"' not in roles  # never delegated


def test_the_people_history_is_shown_with_its_verification(office: Office) -> None:
    office.users.grant(CLERK, V("evaluator"), by=ADMIN)
    c = login(client(office), OUTSIDER)  # read-only, for an auditor too
    page = c.get("/admin/history").text
    changes = office.users.history()
    assert 'class="report ok"' in page and f"{len(changes)} 条记录" in page
    last = page[page.index(f'data-entry="{changes[-1].seq}"') :].split("</tr>")[0]
    assert "授予角色" in last and CLERK in last and ADMIN in last and changes[-1].hash[:12] in last
    assert "<form" not in page.split("<main>")[1]
    added = next(x for x in changes if x.kind == "person_added" and x.person == CLERK)
    row = page[page.index(f'data-entry="{added.seq}"') :].split("</tr>")[0]
    organiser = office.definitions.workflow(office.proposal_workflow()).roles[V("organiser")].label.zh
    assert "添加人员" in row and organiser in row  # roles by their labels
