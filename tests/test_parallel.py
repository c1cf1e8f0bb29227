"""A batch parsed in parser processes: the same store as in one process, and a parser process
that dies costs only the documents it held (on real SQLite and real PostgreSQL)."""

from __future__ import annotations

import errno
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from aggregator import budget
from aggregator import prepare as stages
from aggregator.model import SourceConfig
from aggregator.pipeline import PARALLEL_FROM, RefreshOptions, refresh
from aggregator.store import make_engine, migrate
from aggregator.store.schema import events
from bench.feeds import calendar
from tests.conftest import NOW, source

SERIAL = RefreshOptions(workers=4, parse_processes=0)  # in this process: the reference
PARALLEL = RefreshOptions(workers=4, parse_processes=2)


class CountingPool(ProcessPoolExecutor):
    """The real pool, counting the documents sent to it."""

    submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        type(self).submitted += 1
        return super().submit(fn, *args, **kwargs)


class DyingPool(ProcessPoolExecutor):
    """The real pool, whose processes are killed (as by the OOM killer) right after the
    first document is sent to the first pool."""

    killed = False

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        if not type(self).killed:
            type(self).killed = True
            for process in list(self._processes.values()):  # type: ignore[attr-defined]
                os.kill(process.pid, signal.SIGKILL)
        return future


class AlwaysDyingPool(ProcessPoolExecutor):
    """Every parser process is killed as soon as it is given a document."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        for process in list(self._processes.values()):  # type: ignore[attr-defined]
            os.kill(process.pid, signal.SIGKILL)
        return future


class UnstartablePool(ProcessPoolExecutor):
    """The real pool, except that the first pool cannot start a process for its second
    document (as when a killed parser left the fork server's socket unusable: EBADF)."""

    pools = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        type(self).pools += 1
        self.number, self.submitted = type(self).pools, 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        if self.number == 1 and self.submitted == 2:
            raise OSError(errno.EBADF, "Bad file descriptor")
        return super().submit(fn, *args, **kwargs)


def feeds(folder: Path, count: int, variant: int = 0) -> list[SourceConfig]:
    configs = []
    for n in range(count):
        path = folder / f"asso{n}.ics"
        body = calendar(n + variant * 1000, 25, today=NOW.date())
        path.write_bytes(body.replace(b"asso", f"asso{n}-".encode()))  # UIDs stay per source
        configs.append(source(id=f"asso{n}", name=f"Association {n}", url=str(path)))
    return configs


def stored(engine: sa.Engine) -> set[tuple[object, ...]]:
    columns = (events.c.source_id, events.c.uid, events.c.recurrence_id, events.c.title,
               events.c.start_at, events.c.end_at, events.c.territory, events.c.status,
               events.c.description, events.c.content_hash, events.c.removed_at)  # fmt: skip
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(sa.select(*columns))}


def test_processes_store_what_one_process_stores(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs = feeds(tmp_path, PARALLEL_FROM)
    broken = tmp_path / "broken.ics"
    broken.write_bytes(calendar(99, 5, today=NOW.date())[:700])  # cut off mid-transfer
    configs.append(source(id="broken", url=str(broken)))
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    migrate(reference)
    expected = refresh(reference, configs, SERIAL, now=NOW)
    monkeypatch.setattr(budget, "ProcessPoolExecutor", CountingPool)
    CountingPool.submitted = 0

    results = refresh(engine, configs, PARALLEL, now=NOW)

    assert CountingPool.submitted == len(configs)  # every document went to a parser process
    assert [(r.source_id, r.outcome, r.events, r.error) for r in results] == [
        (r.source_id, r.outcome, r.events, r.error) for r in expected
    ]
    assert results[-1].outcome == "failed" and "tronqué" in (results[-1].error or "")
    assert len(stored(engine)) > 200 and stored(engine) == stored(reference)
    again = refresh(engine, configs, PARALLEL, now=NOW)
    assert {r.outcome for r in again[:-1]} == {"unchanged"}
    assert CountingPool.submitted == len(configs) + 1  # only the broken one was parsed again


def test_documents_a_dead_parser_process_held_are_parsed_again_alone(
    engine: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configs = feeds(tmp_path, PARALLEL_FROM + 2)
    refresh(engine, configs, SERIAL, now=NOW)
    feeds(tmp_path, len(configs), variant=1)  # every association changed its agenda
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    migrate(reference)
    refresh(reference, configs, SERIAL, now=NOW)
    monkeypatch.setattr(budget, "ProcessPoolExecutor", DyingPool)
    DyingPool.killed = False
    # Never in this process (parser processes fork from a server that has the real one).
    monkeypatch.setattr(stages, "parse_document", _parsed_in_the_refreshing_process)

    results = refresh(engine, configs, PARALLEL, now=NOW)

    assert DyingPool.killed and "a parser process died" in caplog.text
    assert [(r.source_id, r.outcome) for r in results] == [(c.id, "ok") for c in configs]
    current = {row for row in stored(engine) if row[-1] is None}  # not removed
    assert current == stored(reference)


def test_a_parser_pool_that_cannot_start_a_process_costs_nothing(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in CI: after a parser process was killed, the pool's next submit raised
    OSError (EBADF) and the whole refresh crashed. The document is parsed alone and the
    rest in a fresh pool: every source is stored as in one process."""
    configs = feeds(tmp_path, PARALLEL_FROM + 2)
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    migrate(reference)
    refresh(reference, configs, SERIAL, now=NOW)
    monkeypatch.setattr(budget, "ProcessPoolExecutor", UnstartablePool)
    UnstartablePool.pools = 0
    monkeypatch.setattr(stages, "parse_document", _parsed_in_the_refreshing_process)

    results = refresh(engine, configs, PARALLEL, now=NOW)

    assert [(r.source_id, r.outcome) for r in results] == [(c.id, "ok") for c in configs]
    assert stored(engine) == stored(reference)
    assert UnstartablePool.pools >= 3  # the first, one alone, and a fresh one for the rest


def _parsed_in_the_refreshing_process(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a document was parsed in the refreshing process")


def test_a_document_that_kills_its_parser_fails_and_keeps_the_last_good_events(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killing the parser never makes the refreshing process parse the document itself
    (the attack: a document that takes the parser down is then run in the main process)."""
    configs = feeds(tmp_path, 2)
    refresh(engine, configs, SERIAL, now=NOW)
    before = stored(engine)
    feeds(tmp_path, len(configs), variant=1)
    monkeypatch.setattr(budget, "ProcessPoolExecutor", AlwaysDyingPool)
    monkeypatch.setattr(stages, "parse_document", _parsed_in_the_refreshing_process)

    results = refresh(engine, configs, PARALLEL, now=NOW)

    assert [r.outcome for r in results] == ["failed", "failed"]
    assert all("processus d'analyse" in (r.error or "") for r in results)
    assert stored(engine) == before
