"""The `aggregator` command: output lines and exit codes (the public contract)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from aggregator.cli import main
from aggregator.demo import write_demo
from aggregator.settings import SETTINGS

ROOT = Path(__file__).parent.parent


def run(args: list[str], tmp_path: Path, sources: str) -> tuple[int, str]:
    (tmp_path / "sources.toml").write_text(sources)
    env = {
        "AGENDA_SOURCES": str(tmp_path / "sources.toml"),
        "AGENDA_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "AGENDA_SECRET_KEY": "x",
        "AGENDA_ALLOW_HOSTS": "localhost",  # the test's feeds are on loopback
    }
    result = CliRunner().invoke(main, args, env=env)
    return result.exit_code, result.output


def test_fetch_prints_one_line_per_source(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ok.ics").respond_with_data(
        (ROOT / "tests/data/ics/cancelled.ics").read_bytes()
    )
    httpserver.expect_request("/ko.ics").respond_with_data("", status=404)
    sources = f"""
[[source]]
id = "ok"
name = "OK"
url = "{httpserver.url_for("/ok.ics")}"

[[source]]
id = "ko"
name = "KO"
url = "{httpserver.url_for("/ko.ics")}"
"""
    code, output = run(["fetch"], tmp_path, sources)
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].split()[:3] == ["ok", "ok", "200"]
    assert lines[1].split()[:3] == ["ko", "failed", "404"]
    assert "Le serveur a répondu 404" in lines[1]
    code, output = run(["fetch", "--source", "ok"], tmp_path, sources)
    assert code == 0 and output.split()[:2] == ["ok", "unchanged"]


def test_scheduled_and_cli_fetches_refuse_internal_addresses(tmp_path: Path) -> None:
    sources = '[[source]]\nid = "meta"\nname = "M"\nurl = "http://169.254.169.254/latest"\n'
    code, output = run(["fetch"], tmp_path, sources)
    assert code == 1 and "adresse interne" in output


def test_fetch_exits_1_when_every_source_failed(tmp_path: Path) -> None:
    sources = '[[source]]\nid = "a"\nname = "A"\nurl = "missing.ics"\n'
    code, output = run(["fetch"], tmp_path, sources)
    assert code == 1 and "Fichier introuvable" in output


def test_invalid_configuration_exits_2_with_line_and_key(tmp_path: Path) -> None:
    sources = '[[source]]\nid = "a"\nname = "A"\nurl = "a.ics"\nkind = "pdf"\n'
    code, output = run(["fetch"], tmp_path, sources)
    assert code == 2
    assert "line 5, source 'a', key 'kind'" in output
    code, output = run(["fetch", "--source", "zzz"], tmp_path, sources.replace("pdf", "ics"))
    assert code == 2 and "zzz" in output


def test_demo_feeds_populate_the_coming_weeks(tmp_path: Path) -> None:
    """Whatever the day, every demo source yields events in the next five weeks."""
    shipped = (ROOT / "sources.toml").read_text()
    for today in (dt.date.today(), dt.date(2027, 2, 27), dt.date(2028, 12, 30)):
        out = tmp_path / str(today)
        write_demo(out / "var" / "demo", today)
        (out / "sources.toml").write_text(shipped)
        from aggregator.pipeline import RefreshOptions, refresh
        from aggregator.sources import load_sources
        from aggregator.store import open_engine
        from aggregator.store.read import EventQuery, query_events

        engine = open_engine(f"sqlite:///{out / 'db.sqlite3'}")
        configs = load_sources(out / "sources.toml")
        now = dt.datetime.combine(today, dt.time(8), dt.UTC)
        results = refresh(engine, configs, RefreshOptions(), now=now)
        assert all(r.outcome == "ok" for r in results), results
        soon = query_events(engine, EventQuery(start=now, end=now + dt.timedelta(weeks=5)))
        assert {e.sources[0].id for e in soon} == {c.id for c in configs}, today
        engine.dispose()


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [s.name for s in SETTINGS if s.name not in readme]
    assert missing == []


@pytest.mark.parametrize("command", [["--help"], ["fetch", "--help"], ["sources", "check"]])
def test_commands_answer(tmp_path: Path, command: list[str]) -> None:
    code, output = run(command, tmp_path, '[[source]]\nid = "a"\nname = "A"\nurl = "a.ics"\n')
    assert code == 0, output
