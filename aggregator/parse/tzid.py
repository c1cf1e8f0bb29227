"""Turn the time zone names real generators write into IANA zone names.

icalendar 7 resolves IANA and Windows names ("Romance Standard Time") itself, and zones a
VTIMEZONE in the document defines. It silently gives a *naive* time for anything else:
Outlook display names ("(UTC+01:00) Amsterdam, Berlin, ..."), "UTC+1", "GMT+01:00", "Paris".
We rewrite those TZIDs before parsing so the times keep their zone.
"""

from __future__ import annotations

import functools
import re
import warnings
import zoneinfo

from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

_OFFSET = re.compile(r"^\(?\s*(?:UTC|GMT|Z)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*\)?")


@functools.cache
def _cities() -> dict[str, str]:
    """'paris' -> 'Europe/Paris', 'new york' -> 'America/New_York' (first region wins)."""
    index: dict[str, str] = {}
    for key in sorted(zoneinfo.available_timezones()):
        if "/" not in key or key.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/")):
            continue
        city = key.rsplit("/", 1)[1].replace("_", " ").lower()
        index.setdefault(city, key)
    return index


# Cities Outlook's display names use that no IANA zone is named after.
CITY_ALIASES = {"brasília": "America/Sao_Paulo", "brasilia": "America/Sao_Paulo",
                "eastern time (us & canada)": "America/New_York"}  # fmt: skip


@functools.cache
def _iana_lower() -> dict[str, str]:
    return {key.lower(): key for key in zoneinfo.available_timezones()}


def known_to_icalendar(name: str) -> bool:
    with warnings.catch_warnings():
        # It guesses vendor-prefixed names with a warning; resolve_tzid does the same, quietly.
        warnings.simplefilter("ignore")
        try:
            return tzp.timezone(name) is not None
        except (OSError, ValueError):  # "Europe" is a folder of tzdata, "../x" no name at all
            return False


@functools.cache
def resolve_tzid(name: str) -> str | None:
    """An IANA zone name for a TZID, or None when nothing sensible can be said."""
    name = name.strip().strip('"').strip()
    if not name:
        return None
    iana = _iana_lower().get(name.lower())
    if iana:
        return iana
    windows = WINDOWS_TO_OLSON.get(name)
    if windows:
        return str(windows)
    # Some generators prefix a path: "/freeassociation.sourceforge.net/Europe/Paris".
    for length in (3, 2):
        tail = "/".join(name.split("/")[-length:])
        if tail.lower() in _iana_lower():
            return _iana_lower()[tail.lower()]
    # Outlook display name: "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris" -> a listed city.
    words = re.sub(r"^\([^)]*\)", "", name)
    cities = {**_cities(), **CITY_ALIASES}
    zones = [cities.get(city.strip().lower()) for city in re.split(r"[,;/-]| - ", words)]
    found = [z for z in zones if z]
    if found:
        # The cities listed share one rule set; name the zone our users know when listed.
        return "Europe/Paris" if "Europe/Paris" in found else found[0]
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if minutes == 0 and hours <= 14:
            if hours == 0:
                return "UTC"
            # Etc/GMT signs are inverted (POSIX): UTC+1 is Etc/GMT-1.
            return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    return None
