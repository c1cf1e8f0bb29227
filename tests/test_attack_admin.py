"""Attacks through the admin area (issue 11, items 5-8, 12, 13): a careless or hostile admin,
a stolen cookie, a burst of passwords. Real SQLite and PostgreSQL; real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from aggregator.sources import load_sources
from tests.test_admin import PASSWORD, add_directly, admin, app, login, refetch, token

__all__ = ["admin", "app"]


@pytest.mark.parametrize(
    ("referer", "expected"),
    [
        ("https://evil.example/phish", "/admin/evenements"),
        ("//evil.example/phish", "/admin/evenements"),
        ("/\\evil.example/phish", "/admin/evenements"),
        ("http://localhost/admin/evenements?file=1", "/admin/evenements?file=1"),
    ],
)
def test_moderation_goes_back_to_a_same_site_path_only(
    admin: FlaskClient, app: Flask, httpserver: HTTPServer, referer: str, expected: str
) -> None:
    add_directly(app, httpserver)
    refetch(app)
    (event,) = app.test_client().get("/api/events").get_json()["events"]
    csrf = token(admin, "/admin/evenements")
    done = admin.post(f"/admin/evenements/{event['id']}/hide", data={"csrf_token": csrf},
                      headers={"Referer": referer})  # fmt: skip
    assert done.status_code == 302
    assert done.headers["Location"] == expected


@pytest.mark.parametrize(
    "next_path", ["//evil.example", "/admin\r\nSet-Cookie: x=1", "https://evil.example/admin"]
)
def test_login_next_never_leaves_the_admin(app: Flask, next_path: str) -> None:
    client = app.test_client()
    csrf = token(client, "/admin/login")
    form = {"csrf_token": csrf, "username": "camille", "password": PASSWORD}
    done = client.post("/admin/login", query_string={"next": next_path}, data=form)
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"


def _add_file_source(app: Flask, tmp_path: Path) -> None:
    feed = tmp_path / "local.ics"
    feed.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    path = Path(app.config["SOURCES_PATH"])
    path.write_text(f'[[source]]\nid = "local"\nname = "Local"\nurl = "{feed}"\n')


@pytest.mark.parametrize("url", ["/etc/passwd", "../../etc/passwd", "file:///etc/passwd",
                                 "HTTP://127.0.0.1/../../etc/passwd"])  # fmt: skip
def test_web_admins_cannot_set_a_file_path(
    admin: FlaskClient, app: Flask, tmp_path: Path, url: str
) -> None:
    _add_file_source(app, tmp_path)
    csrf = token(admin, "/admin/sources/local/edit")
    form = {"csrf_token": csrf, "name": "Local", "url": url, "refresh": "1h", "enabled": "y",
            "id": "local"}  # fmt: skip
    answer = admin.post("/admin/sources/local/edit", data=form)
    (config,) = load_sources(app.config["SOURCES_PATH"])
    if url.startswith("HTTP"):  # a URL (to an allowed host here), never a path
        assert answer.status_code == 302 and config.url.startswith("http://127.0.0.1/")
        assert not config.is_local
    else:
        assert answer.status_code == 422 and "passwd" not in config.url


def test_a_deleted_source_leaves_the_public_agenda_at_once(
    admin: FlaskClient, app: Flask, httpserver: HTTPServer
) -> None:
    add_directly(app, httpserver)
    refetch(app)
    public = app.test_client()
    (event,) = public.get("/api/events").get_json()["events"]
    assert public.get("/association/asso").status_code == 200
    csrf = token(admin, "/admin/")
    assert admin.post("/admin/sources/asso/delete", data={"csrf_token": csrf}).status_code == 302
    assert public.get("/api/events").get_json()["events"] == []
    assert public.get("/api/events?source=asso").get_json()["events"] == []
    assert public.get(f"/evenement/{event['id']}").status_code == 404
    assert public.get("/association/asso").status_code == 404
    ics = public.get("/agenda.ics").get_data(as_text=True).replace("\r\n ", "")
    # Subscribers are told: the event stays in the feed a while, cancelled.
    assert "Atelier vélo" in ics and "STATUS:CANCELLED" in ics
    assert "STATUS:CONFIRMED" not in ics


def test_a_source_removed_by_hand_loses_its_events_at_the_next_refresh(
    app: Flask, httpserver: HTTPServer
) -> None:
    from aggregator.sources_edit import add_source, edit_sources

    add_directly(app, httpserver)
    httpserver.expect_request("/other.ics").respond_with_data(
        "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    )
    edit_sources(app.config["SOURCES_PATH"], add_source(
        {"id": "other", "name": "Other", "url": httpserver.url_for("/other.ics")}))  # fmt: skip
    refetch(app)
    assert len(app.test_client().get("/api/events").get_json()["events"]) == 1
    Path(app.config["SOURCES_PATH"]).write_text(
        Path(app.config["SOURCES_PATH"]).read_text().split("[[source]]")[0]
        + "[[source]]"
        + Path(app.config["SOURCES_PATH"]).read_text().split("[[source]]")[2]
    )
    assert [c.id for c in load_sources(app.config["SOURCES_PATH"])] == ["other"]
    refetch(app)
    assert app.test_client().get("/api/events").get_json()["events"] == []


def _stolen(admin: FlaskClient) -> str:
    cookie = admin.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> int:
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/admin/").status_code


def test_a_cookie_replayed_after_logout_opens_nothing(admin: FlaskClient, app: Flask) -> None:
    cookie = _stolen(admin)
    assert _replay(app, cookie) == 200
    csrf = token(admin, "/admin/sources/new")
    assert admin.post("/admin/logout", data={"csrf_token": csrf}).status_code == 302
    assert _replay(app, cookie) == 302  # to the login page
    assert admin.get("/admin/").status_code == 302


def test_removing_an_account_or_its_password_ends_its_sessions(
    admin: FlaskClient, app: Flask
) -> None:
    from click.testing import CliRunner

    from aggregator.cli import main

    cookie = _stolen(admin)
    listed = CliRunner().invoke(main, ["admin", "list"])
    assert listed.exit_code == 0 and "camille" in listed.output and "1 session" in listed.output
    changed = CliRunner().invoke(main, ["admin", "passwd", "camille", "--password",
                                        "un autre mot de passe"])  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert _replay(app, cookie) == 302
    second = app.test_client()
    assert login(second, "un autre mot de passe") == 302
    cookie = _stolen(second)
    assert _replay(app, cookie) == 200
    removed = CliRunner().invoke(main, ["admin", "remove", "camille"])
    assert removed.exit_code == 0, removed.output
    assert _replay(app, cookie) == 302
    assert CliRunner().invoke(main, ["admin", "remove", "camille"]).exit_code == 2
