"""Duplicates written differently by different publishers: the labelled set's held-out split,
the lexicon, word weights, and the doubtful pairs left to admins."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aggregator.dedup import (
    MERGE_AT,
    REVIEW_AT,
    DedupRecord,
    Overrides,
    decide,
    judge,
)
from aggregator.dedup_words import Lexicon, WordWeights, title_words
from bench.dedup_quality import SPLITS, TEST_SPLITS, agenda_weights, evaluate, pairs

PARIS = ZoneInfo("Europe/Paris")
# The test splits, never tuned on (tests/data/dedup-publishers-heldout*.psv):
# - the first, written on 2026-12-01 once the scoring was frozen (F1 0.885 then; 0.921 on
#   2026-12-02, one of its pairs' titles having been seen that day in a blocking test's
#   failure; 0.938 since);
# - the second, written on 2026-12-02 before that day's scoring was measured on it (F1
#   0.901, run once; 0.917 after the changes of 2026-12-05);
# - the third, written later that day before the second session's scoring was measured
#   on it (F1 0.873, run once; 0.912 after the changes of 2026-12-05);
# - the fourth and the fifth, written on 2026-12-05, each before a round of that day's
#   changes was measured on it (F1 0.964 and 0.964, each run once);
# - the sixth, written later that day before that session's changes were made, and run
#   once after them (F1 0.868: P 0.958, R 0.793);
# - the seventh, written after the sixth was run and before that session's last round of
#   changes, run once after it (F1 0.921: P 0.906, R 0.935; two negatives at one venue and
#   one start merged). Its construction then pointed to a trap (two associations' bare
#   "Assemblée générale" at one house and hour), fixed from fresh development groups:
#   0.951 since, no longer a clean figure;
# - the eighth, written before that fix and run once after it (F1 0.933: P 0.903,
#   R 0.966; one negative at one venue and one start merged).
# On 2026-12-08 the sixth to eighth files' errors were read and tuned on: they are
# development splits since ("dev6" to "dev8"), and a ninth file ("test9", 83 pairs),
# written before that day's changes, was run once after them (F1 0.920: P 0.958,
# R 0.885; one negative at one venue and one start merged; the session's first version
# gives 0.911 on it).
# The target is 0.97: these floors keep the figures from slipping.
REQUIRED_TEST_F1 = {"test": 0.92, "test2": 0.90, "test3": 0.90, "test4": 0.95, "test5": 0.95,
                    "dev6": 0.95, "dev7": 0.95, "dev8": 0.95, "test9": 0.90}  # fmt: skip
# Negatives at one venue and one start that are merged: the issue asks for none. The
# ninth file has one (measured once, not tuned on): the count must not grow.
SAME_SLOT_MERGED_AT_MOST = {"test9": 1}


def test_the_labelled_set_is_large_and_split_by_event() -> None:
    found = pairs()
    same = [p for p in found if p.same]
    assert len(found) >= 300 and len(same) >= 150 and len(found) - len(same) >= 150
    kinds = {p.kind for p in same}
    assert {"abbreviation", "synonym", "organiser", "speaker", "town", "department",
            "series-number", "word-order", "punctuation", "journee-prefix", "doors-open",
            "no-end", "allday-timed", "multiday"} <= kinds  # fmt: skip
    traps = {p.kind for p in found if not p.same}
    assert {"same-venue-slot", "same-title-other-town", "morning-afternoon",
            "same-series-other-topic"} <= traps  # fmt: skip
    # A group (one event, or one trap) is wholly in one split: no event leaks into both.
    splits: dict[str, set[str]] = {}
    for pair in found:
        splits.setdefault(pair.group, set()).add(pair.split)
    assert all(len(s) == 1 for s in splits.values())
    assert sum(p.split == "test" for p in found) >= 50
    assert sum(p.split == "test2" for p in found) >= 60
    assert sum(p.split == "test3" for p in found) >= 50
    assert sum(p.split == "test4" for p in found) >= 45
    assert sum(p.split == "test5" for p in found) >= 45
    assert sum(p.split == "dev6" for p in found) >= 45
    assert sum(p.split == "dev7" for p in found) >= 45
    assert sum(p.split == "dev8" for p in found) >= 45
    assert sum(p.split == "test9" for p in found) >= 80


def test_figures_on_the_held_out_split(capsys: pytest.CaptureFixture[str]) -> None:
    figures, errors = evaluate(pairs())
    with capsys.disabled():
        for split in SPLITS:
            f = figures[split]
            print(f"\ndedup, publishers' set, {split}: precision {f.precision:.3f}, "
                  f"recall {f.recall:.3f}, F1 {f.f1:.3f}, {f.review} to review")  # fmt: skip
        for pair, verdict in errors:  # the test splits' stay unread: never tuned on
            if pair.split not in TEST_SPLITS:
                print(f"  {pair.split} {'FN' if pair.same else 'FP'} {pair.kind}: "
                      f"{pair.a.title!r} / {pair.b.title!r} ({verdict.score:.2f})")  # fmt: skip
    for split, floor in REQUIRED_TEST_F1.items():
        assert figures[split].f1 >= floor, split
    # Two events at one venue and one start are never merged, on any split but the
    # ninth's one.
    for split in SPLITS:
        assert figures[split].hard_merged <= SAME_SLOT_MERGED_AT_MOST.get(split, 0), split


def test_blocking_loses_no_publishers_duplicate() -> None:
    """cluster() scores only the pairs its blocking proposes: every pair of the set the
    pairwise decision merges must end in one event when its group is clustered."""
    found = pairs()
    weights = agenda_weights(found)
    missed = []
    for pair in found:
        if judge(pair.a, pair.b, PARIS, weights).merge:
            clusters = decide([pair.a, pair.b], weights=weights).clusters
            if clusters[pair.a.id] != clusters[pair.b.id]:
                # The test split's titles stay unread: its group only.
                missed.append(
                    f"{pair.a.title!r} / {pair.b.title!r}"
                    if pair.split not in TEST_SPLITS
                    else f"a test pair of {pair.group}"
                )
    assert not missed


def record(ident: str, source: str, title: str, hour: int = 18, minute: int = 0,
           location: str = "Le Cairn, Gap", **kw: object) -> DedupRecord:  # fmt: skip
    start = dt.datetime(2027, 3, 12, hour, minute, tzinfo=PARIS)
    values: dict[str, object] = {"territory": "gap-tallard-durance", "end": None}
    values.update(kw)
    return DedupRecord(ident, source, title, start, location=location, **values)  # type: ignore[arg-type]


def test_the_lexicon_turns_abbreviations_and_synonyms_into_the_same_words() -> None:
    assert title_words("AG de l'Udess 05") == title_words("Assemblée générale de l'Udess")
    assert title_words("JPO") == title_words("Journée portes ouvertes")
    assert title_words("Ciné-débat Douce France") == title_words(
        "Projection suivie d'un débat : Douce France"
    )
    assert title_words("Vide-greniers") == title_words("Brocante")
    assert title_words("13e Festival du film") == title_words("Festival du film")
    # Two letters count only in capitals: "ça" is not a board meeting ("CA").
    assert "conseil" in title_words("CA de l'AMAP")
    assert "conseil" not in title_words("Ça bouge à Gap")


def test_every_lexicon_entry_is_read(tmp_path: object) -> None:
    """An entry made only of ignored words would silently do nothing; only the [ignored]
    phrases ("ouverture des portes") mean nothing."""
    lexicon = Lexicon.load()
    assert len(lexicon.phrases) >= 60
    assert all(lexicon.phrases)
    ignored = {k for k, meaning in lexicon.phrases.items() if not meaning}
    # (A bound, so that a mistyped section does not turn synonyms into ignored phrases.)
    assert ("ouverture", "portes") in ignored and len(ignored) <= 16
    assert max(map(len, lexicon.phrases)) >= 3
    assert title_words("Lo Barrut (ouverture des portes 19h30)") == ("lo", "barrut")


def test_an_abbreviation_written_in_capitals_in_the_lexicon_counts_only_in_capitals() -> None:
    """ "AGE" is an extraordinary general meeting; "âge" (folded "age") is someone's age."""
    assert title_words("AGE du club") == ("assemblee", "generale", "extraordinaire", "club")
    assert title_words("Repas du 3e âge") == ("repas", "age")
    assert title_words("Age du club") == ("age", "club")


