"""Conformance with ical.js (Thunderbird's library) on real-world calendars (issue 12).

Every file the installed recurring-ical-events and icalendar packages ship for their own
tests is read by the project (what it publishes) and by ical.js, and compared occurrence by
occurrence (tests/conformance.py). Every disagreement must be one of the reviewed entries of
tests/data/conformance-known.toml, with its reason; a new one fails, and so does an entry
that no longer disagrees. `make test` checks a third of the files plus every listed one;
the slow run (`make test-all`) checks them all and prints the agreement figures.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import re
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
from rapidfuzz import fuzz

from aggregator.pipeline import RefreshOptions, refresh
from aggregator.search import fold
from aggregator.store.schema import events
from tests.conformance import FROM, Verdict, calendars, name, node_available, verdicts
from tests.conftest import source

KNOWN = {
    entry["file"]: entry
    for entry in tomllib.loads(
        (Path(__file__).parent / "data" / "conformance-known.toml").read_text()
    )["known"]
}


@pytest.fixture(scope="module", autouse=True)
def _oracle_ready() -> None:
    problem = node_available()
    if problem:
        if os.environ.get("AGENDA_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)


def problems(found: list[Verdict]) -> list[str]:
    wrong = []
    for verdict in found:
        entry = KNOWN.get(verdict.file)
        if verdict.state in ("agree", "nothing"):
            if entry is not None:
                wrong.append(f"{verdict.file}: listed ({entry['state']}) but now agrees")
            continue
        shown = "; ".join(verdict.differences[:3])
        if entry is None:
            wrong.append(f"{verdict.file}: new disagreement ({verdict.state}): {shown}")
        elif entry["state"] != verdict.state or (
            verdict.state == "differ" and entry["differences"] != len(verdict.differences)
        ):
            was = f"{entry['state']} ({entry.get('differences')})"
            now = f"{verdict.state} ({len(verdict.differences)})"
            wrong.append(f"{verdict.file}: listed as {was}, now {now}: {shown}")
    return wrong


def report(found: list[Verdict]) -> str:
    compared = [v for v in found if v.state in ("agree", "differ")]
    total = sum(v.total for v in compared)
    agreed = sum(v.agreed for v in compared)
    listed = sum(len(v.differences) for v in compared if v.file in KNOWN)
    kinds: dict[str, int] = {}
    for v in found:
        if v.file in KNOWN:
            kinds[KNOWN[v.file]["kind"]] = kinds.get(KNOWN[v.file]["kind"], 0) + 1
    states = {s: sum(v.state == s for v in found) for s in
              ("agree", "differ", "nothing", "oracle-unreadable", "refused")}  # fmt: skip
    return (
        f"conformance with ical.js: {len(found)} files {states}; {total} occurrences compared, "
        f"{agreed} agree ({agreed / max(total, 1):.2%}); {listed} in listed disagreements, "
        f"net agreement {(agreed + listed) / max(total, 1):.2%}; listed files by kind {kinds}"
    )


def test_fast_subset_agrees_with_ical_js_net_of_the_listed_disagreements() -> None:
    paths = [p for n, p in enumerate(calendars()) if n % 3 == 0 or name(p) in KNOWN]
    found = verdicts(paths)
    print("\n" + report(found))
    assert len(paths) >= 60
    assert problems(found) == []


@pytest.mark.slow
def test_every_calendar_agrees_with_ical_js_net_of_the_listed_disagreements() -> None:
    paths = calendars()
    assert len(paths) >= 200, "the packages' test calendars are missing from site-packages"
    found = verdicts(paths)
    print("\n" + report(found))
    assert problems(found) == []


def _words(title: str) -> list[str]:
    return re.findall(r"\w+", fold(title))


def _one_names_the_other(first: str, second: str) -> bool:
    """Every word of the shorter title, numbers included, is (nearly) in the longer one."""
    short, long = sorted((_words(first), _words(second)), key=len)
    return all(any(fuzz.ratio(word, other) >= 80 for other in long) for word in short)


def test_the_calendars_together_merge_only_events_with_related_titles(
    engine: sa.Engine,
) -> None:
    """All the files as sources of one agenda (one database): cross-source dedup must not
    merge events whose titles are unrelated (it merged "Event#3" at 19:30 and an all-day
    "Base event" into "Crazy Event Thingy!" at 19:00, from three files reusing UIDs)."""
    now = dt.datetime.now(dt.UTC)
    options = RefreshOptions(workers=4, parse_processes=2, future_days=3650,
                             past_days=(now.date() - FROM.date()).days)  # fmt: skip
    configs = [source(id=f"cal{n}", name=name(p), url=str(p)) for n, p in enumerate(calendars())]
    results = refresh(engine, configs, options)
    assert sum(r.outcome == "ok" for r in results) >= 190
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(events.c.cluster_id, events.c.source_id, events.c.title).where(
                events.c.removed_at.is_(None)
            )
        ).all()
    clusters: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for row in rows:
        clusters[row.cluster_id].append((row.source_id, row.title))
    merged = [members for members in clusters.values() if len({s for s, _ in members}) > 1]
    assert len(rows) > 30_000 and len(merged) > 1_000  # files that share events do merge
    unrelated = {
        tuple(sorted({first, second}))
        for members in merged
        for _, first in members
        for _, second in members
        if not _one_names_the_other(first, second)
    }
    assert unrelated == set()
