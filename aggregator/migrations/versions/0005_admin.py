"""admin accounts, login attempts, moderation, audit log, review mode

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(
            sa.Column(
                "review",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
                comment="new events wait approval",
            )
        )
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False, comment="werkzeug scrypt hash"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False, comment="'ip:…' or 'user:…'"),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        comment="failed logins, for rate limiting across web processes",
    )
    op.create_index("ix_login_attempts_key_at", "login_attempts", ["key", "at"])
    op.create_table(
        "moderation",
        sa.Column(
            "cluster_id", sa.String(length=32), nullable=False, comment="a merged event's id"
        ),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False, comment="review queue"),
        sa.Column(
            "territory",
            sa.String(length=64),
            nullable=True,
            comment="admin's territory, beats the tagger",
        ),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id"),
    )
    op.create_table(
        "admin_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("who", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    for table in ("admin_log", "moderation", "login_attempts", "admins"):
        op.drop_table(table)
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("review")
