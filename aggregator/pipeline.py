"""The refresh, end to end: sources -> fetch -> parse -> normalise -> tag -> store.

Fetching runs in a bounded thread pool (it waits on the network). Parsing, normalising and
tagging (`prepare`, pure) run in parser processes under a CPU and memory budget
(aggregator.budget): one for a few sources, several for a large batch, since they are CPU
work the GIL would serialise and documents from outside may ask for unbounded work. A
document whose parser process dies is parsed again alone; if that dies too, it is a failed
fetch (never parsed in this process). Storing runs in the calling thread as each document
is ready, so there is a single writer. Every failure is a value
recorded on its own source; nothing one source does reaches another. (Parser processes
import the program's main module again: keep its work under `if __name__ == "__main__"`.)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from aggregator.budget import (
    Budget,
    OverBudget,
    ParserDied,
    discard,
    parser_pool,
    run_alone,
    within,
)
from aggregator.fetch import FetchLimits, UrlGuard, fetch, make_session
from aggregator.guard import make_guard
from aggregator.model import (
    FeedFetched,
    FetchOutcome,
    RefreshResult,
    SourceConfig,
    SourceState,
)
from aggregator.parse import Window
from aggregator.prepare import ParseOptions, Prepared, prepare
from aggregator.settings import Settings
from aggregator.store import analyze, write
from aggregator.store.clusters import recluster
from aggregator.store.locks import Busy, SourceLocks
from aggregator.store.schema import events, sources

log = logging.getLogger("aggregator.refresh")
ANALYZE_AFTER = 1000  # changed occurrences in one refresh that call for fresh statistics
# A batch this large gets AGENDA_PARSE_PROCESSES parser processes; a smaller one (a
# scheduled run refreshes one source) gets one, which is cheaper to start.
PARALLEL_FROM = 8
PARSERS = "aggregator.prepare"  # what the parser processes import: not this module
BUSY = "Une autre mise à jour de cette source est en cours depuis trop longtemps : réessayez"
Progress = Callable[[int, int, RefreshResult], None]


@dataclass(frozen=True)
class RefreshOptions:
    timezone: str = "Europe/Paris"
    past_days: int = 30
    future_days: int = 365
    workers: int = 32  # threads mostly waiting on the network: a slow source holds only one
    limits: FetchLimits = field(default_factory=FetchLimits)
    guard: UrlGuard | None = None
    aliases: tuple[tuple[str, str], ...] = ()  # [aliases] of sources.toml
    # Parser processes for a large batch (one for a few sources); 0 parses in this process
    # without a budget (benchmarks' baseline only: never for documents from outside).
    parse_processes: int = 1
    budget: Budget = field(default_factory=Budget)

    @classmethod
    def from_settings(
        cls, settings: Settings, aliases: Mapping[str, str] | None = None
    ) -> RefreshOptions:
        return cls(
            aliases=tuple(sorted((aliases or {}).items())),
            # Every http(s) fetch is guarded: a name that starts resolving inside after an
            # admin added it is refused too. File paths (hand-written) are not URLs.
            guard=make_guard(settings.allow_hosts),
            timezone=settings.timezone,
            past_days=settings.window_past_days,
            future_days=settings.window_future_days,
            workers=settings.fetch_workers,
            parse_processes=settings.parse_processes,
            budget=Budget(settings.parse_cpu_seconds, settings.parse_memory_mb * 1_000_000),
            limits=FetchLimits(
                timeout=settings.fetch_timeout,
                deadline=settings.fetch_deadline,
                max_bytes=settings.max_body_bytes,
            ),
        )

    @property
    def parsing(self) -> ParseOptions:
        """What the parser processes need (pickled to them: no guard, no session)."""
        return ParseOptions(self.timezone, self.past_days, self.future_days, self.aliases)

    def window(self, now: dt.datetime) -> Window:
        return self.parsing.window(now)


def load_state(engine: sa.Engine, source_id: str) -> SourceState:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sources.c.etag, sources.c.last_modified, sources.c.body_hash).where(
                sources.c.id == source_id
            )
        ).first()
    return SourceState(*row) if row else SourceState()


def _upcoming_count(engine: sa.Engine, source_id: str, now: dt.datetime) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            events.c.source_id == source_id,
            events.c.removed_at.is_(None),
            events.c.start_at >= now,
        )
        return int(conn.execute(query).scalar_one())


def ingest(
    engine: sa.Engine,
    source: SourceConfig,
    fetched: FeedFetched,
    options: RefreshOptions,
    now: dt.datetime,
    prepared: Prepared | None = None,
) -> RefreshResult:
    """Parse, normalise and store one fetched document (or record why not); `prepared`
    when the pure stages already ran elsewhere."""
    if fetched.outcome is FetchOutcome.FAILED:
        return write.record_failure(
            engine, fetched, fetched.error or "Échec", now, fetched.duration
        )
    if fetched.outcome is not FetchOutcome.FETCHED or fetched.body is None:
        return write.record_unchanged(engine, fetched, now, fetched.duration)
    if prepared is None:
        prepared = prepare(source, fetched, options, now)
    duration = fetched.duration + prepared.seconds
    if prepared.error is not None:
        return write.record_failure(engine, fetched, prepared.error, now, duration)
    if not prepared.intents:
        upcoming = _upcoming_count(engine, source.id, now)
        if upcoming:
            # A feed that suddenly has nothing is far more often broken than emptied.
            reason = (
                f"Le flux ne contient plus aucun événement (il en avait {upcoming} à venir) : "
                "les événements connus sont conservés"
            )
            return write.record_failure(engine, fetched, reason, now, duration)
    window = options.window(now)
    return write.apply_refresh(
        engine,
        fetched,
        prepared.intents,
        prepared.warnings,
        prepared.skipped,
        window.start,
        now,
        duration,
        prepared.rows,
    )


def _parser_pool(options: RefreshOptions, batch: int) -> ProcessPoolExecutor | None:
    if options.parse_processes <= 0:
        return None
    processes = min(options.parse_processes, batch) if batch >= PARALLEL_FROM else 1
    return parser_pool(max(1, processes), options.budget, PARSERS)


def refresh(
    engine: sa.Engine,
    configs: Sequence[SourceConfig],
    options: RefreshOptions = RefreshOptions(),
    only: Sequence[str] = (),
    progress: Progress | None = None,
    session: requests.Session | None = None,
    now: dt.datetime | None = None,
    dedup: bool = True,
    complete: bool = True,
) -> list[RefreshResult]:
    """Refresh the chosen sources; `dedup=False` leaves clustering to the caller (the
    scheduler runs it once for many sources). `complete`: `configs` is all of sources.toml,
    so a source missing from it was deleted and its events go."""
    retired = write.sync_sources(engine, configs, complete)
    chosen = [c for c in configs if (c.id in only if only else c.enabled)]
    session = session or make_session(max(1, options.workers), options.guard)
    results: list[RefreshResult] = []
    parsers = _parser_pool(options, len(chosen))
    # What a worker process needs (the guard only serves fetching, here in this process).
    portable = options.parsing
    cpu, memory = options.budget.cpu_seconds, options.budget.memory_bytes

    locks = SourceLocks(engine)
    # As long as another refresh of the same source may take: fetch, parse, store.
    patience = options.limits.deadline + 2 * options.budget.cpu_seconds + 60

    def locked_fetch(source: SourceConfig) -> FeedFetched:
        """Under the source's lock, taken before reading its state for the conditional GET
        and released once the result is stored (in `finish`)."""
        try:
            locks.acquire(source.id, patience)
        except Busy:
            return FeedFetched(source.id, FetchOutcome.FAILED, error=BUSY)
        return fetch(source, load_state(engine, source.id), session, options.limits,
                     options.guard)  # fmt: skip

    def finish(result: RefreshResult) -> None:
        locks.release(result.source_id)
        _log_result(result)
        results.append(result)
        if progress:
            progress(len(results), len(chosen), result)

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        fetching: dict[Future[Any], SourceConfig] = {
            pool.submit(locked_fetch, source): source for source in chosen
        }
        parsing: dict[Future[Any], tuple[SourceConfig, FeedFetched]] = {}
        pending: set[Future[Any]] = set(fetching)
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    moment = now or dt.datetime.now(dt.UTC)
                    if future in fetching:
                        source = fetching.pop(future)
                        fetched = _fetched(source, future)
                        if source.id not in locks.held:  # busy: the other refresh reports
                            finish(RefreshResult(source.id, "failed", error=fetched.error))
                            continue
                        prepared = None  # parsed in _ingest_guarded: parse_processes=0 only
                        if parsers is not None and fetched.outcome is FetchOutcome.FETCHED:
                            try:
                                parse = parsers.submit(
                                    within, cpu, memory, prepare, source, fetched, portable, moment
                                )
                            except (BrokenProcessPool, OSError):
                                # Broken, or it could not start a process (a dead parser's
                                # pool can fail on the fork server's socket: EBADF).
                                prepared = _alone(source, fetched, portable, moment, options.budget)
                                parsers = _renewed(parsers, options, len(chosen))
                            else:
                                parsing[parse] = (source, fetched)
                                pending.add(parse)
                                continue
                        finish(_ingest_guarded(engine, source, fetched, options, moment, prepared))
                    else:
                        source, fetched = parsing.pop(future)
                        maybe = _prepared(source, future)
                        if maybe is None:  # its parser process died: once more, alone
                            maybe = _alone(source, fetched, portable, moment, options.budget)
                            if parsers is not None and not parsing:
                                parsers = _renewed(parsers, options, len(chosen))
                        finish(_ingest_guarded(engine, source, fetched, options, moment, maybe))
        finally:
            if parsers is not None:
                discard(parsers)
            locks.close()
    if dedup and (retired or any(r.outcome == "ok" for r in results)):
        # Dedup looks across sources, so it runs once the whole batch is stored.
        moment = now or dt.datetime.now(dt.UTC)
        # Only the days the changes fall on, unless sources went (their events, everywhere).
        touched = None if retired else [span for r in results for span in r.touched]
        clustered = recluster(
            engine, options.window(moment).start, ZoneInfo(options.timezone), touched,
            processes=options.parse_processes,  # the parsers are done: their cores are free
        )  # fmt: skip
        log.info(
            "dedup occurrences=%d clusters=%d changed=%d",
            clustered.occurrences, clustered.clusters, clustered.changed,
        )  # fmt: skip
        changed = sum(r.added + r.updated + r.removed for r in results)
        if changed >= ANALYZE_AFTER:
            analyze(engine)
    order = {c.id: n for n, c in enumerate(chosen)}
    return sorted(results, key=lambda r: order[r.source_id])


def _fetched(source: SourceConfig, future: Future[FeedFetched]) -> FeedFetched:
    try:
        return future.result()
    except Exception as exc:
        log.exception("fetch source=%s crashed", source.id)
        return FeedFetched(source.id, FetchOutcome.FAILED, error=f"Erreur interne : {exc!r}")


def _prepared(source: SourceConfig, future: Future[Prepared]) -> Prepared | None:
    """The parser process's work, or None when a parser process died (killed, out of
    memory) before finishing it."""
    try:
        return future.result()
    except BrokenProcessPool:
        log.warning("parse source=%s: a parser process died, parsing it again alone", source.id)
        return None
    except OverBudget as exc:
        log.warning("parse source=%s over budget: %s", source.id, exc)
        return Prepared([], [], 0, 0.0, error=str(exc))
    except Exception as exc:  # a bug met on this source's data
        log.error("parse source=%s crashed: %r", source.id, exc)
        return Prepared([], [], 0, 0.0, error=f"Erreur interne : {exc!r}")


def _alone(
    source: SourceConfig,
    fetched: FeedFetched,
    options: ParseOptions,
    now: dt.datetime,
    budget: Budget,
) -> Prepared:
    """A document whose parser process died, parsed again in a process of its own: if that
    dies too, the document is what kills it, and it is a failed fetch."""
    try:
        return run_alone(budget, PARSERS, prepare, source, fetched, options, now)
    except (OverBudget, ParserDied) as exc:
        log.warning("parse source=%s failed alone: %s", source.id, exc)
        return Prepared([], [], 0, 0.0, error=str(exc))
    except Exception as exc:
        log.error("parse source=%s crashed: %r", source.id, exc)
        return Prepared([], [], 0, 0.0, error=f"Erreur interne : {exc!r}")


def _renewed(
    parsers: ProcessPoolExecutor, options: RefreshOptions, batch: int
) -> ProcessPoolExecutor | None:
    """A fresh pool in place of a broken one, for the documents still to come."""
    discard(parsers)
    return _parser_pool(options, batch)


def _ingest_guarded(
    engine: sa.Engine,
    source: SourceConfig,
    fetched: FeedFetched,
    options: RefreshOptions,
    now: dt.datetime,
    prepared: Prepared | None = None,
) -> RefreshResult:
    """A bug met on one source's data is recorded on that source, and the run goes on."""
    try:
        return ingest(engine, source, fetched, options, now, prepared)
    except Exception as exc:
        log.exception("refresh source=%s crashed", source.id)
        failed = FeedFetched(source.id, FetchOutcome.FAILED)
        return write.record_failure(engine, failed, f"Erreur interne : {exc!r}", now, 0.0)


def _log_result(result: RefreshResult) -> None:
    log.info(
        "refresh source=%s outcome=%s status=%s events=%d added=%d updated=%d removed=%d "
        "skipped=%d warnings=%d duration_ms=%d error=%s",
        result.source_id,
        result.outcome,
        result.http_status,
        result.events,
        result.added,
        result.updated,
        result.removed,
        result.skipped,
        len(result.warnings),
        int(result.duration * 1000),
        result.error or "-",
    )
