"""The credentials table: one password hash (Argon2, made by the service) per person, keyed by the
name the people table knows them by. The store owns the SQL; `Office.set_password` / `Office.login`
own the rules (who may have one, how it is hashed and checked)."""

from __future__ import annotations

from sqlalchemy import select

from decisions.store.database import Database
from decisions.store.tables import CredentialRow

__all__ = ["Credentials"]

_CREDENTIALS = CredentialRow.__table__  # type: ignore[attr-defined]


class Credentials:
    """Password hashes in one database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, name: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(_CREDENTIALS.c.hash).where(_CREDENTIALS.c.name == name)).scalar()

    def set(self, name: str, hash: str, now: str) -> None:
        with self.db.write() as conn:
            if conn.execute(select(_CREDENTIALS.c.name).where(_CREDENTIALS.c.name == name)).first():
                conn.execute(_CREDENTIALS.update().where(_CREDENTIALS.c.name == name).values(hash=hash, changed_at=now))
            else:
                conn.execute(_CREDENTIALS.insert().values(name=name, hash=hash, changed_at=now))

    def count(self) -> int:
        with self.db.read() as conn:
            return len(conn.execute(select(_CREDENTIALS.c.name)).all())
