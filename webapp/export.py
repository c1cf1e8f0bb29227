"""Merged feeds: ICS (RFC 5545) with icalendar, RSS and Atom with feedgen.

Built from the store's merged events; the text of every property is escaped by the library,
so nothing a source writes can add a line or a property to our feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
from feedgen.feed import FeedGenerator

from aggregator.store.read import EventRow
from webapp.formatting import local_days, when

PRODID = "-//Udess 05//Agenda ESS Hautes-Alpes//FR"
# The rules in force since 1996 (EU summer time), valid with no end date; icalendar's
# generated VTIMEZONE lists every transition up to 2038 instead.
PARIS_VTIMEZONE = """BEGIN:VTIMEZONE\r
TZID:Europe/Paris\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
TZNAME:CEST\r
DTSTART:19700329T020000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
TZNAME:CET\r
DTSTART:19701025T030000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""
TTL = dt.timedelta(hours=1)
STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}


class _Text(icalendar.vText):
    """TEXT escaped as RFC 5545 says (backslash first, then ; , and line breaks).
    icalendar 7.3 first turns a literal backslash-N of the text into a line break, so a
    title holding "\\N" (a path, a failed escape) reached subscribers changed."""

    def to_ical(self) -> bytes:
        text = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
        return text.encode()  # UTF-8, as icalendar writes


def _description(event: EventRow, page_url: str) -> str:
    parts = [event.description] if event.description else []
    publishers = ", ".join(s.name for s in event.sources)
    parts.append(f"Publié par : {publishers}")
    parts.append(page_url)
    return "\n\n".join(parts)


def vevent(event: EventRow, tz: ZoneInfo, page_url: str) -> icalendar.Event:
    item = icalendar.Event()
    item.add("uid", event.uid)
    stamp = event.updated_at or event.first_seen or event.start
    item.add("dtstamp", stamp)
    if event.updated_at:
        item.add("last-modified", event.updated_at)
    if event.first_seen:
        item.add("created", event.first_seen)
    if event.all_day:
        first, last = local_days(event, tz)
        item.add("dtstart", first)
        item.add("dtend", last + dt.timedelta(days=1))
    else:
        item.add("dtstart", event.start.astimezone(tz))
        if event.end is not None:
            item.add("dtend", event.end.astimezone(tz))
    cancelled = event.status == "cancelled" or event.removed_at is not None
    item.add("summary", _Text(event.title))
    item.add("status", "CANCELLED" if cancelled else STATUS.get(event.status, "CONFIRMED"))
    # Removal is a change subscribers must apply: it raises SEQUENCE (RFC 5545 3.8.7.4).
    item.add("sequence", event.sequence + (1 if event.removed_at else 0))
    item.add("description", _Text(_description(event, page_url)))
    if event.location:
        item.add("location", _Text(event.location))
    if event.geo:
        item.add("geo", event.geo)
    item.add("url", event.url or page_url)
    if event.tags:
        item.add("categories", list(event.tags))
    return item


PageUrl = Callable[[EventRow], str]


class VeventCache:
    """Serialised VEVENTs by value: an EventRow is immutable, so the same row always gives
    the same bytes. Rebuilding a feed after a refresh serialises only what changed, and
    filtered feeds reuse the chunks of the full one (icalendar's folding is the cost).

    Each web process has its own; `save` and `load` share them through a file, so that the
    worker that happens to rebuild after a change does not start from nothing (a full
    serialisation takes tens of seconds at 50,000 events, a rebuild from chunks one).
    """

    def __init__(self, size: int = 200_000):
        self.size = size
        self.chunks: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self.spare: dict[bytes, bytes] = {}  # loaded from the shared file, by digest
        self.lock = threading.Lock()
        self.serialised = 0  # events actually serialised (tests, bench)

    @staticmethod
    def digest(key: tuple[object, ...]) -> bytes:
        """Stable across processes (unlike hash()): repr of frozen dataclasses and dates."""
        return hashlib.blake2b(repr(key).encode(), digest_size=16).digest()

    def get(self, event: EventRow, tz: ZoneInfo, url: str) -> bytes:
        key = (event, tz.key, url)
        with self.lock:
            chunk = self.chunks.get(key)
            if chunk is not None:
                self.chunks.move_to_end(key)
                return chunk
            if self.spare:
                chunk = self.spare.pop(self.digest(key), None)
        if chunk is None:
            chunk = vevent(event, tz, url).to_ical()
            with self.lock:
                self.serialised += 1
        with self.lock:
            self.chunks[key] = chunk
            while len(self.chunks) > self.size:
                self.chunks.popitem(last=False)
        return chunk

    def save(self, path: Path) -> None:
        """Write every chunk as (digest, length, bytes) records; atomic, last writer wins."""
        with self.lock:
            items = [(self.digest(key), chunk) for key, chunk in self.chunks.items()]
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as out:
            for digest, chunk in items:
                out.write(digest + struct.pack(">I", len(chunk)) + chunk)
        os.replace(temporary, path)

    def load(self, path: Path) -> None:
        """Read chunks another process saved (a plain record format: nothing to execute)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        spare: dict[bytes, bytes] = {}
        offset = 0
        while offset + 20 <= len(data):
            digest = data[offset : offset + 16]
            (length,) = struct.unpack(">I", data[offset + 16 : offset + 20])
            spare[digest] = data[offset + 20 : offset + 20 + length]
            offset += 20 + length
        with self.lock:
            self.spare = spare


VEVENTS = VeventCache()


def calendar(events: Sequence[EventRow], tz: ZoneInfo, name: str, page_url: PageUrl) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("x-wr-timezone", tz.key)
    cal.add("refresh-interval", TTL, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    if tz.key == "Europe/Paris":
        cal.add_component(icalendar.Timezone.from_ical(PARIS_VTIMEZONE))
    else:
        cal.add_component(icalendar.Timezone.from_tzid(tz.key))
    head, end = cal.to_ical().rsplit(b"END:VCALENDAR", 1)
    body = b"".join(VEVENTS.get(event, tz, page_url(event)) for event in events)
    return head + body + b"END:VCALENDAR" + end


def syndication(
    events: Sequence[EventRow],
    tz: ZoneInfo,
    kind: str,
    title: str,
    site_url: str,
    self_url: str,
    page_url: PageUrl,
) -> bytes:
    """RSS or Atom: the event date leads the item title; item dates are publication dates."""
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.link(href=self_url, rel="self")
    feed.link(href=site_url, rel="alternate")  # last: RSS keeps it as the channel link
    feed.language("fr")
    feed.description("Agenda partagé de l'économie sociale et solidaire des Hautes-Alpes")
    for event in reversed(events):  # feedgen prepends
        entry = feed.add_entry()
        url = page_url(event)
        entry.id(event.uid)
        prefix = "[Annulé] " if event.status == "cancelled" else ""
        entry.title(f"{prefix}{when(event, tz)} — {event.title}")
        entry.link(href=url)
        summary = " · ".join(p for p in (event.location, event.description[:500]) if p)
        text = summary or event.title
        # RSS readers render <description> as HTML: plain text goes in escaped, so
        # "Entrée <libre>" shows as written. Atom's summary is declared as text.
        entry.description(html.escape(text) if kind == "rss" else text)
        published = event.first_seen or event.start
        entry.published(published)
        entry.updated(event.updated_at or published)
        for tag in event.tags:
            entry.category(term=tag)
    return feed.atom_str(pretty=True) if kind == "atom" else feed.rss_str(pretty=True)
