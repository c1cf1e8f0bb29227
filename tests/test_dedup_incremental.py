"""Dedup after a refresh works out again only the days the refresh changed, and ends where
a whole recluster ends: same clusters, same merges and doubtful pairs (SQLite and
PostgreSQL, generated agendas with duplicates across sources, multi-day events, an admin's
merge across days)."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from aggregator.model import EventIntent, FeedFetched, FetchOutcome, RefreshResult, SourceConfig
from aggregator.store import open_engine
from aggregator.store.clusters import recluster, record_override
from aggregator.store.schema import dedup_pairs, events
from aggregator.store.write import apply_refresh, sync_sources

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(days=30)
TITLES = [
    "Repair café",
    "Atelier vélo",
    "Marché paysan",
    "Concert de soutien",
    "AG de l'asso",
    "Ciné-débat climat",
    "Vide-grenier",
    "Balade botanique",
    "Soirée jeux",
    "Chorale",
]
TOWNS = {"Gap": "gap-tallard-durance", "Embrun": "serre-poncon", "Briançon": "brianconnais"}


def agenda(seed: int, sources: int = 12, per_source: int = 60) -> dict[str, list[EventIntent]]:
    """Sources re-publishing a shared pool of events (reworded now and then), plus their
    own; some all-day and multi-day."""
    rng = random.Random(seed)
    pool = []
    for n in range(80):
        day = NOW + dt.timedelta(days=rng.randrange(-5, 90))
        start = day.replace(hour=rng.choice([9, 14, 18, 20]), minute=0)
        town = rng.choice(sorted(TOWNS))
        pool.append((rng.choice(TITLES), start, town, rng.random() < 0.15, n))
    feeds: dict[str, list[EventIntent]] = {}
    for s in range(sources):
        chosen = rng.sample(pool, per_source // 2)
        intents = []
        for k, (title, start, town, all_day, n) in enumerate(chosen):
            if rng.random() < 0.2:
                title = f"{title} à {town}"
            if all_day:
                first = dt.datetime.combine(start.astimezone(PARIS).date(), dt.time(), PARIS)
                begin, end = first.astimezone(dt.UTC), (first + dt.timedelta(days=1 + n % 3))
                end = end.astimezone(dt.UTC)
            else:
                begin, end = start + dt.timedelta(minutes=rng.choice([0, 0, 30])), None
            intents.append(intent(f"s{s}", f"p{n}-{k}", title, begin, end, all_day, town))
        for k in range(per_source - len(intents)):
            day = NOW + dt.timedelta(days=rng.randrange(-5, 90), hours=rng.randrange(24))
            intents.append(intent(f"s{s}", f"own{k}", f"{rng.choice(TITLES)} n°{k}", day,
                                  None, False, rng.choice(sorted(TOWNS))))  # fmt: skip
        feeds[f"s{s}"] = intents
    return feeds


def intent(source: str, uid: str, title: str, start: dt.datetime, end: dt.datetime | None,
           all_day: bool, town: str) -> EventIntent:  # fmt: skip
    return EventIntent(source_id=source, uid=uid, recurrence_id="", title=title, start=start,
                       end=end, all_day=all_day, timezone="Europe/Paris",
                       location=f"Salle des fêtes, {town}", territory=TOWNS[town])  # fmt: skip


def store(engine: sa.Engine, source: str, intents: list[EventIntent]) -> RefreshResult:
    fetched = FeedFetched(source, FetchOutcome.FETCHED, 200, body_hash="x")
    return apply_refresh(engine, fetched, intents, [], 0, SINCE, NOW, 0.0)


def state(engine: sa.Engine) -> tuple[dict[str, str], set[tuple[str, str, str, float]]]:
    with engine.connect() as conn:
        clusters = dict(conn.execute(sa.select(events.c.public_id, events.c.cluster_id)
                                     .where(events.c.removed_at.is_(None))).all())  # fmt: skip
        pairs = {(r.event_a, r.event_b, r.status, round(r.score, 6))
                 for r in conn.execute(sa.select(dedup_pairs))}  # fmt: skip
    return clusters, pairs


def edited(intents: list[EventIntent], seed: int) -> list[EventIntent]:
    """An association edits its feed: a title reworded, an event moved a day, one
    cancelled outright, one added."""
    from dataclasses import replace

    rng = random.Random(seed)
    changed = list(intents)
    for n in rng.sample(range(len(changed)), 3):
        changed[n] = replace(changed[n], title=changed[n].title + " (reporté)",
                             start=changed[n].start + dt.timedelta(days=1))  # fmt: skip
    n = rng.randrange(len(changed))
    changed[n] = replace(changed[n], title="Assemblée générale")
    del changed[rng.randrange(len(changed))]
    changed.append(intent(changed[0].source_id, "new", "Repair café", NOW + dt.timedelta(
        days=10, hours=5), None, False, "Gap"))  # fmt: skip
    return changed


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recluster_of_the_touched_days_ends_where_a_whole_one_ends(
    db_url: str, tmp_path: object, seed: int
) -> None:
    feeds = agenda(seed)
    incremental = open_engine(db_url)
    whole = open_engine(f"sqlite:///{tmp_path}/whole.sqlite3")  # type: ignore[str-bytes-safe]
    for engine in (incremental, whole):
        sync_sources(engine, [SourceConfig(id=s, name=s, url=f"/x/{s}") for s in feeds])
        for source, intents in feeds.items():
            store(engine, source, intents)
        recluster(engine, SINCE, PARIS)
        # An admin merged two events on different days: the closure must follow it.
        a, b = sorted(state(engine)[0])[:2]
        record_override(engine, "merge", a, b, "camille", NOW)
        recluster(engine, SINCE, PARIS)
    assert state(incremental) == state(whole)
    merged = {c for c in state(whole)[0].values()}
    assert len(merged) < len(state(whole)[0])  # there are merged events to keep right

    target = sorted(feeds)[seed]
    for engine in (incremental, whole):
        result = store(engine, target, edited(feeds[target], seed))
        assert 4 <= len(result.touched) <= 12
        if engine is incremental:
            done = recluster(engine, SINCE, PARIS, result.touched)
            assert 0 < done.occurrences < len(state(whole)[0]) // 2  # only some days
        else:
            recluster(engine, SINCE, PARIS)
    assert state(incremental) == state(whole)
    nothing = recluster(incremental, SINCE, PARIS, [])
    assert nothing.occurrences == 0
    incremental.dispose()
    whole.dispose()


def test_a_change_on_one_day_of_a_festival_keeps_its_other_days_right(
    db_url: str, tmp_path: object
) -> None:
    """A three-day festival merged with a timed record of its third day: a change on its
    first day reworks the third too (the closure over the days records are compared on)."""
    first = dt.datetime.combine(NOW.date() + dt.timedelta(days=20), dt.time(), PARIS)
    festival = intent("a", "fest", "Fête du vélo", first.astimezone(dt.UTC),
                      (first + dt.timedelta(days=3)).astimezone(dt.UTC), True, "Gap")  # fmt: skip
    third = intent("b", "fest-3", "Fête du vélo", (first + dt.timedelta(days=2, hours=14))
                   .astimezone(dt.UTC), None, False, "Gap")  # fmt: skip
    opening = intent("c", "open", "Fête du vélo", (first + dt.timedelta(hours=10))
                     .astimezone(dt.UTC), None, False, "Gap")  # fmt: skip
    from dataclasses import replace

    incremental = open_engine(db_url)
    whole = open_engine(f"sqlite:///{tmp_path}/whole.sqlite3")  # type: ignore[str-bytes-safe]
    for engine in (incremental, whole):
        sync_sources(engine, [SourceConfig(id=s, name=s, url=f"/x/{s}") for s in "abc"])
        for source, item in (("a", festival), ("b", third), ("c", opening)):
            store(engine, source, [item])
        recluster(engine, SINCE, PARIS)
        assert len(set(state(engine)[0].values())) == 1  # one festival, three publishers
        result = store(engine, "c", [replace(opening, title="Atelier réparation")])
        if engine is incremental:
            recluster(engine, SINCE, PARIS, result.touched)
        else:
            recluster(engine, SINCE, PARIS)
    assert state(incremental) == state(whole)
    clusters, pairs = state(whole)
    assert len(set(clusters.values())) == 2 and len(pairs) == 1  # the festival, the workshop
    incremental.dispose()
    whole.dispose()


def test_refreshing_one_changed_source_reworks_only_its_days(
    db_url: str, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    """The pipeline end to end: 6 feeds on disk; one association edits one event; the
    refresh's dedup works out that day only, and the merge across feeds follows the edit."""
    import logging
    from pathlib import Path

    from aggregator.pipeline import RefreshOptions, refresh

    folder = Path(str(tmp_path))
    base = dt.date.today() + dt.timedelta(days=3)

    def feed(n: int, moved: bool = False) -> str:
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x"]
        for k in range(30):
            day = base + dt.timedelta(days=k)
            own = ["Atelier vélo", "Chorale", "Yoga doux", "Jardin partagé", "Soirée jeux",
                   "Club lecture"][n]  # fmt: skip
            title = "Marché paysan" if k == 0 else own
            hour = (17 if moved else 9) if k == 0 else 10 + n
            lines += ["BEGIN:VEVENT", f"UID:{n}-{k}@x", f"SUMMARY:{title}",
                      f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T{hour:02d}0000",
                      "LOCATION:Place du marché, Gap", "END:VEVENT"]  # fmt: skip
        return "\r\n".join([*lines, "END:VCALENDAR", ""])

    configs = []
    for n in range(6):
        (folder / f"f{n}.ics").write_text(feed(n))
        configs.append(SourceConfig(id=f"f{n}", name=f"Asso {n}", url=str(folder / f"f{n}.ics")))
    engine = open_engine(db_url)
    refresh(engine, configs, RefreshOptions())
    market = {c for p, c in state(engine)[0].items()}
    assert len(market) == 6 * 29 + 1  # the market, published six times, is one event

    (folder / "f2.ics").write_text(feed(2, moved=True))  # f2 moves its market to 17:00
    caplog.set_level(logging.INFO, logger="aggregator.refresh")
    refresh(engine, configs, RefreshOptions(), only=["f2"], complete=False)
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("dedup"))
    assert "occurrences=6 " in line  # that day's six markets, not the 180 occurrences
    assert len(set(state(engine)[0].values())) == 6 * 29 + 2  # f2's market stands apart
    engine.dispose()


