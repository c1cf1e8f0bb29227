"""/api/events: the JSON contract (see README, "API")."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from aggregator.store.read import EventQuery, EventRow, query_events
from webapp import get_engine
from webapp.formatting import local_days

bp = Blueprint("api", __name__)
MAX_LIMIT = 5000


def _date(name: str) -> dt.date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}: date attendue au format AAAA-MM-JJ, reçu {raw!r}") from None


def query_from_args(tz: ZoneInfo) -> EventQuery:
    """Filters shared by the API and the pages: start/end dates (end inclusive), repeatable
    territory/tag/source, q."""
    start = _date("start") or dt.datetime.now(tz).date()
    end = _date("end")
    if end is not None and end < start:
        raise BadRequest("end: doit être postérieure ou égale à start")
    limit = request.args.get("limit", type=int)
    if limit is not None and not 0 < limit <= MAX_LIMIT:
        raise BadRequest(f"limit: entre 1 et {MAX_LIMIT}")
    return EventQuery(
        start=dt.datetime.combine(start, dt.time(), tz),
        end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tz) if end else None,
        territories=request.args.getlist("territory"),
        tags=request.args.getlist("tag"),
        sources=request.args.getlist("source"),
        q=request.args.get("q", "")[:200],
        limit=limit,
        offset=max(0, request.args.get("offset", 0, type=int)),
    )


def event_json(event: EventRow, tz: ZoneInfo) -> dict[str, Any]:
    if event.all_day:
        first, last = local_days(event, tz)
        start: str = first.isoformat()
        end: str | None = last.isoformat()
    else:
        start = event.start.astimezone(tz).isoformat()
        end = event.end.astimezone(tz).isoformat() if event.end else None
    return {
        "id": event.id,
        "uid": event.uid,
        "title": event.title,
        "start": start,
        "end": end,
        "all_day": event.all_day,
        "timezone": event.timezone,
        "location": event.location,
        "territory": event.territory,
        "tags": list(event.tags),
        "sources": [{"id": s.id, "name": s.name, "url": s.url} for s in event.sources],
        "url": event.url,
        "description": event.description,
        "status": event.status,
    }


@bp.get("/api/events")
def events() -> Any:
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    rows = query_events(get_engine(), query_from_args(tz))
    return jsonify({"events": [event_json(e, tz) for e in rows]})


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest) -> Any:
    return jsonify({"error": error.description}), 400
