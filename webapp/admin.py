"""/admin: sources and their health, adding a source by URL with a preview, moderation.

Every page needs a login; every form carries a CSRF token (Flask-WTF). Writes to
sources.toml go through aggregator.sources_edit; test-fetches through aggregator.preview
(the SSRF guard applies); the public pages never fetch.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp, ValidationError

from aggregator.store import admin as accounts
from aggregator.store.read import EventQuery, get_event, query_events, source_health
from aggregator.territories import TERRITORIES
from webapp import get_engine

bp = Blueprint("admin", __name__, url_prefix="/admin")
SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # The cookie only names a server-side session: logging out, a new password or a
        # removed account ends it, whatever copy of the cookie is replayed.
        username = accounts.session_user(get_engine(), session.get("sid"), _now())
        if username is None:
            session.clear()
            return redirect(url_for("admin.login", next=request.path))
        g.admin = username
        return view(*args, **kwargs)

    return wrapped


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- forms ------------------------------------------------------------------------------
class LoginForm(FlaskForm):
    username = StringField("Identifiant", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Mot de passe", validators=[DataRequired(), Length(max=200)])


class UrlForm(FlaskForm):
    url = StringField("Adresse du calendrier, du flux ou de la page",
                      validators=[DataRequired(), Length(max=2000)])  # fmt: skip

    def validate_url(self, field: StringField) -> None:
        if not re.match(r"^(https?|webcal)://", field.data.strip(), re.I):
            raise ValidationError("Une adresse http://, https:// ou webcal:// est attendue")


def _territory_choices() -> list[tuple[str, str]]:
    return [("", "— selon le lieu de chaque événement —"), *TERRITORIES.items()]


class SourceForm(FlaskForm):
    id = StringField(
        "Identifiant (court, sans accents)",
        validators=[DataRequired(), Regexp(SLUG, message="Lettres minuscules, chiffres, tirets")],
    )
    name = StringField("Nom de l'association", validators=[DataRequired(), Length(max=200)])
    url = HiddenField(validators=[DataRequired()])
    kind = HiddenField()
    territory = SelectField("Territoire par défaut", choices=[], validate_choice=False)
    tags = StringField("Thèmes (séparés par des virgules)", validators=[Length(max=300)])
    website = StringField("Site de l'association", validators=[
        Optional(), URL(message="Une adresse http(s) complète est attendue")])  # fmt: skip
    refresh = SelectField("Fréquence", choices=[("1h", "toutes les heures"),
                          ("6h", "toutes les 6 heures"), ("1d", "tous les jours")])  # fmt: skip
    review = BooleanField("Relire les nouveaux événements avant publication")
    demande = HiddenField()  # an association's request (admin_queue), closed once saved

    def validate_territory(self, field: SelectField) -> None:
        if field.data and field.data not in TERRITORIES:
            raise ValidationError("Territoire inconnu")


class EditForm(SourceForm):
    url = StringField("Adresse", validators=[DataRequired(), Length(max=2000)])
    enabled = BooleanField("Active")


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""


class PairForm(FlaskForm):
    first = StringField("Événement", validators=[DataRequired(), Length(max=32)])
    second = StringField("Autre événement", validators=[DataRequired(), Length(max=32)])


def _same_site(target: str | None) -> str | None:
    """A path of this site to go back to, or None: never another site (an attacker's page
    can send any Referer), never a scheme-relative '//host' or a '/\\host' browsers read as one,
    never a header-splitting character."""
    if not target or any(ord(c) < 32 or c in "\\\x7f" for c in target):
        return None  # (urlsplit would silently drop CR, LF and tabs)
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


# -- authentication ---------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        engine = get_engine()
        username = form.username.data.strip()
        keys = [f"ip:{request.remote_addr}", f"user:{username}"]
        now = _now()
        if not accounts.reserve_attempt(engine, keys, now):
            form.password.errors.append(
                "Trop d'essais : attendez un quart d'heure avant de réessayer."
            )
            return render_template("admin/login.html", form=form), 429
        if accounts.verify_admin(engine, username, form.password.data):
            accounts.clear_failures(engine, keys)
            session.clear()
            session["sid"] = accounts.open_session(engine, username, now)
            session.permanent = True
            accounts.record(engine, username, "login", username)
            target = _same_site(request.args.get("next", "")) or ""
            safe = target == "/admin" or target.startswith("/admin/")
            return redirect(target if safe else url_for("admin.sources"))
        form.password.errors.append("Identifiant ou mot de passe incorrect.")
    return render_template("admin/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Any:
    accounts.end_session(get_engine(), session.get("sid"))
    session.clear()
    return redirect(url_for("agenda.index"))


# -- sources ----------------------------------------------------------------------------
def _configs() -> dict[str, Any]:
    from aggregator.sources import SourcesError, load_sources_file

    try:
        return {c.id: c for c in load_sources_file(current_app.config["SOURCES_PATH"]).sources}
    except SourcesError as exc:
        flash(f"sources.toml est invalide : {exc}", "error")
        return {}


def _next_fetch(config: Any, health: Any) -> dt.datetime | None:
    from aggregator.scheduler import next_delay

    if not config.enabled:
        return None
    if health is None or health.last_fetch_at is None:
        return _now()
    delay = next_delay(config.refresh, health.consecutive_failures, None, _now())
    return health.last_fetch_at + delay


@bp.get("/")
@login_required
def sources() -> Any:
    configs = _configs()
    health = {h.id: h for h in source_health(get_engine())}
    rows = [(c, health.get(c.id), _next_fetch(c, health.get(c.id))) for c in configs.values()]
    return render_template("admin/sources.html", rows=rows, action=ActionForm(),
                           log=accounts.recent_log(get_engine(), 15))  # fmt: skip


@bp.route("/sources/new", methods=["GET", "POST"])
@login_required
def new_source() -> Any:
    """Step 1: an address; step 2: its preview and the source's settings."""
    from aggregator.preview import preview_url

    form = UrlForm()
    if not form.validate_on_submit():
        return render_template("admin/new.html", form=form)
    preview = preview_url(form.url.data, current_app.config["ALLOW_HOSTS"],
                          current_app.config["TIMEZONE"])  # fmt: skip
    if preview.error:
        form.url.errors.append(preview.error)
        return render_template("admin/new.html", form=form), 422
    host = urlsplit(preview.url).hostname or "source"
    source_form = SourceForm(formdata=None, data={
        "url": preview.url, "kind": preview.kind,
        "id": guess_id(host.removeprefix("www.").split(".")[0]),
        "territory": next(iter(t for t in preview.territories if t in TERRITORIES), ""),
        "refresh": "1h",
    })  # fmt: skip
    source_form.territory.choices = _territory_choices()
    return render_template("admin/preview.html", preview=preview, form=source_form,
                           territories=TERRITORIES)  # fmt: skip


