"""Property-based stateful test of people administration (issue 17, item 5): random sequences of
adding people, granting and revoking roles, deactivating and reactivating, delegating (委托代办) and
setting passwords, each made by an administrator, by someone who is not one, by a deactivated
administrator or by the script (`system`), with valid and invalid names, roles and dates; on SQLite
and PostgreSQL.

After every step: the people history verifies (`people_findings`: chain, hashes, the people, units,
delegations and credentials tables against its replay); a refused change wrote nothing (the history's
hashes and every person unchanged); what is stored equals what this model expects (each person's roles
and whether they are active); a deactivated person cannot act (`UserService.actor` refuses) nor log in;
every entry names an administrator who was active and one at the time, or the person themselves for
their own delegation or password, or `system`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from decisions.errors import UsageError
from decisions.service.audit import people_findings
from decisions.service.office import Office
from decisions.service.users import ADMIN, SYSTEM
from decisions.store.database import Database
from tests.stores import BACKENDS, fixed_clock, new_database_url
from tests.support import V, report_count, shipped_definitions
from tests.test_properties import FAST_TMP, PROFILE, SETTINGS

DEFINITIONS = shipped_definitions()
ROLES = sorted({V("organiser"), V("legal_counsel"), V("head"), V("auditor"), V("office_clerk")})
NAMES = ["李明", "周敏", "王芳", "赵律师", "钱审计", "管理员乙"]
HOSTILE = ["", " ", "a\x00b", "\u202eevil", "x" * 200, SYSTEM]
PASSWORD = "a long enough password"
STATS: Counter[str] = Counter()
RUN = settings(SETTINGS, max_examples=6) if PROFILE == "ci" else SETTINGS  # ~40 s a backend in CI


class PeopleAdministration(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        STATS["examples"] += 1
        self.tmp = Path(tempfile.mkdtemp(prefix="decisions-people-", dir=FAST_TMP))
        self.urls: Iterator[str] = new_database_url(self.backend, self.tmp)
        self.db = Database(next(self.urls), documents=self.tmp / "documents")
        self.db.migrate()
        self.office = Office(self.db, DEFINITIONS, clock=fixed_clock)
        self.users = self.office.users
        self.model: dict[str, tuple[frozenset[str], bool]] = {}  # id -> (roles, active)
        self.passwords: set[str] = set()

    def teardown(self) -> None:
        self.db.dispose()
        self.urls.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers --------------------------------------------------------------------------------

    def _who(self, data: st.DataObject) -> str | None:
        """Who makes the change: anyone on record (an admin or not, active or not), or the script."""
        first = "管理员"  # the first administrator, most often (so that most changes can be made)
        return data.draw(st.sampled_from([None, first, first, first, *sorted(self.model)]), label="by")

    def _is_admin(self, by: str | None) -> bool:
        if by is None:
            return True
        roles, active = self.model[by]
        return active and ADMIN in roles

    def _snapshot(self) -> tuple[Any, ...]:
        return [e.hash for e in self.users.people.history()], self.users.people.all(), self.users.delegations()

    def _attempt(self, what: str, allowed: bool, change: Any) -> bool:
        """Run ``change``; a refusal must be a `UsageError` that wrote nothing. Returns accepted."""
        before = self._snapshot()
        STATS["attempts"] += 1
        try:
            change()
        except UsageError:
            STATS["refused"] += 1
            assert self._snapshot() == before, f"a refused {what} wrote something"
            return False
        assert allowed, f"{what} was accepted though its maker may not make it"
        STATS["accepted"] += 1
        STATS[f"accepted:{what}"] += 1
        return True

    # -- rules ----------------------------------------------------------------------------------

    @initialize()
    def the_first_administrator_adds_themselves(self) -> None:
        self.users.add("管理员", [], admin=True)
        self.model["管理员"] = (frozenset({ADMIN}), True)

    @rule(data=st.data())
    def add(self, data: st.DataObject) -> None:
        by = self._who(data)
        name = data.draw(st.sampled_from(NAMES * 3 + HOSTILE), label="name")
        roles = data.draw(st.lists(st.sampled_from([*ROLES, *ROLES, ADMIN, "no_such_role"]), max_size=3), label="roles")
        valid = name.strip() == name and 0 < len(name) <= 128 and name.isprintable() and name != SYSTEM
        known = set(roles) <= {*ROLES, ADMIN} and bool(roles)
        may = self._is_admin(by) and not (ADMIN in roles and by is None)
        allowed = valid and known and may and name not in self.model
        if self._attempt("add", allowed, lambda: self.users.add(name, roles, by=by)):
            self.model[name] = (frozenset(roles), True)

    @rule(data=st.data())
    def grant_or_revoke(self, data: st.DataObject) -> None:
        if not self.model:
            return
        by = self._who(data)
        person = data.draw(st.sampled_from(sorted(self.model)), label="person")
        role = data.draw(st.sampled_from([*ROLES, ADMIN]), label="role")
        roles, active = self.model[person]
        if data.draw(st.booleans(), label="grant"):
            allowed = self._is_admin(by) and role not in roles and not (role == ADMIN and by is None)
            if self._attempt("grant", allowed, lambda: self.users.grant(person, role, by=by)):
                self.model[person] = (roles | {role}, active)
        else:
            allowed = self._is_admin(by) and role in roles and len(roles) > 1
            if self._attempt("revoke", allowed, lambda: self.users.revoke(person, role, by=by)):
                self.model[person] = (roles - {role}, active)

    @rule(data=st.data())
    def deactivate_or_reactivate(self, data: st.DataObject) -> None:
        by = self._who(data)
        person = data.draw(st.sampled_from(sorted(self.model)), label="person")
        roles, active = self.model[person]
        change = self.users.deactivate if active else self.users.reactivate
        if self._attempt("deactivate" if active else "reactivate", self._is_admin(by), lambda: change(person, by=by)):
            self.model[person] = (roles, not active)

    @rule(data=st.data())
    def delegate(self, data: st.DataObject) -> None:
        giver = data.draw(st.sampled_from(sorted(self.model)), label="delegator")
        taker = data.draw(st.sampled_from(sorted(self.model)), label="delegate")
        by = data.draw(st.sampled_from([giver, giver, *sorted(self.model), None]), label="by")
        start = date(2026, 1, 1) + timedelta(days=data.draw(st.integers(0, 30), label="start"))
        until = start + timedelta(days=data.draw(st.integers(-3, 30), label="length"))
        active = self.model[giver][1]
        allowed = (
            (by == giver or self._is_admin(by))
            and giver != taker
            and active
            and self.model[taker][1]
            and until >= start
        )
        self._attempt("delegate", allowed, lambda: self.users.delegate(giver, taker, None, start, until, by=by))

    @rule(data=st.data())
    def set_password(self, data: st.DataObject) -> None:
        person = data.draw(st.sampled_from(sorted(self.model)), label="person")
        by = data.draw(st.sampled_from([person, *sorted(self.model), None]), label="by")
        password = data.draw(st.sampled_from([PASSWORD, "short"]), label="password")
        allowed = password == PASSWORD and (by is None or by == person or self._is_admin(by))
        change = lambda: self.office.logins.set_password(person, password, by=by)  # noqa: E731
        if self._attempt("set_password", allowed, change):
            self.passwords.add(person)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def the_history_verifies_and_the_model_agrees(self) -> None:
        findings = people_findings(
            self.users.people, self.office.cases.repository.hash, self.office.cases.store.credentials
        )
        assert not findings, [str(f) for f in findings[:5]]
        stored = {p.id: (frozenset(p.roles), p.active) for p in self.users.people.all()}
        assert stored == self.model
        for pid, (_roles, active) in self.model.items():
            if not active:
                with pytest.raises(UsageError, match="deactivated"):
                    self.users.actor(pid)
                if pid in self.passwords:
                    with pytest.raises(UsageError):
                        self.office.login(pid, PASSWORD, client=f"property-{pid}")
        STATS["checks"] += 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_people_administration_keeps_its_history_and_its_rules(backend: str, tmp_path: Path) -> None:
    probe = new_database_url(backend, tmp_path)
    next(probe)
    probe.close()
    machine = type(f"PeopleAdministration_{backend}", (PeopleAdministration,), {"backend": backend})
    before = Counter(STATS)
    run_state_machine_as_test(machine, settings=RUN)
    ran = Counter(STATS)
    ran.subtract(before)
    report_count(
        f"[test_properties_people/{backend}] profile={PROFILE}: {ran['examples']} examples, {ran['attempts']} "
        f"changes, {ran['accepted']} accepted, {ran['refused']} refused, {ran['checks']} invariant checks; "
        + ", ".join(f"{k.split(':')[1]}×{n}" for k, n in sorted(ran.items()) if k.startswith("accepted:"))
    )
    assert ran["accepted"] > 0 and ran["refused"] > 0 and ran["checks"] > 0
