"""The moderation queue of what the public sends: proposed events and offered calendars.

A submission is pending until an admin approves or rejects it; its author may edit it or
cancel it through a signed link (webapp.propose) at any time. Rate limits count the rows
themselves, so they hold across web processes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from aggregator.store.admin import log_action
from aggregator.store.schema import UTCDateTime, blocked_emails, meta, submissions

# One client address or e-mail sends at most this many submissions a day; more is a script.
DAILY_LIMIT = 10
HOURLY_LIMIT = 5


@dataclass(frozen=True)
class Submission:
    id: int
    kind: str  # "event" or "calendar"
    status: str  # pending, approved, rejected, cancelled
    data: dict[str, Any]
    email: str
    created_at: dt.datetime
    updated_at: dt.datetime
    decided_by: str | None
    version: int

    @property
    def was_published(self) -> bool:
        """Approved, or cancelled by its author after approval (subscribers must hear of
        it); a rejection or a cancellation before approval leaves nothing to tell."""
        return self.status == "approved" or (self.status == "cancelled" and bool(self.decided_by))


def _submission(row: Any) -> Submission:
    return Submission(row.id, row.kind, row.status, dict(row.data), row.email, row.created_at,
                      row.updated_at, row.decided_by, row.version)  # fmt: skip


def too_many(engine: sa.Engine, email: str, address: str, now: dt.datetime) -> bool:
    """True when this e-mail or client address already sent its share."""
    with engine.connect() as conn:
        for column, value in ((submissions.c.email, email), (submissions.c.address, address)):
            for limit, period in ((HOURLY_LIMIT, dt.timedelta(hours=1)),
                                  (DAILY_LIMIT, dt.timedelta(days=1))):  # fmt: skip
                count = conn.execute(
                    sa.select(sa.func.count()).where(column == value,
                                                     submissions.c.created_at > now - period)
                ).scalar_one()  # fmt: skip
                if count >= limit:
                    return True
    return False


def add(
    engine: sa.Engine, kind: str, data: dict[str, Any], email: str, address: str,
    now: dt.datetime,
) -> int:  # fmt: skip
    with engine.begin() as conn:
        inserted = conn.execute(
            submissions.insert().values(
                kind=kind, status="pending", data=data, email=email.lower(),
                address=address[:64], created_at=now, updated_at=now, version=1,
            )
        )  # fmt: skip
        key = inserted.inserted_primary_key
        assert key is not None
        return int(key[0])


def get(engine: sa.Engine, submission_id: int) -> Submission | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(submissions).where(submissions.c.id == submission_id))
        found = row.first()
    return _submission(found) if found else None


def queue(engine: sa.Engine, kind: str, status: str = "pending") -> list[Submission]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(submissions)
            .where(submissions.c.kind == kind, submissions.c.status == status)
            .order_by(submissions.c.created_at, submissions.c.id)
        ).all()
    return [_submission(r) for r in rows]


def published(engine: sa.Engine) -> list[Submission]:
    """The proposed events the agenda shows (or shows as cancelled): Submission's
    was_published."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(submissions)
            .where(submissions.c.kind == "event",
                   submissions.c.status.in_(("approved", "cancelled")))
            .order_by(submissions.c.id)
        ).all()  # fmt: skip
    return [s for s in map(_submission, rows) if s.was_published]


def edit(engine: sa.Engine, submission_id: int, data: dict[str, Any], now: dt.datetime) -> None:
    """The author's new values; admins hear of it in their next digest."""
    with engine.begin() as conn:
        conn.execute(
            submissions.update()
            .where(submissions.c.id == submission_id)
            .values(data=data, updated_at=now, version=submissions.c.version + 1,
                    digested_at=None)
        )  # fmt: skip


