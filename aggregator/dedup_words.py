"""Title words for deduplication: folding, the field's lexicon, word weights. Pure.

A title becomes a tuple of folded words without stop words, series numbers ("13e") or
digits, rewritten with the lexicon (aggregator/data/dedup-lexicon.toml): "AG" and
"assemblée générale" give the same words, so do "ciné-débat" and "projection suivie d'un
débat". Words are then weighed: an association's name or a film's title, rare in the agenda,
says more about which event a record is than "atelier", which every other title has.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import tomllib
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from aggregator.search import fold, written_out

LEXICON_PATH = Path(__file__).parent / "data" / "dedup-lexicon.toml"
STOP_WORDS = {
    "le", "la", "les", "l", "de", "du", "des", "d", "un", "une", "et", "a", "au", "aux", "en",
    "pour", "avec", "sur", "par", "the", "of", "and", "s", "sa", "son", "ses", "notre", "nos",
    "votre", "vos", "ce", "cette", "nouveau", "nouvelle", "edition", "eme", "e", "er",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "janvier",
    "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
    "novembre", "decembre", "h", "annule", "complet", "report", "reporte", "suivie", "suivi",
    "dans", "chez", "sous", "vers", "qui", "quoi",
    # Pronouns and the commonest verbs: a slogan's grammar, not what the event is.
    "il", "ils", "elle", "elles", "on", "nous", "je", "j", "tu", "y", "est", "sont", "ou",
    "que", "qu", "se", "ne", "n", "pas", "c", "mon", "ma", "mes", "ton", "ta", "tes",
    "leur", "leurs",
}  # fmt: skip
# Words naming a kind of event: two titles made only of these need more than their words.
GENERIC = {
    "assemblee", "generale", "ag", "reunion", "permanence", "atelier", "ateliers",
    "conference", "concert", "marche", "formation", "soiree", "fete", "repair", "cafe",
    "rencontre", "rencontres", "debat", "projection", "spectacle", "stage", "sortie",
    "balade", "randonnee", "visite", "ouverte", "porte", "portes", "ouvertes", "benevoles",
    "conseil", "administration", "ca", "bureau", "pique", "nique", "repas", "partage",
    "jeux", "jeu", "cours", "cinema", "animation", "info", "information", "point",
    "chorale", "lecture", "apero", "aperitif", "accueil", "foire", "salon", "publique",
    "public", "seance", "film", "discussion", "initiation", "decouverte", "auteur",
    "autrice", "ecrivain", "ecrivaine", "invite", "invitee", "materiel", "collecte",
    # "Événement", "Event#3" (its number goes): a title saying only that it is an event.
    "evenement", "evenements", "event", "events", "test",
}  # fmt: skip
# Kinds of event that are not one another: "Atelier vélo" and "Marché vélo" are two events.
# Loose words ("soirée", "rencontre", "fête", "découverte") name no kind and never conflict.
KINDS = {
    "atelier", "ateliers", "concert", "conference", "projection", "spectacle", "formation",
    "permanence", "assemblee", "stage", "cours", "marche", "repas", "chorale", "lecture",
    "visite", "bal", "exposition", "braderie", "conseil", "bureau", "collecte",
}  # fmt: skip
# What every association holds for itself (its AG, its board, its office hours): a title
# saying only this names no one, and one house hosts several at one hour.
INTERNAL = {
    "assemblee", "generale", "ordinaire", "extraordinaire", "conseil", "administration",
    "bureau", "reunion", "permanence",
}  # fmt: skip
# The level a session is for: two levels are two sessions ("Stage de poterie : initiation"
# / "... : perfectionnement"), whatever else the titles share.
LEVELS = {
    **dict.fromkeys(("initiation", "debutant", "debutants", "debutante", "debutantes"), 1),
    **dict.fromkeys(("intermediaire", "intermediaires"), 2),
    **dict.fromkeys(("perfectionnement", "confirme", "confirmes", "confirmee", "confirmees",
                     "avance", "avances", "avancee", "avancees", "expert", "experts"), 3),
}  # fmt: skip
# Words one publisher adds and another leaves out without naming another event: the
# department, the size, "journée", "annuel". They weigh little and never conflict.
LIGHT = {
    "hautes", "alpes", "haut", "alpin", "alpine", "alpins", "alpines", "departemental",
    "departementale", "departementales", "departementaux", "annuel", "annuelle", "grand",
    "grande", "grands", "grandes", "journee", "jour", "soir", "traditionnel",
    "traditionnelle", "special", "speciale", "gratuit", "gratuite", "ouvert", "tous",
    "toutes", "famille", "retour", "venez", "rendez", "vous", "operation",
    # Every other event of the field is "solidaire": the word tells no event from another.
    "solidaire", "solidaires", "solidarite", "soutien", "profit", "benefice",
    # Calls to come, not what the event is.
    "inscription", "inscriptions", "participez", "decouvrez", "rejoignez", "tout",
    "invitent", "invitons",
    # How it is done, not what: "Atelier vélo participatif", "Chorale participative".
    "participatif", "participative", "participatifs", "participatives",
    # The season a publisher adds ("Bourse aux vélos de printemps"): the date says it.
    "printemps", "ete", "automne", "hiver", "estival", "estivale", "hivernal", "hivernale",
    # So does the rhythm ("Repair café du mois de mars" / "... mensuel"; months and
    # weekdays are stop words).
    "mois", "mensuel", "mensuelle", "mensuels", "mensuelles", "hebdomadaire",
    "hebdomadaires",
    # The audience's age ("dès 8 ans"; two age groups differ by their numbers).
    "ans",
    # The audience, which one publisher adds ("Atelier sciences pour les enfants") where
    # another names the organiser; two audiences apart are two sessions (AUDIENCES).
    # ("Parents" stays telling: a "Café des parents" is what the event is.)
    "enfants", "enfant", "adultes", "adulte", "ados", "adolescents", "familles",
}  # fmt: skip
# Whom a session is for: two titles naming different audiences are two sessions
# ("Atelier poterie enfants" / "... adultes", "... enfants" / "... parents-enfants"); a
# family is children and adults together.
_CHILD, _TEEN, _ADULT = 1, 2, 3
AUDIENCES = {
    **dict.fromkeys(("enfants", "enfant"), frozenset({_CHILD})),
    **dict.fromkeys(("ados", "adolescents"), frozenset({_TEEN})),
    **dict.fromkeys(("adultes", "adulte"), frozenset({_ADULT})),
    **dict.fromkeys(("parents", "famille", "familles"), frozenset({_CHILD, _ADULT})),
}
# "Ouverture 20h", "portes 19h30": the doors' time, which the start already says.
_DOORS = frozenset({"ouverture", "ouv", "portes"})
_WORD = re.compile(r"[a-z0-9]+")
_ORDINAL = re.compile(r"^\d+(?:e|eme|er|ere|nd|nde|th|st|rd|i?emes?)$")
# A clock time written in a title ("ouverture des portes 19h30", "20h"): the start says it.
_CLOCK = re.compile(r"^\d{1,2}h\d{0,2}$")
GENERIC_WEIGHT = 0.3
LIGHT_WEIGHT = 0.1
SIGNIFICANT_WEIGHT = 0.7  # generic and light words always weigh less
# Word weights learnt from fewer titles than this are noise: every word is rare.
MIN_TITLES = 40


def folded(text: str) -> str:
    """The text folded (search.fold), its ligatures written out: "Cœur" meets "coeur"."""
    return written_out(fold(text))


def _is_number(word: str) -> bool:
    """A number, a series number ("13e") or a clock time ("19h30"): no title word."""
    return word[0].isdigit() and bool(word.isdigit() or _ORDINAL.match(word) or _CLOCK.match(word))


def _plain_words(text: str) -> list[str]:
    words = _WORD.findall(folded(text))
    kept = [w for w in words if w not in STOP_WORDS and not _is_number(w)]
    if len(kept) == len(words) or _DOORS.isdisjoint(kept):
        return kept  # most titles: no clock time, or no doors before one
    return _without_doors(words)


def _without_doors(words: list[str]) -> list[str]:
    """The words without a doors' time ("Les Dodos (ouverture 20h)", "portes 19h30"):
    a doors word goes when a clock time follows it, small words aside, or another doors
    word that goes ("ouverture des portes 19h30")."""
    out: list[str] = []
    dropping = False  # whether a clock time (or a dropped doors word) follows
    for w in reversed(words):
        if w in STOP_WORDS:
            continue
        if _is_number(w):
            dropping = dropping or bool(_CLOCK.match(w))
            continue
        if w in _DOORS and dropping:
            continue
        dropping = False
        out.append(w)
    return out[::-1]


@dataclass(frozen=True, eq=False)  # hashed by identity: title_words caches per lexicon
class Lexicon:
    """Folded phrases -> the words they stand for; `short` phrases (one or two letters)
    count only when the title writes them in capitals."""

    phrases: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    short: frozenset[tuple[str, ...]] = frozenset()

    @functools.cached_property
    def short_words(self) -> frozenset[str]:
        return frozenset(p[0] for p in self.short)

    @functools.cached_property
    def starts(self) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
        """The phrases by their first word, longest first, with their length: most title
        words start none, and the others are tried against their own phrases only."""
        found: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for phrase in sorted(self.phrases, key=len, reverse=True):
            found.setdefault(phrase[0], []).append((len(phrase), phrase))
        return found

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        short = set()
        for written, meaning in data.get("abbreviations", {}).items():
            key = tuple(_plain_words(written))
            if key:
                phrases[key] = tuple(_plain_words(meaning))
                if len("".join(key)) <= 2 or written.isupper():
                    short.add(key)  # counts only in capitals
        # A synonym phrase may be written with an abbreviation of one of its words
        # ("soirée d'info" for "soirée d'information"): those spellings count too.
        shortened: dict[str, list[str]] = {}
        for key, meaning in list(phrases.items()):
            if len(key) == 1 and len(meaning) == 1 and key not in short:
                shortened.setdefault(meaning[0], []).append(key[0])
        for group in data.get("synonyms", {}).get("groups", []):
            canonical = tuple(_plain_words(group[0]))
            for phrase in group:
                key = tuple(_plain_words(phrase))
                for spelling in _spellings(key, shortened):
                    if spelling and spelling != canonical:
                        phrases[spelling] = canonical
        for phrase in data.get("ignored", {}).get("phrases", []):
            key = tuple(_plain_words(phrase))
            if key:
                phrases[key] = ()
        return cls(phrases, frozenset(short))

    def rewrite(
        self, words: list[str], capitals: frozenset[str] = frozenset()
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The words with each phrase replaced (longest first, left to right), and the
        rewrites made ("ag -> assemblee generale")."""
        starts = self.starts
        if starts.keys().isdisjoint(words):
            return tuple(words), ()  # most titles: nothing to rewrite
        out: list[str] = []
        done: list[str] = []
        i = 0
        while i < len(words):
            phrases = starts.get(words[i])
            if phrases is None:
                out.append(words[i])
                i += 1
                continue
            for size, key in phrases:
                if tuple(words[i : i + size]) != key or (
                    key in self.short and key[0] not in capitals
                ):
                    continue
                meaning = self.phrases[key]
                out.extend(meaning)
                done.append(f"{' '.join(key)} -> {' '.join(meaning) or '∅'}")  # ∅: ignored
                i += size
                break
            else:
                out.append(words[i])
                i += 1
        return tuple(out), tuple(done)