def guess_id(name: str) -> str:
    """A slug for sources.toml from a host or an association's name."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:40].strip("-") or "source"


def _values(form: SourceForm) -> dict[str, Any]:
    return {
        "name": form.name.data.strip(),
        "url": form.url.data.strip(),
        "territory": form.territory.data or None,
        "tags": [t.strip() for t in (form.tags.data or "").split(",") if t.strip()],
        "website": (form.website.data or "").strip() or None,
        "refresh": form.refresh.data,
        "review": bool(form.review.data) or None,
    }


def _save(change: Any) -> str | None:
    from aggregator.sources import SourcesError
    from aggregator.sources_edit import EditError, edit_sources

    try:
        edit_sources(current_app.config["SOURCES_PATH"], change)
    except (EditError, SourcesError) as exc:
        return str(exc)
    return None


@bp.post("/sources/create")
@login_required
def create_source() -> Any:
    from aggregator.preview import normalise_url
    from aggregator.sources_edit import add_source

    form = SourceForm()
    form.territory.choices = _territory_choices()
    if form.validate_on_submit():
        from aggregator.guard import UnsafeUrl, check_url

        values = {"id": form.id.data, **_values(form), "kind": form.kind.data or None}
        values["url"] = normalise_url(values["url"])
        try:
            check_url(values["url"], current_app.config["ALLOW_HOSTS"])
        except UnsafeUrl as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin.new_source"))
        error = _save(add_source(values))
        if error is None:
            accounts.record(get_engine(), g.admin, "add-source", form.id.data, values["url"])
            if form.demande.data:
                from webapp.admin_queue import close_calendar_request

                close_calendar_request(form.demande.data, form.id.data)
            flash(f"Source « {values['name']} » ajoutée : elle sera récupérée sous peu.", "ok")
            return redirect(url_for("admin.sources"))
        form.id.errors.append(error)
    return render_template("admin/preview.html", preview=None, form=form,
                           territories=TERRITORIES), 422  # fmt: skip


@bp.route("/sources/<source_id>/edit", methods=["GET", "POST"])
@login_required
def edit_source(source_id: str) -> Any:
    from aggregator.guard import UnsafeUrl, check_url
    from aggregator.preview import normalise_url
    from aggregator.sources_edit import update_source

    config = _configs().get(source_id)
    if config is None:
        abort(404)
    data = {"id": config.id, "name": config.name, "url": config.url, "kind": str(config.kind),
            "territory": config.territory or "", "tags": ", ".join(config.tags),
            "website": config.website or "", "refresh": _refresh_choice(config.refresh),
            "review": config.review, "enabled": config.enabled}  # fmt: skip
    form = EditForm(data=data)
    form.territory.choices = _territory_choices()
    form.refresh.choices = _refresh_choices(data["refresh"])
    if form.validate_on_submit():
        values = {**_values(form), "enabled": bool(form.enabled.data)}
        values["url"] = normalise_url(values["url"])
        # A changed address is always checked: web admins never set a file path.
        if values["url"] != config.url:
            try:
                check_url(values["url"], current_app.config["ALLOW_HOSTS"])
            except UnsafeUrl as exc:
                form.url.errors.append(str(exc))
                return render_template("admin/edit.html", form=form, config=config), 422
        if config.is_local and values["url"] == config.url:
            values.pop("url")  # a path written by hand stays as written
        error = _save(update_source(source_id, values))
        if error is None:
            accounts.record(get_engine(), g.admin, "edit-source", source_id)
            flash("Source enregistrée.", "ok")
            return redirect(url_for("admin.sources"))
        form.name.errors.append(error)
    return render_template("admin/edit.html", form=form, config=config)


def _refresh_choice(interval: dt.timedelta) -> str:
    hours, rest = divmod(int(interval.total_seconds()), 3600)
    if rest:
        return f"{hours}h{rest // 60}m" if hours else f"{rest // 60}m"
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def _refresh_choices(current: str) -> list[tuple[str, str]]:
    choices = [("1h", "toutes les heures"), ("6h", "toutes les 6 heures"),
               ("1d", "tous les jours")]  # fmt: skip
    if current not in dict(choices):
        choices.insert(0, (current, current))
    return choices


@bp.post("/sources/<source_id>/<action>")
@login_required
def source_action(source_id: str, action: str) -> Any:
    from aggregator.sources_edit import remove_source, update_source

    if not ActionForm().validate_on_submit():
        abort(400)
    config = _configs().get(source_id)
    if config is None:
        abort(404)
    if action == "refresh":
        return _refresh_now(config)
    changes = {"disable": update_source(source_id, {"enabled": False}),
               "enable": update_source(source_id, {"enabled": True}),
               "delete": remove_source(source_id)}  # fmt: skip
    if action not in changes:
        abort(404)
    error = _save(changes[action])
    if error:
        flash(error, "error")
    else:
        if action == "delete":
            _retire(source_id)
        accounts.record(get_engine(), g.admin, f"{action}-source", source_id)
        done = {
            "disable": "Source désactivée.",
            "enable": "Source activée.",
            "delete": "Source supprimée (sauvegarde : sources.toml.bak).",
        }
        flash(done[action], "ok")
    return redirect(url_for("admin.sources"))


def _dedup_window() -> tuple[dt.datetime, ZoneInfo]:
    """Where a recluster from the admin starts, and in which zone: the pipeline's window,
    since each recluster rewrites the merged and doubtful pairs of that window."""
    since = _now() - dt.timedelta(days=current_app.config["WINDOW_PAST_DAYS"])
    return since, ZoneInfo(current_app.config["TIMEZONE"])


def _retire(source_id: str) -> None:
    """A deleted source's events leave the public agenda now, not at the next refresh."""
    from aggregator.store.clusters import retire

    since, zone = _dedup_window()
    retire(get_engine(), [source_id], _now(), since, zone)


