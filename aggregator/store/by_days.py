"""Dedup scoring of a long window a few days at a time, here or in worker processes.

Two occurrences are compared only when they share a local day (aggregator.dedup), so the
window's pairs are the union of each stretch of days' pairs: a stretch's occurrences are
read, scored and dropped before the next, and memory holds one stretch, not 100k
occurrences with their prepared texts. Stretches are independent, so several processes can
score them side by side: each reads its stretches from the database itself (only the pairs
travel back) with the window's word weights, given once. The caller settles the clusters
from all the pairs (dedup.settle).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from aggregator import gc_pause
from aggregator.dedup import MAX_ALL_DAY_DAYS, DedupRecord, JudgedPair, Texts, forget, score
from aggregator.dedup_words import WordWeights
from aggregator.search import fold
from aggregator.store.schema import events

DAYS_AT_ONCE = 7  # a week of a dense agenda: a few thousand occurrences
# Fewer occurrences than this are scored here: starting processes would cost more.
PARALLEL_FROM = 20_000
# Distinct titles worked out and kept for the next stretches (a series' occurrences share
# theirs) before starting afresh: about 3 stretches of a dense agenda, 10-15 MB.
TEXTS_AT_MOST = 5_000
# Distinct places kept when the titles start afresh: an agenda's venues come back every
# week (a few thousand; past this many, they start afresh too).
PLACES_AT_MOST = 5_000
COLUMNS = ("public_id", "source_id", "title", "start_at", "end_at", "all_day", "location",
           "territory", "uid", "url", "first_seen_at", "cluster_id")  # fmt: skip


def records_where(
    conn: sa.Connection, where: Sequence[sa.ColumnElement[bool]]
) -> tuple[list[DedupRecord], dict[str, str]]:
    """The occurrences to compare, and their cluster ids now."""
    # Streamed in batches: a list of 100k result rows beside the records would double the
    # memory this step needs. In a fixed order, so that a recluster of some days decides
    # ties as the whole one does.
    rows = conn.execute(
        sa.select(*(events.c[name] for name in COLUMNS))
        .where(*where)
        .order_by(events.c.start_at, events.c.public_id)
        .execution_options(yield_per=5000)
    )
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
    return records, previous


def active_since(since: dt.datetime) -> list[sa.ColumnElement[bool]]:
    """The active occurrences ending after `since`: those a recluster works on."""
    return [events.c.removed_at.is_(None),
            sa.or_(events.c.end_at >= since, events.c.start_at >= since)]  # fmt: skip


Stretch = tuple[dt.date, dt.date]  # first and last local day


def stretches(conn: sa.Connection, since: dt.datetime, tz: ZoneInfo) -> tuple[list[Stretch], int]:
    """The window's local days, DAYS_AT_ONCE at a time, and its number of occurrences."""
    first, last, count = conn.execute(
        sa.select(sa.func.min(events.c.start_at), sa.func.max(events.c.start_at),
                  sa.func.count()).where(*active_since(since))
    ).one()  # fmt: skip
    if first is None:
        return [], 0
    day = first.astimezone(tz).date()
    # An all-day occurrence is compared on its first MAX_ALL_DAY_DAYS days.
    end = last.astimezone(tz).date() + dt.timedelta(days=MAX_ALL_DAY_DAYS - 1)
    found = []
    while day <= end:
        found.append((day, min(end, day + dt.timedelta(days=DAYS_AT_ONCE - 1))))
        day += dt.timedelta(days=DAYS_AT_ONCE)
    return found, count


