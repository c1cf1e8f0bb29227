"""index events on (start_at, id): agenda pages walk occurrences in that order

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_start_at")
        batch.create_index("ix_events_start_id", ["start_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_start_id")
        batch.create_index("ix_events_start_at", ["start_at"])
