"""The store and the refresh, on real SQLite and real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pytest_httpserver import HTTPServer

from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store import migrate
from aggregator.store.read import EventQuery, query_events, source_health
from aggregator.store.schema import events, fetch_log, metadata
from tests.conftest import DATA, NOW, source

OPTIONS = RefreshOptions(workers=2)


def ics(*events: tuple[str, str, str]) -> bytes:
    """A calendar of (uid, DTSTART in UTC basic form, summary)."""
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"]
    for uid, start, summary in events:
        body += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:{start}", f"SUMMARY:{summary}",
                 "END:VEVENT"]  # fmt: skip
    body.append("END:VCALENDAR")
    return ("\r\n".join(body) + "\r\n").encode()


def write(path: Path, body: bytes) -> None:
    path.write_bytes(body)


def rows(engine: sa.Engine) -> dict[str, sa.Row]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return {r.uid: r for r in conn.execute(sa.select(events))}


def test_migrations_match_the_schema(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    migrate(engine)  # idempotent


def test_refresh_inserts_updates_and_marks_removed(engine: sa.Engine, tmp_path: Path) -> None:
    feed = tmp_path / "a.ics"
    src = source(url=str(feed))
    write(feed, ics(("a", "20261201T100000Z", "Atelier"), ("b", "20261202T100000Z", "Balade")))
    (first,) = refresh(engine, [src], OPTIONS, now=NOW)
    assert (first.outcome, first.added, first.events) == ("ok", 2, 2)

    write(feed, ics(("a", "20261201T100000Z", "Atelier modifié"), ("c", "20261203T1000Z", "x")))
    (second,) = refresh(engine, [src], OPTIONS, now=NOW + dt.timedelta(hours=1))
    assert (second.added, second.updated, second.removed) == (0, 1, 1)
    assert second.warnings  # the malformed "c" event is reported, not stored
    stored = rows(engine)
    assert stored["a"].title == "Atelier modifié" and stored["a"].sequence == 1
    assert stored["b"].removed_at == NOW + dt.timedelta(hours=1)
    assert stored["b"].sequence == 1
    api = query_events(engine, EventQuery())
    assert [e.title for e in api] == ["Atelier modifié"]

    write(feed, ics(("a", "20261201T100000Z", "Atelier modifié"), ("b", "20261202T100000Z", "B")))
    refresh(engine, [src], OPTIONS, now=NOW + dt.timedelta(hours=2))
    assert rows(engine)["b"].removed_at is None  # back again


def test_unchanged_body_is_not_parsed_again(engine: sa.Engine, tmp_path: Path) -> None:
    feed = tmp_path / "a.ics"
    write(feed, ics(("a", "20261201T100000Z", "Atelier")))
    src = source(url=str(feed))
    refresh(engine, [src], OPTIONS, now=NOW)
    (again,) = refresh(engine, [src], OPTIONS, now=NOW)
    assert again.outcome == "unchanged" and again.events == 1


def test_failures_keep_the_last_good_events(engine: sa.Engine, tmp_path: Path) -> None:
    feed = tmp_path / "a.ics"
    src = source(url=str(feed))
    write(feed, ics(("a", "20261201T100000Z", "Atelier"), ("b", "20261202T100000Z", "Balade")))
    refresh(engine, [src], OPTIONS, now=NOW)
    broken_bodies = [
        b"",  # empty body
        b"<html><body>Maintenance</body></html>",  # HTML instead of ICS
        ics(("a", "20261201T100000Z", "Atelier"))[:60],  # truncated
        ics(),  # zero events after having some
    ]
    for n, body in enumerate(broken_bodies, 1):
        write(feed, body)
        (result,) = refresh(engine, [src], OPTIONS, now=NOW)
        assert result.outcome == "failed", body
        assert result.events == 2
        health = source_health(engine)[0]
        assert health.consecutive_failures == n and health.last_error == result.error
    feed.unlink()
    (missing,) = refresh(engine, [src], OPTIONS, now=NOW)
    assert missing.outcome == "failed" and "introuvable" in (missing.error or "")
    assert {e.title for e in query_events(engine, EventQuery())} == {"Atelier", "Balade"}
    write(feed, ics(("a", "20261201T100000Z", "Atelier")))
    (recovered,) = refresh(engine, [src], OPTIONS, now=NOW)
    assert recovered.outcome == "ok" and source_health(engine)[0].consecutive_failures == 0


def test_events_before_the_window_are_not_marked_removed(engine: sa.Engine, tmp_path: Path) -> None:
    feed = tmp_path / "a.ics"
    src = source(url=str(feed))
    write(feed, ics(("old", "20261110T100000Z", "Passé"), ("new", "20261201T100000Z", "À venir")))
    refresh(engine, [src], OPTIONS, now=NOW)
    later = NOW + dt.timedelta(days=60)  # "old" has left the 30-day window
    write(feed, ics(("new", "20261201T100000Z", "À venir"), ("x", "20270110T100000Z", "Nouveau")))
    refresh(engine, [src], OPTIONS, now=later)
    assert rows(engine)["old"].removed_at is None


def test_one_failing_source_does_not_touch_the_others(
    engine: sa.Engine, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/good.ics").respond_with_data(
        ics(("g", "20261201T100000Z", "Bon")), content_type="text/calendar"
    )
    httpserver.expect_request("/bad.ics").respond_with_data("oops", status=500)
    good = source(id="good", url=httpserver.url_for("/good.ics"))
    bad = source(id="bad", url=httpserver.url_for("/bad.ics"))
    results = {r.source_id: r for r in refresh(engine, [good, bad], OPTIONS, now=NOW)}
    assert results["good"].outcome == "ok" and results["good"].events == 1
    assert results["bad"].outcome == "failed" and results["bad"].http_status == 500
    with engine.connect() as conn:
        logged = conn.execute(sa.select(fetch_log.c.source_id, fetch_log.c.outcome)).all()
    assert sorted(logged) == [("bad", "failed"), ("good", "ok")]


def test_a_fixture_feed_round_trips_through_the_store(engine: sa.Engine) -> None:
    src = source(url=str(DATA / "ics" / "cancelled.ics"), tags=("ESS",), territory="brianconnais")
    (result,) = refresh(engine, [src], OPTIONS, now=NOW)
    stored = query_events(engine, EventQuery())
    assert result.events == len(stored) == 5
    cancelled = [e for e in stored if e.status == "cancelled"]
    assert len(cancelled) == 3
    assert all(e.territory == "brianconnais" and "ess" in e.tags for e in stored)


def test_sources_leaving_the_file_are_disabled_and_their_events_removed(
    engine: sa.Engine,
) -> None:
    """Issue 11: a deleted source's events must not stay public. They stay in the store as
    removed (so the merged ICS tells subscribers), the source's row as disabled history."""
    src = source(url=str(DATA / "ics" / "cancelled.ics"))
    refresh(engine, [src], OPTIONS, now=NOW)
    assert len(query_events(engine, EventQuery())) == 5
    refresh(engine, [], OPTIONS, now=NOW)
    (health,) = source_health(engine)
    assert not health.enabled and health.events_count == 0
    assert query_events(engine, EventQuery()) == []
    removed = query_events(engine, EventQuery(include_removed=True))
    assert len(removed) == 5 and all(e.removed_at is not None for e in removed)
