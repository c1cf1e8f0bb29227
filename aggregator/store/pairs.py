"""What dedup decided, for admins: the doubtful pairs to review, why an event was merged,
and their decisions as labelled pairs (the next labelled set)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from aggregator.dedup import pairs_from
from aggregator.store.read import EventRow, occurrences
from aggregator.store.schema import dedup_overrides, dedup_pairs


@dataclass(frozen=True)
class PairView:
    first: EventRow  # one source's record each
    second: EventRow
    score: float
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    kind: str  # merge or split
    first: str
    second: str
    by: str
    at: dt.datetime


def _views(engine: sa.Engine, rows: Sequence[sa.Row[Any]]) -> list[PairView]:
    found = occurrences(engine, sorted({r.event_a for r in rows} | {r.event_b for r in rows}))
    return [
        PairView(found[r.event_a], found[r.event_b], r.score, dict(r.evidence or {}))
        for r in rows
        if r.event_a in found and r.event_b in found  # both still on the agenda
    ]


def doubtful_pairs(engine: sa.Engine, limit: int = 200) -> tuple[list[PairView], int]:
    """Pairs between the two thresholds that no admin has decided yet, likeliest first
    (at most `limit`), and how many there are in all."""
    decided = sa.select(dedup_overrides.c.id).where(
        sa.or_(
            sa.and_(dedup_overrides.c.event_a == dedup_pairs.c.event_a,
                    dedup_overrides.c.event_b == dedup_pairs.c.event_b),
            sa.and_(dedup_overrides.c.event_a == dedup_pairs.c.event_b,
                    dedup_overrides.c.event_b == dedup_pairs.c.event_a),
        )
    )  # fmt: skip
    undecided = (dedup_pairs.c.status == "doubtful", ~decided.exists())
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(dedup_pairs)
            .where(*undecided)
            .order_by(dedup_pairs.c.score.desc(), dedup_pairs.c.id)
            .limit(limit)
        ).all()
        total = conn.execute(
            sa.select(sa.func.count()).select_from(dedup_pairs).where(*undecided)
        ).scalar_one()
    return _views(engine, rows), int(total)


def merge_reasons(engine: sa.Engine, members: Sequence[str]) -> list[PairView]:
    """The scored pairs that joined an event's records."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(dedup_pairs).where(
                dedup_pairs.c.status == "merged",
                sa.or_(dedup_pairs.c.event_a.in_(members), dedup_pairs.c.event_b.in_(members)),
            ).order_by(dedup_pairs.c.score.desc())
        ).all()  # fmt: skip
    return _views(engine, rows)


def decisions(engine: sa.Engine, members: Sequence[str] | None = None) -> list[Decision]:
    """Admins' merge and split decisions, oldest first (about `members`, if given)."""
    statement = sa.select(dedup_overrides).order_by(dedup_overrides.c.id)
    if members is not None:
        statement = statement.where(
            sa.or_(dedup_overrides.c.event_a.in_(members),
                   dedup_overrides.c.event_b.in_(members))
        )  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    return [Decision(r.kind, r.event_a, r.event_b, r.created_by, r.created_at) for r in rows]


def labelled(engine: sa.Engine) -> list[tuple[bool, EventRow, EventRow]]:
    """Each decided pair still on the agenda, as a label (True: one event), the latest
    decision on a pair winning as in dedup (`pairs_from`): admins' decisions become the next
    labelled pairs."""
    overrides = pairs_from((d.kind, d.first, d.second) for d in decisions(engine))
    labels: list[tuple[bool, str, str]] = []
    for same, pairs in ((True, overrides.merge), (False, overrides.split)):
        for pair in pairs:
            first, second = sorted(pair)
            labels.append((same, first, second))
    labels.sort()
    found = occurrences(engine, sorted({i for _, a, b in labels for i in (a, b)}))
    return [
        (same, found[first], found[second])
        for same, first, second in labels
        if first in found and second in found
    ]
