"""Reads: what the web app and the feeds need. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from aggregator.search import fold
from aggregator.store.schema import events, sources


@dataclass(frozen=True)
class EventQuery:
    start: dt.datetime | None = None  # events ending after this instant
    end: dt.datetime | None = None  # events starting before this instant
    territories: Sequence[str] = ()
    tags: Sequence[str] = ()
    sources: Sequence[str] = ()
    q: str = ""
    include_removed: bool = False
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class SourceRef:
    id: str
    name: str
    url: str | None  # the event's page at that source, else the association's site


@dataclass(frozen=True)
class EventRow:
    id: str
    uid: str
    title: str
    start: dt.datetime  # UTC
    end: dt.datetime | None  # UTC, exclusive
    all_day: bool
    timezone: str
    location: str
    territory: str | None
    tags: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    url: str | None
    description: str
    description_html: str | None
    status: str
    geo: tuple[float, float] | None = None
    sequence: int = 0
    updated_at: dt.datetime | None = None
    removed_at: dt.datetime | None = None


@dataclass(frozen=True)
class SourceHealth:
    id: str
    name: str
    url: str
    website: str | None
    enabled: bool
    last_fetch_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_outcome: str | None
    http_status: int | None
    last_error: str | None
    consecutive_failures: int
    events_count: int
    skipped_count: int
    warnings: list[str] = field(default_factory=list)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(query: EventQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if not query.include_removed:
        where.append(events.c.removed_at.is_(None))
    if query.start is not None:
        where.append(
            sa.or_(
                events.c.end_at > query.start,
                sa.and_(events.c.end_at.is_(None), events.c.start_at >= query.start),
            )
        )
    if query.end is not None:
        where.append(events.c.start_at < query.end)
    if query.territories:
        where.append(events.c.territory.in_(list(query.territories)))
    if query.sources:
        where.append(events.c.source_id.in_(list(query.sources)))
    if query.tags:
        tag_matches = [
            events.c.tags.like(f"%|{_like_escape(t.strip().lower())}|%", escape="\\")
            for t in query.tags
        ]
        where.append(sa.or_(*tag_matches))
    for word in fold(query.q).split():
        where.append(events.c.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
    return where


def query_events(engine: sa.Engine, query: EventQuery) -> list[EventRow]:
    statement = (
        sa.select(events, sources.c.name.label("source_name"), sources.c.website)
        .join(sources, sources.c.id == events.c.source_id)
        .where(*_conditions(query))
        .order_by(events.c.start_at, events.c.title, events.c.id)
        .offset(query.offset)
    )
    if query.limit is not None:
        statement = statement.limit(query.limit)
    with engine.connect() as conn:
        return [_event(row) for row in conn.execute(statement)]


def count_events(engine: sa.Engine, query: EventQuery) -> int:
    statement = sa.select(sa.func.count()).select_from(events).where(*_conditions(query))
    with engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def get_event(engine: sa.Engine, public_id: str) -> EventRow | None:
    statement = (
        sa.select(events, sources.c.name.label("source_name"), sources.c.website)
        .join(sources, sources.c.id == events.c.source_id)
        .where(events.c.public_id == public_id)
    )
    with engine.connect() as conn:
        row = conn.execute(statement).first()
    return _event(row) if row else None


def _event(row: sa.Row[tuple[object, ...]]) -> EventRow:
    m = row._mapping
    geo = (m["geo_lat"], m["geo_lon"]) if m["geo_lat"] is not None else None
    return EventRow(
        id=m["public_id"],
        uid=m["uid"],
        title=m["title"],
        start=m["start_at"],
        end=m["end_at"],
        all_day=m["all_day"],
        timezone=m["timezone"],
        location=m["location"],
        territory=m["territory"],
        tags=tuple(t for t in m["tags"].split("|") if t),
        sources=(SourceRef(m["source_id"], m["source_name"], m["url"] or m["website"]),),
        url=m["url"],
        description=m["description"],
        description_html=m["description_html"],
        status=m["status"],
        geo=geo,
        sequence=m["sequence"],
        updated_at=m["updated_at"],
        removed_at=m["removed_at"],
    )


def source_health(engine: sa.Engine) -> list[SourceHealth]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sources).order_by(sources.c.name)).mappings().all()
    return [
        SourceHealth(
            id=r["id"],
            name=r["name"],
            url=r["url"],
            website=r["website"],
            enabled=r["enabled"],
            last_fetch_at=r["last_fetch_at"],
            last_success_at=r["last_success_at"],
            last_outcome=r["last_outcome"],
            http_status=r["http_status"],
            last_error=r["last_error"],
            consecutive_failures=r["consecutive_failures"],
            events_count=r["events_count"],
            skipped_count=r["skipped_count"],
            warnings=list(r["warnings"] or []),
        )
        for r in rows
    ]


def last_refresh(engine: sa.Engine) -> dt.datetime | None:
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(sources.c.last_fetch_at))).scalar_one()
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def ping(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return False
    return True
