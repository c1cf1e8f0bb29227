"""Writes: one source refresh = one transaction.

A failed fetch or parse only updates the source's health; its events are untouched. A good
parse upserts by identity (source, UID, RECURRENCE-ID), bumps SEQUENCE on change, and marks
events that vanished as removed (kept, with the time) so the feeds can tell subscribers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from aggregator.model import (
    PROPOSALS_ID,
    EventIntent,
    FeedFetched,
    FetchOutcome,
    RefreshResult,
    SourceConfig,
)
from aggregator.rows import event_rows, public_id
from aggregator.store import version
from aggregator.store.admin import apply_territory_overrides
from aggregator.store.schema import events, fetch_log, sources


def sync_sources(engine: sa.Engine, configs: Sequence[SourceConfig], complete: bool = True) -> int:
    """Mirror sources.toml into the sources table (the web reads names from there). When
    `configs` is the whole file, sources no longer in it are retired (their events leave
    the agenda); returns how many events that removed."""
    with engine.begin() as conn:
        stored = {row.id: row for row in conn.execute(sa.select(sources)).mappings()}
        known = set(stored)
        renamed = False
        for config in configs:
            values = {
                "name": config.name,
                "url": config.url,
                "kind": str(config.kind),
                "website": config.website,
                "territory": config.territory,
                "enabled": config.enabled,
                "review": config.review,
            }
            if config.id in known:
                if any(stored[config.id][k] != v for k, v in values.items()):
                    conn.execute(sources.update().where(sources.c.id == config.id).values(values))
                    renamed = True
            else:
                renamed = True
                conn.execute(
                    sources.insert().values(
                        id=config.id,
                        consecutive_failures=0,
                        events_count=0,
                        skipped_count=0,
                        warnings=[],
                        **values,
                    )
                )
        if renamed:  # pages show sources' names and links: cached pages must go
            version.bump(conn)
        gone = known - {c.id for c in configs} - {PROPOSALS_ID}
        if gone and complete:
            return _retire(conn, sorted(gone), dt.datetime.now(dt.UTC))
        return 0


def retire_sources(engine: sa.Engine, source_ids: Sequence[str], now: dt.datetime) -> int:
    """A source taken out of sources.toml: its events leave the agenda at once (the merged
    ICS tells subscribers, as CANCELLED, like any removed event). Returns how many."""
    with engine.begin() as conn:
        return _retire(conn, source_ids, now)


def _retire(conn: sa.Connection, source_ids: Sequence[str], now: dt.datetime) -> int:
    current = events.c.source_id.in_(source_ids) & events.c.removed_at.is_(None)
    removed = conn.execute(events.update().where(current).values(removed_at=now)).rowcount
    conn.execute(
        sources.update()
        .where(sources.c.id.in_(source_ids))
        .values(enabled=False, events_count=0, body_hash=None, etag=None, last_modified=None)
    )
    if removed:
        version.bump(conn)
    return int(removed or 0)


def _active_count(conn: sa.Connection, source_id: str) -> int:
    query = sa.select(sa.func.count()).where(
        events.c.source_id == source_id, events.c.removed_at.is_(None)
    )
    return int(conn.execute(query).scalar_one())


def _log(conn: sa.Connection, result: RefreshResult, now: dt.datetime) -> None:
    conn.execute(
        fetch_log.insert().values(
            source_id=result.source_id,
            at=now,
            outcome=result.outcome,
            http_status=result.http_status,
            duration_ms=int(result.duration * 1000),
            events=result.events,
            added=result.added,
            updated=result.updated,
            removed=result.removed,
            warnings=len(result.warnings),
            error=result.error,
        )
    )


def record_failure(
    engine: sa.Engine, fetched: FeedFetched, error: str, now: dt.datetime, duration: float
) -> RefreshResult:
    """Only the source's health changes; its last good events stay as they are."""
    with engine.begin() as conn:
        conn.execute(
            sources.update()
            .where(sources.c.id == fetched.source_id)
            .values(
                last_fetch_at=now,
                last_outcome="failed",
                http_status=fetched.http_status,
                last_error=error,
                consecutive_failures=sources.c.consecutive_failures + 1,
                retry_after=fetched.retry_after,
            )
        )
        result = RefreshResult(
            fetched.source_id,
            "failed",
            fetched.http_status,
            _active_count(conn, fetched.source_id),
            error=error,
            duration=duration,
        )
        _log(conn, result, now)
    return result


