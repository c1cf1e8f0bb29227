"""ICS (RFC 5545) documents -> occurrences, expanded over the window.

icalendar parses, x-wr-timezone applies X-WR-TIMEZONE, recurring-ical-events expands RRULE,
RDATE (incl. PERIOD), EXDATE and RECURRENCE-ID overrides. Around them we repair what real
generators write (see `repair`) and isolate failures: each series (UID) is expanded on its
own, so a malformed property skips that event with a warning, never the whole feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from typing import Any

import icalendar
import recurring_ical_events
import x_wr_timezone

from aggregator.model import EventParsed, FeedParsed, Kind, ParseError, Status
from aggregator.parse import Window
from aggregator.parse.rrule import bound_recurrence
from aggregator.parse.text import description_parts, one_line, parse_geo, safe_url
from aggregator.parse.tzid import known_to_icalendar, resolve_tzid

MAX_OCCURRENCES_PER_SERIES = 1000  # an hourly RRULE over the window is cut, with a warning
MAX_OCCURRENCES = 100_000
_DATE_PROPS = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE", "DUE")
# A date property whose value is only 8-digit dates is a DATE, whatever VALUE/TZID say.
_BARE_DATE = re.compile(
    rf"^({'|'.join(_DATE_PROPS)})((?:;[^:\r\n]*)?):(\d{{8}}(?:,\d{{8}})*)$", re.M | re.I
)
_GEO = re.compile(r"^GEO((?:;[^:\n]*)?):(.*)$", re.M | re.I)
_TZID_PARAM = re.compile(r';TZID=("[^"]*"|[^;:\r\n]*)', re.I)
_VTIMEZONE_TZID = re.compile(r"^TZID:(.*)$", re.M)


def decode(body: bytes) -> str:
    """Bytes -> unfolded text with \\n line ends.

    Unfolding happens on bytes, before decoding, because generators fold in the middle of a
    UTF-8 sequence. Each line is UTF-8 if it can be, else CP1252 (a superset of Latin-1 in
    practice), so one Latin-1 line does not garble the rest.
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = body.decode("utf-16").encode("utf-8")
    body = body.removeprefix(b"\xef\xbb\xbf").replace(b"\x00", b"")
    body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    body = re.sub(rb"\n[ \t]", b"", body)
    lines = []
    for raw in body.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", errors="replace"))
    return "\n".join(lines)


_EMPTY_PARAMS = re.compile(r"^([A-Za-z-]+);(?:;)+", re.M)


def repair(text: str, warnings: list[str]) -> str:
    """Textual fixes that icalendar cannot do after the fact."""

    def bare_date(match: re.Match[str]) -> str:
        params = [
            p
            for p in match.group(2).split(";")
            if p and not p.upper().startswith(("TZID=", "VALUE="))
        ]
        return f"{match.group(1)};VALUE=DATE{''.join(';' + p for p in params)}:{match.group(3)}"

    text = _BARE_DATE.sub(bare_date, text)

    def geo(match: re.Match[str]) -> str:
        # icalendar only reads "lat;lon"; generators write "lat,lon", decimal commas...
        coords = parse_geo(match.group(2))
        return f"GEO:{coords[0]};{coords[1]}" if coords else ""

    text = _GEO.sub(geo, text)
    # "DTSTART;;VALUE=DATE-TIME:..." (an empty parameter): icalendar loses the property.
    text = _EMPTY_PARAMS.sub(r"\1;", text)
    text = _VTIMEZONE_BLOCK.sub(lambda m: _one_tzid(m.group(0), warnings), text)
    defined = {tz.strip() for tz in _VTIMEZONE_TZID.findall(_vtimezones(text))}
    unknown: set[str] = set()

    def tzid(match: re.Match[str]) -> str:
        name = match.group(1).strip('"')
        if name in defined or known_to_icalendar(name):
            return match.group(0)
        zone = resolve_tzid(name)
        if zone is None:
            unknown.add(name)
            return ""  # a floating time: the calendar's or source's zone applies
        return f";TZID={zone}"

    text = _TZID_PARAM.sub(tzid, text)
    for name in sorted(unknown):
        warnings.append(f"Fuseau horaire inconnu « {name} » : heure locale supposée")
    return text


_VTIMEZONE_BLOCK = re.compile(r"^BEGIN:VTIMEZONE\b.*?^END:VTIMEZONE\b", re.S | re.M | re.I)
_TZID_LINE = re.compile(r"^TZID[;:][^\n]*\n", re.M | re.I)


