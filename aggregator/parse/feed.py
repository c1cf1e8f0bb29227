"""RSS and Atom -> events, dated by the *event* date, never the post date.

Where the date comes from, first found wins:
1. the RSS event module (ev:startdate / ev:enddate / ev:location);
2. xCal elements (xCal:dtstart / xCal:dtend / xCal:location);
3. Gancio's title form "[2025-06-12 20:30] Title @ Place";
4. <pubDate> when the source says so (The Events Calendar puts the event start there);
5. French prose in the title, then the summary ("samedi 12 mars à 14h").
An item with none of these is a blog post, not an event: it is counted as skipped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import email.utils
import hashlib
import re
from typing import Any

import feedparser

from aggregator.model import EventParsed, FeedParsed, Kind, ParseError
from aggregator.parse import Window, frenchdates
from aggregator.parse.text import description_parts, one_line, safe_url, scrub

# feedparser expands internal entities; an XML bomb or external entity is refused upfront.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.S | re.I)
_GANCIO = re.compile(
    r"^\[(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{1,2}:\d{2}))?\]\s*(?P<title>.+?)"
    r"(?:\s+@\s+(?P<place>.+))?$"
)
_PUBDATE_FR = re.compile(
    r"(?P<d>\d{1,2})\s+(?P<m>[a-z]+)\.?\s+(?P<y>\d{4})\s+(?P<H>\d{1,2}):(?P<M>\d{2})"
    r"(?::(?P<S>\d{2}))?\s*(?P<tz>[+-]\d{2}:?\d{2}|gmt|utc|z)?"
)


def parse_when(value: str | None) -> dt.date | dt.datetime | None:
    """ISO 8601 (extended or basic, as in xCal), with or without time and offset."""
    if not value:
        return None
    text = value.strip()
    basic = re.fullmatch(r"(\d{8})(?:T(\d{4}(?:\d{2})?)(Z)?)?", text)
    if basic:
        day = dt.datetime.strptime(basic.group(1), "%Y%m%d").date()
        if not basic.group(2):
            return day
        clock = basic.group(2).ljust(6, "0")
        moment = dt.datetime.combine(day, dt.time(int(clock[:2]), int(clock[2:4]), int(clock[4:])))
        return moment.replace(tzinfo=dt.UTC) if basic.group(3) else moment
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_pubdate(raw: str | None, parsed: Any = None) -> dt.datetime | None:
    """An RFC 822 date, also in French ("mar., 24 nov. 2026 10:00:00 +0100")."""
    if parsed:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)
    if not raw:
        return None
    try:
        return email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        pass
    match = _PUBDATE_FR.search(frenchdates.fold(raw))
    month = frenchdates.MONTHS.get(match.group("m")) if match else None
    if not match or not month:
        return None
    try:
        moment = dt.datetime(
            int(match.group("y")),
            month,
            int(match.group("d")),
            int(match.group("H")),
            int(match.group("M")),
            int(match.group("S") or 0),
        )
    except ValueError:
        return None
    zone = (match.group("tz") or "").replace(":", "")
    if zone and zone[0] in "+-":
        sign = 1 if zone[0] == "+" else -1
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        return moment.replace(tzinfo=dt.timezone(sign * offset))
    return moment.replace(tzinfo=dt.UTC) if zone else moment


def _entry_dates(
    entry: Any, reference: dt.date, pubdate_is_start: bool, warnings: list[str]
) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime | None, str, str] | None:
    """(start, end, title, location) of an entry, or None when it has no event date."""
    title = one_line(entry.get("title", ""))
    for prefix in ("ev", "xcal"):
        start = parse_when(entry.get(f"{prefix}_startdate") or entry.get(f"{prefix}_dtstart"))
        if start is not None:
            end = parse_when(entry.get(f"{prefix}_enddate") or entry.get(f"{prefix}_dtend"))
            return start, end, title, one_line(entry.get(f"{prefix}_location", ""))
    gancio = _GANCIO.match(title)
    if gancio:
        day = dt.date.fromisoformat(gancio.group("date"))
        start_g: dt.date | dt.datetime = day
        if gancio.group("time"):
            hours, minutes = (int(x) for x in gancio.group("time").split(":"))
            start_g = dt.datetime.combine(day, dt.time(hours, minutes))
        return start_g, None, gancio.group("title"), gancio.group("place") or ""
    published = parse_pubdate(entry.get("published"), entry.get("published_parsed"))
    if pubdate_is_start and published is not None:
        return published, None, title, ""
    summary = one_line(entry.get("summary", ""))
    ref = published.date() if published else reference
    for text in (title, summary):
        found = frenchdates.extract(text, ref)
        if found is not None:
            if found.weekday_mismatch:
                warnings.append(f"« {title} » : le jour de la semaine ne correspond pas à la date")
            start, end = frenchdates.bounds(found)
            return start, end, title, ""
    return None


_CHARREF = re.compile(rb"&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});")


def _valid_charref(match: re.Match[bytes]) -> bytes:
    """Drop references to characters XML forbids (NUL, surrogates, beyond U+10FFFF), which
    crash feedparser's loose parser."""
    raw = match.group(1)
    code = int(raw[1:], 16) if raw[:1] in b"xX" else int(raw)
    if code in (0x9, 0xA, 0xD) or 0x20 <= code < 0xD800 or 0xE000 <= code <= 0x10FFFF:
        return match.group(0)
    return b""


