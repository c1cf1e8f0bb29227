"""Scheduled refreshes with APScheduler 3.x: one job per enabled source.

Each source runs at its `refresh` interval with jitter, one run at a time (max_instances=1,
coalesce). After failures the interval doubles (capped at 6 h) and a server's Retry-After is
honoured; one success brings the normal interval back. sources.toml is watched: changes are
picked up without a restart. Dedup runs once data changed, not after every source.

Only one scheduler may run against a database: it first takes a leader lock (a PostgreSQL
advisory lock, or a file lock next to a SQLite database); a second scheduler waits.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import make_url

from aggregator.model import SourceConfig
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.sources import SourcesError, SourcesFile, load_sources_file
from aggregator.store.clusters import recluster
from aggregator.store.schema import sources as sources_table

log = logging.getLogger("aggregator.scheduler")
MAX_BACKOFF = dt.timedelta(hours=6)
# Dedup after a refresh works out the days it touched only (store.clusters.recluster);
# a whole recluster this often also follows the word weights' drift and multi-day chains.
WHOLE_DEDUP_EVERY = dt.timedelta(hours=6)
JITTER = 0.1  # each run moves by up to ±10% of its interval, so sources do not align
ADVISORY_KEY = 0x0A6E_DA05  # pg_advisory_lock key of "the" scheduler


def next_delay(
    interval: dt.timedelta,
    failures: int,
    retry_after: dt.datetime | None,
    now: dt.datetime,
    jitter: float = 0.0,
) -> dt.timedelta:
    """How long until a source's next fetch. Pure: `jitter` in [-1, 1] is given."""
    delay = interval if failures <= 0 else min(MAX_BACKOFF, interval * (2 ** min(failures, 20)))
    delay = max(delay, interval)  # backoff never shortens a long configured interval
    delay = delay * (1 + JITTER * jitter)
    if retry_after is not None and retry_after - now > delay:
        delay = retry_after - now
    return delay


