"""One event as different publishers write it, and two events that read alike: each case is
a way real publishers wrote the same event (or two) that the dedup of 2026-12-01 got wrong.
Every merge is checked through decide(), so blocking must also bring the pair together."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from aggregator.dedup import REVIEW_AT, DedupRecord, decide, judge
from aggregator.territory import load_gazetteer, tag_territory

PARIS = ZoneInfo("Europe/Paris")
GAZETTEER = load_gazetteer()


def at(hour: int, minute: int = 0, day: int = 13) -> dt.datetime:
    return dt.datetime(2027, 3, day, hour, minute, tzinfo=PARIS)


def record(
    ident: str,
    source: str,
    title: str,
    location: str,
    start: dt.datetime,
    end: dt.datetime | None = None,
    all_day: bool = False,
) -> DedupRecord:
    """A record as the pipeline makes it: its territory tagged from its location."""
    territory = tag_territory(location, GAZETTEER).slug
    return DedupRecord(ident, source, title, start, end, all_day, location, territory)


def merged(a: DedupRecord, b: DedupRecord) -> bool:
    clusters = decide([a, b]).clusters
    return clusters[a.id] == clusters[b.id]


SAME = {
    "a street address against the venue's name": (
        ("JPO à la Fabrique", "Tiers-lieu La Fabrique, Briançon"),
        ("Journée portes ouvertes de La Fabrique", "4 avenue de la République, 05100 Briançon"),
    ),
    "a title naming the venue the other is at": (
        ("Soirée jeux à la ludothèque", "Embrun"),
        ("Soirée jeux de société", "Ludothèque, Embrun"),
    ),
    "an organisation's acronym": (
        ("Braderie du SPF", "Secours populaire, 3 rue Jean Eymar, Gap"),
        ("Grande braderie du Secours Populaire Français", "Gap"),
    ),
    "a word written in two": (
        ("Éco-festival", "Embrun"),
        ("Écofestival - 1er jour", "Plan d'eau d'Embrun"),
    ),
    "the town's people named for the town": (
        ("Repair café", "Salle des fêtes, Guillestre"),
        ("Repair café du Guillestrois", "Guillestre"),
    ),
    "a film's name quoted by one, leading the other": (
        ("Les Amis de la Terre 05 : projection « Irrintzina »", "Cinéma Le Club, Gap"),
        ("IRRINTZINA, le cri de la génération climat", "Le Club, Gap"),
    ),
    "doors' time in the title, no kind of event in the other": (
        ("Lo Barrut en concert (ouverture des portes 19h30)", "Veynes"),
        ("LO BARRUT - polyphonies occitanes", "Veynes"),
    ),
    "a médiathèque's tale time, named two ways": (
        ("Heure du conte", "Médiathèque, Veynes"),
        ("Lecture de contes pour les petits", "Médiathèque de Veynes"),
    ),
    "a short abbreviation and a season added": (
        ("Foire bio du Buëch", "Serres"),
        ("Foire biologique du Buëch de printemps", "Centre du village, Serres"),
    ),
    "a ligature typed by one, written out by the other": (
        ("Collecte des Restos du Cœur", "Supermarché, Veynes"),
        ("Restos du coeur : collecte", "Veynes"),
    ),
    "the month and the rhythm added": (
        ("Café réparation du mois de février", "Tiers-lieu, Serres"),
        ("Café réparation mensuel", "Serres"),
    ),
    "a sale named two ways": (
        ("Vente solidaire de vêtements", "Vestiaire de la Croix-Rouge, Gap"),
        ("Braderie de vêtements", "Croix-Rouge, Gap"),
    ),
    "a comic-book workshop abbreviated, the audience's age added": (
        ("Atelier BD", "Médiathèque, Veynes"),
        ("Atelier bande dessinée (dès 10 ans)", "Médiathèque de Veynes"),
    ),
    "an online meeting, placed two ways": (
        ("Webinaire : déclarer ses bénévoles", "En ligne"),
        ("Déclarer ses bénévoles (visio)", "Visioconférence Zoom"),
    ),
    "a clean-up day in English and in French": (
        ("Clean up day à la base de loisirs", "Base de loisirs, Embrun"),
        ("Nettoyage des berges à la base de loisirs", "Embrun"),
    ),
    "an AMAP's distribution, named by its baskets": (
        ("Distribution des paniers", "Halle, Briançon"),
        ("Distribution de l'AMAP du Briançonnais", "Briançon"),
    ),
    "a repair workshop written as a call to repair": (
        ("Répare ta machine à coudre !", "Ressourcerie, Embrun"),
        ("Atelier de réparation de machines à coudre", "Embrun"),
    ),
    "a town written short with the venue, in full alone": (
        ("Soirée contes avec Marie Dupuis", "Médiathèque de Laragne"),
        ("Contes et légendes, par Marie Dupuis", "Laragne-Montéglin"),
    ),
    "a first-aid course by its certificate's name": (
        ("Initiation aux premiers secours", "Caserne des pompiers, Tallard"),
        ("PSC1 : initiation", "Tallard"),
    ),
    "a bike workshop called participative by one, a repair workshop by the other": (
        ("Atelier vélo participatif", "Local associatif, Veynes"),
        ("Atelier réparation de vélos", "Local associatif de Veynes"),
    ),
    "a choir open to all, or participative": (
        ("Chorale ouverte à toutes et à tous", "Salle des fêtes, Chorges"),
        ("Chorale participative", "Salle des fêtes de Chorges"),
    ),
    "the Festival des Solidarités by its short name": (
        ("Festisol : soirée d'ouverture", "MJC, Embrun"),
        ("Festival des solidarités - soirée d'ouverture", "Embrun"),
    ),
    "the climate fresco by its English name": (
        ("Climate Fresk", "Tiers-lieu Le Pas de Côté, Serres"),
        ("Atelier Fresque du climat", "Serres"),
    ),
    "legal advice, or access to rights": (
        ("Permanence juridique gratuite", "Centre social, Veynes"),
        ("Permanence d'accès aux droits", "Centre social de Veynes"),
    ),
    "a kind-only title, each publisher adding its own light word": (
        ("Repair café du mois de mars", "Salle des fêtes, Veynes"),
        ("Repair café mensuel", "Salle des fêtes de Veynes"),
    ),
    "a repair café by its French name": (
        ("Café réparation", "Tiers-lieu Le Pas de Côté, Serres"),
        ("Repair café", "Le Pas de Côté, Serres"),
    ),
    "a theatre company written short": (
        ("AGE de la Compagnie des Passeurs", "Théâtre des Passeurs, Veynes"),
        ("Assemblée générale extraordinaire - Cie des Passeurs", "Veynes"),
    ),
    "an association inviting to its picnic": (
        ("Les Colibris vous invitent à un pique-nique", "Parc de la Pépinière, Gap"),
        ("Pique-nique zéro déchet des Colibris", "Parc de la Pépinière, Gap"),
    ),
    "the doors' time written as 'ouverture' beside the quoted show": (
        ("Spectacle « Zéphyr »", "Théâtre, Embrun"),
        ("Zéphyr (ouverture 19h)", "Théâtre d'Embrun"),
    ),
    "an open mic by its English name": (
        ("Open mic", "Bar Le Tonneau, Embrun"),
        ("Scène ouverte", "Le Tonneau, Embrun"),
    ),
    "the audience added by one, the organiser by the other": (
        ("Atelier robotique pour les enfants", "Médiathèque, Veynes"),
        ("Les Savants Fous : atelier robotique", "Médiathèque de Veynes"),
    ),
    "a workshop named by its noun, and by its verb": (
        ("Atelier fabrication de cosmétiques naturels", "MJC, Gap"),
        ("Fabriquer ses cosmétiques naturels", "MJC de Gap"),
    ),
    "a commune whose name ends with another's, against a venue there": (
        ("Observation des oiseaux du lac", "Lac de Siguret, Saint-André-d'Embrun"),
        ("Observer les oiseaux au lac de Siguret", "Saint-André-d'Embrun"),
    ),
    "a repair café's call to repair, and the call written with the verb": (
        ("Repair café : on répare ensemble", "Tiers-lieu, Serres"),
        ("Réparer ensemble au repair café de Serres", "Serres"),
    ),
    "a tasting named by its noun, and by its verb": (
        ("Dégustation des vins du domaine", "Cave coopérative, Tallard"),
        ("Déguster les vins du domaine des Hautes-Alpes", "Cave coopérative de Tallard"),
    ),
}


@pytest.mark.parametrize("case", sorted(SAME))
def test_one_event_written_two_ways_is_merged(case: str) -> None:
    (title_a, place_a), (title_b, place_b) = SAME[case]
    a = record("a", "one", title_a, place_a, at(19, 30), at(23))
    b = record("b", "two", title_b, place_b, at(19, 30))
    assert judge(a, b).merge, judge(a, b)
    assert merged(a, b)


def test_a_title_saying_only_its_kind_joins_the_one_naming_it_at_one_venue() -> None:
    """ "Permanence Gap" on the cooperative's own calendar, "Permanence CAE Petra
    Patrimonia" on the tiers-lieu's: same venue, minute and end. The two titles share no
    telling word, so blocking must bring a bare title to its town's records."""
    bare = record("a", "petra", "Permanence Gap", "Tiers-lieu le Cairn, Gap", at(9), at(12))
    named = record("b", "cairn", "Permanence CAE Petra Patrimonia", "Le Cairn, Gap", at(9), at(12))
    assert merged(bare, named)
    # Only the town on one side: a doubt for an admin, not a merge.
    town = record("c", "udess", "Permanence CAE Petra Patrimonia", "Gap", at(9))
    verdict = judge(bare, town)
    assert verdict.score >= REVIEW_AT and not verdict.merge