def _one_tzid(block: str, warnings: list[str]) -> str:
    """A time zone with several TZID lines: the first names it. icalendar raises from
    inside its parser on the others (a list where it expects a name)."""
    found = _TZID_LINE.findall(block)
    if len(found) < 2:
        return block
    first = block.index(found[0]) + len(found[0])
    warnings.append("Fuseau horaire défini avec plusieurs TZID : le premier est gardé")
    return block[:first] + _TZID_LINE.sub("", block[first:])


def _vtimezones(text: str) -> str:
    return "\n".join(re.findall(r"BEGIN:VTIMEZONE.*?END:VTIMEZONE", text, re.S))


def parse_ics(body: bytes, window: Window, base_url: str | None = None) -> FeedParsed:
    warnings: list[str] = []
    text = repair(decode(body), warnings)
    if "BEGIN:VCALENDAR" not in text.upper():
        raise ParseError("Ce n'est pas un calendrier ICS (BEGIN:VCALENDAR absent)")
    if "END:VCALENDAR" not in text.upper():
        raise ParseError("Calendrier ICS tronqué (END:VCALENDAR absent)")
    try:
        calendars = icalendar.Calendar.from_ical(text.replace("\n", "\r\n"), multiple=True)
    except Exception as exc:  # icalendar raises assorted errors on odd input, not only ValueError
        raise ParseError(f"Calendrier ICS illisible : {exc}") from None
    events: list[EventParsed] = []
    calendar_tz: str | None = None
    for calendar in calendars:
        zone = _calendar_zone(calendar)
        calendar_tz = calendar_tz or zone
        if zone:
            try:
                calendar = x_wr_timezone.to_standard(calendar)
            except Exception as exc:  # the library raises assorted errors on odd input
                warnings.append(f"X-WR-TIMEZONE non appliqué : {exc}")
        events.extend(_expand(calendar, window, base_url, warnings))
        if len(events) >= MAX_OCCURRENCES:
            warnings.append(f"Plus de {MAX_OCCURRENCES} occurrences : la suite est ignorée")
            del events[MAX_OCCURRENCES:]
            break
    return FeedParsed(Kind.ICS, events, warnings, calendar_tz=calendar_tz)


def _calendar_zone(calendar: icalendar.Calendar) -> str | None:
    raw = calendar.get("X-WR-TIMEZONE")
    return resolve_tzid(str(raw)) if raw else None


def _synthetic_uid(component: icalendar.cal.Component) -> str:
    """Stable across refreshes: derived from what identifies the event to a reader."""
    basis = "|".join(
        str(component.get(key, "")) for key in ("DTSTART", "SUMMARY", "LOCATION", "RRULE")
    )
    raw_start = component.get("DTSTART")
    if raw_start is not None and hasattr(raw_start, "to_ical"):
        # bytes as a rule, but str for a time of day ("DTSTART:202612" reads as 20:26:12).
        value = raw_start.to_ical()
        basis += value.decode() if isinstance(value, bytes) else str(value)
    return "synth-" + hashlib.sha256(basis.encode()).hexdigest()[:24]


def _expand(
    calendar: icalendar.Calendar, window: Window, base_url: str | None, warnings: list[str]
) -> list[EventParsed]:
    series: dict[str, list[Any]] = defaultdict(list)
    for component in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            written = component.get(name)
            if isinstance(written, list):  # written twice: the first one counts
                first = written[0]
                del component[name]
                component[name] = first
        if not component.get("UID"):
            component["UID"] = _synthetic_uid(component)
        series[str(component["UID"])].append(component)
    timezones = calendar.walk("VTIMEZONE")
    events: list[EventParsed] = []
    for uid, components in series.items():
        if len(components) == 1 and _is_plain(components[0]):
            # Most events: one date, nothing to expand. Skipping recurring-ical-events
            # (a calendar and a copy per event) halves the cost of a feed.
            try:
                if _overlaps(components[0], window):
                    events.append(_occurrence(components[0], uid, base_url))
            except Exception as exc:  # one broken event must never cost the feed
                title = one_line(str(components[0].get("SUMMARY", ""))) or uid
                warnings.append(f"Événement « {title} » ignoré : {_reason(exc)}")
            continue
        single = icalendar.Calendar()
        for part in (*timezones, *components):
            single.add_component(part)
        title = one_line(str(components[0].get("SUMMARY", ""))) or uid
        try:
            shifts = _this_and_future(components)
            try:
                kept = _occurrences(single, components, window, title, warnings)
            except Exception as exc:
                # A rule the expansion cannot read ("UNTL=", a bad COUNT...): rather than
                # losing the event, its first date is kept.
                kept = _first_dates(components, window)
                if not kept:
                    raise
                warnings.append(f"« {title} » : récurrence illisible ({_reason(exc)}), "
                                "seule la première date est gardée")  # fmt: skip
            # Without overrides every occurrence is a copy of the one VEVENT: its text
            # (HTML sanitising, URL and geo checks) is read once for the whole series.
            shared = _content(components[0], base_url) if len(components) == 1 else None
            events.extend(_occurrence(o, uid, base_url, shared, shifts) for o in kept)
        except Exception as exc:  # one broken event must never cost the feed
            warnings.append(f"Événement « {title} » ignoré : {_reason(exc)}")
    return events


