"""Documents in the database: their bytes as chunk rows written in the action's own transaction,
and each document's media type. An existing file store (the ``.documents`` directory beside the
database, or ``$DECISIONS_DOCUMENTS``) is moved in by the same upgrade, every file hashed against
its row; a missing or altered file refuses the whole upgrade, which then writes nothing.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_chunks",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "seq"),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column(
                "media_type",
                sa.String(128),
                nullable=False,
                server_default="application/octet-stream",
            )
        )
    from decisions.store.documents import move_file_store

    root = context.config.attributes.get("documents_root")  # `Database.migrate` hands it in
    context.config.attributes["documents_moved"] = move_file_store(op.get_bind(), root)


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("media_type")
    op.drop_table("document_chunks")
