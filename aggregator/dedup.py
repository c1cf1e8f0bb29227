"""Deduplication: the same event published by several sources becomes one. Pure.

How it decides, for two occurrences from *different* sources (one source never duplicates
itself: its two records are two events):
1. Blocking: only occurrences sharing a local day are compared, and only when they share
   their UID, their event URL or the start of a significant title word other than their own
   place's, so 100k occurrences take seconds.
2. Time: timed starts at most 60 min apart (doors open at 20:00, the show at 20:30); an
   all-day record matches a timed one on one of its days.
3. Place: both territories known and different -> never the same event; otherwise the
   similarity of the places (venue and town, when both are given) weighs in.
4. Title (aggregator/dedup_words.py): folded, stop words, series numbers and the places'
   words removed, rewritten with the field's lexicon ("AG" = "assemblée générale",
   "ciné-débat" = "projection suivie d'un débat"), each word weighed by its rarity in the
   agenda. One title may add words (an organiser, a speaker, a town); when *each* names
   something significant the other lacks ("Café philo : le travail" / "... : la liberté"),
   they are two events. Two different quoted names (« Demain » / « Après-demain ») too.
   Generic titles ("Assemblée générale", "Portes ouvertes") need the same slot, the same
   place and the same wording.
5. Score: title, place, time and structure (same start to the minute, same end, same link
   domain) make one score with two thresholds: MERGE_AT and over, one event; from
   REVIEW_AT, a doubtful pair left apart for an admin to decide; below, two events.
An identical UID or event URL is enough with compatible times and related titles (a shared
short UID with unrelated titles is a collision). Pairs are merged best first
into clusters; a cluster never holds two records of one source, and admin overrides (merge /
split pairs) always win. Cluster ids are stable: a cluster keeps the id most of its members
had, so subscribers never see a duplicate appear when a source joins or leaves.
Measured on tests/data/dedup-publishers.psv: `python -m bench.dedup_quality --test`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from aggregator import gc_pause
from aggregator.dedup_places import (
    both_venues,
    one_names_the_others_town,
    place_parts,
    place_prefixes,
    place_similarity,
    strip_places,
    town_words,
    unmarked,
)
from aggregator.dedup_words import (
    AUDIENCES,
    GENERIC,
    INTERNAL,
    KINDS,
    LEVELS,
    LIGHT,
    STOP_WORDS,
    UNIFORM,
    WordWeights,
    capitals,
    rewrites,
    same_word,
    title_words,
)
from aggregator.search import fold
from aggregator.territory import ONLINE

PARIS = ZoneInfo("Europe/Paris")
MAX_START_GAP = dt.timedelta(minutes=60)
MAX_ALL_DAY_DAYS = 14  # an all-day occurrence is compared on its first two weeks only
# Two thresholds on one score: at MERGE_AT and over, one event; from REVIEW_AT, a doubtful
# pair shown to admins ("Doublons possibles"); under it, two events. Chosen on the train
# split of tests/data/dedup-publishers.psv (python -m bench.dedup_quality).
MERGE_AT = 0.75
REVIEW_AT = 0.62
MIN_TITLE = 0.6  # title similarity under which two records are never one event
# ... and under which they are two events unless their titles conflict at one slot and
# venue: the same venue, start and end (0.37 of the score) must not merge two titles
# sharing one word ("Chorale yoga" / "Yoga débat"). The labelled duplicates' lowest: 0.70.
MERGE_TITLE = 0.68
# Two venues named in one town ("MJC" / "Salle des fêtes") merge only with titles this
# alike; otherwise the pair waits for an admin. Same-hour events at two venues of a town
# are more often two events than one written twice.
MERGE_TITLE_ELSEWHERE = 0.95
REVIEW_TITLE_ELSEWHERE = 0.85
SAME_PLACE = 0.8
GENERIC_START_GAP = dt.timedelta(minutes=30)
# A shared UID or link is one event only if the titles are related: half their words
# (numbers included) in common, or nearly the same spelling.
UID_MIN_SHARED = 0.5
UID_MIN_RATIO = 90
_SYNTHETIC_UID = re.compile(r"^(synth|jsonld)-")
# A number a title gives ("Sortie niveau 2", "Séance 1/3"), not a year, a clock time, an
# ordinal ("13e") or the department's code ("Attac 05").
_NUMBER = re.compile(r"\b[1-9]\d{0,2}\b")
_NONE: frozenset[str] = frozenset()
ACRONYM_MIN, ACRONYM_MAX = 3, 6  # letters of an acronym written in capitals: "SPF"
# Three words in capitals in a row: "FÊTE DU VÉLO", "EAU TRANSITION MUSIQUE - Gap".
_SHOUTED = re.compile(r"[A-ZÀ-ÖØ-Þ]{2,}\W+[A-ZÀ-ÖØ-Þ]{2,}\W+[A-ZÀ-ÖØ-Þ]{2,}")
_QUOTED = re.compile(r"«\s*([^»]+?)\s*»|“([^”]+)”|\"([^\"]+)\"")


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


# A title worked out: words, their text, generic, a quoted work's name, numbers, acronyms.
_Title = tuple[tuple[str, ...], str, bool, str, frozenset[str], frozenset[str]]


@dataclass(slots=True)
class _Prepared:
    record: DedupRecord
    days: tuple[dt.date, ...]
    words: tuple[str, ...]
    title: str
    place: tuple[str, ...]  # folded parts: venue first, town last
    generic: bool
    keys: frozenset[str]  # blocking keys from the title
    place_words: frozenset[str]
    own: tuple[str, ...]  # title words other than its place's (strip_places)
    quoted: str  # a work's name the title quotes: « Douce France »
    numbers: frozenset[str]  # "niveau 2", "session 1/3"
    acronyms: frozenset[str]  # words in capitals: "SPF"
    bare: bool  # its title says only its kind, once its place's words are out
    text: int  # its title and place's number in its Texts: one per distinct pair


# What a record's title and place come to (_Prepared's fields after `days`), the same for
# every record with that title and place.
_Text = tuple[
    tuple[str, ...], str, tuple[str, ...], bool, frozenset[str], frozenset[str],
    tuple[str, ...], str, frozenset[str], frozenset[str], bool, int,
]  # fmt: skip


KEY_LENGTH = 5
# Title matches kept per Texts before starting afresh: 50k is about 10 MB.
MATCHES_AT_MOST = 50_000


def _blocking_keys(words: tuple[str, ...], rest: tuple[str, ...]) -> frozenset[str]:
    """Word prefixes, so "atelier"/"ateliers" or "compostage"/"compostages" meet; the
    record's own town or venue named in its title ("Repair café à Gap" at "MJC, Gap") is
    left out when other words remain (`rest`): it pairs every event of the town that day
    (four in five candidate pairs on a generated agenda) and never decides a match alone,
    since _title_match ignores place words. Likewise words naming only a kind of event
    ("atelier", "concert") when the title says more: two records sharing no other word are
    either apart (each names something else) or generic titles, which keep those words.
    A kind named in two words ("portes ouvertes", "repair cafe") stays a key, joined."""
    base = rest or words
    telling = tuple(w for w in base if w not in GENERIC and w not in LIGHT)
    keys = {w[:KEY_LENGTH] for w in telling or base}
    if len(words) >= 2:
        for first, second in itertools.pairwise(words):
            if first in GENERIC and second in GENERIC:
                keys.add(f"{first[:KEY_LENGTH]}+{second[:KEY_LENGTH]}")
            elif len(first) < KEY_LENGTH:
                # A word written in two ("éco-festival") meets it written in one
                # ("écofestival").
                keys.add((first + second)[:KEY_LENGTH])
    return frozenset(keys)


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


def _days(record: DedupRecord, tz: ZoneInfo) -> tuple[dt.date, ...]:
    first = record.start.astimezone(tz).date()
    if not record.all_day or record.end is None:
        return (first,)
    last = (record.end.astimezone(tz) - dt.timedelta(seconds=1)).date()
    span = min((last - first).days, MAX_ALL_DAY_DAYS - 1)
    return tuple(first + dt.timedelta(days=n) for n in range(span + 1))


class Texts:
    """What a title or a place comes to, worked out once per distinct text: the occurrences
    of a series, and a venue's events, share theirs (time, and a third of the memory of a
    100k-occurrence dedup)."""

    def __init__(self, places: Texts | None = None) -> None:
        """`places`: Texts whose worked-out places are kept (not its titles)."""
        self.titles: dict[str, _Title] = {}
        self.places: dict[str, tuple[tuple[str, ...], frozenset[str], frozenset[str]]] = (
            places.places if places is not None else {}
        )
        self.texts: dict[tuple[str, str, bool], _Text] = {}
        self.starts: dict[tuple[dt.datetime, ZoneInfo], tuple[dt.date, ...]] = {}
        # Title matches of two records' texts (numbered as in `texts`) with `weights`: the
        # occurrences of two series meet again week after week.
        self.matches: dict[int, _TitleMatch] = {}
        self.weights: WordWeights | None = None

    def title(self, title: str) -> _Title:
        found = self.titles.get(title)
        if found is None:
            words = title_words(title)
            generic = bool(words) and _generic(words)
            # (Searched only with a quote mark there: most titles have none.)
            quoting = '"' in title or "«" in title or "“" in title
            quoted = _QUOTED.search(title) if quoting else None
            name = fold(next(g for g in quoted.groups() if g)) if quoted else ""
            found_numbers = _NUMBER.findall(title)
            numbers = frozenset(found_numbers) if found_numbers else _NONE
            # In a title shouted in capitals, no word is an acronym by its case.
            written = capitals(title)
            shouted = bool(written) and _SHOUTED.search(title) is not None
            acronyms = frozenset(
                w for w in written if ACRONYM_MIN <= len(w) <= ACRONYM_MAX and not shouted
            )
            found = self.titles[title] = (
                words, " ".join(words), generic, name, numbers, acronyms or _NONE
            )  # fmt: skip
        return found

    def place(self, location: str) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
        """The place's parts, its words, and its town's words."""
        found = self.places.get(location)
        if found is None:
            place = place_parts(location)
            words = frozenset(" ".join(unmarked(place)).split())
            found = self.places[location] = (place, words, town_words(place))
        return found

    def text(self, record: DedupRecord) -> _Text:
        """The record's title and place worked out (one look-up for most records): the
        words, blocking keys, the title's words that are not its place's, whether those say
        only a kind of event, and the number of this title and place."""
        online = record.territory == ONLINE
        key = (record.title, record.location, online)
        found = self.texts.get(key)
        if found is None:
            words, title, generic, quoted, numbers, acronyms = self.title(record.title)
            if online:
                # "En ligne", "Visioconférence", a Zoom link: no place to compare, the title
                # and the slot decide (a kind alone never does).
                place: tuple[str, ...] = ()
                place_words = town = _NONE
            else:
                place, place_words, town = self.place(record.location)
            # The town goes (it pairs every event of the town that day), not the venue: a
            # title naming its venue ("JPO de la Ressourcerie") meets one at it.
            rest = words if town.isdisjoint(words) else tuple([w for w in words if w not in town])
            own = strip_places(words, place_words)  # once per text: no cache needed here
            bare = bool(place) and _generic(own)
            found = self.texts[key] = (
                words, title, place, generic, _blocking_keys(words, rest), place_words, own,
                quoted, numbers, acronyms, bare, len(self.texts),
            )  # fmt: skip
        return found

    def days(self, record: DedupRecord, tz: ZoneInfo) -> tuple[dt.date, ...]:
        """The local days a record is on; a timed record's by its start, remembered (a
        series' and a venue's events share starts, and astimezone is most of the cost)."""
        if record.all_day:
            return _days(record, tz)
        key = (record.start, tz)
        found = self.starts.get(key)
        if found is None:
            found = self.starts[key] = _days(record, tz)
        return found

    def matching(self, weights: WordWeights) -> dict[int, _TitleMatch]:
        """The title matches worked out with these weights (none, with other weights)."""
        if weights is not self.weights or len(self.matches) > MATCHES_AT_MOST:
            self.matches, self.weights = {}, weights
        return self.matches


def _prepare(record: DedupRecord, tz: ZoneInfo, texts: Texts | None = None) -> _Prepared:
    texts = texts or Texts()
    return _Prepared(record, texts.days(record, tz), *texts.text(record))


_NOT_A_PLACE = frozenset({None, "en-ligne", "hors-territoire"})


def _time_score(a: _Prepared, b: _Prepared) -> float | None:
    ra, rb = a.record, b.record
    if ra.all_day and rb.all_day:
        return 1.0 if a.days[0] == b.days[0] else (0.8 if set(a.days) & set(b.days) else None)
    if ra.all_day or rb.all_day:
        day, timed = (a, b) if ra.all_day else (b, a)
        # Publishers often list a day's event without its hours: a small doubt only.
        return 0.85 if timed.days[0] in day.days else None
    gap = abs(ra.start - rb.start)
    if gap > MAX_START_GAP:
        return None
    return 1.0 - 0.5 * gap / MAX_START_GAP


def _same_url(a: DedupRecord, b: DedupRecord) -> bool:
    if not a.url or not b.url or a.url.rstrip("/") != b.url.rstrip("/"):
        return False  # the cheap test first: this runs for every candidate pair
    return bool(re.sub(r"^https?://[^/]+", "", a.url).strip("/"))


@dataclass(frozen=True)
class Verdict:
    """How likely two occurrences are one event, and why: the evidence admins see."""

    score: float
    evidence: Mapping[str, object] = field(default_factory=dict)

    @property
    def merge(self) -> bool:
        return self.score >= MERGE_AT

    @property
    def review(self) -> bool:
        return REVIEW_AT <= self.score < MERGE_AT


APART = Verdict(0.0)


_DOMAIN = re.compile(r"^https?://(?:www\.)?([^/:?#]+)")


def _domain(url: str | None) -> str:
    found = _DOMAIN.match(url or "")
    return found.group(1).lower() if found else ""


# Sites where everyone publishes: sharing one says nothing about the event.
_SHARED_DOMAINS = frozenset({
    "facebook.com", "fb.me", "helloasso.com", "mobilizon.fr", "instagram.com",
    "eventbrite.fr", "eventbrite.com", "billetweb.fr", "openagenda.com", "google.com",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class _TitleMatch:
    similarity: float
    only_a: tuple[str, ...]  # significant words only one title has
    only_b: tuple[str, ...]
    shared: float  # share of the first title's weight in significant words both have
    conflict: bool  # each names something the other lacks, and that outweighs the rest
    spelled: float  # the titles' words in any order (rapidfuzz), without weights or subsets
    generic: bool  # one title says only what kind of event it is, once places are out
    vouched: bool = False  # ... but named a place the other record is at or names
    sessions: bool = False  # the conflict is two sessions' numbers, levels or audiences


# Per pair, cached: a series' records and a venue's events ask the same question again.
_outside = functools.lru_cache(maxsize=65536)(strip_places)


SUBSET_FLOOR = 55
_NO_MATCH = _TitleMatch(0.0, (), (), 0.0, False, 0.0, False)


def _words_outside(item: _Prepared, other: _Prepared) -> tuple[str, ...]:
    """A title's words without its own place's, then without the other record's place's
    (two cached steps: most pairs share their place, or the other's adds nothing)."""
    own = item.own
    if other.place_words <= item.place_words:
        return own
    return _outside(own, other.place_words)


@functools.lru_cache(maxsize=65536)
def _generic(words: tuple[str, ...]) -> bool:
    """A title saying only what kind of event it is ("Portes ouvertes", "Atelier")."""
    return all(w in GENERIC or w in LIGHT for w in words)


def _cover(
    mine: tuple[str, ...],
    theirs: tuple[str, ...],
    weights: WordWeights,
    also: frozenset[str] = frozenset(),
) -> tuple[float, float, list[str], float, float, list[str]]:
    """How much of `mine` (by weight) `theirs` has: total weight, share covered, the
    significant words not covered and their weight, the significant weight covered, and
    the kinds of event it names that `theirs` lacks. `also`: words of mine covered
    otherwise (an acronym and its words)."""
    exact = set(theirs) | also if also else set(theirs)
    facts = weights.facts
    total = covered = missing = shared = 0.0
    only = []
    kinds = []  # words naming a kind of event ("marché", "atelier") the other lacks
    missed = 0
    joined: set[str] | None = None  # their words two by two, written as one
    for n, word in enumerate(mine):
        weight, significant = facts(word)
        total += weight
        found = word in exact
        if not found:
            for other in theirs:
                if same_word(word, other):
                    found = True
                    break
            else:
                # One word written in two, or half of one ("écofestival" / "éco-festival").
                if joined is None:
                    joined = {x + y for x, y in itertools.pairwise(theirs)}
                found = (
                    word in joined
                    or (n > 0 and mine[n - 1] + word in exact)
                    or (n + 1 < len(mine) and word + mine[n + 1] in exact)
                )
        if found:
            covered += weight
            if significant:
                shared += weight
        else:
            missed += 1
            if significant:
                only.append(word)
                missing += weight
            elif word in KINDS:
                kinds.append(word)
    if missed == 1 and kinds and GENERIC.isdisjoint(theirs):
        # The one word missing names a kind of event the other title leaves unsaid ("Lo
        # Barrut en concert" / "Lo Barrut - polyphonies occitanes"): not against them.
        total -= facts(kinds.pop())[0]
    total = total or 1.0
    return total, covered / total, only, missing, shared, kinds


def _spelled_out(acronym: str, words: tuple[str, ...]) -> range | None:
    """The run of words whose initials make the acronym ("caf": "club alpin francais")."""
    size = len(acronym)
    for start in range(len(words) - size + 1):
        if all(words[start + k][0] == acronym[k] for k in range(size)):
            return range(start, start + size)
    return None


def _acronyms(a: _Prepared, b: _Prepared) -> tuple[frozenset[str], frozenset[str]]:
    """Words of each title that an acronym of the other stands for, and the acronyms
    ("Braderie du SPF" / "... du Secours populaire français"): organisations are written
    both ways. An acronym is a word written in capitals; the words it stands for are
    looked for in the whole other title, places' words included."""
    if not a.acronyms and not b.acronyms:
        return _NONE, _NONE  # most pairs
    covered_a: set[str] = set()
    covered_b: set[str] = set()
    for mine, theirs, here, there in ((a, b, covered_a, covered_b), (b, a, covered_b, covered_a)):
        for acronym in mine.acronyms:
            if acronym in theirs.words:
                continue
            span = _spelled_out(acronym, theirs.words)
            if span is not None:
                here.add(acronym)
                there.update(theirs.words[i] for i in span)
    return frozenset(covered_a), frozenset(covered_b)


# "Festival Résistances : soirée climat", "Atelier numérique - démarches en ligne".
_SERIES = re.compile(r"\s*[:–—]\s+|\s+[-–—]\s+")


@functools.lru_cache(maxsize=16384)
def _topic(title: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The two parts of "Series : topic" (or "Series - topic"), when the title has both."""
    parts = _SERIES.split(title, maxsplit=1)
    if len(parts) != 2:
        return None
    head, tail = title_words(parts[0]), title_words(parts[1])
    return (head, tail) if head and tail else None


def _other_topic(
    a: _Prepared, b: _Prepared, found: tuple[bool, list[str], list[str]]
) -> tuple[bool, list[str], list[str]]:
    """One series, two topics: the same words before the colon (or dash), and after it
    each names something the other does not, places and words of mere kind aside
    ("Festival Résistances : soirée Palestine" / "... : soirée climat", however common
    "climat" is in the agenda)."""
    topic_a, topic_b = _topic(a.record.title), _topic(b.record.title)
    if topic_a is None or topic_b is None:
        return found
    (head_a, tail_a), (head_b, tail_b) = topic_a, topic_b
    if set(head_a) != set(head_b):
        return found
    places = a.place_words | b.place_words

    def telling(mine: tuple[str, ...], theirs: tuple[str, ...]) -> list[str]:
        return [w for w in mine if w not in places and w not in GENERIC and w not in LIGHT
                and not any(same_word(w, other) for other in theirs)]  # fmt: skip

    only_a, only_b = telling(tail_a, tail_b), telling(tail_b, tail_a)
    return (True, only_a, only_b) if only_a and only_b else found


def _title_match(a: _Prepared, b: _Prepared, weights: WordWeights) -> _TitleMatch:
    """Titles are compared without the places either record is at ("Jeux à
    L'Argentière-la-Bessée" / "Café compost à L'Argentière-la-Bessée" share a town, not an
    event). A title may add words the other lacks (an organiser, a speaker, a town): what
    counts is how much of the *lighter* title the other covers, each word weighed by how
    rare it is in the agenda."""
    first, second = _words_outside(a, b), _words_outside(b, a)
    text_a, text_b = " ".join(first), " ".join(second)
    # A cheap first look (rapidfuzz, in C): titles this far apart on their best common
    # subset never make a pair (the labelled duplicates' lowest is 65), and most candidate
    # pairs of a day end here.
    subset = fuzz.token_set_ratio(text_a, text_b, score_cutoff=SUBSET_FLOOR) / 100
    if not subset:
        return _NO_MATCH
    also_a, also_b = _acronyms(a, b)
    total_a, share_a, only_a, only_a_weight, shared, kind_a = _cover(first, second, weights, also_a)
    _, share_b, only_b, only_b_weight, _, kind_b = _cover(second, first, weights, also_b)
    weighted = 0.75 * max(share_a, share_b) + 0.25 * min(share_a, share_b)
    in_order = fuzz.token_sort_ratio(text_a, text_b) / 100
    spelled = max(in_order, 0.9 * subset)
    # "Café philo : le travail" / "Café philo : la liberté" conflict; "Distribution de
    # paniers et pot de l'amitié" / "AMAP : distribution et pot de l'amitié" do not: what
    # each adds weighs less than half of what they share.
    conflict = bool(only_a and only_b) and min(only_a_weight, only_b_weight) >= 0.5 * shared
    if not conflict and only_a and only_b:  # (asked of few pairs: worked out only then)
        conflict, only_a, only_b = _other_topic(a, b, (conflict, only_a, only_b))
    if not conflict and kind_a and kind_b:
        # "Atelier vélo" / "Marché vélo": each names another kind of event.
        conflict, only_a, only_b = True, kind_a, kind_b
    levels_a, levels_b = _levels(a.words), _levels(b.words)
    sessions = False  # whether the conflict is two sessions' (the three cases below)
    if a.numbers and b.numbers and a.numbers != b.numbers:
        # "Sortie niveau 1" / "Sortie niveau 2": two sessions, whatever the words say.
        conflict, only_a, only_b = True, sorted(a.numbers), sorted(b.numbers)
        sessions = True
    elif levels_a and levels_b and levels_a.isdisjoint(levels_b):
        # "Stage de poterie : initiation" / "... : perfectionnement": two levels, two
        # sessions (level words are kinds of session, not significant words).
        conflict = True
        only_a = [w for w in a.words if w in LEVELS]
        only_b = [w for w in b.words if w in LEVELS]
        sessions = True
    elif _audiences_apart(a.words, b.words):
        # "Atelier poterie enfants" / "... adultes": two audiences, two sessions (audience
        # words are light: one title adding its audience names no other event).
        conflict = True
        only_a = [w for w in a.words if w in AUDIENCES]
        only_b = [w for w in b.words if w in AUDIENCES]
        sessions = True
    elif _names_work(a, second) or _names_work(b, first):
        # « Irrintzina » quoted by one, "IRRINTZINA, le cri de la génération climat" the
        # other: the work's name is the event's, whatever each adds to it.
        conflict, only_a, only_b = False, [], []
        weighted = max(weighted, 0.9)
    generic_a, generic_b = _generic(first), _generic(second)
    generic = generic_a or generic_b
    # Titles that say only their kind once the places' words are out, but named a place
    # the other record is at or names too ("Soirée jeux à la ludothèque" / "Soirée jeux
    # de société" at the ludothèque; "CA - Radio Alpine Meilleure" at the radio): the
    # place vouches for them. Not a town both are in: "AG ... de Gap" names no one.
    vouched = generic and any(
        _vouched(item, other, words)
        for item, other, words, bare in ((a, b, first, generic_a), (b, a, second, generic_b))
        if bare
    )  # fmt: skip
    return _TitleMatch(
        max(weighted, spelled), tuple(only_a), tuple(only_b), shared / total_a, conflict,
        in_order, generic, vouched, sessions,
    )  # fmt: skip


def _same_but_light(a: _Prepared, b: _Prepared) -> bool:
    """Whether two titles say the same once each one's light words are out (its rhythm,
    season, size: each publisher adds its own, and two such words lowered a kind-only
    title's similarity under the 0.9 it needs)."""
    mine = {w for w in a.own if w not in LIGHT}
    return bool(mine) and mine == {w for w in b.own if w not in LIGHT}


def _internal(item: _Prepared) -> bool:
    """A title saying only an association's own business ("Assemblée générale", "Réunion
    mensuelle", "Permanence"), its town aside: it names no one. One naming its venue ("AG
    de la Ludothèque", at the ludothèque) names its house."""
    town = town_words(item.place)
    return all(w in INTERNAL or w in LIGHT or w in town for w in item.words)


def _levels(words: tuple[str, ...]) -> frozenset[int]:
    """The levels a title names ("initiation": 1, "perfectionnement": 3)."""
    if LEVELS.keys().isdisjoint(words):
        return _NO_LEVEL  # most titles
    return frozenset(LEVELS[w] for w in words if w in LEVELS)


_NO_LEVEL: frozenset[int] = frozenset()


def _audiences_apart(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether both titles name whom they are for, and not the same people."""
    if AUDIENCES.keys().isdisjoint(a) or AUDIENCES.keys().isdisjoint(b):
        return False  # most titles
    mine = frozenset().union(*(AUDIENCES[w] for w in a if w in AUDIENCES))
    return mine != frozenset().union(*(AUDIENCES[w] for w in b if w in AUDIENCES))


def _two_places(a: _Prepared, b: _Prepared) -> bool:
    """Places unlike each other that are not two venues of one town, nor a venue named
    after the other's town: two places, where even one title is no proof of one event."""
    return not both_venues(a.place, b.place) and not one_names_the_others_town(a.place, b.place)


def _one_after_the_other(a: DedupRecord, b: DedupRecord) -> bool:
    """Two timed slots, each with its length, one ending before the other starts: two
    sessions ("Visite guidée de la citadelle" 10:00-11:00 and 11:00-12:00), however alike
    the titles. (An end at the start is no length: some generators write one for none.)"""
    if a.end is None or b.end is None or a.all_day or b.all_day:
        return False
    if a.end <= a.start or b.end <= b.start:
        return False
    return a.end <= b.start or b.end <= a.start


def _names_work(item: _Prepared, theirs: tuple[str, ...]) -> bool:
    """Whether a title quotes a work's name (« Irrintzina ») the other title has too."""
    if not item.quoted:
        return False
    named = title_words(item.quoted)
    return any(w not in GENERIC and w not in LIGHT for w in named) and all(
        any(same_word(w, t) for t in theirs) for w in named
    )


def _vouched(item: _Prepared, other: _Prepared, kept: tuple[str, ...]) -> bool:
    """Whether a title's place words (those left out of `kept`) name a place the other
    record is at or names, apart from the places both are in."""
    for word in set(item.words).difference(kept):
        if word in item.place_words and word in other.place_words:
            continue  # a town both are in
        if word in other.place_words or any(same_word(word, w) for w in other.words):
            return True
        if word in item.acronyms and _spelled_out(word, other.words) is not None:
            return True  # "AG du SEL" at the SEL / "... du Système d'échange local"
    return False


def _names_house(word: str, item: _Prepared, other: _Prepared) -> bool:
    """Whether a title's word names a place a record is at: the other's ("Réunion de la
    Ludothèque" beside "Réunion" at the ludothèque), or either's by its acronym ("Café
    numérique de l'EPN" at the Espace public numérique)."""
    if word in other.place_words:
        return True
    if word not in item.acronyms:
        return False
    return any(
        _spelled_out(word, tuple(" ".join(unmarked(place)).split())) is not None
        for place in (item.place, other.place)
    )


def _names_beyond(item: _Prepared, other: _Prepared) -> list[str]:
    """The title's words written as names that the other title lacks, and that name no
    place a record is at."""
    names = _proper_names(item.record.title)
    return [w for w in item.own if w in names and w not in other.words
            and not _names_house(w, item, other)]  # fmt: skip


def _names_another(item: _Prepared, other: _Prepared) -> bool:
    """Whether a title names an organisation (a word written as a name, not a place either
    is at) beside a title saying only an association's own business ("Réunion"), and the
    name is not the bare record's publisher's: then it is another group's business."""
    if not _internal(other):
        return False
    extra = _names_beyond(item, other)
    if not extra:
        return False
    publisher = _publisher_words(other.record.source_id)
    return not any(same_word(w, p) for w in extra for p in publisher)


@functools.lru_cache(maxsize=1024)
def _publisher_words(source_id: str) -> frozenset[str]:
    """A source's id read as its name: ids are made from names ("la-fourmi-gap")."""
    return frozenset(w for w in title_words(source_id.replace("-", " ")) if len(w) >= 3)


@functools.lru_cache(maxsize=4096)
def _proper_names(title: str) -> frozenset[str]:
    """The title's words written as names, with a capital, after its first word."""
    return frozenset(fold(w) for w in re.findall(r"\w+", title)[1:] if w[0].isupper())


def _names_its_publisher(item: _Prepared, other: _Prepared) -> bool:
    """Whether a title names its own publisher, and not the other record's, in words the
    other title lacks ("Assemblée générale de La Fourmi" from la-fourmi-gap, beside
    "Assemblée générale" from udess05). Only a name counts: "Visite de ferme" from
    fermes-05 names a kind of visit."""
    extra = _names_beyond(item, other)
    if not extra:
        return False
    mine = _publisher_words(item.record.source_id)
    theirs = _publisher_words(other.record.source_id)
    named = [p for p in mine | theirs if any(same_word(w, p) for w in extra)]
    return bool(named) and all(p in mine and p not in theirs for p in named)


def _judge(
    a: _Prepared,
    b: _Prepared,
    weights: WordWeights,
    matches: dict[int, _TitleMatch] | None = None,
) -> Verdict:
    """The score of two occurrences of different sources, with its evidence. `matches`:
    the title matches worked out so far, by the two records' texts (Texts.matching)."""
    ra, rb = a.record, b.record
    time = _time_score(a, b)
    if time is None:
        return APART
    if ra.uid and ra.uid == rb.uid and not _SYNTHETIC_UID.match(ra.uid):
        return Verdict(1.0, {"uid": ra.uid}) if _related(a, b) else APART
    if _one_after_the_other(ra, rb):
        return APART  # (even with one link: a page lists each session of a day)
    if _same_url(ra, rb):
        return Verdict(0.99, {"url": ra.url}) if _related(a, b) else APART
    if (
        ra.territory != rb.territory and ra.territory not in _NOT_A_PLACE
        and rb.territory not in _NOT_A_PLACE
    ):  # fmt: skip
        return APART
    if not a.title or not b.title:
        return APART
    if a.quoted and b.quoted and fuzz.ratio(a.quoted, b.quoted) < 85:
        return APART  # « Demain » and « Après-demain »: two films, two events
    place = place_similarity(a.place, b.place)
    if place is not None and place < 0.35:
        return APART  # checked first: cheaper than the titles, and it ends most pairs
    close = ra.all_day or rb.all_day or abs(ra.start - rb.start) <= GENERIC_START_GAP
    if (a.generic or b.generic or a.bare or b.bare) and (place is None or place < 0.8 or not close):
        # A title saying only its kind (its own place's words aside, and so whatever the
        # other's place takes out too) is one event only in one slot at one place, below:
        # known before the titles are compared.
        return APART
    if matches is None:
        match = _title_match(a, b, weights)
    else:
        # A match depends on the titles and places only, the same for each occurrence of
        # a series (one in four pairs of a generated agenda, more in real ones).
        pair = a.text << 32 | b.text
        found = matches.get(pair)
        if found is None:
            found = matches[pair] = _title_match(a, b, weights)
        match = found
    title = match.similarity
    if title < MIN_TITLE:
        return APART
    if not a.place and not b.place and match.spelled < 0.9:
        # Nothing but a title and a time: one title merely containing the other ("Event
        # with alarm" / "Event with different alarms", two test calendars) is not enough.
        return APART
    same_start = not ra.all_day and not rb.all_day and ra.start == rb.start
    same_end = ra.end is not None and ra.end == rb.end
    domain = _domain(ra.url) if ra.url and rb.url else ""  # (both links, or nothing to compare)
    same_domain = bool(domain) and domain == _domain(rb.url) and domain not in _SHARED_DOMAINS
    generic = a.generic or b.generic or match.generic  # "Repair café": only its kind
    why = ""  # a doubt's reason, for admins, when a rule below leaves the pair to them
    if generic:
        # "Assemblée générale" of two associations, "Portes ouvertes" at the Cairn and at
        # the Recyclerie: only the same slot at the same place.
        if place is None or place < 0.8 or not close:
            return APART
        if _names_its_publisher(a, b) or _names_its_publisher(b, a):
            # A title names its own publisher, the other only its kind: that one is its own
            # publisher's event, another one (a relay names whose event it relays), unless
            # an admin says otherwise.
            score, why = MERGE_AT - 0.01, "own_publisher"
        elif _names_another(a, b) or _names_another(b, a):
            # "Réunion" on the bowls club's calendar, "Réunion du collectif Transition" on
            # the network's, one room and hour: the bare one is its publisher's own
            # business, the named one another group's, unless an admin says otherwise.
            score, why = MERGE_AT - 0.01, "names_another"
        elif _internal(a) and _internal(b) and not match.vouched:
            # Two "Assemblée générale" (or "Permanence") at the Maison des associations at
            # one hour: two associations' as often as one relayed; an admin decides.
            score, why = MERGE_AT - 0.01, "names_no_one"
        elif match.vouched or match.spelled >= 0.9 or _same_but_light(a, b):
            # The same wording (light words aside: "Repair café du mois de mars" / "Repair
            # café mensuel"), or titles naming their kind and the place they are at
            # ("Soirée jeux à la ludothèque" / "Soirée jeux de société", at the ludothèque).
            score = 0.85
        elif title >= 0.9:
            # One title says only the kind the other names ("Repair café" / "Repair café
            # - réparons ensemble"): one event at one venue, minute and end; a doubt when
            # the venue is only a town or the times differ.
            ends = ra.end is None or rb.end is None or same_end
            one_venue = place >= 0.9 and both_venues(a.place, b.place)
            score = 0.85 if same_start and ends and one_venue else MERGE_AT - 0.01
        else:
            return APART
    else:
        structure = 0.4 * same_start + 0.3 * same_end + 0.3 * same_domain
        score = 0.6 * title + 0.2 * (place if place is not None else 0.6) + 0.1 * time
        score += 0.1 * structure
    if match.conflict and (not match.generic or match.sessions):
        # Each title names something the other lacks ("l'eau" / "la forêt"): two events,
        # unless the same slot at the same venue with much in common leaves a doubt. Two
        # sessions' numbers, levels or audiences conflict even in kind-only titles
        # ("Atelier enfants (3-6 ans)" / "Atelier enfants (7-12 ans)").
        if not (same_start and place is not None and place >= 0.8 and match.shared >= 0.5):
            return APART
        score = min(score, MERGE_AT - 0.01)
    elif title < MERGE_TITLE:
        # The same slot and venue do not make one event of "Chorale yoga" / "Yoga débat".
        return APART
    elif (
        place is not None and place < SAME_PLACE
        and (title < MERGE_TITLE_ELSEWHERE or _two_places(a, b))
    ):  # fmt: skip
        # Two venues of one town, or two places that are not one ("Saint-Firmin" /
        # "Saint-Jacques-en-Valgaudemar", a misspelt commune): the same title there is
        # the same recurring event in two places as often as one event written twice.
        if title < REVIEW_TITLE_ELSEWHERE:
            return APART  # two fair titles: two events
        score = min(score, MERGE_AT - 0.01)  # near-identical titles: a doubt
    if (
        ra.end is not None and rb.end is not None and not ra.all_day and not rb.all_day
        and not same_start and not same_end and title < 0.95
    ):  # fmt: skip
        # Both slots given, and neither end nor start agrees: another session of the day
        # as often as doors opening earlier ("Atelier cuisine enfants" 14:00-16:00 /
        # "... parents-enfants" 14:30-16:30). A doubt, unless the titles read the same.
        score = min(score, MERGE_AT - 0.01)
    if not close:
        # Starts over half an hour apart: doors open half an hour before a show, while an
        # hour apart is the next session as often ("Visite guidée du fort" 14:00 / 15:00).
        score = min(score, MERGE_AT - 0.01)
    if score < REVIEW_AT:
        return APART
    evidence = _evidence(a, b, match, place, same_end, same_domain, generic)
    if why:  # (such a pair's score stays under MERGE_AT: only lowered below)
        evidence[why] = True
    return Verdict(round(score, 3), evidence)


def _evidence(
    a: _Prepared,
    b: _Prepared,
    match: _TitleMatch,
    place: float | None,
    same_end: bool,
    same_domain: bool,
    generic: bool,
) -> dict[str, object]:
    """What admins read: only for pairs that are merged or doubtful."""
    ra, rb = a.record, b.record
    evidence: dict[str, object] = {"title": round(match.similarity, 2)}
    if place is not None:
        evidence["place"] = round(place, 2)
    if not ra.all_day and not rb.all_day:
        evidence["gap"] = int(abs(ra.start - rb.start).total_seconds() // 60)
    else:
        evidence["all_day"] = True
    if same_end:
        evidence["same_end"] = True
    if same_domain:
        evidence["domain"] = _domain(ra.url)
    rewritten = rewrites(ra.title) + rewrites(rb.title)
    if rewritten:
        evidence["lexicon"] = sorted(set(rewritten))
    if generic:
        evidence["generic"] = True
    if match.conflict:
        evidence["conflict"] = [" ".join(match.only_a), " ".join(match.only_b)]
    return evidence


def judge(
    a: DedupRecord, b: DedupRecord, tz: ZoneInfo = PARIS, weights: WordWeights = UNIFORM
) -> Verdict:
    """The pairwise decision, as measured on the labelled sets."""
    if a.source_id == b.source_id:
        return APART
    return _judge(_prepare(a, tz), _prepare(b, tz), weights)


def is_duplicate(a: DedupRecord, b: DedupRecord, tz: ZoneInfo) -> bool:
    return judge(a, b, tz).merge


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


def _candidates(
    prepared: Sequence[_Prepared], days: tuple[dt.date, dt.date] | None = None
) -> Iterator[set[tuple[int, int]]]:
    """Pairs worth scoring, one local day at a time: close starts, different sources, and
    sharing their UID, their URL or a title word. Day by day, so memory holds one day's
    pairs, not the whole window's (millions on a dense agenda); a multi-day event's pairs
    may come twice. `days`: only the pairs of the days from the first to the last."""
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for index, item in enumerate(prepared):
        for day in item.days:
            if days is None or days[0] <= day <= days[1]:
                by_day[day].append(index)
    for day in sorted(by_day):
        # Title words by territory (a dict per territory: no tuple built per word and
        # record); UIDs and links anywhere.
        territories: dict[str | None, defaultdict[str, list[int]]] = {}
        anywhere: defaultdict[str, list[int]] = defaultdict(list)
        ids: dict[str, list[int]] = defaultdict(list)
        # A title saying only its kind ("Permanence", "Repair café") shares no telling
        # word with the one naming it ("Permanence CAE Petra Patrimonia"), nor an acronym
        # ("EIE") with the words it stands for: such records seek their town's that day.
        seekers: set[int] = set()
        for index in by_day[day]:
            item = prepared[index]
            record = item.record
            territory = record.territory
            # Title words pair records of one territory (two known, different territories
            # never match on words, see _judge); a record placed nowhere in particular
            # joins every territory's group.
            if territory in _NOT_A_PLACE:
                words = anywhere
            else:
                found = territories.get(territory)
                if found is None:  # (not setdefault: no dict built per record)
                    found = territories[territory] = defaultdict(list)
                words = found
            for word in item.keys:
                words[word].append(index)
            if record.uid:
                ids["u" + record.uid].append(index)
            if record.url:
                ids["l" + record.url].append(index)
            if (item.bare or item.acronyms) and item.place:
                seekers.add(index)
        groups: list[list[int]] = list(ids.values())
        for words in territories.values():
            if anywhere:
                for word, group in words.items():
                    group.extend(anywhere.get(word, ()))
            groups.extend(words.values())
        groups.extend(anywhere.values())
        pairs: set[tuple[int, int]] = set()
        if seekers:
            pairs.update(_sought_pairs(by_day[day], seekers, prepared))
        for group in groups:
            if len(group) < 2:
                continue
            for i, j in _pairs_in(group, prepared):
                if prepared[i].record.source_id != prepared[j].record.source_id:
                    pairs.add((min(i, j), max(i, j)))
        yield pairs


def _sought_pairs(
    day: list[int], seekers: set[int], prepared: Sequence[_Prepared]
) -> Iterator[tuple[int, int]]:
    """The pairs a day's seekers find among the records of their towns: a bare title and a
    title that has all its words or names its venue ("Permanence" / "Permanence CAE Petra
    Patrimonia"; two bare titles sharing a word share a key already), an acronym and a
    title spelling it out ("EIE" / "Espace info énergie")."""
    places = {prepared[i].place[-1] for i in seekers}
    towns: dict[str, list[int]] = defaultdict(list)
    for index in day:
        place = prepared[index].place
        if place and place[-1] in places:
            towns[place[-1]].append(index)
    # Each town's records by start, all-day ones apart: a timed seeker looks only at those
    # within MAX_START_GAP of its start (bisect), not at the whole town's day.
    timed: dict[str, tuple[list[int], list[dt.datetime], list[int]]] = {}
    for town, found in towns.items():
        ordered = sorted((i for i in found if not prepared[i].record.all_day),
                         key=lambda i: prepared[i].record.start)  # fmt: skip
        timed[town] = (ordered, [prepared[i].record.start for i in ordered],
                       [i for i in found if prepared[i].record.all_day])  # fmt: skip
    for i in seekers:
        seeker = prepared[i]
        record = seeker.record
        town = seeker.place[-1]
        need = frozenset(seeker.own) if seeker.bare else None
        # One of its words, looked for first: most titles of the town lack it.
        needed = seeker.own[0] if seeker.own else None
        venue = seeker.place_words - town_words(seeker.place)
        acronyms = seeker.acronyms
        if record.all_day:
            nearby: Iterable[int] = towns[town]
        else:
            ordered, starts, all_day = timed[town]
            first = bisect.bisect_left(starts, record.start - MAX_START_GAP)
            last = bisect.bisect_right(starts, record.start + MAX_START_GAP)
            nearby = itertools.chain(ordered[first:last], all_day)
        for j in nearby:
            item = prepared[j]
            other = item.record
            if other.source_id == record.source_id:
                continue
            # A title having all the bare one's words, or naming its venue ("Apéritif des
            # bénévoles du Cairn" / "Apéro-rencontre des bénévoles" at Le Cairn).
            if (
                need is not None and not item.bare
                and (
                    ((needed is None or needed in item.words) and need.issubset(item.words))
                    or not venue.isdisjoint(item.words)
                )
            ):  # fmt: skip
                yield min(i, j), max(i, j)
                continue
            if acronyms and any(_spelled_out(acronym, item.words) for acronym in acronyms):
                yield min(i, j), max(i, j)


class _Clusters:
    """Union-find that refuses a union joining two records of one source or a split pair."""

    def __init__(self, records: Sequence[Member], split: frozenset[frozenset[str]]):
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

    def union(self, i: int, j: int, forced: bool = False) -> bool:
        """Join the clusters of i and j; whether this pair joined them."""
        a, b = self.find(i), self.find(j)
        if a == b:
            return False
        if not forced and self.sources(a) & self.sources(b):
            return False
        members_a, members_b = self.members(a), self.members(b)
        if self.split and any(
            frozenset((x, y)) in self.split for x in members_a for y in members_b
        ):
            return False
        self.parent[b] = a
        self._sources[a] = self.sources(a) | self.sources(b)
        self._members[a] = members_a | members_b
        self._sources.pop(b, None)
        self._members.pop(b, None)
        return True


@dataclass(frozen=True)
class JudgedPair:
    first: str  # occurrence ids
    second: str
    verdict: Verdict


@dataclass(frozen=True)
class Decisions:
    clusters: dict[str, str]  # occurrence id -> cluster id, for every record
    merged: list[JudgedPair]  # the pairs that joined two clusters, and why
    doubtful: list[JudgedPair]  # pairs between the thresholds, left apart for an admin


class Member(Protocol):
    """What clustering needs of an occurrence (a DedupRecord has it)."""

    @property
    def id(self) -> str: ...
    @property
    def source_id(self) -> str: ...
    @property
    def first_seen(self) -> dt.datetime | None: ...


def forget(stretch: bool = False) -> None:
    """Empty the caches of worked-out texts (titles' words, places, word pairs): a process
    scoring a long window a stretch at a time keeps memory to a few stretches' texts.
    `stretch`: only what a few stretches' titles worked out; what is known of each place
    stays (an agenda has a few thousand places, met again in every stretch)."""
    for cached in (place_similarity, _outside, _generic, _topic, same_word, title_words,
                   rewrites, _publisher_words, _proper_names, fold):  # fmt: skip
        cached.cache_clear()
    if not stretch:
        place_prefixes.cache_clear()


def score(
    records: Sequence[DedupRecord],
    tz: ZoneInfo = PARIS,
    weights: WordWeights | None = None,
    days: tuple[dt.date, dt.date] | None = None,
    texts: Texts | None = None,
) -> list[JudgedPair]:
    """The pairs worth keeping (merged or doubtful) among records, each once, the first of
    a pair earlier in `records`; `days`: only pairs compared on those days (the first to
    the last), so a long window can be scored a few days at a time, sharing `texts`. Word
    weights are learnt from the records' own titles unless given."""
    with gc_pause.paused():
        texts = texts or Texts()
        prepared = [_prepare(r, tz, texts) for r in records]
        if weights is None:  # from each distinct title's words, worked out once above
            weights = WordWeights.counted([found[0] for found in texts.titles.values()])
        matches = texts.matching(weights)
        scored: dict[tuple[int, int], Verdict] = {}
        for pairs in _candidates(prepared, days):
            for i, j in pairs:
                if (i, j) not in scored:
                    verdict = _judge(prepared[i], prepared[j], weights, matches)
                    if verdict.score >= REVIEW_AT:
                        scored[i, j] = verdict
            if len(matches) > MATCHES_AT_MOST:
                matches.clear()  # a day at a time: memory stays bounded on a long window
        return [JudgedPair(records[i].id, records[j].id, v) for (i, j), v in scored.items()]


def decide(
    records: Sequence[DedupRecord],
    previous: Mapping[str, str] | None = None,
    overrides: Overrides = Overrides(),
    tz: ZoneInfo = PARIS,
    weights: WordWeights | None = None,
) -> Decisions:
    """Clusters, the evidence of each merge, and the doubtful pairs. Word weights are learnt
    from the records' own titles unless given."""
    return settle(records, score(records, tz, weights), previous, overrides)


def settle(
    members: Sequence[Member],
    scored: Iterable[JudgedPair],
    previous: Mapping[str, str] | None = None,
    overrides: Overrides = Overrides(),
) -> Decisions:
    """Clusters from scored pairs: the best first, never two occurrences of one source in
    one event, admin overrides first. Ties go in the members' order, so the pairs of a
    window scored a few days at a time settle as if scored at once; pairs naming an
    occurrence not among the members are ignored."""
    with gc_pause.paused():
        return _settle(members, scored, previous, overrides)


def _settle(
    members: Sequence[Member],
    scored: Iterable[JudgedPair],
    previous: Mapping[str, str] | None,
    overrides: Overrides,
) -> Decisions:
    index = {m.id: n for n, m in enumerate(members)}
    groups = _Clusters(members, overrides.split)
    for forced in sorted(sorted(p) for p in overrides.merge):
        ids = [index[i] for i in forced if i in index]
        if len(ids) == 2:
            groups.union(ids[0], ids[1], forced=True)
    ranked: dict[tuple[int, int], JudgedPair] = {}
    for pair in scored:
        i, j = index.get(pair.first), index.get(pair.second)
        if i is not None and j is not None:
            ranked[min(i, j), max(i, j)] = pair
    merged: list[JudgedPair] = []
    doubtful: list[JudgedPair] = []
    decided = overrides.merge | overrides.split
    for (i, j), pair in sorted(ranked.items(), key=lambda s: (-s[1].verdict.score, s[0])):
        if pair.verdict.merge:
            if groups.union(i, j):
                merged.append(pair)
        elif frozenset((pair.first, pair.second)) not in decided:
            doubtful.append(pair)
    del ranked
    together: dict[int, list[Member]] = defaultdict(list)
    for n, member in enumerate(members):
        together[groups.find(n)].append(member)
    clusters = _stable_ids(list(together.values()), previous or {})
    # A doubt between two occurrences already in one event (through others) is settled.
    doubtful = [p for p in doubtful if clusters[p.first] != clusters[p.second]]
    return Decisions(clusters, merged, doubtful)


def cluster(
    records: Sequence[DedupRecord],
    previous: Mapping[str, str] | None = None,
    overrides: Overrides = Overrides(),
    tz: ZoneInfo = PARIS,
) -> dict[str, str]:
    """Occurrence id -> cluster id, for every record."""
    return decide(records, previous, overrides, tz).clusters


def _stable_ids(groups: list[list[Member]], previous: Mapping[str, str]) -> dict[str, str]:
    """Each cluster keeps the id most of its members had (oldest member first on a tie);
    an id goes to one cluster only, the largest claiming it."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)

    def age(record: Member) -> tuple[dt.datetime, str]:
        return (record.first_seen or far_past, record.id)

    for group in sorted(groups, key=len, reverse=True):
        if len(group) == 1:  # most records: the loop below, without its sorts
            member = group[0]
            alone = previous.get(member.id, member.id)
            if alone in taken:
                alone = member.id if member.id not in taken else "c" + member.id
            taken.add(alone)
            result[member.id] = alone
            continue
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
