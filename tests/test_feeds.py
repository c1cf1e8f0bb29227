"""RSS/Atom and HTML (JSON-LD, h-event) documents, pinned by fixtures in tests/data/."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aggregator.model import Kind, ParseError, Status
from aggregator.parse import Window, parse_document, sniff
from aggregator.parse.feed import parse_feed, parse_pubdate
from aggregator.parse.jsonld import parse_jsonld
from tests.conftest import DATA

PARIS = ZoneInfo("Europe/Paris")


def feed(name: str, window: Window, **kw: object):  # type: ignore[no-untyped-def]
    return parse_feed((DATA / "feeds" / name).read_bytes(), window, **kw)  # type: ignore[arg-type]


def test_rss_event_module(window: Window) -> None:
    parsed = feed("rss-event-module.xml", window, base_url="https://court-circuit.example/feed/")
    (event,) = parsed.events
    assert event.start == dt.datetime(2026, 12, 5, 16, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert event.end == dt.datetime(2026, 12, 5, 19, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert event.location == "Place Barthelon, Embrun"
    assert event.url == "https://court-circuit.example/evenement/marche"
    assert event.uid == "https://court-circuit.example/?p=12"
    assert event.description == "Producteurs & artisans."
    assert event.categories == ("Alimentation",)


def test_xcal_elements(window: Window) -> None:
    events = {e.title: e for e in feed("xcal.xml", window).events}
    stage = events["Stage de théâtre"]
    assert stage.start == dt.datetime(2026, 12, 7, 9, 30)  # floating: the source's zone applies
    assert stage.end == dt.datetime(2026, 12, 7, 17)
    assert stage.location == "MJC, Embrun"
    assert events["Journée portes ouvertes"].start == dt.date(2026, 12, 12)


def test_the_events_calendar_pubdate_is_start_only_when_asked(window: Window) -> None:
    asked = feed("events-calendar-pubdate.xml", window, pubdate_is_start=True)
    starts = {e.title: e.start for e in asked.events}
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert starts["Soirée jeux"] == dt.datetime(2026, 12, 4, 19, tzinfo=plus_one)
    # A French pubDate, which feedparser cannot read.
    assert starts["Café bricolage"] == dt.datetime(2026, 12, 12, 14, 30, tzinfo=plus_one)
    not_asked = feed("events-calendar-pubdate.xml", window)
    assert not_asked.events == [] and not_asked.skipped == 2  # never the post date


def test_gancio_title_form(window: Window) -> None:
    events = {e.title: e for e in feed("gancio.xml", window).events}
    concert = events["Concert solidaire"]
    assert concert.start == dt.datetime(2026, 12, 4, 20, 30)
    assert concert.location == "MJC de Veynes"
    assert events["Disco-soupe"].start == dt.date(2026, 12, 9)


def test_french_prose_dates_and_posts_without_date(window: Window) -> None:
    parsed = feed("french-prose.xml", window)
    events = {e.url.rsplit("/", 1)[1]: e for e in parsed.events if e.url}
    assert events["balade"].start == dt.datetime(2026, 12, 5, 14)
    assert events["balade"].end is None
    assert events["projection"].start == dt.datetime(2026, 12, 16, 20)
    assert events["projection"].end == dt.datetime(2026, 12, 16, 22, 30)
    chantier = events["chantier"]
    assert (chantier.start, chantier.end) == (dt.date(2027, 6, 3), dt.date(2027, 6, 6))
    assert set(events) == {"balade", "projection", "chantier"}
    assert parsed.skipped == 1  # the thank-you post has no event date: not an event


def test_atom_entry_with_prose_date(window: Window) -> None:
    parsed = feed("atom.xml", window)
    assert parsed.kind is Kind.ATOM
    (event,) = parsed.events
    assert event.start == dt.datetime(2026, 12, 11, 18, 30)
    assert event.uid == "urn:uuid:ag-2026"


def test_xml_bomb_is_defused(window: Window) -> None:
    parsed = feed("billion-laughs.xml", window)
    (event,) = parsed.events
    assert event.start == dt.date(2026, 12, 5)


def test_french_pubdate() -> None:
    assert parse_pubdate("mar., 24 nov. 2026 07:00:00 +0100") == dt.datetime(
        2026, 11, 24, 7, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert parse_pubdate("n'importe quoi") is None


def test_jsonld_graph_arrays_and_broken_blocks(window: Window) -> None:
    body = (DATA / "html" / "jsonld-graph.html").read_bytes()
    parsed = parse_jsonld(body, window, base_url="https://grange.example/agenda")
    events = {e.title: e for e in parsed.events}
    assert set(events) == {"Scène ouverte", "Formation compostage", "Marché de Noël"}
    jam = events["Scène ouverte"]
    assert jam.location == "La Grange, Route de Chaillol, 05260 Saint-Michel-de-Chaillol"
    assert jam.geo == (44.6869, 6.1769)
    assert jam.url == "https://grange.example/agenda/jam"
    assert jam.categories == ("Musique", "Convivialité")
    assert jam.description == "Amenez vos instruments"
    compost = events["Formation compostage"]
    assert compost.status is Status.CANCELLED
    assert compost.location == "En ligne"
    assert (compost.start, compost.end) == (dt.date(2026, 12, 14), dt.date(2026, 12, 16))
    assert events["Marché de Noël"].location == "Place de la mairie, Saint-Bonnet"
    assert len(parsed.warnings) == 2  # the undated event and the broken block


def test_hevent(window: Window) -> None:
    parsed = parse_jsonld((DATA / "html" / "hevent.html").read_bytes(), window)
    (event,) = parsed.events
    assert event.title == "Atelier vélo"
    assert event.start == dt.datetime(2026, 12, 6, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert event.location == "Garage solidaire, Gap"
    assert event.categories == ("Mobilité",)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ics/lf-only.ics", Kind.ICS),
        ("ics/bom-crlf.ics", Kind.ICS),
        ("feeds/gancio.xml", Kind.RSS),
        ("feeds/atom.xml", Kind.ATOM),
        ("html/hevent.html", Kind.JSONLD),
    ],
)
def test_sniff(name: str, kind: Kind) -> None:
    assert sniff((DATA / name).read_bytes()) is kind


@pytest.mark.parametrize(
    "body",
    [b"", b"   \n", b"<html><body>Erreur 404</body></html>", b"\x00\x01 binary junk"],
)
def test_unusable_documents_raise_parse_error(window: Window, body: bytes) -> None:
    kind = Kind.ICS if body.startswith(b"<html") else Kind.AUTO
    with pytest.raises(ParseError):
        parse_document(body, kind, window)


def test_truncated_ics_is_refused(window: Window) -> None:
    text = (DATA / "ics" / "cancelled.ics").read_bytes()
    with pytest.raises(ParseError, match="tronqué"):
        parse_document(text[: len(text) - 30], Kind.ICS, window)