def test_rare_words_weigh_more_than_common_ones() -> None:
    titles = [f"Atelier {n}" for n in ("vélo", "couture", "compost", "jardin", "cuisine")] * 10
    titles += [f"Atelier {w} {n}" for n, w in enumerate(["tricot"] * 40)]
    titles.append("Alternatiba : atelier vélo")
    weights = WordWeights.learn(titles)
    assert weights.weight("alternatiba") > weights.weight("velo") > weights.weight("atelier")
    # Learnt from too few titles, weights are flat (every word looks rare).
    few = WordWeights.learn(["Atelier vélo", "Alternatiba"])
    assert few.weight("alternatiba") == few.weight("velo")


def test_a_doubtful_pair_is_left_apart_for_an_admin() -> None:
    # Same slot, same venue, much in common, but each names a topic the other lacks.
    a = record("a", "attac", "Université populaire : la dette")
    b = record("b", "udess", "Université populaire : l'école")
    verdict = judge(a, b, PARIS)
    assert REVIEW_AT <= verdict.score < MERGE_AT and "conflict" in verdict.evidence
    decisions = decide([a, b])
    assert decisions.clusters["a"] != decisions.clusters["b"]
    assert [(p.first, p.second) for p in decisions.doubtful] in ([("a", "b")], [("b", "a")])
    # Once an admin decided, the pair is no longer doubtful: split keeps them apart...
    split = decide([a, b], overrides=Overrides(split=frozenset({frozenset({"a", "b"})})))
    assert split.doubtful == [] and split.clusters["a"] != split.clusters["b"]
    # ... and merge joins them.
    merge = decide([a, b], overrides=Overrides(merge=frozenset({frozenset({"a", "b"})})))
    assert merge.doubtful == [] and merge.clusters["a"] == merge.clusters["b"]


