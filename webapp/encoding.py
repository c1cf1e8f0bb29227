"""Compressed answers: feeds are stored precompressed, the API compressed on the fly.

Calendar clients poll /agenda.ics every hour and all accept gzip; a 30 MB merged feed is
about 4 MB gzipped. Each built feed is kept in every encoding (identity, gzip, brotli),
made once per data change, so serving one costs no compression. Each encoding is its own
representation (RFC 9110 8.8.3): its own ETag, `Vary: Accept-Encoding` on all of them.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping

import brotli
from flask import Request, Response

# Most preferred first when a client accepts several equally.
ENCODINGS = ("br", "gzip")
MIN_SIZE = 1_000  # smaller answers gain nothing worth the work


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=6))
    if encoding == "gzip":
        return gzip.compress(body, compresslevel=6, mtime=0)  # mtime 0: same bytes each time
    raise ValueError(encoding)


def chosen(request: Request) -> str | None:
    """The encoding to answer with, from Accept-Encoding (q-values honoured), or None."""
    accepted = request.accept_encodings
    best = max(ENCODINGS, key=lambda e: (accepted.quality(e), -ENCODINGS.index(e)))
    return best if accepted.quality(best) > 0 else None


def variants(body: bytes) -> dict[str, bytes]:
    return {"identity": body, **{e: compress(body, e) for e in ENCODINGS}}


def encoded(response: Response, request: Request, bodies: Mapping[str, bytes], etag: str) -> None:
    """Put the variant the client accepts into `response`, with its own ETag."""
    response.vary.add("Accept-Encoding")
    encoding = chosen(request)
    if encoding is None or encoding not in bodies:
        response.set_data(bodies["identity"])
        response.set_etag(etag)
        return
    response.set_data(bodies[encoding])
    response.headers["Content-Encoding"] = encoding
    response.set_etag(f"{etag}-{encoding}")


def compress_response(response: Response, request: Request) -> Response:
    """On-the-fly compression of a dynamic answer (the API)."""
    response.vary.add("Accept-Encoding")
    encoding = chosen(request)
    if encoding is None or response.direct_passthrough or "Content-Encoding" in response.headers:
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(compress(body, encoding))
    response.headers["Content-Encoding"] = encoding
    return response
