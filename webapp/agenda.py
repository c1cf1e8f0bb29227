"""Public pages: the agenda (filters, search, pages), the month grid, territory and
association pages, one page per event, the subscribe page, the embeddable widget and the
printable weekly digest."""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
import itertools
import json
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, abort, render_template, request
from markupsafe import Markup

from aggregator.store import version
from aggregator.store.read import (
    EventQuery,
    EventRow,
    count_events,
    get_event,
    query_events,
    source_health,
)
from aggregator.territories import TERRITORIES
from webapp import get_engine, public_url
from webapp.filters import (
    MAX_OFFSET,
    PERIODS,
    current_filters,
    filters_query,
    parse_day,
    query_from_args,
    whole_number,
)
from webapp.formatting import local_days, zone
from webapp.pagecache import cached_page

bp = Blueprint("agenda", __name__)
PAGE_SIZE = 50
EMBED_SIZE = 20


def _query() -> EventQuery:
    return query_from_args(zone())


def _by_day(rows: list[EventRow]) -> list[tuple[dt.date, list[EventRow]]]:
    tz = zone()
    now = dt.datetime.now(dt.UTC)
    # An event that began before now (a multi-day festival) is listed under today.
    return [
        (day, list(group))
        for day, group in itertools.groupby(
            rows, key=lambda e: max(e.start, now).astimezone(tz).date()
        )
    ]


_COUNTS: OrderedDict[tuple[object, ...], int] = OrderedDict()
_COUNTS_LOCK = threading.Lock()


def _count(engine: Any, query: EventQuery) -> int:
    """Counting merged events scans every match; the answer only changes with the data."""
    key = (
        version.current(engine), query.start, query.end, tuple(query.territories),
        tuple(query.tags), tuple(query.sources), query.q,
    )  # fmt: skip
    with _COUNTS_LOCK:
        if key in _COUNTS:
            return _COUNTS[key]
    total = count_events(engine, query)
    with _COUNTS_LOCK:
        _COUNTS[key] = total
        while len(_COUNTS) > 256:
            _COUNTS.popitem(last=False)
    return total


_SOURCES: dict[str, list[Any]] = {}


def _enabled_sources(engine: Any) -> list[Any]:
    """The associations of the filter list: they change with the data version only."""
    key = version.current(engine)
    found = _SOURCES.get(key)
    if found is None:
        found = [s for s in source_health(engine) if s.enabled]
        _SOURCES.clear()  # one version at a time
        _SOURCES[key] = found
    return found


def _listing(template: str, heading: str, forced: dict[str, Any] | None = None,
             **extra: Any) -> Any:  # fmt: skip
    """The agenda list; `forced` filters come from the path (/territoire/x, /association/y)."""
    # A bad filter raises BadRequest: the app's 400 page says which, in French.
    query = replace(_query(), **(forced or {}))
    page = whole_number("page", 1, 1, MAX_OFFSET // PAGE_SIZE)
    engine = get_engine()
    total = _count(engine, query)
    rows = query_events(engine, replace(query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE))
    return render_template(
        template,
        heading=heading,
        days=_by_day(rows),
        query=query,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        territories=TERRITORIES,
        sources=_enabled_sources(engine),
        periods=PERIODS,
        period=request.args.get("periode", ""),
        filters=current_filters(),
        filters_query=filters_query,
        **extra,
    )


@bp.get("/")
@cached_page
def index() -> Any:
    return _listing("agenda.html", "")


@bp.get("/territoire/<slug>")
@cached_page
def territory(slug: str) -> Any:
    if slug not in TERRITORIES:
        abort(404)
    return _listing("agenda.html", TERRITORIES[slug], {"territories": [slug]}, territory_page=slug)


@bp.get("/association/<source_id>")
@cached_page
def association(source_id: str) -> Any:
    source = next((s for s in source_health(get_engine()) if s.id == source_id), None)
    if source is None or (not source.enabled and not source.events_count):
        abort(404)  # unknown, or deleted (a disabled source's events stay until they pass)
    return _listing("agenda.html", source.name, {"sources": [source_id]}, association=source)


@bp.get("/mois")
@bp.get("/mois/<int:year>-<int:month>")
@cached_page
def month(year: int | None = None, month: int | None = None) -> Any:
    tz = zone()
    today = dt.datetime.now(tz).date()
    if year is None or month is None:  # (month 0 is a bad month, not "this month")
        year, month = today.year, today.month
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        abort(404)
    first = dt.date(year, month, 1)
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(year, month)
    query = replace(
        _query(),
        start=dt.datetime.combine(weeks[0][0], dt.time(), tz),
        end=dt.datetime.combine(weeks[-1][-1] + dt.timedelta(days=1), dt.time(), tz),
    )
    cells: dict[dt.date, list[EventRow]] = {}
    for event in query_events(get_engine(), query):
        first_day, last_day = local_days(event, tz)
        day = first_day
        while day <= last_day and day <= weeks[-1][-1]:
            cells.setdefault(day, []).append(event)
            day += dt.timedelta(days=1)
    previous = (first - dt.timedelta(days=1)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return render_template(
        "month.html",
        first=first,
        weeks=weeks,
        cells=cells,
        today=today,
        previous=previous,
        following=following,
        filters_query=filters_query,
    )


def event_jsonld(event: EventRow, page_url: str) -> Markup:
    tz = zone()
    end: str | None
    if event.all_day:
        first, last = local_days(event, tz)
        start, end = first.isoformat(), last.isoformat()
    else:
        start = event.start.astimezone(tz).isoformat()
        end = event.end.astimezone(tz).isoformat() if event.end else None
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "startDate": start,
        "eventStatus": "https://schema.org/EventCancelled"
        if event.status == "cancelled" else "https://schema.org/EventScheduled",
        "url": page_url,
        "organizer": [{"@type": "Organization", "name": s.name} for s in event.sources],
    }  # fmt: skip
    if end:
        data["endDate"] = end
    if event.description:
        data["description"] = event.description[:1000]
    if event.location:
        place: dict[str, Any] = {
            "@type": "Place",
            "name": event.location,
            "address": event.location,
        }
        if event.geo:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": event.geo[0],
                "longitude": event.geo[1],
            }
        data["location"] = place
    # Inside <script>, "</script", "<!--" and "-->" change how an HTML parser reads the rest
    # of the page: no <, > or & may appear literally (JSON reads \u003c as "<").
    text = json.dumps(data, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text)


