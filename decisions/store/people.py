"""The people tables: the administration history (`people_history`, hash-chained) and its
projection (who may act, in which roles and unit: `users`; `units`; `delegations`). Rows are
deactivated, never deleted, so every id in every history stays resolvable. The store owns the
SQL; `decisions.service.users` owns the rules (valid names, known roles, who may administer);
`decisions.store.people_history` the entry format and the projection an entry implies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, select

from decisions.audit import GENESIS, Hasher
from decisions.errors import DuplicateKeyError
from decisions.store.credentials import write_credential
from decisions.store.database import Database
from decisions.store.people_history import PeopleEntry, PeopleRows, StoredDelegation, StoredPerson, chained_entry
from decisions.store.tables import DelegationRow, PeopleEntryRow, UnitRow, UserRow

__all__ = ["People", "StoredPerson", "stored_person"]

_USERS = UserRow.__table__  # type: ignore[attr-defined]
_HISTORY = PeopleEntryRow.__table__  # type: ignore[attr-defined]
_UNITS = UnitRow.__table__  # type: ignore[attr-defined]
_DELEGATIONS = DelegationRow.__table__  # type: ignore[attr-defined]
_RETRIES = 20  # concurrent writers of the one people chain: the loser of a seq takes the next


def stored_person(row: Any) -> StoredPerson:
    """A row of the people table as a `StoredPerson`."""
    roles = tuple(r for r in str(row.roles).split(",") if r)
    return StoredPerson(row.id, row.name, roles, row.unit, bool(row.active))


def _delegation(row: Any) -> StoredDelegation:
    return StoredDelegation(row.seq, row.delegator, row.delegate, row.role, row.start, row.until, row.ended)


def _person_values(p: StoredPerson) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "roles": ",".join(p.roles), "unit": p.unit, "active": p.active}


class People:
    """People in one database."""

    def __init__(self, db: Database, hash_: Hasher) -> None:
        self.db = db
        self.hash = hash_

    # -- writing --------------------------------------------------------------------------------

    def record(self, body: Mapping[str, Any], rows: PeopleRows, *, first: bool = False) -> PeopleEntry:
        """Append ``body`` (its ``seq`` is set here) to the people history and write ``rows``, in
        one transaction. Raises `DuplicateKeyError`, writing nothing, when a new person's id is
        taken, a unit exists, or (``first``) the history is no longer empty."""
        for tries in range(_RETRIES):
            try:
                with self.db.write() as conn:
                    return self._record(conn, body, rows, first)
            except DuplicateKeyError:
                if tries == _RETRIES - 1 or not self._seq_was_taken(body, rows, first):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _seq_was_taken(self, body: Mapping[str, Any], rows: PeopleRows, first: bool) -> bool:
        """Whether a duplicate key came from another writer taking the next seq (retry), not from
        the rows (refuse)."""
        if first:
            return False
        with self.db.read() as conn:
            if rows.new_person and conn.execute(select(_USERS.c.id).where(_USERS.c.id == body["person"])).first():
                return False
            return not any(conn.execute(select(_UNITS.c.name).where(_UNITS.c.name == u)).first() for u in rows.units)

    def _record(self, conn: Connection, body: Mapping[str, Any], rows: PeopleRows, first: bool) -> PeopleEntry:
        last = conn.execute(select(_HISTORY.c.seq, _HISTORY.c.hash).order_by(_HISTORY.c.seq.desc()).limit(1)).first()
        if first and last is not None:
            raise DuplicateKeyError("the people history is not empty")
        seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
        entry = chained_entry(self.hash, {**body, "seq": seq}, prev)
        conn.execute(_HISTORY.insert().values(**entry.__dict__))
        for person in rows.people:
            values = _person_values(person)
            if rows.new_person:
                conn.execute(_USERS.insert().values(**values, added_at=entry.at, changed_at=entry.at))
            else:
                conn.execute(_USERS.update().where(_USERS.c.id == person.id).values(**values, changed_at=entry.at))
        for unit in rows.units:
            conn.execute(_UNITS.insert().values(name=unit, added_at=entry.at))
        for d in rows.delegations:
            values = {**d.__dict__, "seq": d.seq or seq}
            if d.seq == 0:
                conn.execute(_DELEGATIONS.insert().values(**values))
            else:
                conn.execute(_DELEGATIONS.update().where(_DELEGATIONS.c.seq == d.seq).values(**values))
        if rows.credential is not None:
            write_credential(conn, *rows.credential, entry.at)
        return entry

    # -- reading --------------------------------------------------------------------------------

    def all(self) -> list[StoredPerson]:
        with self.db.read() as conn:
            return [stored_person(r) for r in conn.execute(select(_USERS).order_by(_USERS.c.id))]

    def get(self, person_id: str) -> StoredPerson | None:
        with self.db.read() as conn:
            row = conn.execute(select(_USERS).where(_USERS.c.id == person_id)).first()
        return None if row is None else stored_person(row)

    def named(self, name: str) -> list[StoredPerson]:
        """Everyone whose display name is ``name``."""
        with self.db.read() as conn:
            rows = conn.execute(select(_USERS).where(_USERS.c.name == name).order_by(_USERS.c.id))
            return [stored_person(r) for r in rows]

    def units(self) -> dict[str, str]:
        """Every unit, with when it was added."""
        with self.db.read() as conn:
            return {r.name: r.added_at for r in conn.execute(select(_UNITS).order_by(_UNITS.c.name))}

    def delegations(self, delegate: str | None = None) -> list[StoredDelegation]:
        """Every delegation (to ``delegate``, when given), in the order they were granted."""
        query = select(_DELEGATIONS).order_by(_DELEGATIONS.c.seq)
        if delegate is not None:
            query = query.where(_DELEGATIONS.c.delegate == delegate)
        with self.db.read() as conn:
            return [_delegation(r) for r in conn.execute(query)]

    def history(self, batch: int = 2000) -> Iterator[PeopleEntry]:
        """Every entry in order (a read transaction per batch)."""
        after = 0
        while True:
            with self.db.read() as conn:
                query = select(_HISTORY).where(_HISTORY.c.seq > after).order_by(_HISTORY.c.seq).limit(batch)
                page = [PeopleEntry(**r._mapping) for r in conn.execute(query)]
            yield from page
            if len(page) < batch:
                return
            after = page[-1].seq

    def is_empty(self) -> bool:
        """Whether nothing was ever recorded (the first admin may then add themselves)."""
        with self.db.read() as conn:
            return conn.execute(select(_HISTORY.c.seq).limit(1)).first() is None