_RECURRENCE_PROPS = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "DURATION")


def _is_plain(component: Any) -> bool:
    """One dated occurrence whose end is written as DTEND (or absent on a timed event)."""
    start = component.get("DTSTART")
    if start is None or any(component.get(p) is not None for p in _RECURRENCE_PROPS):
        return False
    end = component.get("DTEND")
    try:
        value = start.dt
        if end is not None:
            end.dt  # noqa: B018
    except Exception:  # a broken date: the general path reports it
        return False
    return isinstance(value, dt.datetime) or end is not None


def _overlaps(component: Any, window: Window) -> bool:
    """recurring-ical-events' rule for `between`: starts before the window ends, and ends
    after it starts (an instant counts at the very start)."""
    tz = window.start.tzinfo
    start = _as_datetime(component["DTSTART"].dt, tz)
    end_prop = component.get("DTEND")
    end = _as_datetime(end_prop.dt, tz) if end_prop is not None else start
    if start >= window.end:
        return False
    return end > window.start or (end <= start and start >= window.start)


def _occurrences(
    single: icalendar.Calendar,
    components: list[Any],
    window: Window,
    title: str,
    warnings: list[str],
) -> list[Any]:
    """The series' occurrences in the window, at most MAX_OCCURRENCES_PER_SERIES.

    One `between` over the window is the fast path (`after` re-walks the rule for every step
    it takes). A rule repeating within a day is asked for a short horizon first, doubled
    until it holds enough occurrences, so an hourly rule never materialises a whole year.
    """
    steps = []
    for component in components:
        if component.get("RECURRENCE-ID") is None:
            bounded = bound_recurrence(component, window, title)
            if bounded.warning:
                warnings.append(bounded.warning)
            if bounded.step is not None:
                steps.append(bounded.step)
    query = recurring_ical_events.of(single)
    if steps and min(steps) < dt.timedelta(days=1):
        span = min(steps) * (MAX_OCCURRENCES_PER_SERIES + 1)
    else:
        span = window.end - window.start
    while True:
        horizon = min(window.end, window.start + span)
        found = query.between(window.start, horizon)
        if len(found) > MAX_OCCURRENCES_PER_SERIES or horizon >= window.end:
            break
        span *= 2
    found.sort(key=lambda o: _as_datetime(o["DTSTART"].dt, window.start.tzinfo))
    if len(found) > MAX_OCCURRENCES_PER_SERIES:
        warnings.append(
            f"« {title} » : plus de {MAX_OCCURRENCES_PER_SERIES} occurrences, série tronquée"
        )
        del found[MAX_OCCURRENCES_PER_SERIES:]
    return found


def _first_dates(components: list[Any], window: Window) -> list[Any]:
    """The series' own VEVENTs, without their recurrence, where they fall in the window."""
    kept = []
    for component in components:
        if component.get("DTSTART") is None:
            continue
        plain = component.copy()
        for name in ("RRULE", "RDATE", "EXDATE"):
            if name in plain:
                del plain[name]
        if (
            plain.get("DTEND") is None
            and plain.get("DURATION") is None
            and not isinstance(plain["DTSTART"].dt, dt.datetime)
        ):
            plain.add("DTEND", plain["DTSTART"].dt + dt.timedelta(days=1))
        if _overlaps(plain, window):
            kept.append(plain)
    return kept


