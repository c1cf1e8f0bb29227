"""Races an attacker (or plain bad luck) can cause (issue 11, items 6 and 12): real
processes, a threaded HTTP server on loopback, real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aggregator.pipeline import RefreshOptions, refresh
from aggregator.sources import load_sources
from aggregator.store import make_engine, migrate
from aggregator.store.schema import events

ROOT = Path(__file__).parent.parent


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def _calendar(version: int) -> bytes:
    day = (dt.date.today() + dt.timedelta(days=5)).strftime("%Y%m%d")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:one@asso\r\n"
        f"DTSTART:{day}T180000Z\r\nSUMMARY:Version {version}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


class Versions:
    """Each request gets the next version; the first answer is slow (a slow network), so a
    refresh started later fetches a newer version and finishes first."""

    def __init__(self) -> None:
        self.served = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.served += 1
            version = self.served
        if version == 1:
            time.sleep(2.5)
        return Response(_calendar(version), content_type="text/calendar")


def test_two_refreshes_of_one_source_never_commit_out_of_order(
    db_url: str, tmp_path: Path, threaded_server: HTTPServer
) -> None:
    versions = Versions()
    threaded_server.expect_request("/f.ics").respond_with_handler(versions)
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[source]]\nid = "asso"\nname = "Asso"\nurl = "{threaded_server.url_for("/f.ics")}"\n'
    )
    engine = make_engine(db_url)
    migrate(engine)
    env = {**os.environ, "AGENDA_DATABASE_URL": db_url, "AGENDA_SOURCES": str(sources),
           "AGENDA_ALLOW_HOSTS": "127.0.0.1", "AGENDA_SECRET_KEY": "x",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    cli = subprocess.Popen([sys.executable, "-m", "aggregator", "fetch"], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        for _ in range(200):  # the CLI's fetch has reached the server (and is waiting)
            if versions.served:
                break
            time.sleep(0.05)
        assert versions.served == 1
        (mine,) = refresh(engine, load_sources(sources), RefreshOptions(workers=1))
        assert mine.outcome == "ok"
    finally:
        output, _ = cli.communicate(timeout=120)
    assert cli.returncode == 0, output
    assert versions.served == 2
    with engine.connect() as conn:
        titles = conn.execute(sa.select(events.c.title).where(events.c.removed_at.is_(None)))
        assert list(titles.scalars()) == ["Version 2"]  # the newest fetch is what stays
    engine.dispose()
