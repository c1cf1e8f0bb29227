"""/api/events contract, filters, the agenda page and /healthz, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from aggregator.pipeline import RefreshOptions, refresh
from tests.conftest import source

TODAY = dt.date.today()


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).strftime("%Y%m%d")


CAL = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//t//EN
BEGIN:VEVENT
UID:forum
DTSTART;TZID=Europe/Paris:{day(3)}T090000
DTEND;TZID=Europe/Paris:{day(3)}T163000
SUMMARY:Forum de l'ÉCONOMIE solidaire
LOCATION:Quattro, Gap
CATEGORIES:Forum
END:VEVENT
BEGIN:VEVENT
UID:fete
DTSTART;VALUE=DATE:{day(5)}
DTEND;VALUE=DATE:{day(7)}
SUMMARY:Fête des associations
END:VEVENT
BEGIN:VEVENT
UID:annule
DTSTART;TZID=Europe/Paris:{day(4)}T200000
STATUS:CANCELLED
SUMMARY:<script>alert(1)</script>Concert
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    from aggregator.store import open_engine
    from webapp import create_app

    (tmp_path / "a.ics").write_text(CAL)
    other = CAL.replace("UID:", "UID:b-").replace(
        "Forum de l'ÉCONOMIE solidaire", "Marché de l'ÉCONOMIE paysanne"
    )
    (tmp_path / "b.ics").write_text(other.replace("Quattro, Gap", "Place Barthelon, Embrun"))
    engine = open_engine(db_url)
    configs = [
        source(id="udess", name="Udess 05", url=str(tmp_path / "a.ics"),
               territory="gap-tallard-durance", tags=("ess",), website="https://udess.example"),
        source(id="brianson", name="Asso B", url=str(tmp_path / "b.ics"),
               territory="brianconnais"),
    ]  # fmt: skip
    refresh(engine, configs, RefreshOptions(workers=1))
    engine.dispose()
    app = create_app()
    yield app
    app.extensions["engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def events(client: FlaskClient, query: str = "") -> list[dict]:  # type: ignore[type-arg]
    response = client.get(f"/api/events{query}")
    assert response.status_code == 200, response.json
    return response.json["events"]  # type: ignore[no-any-return,index]


def test_contract(client: FlaskClient) -> None:
    items = events(client, "?source=udess")
    assert [e["title"][:5] for e in items] == ["Forum", "Conce", "Fête "]  # ordered by start
    forum = items[0]
    assert set(forum) == {
        "id", "uid", "title", "start", "end", "all_day", "timezone", "location", "territory",
        "tags", "sources", "url", "description", "status",
    }  # fmt: skip
    start = dt.datetime.fromisoformat(forum["start"])
    assert start.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
    assert (start.hour, start.minute) == (9, 0)
    assert dt.datetime.fromisoformat(forum["end"]).hour == 16
    assert forum["territory"] == "gap-tallard-durance"
    assert forum["tags"] == ["forum", "ess"]
    assert forum["sources"] == [{"id": "udess", "name": "Udess 05", "url": "https://udess.example"}]
    fete = items[2]
    assert fete["all_day"] is True
    first = TODAY + dt.timedelta(days=5)
    assert fete["start"] == first.isoformat()
    assert fete["end"] == (first + dt.timedelta(days=1)).isoformat()  # inclusive last day
    assert items[1]["status"] == "cancelled"


def titles(client: FlaskClient, query: str) -> list[str]:
    return [e["title"] for e in events(client, query)]


def test_filters(client: FlaskClient) -> None:
    # b's market is in Embrun: its territory comes from the place, not the source.
    assert titles(client, "?territory=brianconnais") == ["Concert", "Fête des associations"]
    assert len(titles(client, "?territory=brianconnais&territory=gap-tallard-durance")) == 5
    assert titles(client, "?tag=ESS") == [
        "Forum de l'ÉCONOMIE solidaire", "Concert", "Fête des associations",
    ]  # fmt: skip
    # Accent- and case-insensitive: "economie" finds "l'ÉCONOMIE" in both feeds' titles.
    assert titles(client, "?q=economie") == [
        "Forum de l'ÉCONOMIE solidaire", "Marché de l'ÉCONOMIE paysanne",
    ]  # fmt: skip
    assert titles(client, "?q=march%C3%A9") == ["Marché de l'ÉCONOMIE paysanne"]
    assert titles(client, "?q=gap%20forum") == ["Forum de l'ÉCONOMIE solidaire"]
    day4 = TODAY + dt.timedelta(days=4)
    assert titles(client, f"?start={day4}&end={day4}") == ["Concert", "Concert"]
    # An event spanning several days is found by any of its days.
    later = f"?start={TODAY + dt.timedelta(days=6)}&source=udess"
    assert titles(client, later) == ["Fête des associations"]


@pytest.mark.parametrize(
    "query", ["?start=demain", "?end=2026-13-01", "?start=2026-12-10&end=2026-12-01", "?limit=0"]
)
def test_bad_parameters_are_400_with_a_message(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/events{query}")
    assert response.status_code == 400
    assert response.json and response.json["error"]


def test_agenda_page_lists_events_escaped(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "Forum de l&#39;ÉCONOMIE solidaire" in page
    assert "<script>alert" not in page
    assert "Annulé" in page
    assert 'lang="fr"' in page
    filtered = client.get("/?source=brianson").get_data(as_text=True)
    listing = filtered.split("</form>")[1]
    assert "Marché de l&#39;ÉCONOMIE" in listing and "Forum de l" not in listing


def test_event_page(client: FlaskClient) -> None:
    forum = events(client, "?source=udess")[0]
    page = client.get(f"/evenement/{forum['id']}").get_data(as_text=True)
    assert "Forum de l&#39;ÉCONOMIE solidaire" in page
    assert ", 9 h – 16 h 30" in page
    assert "Udess 05" in page
    assert client.get("/evenement/nope").status_code == 404


def test_healthz(client: FlaskClient, app: Flask) -> None:
    body = client.get("/healthz").json
    assert body is not None
    assert body["database"] is True and body["sources"] == 2 and body["failing_sources"] == 0
    assert dt.datetime.fromisoformat(body["last_refresh"]) <= dt.datetime.now(dt.UTC)
    engine: sa.Engine = app.extensions["engine"]
    assert engine is not None


def test_a_search_finds_a_word_typed_with_or_without_its_ligature(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One publisher types "Cœur", another "coeur": a resident searching either way finds
    both (folding keeps "œ", so "coeur" found only the second)."""
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    from aggregator.store import open_engine
    from webapp import create_app

    def calendar(uid: str, title: str, hour: int) -> str:
        return (f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:{uid}\n"
                f"DTSTART;TZID=Europe/Paris:{day(3)}T{hour:02d}0000\nSUMMARY:{title}\n"
                "LOCATION:Gap\nEND:VEVENT\nEND:VCALENDAR\n")  # fmt: skip

    # (Three events at three hours: none is a duplicate of another.)
    (tmp_path / "a.ics").write_text(calendar("a", "Collecte des Restos du Cœur", 9))
    (tmp_path / "b.ics").write_text(calendar("b", "Concert pour les Restos du coeur", 20))
    (tmp_path / "c.ics").write_text(calendar("c", "Vente des œuvres de l'atelier", 14))
    engine = open_engine(db_url)
    configs = [source(id=n, name=n, url=str(tmp_path / f"{n}.ics")) for n in "abc"]
    refresh(engine, configs, RefreshOptions(workers=1))
    engine.dispose()
    app = create_app()
    client = app.test_client()
    both = ["Collecte des Restos du Cœur", "Concert pour les Restos du coeur"]
    assert sorted(titles(client, "?q=coeur")) == both
    assert sorted(titles(client, "?q=C%C5%93ur")) == both  # "Cœur"
    assert titles(client, "?q=oeuvres") == ["Vente des œuvres de l'atelier"]
    assert titles(client, "?q=restos%20c%C5%93ur%20concert") == [both[1]]
    app.extensions["engine"].dispose()
