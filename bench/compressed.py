"""Compressed merged feed: the project against nginx serving the very same bytes.

`python -m bench.compressed` (part of `make bench`). 50,000 occurrences in SQLite, gunicorn
with the shipped settings on loopback; then nginx (Debian's package: `apt-get install
nginx-light`; the bench starts and stops its own instance on loopback) serving the feed's own
gzip copy with `gzip_static`. Both are asked for /agenda.ics with `Accept-Encoding: gzip` by
the same client (raw bytes, no decompression), side by side in one run: sizes, throughput,
p50/p99 and the ratio.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import subprocess
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from bench.web import free_port, gunicorn, populate

REQUESTS, CONCURRENCY = 400, 8


def load(url: str, count: int = REQUESTS, concurrency: int = CONCURRENCY) -> dict[str, float]:
    parts = urlsplit(url)
    local = threading.local()

    def one(_: int) -> float:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        started = time.perf_counter()
        conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
        response = conn.getresponse()
        body = response.read()
        encoding = response.getheader("Content-Encoding")
        assert response.status == 200 and encoding == "gzip", (url, response.status, encoding)
        assert body
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = sorted(pool.map(one, range(count)))
    wall = time.perf_counter() - started
    return {
        "rps": count / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def nginx(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (root / "logs").mkdir(exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(
        textwrap.dedent(f"""
        worker_processes 2;
        pid {root}/nginx.pid;
        error_log {root}/logs/error.log;
        events {{ worker_connections 256; }}
        http {{
            access_log off;
            types {{ text/calendar ics; }}
            sendfile on;
            server {{
                listen 127.0.0.1:{port};
                root {root}/www;
                gzip_static on;
            }}
        }}
    """)
    )
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root), "-g", "daemon off;"])
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}/agenda.ics"


def line(name: str, figures: dict[str, float]) -> str:
    return (
        f"    {name:<34} {figures['rps']:8.1f} req/s   p50 {figures['p50']:7.1f} ms"
        f"   p99 {figures['p99']:7.1f} ms"
    )


def main() -> None:
    if shutil.which("nginx") is None:
        print("compressed feed: nginx not installed (apt-get install nginx-light); skipped")
        return
    print("compressed /agenda.ics: 200 sources x 250 events, gunicorn 2 x 4 vs nginx gzip_static")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        populate(f"sqlite:///{workdir / 'bench.sqlite3'}")
        with gunicorn(f"sqlite:///{workdir / 'bench.sqlite3'}", workdir) as base:
            parts = urlsplit(base)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
            conn.request("GET", "/agenda.ics")
            plain = conn.getresponse().read()
            conn.request("GET", "/agenda.ics", headers={"Accept-Encoding": "gzip"})
            zipped = conn.getresponse().read()
            conn.request("GET", "/agenda.ics", headers={"Accept-Encoding": "br"})
            smaller = conn.getresponse().read()
            print(f"    sizes: identity {len(plain) / 1e6:.1f} MB, gzip {len(zipped) / 1e6:.2f} MB"
                  f", brotli {len(smaller) / 1e6:.2f} MB")  # fmt: skip
            load(base + "/agenda.ics", 40, 4)  # both workers have it in memory
            ours = load(base + "/agenda.ics")
            www = workdir / "nginx" / "www"
            www.mkdir(parents=True)
            (www / "agenda.ics").write_bytes(plain)
            (www / "agenda.ics.gz").write_bytes(zipped)
            for folder in (workdir, workdir / "nginx", www):  # nginx workers may be "nobody"
                folder.chmod(0o755)
            process, static_url = nginx(workdir / "nginx")
            try:
                load(static_url, 40, 4)
                theirs = load(static_url)
            finally:
                process.terminate()
                process.wait(10)
        print(line("project (gunicorn), gzip copy", ours))
        print(line("nginx gzip_static, same bytes", theirs))
        print(f"    ratio project / nginx: {ours['rps'] / theirs['rps']:.2f} (throughput), "
              f"{ours['p50'] / theirs['p50']:.2f} (p50 latency)")  # fmt: skip


if __name__ == "__main__":
    main()
