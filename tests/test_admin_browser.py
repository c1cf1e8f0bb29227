"""An admin adds a real-looking source in the browser; the scheduler fetches it on time.

Debian's chromium driven by Playwright; the site and the association's feed both served on
loopback by the test; a real Scheduler on the same database and sources.toml."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from aggregator.pipeline import RefreshOptions
from aggregator.scheduler import Scheduler
from aggregator.store.admin import create_admin
from aggregator.store.read import source_health
from tests.test_admin import PASSWORD
from tests.test_browser import RESULTS, browser  # noqa: F401  (the shared fixture)

FEED = (Path(__file__).parent / "data" / "feeds" / "rss-event-module.xml").read_text()


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from werkzeug.serving import make_server

    sources = tmp_path / "sources.toml"
    sources.write_text("# Sources de l'agenda\n")
    monkeypatch.setenv("AGENDA_SOURCES", str(sources))
    monkeypatch.setenv("AGENDA_DATABASE_URL", f"sqlite:///{tmp_path / 'agenda.sqlite3'}")
    monkeypatch.setenv("AGENDA_SECRET_KEY", "browser")
    monkeypatch.setenv("AGENDA_ALLOW_HOSTS", "localhost,127.0.0.1")
    from webapp import create_app

    app = create_app()
    engine = app.extensions["engine"]
    create_admin(engine, "camille", PASSWORD, dt.datetime.now(dt.UTC))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scheduler = Scheduler(engine, sources, RefreshOptions(workers=2), watch_every=0.5,
                          dedup_every=0.5, lock_poll=0.2)  # fmt: skip
    scheduler.start()
    yield {"site": f"http://127.0.0.1:{server.server_port}", "engine": engine,
           "scheduler": scheduler}  # fmt: skip
    scheduler.stop()
    server.shutdown()


def test_admin_adds_a_source_and_the_scheduler_fetches_it(
    browser: Any,  # noqa: F811
    stack: dict[str, Any],
    httpserver: HTTPServer,
    request: pytest.FixtureRequest,
) -> None:
    today = dt.date.today() + dt.timedelta(days=5)
    httpserver.expect_request("/feed/").respond_with_data(
        FEED.replace("2026-12-05", today.isoformat()), content_type="application/rss+xml"
    )
    site = stack["site"]
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(site + "/admin/")
        assert "/admin/login" in page.url
        page.fill("#username", "camille")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.click("text=Ajouter une source")
        page.fill("#url", httpserver.url_for("/feed/"))
        page.click("text=Tester cette adresse")
        summary = page.locator(".summary").inner_text()
        assert "rss" in summary and "1 événements à venir" in summary
        assert "Marché paysan" in page.locator(".preview").inner_text()
        assert "Embrunais – Serre-Ponçon (1)" in page.locator("main").inner_text()
        page.fill("#name", "Court-Circuit Embrunais")
        page.fill("#id", "court-circuit")
        page.fill("#tags", "alimentation")
        page.click("text=Enregistrer la source")
        page.wait_for_url(re.compile(r".*/admin/?$"))
        assert "Court-Circuit Embrunais » ajoutée" in page.locator(".flash").inner_text()
        engine = stack["engine"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the scheduler picks the new source up
            health = {h.id: h for h in source_health(engine)}
            if health.get("court-circuit") and health["court-circuit"].events_count == 1:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the scheduler did not fetch the new source in time")
        page.reload()
        cells = page.locator("tr", has_text="Court-Circuit Embrunais").locator("td")
        assert cells.nth(1).inner_text().strip() == "OK (200)"
        assert cells.nth(2).inner_text().strip() == "1"  # events
        public = page.request.get(site + "/api/events?source=court-circuit").json()
        assert [e["title"] for e in public["events"]] == ["Marché paysan"]
    except Exception:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / f"{request.node.name}.png"), full_page=True)
        raise
    finally:
        context.close()
