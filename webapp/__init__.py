"""Flask app factory. The web app reads the store only: it never fetches or parses."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, request, url_for
from flask_wtf import CSRFProtect

from aggregator.settings import load_settings
from aggregator.store import open_engine


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    settings = load_settings()
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        TIMEZONE=settings.timezone,
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
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # Migrations on start: a fresh database (or a new release) is ready before any request.
    app.extensions["engine"] = open_engine(app.config["DATABASE_URL"])

    from webapp import admin, agenda, api, feeds, formatting, health, i18n

    CSRFProtect(app)
    i18n.init(app)
    formatting.register(app)
    app.after_request(_security_headers)
    app.register_blueprint(agenda.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(admin.bp)
    return app


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)


def _security_headers(response: Response) -> Response:
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
