"""Credentials: one Argon2 password hash per person, for logging in to the web application.

Revision ID: 0007
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("hash", sa.String(512), nullable=False),
        sa.Column("changed_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("credentials")
