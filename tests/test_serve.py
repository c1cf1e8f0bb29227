"""`aggregator serve` (what `make run` starts), from outside: a real gunicorn on loopback with
its scheduler process, on a real SQLite database (issue 14, item 1)."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.web import free_port

ROOT = Path(__file__).parent.parent
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:serve@asso\r\n"
    "DTSTART:20991201T100000Z\r\nSUMMARY:Atelier servi\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _get(port: int, path: str, **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def test_serve_runs_gunicorn_and_the_scheduler(tmp_path: Path) -> None:
    (tmp_path / "asso.ics").write_text(ICS)
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nid = "asso"\nname = "Asso"\nurl = "asso.ics"\n'
    )
    port = free_port()
    env = {**os.environ, "AGENDA_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
           "AGENDA_SOURCES": str(tmp_path / "sources.toml"), "AGENDA_SECRET_KEY": "serve",
           "AGENDA_CACHE_DIR": str(tmp_path / "cache"), "AGENDA_WINDOW_FUTURE_DAYS": "40000",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "aggregator", "serve", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        found = False
        while not found and time.monotonic() < deadline:
            try:
                found = _has(port)  # the scheduler process fetched the source
            except OSError:  # not listening yet
                time.sleep(0.3)
        assert found, "no answer with the scheduled source's event within 60 s"
        feed, body = _get(port, "/agenda.ics")
        assert feed.status == 200 and b"Atelier servi" in body
        assert len(feed.headers.get_all("Date") or []) == 1
        assert "gunicorn" in (feed.headers.get("Server") or "")
        # What a subscription client gets: the precompressed copy, through gunicorn.
        zipped, packed = _get(port, "/agenda.ics", **{"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed) == body
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output
    assert "development server" not in output
    assert 'request method=GET path="/agenda.ics" status=200' in output


def _has(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/events?start=2099-11-01")
    found = b"Atelier servi" in conn.getresponse().read()
    if not found:
        time.sleep(0.3)
    return found
