"""Dedup in the store: recompute clusters after a refresh, record admin overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from aggregator import gc_pause
from aggregator.dedup import (
    JudgedPair,
    Overrides,
    decide,
    pairs_from,
    settle,
)
from aggregator.store import version
from aggregator.store.by_days import active_since, records_where, scored_by_days, window_weights
from aggregator.store.schema import dedup_overrides, dedup_pairs, events
from aggregator.store.write import retire_sources


@dataclass(frozen=True)
class ReclusterResult:
    occurrences: int
    clusters: int
    changed: int  # occurrences whose cluster id changed
    doubtful: int = 0  # pairs left for an admin to review


class UnknownEvent(LookupError):
    pass


def _overrides(conn: sa.Connection) -> Overrides:
    rows = conn.execute(
        sa.select(
            dedup_overrides.c.kind, dedup_overrides.c.event_a, dedup_overrides.c.event_b
        ).order_by(dedup_overrides.c.id)
    )
    return pairs_from((r.kind, r.event_a, r.event_b) for r in rows)


Span = tuple[dt.datetime, dt.datetime]  # an occurrence's start and end (or start), UTC
INCREMENTAL_DAYS = 120  # past this many days to redo, a whole recluster costs about the same


def recluster(
    engine: sa.Engine,
    since: dt.datetime,
    tz: ZoneInfo,
    touched: Sequence[Span] | None = None,
    processes: int = 1,
) -> ReclusterResult:
    """Cluster the active occurrences ending after `since`; write the ids that changed.

    `touched`: the spans of the occurrences a refresh added, changed or removed (before and
    after). Then only the days they fall on are worked out again: every occurrence compared
    on those days, with the other members of the events they belong to, scored with the
    word weights of the whole window's titles and in the whole recluster's order. Other
    days keep their decisions: pairs elsewhere keep their scores but for the slow drift of
    the word weights, and a chain of multi-day events linking distant days is cut at the
    touched days' clusters; a whole recluster (after sources are deleted, at start, and
    every few hours by the scheduler) settles both. The stored pairs of every occurrence
    worked out are rewritten, so a doubtful pair between a member met on another day and
    an occurrence of that day left out also waits for the whole recluster. Tested against
    whole reclusters.

    A whole recluster scores the window a few days at a time (aggregator.store.by_days):
    in this process (`processes=1`), or in that many processes, which share the scoring of
    a large window (both cores). Only pairs cross days, so memory holds one stretch of
    days' occurrences, not the window's. `processes=0` scores the whole window at once
    (the way before, kept for comparison)."""
    # The collector paused: reading, scoring and settling build acyclic values by the
    # hundred thousand (aggregator.gc_pause).
    with gc_pause.paused(), engine.begin() as conn:
        window = active_since(since)
        overrides = _overrides(conn)
        decisions = None
        if touched is not None:
            if not touched:
                return ReclusterResult(0, 0, 0, 0)
            days, nearby = _nearby(conn, window, touched, tz, overrides)
            if len(days) <= INCREMENTAL_DAYS:
                records, previous = records_where(conn, [*window, nearby])
                weights = window_weights(conn, since)  # as decide() would learn them
                decisions = decide(records, previous, overrides, tz, weights)
                count = len(records)
            else:
                touched = None  # most of the window: a whole recluster
        if decisions is None and processes == 0:
            records, previous = records_where(conn, window)
            decisions = decide(records, previous, overrides, tz)
            count = len(records)
        elif decisions is None:
            with scored_by_days(engine, conn, since, tz, processes) as scored:
                members, previous = _clustering_members(conn, window)
                decisions = settle(members, scored, previous, overrides)
            count = len(members)
        clusters = decisions.clusters
        _write_pairs(conn, decisions.merged, decisions.doubtful,
                     None if touched is None else list(clusters))  # fmt: skip
        changed = [
            {"_pid": pid, "cluster_id": cid}
            for pid, cid in clusters.items()
            if previous[pid] != cid
        ]
        if changed:
            version.bump(conn)
            conn.execute(
                events.update()
                .where(events.c.public_id == sa.bindparam("_pid"))
                .values(cluster_id=sa.bindparam("cluster_id")),
                changed,
            )
    return ReclusterResult(
        count, len(set(clusters.values())), len(changed), len(decisions.doubtful)
    )


@dataclass(frozen=True, slots=True)
class _Member:
    id: str
    source_id: str
    first_seen: dt.datetime | None


def _clustering_members(
    conn: sa.Connection, window: Sequence[sa.ColumnElement[bool]]
) -> tuple[list[_Member], dict[str, str]]:
    """What clustering needs of every occurrence (not its texts), in records_where's
    order."""
    rows = conn.execute(
        sa.select(events.c.public_id, events.c.source_id, events.c.first_seen_at,
                  events.c.cluster_id)
        .where(*window)
        .order_by(events.c.start_at, events.c.public_id)
        .execution_options(yield_per=5000)
    )  # fmt: skip
    members: list[_Member] = []
    previous: dict[str, str] = {}
    sources: dict[str, str] = {}
    for r in rows:
        members.append(_Member(r.public_id, sources.setdefault(r.source_id, r.source_id),
                               r.first_seen_at))  # fmt: skip
        previous[r.public_id] = r.cluster_id
    return members, previous


def _local_days(start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> set[dt.date]:
    first, last = start.astimezone(tz).date(), max(start, end).astimezone(tz).date()
    return {first + dt.timedelta(days=n) for n in range(min((last - first).days, 400) + 1)}


def _on_days(days: set[dt.date], tz: ZoneInfo) -> sa.ColumnElement[bool]:
    """Occurrences compared on any of these local days (runs of days as one range): a
    timed one on its start's day, an all-day one on each of its days."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if ranges and ranges[-1][1] + dt.timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    found = []
    for first, last in ranges:
        low = dt.datetime.combine(first, dt.time(), tz)
        high = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
        starts = sa.and_(events.c.start_at >= low, events.c.start_at < high)
        spans = sa.and_(events.c.all_day, events.c.start_at < high, events.c.end_at > low)
        found.append(sa.or_(starts, spans))
    return sa.or_(*found)


