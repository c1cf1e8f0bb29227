"""A bounded load test under gunicorn (slow: `make test-all`): 50 connections for 30 s on
the agenda page, /api/events and /agenda.ics, on SQLite and PostgreSQL; no error allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import PATHS, drive, gunicorn
from bench.web import populate


@pytest.mark.slow
def test_fifty_connections_for_thirty_seconds_without_an_error(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(db_url, sources=200, per_source=25)
    with gunicorn(db_url, tmp_path) as base:
        results = drive(base, PATHS, seconds=30, connections=50)
    with capsys.disabled():
        print(f"\nload, {db_url.split(':')[0]}:")
        for path in PATHS:
            print(results[path].line(path, 30))
    for path in PATHS:
        assert results[path].errors == [], (path, results[path].errors[:5])
        assert len(results[path].latencies) >= 50, path  # every URL was really exercised