def test_a_merge_keeps_its_evidence() -> None:
    a = record("a", "udess", "AG de l'Udess 05", end=dt.datetime(2027, 3, 12, 20, tzinfo=PARIS))
    b = record("b", "cairn", "Assemblée générale annuelle UDESS 05", minute=0,
               end=dt.datetime(2027, 3, 12, 20, tzinfo=PARIS))  # fmt: skip
    decisions = decide([a, b])
    assert decisions.clusters["a"] == decisions.clusters["b"]
    (merged,) = decisions.merged
    evidence = merged.verdict.evidence
    assert evidence["gap"] == 0 and evidence["same_end"] is True
    assert "ag -> assemblee generale" in evidence["lexicon"]  # type: ignore[operator]


def test_two_quoted_names_are_two_events() -> None:
    a = record("a", "cinema", "Ciné-débat « Demain »", location="Cinéma Le Club, Gap")
    b = record("b", "asso", "Ciné-débat « Après-demain »", location="Cinéma Le Club, Gap")
    assert judge(a, b, PARIS).score == 0.0


def test_one_title_adding_the_organiser_is_one_event() -> None:
    a = record("a", "velo", "Atelier réparation vélo", hour=14, location="12 rue Carnot, Gap")
    b = record("b", "udess", "Alternatiba Gap : atelier de réparation de vélos", hour=14,
               location="Garage solidaire, 12 rue Carnot, Gap")  # fmt: skip
    assert judge(a, b, PARIS).merge


def test_one_series_two_topics_are_two_events() -> None:
    """Found on the training split: the same festival's two evenings at one venue and one
    hour merged, "climat" being too common a word to count as a difference."""
    day = dt.datetime(2027, 7, 2, 20, 30, tzinfo=PARIS)

    def record(source: str, title: str, where: str = "Salle des fêtes, Veynes") -> DedupRecord:
        return DedupRecord(id=source, source_id=source, title=title, start=day,
                           location=where, territory="buech-devoluy")  # fmt: skip

    weights = agenda_weights(pairs())
    palestine = record("a", "Festival Résistances : soirée Palestine")
    climate = record("b", "Festival Résistances : soirée climat", "Veynes")
    assert not judge(palestine, climate, PARIS, weights).merge
    # Not when the parts before the colon differ, nor when the topics share their words.
    walk = record("c", "Balade botanique - plantes sauvages comestibles")
    plants = record("d", "Plantes sauvages comestibles : balade botanique")
    assert judge(walk, plants, PARIS, weights).merge
    talk = record("e", "Conférence : l'eau en montagne")
    same_talk = record("f", "Conférence : l'eau en montagne, avec le CPIE")
    assert judge(talk, same_talk, PARIS, weights).merge
