"""A hostile feed owner's oversized fields (issue 11, item 11): real HTTP on loopback, real
SQLite and PostgreSQL, then read back through the public API."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from aggregator.normalise import CAPS, MAX_URL
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store.schema import events
from tests.conftest import source


def _huge_event(day: dt.date) -> bytes:
    title = "Fête " + "très " * 40_000  # 200,000 characters
    description = "Lorem ipsum dolor sit amet. " * 172_000  # 4.8 MB
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", "BEGIN:VEVENT", "UID:huge",
             f"DTSTART:{day:%Y%m%d}T180000Z", f"SUMMARY:{title}", f"DESCRIPTION:{description}",
             f"LOCATION:{'Gap ' * 1000}", f"URL:https://example.org/{'a' * 5000}",
             "END:VEVENT", "BEGIN:VEVENT", "UID:small", f"DTSTART:{day:%Y%m%d}T200000Z",
             "SUMMARY:Concert", "END:VEVENT", "END:VCALENDAR", ""]  # fmt: skip
    return "\r\n".join(lines).encode()


def test_oversized_fields_are_cut_at_ingest_with_a_warning(
    engine: sa.Engine, httpserver: HTTPServer
) -> None:
    body = _huge_event(dt.date.today() + dt.timedelta(days=3))
    assert len(body) > 4_800_000
    httpserver.expect_request("/f.ics").respond_with_data(body, content_type="text/calendar")
    (result,) = refresh(engine, [source(url=httpserver.url_for("/f.ics"))], RefreshOptions())
    assert result.outcome == "ok" and result.events == 2
    assert any("titre de plus de 300 caractères, tronqué" in w for w in result.warnings)
    assert any("description de plus de" in w for w in result.warnings)
    assert any("lien de plus de" in w for w in result.warnings)
    with engine.connect() as conn:
        row = conn.execute(sa.select(events).where(events.c.uid == "huge")).one()
    assert row.title.startswith("Fête très") and len(row.title) == CAPS["title"]
    assert len(row.description) <= CAPS["description"]
    assert len(row.location) <= CAPS["location"]
    assert row.url is None or len(row.url) <= MAX_URL
