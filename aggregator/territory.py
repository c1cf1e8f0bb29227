"""Territory tagging: which territory of the agenda an event takes place in. Pure.

Decided from, in order:
1. commune names in LOCATION (with or without accents, hyphens, "St"/"Saint", articles),
   checked against a postal code when one is written;
2. a postal code of ours alone ("05000");
3. well-known places that are not communes (aliases.csv, plus [aliases] of sources.toml),
   including big towns outside the area, which give "hors-territoire";
4. a postal code from elsewhere in France -> "hors-territoire";
5. online-only wording (visio, webinaire, Zoom/Jitsi/BBB links, "en ligne") -> "en-ligne";
6. GEO outside the area's bounding box -> "hors-territoire" (the gazetteer has no
   coordinates, so GEO never picks a commune: see README);
7. the source's default territory; else None.
Names that are also common words ("Serres", "La Grave") only count where an address puts its
commune: at the end, or after a postal code or "à".
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from aggregator.model import EventIntent
from aggregator.search import fold

DATA = Path(__file__).parent / "data"
ONLINE = "en-ligne"
OUTSIDE = "hors-territoire"
# Hautes-Alpes, Ubaye and the Sisteronais-Buëch, with a margin (WGS84 degrees).
AREA_BBOX = (44.05, 5.40, 45.15, 7.10)
ARTICLES = ("le", "la", "les", "l")
# Commune names (or their article-less form) that are ordinary words or names found in
# addresses: they need an address position to count.
WEAK = {
    "grave", "noyer", "serres", "saix", "poet", "oze", "laye", "crots", "vars", "rochette",
    "beaume", "faurie", "piarre", "bersac", "vigneaux", "caire", "thuiles", "freissinouse",
    "saulce", "motte", "claret", "lazer", "mison", "nibles", "melve", "theze", "pontis",
    "glaizil", "rambaud", "montmaur", "eourres", "savournon", "moydans", "reynier", "astoin",
    "larche", "gigors", "bayons", "authon", "valernes", "curbans", "piegut", "venterol",
    "sigoyer", "vitrolles", "chateauvieux", "avancon", "cervieres", "rochebrune", "laborel",
    "lachau", "le caire", "salle", "la salle", "roche", "chapelle", "batie", "la batie",
    "saint firmin", "saint pons", "saint geniez", "saint andre de rosans",
}  # fmt: skip
_ONLINE = re.compile(
    r"\b(en ligne|online|visio\w*|webinaire?s?|webinar|zoom|jitsi|bbb|big ?blue ?button|"
    r"teams|google meet|distanciel|a distance|livestream|en direct sur)\b"
    r"|https?://\S*(zoom\.us|jit\.si|meet\.google|teams\.microsoft|whereby|bbb|webex)"
)
_POSTCODE = re.compile(r"\b(\d{5})\b")


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    territory: str
    postal_codes: tuple[str, ...]
    population: int


@dataclass(frozen=True)
class Gazetteer:
    names: Mapping[tuple[str, ...], tuple[Commune, ...]]  # normalised tokens -> communes
    postcodes: Mapping[str, tuple[Commune, ...]]
    aliases: Mapping[tuple[str, ...], str] = field(default_factory=dict)  # tokens -> slug
    longest: int = 1


@dataclass(frozen=True)
class TerritoryGuess:
    slug: str | None
    reason: str  # "commune:Gap", "postcode:05000", "alias:Pra-Loup", "online", ...


_EXPAND = {"st": "saint", "ste": "sainte", "sts": "saints", "n": "", "d": ""}
# A short form never starts with one of these: "Sainte-Colombe" is not "Sainte".
_GENERIC_HEADS = {
    "saint", "sainte", "saints", "val", "mont", "puy", "villar", "chateau", "pont", "forest",
    "serre", "haute", "grand", "petit", "champ", "col", "notre", "croix", "les", "la", "le",
}  # fmt: skip


@dataclass(frozen=True)
class _Word:
    text: str  # folded
    capital: bool  # written with a capital letter (or a digit)
    glued: bool  # joined to the previous word by a hyphen


def _words(text: str) -> list[_Word]:
    """Words of a location with what the writing says about them."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words: list[_Word] = []
    for match in re.finditer(r"[A-Za-z0-9]+", plain):
        folded = _EXPAND.get(match.group().lower(), match.group().lower())
        if not folded:
            continue
        glued = match.start() > 0 and plain[match.start() - 1] in "-‐‑"
        words.append(_Word(folded, not match.group()[0].islower(), glued))
    return words


