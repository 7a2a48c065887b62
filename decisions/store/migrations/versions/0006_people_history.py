"""People as records: a hash-chained administration history, units and delegations; the users
table becomes its projection, keyed by an id distinct from the display name.

Existing rows are back-filled into the history, attributed to the system actor ``migration``: one
``unit_added`` entry per unit in use, one ``person_added`` entry per person (when they were added),
and a ``deactivated`` entry for each inactive one. The id of an existing person is their old name,
so every history that names them still resolves.

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from decisions.audit import GENESIS, hasher
from decisions.store.people_history import PEOPLE_FORMAT, chained_entry

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MIGRATION = "migration"


def upgrade() -> None:
    op.create_table(
        "people_history",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("person", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_people_history_person", "people_history", ["person"])
    op.create_table(
        "units",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("added_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "delegations",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("delegator", sa.String(128), nullable=False),
        sa.Column("delegate", sa.String(128), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("start", sa.String(10), nullable=False),
        sa.Column("until", sa.String(10), nullable=False),
        sa.Column("ended", sa.String(10), nullable=False),
    )
    op.create_index("ix_delegations_delegator", "delegations", ["delegator"])
    op.create_index("ix_delegations_delegate", "delegations", ["delegate"])
    with op.batch_alter_table("users") as batch:
        batch.alter_column("name", new_column_name="id", existing_type=sa.String(128), existing_nullable=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("name", sa.String(128), nullable=False, server_default=""))
    op.execute("UPDATE users SET name = id")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("name", server_default=None, existing_type=sa.String(128), existing_nullable=False)
        batch.create_index("ix_users_name", ["name"])
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    users = conn.execute(sa.text("SELECT id, roles, unit, active, added_at, changed_at FROM users")).fetchall()
    if not users:
        return
    algorithm = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'hash_algorithm'")).scalar()
    hash_ = hasher(str(algorithm or "sha256"))
    bodies: list[dict[str, Any]] = []
    first = min(u.added_at for u in users)
    for unit in sorted({u.unit for u in users if u.unit}):
        bodies.append({"kind": "unit_added", "person": "", "unit": unit, "at": first})
    for u in sorted(users, key=lambda u: (u.added_at, u.id)):
        roles = sorted(r for r in str(u.roles).split(",") if r)
        bodies.append(
            {"kind": "person_added", "person": u.id, "name": u.id, "roles": roles, "unit": u.unit, "at": u.added_at}
        )
    for u in sorted(users, key=lambda u: (u.changed_at, u.id)):
        if not u.active:
            bodies.append({"kind": "deactivated", "person": u.id, "at": u.changed_at})
    prev = GENESIS
    for seq, body in enumerate(bodies, 1):
        entry = chained_entry(hash_, {"format": PEOPLE_FORMAT, "seq": seq, "by": MIGRATION, **body}, prev)
        conn.execute(
            sa.text(
                "INSERT INTO people_history (seq, kind, person, actor, at, prev_hash, hash, body) "
                "VALUES (:seq, :kind, :person, :actor, :at, :prev_hash, :hash, :body)"
            ),
            entry.__dict__,
        )
        prev = entry.hash
    for unit in sorted({u.unit for u in users if u.unit}):
        conn.execute(sa.text("INSERT INTO units (name, added_at) VALUES (:name, :at)"), {"name": unit, "at": first})


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_name")
        batch.drop_column("name")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("id", new_column_name="name", existing_type=sa.String(128), existing_nullable=False)
    op.drop_table("delegations")
    op.drop_table("units")
    op.drop_index("ix_people_history_person", "people_history")
    op.drop_table("people_history")