def _spellings(key: tuple[str, ...], shortened: Mapping[str, list[str]]) -> list[tuple[str, ...]]:
    """The phrase, and the phrase with each word written as any of its abbreviations."""
    found: list[tuple[str, ...]] = [()]
    for word in key:
        found = [(*start, choice) for start in found for choice in [word, *shortened.get(word, [])]]
    return found


LEXICON = Lexicon.load()


_TWO_CAPITALS = re.compile(r"[A-ZÀ-ÖØ-Þ]{2}")


def capitals(title: str) -> frozenset[str]:
    if not _TWO_CAPITALS.search(title):
        return frozenset()  # most titles: no word in capitals
    return frozenset(fold(w) for w in re.findall(r"\w+", title) if len(w) >= 2 and w.isupper())


def _rewrite(title: str, lexicon: Lexicon) -> tuple[tuple[str, ...], tuple[str, ...]]:
    words = _plain_words(title)
    # Capitals matter only for a short abbreviation: most titles have none.
    short = lexicon.short_words
    written = capitals(title) if any(w in short for w in words) else frozenset()
    return lexicon.rewrite(words, written)


@functools.lru_cache(maxsize=65536)
def title_words(title: str, lexicon: Lexicon = LEXICON) -> tuple[str, ...]:
    return _rewrite(title, lexicon)[0]


