"""Passwords are people history (issue 17, item 5): setting or changing a password is an entry of
the hash-chained people history carrying the digest of the stored credential (never the password),
written in one transaction with the credentials row, so `audit verify` reports a credential row
edited, deleted or inserted behind the office. On SQLite and PostgreSQL, and the in-memory store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from decisions.definitions import Definitions
from decisions.errors import UsageError
from decisions.service.office import Office
from decisions.store.database import Database
from decisions.store.memory import memory_store
from decisions.store.people_history import credential_digest
from tests.stores import BACKENDS, fixed_clock, new_database_url

ADMIN = "管理员"
PASSWORD = "correct horse battery"


@pytest.fixture(params=BACKENDS)
def office(request: pytest.FixtureRequest, tmp_path: Path, definitions: Definitions) -> Iterator[Office]:
    """An administrator and a clerk whose id differs from their display name."""
    for url in new_database_url(request.param, tmp_path):
        db = Database(url, documents=tmp_path / "documents")
        db.migrate()
        here = Office(db, definitions, clock=fixed_clock)
        here.users.add(ADMIN, [], admin=True)
        here.users.add("李明", ["organiser"], by=ADMIN, user_id="liming")
        try:
            yield here
        finally:
            db.dispose()


def _db(office: Office) -> Database:
    db = office.cases.db
    assert isinstance(db, Database)
    return db


def _credential_findings(office: Office) -> list[str]:
    report = office.audit.verify()
    return [f"{f.kind}: {f.message} @ {f.location}" for f in report.findings]


def test_a_password_set_is_an_entry_of_the_people_history_with_the_credential_digest(office: Office) -> None:
    office.set_password("liming", PASSWORD)
    office.set_password("liming", PASSWORD + "!")  # a change is an entry of its own
    entries = [c for c in office.users.history("liming") if c.kind == "credential_set"]
    assert [(c.person, c.by) for c in entries] == [("liming", "system"), ("liming", "system")]
    stored = office.cases.store.credentials
    assert stored is not None
    current = stored.get("liming") or ""
    assert current.startswith("$argon2id$")
    assert entries[-1].details == {"credential": credential_digest(current)}
    assert entries[0].details != entries[-1].details
    with _db(office).read() as conn:
        bodies = [r[0] for r in conn.execute(text("SELECT body FROM people_history"))]
    assert not any(PASSWORD in body for body in bodies)  # never the password
    assert all(json.loads(b)["kind"] != "credential_set" or "credential" in json.loads(b) for b in bodies)
    assert office.audit.verify().ok
    assert office.login("liming", PASSWORD + "!").id == "liming"  # keyed by the id the login names


def test_an_edited_credential_row_is_reported_by_verify(office: Office) -> None:
    office.set_password("liming", PASSWORD)
    forged = PasswordHasher().hash("the forger's password")
    with _db(office).write() as conn:
        conn.execute(text("UPDATE credentials SET hash = :h WHERE name = 'liming'"), {"h": forged})
    assert _credential_findings(office) == [
        "credential: the password of 'liming' does not match the digest its people-history entry records: "
        "the row was edited @ credentials['liming'].hash"
    ]


def test_a_deleted_credential_row_is_reported_by_verify(office: Office) -> None:
    office.set_password("liming", PASSWORD)
    with _db(office).write() as conn:
        conn.execute(text("DELETE FROM credentials"))
    assert [f.split(":")[0] for f in _credential_findings(office)] == ["credential"]
    assert "missing" in _credential_findings(office)[0]


def test_a_credential_row_inserted_behind_the_office_is_reported_by_verify(office: Office) -> None:
    """Someone who can write to the database gives themselves a way in as the administrator."""
    forged = PasswordHasher().hash("the forger's password")
    with _db(office).write() as conn:
        conn.execute(
            text("INSERT INTO credentials (name, hash, changed_at) VALUES (:n, :h, 'x')"), {"n": ADMIN, "h": forged}
        )
    findings = _credential_findings(office)
    assert len(findings) == 1 and "has no entry in the people history" in findings[0], findings


def test_a_refused_password_writes_nothing(office: Office) -> None:
    before = [c.seq for c in office.users.history()]
    with pytest.raises(UsageError, match="10"):
        office.set_password("liming", "short")
    with pytest.raises(UsageError, match="unknown user"):
        office.set_password("nobody", PASSWORD)
    assert [c.seq for c in office.users.history()] == before
    assert office.cases.store.credentials is not None and office.cases.store.credentials.count() == 0


def test_a_password_is_set_by_the_person_or_an_administrator_and_recorded_as_theirs(office: Office) -> None:
    office.logins.set_password("liming", PASSWORD, by="liming")
    office.logins.set_password("liming", PASSWORD, by=ADMIN)
    office.users.add("周敏", ["organiser"], by=ADMIN, user_id="zhoumin")
    with pytest.raises(UsageError, match="not an active people administrator"):
        office.logins.set_password("liming", PASSWORD, by="zhoumin")
    assert [c.by for c in office.users.history("liming") if c.kind == "credential_set"] == ["liming", ADMIN]


def test_the_in_memory_store_chains_passwords_alike(definitions: Definitions) -> None:
    office = Office(memory_store(), definitions, clock=fixed_clock)
    office.users.add(ADMIN, [], admin=True)
    office.set_password(ADMIN, PASSWORD)
    assert office.audit.verify().ok
    assert [c.kind for c in office.users.history()][-1] == "credential_set"
    assert office.login(ADMIN, PASSWORD).id == ADMIN