def test_a_bare_title_beside_one_naming_its_own_publisher_is_another_publishers_event() -> None:
    """The tiers-lieu's own AG in its calendar, "Assemblée générale"; the SEL's, in the
    SEL's calendar, names the SEL: two AGs in two rooms of one house, at one minute. A relay
    would have named whose AG it relays."""
    place = "Maison des associations, Gap"
    bare = record("a", "le-cairn", "Assemblée générale", place, at(18), at(20))
    sel = record("b", "sel-gapencais", "Assemblée générale du SEL gapençais", place, at(18), at(20))
    verdict = judge(bare, sel)
    assert not verdict.merge and verdict.score >= REVIEW_AT, verdict  # an admin decides
    assert not merged(bare, sel)
    # Relayed by the network, which names the SEL: the SEL's own bare record joins it.
    own = record("c", "sel-gapencais", "Assemblée générale", place, at(18), at(20))
    relayed = record("d", "udess05", "Assemblée générale du SEL gapençais", place, at(18), at(20))
    assert merged(own, relayed)


def test_two_titles_saying_only_an_associations_own_business_at_one_house_are_a_doubt() -> None:
    """Two associations each publish their "Assemblée générale" (or a "Permanence" at
    France Services) on their own calendars: one house, one hour, nothing naming who. As
    often two events as one relayed: an admin decides. A title naming its house ("AG de la
    Ludothèque", at the ludothèque) still joins the other's."""
    house = "Maison des associations, Embrun"
    for title_a, title_b in (("Assemblée générale", "Assemblée générale"),
                             ("Permanence", "Permanence"), ("CA", "Conseil d'administration"),
                             ("Réunion mensuelle", "Réunion mensuelle")):  # fmt: skip
        a = record("a", "club-photo", title_a, house, at(18, 30), at(20, 30))
        b = record("b", "chorale", title_b, house, at(18, 30), at(20, 30))
        verdict = judge(a, b)
        assert not verdict.merge and verdict.score >= REVIEW_AT, (title_a, verdict)
        assert verdict.evidence.get("names_no_one") is True  # the admin is told why
        assert not merged(a, b)
    own = record("c", "ludotheque", "Assemblée générale de la ludothèque", "Ludothèque, Gap",
                 at(18), at(20))  # fmt: skip
    relayed = record("d", "udess05", "AG de la Ludothèque de Gap", "Ludothèque, Gap", at(18))
    assert merged(own, relayed)
    # A public event's kind alone, relayed word for word, is still one event.
    cafe = record("e", "repair-cafe", "Repair café", "L'Aiguillage, Veynes", at(14), at(17))
    town = record("f", "mairie", "Repair café", "Café associatif L'Aiguillage, Veynes", at(14),
                  at(17))  # fmt: skip
    assert merged(cafe, town)


