"""Dates and times as French readers write them: "samedi 6 décembre, 9 h – 16 h 30"."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, current_app

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


def day_words(day: dt.date, year: bool = False) -> str:
    text = f"{WEEKDAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def time_words(moment: dt.time) -> str:
    return f"{moment.hour} h {moment.minute:02d}" if moment.minute else f"{moment.hour} h"


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
            return f"{day_words(first)}, toute la journée"
        return f"du {day_words(first)} au {day_words(last)}"
    if event.end is None:
        return f"{day_words(first)}, {time_words(start.time())}"
    end = event.end.astimezone(tz)
    if first == last:
        return f"{day_words(first)}, {time_words(start.time())} – {time_words(end.time())}"
    return (
        f"du {day_words(first)}, {time_words(start.time())} "
        f"au {day_words(last)}, {time_words(end.time())}"
    )


def hours(event: EventRow, tz: ZoneInfo) -> str:
    """The short time column of the agenda list."""
    if event.all_day:
        return "journée"
    start = time_words(event.start.astimezone(tz).time())
    if event.end is None:
        return start
    first, last = local_days(event, tz)
    if first != last:
        return f"{start} →"
    return f"{start} – {time_words(event.end.astimezone(tz).time())}"


def register(app: Flask) -> None:
    app.jinja_env.filters["day_words"] = day_words
    app.jinja_env.globals["when"] = lambda e: when(e, zone())
    app.jinja_env.globals["hours"] = lambda e: hours(e, zone())
