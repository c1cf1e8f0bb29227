"""Ingest benchmark: 200 generated sources x 250 events, end to end, against its floor.

`python -m bench.ingest` (part of `make bench`; `--profile` prints where the time goes).
In one run, each part in a fresh process so its peak memory is its own:
- floor: icalendar's bare parse of the same bytes (Calendar.from_ical, nothing else, one core);
- ours: the whole refresh (read, parse, expand recurrences, normalise, tag territories,
  store in SQLite, dedup), then a second refresh where every source is unchanged; once with
  everything in one process, once with the default two parser processes (both cores),
  which then score the dedup's pairs too.
Memory: all processes together at each moment (sampled, see Together), and the sum of each
process's own peak as the upper bound.
Targets (issues 6, 14): ours <= 2x the floor, all processes < 400 MB, an unchanged source
< 5 ms.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.baseline import BASELINE, BEFORE

SOURCES, EVENTS = 200, 250


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor(folder: Path) -> dict[str, float]:
    import icalendar

    paths = sorted(folder.glob("*.ics"))
    bodies = [p.read_bytes() for p in paths]
    started = time.perf_counter()
    components = 0
    for body in bodies:
        components += len(icalendar.Calendar.from_ical(body).walk("VEVENT"))
    return {"seconds": time.perf_counter() - started, "vevents": components, "peak": peak_mb()}


def _descendants() -> set[int]:
    """This process's descendants still alive (parser or dedup processes, their fork
    server), from /proc."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = next(x for x in status.read_text().splitlines() if x.startswith("PPid:"))
        except (OSError, StopIteration):
            continue  # gone meanwhile
        parents[int(status.parent.name)] = int(ppid.split()[1])
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                grew = True
    return mine - {os.getpid()}


