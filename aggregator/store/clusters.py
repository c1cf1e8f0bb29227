"""Dedup in the store: recompute clusters after a refresh, record admin overrides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from aggregator.dedup import DedupRecord, JudgedPair, Overrides, decide, pairs_from
from aggregator.store import version
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


def recluster(engine: sa.Engine, since: dt.datetime, tz: ZoneInfo) -> ReclusterResult:
    """Cluster every active occurrence ending after `since`; write the ids that changed."""
    with engine.begin() as conn:
        # Streamed in batches: a list of 100k result rows beside the records would double
        # the memory this step needs.
        rows = conn.execute(
            sa.select(
                events.c.public_id, events.c.source_id, events.c.title, events.c.start_at,
                events.c.end_at, events.c.all_day, events.c.location, events.c.territory,
                events.c.uid, events.c.url, events.c.first_seen_at, events.c.cluster_id,
            ).where(
                events.c.removed_at.is_(None),
                sa.or_(events.c.end_at >= since, events.c.start_at >= since),
            ).execution_options(yield_per=5000)
        )  # fmt: skip
        records: list[DedupRecord] = []
        previous: dict[str, str] = {}
        # The occurrences of a series repeat their texts: keep one copy of each.
        texts: dict[str, str] = {}
        for r in rows:
            records.append(DedupRecord(
                id=r.public_id, source_id=r.source_id, title=texts.setdefault(r.title, r.title),
                start=r.start_at, end=r.end_at, all_day=r.all_day,
                location=texts.setdefault(r.location, r.location), territory=r.territory,
                uid=texts.setdefault(r.uid, r.uid), url=r.url and texts.setdefault(r.url, r.url),
                first_seen=r.first_seen_at,
            ))  # fmt: skip
            previous[r.public_id] = r.cluster_id
        del texts
        decisions = decide(records, previous, _overrides(conn), tz)
        clusters = decisions.clusters
        _write_pairs(conn, decisions.merged, decisions.doubtful)
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
        len(records), len(set(clusters.values())), len(changed), len(decisions.doubtful)
    )


def _write_pairs(conn: sa.Connection, merged: list[JudgedPair], doubtful: list[JudgedPair]) -> None:
    """The last dedup's merges (with their evidence) and doubtful pairs replace the
    previous ones: what admins see is what the agenda now shows."""
    now = dt.datetime.now(dt.UTC)
    conn.execute(dedup_pairs.delete())
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
