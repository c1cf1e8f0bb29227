"""Rendered public pages, kept per data version.

A listing page is a function of the data (its version), the address (path and query),
the language and the day: the day, because it lists from today and files an event that began
earlier under today. Residents mostly open the same few pages (the agenda, their territory,
this month), and the data changes at most a few times an hour, so each process keeps the
last pages it rendered and serves them again until the data or the day moves on; browsers
revalidate with the ETag and get a 304. Bounded: least recently used pages go first.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Response, make_response, request

from aggregator.store import version
from webapp import get_engine
from webapp.formatting import zone
from webapp.i18n import locale

PAGES = 256  # about 30-60 KB each: some 10 MB per process at most


class PageCache:
    def __init__(self, size: int = PAGES):
        self.size = size
        self.pages: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            body = self.pages.get(key)
            if body is not None:
                self.pages.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self.lock:
            self.pages[key] = body
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


CACHE = PageCache()


def today() -> dt.date:
    return dt.datetime.now(zone()).date()


def page_key() -> str:
    """A digest of everything the page depends on; also its ETag."""
    parts = (
        request.path,
        sorted(request.args.items(multi=True)),
        locale(),
        version.current(get_engine()),
        today().isoformat(),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = page_key()
        if key in request.if_none_match:
            return _answer(Response(status=304), key)
        body = CACHE.get(key)
        if body is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code != 200:  # errors are not kept
                return response
            body = response.get_data()
            CACHE.put(key, body)
        return _answer(Response(body, mimetype="text/html"), key)

    return wrapped


def _answer(response: Response, key: str) -> Response:
    response.set_etag(key)
    # Revalidate every time (the data may have changed): a 304 costs one small query.
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")  # the language may come from the `lang` cookie
    return response
