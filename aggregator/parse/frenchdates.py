"""Event dates written in French prose: "samedi 12 mars à 14h", "du 3 au 5 juin 2025",
"les 30 et 31 mai", "7-10 août", "de 14h à 17h", "1er mars".

Blog posts and Facebook-style feeds carry the event date only in their text. Without a year the
next matching date on or after the reference (the post's date, else today) is taken, checked
against the weekday when one is written ("samedi 12 mars" is the next 12 March that is a
Saturday, within two years).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
}

_MONTH = r"(?P<{}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WD = r"(?:(?P<{}>" + "|".join(WEEKDAYS) + r")\s+)?"
_DAY = r"(?P<{}>[0-3]?\d)(?:er)?"
_YEAR = r"(?:\s+(?P<{}>20\d\d))?"


def _p(template: str, *names: str) -> str:
    return template.format(*names)


_RANGE = re.compile(
    r"\bdu\s+"
    + _p(_WD, "wd1")
    + _p(_DAY, "d1")
    + r"(?:\s+"
    + _p(_MONTH, "m1")
    + r")?"
    + _p(_YEAR, "y1")
    + r"\s+au\s+"
    + _p(_WD, "wd2")
    + _p(_DAY, "d2")
    + r"\s+"
    + _p(_MONTH, "m2")
    + _p(_YEAR, "y2")
    + r"\b"
)
_PAIR = re.compile(
    r"\bles\s+"
    + _p(_WD, "wd1")
    + _p(_DAY, "d1")
    + r"(?:\s+"
    + _p(_MONTH, "m1")
    + r")?"
    + r"(?:\s*,\s*[0-3]?\d)*\s+et\s+"
    + _p(_WD, "wd2")
    + _p(_DAY, "d2")
    + r"\s+"
    + _p(_MONTH, "m2")
    + _p(_YEAR, "y2")
    + r"\b"
)
_SPAN = re.compile(
    r"\b"
    + _p(_DAY, "d1")
    + r"\s*(?:-|–|au)\s*"
    + _p(_DAY, "d2")
    + r"\s+"
    + _p(_MONTH, "m2")
    + _p(_YEAR, "y2")
    + r"\b"
)
_SINGLE = re.compile(
    r"\b"
    + _p(_WD, "wd1")
    + r"(?:le\s+)?"
    + _p(_DAY, "d1")
    + r"\s+"
    + _p(_MONTH, "m1")
    + _p(_YEAR, "y1")
    + r"\b"
)
_NUMERIC = re.compile(r"\b(?P<d1>[0-3]?\d)[/.](?P<m1>[01]?\d)[/.](?P<y1>20\d\d)\b")
_ISO = re.compile(r"\b(?P<y1>20\d\d)-(?P<m1>[01]\d)-(?P<d1>[0-3]\d)\b")

_TIME = r"(?P<{0}h>[0-2]?\d)\s*(?:h|:(?=\d\d))\s*(?P<{0}m>[0-5]\d)?"
_TIME_RANGE = re.compile(
    r"(?:\bde\s+)?"
    + _TIME.format("a")
    + r"\s*(?:-|–|à|a|jusqu'?à)\s*"
    + _TIME.format("b")
    + r"(?!\s*(?:min|de\s+(?:route|marche|trajet)))"
)
_TIME_SINGLE = re.compile(
    r"(?<![\w-])"
    + _TIME.format("a")
    + r"(?![\w]|\s*(?:min|de\s+(?:route|marche|trajet|jeu|atelier)))"
)

_DURATION_BEFORE = re.compile(r"(?:\bde|pendant|duree|environ|en)\s+$")


@dataclass(frozen=True)
class FrenchDate:
    start: dt.date
    end: dt.date | None = None  # last day, inclusive, for multi-day events
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    weekday_mismatch: bool = False  # the written weekday fits neither the year nor the next two


def fold(text: str) -> str:
    """Lower case, no accents, plain spaces: what the patterns are written against."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped.lower())


def _month(name: str | None) -> int | None:
    return MONTHS.get(name.rstrip(".")) if name else None


