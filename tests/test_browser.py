"""The site in a real browser: Debian's chromium driven by Playwright, the app served on
loopback by a real HTTP server, axe-core checking accessibility. Screenshots of failures go
to test-results/."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_pages import demo_app

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = Path(__file__).parent.parent / "test-results"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not AXE.exists():
        return "axe-core is missing (npm ci in tests/js)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = _missing()
    if problem:
        if os.environ.get("AGENDA_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a real HTTP server on loopback, on the demo data."""
    from werkzeug.serving import make_server

    tmp = tmp_path_factory.mktemp("site")
    monkeypatch = pytest.MonkeyPatch()
    app = demo_app(f"sqlite:///{tmp / 'agenda.sqlite3'}", tmp, monkeypatch)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # its public address
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    monkeypatch.undo()


def new_page(browser: Any, request: pytest.FixtureRequest, **options: Any) -> Iterator[Any]:
    """A page in a context of its own, screenshot to test-results/ when the test fails.
    bypass_csp: our CSP forbids scripts, axe-core is injected by the test."""
    context = browser.new_context(bypass_csp=True, **options)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from new_page(browser, request, viewport={"width": 1100, "height": 900})


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text())
    results = page.evaluate("async () => await axe.run(document)")
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


PAGE_TYPES = ["/", "/?territory=brianconnais&periode=mois", "/mois", "/sabonner",
              "/embed", "/semaine", "/territoire/serre-poncon", "/?lang=en"]  # fmt: skip


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_accessibility(page: Any, site: str, path: str) -> None:
    page.goto(site + path)
    violations = axe_violations(page)
    summary = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert violations == [], summary


def test_event_page_accessibility(page: Any, site: str) -> None:
    page.goto(site + "/")
    page.locator("a.title").first.click()
    page.wait_for_url(site + "/evenement/**")
    assert axe_violations(page) == []


def test_filter_by_territory_then_search(page: Any, site: str) -> None:
    page.goto(site + "/")
    page.select_option("#territory", "brianconnais")
    page.click("button[type=submit]")
    # The click only waits for the navigation to start: wait for the new page to load.
    page.wait_for_url("**territory=brianconnais**")
    titles = page.locator("a.title").all_inner_texts()
    assert titles and all("Repair Café" in t for t in titles)
    page.fill("#q", "forum ECONOMIE")
    page.select_option("#territory", "")
    page.click("button[type=submit]")
    page.wait_for_url("**q=forum+ECONOMIE**")
    assert page.locator("a.title").all_inner_texts() == ["Forum de l'économie sociale et solidaire"]


def test_open_an_event_and_add_it_to_a_calendar(page: Any, site: str) -> None:
    page.goto(site + "/?q=forum")
    page.click("text=Forum de l'économie sociale et solidaire")
    page.wait_for_url(site + "/evenement/**")
    assert page.locator("h1").inner_text() == "Forum de l'économie sociale et solidaire"
    assert "Udess 05" in page.locator(".by").inner_text()
    with page.expect_download() as download:
        page.click("text=Ajouter à mon agenda")
    body = Path(download.value.path()).read_text()
    assert "BEGIN:VEVENT" in body and "Forum de l'économie sociale et solidaire" in body


def test_subscribe_to_the_current_selection(page: Any, site: str) -> None:
    page.goto(site + "/?territory=brianconnais")
    page.click("text=S'abonner à cette sélection")
    value = page.input_value("#ics-url")
    assert value == f"{site}/agenda.ics?territory=brianconnais"
    response = page.request.get(value)
    assert response.ok and b"Repair Caf" in response.body()


def test_embed_loads_in_an_iframe_and_the_site_does_not(
    browser: Any, site: str, httpserver: Any
) -> None:
    """An association's page (another origin, on another loopback server) frames both."""
    httpserver.expect_request("/asso.html").respond_with_data(
        f'<!doctype html><title>Asso</title><iframe id="w" title="agenda" width="600" '
        f'height="400" src="{site}/embed?territory=brianconnais"></iframe>'
        f'<iframe id="s" title="site" width="600" height="400" src="{site}/"></iframe>',
        content_type="text/html",
    )
    context = browser.new_context()  # CSP enforced, as for the association's visitors
    page = context.new_page()
    page.goto(httpserver.url_for("/asso.html"))
    from playwright.sync_api import expect

    widget = page.frame_locator("#w")
    expect(widget.locator("body")).to_contain_text("Repair Café")  # waits for the frame
    blocked = page.frame_locator("#s").locator("body").inner_text()
    assert "Les prochains rendez-vous" not in blocked  # frame-ancestors 'none', XFO DENY
    context.close()


def test_keyboard_navigation(page: Any, site: str) -> None:
    page.goto(site + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("repair")
    page.keyboard.press("Enter")  # submits the search form
    page.wait_for_url("**q=repair**")
    assert "Repair Café" in page.locator("main").inner_text()


def test_weekly_digest_prints_without_navigation(page: Any, site: str) -> None:
    page.goto(site + "/semaine")
    page.emulate_media(media="print")
    assert page.locator("header.site").is_hidden()
    assert page.locator("form.filters").is_hidden()
    assert page.locator("h1").is_visible()
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF")