class Together(threading.Thread):
    """The memory of this process and all its descendants (parser and dedup processes,
    their fork servers) *at the same moment*, sampled every 50 ms: the largest sum of PSS
    (shared pages split between the processes sharing them, so the sum is what the machine
    holds) and of RSS (shared pages counted in each process). A peak shorter than the
    period can be missed; the sum of each process's own peak (`own_peaks`, the kernel's
    VmHWM, shared pages in each) is the upper bound."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.pss = self.rss = 0.0
        self.peaks: dict[int, float] = {}  # descendant -> its own peak RSS, MB

    def run(self) -> None:
        while not self.stop.wait(0.05):
            pss = rss = 0.0
            for pid in {os.getpid(), *_descendants()}:
                try:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue  # ended meanwhile
                pss += _kb(rollup, "Pss:") / 1024
                rss += _kb(rollup, "Rss:") / 1024
                if pid != os.getpid():
                    self.peaks[pid] = _kb(status, "VmHWM:") / 1024
            self.pss, self.rss = max(self.pss, pss), max(self.rss, rss)

    def own_peaks(self) -> float:
        return sum(self.peaks.values())


def _kb(text: str, label: str) -> int:
    line = next((x for x in text.splitlines() if x.startswith(label)), f"{label} 0 kB")
    return int(line.split()[1])


def ours(folder: Path, database: Path, profile: bool, processes: int) -> dict[str, float]:
    from aggregator.model import SourceConfig
    from aggregator.pipeline import RefreshOptions, refresh
    from aggregator.search import fold
    from aggregator.store import analyze, make_engine, migrate
    from aggregator.store.clusters import recluster

    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    configs = [
        SourceConfig(id=p.stem, name=p.stem, url=str(p)) for p in sorted(folder.glob("*.ics"))
    ]
    options = RefreshOptions(workers=4, parse_processes=processes)
    together = Together()
    together.start()

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    # What refresh() does for a batch, in two timed steps: store every source, then dedup
    # across sources once (and refresh the planner's statistics).
    results = refresh(engine, configs, options, dedup=False)
    stored = time.perf_counter() - started
    copy = database.with_suffix(".baseline.sqlite3")
    shutil.copyfile(database, copy)  # the same stored rows, for the baseline's dedup below
    shutil.copyfile(database, database.with_suffix(".before.sqlite3"))  # and the before's
    since = options.window(dt.datetime.now(dt.UTC)).start
    fold.cache_clear()  # both dedups below start cold, as after a restart
    deduped = time.perf_counter()
    # As refresh() does: the parsers' processes score a whole window's pairs (0: at once,
    # in this process).
    recluster(engine, since, ZoneInfo(options.timezone), processes=processes)
    dedup = time.perf_counter() - deduped
    analyze(engine)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    peak = peak_mb()  # before the baseline's run below, which is not ours
    together.stop.set()
    together.join()
    baseline_dedup = _baseline_dedup(copy, since, ZoneInfo(options.timezone))
    # The version before the latest dedup change, on the same rows: beside the one-process
    # run, where today's dedup also runs all at once in this process.
    before_dedup = today_again = -1.0
    if processes == 0:  # each on a fresh copy of the same rows, one after the other
        shutil.copyfile(database.with_suffix(".before.sqlite3"), copy)
        before_dedup = _baseline_dedup(copy, since, ZoneInfo(options.timezone), BEFORE)
        shutil.copyfile(database.with_suffix(".before.sqlite3"), copy)
        today_again = _baseline_dedup(copy, since, ZoneInfo(options.timezone), None)
    assert all(r.outcome == "ok" for r in results), [r.error for r in results if r.error]
    occurrences = sum(r.events for r in results)
    started = time.perf_counter()
    again = refresh(engine, configs, options)
    unchanged = time.perf_counter() - started
    assert all(r.outcome == "unchanged" for r in again)
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)
    return {
        "seconds": seconds,
        "stored": stored,
        "occurrences": occurrences,
        "peak": peak,
        "helpers_peak": together.own_peaks(),
        "together_pss": together.pss,
        "together_rss": together.rss,
        "unchanged_ms": unchanged * 1000 / len(configs),
        "dedup": dedup,
        "baseline_dedup": baseline_dedup,
        "before_dedup": before_dedup,
        "today_again": today_again,
    }


def _baseline_dedup(
    database: Path, since: dt.datetime, tz: ZoneInfo, ref: str | None = BASELINE
) -> float:
    """The same recluster (read, cluster, write), all at once in this process, with the dedup
    of `ref` (bench/baseline.py; None: today's) on a copy of the stored rows; -1 without it.
    The baseline has no decide(): its cluster() is wrapped; later versions' decide() is
    used as is."""
    from aggregator import dedup as today_module
    from aggregator.dedup import Decisions
    from aggregator.search import fold
    from aggregator.store import clusters, make_engine
    from bench.baseline import dedup_at

    old = today_module if ref is None else dedup_at(ref)
    if old is None:
        return -1.0
    if ref is None:
        today_module.forget()  # cold, as the other versions, freshly loaded, are

    def wrapped(records, previous, overrides, tz, weights=None):  # type: ignore[no-untyped-def]
        return Decisions(old.cluster(records, previous, overrides, tz), [], [])

    engine = make_engine(f"sqlite:///{database}")
    fold.cache_clear()
    today = clusters.decide
    clusters.decide = getattr(old, "decide", wrapped)
    try:
        started = time.perf_counter()
        clusters.recluster(engine, since, tz, processes=0)  # all at once, through decide
        return time.perf_counter() - started
    finally:
        clusters.decide = today  # type: ignore[assignment]
        engine.dispose()


def child(*args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "bench.ingest", *args], check=True,
                         stdout=subprocess.PIPE, text=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    from bench.feeds import write_feeds

    profile = "--profile" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "feeds"
        paths = write_feeds(folder, SOURCES, EVENTS)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"ingest: {SOURCES} sources x {EVENTS} events ({size:.1f} MB of ICS)")
        bare = child("floor", str(folder))
        runs = {}
        for processes in (0, 2):  # 0: parsed in the refreshing process (no budget)
            database = Path(tmp) / f"bench{processes}.sqlite3"
            extra = ["--profile"] if profile and processes == 2 else []
            runs[processes] = child("ours", str(folder), str(database), str(processes), *extra)
    print(
        f"    icalendar bare parse (floor), one process   {bare['seconds']:7.2f} s  "
        f"{bare['vevents'] / bare['seconds']:6.0f} VEVENT/s   peak {bare['peak']:4.0f} MB"
    )
    for processes, mine in runs.items():
        label = (
            "ours, all in one process      " if processes == 0 else "ours, two parser processes    "
        )
        peak = mine["peak"] + mine["helpers_peak"]
        print(
            f"    {label}   {mine['seconds']:7.2f} s  "
            f"{mine['occurrences'] / mine['seconds']:6.0f} occ./s     all processes at once: "
            f"PSS {mine['together_pss']:4.0f} MB (RSS {mine['together_rss']:.0f})"
        )
        print(
            f"      each process's own peak, summed: {peak:.0f} MB (main {mine['peak']:.0f} "
            f"+ parser and dedup processes {mine['helpers_peak']:.0f})"
        )
        print(
            f"      read, parse, expand, normalise, tag, store {mine['stored']:6.2f} s "
            f"({mine['stored'] / bare['seconds']:.2f}x the floor); dedup "
            f"{mine['dedup']:.2f} s; ratio ours / floor "
            f"{mine['seconds'] / bare['seconds']:.2f}"
        )
        if mine["baseline_dedup"] > 0:
            print(
                f"      dedup of the same rows by baseline {BASELINE}: "
                f"{mine['baseline_dedup']:.2f} s; today / baseline "
                f"{mine['dedup'] / mine['baseline_dedup']:.2f} (target <= 1)"
            )
        if mine["before_dedup"] > 0:
            print(
                f"      dedup of the same rows by the version before, {BEFORE}: "
                f"{mine['before_dedup']:.2f} s, then today's again on a copy of the same rows: "
                f"{mine['today_again']:.2f} s; today / before "
                f"{mine['today_again'] / mine['before_dedup']:.2f} (target <= 1: no slower)"
            )
    print(
        f"    ({runs[2]['occurrences']:.0f} occurrences stored)  targets: ratio <= 2, all "
        "processes together < 400 MB"
    )
    print(
        "    unchanged source (same body hash): "
        f"{runs[2]['unchanged_ms']:.2f} ms each (target < 5 ms)"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "floor":
        print(json.dumps(floor(Path(sys.argv[2]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "ours":
        folder, database, processes = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(ours(folder, database, "--profile" in sys.argv, processes)))
    else:
        main()
