"""Compressed feeds and API (issue 14, item 2): each encoding is a representation of its
own, precompressed once per data change, with 304s and ranges still right. Demo data on
real SQLite and PostgreSQL; tests/test_serve.py checks one through gunicorn on loopback."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.test_attack_web import app, client

__all__ = ["app", "client"]  # the demo site with a feed cache of its own


@pytest.mark.parametrize("path", ["/agenda.ics", "/agenda.rss", "/agenda.atom",
                                  "/agenda.ics?territory=brianconnais"])  # fmt: skip
def test_feeds_come_in_gzip_and_brotli_with_their_own_etags(client: FlaskClient, path: str) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    zipped = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
    smaller = client.get(path, headers={"Accept-Encoding": "gzip, br"})
    for answer in (plain, zipped, smaller):
        assert answer.status_code == 200 and "Accept-Encoding" in answer.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert smaller.headers["Content-Encoding"] == "br"
    assert gzip.decompress(zipped.data) == plain.data
    assert brotli.decompress(smaller.data) == plain.data
    assert len({plain.headers["ETag"], zipped.headers["ETag"], smaller.headers["ETag"]}) == 3
    again = client.get(path, headers={"Accept-Encoding": "gzip",
                                       "If-None-Match": zipped.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304
    other = client.get(path, headers={"Accept-Encoding": "identity",
                                      "If-None-Match": zipped.headers["ETag"]})  # fmt: skip
    assert other.status_code == 200 and other.data == plain.data


def test_q_values_are_honoured(client: FlaskClient) -> None:
    assert "Content-Encoding" not in client.get(
        "/agenda.ics", headers={"Accept-Encoding": "gzip;q=0, br;q=0"}).headers  # fmt: skip
    preferred = client.get("/agenda.ics", headers={"Accept-Encoding": "br;q=0.5, gzip"})
    assert preferred.headers["Content-Encoding"] == "gzip"


def test_ranges_apply_to_the_representation_sent(client: FlaskClient) -> None:
    whole = client.get("/agenda.ics", headers={"Accept-Encoding": "gzip"})
    part = client.get("/agenda.ics", headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    # Either the range of the gzip bytes, or the whole (ranges are optional): never a
    # range of one encoding labelled as another.
    if part.status_code == 206:
        assert part.data == whole.data[:100]
    else:
        assert part.status_code == 200 and part.data == whole.data


def test_the_api_is_compressed_on_the_fly(client: FlaskClient) -> None:
    plain = client.get("/api/events?limit=50")
    zipped = client.get("/api/events?limit=50", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data


def test_compressed_copies_live_and_go_with_their_feed(client: FlaskClient, app: Flask) -> None:
    folder = Path(app.config["CACHE_DIR"])
    client.get("/agenda.rss?q=a")
    assert {p.suffix for p in folder.glob("rss-*")} >= {".feed", ".gzip", ".br"}
    app.config.update(CACHE_MAX_FEEDS=1)
    client.get("/agenda.rss?q=b")
    names = sorted(p.name for p in folder.glob("rss-*") if p.suffix != ".lock")
    assert len([n for n in names if n.endswith(".feed")]) == 1
    assert len(names) == 3  # the feed and its two compressed copies, nothing left behind
