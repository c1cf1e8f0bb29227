"""dedup clusters and admin overrides

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column(
                "cluster_id",
                sa.String(length=32),
                nullable=True,
                comment="the merged event this occurrence belongs to (dedup); stable, public",
            )
        )
    op.execute("UPDATE events SET cluster_id = public_id")
    with op.batch_alter_table("events") as batch:
        batch.alter_column(
            "cluster_id",
            existing_type=sa.String(length=32),
            nullable=False,
            existing_comment="the merged event this occurrence belongs to (dedup); stable, public",
        )
        batch.create_index("ix_events_cluster_id", ["cluster_id"])
    op.create_table(
        "dedup_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False, comment="merge or split"),
        sa.Column(
            "event_a", sa.String(length=32), nullable=False, comment="public id of an occurrence"
        ),
        sa.Column(
            "event_b", sa.String(length=32), nullable=False, comment="public id of an occurrence"
        ),
        sa.Column("created_by", sa.Text(), nullable=False, comment="admin who decided"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("dedup_overrides")
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_cluster_id")
        batch.drop_column("cluster_id")