def _refresh_now(config: Any) -> Any:
    from aggregator.guard import make_guard
    from aggregator.pipeline import RefreshOptions, refresh
    from aggregator.settings import load_settings

    options = RefreshOptions.from_settings(load_settings())
    if not config.is_local:
        from dataclasses import replace

        options = replace(options, guard=make_guard(current_app.config["ALLOW_HOSTS"]))
    (result,) = refresh(get_engine(), [config], options, only=[config.id], complete=False)
    accounts.record(get_engine(), g.admin, "refresh-source", config.id, result.outcome)
    if result.outcome == "failed":
        flash(f"Échec : {result.error}", "error")
    else:
        flash(f"{config.name} : {result.events} événements "
              f"(+{result.added} ~{result.updated} -{result.removed}).", "ok")  # fmt: skip
    return redirect(url_for("admin.sources"))


# -- moderation -------------------------------------------------------------------------
@bp.get("/evenements")
@login_required
def events() -> Any:
    engine = get_engine()
    query = EventQuery(start=_now() - dt.timedelta(days=1), q=request.args.get("q", "")[:200],
                       limit=100, public=False)  # fmt: skip
    rows = query_events(engine, query)
    decided = accounts.decisions(engine)
    reviewed = {h.id for h in source_health(engine) if _configs().get(h.id) and
                _configs()[h.id].review}  # fmt: skip
    queue = request.args.get("file") == "1"
    if queue:
        rows = [e for e in rows if any(s.id in reviewed for s in e.sources)
                and not decided.get(e.id, accounts.Decision()).approved]  # fmt: skip
    return render_template("admin/events.html", rows=rows, decided=decided, queue=queue,
                           reviewed=reviewed, territories=TERRITORIES, action=ActionForm(),
                           pair=PairForm())  # fmt: skip


