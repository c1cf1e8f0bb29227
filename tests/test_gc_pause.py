"""The cycle collector pauses while dedup scores, and always comes back as it was."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from aggregator import gc_pause
from aggregator.dedup import PARIS, DedupRecord, cluster
from aggregator.pipeline import RefreshOptions, refresh
from aggregator.store.clusters import recluster
from tests.conftest import NOW, source


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generations the collector starts on, while the test runs."""
    started: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield started
    finally:
        gc.callbacks.remove(count)


def _agenda(size: int) -> list[DedupRecord]:
    day = dt.datetime(2027, 3, 1, 18, tzinfo=PARIS)
    return [
        DedupRecord(
            id=f"e{n}",
            source_id=f"s{n % 7}",
            title=f"Atelier {n % 97} jardin partagé numéro {n}",
            start=day + dt.timedelta(days=n % 30, minutes=n % 4 * 15),
            end=None,
            location=f"Salle {n % 13}, Gap",
            territory=None,
        )
        for n in range(size)
    ]


def test_a_dedup_runs_without_collector_passes_and_gives_it_back(
    collections: list[int],
) -> None:
    records = _agenda(5000)
    assert gc.isenabled()
    collections.clear()  # those while building the agenda
    clusters = cluster(records)
    assert len(clusters) == len(records)
    # Thousands of small values were built: without the pause, the collector started
    # every 700 allocations (560 times here). Now at most once as each of the two pauses
    # (scoring, settling) ends, on the allocations counted meanwhile.
    assert len(collections) <= 2, collections
    assert gc.isenabled()
    gc.collect()
    assert collections, "the callback sees collections once the pause is over"


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        cluster(_agenda(10))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_two_threads_give_the_collector_back_at_the_last_end() -> None:
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gc_pause.paused():
            inside.set()
            release.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    assert inside.wait(10)
    with gc_pause.paused():
        assert not gc.isenabled()
    # This thread's pause ended first: the other one still holds it.
    assert not gc.isenabled()
    release.set()
    other.join(10)
    assert gc.isenabled()


def test_a_failure_inside_a_pause_gives_the_collector_back() -> None:
    with pytest.raises(RuntimeError), gc_pause.paused():
        raise RuntimeError("scoring failed")
    assert gc.isenabled()


def test_a_stored_agenda_reclusters_without_collector_passes(
    engine: sa.Engine, tmp_path: Path, collections: list[int]
) -> None:
    """Through the store, as the refresh does: read, scored a week at a time, settled."""
    configs = []
    for name in ("amap", "mjc"):
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"]
        for n in range(600):
            day = NOW + dt.timedelta(days=1 + n % 60, hours=n % 9)
            lines += ["BEGIN:VEVENT", f"UID:{name}-{n}@t",
                      f"DTSTART:{day:%Y%m%dT%H%M%SZ}", f"SUMMARY:Atelier {name} {n % 41}",
                      f"LOCATION:Salle {n % 5}, Gap", "END:VEVENT"]  # fmt: skip
        path = tmp_path / f"{name}.ics"
        path.write_text("\r\n".join([*lines, "END:VCALENDAR", ""]), newline="")
        configs.append(source(id=name, name=name, url=str(path)))
    refresh(engine, configs, RefreshOptions(workers=1), now=NOW, dedup=False)
    collections.clear()
    result = recluster(engine, NOW, PARIS, processes=1)
    assert result.occurrences == 1200
    # One as the pause ends. Pausing only the scoring and settling left 5 or 6 here, as
    # the rows were read.
    assert len(collections) <= 2, collections
    assert gc.isenabled()
