"""dedup pairs: why events were merged, and the doubtful pairs admins review

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedup_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_a", sa.String(length=32), nullable=False,
                  comment="public id of an occurrence"),
        sa.Column("event_b", sa.String(length=32), nullable=False,
                  comment="public id of an occurrence"),
        sa.Column("status", sa.String(length=8), nullable=False, comment="merged or doubtful"),
        sa.Column("score", sa.Float(), nullable=False, comment="dedup score, 0 to 1"),
        sa.Column("evidence", sa.JSON(), nullable=False, comment="why, for admins"),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        comment="the last dedup's merges and doubtful pairs; rewritten by each recluster",
    )  # fmt: skip
    op.create_index("ix_dedup_pairs_event_a", "dedup_pairs", ["event_a"])
    op.create_index("ix_dedup_pairs_event_b", "dedup_pairs", ["event_b"])


def downgrade() -> None:
    op.drop_table("dedup_pairs")