class LeaderLock:
    """Held for the scheduler's lifetime; the second process to ask waits for it."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.connection: sa.Connection | None = None
        self.handle: Any = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            got = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar()
            connection.commit()
            if got:
                self.connection = connection  # the lock lives as long as this session
                return True
            connection.close()
            return False
        database = make_url(str(self.engine.url)).database or "agenda"
        path = Path(f"{database}.scheduler.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self.handle = handle
        return True

    def wait(self, stop: threading.Event, poll: float = 5.0) -> bool:
        while not stop.is_set():
            if self.try_acquire():
                return True
            stop.wait(poll)
        return False

    def release(self) -> None:
        if self.connection is not None:
            self.connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"),
                                    {"key": ADVISORY_KEY})  # fmt: skip
            self.connection.close()
            self.connection = None
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


class Scheduler:
    def __init__(
        self,
        engine: sa.Engine,
        sources_path: Path,
        options: RefreshOptions,
        watch_every: float = 30.0,
        dedup_every: float = 60.0,
        lock_poll: float = 5.0,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        chores: tuple[tuple[str, float, Callable[[], object]], ...] = (),
    ):
        """`chores`: (name, every seconds, job) run by the leader besides the sources (the
        admins' digest, the proposed events' window)."""
        self.engine = engine
        self.sources_path = sources_path
        self.base_options = options
        self.watch_every, self.dedup_every, self.lock_poll = watch_every, dedup_every, lock_poll
        self.now = now
        self.lock = LeaderLock(engine)
        self.stop_event = threading.Event()
        self.leader = threading.Event()  # set once this scheduler holds the lock
        self.configs: dict[str, SourceConfig] = {}
        self.file_digest = ""
        self.dirty = threading.Event()  # data changed since the last dedup
        # What changed since the last dedup (None: a whole recluster is needed).
        self.touched: list[tuple[dt.datetime, dt.datetime]] | None = None
        self.touched_lock = threading.Lock()
        self.last_whole: dt.datetime | None = None
        self.aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max(2, options.workers))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=dt.UTC,
        )
        self.options = options
        self.thread: threading.Thread | None = None
        self.state = threading.Lock()  # start and stop never interleave
        self.chores = chores

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start in the background: wait for the lock, then schedule."""
        self.thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        log.info("scheduler waiting for the leader lock")
        if not self.lock.wait(self.stop_event, self.lock_poll):
            return
        with self.state:
            if self.stop_event.is_set():  # stopped while winning the lock
                self.lock.release()
                return
            self.aps.start()
            self.reload()
            self.aps.add_job(self.reload, "interval", seconds=self.watch_every, id="_watch")
            self.aps.add_job(self._dedup, "interval", seconds=self.dedup_every, id="_dedup")
            for name, every, job in self.chores:
                self.aps.add_job(job, "interval", seconds=every, id=f"_{name}")
            self.leader.set()
        log.info("scheduler is the leader")

    def stop(self) -> None:
        self.stop_event.set()
        with self.state:
            if self.aps.running:
                self.aps.shutdown(wait=True)
            self.lock.release()
            self.leader.clear()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stop_event.is_set():
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # -- sources.toml ------------------------------------------------------------------
    def reload(self) -> None:
        """Pick up sources.toml changes: add, re-time or remove jobs. A file that does not
        validate is logged and ignored; the previous configuration keeps running."""
        try:
            digest = hashlib.sha256(self.sources_path.read_bytes()).hexdigest()
        except OSError as exc:
            log.error("sources file unreadable: %s", exc)
            return
        if digest == self.file_digest:
            return
        try:
            loaded: SourcesFile = load_sources_file(self.sources_path)
        except SourcesError as exc:
            log.error("sources.toml refused, previous configuration kept:\n%s", exc)
            return
        self.file_digest = digest
        self.options = replace(self.base_options, aliases=tuple(sorted(loaded.aliases.items())))
        from aggregator.store.write import sync_sources

        if sync_sources(self.engine, loaded.sources):
            with self.touched_lock:
                self.touched = None  # a deleted source's events went, anywhere: dedup all
            self.dirty.set()
        wanted = {c.id: c for c in loaded.sources if c.enabled}
        for job in self.aps.get_jobs():
            if not job.id.startswith("_") and job.id not in wanted:
                job.remove()
        for source_id, config in wanted.items():
            previous = self.configs.get(source_id)
            if previous != config or self.aps.get_job(source_id) is None:
                self._schedule(config, self._due(config))
        self.configs = wanted
        log.info("scheduler: %d sources scheduled", len(wanted))

    def _state(self, source_id: str) -> tuple[dt.datetime | None, int, dt.datetime | None]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    sources_table.c.last_fetch_at,
                    sources_table.c.consecutive_failures,
                    sources_table.c.retry_after,
                ).where(sources_table.c.id == source_id)
            ).first()
        return (row[0], row[1] or 0, row[2]) if row else (None, 0, None)

    def _due(self, config: SourceConfig) -> dt.datetime:
        """When a (re)scheduled source is next due, from what the store remembers."""
        last, failures, retry_after = self._state(config.id)
        now = self.now()
        if last is None:
            return now
        return max(now, last + next_delay(config.refresh, failures, retry_after, now))

    def _schedule(self, config: SourceConfig, when: dt.datetime) -> None:
        self.aps.add_job(
            self._run_source, "date", run_date=when, args=[config.id], id=config.id,
            replace_existing=True, name=config.name,
        )  # fmt: skip

    # -- jobs --------------------------------------------------------------------------
    def _run_source(self, source_id: str) -> None:
        config = self.configs.get(source_id)
        if config is None or self.stop_event.is_set():
            return
        try:
            (result,) = refresh(
                self.engine, [config], self.options, only=[source_id], dedup=False, complete=False
            )
            if result.added or result.updated or result.removed:
                with self.touched_lock:
                    if self.touched is not None:
                        self.touched.extend(result.touched)
                self.dirty.set()
        except Exception:
            log.exception("scheduled refresh of %s crashed", source_id)
        _, failures, retry_after = self._state(source_id)
        now = self.now()
        delay = next_delay(config.refresh, failures, retry_after, now, random.uniform(-1, 1))
        if not self.stop_event.is_set() and source_id in self.configs:
            self._schedule(config, now + delay)

    def _dedup(self) -> None:
        if not self.dirty.is_set():
            return
        self.dirty.clear()
        with self.touched_lock:  # the days the refreshes since the last dedup changed
            touched, self.touched = self.touched, []
        now = self.now()
        if self.last_whole is None or now - self.last_whole >= WHOLE_DEDUP_EVERY:
            touched = None  # now and then a whole recluster settles what days alone miss
        if touched is None:
            self.last_whole = now
        done = recluster(
            self.engine, self.options.window(now).start, ZoneInfo(self.options.timezone),
            touched, processes=self.options.parse_processes,
        )  # fmt: skip
        log.info("dedup clusters=%d changed=%d", done.clusters, done.changed)

    def next_run(self, source_id: str) -> dt.datetime | None:
        job = self.aps.get_job(source_id)
        return job.next_run_time if job else None
