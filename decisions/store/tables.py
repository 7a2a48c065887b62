"""The stored shapes (table rows). Mapped to and from domain values only in `decisions.store.events`
and `decisions.store.repository`; nothing returns a row to a caller outside the store.

Schema changes go through Alembic migrations (`decisions/store/migrations`), never drop-and-recreate.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "EVENT_COLUMNS",
    "CaseRow",
    "CheckpointRow",
    "CredentialRow",
    "DefinitionSetRow",
    "DefinitionSourceRow",
    "DelegationRow",
    "DocumentChunkRow",
    "DocumentRow",
    "EventRow",
    "MetaRow",
    "PeopleEntryRow",
    "TaskRow",
    "UnitRow",
    "UserRow",
]


class MetaRow(SQLModel, table=True):
    """Settings fixed when the database is created (e.g. the hash algorithm)."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=256)


class DefinitionSourceRow(SQLModel, table=True):
    """The exact text of one definition file, stored by its SHA-256."""

    __tablename__ = "definition_sources"
    sha256: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=512)
    text: str = Field(sa_column=Column(Text, nullable=False))


class DefinitionSetRow(SQLModel, table=True):
    """An ordered set of definition sources a case runs under (manifest: JSON list of [kind, name, sha256])."""

    __tablename__ = "definition_sets"
    fingerprint: str = Field(primary_key=True, max_length=64)
    manifest: str = Field(sa_column=Column(Text, nullable=False))


class CaseRow(SQLModel, table=True):
    """The projection of a case's history: where it is now. Always equal to replaying its events."""

    __tablename__ = "cases"
    id: str = Field(primary_key=True, max_length=64)
    workflow: str = Field(max_length=64, index=True)
    state: str = Field(max_length=64, index=True)
    attributes: str = Field(sa_column=Column(Text, nullable=False))
    version: int
    head_hash: str = Field(max_length=64)
    definitions: str = Field(max_length=64)
    title: str = Field(default="", max_length=512)
    catalogue_item: str | None = Field(default=None, max_length=64, index=True)


class EventRow(SQLModel, table=True):
    """One accepted action. ``body`` is the canonical JSON that ``hash`` covers; the other columns
    repeat parts of it for queries, and verification checks that they agree."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
        Index("ix_events_actor", "actor", "case_id", "seq"),  # 已办 and a search by person
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(max_length=64, index=True)
    seq: int
    trigger: str = Field(max_length=64)
    actor: str = Field(max_length=128)
    happened_on: str = Field(max_length=10)
    recorded_at: str = Field(max_length=32)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))


class DocumentRow(SQLModel, table=True):
    """A stored document, content-addressed: its SHA-256, its size and media type; its bytes are
    the `DocumentChunkRow`s of the same digest, written in the same transaction."""

    __tablename__ = "documents"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    media_type: str = Field(default="application/octet-stream", max_length=128)


class DocumentChunkRow(SQLModel, table=True):
    """One piece of a document's bytes (``seq`` 0, 1, ... of at most `CHUNK_BYTES` each), so that a
    large document is written and read a piece at a time. No foreign key: verification, not the
    schema, reports a document row without its bytes (or bytes without their row)."""

    __tablename__ = "document_chunks"
    sha256: str = Field(primary_key=True, max_length=64)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRow(SQLModel, table=True):
    """A published digest over every chain head (see `decisions.audit.merkle`)."""

    __tablename__ = "checkpoints"
    id: int | None = Field(default=None, primary_key=True)
    created_at: str = Field(max_length=32)
    root: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))


class UserRow(SQLModel, table=True):
    """A person who may act, with the roles they hold: the projection of the people history
    (`PeopleEntryRow`). Never deleted: deactivated, so that every id in every history stays
    resolvable (lifetime accountability). ``id`` is what histories name; ``name`` is for display
    (two people may share it)."""

    __tablename__ = "users"
    id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=128, index=True)
    roles: str = Field(max_length=512)  # comma-separated, sorted
    unit: str = Field(default="", max_length=256)
    active: bool = Field(default=True)
    added_at: str = Field(max_length=32)
    changed_at: str = Field(max_length=32)


class PeopleEntryRow(SQLModel, table=True):
    """One entry of the people administration history (a person added, a role granted, a unit
    changed, a delegation...): ``body`` is the canonical JSON that ``hash`` covers, chained to the
    previous entry's hash like a case's events; the other columns repeat parts of it."""

    __tablename__ = "people_history"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(max_length=32)
    person: str = Field(max_length=128, index=True)
    actor: str = Field(max_length=128)  # who made the change (the body's "by")
    at: str = Field(max_length=32)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))


class UnitRow(SQLModel, table=True):
    """A unit (单位) people belong to: the projection of its ``unit_added`` history entry."""

    __tablename__ = "units"
    name: str = Field(primary_key=True, max_length=256)
    added_at: str = Field(max_length=32)


class DelegationRow(SQLModel, table=True):
    """A delegation (委托代办): ``delegator`` lets ``delegate`` act in ``role`` ('' for every role
    the delegator holds) from ``start`` to ``until`` (inclusive) unless ended earlier (``ended``).
    ``seq`` is the people-history entry that granted it."""

    __tablename__ = "delegations"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    delegator: str = Field(max_length=128, index=True)
    delegate: str = Field(max_length=128, index=True)
    role: str = Field(default="", max_length=64)
    start: str = Field(max_length=10)
    until: str = Field(max_length=10)
    ended: str = Field(default="", max_length=10)


class TaskRow(SQLModel, table=True):
    """One role's part of a case's tasks (`decisions.tasks.TaskEntry`): whether the role may act in
    the case's state, and the due dates it sees (``due``: JSON; ``next_due`` and ``overdue_from`` the
    earliest of them, ISO dates, for the inbox's order). Written in the transaction of the action
    that put the case where it is, derived by the definitions ``derived``; always equal to deriving
    them again from the case's history (`decisions audit verify`)."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_inbox", "role", "acts", "workflow", "next_due", "case_id", "overdue_from"),)
    case_id: str = Field(primary_key=True, max_length=64)
    role: str = Field(primary_key=True, max_length=64)
    acts: int
    workflow: str = Field(max_length=64)
    state: str = Field(max_length=64)
    title: str = Field(default="", max_length=512)
    version: int
    next_due: str | None = Field(default=None, max_length=10)
    overdue_from: str | None = Field(default=None, max_length=10)
    due: str = Field(sa_column=Column(Text, nullable=False))
    derived: str = Field(max_length=64)


class CredentialRow(SQLModel, table=True):
    """A person's password hash (Argon2id, PHC string), keyed by their name in the people table."""

    __tablename__ = "credentials"
    name: str = Field(primary_key=True, max_length=128)
    hash: str = Field(max_length=512)
    changed_at: str = Field(max_length=32)


# The events' columns in `decisions.store.events.StoredEvent`'s field order: what reading an event selects.
_EVENTS = EventRow.__table__  # type: ignore[attr-defined]
EVENT_COLUMNS = tuple(
    _EVENTS.c[name]
    for name in ("case_id", "seq", "trigger", "actor", "happened_on", "recorded_at", "prev_hash", "hash", "body")
)
