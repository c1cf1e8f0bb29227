"""The pure stages for one fetched document: parse, normalise, tag territories, make the
rows to store. No database and no network: it runs in the parser processes
(aggregator.budget), which import this module, not the pipeline (its database and HTTP
libraries would be 30 MB more in each of them)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Protocol

# The parsers, imported once in the parser processes' fork server and shared by them.
import aggregator.parse.feed
import aggregator.parse.ics
import aggregator.parse.jsonld  # noqa: F401
from aggregator import rows as stored
from aggregator.model import EventIntent, FeedFetched, ParseError, SourceConfig
from aggregator.normalise import normalise
from aggregator.parse import Window, parse_document
from aggregator.territory import load_gazetteer, tag_events


@dataclass(frozen=True)
class ParseOptions:
    """What the pure stages need of the refresh's options (RefreshOptions.parsing)."""

    timezone: str = "Europe/Paris"
    past_days: int = 30
    future_days: int = 365
    aliases: tuple[tuple[str, str], ...] = ()  # [aliases] of sources.toml

    def window(self, now: dt.datetime) -> Window:
        today = now.astimezone(dt.UTC).date()
        return Window(
            now - dt.timedelta(days=self.past_days),
            now + dt.timedelta(days=self.future_days),
            today,
        )


class Parsing(Protocol):
    @property
    def timezone(self) -> str: ...
    @property
    def aliases(self) -> tuple[tuple[str, str], ...]: ...
    def window(self, now: dt.datetime) -> Window: ...


def in_window(intent: EventIntent, window: Window) -> bool:
    last = intent.end or intent.start
    return last >= window.start and intent.start < window.end


@dataclass(frozen=True)
class Prepared:
    """A fetched document once parsed, normalised and tagged (or why it could not be)."""

    intents: list[EventIntent]
    warnings: list[str]
    skipped: int
    seconds: float
    error: str | None = None
    rows: list[dict[str, object]] | None = None  # stored.event_rows(intents)
    kind: str | None = None  # what the document turned out to be (ics, rss, ...)


def prepare(
    source: SourceConfig, fetched: FeedFetched, options: Parsing, now: dt.datetime
) -> Prepared:
    """The pure stages for one document: no database, so it may run in another process."""
    started = time.monotonic()
    window = options.window(now)
    assert fetched.body is not None
    try:
        parsed = parse_document(
            fetched.body,
            source.kind,
            window,
            base_url=fetched.final_url if not source.is_local else None,
            content_type=fetched.content_type,
            pubdate_is_start=source.pubdate_is_start,
        )
    except ParseError as exc:
        return Prepared([], [], 0, time.monotonic() - started, error=str(exc))
    warnings = list(parsed.warnings)
    intents = [
        i for i in normalise(parsed, source, options.timezone, warnings) if in_window(i, window)
    ]
    gazetteer = load_gazetteer(dict(options.aliases))
    try:
        intents = tag_events(intents, gazetteer, source.territory)
        rows = stored.event_rows(intents)
    except Exception:  # one event breaks a later stage: it alone is skipped, never the feed
        intents, rows = _one_by_one(intents, gazetteer, source.territory, warnings)
    seconds = time.monotonic() - started
    kind = str(parsed.kind)  # what parse_document found: ics, rss, atom, jsonld
    return Prepared(intents, warnings, parsed.skipped, seconds, rows=rows, kind=kind)


def _one_by_one(
    intents: list[EventIntent], gazetteer: Any, territory: str | None, warnings: list[str]
) -> tuple[list[EventIntent], list[dict[str, object]]]:
    kept: list[EventIntent] = []
    rows: list[dict[str, object]] = []
    for intent in intents:
        try:
            (tagged,) = tag_events([intent], gazetteer, territory)
            (row,) = stored.event_rows([tagged])
        except Exception as exc:
            warnings.append(f"Événement « {intent.title} » ignoré : {exc!r}")
            continue
        kept.append(tagged)
        rows.append(row)
    return kept, rows
