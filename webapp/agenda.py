"""The public agenda: upcoming events grouped by day, and one page per event."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from typing import Any

from flask import Blueprint, abort, render_template
from werkzeug.exceptions import BadRequest

from aggregator.store.read import get_event, query_events, source_health
from aggregator.territories import TERRITORIES
from webapp import get_engine
from webapp.api import query_from_args
from webapp.formatting import zone

bp = Blueprint("agenda", __name__)
PAGE_SIZE = 200


@bp.get("/")
def index() -> Any:
    tz = zone()
    try:
        query = query_from_args(tz)
    except BadRequest as exc:
        return render_template("error.html", message=exc.description), 400
    rows = query_events(get_engine(), replace(query, limit=PAGE_SIZE))
    now = dt.datetime.now(dt.UTC)
    # An event that began before now (a multi-day festival) is listed under today.
    days = [
        (day, list(group))
        for day, group in itertools.groupby(
            rows, key=lambda e: max(e.start, now).astimezone(tz).date()
        )
    ]
    sources = [s for s in source_health(get_engine()) if s.enabled]
    return render_template(
        "agenda.html",
        days=days,
        query=query,
        territories=TERRITORIES,
        sources=sources,
        truncated=len(rows) == PAGE_SIZE,
    )


@bp.get("/evenement/<public_id>")
def event(public_id: str) -> Any:
    row = get_event(get_engine(), public_id)
    if row is None or row.removed_at is not None:
        abort(404)
    return render_template("event.html", event=row, territories=TERRITORIES)
