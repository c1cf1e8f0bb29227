"""Deduplication: the same event published by several sources becomes one. Pure.

How it decides, for two occurrences from *different* sources (one source never duplicates
itself: its two records are two events):
1. Blocking: only occurrences sharing a local day are compared, and only when they share
   their UID, their event URL or the start of a significant title word other than their own
   place's, so 100k occurrences take seconds.
2. Time: timed starts at most 60 min apart; an all-day record matches a timed one on one of
   its days.
3. Place: both territories known and different -> never the same event; otherwise the
   similarity of the places (when both are given) weighs in.
4. Title: accent/case folded, stop words, date words and the places' words removed,
   compared with rapidfuzz.
   Generic titles ("Assemblée générale", "Atelier") need the same start and the same place.
An identical UID or event URL is enough with compatible times and related titles (a shared
short UID with unrelated titles is a collision). Pairs are merged best first
into clusters; a cluster never holds two records of one source, and admin overrides (merge /
split pairs) always win. Cluster ids are stable: a cluster keeps the id most of its members
had, so subscribers never see a duplicate appear when a source joins or leaves.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from aggregator.search import fold

PARIS = ZoneInfo("Europe/Paris")
MAX_START_GAP = dt.timedelta(minutes=60)
THRESHOLD = 0.80
MIN_TITLE = 0.75  # title similarity under which two records are never one event
STOP_WORDS = {
    "le", "la", "les", "l", "de", "du", "des", "d", "un", "une", "et", "a", "au", "aux", "en",
    "pour", "avec", "sur", "par", "the", "of", "and", "s", "sa", "son", "ses", "notre", "nos",
    "votre", "vos", "ce", "cette", "nouveau", "nouvelle", "edition", "eme", "e", "er",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "janvier",
    "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
    "novembre", "decembre", "h", "annule", "complet", "report", "reporte",
}  # fmt: skip
GENERIC = {
    "assemblee", "generale", "ag", "reunion", "permanence", "atelier", "ateliers",
    "conference", "concert", "marche", "formation", "soiree", "fete", "repair", "cafe",
    "rencontre", "rencontres", "debat", "projection", "spectacle", "stage", "sortie",
    "balade", "randonnee", "visite", "ouverte", "porte", "portes", "ouvertes", "benevoles",
    "conseil", "administration", "ca", "bureau", "pique", "nique", "repas", "partage",
    "jeux", "jeu", "cours", "cinema", "animation", "info", "information", "point",
    "chorale", "lecture", "apero", "aperitif", "accueil",
    # "Événement", "Event#3" (its number goes): a title saying only that it is an event.
    "evenement", "evenements", "event", "events", "test",
}  # fmt: skip
GENERIC_START_GAP = dt.timedelta(minutes=30)
# A shared UID or link is one event only if the titles are related: half their words
# (numbers included) in common, or nearly the same spelling.
UID_MIN_SHARED = 0.5
UID_MIN_RATIO = 90
_SYNTHETIC_UID = re.compile(r"^(synth|jsonld)-")


@dataclass(frozen=True, slots=True)
class DedupRecord:
    id: str  # the occurrence's stable public id
    source_id: str
    title: str
    start: dt.datetime  # aware
    end: dt.datetime | None = None
    all_day: bool = False
    location: str = ""
    territory: str | None = None
    uid: str = ""
    url: str | None = None
    first_seen: dt.datetime | None = None


@dataclass(frozen=True)
class Overrides:
    """Admin decisions, as pairs of occurrence ids."""

    merge: frozenset[frozenset[str]] = frozenset()
    split: frozenset[frozenset[str]] = frozenset()


@dataclass(slots=True)
class _Prepared:
    record: DedupRecord
    words: tuple[str, ...]
    title: str
    place: tuple[str, ...]  # folded parts: venue first, town last
    days: tuple[dt.date, ...]
    generic: bool = field(default=False)
    keys: frozenset[str] = field(default=frozenset())  # blocking keys from the title
    place_words: frozenset[str] = field(default=frozenset())
    rest: tuple[str, ...] = ()  # title words other than its own place's


KEY_LENGTH = 5


def _blocking_keys(words: tuple[str, ...], rest: tuple[str, ...]) -> frozenset[str]:
    """Word prefixes, so "atelier"/"ateliers" or "compostage"/"compostages" meet; the
    record's own town or venue named in its title ("Repair café à Gap" at "MJC, Gap") is
    left out when other words remain (`rest`): it pairs every event of the town that day
    (four in five candidate pairs on a generated agenda) and never decides a match alone,
    since _conflicting_words ignores place words."""
    return frozenset(w[:KEY_LENGTH] for w in rest or words)


def title_words(title: str) -> tuple[str, ...]:
    words = re.findall(r"[a-z0-9]+", fold(title))
    return tuple(w for w in words if w not in STOP_WORDS and not w.isdigit())


def _place(location: str) -> tuple[str, ...]:
    parts = []
    for part in re.split(r",|\s[-–]\s", location):
        words = re.findall(r"[a-z]+", fold(part))
        kept = " ".join(w for w in words if w not in STOP_WORDS)
        if kept:
            parts.append(kept)
    return tuple(parts)


def _place_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float | None:
    """Venue against venue and town against town when both give both; else the whole."""
    if not a or not b:
        return None
    if len(a) >= 2 and len(b) >= 2:
        venue = fuzz.token_set_ratio(a[0], b[0])
        town = fuzz.token_set_ratio(a[-1], b[-1])
        return min(venue, town) / 100
    return fuzz.token_set_ratio(" ".join(a), " ".join(b)) / 100


def _conflicting_words(a: _Prepared, b: _Prepared) -> bool:
    """Each title has a significant word the other lacks: "l'eau" / "la forêt en montagne",
    "SCIC" / "SCOP". One title merely adding words ("Repair Café à Briançon") is fine."""
    places = a.place_words | b.place_words

    def unmatched(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
        return any(
            word not in GENERIC
            and word not in places
            and all(fuzz.ratio(word, other) < 80 for other in theirs)
            for word in mine
        )

    return unmatched(a.words, b.words) and unmatched(b.words, a.words)


def _related(a: _Prepared, b: _Prepared) -> bool:
    """Whether two titles could name one event, for records that share a UID or a link.
    Generators reuse short UIDs ("1", "123", "series 2") and sites one link for a whole
    programme: a shared identifier with unrelated titles ("Event#3", "Crazy Event
    Thingy!") is a collision, not one event."""
    first, second = _tokens(a.record.title), _tokens(b.record.title)
    if not first or not second:
        return True  # nothing to compare: the identifier is all there is
    shared = len(first & second) / len(first | second)
    return shared >= UID_MIN_SHARED or fuzz.ratio(a.title, b.title) >= UID_MIN_RATIO


def _tokens(title: str) -> frozenset[str]:
    """The title's words *with* its numbers ("Event#1" and "Event#3", "test3" and "test4"
    are different events)."""
    return frozenset(re.findall(r"\w+", fold(title))) - STOP_WORDS


def _title_similarity(a: _Prepared, b: _Prepared) -> float:
    """Titles compared without the places either record is at: "Jeux et concert à
    L'Argentière-la-Bessée" and "Café compost à L'Argentière-la-Bessée" share a long town
    name, not an event. Every title below MIN_TITLE is refused, so rapidfuzz may stop early
    (it returns 0 under a cutoff): most candidate pairs end here."""
    first = _without(a, b.place_words)
    second = _without(b, a.place_words)
    return (
        max(
            fuzz.token_sort_ratio(first, second, score_cutoff=100 * MIN_TITLE),
            0.9 * fuzz.token_set_ratio(first, second, score_cutoff=100 * MIN_TITLE / 0.9),
        )
        / 100
    )


def _without(item: _Prepared, places: frozenset[str]) -> str:
    """The title's words but for its own place's and `places` (the title itself if none
    remain); the other record is usually in the same town, so nothing more goes."""
    if places.isdisjoint(item.rest):
        return " ".join(item.rest) or item.title
    return " ".join(w for w in item.rest if w not in places) or item.title


def _days(record: DedupRecord, tz: ZoneInfo) -> tuple[dt.date, ...]:
    first = record.start.astimezone(tz).date()
    if not record.all_day or record.end is None:
        return (first,)
    last = (record.end.astimezone(tz) - dt.timedelta(seconds=1)).date()
    span = min((last - first).days, 13)
    return tuple(first + dt.timedelta(days=n) for n in range(span + 1))


class _Texts:
    """What a title or a place comes to, worked out once per distinct text: the occurrences
    of a series, and a venue's events, share theirs (time, and a third of the memory of a
    100k-occurrence dedup)."""

    def __init__(self) -> None:
        self.titles: dict[str, tuple[tuple[str, ...], str, bool]] = {}
        self.places: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self.keys: dict[tuple[str, str], tuple[frozenset[str], tuple[str, ...]]] = {}

    def title(self, title: str) -> tuple[tuple[str, ...], str, bool]:
        found = self.titles.get(title)
        if found is None:
            words = title_words(title)
            generic = bool(words) and all(w in GENERIC for w in words)
            found = self.titles[title] = (words, " ".join(words), generic)
        return found

    def place(self, location: str) -> tuple[tuple[str, ...], frozenset[str]]:
        found = self.places.get(location)
        if found is None:
            place = _place(location)
            found = self.places[location] = (place, frozenset(" ".join(place).split()))
        return found

    def blocking(
        self, record: DedupRecord, words: tuple[str, ...], place_words: frozenset[str]
    ) -> tuple[frozenset[str], tuple[str, ...]]:
        """Blocking keys, and the title's words that are not the record's place."""
        key = (record.title, record.location)
        found = self.keys.get(key)
        if found is None:
            rest = tuple(w for w in words if w not in place_words)
            found = self.keys[key] = (_blocking_keys(words, rest), rest)
        return found


def _prepare(record: DedupRecord, tz: ZoneInfo, texts: _Texts | None = None) -> _Prepared:
    texts = texts or _Texts()
    words, title, generic = texts.title(record.title)
    place, place_words = texts.place(record.location)
    keys, rest = texts.blocking(record, words, place_words)
    return _Prepared(
        record,
        words,
        title,
        place,
        _days(record, tz),
        generic=generic,
        keys=keys,
        place_words=place_words,
        rest=rest,
    )


_NOT_A_PLACE = frozenset({None, "en-ligne", "hors-territoire"})


def _time_score(a: _Prepared, b: _Prepared) -> float | None:
    ra, rb = a.record, b.record
    if ra.all_day and rb.all_day:
        return 1.0 if a.days[0] == b.days[0] else (0.8 if set(a.days) & set(b.days) else None)
    if ra.all_day or rb.all_day:
        day, timed = (a, b) if ra.all_day else (b, a)
        return 0.7 if timed.days[0] in day.days else None
    gap = abs(ra.start - rb.start)
    if gap > MAX_START_GAP:
        return None
    return 1.0 - 0.5 * gap / MAX_START_GAP


def _same_url(a: DedupRecord, b: DedupRecord) -> bool:
    if not a.url or not b.url or a.url.rstrip("/") != b.url.rstrip("/"):
        return False  # the cheap test first: this runs for every candidate pair
    return bool(re.sub(r"^https?://[^/]+", "", a.url).strip("/"))


def _score(a: _Prepared, b: _Prepared) -> float | None:
    """How likely two occurrences of different sources are one event (None: not at all)."""
    ra, rb = a.record, b.record
    time = _time_score(a, b)
    if time is None:
        return None
    if ra.uid and ra.uid == rb.uid and not _SYNTHETIC_UID.match(ra.uid):
        return 1.0 if _related(a, b) else None
    if _same_url(ra, rb):
        return 0.99 if _related(a, b) else None
    places_known = {ra.territory, rb.territory} - _NOT_A_PLACE
    if ra.territory and rb.territory and ra.territory != rb.territory and len(places_known) == 2:
        return None
    if not a.title or not b.title:
        return None
    title = _title_similarity(a, b)
    if title < MIN_TITLE or _conflicting_words(a, b):
        return None
    place = _place_similarity(a.place, b.place)
    if a.generic or b.generic:
        # "Assemblée générale" of two associations: only the same slot and the same place.
        close = abs(ra.start - rb.start) <= GENERIC_START_GAP
        if place is None or place < 0.8 or not close or title < 0.9:
            return None
        return 0.85
    if place is not None and place < 0.35:
        return None
    score = 0.65 * title + 0.25 * (place if place is not None else 0.6) + 0.10 * time
    return score if score >= THRESHOLD else None


def is_duplicate(a: DedupRecord, b: DedupRecord, tz: ZoneInfo) -> bool:
    """The pairwise decision, as measured on the labelled set."""
    if a.source_id == b.source_id:
        return False
    return _score(_prepare(a, tz), _prepare(b, tz)) is not None


def _pairs_in(group: list[int], prepared: Sequence[_Prepared]) -> Iterable[tuple[int, int]]:
    """Pairs of one blocking group that can match in time: all-day records with everyone,
    timed ones only within MAX_START_GAP of each other (a sliding window over starts)."""
    all_day = [i for i in group if prepared[i].record.all_day]
    timed = sorted(
        (i for i in group if not prepared[i].record.all_day),
        key=lambda i: prepared[i].record.start,
    )
    for n, i in enumerate(all_day):
        yield from ((i, j) for j in all_day[n + 1 :])
        yield from ((i, j) for j in timed)
    for n, i in enumerate(timed):
        limit = prepared[i].record.start + MAX_START_GAP
        for j in timed[n + 1 :]:
            if prepared[j].record.start > limit:
                break
            yield i, j


def _candidates(prepared: Sequence[_Prepared]) -> Iterator[set[tuple[int, int]]]:
    """Pairs worth scoring, one local day at a time: close starts, different sources, and
    sharing their UID, their URL or a title word. Day by day, so memory holds one day's
    pairs, not the whole window's (millions on a dense agenda); a multi-day event's pairs
    may come twice."""
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for index, item in enumerate(prepared):
        for day in item.days:
            by_day[day].append(index)
    for day in sorted(by_day):
        keys: dict[str, list[int]] = defaultdict(list)
        anywhere: dict[str, list[int]] = defaultdict(list)
        for index in by_day[day]:
            item = prepared[index]
            territory = item.record.territory
            for word in item.keys:
                # Title words pair records of one territory (two known, different
                # territories never match on words, see _score); a record placed nowhere
                # in particular joins every territory's group.
                if territory in _NOT_A_PLACE:
                    anywhere[word].append(index)
                else:
                    keys[f"w:{word}:{territory}"].append(index)
            if item.record.uid:
                keys[f"u:{item.record.uid}"].append(index)
            if item.record.url:
                keys[f"l:{item.record.url}"].append(index)
        for key, group in list(keys.items()):
            if key.startswith("w:"):
                group.extend(anywhere.get(key.split(":", 2)[1], ()))
        for word, group in anywhere.items():
            keys[f"w:{word}:*"] = group
        pairs: set[tuple[int, int]] = set()
        for group in keys.values():
            if len(group) < 2:
                continue
            for i, j in _pairs_in(group, prepared):
                if prepared[i].record.source_id != prepared[j].record.source_id:
                    pairs.add((min(i, j), max(i, j)))
        yield pairs


class _Clusters:
    """Union-find that refuses a union joining two records of one source or a split pair."""

    def __init__(self, records: Sequence[DedupRecord], split: frozenset[frozenset[str]]):
        self.records = records
        self.parent = list(range(len(records)))
        # Sets only for merged roots: most records stay alone, and two sets per record
        # were a tenth of the memory of a 100k-occurrence dedup.
        self._sources: dict[int, set[str]] = {}
        self._members: dict[int, set[str]] = {}
        self.split = split

    def sources(self, root: int) -> set[str]:
        return self._sources.get(root) or {self.records[root].source_id}

    def members(self, root: int) -> set[str]:
        return self._members.get(root) or {self.records[root].id}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int, forced: bool = False) -> None:
        a, b = self.find(i), self.find(j)
        if a == b:
            return
        if not forced and self.sources(a) & self.sources(b):
            return
        members_a, members_b = self.members(a), self.members(b)
        if any(frozenset((x, y)) in self.split for x in members_a for y in members_b):
            return
        self.parent[b] = a
        self._sources[a] = self.sources(a) | self.sources(b)
        self._members[a] = members_a | members_b
        self._sources.pop(b, None)
        self._members.pop(b, None)