def _nearby(
    conn: sa.Connection,
    window: list[sa.ColumnElement[bool]],
    touched: Sequence[Span],
    tz: ZoneInfo,
    overrides: Overrides,
) -> tuple[set[dt.date], sa.ColumnElement[bool]]:
    """The days the changes fall on, and what to work out again: every occurrence compared
    on those days, with the other members of the events they belong to (wherever those
    are) and an admin's merge partners."""
    days: set[dt.date] = set()
    for start, end in touched:
        days |= _local_days(start, end, tz)
    on_days = _on_days(days, tz)
    rows = conn.execute(sa.select(events.c.public_id, events.c.cluster_id)
                        .where(*window, on_days)).all()  # fmt: skip
    partners = {b for r in rows for pair in overrides.merge if r.public_id in pair for b in pair}
    clusters = sorted({r.cluster_id for r in rows})
    return days, sa.or_(on_days, events.c.cluster_id.in_(clusters),
                        events.c.public_id.in_(sorted(partners)))  # fmt: skip


def _write_pairs(
    conn: sa.Connection,
    merged: list[JudgedPair],
    doubtful: list[JudgedPair],
    among: list[str] | None = None,
) -> None:
    """The last dedup's merges (with their evidence) and doubtful pairs replace the
    previous ones (`among`: those of these occurrences, after a recluster of some days):
    what admins see is what the agenda now shows."""
    now = dt.datetime.now(dt.UTC)
    if among is None:
        conn.execute(dedup_pairs.delete())
    else:
        for at in range(0, len(among), 500):
            ids = among[at : at + 500]
            conn.execute(dedup_pairs.delete().where(
                dedup_pairs.c.event_a.in_(ids) | dedup_pairs.c.event_b.in_(ids)))  # fmt: skip
    rows = [
        {"event_a": p.first, "event_b": p.second, "status": status,
         "score": p.verdict.score, "evidence": dict(p.verdict.evidence), "computed_at": now}
        for status, found in (("merged", merged), ("doubtful", doubtful))
        for p in found
    ]  # fmt: skip
    if rows:
        conn.execute(dedup_pairs.insert(), rows)


def _members(conn: sa.Connection, event_id: str) -> list[str]:
    """Occurrence ids behind an id that is either an occurrence's or a cluster's."""
    found = (
        conn.execute(
            sa.select(events.c.public_id).where(
                sa.or_(events.c.public_id == event_id, events.c.cluster_id == event_id)
            )
        )
        .scalars()
        .all()
    )
    if not found:
        raise UnknownEvent(event_id)
    return list(found)


def _representative(conn: sa.Connection, event_id: str) -> str:
    """The occurrence that stands for an event: the one its id comes from, if present."""
    members = _members(conn, event_id)
    return event_id if event_id in members else min(members)


def record_override(
    engine: sa.Engine, kind: str, first: str, second: str, who: str, now: dt.datetime
) -> int:
    """merge: one pair joining the two events (whole clusters follow, earlier splits still
    hold); split: every occurrence behind `first` kept apart from every one behind
    `second`. Returns the number of pairs recorded."""
    if kind not in ("merge", "split"):
        raise ValueError(kind)
    with engine.begin() as conn:
        if kind == "merge":
            a, b = _representative(conn, first), _representative(conn, second)
            pairs = [(a, b)] if a != b else []
        else:
            pairs = [
                (a, b) for a in _members(conn, first) for b in _members(conn, second) if a != b
            ]
        if pairs:
            conn.execute(
                dedup_overrides.insert(),
                [
                    {"kind": kind, "event_a": a, "event_b": b, "created_by": who,
                     "created_at": now}
                    for a, b in pairs
                ],
            )  # fmt: skip
    return len(pairs)


def retire(
    engine: sa.Engine, source_ids: list[str], now: dt.datetime, since: dt.datetime, tz: ZoneInfo
) -> int:
    """Deleted sources' events leave the agenda now, and the clusters they were in are
    worked out again (the admin's delete button, `aggregator sources remove`)."""
    removed = retire_sources(engine, source_ids, now)
    if removed:
        recluster(engine, since, tz)
    return removed