def tokens(text: str) -> tuple[str, ...]:
    """Folded words: 'St-Étienne-le-Laus' -> ('saint', 'etienne', 'le', 'laus')."""
    return tuple(w.text for w in _words(text))


def _variants(name: str) -> set[tuple[str, ...]]:
    """How residents write a commune: full name, without its article, short form."""
    full = tokens(name)
    found = {full}
    if full[0] in ARTICLES and len(full) > 1:
        found.add(full[1:])
    # "Savines-le-Lac" -> "Savines", "Laragne-Montéglin" -> "Laragne",
    # "Le Monêtier-les-Bains" -> "Le Monêtier" and "Monêtier"
    head = tokens(re.split(r"-(?:le|la|les|en|sur|de|du|des)-|-", name, maxsplit=1)[0])
    if head != full and head and head[-1] not in _GENERIC_HEADS and len(head[-1]) >= 5:
        if len(head) == 1 and head[0] not in _GENERIC_HEADS:
            found.add(head)
        elif len(head) == 2 and head[0] in ARTICLES:
            found.update({head, head[1:]})
    return found


def build_gazetteer(
    rows: Iterable[Mapping[str, str]], aliases: Mapping[str, str] = {}
) -> Gazetteer:
    names: dict[tuple[str, ...], list[Commune]] = defaultdict(list)
    postcodes: dict[str, list[Commune]] = defaultdict(list)
    for row in rows:
        commune = Commune(
            insee=row["insee_code"],
            name=row["name"],
            territory=row["territory_slug"],
            postal_codes=tuple(p for p in row["postal_codes"].split(";") if p),
            population=int(row["population"] or 0),
        )
        for variant in _variants(commune.name):
            names[variant].append(commune)
        for code in commune.postal_codes:
            postcodes[code].append(commune)
    # A short form shared by communes of different territories says nothing: drop it.
    ambiguous = [
        key for key, found in names.items()
        if len({c.territory for c in found}) > 1 and all(tokens(c.name) != key for c in found)
    ]  # fmt: skip
    for key in ambiguous:
        del names[key]
    alias_tokens = {tokens(alias): slug for alias, slug in aliases.items() if tokens(alias)}
    longest = max(len(k) for k in [*names, *alias_tokens])
    return Gazetteer(
        {k: tuple(v) for k, v in names.items()},
        {k: tuple(v) for k, v in postcodes.items()},
        alias_tokens,
        longest,
    )


def read_aliases(path: Path = DATA / "aliases.csv") -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        return {row["alias"]: row["territory"] for row in csv.DictReader(handle)}


