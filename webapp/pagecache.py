"""Rendered public pages and API answers, kept per data version.

A listing page is a function of the data (its version), the address (path and query),
the language and the day: the day, because it lists from today and files an event that began
earlier under today. Residents mostly open the same few pages (the agenda, their territory,
this month), and the data changes at most a few times an hour, so each process keeps the
last answers it made and serves them again until the data or the day moves on; browsers
revalidate with the ETag and get a 304. Bounded: least recently used answers go first.

When a page is missing (after each data change), one thread renders it and the others
asking for it meanwhile wait for that copy instead of all rendering the same page at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, make_response, request

from aggregator.store import version
from webapp import get_engine
from webapp.formatting import zone
from webapp.i18n import locale

ENTRIES = 256  # pages of 30-60 KB, API answers of up to 100 KB: some 15 MB a process at most
WAIT = 30.0  # seconds a request waits for another thread's rendering of the same page
KEPT_HEADERS = ("Content-Type", "Content-Encoding", "Vary")


@dataclass(frozen=True)
class Kept:
    body: bytes
    headers: tuple[tuple[str, str], ...]


class PageCache:
    def __init__(self, size: int = ENTRIES):
        self.size = size
        self.entries: OrderedDict[str, Kept] = OrderedDict()
        self.rendering: dict[str, threading.Event] = {}
        self.lock = threading.Lock()

    def get(self, key: str) -> Kept | None:
        with self.lock:
            kept = self.entries.get(key)
            if kept is not None:
                self.entries.move_to_end(key)
            return kept

    def put(self, key: str, kept: Kept) -> None:
        with self.lock:
            self.entries[key] = kept
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def get_or_render(self, key: str, render: Callable[[], Response]) -> Kept | Response:
        """The kept answer, or a fresh one (kept when it is a 200): one thread renders a
        given key at a time, the others wait for its copy."""
        with self.lock:
            kept = self.entries.get(key)
            if kept is not None:
                self.entries.move_to_end(key)
                return kept
            done = self.rendering.get(key)
            mine = done is None
            if done is None:
                done = self.rendering[key] = threading.Event()
        if not mine:
            done.wait(WAIT)
            kept = self.get(key)
            if kept is not None:
                return kept  # else: it was an error page, or too slow; render it here
        try:
            response = render()
            if response.status_code == 200:
                headers = tuple((h, response.headers[h]) for h in KEPT_HEADERS
                                if h in response.headers)  # fmt: skip
                kept = Kept(response.get_data(), headers)
                self.put(key, kept)
                return kept
            return response
        finally:
            if mine:
                with self.lock:
                    self.rendering.pop(key, None)
                done.set()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


CACHE = PageCache()


def today() -> dt.date:
    return dt.datetime.now(zone()).date()


def page_key(*extra: object) -> str:
    """A digest of everything the answer depends on; also its ETag."""
    parts = (
        request.path,
        sorted(request.args.items(multi=True)),
        locale(),
        version.current(get_engine()),
        today().isoformat(),
        extra,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def cached(by_encoding: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Keep the view's answers; `by_encoding`: the view compresses for the client, so the
    Accept-Encoding it sent is part of the key (and of the ETag)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            extra = request.headers.get("Accept-Encoding", "") if by_encoding else ""
            key = page_key(extra)
            if key in request.if_none_match:
                return _answer(Response(status=304), key)
            found = CACHE.get_or_render(key, lambda: make_response(view(*args, **kwargs)))
            if isinstance(found, Response):  # an error: not kept
                return found
            response = Response(found.body)
            for header, value in found.headers:
                response.headers[header] = value
            return _answer(response, key)

        return wrapped

    return decorate


cached_page = cached()


def _answer(response: Response, key: str) -> Response:
    response.set_etag(key)
    # Revalidate every time (the data may have changed): a 304 costs one small query.
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")  # the language may come from the `lang` cookie
    return response
