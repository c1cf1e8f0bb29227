"""The admin area through HTTP: login, CSRF, rate limiting, sources, moderation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from aggregator.pipeline import RefreshOptions, refresh
from aggregator.sources import load_sources
from aggregator.store import open_engine
from aggregator.store.admin import create_admin

PASSWORD = "un mot de passe solide"


def calendar(
    title: str = "Atelier vélo", location: str = "Garage solidaire, Gap", uid: str = "velo@asso"
) -> str:
    day = (dt.date.today() + dt.timedelta(days=4)).strftime("%Y%m%d")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", "BEGIN:VEVENT", f"UID:{uid}",
             f"DTSTART;TZID=Europe/Paris:{day}T140000", f"SUMMARY:{title}",
             f"LOCATION:{location}", "END:VEVENT", "END:VCALENDAR", ""]  # fmt: skip
    return "\r\n".join(lines)


def admin_app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Flask:
    """The app on an empty sources.toml, loopback allowed (the tests' feeds), one admin;
    `env`: more AGENDA_ settings."""
    sources = tmp_path / "sources.toml"
    sources.write_text("# Sources\n")
    monkeypatch.setenv("AGENDA_SOURCES", str(sources))
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    monkeypatch.setenv("AGENDA_ALLOW_HOSTS", "localhost,127.0.0.1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from webapp import create_app

    app = create_app()
    create_admin(app.extensions["engine"], "camille", PASSWORD, dt.datetime.now(dt.UTC))
    return app


@pytest.fixture
def app(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    app = admin_app(db_url, tmp_path, monkeypatch)
    yield app
    app.extensions["engine"].dispose()


def token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]  # type: ignore[index]


def login(client: FlaskClient, password: str = PASSWORD) -> int:
    csrf = token(client, "/admin/login")
    response = client.post("/admin/login", data={"csrf_token": csrf, "username": "camille",
                                                 "password": password})  # fmt: skip
    return response.status_code


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert login(client) == 302
    return client


@pytest.mark.parametrize("path", ["/admin/", "/admin/sources/new", "/admin/evenements",
                                  "/admin/sources/x/edit"])  # fmt: skip
def test_nothing_without_login(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_forms_need_a_csrf_token(admin: FlaskClient) -> None:
    assert (
        admin.post("/admin/sources/new", data={"url": "https://x.example/a.ics"}).status_code == 400
    )
    assert admin.post("/admin/logout").status_code == 400


def test_session_cookie_flags(app: Flask) -> None:
    client = app.test_client()
    csrf = token(client, "/admin/login")
    response = client.post("/admin/login", data={"csrf_token": csrf, "username": "camille",
                                                 "password": PASSWORD})  # fmt: skip
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_is_rate_limited(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, "mauvais") == 200
    assert login(client) == 429  # even the right password waits now


def test_add_a_source_with_preview(admin: FlaskClient, app: Flask, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/agenda.ics").respond_with_data(calendar())
    url = httpserver.url_for("/agenda.ics")  # (webcal:// means https: see test_guard)
    csrf = token(admin, "/admin/sources/new")
    preview = admin.post("/admin/sources/new", data={"csrf_token": csrf, "url": url})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Format : <strong>ics</strong>" in page and "Atelier vélo" in page
    assert "Gap – Tallard – Durance (1)" in page  # inferred territory
    form = {k: v for k, v in re.findall(r'name="(\w+)" type="hidden" value="([^"]*)"', page)}
    form.update({"name": "Atelier vélo solidaire", "id": "velo-gap", "territory": "",
                 "tags": "mobilité, réemploi", "refresh": "6h"})  # fmt: skip
    saved = admin.post("/admin/sources/create", data=form)
    assert saved.status_code == 302
    (config,) = load_sources(app.config["SOURCES_PATH"])
    assert config.url == httpserver.url_for("/agenda.ics") and str(config.kind) == "ics"
    assert config.tags == ("mobilité", "réemploi") and config.refresh == dt.timedelta(hours=6)
    listing = admin.get("/admin/").get_data(as_text=True)
    assert "Atelier vélo solidaire" in listing and "en attente" in listing


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://169.254.169.254/latest/", "adresse interne"), ("ftp://x.example/a", "http://"),
     ("http://10.1.2.3/agenda.ics", "adresse interne"), ("http://127.0.0.2/", "adresse interne"),
     ("http://[::1]/agenda.ics", "adresse interne"), ("http://0.0.0.0:5432/", "adresse interne"),
     ("http://[::ffff:169.254.169.254]/", "adresse interne"),
     ("http://2852039166/latest/", "adresse interne"),  # 169.254.169.254 as one number
     ("http://192.168.1.1/", "adresse interne"), ("http://[fd00::1]/", "adresse interne"),
     ("file:///etc/passwd", "http://")],
)  # fmt: skip
def test_bad_addresses_are_explained_not_500(admin: FlaskClient, url: str, message: str) -> None:
    csrf = token(admin, "/admin/sources/new")
    response = admin.post("/admin/sources/new", data={"csrf_token": csrf, "url": url})
    assert response.status_code in (200, 422)
    assert message in response.get_data(as_text=True)


def test_redirect_to_an_internal_address_is_refused(
    admin: FlaskClient, httpserver: HTTPServer
) -> None:
    # localhost is allowed in this test (the loopback feed server); the hop it redirects to
    # is checked on its own.
    httpserver.expect_request("/agenda.ics").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    url = httpserver.url_for("/agenda.ics").replace("127.0.0.1", "localhost")
    csrf = token(admin, "/admin/sources/new")
    response = admin.post("/admin/sources/new", data={"csrf_token": csrf, "url": url})
    assert response.status_code in (200, 422)
    assert "adresse interne" in response.get_data(as_text=True)
    assert len(httpserver.log) == 1  # the first hop was fetched, the internal one never


def test_a_name_resolving_to_an_internal_address_is_refused(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an allow list, "localhost" (resolved by the system, /etc/hosts) is refused
    like 127.0.0.1."""
    monkeypatch.setenv("AGENDA_SOURCES", str(tmp_path / "sources.toml"))
    monkeypatch.setenv("AGENDA_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENDA_SECRET_KEY", "test")
    monkeypatch.delenv("AGENDA_ALLOW_HOSTS", raising=False)
    (tmp_path / "sources.toml").write_text("")
    from webapp import create_app

    app = create_app()
    create_admin(app.extensions["engine"], "camille", PASSWORD, dt.datetime.now(dt.UTC))
    client = app.test_client()
    assert login(client) == 302
    csrf = token(client, "/admin/sources/new")
    form = {"csrf_token": csrf, "url": "http://localhost:1/agenda.ics"}
    response = client.post("/admin/sources/new", data=form)
    assert response.status_code in (200, 422)
    page = response.get_data(as_text=True)
    assert "adresse interne" in page and "localhost" in page
    app.extensions["engine"].dispose()


def test_invalid_fields_are_shown(admin: FlaskClient, app: Flask) -> None:
    csrf = token(admin, "/admin/sources/new")
    response = admin.post("/admin/sources/create", data={
        "csrf_token": csrf, "url": "https://a.example/x.ics", "id": "Pas Bon!", "name": "",
        "refresh": "1h", "website": "pas une adresse",
    })  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Lettres minuscules" in page and "adresse http(s) complète" in page
    assert load_sources(app.config["SOURCES_PATH"]) == []


def add_directly(app: Flask, httpserver: HTTPServer, review: bool = False) -> None:
    from aggregator.sources_edit import add_source, edit_sources

    httpserver.expect_request("/asso.ics").respond_with_data(calendar())
    edit_sources(app.config["SOURCES_PATH"], add_source({
        "id": "asso", "name": "Asso", "url": httpserver.url_for("/asso.ics"), "review": review,
    }))  # fmt: skip


def refetch(app: Flask) -> None:
    configs = load_sources(app.config["SOURCES_PATH"])
    refresh(app.extensions["engine"], configs, RefreshOptions())


def test_source_actions(admin: FlaskClient, app: Flask, httpserver: HTTPServer) -> None:
    add_directly(app, httpserver)
    csrf = token(admin, "/admin/")
    done = admin.post(
        "/admin/sources/asso/refresh", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "Asso : 1 événements" in done.get_data(as_text=True)
    admin.post("/admin/sources/asso/disable", data={"csrf_token": csrf})
    assert not load_sources(app.config["SOURCES_PATH"])[0].enabled
    edit = admin.get("/admin/sources/asso/edit").get_data(as_text=True)
    assert 'value="Asso"' in edit
    admin.post("/admin/sources/asso/delete", data={"csrf_token": csrf})
    assert load_sources(app.config["SOURCES_PATH"]) == []
    log = admin.get("/admin/").get_data(as_text=True)
    assert "camille : delete-source asso" in log and "camille : refresh-source asso" in log


def public_titles(app: Flask) -> dict[str, str | None]:
    events = app.test_client().get("/api/events").get_json()["events"]
    return {e["title"]: e["territory"] for e in events}


def test_moderation_survives_refreshes(
    admin: FlaskClient, app: Flask, httpserver: HTTPServer
) -> None:
    add_directly(app, httpserver)
    refetch(app)
    (event,) = app.test_client().get("/api/events").get_json()["events"]
    csrf = token(admin, "/admin/evenements")
    admin.post(f"/admin/evenements/{event['id']}/territory",
               data={"csrf_token": csrf, "territory": "serre-poncon"})  # fmt: skip
    assert public_titles(app) == {"Atelier vélo": "serre-poncon"}
    httpserver.clear()
    httpserver.expect_request("/asso.ics").respond_with_data(calendar("Atelier vélo (complet)"))
    refetch(app)  # the source changed the event; the admin's territory holds
    assert public_titles(app) == {"Atelier vélo (complet)": "serre-poncon"}
    admin.post(f"/admin/evenements/{event['id']}/hide", data={"csrf_token": csrf})
    assert public_titles(app) == {}
    httpserver.clear()
    httpserver.expect_request("/asso.ics").respond_with_data(calendar("Atelier vélo !"))
    refetch(app)
    assert public_titles(app) == {}  # still hidden


def test_review_queue(admin: FlaskClient, app: Flask, httpserver: HTTPServer) -> None:
    add_directly(app, httpserver, review=True)
    refetch(app)
    assert public_titles(app) == {}  # waits for review
    queue = admin.get("/admin/evenements?file=1").get_data(as_text=True)
    assert "Atelier vélo" in queue
    event_id = re.search(r"<small>([0-9a-f]{16})</small>", queue)[1]  # type: ignore[index]
    csrf = token(admin, "/admin/evenements")
    admin.post(f"/admin/evenements/{event_id}/approve", data={"csrf_token": csrf})
    assert "Atelier vélo" in public_titles(app)
    assert "Atelier vélo" not in admin.get("/admin/evenements?file=1").get_data(as_text=True)


def test_merge_and_split_from_the_admin(
    admin: FlaskClient, app: Flask, httpserver: HTTPServer
) -> None:
    from aggregator.sources_edit import add_source, edit_sources

    httpserver.expect_request("/a.ics").respond_with_data(
        calendar("Soirée jeux", "L'Escale, Chorges", "jeux@a")
    )
    httpserver.expect_request("/b.ics").respond_with_data(
        calendar("Karaoké", "L'Escale, Chorges", "karaoke@b")
    )
    for name in "ab":
        edit_sources(app.config["SOURCES_PATH"], add_source(
            {"id": name, "name": name, "url": httpserver.url_for(f"/{name}.ics")}))  # fmt: skip
    refetch(app)
    first, second = app.test_client().get("/api/events").get_json()["events"]
    csrf = token(admin, "/admin/evenements")
    admin.post("/admin/evenements/fusionner",
               data={"csrf_token": csrf, "first": first["id"], "second": second["id"]})  # fmt: skip
    assert len(app.test_client().get("/api/events").get_json()["events"]) == 1
    refetch(app)
    assert len(app.test_client().get("/api/events").get_json()["events"]) == 1  # it holds


def test_cli_create_user(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aggregator.cli import main
    from aggregator.store.admin import verify_admin

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env = {"AGENDA_DATABASE_URL": url, "AGENDA_SECRET_KEY": "x"}
    result = CliRunner().invoke(main, ["admin", "create-user", "dominique"],
                                input=f"{PASSWORD}\n{PASSWORD}\n", env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    engine = open_engine(url)
    assert verify_admin(engine, "dominique", PASSWORD)
    assert not verify_admin(engine, "dominique", "autre chose")
    short = CliRunner().invoke(main, ["admin", "create-user", "x", "--password", "court"], env=env)
    assert short.exit_code == 2 and "trop court" in short.output
