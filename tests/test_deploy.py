"""What the container runs, started here on loopback: gunicorn with the shipped config, and
migrations racing from several processes at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import sqlalchemy as sa

from aggregator.store import make_engine, migrate

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_gunicorn_serves_the_app_with_the_shipped_config(db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AGENDA_DATABASE_URL": db_url, "AGENDA_SECRET_KEY": "deploy",
           "AGENDA_BIND": f"127.0.0.1:{port}", "AGENDA_WEB_WORKERS": "2",
           "AGENDA_CACHE_DIR": str(tmp_path / "cache"),
           "AGENDA_SOURCES": str(ROOT / "sources.toml")}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        # gunicorn binds at once; requests wait in the backlog while workers start (and
        # migrate a fresh database), so allow for a slow start.
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(base + "/healthz", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not answer within 60 s") from None
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["database"] is True
        assert requests.get(base + "/", timeout=10).status_code == 200
        ics = requests.get(base + "/agenda.ics", timeout=30)
        assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    assert 'request method=GET path="/healthz" status=200' in output  # structured access log


def test_concurrent_migrations_are_safe(db_url: str) -> None:
    """Replicas starting together all run migrations: one migrates, the others wait."""
    code = (
        "import sys; from aggregator.store import make_engine, migrate; "
        "migrate(make_engine(sys.argv[1]))"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code, db_url]) for _ in range(3)]
    assert [p.wait(120) for p in processes] == [0, 0, 0]
    engine = make_engine(db_url)
    migrate(engine)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0009"
    engine.dispose()


def test_dockerfile_runs_what_the_tests_run() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER agenda" in dockerfile and "HEALTHCHECK" in dockerfile
    assert 'ENTRYPOINT ["/app/deploy/entrypoint.sh"]' in dockerfile
    entrypoint = (ROOT / "deploy" / "entrypoint.sh").read_text()
    assert "exec gunicorn --config /app/deploy/gunicorn.conf.py" in entrypoint