def cancel(engine: sa.Engine, submission_id: int, now: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(
            submissions.update()
            .where(submissions.c.id == submission_id)
            .values(status="cancelled", updated_at=now, version=submissions.c.version + 1)
        )


# What each decision may follow: an approval needs a pending submission (approving twice
# mails its author twice); a rejection of an approved event withdraws it from the agenda.
DECIDABLE = {"approved": ("pending",), "rejected": ("pending", "approved")}


def decide(engine: sa.Engine, submission_id: int, status: str, who: str, now: dt.datetime) -> bool:
    """An admin's approval or rejection. False when it no longer applies: decided by
    another admin meanwhile, or cancelled by its author."""
    with engine.begin() as conn:
        changed = conn.execute(
            submissions.update()
            .where(submissions.c.id == submission_id,
                   submissions.c.status.in_(DECIDABLE[status]))
            .values(status=status, decided_by=who, updated_at=now,
                    digested_at=sa.func.coalesce(submissions.c.digested_at,
                                                 sa.literal(now, UTCDateTime())))
        ).rowcount  # (an admin who decided needs no digest of it)  # fmt: skip
        if changed:
            log_action(conn, who, status, f"submission:{submission_id}", "", now)
    return bool(changed)


# -- blocked addresses --------------------------------------------------------------------
def is_blocked(engine: sa.Engine, email: str) -> bool:
    with engine.connect() as conn:
        query = sa.select(blocked_emails.c.email).where(blocked_emails.c.email == email.lower())
        return conn.execute(query).first() is not None


def block(engine: sa.Engine, email: str, who: str, now: dt.datetime) -> int:
    """Block an address and reject what it still has pending; returns how many (0 when
    it was blocked already, by this admin or another at the same moment)."""
    try:
        return _block(engine, email.lower(), who, now)
    except sa.exc.IntegrityError:
        return 0


def _block(engine: sa.Engine, email: str, who: str, now: dt.datetime) -> int:
    with engine.begin() as conn:
        if conn.execute(sa.select(blocked_emails).where(blocked_emails.c.email == email)).first():
            return 0
        conn.execute(blocked_emails.insert().values(email=email, blocked_by=who, blocked_at=now))
        rejected = conn.execute(
            submissions.update()
            .where(submissions.c.email == email, submissions.c.status == "pending")
            .values(status="rejected", decided_by=who, updated_at=now)
        ).rowcount
        log_action(conn, who, "block", email, f"{rejected} rejected", now)
    return int(rejected or 0)


def unblock(engine: sa.Engine, email: str, who: str, now: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(blocked_emails.delete().where(blocked_emails.c.email == email.lower()))
        log_action(conn, who, "unblock", email.lower(), "", now)


def blocked(engine: sa.Engine) -> list[tuple[str, str, dt.datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(blocked_emails).order_by(blocked_emails.c.email)).all()
    return [(r.email, r.blocked_by, r.blocked_at) for r in rows]


# -- the admins' digest ---------------------------------------------------------------------
DIGEST_KEY = "digest_sent_at"


def claim_digest(engine: sa.Engine, now: dt.datetime, every: dt.timedelta) -> list[Submission]:
    """What admins have not heard of yet, if the last digest is at least `every` old; the
    slot is taken in the same transaction (a conditional update, or the first digest's
    insert), so two processes never both send one. Empty: nothing new, too soon, or
    another process took it."""
    try:
        return _claim(engine, now, every)
    except sa.exc.IntegrityError:  # the first digest's row, inserted by another process
        return []


def _claim(engine: sa.Engine, now: dt.datetime, every: dt.timedelta) -> list[Submission]:
    with engine.begin() as conn:
        news = conn.execute(
            sa.select(submissions)
            .where(
                submissions.c.digested_at.is_(None),
                submissions.c.status.in_(("pending", "approved")),
            )
            .order_by(submissions.c.id)
        ).all()
        if not news:
            return []
        last = conn.execute(sa.select(meta.c.value).where(meta.c.key == DIGEST_KEY)).scalar()
        stamp = now.isoformat()
        if last is None:
            conn.execute(meta.insert().values(key=DIGEST_KEY, value=stamp))
        else:
            if dt.datetime.fromisoformat(last) > now - every:
                return []
            taken = conn.execute(
                meta.update().where(meta.c.key == DIGEST_KEY, meta.c.value == last)
                .values(value=stamp)
            ).rowcount  # fmt: skip
            if not taken:
                return []
        conn.execute(
            submissions.update()
            .where(submissions.c.id.in_([r.id for r in news]))
            .values(digested_at=now)
        )
    return [_submission(r) for r in news]


def first_occurrence(engine: sa.Engine, source_id: str, uid: str) -> str | None:
    """Public id of a proposed event's first occurrence on the agenda, for links."""
    from aggregator.store.schema import events

    with engine.connect() as conn:
        return conn.execute(
            sa.select(events.c.public_id)
            .where(events.c.source_id == source_id, events.c.uid == uid,
                   events.c.removed_at.is_(None))
            .order_by(events.c.start_at).limit(1)
        ).scalar()  # fmt: skip
