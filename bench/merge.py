"""Merged-feed benchmark: our /agenda.ics for 200 sources vs the mergecal library.

`python -m bench.merge` (part of `make bench`). The same 200 generated feeds (bench.feeds)
are ingested once; then, in the same run:
- ours: a cold build of /agenda.ics (empty VEVENT cache, empty feed cache: query the store,
  serialise every occurrence), then the cached answer;
- mergecal: what a merge service does per build: parse the 200 files, merge, serialise.
Not the same output: mergecal copies recurring masters as they are (a client expands them),
we publish each occurrence (deduplicated, with territory and cancellations); the VEVENT
counts are printed next to the times. Cached /agenda.ics vs a static server of the same
bytes, under gunicorn, is in bench.web.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import icalendar
from mergecal import merge_calendars

from aggregator.model import SourceConfig
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store import make_engine, migrate
from bench.feeds import write_feeds

SOURCES, EVENTS = 200, 250


def main() -> None:
    print(f"merge: /agenda.ics of {SOURCES} sources x {EVENTS} events vs mergecal, same run")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_feeds(folder / "feeds", SOURCES, EVENTS)
        url = f"sqlite:///{folder / 'merge.sqlite3'}"
        engine = make_engine(url)
        migrate(engine)
        configs = [SourceConfig(id=p.stem, name=p.stem, url=str(p)) for p in paths]
        refresh(engine, configs, RefreshOptions(workers=4))
        engine.dispose()

        os.environ.update(AGENDA_DATABASE_URL=url, AGENDA_SECRET_KEY="bench",
                          AGENDA_CACHE_DIR=str(folder / "cache"),
                          AGENDA_SOURCES=str(folder / "sources.toml"))  # fmt: skip
        (folder / "sources.toml").write_text("")
        from webapp import create_app

        client = create_app().test_client()
        started = time.perf_counter()
        ours = client.get("/agenda.ics")
        cold = time.perf_counter() - started
        assert ours.status_code == 200
        started = time.perf_counter()
        for _ in range(20):
            assert len(client.get("/agenda.ics").data) == len(ours.data)
        cached = (time.perf_counter() - started) / 20
        ours_events = ours.data.count(b"BEGIN:VEVENT")

        started = time.perf_counter()
        calendars = [icalendar.Calendar.from_ical(p.read_bytes()) for p in paths]
        parsed = time.perf_counter() - started
        started = time.perf_counter()
        merged = merge_calendars(calendars).to_ical()
        merging = time.perf_counter() - started
        theirs = parsed + merging
        their_events = merged.count(b"BEGIN:VEVENT")

    print(
        f"    ours: cold build        {cold:7.2f} s  {len(ours.data) / 1e6:5.1f} MB  "
        f"{ours_events} VEVENTs (occurrences)"
    )
    print(f"    ours: cached answer     {cached * 1000:7.1f} ms")
    print(
        f"    mergecal: parse + merge + serialise {theirs:6.2f} s "
        f"(merge + serialise {merging:.2f} s)  {len(merged) / 1e6:5.1f} MB  "
        f"{their_events} VEVENTs (masters)"
    )
    print(
        f"    ratio ours cold / mergecal: {cold / theirs:.2f}   "
        f"per VEVENT: {(cold / ours_events) / (theirs / their_events):.2f}   "
        f"cached / mergecal: {cached / theirs:.4f}"
    )


if __name__ == "__main__":
    main()
