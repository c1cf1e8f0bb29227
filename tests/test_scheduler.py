"""The scheduler: timing rules, live sources.toml, backoff, and one leader per database."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from aggregator.pipeline import RefreshOptions
from aggregator.scheduler import MAX_BACKOFF, Scheduler, next_delay
from aggregator.store.read import EventQuery, query_events, source_health

HOUR = dt.timedelta(hours=1)
NOW = dt.datetime(2026, 11, 24, 8, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, HOUR), (1, 2 * HOUR), (2, 4 * HOUR), (3, MAX_BACKOFF), (50, MAX_BACKOFF)],
)
def test_backoff_doubles_and_is_capped(failures: int, expected: dt.timedelta) -> None:
    assert next_delay(HOUR, failures, None, NOW) == expected


def test_long_interval_is_never_shortened_and_jitter_is_bounded() -> None:
    day = dt.timedelta(days=1)
    assert next_delay(day, 3, None, NOW) == day
    assert next_delay(HOUR, 0, None, NOW, jitter=1) == HOUR * 1.1
    assert next_delay(HOUR, 0, None, NOW, jitter=-1) == HOUR * 0.9


def test_retry_after_is_honoured() -> None:
    later = NOW + dt.timedelta(hours=3)
    assert next_delay(HOUR, 1, later, NOW) == dt.timedelta(hours=3)
    assert next_delay(HOUR, 1, NOW + dt.timedelta(minutes=5), NOW) == 2 * HOUR


def ics(uid: str) -> str:
    start = (dt.date.today() + dt.timedelta(days=3)).strftime("%Y%m%d")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:x",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTART:{start}T100000Z",
        f"SUMMARY:{uid}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines)


def write_sources(path: Path, *entries: tuple[str, str]) -> None:
    path.write_text("".join(
        f'[[source]]\nid = "{sid}"\nname = "{sid}"\nurl = "{url}"\nrefresh = "1h"\n\n'
        for sid, url in entries
    ))  # fmt: skip


def wait_for(check: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def make_scheduler(engine: sa.Engine, tmp_path: Path) -> Iterator[Callable[..., Scheduler]]:
    made: list[Scheduler] = []

    def make(**kw: object) -> Scheduler:
        scheduler = Scheduler(
            engine, tmp_path / "sources.toml", RefreshOptions(workers=2),
            watch_every=0.3, dedup_every=0.3, lock_poll=0.2, **kw,  # type: ignore[arg-type]
        )  # fmt: skip
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.stop()


def test_fetches_on_time_and_follows_sources_toml(
    engine: sa.Engine,
    tmp_path: Path,
    httpserver: HTTPServer,
    make_scheduler: Callable[..., Scheduler],
) -> None:
    httpserver.expect_request("/a.ics").respond_with_data(ics("alpha"))
    httpserver.expect_request("/b.ics").respond_with_data(ics("beta"))
    sources = tmp_path / "sources.toml"
    write_sources(sources, ("a", httpserver.url_for("/a.ics")))
    scheduler = make_scheduler()
    scheduler.start()
    titles = lambda: {e.title for e in query_events(engine, EventQuery())}  # noqa: E731
    assert wait_for(lambda: titles() == {"alpha"})
    # Rescheduled once the refresh has returned (a moment after its events are stored).
    assert wait_for(lambda: scheduler.next_run("a") is not None)
    next_run = scheduler.next_run("a")
    assert next_run is not None
    assert dt.timedelta(minutes=50) < next_run - dt.datetime.now(dt.UTC) < dt.timedelta(minutes=70)
    # A source added to the file is fetched without a restart; a removed one is unscheduled.
    write_sources(sources, ("b", httpserver.url_for("/b.ics")))
    assert wait_for(lambda: "beta" in titles())
    assert wait_for(lambda: scheduler.next_run("a") is None)
    # An invalid file is refused: the running configuration stays.
    sources.write_text('[[source]]\nid = "b"\nkind = "pdf"\n')
    time.sleep(1)
    assert scheduler.next_run("b") is not None


def test_failures_back_off_and_recovery_restores_the_interval(
    engine: sa.Engine,
    tmp_path: Path,
    httpserver: HTTPServer,
    make_scheduler: Callable[..., Scheduler],
) -> None:
    httpserver.expect_oneshot_request("/a.ics").respond_with_data("down", status=503)
    write_sources(tmp_path / "sources.toml", ("a", httpserver.url_for("/a.ics")))
    scheduler = make_scheduler()
    scheduler.start()
    assert wait_for(lambda: [s.consecutive_failures for s in source_health(engine)] == [1])
    assert wait_for(lambda: scheduler.next_run("a") is not None)
    delay = scheduler.next_run("a") - dt.datetime.now(dt.UTC)  # type: ignore[operator]
    assert dt.timedelta(minutes=100) < delay < dt.timedelta(minutes=140)  # 2h ± jitter
    httpserver.expect_request("/a.ics").respond_with_data(ics("alpha"))
    scheduler._run_source("a")  # the next run, now: the server is back
    assert source_health(engine)[0].consecutive_failures == 0
    delay = scheduler.next_run("a") - dt.datetime.now(dt.UTC)  # type: ignore[operator]
    assert delay < dt.timedelta(minutes=70)


def test_only_one_scheduler_fetches(
    engine: sa.Engine,
    tmp_path: Path,
    httpserver: HTTPServer,
    make_scheduler: Callable[..., Scheduler],
) -> None:
    httpserver.expect_request("/a.ics").respond_with_data(ics("alpha"))
    write_sources(tmp_path / "sources.toml", ("a", httpserver.url_for("/a.ics")))
    first, second = make_scheduler(), make_scheduler()
    first.start()
    assert first.leader.wait(10)
    second.start()
    assert wait_for(lambda: len(httpserver.log) >= 1)
    time.sleep(1.5)
    assert not second.leader.is_set()  # it waits for the lock
    assert len(httpserver.log) == 1  # one fetch, by the leader
    first.stop()  # the leader goes away: the other one takes over
    assert second.leader.wait(10)
    assert wait_for(lambda: second.aps.get_job("a") is not None)
