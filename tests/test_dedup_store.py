"""Dedup through the real pipeline and store: one event however many publish it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from click.testing import CliRunner

from aggregator.cli import main
from aggregator.model import SourceConfig
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store.clusters import recluster, record_override
from aggregator.store.read import EventQuery, get_event, query_events
from tests.conftest import NOW, source

OPTIONS = RefreshOptions(workers=1)


def calendar(uid: str, title: str, location: str, start: str = "20261210T090000") -> str:
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", f"UID:{uid}",
        f"DTSTART;TZID=Europe/Paris:{start}", f"SUMMARY:{title}", f"LOCATION:{location}",
        "END:VEVENT", "END:VCALENDAR", "",
    ]  # fmt: skip
    return "\r\n".join(lines)


def publish(tmp_path: Path, name: str, body: str) -> SourceConfig:
    path = tmp_path / f"{name}.ics"
    path.write_text(body, newline="")
    return source(id=name, name=name.capitalize(), url=str(path))


def forum_sources(tmp_path: Path) -> list[SourceConfig]:
    return [
        publish(tmp_path, "udess", calendar("forum@udess", "Forum de l'ESS",
                                            "Quattro, 1 place Bonthoux, 05000 Gap")),
        publish(tmp_path, "fabrique", calendar("f-42@fabrique", "FORUM DE L'ESS - Gap",
                                               "Quattro, Gap")),
        publish(tmp_path, "radio", calendar("r-7@radio", "Forum de l’économie sociale (ESS)",
                                            "Gap")),
        publish(tmp_path, "mjc", calendar("m-1@mjc", "Soirée jeux", "MJC, Gap")),
    ]  # fmt: skip


def test_one_event_lists_every_publisher(engine: sa.Engine, tmp_path: Path) -> None:
    sources = forum_sources(tmp_path)
    refresh(engine, sources, OPTIONS, now=NOW)
    listed = query_events(engine, EventQuery())
    assert [e.title for e in listed] == ["Forum de l'ESS", "Soirée jeux"]
    forum = listed[0]
    assert sorted(s.id for s in forum.sources) == ["fabrique", "radio", "udess"]
    assert forum.location == "Quattro, 1 place Bonthoux, 05000 Gap"  # the most precise
    assert forum.territory == "gap-tallard-durance"
    assert len(forum.members) == 3
    # Filtering by one publisher still shows the merged event with all its publishers.
    (only,) = query_events(engine, EventQuery(sources=["radio"]))
    assert only.id == forum.id and len(only.sources) == 3
    by_member = get_event(engine, forum.members[0])
    assert by_member is not None and by_member.id == forum.id


def test_identity_is_stable_as_publishers_join_and_leave(engine: sa.Engine, tmp_path: Path) -> None:
    udess, fabrique, radio, _ = forum_sources(tmp_path)
    refresh(engine, [fabrique], OPTIONS, now=NOW)
    (alone,) = query_events(engine, EventQuery())
    refresh(engine, [fabrique, udess, radio], OPTIONS, now=NOW + dt.timedelta(hours=1))
    (joined,) = query_events(engine, EventQuery())
    assert joined.id == alone.id and joined.uid == alone.uid and len(joined.sources) == 3
    Path(fabrique.url).write_text(
        calendar("other@fabrique", "Atelier couture", "La Fabrique, Briançon")
    )
    refresh(engine, [fabrique, udess, radio], OPTIONS, now=NOW + dt.timedelta(hours=2))
    forum = next(e for e in query_events(engine, EventQuery()) if "Forum" in e.title)
    assert forum.id == alone.id  # the first publisher left; the event keeps its id
    assert sorted(s.id for s in forum.sources) == ["radio", "udess"]


def test_overrides_survive_refreshes(engine: sa.Engine, tmp_path: Path) -> None:
    sources = forum_sources(tmp_path)
    refresh(engine, sources, OPTIONS, now=NOW)
    forum, games = query_events(engine, EventQuery())
    # Split the radio's record out, merge the games night into the forum (a test of the
    # mechanism, not of good sense).
    with engine.connect() as conn:
        radio_id = conn.execute(
            sa.text("SELECT public_id FROM events WHERE source_id = 'radio'")
        ).scalar_one()
    record_override(engine, "split", radio_id, forum.id, "admin", NOW)
    record_override(engine, "merge", games.id, forum.id, "admin", NOW)
    recluster(engine, NOW - dt.timedelta(days=30), ZoneInfo("Europe/Paris"))  # as admins do
    for hour in (1, 2):  # refreshes with changed events re-run dedup on their days
        for src in sources:
            path = Path(src.url)
            text = path.read_text()
            path.write_text(text.replace("END:VEVENT", f"DESCRIPTION:v{hour}\r\nEND:VEVENT"))
        refresh(engine, sources, OPTIONS, now=NOW + dt.timedelta(hours=hour))
        listed = query_events(engine, EventQuery())
        by_source = {s.id: e.id for e in listed for s in e.sources}
        assert by_source["radio"] != by_source["udess"]
        assert by_source["mjc"] == by_source["udess"] == by_source["fabrique"]


def test_cli_merge_and_split(tmp_path: Path) -> None:
    sources = forum_sources(tmp_path)
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    lines = [f'[[source]]\nid = "{s.id}"\nname = "{s.name}"\nurl = "{s.url}"\n' for s in sources]
    (tmp_path / "sources.toml").write_text("\n".join(lines))
    env = {"AGENDA_SOURCES": str(tmp_path / "sources.toml"), "AGENDA_DATABASE_URL": db,
           "AGENDA_SECRET_KEY": "x"}  # fmt: skip
    runner = CliRunner()
    assert runner.invoke(main, ["fetch"], env=env).exit_code == 0
    from aggregator.store import open_engine

    engine = open_engine(db)
    forum, games = query_events(engine, EventQuery())
    result = runner.invoke(main, ["dedup", "merge", forum.id, games.id], env=env)
    assert result.exit_code == 0, result.output
    assert len(query_events(engine, EventQuery())) == 1
    result = runner.invoke(main, ["dedup", "split", games.members[0], forum.id], env=env)
    assert result.exit_code == 0, result.output
    assert len(query_events(engine, EventQuery())) == 2
    unknown = runner.invoke(main, ["dedup", "merge", "nope", forum.id], env=env)
    assert unknown.exit_code == 2 and "inconnu" in unknown.output