@functools.lru_cache(maxsize=4096)
def rewrites(title: str, lexicon: Lexicon = LEXICON) -> tuple[str, ...]:
    """The lexicon's rewrites of a title, for the evidence shown to admins."""
    return _rewrite(title, lexicon)[1]


def _stem(word: str) -> str:
    """Plural and feminine endings off: "contees", "contes" and "conte" give "cont"."""
    for _ in range(2):
        word = word.removesuffix("s").removesuffix("x").removesuffix("e")
    return word


# Endings that make a noun of a verb or a verb of a noun ("fabrication" / "fabriquer",
# "nettoyage" / "nettoyer", "randonnée" / "randonneur"), longest first.
_DERIVED = ("ations", "ation", "itions", "ition", "ements", "ement", "euses", "euse", "eurs",
            "eur", "ages", "age", "ees", "ee", "ons", "ez", "er", "ir")  # fmt: skip
ROOT_MIN = 5  # a shorter root says too little: "anim-ation" / "anim-aux", "form-ation"


def _root(word: str) -> str:
    """A word without its derivational ending, "qu"/"gu" before it read as the letter they
    spell ("fabriqu-er", "fabric-ation"); the word itself when its root would be short."""
    for ending in _DERIVED:
        if word.endswith(ending) and len(word) - len(ending) >= ROOT_MIN:
            root = word[: -len(ending)]
            if root.endswith("qu"):
                return root[:-2] + "c"
            return root[:-1] if root.endswith("gu") else root
    return word