TWO = {
    "two levels of one outing": (
        ("Sortie ski de randonnée (niveau 1)", "Ancelle", at(8), at(13)),
        ("Sortie ski de randonnée (niveau 2)", "Ancelle", at(8), at(13)),
    ),
    "the next session of a workshop, slot shifted": (
        ("Atelier cuisine enfants", "MJC, Gap", at(14), at(16)),
        ("Atelier cuisine parents-enfants", "MJC, Gap", at(14, 30), at(16, 30)),
    ),
    "an association's AG and another's, named only by its venue": (
        ("Assemblée générale de la Ludothèque", "Ludothèque, Embrun", at(18), at(20)),
        ("AG Ciné-club embrunais", "Embrun", at(18), None),
    ),
    "two kinds of first-aid course in one room": (
        ("Formation PSC1", "Caserne des pompiers, Tallard", at(9), at(17)),
        ("Formation incendie et évacuation", "Caserne des pompiers, Tallard", at(9), at(17)),
    ),
    "a food drive and a concert for one charity, in one town at one hour": (
        ("Collecte de la Banque alimentaire", "Gap", at(10), at(12)),
        ("Concert au profit de la Banque alimentaire", "Gap", at(10), None),
    ),
    "two webinars in one slot": (
        ("Webinaire : la comptabilité associative", "En ligne", at(12, 30), at(13, 30)),
        ("Webinaire : le mécénat d'entreprise", "En ligne", at(12, 30), at(13, 30)),
    ),
    "two public meetings at the town hall, one on the participative budget": (
        ("Réunion publique : budget participatif", "Mairie, Veynes", at(18, 30), at(20)),
        ("Réunion publique : plan local d'urbanisme", "Mairie de Veynes", at(18, 30), at(20)),
    ),
    "the seniors' club's afternoon and a club's extraordinary general meeting": (
        ("Club du 3e âge", "Salle des fêtes, Chorges", at(14), at(17)),
        ("AGE du club", "Salle des fêtes, Chorges", at(14), at(17)),
    ),
    "a beginners' and an advanced pottery course in one room": (
        ("Stage de poterie : initiation", "MJC, Serres", at(9), at(12)),
        ("Stage de poterie : perfectionnement", "MJC de Serres", at(9), at(12)),
    ),
    "two associations' AGs at one venue": (
        ("Assemblée générale du Repair café de Gap", "Le Cairn, Gap", at(18, 30), None),
        ("AG du SEL gapençais", "Le Cairn, Gap", at(18, 30), at(20, 30)),
    ),
    "two guided tours of one fort, one after the other": (
        ("Visite guidée du fort", "Fort, Mont-Dauphin", at(14), at(15)),
        ("Visite guidée du fort", "Fort de Mont-Dauphin", at(15), at(16)),
    ),
    "a class and the next one, a quarter of an hour later": (
        ("Cours de pilates", "Gymnase, Embrun", at(18), at(18, 45)),
        ("Cours de pilates", "Gymnase, Embrun", at(19), at(19, 45)),
    ),
    "the same fireworks in two villages at one hour": (
        ("Feu d'artifice", "Saint-Bonnet-en-Champsaur", at(22), None),
        ("Feu d'artifice", "Saint-Julien-en-Champsaur", at(22), None),
    ),
    "the same village fête in a village and in a misspelt one": (
        ("Fête du village", "Saint-Firmin", at(11), None),
        ("Fête du village", "Saint-Jacques-en-Valgaudemar", at(11), None),
    ),
    "one tour and the next, an hour later, no end given": (
        ("Visite guidée du fort", "Fort de Mont-Dauphin", at(14), None),
        ("Visite guidée du fort", "Mont-Dauphin, fort Vauban", at(15), None),
    ),
    "a children's and an adults' pottery workshop in one room": (
        ("Atelier poterie enfants", "MJC, Serres", at(14), at(16)),
        ("Atelier poterie adultes", "MJC de Serres", at(14), at(16)),
    ),
}


