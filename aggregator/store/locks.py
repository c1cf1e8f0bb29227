"""One refresh of a source at a time, across processes (CLI, scheduler, admin button).

Without it two refreshes of one source can interleave (fetch A, fetch B, store B, store A)
and the store ends on the older version. The lock is taken before the fetch (so the state
read for the conditional GET is current) and released once the result is stored; a second
refresh waits, then fetches again, and finds the newest version.

PostgreSQL: session advisory locks, all on one connection of their own for the refresh
(try-locks, polled, so one connection serves every fetching thread). SQLite, whose writers
share one machine: a file lock per source beside the database file.
"""

from __future__ import annotations

import fcntl
import threading
import time
import zlib
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import make_url

NAMESPACE = 0x0A6E_DA06  # first key of pg_advisory_lock(int, int): "a source's refresh"
POLL = 0.2


class Busy(TimeoutError):
    """Another refresh of this source held it longer than we could wait."""


def advisory_key(text: str) -> int:
    """A text as the signed int4 that pg_advisory_lock(int, int) takes."""
    value = zlib.crc32(text.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class SourceLocks:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.mutex = threading.Lock()
        self.connection: sa.Connection | None = None
        self.files: dict[str, IO[str]] = {}
        self.held: set[str] = set()
        database = make_url(str(engine.url)).database
        self.folder: Path | None = None
        if engine.dialect.name != "postgresql" and database and database != ":memory:":
            self.folder = Path(f"{database}.locks")

    def _try(self, source_id: str) -> bool:
        with self.mutex:
            if self.engine.dialect.name == "postgresql":
                if self.connection is None:
                    self.connection = self.engine.connect()
                got = self.connection.execute(
                    sa.text("SELECT pg_try_advisory_lock(:a, :b)"),
                    {"a": NAMESPACE, "b": advisory_key(source_id)},
                ).scalar()
                self.connection.commit()
                if got:
                    self.held.add(source_id)
                return bool(got)
            if self.folder is None:
                self.held.add(source_id)
                return True  # an in-memory database lives in one process
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = (self.folder / f"{source_id}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self.files[source_id] = handle
            self.held.add(source_id)
            return True

    def acquire(self, source_id: str, timeout: float) -> None:
        """Wait for the source's lock (Busy after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while not self._try(source_id):
            if time.monotonic() >= deadline:
                raise Busy(source_id)
            time.sleep(POLL)

    def release(self, source_id: str) -> None:
        with self.mutex:
            if source_id not in self.held:
                return
            self.held.discard(source_id)
            if self.connection is not None:
                self.connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:a, :b)"),
                    {"a": NAMESPACE, "b": advisory_key(source_id)},
                )
                self.connection.commit()
            handle = self.files.pop(source_id, None)
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()

    def close(self) -> None:
        for source_id in list(self.held):
            self.release(source_id)
        with self.mutex:
            if self.connection is not None:
                self.connection.close()  # ends the session: any lock left goes with it
                self.connection = None
