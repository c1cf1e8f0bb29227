"""Dedup at scale: cluster() on 25k and 50k generated occurrences, today's version, the
one before the latest change and the baseline's (bench/baseline.py) side by side in one run.

`make bench` (or `python -m bench.dedup`). Prints seconds for each size and the ratios: 50k/25k
about 2 means linear scaling (blocking by day works), about 4 would be quadratic; today /
baseline over 1 means today's dedup is slower.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from zoneinfo import ZoneInfo

from aggregator.dedup import DedupRecord, cluster
from aggregator.search import fold
from bench.baseline import BASELINE, BEFORE, dedup_at

PARIS = ZoneInfo("Europe/Paris")
WORDS = [
    "atelier",
    "concert",
    "forum",
    "marché",
    "conférence",
    "balade",
    "fête",
    "repair",
    "café",
    "soirée",
    "jeux",
    "projection",
    "débat",
    "chorale",
    "théâtre",
    "cinéma",
    "jardin",
    "vélo",
    "compost",
    "graines",
    "lecture",
    "solidarité",
    "économie",
    "transition",
    "montagne",
    "eau",
    "forêt",
    "climat",
    "énergie",
    "coopérative",
    "paysanne",
    "musique",
    "danse",
    "famille",
    "enfants",
    "jeunesse",
    "emploi",
    "formation",
    "numérique",
    "couture",
    "tricot",
    "yoga",
    "randonnée",
    "nature",
]
TOWNS = ["Gap", "Briançon", "Embrun", "Veynes", "Sisteron", "Guillestre", "Chorges", "Serres",
         "Tallard", "Laragne-Montéglin", "Barcelonnette", "Saint-Bonnet-en-Champsaur"]  # fmt: skip


def generate(total: int, seed: int = 1) -> list[DedupRecord]:
    """200 sources; about one event in ten published again by another source."""
    rng = random.Random(seed)
    records: list[DedupRecord] = []
    start_day = dt.datetime(2026, 12, 1, tzinfo=PARIS)
    n = 0
    while len(records) < total:
        title = " ".join(rng.sample(WORDS, 3)).capitalize()
        town = rng.choice(TOWNS)
        start = start_day + dt.timedelta(days=rng.randrange(365), hours=rng.randrange(8, 21))
        copies = 2 if rng.random() < 0.1 else 1
        for copy in range(copies):
            records.append(
                DedupRecord(
                    id=f"e{n}-{copy}",
                    source_id=f"s{rng.randrange(200)}",
                    title=title if copy == 0 else title.upper() + f" - {town}",
                    start=start + dt.timedelta(minutes=15 * copy),
                    end=start + dt.timedelta(hours=2),
                    location=f"Salle des fêtes, {town}",
                    territory=None,
                )
            )
        n += 1
    return records[:total]


REPEATS = 5


def _cold(cluster: Callable[..., dict[str, str]]) -> None:
    """Empty every cache of the version's dedup and title-words modules, and fold's: a cold
    run, as after a restart, for each version alike."""
    fold.cache_clear()
    module = sys.modules[cluster.__module__]
    words = getattr(module, "title_words", None)
    for space in (module, sys.modules.get(getattr(words, "__module__", ""), None)):
        for value in vars(space).values() if space is not None else ():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def _timed(records: list[DedupRecord], cluster: Callable[..., dict[str, str]]) -> float:
    _cold(cluster)
    started = time.perf_counter()
    cluster(records)
    return time.perf_counter() - started


def _peak(records: list[DedupRecord], cluster: Callable[..., dict[str, str]]) -> tuple[float, int]:
    _cold(cluster)
    tracemalloc.start()
    clusters = cluster(records)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak, len(set(clusters.values()))


def main() -> None:
    print("dedup: cluster() on generated occurrences (200 sources, ~10% published twice)")
    versions: dict[str, Callable[..., dict[str, str]]] = {"today": cluster}
    for name, ref in (("before", BEFORE), ("baseline", BASELINE)):
        old = dedup_at(ref)
        if old is not None:
            versions[f"{name} {ref}"] = old.cluster
        else:
            print(f"  (no {name}: git cannot show {ref})")
    results: dict[tuple[str, int], float] = {}
    for size in (25_000, 50_000):
        records = generate(size)
        # Versions interleaved, best of REPEATS each: the machine's drift hits both alike.
        timings: dict[str, list[float]] = {label: [] for label in versions}
        for _ in range(REPEATS):
            for label, function in versions.items():
                timings[label].append(_timed(records, function))
        for label, function in versions.items():
            peak, events = _peak(records, function)
            results[label, size] = min(timings[label])
            print(f"  {label:<17} {size:>6} occurrences: {min(timings[label]):6.2f} s "
                  f"(median {statistics.median(timings[label]):.2f}), peak {peak:6.1f} MB, "
                  f"{events} events after dedup")  # fmt: skip
    for label in versions:
        ratio = results[label, 50_000] / results[label, 25_000]
        print(f"  {label:<17} ratio 50k/25k: {ratio:.2f} (2 = linear, 4 = quadratic)")
    for name, ref in (("before", BEFORE), ("baseline", BASELINE)):
        if f"{name} {ref}" in versions:
            for size in (25_000, 50_000):
                ratio = results["today", size] / results[f"{name} {ref}", size]
                print(f"  today / {name} at {size}: {ratio:.2f} (target: <= 1, no slower)")


if __name__ == "__main__":
    main()
