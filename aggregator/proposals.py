"""Events proposed by the public, once approved: one more source, built in.

An approved proposal becomes a VEVENT of an ICS document that the pipeline ingests like any
fetched feed (parse, recurrence expansion, normalise, store, dedup against the feeds), for
the source `propositions`. Its territory is the one of the commune chosen in the form, never
a guess. A proposal its author cancels stays in that document as STATUS:CANCELLED, so
subscribers' calendars drop it; one an admin withdraws leaves the document (and reaches
subscribers as a removed event).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from dataclasses import asdict, dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa

from aggregator.model import (
    PROPOSALS_ID,
    FeedFetched,
    FetchOutcome,
    Kind,
    RefreshResult,
    SourceConfig,
)
from aggregator.prepare import prepare
from aggregator.store import write
from aggregator.store.clusters import recluster
from aggregator.store.locks import SourceLocks
from aggregator.store.submissions import Submission, published
from aggregator.territory import gazetteer_rows

SOURCE = SourceConfig(
    id=PROPOSALS_ID,
    name="Proposé sur l'agenda",
    url="proposals:",  # never fetched: the document is built from the store
    kind=Kind.ICS,
)

# Themes a proposer may tick: the tags residents filter on (the feeds' own tags add more).
THEMES = {
    "culture": "Culture",
    "environnement": "Environnement",
    "alimentation": "Alimentation",
    "solidarité": "Solidarité",
    "réemploi": "Réemploi",
    "ess": "Économie sociale et solidaire",
    "éducation": "Éducation populaire",
    "numérique": "Numérique",
    "santé": "Santé",
    "sport": "Sport et plein air",
    "emploi": "Emploi et formation",
    "vie associative": "Vie associative",
}
PUBLISH_PATIENCE = 120.0  # seconds an approval waits for another one being published
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Place:
    insee: str
    name: str
    postcode: str
    territory: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.postcode})"


@functools.cache
def communes() -> dict[str, Place]:
    """The communes a proposal may take place in (the agenda's territories), by INSEE code,
    in alphabetical order: today's communes and the former ones people still name."""
    places = [
        Place(row["insee_code"], row["name"], row["postal_codes"].split(";")[0],
              row["territory_slug"])
        for row in gazetteer_rows()
        if row["type"] in ("commune-actuelle", "commune-deleguee") and row["territory_slug"]
    ]  # fmt: skip
    places.sort(key=lambda p: (p.name.casefold(), p.postcode))
    return {p.insee: p for p in places}


@dataclass(frozen=True)
class Proposal:
    """The form's values once valid: dates are the organiser's local days and times."""

    title: str
    start_date: dt.date
    start_time: dt.time | None  # None: all day
    end_date: dt.date | None
    end_time: dt.time | None
    repeat: str  # "", "weekly", "monthly" (the start's weekday, same rank in the month)
    until: dt.date | None
    place: str
    commune: str  # INSEE code
    description: str
    organiser: str
    link: str | None
    tags: tuple[str, ...]

    @property
    def all_day(self) -> bool:
        return self.start_time is None

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, dt.date | dt.time):
                data[key] = value.isoformat()
        data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Proposal:
        def day(key: str) -> dt.date | None:
            return dt.date.fromisoformat(data[key]) if data.get(key) else None

        def hour(key: str) -> dt.time | None:
            return dt.time.fromisoformat(data[key]) if data.get(key) else None

        start = day("start_date")
        assert start is not None
        return cls(
            title=data["title"], start_date=start, start_time=hour("start_time"),
            end_date=day("end_date"), end_time=hour("end_time"), repeat=data.get("repeat", ""),
            until=day("until"), place=data.get("place", ""), commune=data["commune"],
            description=data.get("description", ""), organiser=data["organiser"],
            link=data.get("link") or None, tags=tuple(data.get("tags", ())),
        )  # fmt: skip


def monthly_rank(day: dt.date) -> str:
    """BYDAY of "the same weekday, same rank": 2TU for the 2nd Tuesday; -1 for a 5th one,
    which not every month has, so "the last" is what organisers mean."""
    rank = (day.day - 1) // 7 + 1
    return f"{-1 if rank == 5 else rank}{WEEKDAYS[day.weekday()]}"


