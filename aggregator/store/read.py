"""Reads: what the web app and the feeds need. Nothing here writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from aggregator.search import LIGATURES, fold, written_out
from aggregator.store.schema import events, moderation, sources


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
    public: bool = True  # hide what admins hid and what waits in the review queue


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
    members: tuple[str, ...] = ()  # ids of the occurrences merged into this event
    first_seen: dt.datetime | None = None  # when the agenda first published it


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


def _moderated(query: EventQuery) -> list[sa.ColumnElement[bool]]:
    if not query.public:
        return []
    hidden = sa.select(moderation.c.cluster_id).where(moderation.c.hidden)
    approved = sa.select(moderation.c.cluster_id).where(moderation.c.approved)
    reviewed = sa.select(sources.c.id).where(sources.c.review)
    return [
        events.c.cluster_id.not_in(hidden),
        sa.or_(events.c.source_id.not_in(reviewed), events.c.cluster_id.in_(approved)),
    ]


def _conditions(query: EventQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = _moderated(query)
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
        where.append(sa.or_(*(
            events.c.search_text.like(f"%{_like_escape(spelling)}%", escape="\\")
            for spelling in _spellings(word)
        )))  # fmt: skip
    return where


def _spellings(word: str) -> list[str]:
    """A searched word as publishers write it: with its ligatures or without ("cœur" /
    "coeur", "sœur" / "soeur"), which folding keeps apart."""
    spelled = written_out(word)
    if not any(out in spelled for out in LIGATURES.values()):
        return [word]
    tied = spelled
    for ligature, out in LIGATURES.items():
        tied = tied.replace(out, ligature)
    return sorted({word, spelled, tied})


UID_DOMAIN = "agenda-ess05"


def _member_rows(
    engine: sa.Engine,
    query: EventQuery,
    cluster_ids: sa.Subquery | None,
    where: Sequence[sa.ColumnElement[bool]],
) -> Sequence[sa.Row[Any]]:
    statement = sa.select(events, sources.c.name.label("source_name"), sources.c.website).join(
        sources, sources.c.id == events.c.source_id
    )
    if cluster_ids is not None:
        statement = statement.join(cluster_ids, cluster_ids.c.cluster_id == events.c.cluster_id)
    statement = statement.where(*where)
    if not query.include_removed:
        statement = statement.where(events.c.removed_at.is_(None))
    with engine.connect() as conn:
        return conn.execute(statement.order_by(events.c.start_at, events.c.id)).all()


PAGE_BATCH = 500


def _page_clusters(engine: sa.Engine, query: EventQuery, limit: int) -> list[str]:
    """The clusters of one page, walking matching occurrences in start order (the start_at
    index) until enough distinct clusters are seen: a page never groups the whole table."""
    wanted = query.offset + limit
    seen: dict[str, None] = {}
    after: tuple[dt.datetime, int] | None = None
    base = sa.select(events.c.cluster_id, events.c.start_at, events.c.id).where(*_conditions(query))
    with engine.connect() as conn:
        while len(seen) < wanted:
            statement = base
            if after is not None:
                start, ident = after
                statement = statement.where(
                    sa.or_(
                        events.c.start_at > start,
                        sa.and_(events.c.start_at == start, events.c.id > ident),
                    )
                )
            rows = conn.execute(
                statement.order_by(events.c.start_at, events.c.id).limit(PAGE_BATCH)
            ).all()
            for row in rows:
                seen.setdefault(row.cluster_id, None)
            if len(rows) < PAGE_BATCH:
                break
            after = (rows[-1].start_at, rows[-1].id)
    return list(seen)[query.offset : wanted]


def query_events(engine: sa.Engine, query: EventQuery) -> list[EventRow]:
    """Merged events (one per dedup cluster) with at least one occurrence matching the
    filters, ordered by start; every publisher of a cluster is listed, whatever the filters."""
    if query.limit is not None:
        page = _page_clusters(engine, query, query.limit)
        if not page:
            return []
        rows = _member_rows(engine, query, None, [events.c.cluster_id.in_(page)])
    else:
        matching = (
            sa.select(events.c.cluster_id)
            .where(*_conditions(query))
            .distinct()
            .offset(query.offset)
        )
        rows = _member_rows(engine, query, matching.subquery(), [])
    groups: dict[str, list[EventRow]] = {}
    for row in rows:
        groups.setdefault(row._mapping["cluster_id"], []).append(_event(row))
    merged = []
    for cid, members in groups.items():
        active = [m for m in members if m.removed_at is None]
        merged.append(merge(cid, active or members))  # removed records no longer speak
    ordered = sorted(merged, key=lambda e: (e.start, e.title, e.id))
    return ordered if query.limit is not None else ordered[query.offset :]


def count_events(engine: sa.Engine, query: EventQuery) -> int:
    statement = sa.select(sa.func.count(sa.distinct(events.c.cluster_id))).where(
        *_conditions(query)
    )
    with engine.connect() as conn:
        return int(conn.execute(statement).scalar_one())


def get_event(engine: sa.Engine, event_id: str) -> EventRow | None:
    """A merged event by its id (the cluster id), or by one of its occurrences' ids."""
    found = event_records(engine, event_id)
    return found[0] if found else None


