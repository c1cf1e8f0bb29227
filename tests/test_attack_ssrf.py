"""Regression tests for the SSRF holes found by the outside attack (issue 11, items 1 and 5).

Each attack is played against a real HTTP server on loopback standing for an internal
service: the test fails if that server receives any request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from aggregator.fetch import fetch, make_session
from aggregator.guard import Guard, UnsafeUrl, check_url, make_guard
from aggregator.model import FetchOutcome
from aggregator.preview import preview_url
from aggregator.sources import load_sources_file
from tests.conftest import source

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def _internal(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/f.ics").respond_with_data(ICS, content_type="text/calendar")


def test_backslash_userinfo_bypass_is_refused_everywhere(httpserver: HTTPServer) -> None:
    """urlsplit reads the host after the '@' (public), urllib3 the one before (loopback)."""
    _internal(httpserver)
    url = f"http://127.0.0.1:{httpserver.port}\\@8.8.8.8/f.ics"
    with pytest.raises(UnsafeUrl):
        check_url(url)
    assert preview_url(url).error
    result = fetch(source(url=url), None, make_session(2, make_guard()), guard=make_guard())
    assert result.outcome is FetchOutcome.FAILED
    assert httpserver.log == []


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pw@example.org/a.ics",
        "http://example.org@127.0.0.1/a.ics",
        "http://exa mple.org/a.ics",
        "http://example.org/a.ics\r\nHost: x",
        "http://example.org\t/a.ics",
    ],
)
def test_urls_parsers_could_read_differently_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match=r"invalide|ambiguë"):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/a.ics",  # 6to4 of 127.0.0.1
        "http://[2002:a00:1::]/a.ics",  # 6to4 of 10.0.0.1
        "http://[64:ff9b::7f00:1]/a.ics",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/a.ics",  # NAT64 of 169.254.169.254
        "http://[::127.0.0.1]/a.ics",  # IPv4-compatible
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    ],
)
def test_ipv6_forms_embedding_internal_ipv4_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="adresse interne"):
        check_url(url)


def test_guarded_session_checks_the_address_it_connects_to(httpserver: HTTPServer) -> None:
    """Whatever the string check said (DNS may answer differently a moment later), the
    connection itself resolves, vets and connects to the vetted address only."""
    _internal(httpserver)
    session = make_session(2, Guard())
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(requests.exceptions.ConnectionError, match="adresse interne"):
            session.get(f"http://{host}:{httpserver.port}/f.ics", timeout=5)
    assert httpserver.log == []
    allowed = make_session(2, Guard(("localhost",)))
    assert allowed.get(f"http://localhost:{httpserver.port}/f.ics", timeout=5).content == ICS


def test_redirect_hop_with_a_parser_trick_is_refused(httpserver: HTTPServer) -> None:
    _internal(httpserver)
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{httpserver.port}\\@8.8.8.8/f.ics"}
    )
    guard = make_guard(["localhost"])
    url = f"http://localhost:{httpserver.port}/start"
    result = fetch(source(url=url), None, make_session(2, guard), guard=guard)
    assert result.outcome is FetchOutcome.FAILED
    assert [r.path for r, _ in httpserver.log] == ["/start"]


def test_guarded_session_ignores_proxies_from_the_environment(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy would connect on our behalf, past the pinned address."""
    _internal(httpserver)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{httpserver.port}")
    with pytest.raises(requests.exceptions.ConnectionError):
        make_session(2, Guard()).get("http://127.0.0.1:9/f.ics", timeout=5)
    assert httpserver.log == []


@pytest.mark.parametrize("scheme", ["HTTP", "Https", "WEBCAL"])
def test_upper_case_scheme_is_a_url_not_a_path(tmp_path: Path, scheme: str) -> None:
    (tmp_path / "sources.toml").write_text(
        f'[[source]]\nid = "a"\nname = "A"\nurl = "{scheme}://host/../../etc/passwd"\n'
    )
    (config,) = load_sources_file(tmp_path / "sources.toml").sources
    assert not config.is_local
    assert config.url.startswith(("http://", "https://"))
    assert config.url.endswith("://host/../../etc/passwd")


def test_the_bypass_is_refused_by_cli_admin_and_scheduled_fetches(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same string through every other way in: `aggregator sources add`, the admin's
    create form, and a scheduled (settings-guarded) refresh of a hand-written source."""
    from click.testing import CliRunner

    from aggregator.cli import main
    from aggregator.pipeline import RefreshOptions, refresh
    from aggregator.settings import load_settings
    from aggregator.store import make_engine, migrate

    _internal(httpserver)
    url = f"http://127.0.0.1:{httpserver.port}\\@8.8.8.8/f.ics"
    sources = tmp_path / "sources.toml"
    sources.write_text("")
    monkeypatch.setenv("AGENDA_SOURCES", str(sources))
    monkeypatch.setenv("AGENDA_DATABASE_URL", f"sqlite:///{tmp_path / 'a.sqlite3'}")
    monkeypatch.setenv("AGENDA_SECRET_KEY", "ssrf")
    added = CliRunner().invoke(main, ["sources", "add", url, "--id", "x", "--name", "X"])
    assert added.exit_code == 2 and "Refusé" in added.output
    assert sources.read_text() == ""

    from webapp import create_app

    app = create_app({"WTF_CSRF_ENABLED": False})
    with app.test_client() as client:
        with client.session_transaction() as session:
            session["sid"] = _admin_session(app)
        form = {"id": "x", "name": "X", "url": url, "refresh": "1h"}
        answer = client.post("/admin/sources/create", data=form)
        assert answer.status_code == 302 and "/admin/sources/new" in answer.headers["Location"]
    assert sources.read_text() == ""

    engine = make_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    migrate(engine)
    options = RefreshOptions.from_settings(load_settings())
    (result,) = refresh(engine, [source(url=url)], options)
    assert result.outcome == "failed"
    assert httpserver.log == []


def _admin_session(app: object) -> str:
    import datetime as dt

    from aggregator.store.admin import create_admin, open_session

    engine = app.extensions["engine"]  # type: ignore[attr-defined]
    now = dt.datetime.now(dt.UTC)
    create_admin(engine, "camille", "un mot de passe solide", now)
    return open_session(engine, "camille", now)
