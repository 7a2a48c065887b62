"""The inbox as a table: one row per (case, role) with the due dates that role sees (issue 15, item 5).

Created empty. Its rows are derived by the deployment's definitions (a deadline's length is a pack's
parameter, which the database alone does not know), so the service fills it on first use from the
cases' histories, and again whenever the deployment's definitions change (``meta`` key ``tasks``
names the definitions that derived it); from then on every action keeps its case's rows in its own
transaction.

Revision ID: 0005
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
        sa.Column("acts", sa.Integer, nullable=False),
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("next_due", sa.String(10), nullable=True),
        sa.Column("overdue_from", sa.String(10), nullable=True),
        sa.Column("due", sa.Text, nullable=False),
        sa.Column("derived", sa.String(64), nullable=False),
    )
    op.create_index("ix_tasks_inbox", "tasks", ["role", "acts", "workflow", "next_due", "case_id", "overdue_from"])


def downgrade() -> None:
    op.drop_index("ix_tasks_inbox", table_name="tasks")
    op.drop_table("tasks")
