"""The stored shapes (table rows). Mapped to and from domain values only in `decisions.store.events`
and `decisions.store.repository`; nothing returns a row to a caller outside the store.

Schema changes go through Alembic migrations (`decisions/store/migrations`), never drop-and-recreate.
The tables are SQLAlchemy Core `Table`s on `metadata` (the store runs Core statements only); each
``…Row`` class names one and carries it as ``__table__``. Plain Core rather than SQLModel models:
importing SQLModel (and with it pydantic's models and the ORM) cost every command ~0.25 s.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

__all__ = [
    "CaseRow",
    "CheckpointRow",
    "DefinitionSetRow",
    "DefinitionSourceRow",
    "DocumentRow",
    "EventRow",
    "MetaRow",
    "UserRow",
    "metadata",
]

metadata = MetaData()
"""Every table; what the migrations must build (checked by the store's contract tests)."""


def _required(name: str, length: int | None = None, **kw: object) -> Column[object]:
    """A NOT NULL column: a string of at most ``length`` characters, or ``Text`` when None."""
    return Column(name, String(length) if length is not None else Text, nullable=False, **kw)  # type: ignore[arg-type]


class _Row:
    __table__: ClassVar[Table]


class MetaRow(_Row):
    """Settings fixed when the database is created (e.g. the hash algorithm)."""

    __table__ = Table("meta", metadata, _required("key", 64, primary_key=True), _required("value", 256))


class DefinitionSourceRow(_Row):
    """The exact text of one definition file, stored by its SHA-256."""

    __table__ = Table(
        "definition_sources",
        metadata,
        _required("sha256", 64, primary_key=True),
        _required("kind", 16),
        _required("name", 512),
        _required("text"),
    )


class DefinitionSetRow(_Row):
    """An ordered set of definition sources a case runs under (manifest: JSON list of [kind, name, sha256])."""

    __table__ = Table(
        "definition_sets", metadata, _required("fingerprint", 64, primary_key=True), _required("manifest")
    )


class CaseRow(_Row):
    """The projection of a case's history: where it is now. Always equal to replaying its events."""

    __table__ = Table(
        "cases",
        metadata,
        _required("id", 64, primary_key=True),
        _required("workflow", 64),
        _required("state", 64),
        _required("attributes"),
        Column("version", Integer, nullable=False),
        _required("head_hash", 64),
        _required("definitions", 64),
        _required("title", 512, default=""),
        Column("catalogue_item", String(64), nullable=True),
        Index("ix_cases_workflow", "workflow"),
        Index("ix_cases_state", "state"),
        Index("ix_cases_catalogue_item", "catalogue_item"),
    )


class EventRow(_Row):
    """One accepted action. ``body`` is the canonical JSON that ``hash`` covers; the other columns
    repeat parts of it for queries, and verification checks that they agree."""

    __table__ = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        _required("case_id", 64),
        Column("seq", Integer, nullable=False),
        _required("trigger", 64),
        _required("actor", 128),
        _required("happened_on", 10),
        _required("recorded_at", 32),
        _required("prev_hash", 64),
        _required("hash", 64),
        _required("body"),
        UniqueConstraint("case_id", "seq", name="uq_events_case_seq"),
        Index("ix_events_case_id", "case_id"),
    )


class DocumentRow(_Row):
    """A stored document; its bytes live in the content-addressed store under their SHA-256."""

    __table__ = Table(
        "documents", metadata, _required("sha256", 64, primary_key=True), Column("size", Integer, nullable=False)
    )


class CheckpointRow(_Row):
    """A published digest over every chain head (see `decisions.audit.merkle`)."""

    __table__ = Table(
        "checkpoints",
        metadata,
        Column("id", Integer, primary_key=True),
        _required("created_at", 32),
        _required("root", 64),
        _required("body"),
    )


class UserRow(_Row):
    """A person who may act, with the roles they hold. Never deleted: deactivated, so that every
    name in every history stays resolvable (lifetime accountability)."""

    __table__ = Table(
        "users",
        metadata,
        _required("name", 128, primary_key=True),
        _required("roles", 512),  # comma-separated, sorted
        _required("unit", 256, default=""),
        Column("active", Boolean, nullable=False, default=True),
        _required("added_at", 32),
        _required("changed_at", 32),
    )
