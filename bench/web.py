"""Web benchmark: 50k occurrences (200 sources x 250), served by gunicorn on loopback.

`python -m bench.web` (part of `make bench`). For SQLite and PostgreSQL (when reachable):
the cold build of /agenda.ics, then latency (p50/p99) and throughput of the agenda page,
/api/events?limit=100 and the cached /agenda.ics; and, in the same run, a static file server
(Python's ThreadingHTTPServer) serving the very same ICS bytes, as a ratio.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
import sqlalchemy as sa

from aggregator.model import EventIntent, FeedFetched, FetchOutcome, SourceConfig
from aggregator.store import analyze, open_engine
from aggregator.store.clusters import recluster
from aggregator.store.write import apply_refresh, sync_sources

PARIS = dt.timezone(dt.timedelta(hours=1))
POSTGRES = os.environ.get(
    "AGENDA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORDS = (
    "atelier", "concert", "forum", "marché", "conférence", "balade", "fête", "repair", "café",
    "soirée", "jeux", "projection", "débat", "chorale", "théâtre", "jardin", "vélo", "lecture",
    "solidarité", "transition",
)  # fmt: skip
# Towns and their territories: events spread over the territories as on the real agenda.
TOWNS = {
    "Gap": "gap-tallard-durance", "Briançon": "brianconnais", "Embrun": "serre-poncon",
    "Veynes": "buech-devoluy", "Sisteron": "sisteronais-buech", "Guillestre":
    "guillestrois-queyras", "Chorges": "serre-poncon", "Serres": "buech-devoluy",
}  # fmt: skip
REQUESTS, CONCURRENCY = 200, 8


def populate(url: str, sources: int = 200, per_source: int = 250) -> None:
    engine = open_engine(url)
    rng = random.Random(7)
    now = dt.datetime.now(dt.UTC)
    configs = [
        SourceConfig(id=f"s{n}", name=f"Association {n}", url=f"/dev/null/{n}")
        for n in range(sources)
    ]
    sync_sources(engine, configs)
    for config in configs:
        intents = []
        for k in range(per_source):
            start = now + dt.timedelta(days=rng.randrange(365), hours=rng.randrange(24))
            town = rng.choice(sorted(TOWNS))
            intents.append(EventIntent(
                source_id=config.id, uid=f"{config.id}-{k}", recurrence_id="",
                title=" ".join(rng.sample(WORDS, 3)).capitalize(), start=start,
                end=start + dt.timedelta(hours=2), all_day=rng.random() < 0.1,
                timezone="Europe/Paris", description="Un événement de l'ESS. " * 5,
                location=f"Salle des fêtes, {town}", tags=("ess",), territory=TOWNS[town],
            ))  # fmt: skip
        fetched = FeedFetched(config.id, FetchOutcome.FETCHED, 200, body_hash="x")
        apply_refresh(engine, fetched, intents, [], 0, now - dt.timedelta(days=30), now, 0.0)
    recluster(engine, now - dt.timedelta(days=30), ZoneInfo("Europe/Paris"))
    analyze(engine)  # as the pipeline does after a large refresh
    engine.dispose()


def change_one_source(url: str) -> None:
    """One association edits its 250 events: a new data version, a feed to rebuild."""
    engine = open_engine(url)
    now = dt.datetime.now(dt.UTC)
    start = now + dt.timedelta(days=3)
    intents = [
        EventIntent(source_id="s0", uid=f"s0-{k}", recurrence_id="", title=f"Nouveau {k}",
                    start=start, end=None, all_day=False, timezone="Europe/Paris")
        for k in range(250)
    ]  # fmt: skip
    fetched = FeedFetched("s0", FetchOutcome.FETCHED, 200, body_hash="y")
    apply_refresh(engine, fetched, intents, [], 0, now - dt.timedelta(days=30), now, 0.0)
    engine.dispose()


def postgres_schema(name: str) -> str | None:
    """A fresh schema on the test PostgreSQL and the URL that works in it, or None (said)
    when the server is unreachable."""
    try:
        engine = sa.create_engine(POSTGRES)
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        print(f"  PostgreSQL skipped: {exc.__class__.__name__} at {POSTGRES}")
        return None
    return f"{POSTGRES}?options=-csearch_path%3D{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(url: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "AGENDA_DATABASE_URL": url, "AGENDA_SECRET_KEY": "bench",
           "AGENDA_CACHE_DIR": str(workdir / "cache")}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--timeout", "300", "webapp:create_app()"],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def static_server(path: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{path.name}"
    finally:
        server.shutdown()


def load(
    url: str | list[str], requests_count: int = REQUESTS, concurrency: int = CONCURRENCY
) -> dict:  # type: ignore[type-arg]
    """A bounded load: `requests_count` GETs from `concurrency` threads, each its own session;
    a list of addresses is taken in turn."""
    local = threading.local()
    urls = [url] if isinstance(url, str) else url

    def one(n: int) -> float:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.get(urls[n % len(urls)], timeout=120)
        response.raise_for_status()
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(one, range(requests_count)))
    wall = time.perf_counter() - started
    return {
        "rps": requests_count / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def distinct_pages(count: int = REQUESTS) -> list[str]:
    """Agenda pages residents open (territory, period, page), each once."""
    territories = ["", "brianconnais", "serre-poncon", "gap-tallard-durance", "buech-devoluy"]
    periods = ["", "semaine", "mois", "week-end"]
    pages = [
        f"/?territory={t}&periode={p}&page={n}"
        for n in range(1, 11) for t in territories for p in periods
    ]  # fmt: skip
    return pages[:count]


def line(name: str, figures: dict[str, float]) -> str:
    return (
        f"    {name:<28} {figures['rps']:8.1f} req/s   p50 {figures['p50']:8.1f} ms"
        f"   p99 {figures['p99']:8.1f} ms"
    )


def run(label: str, url: str, workdir: Path) -> None:
    started = time.perf_counter()
    populate(url)
    print(f"  {label}: 50,000 occurrences stored in {time.perf_counter() - started:.1f} s")
    with gunicorn(url, workdir) as base:
        started = time.perf_counter()
        body = requests.get(base + "/agenda.ics", timeout=600).content
        cold = time.perf_counter() - started
        requests.get(base + "/agenda.ics", timeout=600)  # the other worker builds its copy
        print(f"    cold /agenda.ics build        {cold:8.2f} s for {len(body) / 1e6:.1f} MB")
        change_one_source(url)
        started = time.perf_counter()
        requests.get(base + "/agenda.ics", timeout=600)
        warm = time.perf_counter() - started
        print(f"    rebuild after 1 source changed {warm:7.2f} s (only changed events serialised)")
        print(line("agenda page /", load(base + "/")))
        # Every request a page no process has rendered yet: the cost without the page cache.
        print(line("agenda, 200 distinct pages", load([base + p for p in distinct_pages()])))
        print(line("/api/events?limit=100", load(base + "/api/events?limit=100")))
        ours = load(base + "/agenda.ics", 40, 4)
        print(line("/agenda.ics (cached)", ours))
        static_file = workdir / "agenda.ics"
        static_file.write_bytes(body)
        with static_server(static_file) as static_url:
            static = load(static_url, 40, 4)
        print(line("static server, same bytes", static))
        ratio = ours["rps"] / static["rps"]
        print(f"    ratio cached feed / static server: {ratio:.2f} (throughput)")


def main() -> None:
    print("web: 200 sources x 250 events, gunicorn 2 workers x 4 threads, loopback")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        run("SQLite", f"sqlite:///{workdir / 'bench.sqlite3'}", workdir)
        url = postgres_schema("bench")
        if url is not None:
            run("PostgreSQL", url, workdir)


if __name__ == "__main__":
    main()
