"""The territories of the agenda: slug -> the name residents use.

The intercommunalities (EPCI) of the Hautes-Alpes plus the Ubaye valley, and two pseudo
territories for online events and places outside the area.
"""

TERRITORIES: dict[str, str] = {
    "brianconnais": "Briançonnais",
    "pays-des-ecrins": "Pays des Écrins",
    "guillestrois-queyras": "Guillestrois et Queyras",
    "serre-poncon": "Embrunais – Serre-Ponçon",
    "serre-poncon-val-davance": "Serre-Ponçon Val d'Avance",
    "gap-tallard-durance": "Gap – Tallard – Durance",
    "champsaur-valgaudemar": "Champsaur – Valgaudemar",
    "buech-devoluy": "Buëch – Dévoluy",
    "sisteronais-buech": "Sisteronais – Buëch",
    "ubaye-serre-poncon": "Vallée de l'Ubaye – Serre-Ponçon",
    "en-ligne": "En ligne",
    "hors-territoire": "Hors territoire",
}
