"""SSRF: admin-added URLs never reach internal addresses, redirects included."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from aggregator.fetch import fetch, make_session
from aggregator.guard import UnsafeUrl, check_url, make_guard
from aggregator.model import FetchOutcome
from tests.conftest import source


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/agenda.ics",
        "http://[::1]/agenda.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/agenda.ics",
        "http://172.16.4.2/agenda.ics",
        "http://192.168.1.10/agenda.ics",
        "http://0.0.0.0:8080/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:5000/agenda.ics",  # a hostname resolving to loopback
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="adresse interne"):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://example.org/a.ics", "http, https"), ("file:///etc/passwd", "http, https"),
     ("http:///nohost", "sans nom"), ("http://agenda.invalid/a.ics", "introuvable")],
)  # fmt: skip
def test_other_refusals_say_why(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl, match=message):
        check_url(url)


def test_public_literal_and_allow_list() -> None:
    check_url("https://93.184.215.14/agenda.ics")  # a public address: accepted (no connection)
    check_url("http://127.0.0.1:8000/a.ics", allow=["127.0.0.1"])


def test_redirect_to_an_internal_address_is_refused_before_connecting(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/feed.ics").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    guard = make_guard(allow=["localhost", "127.0.0.1"])
    result = fetch(source(url=httpserver.url_for("/feed.ics")), None, make_session(), guard=guard)
    assert result.outcome is FetchOutcome.FAILED
    assert "169.254.169.254" in (result.error or "") and "refusée" in (result.error or "")
    # The guard refused the second hop before any connection: only the first was served.
    assert [r.path for r, _ in httpserver.log].count("/feed.ics") == 1


def test_webcal_means_https() -> None:
    from aggregator.preview import normalise_url

    assert normalise_url(" webcal://agenda.example/a.ics ") == "https://agenda.example/a.ics"
