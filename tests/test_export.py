"""The merged feeds: valid for the parsers subscribers use, stable, escaped, cached."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import feedparser
import icalendar
import pytest
import sqlalchemy as sa
import vobject
from flask import Flask
from flask.testing import FlaskClient

from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store import open_engine
from tests.conftest import source

JS = Path(__file__).parent / "js"
TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).strftime("%Y%m%d")


def feed_text(extra: str = "") -> str:
    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//t//EN
BEGIN:VEVENT
UID:forum
DTSTART;TZID=Europe/Paris:{day(3)}T090000
DTEND;TZID=Europe/Paris:{day(3)}T163000
SUMMARY:Forum de l'ESS
LOCATION:Quattro, Gap
DESCRIPTION:Ligne 1\\nEND:VEVENT\\nBEGIN:VEVENT\\nSUMMARY:injecté
CATEGORIES:Forum
END:VEVENT
BEGIN:VEVENT
UID:fete
DTSTART;VALUE=DATE:{day(5)}
DTEND;VALUE=DATE:{day(7)}
SUMMARY:Fête ; des associations\\, avec virgule
END:VEVENT
BEGIN:VEVENT
UID:summer
DTSTART;TZID=Europe/Paris:{day(200)}T100000
DTEND;TZID=Europe/Paris:{day(200)}T120000
SUMMARY:Atelier d'été
END:VEVENT
{extra}END:VCALENDAR
"""


@pytest.fixture
def setup(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, Path]]:
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    from webapp import create_app
    from webapp.feeds import CACHE

    CACHE.entries.clear()
    path = tmp_path / "a.ics"
    path.write_text(feed_text())
    engine = open_engine(db_url)
    refresh(engine, [source(id="udess", name="Udess 05", url=str(path))], RefreshOptions())
    engine.dispose()
    app = create_app()
    yield app, path
    app.extensions["engine"].dispose()


def refetch(app: Flask, path: Path) -> None:
    engine: sa.Engine = app.extensions["engine"]
    refresh(engine, [source(id="udess", name="Udess 05", url=str(path))], RefreshOptions())


