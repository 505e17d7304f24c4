"""Digest mail: well-formed MIME, safe headers, and the SMTP and .eml mailers."""

from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult
from digest_fixtures import SmtpSink, smtp_server

from sotewatch.pipeline.delivery.mail import (
    DryRunMailer,
    MailSettings,
    SMTPMailer,
    SMTPSettings,
    build_message,
    header_safe,
)
from sotewatch.pipeline.errors import ConfigError, DeliveryError

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SETTINGS = MailSettings(sender="sotewatch@example.org", sender_name="Sotewatch – Pöllö")


def message(subject: str = "3 muutosta: Lappi, Pohjois-Pohjanmaa", **kwargs):
    values = {
        "subject": subject,
        "html": "<p>Hyvinvointialueet: <b>Lappi</b></p>",
        "text": "Hyvinvointialueet: Lappi – äöå",
        "to_addr": "aino.makela@example.org",
        "to_name": "Aino Mäkelä",
        "settings": SETTINGS,
        "date": NOW,
        "list_unsubscribe": "<mailto:sotewatch@example.org?subject=unsubscribe%20aino>",
    }
    return build_message(**{**values, **kwargs})


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def test_message_is_text_plus_html_alternative_in_utf8() -> None:
    parsed = parse(message().as_bytes())
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = parsed.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "Lappi – äöå" in text.get_content()
    assert parsed.get_body(("html",)).get_content().startswith("<p>Hyvinvointialueet")


def test_headers_carry_finnish_subject_and_names() -> None:
    raw = message().as_bytes()
    assert raw.isascii()  # every header and body encoded for 7-bit transport
    parsed = parse(raw)
    assert parsed["Subject"] == "3 muutosta: Lappi, Pohjois-Pohjanmaa"
    assert parsed["To"].addresses[0].display_name == "Aino Mäkelä"
    assert parsed["From"].addresses[0].display_name == "Sotewatch – Pöllö"
    assert parsed["Date"].datetime == NOW
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@example.org>")
    assert parsed["List-Unsubscribe"] == "<mailto:sotewatch@example.org?subject=unsubscribe%20aino>"


def _encoded(text: bytes) -> str:
    return "=?utf-8?b?" + base64.b64encode(text).decode() + "?="


@pytest.mark.parametrize(
    "subject",
    [
        "Uusi sivu\r\nBcc: victim@example.net",
        "Uusi sivu\nBcc: victim@example.net",
        "Uusi sivu " + _encoded(b"x\r\nBcc: victim@example.net"),
        "=?utf-8?q?Bcc=3A_victim=40example=2Enet?=\u2028To: victim@example.net",
    ],
    ids=["crlf", "lf", "encoded-word-with-crlf", "q-encoded-and-line-separator"],
)
def test_scraped_text_in_a_subject_cannot_add_headers(subject: str) -> None:
    parsed = parse(message(subject=subject).as_bytes())
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["aino.makela@example.org"]
    assert "\n" not in parsed["Subject"]
    assert "victim@example.net" in parsed["Subject"] or "utf-8?b?" in parsed["Subject"]


def test_header_safe_keeps_text_readable() -> None:
    assert header_safe("  Lappi,\r\n  Kainuu\t") == "Lappi, Kainuu"
    assert header_safe("=?utf-8?b?QQ==?=") == "=\u200b?utf-8?b?QQ==\u200b?="


def test_invalid_recipient_is_refused_before_sending() -> None:
    with pytest.raises(DeliveryError, match="invalid recipient"):
        message(to_addr="a@example.org>, evil@example.net")


def test_smtp_round_trip_to_a_local_server() -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        mailer = SMTPMailer(SMTPSettings("127.0.0.1", server.port, tls="none"))
        mailer.send(message().as_bytes(), "sotewatch@example.org", ["aino.makela@example.org"])
        mailer.send(
            message(subject="Toinen").as_bytes(), "sotewatch@example.org", ["b@example.org"]
        )
        mailer.close()
    assert [r.recipients for r in sink.received] == [["aino.makela@example.org"], ["b@example.org"]]
    first = sink.received[0].message
    assert first["Subject"] == "3 muutosta: Lappi, Pohjois-Pohjanmaa"
    assert first.get_content_type() == "multipart/alternative"
    assert sink.received[0].sender == "sotewatch@example.org"


def test_smtp_credentials_come_from_the_environment() -> None:
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == "salasana-ÄÖ".encode())

    sink = SmtpSink()
    with smtp_server(sink, authenticator=authenticator, auth_require_tls=False) as server:
        env = {
            "SOTEWATCH_SMTP_HOST": "127.0.0.1",
            "SOTEWATCH_SMTP_PORT": str(server.port),
            "SOTEWATCH_SMTP_USER": "sotewatch",
            "SOTEWATCH_SMTP_PASSWORD": "salasana-ÄÖ",
            "SOTEWATCH_SMTP_TLS": "none",
        }
        mailer = SMTPMailer(SMTPSettings.from_env(env))
        mailer.send(message().as_bytes(), "sotewatch@example.org", ["a@example.org"])
        mailer.close()
    assert seen == [(b"sotewatch", "salasana-ÄÖ".encode())]
    assert len(sink.received) == 1


