"""Fetch against a real HTTP server on loopback (pytest-httpserver)."""

from __future__ import annotations

import datetime as dt
import gzip
import socket
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aggregator.fetch import FetchLimits, fetch, make_session, parse_retry_after
from aggregator.model import FetchOutcome, SourceState
from tests.conftest import DATA, source

ICS = (DATA / "ics" / "cancelled.ics").read_bytes()


def test_conditional_get_and_body_hash(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/agenda.ics").respond_with_data(
        ICS, headers={"ETag": '"v1"', "Last-Modified": "Tue, 24 Nov 2026 08:00:00 GMT"}
    )
    httpserver.expect_ordered_request(
        "/agenda.ics",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Tue, 24 Nov 2026 08:00:00 GMT"},
    ).respond_with_data("", status=304)
    src = source(url=httpserver.url_for("/agenda.ics"))
    session = make_session()
    first = fetch(src, None, session)
    assert first.outcome is FetchOutcome.FETCHED and first.body == ICS
    assert first.etag == '"v1"' and first.body_hash
    state = SourceState(first.etag, first.last_modified, first.body_hash)
    second = fetch(src, state, session)
    assert second.outcome is FetchOutcome.NOT_MODIFIED and second.body is None
    httpserver.check_assertions()


def test_same_body_without_validators_is_unchanged(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a.ics").respond_with_data(ICS)
    src = source(url=httpserver.url_for("/a.ics"))
    first = fetch(src, None, make_session())
    again = fetch(src, SourceState(body_hash=first.body_hash), make_session())
    assert again.outcome is FetchOutcome.UNCHANGED and again.body is None


def test_user_agent_names_the_project(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/ua").respond_with_data("ok")
    fetch(source(url=httpserver.url_for("/ua")), None, make_session())
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("agenda-ess05/")


def test_gzip_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(ICS), headers={"Content-Encoding": "gzip"}
    )
    result = fetch(source(url=httpserver.url_for("/gz")), None, make_session())
    assert result.body == ICS


def test_gzip_bomb_stops_at_the_cap(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 MB of zeros, ~50 kB on the wire
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    limits = FetchLimits(max_bytes=1_000_000)
    result = fetch(source(url=httpserver.url_for("/bomb")), None, make_session(), limits)
    assert result.outcome is FetchOutcome.FAILED
    assert "trop volumineuse" in (result.error or "")


def test_declared_length_over_the_cap_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    limits = FetchLimits(max_bytes=1000)
    result = fetch(source(url=httpserver.url_for("/big")), None, make_session(), limits)
    assert result.outcome is FetchOutcome.FAILED and "5000" in (result.error or "")


def test_server_error_in_words(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/err").respond_with_data("boom", status=500)
    result = fetch(source(url=httpserver.url_for("/err")), None, make_session())
    assert result.outcome is FetchOutcome.FAILED and result.http_status == 500
    assert result.error == "Le serveur a répondu 500 INTERNAL SERVER ERROR"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/busy").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "120"}
    )
    before = dt.datetime.now(dt.UTC)
    result = fetch(source(url=httpserver.url_for("/busy")), None, make_session())
    assert result.retry_after is not None
    assert before + dt.timedelta(seconds=119) <= result.retry_after
    assert result.retry_after <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=121)


def test_retry_after_http_date() -> None:
    now = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Tue, 24 Nov 2026 09:00:00 GMT", now) == now + dt.timedelta(hours=1)
    assert parse_retry_after("garbage", now) is None


def test_redirects_followed_then_loop_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data(ICS)
    result = fetch(source(url=httpserver.url_for("/old")), None, make_session())
    assert result.body == ICS and result.final_url == httpserver.url_for("/new")
    httpserver.expect_request("/loop-a").respond_with_data(
        "", status=302, headers={"Location": "/loop-b"}
    )
    httpserver.expect_request("/loop-b").respond_with_data(
        "", status=302, headers={"Location": "/loop-a"}
    )
    looped = fetch(source(url=httpserver.url_for("/loop-a")), None, make_session())
    assert looped.outcome is FetchOutcome.FAILED and "Boucle" in (looped.error or "")


def test_too_many_redirects(httpserver: HTTPServer) -> None:
    for n in range(10):
        httpserver.expect_request(f"/r{n}").respond_with_data(
            "", status=302, headers={"Location": f"/r{n + 1}"}
        )
    result = fetch(
        source(url=httpserver.url_for("/r0")), None, make_session(), FetchLimits(max_redirects=3)
    )
    assert result.outcome is FetchOutcome.FAILED and "Trop de redirections" in (result.error or "")


def test_guard_sees_every_redirect_hop(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": "http://forbidden.test/"}
    )
    seen: list[str] = []

    def guard(url: str) -> None:
        seen.append(url)
        if "forbidden" in url:
            from aggregator.fetch import _Refused

            raise _Refused("Adresse interdite")

    result = fetch(source(url=httpserver.url_for("/hop")), None, make_session(), guard=guard)
    assert seen == [httpserver.url_for("/hop"), "http://forbidden.test/"]
    assert result.error == "Adresse interdite"


def test_slow_body_hits_the_total_deadline(httpserver: HTTPServer) -> None:
    def drip(_request: Request) -> Response:
        def body():  # type: ignore[no-untyped-def]
            for _ in range(50):
                time.sleep(0.1)
                yield b"x" * 10

        return Response(body(), mimetype="text/calendar")

    httpserver.expect_request("/slow").respond_with_handler(drip)
    limits = FetchLimits(timeout=2, deadline=0.5)
    started = time.monotonic()
    result = fetch(source(url=httpserver.url_for("/slow")), None, make_session(), limits)
    assert result.outcome is FetchOutcome.FAILED
    assert time.monotonic() - started < 4  # the drip would last 5 s
    assert "Délai" in (result.error or "")


def test_read_timeout(httpserver: HTTPServer) -> None:
    def stall(_request: Request) -> Response:
        time.sleep(1.5)
        return Response("late")

    httpserver.expect_request("/stall").respond_with_handler(stall)
    limits = FetchLimits(timeout=0.5, deadline=5)
    result = fetch(source(url=httpserver.url_for("/stall")), None, make_session(), limits)
    assert result.outcome is FetchOutcome.FAILED
    assert result.error == "Le serveur ne répond plus (délai de lecture dépassé)"


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: refused
        result = fetch(source(url=f"http://127.0.0.1:{port}/x"), None, make_session())
    assert result.error == "Connexion refusée par le serveur"


def test_dns_failure() -> None:
    result = fetch(source(url="http://agenda.invalid/x.ics"), None, make_session())
    assert result.error == "Nom de domaine introuvable (DNS)"


def test_local_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.ics"
    path.write_bytes(ICS)
    assert fetch(source(url=str(path)), None, make_session()).body == ICS
    missing = fetch(source(url=str(tmp_path / "none.ics")), None, make_session())
    assert missing.outcome is FetchOutcome.FAILED and "introuvable" in (missing.error or "")
