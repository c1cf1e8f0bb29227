"""French prose dates: a table of real phrasings, and properties that must hold for any date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.parse.frenchdates import MONTHS, WEEKDAYS, FrenchDate, bounds, extract

REF = dt.date(2026, 11, 24)  # a Tuesday
D, T = dt.date, dt.time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Samedi 5 décembre à 14h", FrenchDate(D(2026, 12, 5), None, T(14))),
        ("Rendez-vous le 6 décembre", FrenchDate(D(2026, 12, 6))),
        ("du 3 au 5 juin 2027", FrenchDate(D(2027, 6, 3), D(2027, 6, 5))),
        ("Du 30 décembre au 2 janvier", FrenchDate(D(2026, 12, 30), D(2027, 1, 2))),
        ("les 30 et 31 mai", FrenchDate(D(2027, 5, 30), D(2027, 5, 31))),
        ("Festival 7-10 août", FrenchDate(D(2027, 8, 7), D(2027, 8, 10))),
        ("Le 1er mars de 14h à 17h", FrenchDate(D(2027, 3, 1), None, T(14), T(17))),
        ("14h30, le 2 décembre", FrenchDate(D(2026, 12, 2), None, T(14, 30))),
        ("de 9 h 30 à 12 h le 5 décembre", FrenchDate(D(2026, 12, 5), None, T(9, 30), T(12))),
        ("Le 12/03/2027 à 20 h 30", FrenchDate(D(2027, 3, 12), None, T(20, 30))),
        ("Soirée 2027-01-15 à 19:00", FrenchDate(D(2027, 1, 15), None, T(19))),
        ("Randonnée de 2h le 4 décembre", FrenchDate(D(2026, 12, 4))),
        ("À partir de 14h le 4 décembre", FrenchDate(D(2026, 12, 4), None, T(14))),
        ("FETE DU 12 DECEMBRE", FrenchDate(D(2026, 12, 12))),
        ("le 24 novembre", FrenchDate(D(2026, 11, 24))),  # today counts as upcoming
        ("le 23 novembre", FrenchDate(D(2027, 11, 23))),  # yesterday: next year
        ("sam. 12 déc. à 10h", FrenchDate(D(2026, 12, 12), None, T(10))),
    ],
)
def test_phrasings(text: str, expected: FrenchDate) -> None:
    assert extract(text, REF) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Assemblée générale 2026",
        "Concert 24h chrono",
        "Merci aux bénévoles !",
        "Le 31 février",
        "Ouvert 7j/7",
        "3/4 des places réservées",
    ],
)
def test_no_date(text: str) -> None:
    assert extract(text, REF) is None


def test_weekday_picks_the_year_that_matches() -> None:
    # 12 March is a Friday in 2027 and a Sunday in 2028: "dimanche 12 mars" is 2028.
    assert extract("dimanche 12 mars", REF) == FrenchDate(D(2028, 3, 12))


def test_weekday_that_matches_no_year_is_flagged() -> None:
    found = extract("samedi 12 mars", REF)
    assert found is not None and found.weekday_mismatch


def test_bounds() -> None:
    assert bounds(FrenchDate(D(2026, 12, 5))) == (D(2026, 12, 5), D(2026, 12, 6))
    assert bounds(FrenchDate(D(2026, 12, 5), D(2026, 12, 7))) == (D(2026, 12, 5), D(2026, 12, 8))
    assert bounds(FrenchDate(D(2026, 12, 5), None, T(14), T(17))) == (
        dt.datetime(2026, 12, 5, 14),
        dt.datetime(2026, 12, 5, 17),
    )


MONTH_NAMES = [n for n, _ in sorted(MONTHS.items(), key=lambda kv: kv[1]) if len(n) > 4]
FULL_MONTHS = {
    1: "janvier", 2: "février", 3: "mars", 4: "avril", 5: "mai", 6: "juin", 7: "juillet",
    8: "août", 9: "septembre", 10: "octobre", 11: "novembre", 12: "décembre",
}  # fmt: skip
DAY_NAMES = {v: k for k, v in WEEKDAYS.items()}


@given(
    day=st.dates(min_value=REF, max_value=REF + dt.timedelta(days=360)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    with_weekday=st.booleans(),
    prefix=st.sampled_from(["", "Atelier ", "Réunion publique — ", "Venez ! "]),
)
def test_any_written_date_is_read_back(
    day: dt.date, hour: int, minute: int, with_weekday: bool, prefix: str
) -> None:
    weekday = f"{DAY_NAMES[day.weekday()]} " if with_weekday else ""
    clock = f"{hour}h{minute:02d}" if minute else f"{hour}h"
    text = f"{prefix}{weekday}{day.day} {FULL_MONTHS[day.month]} à {clock}"
    assert extract(text, REF) == FrenchDate(day, None, T(hour, minute))


@given(st.text(max_size=200))
def test_never_crashes_and_dates_are_valid(text: str) -> None:
    found = extract(text, REF)
    if found is not None:
        assert found.end is None or found.end >= found.start
        assert found.end_time is None or found.start_time is not None
