"""Mail out of Leda: the SMTP client, and the envelope every mail of Leda's has (sender, recipient, subject, a
Message-ID, the date), built in one place."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

MESSAGE_ID_DOMAIN = "leda.invalid"
"""The right-hand side of Leda's Message-IDs: a name that is no one's address."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: SecretStr | None = None  # a SecretStr, so no repr of these settings (a traceback, a log) shows it
    ca_file: Path | None = None


class SmtpMailer:
    """A plain SMTP client; each send opens a short session, as relays expect from low-volume senders."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._tls_context: ssl.SSLContext | None = None

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send_blocking, message)

    def _context(self) -> ssl.SSLContext:
        """The TLS context, made once: loading the CA certificates takes tens of milliseconds of CPU, and made for
        every mail that was most of a busy worker's time (BENCHMARKS.md). Only TLS and STARTTLS ask for it."""
        if self._tls_context is None:
            s = self._settings
            self._tls_context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        return self._tls_context

    def _send_blocking(self, message: EmailMessage) -> None:
        s = self._settings
        connection = (
            smtplib.SMTP_SSL(s.host, s.port, timeout=20, context=self._context())
            if s.security == "tls"
            else smtplib.SMTP(s.host, s.port, timeout=20)
        )
        with connection as smtp:
            if s.security == "starttls":
                smtp.starttls(context=self._context())
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
            smtp.send_message(message)


def envelope(
    sender: str,
    to: tuple[str, str],
    subject: str,
    body: str,
    *,
    message_key: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A mail from `sender` to (name, address) `to`: its Message-ID made from `message_key` where one is given, so
    that a mail sent again is known as the same one, and dated now."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(idstring=message_key, domain=MESSAGE_ID_DOMAIN)
    message["Date"] = format_datetime(datetime.now(UTC))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message