@functools.lru_cache(maxsize=262144)
def same_word(a: str, b: str) -> bool:
    """One word, give or take a plural, a suffix, a derivation or a typo: "atelier" /
    "ateliers", "velo"/"velos", "contee"/"contes", "fabrication"/"fabriquer"."""
    if a == b or (len(a) >= 4 and _stem(a) == _stem(b)):
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long.startswith(short) and len(long) - len(short) <= 3:
        return True
    # A typo: one edit or two swapped letters ("raido"/"radio", "ouevrtes"/"ouvertes").
    if len(short) >= 5 and (fuzz.ratio(a, b) >= 85 or OSA.distance(a, b) <= 1):
        return True
    if len(short) < ROOT_MIN + 2 or a[:3] != b[:3]:
        return False  # (the cheap test first: most pairs of words differ from the start)
    root = _root(a)
    return root != a and root == _root(b)


@dataclass(frozen=True)
class WordWeights:
    """Inverse document frequency over the agenda's distinct titles, on top of the kind of
    word (generic, light). Learnt from too few titles, every word weighs the same."""

    counts: Mapping[str, int] = field(default_factory=dict)
    titles: int = 0
    # Each word's weight and whether it is significant, worked out once: dedup asks for
    # both of each word of every pair it compares.
    _memo: dict[str, tuple[float, bool]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def learn(cls, titles: Iterable[str]) -> WordWeights:
        # Not through title_words' cache: a window's titles would fill it for nothing.
        return cls.counted([_rewrite(title, LEXICON)[0] for title in set(titles)])

    @classmethod
    def counted(cls, titles: Collection[tuple[str, ...]]) -> WordWeights:
        """From the words of each distinct title (a word counts once per title)."""
        counts = Counter(itertools.chain.from_iterable(map(frozenset, titles)))
        return cls(counts, len(titles))

    def weight(self, word: str) -> float:
        return self.facts(word)[0]

    def _weigh(self, word: str) -> float:
        if word in LIGHT:
            return LIGHT_WEIGHT
        base = GENERIC_WEIGHT if word in GENERIC else 1.0
        if self.titles < MIN_TITLES:
            return base
        seen = self.counts.get(word, 0)
        rarity = math.log((self.titles + 1) / (seen + 1)) / math.log(self.titles + 1)
        return base * (0.5 + rarity)

    def significant(self, word: str) -> bool:
        """Whether a word one title has and the other lacks names another event."""
        return self.facts(word)[1]

    def facts(self, word: str) -> tuple[float, bool]:
        """The word's weight and whether it is significant, in one look-up."""
        found = self._memo.get(word)
        if found is None:
            weight = self._weigh(word)
            significant = weight >= SIGNIFICANT_WEIGHT and word not in GENERIC
            found = self._memo[word] = (weight, significant)
        return found


UNIFORM = WordWeights()
