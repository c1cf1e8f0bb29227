"""Each quirk of real-world ICS files, pinned by a fixture in tests/data/ics/."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aggregator.model import EventIntent, FeedParsed, Status
from aggregator.normalise import normalise
from aggregator.parse import Window
from aggregator.parse.ics import parse_ics
from tests.conftest import DATA, source

PARIS = ZoneInfo("Europe/Paris")


def parse(name: str, window: Window, base_url: str | None = None) -> FeedParsed:
    return parse_ics((DATA / "ics" / name).read_bytes(), window, base_url)


def intents(name: str, window: Window, **src: object) -> list[EventIntent]:
    parsed = parse(name, window)
    return sorted(normalise(parsed, source(**src), "Europe/Paris"), key=lambda i: i.start)


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS).astimezone(dt.UTC)  # type: ignore[misc]


def test_rrule_with_exdate_rdate_and_period(window: Window) -> None:
    events = intents("recurrence-exdate-rdate.ics", window)
    starts = [e.start for e in events]
    assert starts == [
        paris(2026, 12, 2, 18),
        paris(2026, 12, 5, 10),  # RDATE
        dt.datetime(2026, 12, 12, 9, tzinfo=dt.UTC),  # RDATE;VALUE=PERIOD
        paris(2026, 12, 16, 18),  # 9 December is excluded by EXDATE
        paris(2026, 12, 23, 18),
    ]
    period = events[2]
    assert period.end == dt.datetime(2026, 12, 12, 12, tzinfo=dt.UTC)
    assert len({e.recurrence_id for e in events}) == 5


def test_override_listed_before_its_master(window: Window) -> None:
    events = intents("override-before-master.ics", window)
    assert [(e.title, e.start) for e in events] == [
        ("Chorale", paris(2026, 12, 1, 19)),
        ("Chorale (exceptionnellement jeudi)", paris(2026, 12, 10, 20)),
        ("Chorale", paris(2026, 12, 15, 19)),
    ]
    moved = events[1]
    assert moved.recurrence_id == "20261208T180000Z"  # identity of the original slot


def test_orphaned_override_is_kept_as_an_event(window: Window) -> None:
    events = intents("orphan-override.ics", window)
    assert len(events) == 1
    assert events[0].start == dt.datetime(2026, 12, 15, 10, tzinfo=dt.UTC)
    assert events[0].recurrence_id == "20261215T090000Z"


def test_cancelled_override_master_and_title(window: Window) -> None:
    events = {(e.uid, e.start): e for e in intents("cancelled.ics", window)}
    weekly = [e for (uid, _), e in sorted(events.items()) if uid == "permanence@udess"]
    assert [e.status for e in weekly] == [Status.CONFIRMED, Status.CANCELLED, Status.CONFIRMED]
    assert events[("concert@udess", paris(2026, 12, 20, 20))].status is Status.CANCELLED
    renamed = events[("ag@udess", paris(2026, 12, 21, 18))]
    assert renamed.status is Status.CANCELLED
    assert renamed.title == "Assemblée générale"


def test_duration_and_missing_dtend(window: Window) -> None:
    events = {e.uid: e for e in intents("durations.ics", window)}
    with_duration = events["duration@mobilizon"]
    assert with_duration.end is not None
    assert with_duration.end - with_duration.start == dt.timedelta(minutes=90)
    assert events["no-end-timed@mobilizon"].end is None
    day = events["no-end-date@mobilizon"]
    assert day.all_day and day.start == paris(2026, 12, 5) and day.end == paris(2026, 12, 6)
    festival = events["multi-day@mobilizon"]
    assert festival.start == paris(2026, 12, 11) and festival.end == paris(2026, 12, 14)


@pytest.mark.parametrize(
    ("uid", "day"),
    [
        ("value-date", 5),
        ("tzid-on-date", 6),
        ("eight-digits", 7),
        ("eight-digits-bare", 8),
        ("ms-allday", 9),
    ],
)
def test_all_day_variants(window: Window, uid: str, day: int) -> None:
    event = {e.uid: e for e in intents("all-day.ics", window)}[uid]
    assert event.all_day
    assert event.start == paris(2026, 12, day)
    assert event.end == paris(2026, 12, day + 1)


def test_floating_time_uses_x_wr_timezone(window: Window) -> None:
    (event,) = intents("floating.ics", window)
    montreal = dt.datetime(2026, 12, 3, 10, tzinfo=ZoneInfo("America/Montreal"))
    assert event.start == montreal.astimezone(dt.UTC)
    assert event.timezone == "America/Montreal"


def test_floating_time_uses_source_zone_then_default(window: Window) -> None:
    (default,) = intents("floating-no-zone.ics", window)
    assert default.start == paris(2026, 12, 3, 10)
    (configured,) = intents("floating-no-zone.ics", window, timezone="Europe/London")
    assert configured.start == dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)


def test_google_utc_times_recur_at_local_time_across_dst(window: Window) -> None:
    # 18 March 2027 is in winter time, 1 April after the switch: the local hour stays 10:00.
    events = intents("google-utc-x-wr-timezone.ics", window)
    assert [e.start.astimezone(PARIS).hour for e in events] == [10, 10, 10]
    assert events[-1].start == paris(2027, 4, 1, 10)


def test_outlook_and_odd_tzids(window: Window) -> None:
    parsed = parse("outlook-tzids.ics", window)
    events = {e.uid: e for e in normalise(parsed, source(), "Europe/Paris")}
    assert events["display-name"].start == paris(2026, 12, 3, 10)
    assert events["display-name"].timezone == "Europe/Amsterdam"
    assert events["windows-name"].start == paris(2026, 12, 4, 10)
    assert events["utc-plus-one"].start == dt.datetime(2026, 12, 5, 9, tzinfo=dt.UTC)
    # An unknown name with no VTIMEZONE: local time of the source, and a warning says so.
    assert events["unknown-no-vtimezone"].start == paris(2026, 12, 6, 10)
    assert any("Customized Time Zone" in w for w in parsed.warnings)
    assert events["prefixed"].start == paris(2026, 12, 7, 10)


def test_several_vcalendars_in_one_file(window: Window) -> None:
    titles = [e.title for e in intents("multiple-vcalendars.ics", window)]
    assert titles == ["Premier calendrier", "Second calendrier"]


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("bom-crlf.ics", "Fête de l’été à Briançon"),
        ("lf-only.ics", "Fête de l’été à Briançon"),
        ("cr-only.ics", "Fête de l’été à Briançon"),
        ("fold-inside-utf8.ics", "Fête de l’été à Briançon"),
        ("latin1.ics", "Fête à Briançon"),
        ("cp1252.ics", "L’été – fête"),
    ],
)
def test_encodings_and_line_endings(window: Window, name: str, title: str) -> None:
    (event,) = parse(name, window).events
    assert event.title == title


def test_html_description_is_sanitised_and_flattened(window: Window) -> None:
    events = {e.uid: e for e in parse("html-description.ics", window).events}
    html = events["html@tec"]
    assert html.title == "Café & débat"
    assert html.description.startswith("Venez nombreux\u00a0!") or "Venez nombreux" in (
        html.description
    )
    assert "alert" not in html.description
    assert html.description_html is not None
    assert "<script" not in html.description_html
    assert "javascript:" not in html.description_html
    assert '<a href="https://ex.org" rel="noopener noreferrer nofollow">lien</a>' in (
        html.description_html
    )
    alt = events["altdesc@outlook"]
    assert alt.description == "Texte riche"
    assert alt.description_html == "<p>Texte <em>riche</em></p>"


def test_geo_categories_and_urls(window: Window) -> None:
    parsed = parse("geo-categories-url.ics", window, base_url="https://gancio.example/feed.ics")
    events = {e.uid: e for e in parsed.events}
    assert events["geo-standard"].geo == (44.5594, 6.0786)
    assert events["geo-comma-decimal"].geo == (44.5594, 6.0786)
    assert events["geo-comma-separator"].geo == (44.5594, 6.0786)
    assert events["geo-out-of-range"].geo is None
    assert events["geo-standard"].categories == ("ESS", "Formation", "Jeunesse")
    assert events["geo-standard"].url == "https://gancio.example/event/geo-standard"
    assert events["geo-comma-decimal"].url is None  # javascript: dropped


def test_missing_uid_gets_a_stable_synthetic_one(window: Window) -> None:
    first = [e.uid for e in parse("missing-uid.ics", window).events]
    again = [e.uid for e in parse("missing-uid.ics", window).events]
    assert first == again
    assert len(set(first)) == 2
    assert all(uid.startswith("synth-") for uid in first)


def test_malformed_property_skips_only_that_event(window: Window) -> None:
    parsed = parse("malformed-property.ics", window)
    # An unreadable rule (FREQ=SOMETIMES) keeps its event's first date, like INTERVAL=0.
    assert sorted(e.uid for e in parsed.events) == ["bad-rrule", "good-one", "good-two"]
    assert [e.start.day for e in parsed.events if e.uid == "bad-rrule"] == [6]
    assert len(parsed.warnings) == 3
    assert any("DTEND illisible" in w for w in parsed.warnings)
    assert any("récurrence illisible" in w for w in parsed.warnings)


def test_endless_rrule_is_bounded_with_a_warning(window: Window) -> None:
    parsed = parse("endless-rrule.ics", window)
    minutely = [e for e in parsed.events if e.uid == "every-minute"]
    assert 0 < len(minutely) <= 1000
    assert any("tronquée" in w for w in parsed.warnings)
    assert any(e.uid == "normal" for e in parsed.events)


def test_window_bounds_expansion(window: Window) -> None:
    # Weekly forever from 2026-12-02: occurrences stop at the window's end, a year ahead.
    text = (DATA / "ics" / "recurrence-exdate-rdate.ics").read_text()
    endless = text.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=WEEKLY")
    parsed = parse_ics(endless.encode(), window)
    last = max(e.start for e in parsed.events if isinstance(e.start, dt.datetime))
    assert window.end - dt.timedelta(days=7) <= last < window.end
