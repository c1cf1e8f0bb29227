"""index events by territory, then start: territory pages walk one territory's rows in order

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_territory_start", "events", ["territory", "start_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_territory_start", "events")
