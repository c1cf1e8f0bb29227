"""/admin/propositions: the moderation queue of what the public sends.

A proposed event is published (it joins the agenda through aggregator.proposals), refused,
or withdrawn later; an offered calendar is tested with the admin's own preview and saved to
sources.toml by the usual form; an address can be blocked. Every POST carries its CSRF
token (CSRFProtect refuses it otherwise, before any view).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from aggregator import notices
from aggregator.mail import deliver
from aggregator.proposals import SOURCE, THEMES, Proposal, uid
from aggregator.store import submissions as queue
from aggregator.territories import TERRITORIES
from webapp import get_engine, public_url
from webapp.admin import login_required
from webapp.propose import commune_label, edit_link, mailer, publish_proposals

bp = Blueprint("queue", __name__, url_prefix="/admin/propositions")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@bp.get("/")
@login_required
def index() -> Any:
    engine = get_engine()
    events = [(s, Proposal.from_data(s.data)) for s in queue.queue(engine, "event")]
    shown = [(s, Proposal.from_data(s.data)) for s in queue.queue(engine, "event", "approved")]
    return render_template(
        "admin/queue.html", events=events, shown=shown, calendars=queue.queue(engine, "calendar"),
        blocked=queue.blocked(engine), themes=THEMES, commune_label=commune_label,
        territories=TERRITORIES,
    )  # fmt: skip


@bp.post("/<int:submission_id>/publier")
@login_required
def approve(submission_id: int) -> Any:
    engine = get_engine()
    submission = queue.get(engine, submission_id)
    if submission is None or submission.kind != "event":
        abort(404)
    if not queue.decide(engine, submission_id, "approved", g.admin, _now()):
        flash("Déjà décidé par un autre admin, ou annulé par son auteur entre-temps.", "error")
        return redirect(url_for("queue.index"))
    publish_proposals()
    title = submission.data.get("title", "")
    occurrence = queue.first_occurrence(engine, SOURCE.id, uid(submission_id))
    page = public_url("agenda.event", public_id=occurrence) if occurrence else public_url(
        "agenda.index")  # fmt: skip
    sent = deliver(mailer(), notices.proposal_approved(current_app.config["MAIL_FROM"],
                                                       submission.email, title, page,
                                                       edit_link(submission_id)))  # fmt: skip
    flash(f"« {title} » est publié.", "ok")
    if not sent:
        flash(f"Le message à {submission.email} n'a pas pu partir (voir le journal).", "error")
    return redirect(url_for("queue.index"))


@bp.post("/<int:submission_id>/refuser")
@login_required
def reject(submission_id: int) -> Any:
    engine = get_engine()
    submission = queue.get(engine, submission_id)
    if submission is None:
        abort(404)
    if not queue.decide(engine, submission_id, "rejected", g.admin, _now()):
        flash("Déjà décidé par un autre admin, ou annulé par son auteur entre-temps.", "error")
        return redirect(url_for("queue.index"))
    if submission.kind == "event" and submission.was_published:
        publish_proposals()  # a withdrawal: the agenda drops it
    flash("Refusé." if submission.status == "pending" else "Retiré de l'agenda.", "ok")
    return redirect(url_for("queue.index"))


@bp.post("/<int:submission_id>/bloquer")
@login_required
def block(submission_id: int) -> Any:
    submission = queue.get(get_engine(), submission_id)
    if submission is None:
        abort(404)
    count = queue.block(get_engine(), submission.email, g.admin, _now())
    flash(f"{submission.email} est bloquée ; {count} envoi(s) en attente refusé(s).", "ok")
    return redirect(url_for("queue.index"))


@bp.post("/debloquer")
@login_required
def unblock() -> Any:
    email = request.form.get("email", "")
    queue.unblock(get_engine(), email, g.admin, _now())
    flash(f"{email} peut de nouveau proposer des événements.", "ok")
    return redirect(url_for("queue.index"))


@bp.get("/<int:submission_id>/agenda")
@login_required
def review_calendar(submission_id: int) -> Any:
    """An offered calendar, tested again now, with the source form filled in from the
    request: saving it goes through admin.create_source, which then closes the request."""
    from aggregator.preview import preview_url
    from webapp.admin import SourceForm, _territory_choices, guess_id

    submission = queue.get(get_engine(), submission_id)
    if submission is None or submission.kind != "calendar" or submission.status != "pending":
        abort(404)
    config = current_app.config
    preview = preview_url(submission.data["url"], config["ALLOW_HOSTS"], config["TIMEZONE"])
    if preview.error:
        flash(f"Cette adresse ne donne rien pour l'instant : {preview.error}", "error")
        return redirect(url_for("queue.index"))
    form = SourceForm(formdata=None, data={
        "url": preview.url, "kind": preview.kind, "id": guess_id(submission.data["name"]),
        "name": submission.data["name"], "website": submission.data.get("website") or "",
        "territory": next(iter(t for t in preview.territories if t in TERRITORIES), ""),
        "refresh": "1h", "demande": str(submission_id),
    })  # fmt: skip
    form.territory.choices = _territory_choices()
    return render_template("admin/preview.html", preview=preview, form=form,
                           territories=TERRITORIES)  # fmt: skip


def close_calendar_request(request_id: str, source_id: str) -> None:
    """After admin.create_source saved an offered calendar: close the request, tell its
    author."""
    if not request_id.isdigit():
        return
    engine = get_engine()
    submission = queue.get(engine, int(request_id))
    if submission is None or submission.kind != "calendar":
        return
    if queue.decide(engine, submission.id, "approved", g.admin, _now()):
        page = public_url("agenda.association", source_id=source_id)
        deliver(mailer(), notices.calendar_added(current_app.config["MAIL_FROM"],
                                                 submission.email, submission.data["name"],
                                                 page))  # fmt: skip