def cluster(
    records: Sequence[DedupRecord],
    previous: Mapping[str, str] | None = None,
    overrides: Overrides = Overrides(),
    tz: ZoneInfo = PARIS,
) -> dict[str, str]:
    """Occurrence id -> cluster id, for every record."""
    texts = _Texts()
    prepared = [_prepare(r, tz, texts) for r in records]
    del texts
    index = {r.id: n for n, r in enumerate(records)}
    groups = _Clusters(records, overrides.split)
    for pair in sorted(sorted(p) for p in overrides.merge):
        ids = [index[i] for i in pair if i in index]
        if len(ids) == 2:
            groups.union(ids[0], ids[1], forced=True)
    scored: dict[tuple[int, int], float] = {}
    for pairs in _candidates(prepared):
        for i, j in pairs:
            if (i, j) not in scored:
                score = _score(prepared[i], prepared[j])
                if score is not None:
                    scored[i, j] = score
    for (i, j), _value in sorted(scored.items(), key=lambda s: (-s[1], s[0])):
        groups.union(i, j)
    members: dict[int, list[DedupRecord]] = defaultdict(list)
    for n, record in enumerate(records):
        members[groups.find(n)].append(record)
    return _stable_ids(list(members.values()), previous or {})


def _stable_ids(groups: list[list[DedupRecord]], previous: Mapping[str, str]) -> dict[str, str]:
    """Each cluster keeps the id most of its members had (oldest member first on a tie);
    an id goes to one cluster only, the largest claiming it."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)

    def age(record: DedupRecord) -> tuple[dt.datetime, str]:
        return (record.first_seen or far_past, record.id)

    for group in sorted(groups, key=len, reverse=True):
        oldest_first = sorted(group, key=age)
        votes: dict[str, int] = defaultdict(int)
        for record in oldest_first:
            votes[previous.get(record.id, record.id)] += 1
        ranked = sorted(votes, key=lambda cid: -votes[cid])  # stable: oldest member first
        chosen = next((cid for cid in ranked if cid not in taken), None)
        if chosen is None:  # every candidate id went to a larger cluster
            chosen = next((r.id for r in oldest_first if r.id not in taken), None)
        if chosen is None:
            chosen = "c" + min(r.id for r in group)
        taken.add(chosen)
        for record in group:
            result[record.id] = chosen
    return result


def pairs_from(decisions: Iterable[tuple[str, str, str]]) -> Overrides:
    """(kind, id, id) rows as stored -> Overrides; a later decision on a pair wins."""
    latest: dict[frozenset[str], str] = {}
    for kind, a, b in decisions:
        latest[frozenset((a, b))] = kind
    return Overrides(
        merge=frozenset(p for p, k in latest.items() if k == "merge"),
        split=frozenset(p for p, k in latest.items() if k == "split"),
    )