def parse_feed(
    body: bytes, window: Window, base_url: str | None = None, pubdate_is_start: bool = False
) -> FeedParsed:
    if b"<!ENTITY" in body[:65536]:
        body = _DOCTYPE.sub(b"", body, count=1)
    headers = {"content-location": base_url} if base_url and base_url.startswith("http") else {}
    headers["content-type"] = "application/xml"
    body = _CHARREF.sub(_valid_charref, body)
    try:
        document = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser's loose parser has its own bugs on odd input
        raise ParseError(f"Flux RSS/Atom illisible : {exc!r}") from None
    if not document.entries and (document.bozo or not document.feed):
        reason = document.get("bozo_exception") or "aucun élément"
        raise ParseError(f"Flux RSS/Atom illisible : {reason}")
    kind = Kind.ATOM if document.version.startswith("atom") else Kind.RSS
    warnings: list[str] = []
    events: list[EventParsed] = []
    skipped = 0
    for entry in document.entries:
        try:
            dates = _entry_dates(entry, window.today, pubdate_is_start, warnings)
        except Exception as exc:  # one odd item never costs the feed
            warnings.append(f"Élément « {entry.get('title', '?')} » ignoré : {exc}")
            continue
        if dates is None:
            skipped += 1
            continue
        start, end, title, location = dates
        events.append(_event(entry, start, end, title, location, base_url))
    return FeedParsed(kind, events, warnings, skipped=skipped)


def _event(
    entry: Any,
    start: dt.date | dt.datetime,
    end: dt.date | dt.datetime | None,
    title: str,
    location: str,
    base_url: str | None,
) -> EventParsed:
    content = entry.get("content") or []
    raw_html = content[0].get("value", "") if content else ""
    summary = entry.get("summary", "")
    description, description_html = description_parts(
        summary if len(summary) >= len(raw_html) else raw_html
    )
    link = safe_url(entry.get("link"), base_url)
    uid = entry.get("id") or link or hashlib.sha256(f"{title}|{start}".encode()).hexdigest()
    tags = tuple(one_line(t.get("term", "")) for t in entry.get("tags", []) if t.get("term"))
    return EventParsed(
        uid=scrub(str(uid)),
        title=title,
        start=start,
        end=end,
        description=description,
        description_html=description_html,
        location=location,
        url=link,
        categories=tags,
    )