def _this_and_future(components: list[Any]) -> dict[str, dt.timedelta]:
    """RECURRENCE-ID;RANGE=THISANDFUTURE moves an occurrence and every later one.
    recurring-ical-events gives all of them the override's RECURRENCE-ID, which would make
    them one occurrence; each gets back its own identity, its original start, from how far
    the override moved it (in wall time, as the series repeats)."""
    shifts: dict[str, dt.timedelta] = {}
    for component in components:
        recurrence = component.get("RECURRENCE-ID")
        start = component.get("DTSTART")
        if recurrence is None or start is None:
            continue
        if str(recurrence.params.get("RANGE", "")).upper() != "THISANDFUTURE":
            continue
        shifts[_recurrence_id(recurrence.dt)] = _wall(start.dt) - _wall(recurrence.dt)
    return shifts


def _wall(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time())


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."


def _as_datetime(value: dt.date, tz: dt.tzinfo | None) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return dt.datetime.combine(value, dt.time(), tz)


def _recurrence_id(value: dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return value.strftime("%Y%m%dT%H%M%S")
    return value.strftime("%Y%m%d")


def _is_all_day(component: Any, start: dt.date) -> bool:
    if not isinstance(start, dt.datetime):
        return True
    flag = str(component.get("X-MICROSOFT-CDO-ALLDAYEVENT", "")).upper()
    return flag == "TRUE" and start.time() == dt.time(0)


def _content(component: Any, base_url: str | None) -> dict[str, Any]:
    """What an occurrence says, as opposed to when it is."""
    html_alt = None
    alt = component.get("X-ALT-DESC")
    if alt is not None and "html" in str(alt.params.get("FMTTYPE", "")).lower():
        html_alt = str(alt)
    description, description_html = description_parts(
        str(component.get("DESCRIPTION", "")), html_alt
    )
    status = str(component.get("STATUS", "")).upper()
    return {
        "title": one_line(str(component.get("SUMMARY", ""))),
        "description": description,
        "description_html": description_html,
        "location": one_line(str(component.get("LOCATION", ""))),
        "geo": _geo(component),
        "url": safe_url(_text(component.get("URL")), base_url),
        "categories": _categories(component),
        "status": Status.CANCELLED
        if status == "CANCELLED"
        else (Status.TENTATIVE if status == "TENTATIVE" else Status.CONFIRMED),
    }


def _occurrence(
    component: Any,
    uid: str,
    base_url: str | None,
    content: dict[str, Any] | None = None,
    shifts: dict[str, dt.timedelta] | None = None,
) -> EventParsed:
    start = component["DTSTART"].dt
    end = component["DTEND"].dt if component.get("DTEND") is not None else None
    all_day = _is_all_day(component, start)
    if all_day and isinstance(start, dt.datetime):
        start = start.date()
        end = end.date() if isinstance(end, dt.datetime) else end
    if end is not None and (end == start and not all_day):
        end = None  # recurring-ical-events sets DTEND = DTSTART when the source gave none
    recurrence = component.get("RECURRENCE-ID")
    tzid = (
        component["DTSTART"].params.get("TZID") if hasattr(component["DTSTART"], "params") else None
    )
    recurrence_id = _recurrence_id(recurrence.dt if recurrence is not None else None)
    if shifts and recurrence_id in shifts:
        original = component["DTSTART"].dt
        wall = _wall(original) - shifts[recurrence_id]
        if isinstance(original, dt.datetime):
            recurrence_id = _recurrence_id(wall.replace(tzinfo=original.tzinfo))
        else:
            recurrence_id = _recurrence_id(wall.date())
    return EventParsed(
        uid=uid,
        start=start,
        end=end,
        recurrence_id=recurrence_id,
        tzid=str(tzid) if tzid else None,
        **(content if content is not None else _content(component, base_url)),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    return str(value.to_ical().decode() if hasattr(value, "to_ical") else value)


def _geo(component: Any) -> tuple[float, float] | None:
    value = component.get("GEO")
    if value is None:
        return None
    if hasattr(value, "latitude"):
        return parse_geo(f"{value.latitude};{value.longitude}")
    return parse_geo(_text(value))


def _categories(component: Any) -> tuple[str, ...]:
    values = component.get("CATEGORIES")
    if values is None:
        return ()
    if not isinstance(values, list):
        values = [values]
    names: list[str] = []
    for value in values:
        cats = getattr(value, "cats", None)
        items = cats if cats is not None else str(value).split(",")
        names.extend(one_line(str(c)) for c in items)
    seen: dict[str, str] = {}
    for name in names:
        if name:
            seen.setdefault(name.casefold(), name)
    return tuple(seen.values())
