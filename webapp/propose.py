"""Public paths into the agenda for associations without a feed we read:
"Proposer un événement" (moderated; its author edits or cancels it through a signed link
sent by mail) and "Ajouter l'agenda de mon association" (a guarded test fetch and preview,
then a request in the admins' queue)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from aggregator import notices
from aggregator.mail import Mailer, deliver, make_mailer
from aggregator.proposals import THEMES, Proposal, communes
from aggregator.store import admin as accounts
from aggregator.store import submissions as queue
from aggregator.store.submissions import Submission
from aggregator.territories import TERRITORIES
from webapp import get_engine, public_url
from webapp.propose_forms import CalendarForm, NewProposalForm, ProposeForm

bp = Blueprint("propose", __name__)
log = logging.getLogger("webapp.propose")
LINK_SALT = "proposition-edit"
LINK_DAYS = 400  # long enough for an event announced a year ahead, then edited
PREVIEWS_PER_HOUR = 20


def mailer() -> Mailer:
    config = current_app.config
    return make_mailer(config["SMTP_URL"], config["MAIL_DIR"])


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def edit_link(submission_id: int) -> str:
    return public_url("propose.edit", token=_serializer().dumps(submission_id))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest() -> None:
    config = current_app.config
    notices.send_digest_if_due(get_engine(), mailer(), config["MAIL_FROM"],
                               config["ADMIN_EMAILS"], public_url("queue.index"))  # fmt: skip


def _gate(form: Any, what: str, template: str, **context: Any) -> Any:
    """The answer when a submission goes no further (None: go on): the form itself (on a
    GET, or with each bad field explained, everything typed kept); thanks for a bot that
    filled the hidden field (nothing kept); why, for a blocked or too busy sender."""
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template(template, form=form, **context), status
    if form.website.data:
        log.warning("honeypot filled (%s) from %s", what, request.remote_addr)
        return redirect(url_for("propose.thanks", what=what))
    refusal = _refused(form.email.data.strip())
    if refusal:
        form.email.errors = [refusal]
        return render_template(template, form=form, **context), 429
    return None


def _refused(email: str) -> str | None:
    """Why this sender may not submit now, or None."""
    engine = get_engine()
    if queue.is_blocked(engine, email):
        return _("Cette adresse ne peut pas proposer d'événement : écrivez à l'équipe.")
    if queue.too_many(engine, email.lower(), request.remote_addr or "", _now()):
        return _("Vous avez déjà beaucoup envoyé aujourd'hui : réessayez plus tard.")
    return None


@bp.route("/proposer", methods=["GET", "POST"])
def propose() -> Any:
    form = NewProposalForm()
    stopped = _gate(form, "evenement", "propose.html", themes=THEMES)
    if stopped is not None:
        return stopped
    email = form.email.data.strip()
    proposal = form.proposal()
    submission_id = queue.add(get_engine(), "event", proposal.to_data(), email,
                              request.remote_addr or "", _now())  # fmt: skip
    config = current_app.config
    link = edit_link(submission_id)
    sent = deliver(mailer(), notices.proposal_received(config["MAIL_FROM"], email,
                                                       proposal.title, link))  # fmt: skip
    _digest()
    if not sent:  # the link shown here, once, rather than lost with the mail
        return render_template("propose_thanks.html", what="evenement", unsent=link)
    return redirect(url_for("propose.thanks", what="evenement"))


@bp.get("/merci/<what>")
def thanks(what: str) -> Any:
    if what not in ("evenement", "agenda"):
        abort(404)
    return render_template("propose_thanks.html", what=what)


def _submission(token: str) -> Submission:
    try:
        submission_id = _serializer().loads(token, max_age=LINK_DAYS * 86400)
    except SignatureExpired:
        abort(403, _("Ce lien a expiré : écrivez à l'équipe pour modifier votre événement."))
    except BadSignature:
        abort(403, _("Ce lien n'est pas valide : vérifiez qu'il est complet."))
    found = queue.get(get_engine(), int(submission_id))
    if found is None or found.kind != "event":
        abort(404)
    return found


def publish_proposals() -> None:
    """The agenda brought in line with the proposals (after a decision, an edit, a
    cancellation), with the pipeline's own settings, as the admin's refresh button."""
    from aggregator.pipeline import RefreshOptions
    from aggregator.proposals import publish
    from aggregator.settings import load_settings

    publish(get_engine(), RefreshOptions.from_settings(load_settings()))


@bp.route("/proposition/<token>", methods=["GET", "POST"])
def edit(token: str) -> Any:
    submission = _submission(token)
    proposal = Proposal.from_data(submission.data)
    closed = submission.status in ("cancelled", "rejected")
    form = ProposeForm(data=ProposeForm.data_of(proposal))
    if not closed and form.validate_on_submit() and not form.website.data:
        queue.edit(get_engine(), submission.id, form.proposal().to_data(), _now())
        if submission.was_published:  # (an edit leaves the status as it was)
            publish_proposals()
        _digest()
        return render_template("propose_edit.html", form=form, submission=submission,
                               themes=THEMES, token=token, saved=True)  # fmt: skip
    status = 422 if request.method == "POST" and form.errors else 200
    return render_template("propose_edit.html", form=form, submission=submission,
                           themes=THEMES, token=token, saved=False), status  # fmt: skip


@bp.post("/proposition/<token>/annuler")
def cancel(token: str) -> Any:
    submission = _submission(token)  # (CSRFProtect checked the form's token already)
    if submission.status not in ("cancelled", "rejected"):
        queue.cancel(get_engine(), submission.id, _now())
        if submission.was_published:  # subscribers must see it cancelled
            publish_proposals()
    return redirect(url_for("propose.edit", token=token))


@bp.route("/ajouter-mon-agenda", methods=["GET", "POST"])
def add_calendar() -> Any:
    from aggregator.preview import preview_url

    form = CalendarForm()
    stopped = _gate(form, "agenda", "add_calendar.html", preview=None)
    if stopped is not None:
        return stopped
    email = form.email.data.strip()
    if request.form.get("action") != "send":
        key = f"preview:{request.remote_addr}"
        if not accounts.throttle(get_engine(), key, PREVIEWS_PER_HOUR, dt.timedelta(hours=1),
                                 _now()):  # fmt: skip
            form.url.errors = [_("Trop d'essais en une heure : réessayez plus tard.")]
            return render_template("add_calendar.html", form=form, preview=None), 429
        config = current_app.config
        preview = preview_url(form.url.data, config["ALLOW_HOSTS"], config["TIMEZONE"])
        if preview.error:
            form.url.errors = [preview.error]
            return render_template("add_calendar.html", form=form, preview=None), 422
        return render_template("add_calendar.html", form=form, preview=preview,
                               territories=TERRITORIES)  # fmt: skip
    from aggregator.preview import normalise_url

    data = {"url": normalise_url(form.url.data), "name": form.name.data.strip(),
            "website": (form.site.data or "").strip() or None,
            "message": (form.message.data or "").strip()}  # fmt: skip
    queue.add(get_engine(), "calendar", data, email, request.remote_addr or "", _now())
    config = current_app.config
    deliver(mailer(), notices.calendar_received(config["MAIL_FROM"], email, data["name"],
                                                data["url"]))  # fmt: skip
    _digest()
    return redirect(url_for("propose.thanks", what="agenda"))


def commune_label(insee: str) -> str:
    place = communes().get(insee)
    if place is None:
        return insee
    return f"{place.label} — {TERRITORIES.get(place.territory, place.territory)}"
