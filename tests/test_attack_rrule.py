"""A hostile feed owner's recurrence rules and heavy documents (issue 11, item 2).

Served by a real HTTP server on loopback, refreshed into real SQLite and PostgreSQL. A
timeout per test turns the old hang (INTERVAL=0 looped forever) into a failure.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from aggregator.budget import Budget, OverBudget, run_alone
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.preview import preview_url
from aggregator.store.schema import events
from bench.feeds import calendar
from tests.conftest import NOW, source

OPTIONS = RefreshOptions(workers=2)


def _ics(*events: str) -> bytes:
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//attacker//EN\r\n"
    body += "".join(events) + "END:VCALENDAR\r\n"
    return body.encode()


def _event(uid: str, rule: str, title: str = "Permanence") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:{title}\r\n"
        f"DTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
    )


def _titles(engine: sa.Engine) -> list[tuple[str, dt.datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.title, events.c.start_at).order_by("start_at"))
        return [(r.title, r.start_at) for r in rows]


@pytest.mark.timeout(60)
def test_interval_zero_keeps_the_first_date_and_says_why(
    engine: sa.Engine, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/f.ics").respond_with_data(
        _ics(
            _event("zero", "FREQ=DAILY;INTERVAL=0"),
            _event("fine", "FREQ=WEEKLY;COUNT=3", "Atelier"),
        ),
        content_type="text/calendar",
    )
    (result,) = refresh(engine, [source(url=httpserver.url_for("/f.ics"))], OPTIONS, now=NOW)
    assert result.outcome == "ok"
    assert any("INTERVAL=0" in w for w in result.warnings)
    titles = [t for t, _ in _titles(engine)]
    assert titles.count("Permanence") == 1 and titles.count("Atelier") == 3


@pytest.mark.timeout(60)
def test_by_rule_explosions_are_refused_before_expansion(
    engine: sa.Engine, httpserver: HTTPServer
) -> None:
    days = ",".join(str(d) for d in range(1, 29))
    hours = ",".join(str(h) for h in range(24))
    minutes = ",".join(str(m) for m in range(31))
    months = ",".join(str(m) for m in range(1, 13))
    rule = f"FREQ=YEARLY;BYMONTH={months};BYMONTHDAY={days};BYHOUR={hours};BYMINUTE={minutes}"
    body = _ics(*(_event(f"bomb{n}", rule, f"Bombe {n}") for n in range(5)))
    assert len(body) < 4000
    httpserver.expect_request("/f.ics").respond_with_data(body, content_type="text/calendar")
    (result,) = refresh(engine, [source(url=httpserver.url_for("/f.ics"))], OPTIONS, now=NOW)
    assert result.outcome == "ok" and result.events == 5
    assert sum("instants par période" in w for w in result.warnings) == 5


@pytest.mark.timeout(120)
def test_a_document_over_its_cpu_budget_fails_and_keeps_the_last_good_events(
    engine: sa.Engine, httpserver: HTTPServer
) -> None:
    feed = source(url=httpserver.url_for("/f.ics"))
    httpserver.expect_request("/f.ics").respond_with_data(
        calendar(1, 20, today=NOW.date()), content_type="text/calendar"
    )
    refresh(engine, [feed], OPTIONS, now=NOW)
    kept = _titles(engine)
    assert len(kept) >= 20
    httpserver.clear()
    httpserver.expect_request("/f.ics").respond_with_data(
        calendar(2, 4000, today=NOW.date()), content_type="text/calendar"
    )
    tight = RefreshOptions(workers=2, budget=Budget(cpu_seconds=0.2))
    (result,) = refresh(engine, [feed], tight, now=NOW)
    assert result.outcome == "failed"
    assert "Analyse trop longue" in (result.error or "")
    assert _titles(engine) == kept
    (again,) = refresh(engine, [feed], OPTIONS, now=NOW)  # the parser survived, budget ok
    assert again.outcome == "ok" and again.events > 1000


def _hog(megabytes: int) -> int:
    block = bytearray(megabytes * 1_000_000)
    return len(block)


def test_a_parse_over_its_memory_budget_is_refused_and_the_process_survives() -> None:
    budget = Budget(cpu_seconds=10, memory_bytes=200_000_000)
    with pytest.raises(OverBudget, match="mémoire"):
        run_alone(budget, "aggregator.pipeline", _hog, 2000)
    assert run_alone(budget, "aggregator.pipeline", _hog, 50) == 50_000_000


@pytest.mark.timeout(60)
def test_admin_preview_goes_through_the_budgeted_path(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/f.ics").respond_with_data(
        _ics(_event("zero", "FREQ=DAILY;INTERVAL=0")), content_type="text/calendar"
    )
    preview = preview_url(httpserver.url_for("/f.ics"), allow_hosts=("localhost", "127.0.0.1"))
    assert preview.error is None and any("INTERVAL=0" in w for w in preview.warnings)
    httpserver.clear()
    httpserver.expect_request("/f.ics").respond_with_data(
        calendar(3, 4000, today=dt.date.today()), content_type="text/calendar"
    )
    slow = preview_url(
        httpserver.url_for("/f.ics"), ("localhost", "127.0.0.1"), budget=Budget(cpu_seconds=0.2)
    )
    assert "Analyse trop longue" in (slow.error or "")
