"""Places for deduplication: a location's parts, how alike two places are, and a title's
words once the places' are out. Pure.

A location is split into parts, venue first and town last ("Salle des fêtes, Guillestre");
a street address is marked apart ("4 avenue de la République"), since a venue's name and
its address may be one building. Two towns are two places whatever their venues are called.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from rapidfuzz import fuzz

from aggregator.dedup_words import STOP_WORDS, folded
from aggregator.territory import Commune, load_gazetteer
from aggregator.territory import tokens as territory_tokens

# A street address ("12 rue Carnot", "Chemin des Alpins"), not a venue's name; a postcode
# before the town ("05100 Briançon") is not one.
_ADDRESS = re.compile(
    r"^(?:\d{1,4}(?!\d)|(?:rue|avenue|av|bd|boulevard|chemin|route|rte|impasse|allee|quai"
    r"|faubourg|montee|lotissement|lieu dit|lieudit|hameau)\b)"
)
ADDRESS = "@"  # marks an address part of a place


def place_parts(location: str) -> tuple[str, ...]:
    """Folded parts of a location, venue first, town last; a street address is marked
    (ADDRESS), since "4 avenue de la République" and "La Fabrique" may be one building. A
    venue written with its town in one part ("Salle des fêtes de Laragne") is two parts."""
    parts = []
    last = ""  # the last part as written
    for part in re.split(r",|\s[-–]\s", location):
        text = folded(part).strip()
        kept = _kept(text)
        if kept:
            parts.append(ADDRESS + kept if _ADDRESS.match(text) else kept)
            last = part
    if len(parts) == 1 and not parts[0].startswith(ADDRESS):
        town = _commune(last)  # first: "Saint-André-d'Embrun" is a town, not a venue at Embrun
        return (town,) if town else _venue_of_town(location) or (parts[0],)
    if parts and not parts[-1].startswith(ADDRESS):
        parts[-1] = _commune(last) or parts[-1]
    return tuple(parts)


def _kept(text: str) -> str:
    """A folded text's words, without small words and numbers."""
    return " ".join(w for w in re.findall(r"[a-z]+", text) if w not in STOP_WORDS)


def _commune(text: str) -> str | None:
    """The commune's own name, folded, when `text` is a way of writing one and only one
    ("Laragne", "05300 Laragne-Montéglin", "Savines"): one town, one text, however each
    publisher writes it."""
    words = tuple(w for w in territory_tokens(folded(text)) if not w.isdigit())
    found = _names().get(words, ())
    if len({c.insee for c in found}) != 1:
        return None
    return _kept(folded(found[0].name)) or None


@functools.cache
def _names() -> Mapping[tuple[str, ...], tuple[Commune, ...]]:
    """The gazetteer's ways of writing each commune, and the communes each may be (read
    once: load_gazetteer reads its aliases each time)."""
    return load_gazetteer().names


@functools.cache
def _towns() -> frozenset[str]:
    """Every commune's own name as place_parts writes a town ("laragne monteglin")."""
    return frozenset(
        filter(None, (_kept(folded(c.name)) for found in _names().values() for c in found))
    )


@functools.cache
def _communes() -> tuple[frozenset[tuple[str, ...]], int]:
    """The gazetteer's ways of writing each commune (aggregator.territory), and the most
    words one takes."""
    names = _names()
    return frozenset(names), max((len(n) for n in names), default=0)


def _venue_of_town(location: str) -> tuple[str, ...] | None:
    """("salle fetes", "laragne") for "Salle des fêtes de Laragne": a venue's words, then
    a commune's name ending the part; None if it ends with none or is nothing else."""
    words = territory_tokens(folded(location))  # (ligatures written out first)
    names, longest = _communes()
    for size in range(min(longest, len(words) - 1), 0, -1):
        if tuple(words[-size:]) in names:
            venue = [w for w in words[:-size] if w not in STOP_WORDS and not w.isdigit()]
            if not venue:
                return None
            town = " ".join(words[-size:])
            return " ".join(venue), _commune(town) or _kept(town)
    return None


