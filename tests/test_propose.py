"""Proposing an event and offering a calendar, from the public's side: real HTTP for the
calendars (pytest-httpserver), a real SMTP server on loopback (aiosmtpd) for the mails, real
SQLite and PostgreSQL for the queue, the agenda and the merged feeds."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from aggregator.proposals import monthly_rank
from aggregator.store import submissions as queue
from tests.mailbox import Mailbox, body, link, smtp_server
from tests.test_admin import admin_app, calendar, login, token

TEAM = "equipe@udess05.example"
VOLUNTEER = "benevole@asso.example"
GAP = "05061"  # Gap: Gap – Tallard – Durance
EMBRUN = "05046"  # Embrun: Embrunais – Serre-Ponçon


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def app(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox: tuple[Mailbox, int]
) -> Iterator[Flask]:
    mail = {"AGENDA_SMTP_URL": f"smtp://127.0.0.1:{mailbox[1]}", "AGENDA_ADMIN_EMAILS": TEAM,
            "AGENDA_MAIL_FROM": "agenda@udess05.example"}  # fmt: skip
    app = admin_app(db_url, tmp_path, monkeypatch, **mail)
    yield app
    app.extensions["engine"].dispose()


def day(offset: int) -> dt.date:
    return dt.date.today() + dt.timedelta(days=offset)


def form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Repair café de printemps",
        "start_date": day(10).isoformat(),
        "start_time": "14:00",
        "end_time": "17:30",
        "place": "Salle polyvalente, 2 rue Carnot",
        "commune": GAP,
        "description": "Venez réparer vos objets avec nos bénévoles.\n\nhttps://repair.example/",
        "organiser": "Repair Café Gap",
        "link": "https://repair.example/printemps",
        "email": VOLUNTEER,
        "tags": ["réemploi", "solidarité"],
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def propose(client: FlaskClient, **changes: Any) -> Any:
    data = {"csrf_token": token(client, "/proposer"), **form(**changes)}
    return client.post("/proposer", data=data)


def feed(client: FlaskClient) -> list[icalendar.Event]:
    text = client.get("/agenda.ics").get_data()
    return list(icalendar.Calendar.from_ical(text).walk("VEVENT"))


def approve_all(app: Flask) -> None:
    admin = app.test_client()
    assert login(admin) == 302
    csrf = token(admin, "/admin/propositions/")
    for item in queue.queue(app.extensions["engine"], "event"):
        answer = admin.post(f"/admin/propositions/{item.id}/publier", data={"csrf_token": csrf})
        assert answer.status_code == 302


def test_proposed_event_through_moderation_to_the_feeds(
    app: Flask, mailbox: tuple[Mailbox, int]
) -> None:
    box = mailbox[0]
    client = app.test_client()
    answer = propose(client)
    assert answer.status_code == 302 and "/merci/evenement" in answer.headers["Location"]
    # The author gets a private link; the team a digest naming the proposal and its author.
    (received,) = box.wait_for(VOLUNTEER)
    assert "Repair café de printemps" in received["Subject"]
    edit = link(received, "/proposition/")
    (digest,) = box.wait_for(TEAM)
    assert "Repair café de printemps" in body(digest) and VOLUNTEER in body(digest)
    # Nothing is public before an admin approves it.
    assert not [e for e in feed(client) if "Repair" in str(e["SUMMARY"])]
    assert "Repair" not in client.get("/").get_data(as_text=True)

    approve_all(app)
    (_, published) = box.wait_for(VOLUNTEER, 2)
    assert "publié" in published["Subject"].lower()
    page = link(published, "/evenement/")
    shown = client.get(page.split("127.0.0.1:5000")[-1]).get_data(as_text=True)
    assert "Repair café de printemps" in shown and "Repair Café Gap" in shown
    assert VOLUNTEER not in shown  # the contact is never published
    # Its schema.org description, as for every event (search engines, agendas that read it).
    jsonld = json.loads(re.search(r'<script type="application/ld\+json">(.+?)</script>',
                                  shown, re.S).group(1))  # type: ignore[union-attr]  # fmt: skip
    assert jsonld["@type"] == "Event" and jsonld["name"] == "Repair café de printemps"
    assert "Gap" in json.dumps(jsonld["location"], ensure_ascii=False)
    # Plain text with its links made clickable (and nothing else made HTML).
    assert '<a href="https://repair.example/" rel="nofollow ugc noopener">' in shown
    (event,) = [e for e in feed(client) if "Repair" in str(e["SUMMARY"])]
    local = event.decoded("DTSTART").astimezone(ZoneInfo("Europe/Paris"))
    assert (local.date(), local.time()) == (day(10), dt.time(14, 0))
    api = client.get("/api/events?territory=gap-tallard-durance").get_json()
    assert [e["title"] for e in api["events"]] == ["Repair café de printemps"]
    assert VOLUNTEER not in client.get("/api/events").get_data(as_text=True)

    # The author edits it through the link: the agenda follows at once.
    path = edit.split("127.0.0.1:5000")[-1]
    page_html = client.get(path).get_data(as_text=True)
    assert 'value="Repair café de printemps"' in page_html
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page_html)[1]  # type: ignore[index]
    changed = {k: v for k, v in form(title="Repair café (reporté)", start_time="15:00").items()
               if k != "email"}  # fmt: skip
    assert client.post(path, data={"csrf_token": csrf, **changed}).status_code == 200
    (event,) = [e for e in feed(client) if "Repair" in str(e["SUMMARY"])]
    assert str(event["SUMMARY"]) == "Repair café (reporté)"
    # ... and cancels it: subscribers see it cancelled, not silently gone.
    assert client.post(path + "/annuler", data={"csrf_token": csrf}).status_code == 302
    (event,) = [e for e in feed(client) if "Repair" in str(e["SUMMARY"])]
    assert str(event["STATUS"]) == "CANCELLED"
    assert "Annulé" in client.get(path).get_data(as_text=True)


def test_weekly_and_monthly_repetitions_become_occurrences(app: Flask) -> None:
    client = app.test_client()
    start = day(7)
    first, until = start.isoformat(), (start + dt.timedelta(days=21)).isoformat()
    weekly = propose(client, title="Permanence vélo", repeat="weekly", start_date=first,
                     until=until)  # fmt: skip
    assert weekly.status_code == 302
    until = (start + dt.timedelta(days=100)).isoformat()
    monthly = propose(client, title="Café des parents", repeat="monthly", commune=EMBRUN,
                      start_date=first, until=until)  # fmt: skip
    assert monthly.status_code == 302
    approve_all(app)
    events = client.get("/api/events?limit=100").get_json()["events"]
    days = sorted(e["start"][:10] for e in events if e["title"] == "Permanence vélo")
    assert days == [(start + dt.timedelta(weeks=n)).isoformat() for n in range(4)]
    monthly = [e for e in events if e["title"] == "Café des parents"]
    assert len(monthly) in (3, 4)  # the same weekday and rank each month
    ranks = {monthly_rank(dt.date.fromisoformat(e["start"][:10])) for e in monthly}
    assert ranks == {monthly_rank(start)} or "-1" in monthly_rank(start)
    assert {e["territory"] for e in monthly} == {"serre-poncon"}


def test_monthly_rank_reads_like_an_organiser() -> None:
    assert monthly_rank(dt.date(2026, 12, 1)) == "1TU"
    assert monthly_rank(dt.date(2026, 12, 8)) == "2TU"
    assert monthly_rank(dt.date(2026, 12, 29)) == "-1TU"  # a 5th Tuesday: "the last"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"start_time": "", "end_time": ""}, "start_time", "Toute la journée"),
        ({"repeat": "weekly"}, "until", "Jusqu'à quelle date"),
        ({"start_date": day(-5).isoformat()}, "start_date", "passée"),
        ({"end_time": "13:00"}, "end_time", "après le début"),
        ({"commune": ""}, "commune", "obligatoire"),
        ({"email": "pas-une-adresse"}, "email", "valide"),
        ({"description": " ".join(f"https://spam{n}.example" for n in range(4))},
         "description", "Trois liens"),
        ({"link": "javascript:alert(1)"}, "link", "adresse complète"),
    ],
)  # fmt: skip
def test_bad_field_is_explained_next_to_it_and_nothing_typed_is_lost(
    app: Flask, mailbox: tuple[Mailbox, int], changes: dict[str, str], field: str, message: str
) -> None:
    client = app.test_client()
    answer = propose(client, **changes)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    error = re.search(rf'id="{field}-error">([^<]+)<', page)
    assert error and message in error.group(1), page
    assert 'value="Repair café de printemps"' in page  # what was typed is still there
    typed = changes.get("description", "Venez réparer vos objets")
    assert typed in html.unescape(page)
    assert queue.queue(app.extensions["engine"], "event") == []
    assert mailbox[0].messages == []


def test_edit_link_forged_or_expired_is_refused(app: Flask) -> None:
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    client = app.test_client()
    assert propose(client).status_code == 302
    (item,) = queue.queue(app.extensions["engine"], "event")
    forged = URLSafeTimedSerializer("another key", salt="proposition-edit").dumps(item.id)
    answer = client.get(f"/proposition/{forged}")
    assert answer.status_code == 403 and "pas valide" in answer.get_data(as_text=True)

    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int((dt.datetime.now() - dt.timedelta(days=500)).timestamp())

    expired = URLSafeTimedSerializer("test", salt="proposition-edit", signer=Past).dumps(item.id)
    answer = client.get(f"/proposition/{expired}")
    assert answer.status_code == 403 and "expiré" in answer.get_data(as_text=True)
    cancelled = client.post(f"/proposition/{expired}/annuler",
                            data={"csrf_token": token(client, "/proposer")})  # fmt: skip
    assert cancelled.status_code == 403
    assert queue.get(app.extensions["engine"], item.id).status == "pending"  # type: ignore[union-attr]


def test_spam_defences(app: Flask, mailbox: tuple[Mailbox, int]) -> None:
    engine = app.extensions["engine"]
    client = app.test_client()
    # A bot fills the hidden field: it is thanked, nothing is kept, nobody is mailed.
    assert propose(client, website="http://spam.example").status_code == 302
    assert queue.queue(engine, "event") == [] and mailbox[0].messages == []
    # No CSRF token: refused.
    assert client.post("/proposer", data=form()).status_code == 400
    # One address sends five an hour, then is told to wait.
    for n in range(5):
        assert propose(client, email=f"v{n}@asso.example").status_code == 302
    refused = propose(client, email="v9@asso.example")
    assert refused.status_code == 429
    assert "réessayez plus tard" in refused.get_data(as_text=True)
    assert len(queue.queue(engine, "event")) == 5


def test_admin_blocks_an_address(app: Flask, mailbox: tuple[Mailbox, int]) -> None:
    engine = app.extensions["engine"]
    client = app.test_client()
    assert propose(client, email="spam@bad.example").status_code == 302
    (item,) = queue.queue(engine, "event")
    admin = app.test_client()
    assert login(admin) == 302
    csrf = token(admin, "/admin/propositions/")
    assert "spam@bad.example" in admin.get("/admin/propositions/").get_data(as_text=True)
    assert admin.post(f"/admin/propositions/{item.id}/bloquer").status_code == 400  # no token
    assert not queue.is_blocked(engine, "spam@bad.example")
    admin.post(f"/admin/propositions/{item.id}/bloquer", data={"csrf_token": csrf})
    assert queue.queue(engine, "event") == []  # its pending proposal went with it
    other = app.test_client()
    refused = propose(other, email="SPAM@bad.example")
    assert refused.status_code == 429
    assert "écrivez à l'équipe" in html.unescape(refused.get_data(as_text=True))
    admin.post("/admin/propositions/debloquer", data={"csrf_token": csrf,
                                                      "email": "spam@bad.example"})  # fmt: skip
    assert propose(other, email="spam@bad.example").status_code == 302


def test_digest_at_most_one_an_hour(app: Flask, mailbox: tuple[Mailbox, int]) -> None:
    from aggregator import notices
    from aggregator.mail import SmtpMailer

    box, port = mailbox
    client = app.test_client()
    assert propose(client, title="Premier").status_code == 302
    assert propose(client, title="Second", email="autre@asso.example").status_code == 302
    (first,) = box.wait_for(TEAM)
    assert "Premier" in body(first) and "Second" not in body(first)
    engine = app.extensions["engine"]
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{port}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=59)
    assert notices.send_digest_if_due(engine, mailer, "a@x.example", (TEAM,), "q", later) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=61)
    assert notices.send_digest_if_due(engine, mailer, "a@x.example", (TEAM,), "q", later) == 1
    (_, second) = box.wait_for(TEAM, 2)
    assert "Second" in body(second) and "Premier" not in body(second)


def test_proposed_event_merges_with_the_same_event_in_a_feed(
    app: Flask, httpserver: HTTPServer
) -> None:
    """A member association's feed publishes the event the network proposed: one event,
    "publié par" both."""
    from aggregator.pipeline import RefreshOptions, refresh
    from aggregator.sources import load_sources

    when = day(12)
    ics = calendar("Repair café de printemps", "Salle polyvalente, Gap").replace(
        (dt.date.today() + dt.timedelta(days=4)).strftime("%Y%m%d"), when.strftime("%Y%m%d")
    )
    httpserver.expect_request("/repair.ics").respond_with_data(ics, content_type="text/calendar")
    Path(app.config["SOURCES_PATH"]).write_text(
        f'[[source]]\nid = "repair"\nname = "Repair Café Gap"\n'
        f'url = "{httpserver.url_for("/repair.ics")}"\n')  # fmt: skip
    engine = app.extensions["engine"]
    refresh(engine, load_sources(app.config["SOURCES_PATH"]), RefreshOptions())
    client = app.test_client()
    assert propose(client, start_date=when.isoformat(), end_time="").status_code == 302
    approve_all(app)
    events = client.get("/api/events").get_json()["events"]
    (merged,) = [e for e in events if "Repair" in e["title"]]
    assert len(merged["sources"]) == 2, merged
    # A whole refresh of sources.toml (where `propositions` never is) keeps the proposals.
    refresh(engine, load_sources(app.config["SOURCES_PATH"]), RefreshOptions())
    events = client.get("/api/events").get_json()["events"]
    (merged,) = [e for e in events if "Repair" in e["title"]]
    assert {s["id"] for s in merged["sources"]} == {"repair", "propositions"}


def test_sources_file_may_not_take_the_proposals_id(tmp_path: Path) -> None:
    from aggregator.sources import SourcesError, load_sources

    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nid = "propositions"\nname = "X"\nurl = "https://x.example/a.ics"\n'
    )
    with pytest.raises(SourcesError) as refused:
        load_sources(path)
    assert "line 2" in str(refused.value) and "reserved" in str(refused.value)


@pytest.fixture
def calendar_site(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/asso.ics").respond_with_data(
        calendar("Atelier couture", "Local associatif, Embrun"), content_type="text/calendar"
    )
    return httpserver.url_for("/asso.ics")


def test_association_offers_its_calendar(
    app: Flask, mailbox: tuple[Mailbox, int], calendar_site: str
) -> None:
    box = mailbox[0]
    client = app.test_client()
    csrf = token(client, "/ajouter-mon-agenda")
    data = {"csrf_token": csrf, "url": calendar_site, "name": "Les Fils d'Embrun",
            "site": "https://fils.example", "email": VOLUNTEER, "message": "Merci !"}  # fmt: skip
    preview = client.post("/ajouter-mon-agenda", data={**data, "action": "preview"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1 événement à venir" in page and "Atelier couture" in page
    assert "Embrunais" in page  # the territory found
    sent = client.post("/ajouter-mon-agenda", data={**data, "action": "send"})
    assert sent.status_code == 302
    assert "Les Fils d'Embrun" in box.wait_for(VOLUNTEER)[0]["Subject"]
    assert calendar_site in body(box.wait_for(TEAM)[0])

    admin = app.test_client()
    assert login(admin) == 302
    (request_,) = queue.queue(app.extensions["engine"], "calendar")
    review = admin.get(f"/admin/propositions/{request_.id}/agenda").get_data(as_text=True)
    assert 'value="Les Fils d&#39;Embrun"' in review and "Atelier couture" in review
    fields = dict(re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', review))
    fields = {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in fields.items()}
    saved = admin.post("/admin/sources/create", data={**fields, "refresh": "1h"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    text = Path(app.config["SOURCES_PATH"]).read_text()
    assert "Les Fils d'Embrun" in text and calendar_site in text
    assert queue.queue(app.extensions["engine"], "calendar") == []
    added = box.wait_for(VOLUNTEER, 2)[-1]
    assert "ajouté" in added["Subject"].lower() and "/association/les-fils-d-embrun" in body(added)


def test_public_calendar_test_never_fetches_inside(
    app: Flask, httpserver: HTTPServer, mailbox: tuple[Mailbox, int]
) -> None:
    """The attacker's side: the public form is the admin's preview, so the SSRF guard
    applies (here without the tests' loopback allowance)."""
    app.config["ALLOW_HOSTS"] = ()
    httpserver.expect_request("/secret").respond_with_data("BEGIN:VCALENDAR")
    client = app.test_client()
    for url in (httpserver.url_for("/secret"), "http://[::ffff:127.0.0.1]:80/",
                "http://169.254.169.254/latest/meta-data/"):  # fmt: skip
        answer = client.post("/ajouter-mon-agenda", data={
            "csrf_token": token(client, "/ajouter-mon-agenda"), "url": url, "name": "X",
            "email": VOLUNTEER, "action": "preview"})  # fmt: skip
        assert answer.status_code == 422
        assert 'id="url-error"' in answer.get_data(as_text=True)
    assert httpserver.log == []


def test_without_a_mail_server_mails_are_files(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENDA_SMTP_URL", raising=False)
    app = admin_app(db_url, tmp_path, monkeypatch, AGENDA_MAIL_DIR=str(tmp_path / "mail"))
    client = app.test_client()
    assert propose(client).status_code == 302
    (written,) = (tmp_path / "mail").glob("*.eml")
    text = written.read_text()
    assert VOLUNTEER in text and "/proposition/" in text
    app.extensions["engine"].dispose()


def test_plain_text_links_are_clickable_and_nothing_else_is_html() -> None:
    from webapp.formatting import linked_paragraphs

    text = (
        "Programme : https://asso.example/prog?a=1&b=2.\n\n<script>alert(1)</script> "
        "javascript:alert(2) www.asso.example (voir https://asso.example/a).\nFin"
    )
    html_ = str(linked_paragraphs(text))
    assert html_.count("<p>") == 2
    assert '<a href="https://asso.example/prog?a=1&amp;b=2" rel="nofollow ugc noopener">' in html_
    assert "prog?a=1&amp;b=2</a>." in html_  # the sentence's full stop stays outside
    assert '<a href="https://asso.example/a" rel="nofollow ugc noopener">' in html_
    assert "/a</a>)." in html_
    assert "&lt;script&gt;" in html_ and "<script>" not in html_
    assert 'href="javascript' not in html_
    assert "<br>" in html_  # a single line break is kept


def test_approving_twice_publishes_and_mails_once(app: Flask, mailbox: tuple[Mailbox, int]) -> None:
    client = app.test_client()
    assert propose(client).status_code == 302
    (item,) = queue.queue(app.extensions["engine"], "event")
    admin = app.test_client()
    assert login(admin) == 302
    csrf = token(admin, "/admin/propositions/")
    for _ in range(2):  # two admins, or a double click
        admin.post(f"/admin/propositions/{item.id}/publier", data={"csrf_token": csrf})
    assert len(mailbox[0].wait_for(VOLUNTEER, 2)) == 2  # received, then published: once
    assert "Déjà décidé" in html.unescape(admin.get("/admin/propositions/").get_data(as_text=True))


def test_mail_server_down_the_link_is_shown_not_lost(app: Flask) -> None:
    with smtp_server() as (_, port):
        pass  # nothing listens there any more
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    answer = propose(app.test_client())
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "pas pu partir" in html.unescape(page)
    found = re.search(r'href="(http://[^"]+/proposition/[^"]+)"', page)
    assert found
    assert len(queue.queue(app.extensions["engine"], "event")) == 1  # the proposal is kept
    edit = app.test_client().get(found.group(1).split("127.0.0.1:5000")[-1])
    assert edit.status_code == 200 and "Repair café de printemps" in edit.get_data(as_text=True)


def at_once(count: int, job: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    """`job` in `count` threads released together (as many web workers and the scheduler):
    what each returned, and what each raised (a crash would be a 500 in a web request)."""
    import threading

    results: list[object] = []
    failed: list[BaseException] = []
    start = threading.Barrier(count)

    def run() -> None:
        start.wait()
        try:
            results.append(job())
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failed


def test_two_processes_never_both_send_the_digest(app: Flask) -> None:
    """Web workers and the scheduler claim the digest at once, even the very first one."""
    engine = app.extensions["engine"]
    now = dt.datetime.now(dt.UTC)
    for n in range(3):
        queue.add(engine, "event", form(title=f"Proposition {n}"), f"v{n}@asso.example", "x", now)
    claimed, failed = at_once(
        8, lambda: len(queue.claim_digest(engine, now, dt.timedelta(hours=1)))
    )
    assert failed == [] and sorted(claimed) == [0] * 7 + [3]  # type: ignore[type-var]


def test_two_admins_publishing_at_once(app: Flask) -> None:
    """Two approvals in two web workers at the same moment: both proposals are on the
    agenda, and neither admin gets an error (the proposals' source is written by one at a
    time, like a refreshed feed)."""
    from aggregator.pipeline import RefreshOptions
    from aggregator.proposals import Proposal, publish

    engine = app.extensions["engine"]
    now = dt.datetime.now(dt.UTC)
    for n in range(2):
        proposal = Proposal(
            title=f"Atelier {n}", start_date=day(10), start_time=dt.time(14), end_date=None,
            end_time=dt.time(16), repeat="", until=None, place="Salle polyvalente",
            commune=GAP, description="", organiser="Repair Café Gap", link=None, tags=(),
        )  # fmt: skip
        item = queue.add(engine, "event", proposal.to_data(), f"v{n}@asso.example", "x", now)
        queue.decide(engine, item, "approved", "camille", now)
    _, failed = at_once(4, lambda: publish(engine, RefreshOptions()))
    assert failed == []
    titles = {e["title"] for e in app.test_client().get("/api/events").get_json()["events"]}
    assert {"Atelier 0", "Atelier 1"} <= titles


def test_two_admins_blocking_one_address_at_once(app: Flask) -> None:
    engine = app.extensions["engine"]
    now = dt.datetime.now(dt.UTC)
    queue.add(engine, "event", {"title": "x"}, "spam@bad.example", "x", now)
    _, failed = at_once(6, lambda: queue.block(engine, "spam@bad.example", "camille", now))
    assert failed == [] and queue.is_blocked(engine, "spam@bad.example")


def test_published_proposals_follow_the_configured_window(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment expanding recurrences 20 days ahead: a weekly proposal published from
    the admin shows the same occurrences the scheduler's republishing would (the web path
    once took the default 365 days, whatever AGENDA_WINDOW_FUTURE_DAYS said)."""
    monkeypatch.setenv("AGENDA_WINDOW_FUTURE_DAYS", "20")
    client = app.test_client()
    start = day(5)
    until = (start + dt.timedelta(days=42)).isoformat()
    answer = propose(client, title="Permanence vélo", repeat="weekly",
                     start_date=start.isoformat(), until=until)  # fmt: skip
    assert answer.status_code == 302
    approve_all(app)
    events = client.get("/api/events?limit=100").get_json()["events"]
    days = sorted(e["start"][:10] for e in events if e["title"] == "Permanence vélo")
    assert days == [(start + dt.timedelta(weeks=n)).isoformat() for n in range(3)]
