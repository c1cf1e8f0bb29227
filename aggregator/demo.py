"""Demo feeds of fictional Hautes-Alpes associations, dated from today so that `make run`
always shows the coming weeks. Each feed is written the way its real-world generator writes
(Google Agenda ICS, Outlook ICS, WordPress RSS with the event module, a blog with dates in
prose, Gancio, a site with schema.org JSON-LD)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
WEEKDAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche"


def _fr(day: dt.date) -> str:
    return f"{WEEKDAYS.split()[day.weekday()]} {day.day} {MONTHS.split()[day.month - 1]}"


def _ics(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _next(today: dt.date, weekday: int, weeks: int = 0) -> dt.date:
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


def udess05(today: dt.date) -> str:
    forum = _next(today, 3, 2)  # a Thursday in two weeks
    fete = _next(today, 5, 3)
    permanence = _next(today, 1) - dt.timedelta(weeks=4)
    cancelled = _next(today, 1, 2)
    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
X-WR-CALNAME:Udess 05
X-WR-TIMEZONE:Europe/Paris
BEGIN:VEVENT
UID:forum-ess-{forum.year}@udess05.example
DTSTART;TZID=Europe/Paris:{_ics(forum)}T090000
DTEND;TZID=Europe/Paris:{_ics(forum)}T163000
SUMMARY:Forum de l'économie sociale et solidaire
LOCATION:Quattro, 1 Place Bonthoux, 05000 Gap
DESCRIPTION:<p>Rencontres, <b>ateliers</b> et stands des structures de l'ESS
 &amp; des collectivités.</p><p>Entrée libre.</p>
CATEGORIES:ESS,Forum
URL:https://udess05.example/forum
END:VEVENT
BEGIN:VEVENT
UID:permanence@udess05.example
DTSTART;TZID=Europe/Paris:{_ics(permanence)}T140000
DTEND;TZID=Europe/Paris:{_ics(permanence)}T170000
RRULE:FREQ=WEEKLY;BYDAY=TU
SUMMARY:Permanence accompagnement des porteurs de projet
LOCATION:Udess 05, 12 rue Carnot, Gap
CATEGORIES:Accompagnement
END:VEVENT
BEGIN:VEVENT
UID:permanence@udess05.example
RECURRENCE-ID;TZID=Europe/Paris:{_ics(cancelled)}T140000
DTSTART;TZID=Europe/Paris:{_ics(cancelled)}T140000
DTEND;TZID=Europe/Paris:{_ics(cancelled)}T170000
STATUS:CANCELLED
SUMMARY:Permanence accompagnement des porteurs de projet
LOCATION:Udess 05, 12 rue Carnot, Gap
END:VEVENT
BEGIN:VEVENT
UID:fete-asso@udess05.example
DTSTART;VALUE=DATE:{_ics(fete)}
DTEND;VALUE=DATE:{_ics(fete + dt.timedelta(days=1))}
SUMMARY:Fête des associations de Tallard
LOCATION:Place du Souvenir, Tallard
CATEGORIES:Fête
END:VEVENT
{relayed(today)}END:VCALENDAR
"""


def relayed(today: dt.date) -> str:
    """Members' events the network relays in its own words: dedup merges them with the
    members' records ("Publié par" lists both) or, for the last one, leaves the pair to an
    admin ("Doublons possibles")."""
    events = [
        ("marche", today + dt.timedelta(days=5), "160000", "180000",
         "Marché de producteurs locaux", "Place Barthelon, 05200 Embrun"),
        ("melezes", today + dt.timedelta(days=4), "200000", "230000",
         "Les Mélèzes en concert de soutien", "MJC, Veynes"),
        ("demain", _next(today, 2, 3), "200000", "223000",
         "Ciné-débat : Demain", "Salle polyvalente, Mont-Dauphin"),
        ("eau", _next(today, 2, 2), "183000", "203000",
         "L'eau en montagne : une ressource à partager", "La Grange, Saint-Michel-de-Chaillol"),
    ]  # fmt: skip
    return "".join(
        f"BEGIN:VEVENT\nUID:relais-{uid}@udess05.example\n"
        f"DTSTART;TZID=Europe/Paris:{_ics(day)}T{start}\n"
        f"DTEND;TZID=Europe/Paris:{_ics(day)}T{end}\n"
        f"SUMMARY:{title}\nLOCATION:{place}\nCATEGORIES:Relais\nEND:VEVENT\n"
        for uid, day, start, end, title, place in events
    )


def repair_cafe(today: dt.date) -> str:
    start = _next(today, 5) - dt.timedelta(weeks=8)
    zone = "(UTC+01:00) Bruxelles, Copenhague, Madrid, Paris"
    return f"""BEGIN:VCALENDAR\r
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:040000008200E00074C5B7101A82E0080000000090B2\r
DTSTART;TZID="{zone}":{_ics(start)}T093000\r
DTEND;TZID="{zone}":{_ics(start)}T123000\r
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SA\r
SUMMARY:Repair Café : on répare ensemble !\r
LOCATION:Tiers-lieu La Fabrique, 4 avenue de la République, 05100 Briançon\r
DESCRIPTION:Apportez vos objets cassés (petit électroménager, vélos, textile).\\n\r
 Café et gâteaux offerts.\r
X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _rss(title: str, link: str, items: list[str], extra_ns: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {extra_ns}>
<channel>
<title>{title}</title>
<link>{link}</link>
<description>{title}</description>
<language>fr-FR</language>
{"".join(items)}
</channel>
</rss>
"""


