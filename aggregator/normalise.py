"""Normalise stage: EventParsed -> EventIntent (UTC instants, zone, all-day, tags, status).

Pure: the same input always gives the same output.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import re
from dataclasses import replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.model import EventIntent, EventParsed, FeedParsed, SourceConfig, Status
from aggregator.parse.text import scrub
from aggregator.parse.tzid import resolve_tzid

_CANCELLED_TITLE = re.compile(
    r"^\s*[\[(]?\s*(annul[ée]e?s?|cancel+ed|report[ée]e?s?)\s*[\])]?\s*[:!–—-]?\s*", re.I
)
MAX_DURATION = dt.timedelta(days=366)
# What one event may store (characters). A page title or a poster's text fits many times
# over; a feed sending more is broken or hostile, and every reader would pay for it.
CAPS = {"title": 300, "location": 500, "description": 20_000, "description_html": 40_000}
MAX_URL = 2_000  # a cut URL leads nowhere: a longer one is dropped
MAX_UID = 255  # an identity: a longer one is replaced by its digest
# For the source's warnings: what each field is called, its limit, what a longer one gets.
FIELD_NAMES = {"title": "titre", "location": "lieu", "description": "description",
               "description_html": "description HTML", "url": "lien", "uid": "UID"}  # fmt: skip
LIMITS = {**CAPS, "url": MAX_URL, "uid": MAX_UID}
CUT = {"description_html": "ignoré", "url": "ignoré", "uid": "remplacé par son empreinte"}


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def _tags(source: SourceConfig, categories: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for tag in (*categories, *source.tags):
        clean = " ".join(tag.split()).lower()
        if clean and len(clean) <= 60:
            seen.setdefault(clean, clean)
    return tuple(seen.values())


def normalise_event(
    event: EventParsed, source: SourceConfig, calendar_tz: str | None, default_tz: str
) -> EventIntent:
    # An admin sets a source zone precisely when the feed gets it wrong, so it wins.
    zone = _zone(source.timezone) or _zone(calendar_tz) or ZoneInfo(default_tz)
    title = event.title
    status = event.status
    match = _CANCELLED_TITLE.match(title)
    if match and match.group(1).lower().startswith(("annul", "cancel")):
        # Many associations cancel by renaming ("ANNULÉ - Concert") rather than STATUS.
        status = Status.CANCELLED
        title = title[match.end() :].strip() or title
    if not isinstance(event.start, dt.datetime):
        # An all-day event is a date, whatever zone its calendar names: it is kept as
        # midnight in the agenda's own zone, the one every page, feed and API answer uses
        # to turn it back into dates (a calendar on UTC or Tokyo no longer moves the day).
        home = ZoneInfo(default_tz)
        start = _local_midnight(event.start, home)
        last = _last_date(event.end)
        end_day = last if last and last > event.start else event.start + dt.timedelta(days=1)
        end: dt.datetime | None = _local_midnight(end_day, home)
        all_day = True
        timezone = str(home.key)
    else:
        aware = event.start if event.start.tzinfo else event.start.replace(tzinfo=zone)
        start = aware.astimezone(dt.UTC)
        end = None
        if isinstance(event.end, dt.datetime):
            end_aware = event.end if event.end.tzinfo else event.end.replace(tzinfo=zone)
            end = end_aware.astimezone(dt.UTC)
        elif isinstance(event.end, dt.date):
            end = _local_midnight(event.end, zone)
        if end is not None and (end <= start or end - start > MAX_DURATION):
            end = None
        all_day = False
        timezone = _zone_name(aware.tzinfo) or _resolved(event.tzid, aware) or str(zone.key)
    return EventIntent(
        source_id=source.id,
        uid=scrub(event.uid),
        recurrence_id=event.recurrence_id,
        title=title or "(sans titre)",
        start=start,
        end=end,
        all_day=all_day,
        timezone=timezone,
        description=event.description,
        description_html=event.description_html,
        location=event.location,
        geo=event.geo,
        url=scrub(event.url) if event.url else None,
        tags=_tags(source, event.categories),
        status=status,
        territory=source.territory,
    )


def _last_date(end: dt.date | None) -> dt.date | None:
    """The exclusive end date of an all-day event. Some generators write a DATE-TIME end
    on a DATE start (RFC 5545 wants both alike): its date, as Thunderbird (ical.js) reads it
    (an end on the start day itself gives the one day)."""
    if isinstance(end, dt.datetime):
        return end.date()
    return end


def _resolved(tzid: str | None, aware: dt.datetime) -> str | None:
    """The IANA name of a zone the document defined under another name ("Eastern Standard
    Time", "(UTC-03:00) Brasília"), when it agrees with the offset actually applied; else
    that offset."""
    offset = aware.utcoffset()
    if tzid:
        name = resolve_tzid(tzid)
        if (
            name
            and _zone(name) is not None
            and aware.astimezone(ZoneInfo(name)).utcoffset() == offset
        ):
            return name
    if offset is None:
        return None
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone_name(tzinfo: dt.tzinfo | None) -> str | None:
    key = getattr(tzinfo, "key", None)
    if key:
        return str(key)
    if tzinfo is dt.UTC:
        return "UTC"
    return None


def capped(intent: EventIntent, cut: collections.Counter[str]) -> EventIntent:
    """The intent within the size caps; `cut` counts what had to be cut, per field."""
    changes: dict[str, object] = {}
    for name, limit in CAPS.items():
        value = getattr(intent, name)
        if value and len(value) > limit:
            changes[name] = None if name == "description_html" else value[: limit - 1] + "…"
            cut[name] += 1
    if intent.url and len(intent.url) > MAX_URL:
        changes["url"] = None
        cut["url"] += 1
    if len(intent.uid) > MAX_UID:
        changes["uid"] = "long-" + hashlib.sha256(intent.uid.encode()).hexdigest()
        cut["uid"] += 1
    return replace(intent, **changes) if changes else intent  # type: ignore[arg-type]


def normalise(
    parsed: FeedParsed,
    source: SourceConfig,
    default_tz: str,
    warnings: list[str] | None = None,
) -> list[EventIntent]:
    """Normalise every occurrence; identical identities keep the last one seen. What had
    to be cut to size is told in `warnings`, once per field."""
    intents: dict[tuple[str, str], EventIntent] = {}
    cut: collections.Counter[str] = collections.Counter()
    mixed = 0
    for event in parsed.events:
        try:
            intent = normalise_event(event, source, parsed.calendar_tz, default_tz)
        except Exception as exc:  # one malformed event costs itself only, never the feed
            if warnings is not None:
                warnings.append(f"Événement « {event.title or event.uid} » ignoré : {exc!r}")
            continue
        mixed += isinstance(event.end, dt.datetime) and not isinstance(event.start, dt.datetime)
        intent = capped(intent, cut)
        intents[(intent.uid, intent.recurrence_id)] = intent
    if warnings is not None:
        if mixed:
            warnings.append(f"{mixed} événement(s) d'une journée avec une heure de fin : "
                            "traités comme des journées entières")  # fmt: skip
        warnings.extend(
            f"{count} événement(s) : {FIELD_NAMES[name]} de plus de {LIMITS[name]} caractères, "
            f"{CUT.get(name, 'tronqué')}"
            for name, count in cut.items()
        )
    return list(intents.values())