def record_unchanged(
    engine: sa.Engine, fetched: FeedFetched, now: dt.datetime, duration: float
) -> RefreshResult:
    """304 or same body hash: nothing to parse, the source is healthy."""
    outcome = "not_modified" if fetched.outcome is FetchOutcome.NOT_MODIFIED else "unchanged"
    with engine.begin() as conn:
        conn.execute(
            sources.update()
            .where(sources.c.id == fetched.source_id)
            .values(
                last_fetch_at=now,
                last_success_at=now,
                last_outcome=outcome,
                http_status=fetched.http_status,
                last_error=None,
                consecutive_failures=0,
                retry_after=None,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
            )
        )
        count = _active_count(conn, fetched.source_id)
        result = RefreshResult(
            fetched.source_id, outcome, fetched.http_status, count, duration=duration
        )
        _log(conn, result, now)
    return result


def apply_refresh(
    engine: sa.Engine,
    fetched: FeedFetched,
    intents: Sequence[EventIntent],
    warnings: Sequence[str],
    skipped: int,
    window_start: dt.datetime,
    now: dt.datetime,
    duration: float,
    rows: Sequence[dict[str, object]] | None = None,
) -> RefreshResult:
    """Store a good parse; `rows` are event_rows(intents) when already worked out."""
    source_id = fetched.source_id
    rows = rows if rows is not None else event_rows(intents)
    with engine.begin() as conn:
        existing = {
            (row.uid, row.recurrence_id): row
            for row in conn.execute(
                sa.select(
                    events.c.id,
                    events.c.uid,
                    events.c.recurrence_id,
                    events.c.content_hash,
                    events.c.removed_at,
                    events.c.start_at,
                    events.c.end_at,
                    events.c.sequence,
                ).where(events.c.source_id == source_id)
            )
        }
        inserts, updates = [], []
        touched: list[tuple[dt.datetime, dt.datetime]] = []
        for intent, values in zip(intents, rows, strict=True):
            row = existing.pop((intent.uid, intent.recurrence_id), None)
            if row is None:
                touched.append((intent.start, intent.end or intent.start))
                inserts.append(
                    {
                        **values,
                        "source_id": source_id,
                        "uid": intent.uid,
                        "recurrence_id": intent.recurrence_id,
                        "public_id": public_id(source_id, intent.uid, intent.recurrence_id),
                        # Alone until dedup says otherwise.
                        "cluster_id": public_id(source_id, intent.uid, intent.recurrence_id),
                        "sequence": 0,
                        "first_seen_at": now,
                        "updated_at": now,
                        "removed_at": None,
                    }
                )
            elif row.content_hash != values["content_hash"] or row.removed_at is not None:
                touched += [(intent.start, intent.end or intent.start),
                            (row.start_at, row.end_at or row.start_at)]  # fmt: skip
                updates.append(
                    {
                        **values,
                        "_id": row.id,
                        "sequence": row.sequence + 1,
                        "updated_at": now,
                        "removed_at": None,
                    }
                )
        # Occurrences before the window are not "removed": they just fell out of it.
        vanished = [
            row
            for row in existing.values()
            if row.removed_at is None and row.start_at >= window_start
        ]
        touched += [(r.start_at, r.end_at or r.start_at) for r in vanished]
        if inserts:
            conn.execute(events.insert(), inserts)
        if updates:
            conn.execute(
                events.update().where(events.c.id == sa.bindparam("_id")),
                updates,
            )
        if vanished:
            conn.execute(
                events.update().where(events.c.id == sa.bindparam("_id")),
                [
                    {"_id": r.id, "removed_at": now, "sequence": r.sequence + 1, "updated_at": now}
                    for r in vanished
                ],
            )
        if inserts or updates:
            apply_territory_overrides(conn)  # admins' territories beat the tagger's
        if inserts or updates or vanished:
            version.bump(conn)
        count = _active_count(conn, source_id)
        conn.execute(
            sources.update()
            .where(sources.c.id == source_id)
            .values(
                last_fetch_at=now,
                last_success_at=now,
                last_outcome="ok",
                http_status=fetched.http_status,
                last_error=None,
                consecutive_failures=0,
                retry_after=None,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                body_hash=fetched.body_hash,
                events_count=count,
                skipped_count=skipped,
                warnings=list(warnings),
            )
        )
        result = RefreshResult(
            source_id,
            "ok",
            fetched.http_status,
            count,
            len(inserts),
            len(updates),
            len(vanished),
            skipped,
            tuple(warnings),
            duration=duration,
            touched=tuple(touched),
        )
        _log(conn, result, now)
    return result
