"""Storage behind one package: SQLAlchemy Core on SQLite (WAL) or PostgreSQL.

Schema in schema.py, versioned migrations in aggregator/migrations (Alembic), writes in
write.py (one transaction per source refresh), reads in read.py (what the web app uses).
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web read while a refresh writes; busy_timeout waits out the writer
    # instead of failing with "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest version (idempotent; run on every start)."""
    database = make_url(str(engine.url)).database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        # Processes starting together would all see "no schema" and create it twice.
        with open(f"{database}.migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            _upgrade(engine)
    else:
        _upgrade(engine)


def _upgrade(engine: sa.Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Web workers and replicas start together: one migrates, the others wait.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(20260524)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_engine(url: str, **kwargs: Any) -> sa.Engine:
    engine = make_engine(url, **kwargs)
    migrate(engine)
    return engine


def analyze(engine: sa.Engine) -> None:
    """Fresh planner statistics after a large change: without them PostgreSQL keeps
    scanning the whole table for agenda pages until autovacuum gets round to it."""
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE events" if engine.dialect.name == "postgresql"
                                   else "ANALYZE"))  # fmt: skip
