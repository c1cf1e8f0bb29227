"""Builds tests/data/territory-labelled.csv: realistic LOCATION strings with their territory.

Run once (`python tests/data/make_territory_set.py`); the CSV is committed. Part is generated
(seeded) from the gazetteer with the ways people really write places (accents dropped, upper
case, "St", no hyphens, venue first, postal code, article dropped); part is written by hand:
the hard cases, each with its label and why.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from pathlib import Path

HERE = Path(__file__).parent
GAZETTEER = HERE.parent.parent / "aggregator" / "data" / "communes-territoires.csv"

VENUES = [
    "Salle des fêtes", "Salle polyvalente", "Mairie", "Médiathèque", "Place du village",
    "Maison des associations", "Café associatif Le Bistrot", "Foyer rural", "Gymnase municipal",
    "Église", "Tiers-lieu La Fabrique", "MJC", "Jardin partagé", "Cinéma Le Club",
    "Ferme des Combes", "Parking de la gare", "Office de tourisme", "École primaire",
]  # fmt: skip
STREETS = ["rue de la République", "avenue Jean Jaurès", "place de l'Église", "chemin des Prés",
           "route Nationale", "rue du Four", "impasse des Lilas"]  # fmt: skip


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def variants(name: str, rng: random.Random) -> str:
    choice = rng.randrange(6)
    if choice == 0:
        return strip_accents(name)
    if choice == 1:
        return name.upper()
    if choice == 2:
        return name.replace("Saint-", "St ").replace("Sainte-", "Ste ")
    if choice == 3:
        return name.replace("-", " ")
    if choice == 4 and name.split(" ")[0] in ("Le", "La", "Les"):
        return name.split(" ", 1)[1]
    return name


def generated(rows: list[dict[str, str]], rng: random.Random) -> list[tuple[str, str, str]]:
    out = []
    current = [r for r in rows if r["type"] == "commune-actuelle" and r["name"] != "Sigoyer"]
    for row in current:
        name, code = row["name"], row["postal_codes"].split(";")[0]
        venue, street = rng.choice(VENUES), rng.choice(STREETS)
        form = rng.randrange(4)
        if form == 0:
            text = f"{venue}, {variants(name, rng)}"
        elif form == 1:
            text = f"{rng.randint(1, 40)} {street}, {code} {variants(name, rng)}"
        elif form == 2:
            text = f"{venue} - {street} - {code} {name.upper()}"
        else:
            text = f"{venue} de {variants(name, rng)}"
        out.append((text, row["territory_slug"], f"generated from {name}"))
    return out


# (location, territory, why) — written by hand.
HARD = [
    ("Quattro, 1 Place Bonthoux, 05000 Gap", "gap-tallard-durance", "address"),
    ("GAP", "gap-tallard-durance", "upper case"),
    ("gap", "gap-tallard-durance", "lower case, alone"),
    ("12 avenue d'Embrun, Gap", "gap-tallard-durance", "street named after another commune"),
    ("Route de Briançon, 05100 Briançon", "brianconnais", ""),
    ("Avenue de Grenoble, 05000 Gap", "gap-tallard-durance", "outside city in a street name"),
    ("rue de Paris, Embrun", "serre-poncon", "outside city in a street name"),
    ("Théâtre du Briançonnais, Briançon", "brianconnais", ""),
    ("Parc de la Pépinière, Gap", "gap-tallard-durance", ""),
    ("Le Monêtier-les-Bains", "brianconnais", ""),
    ("Monetier les Bains", "brianconnais", "no article, no accent"),
    ("Le Monétier", "brianconnais", "short form"),
    ("St-Chaffrey", "brianconnais", ""),
    ("Saint Chaffrey (05330)", "brianconnais", ""),
    ("Ste-Marie", None, "not a commune of ours, no code: nothing to infer"),
    ("L'Argentière-la-Bessée", "pays-des-ecrins", ""),
    ("l'argentiere la bessee", "pays-des-ecrins", ""),
    ("Argentière", "pays-des-ecrins", "short form"),
    ("Vallouise-Pelvoux", "pays-des-ecrins", ""),
    ("Ailefroide, Vallouise", "pays-des-ecrins", "hamlet and former commune"),
    ("Refuge du Glacier Blanc, Pelvoux", "pays-des-ecrins", "alias of a former commune"),
    ("Savines-le-Lac", "serre-poncon", ""),
    ("Savines", "serre-poncon", "short form"),
    ("Plage de Chanteloube, Chorges", "serre-poncon", ""),
    ("Les Orres 1650", "serre-poncon", "resort"),
    ("Station de Réallon", "serre-poncon", ""),
    ("Crots", "serre-poncon", "weak name, alone"),
    ("Abbaye de Boscodon, Crots", "serre-poncon", ""),
    ("Salle des fêtes, Serres", "sisteronais-buech", "weak name at the end"),
    ("Visite des serres municipales, Gap", "gap-tallard-durance", "common word 'serres'"),
    ("Les serres du lycée agricole", None, "common word only"),
    ("La Grave", "brianconnais", "weak name, alone"),
    ("Musée, La Grave", "brianconnais", ""),
    ("Un sujet grave", None, "common word"),
    ("Salle du Noyer, Laragne-Montéglin", "sisteronais-buech", "common word then commune"),
    ("Laragne", "sisteronais-buech", "short form"),
    ("Le Noyer", "champsaur-valgaudemar", "weak name, alone"),
    ("Serre Chevalier", "brianconnais", "ski area alias"),
    ("Front de neige, Serre-Chevalier 1400", "brianconnais", "alias with altitude"),
    ("Chantemerle", "brianconnais", "village"),
    ("Chaillol", "champsaur-valgaudemar", "alias"),
    ("Station de Chaillol 1600", "champsaur-valgaudemar", "alias"),
    ("Orcières-Merlette 1850", "champsaur-valgaudemar", "resort of a commune"),
    ("Merlette", "champsaur-valgaudemar", "alias"),
    ("SuperDévoluy", "buech-devoluy", "alias, no space"),
    ("Superdevoluy", "buech-devoluy", "alias, no accent"),
    ("La Joue du Loup", "buech-devoluy", "alias"),
    ("Dévoluy", "buech-devoluy", "commune"),
    ("Pra-Loup", "ubaye-serre-poncon", "alias"),
    ("Pra Loup 1600", "ubaye-serre-poncon", "alias"),
    ("Le Sauze, Enchastrayes", "ubaye-serre-poncon", ""),
    ("Barcelonnette", "ubaye-serre-poncon", ""),
    ("Place Manuel, 04400 Barcelonnette", "ubaye-serre-poncon", ""),
    ("Jausiers", "ubaye-serre-poncon", ""),
    ("La Bréole", "ubaye-serre-poncon", "delegated commune"),
    ("Larche", "ubaye-serre-poncon", "delegated commune, weak"),
    ("Col de Larche", "ubaye-serre-poncon", "weak name at the end"),
    ("Sisteron", "sisteronais-buech", ""),
    ("Citadelle de Sisteron", "sisteronais-buech", ""),
    ("04200 Sisteron", "sisteronais-buech", ""),
    ("Sigoyer (05130)", "gap-tallard-durance", "homonym resolved by postal code"),
    ("Sigoyer, 04200", "sisteronais-buech", "homonym resolved by postal code"),
    ("Falaises de Céüse", "gap-tallard-durance", "alias"),
    ("Aubessagne", "champsaur-valgaudemar", ""),
    ("05800 Aubessagne", "champsaur-valgaudemar", ""),
    ("Saint-Firmin", "champsaur-valgaudemar", "weak (many Saint-Firmin in France), alone"),
    ("Saint-Bonnet-en-Champsaur", "champsaur-valgaudemar", ""),
    ("St Bonnet en Champsaur", "champsaur-valgaudemar", ""),
    ("Champsaur", "champsaur-valgaudemar", "valley alias"),
    ("Queyras", "guillestrois-queyras", "valley alias"),
    ("Saint-Véran, Queyras", "guillestrois-queyras", ""),
    ("Abriès-Ristolas", "guillestrois-queyras", ""),
    ("Ristolas", "guillestrois-queyras", "delegated commune"),
    ("Fort Queyras, Château-Ville-Vieille", "guillestrois-queyras", ""),
    ("Guillestre", "guillestrois-queyras", ""),
    ("Mont-Dauphin", "guillestrois-queyras", ""),
    ("Vars", "guillestrois-queyras", "weak name, alone"),
    ("Vars les Claux", "guillestrois-queyras", "alias"),
    ("Risoul 1850", "guillestrois-queyras", ""),
    ("Tallard", "gap-tallard-durance", ""),
    ("Aérodrome de Tallard", "gap-tallard-durance", ""),
    ("La Saulce", "gap-tallard-durance", "weak name, alone"),
    ("Romette, Gap", "gap-tallard-durance", "associated commune"),
    ("Veynes", "buech-devoluy", ""),
    ("Gare de Veynes-Dévoluy", "buech-devoluy", ""),
    ("Aspres-sur-Buëch", "buech-devoluy", ""),
    ("Serres (05700)", "sisteronais-buech", ""),
    ("Rosans", "sisteronais-buech", ""),
    ("Ribiers", "sisteronais-buech", "delegated commune"),
    ("Val Buëch-Méouge", "sisteronais-buech", ""),
    ("Lachau", "sisteronais-buech", "Drôme commune of the EPCI"),
    ("Villebois-les-Pins", "sisteronais-buech", ""),
    ("La Motte-du-Caire", "sisteronais-buech", ""),
    ("Embrun", "serre-poncon", ""),
    ("EMBRUN", "serre-poncon", ""),
    ("Plan d'eau d'Embrun", "serre-poncon", ""),
    ("Briancon", "brianconnais", "no accent"),
    ("BRIANÇON", "brianconnais", ""),
    ("Névache, vallée de la Clarée", "brianconnais", ""),
    ("Montgenèvre", "brianconnais", ""),
    ("Puy-Saint-Vincent", "pays-des-ecrins", ""),
    ("Saint-Germain-en-Laye", "hors-territoire", "homonym outside: Laye"),
    ("Vitrolles (13127)", "hors-territoire", "homonym outside, postal code"),
    ("Vitrolles, Bouches-du-Rhône", None, "homonym outside without a code"),
    ("Le Poët-Laval", None, "homonym outside: Le Poët (Drôme)"),
    ("Le Poët", "sisteronais-buech", "commune of ours"),
    ("Châteauroux (36000)", "hors-territoire", "homonym outside"),
    ("Châteauroux-les-Alpes", "serre-poncon", "commune of ours"),
    ("Cervières (42440)", "hors-territoire", "homonym outside"),
    ("Cervières", "brianconnais", "commune of ours"),
    ("Grenoble", "hors-territoire", "outside city"),
    ("Maison de la Nature, 38000 Grenoble", "hors-territoire", ""),
    ("Marseille", "hors-territoire", ""),
    ("Lyon 7e", "hors-territoire", ""),
    ("Digne-les-Bains", "hors-territoire", "04 but outside the area"),
    ("Manosque (04100)", "hors-territoire", ""),
    ("75011 Paris", "hors-territoire", ""),
    ("Turin, Italie", "hors-territoire", ""),
    ("Aix-en-Provence", "hors-territoire", ""),
    ("En ligne", "en-ligne", ""),
    ("en ligne (Zoom)", "en-ligne", ""),
    ("Visioconférence", "en-ligne", ""),
    ("Visio", "en-ligne", ""),
    ("Webinaire", "en-ligne", ""),
    ("https://meet.jit.si/udess05-ag", "en-ligne", "Jitsi link"),
    ("https://us02web.zoom.us/j/123456789", "en-ligne", "Zoom link"),
    ("https://bbb.example.org/b/ude-x7k", "en-ligne", "BBB link"),
    ("Microsoft Teams", "en-ligne", ""),
    ("Salle du conseil, Gap + visio", "gap-tallard-durance", "hybrid: the place wins"),
    ("Gap ou en ligne", "gap-tallard-durance", "hybrid"),
    ("", None, "empty"),
    ("À définir", None, "unknown"),
    ("Lieu communiqué à l'inscription", None, "unknown"),
    ("Chez l'habitant", None, "unknown"),
    ("Salle des fêtes", None, "venue without commune"),
    ("Sur le marché", None, "unknown"),
    ("Départ parking du lac", None, "unknown"),
    ("Le Caire, Égypte", "hors-territoire", "Cairo, whose French name is a commune of ours"),
]


def main() -> None:
    rng = random.Random(5)
    with GAZETTEER.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    lines = generated(rows, rng) + [(loc, slug or "", why) for loc, slug, why in HARD]
    with (HERE / "territory-labelled.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["location", "territory", "note"])
        writer.writerows(lines)
    print(f"{len(lines)} labelled locations")


if __name__ == "__main__":
    main()
