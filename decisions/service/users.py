"""People, their roles and units, and delegations: the rules of people administration. Every
change is an entry of the hash-chained people history (`decisions.store.people_history`) naming
who made it and when; the people table is its projection. Every action names its actor by id; the
roles an actor held when acting are written into the event itself, so a later change of roles
never rewrites what happened.

Who administers: a person holding the `ADMIN` role (人员管理员; a role of people administration,
not of any workflow). The very first one adds themselves on an empty history (``add(...,
admin=True)``, ``decisions user add --admin``). A script using the Python API without naming an
administrator (``by=None``) is recorded as `SYSTEM`, and may name a unit not yet on the list (it is
then added, recorded as its own entry); through the CLI an administrator always names themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from decisions.audit import canonical_text
from decisions.errors import DuplicateKeyError, UsageError, shown
from decisions.model import Actor, Text
from decisions.service.cases import Clock, utc_now
from decisions.store.interface import PeopleStore
from decisions.store.people_history import (
    PEOPLE_FORMAT,
    PeopleEntry,
    PeopleRows,
    Projection,
    StoredDelegation,
    StoredPerson,
    apply_entry,
    credential_digest,
)

__all__ = ["ADMIN", "ADMIN_LABEL", "SYSTEM", "PeopleChange", "User", "UserService"]

MAX_NAME = 128
ADMIN = "admin"
ADMIN_LABEL = Text("人员管理员", "people administrator")
SYSTEM = "system"  # who a script of the office is recorded as when it names no administrator
RESERVED = frozenset({SYSTEM, "migration"})  # actors of the history that are nobody's id


@dataclass(frozen=True)
class User:
    """A person: ``id`` is what histories name, ``name`` is shown (two people may share it)."""

    id: str
    name: str
    roles: tuple[str, ...]
    unit: str
    active: bool

    def actor(self, delegated: Mapping[str, str] | None = None) -> Actor:
        """The actor they act as; ``delegated`` maps each role held for someone else to that person."""
        extra = {r: p for r, p in (delegated or {}).items() if r not in self.roles}
        roles = frozenset(self.roles) | frozenset(extra)
        return Actor(self.id, roles, self.unit or None, tuple(sorted(extra.items())))

    def shown(self) -> str:
        """The name, with the id when it differs."""
        return self.name if self.name == self.id else f"{self.name} ({self.id})"


@dataclass(frozen=True)
class PeopleChange:
    """One entry of the people history as shown: what changed, about whom, by whom, when."""

    seq: int
    kind: str
    person: str
    by: str
    at: str
    details: Mapping[str, Any]
    hash: str


def _admins_by_admins() -> UsageError:
    return UsageError(
        "人员记录已非空，管理员须由人员管理员添加 / people are already on record: only an administrator makes "
        "another (--as ADMIN)"
    )


def _user(person: StoredPerson) -> User:
    return User(person.id, person.name, person.roles, person.unit, person.active)


def _is_name(text: str) -> bool:
    return 0 < len(text) <= MAX_NAME and all(c.isprintable() for c in text)


def _check_name(name: str, what: str) -> str:
    cleaned = name.strip()
    if not _is_name(cleaned):
        raise UsageError(f"无效的{what} / invalid {what}: {shown(name)} (1-{MAX_NAME} printable characters)")
    return cleaned


class UserService:
    """Administers people, units and delegations; resolves ``--as`` to the actor who acts."""

    def __init__(self, people: PeopleStore, roles: Mapping[str, Text], *, clock: Clock = utc_now) -> None:
        self.people = people
        self.roles = {**roles, ADMIN: ADMIN_LABEL}
        self.clock = clock
        # The people this service last read, by what named them: what an action is prepared with. A
        # write that acts as one confirms them in its own transaction (`CaseService.act(confirm_actor=True)`),
        # so a change made elsewhere is never acted on: the write is refused and they are read again.
        self._held: dict[str, User] = {}
        # people held with no delegation to them: a stale "none" can only refuse an action, and a refused
        # action reads the person again (`Office._as_actor`); a held delegation is never trusted
        self._undelegated: set[str] = set()

    def _now(self) -> str:
        return canonical_text(self.clock()).strip('"')

    # -- recording ------------------------------------------------------------------------------

    def _record(self, kind: str, person: str, by: str, rows: PeopleRows | None = None, **details: Any) -> PeopleEntry:
        body = {"format": PEOPLE_FORMAT, "kind": kind, "person": person, "by": by, "at": self._now(), **details}
        if rows is None:
            current = self.people.get(person)
            state = Projection(people={} if current is None else {person: current})
            rows = apply_entry(state, body)
        entry = self.people.record(body, rows)
        self._held.clear()
        self._undelegated.clear()
        return entry

    def _admin(self, by: str | None) -> str:
        """The id of the administrator ``by`` names (`SYSTEM` for None); refused unless an active admin."""
        if by is None:
            return SYSTEM
        user = self.resolve(by)
        if not user.active or ADMIN not in user.roles:
            raise UsageError(
                f"{shown(user.shown())} 不是在用的人员管理员 / {shown(user.shown())} is not an active people "
                f"administrator (role {ADMIN}); ask one to do this"
            )
        return user.id

    def _check_roles(self, roles: list[str]) -> tuple[str, ...]:
        unknown = sorted(set(roles) - set(self.roles))
        if unknown:
            raise UsageError(
                f"未知角色 / unknown role {', '.join(shown(r) for r in unknown[:5])} "
                f"(known: {', '.join(sorted(self.roles))})"
            )
        return tuple(sorted(set(roles)))

    def _check_unit(self, unit: str, by: str) -> str:
        unit = _check_name(unit, "单位 unit")
        if unit not in self.people.units():
            if by != SYSTEM:
                known = ", ".join(sorted(self.people.units())) or "—"
                raise UsageError(
                    f"未知单位 / unknown unit {shown(unit)} (known: {known}; add it with: decisions unit add "
                    f"{shown(unit)} --as ADMIN)"
                )
            self.add_unit(unit)
        return unit

    def add(
        self,
        name: str,
        roles: list[str],
        unit: str = "",
        *,
        by: str | None = None,
        user_id: str | None = None,
        admin: bool = False,
    ) -> User:
        """Add a person (id ``user_id``, by default their name). ``admin`` grants the `ADMIN` role;
        on an empty history that needs no administrator: they add themselves (bootstrap)."""
        name = _check_name(name, "姓名 name")
        pid = _check_name(user_id, "编号 id") if user_id is not None else name
        if pid in RESERVED:
            raise UsageError(f"编号 {pid} 为系统保留 / the id {pid} is reserved for the system; choose another (--id)")
        granted = self._check_roles([*roles, *([ADMIN] if admin else [])])
        if not granted:
            raise UsageError("至少需要一个角色 / at least one --role (or --admin) is required")
        first = admin and self.people.is_empty()
        if ADMIN in granted and not first and by is None:
            raise _admins_by_admins()
        actor = pid if first else self._admin(by)
        namesakes = self.people.named(name)
        if user_id is None and namesakes:
            raise UsageError(
                f"已有同名人员 / someone is already called {shown(name)} "
                f"({', '.join(shown(p.id) for p in namesakes)}); give the new person an id of their own (--id)"
            )
        if self.people.get(pid) is not None:
            raise UsageError(f"用户已存在 / user {shown(pid)} already exists")
        unit = self._check_unit(unit, actor) if unit else ""
        body = {"format": PEOPLE_FORMAT, "kind": "person_added", "person": pid, "by": actor, "at": self._now()}
        body |= {"name": name, "roles": list(granted), "unit": unit}
        person = StoredPerson(pid, name, granted, unit, True)
        try:
            self.people.record(body, PeopleRows(people=(person,), new_person=True), first=first)
        except DuplicateKeyError as exc:
            if first:
                raise UsageError(
                    "人员记录已非空，请由人员管理员添加 / people are already on record: an administrator adds "
                    "people (--as ADMIN)"
                ) from exc
            raise UsageError(f"用户已存在 / user {shown(pid)} already exists") from exc
        self._held.clear()
        self._undelegated.clear()
        return _user(person)

    def add_unit(self, unit: str, *, by: str | None = None) -> str:
        """Add a unit (单位) to the list people's units are chosen from."""
        actor = self._admin(by)
        unit = _check_name(unit, "单位 unit")
        if unit in self.people.units():
            raise UsageError(f"单位已存在 / unit {shown(unit)} already exists")
        body = {"format": PEOPLE_FORMAT, "kind": "unit_added", "person": "", "by": actor, "at": self._now()}
        try:
            self.people.record({**body, "unit": unit}, PeopleRows(units=(unit,)))
        except DuplicateKeyError as exc:
            raise UsageError(f"单位已存在 / unit {shown(unit)} already exists") from exc
        return unit

    def units(self) -> list[str]:
        """The units on the list, in code-point order (the same on every database)."""
        return sorted(self.people.units())

    def grant(self, person: str, role: str, *, by: str | None = None) -> User:
        """Grant ``role`` to ``person``."""
        actor, user = self._admin(by), self.resolve(person)
        (role,) = self._check_roles([role])
        if role == ADMIN and by is None:
            raise _admins_by_admins()
        if role in user.roles:
            raise UsageError(f"{shown(user.shown())} 已有角色 {role} / already holds the role {role}")
        self._record("role_granted", user.id, actor, role=role)
        return self.get(user.id)

    def revoke(self, person: str, role: str, *, by: str | None = None) -> User:
        """Revoke ``role`` from ``person`` (what they did in it stays theirs)."""
        actor, user = self._admin(by), self.resolve(person)
        if role not in user.roles:
            raise UsageError(
                f"{shown(user.shown())} 没有角色 {shown(role)} / does not hold the role {shown(role)} "
                f"(holds: {', '.join(user.roles)})"
            )
        if len(user.roles) == 1:
            raise UsageError(
                f"{shown(user.shown())} 仅有此角色，请改为停用 / {role} is their only role: deactivate them instead"
            )
        self._record("role_revoked", user.id, actor, role=role)
        return self.get(user.id)

    def set_unit(self, person: str, unit: str, *, by: str | None = None) -> User:
        """Move ``person`` to ``unit``."""
        actor, user = self._admin(by), self.resolve(person)
        unit = self._check_unit(unit, actor)
        if unit == user.unit:
            raise UsageError(f"{shown(user.shown())} 已在 {shown(unit)} / is already in {shown(unit)}")
        self._record("unit_changed", user.id, actor, unit=unit)
        return self.get(user.id)

    def deactivate(self, person: str, *, by: str | None = None) -> User:
        """Deactivate ``person``: they can no longer act; their history stays."""
        actor, user = self._admin(by), self.resolve(person)
        if not user.active:
            raise UsageError(f"用户已停用 / user {shown(user.shown())} is already deactivated")
        self._record("deactivated", user.id, actor)
        return self.get(user.id)

    def reactivate(self, person: str, *, by: str | None = None) -> User:
        """Let a deactivated ``person`` act again."""
        actor, user = self._admin(by), self.resolve(person)
        if user.active:
            raise UsageError(f"用户在用 / user {shown(user.shown())} is active")
        self._record("reactivated", user.id, actor)
        return self.get(user.id)

    # -- credentials ----------------------------------------------------------------------------

    def set_credential(self, person: str, stored_hash: str, *, by: str | None = None) -> User:
        """Record ``person``'s new password hash (made by `LoginService`): an entry of the people
        history carrying its digest, and the credentials row, in one transaction. Set by the person
        themselves, an administrator, or (``by=None``) the office's operator (`SYSTEM`)."""
        user = self.get(person)
        actor = self._by_self_or_admin(by, user) if by is not None else SYSTEM
        body = {"format": PEOPLE_FORMAT, "kind": "credential_set", "person": user.id, "by": actor, "at": self._now()}
        body["credential"] = credential_digest(stored_hash)
        self.people.record(body, PeopleRows(credential=(user.id, stored_hash)))
        return user

    # -- delegation (委托代办) --------------------------------------------------------------------

    def delegate(
        self, delegator: str, delegate: str, role: str | None, start: date, until: date, *, by: str | None = None
    ) -> StoredDelegation:
        """Let ``delegate`` act for ``delegator`` in ``role`` (None: every role the delegator holds)
        from ``start`` to ``until`` inclusive. Granted by the delegator themselves or an administrator."""
        giver, taker = self.resolve(delegator), self.resolve(delegate)
        actor = self._by_self_or_admin(by, giver)
        if giver.id == taker.id:
            raise UsageError("不能委托给本人 / a person cannot delegate to themselves")
        if not (giver.active and taker.active):
            raise UsageError("委托双方须为在用人员 / both people must be active")
        if role is not None and role not in giver.roles:
            raise UsageError(
                f"{shown(giver.shown())} 没有角色 {shown(role)} / does not hold the role {shown(role)} "
                f"(holds: {', '.join(giver.roles)})"
            )
        if until < start:
            raise UsageError(f"委托期限起止颠倒 / the delegation ends ({until}) before it starts ({start})")
        entry = self._record(
            "delegation_granted",
            giver.id,
            actor,
            to=taker.id,
            role=role or "",
            start=start.isoformat(),
            until=until.isoformat(),
        )
        return next(d for d in self.people.delegations(taker.id) if d.seq == entry.seq)

    def end_delegation(self, seq: int, on: date, *, by: str | None = None) -> StoredDelegation:
        """End delegation ``seq`` from ``on`` (the delegate may no longer act for the delegator that day)."""
        found = next((d for d in self.people.delegations() if d.seq == seq), None)
        if found is None:
            raise UsageError(f"未知委托 / no delegation #{seq} (see: decisions user history)")
        actor = self._by_self_or_admin(by, self.get(found.delegator))
        if found.ended:
            raise UsageError(f"委托 #{seq} 已于 {found.ended} 结束 / delegation #{seq} ended on {found.ended}")
        body = {"format": PEOPLE_FORMAT, "kind": "delegation_ended", "person": found.delegator, "by": actor}
        body |= {"at": self._now(), "delegation": seq, "to": found.delegate, "on": on.isoformat()}
        state = Projection(delegations={seq: found})
        self.people.record(body, apply_entry(state, body))
        self._held.clear()
        self._undelegated.clear()
        return state.delegations[seq]

    def _by_self_or_admin(self, by: str | None, person: User) -> str:
        if by is not None and self.resolve(by).id == person.id:
            return person.id
        return self._admin(by)

    def delegations(self, person: str | None = None) -> list[StoredDelegation]:
        """Every delegation, or those from or to ``person``."""
        if person is None:
            return self.people.delegations()
        pid = self.resolve(person).id
        return [d for d in self.people.delegations() if pid in (d.delegator, d.delegate)]

    # -- reading --------------------------------------------------------------------------------

    def history(self, person: str | None = None) -> list[PeopleChange]:
        """The people history (about ``person``, or made by them, when given), oldest first."""
        pid = None if person is None else self.resolve(person).id
        out = []
        for e in self.people.history():
            body = json.loads(e.body)
            if pid is None or pid in (e.person, e.actor, body.get("to")):
                details = {k: v for k, v in body.items() if k not in ("format", "seq", "kind", "person", "by", "at")}
                out.append(PeopleChange(e.seq, e.kind, e.person, e.actor, e.at, details, e.hash))
        return out

    def get(self, person_id: str) -> User:
        """The person whose id is ``person_id``."""
        row = self.people.get(person_id) if _is_name(person_id) else None
        if row is None:
            raise UsageError(
                f"未知用户 / unknown user {shown(person_id)} (add with: decisions user add NAME --role ROLE)"
            )
        return _user(row)

    def resolve(self, text: str) -> User:
        """The person ``text`` names: their id, else their display name when only one person has it."""
        # a name that cannot exist is never handed to the driver (it may not be able to encode it)
        row = self.people.get(text) if _is_name(text) else None
        if row is not None:
            return _user(row)
        namesakes = self.people.named(text) if _is_name(text) else []
        if len(namesakes) > 1:
            candidates = ", ".join(f"{p.id} ({p.unit or '—'})" for p in namesakes)
            raise UsageError(
                f"同名人员不止一位，请用编号 / several people are called {shown(text)}: use one's id: {candidates}"
            )
        if not namesakes:
            raise UsageError(f"未知用户 / unknown user {shown(text)} (add with: decisions user add NAME --role ROLE)")
        return _user(namesakes[0])

    def actor(self, name: str | None, *, held: bool = False, on: date | None = None) -> Actor:
        """The active user acting as ``name``, with the roles delegated to them in force ``on`` (a day;
        None: none); unknown, missing, ambiguous or deactivated names are refused. With ``held``,
        as this service last read them, if it has (for a write that confirms them)."""
        if not name:
            raise UsageError(
                "请用 --as 姓名 或 DECISIONS_USER 指明操作人 / name the actor with --as NAME or DECISIONS_USER"
            )
        user = self._held.get(name) if held else None
        if user is None:
            user = self._held[name] = self.resolve(name)
            self._undelegated.discard(user.id)
        if not user.active:
            raise UsageError(f"用户已停用 / user {shown(user.shown())} is deactivated")
        delegated: dict[str, str] = {}
        if on is not None and not (held and user.id in self._undelegated):
            found = self.people.delegations(user.id)
            if not found:
                self._undelegated.add(user.id)
            for d in found:
                giver = self.people.get(d.delegator)
                if giver is None or not giver.active or not d.in_force(on.isoformat()):
                    continue
                for role in [d.role] if d.role else giver.roles:
                    if role in giver.roles and role != ADMIN:
                        delegated.setdefault(role, giver.id)
        return user.actor(delegated)

    def list(self) -> list[User]:  # last: the name shadows the builtin in the annotations above
        """Everyone, by id."""
        return [_user(p) for p in self.people.all()]

    # -- for the administration pages (after `list`: see its note) ------------------------------

    def may_administer(self, person: str) -> bool:
        """Whether ``person`` (an id or unique name) is an active people administrator."""
        try:
            user = self.resolve(person)
        except UsageError:
            return False
        return user.active and ADMIN in user.roles

    def check_admin(self, by: str) -> str:
        """The id of the active administrator ``by`` names; refused (as every change here is) otherwise."""
        return self._admin(by)
