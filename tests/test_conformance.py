"""Conformance with ical.js (Thunderbird's library) on real-world calendars (issue 12).

Every file the installed recurring-ical-events and icalendar packages ship for their own
tests is read by the project (what it publishes) and by ical.js, and compared occurrence by
occurrence (tests/conformance.py). Every disagreement must be one of the reviewed entries of
tests/data/conformance-known.toml, with its reason; a new one fails, and so does an entry
that no longer disagrees. `make test` checks a third of the files plus every listed one;
the slow run (`make test-all`) checks them all and prints the agreement figures.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.conformance import Verdict, calendars, name, node_available, verdicts

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
