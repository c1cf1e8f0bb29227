"""/agenda.ics, /agenda.rss, /agenda.atom and /evenement/<id>.ics.

Same filters as the agenda, as query parameters. A feed is built once per data version and
filter set, kept in a small in-process cache, and served with ETag / Last-Modified so that
calendar clients polling every hour mostly get 304.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, request, url_for
from flask_babel import force_locale

from aggregator.store import version
from aggregator.store.read import EventRow, get_event, query_events
from aggregator.territories import TERRITORIES
from webapp import export, get_engine
from webapp.export import calendar, syndication
from webapp.filters import query_from_args
from webapp.formatting import zone

bp = Blueprint("feeds", __name__)
CANCELLED_KEPT = dt.timedelta(days=30)  # removed events stay as CANCELLED this long
ICS_PAST = dt.timedelta(days=30)
CACHE_SIZE = 32
SITE_NAME = "Agenda ESS Hautes-Alpes"


@dataclass(frozen=True)
class Built:
    body: bytes
    etag: str
    built_at: dt.datetime


class FeedCache:
    """(kind, data version, filters) -> built feed.

    Two levels: this process's memory, and files shared by every web process, written under
    a lock so that one process builds a feed while the others wait and then read it: the
    merged feed is built once per data change, however many workers serve it.
    """

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self.entries: OrderedDict[tuple[str, ...], Built] = OrderedDict()
        self.lock = threading.Lock()
        self.builds = 0  # how many times this process actually built a feed (tests, bench)

    def _remember(self, key: tuple[str, ...], built: Built) -> Built:
        with self.lock:
            self.entries[key] = built
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return built

    @staticmethod
    def _loaded(path: Path) -> Built:
        body = path.read_bytes()
        stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        return Built(body, hashlib.sha256(body).hexdigest()[:32], stamp)

    def get(self, key: tuple[str, ...], build: Callable[[], bytes], folder: Path) -> Built:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        kind, data_version, filters = key
        digest = hashlib.sha256(filters.encode()).hexdigest()[:24]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{digest}-{data_version}.feed"
        if path.exists():
            return self._remember(key, self._loaded(path))
        with (folder / f"{kind}-{digest}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it
            if not path.exists():
                body = build()
                temporary = path.with_suffix(f".{os.getpid()}.tmp")
                temporary.write_bytes(body)
                os.replace(temporary, path)
                with self.lock:
                    self.builds += 1
                for old in folder.glob(f"{kind}-{digest}-*.feed"):
                    if old != path:
                        old.unlink(missing_ok=True)
            return self._remember(key, self._loaded(path))


CACHE = FeedCache()


def _filters_key() -> str:
    pairs = sorted((k, v) for k, values in request.args.lists() for v in values if k != "lang")
    return "&".join(f"{k}={v}" for k, v in pairs)


def feed_name() -> str:
    parts = [TERRITORIES.get(t, t) for t in request.args.getlist("territory")]
    parts += request.args.getlist("tag")
    return f"{SITE_NAME} – {', '.join(parts)}" if parts else SITE_NAME


def _page_url(event: EventRow) -> str:
    return url_for("agenda.event", public_id=event.id, _external=True)


def _serve(kind: str, mimetype: str, build: Callable[[], bytes]) -> Response:
    key = (kind, version.current(get_engine()), _filters_key())

    def build_in_french() -> bytes:
        with force_locale("fr"):  # cached per filters, whoever asks first
            return build()

    built = CACHE.get(key, build_in_french, Path(current_app.config["CACHE_DIR"]))
    response = Response(built.body, mimetype=mimetype)
    response.set_etag(built.etag)
    response.last_modified = built.built_at
    response.cache_control.public = True
    response.cache_control.max_age = 300
    response.make_conditional(request)  # turns it into a 304 when the client is current
    return response


def _events_for_ics() -> list[EventRow]:
    tz = zone()
    query = query_from_args(tz)
    if "start" not in request.args:
        query = replace(query, start=dt.datetime.now(tz) - ICS_PAST)
    cutoff = dt.datetime.now(dt.UTC) - CANCELLED_KEPT
    rows = query_events(get_engine(), replace(query, include_removed=True))
    return [e for e in rows if e.removed_at is None or e.removed_at >= cutoff]


@bp.get("/agenda.ics")
def ics() -> Response:
    tz = zone()
    chunks = Path(current_app.config["CACHE_DIR"]) / "vevents.chunks"

    def build() -> bytes:
        if not export.VEVENTS.chunks:  # this worker never built a feed: start from others'
            export.VEVENTS.load(chunks)
        body = calendar(_events_for_ics(), tz, feed_name(), _page_url)
        export.VEVENTS.spare = {}  # what the new data no longer has
        if not _filters_key():  # the full feed holds every chunk the filtered ones use
            export.VEVENTS.save(chunks)
        return body

    return _serve("ics", "text/calendar", build)


def _syndicated(kind: str) -> Response:
    tz = zone()

    def build() -> bytes:
        rows = query_events(get_engine(), replace(query_from_args(tz), limit=500))
        return syndication(
            rows, tz, kind, feed_name(), url_for("agenda.index", _external=True),
            request.url, _page_url,
        )  # fmt: skip

    mimetype = "application/atom+xml" if kind == "atom" else "application/rss+xml"
    return _serve(kind, mimetype, build)


@bp.get("/agenda.rss")
def rss() -> Response:
    return _syndicated("rss")


@bp.get("/agenda.atom")
def atom() -> Response:
    return _syndicated("atom")


@bp.get("/evenement/<public_id>.ics")
def single(public_id: str) -> Any:
    event = get_event(get_engine(), public_id)
    if event is None:
        abort(404)
    body = calendar([event], zone(), event.title, _page_url)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="{public_id}.ics"'
    return response
