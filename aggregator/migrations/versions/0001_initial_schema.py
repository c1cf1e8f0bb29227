"""initial schema

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=64), nullable=False, comment="slug from sources.toml"),
        sa.Column("name", sa.Text(), nullable=False, comment="display name of the association"),
        sa.Column("url", sa.Text(), nullable=False, comment="feed URL or local path"),
        sa.Column(
            "kind", sa.String(length=16), nullable=False, comment="configured kind (auto, ics, ...)"
        ),
        sa.Column(
            "website",
            sa.Text(),
            nullable=True,
            comment="association's site, for 'publié par' links",
        ),
        sa.Column(
            "territory",
            sa.String(length=64),
            nullable=True,
            comment="default territory slug of the source",
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False, comment="in sources.toml"),
        sa.Column(
            "etag", sa.Text(), nullable=True, comment="ETag of the last 200, sent as If-None-Match"
        ),
        sa.Column(
            "last_modified",
            sa.Text(),
            nullable=True,
            comment="Last-Modified, sent as If-Modified-Since",
        ),
        sa.Column(
            "body_hash",
            sa.String(length=64),
            nullable=True,
            comment="sha256 of the last body parsed",
        ),
        sa.Column(
            "last_fetch_at", sa.DateTime(), nullable=True, comment="last attempt, success or not"
        ),
        sa.Column(
            "last_success_at",
            sa.DateTime(),
            nullable=True,
            comment="last attempt that was not a failure",
        ),
        sa.Column(
            "last_outcome",
            sa.String(length=16),
            nullable=True,
            comment="ok, not_modified, unchanged, failed",
        ),
        sa.Column(
            "http_status", sa.Integer(), nullable=True, comment="HTTP status of the last attempt"
        ),
        sa.Column(
            "last_error",
            sa.Text(),
            nullable=True,
            comment="last failure in words, cleared on success",
        ),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column(
            "retry_after",
            sa.DateTime(),
            nullable=True,
            comment="server asked us to wait until (429/503)",
        ),
        sa.Column("events_count", sa.Integer(), nullable=False, comment="active events"),
        sa.Column("skipped_count", sa.Integer(), nullable=False, comment="items not events"),
        sa.Column("warnings", sa.JSON(), nullable=False, comment="of the last parse"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False, comment="stable, in URLs"),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("uid", sa.Text(), nullable=False, comment="UID at the source (or synthesised)"),
        sa.Column(
            "recurrence_id", sa.String(length=32), nullable=False, comment="'' unless recurring"
        ),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, comment="plain text"),
        sa.Column(
            "description_html",
            sa.Text(),
            nullable=True,
            comment="sanitised HTML when the source had some",
        ),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("geo_lat", sa.Float(), nullable=True),
        sa.Column("geo_lon", sa.Float(), nullable=True),
        sa.Column(
            "url", sa.Text(), nullable=True, comment="event page at the source (http/https only)"
        ),
        sa.Column("start_at", sa.DateTime(), nullable=False, comment="all-day: local midnight"),
        sa.Column(
            "end_at",
            sa.DateTime(),
            nullable=True,
            comment="exclusive; null when the source gave none",
        ),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False, comment="zone the source used"),
        sa.Column(
            "status", sa.String(length=16), nullable=False, comment="confirmed/tentative/cancelled"
        ),
        sa.Column(
            "territory", sa.String(length=64), nullable=True, comment="territory slug or null"
        ),
        sa.Column("tags", sa.Text(), nullable=False, comment="'|a|b|', for LIKE filters"),
        sa.Column("search_text", sa.Text(), nullable=False, comment="folded text for search"),
        sa.Column("content_hash", sa.String(length=64), nullable=False, comment="detects changes"),
        sa.Column("sequence", sa.Integer(), nullable=False, comment="ICS SEQUENCE"),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False, comment="last change of content"),
        sa.Column(
            "removed_at",
            sa.DateTime(),
            nullable=True,
            comment="gone from the source since; kept for feeds",
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("source_id", "uid", "recurrence_id", name="uq_events_identity"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_source_id", ["source_id"], unique=False)
        batch_op.create_index("ix_events_start_at", ["start_at"], unique=False)

    op.create_table(
        "fetch_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column(
            "events", sa.Integer(), nullable=False, comment="active events after the refresh"
        ),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("warnings", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fetch_log", schema=None) as batch_op:
        batch_op.create_index("ix_fetch_log_source_at", ["source_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fetch_log", schema=None) as batch_op:
        batch_op.drop_index("ix_fetch_log_source_at")

    op.drop_table("fetch_log")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_start_at")
        batch_op.drop_index("ix_events_source_id")

    op.drop_table("events")
    op.drop_table("sources")
