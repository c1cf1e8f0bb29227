"""Filters from the URL, shared by the pages, the API and the feeds, so any view can be
shared and subscribed to: start/end (end inclusive), periode, territory/tag/source
(repeatable), q, limit/offset."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import request
from werkzeug.exceptions import BadRequest

from aggregator.store.read import EventQuery

MAX_LIMIT = 5000
MAX_OFFSET = 1_000_000
# Dates a reader may ask for: wide enough for any agenda, narrow enough that a day more or
# less (time zones, the feed's 30 past days) never leaves what Python and SQL can hold.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2199, 12, 31)
PERIODS = ("aujourdhui", "week-end", "semaine", "mois")
FILTER_KEYS = ("periode", "start", "end", "territory", "tag", "source", "q")


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of a named period, from today."""
    if period == "aujourdhui":
        return today, today
    if period == "week-end":
        if today.weekday() == 6:  # Sunday: what is left of it
            return today, today
        saturday = today + dt.timedelta(days=5 - today.weekday())
        return saturday, saturday + dt.timedelta(days=1)
    if period == "semaine":
        return today, today + dt.timedelta(days=6 - today.weekday())
    if period == "mois":
        following = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return today, following - dt.timedelta(days=1)
    raise BadRequest(f"periode: une valeur parmi {', '.join(PERIODS)}")


def parse_day(name: str, raw: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} : date attendue au format AAAA-MM-JJ, reçu {raw!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadRequest(f"{name} : date entre {FIRST_DAY.year} et {LAST_DAY.year} attendue")
    return day


def _date(name: str) -> dt.date | None:
    raw = request.args.get(name)
    return parse_day(name, raw) if raw else None


def whole_number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} : nombre entier entre {low} et {high} attendu")
    return int(raw)


def query_from_args(tz: ZoneInfo) -> EventQuery:
    today = dt.datetime.now(tz).date()
    start, end = _date("start"), _date("end")
    period = request.args.get("periode", "")
    if period:
        start, end = period_bounds(period, today)
    start = start or today
    if end is not None and end < start:
        raise BadRequest("end: doit être postérieure ou égale à start")
    limit = whole_number("limit", 0, 1, MAX_LIMIT) or None
    return EventQuery(
        start=dt.datetime.combine(start, dt.time(), tz),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz) if end else None,
        territories=[t for t in request.args.getlist("territory") if t],
        tags=[t for t in request.args.getlist("tag") if t],
        sources=[s for s in request.args.getlist("source") if s],
        q=request.args.get("q", "")[:200],
        limit=limit,
        offset=whole_number("offset", 0, 0, MAX_OFFSET),
    )


def current_filters() -> list[tuple[str, str]]:
    """The filter parameters of this request, for links that keep them."""
    return [(key, value) for key in FILTER_KEYS for value in request.args.getlist(key) if value]


def filters_query(**overrides: str) -> str:
    pairs = [(k, v) for k, v in current_filters() if k not in overrides]
    pairs += [(k, v) for k, v in overrides.items() if v]
    return urlencode(pairs)
