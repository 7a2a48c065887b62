"""An index of the events by who acted (actor, case, seq): the 已办 list (the cases a person acted
in, with their last action there) and a search by person are indexed queries, not scans.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_actor", "events", ["actor", "case_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_events_actor", table_name="events")
