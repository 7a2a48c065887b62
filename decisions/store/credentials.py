"""The credentials table: one password hash (Argon2, made by the service) per person, keyed by
their id in the people table. A credential is written only with the people-history entry that
records it (`write_credential`, called in `People.record`'s transaction; the entry carries the
hash's digest), so verification compares this table with the history. The store owns the SQL;
`Office.set_password` / `Office.login` own the rules (who may have one, how it is hashed and checked)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from decisions.store.database import Database
from decisions.store.tables import CredentialRow

__all__ = ["Credentials", "write_credential"]

_CREDENTIALS = CredentialRow.__table__  # type: ignore[attr-defined]


def write_credential(conn: Connection, name: str, hash: str, now: str) -> None:
    """Insert or replace ``name``'s credential inside the caller's transaction."""
    if conn.execute(select(_CREDENTIALS.c.name).where(_CREDENTIALS.c.name == name)).first():
        conn.execute(_CREDENTIALS.update().where(_CREDENTIALS.c.name == name).values(hash=hash, changed_at=now))
    else:
        conn.execute(_CREDENTIALS.insert().values(name=name, hash=hash, changed_at=now))


class Credentials:
    """Password hashes in one database (read here; written with their people-history entry)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, name: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(_CREDENTIALS.c.hash).where(_CREDENTIALS.c.name == name)).scalar()

    def all(self) -> dict[str, str]:
        """Every stored hash by person id (what verification compares with the people history)."""
        with self.db.read() as conn:
            rows = conn.execute(select(_CREDENTIALS.c.name, _CREDENTIALS.c.hash).order_by(_CREDENTIALS.c.name))
            return {r.name: r.hash for r in rows}

    def count(self) -> int:
        with self.db.read() as conn:
            return len(conn.execute(select(_CREDENTIALS.c.name)).all())
