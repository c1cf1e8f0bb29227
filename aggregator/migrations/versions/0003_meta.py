"""meta table: data version for feed caches

Revision ID: 0003
Revises: 0002
"""

import uuid

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
    # Names this database in cache keys, so two databases never share a built feed.
    instance = uuid.uuid4().hex[:12]
    op.execute(f"INSERT INTO meta (key, value) VALUES ('instance', '{instance}')")


def downgrade() -> None:
    op.drop_table("meta")