@bp.post("/evenements/<event_id>/<action>")
@login_required
def moderate(event_id: str, action: str) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    engine = get_engine()
    event = get_event(engine, event_id)
    if event is None:
        abort(404)
    now = _now()
    if action in ("hide", "unhide"):
        accounts.moderate(engine, event.id, g.admin, now, hidden=action == "hide")
    elif action == "approve":
        accounts.moderate(engine, event.id, g.admin, now, approved=True)
    elif action == "territory":
        slug = request.form.get("territory") or None
        if slug is not None and slug not in TERRITORIES:
            abort(400)
        accounts.moderate(engine, event.id, g.admin, now, territory=slug)
    else:
        abort(404)
    flash("Décision enregistrée.", "ok")
    return redirect(_same_site(request.referrer) or url_for("admin.events"))


@bp.post("/evenements/<kind>")
@login_required
def pair(kind: str) -> Any:
    """Merge a missed duplicate or split a wrong merge (dedup overrides)."""
    from aggregator.store.clusters import UnknownEvent, recluster, record_override

    if kind not in ("fusionner", "separer"):
        abort(404)
    form = PairForm()
    if not form.validate_on_submit():
        abort(400)
    engine = get_engine()
    decision = "merge" if kind == "fusionner" else "split"
    try:
        record_override(engine, decision, form.first.data.strip(), form.second.data.strip(),
                        g.admin, _now())  # fmt: skip
    except UnknownEvent as exc:
        flash(f"Événement inconnu : {exc}", "error")
        return redirect(url_for("admin.events"))
    recluster(engine, *_dedup_window())
    accounts.record(engine, g.admin, decision, form.first.data, form.second.data)
    flash("Fusion enregistrée." if decision == "merge" else "Séparation enregistrée.", "ok")
    # Back where the decision was taken (the events list, "Doublons possibles").
    return redirect(_same_site(request.referrer) or url_for("admin.events"))
