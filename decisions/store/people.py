"""The people table: who may act, in which roles and unit. Rows are deactivated, never deleted, so
every name in every history stays resolvable. The store owns the SQL; `decisions.service.users`
owns the rules (valid names, known roles)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from decisions.errors import DuplicateKeyError
from decisions.store.database import Database
from decisions.store.tables import UserRow

__all__ = ["People", "StoredPerson", "stored_person"]

_USERS = UserRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredPerson:
    """One row of the people table."""

    name: str
    roles: tuple[str, ...]
    unit: str
    active: bool


def stored_person(row: Any) -> StoredPerson:
    """A row of the people table as a `StoredPerson`."""
    return StoredPerson(row.name, tuple(r for r in str(row.roles).split(",") if r), row.unit, bool(row.active))


class People:
    """People in one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, name: str, roles: tuple[str, ...], unit: str, now: str) -> bool:
        """Insert a person; False (nothing written) when the name is taken."""
        try:
            with self.db.write() as conn:
                if conn.execute(select(_USERS.c.name).where(_USERS.c.name == name)).first():
                    return False
                conn.execute(
                    _USERS.insert().values(
                        name=name, roles=",".join(roles), unit=unit, active=True, added_at=now, changed_at=now
                    )
                )
        except DuplicateKeyError:  # added by someone else between the check and the insert
            return False
        return True

    def all(self) -> list[StoredPerson]:
        with self.db.read() as conn:
            return [stored_person(r) for r in conn.execute(select(_USERS).order_by(_USERS.c.name))]

    def get(self, name: str) -> StoredPerson | None:
        with self.db.read() as conn:
            row = conn.execute(select(_USERS).where(_USERS.c.name == name)).first()
        return None if row is None else stored_person(row)

    def set_active(self, name: str, active: bool, now: str) -> None:
        with self.db.write() as conn:
            conn.execute(_USERS.update().where(_USERS.c.name == name).values(active=active, changed_at=now))