def get_ics(client: FlaskClient, query: str = "") -> bytes:
    response = client.get(f"/agenda.ics{query}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return response.data


def test_ics_is_valid_rfc5545_for_icalendar_and_vobject(setup: tuple[Flask, Path]) -> None:
    app, _ = setup
    client = app.test_client()
    body = get_ics(client)
    cal = icalendar.Calendar.from_ical(body)
    events = cal.walk("VEVENT")
    api = client.get("/api/events?start=2000-01-01").json["events"]  # type: ignore[index]
    assert len(events) == len(api) == 3  # the injected text stayed inside DESCRIPTION
    assert all(not e.errors for e in events)
    assert cal["X-WR-CALNAME"] == "Agenda ESS Hautes-Alpes"
    assert cal["REFRESH-INTERVAL"].dt == dt.timedelta(hours=1)
    assert str(cal["X-PUBLISHED-TTL"]) == "PT1H"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    by_uid = {str(e["UID"]): e for e in events}
    for item in api:
        event = by_uid[item["uid"]]
        start = event.decoded("DTSTART")
        if item["all_day"]:
            assert start == dt.date.fromisoformat(item["start"])
        else:
            assert start == dt.datetime.fromisoformat(item["start"])
    forum = next(e for e in events if str(e["SUMMARY"]) == "Forum de l'ESS")
    assert "BEGIN:VEVENT" in str(forum["DESCRIPTION"])  # as text, escaped
    assert "Publié par : Udess 05" in str(forum["DESCRIPTION"])
    parsed = list(vobject.readComponents(body.decode()))
    assert len(parsed) == 1 and len(parsed[0].vevent_list) == 3
    summaries = {v.summary.value for v in parsed[0].vevent_list}
    assert "Fête ; des associations, avec virgule" in summaries


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_ics_parses_in_ical_js_with_the_same_events(
    setup: tuple[Flask, Path], tmp_path: Path
) -> None:
    if not (JS / "node_modules" / "ical.js").exists():
        message = "ical.js missing: run `npm ci` in tests/js"
        if os.environ.get("AGENDA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    app, _ = setup
    client = app.test_client()
    path = tmp_path / "feed.ics"
    path.write_bytes(get_ics(client))
    result = subprocess.run(
        ["node", str(JS / "parse-ics.mjs"), str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    api = client.get("/api/events?start=2000-01-01").json["events"]  # type: ignore[index]
    assert parsed["name"] == "Agenda ESS Hautes-Alpes"
    assert len(parsed["events"]) == len(api)
    by_uid = {e["uid"]: e for e in parsed["events"]}
    for item in api:
        if item["all_day"]:
            assert by_uid[item["uid"]]["allDay"] is True
        else:
            expected = dt.datetime.fromisoformat(item["start"]).astimezone(dt.UTC)
            assert by_uid[item["uid"]]["start"] == expected.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_a_rebuild_serialises_only_what_changed(setup: tuple[Flask, Path]) -> None:
    from webapp.export import VEVENTS

    app, path = setup
    client = app.test_client()
    get_ics(client)
    before = VEVENTS.serialised
    path.write_text(feed_text().replace("Forum de l'ESS", "Forum de l'ESS (complet)"))
    refetch(app, path)
    body = get_ics(client)
    assert b"Forum de l'ESS (complet)" in body
    assert VEVENTS.serialised == before + 1


def test_a_worker_that_never_built_reuses_the_others_chunks(
    setup: tuple[Flask, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next change may land on another gunicorn worker: it starts from the chunks the
    first one saved, not from a full serialisation."""
    import webapp.export

    app, path = setup
    client = app.test_client()
    first = get_ics(client)
    cold = webapp.export.VeventCache()  # what another worker starts with
    monkeypatch.setattr(webapp.export, "VEVENTS", cold)
    path.write_text(feed_text().replace("Forum de l'ESS", "Forum de l'ESS (complet)"))
    refetch(app, path)
    body = get_ics(client)
    assert cold.serialised == 1  # only the changed event
    assert body.replace(b"Forum de l'ESS (complet)", b"Forum de l'ESS").count(b"BEGIN:VEVENT") == (
        first.count(b"BEGIN:VEVENT")
    )
    assert icalendar.Calendar.from_ical(body)  # the reused chunks make a valid calendar


def test_workers_share_one_build(setup: tuple[Flask, Path]) -> None:
    """A second web process (a fresh in-memory cache) reads the feed the first one built."""
    from webapp.feeds import CACHE

    app, _ = setup
    client = app.test_client()
    first = client.get("/agenda.ics")
    builds = CACHE.builds
    CACHE.entries.clear()  # what another gunicorn worker starts with
    second = client.get("/agenda.ics")
    assert CACHE.builds == builds and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]


def test_feed_is_built_once_per_data_change_and_answers_304(setup: tuple[Flask, Path]) -> None:
    from webapp.feeds import CACHE

    app, path = setup
    client = app.test_client()
    before = CACHE.builds
    first = client.get("/agenda.ics")
    second = client.get("/agenda.ics")
    assert CACHE.builds == before + 1 and first.data == second.data
    etag = first.headers["ETag"]
    assert client.get("/agenda.ics", headers={"If-None-Match": etag}).status_code == 304
    modified = first.headers["Last-Modified"]
    assert client.get("/agenda.ics", headers={"If-Modified-Since": modified}).status_code == 304
    client.get("/agenda.ics?territory=gap-tallard-durance")
    assert CACHE.builds == before + 2  # another filter set is another feed
    refetch(app, path)  # nothing changed at the source: same version, no rebuild
    client.get("/agenda.ics")
    assert CACHE.builds == before + 2
    path.write_text(feed_text().replace("Forum de l'ESS", "Forum de l'ESS 2026"))
    refetch(app, path)
    changed = client.get("/agenda.ics", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and CACHE.builds == before + 3
    assert b"Forum de l'ESS 2026" in changed.data


def test_changes_raise_sequence_and_removals_stay_cancelled(setup: tuple[Flask, Path]) -> None:
    app, path = setup
    client = app.test_client()
    cal = icalendar.Calendar.from_ical(get_ics(client))
    before = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    # The forum now ends later; the summer workshop is gone (another event took its place).
    path.write_text(feed_text().replace("T163000", "T170000").replace("UID:summer", "UID:other"))
    refetch(app, path)
    after = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(get_ics(client)).walk("VEVENT")}
    forum_uid = str(before["Forum de l'ESS"]["UID"])
    assert after[forum_uid]["SEQUENCE"] > before["Forum de l'ESS"]["SEQUENCE"]
    assert after[forum_uid]["UID"] == before["Forum de l'ESS"]["UID"]  # stable identity
    gone = after[str(before["Atelier d'été"]["UID"])]
    assert gone["STATUS"] == "CANCELLED"
    assert gone["SEQUENCE"] > before["Atelier d'été"]["SEQUENCE"]
    api = client.get("/api/events").json["events"]  # type: ignore[index]
    assert all(e["uid"] != str(gone["UID"]) for e in api)  # no longer listed


def test_filters_apply_to_feeds(setup: tuple[Flask, Path]) -> None:
    app, _ = setup
    client = app.test_client()
    cal = icalendar.Calendar.from_ical(get_ics(client, "?q=forum"))
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Forum de l'ESS"]
    named = icalendar.Calendar.from_ical(get_ics(client, "?territory=gap-tallard-durance"))
    assert named["X-WR-CALNAME"] == "Agenda ESS Hautes-Alpes – Gap – Tallard – Durance"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_rss_and_atom(setup: tuple[Flask, Path], kind: str) -> None:
    app, _ = setup
    client = app.test_client()
    response = client.get(f"/agenda.{kind}")
    assert response.status_code == 200
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = [e.title for e in parsed.entries]
    assert len(titles) == 3
    assert titles[0].endswith("— Forum de l'ESS")
    assert ", 9 h – 16 h 30" in titles[0]  # the event date leads the title
    assert all(e.link.startswith("http://localhost/evenement/") for e in parsed.entries)
    assert parsed.entries[0].published_parsed is not None  # publication date


def test_single_event_ics(setup: tuple[Flask, Path]) -> None:
    app, _ = setup
    client = app.test_client()
    forum = client.get("/api/events?q=forum").json["events"][0]  # type: ignore[index]
    response = client.get(f"/evenement/{forum['id']}.ics")
    assert response.status_code == 200
    (event,) = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["UID"]) == forum["uid"]
    assert client.get("/evenement/nope.ics").status_code == 404
