"""URLs that admins add are fetched by our server: refuse those that lead inside.

Checked before every connection, redirects included (fetch calls the guard on each hop), so
a refused address is never contacted. Hosts listed in AGENDA_ALLOW_HOSTS (development, tests)
are let through. Sources written by hand in sources.toml (file paths, the demo) are trusted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit


class UnsafeUrl(ValueError):
    """Worded for the admin."""


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified
        or not address.is_global
    )  # fmt: skip


def check_url(url: str, allow: Iterable[str] = ()) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeUrl("Seules les adresses http, https ou webcal sont acceptées")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("Adresse sans nom de domaine")
    if host in {h.strip().lower() for h in allow if h.strip()}:
        return
    try:
        literal = ipaddress.ip_address(host)
        addresses = [literal]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise UnsafeUrl(f"Nom de domaine introuvable : {host}") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if _is_internal(address):
            raise UnsafeUrl(
                f"L'adresse {host} mène à une adresse interne ({address}) : refusée "
                "pour la sécurité du serveur"
            )


def make_guard(allow: Iterable[str] = ()) -> Callable[[str], None]:
    hosts = tuple(allow)

    def guard(url: str) -> None:
        check_url(url, hosts)

    return guard
