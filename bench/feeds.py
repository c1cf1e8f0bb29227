"""Generated member feeds for the benchmarks: 200 associations x 250 events by default.

Realistic in shape: French titles and descriptions, places in Hautes-Alpes towns, 70% single
timed events (Europe/Paris, with a VTIMEZONE as Nextcloud writes it), 15% all-day, 15% weekly
or monthly series; dates spread over the coming year from today, so the window keeps them.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

WORDS = (
    "atelier", "concert", "forum", "marché", "conférence", "balade", "fête", "repair", "café",
    "soirée", "jeux", "projection", "débat", "chorale", "théâtre", "jardin", "vélo", "lecture",
    "solidarité", "transition", "compost", "couture", "numérique", "paysan", "troc", "danse",
)  # fmt: skip
TOWNS = ("Gap", "Briançon", "Embrun", "Veynes", "Laragne-Montéglin", "Guillestre", "Chorges",
         "Serres", "Tallard", "L'Argentière-la-Bessée", "Saint-Bonnet-en-Champsaur",
         "Barcelonnette")  # fmt: skip
PLACES = ("Salle des fêtes", "Médiathèque", "Tiers-lieu", "MJC", "Café associatif", "Grange")
VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def calendar(source: int, events: int = 250, today: dt.date | None = None) -> bytes:
    rng = random.Random(source)
    today = today or dt.date.today()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nextcloud calendar v4.7//EN\r\n",
           f"X-WR-CALNAME:Association {source}\r\n", VTIMEZONE]  # fmt: skip
    for n in range(events):
        day = today + dt.timedelta(days=rng.randrange(-10, 330))
        title = " ".join(rng.sample(WORDS, 3)).capitalize()
        town = rng.choice(TOWNS)
        kind = rng.random()
        lines = [f"UID:{source}-{n}@asso{source}.example", f"DTSTAMP:{stamp}",
                 f"SUMMARY:{title} à {town}"]  # fmt: skip
        if kind < 0.15:
            last = day + dt.timedelta(days=rng.choice((1, 2)))
            lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{last:%Y%m%d}"]
        else:
            hour = rng.choice((9, 10, 14, 18, 20))
            lines += [f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T{hour:02d}0000",
                      f"DTEND;TZID=Europe/Paris:{day:%Y%m%d}T{hour + 2:02d}0000"]  # fmt: skip
            if kind > 0.85:
                lines.append(rng.choice(("RRULE:FREQ=WEEKLY;COUNT=10",
                                         "RRULE:FREQ=MONTHLY;BYDAY=1SA;COUNT=6")))  # fmt: skip
        lines += [
            f"LOCATION:{rng.choice(PLACES)}\\, {rng.randrange(1, 40)} rue du Centre\\, "
            f"05000 {town}",
            "DESCRIPTION:"
            + "Ouvert à toutes et tous\\, entrée libre. "
            + " ".join(rng.choices(WORDS, k=30))
            + ".\\nInscription conseillée auprès de l'association.",
            f"CATEGORIES:{rng.choice(('ESS', 'Culture', 'Environnement', 'Solidarité'))}",
            f"URL:https://asso{source}.example/agenda/{n}",
        ]
        out.append("BEGIN:VEVENT\r\n" + "".join(fold(line) for line in lines) + "END:VEVENT\r\n")
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode()


def fold(line: str) -> str:
    """RFC 5545 folding at 75 octets, as generators do (never inside a UTF-8 sequence)."""
    data = line.encode()
    parts = []
    while len(data) > 75:
        cut = 75
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
        parts.append(data[:cut])
        data = data[cut:]
        data = b" " + data
    parts.append(data)
    return "".join(p.decode() + "\r\n" for p in parts)


def write_feeds(folder: Path, sources: int = 200, events: int = 250) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(sources):
        path = folder / f"asso{n}.ics"
        path.write_bytes(calendar(n, events))
        paths.append(path)
    return paths
