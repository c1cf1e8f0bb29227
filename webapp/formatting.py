"""Dates and times as French readers write them: "samedi 6 décembre, 9 h – 16 h 30"."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Flask, current_app, has_request_context
from markupsafe import Markup, escape

from aggregator.store.read import EventRow

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _lang() -> str:
    if not has_request_context():
        return "fr"
    from webapp.i18n import locale

    return locale()


def day_words(day: dt.date, year: bool = False) -> str:
    if _lang() != "fr":
        return format_date(day, "EEEE d MMMM y" if year else "EEEE d MMMM", locale=_lang())
    text = f"{WEEKDAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def time_words(moment: dt.time) -> str:
    if _lang() != "fr":
        return format_time(moment, "h:mm a", locale=_lang())
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


def month_words(day: dt.date) -> str:
    if _lang() != "fr":
        return format_date(day, "MMMM y", locale=_lang())
    return f"{MONTHS[day.month - 1]} {day.year}"


def local_days(event: EventRow, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
    """First and last local day of an event (all-day ends are exclusive midnights)."""
    start = event.start.astimezone(tz)
    if event.end is None:
        return start.date(), start.date()
    end = event.end.astimezone(tz)
    last = (end - dt.timedelta(microseconds=1)).date() if event.all_day else end.date()
    return start.date(), max(start.date(), last)


def when(event: EventRow, tz: ZoneInfo) -> str:
    first, last = local_days(event, tz)
    start = event.start.astimezone(tz)
    if event.all_day:
        if first == last:
            return _("%(day)s, toute la journée", day=day_words(first))
        return _("du %(first)s au %(last)s", first=day_words(first), last=day_words(last))
    if event.end is None:
        return f"{day_words(first)}, {time_words(start.time())}"
    end = event.end.astimezone(tz)
    if first == last:
        return f"{day_words(first)}, {time_words(start.time())} – {time_words(end.time())}"
    return _(
        "du %(first)s au %(last)s",
        first=f"{day_words(first)}, {time_words(start.time())}",
        last=f"{day_words(last)}, {time_words(end.time())}",
    )


def hours(event: EventRow, tz: ZoneInfo) -> str:
    """The short time column of the agenda list."""
    if event.all_day:
        return _("journée")
    start = time_words(event.start.astimezone(tz).time())
    if event.end is None:
        return start
    first, last = local_days(event, tz)
    if first != last:
        return f"{start} →"
    return f"{start} – {time_words(event.end.astimezone(tz).time())}"


def _(text: str, **values: str) -> str:
    """gettext inside a request (pages), the French text outside (feeds built for cache)."""
    if has_request_context():
        from flask_babel import gettext

        return gettext(text, **values)
    return text % values if values else text


def weekday_names() -> list[str]:
    if _lang() != "fr":
        monday = dt.date(2024, 1, 1)
        return [format_date(monday + dt.timedelta(days=n), "EEE", locale=_lang()) for n in range(7)]
    return [name[:3] + "." for name in WEEKDAYS]


# An http(s) address in running text, without the punctuation that ends its sentence.
_URL = re.compile(r"https?://[^\s<>\"']+?(?=[.,;:!?)\]]*(?:\s|$))")


_LINK = Markup('<a href="{0}" rel="nofollow ugc noopener">{0}</a>')


def linked_paragraphs(text: str) -> Markup:
    """Plain text as paragraphs (blank lines) and line breaks, its http(s) addresses made
    links; everything else escaped, so a description never brings markup of its own."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.split("\n"):
            parts, last = [], 0
            for found in _URL.finditer(line):
                parts += [escape(line[last : found.start()]), _LINK.format(found.group())]
                last = found.end()
            parts.append(escape(line[last:]))
            lines.append(Markup("").join(parts))
        paragraphs.append(Markup("<p>{}</p>").format(Markup("<br>").join(lines)))
    return Markup("").join(paragraphs)


def register(app: Flask) -> None:
    from webapp.i18n import locale

    app.jinja_env.filters["day_words"] = day_words
    app.jinja_env.filters["month_words"] = month_words
    app.jinja_env.filters["linked_paragraphs"] = linked_paragraphs
    # An aware moment (UTC in the store) in words, in the display zone: "samedi 4 juillet, 18 h".
    app.jinja_env.filters["moment_words"] = lambda moment, all_day=False: (
        day_words(moment.astimezone(zone()).date())
        + ("" if all_day else ", " + time_words(moment.astimezone(zone()).time()))
    )

    @app.context_processor
    def _context() -> dict[str, object]:
        return {"current_locale": locale(), "weekday_names": weekday_names()}

    app.jinja_env.globals["when"] = lambda e: when(e, zone())
    app.jinja_env.globals["hours"] = lambda e: hours(e, zone())
