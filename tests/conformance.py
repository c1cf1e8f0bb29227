"""Conformance of the project's calendar reading with an independent oracle, ical.js.

The calendars are the real-world files (Google, Outlook/Exchange, Thunderbird, Nextcloud,
Confluence, WordPress exports, files from bug reports) that the installed
recurring-ical-events and icalendar packages ship for their own tests: read from
site-packages, never copied here. Each file goes through what the project publishes (parse,
normalise: the stored occurrences) and through ical.js (tests/js/expand-ics.mjs); the two
lists of occurrences are compared one by one (start, end, all-day, title, status) over a
wide window.

The oracle is given what it lacks and the project has by design, so that a disagreement is
about reading the calendar, not about setup: zone definitions for TZIDs a file names without
a VTIMEZONE (ical.js has no zone database; the project resolves IANA, Windows and Outlook
names), and the file's X-WR-TIMEZONE (else the agenda's zone) for floating times.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from aggregator.model import Kind, ParseError, Status
from aggregator.normalise import normalise
from aggregator.parse import Window, parse_document
from aggregator.parse.ics import decode, repair
from aggregator.parse.tzid import resolve_tzid
from aggregator.prepare import in_window
from tests.conftest import source

JS = Path(__file__).parent / "js"
AGENDA_ZONE = "Europe/Paris"
FROM = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
TO = dt.datetime(2035, 1, 1, tzinfo=dt.UTC)
STEPS = 20_000  # occurrences ical.js walks per series at most
ORACLE_SECONDS = 30
SERIES_CAP = 1_000  # the project keeps this many occurrences of one series (documented)
_TZID = re.compile(r";TZID=(\"[^\"]*\"|[^;:]*)[;:]", re.I)


def calendars() -> list[Path]:
    """Every .ics file the installed packages ship for their own tests."""
    folders = [
        Path(recurring_ical_events.__file__).parent / "test" / "calendars",
        Path(icalendar.__file__).parent / "tests" / "calendars",
    ]
    return sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.ics"))


def name(path: Path) -> str:
    """A stable short name: package/file."""
    package = "recurring_ical_events" if "recurring_ical_events" in path.parts else "icalendar"
    return f"{package}/{path.name}"


@dataclass(frozen=True)
class Occurrence:
    uid: str
    start: str  # a date (all-day) or a UTC instant, ISO
    end: str | None
    all_day: bool
    title: str
    status: str


def _title(text: str) -> str:
    return " ".join(text.split())


def _calendar_zone(text: str) -> str:
    match = re.search(r"^X-WR-TIMEZONE:(.+)$", text, re.M | re.I)
    zone = resolve_tzid(match.group(1).strip()) if match else None
    return zone or AGENDA_ZONE


def _zones(text: str) -> dict[str, str]:
    """VTIMEZONEs for the TZIDs the file names without defining (from the tz database)."""
    defined = {m.strip() for m in re.findall(r"^BEGIN:VTIMEZONE\s*^TZID:(.+)$", text, re.M)}
    defined |= {m.strip() for m in re.findall(r"^TZID:(.+)$", text, re.M)}
    zones: dict[str, str] = {}
    for raw in set(_TZID.findall(text)):
        tzid = raw.strip('"')
        if tzid in defined or tzid in zones:
            continue
        iana = resolve_tzid(tzid)
        if not iana:
            continue
        try:
            zone = icalendar.Timezone.from_tzid(
                iana, first_date=dt.date(1970, 1, 1), last_date=dt.date(2040, 1, 1)
            )
        except Exception:  # a zone icalendar cannot describe: the oracle goes without
            continue
        zone["TZID"] = tzid
        zones[tzid] = _one_rdate_per_line(zone.to_ical().decode())
    return zones


def _one_rdate_per_line(text: str) -> str:
    """ical.js reads only the first value of an RDATE in a VTIMEZONE (oracle bug): give it
    one per line, as RFC 5545 also allows."""
    lines = []
    for line in re.sub(r"\r?\n[ \t]", "", text).splitlines():
        if line.startswith("RDATE:") and "," in line:
            lines += ["RDATE:" + value for value in line[len("RDATE:") :].split(",")]
        else:
            lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def ours(path: Path) -> list[Occurrence] | str:
    """What the project publishes from the file (its stored occurrences), or why not."""
    window = Window(FROM, TO, dt.date(2026, 11, 24))
    try:
        parsed = parse_document(path.read_bytes(), Kind.ICS, window)
    except ParseError as exc:
        return f"refused: {exc}"
    zone = ZoneInfo(AGENDA_ZONE)
    found = []
    for intent in normalise(parsed, source(), AGENDA_ZONE, []):
        if not in_window(intent, window):
            continue
        if intent.all_day:
            start = intent.start.astimezone(zone).date().isoformat()
            end = intent.end.astimezone(zone).date().isoformat() if intent.end else None
        else:
            start = intent.start.astimezone(dt.UTC).isoformat()
            end = intent.end.astimezone(dt.UTC).isoformat() if intent.end else None
        uid = "" if intent.uid.startswith("synth-") else intent.uid
        found.append(Occurrence(uid, start, end, intent.all_day, _title(intent.title),
                                str(intent.status)))  # fmt: skip
    return found


def _instant(value: str) -> str:
    if len(value) == 10:
        return value
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()


def _from_oracle(item: dict[str, Any]) -> Occurrence:
    start = _instant(item["start"])
    end = _instant(item["end"]) if item.get("end") else None
    if item["allDay"]:
        if end is None or end <= start:  # RFC 5545 3.6.1: a date with no end lasts the day
            end = (dt.date.fromisoformat(start) + dt.timedelta(days=1)).isoformat()
        end = end[:10]
    elif end is not None and end <= start:
        end = None  # no duration: the project stores no end
    status = str(item.get("status") or "CONFIRMED").lower()
    if status not in {s.value for s in Status}:
        status = "confirmed"
    # The project names an untitled event "(sans titre)" (documented): not a disagreement.
    title = _title(str(item["summary"] or "")) or "(sans titre)"
    return Occurrence(str(item["uid"] or ""), start, end, bool(item["allDay"]), title, status)


def node_available() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS / "node_modules" / "ical.js").is_dir():
        return "ical.js is not installed (make test runs npm ci in tests/js)"
    return None


def _run_node(job: dict[str, Any], job_file: Path) -> list[Occurrence] | str:
    job_file.write_text(json.dumps(job))
    try:
        done = subprocess.run(["node", str(JS / "expand-ics.mjs"), str(job_file)], cwd=JS,
                              capture_output=True, text=True, timeout=ORACLE_SECONDS)  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"oracle error: no answer in {ORACLE_SECONDS} s"
    if done.returncode != 0 or not done.stdout.strip():
        return f"oracle error: {done.stderr.strip()[-300:]}"
    item = json.loads(done.stdout.splitlines()[-1])
    if "error" in item:
        return f"oracle error: {item['error']}"
    return [_from_oracle(o) for o in item["occurrences"]]


def _oracle_one(path: Path, folder: Path) -> tuple[list[Occurrence] | str, bool]:
    """ical.js's reading of the file; when it cannot read the raw file, its reading of the
    file after the project's textual repairs (aggregator.parse.ics.repair: a bare date
    without VALUE=DATE, an empty parameter...), flagged True, so the rest is still compared."""
    text = decode(path.read_bytes())
    stem = folder / f"{abs(hash(path))}"
    file = {"path": str(path), "tz": _calendar_zone(text), "zones": _zones(text)}
    job = {"from": FROM.isoformat(), "to": TO.isoformat(), "steps": STEPS, "files": [file]}
    answer = _run_node(job, stem.with_suffix(".json"))
    if not isinstance(answer, str):
        return answer, False
    repaired = stem.with_suffix(".ics")
    repaired.write_text(repair(text, []))
    second = _run_node({**job, "files": [{**file, "path": str(repaired)}]},
                       stem.with_suffix(".2.json"))  # fmt: skip
    return (second, True) if not isinstance(second, str) else (answer, False)


def oracle(paths: list[Path]) -> dict[Path, tuple[list[Occurrence] | str, bool]]:
    """ical.js's occurrences of each file or its error, and whether it needed the project's
    textual repairs (one node process a file: a file ical.js loops on costs only itself)."""
    with tempfile.TemporaryDirectory() as folder, ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        answers = pool.map(lambda p: _oracle_one(p, Path(folder)), paths)
        return dict(zip(paths, answers, strict=True))


@dataclass(frozen=True)
class Comparison:
    total: int  # occurrences, counted once when both agree
    agreed: int
    differences: tuple[str, ...]  # worded, sorted


def compare(mine: list[Occurrence], theirs: list[Occurrence]) -> Comparison:
    """Occurrence by occurrence, matched on (UID, start)."""
    mine_by = collections.defaultdict(list)
    for item in mine:
        mine_by[(item.uid, item.start)].append(item)
    theirs_by = collections.defaultdict(list)
    for item in theirs:
        theirs_by[(item.uid, item.start)].append(item)
    # A series the project cut at its cap is compared up to the last occurrence it kept.
    counts = collections.Counter(item.uid for item in mine)
    capped = {uid: max(i.start for i in mine if i.uid == uid)
              for uid, n in counts.items() if n >= SERIES_CAP}  # fmt: skip
    differences = []
    agreed = total = 0
    for key in sorted(set(mine_by) | set(theirs_by)):
        uid, start = key
        if uid in capped and start > capped[uid]:
            continue
        a, b = sorted(mine_by.get(key, []), key=repr), sorted(theirs_by.get(key, []), key=repr)
        for x, y in zip(a, b, strict=False):
            total += 1
            fields = [f for f in ("end", "all_day", "title", "status")
                      if getattr(x, f) != getattr(y, f)]  # fmt: skip
            if fields:
                detail = ", ".join(f"{f}: {getattr(x, f)!r} / {getattr(y, f)!r}" for f in fields)
                differences.append(f"{uid} {start}: {detail}")
            else:
                agreed += 1
        for x in a[len(b) :]:
            total += 1
            differences.append(f"{uid} {start}: only in the project ({x.title!r})")
        for y in b[len(a) :]:
            total += 1
            differences.append(f"{uid} {start}: only in ical.js ({y.title!r})")
    return Comparison(total, agreed, tuple(differences))


@dataclass(frozen=True)
class Verdict:
    """One file's outcome: `state` is "agree", "differ", "oracle-unreadable" (ical.js
    cannot read it, even repaired, where the project publishes occurrences), "refused" (the
    project refuses a file ical.js gets occurrences from) or "nothing" (neither publishes
    anything); `differences` lists the occurrences that disagree."""

    file: str
    state: str
    total: int = 0
    agreed: int = 0
    differences: tuple[str, ...] = ()
    repaired: bool = False


def verdicts(paths: list[Path]) -> list[Verdict]:
    answers = oracle(paths)
    found = []
    for path in paths:
        mine = ours(path)
        theirs, repaired = answers[path]
        label = name(path)
        if (isinstance(mine, str) or not mine) and (isinstance(theirs, str) or not theirs):
            found.append(Verdict(label, "nothing"))  # neither publishes an occurrence
        elif isinstance(mine, str):
            found.append(Verdict(label, "refused", total=len(theirs), differences=(mine,)))
        elif isinstance(theirs, str):
            found.append(Verdict(label, "oracle-unreadable", total=len(mine),
                                 differences=(theirs,)))  # fmt: skip
        else:
            result = compare(mine, theirs)
            state = "differ" if result.differences else "agree"
            found.append(Verdict(label, state, result.total, result.agreed,
                                 result.differences, repaired))  # fmt: skip
    return found