def score_stretch(
    conn: sa.Connection,
    since: dt.datetime,
    stretch: Stretch,
    tz: ZoneInfo,
    weights: WordWeights,
    texts: Texts | None = None,
) -> list[JudgedPair]:
    """The pairs compared on these days: every occurrence of the window on one of them."""
    first, last = stretch
    low = dt.datetime.combine(first, dt.time(), tz)
    high = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
    on_days = [
        events.c.start_at < high,
        # (an index range: nothing starting earlier is compared on these days)
        events.c.start_at >= low - dt.timedelta(days=MAX_ALL_DAY_DAYS),
        sa.or_(events.c.start_at >= low, sa.and_(events.c.all_day, events.c.end_at > low)),
    ]
    with gc_pause.paused():  # reading builds as many acyclic values as scoring
        records, _ = records_where(conn, [*active_since(since), *on_days])
        return score(records, tz, weights, stretch, texts)


class _Kept:
    """The texts worked out for the stretches scored so far, started afresh (with the
    dedup's caches) past TEXTS_AT_MOST titles; places are kept unless they pass
    PLACES_AT_MOST."""

    def __init__(self) -> None:
        self.texts = Texts()

    def __call__(self) -> Texts:
        if len(self.texts.titles) > TEXTS_AT_MOST:
            places = len(self.texts.places) <= PLACES_AT_MOST
            self.texts = Texts(self.texts if places else None)
            forget(stretch=places)
        return self.texts


def window_weights(conn: sa.Connection, since: dt.datetime) -> WordWeights:
    """Word weights from the distinct titles of the whole window."""
    with gc_pause.paused():
        titles = conn.execute(sa.select(events.c.title).where(*active_since(since)).distinct())
        weights = WordWeights.learn(titles.scalars())
    # Learning folded every title of the window (8 MB for 44k titles, kept by fold's
    # cache): the stretches fold only theirs, a few at a time.
    fold.cache_clear()
    return weights


@contextlib.contextmanager
def scored_by_days(
    engine: sa.Engine,
    conn: sa.Connection,
    since: dt.datetime,
    tz: ZoneInfo,
    processes: int = 1,
) -> Iterator[Iterator[JudgedPair]]:
    """Every pair of the window worth keeping, a stretch of days at a time, with the word
    weights of the whole window: read through `conn` here as the pairs are asked for, or by
    `processes` worker processes with connections of their own, started at once (each
    learns the weights itself, and the caller's own reading meanwhile runs beside them).
    Not in processes for an in-memory SQLite database, which only this process sees."""
    found, count = stretches(conn, since, tz)
    url = engine.url
    shared = not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
    if processes <= 1 or len(found) < 2 or not shared or count < PARALLEL_FROM:
        weights = window_weights(conn, since)
        kept = _Kept()  # a series' titles and a venue's places, worked out once
        yield (pair for stretch in found
               for pair in score_stretch(conn, since, stretch, tz, weights, kept()))  # fmt: skip
        return
    # forkserver: the caller may have threads (scheduler, web server), see aggregator.budget.
    context = multiprocessing.get_context("forkserver")
    # One fork server per process: if the parser processes started it, it keeps their
    # preload (aggregator.prepare) and these workers import this module themselves.
    context.set_forkserver_preload([__name__])
    address = url.render_as_string(hide_password=False)
    with ProcessPoolExecutor(
        min(processes, len(found)), mp_context=context, initializer=_start_worker,
        initargs=(address, since, str(tz)),
    ) as pool:  # fmt: skip
        results = pool.map(_score_in_worker, found)  # every stretch submitted now
        yield (pair for pairs in results for pair in pairs)


# A worker's state, set once by _start_worker: its engine and what every stretch shares.
_worker: dict[str, Any] = {}


def _start_worker(address: str, since: dt.datetime, tz: str) -> None:
    from aggregator.store import make_engine

    engine = make_engine(address)
    with engine.connect() as conn:
        weights = window_weights(conn, since)
    _worker.update(engine=engine, since=since, tz=ZoneInfo(tz), weights=weights, texts=_Kept())


def _score_in_worker(stretch: Stretch) -> list[JudgedPair]:
    w = _worker
    with w["engine"].connect() as conn:
        return score_stretch(conn, w["since"], stretch, w["tz"], w["weights"], w["texts"]())