@pytest.mark.parametrize(("seed", "places"), [(4, 10_000), (5, 10)])
def test_a_whole_recluster_scored_by_days_and_in_processes_ends_as_one_at_once(
    db_url: str, seed: int, places: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scored a few days at a time, here or in two worker processes reading the database
    themselves, a window settles exactly as when scored at once: multi-day events across
    stretches, an admin's merge and split, ties in the same order."""
    from aggregator.store import by_days

    monkeypatch.setattr(by_days, "DAYS_AT_ONCE", 3)  # many stretches, festivals across them
    monkeypatch.setattr(by_days, "PARALLEL_FROM", 0)  # processes even for a small agenda
    monkeypatch.setattr(by_days, "TEXTS_AT_MOST", 10)  # texts started afresh (here) now and then
    # Places kept across those fresh starts (4), or started afresh too (5).
    monkeypatch.setattr(by_days, "PLACES_AT_MOST", places)
    engine = open_engine(db_url)
    feeds = agenda(seed)
    sync_sources(engine, [SourceConfig(id=s, name=s, url=f"/x/{s}") for s in feeds])
    for source, intents in feeds.items():
        store(engine, source, intents)
    recluster(engine, SINCE, PARIS, processes=0)
    clusters, _ = state(engine)
    merged = sorted(c for c in set(clusters.values()) if list(clusters.values()).count(c) > 1)
    a, b = sorted(state(engine)[0])[:2]
    record_override(engine, "merge", a, b, "camille", NOW)
    record_override(engine, "split", merged[0], merged[1], "camille", NOW)
    spanning = 0
    with engine.connect() as conn:
        for row in conn.execute(sa.select(events.c.start_at, events.c.end_at)
                                .where(events.c.all_day)):  # fmt: skip
            days = (row.end_at - row.start_at).days
            spanning += days >= 2
    assert spanning  # festivals that some stretch boundary cuts

    outcomes = []
    for processes in (0, 1, 2):
        with engine.begin() as conn:  # each from scratch: every occurrence alone
            conn.execute(events.update().values(cluster_id=events.c.public_id))
            conn.execute(dedup_pairs.delete())
        done = recluster(engine, SINCE, PARIS, processes=processes)
        outcomes.append((done, state(engine)))
    assert outcomes[1] == outcomes[0]
    assert outcomes[2] == outcomes[0]
    done, (clusters, pairs) = outcomes[0]
    assert done.changed and len(set(clusters.values())) < len(clusters) and pairs
    engine.dispose()