def test_refused_recipient_is_a_delivery_error() -> None:
    sink = SmtpSink(refuse={"gone@example.org"})
    with smtp_server(sink) as server:
        mailer = SMTPMailer(SMTPSettings("127.0.0.1", server.port, tls="none"))
        with pytest.raises(DeliveryError, match="gone@example.org.*550"):
            mailer.send(message().as_bytes(), "sotewatch@example.org", ["gone@example.org"])
        mailer.send(message().as_bytes(), "sotewatch@example.org", ["ok@example.org"])
        mailer.close()
    assert [r.recipients for r in sink.received] == [["ok@example.org"]]


def test_unreachable_server_is_a_delivery_error() -> None:
    sink = SmtpSink()
    with smtp_server(sink) as server:
        port = server.port
    mailer = SMTPMailer(SMTPSettings("127.0.0.1", port, tls="none", timeout=5))
    with pytest.raises(DeliveryError, match="cannot connect"):
        mailer.send(message().as_bytes(), "sotewatch@example.org", ["a@example.org"])


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({}, "SOTEWATCH_SMTP_HOST is not set"),
        ({"SOTEWATCH_SMTP_HOST": "mail.example.org", "SOTEWATCH_SMTP_TLS": "maybe"}, "TLS"),
        ({"SOTEWATCH_SMTP_HOST": "mail.example.org", "SOTEWATCH_SMTP_PORT": "x"}, "PORT"),
        (
            {
                "SOTEWATCH_SMTP_HOST": "mail.example.org",
                "SOTEWATCH_SMTP_TLS": "none",
                "SOTEWATCH_SMTP_USER": "u",
            },
            "unencrypted",
        ),
    ],
    ids=["no-host", "bad-tls", "bad-port", "password-in-clear"],
)
def test_smtp_settings_errors(env: dict[str, str], error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        SMTPSettings.from_env(env)


@pytest.mark.parametrize(
    ("tls", "port"),
    [("starttls", 587), ("tls", 465), ("none", 25)],
    ids=["starttls", "tls", "none"],
)
def test_smtp_default_port_follows_the_tls_mode(tls: str, port: int) -> None:
    settings = SMTPSettings.from_env(
        {"SOTEWATCH_SMTP_HOST": "mail.example.org", "SOTEWATCH_SMTP_TLS": tls}
    )
    assert settings.port == port


def test_dry_run_writes_one_eml_per_message_id(tmp_path: Path) -> None:
    mailer = DryRunMailer(tmp_path / "outbox")
    first, second = message().as_bytes(), message().as_bytes()
    for data in (first, first, second):  # the first one re-sent: same Message-ID, same file
        mailer.send(data, "sotewatch@example.org", ["aino.makela@example.org"])
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    assert {parse(f.read_bytes())["Message-ID"] for f in files} == {
        parse(first)["Message-ID"],
        parse(second)["Message-ID"],
    }


@pytest.mark.parametrize(
    ("configured", "header", "footer"),
    [
        ("", "<mailto:sotewatch@example.org?subject=unsubscribe%20aino%40x.fi>", ""),
        (
            "mailto:lists@example.org",
            "<mailto:lists@example.org?subject=unsubscribe%20aino%40x.fi>",
            "",
        ),
        (
            "https://example.org/unsubscribe/{id}",
            "<https://example.org/unsubscribe/aino%40x.fi>",
            "https://example.org/unsubscribe/aino%40x.fi",
        ),
    ],
    ids=["default-mailto-sender", "mailto", "https-with-id"],
)
def test_unsubscribe_targets(configured: str, header: str, footer: str) -> None:
    settings = MailSettings(sender="sotewatch@example.org", unsubscribe=configured)
    assert settings.unsubscribe_targets("aino@x.fi") == (header, footer)


def test_mail_settings_from_env_rejects_a_bad_sender() -> None:
    with pytest.raises(ConfigError, match="SOTEWATCH_MAIL_FROM"):
        MailSettings.from_env({"SOTEWATCH_MAIL_FROM": "Sotewatch <x@example.org>"})


# -- TLS: STARTTLS and implicit TLS, with a certificate made for the test ---------------


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def _authenticator(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"u", b"p"))


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_tls_modes_verify_the_server_and_log_in_only_encrypted(certificate, mode: str) -> None:
    cert, context = certificate
    sink = SmtpSink()
    if mode == "starttls":
        server_options = {"tls_context": context, "require_starttls": True}
    else:  # aiosmtpd offers AUTH only after STARTTLS unless told the socket is safe
        server_options = {"ssl_context": context, "auth_require_tls": False}
    with smtp_server(sink, authenticator=_authenticator, **server_options) as server:
        env = {
            "SOTEWATCH_SMTP_HOST": "127.0.0.1",
            "SOTEWATCH_SMTP_PORT": str(server.port),
            "SOTEWATCH_SMTP_TLS": mode,
            "SOTEWATCH_SMTP_USER": "u",
            "SOTEWATCH_SMTP_PASSWORD": "p",
            "SOTEWATCH_SMTP_CAFILE": str(cert),
        }
        mailer = SMTPMailer(SMTPSettings.from_env(env))
        mailer.send(message().as_bytes(), "sotewatch@example.org", ["a@example.org"])
        mailer.close()
        untrusted = SMTPMailer(SMTPSettings.from_env({**env, "SOTEWATCH_SMTP_CAFILE": ""}))
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.send(message().as_bytes(), "sotewatch@example.org", ["b@example.org"])
    assert [r.recipients for r in sink.received] == [["a@example.org"]]
