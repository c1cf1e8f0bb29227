"""Outgoing e-mail: through an SMTP server, or into .eml files when none is configured.

AGENDA_SMTP_URL says where and how:
  smtp://host:25                 plain SMTP (a relay on the same machine or network)
  smtp+starttls://user:password@host:587   STARTTLS, then login
  smtps://user:password@host:465           TLS from the first byte, then login
(user and password percent-encoded). Without it (`make run`, development), each message is
written to AGENDA_MAIL_DIR as an .eml file any mail program opens, and the log says so.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger("aggregator.mail")
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(ValueError):
    pass


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str) -> SmtpMailer:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise MailError(
                f"AGENDA_SMTP_URL={url!r}: smtp://, smtp+starttls:// or smtps:// and a host "
                "are expected"
            )
        try:
            port = parts.port or SCHEMES[parts.scheme]
        except ValueError:
            raise MailError(f"AGENDA_SMTP_URL={url!r}: the port is not a number") from None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.scheme, parts.hostname, port, username, password)

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.scheme == "smtp+starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
        log.info("mail sent to=%s subject=%r via=%s:%d", message["To"], message["Subject"],
                 self.host, self.port)  # fmt: skip


@dataclass(frozen=True)
class FileMailer:
    folder: Path

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{email.utils.make_msgid().strip('<>').split('@')[0]}.eml"
        path.write_bytes(bytes(message))
        log.warning("no AGENDA_SMTP_URL: mail to %s written to %s", message["To"], path)


def make_mailer(smtp_url: str, folder: Path) -> Mailer:
    return SmtpMailer.from_url(smtp_url) if smtp_url else FileMailer(folder)


def message(sender: str, to: list[str], subject: str, body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Subject"] = subject
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    mail.set_content(body)
    return mail


def deliver(mailer: Mailer, mail: EmailMessage) -> bool:
    """Send, and say whether it went: a mail server being down never loses what the
    public typed (it is stored first), it is logged for the admins."""
    try:
        mailer.send(mail)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s failed: %r", mail["To"], exc)
        return False
    return True
