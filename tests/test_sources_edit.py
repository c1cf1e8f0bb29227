"""Writes to sources.toml: layout kept, validated first, atomic, no edit lost."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from aggregator.cli import main
from aggregator.sources import SourcesError, load_sources
from aggregator.sources_edit import (
    EditError,
    add_source,
    edit_sources,
    remove_source,
    update_source,
)

ORIGINAL = """# Sources of the agenda — keep this comment
[[source]]
id = "udess05"  # the network itself
name = "Udess 05"
url = "https://udess05.example/agenda.ics"
"""


def test_add_update_remove_keep_comments_and_backup(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(ORIGINAL)
    edit_sources(path, add_source({"id": "mjc", "name": "MJC", "url": "https://mjc.example/a.ics",
                                   "tags": ["culture"], "territory": "buech-devoluy"}))  # fmt: skip
    text = path.read_text()
    assert "# Sources of the agenda — keep this comment" in text
    assert 'id = "udess05"  # the network itself' in text
    assert (tmp_path / "sources.toml.bak").read_text() == ORIGINAL
    edit_sources(path, update_source("mjc", {"enabled": False, "refresh": "6h"}))
    configs = {c.id: c for c in load_sources(path)}
    assert not configs["mjc"].enabled and configs["mjc"].tags == ("culture",)
    edit_sources(path, remove_source("udess05"))
    assert [c.id for c in load_sources(path)] == ["mjc"]
    assert "# Sources of the agenda — keep this comment" in path.read_text()


def test_invalid_edits_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(ORIGINAL)
    with pytest.raises(SourcesError, match="territory"):
        edit_sources(path, add_source({"id": "x", "name": "X", "url": "https://x.example",
                                       "territory": "atlantide"}))  # fmt: skip
    with pytest.raises(EditError, match="déjà"):
        edit_sources(path, add_source({"id": "udess05", "name": "U", "url": "https://u.ex"}))
    with pytest.raises(EditError, match="inconnue"):
        edit_sources(path, remove_source("nope"))
    assert path.read_text() == ORIGINAL


def _add_many(path: str, prefix: str, count: int) -> None:
    for n in range(count):
        edit_sources(Path(path), add_source(
            {"id": f"{prefix}-{n}", "name": f"{prefix} {n}", "url": f"https://{prefix}.ex/{n}"}
        ))  # fmt: skip


def test_two_admins_saving_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(ORIGINAL)
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_add_many, args=(str(path), p, 15)) for p in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    ids = {c.id for c in load_sources(path)}
    assert len(ids) == 31 and {"a-14", "b-14", "udess05"} <= ids


def test_cli_sources_commands(tmp_path: Path, httpserver: HTTPServer) -> None:
    body = (Path(__file__).parent / "data" / "ics" / "cancelled.ics").read_bytes()
    httpserver.expect_request("/agenda.ics").respond_with_data(body)
    path = tmp_path / "sources.toml"
    path.write_text(ORIGINAL)
    env = {"AGENDA_SOURCES": str(path), "AGENDA_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
           "AGENDA_SECRET_KEY": "x", "AGENDA_ALLOW_HOSTS": "localhost"}  # fmt: skip
    runner = CliRunner()
    url = httpserver.url_for("/agenda.ics")
    added = runner.invoke(main, ["sources", "add", url, "--id", "perm", "--name", "Permanences",
                                 "--territory", "gap-tallard-durance"], env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "ics : " in added.output and "Source perm ajoutée." in added.output
    assert {c.id: c.kind for c in load_sources(path)}["perm"] == "ics"
    refused = runner.invoke(main, ["sources", "add", "http://169.254.169.254/", "--id", "meta",
                                   "--name", "Meta"], env=env)  # fmt: skip
    assert refused.exit_code == 2 and "adresse interne" in refused.output
    assert runner.invoke(main, ["sources", "disable", "perm"], env=env).exit_code == 0
    listing = runner.invoke(main, ["sources", "list"], env=env).output
    assert "perm" in listing and "désactivée" in listing
    assert runner.invoke(main, ["sources", "remove", "perm"], env=env).exit_code == 0
    assert "perm" not in {c.id for c in load_sources(path)}
    assert runner.invoke(main, ["sources", "remove", "perm"], env=env).exit_code == 2
