"""A bounded load on loopback: N keep-alive connections for S seconds, spread over URLs.

`python -m bench.load` (part of `make bench`) serves 5,000 occurrences (200 sources x 25)
with gunicorn and the shipped config (deploy/gunicorn.conf.py: 2 workers x 4 threads) and
drives the agenda page, /api/events and /agenda.ics for 30 s from 50 connections, then
prints requests/s and p50/p99 per URL. tests/test_load.py runs the same (marked slow) and
asserts there was no error.
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.web import free_port, populate

ROOT = Path(__file__).parent.parent
PATHS = ("/", "/api/events?limit=100", "/agenda.ics")


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self, name: str, seconds: float) -> str:
        done = sorted(self.latencies)
        if not done:
            return f"    {name:<24} no answer; errors: {self.errors[:3]}"
        p99 = done[max(0, int(len(done) * 0.99) - 1)]
        return (
            f"    {name:<24} {len(done) / seconds:8.1f} req/s   p50 "
            f"{statistics.median(done) * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   "
            f"errors {len(self.errors)}"
        )


def drive(
    base: str, paths: tuple[str, ...], seconds: float, connections: int
) -> dict[str, Figures]:
    """Each connection loops over `paths` in turn, on one keep-alive HTTP/1.1 connection
    (reopened after an error), until the time is up."""
    parts = urlsplit(base)
    results: dict[str, Figures] = defaultdict(Figures)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        n = offset
        while time.monotonic() < stop:
            path = paths[n % len(paths)]
            n += 1
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept-Encoding": "identity"})
                response = conn.getresponse()
                response.read()
                error = None if response.status == 200 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                if error:
                    results[path].errors.append(error)
                else:
                    results[path].latencies.append(elapsed)
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(results)


@contextmanager
def gunicorn(database_url: str, workdir: Path) -> Iterator[str]:
    """gunicorn with the shipped config, on a free loopback port, ready when yielded."""
    port = free_port()
    env = {**os.environ, "AGENDA_DATABASE_URL": database_url, "AGENDA_SECRET_KEY": "load",
           "AGENDA_BIND": f"127.0.0.1:{port}", "AGENDA_CACHE_DIR": str(workdir / "cache"),
           "AGENDA_SOURCES": str(workdir / "sources.toml")}  # fmt: skip
    (workdir / "sources.toml").write_text("")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        for path in PATHS:  # warm: the merged feed is built once per data change
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("GET", path)
            conn.getresponse().read()
        yield base
    finally:
        process.terminate()
        process.wait(20)


def main(seconds: float = 30, connections: int = 50) -> None:
    print(f"load: {connections} connections for {seconds:.0f} s over {', '.join(PATHS)}; "
          "gunicorn with deploy/gunicorn.conf.py, SQLite, 5,000 occurrences")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'load.sqlite3'}"
        populate(url, sources=200, per_source=25)
        with gunicorn(url, workdir) as base:
            results = drive(base, PATHS, seconds, connections)
    for path in PATHS:
        print(results.get(path, Figures()).line(path, seconds))


if __name__ == "__main__":
    main()
