"""Dedup after one source's refresh: only the days it touched, against a whole recluster.

`python -m bench.incremental` (part of `make bench`). 50,000 occurrences (bench.web's 200
sources x 250); then one association changes (a) three of its events, (b) all 250 of them.
For each, in the same run, on the same database: the recluster of the touched days and a
whole recluster, best of 3, and their ratio; on SQLite and PostgreSQL (when reachable).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from aggregator.model import EventIntent, FeedFetched, FetchOutcome
from aggregator.store import open_engine
from aggregator.store.clusters import recluster
from aggregator.store.schema import events
from aggregator.store.write import apply_refresh
from bench.web import populate, postgres_schema

PARIS = ZoneInfo("Europe/Paris")


def source_events(engine: sa.Engine, source_id: str) -> list[EventIntent]:
    with engine.connect() as conn:
        mine = [events.c.source_id == source_id, events.c.removed_at.is_(None)]
        rows = conn.execute(sa.select(events).where(*mine)).all()
    return [
        EventIntent(
            source_id=r.source_id,
            uid=r.uid,
            recurrence_id=r.recurrence_id,
            title=r.title,
            start=r.start_at,
            end=r.end_at,
            all_day=r.all_day,
            timezone=r.timezone,
            description=r.description,
            location=r.location,
            territory=r.territory,
        )
        for r in rows
    ]


def best(run: object, times: int = 3) -> float:
    found = []
    for _ in range(times):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        found.append(time.perf_counter() - started)
    return min(found)


def measure(label: str, url: str) -> None:
    populate(url)
    engine = open_engine(url)
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=30)
    recluster(engine, since, PARIS)
    # The source as read back (its stored form), stored once: the changes below are then
    # only the ones made on purpose.
    intents = source_events(engine, "s1")
    fetched = FeedFetched("s1", FetchOutcome.FETCHED, 200, body_hash="read back")
    apply_refresh(engine, fetched, intents, [], 0, since, now, 0.0)
    recluster(engine, since, PARIS)
    for name, count in (("3 events changed", 3), ("all 250 events changed", 250)):
        changed = [replace(i, title=f"{i.title} (modifié)", start=i.start + dt.timedelta(
            hours=1)) if n < count else i for n, i in enumerate(intents)]  # fmt: skip
        fetched = FeedFetched("s1", FetchOutcome.FETCHED, 200, body_hash=name)
        result = apply_refresh(engine, fetched, changed, [], 0, since, now, 0.0)
        touched = result.touched
        done = recluster(engine, since, PARIS, touched)
        days = best(lambda: recluster(engine, since, PARIS, touched))  # noqa: B023
        whole = best(lambda: recluster(engine, since, PARIS))
        print(f"  {label}, {name}: touched days {days:.3f} s ({done.occurrences} occurrences"
              f" worked out) / whole {whole:.3f} s = {days / whole:.2f}")  # fmt: skip
        apply_refresh(engine, replace(fetched, body_hash="back"), intents, [], 0, since, now, 0)
        recluster(engine, since, PARIS)
    engine.dispose()


def main() -> None:
    print("incremental dedup: 50,000 occurrences, one source of 200 changed, best of 3")
    with tempfile.TemporaryDirectory() as tmp:
        measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
    url = postgres_schema("bench_incr")
    if url is not None:
        measure("PostgreSQL", url)


if __name__ == "__main__":
    main()
