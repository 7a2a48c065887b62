"""The stored shapes (table rows). Mapped to and from domain values only in `decisions.store.events`
and `decisions.store.repository`; nothing returns a row to a caller outside the store.

Schema changes go through Alembic migrations (`decisions/store/migrations`), never drop-and-recreate.
"""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "CaseRow",
    "CheckpointRow",
    "CredentialRow",
    "DefinitionSetRow",
    "DefinitionSourceRow",
    "DocumentRow",
    "EventRow",
    "MetaRow",
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
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),)
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
    """A stored document; its bytes live in the content-addressed store under their SHA-256."""

    __tablename__ = "documents"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int


class CheckpointRow(SQLModel, table=True):
    """A published digest over every chain head (see `decisions.audit.merkle`)."""

    __tablename__ = "checkpoints"
    id: int | None = Field(default=None, primary_key=True)
    created_at: str = Field(max_length=32)
    root: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))


class UserRow(SQLModel, table=True):
    """A person who may act, with the roles they hold. Never deleted: deactivated, so that every
    name in every history stays resolvable (lifetime accountability)."""

    __tablename__ = "users"
    name: str = Field(primary_key=True, max_length=128)
    roles: str = Field(max_length=512)  # comma-separated, sorted
    unit: str = Field(default="", max_length=256)
    active: bool = Field(default=True)
    added_at: str = Field(max_length=32)
    changed_at: str = Field(max_length=32)


class CredentialRow(SQLModel, table=True):
    """A person's password hash (Argon2id, PHC string), keyed by their name in the people table."""

    __tablename__ = "credentials"
    name: str = Field(primary_key=True, max_length=128)
    hash: str = Field(max_length=512)
    changed_at: str = Field(max_length=32)
