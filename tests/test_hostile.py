"""Hostile documents: what a broken or malicious generator can send, and what we do with it.

Each case asserts the behaviour (refused with a reason, bounded, or cleaned), never only
"does not crash". Fetch-level hostility (caps, gzip bomb, slow drip, redirects) lives in
test_fetch.py; keeping the last good events in test_store.py.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from aggregator.model import Kind, ParseError
from aggregator.parse import Window, parse_document
from aggregator.parse.ics import MAX_OCCURRENCES_PER_SERIES
from aggregator.parse.rrule import MAX_PERIODS_BEFORE_WINDOW, PERIOD
from aggregator.parse.text import scrub
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store import open_engine
from tests.conftest import DATA, NOW, source

UTC = dt.UTC
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=365), NOW.date())


def calendar(*events: str, head: str = "") -> bytes:
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + head
    return (text + "".join(events) + "END:VCALENDAR\r\n").encode()


def vevent(uid: str, start: str, *lines: str, summary: str = "") -> str:
    body = [f"UID:{uid}", f"DTSTART{start}", f"SUMMARY:{summary or uid}", *lines]
    return "BEGIN:VEVENT\r\n" + "".join(line + "\r\n" for line in body) + "END:VEVENT\r\n"


def test_deeply_nested_components_are_parsed_without_recursion(window: Window) -> None:
    nested = "BEGIN:X-BOX\r\n" * 5000 + "END:X-BOX\r\n" * 5000
    alarms = "BEGIN:VALARM\r\n" * 3000 + "END:VALARM\r\n" * 3000
    body = calendar(
        vevent("a", ":20261201T100000Z"),
        nested,
        vevent("b", ":20261202T100000Z", alarms.rstrip("\r\n")),
    )
    parsed = parse_document(body, Kind.AUTO, window)
    assert sorted(e.uid for e in parsed.events) == ["a", "b"]


def test_years_0001_and_9999(window: Window) -> None:
    body = calendar(
        vevent("y1", ":00010101T100000Z"),
        vevent("y9", ":99991231T235959Z"),
        vevent("y9-date", ";VALUE=DATE:99991231"),
        vevent("y1-daily", ":00010101T100000Z", "RRULE:FREQ=DAILY;COUNT=3"),
        vevent("ok", ":20261201T100000Z"),
    )
    parsed = parse_document(body, Kind.AUTO, window)
    # Far outside the window, so not published; the date that no arithmetic can take
    # (an all-day event ending after 9999-12-31) is reported, and costs only itself.
    assert [e.uid for e in parsed.events] == ["ok"]
    assert any("y9-date" in w and "ignoré" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("rule", "start", "expected", "warning"),
    [
        # Every second: not an event; its first date is kept.
        ("FREQ=SECONDLY", ":20261201T100000Z", 1, "à la seconde"),
        ("FREQ=MINUTELY;BYSECOND=0,15,30,45", ":20261201T100000Z", 1, "à la seconde"),
        # Begun long ago and never ending: cut at 1,000 from the window's start.
        ("FREQ=MINUTELY", ":20000101T100000Z", MAX_OCCURRENCES_PER_SERIES, "tronquée"),
        ("FREQ=HOURLY;INTERVAL=5", ";TZID=Europe/Paris:19000101T103000", 1000, "tronquée"),
        # A count too large to walk from 1900: the series is skipped, the feed is not.
        ("FREQ=HOURLY;COUNT=5000000", ":19000101T100000Z", 0, "COUNT=5000000"),
        # Sparse within its period: the horizon grows until the window is covered.
        ("FREQ=HOURLY;BYHOUR=10", ":20261201T100000Z", 358, None),
    ],
)
def test_endless_and_ancient_rules_are_bounded(
    window: Window, rule: str, start: str, expected: int, warning: str | None
) -> None:
    body = calendar(vevent("r", start, f"RRULE:{rule}"), vevent("ok", ":20261203T100000Z"))
    parsed = parse_document(body, Kind.AUTO, window)
    series = [e for e in parsed.events if e.uid == "r"]
    assert len(series) == expected
    assert any(e.uid == "ok" for e in parsed.events)
    if warning:
        assert any(warning in w for w in parsed.warnings), parsed.warnings
    else:
        assert parsed.warnings == []
    if series:
        assert series[0].start >= window.start - dt.timedelta(days=1)
        assert all(a.start < b.start for a, b in itertools.pairwise(series))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    freq=st.sampled_from(["HOURLY", "DAILY", "WEEKLY"]),
    interval=st.integers(1, 7),
    extra=st.sampled_from(["", ";BYDAY=MO,TH", ";BYHOUR=9,18"]),
    lag=st.integers(MAX_PERIODS_BEFORE_WINDOW + 1, MAX_PERIODS_BEFORE_WINDOW * 3),
    minute=st.integers(0, 59),
    zone=st.sampled_from(["UTC", "Europe/Paris"]),
)
# Found in CI: moved next to the window across the autumn DST change, the start of an
# hourly Monday/Thursday rule fell on a Sunday and counted as an occurrence (RFC 5545 makes
# DTSTART an instance even off the rule).
@example(freq="HOURLY", interval=1, extra=";BYDAY=MO,TH", lag=5001, minute=0, zone="Europe/Paris")
def test_moving_an_ancient_start_keeps_every_occurrence_in_the_window(
    freq: str, interval: int, extra: str, lag: int, minute: int, zone: str
) -> None:
    """The rewrite that keeps old rules fast yields what a full walk from DTSTART yields."""
    window = WINDOW
    if freq == "HOURLY" and "BYHOUR" in extra:
        extra = ""
    step = PERIOD[freq] * interval
    start = (window.start - step * lag).astimezone(ZoneInfo(zone)).replace(minute=minute)
    start = start.replace(tzinfo=None)
    prop = f";TZID={zone}:{start.year:04d}{start:%m%dT%H%M%S}"
    body = calendar(vevent("r", prop, f"RRULE:FREQ={freq};INTERVAL={interval}{extra}"))
    parsed = parse_document(body, Kind.AUTO, window)
    ours = [e.start for e in parsed.events]

    reference = icalendar.Calendar.from_ical(body)
    walked = recurring_ical_events.of(reference).between(window.start, window.end)
    expected = sorted(o["DTSTART"].dt for o in walked)[:MAX_OCCURRENCES_PER_SERIES]
    assert [s.astimezone(UTC) for s in ours] == [s.astimezone(UTC) for s in expected]


def test_invalid_tzids_fall_back_with_a_warning(window: Window) -> None:
    body = calendar(
        vevent("a", ";TZID=Not/AZone:20261201T100000"),
        vevent("b", ';TZID="W. Europe Standard Time":20261201T100000'),
        vevent("c", ";TZID=:20261201T100000"),
        vevent("d", ";TZID=\x07\x1b[31m;X=1:20261201T100000"),
        head="X-WR-TIMEZONE:Europe/Paris\r\n",
    )
    parsed = parse_document(body, Kind.AUTO, window)
    starts = {e.uid: e.start for e in parsed.events}
    paris = dt.datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/Paris"))
    assert set(starts) == {"a", "b", "c", "d"}
    # Unknown names are floating times, in the calendar's zone; Windows names are mapped.
    assert starts["b"] == paris
    assert any("Not/AZone" in w for w in parsed.warnings)


HOSTILE_BYTES = [
    ("nul", b"Conf\x00\xe9rence", "Conf"),
    ("invalid-utf8", b"Caf\xc3\xa9 \xff\xfe solidaire", "solidaire"),
    ("lone-continuation", b"March\x80\x81 \xe9t\xe9", "March"),
]


@pytest.mark.parametrize(("name", "raw", "kept"), HOSTILE_BYTES)
def test_nul_and_invalid_utf8_in_every_format(
    window: Window, name: str, raw: bytes, kept: str
) -> None:
    ics = calendar(vevent("a", ":20261201T100000Z", summary="X")).replace(
        b"SUMMARY:X", b"SUMMARY:" + raw
    )
    rss = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        b'xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel><title>T</title><item>'
        b"<title>" + raw + b"</title><ev:startdate>2026-12-03T18:00:00+01:00</ev:startdate>"
        b"</item></channel></rss>"
    )
    page = (
        b'<html><script type="application/ld+json">{"@type": "Event", "name": "' + raw
        + b'", "startDate": "2026-12-05T10:00"}</script></html>'
    )  # fmt: skip
    for body in (ics, rss, page):
        parsed = parse_document(body, Kind.AUTO, window)
        (event,) = parsed.events
        assert kept in event.title
        assert "\x00" not in event.title and "\ufffd" not in event.title[:4]


def test_external_entities_are_never_resolved(
    window: Window, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/secret").respond_with_data("SECRET-FROM-INSIDE")
    (tmp_path / "secret.txt").write_text("SECRET-ON-DISK")
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
        f' <!ENTITY file SYSTEM "{(tmp_path / "secret.txt").as_uri()}">\n'
        f' <!ENTITY web SYSTEM "{httpserver.url_for("/secret")}">\n]>\n'
        '<rss version="2.0"><channel><title>T</title><item><title>Fête &file;&web;</title>'
        "<description>Le 3 décembre 2026 à 18h</description></item></channel></rss>"
    ).encode()
    parsed = parse_document(body, Kind.AUTO, window)
    (event,) = parsed.events
    assert event.title.startswith("Fête")
    assert "SECRET" not in event.title + event.description
    assert httpserver.log == []  # nothing was fetched


def test_many_vevents_are_capped_per_document(window: Window) -> None:
    from aggregator.parse import ics

    events = (vevent(f"e{n}", ":20261201T100000Z") for n in range(300))
    body = calendar(*events)
    original = ics.MAX_OCCURRENCES
    ics.MAX_OCCURRENCES = 200  # the real cap is 100,000; see the slow test below
    try:
        parsed = parse_document(body, Kind.AUTO, window)
    finally:
        ics.MAX_OCCURRENCES = original
    assert len(parsed.events) == 200
    assert any("200 occurrences" in w for w in parsed.warnings)


@pytest.mark.slow
def test_a_hundred_thousand_vevents(window: Window) -> None:
    day = dt.datetime(2026, 12, 1, tzinfo=UTC)
    events = (
        vevent(f"e{n}", f":{day + dt.timedelta(minutes=n):%Y%m%dT%H%M%SZ}") for n in range(100_001)
    )
    parsed = parse_document(calendar(*events), Kind.AUTO, window)
    assert len(parsed.events) == 100_000
    assert any("100000 occurrences" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00" * 64, b"BEGIN:VCALENDAR\r\n" + b"X" * 10_000, b"\x1f\x8b\x08\x00garbage",
     b"%PDF-1.4 ...", b"{\"events\": []}"],
)  # fmt: skip
def test_unusable_bodies_are_refused_in_words(window: Window, body: bytes) -> None:
    with pytest.raises(ParseError) as raised:
        parse_document(body, Kind.AUTO, window)
    assert str(raised.value)


# --- Through the store to every output --------------------------------------------------

INJECTIONS = [
    "SUMMARY:<img src=x onerror=alert(1)>\"'><script>alert(2)</script> Soirée",
    'DESCRIPTION:<p>Programme <script>alert(3)</script><a href="javascript:alert(4)">ici'
    '</a><a href="&#106;avascript:alert(5)">là</a><svg onload=alert(6)></svg></p>'
    "\\nEND:VEVENT\\nBEGIN:VEVENT\\nSUMMARY:injecté",
    "LOCATION:<b onmouseover=alert(7)>Salle</b>, Gap\\nX-INJECTED:1",
    "URL:javascript:alert(8)",
    "CATEGORIES:<script>alert(9)</script>,ess",
]


def hostile_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    monkeypatch.setenv("AGENDA_SOURCES", str(tmp_path / "sources.toml"))
    (tmp_path / "sources.toml").write_text("")
    from webapp import create_app

    day = dt.date.today() + dt.timedelta(days=2)
    feed = tmp_path / "hostile.ics"
    feed.write_bytes(
        calendar(
            vevent("h1", f":{day:%Y%m%d}T180000Z", *INJECTIONS[1:]).replace(
                "SUMMARY:h1", INJECTIONS[0]
            ),
            vevent(
                "h2",
                f":{day:%Y%m%d}T200000Z",
                "URL: JaVa\tScRiPt:alert(10)",
                "DESCRIPTION:Tarif < 5 € & <gratuit> pour les <moins de 12 ans>",
                summary="Autre <u>soirée</u>",
            ),
        )
    )
    engine = open_engine(db_url)
    (result,) = refresh(engine, [source(id="hostile", url=str(feed))], RefreshOptions())
    assert result.outcome == "ok"
    engine.dispose()
    return create_app()


class Attributes(HTMLParser):
    """Every element, attribute and script body of an HTML document, as a browser sees
    them (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs += [(tag, name, value or "") for name, value in attrs]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def assert_harmless_html(document: str) -> None:
    parser = Attributes()
    parser.feed(document)
    for tag, name, value in parser.attrs:
        assert not name.startswith("on"), (tag, name, value)
        if name in ("href", "src", "action", "formaction", "xlink:href"):
            scheme = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not scheme.startswith(("javascript:", "data:", "vbscript:")), (tag, value)
    for body in parser.scripts:
        assert "alert(" not in body or json.loads(body), body  # only JSON-LD, as data


def test_injection_is_harmless_in_pages_widget_feeds_and_api(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = hostile_app(db_url, tmp_path, monkeypatch)
    client = app.test_client()
    events = client.get("/api/events").get_json()["events"]
    assert len(events) == 2
    assert all(e["url"] is None or e["url"].startswith("http") for e in events)
    # Angle brackets that are not HTML are text, kept as written (and escaped on output).
    texts = {e["description"] for e in events}
    assert "Tarif < 5 € & <gratuit> pour les <moins de 12 ans>" in texts

    pages = ["/", "/embed", "/semaine", "/association/hostile", "/mois"]
    pages += [f"/evenement/{e['id']}" for e in events]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_harmless_html(response.get_data(as_text=True))

    for kind in ("rss", "atom"):
        tree = ElementTree.fromstring(client.get(f"/agenda.{kind}").data)
        texts = [el.text or "" for el in tree.iter() if el.tag.split("}")[-1] in
                 ("description", "summary", "content", "title")]  # fmt: skip
        links = [el.text or el.get("href", "") for el in tree.iter()
                 if el.tag.split("}")[-1] == "link"]  # fmt: skip
        # Readers render RSS descriptions as HTML: what they render must be harmless too.
        for text in texts:
            assert_harmless_html(text)
            assert "<script" not in text.lower() and "<img" not in text.lower(), text
        assert all(link.startswith("http") for link in links), links
        shown = [html.unescape(text) if kind == "rss" else text for text in texts]
        assert any("Tarif < 5 € & <gratuit> pour les <moins" in text for text in shown), shown

    for path in ["/agenda.ics", *(f"/evenement/{e['id']}.ics" for e in events)]:
        body = client.get(path).data
        (parsed,) = icalendar.Calendar.from_ical(body, multiple=True)
        vevents = parsed.walk("VEVENT")
        assert len(vevents) == (2 if path == "/agenda.ics" else 1)
        for item in vevents:
            assert "X-INJECTED" not in item and str(item["URL"]).startswith("http")
        unfolded = body.replace(b"\r\n ", b"").split(b"\r\n")
        assert not any(
            line.startswith((b"X-INJECTED", "SUMMARY:injecté".encode())) for line in unfolded
        )
    app.extensions["engine"].dispose()


# --- Fuzzing the parsers ----------------------------------------------------------------

SEEDS = [p.read_bytes() for folder in ("ics", "feeds", "html")
         for p in sorted((DATA / folder).iterdir()) if p.name != "billion-laughs.xml"]  # fmt: skip
TOKENS = [b"\r\n", b"\n ", b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n", b"END:VCALENDAR", b"RRULE:",
          b"FREQ=SECONDLY;", b";TZID=", b"VALUE=DATE:", b"00010101", b"99991231T235959Z", b":",
          b";", b",", b"\\", b"\x00", b"\xff\xfe", b"\xc3", b"<", b">", b"&", b"&#0;", b"&#55296;",
          b"<![CDATA[", b"]]>", b"<!ENTITY x 'y'>", b"</item>", b"<item>", b"{", b"}", b'"@type"',
          b"startDate", b"2026-13-45T25:61", b"\t", b"\xef\xbb\xbf"]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real document (every fixture) with a few byte-level edits."""
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(body)))
        edit = draw(st.sampled_from(["token", "bytes", "delete", "repeat", "truncate"]))
        if edit == "token":
            body[at:at] = draw(st.sampled_from(TOKENS))
        elif edit == "bytes":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del body[at : at + draw(st.integers(1, 64))]
        elif edit == "repeat":
            body[at:at] = body[at : at + draw(st.integers(1, 200))] * draw(st.integers(2, 5))
        else:
            del body[at:]
    return bytes(body)


def parses_or_refuses(body: bytes) -> None:
    try:
        parsed = parse_document(body, Kind.AUTO, WINDOW)
    except ParseError as exc:
        assert str(exc)  # refused, in words
        return
    for event in parsed.events:
        for text in (event.title, event.description, event.location, event.uid):
            assert "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
        assert event.url is None or event.url.startswith(("http://", "https://"))


def test_a_start_read_as_a_time_of_day_is_no_crash() -> None:
    """Found by the long fuzz run: a line break inside DTSTART ("202612" then "04T…") leaves
    "DTSTART:202612", which icalendar reads as 20:26:12 and writes back as str, not bytes."""
    body = (b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Facebook//EN\nBEGIN:VEVENT\n"
            b"DTSTART:20261203T100000Z\nSUMMARY:Sans UID un\nEND:VEVENT\nBEGIN:VEVENT\n"
            b"DTSTART:202612\r\n04T100000Z\nSUMMARY:Sans UID deux\nEND:VEVENT\n"
            b"END:VCALENDAR\n")  # fmt: skip
    parses_or_refuses(body)
    parsed = parse_document(body, Kind.AUTO, WINDOW)
    assert [e.title for e in parsed.events] == ["Sans UID un"]  # the other has no date


FUZZED_TWO_TZIDS = (
    b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Nextcloud calendar v4.7//EN\nBEGIN:VTIMEZONE\n"
    b"TZID:Europe/Paris\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\n"
    b"TZOFFSETTO:+0100\nRRULE:FREQ=YEARLY\nTZID:BEGIN:STANDARD\nDTSTART:19701025T030000\n"
    b"TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY\nTZID:Europe/Paris\n"
    b"BEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n"
    b"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\nBEGIN:DAYLIGHT\n"
    b"DTSTART:19700329T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"
    b"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nEND:DAYLIGHT\nEND:VTIMEZONE\nBEGIN:VEVENT\n"
    b"UID:atelier-couture@framagenda\nDTSTART;TZID=Europe/Paris:20261202T180000\n"
    b"DTEND;TZID=Europe/Paris:20261202T200000\nSUMMARY:Atelier couture\n"
    b"LOCATION:Local associatif, Gap\nEND:VEVENT\nEND:VCALENDAR\n"
)


def test_a_time_zone_with_two_tzids_is_no_crash() -> None:
    """Found by the long fuzz run: a VTIMEZONE component holding two TZID properties made
    icalendar raise AttributeError (a list has no strip) from inside its parser: the
    refresh failed with an internal error instead of reading the calendar."""
    parses_or_refuses(FUZZED_TWO_TZIDS)
    # The way a generator repeats it: the first TZID counts, the events are read.
    repeated = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VTIMEZONE\nTZID:Europe/Paris\n"
        b"TZID:Europe/Paris\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\n"
        b"TZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nEND:STANDARD\n"
        b"BEGIN:DAYLIGHT\nDTSTART:19700329T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"
        b"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nEND:DAYLIGHT\nEND:VTIMEZONE\n"
        b"BEGIN:VEVENT\nUID:atelier-couture@framagenda\n"
        b"DTSTART;TZID=Europe/Paris:20261202T180000\nSUMMARY:Atelier couture\n"
        b"END:VEVENT\nEND:VCALENDAR\n"
    )
    parsed = parse_document(repeated, Kind.AUTO, WINDOW)
    (event,) = parsed.events
    assert event.title == "Atelier couture"
    assert event.start == dt.datetime(2026, 12, 2, 18, 0, tzinfo=ZoneInfo("Europe/Paris"))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated())
def test_fuzzed_documents_parse_or_are_refused(body: bytes) -> None:
    """A short run in every suite: any exception but ParseError is a bug."""
    parses_or_refuses(body)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("AGENDA_FUZZ_EXAMPLES", "3000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(mutated())
def test_fuzzed_documents_long_run(body: bytes) -> None:
    parses_or_refuses(body)


# --- ICS text escaping ------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("\r\n\t;,:\\\"'<>&=/ "), st.characters(exclude_categories=("Cs",))
    ),
    max_size=120,
).map(scrub)  # what the store can hold: no NUL, controls or surrogates


@settings(max_examples=200, deadline=None)
@given(title=TEXT, location=TEXT, description=TEXT)
def test_ics_text_escaping_round_trips_and_never_adds_a_line(
    title: str, location: str, description: str
) -> None:
    from aggregator.store.read import EventRow, SourceRef
    from webapp.export import calendar as build

    event = EventRow(
        id="e1", uid="e1@agenda", title=title, start=NOW, end=None, all_day=False,
        timezone="Europe/Paris", location=location, territory=None, tags=(),
        sources=(SourceRef("a", "Association", None),), url=None, description=description,
        description_html=None, status="confirmed",
    )  # fmt: skip
    body = build([event], ZoneInfo("Europe/Paris"), "Agenda", lambda e: "https://agenda.example/e1")
    lines = body.split(b"\r\n")
    assert lines[-1] == b""  # every line ends with CRLF...
    assert not any(b"\r" in line or b"\n" in line for line in lines)  # ...and only lines do
    (parsed,) = icalendar.Calendar.from_ical(body, multiple=True)
    assert len(parsed.walk("VEVENT")) == 1
    # Read back as RFC 5545 says, not with icalendar's unescaping, which turns a literal
    # backslash-n or backslash-N of the text into a line break.
    newlines = str.maketrans({"\r": "\n"})
    assert _text_value(body, "SUMMARY") == title.replace("\r\n", "\n").translate(newlines)
    if location:
        expected = location.replace("\r\n", "\n").translate(newlines)
        assert _text_value(body, "LOCATION") == expected
    assert _text_value(body, "DESCRIPTION").startswith(
        description.replace("\r\n", "\n").translate(newlines)
    )


def _text_value(body: bytes, name: str) -> str:
    """A TEXT property of the body's event, unfolded and unescaped by RFC 5545 3.3.11."""
    unfolded = re.sub(r"\r\n[ \t]", "", body.decode())
    (line,) = [x for x in unfolded.split("\r\n") if x.startswith(f"{name}:")]
    escapes = {"\\": "\\", ";": ";", ",": ",", "n": "\n", "N": "\n"}
    return re.sub(r"\\([\\;,nN])", lambda m: escapes[m.group(1)], line[len(name) + 1 :])
