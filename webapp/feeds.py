"""/agenda.ics, /agenda.rss, /agenda.atom and /evenement/<id>.ics.

Same filters as the agenda, as query parameters. A feed is built once per data version and
filter set, kept in a small in-process cache, and served with ETag / Last-Modified so that
calendar clients polling every hour mostly get 304.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, request, send_file
from flask_babel import force_locale

from aggregator.store import version
from aggregator.store.read import EventRow, get_event, query_events
from aggregator.territories import TERRITORIES
from webapp import export, get_engine, public_url
from webapp.encoding import ENCODINGS, chosen, encoded, variants
from webapp.export import calendar, syndication
from webapp.filters import FILTER_KEYS, query_from_args
from webapp.formatting import zone

bp = Blueprint("feeds", __name__)
CANCELLED_KEPT = dt.timedelta(days=30)  # removed events stay as CANCELLED this long
ICS_PAST = dt.timedelta(days=30)
CACHE_SIZE = 32
SITE_NAME = "Agenda ESS Hautes-Alpes"
# Every parameter query_from_args reads; nothing else reaches a feed or its cache key.
FEED_KEYS = (*FILTER_KEYS, "limit", "offset")


@dataclass(frozen=True)
class Built:
    body: bytes
    etag: str
    built_at: dt.datetime
    encoded: dict[str, bytes] = field(default_factory=dict)  # "gzip", "br": precompressed
    path: Path | None = None  # the identity file on disk (its copies beside it)


class FeedCache:
    """(kind, data version, filters) -> built feed.

    Two levels: this process's memory, and files shared by every web process, written under
    a lock so that one process builds a feed while the others wait and then read it: the
    merged feed is built once per data change, however many workers serve it. Both levels
    are bounded (entries, and bytes on disk, least recently used out first), since anyone
    can ask for a new filter set.
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
        # Last use, for the disk's LRU (set by hand: mounts often skip access times).
        with contextlib.suppress(OSError):
            os.utime(path, (time.time(), path.stat().st_mtime))
        variants = {}
        for name in ENCODINGS:
            with contextlib.suppress(FileNotFoundError):  # written by an older release
                variants[name] = _sibling(path, name).read_bytes()
        return Built(body, hashlib.sha256(body).hexdigest()[:32], stamp, variants, path)

    def get(
        self,
        key: tuple[str, ...],
        build: Callable[[], bytes],
        folder: Path,
        max_files: int = 200,
        max_bytes: int = 1_000_000_000,
    ) -> Built:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        kind, data_version, filters = key
        digest = hashlib.sha256(filters.encode()).hexdigest()[:24]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{digest}-{data_version}.feed"
        if path.exists():
            with contextlib.suppress(FileNotFoundError):  # evicted meanwhile: build it
                return self._remember(key, self._loaded(path))
        with (folder / f"{kind}-{digest}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it
            if not path.exists():
                body = build()
                # Every encoding once per data change: serving then compresses nothing.
                for name, data in sorted(variants(body).items(), key=lambda v: v[0] == "identity"):
                    target = path if name == "identity" else _sibling(path, name)
                    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
                    temporary.write_bytes(data)
                    os.replace(temporary, target)  # the identity file last: it marks done
                with self.lock:
                    self.builds += 1
                for old in folder.glob(f"{kind}-{digest}-*.feed"):
                    if old != path:
                        _remove(old)
                evict(folder, max_files, max_bytes, keep=path)
            return self._remember(key, self._loaded(path))


def _sibling(path: Path, encoding: str) -> Path:
    return path.with_name(f"{path.name}.{encoding}")


def _remove(path: Path) -> None:
    for name in ENCODINGS:
        _sibling(path, name).unlink(missing_ok=True)
    path.unlink(missing_ok=True)


def evict(folder: Path, max_files: int, max_bytes: int, keep: Path) -> None:
    """Remove the least recently used feeds (with their compressed copies) until the folder
    is within both bounds."""
    files = []
    for path in folder.glob("*.feed"):
        with contextlib.suppress(FileNotFoundError):
            info = path.stat()
            size = info.st_size
            for name in ENCODINGS:
                with contextlib.suppress(FileNotFoundError):
                    size += _sibling(path, name).stat().st_size
            files.append((info.st_atime, size, path))
    files.sort()
    count, total = len(files), sum(size for _, size, _ in files)
    for _, size, path in files:
        if count <= max_files and total <= max_bytes:
            break
        if path == keep:
            continue
        _remove(path)
        kind, digest = path.name.split("-")[:2]
        (folder / f"{kind}-{digest}.lock").unlink(missing_ok=True)
        count, total = count - 1, total - size


CACHE = FeedCache()


def _filters_key() -> str:
    """The filters that change a feed, normalised: unknown parameters, empty values,
    repeats and order do not make another feed (nor another cache entry)."""
    pairs = sorted({(k, v) for k in FEED_KEYS for v in request.args.getlist(k) if v})
    return urlencode(pairs)


def feed_name() -> str:
    """From the same normalised values as the cache key (a cached feed's name must not
    depend on how its first asker spelled the query)."""
    territories = sorted({t for t in request.args.getlist("territory") if t})
    parts = [TERRITORIES.get(t, t) for t in territories]
    parts += sorted({t for t in request.args.getlist("tag") if t})
    return f"{SITE_NAME} – {', '.join(parts)}" if parts else SITE_NAME


def _page_url(event: EventRow) -> str:
    return public_url("agenda.event", public_id=event.id)


def _serve(kind: str, mimetype: str, build: Callable[[], bytes]) -> Response:
    query_from_args(zone())  # a bad filter is a 400 before anything is built or cached
    key = (kind, version.current(get_engine()), _filters_key())

    def build_in_french() -> bytes:
        with force_locale("fr"):  # cached per filters, whoever asks first
            return build()

    config = current_app.config
    built = CACHE.get(key, build_in_french, Path(config["CACHE_DIR"]),
                      config["CACHE_MAX_FEEDS"], config["CACHE_MAX_BYTES"])  # fmt: skip
    response = _from_disk(built, mimetype)
    if response is None:  # its files were just evicted: from memory
        response = Response(mimetype=mimetype)
        encoded(response, request, {"identity": built.body, **built.encoded}, built.etag)
        response.last_modified = built.built_at
        response.make_conditional(request)  # a 304 when the client is current, ranges
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _from_disk(built: Built, mimetype: str) -> Response | None:
    """The chosen encoding's file, sent by the server itself (sendfile under gunicorn):
    no copy of a 30 MB feed through Python for each subscriber."""
    encoding = chosen(request)
    if built.path is None or (encoding is not None and encoding not in built.encoded):
        return None
    path = built.path if encoding is None else _sibling(built.path, encoding)
    etag = built.etag if encoding is None else f"{built.etag}-{encoding}"
    try:
        response = send_file(path, mimetype=mimetype, etag=etag, conditional=True,
                             last_modified=built.built_at, max_age=300)  # fmt: skip
    except FileNotFoundError:
        return None
    response.vary.add("Accept-Encoding")
    if encoding is not None:
        response.headers["Content-Encoding"] = encoding
    return response


def _events_for_ics() -> list[EventRow]:
    tz = zone()
    query = query_from_args(tz)
    if not request.args.get("start") and not request.args.get("periode"):
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
            rows, tz, kind, feed_name(), public_url("agenda.index"),
            public_url(f"feeds.{kind}", _filters_key()), _page_url,
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
