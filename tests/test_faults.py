"""Faults: a refresh killed in the middle, writers racing readers, text the databases refuse.

On real SQLite and real PostgreSQL (the `db_url` fixture), with real processes and threads.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.model import SourceConfig
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store import make_engine, migrate, open_engine
from aggregator.store.read import EventQuery, query_events
from aggregator.store.schema import events, sources
from tests.conftest import source

ROOT = Path(__file__).parent.parent
OPTIONS = RefreshOptions(workers=1)


# Every event ahead of today, so the agenda lists them all whatever day the suite runs.
AHEAD = dt.date.today() + dt.timedelta(days=7)


def generation(prefix: str, count: int, first_day: int = 1) -> bytes:
    """`count` events, the same UIDs in every generation, titles telling which one."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"]
    for n in range(count):
        day = AHEAD + dt.timedelta(days=first_day - 1 + n % 25)
        start = f"{day:%Y%m%d}T{8 + n % 10:02d}0000Z"
        lines += ["BEGIN:VEVENT", f"UID:ev-{n}@asso", f"DTSTART:{start}",
                  f"SUMMARY:{prefix} {n}", "END:VEVENT"]  # fmt: skip
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def titles(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        query = sa.select(events.c.title).where(events.c.removed_at.is_(None))
        return sorted(conn.execute(query).scalars())


CHILD = textwrap.dedent(
    """
    import sys, time
    import sqlalchemy as sa
    from aggregator.model import SourceConfig
    from aggregator.pipeline import RefreshOptions, refresh
    from aggregator.store import open_engine

    engine = open_engine(sys.argv[1])

    @sa.event.listens_for(engine, "after_cursor_execute")
    def pause(conn, cursor, statement, parameters, context, executemany):
        # Inside the refresh's transaction, after some rows were written: stop here.
        if statement.lstrip().upper().startswith(("INSERT INTO EVENTS", "UPDATE EVENTS")):
            print("writing", flush=True)
            time.sleep(300)

    if __name__ == "__main__":  # parser processes import the main module again
        config = SourceConfig(id="asso", name="Association test", url=sys.argv[2])
        refresh(engine, [config], RefreshOptions(workers=1))
        print("finished", flush=True)
    """
)


def test_a_refresh_killed_mid_write_leaves_the_last_good_state(db_url: str, tmp_path: Path) -> None:
    feed = tmp_path / "feed.ics"
    feed.write_bytes(generation("Ancien", 100))
    engine = make_engine(db_url)
    migrate(engine)
    src = source(url=str(feed))
    (first,) = refresh(engine, [src], OPTIONS)
    assert first.outcome == "ok" and first.events == 100
    with engine.connect() as conn:
        good_hash = conn.execute(sa.select(sources.c.body_hash)).scalar_one()

    feed.write_bytes(generation("Nouveau", 120))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), db_url, str(feed)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    # Nothing of the killed transaction is visible: the old events, the old body hash (so
    # the next run does not take the new body for already stored).
    assert titles(engine) == sorted(f"Ancien {n}" for n in range(100))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sources.c.body_hash)).scalar_one() == good_hash
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    engine.dispose()

    engine = open_engine(db_url)  # a new process would migrate again: still fine
    (after,) = refresh(engine, [src], OPTIONS)
    assert after.outcome == "ok" and after.events == 120 and after.updated == 100
    assert titles(engine) == sorted(f"Nouveau {n}" for n in range(120))
    engine.dispose()


def test_readers_never_see_errors_or_half_written_refreshes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler writes while visitors read: every read is whole (one generation), and
    no reader or writer meets "database is locked"."""
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    monkeypatch.setenv("AGENDA_SOURCES", str(tmp_path / "sources.toml"))
    (tmp_path / "sources.toml").write_text("")
    from webapp import create_app

    feed = tmp_path / "feed.ics"
    src = source(url=str(feed))
    writer_engine = open_engine(db_url)
    feed.write_bytes(generation("G0", 80))
    refresh(writer_engine, [src], OPTIONS)
    app = create_app()
    problems: list[str] = []
    seen: set[str] = set()
    done = threading.Event()

    def write() -> None:
        try:
            for n in range(1, 16):
                feed.write_bytes(generation(f"G{n}", 80))
                (result,) = refresh(writer_engine, [src], OPTIONS)
                if result.outcome != "ok":
                    problems.append(f"refresh {n}: {result.outcome} {result.error}")
        except Exception as exc:
            problems.append(f"writer: {exc!r}")
        finally:
            done.set()

    def read(path: str) -> None:
        client = app.test_client()
        while not done.is_set():
            try:
                response = client.get(path)
            except Exception as exc:
                problems.append(f"{path}: {exc!r}")
                return
            if response.status_code != 200:
                problems.append(f"{path}: HTTP {response.status_code}")
                return
            if path.startswith("/api/"):
                found = response.get_json()["events"]
                gens = {e["title"].split()[0] for e in found}
                if len(found) != 80 or len(gens) != 1:
                    problems.append(f"torn read: {len(found)} events from {sorted(gens)}")
                    return
                seen.update(gens)

    readers = [threading.Thread(target=read, args=(path,)) for path in
               ["/api/events?limit=500"] * 3 + ["/", "/agenda.ics"]]  # fmt: skip
    writer = threading.Thread(target=write)
    for thread in [*readers, writer]:
        thread.start()
    for thread in [writer, *readers]:
        thread.join(120)
    assert problems == []
    assert len(seen) >= 2  # the readers did overlap the writes
    assert {e.title.split()[0] for e in query_events(writer_engine, EventQuery())} == {"G15"}
    writer_engine.dispose()
    app.extensions["engine"].dispose()


def test_text_postgresql_would_refuse_is_cleaned_before_storing(
    db_url: str, tmp_path: Path
) -> None:
    """PostgreSQL refuses NUL in text; lone surrogates cannot be encoded. Every parser's
    output reaches the store clean, whatever the bytes."""
    day = AHEAD.isoformat().encode()
    bodies = {
        "ics": b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\x00b\r\n"
        b"DTSTART:" + day.replace(b"-", b"") + b"T100000Z\r\nSUMMARY:F\x00\xeate \xff\r\n"
        b"LOCATION:G\x00ap\r\n"
        b"DESCRIPTION:a\\,\x00b\x01c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        "rss": b'<?xml version="1.0"?><rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/'
        b'modules/event/"><channel><title>T</title><item><title>F&#0;\xff\x00te</title>'
        b"<description>a\x00b &#55296;</description><ev:startdate>" + day + b"T18:00:00+01:00"
        b"</ev:startdate></item></channel></rss>",
        "jsonld": b'<html><script type="application/ld+json">{"@type": "Event", "name": '
        b'"F\\u0000\\ud800te\x00", "startDate": "' + day + b'T10:00", "location": '
        b'{"name": "Gap\\u0000"}}</script></html>',
    }
    engine = make_engine(db_url)
    migrate(engine)
    configs: list[SourceConfig] = []
    for kind, body in bodies.items():
        (tmp_path / kind).write_bytes(body)
        configs.append(source(id=kind, url=str(tmp_path / kind)))
    results = refresh(engine, configs, OPTIONS)
    assert [(r.source_id, r.outcome, r.events) for r in results] == [
        ("ics", "ok", 1), ("rss", "ok", 1), ("jsonld", "ok", 1),
    ]  # fmt: skip
    for event in query_events(engine, EventQuery()):
        for text in (event.title, event.location, event.description):
            assert "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    engine.dispose()
