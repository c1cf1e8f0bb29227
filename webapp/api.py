"""/api/events: the JSON contract (see README, "API")."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from aggregator.store.read import EventRow, query_events
from webapp import get_engine
from webapp.encoding import compress_response
from webapp.filters import query_from_args
from webapp.formatting import local_days
from webapp.pagecache import cached

bp = Blueprint("api", __name__)


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
@cached(by_encoding=True)
def events() -> Any:
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    rows = query_events(get_engine(), query_from_args(tz))
    return compress_response(jsonify({"events": [event_json(e, tz) for e in rows]}), request)


@bp.errorhandler(BadRequest)
def bad_request(error: BadRequest) -> Any:
    return jsonify({"error": error.description}), 400
