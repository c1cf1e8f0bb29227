"""Admin accounts, login rate limiting, moderation decisions and their log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from aggregator.store import version
from aggregator.store.schema import admin_log, admins, events, login_attempts, moderation

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


class AccountError(ValueError):
    pass


def create_admin(engine: sa.Engine, username: str, password: str, now: dt.datetime) -> None:
    if len(password) < 10:
        raise AccountError("Mot de passe trop court (10 caractères au moins)")
    with engine.begin() as conn:
        exists = conn.execute(sa.select(admins.c.id).where(admins.c.username == username))
        if exists.first():
            raise AccountError(f"Le compte {username!r} existe déjà")
        conn.execute(
            admins.insert().values(
                username=username, password_hash=generate_password_hash(password), created_at=now
            )
        )


def verify_admin(engine: sa.Engine, username: str, password: str) -> bool:
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(admins.c.password_hash).where(admins.c.username == username)
        ).scalar()
    if stored is None:
        check_password_hash(generate_password_hash("x"), password)  # same time either way
        return False
    return check_password_hash(stored, password)


def too_many_failures(engine: sa.Engine, keys: list[str], now: dt.datetime) -> bool:
    with engine.connect() as conn:
        counts = conn.execute(
            sa.select(login_attempts.c.key, sa.func.count())
            .where(login_attempts.c.key.in_(keys), login_attempts.c.at > now - FAILURE_WINDOW)
            .group_by(login_attempts.c.key)
        ).all()
    return any(count >= MAX_FAILURES for _, count in counts)


def record_failure(engine: sa.Engine, keys: list[str], now: dt.datetime) -> None:
    with engine.begin() as conn:
        conn.execute(login_attempts.insert(), [{"key": k, "at": now} for k in keys])
        conn.execute(login_attempts.delete().where(login_attempts.c.at < now - FAILURE_WINDOW))


def clear_failures(engine: sa.Engine, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(login_attempts.delete().where(login_attempts.c.key == key))


def log_action(
    conn: sa.Connection, who: str, action: str, target: str, detail: str, now: dt.datetime
) -> None:
    conn.execute(
        admin_log.insert().values(at=now, who=who, action=action, target=target, detail=detail)
    )


def record(engine: sa.Engine, who: str, action: str, target: str, detail: str = "") -> None:
    with engine.begin() as conn:
        log_action(conn, who, action, target, detail, dt.datetime.now(dt.UTC))


def recent_log(engine: sa.Engine, limit: int = 50) -> list[sa.Row[Any]]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(admin_log).order_by(admin_log.c.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Decision:
    hidden: bool = False
    approved: bool = False
    territory: str | None = None


def decisions(engine: sa.Engine) -> dict[str, Decision]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(moderation)).all()
    return {r.cluster_id: Decision(r.hidden, r.approved, r.territory) for r in rows}


def moderate(
    engine: sa.Engine,
    cluster_id: str,
    who: str,
    now: dt.datetime,
    hidden: bool | None = None,
    approved: bool | None = None,
    territory: str | bool | None = False,  # False: unchanged; None: back to the tagger's
) -> None:
    """Record a decision on a merged event; it holds across refreshes and is logged."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(moderation).where(moderation.c.cluster_id == cluster_id))
        current = row.first()
        values = {
            "hidden": current.hidden if current else False,
            "approved": current.approved if current else False,
            "territory": current.territory if current else None,
            "updated_by": who,
            "updated_at": now,
        }
        changes = []
        if hidden is not None:
            values["hidden"] = hidden
            changes.append("hide" if hidden else "unhide")
        if approved is not None:
            values["approved"] = approved
            changes.append("approve" if approved else "unapprove")
        if territory is not False:
            values["territory"] = territory
            changes.append(f"territory={territory}")
        if current:
            conn.execute(
                moderation.update().where(moderation.c.cluster_id == cluster_id).values(values)
            )
        else:
            conn.execute(moderation.insert().values(cluster_id=cluster_id, **values))
        if territory is not False:
            apply_territory_overrides(conn, cluster_ids=[cluster_id], reset_to=territory)
        version.bump(conn)
        for change in changes:
            log_action(conn, who, change.split("=")[0], cluster_id, change, now)


def apply_territory_overrides(
    conn: sa.Connection, cluster_ids: list[str] | None = None, reset_to: object = False
) -> None:
    """Write the admins' territories onto the occurrences (so filters see them). Called
    after every refresh of a source, in its transaction."""
    chosen = sa.select(moderation.c.cluster_id, moderation.c.territory).where(
        moderation.c.territory.is_not(None)
    )
    if cluster_ids is not None:
        chosen = chosen.where(moderation.c.cluster_id.in_(cluster_ids))
    for cluster_id, territory in conn.execute(chosen).all():
        conn.execute(
            events.update().where(events.c.cluster_id == cluster_id).values(territory=territory)
        )
