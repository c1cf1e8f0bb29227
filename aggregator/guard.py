"""URLs that admins add are fetched by our server: refuse those that lead inside.

Two layers. `check_url` refuses, before anything is sent, a URL whose host is internal or
that different parsers could read differently (backslashes, user info, control characters:
`http://127.0.0.1:80\\@8.8.8.8/` is 8.8.8.8 to urlsplit and 127.0.0.1 to urllib3). Then
the session's connections (`GuardedAdapter`) resolve the name themselves, refuse it if any
address is internal and connect to the vetted address only: what is checked is what is
connected to, at every redirect hop, so DNS rebinding between the check and the connection
gains nothing. TLS still names the host (SNI, certificate check) and so does Host.
Hosts listed in AGENDA_ALLOW_HOSTS (development, tests) are let through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import parse_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215


class UnsafeUrl(ValueError):
    """Worded for the admin."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64 or address in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated ::a.b.c.d
        return ipaddress.IPv4Address(int(address))
    return None


def is_internal(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and is_internal(embedded):
            return True
    return (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
        or not address.is_global
    )  # fmt: skip


def _refused(host: str, address: Address) -> UnsafeUrl:
    return UnsafeUrl(
        f"L'adresse {host} mène à une adresse interne ({address}) : refusée "
        "pour la sécurité du serveur"
    )


def _allowed(host: str, allow: Iterable[str]) -> bool:
    return host in {h.strip().lower().strip("[]") for h in allow if h.strip()}


def resolve(host: str, port: int, allow: Iterable[str] = ()) -> list[Address]:
    """Every address `host` stands for, all vetted (UnsafeUrl if one is internal)."""
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise UnsafeUrl(f"Nom de domaine introuvable : {host}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not _allowed(host, allow):
        for address in addresses:
            if is_internal(address):
                raise _refused(host, address)
    return addresses


def check_url(url: str, allow: Iterable[str] = ()) -> None:
    if any(c in "\\ \x7f" or ord(c) < 32 for c in url):
        raise UnsafeUrl("Adresse invalide : espaces, barres obliques inverses ou caractères "
                        "de contrôle")  # fmt: skip
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeUrl("Seules les adresses http, https ou webcal sont acceptées")
    if "@" in parts.netloc:
        raise UnsafeUrl("Adresse invalide : identifiants dans l'adresse (« …@ ») refusés")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("Adresse sans nom de domaine")
    # What urllib3 (under requests) will connect to must be what we checked.
    try:
        theirs = (parse_url(url).host or "").strip("[]").rstrip(".").lower()
        port = parts.port
    except ValueError:
        raise UnsafeUrl("Adresse invalide") from None
    if theirs != host:
        raise UnsafeUrl("Adresse ambiguë : refusée pour la sécurité du serveur")
    resolve(host, port or 443, allow)


@dataclass(frozen=True)
class Guard:
    """The check run on every URL before connecting; `adapter()` enforces it again on
    every connection a session makes."""

    allow: tuple[str, ...] = ()

    def __call__(self, url: str) -> None:
        check_url(url, self.allow)

    def adapter(self, connections: int) -> HTTPAdapter:
        return GuardedAdapter(self.allow, pool_connections=connections, pool_maxsize=connections)


def make_guard(allow: Iterable[str] = ()) -> Guard:
    return Guard(tuple(allow))


class _Pinned:
    """Mixed into urllib3's connections: resolve, vet, then connect to a vetted address."""

    allow: tuple[str, ...] = ()
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        host = self.host.strip("[]").rstrip(".").lower()
        try:
            addresses = resolve(host, self.port, self.allow)
        except UnsafeUrl as exc:
            raise NewConnectionError(self, str(exc)) from exc  # type: ignore[arg-type]
        error: OSError | None = None
        for address in addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if isinstance(self.timeout, int | float):  # else urllib3's "default" sentinel
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect((str(address), self.port))
                return sock
            except TimeoutError as exc:
                sock.close()
                message = f"Connection to {self.host} timed out"
                raise ConnectTimeoutError(self, message) from exc
            except OSError as exc:
                sock.close()
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


class _PinnedHTTP(_Pinned, HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, HTTPSConnection):
    pass


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go to vetted addresses only."""

    def __init__(self, allow: tuple[str, ...], **kwargs: Any) -> None:
        self.allow = allow
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pinned = type("GuardedHTTP", (_PinnedHTTP,), {"allow": self.allow})
        pinned_tls = type("GuardedHTTPS", (_PinnedHTTPS,), {"allow": self.allow})
        http = type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": pinned})
        https = type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": pinned_tls})
        self.poolmanager.pool_classes_by_scheme = {"http": http, "https": https}