def _resolve(
    day: int, month: int, year: int | None, weekday: int | None, reference: dt.date
) -> tuple[dt.date, bool] | None:
    """The date meant, and whether an explicit year contradicts the weekday."""
    if year is not None:
        try:
            date = dt.date(year, month, day)
        except ValueError:
            return None
        return date, weekday is not None and date.weekday() != weekday
    candidates = []
    for y in (reference.year, reference.year + 1, reference.year + 2):
        try:
            candidates.append(dt.date(y, month, day))
        except ValueError:
            continue  # 29 February
    upcoming = [c for c in candidates if c >= reference]
    if weekday is not None:
        matching = [c for c in upcoming if c.weekday() == weekday]
        if matching:
            return matching[0], False
        return (upcoming[0], True) if upcoming else None
    return (upcoming[0], False) if upcoming else None


def _wd(match: re.Match[str], name: str) -> int | None:
    value = match.groupdict().get(name)
    return WEEKDAYS[value] if value else None


def _int(match: re.Match[str], name: str) -> int | None:
    value = match.groupdict().get(name)
    return int(value) if value else None


def _dates(text: str, reference: dt.date) -> tuple[FrenchDate, int] | None:
    """The first date or range found, with where it ends in the text."""
    for pattern in (_RANGE, _PAIR, _SPAN):
        for match in pattern.finditer(text):
            m2 = _month(match.group("m2"))
            m1 = _month(match.groupdict().get("m1")) or m2
            d1, d2 = int(match.group("d1")), int(match.group("d2"))
            y2 = _int(match, "y2")
            y1 = _int(match, "y1") or (y2 - 1 if y2 and m1 and m2 and m1 > m2 else y2)
            if m1 is None or m2 is None:
                continue
            first = _resolve(d1, m1, y1, _wd(match, "wd1"), reference)
            if first is None:
                continue
            end_year = y2 or (first[0].year + (1 if m2 < m1 else 0))
            last = _resolve(d2, m2, end_year, None, reference)
            if last is None or last[0] < first[0] or (last[0] - first[0]).days > 92:
                continue
            return FrenchDate(first[0], last[0], weekday_mismatch=first[1]), match.end()
    for match in _SINGLE.finditer(text):
        month = _month(match.group("m1"))
        if month is None:
            continue
        found = _resolve(
            int(match.group("d1")), month, _int(match, "y1"), _wd(match, "wd1"), reference
        )
        if found:
            return FrenchDate(found[0], weekday_mismatch=found[1]), match.end()
    for pattern in (_ISO, _NUMERIC):
        for match in pattern.finditer(text):
            found = _resolve(
                int(match.group("d1")),
                int(match.group("m1")),
                int(match.group("y1")),
                None,
                reference,
            )
            if found:
                return FrenchDate(found[0]), match.end()
    return None


def _time(hours: str | None, minutes: str | None) -> dt.time | None:
    if hours is None:
        return None
    h, m = int(hours), int(minutes or 0)
    if h > 23:
        return None
    return dt.time(h, m)


def _times(text: str) -> tuple[dt.time | None, dt.time | None]:
    match = _TIME_RANGE.search(text)
    if match:
        start = _time(match.group("ah"), match.group("am"))
        end = _time(match.group("bh"), match.group("bm"))
        if start and end:
            return start, end if end > start else None
    for single in _TIME_SINGLE.finditer(text):
        before = text[max(0, single.start() - 12) : single.start()]
        # "randonnée de 2h", "pendant 3h": a duration; "à partir de 14h": a start.
        if _DURATION_BEFORE.search(before) and not before.endswith("partir de "):
            continue
        return _time(single.group("ah"), single.group("am")), None
    return None, None


def extract(text: str, reference: dt.date) -> FrenchDate | None:
    """The event date written in `text`, or None. Times are searched after the date first."""
    folded = fold(text)
    found = _dates(folded, reference)
    if found is None:
        return None
    date, end_at = found
    start_time, end_time = _times(folded[end_at : end_at + 80])
    if start_time is None:
        start_time, end_time = _times(folded)
    return FrenchDate(date.start, date.end, start_time, end_time, date.weekday_mismatch)


def bounds(
    found: FrenchDate,
) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime | None]:
    """(start, end) as EventParsed wants them: dates with an exclusive end for all-day
    events, naive (floating) datetimes otherwise."""
    last = found.end or found.start
    if found.start_time is None:
        return found.start, last + dt.timedelta(days=1)
    start = dt.datetime.combine(found.start, found.start_time)
    end = dt.datetime.combine(last, found.end_time) if found.end_time else None
    return start, end
