"""People and their roles. Every action names its actor; the roles an actor held when acting are
written into the event itself, so a later change of roles never rewrites what happened."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from decisions.audit import canonical_text
from decisions.errors import UsageError, shown
from decisions.model import Actor, Text
from decisions.service.cases import Clock, utc_now
from decisions.store.interface import PeopleStore
from decisions.store.people import StoredPerson

__all__ = ["User", "UserService"]

MAX_NAME = 128


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[str, ...]
    unit: str
    active: bool

    def actor(self) -> Actor:
        return Actor(self.name, frozenset(self.roles), self.unit or None)


def _user(person: StoredPerson) -> User:
    return User(person.name, person.roles, person.unit, person.active)


def _is_name(text: str) -> bool:
    return 0 < len(text) <= MAX_NAME and all(c.isprintable() for c in text)


def _check_name(name: str, what: str) -> str:
    cleaned = name.strip()
    if not _is_name(cleaned):
        raise UsageError(f"无效的{what} / invalid {what}: {shown(name)} (1-{MAX_NAME} printable characters)")
    return cleaned


class UserService:
    """Adds, lists and deactivates users; resolves a name to the actor who acts."""

    def __init__(self, people: PeopleStore, roles: Mapping[str, Text], *, clock: Clock = utc_now) -> None:
        self.people = people
        self.roles = roles
        self.clock = clock
        # The people this service last read, by name: what an action is prepared with. A write that
        # acts as one confirms them in its own transaction (`CaseService.act(confirm_actor=True)`),
        # so a change made elsewhere is never acted on: the write is refused and they are read again.
        self._held: dict[str, User] = {}

    def _now(self) -> str:
        return canonical_text(self.clock()).strip('"')

    def add(self, name: str, roles: list[str], unit: str = "") -> User:
        name = _check_name(name, "姓名 name")
        unit = _check_name(unit, "单位 unit") if unit else ""
        if not roles:
            raise UsageError("至少需要一个角色 / at least one --role is required")
        unknown = sorted(set(roles) - set(self.roles))
        if unknown:
            raise UsageError(
                f"未知角色 / unknown role {', '.join(shown(r) for r in unknown[:5])} "
                f"(known: {', '.join(sorted(self.roles))})"
            )
        granted = tuple(sorted(set(roles)))
        if not self.people.add(name, granted, unit, self._now()):
            raise UsageError(f"用户已存在 / user {shown(name)} already exists")
        return User(name, granted, unit, True)

    def list(self) -> list[User]:
        return [_user(p) for p in self.people.all()]

    def get(self, name: str) -> User:
        # a name that cannot exist is never handed to the driver (it may not be able to encode it)
        row = self.people.get(name) if _is_name(name) else None
        if row is None:
            self._held.pop(name, None)
            raise UsageError(f"未知用户 / unknown user {shown(name)} (add with: decisions user add NAME --role ROLE)")
        user = self._held[name] = _user(row)
        return user

    def deactivate(self, name: str) -> User:
        user = self.get(name)
        self.people.set_active(user.name, False, self._now())
        self._held.pop(user.name, None)
        return User(user.name, user.roles, user.unit, False)

    def actor(self, name: str | None, *, held: bool = False) -> Actor:
        """The active user acting as ``name``; unknown, missing or deactivated names are refused.
        With ``held``, as this service last read them, if it has (for a write that confirms them)."""
        if not name:
            raise UsageError(
                "请用 --as 姓名 或 DECISIONS_USER 指明操作人 / name the actor with --as NAME or DECISIONS_USER"
            )
        user = self._held.get(name) if held else None
        user = user or self.get(name)
        if not user.active:
            raise UsageError(f"用户已停用 / user {shown(name)} is deactivated")
        return user.actor()
