"""The stored form of an occurrence: its row, content hash and public id. Pure, so it runs
in the parser processes (aggregator.prepare), which take this CPU work off the writer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from aggregator.model import EventIntent
from aggregator.search import fold


def public_id(source_id: str, uid: str, recurrence_id: str) -> str:
    return hashlib.sha256(f"{source_id}\0{uid}\0{recurrence_id}".encode()).hexdigest()[:16]


def content_hash(intent: EventIntent) -> str:
    fields = [
        intent.title,
        intent.start.isoformat(),
        intent.end.isoformat() if intent.end else "",
        intent.all_day,
        intent.timezone,
        intent.description,
        intent.description_html or "",
        intent.location,
        intent.geo,
        intent.url or "",
        intent.tags,
        str(intent.status),
        intent.territory or "",
    ]
    return hashlib.sha256(json.dumps(fields, default=str).encode()).hexdigest()


def event_rows(intents: Sequence[EventIntent]) -> list[dict[str, object]]:
    """The stored form of each occurrence (pure: may run in a parser process, which takes
    this CPU work off the single writer)."""
    folded: dict[str, str] = {}  # a series' occurrences share their text
    return [_row(intent, folded) for intent in intents]


def _row(intent: EventIntent, folded: dict[str, str]) -> dict[str, object]:
    tags = "|" + "|".join(intent.tags) + "|" if intent.tags else ""
    text = " ".join((intent.title, intent.location, intent.description, tags))
    if text not in folded:
        folded[text] = fold(text)
    return {
        "title": intent.title,
        "description": intent.description,
        "description_html": intent.description_html,
        "location": intent.location,
        "geo_lat": intent.geo[0] if intent.geo else None,
        "geo_lon": intent.geo[1] if intent.geo else None,
        "url": intent.url,
        "start_at": intent.start,
        "end_at": intent.end,
        "all_day": intent.all_day,
        "timezone": intent.timezone,
        "status": str(intent.status),
        "territory": intent.territory,
        "tags": tags,
        "search_text": folded[text],
        "content_hash": content_hash(intent),
    }