@functools.cache
def _default_rows() -> tuple[dict[str, str], ...]:
    with (DATA / "communes-territoires.csv").open(encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def gazetteer_rows() -> tuple[dict[str, str], ...]:
    """The shipped gazetteer's rows (communes-territoires.csv), read once."""
    return _default_rows()


@functools.cache
def _shipped_aliases() -> tuple[tuple[str, str], ...]:
    return tuple(read_aliases().items())


def load_gazetteer(extra_aliases: Mapping[str, str] | None = None) -> Gazetteer:
    """The shipped gazetteer and aliases (each file read once), plus aliases from
    sources.toml."""
    aliases = {**dict(_shipped_aliases()), **(extra_aliases or {})}
    return _cached(tuple(sorted(aliases.items())))


@functools.cache
def _cached(aliases: tuple[tuple[str, str], ...]) -> Gazetteer:
    return build_gazetteer(_default_rows(), dict(aliases))


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    key: tuple[str, ...]


def _find(
    words: tuple[str, ...], table: Mapping[tuple[str, ...], object], longest: int
) -> list[_Match]:
    """Longest non-overlapping matches of `table` keys in `words`, left to right."""
    matches: list[_Match] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            key = words[i : i + size]
            if key in table:
                matches.append(_Match(i, i + size, key))
                i += size
                break
        else:
            i += 1
    return matches


def _is_code(word: str) -> bool:
    return bool(re.fullmatch(r"\d{5}", word))


def _weak_ok(match: _Match, words: list[_Word]) -> bool:
    """A name that is also a common word counts where an address puts its commune."""
    before = words[match.start - 1].text if match.start else ""
    after = words[match.end].text if match.end < len(words) else ""
    if _is_code(before) or _is_code(after):
        return True
    at_end = match.end == len(words) or before == "a"
    return at_end and words[match.start].capital


def _in_compound(match: _Match, words: list[_Word], covered: set[int]) -> bool:
    """'Saint-Germain-en-Laye' holds 'Laye', 'Le Poët-Laval' holds 'Le Poët': a name glued
    by hyphens to words that are no known place is part of another name."""
    start, end = match.start, match.end
    while start > 0 and words[start].glued:
        start -= 1
    while end < len(words) and words[end].glued:
        end += 1
    outside = set(range(start, end)) - set(range(match.start, match.end))
    return bool(outside - covered)


def _pick(communes: tuple[Commune, ...], codes: set[str], default: str | None) -> Commune:
    """One commune among homonyms (Sigoyer 04 / 05)."""
    by_code = [c for c in communes if codes & set(c.postal_codes)]
    if by_code:
        return by_code[0]
    by_default = [c for c in communes if c.territory == default]
    if by_default:
        return by_default[0]
    return max(communes, key=lambda c: c.population)


def _commune(
    words: list[_Word], codes: set[str], gazetteer: Gazetteer, default: str | None
) -> Commune | None:
    texts = tuple(w.text for w in words)
    matches = _find(texts, gazetteer.names, gazetteer.longest)
    aliases = _find(texts, gazetteer.aliases, gazetteer.longest)
    covered = {i for m in (*matches, *aliases) for i in range(m.start, m.end)}
    found = [
        m for m in matches
        if (" ".join(m.key) not in WEAK or _weak_ok(m, words))
        and not _in_compound(m, words, covered)
    ]  # fmt: skip
    if not found:
        return None
    # With a postal code, a commune that has it wins; else the last one named (an address
    # ends with its commune: "12 avenue d'Embrun, Gap").
    coded = [m for m in found if any(codes & set(c.postal_codes) for c in gazetteer.names[m.key])]
    if codes and not coded and not codes & set(gazetteer.postcodes):
        return None  # "Châteauroux (36000)": the code says elsewhere
    best = (coded or found)[-1]
    return _pick(gazetteer.names[best.key], codes, default)


def tag_territory(
    location: str,
    gazetteer: Gazetteer,
    geo: tuple[float, float] | None = None,
    default: str | None = None,
    title: str = "",
) -> TerritoryGuess:
    words = _words(location)
    texts = tuple(w.text for w in words)
    codes = set(_POSTCODE.findall(location))
    ours = {code for code in codes if code in gazetteer.postcodes}
    commune = _commune(words, codes, gazetteer, default)
    if commune is not None:
        return TerritoryGuess(commune.territory, f"commune:{commune.name}")
    territories = {c.territory for code in ours for c in gazetteer.postcodes[code]}
    if len(territories) == 1:
        return TerritoryGuess(territories.pop(), f"postcode:{sorted(ours)[0]}")
    aliases = _find(texts, gazetteer.aliases, gazetteer.longest)
    if aliases:
        alias = aliases[-1]
        return TerritoryGuess(gazetteer.aliases[alias.key], f"alias:{' '.join(alias.key)}")
    if codes - ours and not ours:
        return TerritoryGuess(OUTSIDE, f"postcode:{sorted(codes)[0]}")
    folded = fold(location)
    if _ONLINE.search(folded) or (not texts and _ONLINE.search(fold(title))):
        return TerritoryGuess(ONLINE, "online")
    if geo is not None:
        lat, lon = geo
        south, west, north, east = AREA_BBOX
        if not (south <= lat <= north and west <= lon <= east):
            return TerritoryGuess(OUTSIDE, "geo")
    if default:
        return TerritoryGuess(default, "source")
    return TerritoryGuess(None, "none")


def tag_events(
    intents: Iterable[EventIntent], gazetteer: Gazetteer, default: str | None
) -> list[EventIntent]:
    """The territory stage of the pipeline: each event gets its territory."""
    tagged = []
    # The occurrences of a series, and a source's events at its usual venues, ask the same
    # question again and again: answer each once (tag_territory is pure).
    known: dict[tuple[str, tuple[float, float] | None, str], str | None] = {}
    wordless: dict[str, bool] = {}
    for intent in intents:
        # The title counts only for a location without words ("en ligne" in the title).
        if intent.location not in wordless:
            wordless[intent.location] = not _words(intent.location)
        key = (intent.location, intent.geo, intent.title if wordless[intent.location] else "")
        if key not in known:
            guess = tag_territory(intent.location, gazetteer, intent.geo, default, intent.title)
            known[key] = guess.slug
        tagged.append(replace(intent, territory=known[key]))
    return tagged
