"""Territory tagging: accuracy on the labelled set, and the rules one by one."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.territory import load_gazetteer, tag_territory, tokens
from tests.conftest import DATA

GAZETTEER = load_gazetteer()
REQUIRED_ACCURACY = 0.98


def labelled() -> list[dict[str, str]]:
    with (DATA / "territory-labelled.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_accuracy_on_the_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    rows = labelled()
    assert len(rows) >= 300
    misses = []
    for row in rows:
        guess = tag_territory(row["location"], GAZETTEER)
        if (guess.slug or "") != row["territory"]:
            misses.append(f"{row['location']!r}: {guess.slug} ({guess.reason}), "
                          f"expected {row['territory'] or None}")  # fmt: skip
    accuracy = 1 - len(misses) / len(rows)
    with capsys.disabled():
        print(f"\nterritory tagging accuracy: {accuracy:.1%} on {len(rows)} labelled locations")
        for miss in misses:
            print(f"  miss: {miss}")
    assert accuracy >= REQUIRED_ACCURACY, misses


def test_source_default_applies_only_when_nothing_is_found() -> None:
    assert tag_territory("Salle des fêtes", GAZETTEER, default="buech-devoluy").slug == (
        "buech-devoluy"
    )
    assert tag_territory("Embrun", GAZETTEER, default="buech-devoluy").slug == "serre-poncon"


def test_homonym_without_code_prefers_the_source_default() -> None:
    guess = tag_territory("Sigoyer", GAZETTEER, default="sisteronais-buech")
    assert guess.slug == "sisteronais-buech"
    assert tag_territory("Sigoyer", GAZETTEER).slug == "gap-tallard-durance"  # larger one


def test_geo_outside_the_area() -> None:
    assert tag_territory("", GAZETTEER, geo=(45.19, 5.72)).slug == "hors-territoire"  # Grenoble
    assert tag_territory("", GAZETTEER, geo=(44.56, 6.08)).slug is None  # Gap: no commune data


def test_online_from_the_title_when_no_place() -> None:
    assert tag_territory("", GAZETTEER, title="Webinaire : les SCIC").slug == "en-ligne"
    assert tag_territory("Gap", GAZETTEER, title="Webinaire").slug == "gap-tallard-durance"


def test_aliases_from_sources_toml() -> None:
    gazetteer = load_gazetteer({"Ferme de Pré Rond": "champsaur-valgaudemar"})
    assert tag_territory("Ferme de Pré-Rond", gazetteer).slug == "champsaur-valgaudemar"
    assert tag_territory("Ferme de Pré-Rond", GAZETTEER).slug is None


def test_tokens() -> None:
    assert tokens("St-Étienne-le-Laus") == ("saint", "etienne", "le", "laus")
    assert tokens("L’Argentière") == ("l", "argentiere")


@given(st.text(max_size=120))
def test_never_crashes_and_answers_a_known_slug(text: str) -> None:
    from aggregator.territories import TERRITORIES

    guess = tag_territory(text, GAZETTEER)
    assert guess.slug is None or guess.slug in TERRITORIES


@given(st.sampled_from(sorted({r["name"] for r in csv.DictReader(
    (DATA.parent.parent / "aggregator/data/communes-territoires.csv").open(encoding="utf-8"))
    if r["name"] != "Sigoyer"})))  # fmt: skip
def test_every_commune_in_an_address_is_found(name: str) -> None:
    rows = csv.DictReader(
        (DATA.parent.parent / "aggregator/data/communes-territoires.csv").open(encoding="utf-8")
    )
    expected = {r["territory_slug"] for r in rows if r["name"] == name}
    guess = tag_territory(f"12 rue de la Paix, {name}", GAZETTEER)
    assert guess.slug in expected


def test_tag_events_answers_once_per_place_but_reads_titles_without_one() -> None:
    """A source's events at one venue share the answer; events with no place are told
    apart by their titles (the answer is kept per place, and per title only there)."""
    import datetime as dt

    from aggregator.model import EventIntent
    from aggregator.territory import tag_events

    def event(uid: str, title: str, location: str) -> EventIntent:
        return EventIntent(source_id="s", uid=uid, recurrence_id="", title=title,
                           start=dt.datetime(2027, 1, 5, 18, tzinfo=dt.UTC), end=None,
                           all_day=False, timezone="Europe/Paris", location=location)  # fmt: skip

    tagged = tag_events(
        [event("1", "Webinaire : les SCIC", ""), event("2", "Atelier", ""),
         event("3", "Webinaire", "Gap"), event("4", "Atelier", "Gap"),
         event("5", "Réunion en visio", " — "), event("6", "Réunion", " — ")],
        GAZETTEER, None,
    )  # fmt: skip
    assert [e.territory for e in tagged] == [
        "en-ligne", None, "gap-tallard-durance", "gap-tallard-durance", "en-ligne", None,
    ]  # fmt: skip
