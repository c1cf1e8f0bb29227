"""server-side admin sessions (revocable: logout, password change, account removal)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(length=64), nullable=False,
                  comment="sha256 of the token in the cookie (a stolen table opens nothing)"),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        comment="one row per logged-in admin browser; deleting it ends that session",
    )  # fmt: skip
    op.create_index("ix_admin_sessions_username", "admin_sessions", ["username"])


def downgrade() -> None:
    op.drop_table("admin_sessions")
