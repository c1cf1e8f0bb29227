"""meta table: data version for feed caches

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        comment="data_version: bumped by every write that changes what readers see",
    )
    op.execute("INSERT INTO meta (key, value) VALUES ('data_version', '1')")


def downgrade() -> None:
    op.drop_table("meta")
