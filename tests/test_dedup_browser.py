"""An admin reviews the demo's doubtful pair and a merged event in the browser (Debian's
chromium, Playwright, axe-core), the demo agenda served on loopback."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aggregator.store.admin import create_admin
from tests.test_admin import PASSWORD
from tests.test_browser import axe_violations, browser  # noqa: F401  (the shared fixture)
from tests.test_pages import demo_app


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from werkzeug.serving import make_server

    app = demo_app(f"sqlite:///{tmp_path / 'agenda.sqlite3'}", tmp_path, monkeypatch)
    create_admin(app.extensions["engine"], "camille", PASSWORD, dt.datetime.now(dt.UTC))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["engine"].dispose()


def test_admin_decides_a_doubtful_pair_and_reads_why_an_event_was_merged(
    browser: Any,  # noqa: F811
    site: str,
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(bypass_csp=True)  # axe-core is injected inline
    page = context.new_page()
    try:
        page.goto(site + "/admin/doublons")
        page.fill("#username", "camille")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/doublons")
        main = page.locator("main")
        expect(main).to_contain_text("L'eau en montagne : les glaciers")
        expect(main).to_contain_text("L'eau en montagne : une ressource à partager")
        expect(main).to_contain_text("Chacun nomme ce que l'autre n'a pas")
        assert axe_violations(page) == []
        page.get_by_role("button", name="Ce sont deux événements").first.click()
        page.wait_for_load_state()
        expect(page.locator(".flash")).to_contain_text("Séparation enregistrée")
        expect(main).to_contain_text("Aucun doublon possible")

        page.goto(site + "/admin/evenements?q=producteurs")
        page.click("text=Pourquoi fusionné ?")
        page.wait_for_url("**/admin/evenement/**")
        expect(main).to_contain_text("Pourquoi elles sont réunies")
        expect(main).to_contain_text("Lexique : marche producteurs locaux = marche producteurs")
        expect(main).to_contain_text("Court-Circuit Embrunais")
        assert axe_violations(page) == []
    finally:
        context.close()
