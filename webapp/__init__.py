"""Flask app factory. The web app reads the store only: it never fetches or parses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_wtf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from aggregator.settings import load_settings
from aggregator.store import open_engine


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    settings = load_settings()
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        TIMEZONE=settings.timezone,
        WINDOW_PAST_DAYS=settings.window_past_days,
        CACHE_DIR=str(settings.cache_dir),
        CACHE_MAX_FEEDS=settings.cache_max_feeds,
        CACHE_MAX_BYTES=settings.cache_max_bytes,
        BASE_URL=settings.base_url,
        SOURCES_PATH=settings.sources_path,
        ALLOW_HOSTS=settings.allow_hosts,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_SORT_KEYS=False,
        SMTP_URL=settings.smtp_url,
        MAIL_FROM=settings.mail_from,
        ADMIN_EMAILS=settings.admin_emails,
        MAIL_DIR=settings.mail_dir,
    )
    if test_config:
        app.config.update(test_config)
    if settings.trusted_proxies:
        # Each trusted proxy appends the address it got the request from: the client's is
        # that many hops from the end. Without a proxy the header is anyone's to write.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # Migrations on start: a fresh database (or a new release) is ready before any request.
    app.extensions["engine"] = open_engine(app.config["DATABASE_URL"])

    from webapp import (
        admin,
        admin_dedup,
        admin_queue,
        agenda,
        api,
        feeds,
        formatting,
        health,
        i18n,
        propose,
    )

    CSRFProtect(app)
    i18n.init(app)
    formatting.register(app)
    app.before_request(_refuse_control)
    app.register_error_handler(400, _error_page)
    app.register_error_handler(403, _error_page)
    app.register_error_handler(404, _error_page)
    app.register_error_handler(405, _error_page)
    app.after_request(_security_headers)
    app.register_blueprint(agenda.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(admin_dedup.bp)
    app.register_blueprint(propose.bp)
    app.register_blueprint(admin_queue.bp)
    return app


CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"}


def _refuse_control() -> None:
    """Control characters have no meaning in any field: PostgreSQL refuses NUL in text and
    XML (RSS, Atom titles) refuses the others. A clear 400 here rather than a 500 later."""
    fields = [request.path, *request.args.keys(), *request.args.values()]
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        fields += [*request.form.keys(), *request.form.values()]
    if any(not CONTROL.isdisjoint(field) for field in fields):
        abort(400, "Caractère de contrôle refusé dans l'adresse ou le formulaire")


MESSAGES = {
    400: "Requête invalide",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
}


def _error_page(error: HTTPException) -> Any:
    code = error.code or 500
    default = error.description == type(error).description
    message = MESSAGES.get(code, "Erreur") if default else error.description
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), code
    return render_template("error.html", title=MESSAGES.get(code, "Erreur"), message=message), code


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


def _security_headers(response: Response) -> Response:
    # The server writes the Date header; werkzeug's make_conditional writes one too, and a
    # response must not carry two (RFC 9110 6.6.1).
    response.headers.pop("Date", None)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.headers.pop("X-Embeddable", None):
        # The widget is meant to be framed by the associations' sites.
        response.headers.setdefault("Content-Security-Policy", CSP + "; frame-ancestors *")
    else:
        response.headers.setdefault("Content-Security-Policy", CSP + "; frame-ancestors 'none'")
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def get_engine() -> sa.Engine:
    engine: sa.Engine = current_app.extensions["engine"]
    return engine


def public_url(endpoint: str, query: str = "", **values: Any) -> str:
    """An absolute link, from the configured public address (AGENDA_BASE_URL): never from
    the request's Host, which anyone can set and which cached feeds would then carry to
    every subscriber."""
    path = url_for(endpoint, **values)
    root = request.script_root if request else ""
    if root and path.startswith(root):
        path = path[len(root) :]
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + path + (f"?{query}" if query else "")
