"""MIME messages for digests, and the mailers that send them (SMTP, or .eml files).

Every header value goes through `header_safe`: control characters (CR, LF, ...)
become spaces and "=?" is broken with a zero-width space, because Python's email
package decodes encoded words in a value it is given, so a scraped
"=?utf-8?b?...?=" carrying an encoded CRLF would otherwise become a real
"Bcc:" header. Envelope addresses are checked before any byte is sent.

Settings come from the environment (README "Mail"):
    SOTEWATCH_SMTP_HOST, SOTEWATCH_SMTP_PORT, SOTEWATCH_SMTP_USER, SOTEWATCH_SMTP_PASSWORD,
    SOTEWATCH_SMTP_TLS (starttls | tls | none), SOTEWATCH_SMTP_CAFILE, SOTEWATCH_MAIL_FROM,
    SOTEWATCH_MAIL_FROM_NAME, SOTEWATCH_UNSUBSCRIBE (mailto: or http(s) URL, "{id}" is
    replaced by the subscriber id, "{token}" by a signed token: pipeline/delivery/unsubscribe.py),
    SOTEWATCH_UNSUBSCRIBE_SECRET (the key that signs the tokens).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import ipaddress
import os
import re
import secrets
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from sotewatch.pipeline.delivery import unsubscribe as tokens
from sotewatch.pipeline.delivery.subscribers import is_valid_address
from sotewatch.pipeline.errors import ConfigError, DeliveryError, PermanentDeliveryError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_TLS_MODES = {"starttls": 587, "tls": 465, "ssl": 465, "implicit": 465, "none": 25}


def header_safe(value: str, limit: int = 250) -> str:
    """One line of literal text: no CR/LF, no controls, no encoded word a reader decodes."""
    text = " ".join(_CONTROL.sub(" ", value).split())
    text = text.replace("=?", "=\u200b?")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class MailSettings:
    """Who the digests come from and how a reader leaves."""

    sender: str = "sotewatch@localhost"
    sender_name: str = "sotewatch"
    unsubscribe: str = ""  # mailto:... or https://...{token}; default: mailto the sender
    unsubscribe_secret: str = ""  # signs {token} (SOTEWATCH_UNSUBSCRIBE_SECRET)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        settings = cls(
            sender=env.get("SOTEWATCH_MAIL_FROM", cls.sender),
            sender_name=env.get("SOTEWATCH_MAIL_FROM_NAME", cls.sender_name),
            unsubscribe=env.get("SOTEWATCH_UNSUBSCRIBE", ""),
        )
        if not is_valid_address(settings.sender):
            raise ConfigError(f"SOTEWATCH_MAIL_FROM: invalid address {settings.sender!r}")
        if "{token}" in settings.unsubscribe:
            secret = tokens.secret_from_env(env)
            settings = dataclasses.replace(settings, unsubscribe_secret=secret)
        return settings

    def unsubscribe_targets(self, subscriber_id: str) -> tuple[str, str]:
        """(List-Unsubscribe header value, http(s) URL for the footer or '')."""
        if self.unsubscribe.startswith(("http://", "https://")):
            url = self.unsubscribe.replace("{id}", quote(subscriber_id, safe=""))
            if "{token}" in url:
                if not self.unsubscribe_secret:
                    tokens.secret_from_env({})  # raises, naming the variable
                url = url.replace("{token}", tokens.sign(self.unsubscribe_secret, subscriber_id))
            return f"<{url}>", url
        target = self.unsubscribe or f"mailto:{self.sender}"
        target = target.replace("{id}", quote(subscriber_id, safe=""))
        if target.startswith("mailto:") and "?" not in target:
            target += "?subject=" + quote(f"unsubscribe {subscriber_id}")
        return f"<{target}>", ""

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[1]


@dataclass(frozen=True)
class Mail:
    """A finished message: the bytes an SMTP server gets, and the id that makes it unique."""

    message_id: str
    data: bytes

    def as_bytes(self) -> bytes:
        return self.data


def build_message(
    *,
    subject: str,
    html: str,
    text: str,
    to_addr: str,
    to_name: str,
    settings: MailSettings,
    date: datetime,
    list_unsubscribe: str,
    message_id: str | None = None,
) -> Mail:
    """A multipart/alternative message: text first, HTML preferred, UTF-8 throughout.

    The headers are made by the email package (its encoding of names and subjects);
    the two bodies are encoded here with binascii (C), because the package's own
    line-by-line encoders are slow on a large digest (bench_render). Text is
    quoted-printable (readable in the raw source), HTML base64 (faster still); both
    are 7-bit with CRLF lines of at most 76 characters, so any relay takes them.
    """
    if not is_valid_address(to_addr):
        raise DeliveryError(f"invalid recipient address {to_addr!r}")
    boundary = f"==sotewatch-{secrets.token_hex(16)}"  # in no QP or base64 line
    head = EmailMessage(policy=policy.SMTP)
    head["Subject"] = header_safe(subject)
    head["From"] = _address(settings.sender_name, settings.sender)
    head["To"] = _address(to_name, to_addr)
    head["Date"] = format_datetime(date)
    head["Message-ID"] = message_id or make_msgid(idstring="sotewatch", domain=settings.domain)
    head["List-Unsubscribe"] = header_safe(list_unsubscribe, 500)
    if list_unsubscribe.startswith("<http"):
        head["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    head["Auto-Submitted"] = "auto-generated"
    head["MIME-Version"] = "1.0"
    head["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
    headers = head.as_bytes().split(b"\r\n\r\n", 1)[0]
    data = b"".join(
        [
            headers,
            b"\r\n\r\n",
            _part(boundary, "text/plain", "quoted-printable", _qp(text)),
            _part(boundary, "text/html", "base64", _base64(html)),
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )
    return Mail(str(head["Message-ID"]), data)


def _part(boundary: str, content_type: str, encoding: str, body: bytes) -> bytes:
    head = (
        f"--{boundary}\r\n"
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF lines: the text part stays readable in the raw source."""
    crlf = "\r\n".join(text.splitlines()) + "\r\n"
    return binascii.b2a_qp(crlf.encode("utf-8"), istext=True)


