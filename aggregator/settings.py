"""Deployment settings: environment variables, each with a default and help text.

sources.toml says *what* to fetch; these say *how* to run. The README lists every entry of
SETTINGS (a test checks it does).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Setting(NamedTuple):
    name: str
    default: str
    help: str


SETTINGS = (
    Setting("AGENDA_SOURCES", "sources.toml", "Path of the sources file."),
    Setting(
        "AGENDA_DATABASE_URL",
        "sqlite:///var/agenda.sqlite3",
        "SQLAlchemy URL: SQLite (default, file under var/) or postgresql+psycopg://user@host/db.",
    ),
    Setting(
        "AGENDA_BASE_URL",
        "http://127.0.0.1:5000",
        "Public address of the site: every absolute link in pages and feeds starts with it "
        "(never taken from the request's Host).",
    ),
    Setting("AGENDA_TIMEZONE", "Europe/Paris", "Display zone, and zone of floating times."),
    Setting(
        "AGENDA_SECRET_KEY",
        "",
        "Key signing session cookies; when empty, one is generated once into var/secret_key.",
    ),
    Setting(
        "AGENDA_CACHE_DIR",
        "var/cache",
        "Built feeds, shared by the web processes (rebuilt once per data change).",
    ),
    Setting(
        "AGENDA_ALLOW_HOSTS",
        "",
        "Hosts admins may add although they resolve inside (comma list; development, tests).",
    ),
    Setting(
        "AGENDA_SECURE_COOKIES",
        "0",
        "1 behind HTTPS: the admin session cookie is then sent over HTTPS only.",
    ),
    Setting("AGENDA_CACHE_MAX_FEEDS", "200", "Built feeds kept on disk (least recently used go)."),
    Setting("AGENDA_CACHE_MAX_MB", "1000", "Disk the built feeds may take, MB."),
    Setting(
        "AGENDA_TRUSTED_PROXIES",
        "0",
        "Reverse proxies in front of the site (hops): their X-Forwarded-For gives the client's "
        "address (login limits are per address). 0: the header is ignored.",
    ),
    Setting("AGENDA_FETCH_WORKERS", "32", "How many sources are fetched at once."),
    Setting(
        "AGENDA_PARSE_PROCESSES",
        "2",
        "Parser processes for a refresh of many sources (one parses a refresh of a few).",
    ),
    Setting(
        "AGENDA_PARSE_CPU_SECONDS",
        "60",
        "CPU time one document may take to parse; past it the fetch fails, events are kept.",
    ),
    Setting(
        "AGENDA_PARSE_MEMORY_MB",
        "1024",
        "Memory (MB) a parser process may add while parsing one document.",
    ),
    Setting("AGENDA_MAX_BODY_BYTES", "20000000", "Largest feed body accepted (after gzip)."),
    Setting("AGENDA_FETCH_TIMEOUT", "20", "Connect/read timeout per request, seconds."),
    Setting("AGENDA_FETCH_DEADLINE", "60", "Total time allowed for one fetch, seconds."),
    Setting("AGENDA_WINDOW_PAST_DAYS", "30", "Recurrences are expanded from this many days ago"),
    Setting("AGENDA_WINDOW_FUTURE_DAYS", "365", "... to this many days ahead."),
    Setting(
        "AGENDA_SMTP_URL",
        "",
        "Mail server: smtp://host:25, smtp+starttls://user:password@host:587 or "
        "smtps://user:password@host:465. Empty: mails are written to AGENDA_MAIL_DIR.",
    ),
    Setting("AGENDA_MAIL_FROM", "agenda@localhost", "Sender of the agenda's mails."),
    Setting(
        "AGENDA_ADMIN_EMAILS",
        "",
        "Admins told of new proposals and calendar requests (comma list; one digest an hour).",
    ),
    Setting("AGENDA_MAIL_DIR", "var/mail", "Where mails go as .eml files without a mail server."),
)


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    sources_path: Path
    database_url: str
    base_url: str
    timezone: str
    secret_key: str
    cache_dir: Path
    cache_max_feeds: int
    cache_max_bytes: int
    allow_hosts: tuple[str, ...]
    secure_cookies: bool
    trusted_proxies: int
    fetch_workers: int
    parse_processes: int
    parse_cpu_seconds: int
    parse_memory_mb: int
    max_body_bytes: int
    fetch_timeout: float
    fetch_deadline: float
    window_past_days: int
    window_future_days: int
    smtp_url: str
    mail_from: str
    admin_emails: tuple[str, ...]
    mail_dir: Path

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _int(env: dict[str, str], name: str) -> int:
    value = env[name]
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r}: a whole number is expected") from None
    if number <= 0:
        raise SettingsError(f"{name}={value!r}: must be positive")
    return number


def _count(env: dict[str, str], name: str) -> int:
    value = env[name]
    if not value.isdigit() or int(value) > 10:
        raise SettingsError(f"{name}={value!r}: a whole number from 0 to 10 is expected")
    return int(value)


def _secret_key(configured: str, var_dir: Path) -> str:
    if configured:
        return configured
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    source = os.environ if environ is None else environ
    env = {s.name: source.get(s.name) or s.default for s in SETTINGS}
    zone = env["AGENDA_TIMEZONE"]
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"AGENDA_TIMEZONE={zone!r}: unknown time zone") from None
    url = env["AGENDA_DATABASE_URL"]
    base = env["AGENDA_BASE_URL"].strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise SettingsError(f"AGENDA_BASE_URL={base!r}: an address like https://agenda.example.org")
    return Settings(
        sources_path=Path(env["AGENDA_SOURCES"]),
        database_url=url,
        base_url=base,
        timezone=zone,
        secret_key=_secret_key(env["AGENDA_SECRET_KEY"], Path("var")),
        cache_dir=Path(env["AGENDA_CACHE_DIR"]),
        cache_max_feeds=_int(env, "AGENDA_CACHE_MAX_FEEDS"),
        cache_max_bytes=_int(env, "AGENDA_CACHE_MAX_MB") * 1_000_000,
        allow_hosts=tuple(h.strip() for h in env["AGENDA_ALLOW_HOSTS"].split(",") if h.strip()),
        secure_cookies=env["AGENDA_SECURE_COOKIES"] in ("1", "true", "yes"),
        trusted_proxies=_count(env, "AGENDA_TRUSTED_PROXIES"),
        fetch_workers=_int(env, "AGENDA_FETCH_WORKERS"),
        parse_processes=_int(env, "AGENDA_PARSE_PROCESSES"),
        parse_cpu_seconds=_int(env, "AGENDA_PARSE_CPU_SECONDS"),
        parse_memory_mb=_int(env, "AGENDA_PARSE_MEMORY_MB"),
        max_body_bytes=_int(env, "AGENDA_MAX_BODY_BYTES"),
        fetch_timeout=float(_int(env, "AGENDA_FETCH_TIMEOUT")),
        fetch_deadline=float(_int(env, "AGENDA_FETCH_DEADLINE")),
        window_past_days=_int(env, "AGENDA_WINDOW_PAST_DAYS"),
        window_future_days=_int(env, "AGENDA_WINDOW_FUTURE_DAYS"),
        smtp_url=_smtp_url(env["AGENDA_SMTP_URL"].strip()),
        mail_from=env["AGENDA_MAIL_FROM"].strip(),
        admin_emails=tuple(a.strip() for a in env["AGENDA_ADMIN_EMAILS"].split(",") if a.strip()),
        mail_dir=Path(env["AGENDA_MAIL_DIR"]),
    )


def _smtp_url(url: str) -> str:
    from aggregator.mail import MailError, SmtpMailer

    if url:
        try:
            SmtpMailer.from_url(url)
        except MailError as exc:
            raise SettingsError(str(exc)) from None
    return url
