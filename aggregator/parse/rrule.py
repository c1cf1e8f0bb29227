"""Keep recurrence expansion bounded in time, not only in count.

dateutil (under recurring-ical-events) walks every occurrence from DTSTART, so an hourly rule
begun in 1900, a minutely one begun in 2000 or any secondly rule takes minutes to reach the
window even when only 1,000 occurrences are kept. Before expansion we therefore:

- drop FREQ=SECONDLY and several BYSECOND values (no community event repeats every second):
  the first date is kept;
- move DTSTART of a fixed-period rule (SECONDLY to WEEKLY) that starts far before the window
  forward by a whole number of periods, which yields exactly the same occurrences inside the
  window (dateutil steps in wall time, so do we);
- skip a far-started rule with a huge COUNT, whose position in the series cannot be known
  without walking it;
- refuse rules dateutil cannot expand in bounded time at all (INTERVAL=0, a product of BY
  parts in the thousands), keeping the first date.
MONTHLY and YEARLY rules have at most 12 periods a year and are never slow. The period is
returned too: `expand` asks for a short horizon first when a rule repeats within a day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from dateutil.rrule import rrulestr
from icalendar.prop import vRecur

from aggregator.parse import Window

PERIOD = {
    "SECONDLY": dt.timedelta(seconds=1),
    "MINUTELY": dt.timedelta(minutes=1),
    "HOURLY": dt.timedelta(hours=1),
    "DAILY": dt.timedelta(days=1),
    "WEEKLY": dt.timedelta(weeks=1),
}
MAX_PERIODS_BEFORE_WINDOW = 5_000  # walking this many periods costs a few milliseconds
MAX_COUNT = 100_000
# Instants one period of a rule may hold (the product of its BY parts' sizes). Real agendas
# stay far below ("Mon-Fri at 9 and 14": 10; "every day of the year": 372); a product in the
# hundreds of thousands costs dateutil seconds and hundreds of MB per series.
MAX_BY_PRODUCT = 1_000
BY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE",
            "BYSECOND", "BYSETPOS")  # fmt: skip


class Unbounded(ValueError):
    """The series cannot be expanded in bounded time."""


class Bounded(NamedTuple):
    step: dt.timedelta | None  # the rule's period x interval, when fixed
    warning: str | None = None


def bound_recurrence(component: Any, window: Window, title: str) -> Bounded:
    """Rewrite `component` (a VEVENT master) in place so that it expands quickly."""
    rules = component.get("RRULE")
    start_prop = component.get("DTSTART")
    if rules is None or start_prop is None:
        return Bounded(None)
    rules = rules if isinstance(rules, list) else [rules]
    start = start_prop.dt
    invalid = next((reason for rule in rules if (reason := _invalid(rule))), None)
    if invalid:
        # dateutil loops forever on INTERVAL=0 and explodes on huge BY products: the rule
        # is not expanded at all, the first date is kept.
        del component["RRULE"]
        return Bounded(None, f"« {title} » : règle de récurrence refusée ({invalid}), "
                             "seule la première date est gardée")  # fmt: skip
    if any(_every_second(rule) for rule in rules):
        del component["RRULE"]
        note = f"« {title} » : récurrence à la seconde ignorée, seule la première date est gardée"
        return Bounded(None, note)
    if len(rules) != 1:
        return Bounded(None)
    rule = rules[0]
    period = PERIOD.get(str(_first(rule, "FREQ") or "").upper())
    if period is None:
        return Bounded(None)
    step = period * max(1, int(_first(rule, "INTERVAL") or 1))
    if not isinstance(start, dt.datetime) and step < PERIOD["DAILY"]:
        return Bounded(step)  # an hourly rule on a date is too odd to rewrite safely
    lag = _as_utc(window.start) - _as_utc(start)
    periods = lag // step if lag > dt.timedelta(0) else 0
    if periods <= MAX_PERIODS_BEFORE_WINDOW:
        return Bounded(step)
    if _first(rule, "COUNT") is not None:
        if int(_first(rule, "COUNT")) > MAX_COUNT:
            raise Unbounded(f"COUNT={_first(rule, 'COUNT')} depuis {start:%Y}")
        return Bounded(step)  # COUNT bounds the walk
    shift = step * (periods - 1)  # stay one period early: occurrences may last into the window
    _move(component, "DTSTART", shift)
    if component.get("DTEND") is not None:
        _move(component, "DTEND", shift)
    moved = component["DTSTART"]
    if not _is_instance(rule, moved.dt):
        # RFC 5545 counts DTSTART as an instance even when the rule would not give it (a
        # Sunday start of a Monday/Thursday rule): moved next to the window, it would be an
        # occurrence the publisher never had.
        component.add("EXDATE", moved.dt, parameters=dict(moved.params) or None)
    return Bounded(step)


def _is_instance(rule: Any, start: dt.date) -> bool:
    """Whether the rule itself, started at `start`, gives `start` (in wall time)."""
    probe = vRecur({k: v for k, v in rule.items() if k not in ("UNTIL", "COUNT")})
    naive = (
        start.replace(tzinfo=None)
        if isinstance(start, dt.datetime)
        else dt.datetime.combine(start, dt.time())
    )
    try:
        first = next(iter(rrulestr(probe.to_ical().decode(), dtstart=naive)), None)
    except (ValueError, TypeError, OverflowError):
        return True  # a rule dateutil cannot read: leave DTSTART as the publisher wrote it
    return first == naive


def _invalid(rule: Any) -> str | None:
    """Why a rule must not be expanded (RFC 5545 3.3.10: INTERVAL is a positive integer)."""
    interval = _first(rule, "INTERVAL")
    if interval is not None:
        try:
            if int(interval) < 1:
                return f"INTERVAL={interval}"
        except (TypeError, ValueError):
            return f"INTERVAL={interval}"
    product = 1
    for part in BY_PARTS:
        values = rule.get(part)
        if values:
            product *= len(values) if isinstance(values, list) else 1
    if product > MAX_BY_PRODUCT:
        return f"{product} instants par période"
    return None


def _every_second(rule: Any) -> bool:
    seconds = rule.get("BYSECOND") or []
    return _first(rule, "FREQ") == "SECONDLY" or (isinstance(seconds, list) and len(seconds) > 1)


def _first(rule: Any, key: str) -> Any:
    values = rule.get(key)
    if isinstance(values, list):
        return values[0] if values else None
    return values


def _as_utc(value: dt.date) -> dt.datetime:
    """Dates and floating times are compared as if in UTC: only the order of magnitude of
    the lag matters here."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    return dt.datetime.combine(value, dt.time(), dt.UTC)


def _move(component: Any, name: str, shift: dt.timedelta) -> None:
    prop = component[name]
    value = prop.dt
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # Wall-time arithmetic, like dateutil's own stepping, then the same zone again.
        moved: dt.date = (value.replace(tzinfo=None) + shift).replace(tzinfo=value.tzinfo)
    else:
        moved = value + shift
    params = dict(prop.params)
    del component[name]
    component.add(name, moved, parameters=params or None)