def _base64(text: str) -> bytes:
    """Base64 in 76-character CRLF lines (one C call and slicing)."""
    encoded = binascii.b2a_base64(text.encode("utf-8"), newline=False)
    lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    return b"\r\n".join(lines) + b"\r\n"


def _address(name: str, addr: str) -> Address:
    user, domain = addr.rsplit("@", 1)
    return Address(display_name=header_safe(name, 100), username=user, domain=domain)


class Mailer(Protocol):
    """Hands one finished message to the world; raises DeliveryError when it could not."""

    def send(self, message: bytes, sender: str, recipients: Sequence[str]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SMTPSettings:
    host: str
    port: int
    user: str = ""
    password: str = ""
    tls: str = "starttls"
    timeout: float = 30.0
    cafile: str = ""  # a private CA's certificate; default: the system's trust store

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SMTPSettings:
        env = os.environ if env is None else env
        host = env.get("SOTEWATCH_SMTP_HOST", "")
        if not host:
            raise ConfigError("SOTEWATCH_SMTP_HOST is not set (or use --dry-run)")
        tls = env.get("SOTEWATCH_SMTP_TLS", "starttls").lower()
        if tls not in _TLS_MODES:
            raise ConfigError(f"SOTEWATCH_SMTP_TLS={tls!r}: use starttls, tls or none")
        port = env.get("SOTEWATCH_SMTP_PORT", "") or str(_TLS_MODES[tls])
        if not port.isdigit():
            raise ConfigError(f"SOTEWATCH_SMTP_PORT={port!r} is not a port number")
        user, password = env.get("SOTEWATCH_SMTP_USER", ""), env.get("SOTEWATCH_SMTP_PASSWORD", "")
        if user and tls == "none" and not _loopback(host):
            raise ConfigError("refusing to send the SMTP password unencrypted to a remote host")
        cafile = env.get("SOTEWATCH_SMTP_CAFILE", "")
        return cls(host, int(port), user, password, tls, cafile=cafile)


class SMTPMailer:
    """One connection per run, opened on the first message, with STARTTLS or implicit TLS."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.cafile or None)
        try:
            if s.tls in ("tls", "ssl", "implicit"):
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.tls == "starttls":
                    smtp.starttls(context=context)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        try:
            if s.user:
                _login(smtp, s.user, s.password)
        except (OSError, smtplib.SMTPException) as exc:
            smtp.close()
            raise DeliveryError(f"cannot log in to {s.host}:{s.port}: {exc}") from exc
        return smtp

    def send(self, message: bytes, sender: str, recipients: Sequence[str]) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.sendmail(sender, list(recipients), message)
        except smtplib.SMTPRecipientsRefused as exc:
            error = _refusal_error(exc.recipients)
            raise error(f"recipient refused: {_refusal(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            error = PermanentDeliveryError if 500 <= exc.smtp_code < 600 else DeliveryError
            raise error(f"server said {exc.smtp_code} {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise DeliveryError(f"sending failed: {exc}") from exc
        if refused:
            raise _refusal_error(refused)(f"recipient refused: {_refusal(refused)}")

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None

    def _drop(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.close()
        finally:
            self._smtp = None


class DryRunMailer:
    """Writes each message as an .eml file named after its Message-ID (a re-send overwrites)."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written: list[Path] = []

    def send(self, message: bytes, sender: str, recipients: Sequence[str]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        match = re.search(rb"^Message-ID:\s*<([^>]+)>", message, re.MULTILINE | re.IGNORECASE)
        stem = match.group(1).decode("ascii", "replace") if match else f"{len(self.written)}"
        path = self.out_dir / (re.sub(r"[^A-Za-z0-9._-]+", "_", stem) + ".eml")
        path.write_bytes(message)
        self.written.append(path)

    def close(self) -> None:
        return None


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII; a UTF-8 password goes as AUTH PLAIN (RFC 4616)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _refusal_error(refused: Mapping[str, tuple[int, bytes]]) -> type[DeliveryError]:
    """Permanent when every refusal is a 5xx: trying again next run changes nothing."""
    if refused and all(500 <= code < 600 for code, _ in refused.values()):
        return PermanentDeliveryError
    return DeliveryError


def _refusal(refused: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{addr} ({code} {msg.decode('utf-8', 'replace')})" for addr, (code, msg) in refused.items()
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
