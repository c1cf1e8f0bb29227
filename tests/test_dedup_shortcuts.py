"""Dedup's shortcuts decide as each pair judged alone does. Title matches are remembered
per pair of titles and places while an agenda is scored (a series' occurrences meet again
week after week): a match remembered for other places would merge or split what judge()
does not. A bare title's search of its town now goes by start: it must still find every
record within the hour, the hour's edges included. (The veto of a bare title by slot and
place, before its title is compared, sits inside judge() itself: it was checked against
the version before on the 102,000 occurrences of bench/ingest, every cluster and pair
alike.)"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from aggregator import dedup
from aggregator.dedup import PARIS, REVIEW_AT, DedupRecord, Texts, judge, score
from aggregator.dedup_words import WordWeights

# Titles that name a town or a venue (whose words are left out when either record is
# there), that only say their kind, that quote a work, carry numbers or acronyms.
TITLES = (
    "Repair café", "Repair café à Embrun", "Repair café de la MJC", "Soirée jeux",
    "Soirée jeux à la ludothèque", "Soirée jeux de société", "Assemblée générale",
    "AG de La Fourmi", "Assemblée générale de La Fourmi", "Ciné-débat « Demain »",
    "Projection du film « Demain » suivie d'un débat", "Sortie niveau 1", "Sortie niveau 2",
    "Café compost à Gap", "Jeux à Gap", "Marché paysan", "Marché de producteurs à Embrun",
    "Permanence", "Permanence CAE Petra Patrimonia", "EIE", "Espace info énergie",
    "Conférence : le climat", "Conférence : la forêt", "Fête du vélo", "Bourse aux vélos",
    "Portes ouvertes de la Ressourcerie", "Journée portes ouvertes", "Atelier couture",
    "Atelier vélo", "Café philo : le travail", "Café philo : la liberté",
)  # fmt: skip
PLACES = (
    "MJC, Embrun", "Salle des fêtes, Embrun", "Ludothèque, Gap", "La Ressourcerie, Gap",
    "Gap", "Embrun", "MJC, 4 avenue de la République, 05200 Embrun", "Salle des fêtes de Gap",
    "", "Le Cairn, Gap", "Médiathèque, Gap",
)  # fmt: skip
TERRITORIES = {"Embrun": "serre-poncon", "Gap": "gap-tallard-durance"}


def _agenda(seed: int, size: int = 800) -> list[DedupRecord]:
    """Records of five sources over four days, at a few hours: titles and places drawn
    again and again, so the same two texts meet on several days, and the same two
    titles at other places."""
    rng = random.Random(seed)
    records = []
    for n in range(size):
        place = rng.choice(PLACES)
        town = next((t for t in TERRITORIES if t in place), None)
        all_day = rng.random() < 0.1
        start = dt.datetime(2027, 5, 3 + rng.randrange(4), rng.choice((10, 14, 18)),
                            rng.choice((0, 30)), tzinfo=PARIS)  # fmt: skip
        records.append(DedupRecord(
            id=f"o{n}", source_id=f"s{rng.randrange(5)}", title=rng.choice(TITLES),
            start=start.replace(hour=0, minute=0) if all_day else start,
            end=None if all_day or rng.random() < 0.3 else start + dt.timedelta(hours=2),
            all_day=all_day, location=place, territory=TERRITORIES.get(town or ""),
        ))  # fmt: skip
    return records


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scoring_an_agenda_judges_each_pair_as_alone(seed: int) -> None:
    records = _agenda(seed)
    weights = WordWeights.learn(r.title for r in records)
    kept = {(p.first, p.second): p.verdict for p in score(records, PARIS, weights)}
    texts = Texts()
    prepared = [dedup._prepare(r, PARIS, texts) for r in records]
    compared = merged = 0
    for pairs in dedup._candidates(prepared):
        for i, j in pairs:
            a, b = records[i], records[j]
            alone = judge(a, b, PARIS, weights)
            compared += 1
            merged += alone.merge
            if alone.score >= REVIEW_AT:
                assert kept.get((a.id, b.id)) == alone, (a, b)
            else:
                assert (a.id, b.id) not in kept, (a, b, kept[a.id, b.id])
    # The agenda exercises what it is meant to: many pairs, some merged, some doubtful.
    assert compared > 1000 and merged > 20
    assert any(not v.merge for v in kept.values())


def test_a_bare_title_seeks_its_towns_records_within_the_hour_edges_included() -> None:
    """ "Permanence" at the Cairn shares no telling word with the titles that name whose
    permanence it is: it seeks the records of its town that day, up to an hour away."""
    day = dt.datetime(2027, 5, 3, 10, tzinfo=PARIS)
    minutes = (-61, -60, 0, 60, 61)
    bare = DedupRecord("bare", "cairn", "Permanence", day, location="Le Cairn, Gap")
    named = [
        DedupRecord(f"m{m}", f"s{m}", "Permanence CAE Petra Patrimonia",
                    day + dt.timedelta(minutes=m), location="Tiers-lieu Le Cairn, Gap")
        for m in minutes
    ]  # fmt: skip
    records = [bare, *named]
    texts = Texts()
    prepared = [dedup._prepare(r, PARIS, texts) for r in records]
    found = {records[j].id for pairs in dedup._candidates(prepared) for i, j in pairs if i == 0}
    assert found == {"m-60", "m0", "m60"}


def _stable_ids_plainly(
    groups: list[list[DedupRecord]], previous: dict[str, str]
) -> dict[str, str]:
    """The cluster ids rule written plainly, for every group alike: the id most members
    had (oldest first on a tie), an id to one cluster only, the largest claiming first."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for group in sorted(groups, key=len, reverse=True):
        oldest = sorted(group, key=lambda r: (r.first_seen or dt.datetime.min.replace(
            tzinfo=dt.UTC), r.id))  # fmt: skip
        votes: dict[str, int] = {}
        for member in oldest:
            cid = previous.get(member.id, member.id)
            votes[cid] = votes.get(cid, 0) + 1
        ranked = sorted(votes, key=lambda cid: -votes[cid])
        chosen = next((c for c in ranked if c not in taken), None)
        chosen = chosen or next((r.id for r in oldest if r.id not in taken), None)
        chosen = chosen or "c" + min(r.id for r in group)
        taken.add(chosen)
        result.update((r.id, chosen) for r in group)
    return result


@pytest.mark.parametrize("seed", range(20))
def test_lone_records_keep_their_ids_as_clusters_do(seed: int) -> None:
    """Most records are alone in their event, and take a shorter way to their id: it must
    give what the rule gives, even where a lone record's old id went to a larger cluster
    (a record left an event it was merged into) or another's own id is that old id."""
    rng = random.Random(seed)
    records = _agenda(seed, 200)
    ids = [r.id for r in records]
    groups: list[list[DedupRecord]] = []
    rest = records[:]
    rng.shuffle(rest)
    while rest:
        size = rng.choice((1, 1, 1, 2, 3))
        groups.append(rest[:size])
        rest = rest[size:]
    # Previous ids: often its own, sometimes another record's or an old cluster's.
    previous = {r.id: rng.choice([r.id, r.id, rng.choice(ids), f"c{rng.randrange(5)}"])
                for r in records}  # fmt: skip
    assert dedup._stable_ids(groups, previous) == _stable_ids_plainly(groups, previous)  # type: ignore[arg-type]
