"""The mails the agenda writes (in French, its users' language) and the admins' digest."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import sqlalchemy as sa

from aggregator.mail import Mailer, deliver, message
from aggregator.store.submissions import Submission, claim_digest

DIGEST_EVERY = dt.timedelta(hours=1)
SIGNATURE = "\n-- \nL'agenda partagé de l'ESS des Hautes-Alpes\n"


def proposal_received(sender: str, to: str, title: str, edit_url: str) -> EmailMessage:
    body = (
        f"Bonjour,\n\nNous avons bien reçu votre proposition « {title} ». Elle sera publiée "
        "sur l'agenda dès qu'un membre de l'équipe l'aura relue.\n\n"
        "Pour la modifier ou l'annuler, maintenant ou plus tard, utilisez ce lien personnel "
        f"(ne le transmettez pas : il suffit pour modifier votre événement) :\n{edit_url}\n"
    )
    return message(sender, [to], f"Proposition reçue : {title}", body + SIGNATURE)


def proposal_approved(
    sender: str, to: str, title: str, page_url: str, edit_url: str
) -> EmailMessage:
    body = (
        f"Bonjour,\n\nVotre événement « {title} » est publié sur l'agenda :\n{page_url}\n\n"
        "Il apparaît aussi dans les agendas des associations abonnées. Pour le modifier ou "
        f"l'annuler, utilisez votre lien personnel :\n{edit_url}\n"
    )
    return message(sender, [to], f"Événement publié : {title}", body + SIGNATURE)


def calendar_received(sender: str, to: str, name: str, url: str) -> EmailMessage:
    body = (
        f"Bonjour,\n\nNous avons bien reçu votre demande d'ajout de l'agenda de « {name} » :\n"
        f"{url}\n\nUn membre de l'équipe va le vérifier ; vous recevrez un message quand ses "
        "événements paraîtront sur l'agenda partagé.\n"
    )
    return message(sender, [to], f"Demande reçue : agenda de {name}", body + SIGNATURE)


def calendar_added(sender: str, to: str, name: str, page_url: str) -> EmailMessage:
    body = (
        f"Bonjour,\n\nL'agenda de « {name} » fait maintenant partie de l'agenda partagé : "
        "ses événements y paraissent d'eux-mêmes, mis à jour toutes les heures. Rien d'autre "
        f"à faire de votre côté.\n\n{page_url}\n"
    )
    return message(sender, [to], f"Agenda ajouté : {name}", body + SIGNATURE)


def digest(sender: str, admins: list[str], news: list[Submission], queue_url: str) -> EmailMessage:
    lines = []
    for item in news:
        data = item.data
        if item.kind == "event":
            what = "Événement modifié" if item.version > 1 else "Événement proposé"
            lines.append(f"- {what} : « {data.get('title')} », {data.get('start_date')}, "
                         f"par {data.get('organiser')} <{item.email}>")  # fmt: skip
        else:
            lines.append(f"- Agenda à ajouter : {data.get('name')} — {data.get('url')} "
                         f"<{item.email}>")  # fmt: skip
    body = (
        f"Bonjour,\n\n{len(news)} nouveauté(s) attendent une relecture :\n\n"
        + "\n".join(lines)
        + f"\n\nFile de modération : {queue_url}\n"
    )
    subject = f"Agenda : {len(news)} proposition(s) à relire"
    return message(sender, admins, subject, body + SIGNATURE)


def send_digest_if_due(
    engine: sa.Engine,
    mailer: Mailer,
    sender: str,
    admins: tuple[str, ...],
    queue_url: str,
    now: dt.datetime | None = None,
) -> int:
    """At most one digest an hour, across processes; returns how many items it told of.
    Called after each submission and by the scheduler (for what came within the hour)."""
    if not admins:
        return 0
    news = claim_digest(engine, now or dt.datetime.now(dt.UTC), DIGEST_EVERY)
    if news:
        deliver(mailer, digest(sender, list(admins), news, queue_url))
    return len(news)
