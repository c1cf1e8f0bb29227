"""submissions: events proposed and calendars offered by the public; blocked e-mails

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False,
                  comment="event (proposed) or calendar"),
        sa.Column("status", sa.String(length=12), nullable=False,
                  comment="pending, approved, rejected, cancelled (by its author)"),
        sa.Column("data", sa.JSON(), nullable=False, comment="the form's values, as validated"),
        sa.Column("email", sa.String(length=254), nullable=False,
                  comment="author's contact, lower case; never published"),
        sa.Column("address", sa.String(length=64), nullable=False,
                  comment="client address, rate limits"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False, comment="last edit or decision"),
        sa.Column("decided_by", sa.Text(), comment="admin who approved or rejected"),
        sa.Column("version", sa.Integer(), nullable=False,
                  comment="bumped by each edit: the ICS SEQUENCE of a proposed event"),
        sa.Column("digested_at", sa.DateTime(),
                  comment="when admins were told of it (or of its last edit); null: not yet"),
        sa.PrimaryKeyConstraint("id"),
        comment="events proposed and calendars offered by the public, through moderation",
    )  # fmt: skip
    op.create_index("ix_submissions_status", "submissions", ["status", "kind"])
    op.create_index("ix_submissions_email_at", "submissions", ["email", "created_at"])
    op.create_index("ix_submissions_address_at", "submissions", ["address", "created_at"])
    op.create_table(
        "blocked_emails",
        sa.Column("email", sa.String(length=254), nullable=False, comment="lower case"),
        sa.Column("blocked_by", sa.Text(), nullable=False),
        sa.Column("blocked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email"),
        comment="addresses admins refused: their proposals are not accepted",
    )


def downgrade() -> None:
    op.drop_table("blocked_emails")
    op.drop_table("submissions")
