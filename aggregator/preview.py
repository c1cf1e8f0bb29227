"""Test-fetch of a URL an admin wants to add: what would the agenda get from it?

A facade over fetch and parse for the admin UI and the CLI (the public web never fetches).
"""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass, field

from aggregator.budget import Budget, OverBudget, ParserDied, run_alone
from aggregator.fetch import FetchLimits, fetch, make_session
from aggregator.guard import UnsafeUrl, check_url, make_guard
from aggregator.model import EventIntent, FetchOutcome, SourceConfig
from aggregator.pipeline import PARSERS, RefreshOptions
from aggregator.prepare import prepare

PREVIEW_EVENTS = 10
PREVIEW_LIMITS = FetchLimits(timeout=10, deadline=20)  # an admin is waiting
PREVIEW_BUDGET = Budget(cpu_seconds=20)


@dataclass(frozen=True)
class Preview:
    url: str
    kind: str | None = None
    events: list[EventIntent] = field(default_factory=list)  # the first upcoming ones
    total: int = 0
    skipped: int = 0
    territories: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


def normalise_url(url: str) -> str:
    url = url.strip()
    if url[:9].lower() == "webcal://":
        return "https://" + url[len("webcal://") :]
    return url


def preview_url(
    url: str,
    allow_hosts: tuple[str, ...] = (),
    timezone: str = "Europe/Paris",
    territory: str | None = None,
    limits: FetchLimits = PREVIEW_LIMITS,
    budget: Budget = PREVIEW_BUDGET,
) -> Preview:
    url = normalise_url(url)
    try:
        check_url(url, allow_hosts)
    except UnsafeUrl as exc:
        return Preview(url, error=str(exc))
    probe = SourceConfig(id="preview", name="preview", url=url, territory=territory)
    guard = make_guard(allow_hosts)
    fetched = fetch(probe, None, make_session(4, guard), limits, guard)
    if fetched.outcome is FetchOutcome.FAILED or fetched.body is None:
        return Preview(url, error=fetched.error or "Échec du téléchargement")
    now = dt.datetime.now(dt.UTC)
    # Parsed like any refresh: in a parser process under the budget, never in the caller
    # (a web worker) itself.
    options = RefreshOptions(timezone=timezone, past_days=1, future_days=365, budget=budget)
    try:
        prepared = run_alone(budget, PARSERS, prepare, probe, fetched, options.parsing, now)
    except (OverBudget, ParserDied) as exc:
        return Preview(url, error=str(exc))
    if prepared.error is not None:
        return Preview(url, error=prepared.error)
    intents = prepared.intents
    upcoming = sorted((i for i in intents if (i.end or i.start) >= now), key=lambda i: i.start)
    counts = collections.Counter(i.territory or "—" for i in upcoming)
    return Preview(
        url=url,
        kind=prepared.kind,
        events=upcoming[:PREVIEW_EVENTS],
        total=len(upcoming),
        skipped=prepared.skipped,
        territories=dict(counts.most_common()),
        warnings=prepared.warnings,
    )