def uid(submission_id: int) -> str:
    return f"proposition-{submission_id}"


def vevent(
    submission: Submission, proposal: Proposal, tz: ZoneInfo, stamp: dt.datetime
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid(submission.id))
    event.add("dtstamp", stamp)
    event.add("sequence", submission.version)
    event.add("summary", proposal.title)
    first, last = proposal.start_date, proposal.end_date or proposal.start_date
    if proposal.start_time is None:
        event.add("dtstart", first)
        event.add("dtend", last + dt.timedelta(days=1))  # exclusive (RFC 5545 3.6.1)
    else:
        event.add("dtstart", dt.datetime.combine(first, proposal.start_time, tz))
        if proposal.end_time is not None:
            event.add("dtend", dt.datetime.combine(last, proposal.end_time, tz))
    if proposal.repeat and proposal.until:
        rule: dict[str, Any] = {"freq": proposal.repeat.upper()}
        if proposal.repeat == "monthly":
            rule["byday"] = monthly_rank(proposal.start_date)
        # UNTIL in UTC for timed events (RFC 5545 3.3.10): the end of that local day.
        rule["until"] = (
            proposal.until
            if proposal.start_time is None
            else dt.datetime.combine(proposal.until, dt.time(23, 59, 59), tz).astimezone(dt.UTC)
        )
        event.add("rrule", rule)
    place = communes().get(proposal.commune)
    where = f"{place.postcode} {place.name}" if place else ""
    event.add("location", ", ".join(p for p in (proposal.place, where) if p))
    text = proposal.description.strip()
    event.add("description", f"{text}\n\nOrganisé par : {proposal.organiser}".strip())
    if proposal.link:
        event.add("url", proposal.link)
    if proposal.tags:
        event.add("categories", list(proposal.tags))
    event.add("status", "CANCELLED" if submission.status == "cancelled" else "CONFIRMED")
    return event


def document(chosen: list[tuple[Submission, Proposal]], tz: ZoneInfo, stamp: dt.datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Agenda ESS 05//propositions//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-timezone", tz.key)
    for submission, proposal in chosen:
        calendar.add_component(vevent(submission, proposal, tz, stamp))
    return calendar.to_ical()


def publish(engine: sa.Engine, options: Any, now: dt.datetime | None = None) -> RefreshResult:
    """Bring the agenda in line with the proposals as they are now (after an approval, an
    edit, a cancellation, a withdrawal), then dedup. `options`: pipeline.RefreshOptions."""
    locks = SourceLocks(engine)  # two admins approving at once write the source in turn
    locks.acquire(PROPOSALS_ID, PUBLISH_PATIENCE)
    try:
        return _publish(engine, options, now or dt.datetime.now(dt.UTC))
    finally:
        locks.close()


def _publish(engine: sa.Engine, options: Any, now: dt.datetime) -> RefreshResult:

    started = time.monotonic()
    tz = ZoneInfo(options.timezone)
    chosen = [(s, Proposal.from_data(s.data)) for s in published(engine)]
    body = document(chosen, tz, now)
    fetched = FeedFetched(PROPOSALS_ID, FetchOutcome.FETCHED, body=body,
                          body_hash=hashlib.sha256(body).hexdigest())  # fmt: skip
    write.sync_sources(engine, [SOURCE], complete=False)
    # Our own document, from validated values with bounded rules: parsed here, no budget.
    prepared = prepare(SOURCE, fetched, options, now)
    if prepared.error is not None:  # would be a bug of `document`
        raise RuntimeError(prepared.error)
    territories = {}
    for submission, proposal in chosen:
        place = communes().get(proposal.commune)
        territories[uid(submission.id)] = place.territory if place else None
    intents = [replace(i, territory=territories.get(i.uid) or i.territory)
               for i in prepared.intents]  # fmt: skip
    window = options.window(now)
    result = write.apply_refresh(engine, fetched, intents, prepared.warnings, prepared.skipped,
                                 window.start, now, time.monotonic() - started)  # fmt: skip
    recluster(engine, window.start, tz, result.touched)  # the days the change falls on
    return result
