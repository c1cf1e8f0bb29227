"""Both public paths end to end in chromium, as a volunteer on a phone would take them:
keyboard only on a phone-sized window, the mails received by a real SMTP server on loopback,
an admin moderating in another window, the result checked on the agenda and in /agenda.ics;
axe-core on every form state."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
from pytest_httpserver import HTTPServer

from tests.mailbox import link, smtp_server
from tests.test_admin import PASSWORD, admin_app, calendar
from tests.test_browser import axe_violations, browser, new_page  # noqa: F401

VOLUNTEER = "benevole@asso.example"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    from werkzeug.serving import make_server

    with smtp_server() as (mailbox, port):
        app = admin_app(f"sqlite:///{tmp_path / 'agenda.sqlite3'}", tmp_path, monkeypatch,
                        AGENDA_SMTP_URL=f"smtp://127.0.0.1:{port}",
                        AGENDA_ADMIN_EMAILS="equipe@udess05.example")  # fmt: skip
        server = make_server("127.0.0.1", 0, app, threaded=True)
        site = f"http://127.0.0.1:{server.server_port}"
        app.config["BASE_URL"] = site  # the links in the mails
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield {"site": site, "mailbox": mailbox, "sources": tmp_path / "sources.toml"}
        server.shutdown()
        app.extensions["engine"].dispose()


@pytest.fixture
def phone(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:  # noqa: F811
    yield from new_page(browser, request, viewport=PHONE, locale="fr-FR", has_touch=True,
                        is_mobile=True)  # fmt: skip


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has the focus: the field is reachable by keyboard alone."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} never got the keyboard focus")


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def type_date(page: Any, selector: str, day: dt.date) -> None:
    """Type a date as the browser's date field reads it: day first in French, month first
    in the en-US chromium of a bare machine (the field's order follows the browser's UI
    language, which Playwright's locale does not set)."""
    for order in ("%d%m%Y", "%m%d%Y"):
        for _ in range(5):  # back out of the field's segments, then in at the first one
            if not page.evaluate("(s) => document.activeElement.matches(s)", selector):
                break
            page.keyboard.press("Shift+Tab")
        tab_to(page, selector)
        page.keyboard.type(day.strftime(order))
        if page.input_value(selector) == day.isoformat():
            return
    raise AssertionError(f"{selector}: could not type {day}")


def type_time(page: Any, selector: str, hour: int, minute: int) -> None:
    tab_to(page, selector)
    page.keyboard.type(f"{hour:02d}{minute:02d}")
    if page.input_value(selector) != f"{hour:02d}:{minute:02d}":  # a 12-hour field
        page.keyboard.type("PM" if hour >= 12 else "AM")
    assert page.input_value(selector) == f"{hour:02d}:{minute:02d}"


def fits(page: Any) -> bool:
    """Nothing wider than the phone: no sideways scrolling."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def serious(page: Any) -> list[Any]:
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in axe_violations(page)]


def admin_page(browser: Any, site: str) -> Any:  # noqa: F811
    context = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(site + "/admin/login")
    page.fill("#username", "camille")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def feed_events(page: Any, site: str) -> list[Any]:
    body = page.request.get(site + "/agenda.ics").body()
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


def test_volunteer_proposes_an_event_on_a_phone(
    phone: Any,
    browser: Any,  # noqa: F811
    stack: dict[str, Any],
) -> None:
    site, mailbox = stack["site"], stack["mailbox"]
    when = dt.date.today() + dt.timedelta(days=9)
    phone.goto(site + "/")
    tab_to(phone, "a[href='/proposer']")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/proposer")
    assert serious(phone) == []
    assert fits(phone)

    type_into(phone, "#title", "Soupe partagée du quartier")
    type_into(phone, "#organiser", "Collectif Soupe Solidaire")
    type_into(phone, "#description", "Chacun apporte un légume, on cuisine ensemble.")
    tab_to(phone, "input[value='alimentation']")
    phone.keyboard.press("Space")
    type_date(phone, "#start_date", when)
    tab_to(phone, "#commune")
    phone.keyboard.type("Embrun")
    type_into(phone, "#email", VOLUNTEER)
    tab_to(phone, "form.proposal button[type=submit]")
    phone.keyboard.press("Enter")  # no start time and not all day: refused, nothing lost
    phone.wait_for_selector("#start_time-error")
    assert "Toute la journée" in phone.inner_text("#start_time-error")
    assert phone.input_value("#title") == "Soupe partagée du quartier"
    assert phone.input_value("#description").startswith("Chacun apporte")
    assert phone.is_checked("input[value='alimentation']")
    assert phone.input_value("#commune") == "05046"
    assert serious(phone) == []
    assert fits(phone)

    type_time(phone, "#start_time", 19, 0)
    tab_to(phone, "form.proposal button[type=submit]")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/merci/evenement")
    assert "Merci" in phone.inner_text("h1")

    (received,) = mailbox.wait_for(VOLUNTEER)
    edit = link(received, "/proposition/")
    assert not [e for e in feed_events(phone, site) if "Soupe" in str(e["SUMMARY"])]

    admin = admin_page(browser, site)
    admin.goto(site + "/admin/propositions/")
    assert "Soupe partagée du quartier" in admin.inner_text("main")
    admin.click("button[aria-label='Publier « Soupe partagée du quartier »']")
    admin.wait_for_selector(".flash.ok")
    admin.context.close()
    assert len(mailbox.wait_for(VOLUNTEER, 2)) == 2  # "publié", with the page's address

    phone.goto(site + "/territoire/serre-poncon")
    assert "Soupe partagée du quartier" in phone.inner_text("main")
    (event,) = [e for e in feed_events(phone, site) if "Soupe" in str(e["SUMMARY"])]
    assert event.decoded("DTSTART").astimezone(dt.UTC).date() == when

    phone.goto(edit)
    assert serious(phone) == []
    type_into(phone, "#title", "Soupe partagée (nouvelle salle)")
    type_into(phone, "#place", "Salle du Roc")
    tab_to(phone, "form.proposal button[type=submit]")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("text=Modifications enregistrées")
    (event,) = [e for e in feed_events(phone, site) if "Soupe" in str(e["SUMMARY"])]
    assert str(event["SUMMARY"]) == "Soupe partagée (nouvelle salle)"
    assert "Salle du Roc" in str(event["LOCATION"])

    tab_to(phone, "button.danger")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("text=Annulé")
    (event,) = [e for e in feed_events(phone, site) if "Soupe" in str(e["SUMMARY"])]
    assert str(event["STATUS"]) == "CANCELLED"
    assert phone.locator("form.proposal").count() == 0  # nothing left to edit


def test_association_offers_its_calendar_on_a_phone(
    phone: Any,
    browser: Any,  # noqa: F811
    stack: dict[str, Any],
    httpserver: HTTPServer,
) -> None:
    site, mailbox = stack["site"], stack["mailbox"]
    httpserver.expect_request("/agenda.ics").respond_with_data(
        calendar("Atelier couture", "Local associatif, Embrun"), content_type="text/calendar"
    )
    phone.goto(site + "/")
    tab_to(phone, "a[href='/ajouter-mon-agenda']", limit=200)
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/ajouter-mon-agenda")
    assert serious(phone) == []
    tab_to(phone, "details.help summary")
    phone.keyboard.press("Enter")  # "Où trouver l'adresse ?" opens
    assert "Framagenda" in phone.inner_text("details.help")
    type_into(phone, "#url", httpserver.url_for("/agenda.ics"))
    type_into(phone, "#name", "Les Fils d'Embrun")
    type_into(phone, "#email", VOLUNTEER)
    tab_to(phone, "button[value=preview]")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#apercu")
    assert "1 événement à venir" in phone.inner_text("main")
    assert "Atelier couture" in phone.inner_text("main")
    assert serious(phone) == []
    assert fits(phone)
    tab_to(phone, "button[value=send]")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/merci/agenda")
    assert mailbox.wait_for(VOLUNTEER)

    admin = admin_page(browser, site)
    admin.goto(site + "/admin/propositions/")
    admin.click("text=Tester et ajouter comme source")
    admin.wait_for_selector("text=Aperçu de la source")
    assert admin.input_value("#name") == "Les Fils d'Embrun"
    admin.click("text=Enregistrer la source")
    admin.wait_for_url("**/admin/")
    admin.context.close()
    assert httpserver.url_for("/agenda.ics") in stack["sources"].read_text()
    added = mailbox.wait_for(VOLUNTEER, 2)[-1]
    assert "ajouté" in added["Subject"].lower()