@pytest.mark.parametrize("case", sorted(TWO))
def test_two_events_that_read_alike_stay_two(case: str) -> None:
    (title_a, place_a, start_a, end_a), (title_b, place_b, start_b, end_b) = TWO[case]
    a = record("a", "one", title_a, place_a, start_a, end_a)
    b = record("b", "two", title_b, place_b, start_b, end_b)
    assert not judge(a, b).merge, judge(a, b)
    assert not merged(a, b)


def test_a_venue_written_with_its_town_in_one_part_is_one_venue() -> None:
    """ "Local associatif de Savines" is the "Local associatif, Savines-le-Lac" (the town's
    short name ends the part): a bare title and one naming its organiser, at one minute and
    end, are one event there, not only a doubt."""
    bare = record("a", "amap-savines", "Permanence", "Local associatif, Savines-le-Lac",
                  at(17), at(19))  # fmt: skip
    named = record("b", "udess05", "Permanence de l'AMAP", "Local associatif de Savines",
                   at(17), at(19))  # fmt: skip
    assert judge(bare, named).merge, judge(bare, named)


def test_the_same_venue_name_in_two_towns_is_not_even_a_doubt() -> None:
    """ "Salle des fêtes" is in every town: with the towns apart, no admin should be asked,
    even where no territory could be told (places outside the gazetteer)."""
    a = DedupRecord(
        "a", "one", "Cinéma atelier graines", at(14), location="Salle des fêtes, Briançon"
    )
    b = DedupRecord(
        "b", "two", "Cinéma atelier graines", at(14), location="Salle des fêtes, Sisteron"
    )
    assert judge(a, b).score == 0.0
    assert decide([a, b]).doubtful == []
    # Written in one part each, the towns still tell them apart.
    c = DedupRecord(
        "c", "one", "Cinéma atelier graines", at(14), location="Salle des fêtes de Serres"
    )
    d = DedupRecord(
        "d", "two", "Cinéma atelier graines", at(14), location="Salle des fêtes de Veynes"
    )
    assert judge(c, d).score == 0.0


