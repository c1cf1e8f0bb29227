"""Fetch benchmark: 200 sources on a loopback server, 10% of them answering after 5 s.

`python -m bench.fetch` (part of `make bench`). The whole refresh runs (fetch, parse, store)
on small feeds, so the figure is the fetch schedule's: a slow source must not hold up the
others. Target (issue 6): wall time <= 1.3x the slowest source. Then the same 200 sources
again, answering 304 Not Modified to our conditional GET: the cost of an unchanged source.
"""

from __future__ import annotations

import http.server
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aggregator.model import SourceConfig
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.settings import load_settings
from aggregator.store import make_engine, migrate
from bench.feeds import calendar

SOURCES, SLOW_EVERY, DELAY = 200, 10, 5.0


@contextmanager
def server(bodies: list[bytes]) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            n = int(self.path.rsplit("/", 1)[1])
            etag = f'"v{n}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if n % SLOW_EVERY == 0:
                time.sleep(DELAY)
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(bodies[n])))
            self.end_headers()
            self.wfile.write(bodies[n])

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 256
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()


def run(workers: int, base: str, folder: Path) -> None:
    engine = make_engine(f"sqlite:///{folder / f'fetch-{workers}.sqlite3'}")
    migrate(engine)
    configs = [
        SourceConfig(id=f"s{n}", name=f"S{n}", url=f"{base}/feed/{n}") for n in range(SOURCES)
    ]
    options = RefreshOptions(workers=workers)
    started = time.perf_counter()
    results = refresh(engine, configs, options)
    wall = time.perf_counter() - started
    assert all(r.outcome == "ok" for r in results), [r.error for r in results if r.error]
    started = time.perf_counter()
    again = refresh(engine, configs, options)
    unchanged = time.perf_counter() - started
    assert all(r.outcome == "not_modified" for r in again), {r.outcome for r in again}
    print(
        f"    {workers:3d} fetch workers: wall {wall:6.2f} s, slowest source {DELAY:.1f} s, "
        f"ratio {wall / DELAY:.2f} (target <= 1.3);  "
        f"304 round: {unchanged * 1000 / SOURCES:.1f} ms per source"
    )
    engine.dispose()


def main() -> None:
    bodies = [calendar(n, events=5) for n in range(SOURCES)]
    default = load_settings({}).fetch_workers
    print(f"fetch: {SOURCES} sources on loopback, every {SLOW_EVERY}th answers after {DELAY:.0f} s")
    with tempfile.TemporaryDirectory() as tmp, server(bodies) as base:
        for workers in sorted({8, default}):
            run(workers, base, Path(tmp))


if __name__ == "__main__":
    main()