def court_circuit(today: dt.date) -> str:
    items = []
    for n, (title, place, hour) in enumerate(
        [
            ("Marché paysan de saison", "Place Barthelon, Embrun", 16),
            ("Atelier cuisine anti-gaspi", "Salle des fêtes, Savines-le-Lac", 18),
            ("Soirée jeux coopératifs", "Café associatif L'Escale, Chorges", 20),
        ]
    ):
        day = today + dt.timedelta(days=5 + 9 * n)
        start = dt.datetime.combine(day, dt.time(hour)).isoformat()
        end = dt.datetime.combine(day, dt.time(hour + 2)).isoformat()
        items.append(
            f"""<item>
<title>{title}</title>
<link>https://court-circuit.example/evenement/{n}</link>
<guid>https://court-circuit.example/?p={100 + n}</guid>
<pubDate>{(today - dt.timedelta(days=3)).strftime("%a, %d %b %Y")} 08:00:00 +0000</pubDate>
<ev:startdate>{start}+01:00</ev:startdate>
<ev:enddate>{end}+01:00</ev:enddate>
<ev:location>{place}</ev:location>
<category>Alimentation</category>
<description>&lt;p&gt;Organisé par l'association Court-Circuit.&lt;/p&gt;</description>
</item>
"""
        )
    return _rss(
        "Court-Circuit Embrunais",
        "https://court-circuit.example",
        items,
        'xmlns:ev="http://purl.org/rss/1.0/modules/event/"',
    )


def blog(today: dt.date) -> str:
    one = _next(today, 5, 1)
    two = _next(today, 2, 3)
    items = [
        f"""<item><title>Balade botanique {_fr(one)} à 14h</title>
<link>https://fourmis-vertes.example/balade</link>
<description>Rendez-vous devant la mairie de Guillestre. Prévoir de bonnes chaussures.
Balade de 2h30 environ.</description>
<pubDate>{today.strftime("%a, %d %b %Y")} 07:00:00 +0100</pubDate></item>
""",
        f"""<item><title>Projection-débat « Demain »</title>
<link>https://fourmis-vertes.example/demain</link>
<description>Le {_fr(two)} de 20h à 22h30, salle polyvalente de Mont-Dauphin.</description>
<pubDate>{today.strftime("%a, %d %b %Y")} 07:00:00 +0100</pubDate></item>
""",
        f"""<item><title>Merci aux bénévoles !</title>
<link>https://fourmis-vertes.example/merci</link>
<description>Retour en images sur la saison passée.</description>
<pubDate>{today.strftime("%a, %d %b %Y")} 07:00:00 +0100</pubDate></item>
""",
    ]
    return _rss("Les Fourmis vertes du Guillestrois", "https://fourmis-vertes.example", items)


def gancio(today: dt.date) -> str:
    items = []
    for n, (title, place, hour) in enumerate(
        [
            ("Concert solidaire : Les Mélèzes", "MJC de Veynes", "20:30"),
            ("Disco-soupe", "Halle du marché, Serres", "11:00"),
        ]
    ):
        day = today + dt.timedelta(days=4 + 11 * n)
        items.append(
            f"""<item><title>[{day.isoformat()} {hour}] {title} @ {place}</title>
<link>https://gancio.example/event/{n}</link><guid>https://gancio.example/event/{n}</guid>
<description>&lt;p&gt;Prix libre.&lt;/p&gt;</description></item>
"""
        )
    return _rss("Agenda participatif du Buëch", "https://gancio.example", items)


def tiers_lieu(today: dt.date) -> str:
    day = _next(today, 4, 1)
    later = _next(today, 0, 4)
    talk = _next(today, 2, 2)
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "La Grange du Champsaur"},
            {
                "@type": "Event",
                "@id": "https://grange.example/#jam",
                "name": "Scène ouverte : bœuf musical",
                "startDate": f"{day.isoformat()}T19:00:00+01:00",
                "endDate": f"{day.isoformat()}T23:00:00+01:00",
                "location": {
                    "@type": "Place",
                    "name": "La Grange",
                    "address": {
                        "@type": "PostalAddress",
                        "streetAddress": "Route de Chaillol",
                        "postalCode": "05260",
                        "addressLocality": "Saint-Michel-de-Chaillol",
                    },
                },
                "description": "Amenez vos instruments !",
                "keywords": "Musique, Convivialité",
                "url": "https://grange.example/agenda/jam",
            },
            {
                "@type": "Event",
                "name": "L'eau en montagne : les glaciers",
                "startDate": f"{talk.isoformat()}T18:30:00+01:00",
                "endDate": f"{talk.isoformat()}T20:30:00+01:00",
                "location": {
                    "@type": "Place",
                    "name": "La Grange",
                    "address": "Route de Chaillol, 05260 Saint-Michel-de-Chaillol",
                },
                "url": "https://grange.example/agenda/eau",
            },
            {
                "@type": "EducationEvent",
                "name": "Formation compostage",
                "startDate": later.isoformat(),
                "location": {"@type": "Place", "name": "Jardin partagé, Saint-Bonnet"},
                "eventStatus": "https://schema.org/EventScheduled",
            },
        ],
    }
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>La Grange du Champsaur</title>
<script type="application/ld+json">{json.dumps(graph, ensure_ascii=False)}</script>
</head><body><h1>Agenda de la Grange</h1></body></html>
"""


FEEDS = {
    "udess05.ics": udess05,
    "repair-cafe-brianconnais.ics": repair_cafe,
    "court-circuit-embrunais.xml": court_circuit,
    "fourmis-vertes.xml": blog,
    "agenda-buech.xml": gancio,
    "grange-champsaur.html": tiers_lieu,
}


def write_demo(out: Path, today: dt.date | None = None) -> list[Path]:
    today = today or dt.date.today()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in FEEDS.items():
        path = out / name
        path.write_text(build(today), encoding="utf-8", newline="")
        written.append(path)
    return written
