"""Rendered pages kept per data version: never stale after a change, a 304 for a browser
that has the page, one copy per language and per day."""

from __future__ import annotations

import datetime as dt

import pytest
from flask.testing import FlaskClient

from aggregator.store import version
from tests.test_pages import client  # noqa: F401  (the demo site, SQLite and PostgreSQL)


def test_revalidation_gets_a_304(client: FlaskClient) -> None:  # noqa: F811
    first = client.get("/")
    assert first.status_code == 200 and first.headers["ETag"]
    again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/?territory=brianconnais").headers["ETag"] != first.headers["ETag"]


def test_a_data_change_shows_at_once(client: FlaskClient) -> None:  # noqa: F811

    from aggregator.store.schema import events

    engine = client.application.extensions["engine"]
    before = client.get("/")
    assert "Repair Café" in before.get_data(as_text=True)
    with engine.begin() as conn:  # what a refresh does: new content, a new data version
        conn.execute(events.update().where(events.c.title.like("%Repair Café%"))
                     .values(title="Atelier de réparation"))  # fmt: skip
        version.bump(conn)
    after = client.get("/", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert "Atelier de réparation" in after.get_data(as_text=True)


def test_one_copy_per_language(client: FlaskClient) -> None:  # noqa: F811
    french = client.get("/").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="fr"' in french and 'lang="en"' in english
    remembered = client.get("/")  # the cookie now says English
    assert 'lang="en"' in remembered.get_data(as_text=True)
    assert "Cookie" in remembered.headers["Vary"]


def test_a_new_day_is_a_new_page(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import webapp.pagecache

    today = client.get("/").headers["ETag"]
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    monkeypatch.setattr(webapp.pagecache, "today", lambda: tomorrow)
    assert client.get("/").headers["ETag"] != today


def test_errors_are_not_kept(client: FlaskClient) -> None:  # noqa: F811
    assert client.get("/evenement/nope").status_code == 404
    assert client.get("/?start=2026-13-01").status_code == 400
    assert client.get("/?start=2026-13-01").status_code == 400


def test_a_renamed_association_shows_at_once(client: FlaskClient) -> None:  # noqa: F811
    """sources.toml edited by hand (no event changed): the pages name it anew."""
    from dataclasses import replace

    from aggregator.sources import load_sources
    from aggregator.store.write import sync_sources
    from tests.test_pages import ROOT

    engine = client.application.extensions["engine"]
    assert "Repair Café du Briançonnais" in client.get("/").get_data(as_text=True)
    configs = load_sources(ROOT / "sources.toml")
    renamed = [replace(c, name=c.name.replace("Repair Café", "Atelier Répar'")) for c in configs]
    sync_sources(engine, renamed, complete=False)
    page = client.get("/").get_data(as_text=True)
    assert (
        "Atelier Répar&#39; du Briançonnais" in page and "Repair Café du Briançonnais" not in page
    )


def test_a_missing_page_is_rendered_once_for_all_who_ask() -> None:
    """After a data change, eight visitors at once: one renders, the others get its copy."""
    import threading
    import time

    from flask import Response

    from webapp.pagecache import Kept, PageCache

    cache, calls = PageCache(), []

    def render() -> Response:
        calls.append(1)
        time.sleep(0.2)
        return Response(b"<html>agenda</html>", mimetype="text/html")

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_render("k", render)))
               for _ in range(8)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(isinstance(r, Kept) and r.body == b"<html>agenda</html>" for r in results)
    failing = PageCache()
    answer = failing.get_or_render("e", lambda: Response(b"oops", status=500))
    assert isinstance(answer, Response) and failing.get("e") is None  # errors are not kept


def test_api_answers_are_kept_per_encoding(client: FlaskClient) -> None:  # noqa: F811
    import gzip
    import json

    plain = client.get("/api/events?limit=5", headers={"Accept-Encoding": "identity"})
    packed = client.get("/api/events?limit=5", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
    assert plain.headers["ETag"] != packed.headers["ETag"]
    assert plain.headers["Content-Type"].startswith("application/json")
    revalidate = {"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    again = client.get("/api/events?limit=5", headers=revalidate)
    assert again.status_code == 304
