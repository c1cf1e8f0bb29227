"""Dedup at scale: cluster() on 25k and 50k generated occurrences, in one run.

`make bench` (or `python -m bench.dedup`). Prints seconds for each size and the ratio: about 2
means linear scaling (blocking by day works), about 4 would be quadratic.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import tracemalloc
from zoneinfo import ZoneInfo

from aggregator.dedup import DedupRecord, cluster
from aggregator.search import fold

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


def measure(total: int) -> tuple[float, float, int]:
    """Seconds (best of 3, without tracing), then peak traced memory in a separate pass."""
    records = generate(total)
    timings = []
    for _ in range(3):
        fold.cache_clear()  # a cold run, as after a restart
        started = time.perf_counter()
        clusters = cluster(records)
        timings.append(time.perf_counter() - started)
    tracemalloc.start()
    cluster(records)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return min(timings), peak, len(set(clusters.values()))


def main() -> None:
    print("dedup: cluster() on generated occurrences (200 sources, ~10% published twice)")
    results = {}
    for size in (25_000, 50_000):
        elapsed, peak, clusters = measure(size)
        results[size] = elapsed
        print(f"  {size:>6} occurrences: {elapsed:6.2f} s, peak {peak:6.1f} MB, "
              f"{clusters} events after dedup")  # fmt: skip
    print(f"  ratio 50k/25k: {results[50_000] / results[25_000]:.2f} (2 = linear, 4 = quadratic)")


if __name__ == "__main__":
    main()
