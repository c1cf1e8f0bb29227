"""Tables, one comment per column. Changes go through a new migration in migrations/versions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored naive UTC everywhere, so
    SQLite and PostgreSQL sort and compare them the same way."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


metadata = sa.MetaData()

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True, comment="slug from sources.toml"),
    sa.Column("name", sa.Text, nullable=False, comment="display name of the association"),
    sa.Column("url", sa.Text, nullable=False, comment="feed URL or local path"),
    sa.Column("kind", sa.String(16), nullable=False, comment="configured kind (auto, ics, ...)"),
    sa.Column("website", sa.Text, comment="association's site, for 'publié par' links"),
    sa.Column("territory", sa.String(64), comment="default territory slug of the source"),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True, comment="in sources.toml"),
    sa.Column("etag", sa.Text, comment="ETag of the last 200, sent as If-None-Match"),
    sa.Column("last_modified", sa.Text, comment="Last-Modified, sent as If-Modified-Since"),
    sa.Column("body_hash", sa.String(64), comment="sha256 of the last body parsed"),
    sa.Column("last_fetch_at", UTCDateTime, comment="last attempt, success or not"),
    sa.Column("last_success_at", UTCDateTime, comment="last attempt that was not a failure"),
    sa.Column("last_outcome", sa.String(16), comment="ok, not_modified, unchanged, failed"),
    sa.Column("http_status", sa.Integer, comment="HTTP status of the last attempt"),
    sa.Column("last_error", sa.Text, comment="last failure in words, cleared on success"),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("retry_after", UTCDateTime, comment="server asked us to wait until (429/503)"),
    sa.Column("events_count", sa.Integer, nullable=False, default=0, comment="active events"),
    sa.Column("skipped_count", sa.Integer, nullable=False, default=0, comment="items not events"),
    sa.Column("warnings", sa.JSON, nullable=False, default=list, comment="of the last parse"),
    sa.Column(
        "review", sa.Boolean, nullable=False, default=False, comment="new events wait approval"
    ),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True, comment="stable, in URLs"),
    sa.Column(
        "source_id",
        sa.String(64),
        sa.ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("uid", sa.Text, nullable=False, comment="UID at the source (or synthesised)"),
    sa.Column("recurrence_id", sa.String(32), nullable=False, comment="'' unless recurring"),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default="", comment="plain text"),
    sa.Column("description_html", sa.Text, comment="sanitised HTML when the source had some"),
    sa.Column("location", sa.Text, nullable=False, default=""),
    sa.Column("geo_lat", sa.Float),
    sa.Column("geo_lon", sa.Float),
    sa.Column("url", sa.Text, comment="event page at the source (http/https only)"),
    sa.Column("start_at", UTCDateTime, nullable=False, comment="all-day: local midnight"),
    sa.Column("end_at", UTCDateTime, comment="exclusive; null when the source gave none"),
    sa.Column("all_day", sa.Boolean, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False, comment="zone the source used"),
    sa.Column("status", sa.String(16), nullable=False, comment="confirmed/tentative/cancelled"),
    sa.Column("territory", sa.String(64), comment="territory slug or null"),
    sa.Column("tags", sa.Text, nullable=False, default="", comment="'|a|b|', for LIKE filters"),
    sa.Column("search_text", sa.Text, nullable=False, comment="folded text for search"),
    sa.Column("content_hash", sa.String(64), nullable=False, comment="detects changes"),
    sa.Column("sequence", sa.Integer, nullable=False, default=0, comment="ICS SEQUENCE"),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False, comment="last change of content"),
    sa.Column("removed_at", UTCDateTime, comment="gone from the source since; kept for feeds"),
    sa.Column(
        "cluster_id",
        sa.String(32),
        nullable=False,
        comment="the merged event this occurrence belongs to (dedup); stable, public",
    ),
    sa.UniqueConstraint("source_id", "uid", "recurrence_id", name="uq_events_identity"),
    sa.Index("ix_events_start_id", "start_at", "id"),  # pages walk (start_at, id)
    # A territory's page walks its own rows in order, and counts them, without the others.
    sa.Index("ix_events_territory_start", "territory", "start_at", "id"),
    sa.Index("ix_events_source_id", "source_id"),
    sa.Index("ix_events_cluster_id", "cluster_id"),
)

dedup_overrides = sa.Table(
    "dedup_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(8), nullable=False, comment="merge or split"),
    sa.Column("event_a", sa.String(32), nullable=False, comment="public id of an occurrence"),
    sa.Column("event_b", sa.String(32), nullable=False, comment="public id of an occurrence"),
    sa.Column("created_by", sa.Text, nullable=False, comment="admin who decided"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

dedup_pairs = sa.Table(
    "dedup_pairs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_a", sa.String(32), nullable=False, comment="public id of an occurrence"),
    sa.Column("event_b", sa.String(32), nullable=False, comment="public id of an occurrence"),
    sa.Column("status", sa.String(8), nullable=False, comment="merged or doubtful"),
    sa.Column("score", sa.Float, nullable=False, comment="dedup score, 0 to 1"),
    sa.Column("evidence", sa.JSON, nullable=False, default=dict, comment="why, for admins"),
    sa.Column("computed_at", UTCDateTime, nullable=False),
    sa.Index("ix_dedup_pairs_event_a", "event_a"),
    sa.Index("ix_dedup_pairs_event_b", "event_b"),
    comment="the last dedup's merges and doubtful pairs; rewritten by each recluster",
)

fetch_log = sa.Table(
    "fetch_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "source_id",
        sa.String(64),
        sa.ForeignKey("sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("events", sa.Integer, nullable=False, comment="active events after the refresh"),
    sa.Column("added", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("removed", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
    sa.Index("ix_fetch_log_source_at", "source_id", "at"),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    comment="data_version: bumped by every write that changes what readers see",
)

admins = sa.Table(
    "admins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False, comment="werkzeug scrypt hash"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

admin_sessions = sa.Table(
    "admin_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True,
              comment="sha256 of the token in the cookie (a stolen table opens nothing)"),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index("ix_admin_sessions_username", "username"),
    comment="one row per logged-in admin browser; deleting it ends that session",
)  # fmt: skip

login_attempts = sa.Table(
    "login_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(128), nullable=False, comment="'ip:…' or 'user:…'"),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index("ix_login_attempts_key_at", "key", "at"),
    comment="failed logins, for rate limiting across web processes",
)

moderation = sa.Table(
    "moderation",
    metadata,
    sa.Column("cluster_id", sa.String(32), primary_key=True, comment="a merged event's id"),
    sa.Column("hidden", sa.Boolean, nullable=False, default=False),
    sa.Column("approved", sa.Boolean, nullable=False, default=False, comment="review queue"),
    sa.Column("territory", sa.String(64), comment="admin's territory, beats the tagger"),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

admin_log = sa.Table(
    "admin_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(8), nullable=False, comment="event (proposed) or calendar"),
    sa.Column("status", sa.String(12), nullable=False,
              comment="pending, approved, rejected, cancelled (by its author)"),
    sa.Column("data", sa.JSON, nullable=False, comment="the form's values, as validated"),
    sa.Column("email", sa.String(254), nullable=False,
              comment="author's contact, lower case; never published"),
    sa.Column("address", sa.String(64), nullable=False, comment="client address, rate limits"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False, comment="last edit or decision"),
    sa.Column("decided_by", sa.Text, comment="admin who approved or rejected"),
    sa.Column("version", sa.Integer, nullable=False, default=1,
              comment="bumped by each edit: the ICS SEQUENCE of a proposed event"),
    sa.Column("digested_at", UTCDateTime,
              comment="when admins were told of it (or of its last edit); null: not yet"),
    sa.Index("ix_submissions_status", "status", "kind"),
    sa.Index("ix_submissions_email_at", "email", "created_at"),
    sa.Index("ix_submissions_address_at", "address", "created_at"),
    comment="events proposed and calendars offered by the public, through moderation",
)  # fmt: skip

blocked_emails = sa.Table(
    "blocked_emails",
    metadata,
    sa.Column("email", sa.String(254), primary_key=True, comment="lower case"),
    sa.Column("blocked_by", sa.Text, nullable=False),
    sa.Column("blocked_at", UTCDateTime, nullable=False),
    comment="addresses admins refused: their proposals are not accepted",
)