def _named(place: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p for p in place if not p.startswith(ADDRESS))


def unmarked(place: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.removeprefix(ADDRESS) for p in place)


def town_words(place: tuple[str, ...]) -> frozenset[str]:
    """The words of a place's last part, its town (or all it gives)."""
    return frozenset(place[-1].removeprefix(ADDRESS).split()) if place else frozenset()


@functools.lru_cache(maxsize=65536)
def place_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Venue against venue and town against town when both give both (one town, venues
    named differently: "MJC" / "Salle des fêtes" still half the way); the places as wholes
    when one gives one part or the order differs ("Place J. Marcellin, Gap" / "Gap, place
    J. Marcellin"). Addresses count against addresses only: a street address against a
    venue's name says nothing of whether they are one building, so then the towns decide."""
    if not a or not b:
        return None
    named_a, named_b = _named(a), _named(b)
    addresses = len(named_a) < len(a) and len(named_b) < len(b)
    if addresses and (len(named_a) < 2 or len(named_b) < 2):
        # Both give an address, and not both a venue's name: the addresses are the venues.
        named_a, named_b = unmarked(a), unmarked(b)
    a, b = named_a or unmarked(a), named_b or unmarked(b)
    if a[-1] != b[-1] and a[-1] in _towns() and b[-1] in _towns():
        return 0.0  # two communes ("Orcières" / "Ancelle"), however alike their names read
    whole = fuzz.token_set_ratio(" ".join(a), " ".join(b)) / 100
    if len(a) >= 2 and len(b) >= 2 and whole < 1.0:  # 1.0: one place within the other
        return max(_venue_town(a[0], a[-1], b[0], b[-1]), _venue_town(a[0], a[-1], b[-1], b[0]))
    return whole


def both_venues(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether both places name a venue or an address, not only a town."""
    return len(a) >= 2 and len(b) >= 2


def one_names_the_others_town(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one place's words start with the other's town ("Théâtre du Briançonnais" /
    "Briançon", "Ressourcerie de l'Embrunais" / "Embrun"): a venue there, not another
    place ("Saint-Firmin" / "Saint-Jacques-en-Valgaudemar")."""
    if not a or not b:
        return False
    for place, other in ((a, b), (b, a)):
        town = other[-1].removeprefix(ADDRESS)
        text = " ".join(unmarked(place))
        if town and (text.startswith(town) or f" {town}" in text):
            return True
    return False


SAME_TOWN = 0.75  # two towns' names less alike than this are two towns, whatever the venue


def _venue_town(venue_a: str, town_a: str, venue_b: str, town_b: str) -> float:
    town = fuzz.token_set_ratio(town_a, town_b) / 100
    if town < SAME_TOWN:
        return 0.0  # "Salle des fêtes, Serres" / "Salle des fêtes, Guillestre"
    venue = fuzz.token_set_ratio(venue_a, venue_b) / 100
    return town * (0.5 + 0.5 * venue)


def strip_places(words: tuple[str, ...], places: frozenset[str]) -> tuple[str, ...]:
    """Title words that are not the places' (nor made from them: "Embrunais",
    "Briançonnais", "Guillestrois", "Gapençais"); the title itself when nothing else
    remains."""
    prefixes, stems = place_prefixes(places)
    kept = []
    for w in words:
        if w in places or w.startswith(prefixes):
            continue
        if w.startswith(stems) and _DEMONYM.search(w):
            continue
        kept.append(w)
    return tuple(kept) or words


# What the people of a town are called: "Guillestre" gives "Guillestrois", "Gap"
# "Gapençais", "Queyras" "Queyrassin".
_DEMONYM = re.compile(r"(?:ais|aise|oise?|ien|ienne|in|ine)s?$")


@functools.lru_cache(maxsize=16384)
def place_prefixes(places: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Place words a title word may start with, and the shorter stems a demonym may start
    with (the place's last two letters off: "guillest-rois")."""
    return (
        tuple(p for p in places if len(p) >= 4),
        tuple(p[: max(3, len(p) - 2)] for p in places if len(p) >= 3),
    )
