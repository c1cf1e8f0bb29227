"""Races an attacker (or plain bad luck) can cause (issue 11, items 6 and 12): real
processes, a threaded HTTP server on loopback, real SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aggregator.pipeline import RefreshOptions, refresh
from aggregator.sources import load_sources
from aggregator.store import make_engine, migrate
from aggregator.store.admin import MAX_FAILURES, create_admin
from aggregator.store.schema import events

ROOT = Path(__file__).parent.parent
PASSWORD = "un mot de passe solide"


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


def _gunicorn(db_url: str, workdir: Path, **extra: str) -> tuple[subprocess.Popen[str], str]:
    from bench.web import free_port

    port = free_port()
    (workdir / "sources.toml").write_text("")
    env = {**os.environ, "AGENDA_DATABASE_URL": db_url, "AGENDA_SECRET_KEY": "race",
           "AGENDA_BIND": f"127.0.0.1:{port}", "AGENDA_WEB_WORKERS": "3",
           "AGENDA_WEB_THREADS": "8", "AGENDA_CACHE_DIR": str(workdir / "cache"),
           "AGENDA_SOURCES": str(workdir / "sources.toml"), **extra}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/healthz", timeout=30).status_code == 200:
                return process, base
        except requests.RequestException:
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError("gunicorn did not start") from None
            time.sleep(0.2)


def _login_form(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(base + "/admin/login", timeout=30).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token
    return session, token[1]


def test_a_burst_of_parallel_guesses_gets_five_checked_under_gunicorn(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    create_admin(engine, "camille", PASSWORD, dt.datetime.now(dt.UTC))
    engine.dispose()
    process, base = _gunicorn(db_url, tmp_path)
    try:
        session, token = _login_form(base)

        def guess(password: str) -> int:
            form = {"csrf_token": token, "username": "camille", "password": password}
            answer = session.post(base + "/admin/login", data=form, timeout=60,
                                  allow_redirects=False)  # fmt: skip
            return answer.status_code

        passwords = [f"essai {n}" for n in range(150)]
        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(guess, passwords))
        checked = [a for a in answers if a != 429]
        assert len(checked) == MAX_FAILURES and set(checked) == {200}
        assert guess(PASSWORD) == 429  # the right password waits too, now
    finally:
        process.terminate()
        process.wait(30)


def test_behind_a_trusted_proxy_one_attacker_does_not_lock_everyone_out(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "proxy")
    monkeypatch.setenv("AGENDA_SOURCES", str(tmp_path / "sources.toml"))
    (tmp_path / "sources.toml").write_text("")
    from webapp import create_app

    def attempt(app: Flask, client_ip: str, user: str, password: str) -> int:
        client = app.test_client()
        page = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert token
        form = {"csrf_token": token[1], "username": user, "password": password}
        # Every request arrives from the proxy (127.0.0.1), which names the client.
        headers = {"X-Forwarded-For": client_ip}
        return client.post("/admin/login", data=form, headers=headers).status_code

    monkeypatch.setenv("AGENDA_TRUSTED_PROXIES", "1")
    app = create_app()
    create_admin(app.extensions["engine"], "camille", PASSWORD, dt.datetime.now(dt.UTC))
    attacker = [attempt(app, "203.0.113.7", f"intrus{n}", "x") for n in range(8)]
    assert attacker[:MAX_FAILURES] == [200] * MAX_FAILURES and attacker[-1] == 429
    assert attempt(app, "198.51.100.4", "camille", PASSWORD) == 302
    app.extensions["engine"].dispose()

    # Without a configured proxy the header is ignored: forging it gains nothing.
    monkeypatch.setenv("AGENDA_TRUSTED_PROXIES", "0")
    direct = create_app()
    forged = [attempt(direct, f"192.0.2.{n}", f"autre{n}", "x") for n in range(8)]
    assert forged[-1] == 429
    direct.extensions["engine"].dispose()
