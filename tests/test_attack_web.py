"""Attacks on the public site and the admin from outside (issue 11, items 3, 4, 9, 10, 13),
on the demo data in real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aggregator.pipeline import RefreshOptions, refresh
from tests.conftest import source
from tests.test_pages import demo_app
from webapp import feeds


@pytest.fixture
def app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("AGENDA_BASE_URL", "https://agenda.example.org")
    monkeypatch.setattr(feeds, "CACHE", feeds.FeedCache())
    app = demo_app(db_url, tmp_path, monkeypatch)
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.mark.parametrize("path", ["/agenda.ics", "/agenda.rss", "/agenda.atom",
                                  "/agenda.ics?territory=gap-tallard-durance"])  # fmt: skip
def test_host_header_never_reaches_the_shared_feeds(client: FlaskClient, path: str) -> None:
    poisoned = client.get(path, headers={"Host": "evil.example"})
    assert poisoned.status_code == 200
    unfolded = poisoned.data.replace(b"\r\n ", b"")  # ICS folds long lines
    assert b"evil.example" not in unfolded
    assert b"https://agenda.example.org/evenement/" in unfolded
    honest = client.get(path)
    assert honest.data == poisoned.data


@pytest.mark.parametrize("path", ["/sabonner", "/embed", "/"])
def test_pages_link_to_the_configured_address(client: FlaskClient, path: str) -> None:
    page = client.get(path, headers={"Host": "evil.example"})
    assert page.status_code == 200
    assert b"evil.example" not in page.data


def test_event_page_jsonld_uses_the_configured_address(client: FlaskClient) -> None:
    listing = client.get("/api/events?limit=1").get_json()["events"]
    page = client.get(f"/evenement/{listing[0]['id']}", headers={"Host": "evil.example"})
    assert b"evil.example" not in page.data
    assert b"https://agenda.example.org/evenement/" in page.data


def test_unknown_parameters_do_not_make_new_feeds(client: FlaskClient, app: Flask) -> None:
    folder = Path(app.config["CACHE_DIR"])
    first = client.get("/agenda.ics")
    for n in range(300):
        junk = client.get(f"/agenda.ics?x{n}={n}&utm_source=spam&territory=")
        assert junk.status_code == 200 and junk.data == first.data
    assert feeds.CACHE.builds == 1
    assert len(list(folder.glob("ics-*.feed"))) == 1
    same = client.get(
        "/agenda.ics?territory=gap-tallard-durance&tag=x&territory=gap-tallard-durance"
    )
    reordered = client.get("/agenda.ics?tag=x&territory=gap-tallard-durance")
    assert same.data == reordered.data and feeds.CACHE.builds == 2


def test_feed_cache_is_bounded_on_disk(client: FlaskClient, app: Flask) -> None:
    app.config.update(CACHE_MAX_FEEDS=10, CACHE_MAX_BYTES=50_000_000)
    folder = Path(app.config["CACHE_DIR"])
    for n in range(40):
        assert client.get(f"/agenda.rss?q=mot{n}").status_code == 200
    assert len(list(folder.glob("*.feed"))) <= 10
    assert len(list(folder.glob("*.lock"))) <= 11
    app.config.update(CACHE_MAX_BYTES=1)  # every old feed goes; the one just built stays
    assert client.get("/agenda.rss?q=dernier").status_code == 200
    assert len(list(folder.glob("*.feed"))) == 1


def test_jsonld_cannot_break_out_of_its_script(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    title = "<!--<script> Soirée & </script><b>bal</b> -->"
    feed = tmp_path / "breakout.ics"
    feed.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:breakout\r\n"
        f"DTSTART:{dt.date.today() + dt.timedelta(days=3):%Y%m%d}T180000Z\r\n"
        f"SUMMARY:{title}\r\nLOCATION:<!--Gap-->\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    refresh(app.extensions["engine"], [source(id="breakout", url=str(feed))], RefreshOptions())
    (event,) = client.get("/api/events?source=breakout").get_json()["events"]
    page = client.get(f"/evenement/{event['id']}").get_data(as_text=True)
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    assert not set("<>&") & set(blocks[0])
    assert json.loads(blocks[0])["name"] == event["title"]
    assert "<!--" not in page.split("<body", 1)[1].replace("&lt;!--", "")
