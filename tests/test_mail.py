"""Mail through real SMTP servers on loopback (aiosmtpd): plain, STARTTLS and implicit TLS
with login, certificates from a test authority (trustme); and the .eml fallback."""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.mail import FileMailer, MailError, SmtpMailer, deliver, message
from aggregator.settings import SettingsError, load_settings
from tests.mailbox import body, smtp_server

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ssl.SSLContext]:
    """A server certificate for 127.0.0.1 from a test authority the client trusts (through
    SSL_CERT_FILE, as an operator's system store would)."""
    import trustme

    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    yield server


def mail() -> object:
    return message("agenda@udess05.example", ["camille@asso.example"], "Événement publié : Soupe",
                   "Bonjour,\n\nVotre événement « Soupe » est publié.\n")  # fmt: skip


def test_plain_smtp_delivers_utf8() -> None:
    with smtp_server() as (box, port):
        SmtpMailer.from_url(f"smtp://127.0.0.1:{port}").send(mail())  # type: ignore[arg-type]
    (got,) = box.to("camille@asso.example")
    assert got["Subject"] == "Événement publié : Soupe"
    assert "« Soupe »" in body(got)
    assert got["Auto-Submitted"] == "auto-generated"


def test_starttls_with_login(tls: ssl.SSLContext) -> None:
    with smtp_server(tls, login=("agenda", "mot de passe")) as (box, port):
        url = f"smtp+starttls://agenda:mot%20de%20passe@127.0.0.1:{port}"
        SmtpMailer.from_url(url).send(mail())  # type: ignore[arg-type]
        assert len(box.messages) == 1
        wrong = SmtpMailer.from_url(f"smtp+starttls://agenda:faux@127.0.0.1:{port}")
        # (after PLAIN is refused, smtplib tries LOGIN, which aiosmtpd leaves waiting: the
        # timeout ends it; a short one keeps the test short)
        wrong = dataclasses.replace(wrong, timeout=2.0)
        assert deliver(wrong, mail()) is False  # type: ignore[arg-type]  # logged, not raised
        assert len(box.messages) == 1


def test_implicit_tls_with_login(tls: ssl.SSLContext) -> None:
    with smtp_server(tls, implicit_tls=True, login=("agenda", "secret")) as (box, port):
        SmtpMailer.from_url(f"smtps://agenda:secret@127.0.0.1:{port}").send(mail())  # type: ignore[arg-type]
    assert len(box.messages) == 1


def test_untrusted_certificate_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server whose certificate no trusted authority signed gets nothing."""
    import trustme

    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(server)
    with smtp_server(server, login=("agenda", "secret")) as (box, port):
        mailer = SmtpMailer.from_url(f"smtp+starttls://agenda:secret@127.0.0.1:{port}")
        assert deliver(mailer, mail()) is False  # type: ignore[arg-type]
    assert box.messages == []


def test_server_down_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with smtp_server() as (_, port):
        pass  # stopped: nothing listens there any more
    assert deliver(SmtpMailer.from_url(f"smtp://127.0.0.1:{port}"), mail()) is False  # type: ignore[arg-type]
    assert "failed" in caplog.text


def test_without_smtp_mails_are_eml_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import email

    FileMailer(tmp_path / "mail").send(mail())  # type: ignore[arg-type]
    (path,) = (tmp_path / "mail").glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["To"] == "camille@asso.example"
    assert str(path) in caplog.text


@pytest.mark.parametrize("url", ["smtp://", "imap://host", "smtp://host:port", "host:25"])
def test_bad_smtp_url_is_refused_at_start(url: str) -> None:
    with pytest.raises(MailError):
        SmtpMailer.from_url(url)
    with pytest.raises(SettingsError, match="AGENDA_SMTP_URL"):
        load_settings({"AGENDA_SMTP_URL": url})