def test_a_venue_with_a_ligature_is_one_venue_however_typed() -> None:
    """ "Sacré-Cœur" typed with its ligature by one publisher, written out by another: one
    venue, read the same way (the ligature was read as two broken words)."""
    from aggregator.dedup_places import place_parts

    assert place_parts("Chapelle du Sacré-Cœur, Briançon") == place_parts(
        "Chapelle du Sacré-Coeur, Briançon"
    )
    assert place_parts("Salle du Sacré-Cœur de Gap") == ("salle sacre coeur", "gap")


def test_a_town_is_one_text_however_it_is_written() -> None:
    """A commune written short, in full or with its postcode is the commune's own name; a
    postcode before the town is no venue."""
    from aggregator.dedup_places import place_parts

    assert place_parts("Salle des fêtes de Laragne")[-1] == place_parts("Laragne-Montéglin")[-1]
    assert place_parts("Local associatif, Savines") == ("local associatif", "savines lac")
    assert place_parts("05000 Gap") == ("gap",)
    assert place_parts("Serres (05700)") == place_parts("Serres")


def test_a_bare_meeting_beside_another_groups_named_meeting_is_a_doubt() -> None:
    """The bowls club's calendar says "Réunion"; the network's names another group's
    meeting in the same room at the same hour: the bare title is the club's own business,
    not the other group's, so an admin decides. Named after the bare record's own
    publisher, the other title is that meeting relayed."""
    house = "Salle des associations, Serres"
    bare = record("a", "amicale-boulistes", "Réunion", house, at(18), at(20))
    other = record("b", "udess05", "Réunion des Jardins du Buëch", house, at(18), at(20))
    verdict = judge(bare, other)
    assert not verdict.merge and verdict.score >= REVIEW_AT, verdict
    assert verdict.evidence.get("names_another") is True  # the admin is told why
    assert not merged(bare, other)
    own = record("c", "jardins-du-buech", "Réunion", house, at(18), at(20))
    assert merged(own, other)


def test_a_title_naming_its_house_by_an_acronym_joins_the_bare_one_there() -> None:
    """The youth information point's own calendar says "Permanence du PIJ", the town's
    says "Permanence", both at the Point information jeunesse: the acronym names the house
    both are at, not another organisation."""
    own = record("a", "pij-briancon", "Permanence du PIJ", "Point information jeunesse, Briançon",
                 at(14), at(17))  # fmt: skip
    town = record("b", "ville-briancon", "Permanence", "Point information jeunesse de Briançon",
                  at(14), at(17))  # fmt: skip
    assert merged(own, town), judge(own, town)


def test_an_acronym_naming_the_house_the_other_title_spells_out_is_one_event() -> None:
    """The SEL's calendar: "AG du SEL" at its own premises; the network's: the general
    meeting of the "Système d'échange local Le Troc", placed in the town only."""
    own = record("a", "sel-le-troc", "AG du SEL", "SEL Le Troc, Embrun", at(18), at(20))
    relayed = record("b", "udess05", "Assemblée générale du Système d'échange local Le Troc",
                     "Embrun", at(18))  # fmt: skip
    assert merged(own, relayed), judge(own, relayed)


def test_a_doors_time_goes_from_a_title_and_a_derived_word_is_one_word() -> None:
    """ "(ouverture 20h)" is the doors' time, which the start says; "Portes ouvertes
    10h-17h" is an open day. A noun and its verb are one word ("fabrication" /
    "fabriquer"); a short root says too little ("animation" / "animaux")."""
    from aggregator.dedup_words import same_word, title_words

    assert title_words("Les Dodos (ouverture 20h)") == title_words("Les Dodos")
    assert title_words("Lo Barrut, ouverture des portes 19h30") == ("lo", "barrut")
    assert title_words("Portes ouvertes 10h-17h") == title_words("Portes ouvertes")
    assert "ouverture" in title_words("Ouverture de la saison")
    for a, b in (("fabrication", "fabriquer"), ("nettoyage", "nettoyer"),
                 ("degustation", "deguster"), ("randonnee", "randonneur"),
                 ("navigation", "naviguer")):  # fmt: skip
        assert same_word(a, b), (a, b)
    for a, b in (("animation", "animaux"), ("formation", "former"),
                 ("projection", "projet"), ("conference", "confection")):  # fmt: skip
        assert not same_word(a, b), (a, b)
