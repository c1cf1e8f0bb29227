"""Shared fixtures: a real SQLite file and a real PostgreSQL schema per test.

PostgreSQL tests run against AGENDA_TEST_POSTGRES_URL (default: the local server on
127.0.0.1:5432, database `test`). When it is unreachable they are skipped with the reason,
unless AGENDA_REQUIRE_POSTGRES=1 (set by CI), where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator.model import SourceConfig
from aggregator.parse import Window
from aggregator.store import make_engine, migrate

DATA = Path(__file__).parent / "data"
POSTGRES_URL = os.environ.get(
    "AGENDA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Every parse test runs as if today were this day, so the fixtures' dates never go stale.
NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def _postgres_reachable() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_reachable()


@pytest.fixture(autouse=True)
def _own_feed_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built feeds go to a folder of this test's own."""
    monkeypatch.setenv("AGENDA_CACHE_DIR", str(tmp_path / "feed-cache"))
    # Absolute links come from the configured address; Flask's test client says localhost.
    monkeypatch.setenv("AGENDA_BASE_URL", "http://localhost")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_problem: str | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agenda.sqlite3'}"
        return
    if postgres_problem:
        if os.environ.get("AGENDA_REQUIRE_POSTGRES") == "1":
            pytest.fail(postgres_problem)
        pytest.skip(postgres_problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def window() -> Window:
    return Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=365), NOW.date())


def source(**overrides: object) -> SourceConfig:
    values: dict[str, object] = {"id": "asso", "name": "Association test", "url": "/dev/null"}
    values.update(overrides)
    return SourceConfig(**values)  # type: ignore[arg-type]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Keep each phase's report on the test item, so fixtures can see a failure
    (the browser tests take a screenshot then)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
