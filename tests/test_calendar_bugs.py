"""Wrong dates found on real-world calendars (issue 12, items 1-4), from the publisher's side:
the calendar served over real HTTP on loopback, refreshed into real SQLite and PostgreSQL,
read back through the API, the event pages and /agenda.ics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from aggregator.pipeline import RefreshOptions, refresh
from tests.conftest import source

DAY = dt.date.today() + dt.timedelta(days=10)
HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Publisher//EN\r\n"


@pytest.fixture
def app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    (tmp_path / "sources.toml").write_text("")
    monkeypatch.setenv("AGENDA_SOURCES", str(tmp_path / "sources.toml"))
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    from webapp import create_app

    app = create_app()
    yield app
    app.extensions["engine"].dispose()


def publish(app: Flask, httpserver: HTTPServer, body: str) -> FlaskClient:
    httpserver.expect_request("/cal.ics").respond_with_data(body, content_type="text/calendar")
    (result,) = refresh(
        app.extensions["engine"], [source(url=httpserver.url_for("/cal.ics"))], RefreshOptions()
    )
    assert result.outcome == "ok", result.error
    app.config["LAST_WARNINGS"] = result.warnings
    return app.test_client()


def events(client: FlaskClient) -> list[dict[str, object]]:
    answer = client.get(f"/api/events?start={DAY - dt.timedelta(days=3)}&limit=100")
    return answer.get_json()["events"]  # type: ignore[no-any-return]


def test_one_malformed_event_does_not_take_the_feed_down(
    app: Flask, httpserver: HTTPServer
) -> None:
    """DTSTART;VALUE=DATE with a DATE-TIME DTEND raised a TypeError in normalise."""
    body = HEAD + (
        f"BEGIN:VEVENT\r\nUID:mixed\r\nDTSTART;VALUE=DATE:{DAY:%Y%m%d}\r\n"
        f"DTEND:{DAY + dt.timedelta(days=1):%Y%m%d}T000000Z\r\nSUMMARY:Foire\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:ok1\r\nDTSTART:{DAY:%Y%m%d}T170000Z\r\nSUMMARY:Concert\r\n"
        "END:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nUID:ok2\r\nDTSTART:{DAY:%Y%m%d}T080000Z\r\nSUMMARY:Marché\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    client = publish(app, httpserver, body)
    found = {e["title"]: e for e in events(client)}
    assert set(found) == {"Foire", "Concert", "Marché"}
    assert found["Foire"]["all_day"] and found["Foire"]["start"] == found["Foire"]["end"]
    assert found["Foire"]["start"] == DAY.isoformat()
    assert any("journées entières" in w for w in app.config["LAST_WARNINGS"])


def test_this_and_future_override_keeps_every_occurrence(
    app: Flask, httpserver: HTTPServer
) -> None:
    first, third = DAY, DAY + dt.timedelta(weeks=2)
    body = HEAD + (
        f"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART;TZID=Europe/Paris:{first:%Y%m%d}T090000\r\n"
        f"DTEND;TZID=Europe/Paris:{first:%Y%m%d}T100000\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\n"
        "SUMMARY:Permanence\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:weekly\r\n"
        f"RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Paris:{third:%Y%m%d}T090000\r\n"
        f"DTSTART;TZID=Europe/Paris:{third:%Y%m%d}T140000\r\n"
        f"DTEND;TZID=Europe/Paris:{third:%Y%m%d}T150000\r\n"
        "SUMMARY:Permanence\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    client = publish(app, httpserver, body)
    found = [e for e in events(client) if e["title"] == "Permanence"]
    hours = [str(e["start"])[11:16] for e in found]
    assert hours == ["09:00", "09:00", "14:00", "14:00", "14:00", "14:00"]
    days = [dt.date.fromisoformat(str(e["start"])[:10]) for e in found]
    assert days == [first + dt.timedelta(weeks=n) for n in range(6)]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati"])
def test_an_all_day_event_stays_its_date_whatever_the_calendar_zone(
    app: Flask, httpserver: HTTPServer, zone: str
) -> None:
    body = HEAD + (
        f"X-WR-TIMEZONE:{zone}\r\nBEGIN:VEVENT\r\nUID:day\r\nDTSTART;VALUE=DATE:{DAY:%Y%m%d}\r\n"
        f"DTEND;VALUE=DATE:{DAY + dt.timedelta(days=1):%Y%m%d}\r\nSUMMARY:Fête du village\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    client = publish(app, httpserver, body)
    (event,) = events(client)
    assert event["all_day"] and event["start"] == event["end"] == DAY.isoformat()
    feed = icalendar.Calendar.from_ical(client.get("/agenda.ics").data)
    (vevent,) = feed.walk("VEVENT")
    assert vevent["DTSTART"].dt == DAY and vevent["DTEND"].dt == DAY + dt.timedelta(days=1)
    page = client.get(f"/evenement/{event['id']}").get_data(as_text=True)
    assert f'"startDate": "{DAY.isoformat()}"' in page
    month = client.get(f"/mois/{DAY:%Y-%m}").get_data(as_text=True)
    assert month.count("Fête du village") == 1


@pytest.mark.parametrize(
    ("tzid", "vtimezone", "expected"),
    [
        ("Eastern Standard Time",
         "BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n"
         "RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
         "DTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n"
         "RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n", "America/New_York"),
        ("(UTC-03:00) Brasília",
         "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:-0300\r\n"
         "TZOFFSETTO:-0300\r\nEND:STANDARD\r\n", "America/Sao_Paulo"),
        ("Zone interne 42",
         "BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0530\r\n"
         "TZOFFSETTO:+0530\r\nEND:STANDARD\r\n", "UTC+05:30"),
    ],
)  # fmt: skip
def test_the_api_reports_the_zone_actually_resolved(
    app: Flask, httpserver: HTTPServer, tzid: str, vtimezone: str, expected: str
) -> None:
    body = HEAD + (
        f"BEGIN:VTIMEZONE\r\nTZID:{tzid}\r\n{vtimezone}END:VTIMEZONE\r\n"
        f'BEGIN:VEVENT\r\nUID:z\r\nDTSTART;TZID="{tzid}":{DAY:%Y%m%d}T100000\r\n'
        "SUMMARY:Visio\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    client = publish(app, httpserver, body)
    (event,) = events(client)
    assert event["timezone"] == expected
