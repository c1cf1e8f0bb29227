"""Admin accounts, login rate limiting, moderation decisions and their log."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from aggregator.store import version
from aggregator.store.locks import advisory_key
from aggregator.store.schema import (
    admin_log,
    admin_sessions,
    admins,
    events,
    login_attempts,
    moderation,
)

MAX_FAILURES = 5  # attempts per key in the window; the next ones are refused unchecked
LOGIN_LOCKS = 0x0A6E_DA07  # pg_advisory_xact_lock namespace of login attempt counting
FAILURE_WINDOW = dt.timedelta(minutes=15)


class AccountError(ValueError):
    pass


def create_admin(engine: sa.Engine, username: str, password: str, now: dt.datetime) -> None:
    _check_password(password)
    with engine.begin() as conn:
        exists = conn.execute(sa.select(admins.c.id).where(admins.c.username == username))
        if exists.first():
            raise AccountError(f"Le compte {username!r} existe déjà")
        conn.execute(
            admins.insert().values(
                username=username, password_hash=generate_password_hash(password), created_at=now
            )
        )


SESSION_LIFETIME = dt.timedelta(hours=12)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(engine: sa.Engine, username: str, now: dt.datetime) -> str:
    """A new session for a logged-in admin: the token goes into the (signed) cookie, only
    its digest into the database."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(admin_sessions.delete().where(admin_sessions.c.expires_at < now))
        conn.execute(admin_sessions.insert().values(
            id=_digest(token), username=username, created_at=now,
            expires_at=now + SESSION_LIFETIME))  # fmt: skip
    return token


def session_user(engine: sa.Engine, token: str | None, now: dt.datetime) -> str | None:
    """The account a session belongs to, if the session and the account still exist."""
    if not token or not isinstance(token, str):
        return None
    query = (
        sa.select(admin_sessions.c.username)
        .join(admins, admins.c.username == admin_sessions.c.username)
        .where(admin_sessions.c.id == _digest(token), admin_sessions.c.expires_at > now)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def end_session(engine: sa.Engine, token: str | None) -> None:
    if token and isinstance(token, str):
        with engine.begin() as conn:
            conn.execute(admin_sessions.delete().where(admin_sessions.c.id == _digest(token)))


def end_sessions(conn: sa.Connection, username: str) -> int:
    deleted = conn.execute(admin_sessions.delete().where(admin_sessions.c.username == username))
    return int(deleted.rowcount or 0)


def set_password(engine: sa.Engine, username: str, password: str) -> int:
    """A new password ends every session of the account; returns how many."""
    _check_password(password)
    with engine.begin() as conn:
        changed = conn.execute(admins.update().where(admins.c.username == username)
                               .values(password_hash=generate_password_hash(password)))  # fmt: skip
        if not changed.rowcount:
            raise AccountError(f"Aucun compte {username!r}")
        return end_sessions(conn, username)


def remove_admin(engine: sa.Engine, username: str) -> None:
    with engine.begin() as conn:
        deleted = conn.execute(admins.delete().where(admins.c.username == username))
        if not deleted.rowcount:
            raise AccountError(f"Aucun compte {username!r}")
        end_sessions(conn, username)


def list_admins(engine: sa.Engine, now: dt.datetime) -> list[tuple[str, dt.datetime, int]]:
    """(username, created, open sessions) for every account."""
    sessions = (
        sa.select(sa.func.count())
        .where(admin_sessions.c.username == admins.c.username, admin_sessions.c.expires_at > now)
        .scalar_subquery()
    )
    query = sa.select(admins.c.username, admins.c.created_at, sessions).order_by("username")
    with engine.connect() as conn:
        return [(r[0], r[1], int(r[2])) for r in conn.execute(query)]


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise AccountError("Mot de passe trop court (10 caractères au moins)")


def verify_admin(engine: sa.Engine, username: str, password: str) -> bool:
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(admins.c.password_hash).where(admins.c.username == username)
        ).scalar()
    if stored is None:
        check_password_hash(generate_password_hash("x"), password)  # same time either way
        return False
    return check_password_hash(stored, password)


def reserve_attempt(engine: sa.Engine, keys: list[str], now: dt.datetime) -> bool:
    """Count this login attempt *before* the password is checked, atomically: True when
    every key (the client's address, the account) is still under MAX_FAILURES attempts in
    the window. Counting after the check let a burst of parallel guesses all be checked.

    The attempt's rows are written first, in the transaction that counts them: SQLite then
    holds its write lock, so concurrent attempts queue; PostgreSQL takes a transaction
    advisory lock per key first, for the same effect."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for key in sorted(keys):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:a, :b)"),
                             {"a": LOGIN_LOCKS, "b": advisory_key(key)})  # fmt: skip
        conn.execute(login_attempts.insert(), [{"key": k, "at": now} for k in keys])
        counts = conn.execute(
            sa.select(login_attempts.c.key, sa.func.count())
            .where(login_attempts.c.key.in_(keys), login_attempts.c.at > now - FAILURE_WINDOW)
            .group_by(login_attempts.c.key)
        ).all()
        stale = login_attempts.c.at < now - FAILURE_WINDOW
        mine = login_attempts.c.key.like("ip:%") | login_attempts.c.key.like("user:%")
        conn.execute(login_attempts.delete().where(stale & mine))
    return all(count <= MAX_FAILURES for _, count in counts)


def clear_failures(engine: sa.Engine, keys: list[str]) -> None:
    """After a successful login: the account and its address start afresh."""
    with engine.begin() as conn:
        conn.execute(login_attempts.delete().where(login_attempts.c.key.in_(keys)))


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


def throttle(
    engine: sa.Engine, key: str, limit: int, period: dt.timedelta, now: dt.datetime
) -> bool:
    """Count one use of `key` (e.g. 'preview:<address>'); False once it is over `limit` in
    `period`. Shared by the web processes through the login_attempts table."""
    with engine.begin() as conn:
        conn.execute(
            login_attempts.delete().where(
                login_attempts.c.key == key, login_attempts.c.at < now - period
            )
        )
        conn.execute(login_attempts.insert().values(key=key, at=now))
        count = conn.execute(
            sa.select(sa.func.count()).where(login_attempts.c.key == key)
        ).scalar_one()
    return int(count) <= limit
