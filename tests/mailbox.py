"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the tests."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session


class Mailbox:
    """The handler: every message accepted, parsed, kept in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.to(address)


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link(message: EmailMessage, path: str) -> str:
    found = re.search(rf"https?://\S+{re.escape(path)}\S*", body(message))
    assert found, body(message)
    return found.group()


@contextmanager
def smtp_server(
    tls: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    login: tuple[str, str] | None = None,
) -> Iterator[tuple[Mailbox, int]]:
    """Plain SMTP; STARTTLS required with `tls`; TLS from the first byte with
    `implicit_tls`; AUTH LOGIN/PLAIN checked against `login`."""
    mailbox = Mailbox()
    options: dict[str, Any] = {}
    if tls is not None and implicit_tls:
        # (aiosmtpd only knows TLS it started itself: the whole connection is TLS here)
        options.update(ssl_context=tls, auth_require_tls=False)
    elif tls is not None:
        options.update(tls_context=tls, require_starttls=True)
    if login is not None:

        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            ok = (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok)

        options.update(authenticator=check, auth_required=True)
    with socket.socket() as probe:  # a free port (the controller cannot report port 0's)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