def osm_link(event: EventRow) -> str | None:
    if event.geo:
        lat, lon = event.geo
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
    if event.location:
        return "https://www.openstreetmap.org/search?" + urlencode({"query": event.location})
    return None


@bp.get("/evenement/<public_id>")
@cached_page
def event(public_id: str) -> Any:
    row = get_event(get_engine(), public_id)
    if row is None or row.removed_at is not None:
        abort(404)
    page_url = public_url("agenda.event", public_id=row.id)
    return render_template(
        "event.html",
        event=row,
        territories=TERRITORIES,
        jsonld=event_jsonld(row, page_url),
        osm=osm_link(row),
    )


@bp.get("/sabonner")
def subscribe() -> Any:
    query = filters_query()
    ics = public_url("feeds.ics", query)
    webcal = "webcal://" + ics.split("://", 1)[1]
    embed = public_url("agenda.embed", query)
    name = "Agenda ESS Hautes-Alpes"
    return render_template(
        "subscribe.html",
        ics=ics,
        webcal=webcal,
        google="https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
        outlook="https://outlook.live.com/calendar/0/addfromweb?"
        + urlencode({"url": ics, "name": name}),
        rss=public_url("feeds.rss", query),
        embed=embed,
        filters=current_filters(),
        territories=TERRITORIES,
    )


@bp.get("/embed")
def embed() -> Any:
    rows = query_events(get_engine(), replace(_query(), limit=EMBED_SIZE))
    response = render_template(
        "embed.html",
        days=_by_day(rows),
        more=public_url("agenda.index", filters_query()),
    )
    return response, 200, {"X-Embeddable": "1"}


@bp.get("/semaine")
def digest() -> Any:
    """The week's agenda, per territory, ready to print or paste into a newsletter."""
    tz = zone()
    today = dt.datetime.now(tz).date()
    start = today
    raw = request.args.get("debut")
    if raw:
        start = parse_day("debut", raw)
    end = start + dt.timedelta(days=7)
    chosen = [t for t in request.args.getlist("territory") if t in TERRITORIES]
    query = EventQuery(
        start=dt.datetime.combine(start, dt.time(), tz),
        end=dt.datetime.combine(end, dt.time(), tz),
        territories=chosen,
    )
    rows = [e for e in query_events(get_engine(), query) if e.status != "cancelled"]
    groups: dict[str | None, list[EventRow]] = {}
    for row in rows:
        groups.setdefault(row.territory, []).append(row)
    order = [*TERRITORIES, None]
    sections = [(slug, groups[slug]) for slug in order if slug in groups]
    return render_template(
        "digest.html",
        start=start,
        last=end - dt.timedelta(days=1),
        sections=sections,
        territories=TERRITORIES,
        chosen=chosen,
    )
