"""Fetch stage: one source's bytes, politely, with every failure returned as a value.

Conditional GET (stored ETag / Last-Modified), body hash to skip unchanged feeds, a body size
cap counted after gzip decoding (so a gzip bomb stops at the cap), connect/read timeouts plus a
total deadline (a slow drip stops too), a redirect limit, Retry-After on 429/503.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from aggregator import __version__
from aggregator.model import FeedFetched, FetchOutcome, SourceConfig, SourceState

USER_AGENT = (
    f"agenda-ess05/{__version__} (agenda partagé de l'ESS des Hautes-Alpes; "
    "+https://github.com/udess05/agenda)"
)
ACCEPT = (
    "text/calendar, application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/html;q=0.8, */*;q=0.5"
)
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 20.0  # connect and per-read timeout, seconds
    deadline: float = 60.0  # whole request, seconds
    max_bytes: int = 20_000_000
    max_redirects: int = 5


class _Refused(Exception):
    """A failure already worded for the admin."""


# A check run on every URL before connecting (the admin form passes an SSRF guard here).
UrlGuard = Callable[[str], None]


def make_session(connections: int = 32, guard: UrlGuard | None = None) -> requests.Session:
    """One session for a refresh's worker threads: a pool as large as their number, so
    every worker keeps its connection (urllib3 keeps 10 per host by default). With a
    guard (aggregator.guard.Guard), every connection goes to a vetted address only."""
    session = requests.Session()
    session.headers.update({"User-Agent": USER_AGENT, "Accept": ACCEPT})
    adapter: requests.adapters.HTTPAdapter
    if guard is not None and hasattr(guard, "adapter"):
        adapter = guard.adapter(connections)
        # A proxy from the environment would connect on our behalf, past the pinning.
        session.trust_env = False
    else:
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=connections, pool_maxsize=connections
        )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def parse_retry_after(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """Retry-After is either delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return now + dt.timedelta(seconds=min(int(value), 7 * 86400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when if when > now else None


def fetch(
    source: SourceConfig,
    state: SourceState | None,
    session: requests.Session,
    limits: FetchLimits = FetchLimits(),
    guard: UrlGuard | None = None,
) -> FeedFetched:
    started = time.monotonic()
    state = state or SourceState()
    if source.is_local:
        result = _fetch_file(source, state, limits)
    else:
        result = _fetch_http(source, state, session, limits, guard)
    return replace(result, duration=time.monotonic() - started)


def _failed(source: SourceConfig, error: str, **kw: object) -> FeedFetched:
    return FeedFetched(source.id, FetchOutcome.FAILED, error=error, **kw)  # type: ignore[arg-type]


def _fetch_file(source: SourceConfig, state: SourceState, limits: FetchLimits) -> FeedFetched:
    path = Path(source.url)
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            return _failed(source, f"Fichier trop volumineux ({size} octets)")
        body = path.read_bytes()
    except FileNotFoundError:
        return _failed(source, f"Fichier introuvable : {path}")
    except OSError as exc:
        return _failed(source, f"Lecture impossible : {exc.strerror or exc}")
    return _from_body(source, state, body, None, str(path), None, None, None)


def _from_body(
    source: SourceConfig,
    state: SourceState,
    body: bytes,
    http_status: int | None,
    final_url: str,
    content_type: str | None,
    etag: str | None,
    last_modified: str | None,
) -> FeedFetched:
    digest = body_hash(body)
    outcome = FetchOutcome.UNCHANGED if digest == state.body_hash else FetchOutcome.FETCHED
    return FeedFetched(
        source.id,
        outcome,
        http_status=http_status,
        body=body if outcome is FetchOutcome.FETCHED else None,
        content_type=content_type,
        final_url=final_url,
        etag=etag,
        last_modified=last_modified,
        body_hash=digest,
    )


def _fetch_http(
    source: SourceConfig,
    state: SourceState,
    session: requests.Session,
    limits: FetchLimits,
    guard: UrlGuard | None,
) -> FeedFetched:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    deadline = time.monotonic() + limits.deadline
    try:
        response = _get_following_redirects(source.url, session, headers, limits, guard, deadline)
    except (_Refused, ValueError) as exc:  # ValueError: the guard's UnsafeUrl
        return _failed(source, str(exc))
    except requests.exceptions.RequestException as exc:
        return _failed(source, describe_error(exc))
    with response:
        status = response.status_code
        if status == 304:
            return FeedFetched(
                source.id,
                FetchOutcome.NOT_MODIFIED,
                http_status=304,
                final_url=response.url,
                etag=response.headers.get("ETag") or state.etag,
                last_modified=response.headers.get("Last-Modified") or state.last_modified,
                body_hash=state.body_hash,
            )
        if status >= 400:
            now = dt.datetime.now(dt.UTC)
            retry = parse_retry_after(response.headers.get("Retry-After"), now)
            reason = response.reason or ""
            error = f"Le serveur a répondu {status} {reason}".strip()
            if status in (429, 503) and retry:
                error += f" ; réessayer après {retry:%Y-%m-%d %H:%M} UTC"
            return _failed(source, error, http_status=status, retry_after=retry)
        try:
            body = _read_capped(response, limits, deadline)
        except _Refused as exc:
            return _failed(source, str(exc), http_status=status)
        except requests.exceptions.RequestException as exc:
            return _failed(source, describe_error(exc), http_status=status)
        return _from_body(
            source,
            state,
            body,
            status,
            response.url,
            response.headers.get("Content-Type"),
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
        )


def _get_following_redirects(
    url: str,
    session: requests.Session,
    headers: dict[str, str],
    limits: FetchLimits,
    guard: UrlGuard | None,
    deadline: float,
) -> requests.Response:
    """Follow redirects by hand so that the guard sees every hop (SSRF after redirect)."""
    seen: list[str] = []
    for _hop in range(limits.max_redirects + 1):
        if guard is not None:
            guard(url)
        remaining = max(0.1, deadline - time.monotonic())
        timeout = (min(limits.timeout, remaining), min(limits.timeout, remaining))
        response = session.get(
            url, headers=headers, timeout=timeout, stream=True, allow_redirects=False
        )
        if not response.is_redirect:
            return response
        location = response.headers.get("Location", "")
        response.close()
        seen.append(url)
        url = requests.compat.urljoin(url, location)
        if url in seen:
            raise _Refused(f"Boucle de redirections ({len(seen)} étapes)")
    raise _Refused(f"Trop de redirections (plus de {limits.max_redirects})")


def _read_capped(response: requests.Response, limits: FetchLimits, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    encoded = response.headers.get("Content-Encoding")
    if declared and declared.isdigit() and not encoded and int(declared) > limits.max_bytes:
        raise _Refused(f"Réponse trop volumineuse ({declared} octets, maximum {limits.max_bytes})")
    # A server dripping a byte now and then never trips the read timeout: a watchdog shuts
    # the socket down at the deadline, which unblocks the read in progress.
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _shutdown(response)

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    watchdog.daemon = True
    watchdog.start()
    chunks: list[bytes] = []
    size = 0
    try:
        # iter_content decodes gzip/deflate, so the cap applies to the decoded size.
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise _Refused(f"Réponse trop volumineuse (plus de {limits.max_bytes} octets)")
            chunks.append(chunk)
    except (requests.exceptions.RequestException, OSError, ValueError, AttributeError):
        if not expired.is_set():
            raise
    finally:
        watchdog.cancel()
    if expired.is_set():
        raise _Refused(f"Délai total dépassé ({limits.deadline:.0f} s)")
    return b"".join(chunks)


def _shutdown(response: requests.Response) -> None:
    """shutdown() acts on the connection itself, so doing it through a duplicate of the
    descriptor unblocks the reader without touching objects owned by another thread."""
    try:
        duplicate = socket.socket(fileno=os.dup(response.raw.fileno()))
    except (OSError, ValueError, AttributeError):
        response.close()
        return
    with duplicate, contextlib.suppress(OSError):
        duplicate.shutdown(socket.SHUT_RDWR)


def describe_error(exc: BaseException) -> str:
    """A requests exception in words an admin understands."""
    text = str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return "Nom de domaine introuvable (DNS)"
        if isinstance(cause, ConnectionRefusedError):
            return "Connexion refusée par le serveur"
        cause = cause.__cause__ or cause.__context__
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "Nom de domaine introuvable (DNS)"
    if "getaddrinfo failed" in text or "Temporary failure in name resolution" in text:
        return "Nom de domaine introuvable (DNS)"
    if "Connection refused" in text:
        return "Connexion refusée par le serveur"
    if isinstance(exc, requests.exceptions.SSLError):
        return "Certificat TLS invalide"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "Le serveur ne répond pas (délai de connexion dépassé)"
    if isinstance(exc, requests.exceptions.Timeout):
        return "Le serveur ne répond plus (délai de lecture dépassé)"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "Contenu compressé invalide"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "Connexion impossible ou interrompue"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "Adresse invalide"
    return f"Erreur réseau : {type(exc).__name__}"
