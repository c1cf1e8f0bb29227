"""French first, English second: ?lang=en switches and a cookie remembers the choice."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import Babel, get_locale

LOCALES = ("fr", "en")
COOKIE = "lang"


def select_locale() -> str:
    """French unless the visitor chose English: a local agenda whose sources, titles and
    places are French reads best in French, whatever language the browser prefers."""
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    return chosen if chosen in LOCALES else "fr"


def _remember(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        response.set_cookie(COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def locale() -> str:
    return str(get_locale() or "fr")


def init(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_locale="fr")
    app.after_request(_remember)
