"""Typed values passed between the pipeline stages.

sources -> SourceConfig; store -> SourceState; fetch -> FeedFetched;
parse -> FeedParsed (of EventParsed); normalise -> EventIntent; pipeline -> RefreshResult.
Every datetime that leaves normalise is tz-aware UTC.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

# The built-in source of the events the public proposes (aggregator.proposals): not in
# sources.toml, never fetched, never retired with the sources missing from that file.
PROPOSALS_ID = "propositions"


class Kind(enum.StrEnum):
    AUTO = "auto"
    ICS = "ics"
    RSS = "rss"
    ATOM = "atom"
    JSONLD = "jsonld"


class Status(enum.StrEnum):
    CONFIRMED = "confirmed"
    TENTATIVE = "tentative"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SourceConfig:
    """One [[source]] table of sources.toml, validated."""

    id: str
    name: str
    url: str  # http(s) URL, or an absolute filesystem path for local files
    kind: Kind = Kind.AUTO
    territory: str | None = None
    tags: tuple[str, ...] = ()
    website: str | None = None
    refresh: dt.timedelta = dt.timedelta(hours=1)
    enabled: bool = True
    timezone: str | None = None  # zone for floating times; default AGENDA_TIMEZONE
    # The Events Calendar (WordPress) puts the event start in <pubDate>.
    pubdate_is_start: bool = False
    review: bool = False  # new events wait for an admin's approval before showing
    line: int = 0  # line of the [[source]] header, for messages

    @property
    def is_local(self) -> bool:
        return not self.url.lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class SourceState:
    """What the store remembers of a source between fetches (for polite polling)."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


class FetchOutcome(enum.StrEnum):
    FETCHED = "fetched"  # a new body to parse
    NOT_MODIFIED = "not_modified"  # HTTP 304
    UNCHANGED = "unchanged"  # 200 but same body hash as last time
    FAILED = "failed"


@dataclass(frozen=True)
class FeedFetched:
    source_id: str
    outcome: FetchOutcome
    http_status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    error: str | None = None  # in words, for the admin
    retry_after: dt.datetime | None = None
    duration: float = 0.0


@dataclass(frozen=True)
class EventParsed:
    """One occurrence as read from a document, before normalisation.

    start/end are `date` for all-day events, `datetime` otherwise; a naive datetime is
    floating (RFC 5545 3.3.5 form #1) and gets the calendar/source zone in normalise.
    """

    uid: str
    title: str
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime | None = None
    recurrence_id: str = ""  # "" for a single event; the occurrence's original start otherwise
    description: str = ""  # plain text
    description_html: str | None = None  # sanitised HTML when the source had markup
    location: str = ""
    geo: tuple[float, float] | None = None
    url: str | None = None
    categories: tuple[str, ...] = ()
    status: Status = Status.CONFIRMED
    tzid: str | None = None  # zone name the source gave, when it gave one


@dataclass(frozen=True)
class FeedParsed:
    kind: Kind
    events: list[EventParsed]
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0  # items that were not events (e.g. blog posts without an event date)
    calendar_tz: str | None = None  # X-WR-TIMEZONE or equivalent default zone


class ParseError(Exception):
    """The document as a whole is unusable (empty, HTML instead of ICS, ...)."""


@dataclass(frozen=True)
class EventIntent:
    """A normalised occurrence, ready to store."""

    source_id: str
    uid: str
    recurrence_id: str
    title: str
    start: dt.datetime  # UTC; for all-day events, local midnight of the first day
    end: dt.datetime | None  # UTC; exclusive; all-day: local midnight after the last day
    all_day: bool
    timezone: str
    description: str = ""
    description_html: str | None = None
    location: str = ""
    geo: tuple[float, float] | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    status: Status = Status.CONFIRMED
    territory: str | None = None


@dataclass(frozen=True)
class RefreshResult:
    source_id: str
    outcome: str  # "ok", "not_modified", "unchanged", "failed"
    http_status: int | None = None
    events: int = 0  # active events of the source after the refresh
    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    warnings: tuple[str, ...] = ()
    error: str | None = None
    duration: float = 0.0
    # (start, end or start) of each occurrence added, changed or removed, before and after
    # the change: the days dedup must work out again.
    touched: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
