"""Builds tests/data/dedup-pairs.csv: pairs of occurrences from two sources, labelled.

Run once (`python tests/data/make_dedup_set.py`); the CSV is committed. True duplicates are
one event as two publishers would write it (title re-worded, accents or case lost, venue with
or without address, start given for doors or show, all-day on one side, shared UID or URL
sometimes). Hard negatives are what a naive matcher merges: two events at one venue on one
day, two associations' weekly workshops in the same room, two "Assemblée générale", the same
title in two towns, two showings of one play.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import unicodedata
from pathlib import Path

HERE = Path(__file__).parent
PARIS = dt.timezone(dt.timedelta(hours=1))  # December: CET
SOURCES = ["udess05", "mjc-veynes", "fabrique-briancon", "court-circuit", "fourmis-vertes",
           "office-tourisme", "radio-ass", "ressourcerie", "grange", "centre-social"]  # fmt: skip

# title, venue, address, commune, hour (None: all day), minutes, days
EVENTS = [
    ("Forum de l'économie sociale et solidaire", "Quattro", "1 place Bonthoux", "Gap", 9, 450, 1),
    ("Concert solidaire : Les Mélèzes", "MJC", "2 avenue de la Gare", "Veynes", 20, 120, 1),
    ("Repair Café", "Tiers-lieu La Fabrique", "4 avenue de la République", "Briançon", 9, 180, 1),
    ("Fête de la transition", "Parc de la Pépinière", "", "Gap", None, 0, 1),
    ("Conférence : l'eau en montagne", "Médiathèque", "rue des Écoles", "Embrun", 18, 90, 1),
    ("Marché de Noël solidaire", "Place de l'Église", "", "Guillestre", 10, 480, 1),
    ("Atelier vélo participatif", "Garage solidaire", "12 rue Carnot", "Gap", 14, 180, 1),
    ("Projection-débat « Demain »", "Cinéma Le Club", "rue Centrale", "Briançon", 20, 150, 1),
    ("Bourse aux skis", "Salle polyvalente", "", "Saint-Bonnet-en-Champsaur", 9, 540, 1),
    ("Assemblée générale de l'Udess 05", "Maison des associations", "", "Gap", 18, 120, 1),
    ("Disco-soupe", "Halle du marché", "", "Serres", 11, 180, 1),
    ("Journée portes ouvertes de la ressourcerie", "Ressourcerie", "ZA Le Plan",
     "Laragne-Montéglin", None, 0, 1),
    ("Festival des solidarités", "Théâtre du Briançonnais", "", "Briançon", None, 0, 3),
    ("Soirée jeux coopératifs", "Café associatif L'Escale", "", "Chorges", 20, 180, 1),
    ("Balade botanique", "Mairie", "", "Mont-Dauphin", 14, 150, 1),
    ("Formation : créer une SCIC", "Udess 05", "12 rue Carnot", "Gap", 9, 480, 1),
    ("Spectacle jeune public : Le petit nuage", "Salle des fêtes", "", "Tallard", 16, 60, 1),
    ("Ciné-débat : le foncier agricole", "Cinéma Le Méliès", "", "Barcelonnette", 20, 150, 1),
    ("Vide-grenier de l'APE", "Place du village", "", "Chorges", None, 0, 1),
    ("Rencontre avec les producteurs locaux", "Ferme des Combes", "", "Sisteron", 17, 120, 1),
    ("Atelier compostage", "Jardin partagé", "chemin des Prés", "Embrun", 10, 120, 1),
    ("Café des parents", "Centre social", "avenue Jean Jaurès", "Gap", 9, 120, 1),
    ("Conférence gesticulée : l'ESS, c'est quoi ?", "Salle Gérard Philipe", "", "Sisteron",
     20, 120, 1),
    ("Chantier participatif : murets en pierre sèche", "Hameau", "", "Les Vigneaux", 9, 420, 1),
    ("Soirée de soutien à Radio Zinzine Alpes", "Café Le Lapin Blanc", "", "Embrun", 19, 240, 1),
    ("Nuit de la lecture", "Médiathèque", "", "Veynes", 18, 240, 1),
    ("Troc de graines", "Jardin partagé du Champ de Mars", "", "Briançon", 14, 180, 1),
    ("Concert de la chorale Les Voix du Buëch", "Église", "", "Serres", 17, 90, 1),
    ("Stage d'improvisation théâtrale", "MJC", "", "Embrun", None, 0, 2),
    ("Sortie raquettes au clair de lune", "Office de tourisme", "", "Orcières", 19, 150, 1),
]  # fmt: skip


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def record(source, title, start, end, all_day, location, uid="", url=""):  # type: ignore[no-untyped-def]
    fmt = (lambda d: d.isoformat()) if not all_day else (lambda d: d.date().isoformat())
    return [source, title, fmt(start), fmt(end) if end else "", str(all_day).lower(), location,
            uid, url]  # fmt: skip


def place(venue: str, address: str, commune: str, style: int) -> str:
    return [
        f"{venue}, {commune}",
        f"{venue}, {address}, {commune}" if address else f"{venue} - {commune}",
        commune,
        f"{venue.upper()} {commune.upper()}",
        venue,
        f"{strip_accents(venue)}, {strip_accents(commune)}",
    ][style]


def retitle(title: str, commune: str, rng: random.Random) -> str:
    choice = rng.randrange(8)
    if choice == 0:
        return title.upper()
    if choice == 1:
        return strip_accents(title).lower()
    if choice == 2:
        return f"{title} à {commune}"
    if choice == 3:
        return f"{title} - {commune}"
    if choice == 4 and " : " in title:
        return title.split(" : ", 1)[1]
    if choice == 5:
        return f"Samedi : {title}"
    if choice == 6:
        words = title.split()
        i = rng.randrange(len(words))
        if len(words[i]) > 4:  # a typo
            w = words[i]
            words[i] = w[:2] + w[3] + w[2] + w[4:]
        return " ".join(words)
    return title


def duplicates(rng: random.Random) -> list[list[str]]:
    rows = []
    for n, (title, venue, address, commune, hour, minutes, days) in enumerate(EVENTS):
        day = dt.datetime(2026, 12, 1 + n % 27, tzinfo=PARIS)
        for k in range(3):
            a_src, b_src = rng.sample(SOURCES, 2)
            uid = f"{n}-{k}@mobilizon.example" if rng.random() < 0.1 else ""
            url = f"https://agenda.example/e/{n}" if rng.random() < 0.1 else ""
            if hour is None:
                start, end = day, day + dt.timedelta(days=days)
                a = record(a_src, title, start, end, True, place(venue, address, commune, 0),
                           uid, url)  # fmt: skip
                if rng.random() < 0.3:  # the other side gives opening hours
                    b_start = start.replace(hour=10)
                    b = record(
                        b_src,
                        retitle(title, commune, rng),
                        b_start,
                        b_start + dt.timedelta(hours=8),
                        False,
                        place(venue, address, commune, rng.randrange(6)),
                        uid,
                        url,
                    )
                else:
                    b = record(
                        b_src,
                        retitle(title, commune, rng),
                        start,
                        end,
                        True,
                        place(venue, address, commune, rng.randrange(6)),
                        uid,
                        url,
                    )
            else:
                start = day.replace(hour=hour)
                end = start + dt.timedelta(minutes=minutes)
                a = record(
                    a_src, title, start, end, False, place(venue, address, commune, 1), uid, url
                )
                shift = dt.timedelta(minutes=rng.choice([0, 0, 0, 15, -30, 30]))
                if rng.random() < 0.15:  # a blog giving the day only
                    b = record(
                        b_src,
                        retitle(title, commune, rng),
                        day,
                        day + dt.timedelta(days=1),
                        True,
                        place(venue, address, commune, rng.randrange(6)),
                        uid,
                        url,
                    )
                else:
                    b = record(
                        b_src,
                        retitle(title, commune, rng),
                        start + shift,
                        None if rng.random() < 0.3 else end + shift,
                        False,
                        place(venue, address, commune, rng.randrange(6)),
                        uid,
                        url,
                    )
            rows.append(["1", f"same event: {title}", *a, *b])  # fmt: skip
    return rows


def timed(day: dt.datetime, hour: int, minute: int = 0) -> tuple[dt.datetime, dt.datetime]:
    start = day.replace(hour=hour, minute=minute)
    return start, start + dt.timedelta(hours=2)


HARD_NEGATIVES = [
    # (why, (title, location, hour), (title, location, hour))
    ("two events, one venue, one day", ("Atelier vélo participatif", "Garage solidaire, Gap", 14),
     ("Atelier couture", "Garage solidaire, Gap", 14)),
    ("two events, one venue, one day", ("Concert solidaire : Les Mélèzes", "MJC, Veynes", 20),
     ("Théâtre : Les Fourberies de Scapin", "MJC, Veynes", 20)),
    ("two events, one venue, one day", ("Repair Café", "La Fabrique, Briançon", 9),
     ("Permanence juridique", "La Fabrique, Briançon", 9)),
    ("two events, one venue, one day",
     ("Conférence : l'eau en montagne", "Médiathèque, Embrun", 18),
     ("Conférence : la forêt en montagne", "Médiathèque, Embrun", 18)),
    ("two events, one venue, one day", ("Projection : Demain", "Cinéma Le Club, Briançon", 20),
     ("Projection : Après-demain", "Cinéma Le Club, Briançon", 20)),
    ("two events, one venue, one day", ("Soirée jeux", "L'Escale, Chorges", 20),
     ("Soirée karaoké", "L'Escale, Chorges", 20)),
    ("two events, one venue, one day", ("Marché paysan", "Place Barthelon, Embrun", 8),
     ("Marché de Noël", "Place Barthelon, Embrun", 10)),
    ("two events, one venue, one day", ("Formation : créer une SCIC", "Udess 05, Gap", 9),
     ("Formation : créer une SCOP", "Udess 05, Gap", 9)),
    ("two weekly workshops, one room", ("Atelier tricot", "Maison des associations, Gap", 14),
     ("Atelier couture", "Maison des associations, Gap", 14)),
    ("two weekly workshops, one room", ("Cours de yoga", "Salle polyvalente, Tallard", 18),
     ("Cours de qi gong", "Salle polyvalente, Tallard", 18)),
    ("two weekly workshops, one room", ("Atelier informatique", "Centre social, Gap", 9),
     ("Atelier d'écriture", "Centre social, Gap", 9)),
    ("two weekly workshops, one room", ("Chorale", "Église, Serres", 17),
     ("Chorale Les Voix du Buëch", "Temple, Serres", 18)),
    ("two assemblies", ("Assemblée générale", "Maison des associations, Gap", 18),
     ("Assemblée générale", "Salle des fêtes, Embrun", 18)),
    ("two assemblies", ("Assemblée générale", "Maison des associations, Gap", 18),
     ("Assemblée générale", "Maison des associations, Gap", 20)),
    ("two assemblies", ("AG de La Fabrique", "La Fabrique, Briançon", 18),
     ("AG du Repair Café", "La Fabrique, Briançon", 20)),
    ("two assemblies", ("Assemblée générale de l'Udess 05", "Quattro, Gap", 17),
     ("Assemblée générale de la Ressourcerie", "Quattro, Gap", 19)),
    ("two assemblies", ("Assemblée générale", "", 18), ("Assemblée générale", "", 18)),
    ("same title, two towns", ("Repair Café", "La Fabrique, Briançon", 9),
     ("Repair Café", "Centre social, Gap", 9)),
    ("same title, two towns", ("Marché de Noël solidaire", "Guillestre", 10),
     ("Marché de Noël solidaire", "Embrun", 10)),
    ("same title, two towns", ("Disco-soupe", "Halle du marché, Serres", 11),
     ("Disco-soupe", "Place du marché, Veynes", 11)),
    ("same title, two towns", ("Café des parents", "Centre social, Gap", 9),
     ("Café des parents", "Maison de l'enfance, Briançon", 9)),
    ("same title, two towns", ("Bourse aux skis", "Salle polyvalente, Saint-Bonnet", 9),
     ("Bourse aux skis", "Salle des fêtes, Orcières", 9)),
    ("same title, two towns", ("Nuit de la lecture", "Médiathèque, Veynes", 18),
     ("Nuit de la lecture", "Médiathèque, Sisteron", 18)),
    ("two showings", ("Spectacle jeune public : Le petit nuage", "Salle des fêtes, Tallard", 10),
     ("Spectacle jeune public : Le petit nuage", "Salle des fêtes, Tallard", 16)),
    ("two showings", ("Ciné-débat : le foncier agricole", "Le Méliès, Barcelonnette", 15),
     ("Ciné-débat : le foncier agricole", "Le Méliès, Barcelonnette", 20)),
    ("two sessions", ("Atelier compostage", "Jardin partagé, Embrun", 10),
     ("Atelier compostage", "Jardin partagé, Embrun", 14)),
    ("generic title, one venue", ("Permanence", "Udess 05, Gap", 9),
     ("Permanence", "Udess 05, Gap", 14)),
    ("generic title, two towns", ("Permanence", "Mairie, Gap", 14),
     ("Permanence", "Mairie, Embrun", 14)),
    ("generic title, no place", ("Réunion", "", 18), ("Réunion", "", 18)),
    ("related but different", ("Festival des solidarités : ouverture", "Théâtre, Briançon", 18),
     ("Festival des solidarités : concert de clôture", "Théâtre, Briançon", 19)),
]  # fmt: skip


def negatives(rng: random.Random) -> list[list[str]]:
    rows = []
    for n in range(3):  # each pattern on three days, with sources drawn at random
        for k, (why, (ta, la, ha), (tb, lb, hb)) in enumerate(HARD_NEGATIVES):
            day = dt.datetime(2026, 12, 1 + (k + 9 * n) % 27, tzinfo=PARIS)
            a_src, b_src = rng.sample(SOURCES, 2)
            sa, ea = timed(day, ha)
            sb, eb = timed(day, hb)
            rows.append(["0", why, *record(a_src, ta, sa, ea, False, la),
                         *record(b_src, tb, sb, eb, False, lb)])  # fmt: skip
    return rows


def unrelated(rng: random.Random) -> list[list[str]]:
    """Two different events of the base list put on the same day: the common case."""
    rows = []
    for n in range(30):
        (ta, va, _, ca, ha, _, _), (tb, vb, _, cb, hb, _, _) = rng.sample(EVENTS, 2)
        day = dt.datetime(2026, 12, 1 + n % 27, tzinfo=PARIS)
        sa, ea = timed(day, ha or 10)
        sb, eb = timed(day, hb or 10)
        a_src, b_src = rng.sample(SOURCES, 2)
        rows.append(
            [
                "0",
                "unrelated events, one day",
                *record(a_src, ta, sa, ea, False, f"{va}, {ca}"),
                *record(b_src, tb, sb, eb, False, f"{vb}, {cb}"),
            ]
        )
    return rows


def main() -> None:
    rng = random.Random(2026)
    rows = duplicates(rng) + negatives(rng) + unrelated(rng)
    head = ["source", "title", "start", "end", "all_day", "location", "uid", "url"]
    with (HERE / "dedup-pairs.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["label", "note", *(f"a_{h}" for h in head), *(f"b_{h}" for h in head)])
        writer.writerows(rows)
    positives = sum(1 for r in rows if r[0] == "1")
    print(f"{len(rows)} pairs: {positives} duplicates, {len(rows) - positives} negatives")


if __name__ == "__main__":
    main()
