"""Projection column: the catalogue item a decision implements (indexed, for 久拖不决 checks).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("catalogue_item", sa.String(64), nullable=True))
        batch.create_index("ix_cases_catalogue_item", ["catalogue_item"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_catalogue_item")
        batch.drop_column("catalogue_item")
