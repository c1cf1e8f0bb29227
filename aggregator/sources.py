"""sources.toml: what to fetch. Loaded, validated, and refused with the line and key at fault."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregator.model import PROPOSALS_ID, Kind, SourceConfig
from aggregator.territories import TERRITORIES

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
ALLOWED_SCHEMES = ("http://", "https://", "webcal://", "file://")
MIN_REFRESH = dt.timedelta(minutes=5)
KEYS = {
    "id",
    "name",
    "url",
    "kind",
    "territory",
    "tags",
    "website",
    "refresh",
    "enabled",
    "timezone",
    "pubdate_is_start",
    "review",
}


@dataclass(frozen=True)
class Problem:
    line: int
    key: str | None
    source_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.source_id:
            where += f", source {self.source_id!r}"
        if self.key:
            where += f", key {self.key!r}"
        return f"{where}: {self.message}"


class SourcesError(ValueError):
    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


def parse_duration(text: str) -> dt.timedelta | None:
    """'90m', '1h', '2h30m', '1d' -> timedelta; None when not of that form."""
    match = DURATION.match(text.strip())
    if not text.strip() or not match:
        return None
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return dt.timedelta(days=days, hours=hours, minutes=minutes)


def _table_lines(text: str) -> list[int]:
    """Line numbers (1-based) of each [[source]] header, in order."""
    return [
        n
        for n, line in enumerate(text.splitlines(), 1)
        if re.match(r"^\s*\[\[\s*source\s*\]\]", line)
    ]


def _key_line(text: str, start: int, key: str) -> int:
    """Line of `key = ...` inside the table starting at line `start` (header line if absent)."""
    lines = text.splitlines()
    for n in range(start, len(lines)):
        line = lines[n]
        if re.match(r"^\s*\[", line):
            break
        if re.match(rf"""^\s*["']?{re.escape(key)}["']?\s*=""", line):
            return n + 1
    return start


def _resolve_url(raw: str, base_dir: Path) -> str:
    """A URL with its scheme in lower case (`HTTP://` is a URL, never a relative path),
    or an absolute path for a file written by hand."""
    scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", raw, re.I)
    if scheme:
        name = scheme.group(1).lower()
        rest = raw[scheme.end() :]
        if name == "webcal":
            return "https://" + rest
        if name == "file":
            return str(Path(rest))
        return f"{name}://{rest}"
    return str((base_dir / raw).resolve())


class _Reporter:
    """Collects the problems of one [[source]] table, locating each key's line."""

    def __init__(self, text: str, start: int, source_id: str | None, out: list[Problem]):
        self.text, self.start, self.source_id, self.out = text, start, source_id, out
        self.count = 0

    def __call__(self, key: str | None, message: str) -> None:
        line = _key_line(self.text, self.start, key) if key else self.start
        self.out.append(Problem(line, key, self.source_id, message))
        self.count += 1


def _validate(table: dict[str, Any], base_dir: Path, report: _Reporter) -> SourceConfig | None:
    sid = table.get("id")
    for key in sorted(set(table) - KEYS):
        report(key, f"unknown key (expected one of: {', '.join(sorted(KEYS))})")
    for key in ("id", "name", "url"):
        if key not in table:
            report(None, f"missing required key {key!r}")
        elif not isinstance(table[key], str) or not table[key].strip():
            report(key, "must be a non-empty string")
    if isinstance(sid, str) and not SLUG.match(sid):
        report("id", "must be a slug: lower-case letters, digits and hyphens")
    elif sid == PROPOSALS_ID:
        report("id", f"{PROPOSALS_ID!r} is reserved for the events proposed on the site")
    url = table.get("url")
    has_scheme = isinstance(url, str) and bool(re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I))
    if has_scheme and not str(url).lower().startswith(ALLOWED_SCHEMES):
        report("url", "only http, https, webcal URLs or a file path are accepted")
    kind = table.get("kind", "auto")
    if kind not in {k.value for k in Kind}:
        report("kind", f"must be one of: {', '.join(k.value for k in Kind)}")
    territory = table.get("territory")
    if territory is not None and territory not in TERRITORIES:
        report("territory", f"unknown territory; known: {', '.join(TERRITORIES)}")
    tags = table.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        report("tags", "must be a list of non-empty strings")
    website = table.get("website")
    if website is not None and not (
        isinstance(website, str) and website.startswith(("http://", "https://"))
    ):
        report("website", "must be an http(s) URL")
    refresh = table.get("refresh", "1h")
    interval = parse_duration(refresh) if isinstance(refresh, str) else None
    if interval is None:
        report("refresh", "must be a duration such as '30m', '1h', '2h30m' or '1d'")
    elif interval < MIN_REFRESH:
        report("refresh", "must be at least 5m (be polite to the source's server)")
    for key in ("enabled", "pubdate_is_start", "review"):
        if key in table and not isinstance(table[key], bool):
            report(key, "must be true or false")
    zone = table.get("timezone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            report("timezone", "unknown time zone (use an IANA name such as Europe/Paris)")
    if report.count:
        return None
    return SourceConfig(
        id=table["id"],
        name=table["name"].strip(),
        url=_resolve_url(table["url"].strip(), base_dir),
        kind=Kind(kind),
        territory=territory,
        tags=tuple(t.strip() for t in tags),
        website=website,
        refresh=interval or dt.timedelta(hours=1),
        enabled=table.get("enabled", True),
        timezone=zone,
        pubdate_is_start=table.get("pubdate_is_start", False),
        review=table.get("review", False),
    )


@dataclass(frozen=True)
class SourcesFile:
    sources: list[SourceConfig]
    aliases: dict[str, str]  # place name -> territory slug, extends the shipped aliases


def _aliases(document: dict[str, Any], text: str, problems: list[Problem]) -> dict[str, str]:
    table = document.get("aliases", {})
    header = next(
        (n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "[aliases]"), 1
    )
    if not isinstance(table, dict):
        problems.append(Problem(header, "aliases", None, "must be a table of place = territory"))
        return {}
    aliases = {}
    for place, slug in table.items():
        if slug not in TERRITORIES:
            line = _key_line(text, header, place) if header > 1 else header
            problems.append(Problem(line, place, None, f"aliases: unknown territory {slug!r}"))
        else:
            aliases[place] = slug
    return aliases


def parse_sources(text: str, path: Path | str = "sources.toml") -> list[SourceConfig]:
    """Validate the text of a sources file; raise SourcesError listing every problem."""
    return parse_sources_file(text, path).sources


def parse_sources_file(text: str, path: Path | str = "sources.toml") -> SourcesFile:
    """Validate sources and aliases; raise SourcesError listing every problem."""
    path = Path(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc), text)
        raise SourcesError(path, [Problem(line, None, None, f"invalid TOML: {exc}")]) from None
    problems: list[Problem] = []
    for key in sorted(set(document) - {"source", "aliases"}):
        problems.append(
            Problem(1, key, None, "unknown top-level key (expected [[source]] or [aliases])")
        )
    aliases = _aliases(document, text, problems)
    tables = document.get("source", [])
    if not isinstance(tables, list):
        raise SourcesError(path, [Problem(1, "source", None, "must be [[source]] tables")])
    headers = _table_lines(text)
    configs: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        start = headers[index] if index < len(headers) else 1
        sid = table.get("id") if isinstance(table.get("id"), str) else None
        report = _Reporter(text, start, sid, problems)
        config = _validate(table, path.parent, report)
        if sid is not None and sid in seen:
            report("id", f"duplicate id (first used on line {seen[sid]})")
            continue
        if sid is not None:
            seen[sid] = start
        if config is not None:
            configs.append(replace(config, line=start))
    if problems:
        raise SourcesError(path, problems)
    return SourcesFile(configs, aliases)


def _line_from_message(message: str, text: str) -> int:
    match = re.search(r"line (\d+)", message)
    if match:
        return int(match.group(1))
    return max(1, len(text.splitlines())) if "end of document" in message else 1


def load_sources(path: Path | str) -> list[SourceConfig]:
    return load_sources_file(path).sources


def load_sources_file(path: Path | str) -> SourcesFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesError(path, [Problem(0, None, None, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise SourcesError(path, [Problem(0, None, None, f"not UTF-8 text: {exc}")]) from None
    return parse_sources_file(text, path)
