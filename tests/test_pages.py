"""The public pages on the demo data: filters, periods, month, event, subscribe, embed,
digest, languages, headers."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from aggregator.demo import write_demo
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.sources import load_sources
from aggregator.store import open_engine
from tests.conftest import source
from webapp.filters import period_bounds

ROOT = Path(__file__).parent.parent


def demo_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    from webapp import create_app

    write_demo(tmp_path / "var" / "demo")
    (tmp_path / "sources.toml").write_text((ROOT / "sources.toml").read_text())
    hostile = tmp_path / "hostile.ics"
    hostile.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:h\r\n"
        f"DTSTART:{(dt.date.today() + dt.timedelta(days=2)):%Y%m%d}T180000Z\r\n"
        "SUMMARY:</script><script>alert(1)</script> Soirée\r\n"
        'DESCRIPTION:<img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>\r\n'
        "URL:javascript:alert(4)\r\nLOCATION:<b>Gap</b>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    engine = open_engine(db_url)
    configs = [*load_sources(tmp_path / "sources.toml"),
               source(id="hostile", name="Hostile", url=str(hostile))]  # fmt: skip
    refresh(engine, configs, RefreshOptions())
    engine.dispose()
    return create_app()


@pytest.fixture
def client(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    app = demo_app(db_url, tmp_path, monkeypatch)
    yield app.test_client()
    app.extensions["engine"].dispose()


@pytest.mark.parametrize(
    ("today", "period", "expected"),
    [
        ("2026-11-24", "aujourdhui", ("2026-11-24", "2026-11-24")),  # a Tuesday
        ("2026-11-24", "week-end", ("2026-11-28", "2026-11-29")),
        ("2026-11-28", "week-end", ("2026-11-28", "2026-11-29")),  # Saturday
        ("2026-11-29", "week-end", ("2026-11-29", "2026-11-29")),  # Sunday
        ("2026-11-24", "semaine", ("2026-11-24", "2026-11-29")),
        ("2026-11-24", "mois", ("2026-11-24", "2026-11-30")),
        ("2026-12-31", "mois", ("2026-12-31", "2026-12-31")),
    ],
)
def test_periods(today: str, period: str, expected: tuple[str, str]) -> None:
    first, last = period_bounds(period, dt.date.fromisoformat(today))
    assert (first.isoformat(), last.isoformat()) == expected


def listing(client: FlaskClient, query: str) -> str:
    response = client.get(query)
    assert response.status_code == 200
    return response.get_data(as_text=True).split("</form>", 1)[1]


def test_agenda_filters_and_search(client: FlaskClient) -> None:
    everything = listing(client, "/")
    assert "Forum de l&#39;économie sociale et solidaire" in everything
    by_territory = listing(client, "/?territory=brianconnais")
    assert "Repair Café" in by_territory and "Forum de l" not in by_territory
    assert "Repair Café" in listing(client, "/?q=REPARE")  # accents and case ignored
    assert "Marché paysan" in listing(client, "/?tag=alimentation")
    today = listing(client, "/?periode=aujourdhui")
    assert "Balade botanique" not in today  # it is on a coming Saturday, not today
    assert client.get("/?start=hier").status_code == 400


def test_territory_and_association_pages(client: FlaskClient) -> None:
    page = client.get("/territoire/brianconnais").get_data(as_text=True)
    assert "<h1>Briançonnais</h1>" in page and "Repair Café" in page
    assert client.get("/territoire/atlantide").status_code == 404
    association = client.get("/association/court-circuit-embrunais").get_data(as_text=True)
    assert "Marché paysan" in association and "Repair Café" not in association
    assert client.get("/association/nope").status_code == 404


def test_month_grid(client: FlaskClient) -> None:
    today = dt.date.today()
    page = client.get("/mois").get_data(as_text=True)
    assert f'<span class="date">{today.day}</span>' in page
    assert "Permanence accompagnement" in page
    assert client.get("/mois/2026-13").status_code == 404
    following = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    assert client.get(f"/mois/{following.year}-{following.month}").status_code == 200


def test_event_page_json_ld_map_and_escaping(client: FlaskClient) -> None:
    events = client.get("/api/events").get_json()["events"]
    jam = next(e for e in events if e["title"].startswith("Scène ouverte"))
    page = client.get(f"/evenement/{jam['id']}").get_data(as_text=True)
    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1]
    )  # type: ignore[index]
    assert data["@type"] == "Event" and data["name"] == jam["title"]
    assert data["startDate"] == jam["start"]
    assert "openstreetmap.org/search?query=La+Grange" in page
    assert f'href="/evenement/{jam["id"]}.ics"' in page
    hostile = next(e for e in events if e["title"].endswith("Soirée"))
    page = client.get(f"/evenement/{hostile['id']}").get_data(as_text=True)
    assert "<script>alert" not in page and "onerror" not in page and "javascript:" not in page
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 and json.loads(scripts[0])["name"] == "Soirée"  # tags stripped


def test_json_ld_cannot_close_its_script_element(client: FlaskClient) -> None:
    from aggregator.store.read import EventRow
    from webapp.agenda import event_jsonld

    now = dt.datetime.now(dt.UTC)
    event = EventRow(
        id="x", uid="x@a", title="a </script><script>alert(1)</script>", start=now, end=None,
        all_day=False, timezone="Europe/Paris", location="", territory=None, tags=(),
        sources=(), url=None, description="", description_html=None, status="confirmed",
    )  # fmt: skip
    with client.application.test_request_context("/"):
        text = str(event_jsonld(event, "http://localhost/evenement/x"))
    assert "</script" not in text
    assert json.loads(text)["name"] == event.title


def test_subscribe_page_keeps_filters(client: FlaskClient) -> None:
    page = client.get("/sabonner?territory=brianconnais").get_data(as_text=True)
    ics = "http://localhost/agenda.ics?territory=brianconnais"
    assert f'value="{ics}"' in page
    google = re.search(r'href="(https://calendar\.google\.com[^"]+)"', page)[1]  # type: ignore[index]
    assert unquote(parse_qs(urlsplit(google.replace("&amp;", "&")).query)["cid"][0]) == (
        "webcal://localhost/agenda.ics?territory=brianconnais"
    )
    outlook = re.search(r'href="(https://outlook\.live\.com[^"]+)"', page)[1]  # type: ignore[index]
    assert parse_qs(urlsplit(outlook.replace("&amp;", "&")).query)["url"] == [ics]
    assert "&lt;iframe src=&#34;http://localhost/embed?territory=brianconnais" in page or (
        '&lt;iframe src="http://localhost/embed?territory=brianconnais' in page
    )


def test_embed_may_be_framed_and_nothing_else(client: FlaskClient) -> None:
    embed = client.get("/embed?territory=brianconnais")
    assert "X-Frame-Options" not in embed.headers
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "Repair Café" in embed.get_data(as_text=True)
    assert 'target="_blank"' in embed.get_data(as_text=True)
    page = client.get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_weekly_digest_groups_by_territory(client: FlaskClient) -> None:
    page = client.get("/semaine").get_data(as_text=True)
    assert "<h1>L'agenda de la semaine</h1>" in page
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings and all(h for h in headings)
    chosen = client.get("/semaine?territory=serre-poncon").get_data(as_text=True)
    assert re.findall(r"<h2>(.*?)</h2>", chosen) in ([], ["Embrunais – Serre-Ponçon"])
    assert client.get("/semaine?debut=demain").status_code == 400


def test_french_by_default_english_on_request(client: FlaskClient) -> None:
    french = client.get("/", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert "Les prochains rendez-vous" in french and 'lang="fr"' in french
    english = client.get("/?lang=en")
    assert "Upcoming events" in english.get_data(as_text=True)
    assert "lang=en" in english.headers["Set-Cookie"]
    again = client.get("/mois").get_data(as_text=True)  # the cookie remembers
    assert 'lang="en"' in again and "Mon" in again


def test_english_catalog_is_compiled_and_complete() -> None:
    """The .mo shipped is the .po compiled, and every French text has its English."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = ROOT / "webapp" / "translations" / "en" / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)

    def texts(catalog):  # type: ignore[no-untyped-def]
        return {
            (m.id if isinstance(m.id, str) else tuple(m.id)):
            (m.string if isinstance(m.string, str) else tuple(m.string))
            for m in catalog if m.id
        }  # fmt: skip

    assert [k for k, v in texts(source).items() if not v or not all(v)] == []
    assert texts(source) == texts(compiled)