def event_records(engine: sa.Engine, event_id: str) -> tuple[EventRow, list[EventRow]] | None:
    """As get_event, with the records on the agenda that the event is made of."""
    with engine.connect() as conn:
        cluster_id = conn.execute(
            sa.select(events.c.cluster_id).where(
                sa.or_(events.c.cluster_id == event_id, events.c.public_id == event_id)
            )
        ).scalar()
    if cluster_id is None:
        return None
    rows = _member_rows(engine, EventQuery(include_removed=True), None,
                        [events.c.cluster_id == cluster_id])  # fmt: skip
    members = [_event(r) for r in rows]
    active = [m for m in members if m.removed_at is None]
    return merge(cluster_id, active or members), active


def occurrences(engine: sa.Engine, ids: Sequence[str]) -> dict[str, EventRow]:
    """Single records (not merged events) by their public ids; removed ones left out."""
    if not ids:
        return {}
    rows = _member_rows(engine, EventQuery(), None, [events.c.public_id.in_(list(ids))])
    return {row._mapping["public_id"]: _event(row) for row in rows}


def _richness(event: EventRow) -> tuple[int, int]:
    return (
        len(event.description) + 40 * bool(event.url) + len(event.location)
        + 30 * (not event.all_day) + 20 * bool(event.geo),
        -len(event.id),
    )  # fmt: skip


def merge(cluster_id: str, members: list[EventRow]) -> EventRow:
    """One event from the records of several sources: the richest record's title and
    times (a timed record beats an all-day one), the longest description and the most
    precise place, the union of tags, every publisher."""
    if len(members) == 1 and members[0].id == cluster_id:
        return members[0]
    richest = max(members, key=_richness)
    timed = richest if not richest.all_day else next((m for m in members if not m.all_day), richest)
    described = max(members, key=lambda m: len(m.description))
    placed = max(members, key=lambda m: len(m.location))
    tags: dict[str, None] = {}
    for member in members:
        tags.update(dict.fromkeys(member.tags))
    publishers: dict[str, SourceRef] = {}
    for member in sorted(members, key=lambda m: m.sources[0].name):
        for ref in member.sources:
            publishers.setdefault(ref.id, ref)
    removed = [m.removed_at for m in members]
    return EventRow(
        id=cluster_id,
        uid=f"{cluster_id}@{UID_DOMAIN}",
        title=richest.title,
        start=timed.start,
        end=timed.end,
        all_day=timed.all_day,
        timezone=timed.timezone,
        location=placed.location,
        territory=placed.territory or next((m.territory for m in members if m.territory), None),
        tags=tuple(tags),
        sources=tuple(publishers.values()),
        url=richest.url or next((m.url for m in members if m.url), None),
        description=described.description,
        description_html=described.description_html,
        # A cancellation by any publisher is news a resident must see.
        status="cancelled" if any(m.status == "cancelled" for m in members) else richest.status,
        geo=next((m.geo for m in members if m.geo), None),
        sequence=max(m.sequence for m in members),
        updated_at=max((m.updated_at for m in members if m.updated_at), default=None),
        removed_at=max(removed) if all(removed) else None,  # type: ignore[type-var]
        members=tuple(sorted(m.id for m in members)),
        first_seen=min((m.first_seen for m in members if m.first_seen), default=None),
    )


def _event(row: sa.Row[tuple[object, ...]]) -> EventRow:
    m = row._mapping
    geo = (m["geo_lat"], m["geo_lon"]) if m["geo_lat"] is not None else None
    return EventRow(
        id=m["public_id"],
        uid=f"{m['public_id']}@{UID_DOMAIN}",
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
        members=(m["public_id"],),
        first_seen=m["first_seen_at"],
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
